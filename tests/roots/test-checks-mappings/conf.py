"""A page with no examples: only the mappings file is checked (the test points
``slurm2sky_mappings`` at an edited copy)."""

extensions = ["slurm2sky.sphinx"]
exclude_patterns = ["_build"]
project = "slurm2sky checks (mappings file)"
