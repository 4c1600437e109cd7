"""Build-time checks of the guide's examples against the SkyPilot release it targets.

What is checked (each failure is one warning ``type="slurm2sky"`` with the subtype in
brackets, located at the exact source line of the offending key or word):

*YAML code blocks* (``code-block:: yaml`` in reST, ```` ```yaml ```` fences and
```` ```{code-block} yaml ```` in MyST): the kind comes from, in this order,

1. a first-line comment ``# skypilot: task|config|volume|partial|none`` (works in plain
   MyST fences, which take no options);
2. the caption convention of ``docs/maintaining.rst``: a caption that starts with
   ``~/.sky/config.yaml`` is a config, one that names a "volume spec" (or ``sky volumes
   apply``) is a volume;
3. :func:`slurm2sky.validate.infer_kind`, through ``validate_text(text, None)``.

The block is then validated with ``slurm2sky.validate.validate_text(text, kind,
engine=slurm2sky_engine)`` and each issue is a warning ``[yaml]`` at its line. A null
env is valid ("valid, needs ``--env X``") when a ``sky`` command on the same page
passes ``--env X``; otherwise it is a ``[yaml]`` warning at the env's key. ``partial``
(a deliberately incomplete snippet) and ``none`` (YAML that is not SkyPilot's) are not
validated and are listed as skipped in the ``skypilot-check`` report, never dropped
silently. Warned as ``[kind]``: a block that looks like SkyPilot YAML (it has keys
of SkyPilot's schemas) whose kind cannot be inferred; an unknown kind in the comment;
and a declared kind that fails while the block is a valid document of another kind
("wrong kind").

*Commands* in ``bash``/``console``/``shell``/``sh``/``zsh`` blocks (console and
shell-session text: only ``$`` lines) and in inline literals of running text that start
with ``sky`` (checked in prose mode: command path and option names only), through
:mod:`slurm2sky.validate.commands`: ``[command]`` for what click would refuse,
``[deprecated]`` for a deprecated command (code blocks only: prose may name the old
spelling on purpose).

*Variables*: every ``SKYPILOT_*`` name in any code block or inline literal must exist in
the target release (``[variable]``).

*The mappings file* (checked once per build, located in the file): every command in the
``commands`` section's ``skypilot`` cells, in ``features``' ``command`` and in
``options``' ``skypilot`` values that start with ``sky`` (full check); the YAML
fragments of ``options``' other ``skypilot`` values, placed at their ``field`` and
validated as a task; inline ````sky …```` literals of notes, descriptions and
derivations (prose mode); and every ``SKYPILOT_*`` name in the file outside full-line
comments (which document the file itself).

Line numbers: a block's first content line is found by matching the block's text
against the source file from the directive's (or fence's) line, which docutils and MyST
both record exactly (also under ``rst_prolog``; see
``reference/sphinx-extension-idioms.md`` §2.2), so no directive-relative offsets are
used. The issue's line inside the block is then added (``first + line - 1``).

Nothing here stores anything on the build environment: the checks run on each
document's doctree at ``doctree-read`` (so in parallel readers too; their warnings are
replayed by Sphinx), and the ``skypilot-check`` builder runs them again on the pickled
doctrees. Like every read-time warning, a page's warnings appear when the page is read.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from docutils import nodes
from sphinx.errors import ConfigError, ExtensionError
from sphinx.util import logging

from slurm2sky.validate import commands as sky_commands

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.config import Config

    from slurm2sky.mappings import Mappings

logger = logging.getLogger(__name__)

WARNING_TYPE = "slurm2sky"
#: Warning subtypes, one per check (``suppress_warnings = ["slurm2sky.command"]``).
SUBTYPES = ("yaml", "kind", "command", "deprecated", "variable")
#: Kinds a first-line comment may name.
MARKER_KINDS = ("task", "config", "volume", "partial", "none")
YAML_LANGUAGES = frozenset({"yaml", "yml"})
#: Shell languages; the console ones hold a transcript (``$`` lines are commands).
SHELL_LANGUAGES = frozenset({"bash", "sh", "shell", "zsh", "ksh"})
CONSOLE_LANGUAGES = frozenset({"console", "shell-session", "shellsession", "bash-session"})

_MARKER = re.compile(r"^\s*#\s*skypilot\s*:\s*(?P<kind>[^\s#]*)", re.IGNORECASE)
_TOP_KEY = re.compile(r"^(?P<key>[A-Za-z_][\w.-]*)\s*:(?:\s|$)", re.MULTILINE)
_INLINE_LITERAL = re.compile(r"``(.+?)``", re.DOTALL)


@dataclass(frozen=True)
class Settings:
    """The checks' configuration (from ``conf.py``)."""

    engine: str = "embedded"
    version: str | None = None
    #: the source directory: files are named relative to it in messages
    srcdir: str = ""

    @classmethod
    def from_config(cls, config: Config, srcdir: str | os.PathLike[str] = "") -> Settings:
        return cls(
            config.slurm2sky_engine, config.slurm2sky_skypilot_version or None, os.fspath(srcdir)
        )

    @property
    def release(self) -> str:
        return sky_commands.snapshot_version(self.version)


@dataclass(frozen=True)
class Finding:
    """One checked item and its outcome.

    ``tag``: ``"ok"``; ``"partial"`` or ``"none"`` (a YAML block deliberately not
    validated); or a failure, named by its warning subtype (:data:`SUBTYPES`).
    ``item``: what was checked (``"yaml"``, ``"command"`` or ``"variable"``).
    ``file``: the absolute path of the file the 1-based ``line``/``column`` are in
    (0: unknown); ``docname``: the page, or ``None`` for the mappings file.
    ``details``: extra facts for the JSON report (kind, engine, argv, code, ...).
    """

    file: str
    line: int
    column: int
    tag: str
    item: str
    message: str
    docname: str | None = None
    details: tuple[tuple[str, Any], ...] = field(default=())

    @property
    def failed(self) -> bool:
        return self.tag in SUBTYPES

    def as_json(self, srcdir: str | os.PathLike[str]) -> dict[str, Any]:
        return {
            "filename": _relative(self.file, srcdir),
            "lineno": self.line,
            "column": self.column,
            "docname": self.docname,
            "item": self.item,
            "status": "failure" if self.failed else ("skipped" if self.tag != "ok" else "ok"),
            "tag": self.tag,
            "message": self.message,
            **dict(self.details),
        }


def _relative(path: str, srcdir: str | os.PathLike[str]) -> str:
    try:
        return os.path.relpath(path, srcdir)
    except ValueError:  # another drive (Windows)
        return path


# ---------------------------------------------------------------------------
# Source text and positions


class _Sources:
    """Source files as lists of lines, read once per check."""

    def __init__(self) -> None:
        self._lines: dict[str, list[str] | None] = {}

    def lines(self, path: str | None) -> list[str] | None:
        if not path:
            return None
        if path not in self._lines:
            try:
                text = Path(path).read_text(encoding="utf-8-sig")
            except (OSError, UnicodeDecodeError):
                self._lines[path] = None
            else:
                self._lines[path] = text.split("\n")
        return self._lines[path]


def _norm(line: str) -> str:
    return line.expandtabs(8).strip()


def block_first_line(node: nodes.Element, lines: list[str] | None) -> int:
    """The 1-based source line of the first line of a literal block's text, or 0.

    ``node.line`` is the line of the ``code-block`` directive or the MyST fence
    (exact, also with ``rst_prolog`` and inside nested directives); the text starts
    after it, behind any option lines, blank lines and indentation. The first line at or
    after it where the block's lines (compared without surrounding whitespace) follow
    one another is the start.
    """
    if node.line is None or lines is None:
        return 0
    want = [_norm(line) for line in node.astext().split("\n")]
    while want and not want[-1]:
        want.pop()
    if not want:
        return 0
    sample = want[:60]
    for start in range(node.line, min(len(lines), node.line + 400)):
        if start + len(sample) > len(lines):
            break
        if all(_norm(lines[start + j]) == sample[j] for j in range(len(sample))):
            return start + 1
    return 0


class _Place:
    """Where a block's text sits in its source file (found on first use)."""

    def __init__(self, node: nodes.Element, file: str, lines: list[str] | None) -> None:
        self.node = node
        self.file = file
        self.lines = lines
        self.fallback = node.line or 0  # the directive's line, when the text is not found
        self._block = node.astext().split("\n")

    @cached_property
    def first(self) -> int:
        """1-based source line of the text's first line; 0 = unknown."""
        return block_first_line(self.node, self.lines)

    def at(self, line: int, column: int = 0) -> tuple[int, int]:
        """(line, column) in the file of 1-based ``line``/``column`` of the text."""
        if not self.first:
            return self.fallback, 0
        if line <= 0:
            return self.first, 0
        file_line = self.first + line - 1
        if column <= 0 or self.lines is None or file_line > len(self.lines):
            return file_line, 0
        source = self.lines[file_line - 1].expandtabs(8)
        text = self._block[line - 1].expandtabs(8) if line <= len(self._block) else ""
        indent = (len(source) - len(source.lstrip())) - (len(text) - len(text.lstrip()))
        return file_line, column + max(indent, 0)


def _locate_words(
    text: str, lines: list[str] | None, anchor: int
) -> Callable[[int, int], tuple[int, int]] | None:
    """Map 1-based (line, column) in ``text`` (an inline literal or a cell) to the source
    file, by finding its words, in order and separated by any whitespace, at or after
    the 1-based line ``anchor``. ``None`` if the words are not found."""
    if lines is None or anchor <= 0:
        return None
    tokens = [(m.start(), m.group()) for m in re.finditer(r"\S+", text)]
    if not tokens:
        return None
    pattern = r"\s+".join(f"({re.escape(token)})" for _, token in tokens)
    window = "\n".join(lines[anchor - 1 : anchor - 1 + 300])
    match = re.search(pattern, window)
    if match is None:
        return None
    text_starts = [0] + [m.end() for m in re.finditer("\n", text)]
    window_starts = [0] + [m.end() for m in re.finditer("\n", window)]

    def at(line: int, column: int) -> tuple[int, int]:
        index = (text_starts[line - 1] if 0 < line <= len(text_starts) else 0) + max(column, 1) - 1
        source_index = match.start(1)
        for k, (start, token) in enumerate(tokens):
            if start <= index < start + len(token) or index < start:
                source_index = match.start(k + 1) + max(index - start, 0)
                break
        else:
            source_index = match.end(len(tokens))
        row = sum(1 for s in window_starts if s <= source_index) - 1
        return anchor + row, source_index - window_starts[row] + 1

    return at


class _LazyLocator:
    """:func:`_locate_words`, searched on first use (only failures need it in HTML
    builds); the anchor line when the words are not found."""

    def __init__(self, text: str, lines: list[str] | None, anchor: int) -> None:
        self.text, self.lines, self.anchor = text, lines, anchor
        self._searched = False
        self._at: Callable[[int, int], tuple[int, int]] | None = None

    def __call__(self, line: int, column: int) -> tuple[int, int]:
        if not self._searched:
            self._at = _locate_words(self.text, self.lines, self.anchor)
            self._searched = True
        return self._at(line, column) if self._at else (self.anchor, 0)


# ---------------------------------------------------------------------------
# YAML blocks


def _validate(text: str, kind: str | None, settings: Settings, source: str) -> Any:
    """``slurm2sky.validate.validate_text`` with the configured engine; an engine that
    cannot run stops the build with its own explanation (no traceback)."""
    from slurm2sky.validate import EngineUnavailable, validate_text

    try:
        return validate_text(text, kind, engine=settings.engine, source=source)
    except EngineUnavailable as error:
        raise ExtensionError(
            f"slurm2sky_engine = {settings.engine!r} cannot run: {error}", modname=__name__
        ) from None


@cache
def _skypilot_keys(version: str | None) -> frozenset[str]:
    """Keys of SkyPilot's documents: every property of the task, config, volume,
    resources and service schemas (top level), for "does this look like SkyPilot?"."""
    schemas = sky_commands.snapshot_data(version)["schemas"]
    keys: set[str] = set()
    for name in ("task", "config", "volume", "resources", "service"):
        keys.update(schemas.get(name, {}).get("properties", {}))
    return frozenset(keys)


def looks_like_skypilot(text: str, version: str | None = None) -> bool:
    """At least one top-level key, and half of them, are keys of SkyPilot's schemas."""
    keys = {m.group("key") for m in _TOP_KEY.finditer(text)}
    if not keys:
        return False
    known = keys & _skypilot_keys(version)
    return bool(known) and 2 * len(known) >= len(keys)


def _caption(node: nodes.Element) -> str:
    parent = node.parent
    if isinstance(parent, nodes.container) and parent.get("literal_block"):
        for child in parent.children:
            if isinstance(child, nodes.caption):
                return child.astext()
    return ""


def caption_kind(caption: str) -> str | None:
    """The kind a caption names by the guide's convention (``docs/maintaining.rst``)."""
    text = caption.strip()
    if text.startswith("~/.sky/config.yaml"):
        return "config"
    lowered = text.lower()
    if "volume spec" in lowered or "sky volumes apply" in lowered:
        return "volume"
    return None


def _env_key_line(text: str, name: str) -> int:
    """1-based line of ``name:`` under an ``envs:`` key of the text (0 if not found)."""
    in_envs = False
    for number, line in enumerate(text.split("\n"), start=1):
        if re.match(r"^\s*envs\s*:", line):
            in_envs = True
            continue
        if in_envs and re.match(rf"^\s*{re.escape(name)}\s*:", line):
            return number
    return 0


@dataclass
class _Page:
    """What the checks of one page collect."""

    settings: Settings
    sources: _Sources
    docname: str | None
    findings: list[Finding] = field(default_factory=list)
    env_passed: set[str] = field(default_factory=set)
    needs_env: list[tuple[_Place, str, str, tuple[str, ...]]] = field(default_factory=list)
    #: keep findings that are not failures (the builder's report); HTML builds only warn
    report_ok: bool = True

    def add(
        self,
        place: tuple[str, int, int] | Callable[[], tuple[str, int, int]],
        tag: str,
        item: str,
        message: str,
        **details: Any,
    ) -> None:
        """Record a finding; ``place`` (file, line, column) may be a function, called
        only when the finding is kept (failures always; the rest with ``report_ok``)."""
        if tag not in SUBTYPES and not self.report_ok:
            return
        file, line, column = place() if callable(place) else place
        self.findings.append(
            Finding(file, line, column, tag, item, message, self.docname, tuple(details.items()))
        )

    # -- YAML

    def yaml_block(self, text: str, caption: str, place: _Place) -> None:
        settings = self.settings
        lines = text.split("\n")
        # the first line that is not blank (a MyST fence may start with a blank line)
        number = next((n for n, line in enumerate(lines, start=1) if line.strip()), 1)
        marker = _MARKER.match(lines[number - 1])
        how = ""
        kind: str | None = None
        if marker:
            kind = marker.group("kind").lower()
            how = f"`# skypilot: {marker.group('kind')}`"
            if kind not in MARKER_KINDS:
                close = difflib.get_close_matches(kind, MARKER_KINDS, n=1)
                self.add(
                    (place.file, *place.at(number)),
                    "kind",
                    "yaml",
                    f"unknown kind {marker.group('kind')!r} in the first-line comment; "
                    + (f"did you mean {close[0]!r}? " if close else "")
                    + "one of: "
                    + ", ".join(MARKER_KINDS),
                )
                return
        elif caption_kind(caption):
            kind = caption_kind(caption)
            how = f"the caption {caption!r}"
        if kind in ("partial", "none"):
            what = (
                "a deliberately partial snippet" if kind == "partial" else "not a SkyPilot document"
            )
            self.add(
                lambda: (place.file, *place.at(1)),
                kind,
                "yaml",
                f"{what} ({how}): not validated",
                kind=kind,
            )
            return
        name = _relative(place.file, settings.srcdir) if settings.srcdir else place.file
        source = f"{name}:{place.first or place.fallback}"
        verdict = _validate(text, kind, settings, source)
        if kind is None and not verdict.kind:
            if verdict.issues and any(i.code == "yaml" for i in verdict.issues):
                self.yaml_issues(verdict, place, "YAML")
            elif looks_like_skypilot(text, settings.version):
                self.add(
                    (place.file, *place.at(1)),
                    "kind",
                    "yaml",
                    "cannot tell which kind of SkyPilot YAML this block is (task, config "
                    "or volume); start it with a comment `# skypilot: task` (or config, "
                    "volume, partial, none)",
                )
            else:
                self.add(
                    lambda: (place.file, *place.at(1)),
                    "none",
                    "yaml",
                    "not SkyPilot YAML (none of its keys is SkyPilot's): not validated",
                    kind="none",
                )
            return
        kind = kind or verdict.kind
        if not verdict.valid and how:
            # A declared kind that fails: is the block a valid document of another kind?
            other = _validate(text, None, settings, source)
            if other.valid and other.kind and other.kind != kind:
                self.add(
                    (place.file, *place.at(number if marker else 0)),
                    "kind",
                    "yaml",
                    f"wrong kind: {how} says {kind}, but the block is not a valid {kind} "
                    f"({verdict.issues[0].message}) and is a valid {other.kind}",
                    kind=kind,
                    inferred=other.kind,
                )
                return
        if not verdict.valid:
            self.yaml_issues(verdict, place, kind)
            return
        if verdict.needs_env:
            self.needs_env.append((place, text, kind, tuple(verdict.needs_env)))
            return
        self.add(
            lambda: (place.file, *place.at(1)),
            "ok",
            "yaml",
            f"valid {kind} (SkyPilot {settings.release}, {verdict.engine} engine)",
            kind=kind,
            engine=verdict.engine,
        )

    def yaml_issues(self, verdict: Any, place: _Place, what: str) -> None:
        for issue in verdict.issues:
            document = f"document {issue.document + 1}: " if issue.document else ""
            where = f" [{issue.path}]" if issue.path else ""
            self.add(
                (place.file, *place.at(issue.line, issue.column)),
                "yaml",
                "yaml",
                f"{document}invalid {what} (SkyPilot {self.settings.release}): "
                f"{issue.message}{where}",
                kind=verdict.kind,
                engine=verdict.engine,
                code=issue.code,
                path=issue.path,
            )

    def resolve_needs_env(self) -> None:
        """Null envs: valid when the page passes ``--env X`` somewhere, else a warning."""
        for place, text, kind, names in self.needs_env:
            missing = [name for name in names if name not in self.env_passed]
            for name in missing:
                self.add(
                    (place.file, *place.at(_env_key_line(text, name) or 1)),
                    "yaml",
                    "yaml",
                    f"envs.{name} is null: SkyPilot {self.settings.release} needs "
                    f"`--env {name}=…` at launch, and no `sky` command on this page passes "
                    f"--env {name} (show one, or give the env a value)",
                    kind=kind,
                    needs_env=list(names),
                )
            if not missing:
                flags = " ".join(f"--env {name}" for name in names)
                self.add(
                    lambda place=place: (place.file, *place.at(1)),
                    "ok",
                    "yaml",
                    f"valid {kind}, needs {flags} (SkyPilot {self.settings.release})",
                    kind=kind,
                    needs_env=list(names),
                )

    # -- commands and variables

    def commands(
        self,
        text: str,
        at: Callable[[int, int], tuple[int, int]],
        file: str,
        *,
        prompt: bool | None,
        prose: bool,
    ) -> None:
        settings = self.settings
        for check in sky_commands.check_commands_in(
            text, prompt=prompt, prose=prose, version=settings.version
        ):
            command = check.command
            self._note_env(command.argv)
            shown = " ".join(command.argv)
            if not check.issues:
                self.add(
                    lambda command=command: (file, *at(command.line, command.column)),
                    "ok",
                    "command",
                    shown,
                    argv=list(command.argv),
                    prose=prose,
                )
            for issue in check.issues:
                self.add(
                    (file, *at(issue.line, issue.column)),
                    "deprecated" if issue.code == "deprecated" else "command",
                    "command",
                    issue.message,
                    argv=list(command.argv),
                    code=issue.code,
                    prose=prose,
                )

    def _note_env(self, argv: Iterable[str]) -> None:
        words = list(argv)
        for index, word in enumerate(words):
            value = None
            if word == "--env" and index + 1 < len(words):
                value = words[index + 1]
            elif word.startswith("--env="):
                value = word[len("--env=") :]
            if value:
                self.env_passed.add(value.split("=", 1)[0])

    def variables(self, text: str, at: Callable[[int, int], tuple[int, int]], file: str) -> None:
        version = self.settings.version
        for line, column, name in sky_commands.find_skypilot_variables(text):
            issue = sky_commands.check_skypilot_variable(name, version=version)
            if issue is None:
                self.add(
                    lambda line=line, column=column: (file, *at(line, column)),
                    "ok",
                    "variable",
                    name,
                )
            else:
                self.add(
                    (file, *at(line, column)),
                    "variable",
                    "variable",
                    issue.message,
                    name=name,
                    code=issue.code,
                )


# ---------------------------------------------------------------------------
# A page


def _in_mapping_table(node: nodes.Node) -> bool:
    parent = node.parent
    while parent is not None:
        if isinstance(parent, nodes.table) and "slurm2sky-mapping-table" in parent.get(
            "classes", ()
        ):
            return True
        parent = parent.parent
    return False


def _located_ancestor(node: nodes.Node) -> nodes.Node | None:
    parent: nodes.Node | None = node
    while parent is not None and (parent.line is None or parent.source is None):
        parent = parent.parent
    return parent


def check_doctree(
    doctree: nodes.document,
    docname: str,
    source_path: str,
    settings: Settings,
    *,
    report_ok: bool = True,
) -> list[Finding]:
    """Check every example on one page; returns every finding, in document order.

    ``source_path`` is the page's file (``env.doc2path(docname)``); nodes from other
    files (``include``) are located in their own file.
    """
    page = _Page(settings, _Sources(), docname, report_ok=report_ok)
    for node in doctree.findall(nodes.literal_block):
        language = str(node.get("language") or "").lower()
        text = node.astext()
        file = node.source or source_path
        place = _Place(node, file, page.sources.lines(file))
        if language in YAML_LANGUAGES:
            page.yaml_block(text, _caption(node), place)
        elif language in SHELL_LANGUAGES or language in CONSOLE_LANGUAGES:
            page.commands(
                text,
                place.at,
                file,
                prompt=True if language in CONSOLE_LANGUAGES else None,
                prose=False,
            )
        if "SKYPILOT_" in text:
            page.variables(text, place.at, file)
    for node in doctree.findall(nodes.literal):
        # running text: a line break inside the literal is a space, not a new command
        text = " ".join(node.astext().split("\n"))
        is_command = re.match(r"^\s*(?:\$\s+)?sky\s+\S", text) is not None
        if not (is_command or "SKYPILOT_" in text) or _in_mapping_table(node):
            continue
        anchor = _located_ancestor(node)
        file = (anchor.source if anchor is not None else None) or source_path
        line = anchor.line if anchor is not None and anchor.line else 0
        at = _LazyLocator(text, page.sources.lines(file), line)

        if is_command:
            page.commands(text, at, file, prompt=None, prose=True)
        if "SKYPILOT_" in text:
            page.variables(text, at, file)
    page.resolve_needs_env()
    return sorted(page.findings, key=lambda f: (f.file != source_path, f.file, f.line, f.column))


# ---------------------------------------------------------------------------
# The mappings file


def _key_line(lines: list[str], row_line: int, key: str) -> int:
    """1-based line of ``key:`` in the row that starts at ``row_line`` (else the row)."""
    pattern = re.compile(rf"^\s*(?:-\s+)?{re.escape(key)}\s*:")
    for number in range(row_line, min(len(lines), row_line + 200) + 1):
        text = lines[number - 1]
        if number > row_line and re.match(r"^\s*-\s+id\s*:", text):
            break
        if pattern.match(text):
            return number
    return row_line


def check_mappings(
    mappings: Mappings, settings: Settings, *, report_ok: bool = True
) -> list[Finding]:
    """Check the SkyPilot side of the mappings file (see the module doc); ``report_ok``
    as for :func:`check_doctree`."""
    page = _Page(settings, _Sources(), None, report_ok=report_ok)
    file = str(mappings.path)
    lines = page.sources.lines(file) or []

    def locate(text: str, anchor: int) -> Callable[[int, int], tuple[int, int]]:
        located = _locate_words(text, lines, anchor)
        return located if located else (lambda _line, _column: (anchor, 0))

    def full(text: str, anchor: int) -> None:
        page.commands(text, locate(text, anchor), file, prompt=False, prose=False)

    for row in mappings.commands:
        anchor = _key_line(lines, row.line, "skypilot")
        for command in row.skypilot.commands:
            full(command, anchor)
    for feature in mappings.features:
        if feature.command:
            full(feature.command, _key_line(lines, feature.line, "command"))
    for option in mappings.options:
        if not option.skypilot:
            continue
        anchor = _key_line(lines, option.line, "skypilot")
        if re.match(r"^\s*sky(?:\s|$)", option.skypilot):
            full(option.skypilot, anchor)
        elif option.field:
            _fragment(page, option.skypilot, option.field, file, anchor)
    for section in ("commands", "features", "environment-variables", "options"):
        for row in mappings.section(section):
            for key in ("note", "description", "derivation"):
                value = getattr(row, key, None)
                if not value:
                    continue
                anchor = _key_line(lines, row.line, key)
                for literal in _INLINE_LITERAL.finditer(value):
                    text = literal.group(1)
                    if re.match(r"^\s*(?:\$\s+)?sky(?:\s|$)", text):
                        page.commands(text, locate(text, anchor), file, prompt=None, prose=True)
    # Variables anywhere but in full-line comments, which document the file itself
    # (and may name the package's SKYPILOT_VERSION constant).
    content = "\n".join("" if line.lstrip().startswith("#") else line for line in lines)
    page.variables(content, lambda line, column: (line, column), file)
    return sorted(page.findings, key=lambda f: (f.line, f.column))


def _fragment(page: _Page, text: str, path: str, file: str, line: int) -> None:
    """Validate the one-line YAML fragment ``text`` of an option row as a task, placed
    under the parents of its ``field`` (``resources.memory`` -> under ``resources:``)."""
    parents = path.split(".")[:-1]
    document = "".join(f"{'  ' * depth}{name}:\n" for depth, name in enumerate(parents))
    document += "  " * len(parents) + text.strip() + "\n"
    verdict = _validate(document, "task", page.settings, file)
    if verdict.valid:
        page.add((file, line, 0), "ok", "yaml", f"{text} (as {path} of a task)", kind="task")
        return
    for issue in verdict.issues:
        page.add(
            (file, line, 0),
            "yaml",
            "yaml",
            f"the SkyPilot value {text!r} (field {path}) is invalid for SkyPilot "
            f"{page.settings.release}: {issue.message}",
            kind="task",
            code=issue.code,
        )


# ---------------------------------------------------------------------------
# Reporting


def location(finding: Finding, doc_path: Callable[[str], str]) -> tuple[str, int] | str:
    """The ``location=`` of a finding's warning: (docname, line) in its page, else
    ``"file:line"``."""
    if finding.docname is not None and os.path.abspath(finding.file) == os.path.abspath(
        doc_path(finding.docname)
    ):
        return finding.docname, finding.line
    return f"{finding.file}:{finding.line}" if finding.line else finding.file


def warn(findings: Iterable[Finding], doc_path: Callable[[str], str]) -> int:
    """Log each failed finding as a located warning; returns how many were logged."""
    count = 0
    for finding in findings:
        if finding.failed:
            logger.warning(
                finding.message,
                location=location(finding, doc_path),
                type=WARNING_TYPE,
                subtype=finding.tag,
            )
            count += 1
    return count


def summary(findings: Iterable[Finding]) -> dict[str, int]:
    """Counts by tag, for the builder's summary."""
    counts: dict[str, int] = {}
    for finding in findings:
        counts[finding.tag] = counts.get(finding.tag, 0) + 1
    return counts


def text_lines(findings: Iterable[Finding], srcdir: str) -> Iterator[str]:
    """``file:line: [tag] message`` lines (as ``linkcheck``'s output.txt)."""
    for finding in findings:
        yield f"{_relative(finding.file, srcdir)}:{finding.line}: [{finding.tag}] {finding.message}"


# ---------------------------------------------------------------------------
# Event handlers (registered by slurm2sky.sphinx.setup)

BUILDER_NAME = "skypilot-check"


def _enabled(app: Sphinx) -> bool:
    """Read-time checks run when ``slurm2sky_check`` is on, except in the
    ``skypilot-check`` builder, which runs them itself."""
    return bool(app.config.slurm2sky_check) and app.builder.name != BUILDER_NAME


def check_config(app: Sphinx, config: Config) -> None:
    """``config-inited``: the engine name and the target release must be known."""
    from slurm2sky import SKYPILOT_VERSION
    from slurm2sky.validate import available_versions

    engines = ("embedded", "skypilot")
    if config.slurm2sky_engine not in engines:
        raise ConfigError(
            f"slurm2sky_engine = {config.slurm2sky_engine!r}: unknown engine; "
            f"valid: {', '.join(engines)}"
        )
    version = config.slurm2sky_skypilot_version
    if version not in available_versions():
        raise ConfigError(
            f"slurm2sky_skypilot_version = {version!r}: no SkyPilot snapshot for it in "
            f"slurm2sky.validate (packaged: {', '.join(available_versions()) or 'none'})"
        )
    if version != SKYPILOT_VERSION:
        # validate_text has no version: the engines check the package's release
        raise ConfigError(
            f"slurm2sky_skypilot_version = {version!r}: the YAML checks validate against "
            f"SkyPilot {SKYPILOT_VERSION} (slurm2sky.SKYPILOT_VERSION) only; leave the "
            "value unset or set it to that release"
        )


def on_doctree_read(app: Sphinx, doctree: nodes.document) -> None:
    """``doctree-read``: check the page just read; log its failures."""
    if not _enabled(app):
        return
    env = app.env
    docname = env.docname
    findings = check_doctree(
        doctree,
        docname,
        str(env.doc2path(docname)),
        Settings.from_config(app.config, app.srcdir),
        report_ok=False,
    )
    warn(findings, lambda name: str(env.doc2path(name)))


def on_builder_inited(app: Sphinx) -> None:
    """``builder-inited`` (after the mappings file is loaded): check the mappings file."""
    if not _enabled(app):
        return
    settings = Settings.from_config(app.config, app.srcdir)
    mappings = loaded_mappings(app.srcdir, app.config)
    if mappings is None:
        return
    findings = check_mappings(mappings, settings, report_ok=False)
    warn(findings, lambda name: str(app.env.doc2path(name)))


def loaded_mappings(srcdir: str | os.PathLike[str], config: Config) -> Mappings | None:
    """The build's mappings file, or ``None`` when it cannot be used (the loader at
    ``builder-inited`` has reported why; there is nothing to check)."""
    from slurm2sky.errors import SourceError
    from slurm2sky.sphinx.source import active_path, get_mappings

    try:
        return get_mappings(active_path(srcdir, config.slurm2sky_mappings))
    except SourceError:
        return None
