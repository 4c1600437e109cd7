"""slurm2sky: the Slurm → SkyPilot migration guide and the tools behind it.

The package is split so that the conversion path (mappings model, sbatch parser,
converter, emitter) has only pure-Python dependencies and never imports Sphinx or
jsonschema; ``slurm2sky.sphinx`` is the Sphinx extension.
"""

__version__ = "0.1.0"

#: The SkyPilot release the guide, the mappings file and the checks target.
SKYPILOT_VERSION = "0.14.1"
