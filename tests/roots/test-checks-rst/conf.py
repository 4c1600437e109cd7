"""Examples with one problem of each kind, in reST (see tests/test_sphinx_checks.py).

Each offending line carries ``case: <name>``; the warning must be at that line."""

extensions = ["sphinx_design", "slurm2sky.sphinx"]
exclude_patterns = ["_build"]
project = "slurm2sky checks (reST)"
