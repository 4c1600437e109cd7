"""slurm2sky_mappings is not set: the default, ../mappings/slurm-to-skypilot.yaml if the
test placed one there, else the package's copy."""

extensions = ["slurm2sky.sphinx"]
exclude_patterns = ["_build"]
project = "slurm2sky default path"
