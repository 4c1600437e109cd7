"""The results of validation: :class:`Issue`, :class:`Verdict`, and the :class:`Engine`
interface both engines implement. Standard library only."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

#: Document kinds: a task YAML (one task, a pipeline or a job group), a SkyPilot
#: config file (``~/.sky/config.yaml``), a volume file (``sky volumes apply``).
KINDS = ("task", "config", "volume")
ENGINES = ("embedded", "skypilot")


def one_line(message: str) -> str:
    """``message`` on one line: every run of whitespace that holds a line break becomes
    one space (SkyPilot's messages may span lines, e.g. jsonschema's "invalid keys:\n'1LR'
    does not match ..."), and the ends are stripped; other spacing is kept."""
    return re.sub(r"\s*[\r\n]\s*", " ", message.strip())


@dataclass(frozen=True)
class Issue:
    """One reason a document is invalid.

    ``line``/``column`` are 1-based positions in the checked text of the offending key
    or value (0 when unknown, e.g. for :func:`~slurm2sky.validate.validate_data`);
    ``message`` is what SkyPilot says (its own words where it has them); ``path`` is
    the JSON path of the offending field in its document (``"$.resources.cpus"``,
    ``""`` for the whole document); ``document`` the index of the YAML document in a
    multi-document text; ``code`` a short stable id:

    ``yaml`` (not YAML SkyPilot can read), ``duplicate-key``, ``schema`` (a JSON schema
    rule), ``value`` (a value rule outside the schemas: cpus, memory, accelerators,
    ports, ...), ``structure`` (how documents, fields and sections combine: pipeline and
    job-group headers, service/pool, any_of/ordered, secrets form, ...), ``kind`` (the
    kind cannot be inferred), ``engine`` (the engine itself failed on the document).
    """

    line: int
    column: int
    message: str
    path: str = ""
    document: int = 0
    code: str = ""

    def format(self, source: str) -> str:
        """``source:line:column: message`` (``source: message`` when the line is unknown),
        on one line."""
        where = f"{source}:{self.line}:{self.column}" if self.line > 0 else source
        return f"{where}: {one_line(self.message)}"


@dataclass(frozen=True)
class Verdict:
    """The outcome of checking one text or document.

    ``issues`` is empty when the document is valid; ``needs_env`` names the ``envs``
    whose value is null and that were not given, i.e. that must be supplied at launch
    with ``--env NAME=VALUE`` (SkyPilot rejects a null env otherwise). A document that
    only needs envs is valid.
    """

    kind: str
    engine: str
    issues: tuple[Issue, ...]
    needs_env: tuple[str, ...] = ()

    @property
    def valid(self) -> bool:
        """No issues (``needs_env`` does not make a document invalid)."""
        return not self.issues

    @property
    def status(self) -> str:
        """``"invalid"``, ``"needs_env"`` or ``"valid"``: the verdict in one word."""
        if self.issues:
            return "invalid"
        return "needs_env" if self.needs_env else "valid"

    def summary(self) -> str:
        """``valid``, ``valid, needs --env A --env B`` or ``invalid (N issues)``."""
        if self.issues:
            count = len(self.issues)
            return f"invalid ({count} issue{'s' if count != 1 else ''})"
        if self.needs_env:
            return "valid, needs " + " ".join(f"--env {name}" for name in self.needs_env)
        return "valid"


@runtime_checkable
class Engine(Protocol):
    """A way of validating documents; see :func:`~slurm2sky.validate.get_engine`."""

    name: str

    def check_text(
        self, text: str, kind: str, *, env: Mapping[str, str] | None = None, source: str = "<text>"
    ) -> Verdict:
        """Check a YAML text (possibly several documents) of a known kind."""
        ...

    def check_data(self, data: Any, kind: str, *, env: Mapping[str, str] | None = None) -> Verdict:
        """Check one already-parsed document (no positions)."""
        ...

    def close(self) -> None:
        """Release what the engine holds (a worker process); idempotent."""
        ...
