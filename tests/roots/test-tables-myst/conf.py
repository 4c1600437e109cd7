"""Every section of the mappings file as tables, in MyST pages."""

extensions = ["myst_parser", "slurm2sky.sphinx"]
exclude_patterns = ["_build"]
project = "slurm2sky tables (MyST)"
