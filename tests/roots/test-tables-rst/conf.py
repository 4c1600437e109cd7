"""Every section of the mappings file as tables, in reST pages."""

extensions = ["slurm2sky.sphinx"]
exclude_patterns = ["_build"]
project = "slurm2sky tables (reST)"

# a page's default role must survive the tables' own reST parsing of notes
default_role = "literal"
