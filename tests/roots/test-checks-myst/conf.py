"""Examples with one problem of each kind, in MyST (see tests/test_sphinx_checks.py).

Each offending line carries ``case: <name>``; the warning must be at that line."""

extensions = ["myst_parser", "sphinx_design", "slurm2sky.sphinx"]
myst_enable_extensions = ["colon_fence"]
exclude_patterns = ["_build"]
project = "slurm2sky checks (MyST)"
