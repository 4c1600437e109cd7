"""What the converter says about a script: :class:`Note` (made by :mod:`slurm2sky.convert`
for the header and by :mod:`slurm2sky._body` for the body; the kinds are listed in
:data:`slurm2sky.convert.NOTE_KINDS`)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Note"]


@dataclass(frozen=True)
class Note:
    """Something the converter says about the script.

    ``line`` is the directive's (or the body line's) 1-based line, 0 for the whole script
    or a command-line option; ``directive`` the directive as written
    (``--time=24:00:00``) or ``""``; ``kind`` a stable id (see :data:`NOTE_KINDS`);
    ``message`` why, and what to do; ``loses_meaning`` is true when the task does not
    keep the script's meaning; ``field`` the task field it concerns
    (``resources.accelerators``), used to place the comment, or ``""``; ``column`` the
    1-based column on ``line`` (of the directive's option, or of its value when the note
    is about the value), 0 when none is known or ``line`` is 0.
    """

    line: int
    directive: str
    kind: str
    message: str
    loses_meaning: bool
    field: str = ""
    column: int = 0
