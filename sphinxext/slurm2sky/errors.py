"""Located errors a person can act on: file, line, column, what is wrong, what is valid."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One located problem in an input file.

    ``line`` and ``column`` are 1-based (0 when the whole file is concerned, e.g. it
    does not exist); ``key`` is the path of the offending key (``options[3].short``)
    or ``""``; ``message`` says what is wrong and ``hint`` what would be valid.
    """

    file: str
    line: int
    column: int
    key: str
    message: str
    hint: str

    @property
    def location(self) -> str:
        """``file:line:column``, or ``file`` when the whole file is concerned."""
        return self.file if self.line <= 0 else f"{self.file}:{self.line}:{self.column}"

    @property
    def description(self) -> str:
        """Everything but the location: ``key: what is wrong — valid: what would be``."""
        text = f"{self.key}: " if self.key else ""
        text += self.message
        if self.hint:
            text += f" — valid: {self.hint}"
        return text

    def __str__(self) -> str:
        return f"{self.location}: {self.description}"


class SourceError(Exception):
    """Bad input, as a list of located :class:`Problem` s (never empty)."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("\n".join(map(str, self.problems)))
