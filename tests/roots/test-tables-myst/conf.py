"""Every section of the mappings file as tables, in MyST pages."""

from pathlib import Path

from slurm2sky.mappings import default_mappings_path

# The test copies this root to a temporary directory, so the repository is not found
# relative to this file: a test that edits the mappings places its own copy beside
# conf.py; otherwise the package's default (a checkout's mappings/ directory).
_here = Path(__file__).resolve().parent
_copy = _here / "mappings.yaml"
slurm2sky_mappings = str(_copy if _copy.is_file() else default_mappings_path().resolve())

extensions = ["myst_parser", "slurm2sky.sphinx"]
exclude_patterns = ["_build"]
project = "slurm2sky tables (MyST)"
