"""``python -m slurm2sky`` runs the command line."""

import sys

from slurm2sky.cli import main

sys.exit(main())
