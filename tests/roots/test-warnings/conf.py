"""Bad uses of the directive, in reST (index.rst) and MyST (cases.md)."""

extensions = ["myst_parser", "slurm2sky.sphinx"]
exclude_patterns = ["_build"]
project = "slurm2sky warnings"
