"""Reading a batch script exactly as ``sbatch`` does.

``parse_script(text)`` returns a :class:`BatchScript`: the header scan, sbatch's tokeniser,
``getopt_long`` over the real option tables, value grammars and the combinations sbatch
refuses (``script.py``, ``tokenize.py``, ``getopt.py``, ``values.py``). ``parse_srun``
splits an ``srun`` command line of the body. ``options.json`` holds sbatch's and srun's
``getopt_long`` option tables and the pyxis container options (a SPANK plugin), as data
for the parser and for checks of the mappings file.
"""

from __future__ import annotations

from functools import cache

from slurm2sky.sbatch.getopt import sbatch_table
from slurm2sky.sbatch.script import (
    BatchScript,
    Directive,
    ScriptProblem,
    SrunCall,
    parse_script,
    parse_srun,
    wrap_script,
)

__all__ = [
    "BatchScript",
    "Directive",
    "ScriptProblem",
    "SrunCall",
    "option_table",
    "parse_script",
    "parse_srun",
    "wrap_script",
]


@cache
def option_table() -> dict[str, dict[str, int | str | None]]:
    """The sbatch option table, pyxis options included.

    Returns ``{long_name: {"argument": 0|1|2, "short": letter or None, "id": str}}``
    where ``argument`` is getopt_long's ``has_arg`` (0 none, 1 required, 2 optional)
    and ``id`` names the option sbatch sets (its short letter, its ``LONG_OPT_*`` code,
    or ``pyxis:<name>`` for a pyxis option without one; two long names with one ``id``
    are one option under two names). A view of :func:`~slurm2sky.sbatch.getopt.sbatch_table`.
    Source: Slurm ``src/common/slurm_opt.c`` (sbatch) and pyxis ``args.c``.
    """
    return {
        spec.name: {"argument": spec.argument, "short": spec.short, "id": spec.id}
        for spec in sbatch_table().specs
    }
