"""Build-time checks of the guide's examples against the SkyPilot release it targets.

What is checked (each failure is one warning ``type="slurm2sky"`` with the subtype in
brackets, located at the exact source line of the offending key or word; messages are
put on one line):

*YAML blocks*: ``code-block:: yaml`` in reST, ```` ```yaml ```` fences and
```` ```{code-block} yaml ```` in MyST, and every other literal block Sphinx will
highlight as YAML (:func:`literal_blocks`: a ``::`` block or a ``code-block`` without a
language after ``.. highlight:: yaml``, a ``literalinclude`` of a ``.yaml`` file, whose
problems are located in that file's own lines). The kind comes from, in this order,

1. a first-line comment ``# skypilot: task|config|volume|partial|none`` (works in plain
   MyST fences, which take no options);
2. the caption convention of ``docs/maintaining.rst`` (:func:`caption_kind`): a caption
   that starts with ``~/.sky/config.yaml`` is a config, one that names a "volume spec"
   (or ``sky volumes apply``) is a volume, any other that starts with a YAML file name
   (``train.yaml``) is a task;
3. :func:`slurm2sky.validate.infer_kind`, through ``validate_text(text, None)``.

The block is then validated with ``slurm2sky.validate.validate_text(text, kind,
engine=slurm2sky_engine)`` and each issue is a warning ``[yaml]`` at its line. A null
env is valid ("valid, needs ``--env X``") when a ``sky`` command on the same page
passes ``--env X``; otherwise it is a ``[yaml]`` warning at the env's key. ``partial``
(a deliberately incomplete snippet) and ``none`` (YAML that is not SkyPilot's) are not
validated and are listed as skipped in the ``skypilot-check`` report, never dropped
silently. Warned as ``[kind]``: a block whose kind cannot be told (with a did-you-mean
for top-level keys that look like SkyPilot's, such as ``resorces``); an unknown kind in
the comment; and a declared kind that fails while the block is a valid document of
another kind ("wrong kind").

*Commands* in ``bash``/``console``/``shell``/``sh``/``zsh`` blocks (console and
shell-session text: only the lines after a prompt such as ``$``, ``(venv) $``,
``user@host:~$`` or the root prompt ``#``) and in inline literals of running text that
start with ``sky`` (checked in prose mode: command path and option names only),
through :mod:`slurm2sky.validate.commands`: ``[command]`` for what click would refuse,
``[deprecated]`` for a deprecated command (code blocks only: prose may name the old
spelling on purpose).

*Variables*: every ``SKYPILOT_*`` name in any code block or inline literal must exist in
the target release (``[variable]``): a variable of a task or any name its ``sky``
package reads or sets.

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

The checks run on each document's doctree at ``doctree-read`` (so in parallel readers
too; their warnings are replayed by Sphinx), and the ``skypilot-check`` builder runs
them again on the pickled doctrees. Sphinx replays no read-time warning of a page it
does not read again, so the pages whose examples gave warnings are recorded on the
build environment (:data:`ENV_ATTRIBUTE`; purged per page, merged from parallel
readers) and returned at ``env-get-outdated``: they are read, and warn, on every build
until they are fixed. ``suppress_warnings`` silences a subtype in both builders; a
suppressed failure neither counts nor makes its page be read again.

A setting that cannot work (:func:`check_config`, and a ``skypilot`` engine whose
Python cannot import skypilot) is one error naming the setting and what is valid,
located at its line in conf.py, and the build stops with exit status 1
(:func:`stop_on_setting`).
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from docutils import nodes
from sphinx import addnodes
from sphinx.util import logging
from sphinx.util.logging import is_suppressed_warning

from slurm2sky.validate import commands as sky_commands
from slurm2sky.validate.model import one_line

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
    #: the Python of the ``skypilot`` engine (``None``: $SLURM2SKY_SKYPILOT_PYTHON, else
    #: this interpreter)
    python: str | None = None
    #: the default language of literal blocks (Sphinx's ``highlight_language``)
    highlight_language: str = "default"
    #: the build's conf.py, where a setting that cannot work is reported
    conf_file: str = ""

    @classmethod
    def from_config(
        cls,
        config: Config,
        srcdir: str | os.PathLike[str] = "",
        confdir: str | os.PathLike[str] | None = None,
    ) -> Settings:
        return cls(
            config.slurm2sky_engine,
            config.slurm2sky_skypilot_version or None,
            os.fspath(srcdir),
            config.slurm2sky_skypilot_python or None,
            config.highlight_language,
            os.path.join(confdir, "conf.py") if confdir is not None else "",
        )

    @classmethod
    def for_app(cls, app: Sphinx) -> Settings:
        """The settings of a running build."""
        return cls.from_config(app.config, app.srcdir, app.confdir)

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


def block_first_line(node: nodes.Element, lines: list[str] | None, start: int | None = None) -> int:
    """The 1-based source line of the first line of a literal block's text, or 0.

    ``node.line`` is the line of the ``code-block`` directive or the MyST fence
    (exact, also with ``rst_prolog`` and inside nested directives), or the first line
    of a ``::`` literal block's text; the text starts there or after it, behind any
    option lines, blank lines and indentation. The first line at or
    after it where the block's lines (compared without surrounding whitespace) follow
    one another is the start. ``start``: search from this 0-based line instead (``0``
    for the file a ``literalinclude`` shows, whose text may be any part of it).
    """
    window = len(lines or ()) if start is not None else 400
    if start is None and node.line is not None:
        # 0-based index of the directive's line (a ``::`` block's line is its first
        # content line: the search starts there too)
        start = max(node.line - 1, 0)
    if start is None or lines is None:
        return 0
    want = [_norm(line) for line in node.astext().split("\n")]
    while want and not want[-1]:
        want.pop()
    if not want:
        return 0
    sample = want[:60]
    for first in range(start, min(len(lines), start + window)):
        if first + len(sample) > len(lines):
            break
        if all(_norm(lines[first + j]) == sample[j] for j in range(len(sample))):
            return first + 1
    return 0


class _Place:
    """Where a block's text sits in its source file (found on first use).

    ``file`` is the page (or the file an ``include`` brought the block from); for a
    ``literalinclude`` it is the included file, whose own lines the text is found in
    (``included``), or the page when the text is not found there (options such as
    ``:prepend:`` change it): then every position is the directive's line.
    """

    def __init__(
        self,
        node: nodes.Element,
        file: str,
        sources: _Sources,
        *,
        included: str | None = None,
    ) -> None:
        self.node = node
        self.page_file = file
        self.included = included
        self.lines = sources.lines(included or file)
        self.fallback = node.line or 0  # the directive's line, when the text is not found
        self._block = node.astext().split("\n")

    @cached_property
    def first(self) -> int:
        """1-based source line of the text's first line; 0 = unknown."""
        return block_first_line(self.node, self.lines, 0 if self.included else None)

    @property
    def file(self) -> str:
        """The file the positions of :meth:`at` are in."""
        if self.included and self.first:
            return self.included
        return self.page_file

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
    cannot run stops the build with its own explanation (:func:`stop_on_setting`)."""
    from slurm2sky.validate import EngineUnavailable, get_engine, validate_text

    try:
        engine = get_engine(settings.engine, python=settings.python)
        return validate_text(text, kind, engine=engine, source=source)
    except EngineUnavailable as error:
        stop_on_setting(
            *_engine_problem(settings, error), settings.conf_file, "slurm2sky_skypilot_python"
        )


@cache
def _top_level_keys(version: str | None) -> tuple[str, ...]:
    """The top-level fields of SkyPilot's documents: the properties of the task, config
    and volume schemas, sorted."""
    schemas = sky_commands.snapshot_data(version)["schemas"]
    keys: set[str] = set()
    for name in ("task", "config", "volume"):
        keys.update(schemas.get(name, {}).get("properties", {}))
    return tuple(sorted(keys))


def unknown_top_level_keys(text: str, version: str | None = None) -> list[str]:
    """``'resorces' (did you mean 'resources'?)`` for each top-level key of ``text`` that
    no SkyPilot document has but that looks like one that does
    (:data:`slurm2sky.validate.commands.SUGGESTION_CUTOFF`)."""
    known = _top_level_keys(version)
    hints = []
    for key in dict.fromkeys(m.group("key") for m in _TOP_KEY.finditer(text)):
        if key in known:
            continue
        close = difflib.get_close_matches(key, known, n=1, cutoff=sky_commands.SUGGESTION_CUTOFF)
        if close:
            hints.append(f"{key!r} (did you mean {close[0]!r}?)")
    return hints


def _caption(node: nodes.Element) -> str:
    parent = node.parent
    if isinstance(parent, nodes.container) and parent.get("literal_block"):
        for child in parent.children:
            if isinstance(child, nodes.caption):
                return child.astext()
    return ""


_CAPTION_FILE = re.compile(r"^(?P<file>[^\s()]+\.ya?ml)(?=$|[\s(:,;])", re.IGNORECASE)


def caption_kind(caption: str) -> str | None:
    """The kind a caption names by the guide's convention (``docs/maintaining.rst``):
    a caption that starts with ``~/.sky/config.yaml`` (or a project's ``.sky.yaml``) is a
    config; one that names a "volume spec" (or ``sky volumes apply``) is a volume; any
    other caption that starts with a YAML file name (``train.yaml``, ``task.yml (the
    SkyPilot side)``) is a task. ``None``: the caption names no kind."""
    text = caption.strip()
    lowered = text.lower()
    if text.startswith("~/.sky/config.yaml") or re.match(r"^(?:\S*/)?\.sky\.ya?ml\b", text):
        return "config"
    if "volume spec" in lowered or "sky volumes apply" in lowered:
        return "volume"
    if _CAPTION_FILE.match(text):
        return "task"
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
    #: file -> what its findings' messages add to say which page shows it (for files a
    #: ``literalinclude`` shows: " (shown by guide/page.rst:12)")
    origin: dict[str, str] = field(default_factory=dict)

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
        message = one_line(message) + self.origin.get(file, "")
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
                close = difflib.get_close_matches(
                    kind, MARKER_KINDS, n=1, cutoff=sky_commands.SUGGESTION_CUTOFF
                )
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
        elif kind := caption_kind(caption):
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
                return
            hints = unknown_top_level_keys(text, settings.version)
            self.add(
                (place.file, *place.at(number)),
                "kind",
                "yaml",
                "cannot tell which kind of SkyPilot YAML this block is (task, config or "
                "volume)"
                + (
                    f"; not SkyPilot's top-level field{'s' if len(hints) > 1 else ''}: "
                    + ", ".join(hints)
                    if hints
                    else ""
                )
                + ". Caption it with its file name (train.yaml, or ~/.sky/config.yaml for "
                "a config) or start it with a comment `# skypilot: task` (or config, "
                "volume; partial for a deliberately incomplete snippet; none for YAML that "
                "is not SkyPilot's)",
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


def _included_file(node: nodes.Element) -> str | None:
    """The file a ``literalinclude`` block shows (its ``source`` attribute; the node's
    own ``source`` is the page), or ``None``."""
    included = node.get("source")
    if isinstance(included, str) and included and included != node.source:
        return included
    return None


def literal_blocks(
    doctree: nodes.document, default_language: str
) -> Iterator[tuple[nodes.literal_block, str]]:
    """Every literal block of a page with the language Sphinx will highlight it in,
    lower-cased, as ``HighlightLanguageTransform`` will decide at write time: the
    block's own ``language`` (``code-block:: yaml``, a MyST fence, ``literalinclude
    :language:``), else the latest ``.. highlight::`` before it, else
    ``highlight_language``. A ``literalinclude`` of a ``.yaml``/``.yml`` file without a
    ``:language:`` is YAML; a ``parsed-literal`` (markup inside) has no language."""
    current = default_language
    for node in doctree.findall(
        lambda n: isinstance(n, addnodes.highlightlang | nodes.literal_block)
    ):
        if isinstance(node, addnodes.highlightlang):
            current = str(node.get("lang") or default_language)
            continue
        assert isinstance(node, nodes.literal_block)
        language = node.get("language")
        if not language:
            included = _included_file(node)
            if included and included.lower().endswith((".yaml", ".yml")):
                language = "yaml"
            elif node.rawsource != node.astext():  # parsed-literal
                language = ""
            else:
                language = current
        yield node, str(language).lower()


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
    for node, language in literal_blocks(doctree, settings.highlight_language):
        text = node.astext()
        file = node.source or source_path
        included = _included_file(node)
        place = _Place(node, file, page.sources, included=included)
        if included and place.file == included:
            shown_by = _relative(file, settings.srcdir) if settings.srcdir else file
            page.origin[included] = f" (shown by literalinclude in {shown_by}:{node.line})"
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

    def full(text: str, anchor: int) -> None:
        page.commands(text, _LazyLocator(text, lines, anchor), file, prompt=False, prose=False)

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
                        page.commands(
                            text, _LazyLocator(text, lines, anchor), file, prompt=None, prose=True
                        )
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


def suppressed(finding: Finding, suppress_warnings: Iterable[str]) -> bool:
    """A failure whose warning ``suppress_warnings`` silences (``"slurm2sky"``,
    ``"slurm2sky.*"`` or ``"slurm2sky.<subtype>"``), as Sphinx's own filter decides."""
    return finding.failed and is_suppressed_warning(
        WARNING_TYPE, finding.tag, list(suppress_warnings)
    )


def warn(
    findings: Iterable[Finding],
    doc_path: Callable[[str], str],
    suppress_warnings: Iterable[str] = (),
) -> int:
    """Log each failed finding as a located warning (suppressed ones are left out, as
    Sphinx would drop them); returns how many were logged."""
    silenced = list(suppress_warnings)
    count = 0
    for finding in findings:
        if finding.failed and not suppressed(finding, silenced):
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


def text_lines(
    findings: Iterable[Finding], srcdir: str, suppress_warnings: Iterable[str] = ()
) -> Iterator[str]:
    """``file:line: [tag] message`` lines (as ``linkcheck``'s output.txt); a failure
    that ``suppress_warnings`` silences is tagged ``[suppressed tag]``."""
    silenced = list(suppress_warnings)
    for finding in findings:
        tag = f"suppressed {finding.tag}" if suppressed(finding, silenced) else finding.tag
        yield f"{_relative(finding.file, srcdir)}:{finding.line}: [{tag}] {finding.message}"


# ---------------------------------------------------------------------------
# Settings that cannot work stop the build


def setting_location(conf_file: str, *names: str) -> str | None:
    """``"conf.py:LINE"`` of the first of ``names`` assigned in ``conf_file`` (at the
    start of a line), or ``None`` (the value is the default, or came from ``-D``)."""
    try:
        lines = Path(conf_file).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    for name in names:
        pattern = re.compile(rf"^{re.escape(name)}\s*(?::[^=]*)?=")
        for number, line in enumerate(lines, start=1):
            if pattern.match(line):
                return f"{conf_file}:{number}"
    return None


def stop_on_setting(name: str, message: str, conf_file: str = "", *related: str) -> NoReturn:
    """Log one error about the extension setting ``name`` and stop the build with exit
    status 1 (:class:`SystemExit`, as ``slurm2sky.sphinx`` does for a bad mappings file:
    a wrong setting is a mistake in conf.py, not a crash, so Sphinx's crash report with
    a traceback is not wanted). The error is located at the line of conf.py that sets
    one of ``related`` or ``name`` (the Python of the engine first); a value given with
    ``-D`` has no line, and the message says so."""
    location = setting_location(conf_file, *related, name) if conf_file else None
    where = "" if location else " [not set in conf.py: given with -D, or the default]"
    logger.error(
        f"{name} = {message}{where}", location=location, type=WARNING_TYPE, subtype="config"
    )
    logger.error(
        f"slurm2sky: the build stops here: fix {name} in conf.py (or the -D {name}=... "
        "given to sphinx-build)",
        type=WARNING_TYPE,
        subtype="config",
    )
    raise SystemExit(1)


def _engine_problem(settings: Settings, error: Any) -> tuple[str, str]:
    """(setting, message) for a ``skypilot`` engine that cannot run."""
    from slurm2sky import SKYPILOT_VERSION

    return (
        "slurm2sky_engine",
        f"{settings.engine!r}: the engine cannot run: {error.reason}. Set "
        "slurm2sky_skypilot_python in conf.py (or the environment variable "
        "SLURM2SKY_SKYPILOT_PYTHON) to a Python "
        f"that has skypilot=={SKYPILOT_VERSION} installed, or use slurm2sky_engine = "
        "'embedded' (the default, which needs no SkyPilot)",
    )


# ---------------------------------------------------------------------------
# Event handlers (registered by slurm2sky.sphinx.setup)

BUILDER_NAME = "skypilot-check"
#: The attribute on the build environment: docname -> why the page must be read again
#: on the next build: ``"failed"`` (its examples gave warnings) or ``"unchecked"``
#: (read by the ``skypilot-check`` builder, which checks pickled doctrees instead).
ENV_ATTRIBUTE = "slurm2sky_recheck"


def _enabled(app: Sphinx) -> bool:
    """Read-time checks run when ``slurm2sky_check`` is on, except in the
    ``skypilot-check`` builder, which runs them itself."""
    return bool(app.config.slurm2sky_check) and app.builder.name != BUILDER_NAME


def recheck(env: Any) -> dict[str, str]:
    """The pages to read again on the next build (:data:`ENV_ATTRIBUTE`), created empty
    on first use."""
    pages = getattr(env, ENV_ATTRIBUTE, None)
    if pages is None:
        pages = {}
        setattr(env, ENV_ATTRIBUTE, pages)
    return pages


def check_config(app: Sphinx, config: Config) -> None:
    """``config-inited``: the engine name and the target release must be known; a bad
    value is one located error and the build stops (:func:`stop_on_setting`)."""
    from slurm2sky import SKYPILOT_VERSION
    from slurm2sky.validate import ENGINES, available_versions

    conf_file = os.path.join(app.confdir, "conf.py")
    if config.slurm2sky_engine not in ENGINES:
        stop_on_setting(
            "slurm2sky_engine",
            f"{config.slurm2sky_engine!r}: not a validation engine; valid: 'embedded' "
            "(the default: the embedded snapshot of SkyPilot's rules) or 'skypilot' "
            "(SkyPilot itself, in the Python named by slurm2sky_skypilot_python)",
            conf_file,
        )
    version = config.slurm2sky_skypilot_version
    packaged = available_versions()
    if version not in packaged:
        stop_on_setting(
            "slurm2sky_skypilot_version",
            f"{version!r}: slurm2sky {_package_version()} has no snapshot of that SkyPilot "
            f"release; valid: {', '.join(map(repr, packaged)) or 'none'} (leave it unset "
            f"for {SKYPILOT_VERSION!r})",
            conf_file,
        )
    if version != SKYPILOT_VERSION:
        # validate_text has no version: the engines check the package's release
        stop_on_setting(
            "slurm2sky_skypilot_version",
            f"{version!r}: the YAML checks validate against SkyPilot {SKYPILOT_VERSION} "
            f"(slurm2sky.SKYPILOT_VERSION) only; valid: {SKYPILOT_VERSION!r} (or leave it "
            "unset)",
            conf_file,
        )


def _package_version() -> str:
    from slurm2sky import __version__

    return __version__


def on_builder_inited(app: Sphinx) -> None:
    """``builder-inited`` (after the mappings file is loaded): start the ``skypilot``
    engine if it is configured (one that cannot run stops the build before any page is
    read), then check the mappings file."""
    if not (app.config.slurm2sky_check or app.builder.name == BUILDER_NAME):
        return
    settings = Settings.for_app(app)
    if settings.engine == "skypilot":
        from slurm2sky.validate import EngineUnavailable, get_engine

        engine = get_engine("skypilot", python=settings.python)
        try:
            engine.start()  # type: ignore[attr-defined]
        except EngineUnavailable as error:
            stop_on_setting(
                *_engine_problem(settings, error),
                settings.conf_file,
                "slurm2sky_skypilot_python",
            )
    if not _enabled(app):
        return
    mappings = loaded_mappings(app.srcdir, app.config)
    if mappings is None:
        return
    findings = check_mappings(mappings, settings, report_ok=False)
    warn(findings, lambda name: str(app.env.doc2path(name)), app.config.suppress_warnings)


def on_doctree_read(app: Sphinx, doctree: nodes.document) -> None:
    """``doctree-read``: check the page just read and log its failures; a page whose
    examples fail is recorded so the next build reads (and warns about) it again."""
    env = app.env
    docname = env.docname
    if not _enabled(app):
        if app.config.slurm2sky_check and app.builder.name == BUILDER_NAME:
            recheck(env)[docname] = "unchecked"
        return
    findings = check_doctree(
        doctree,
        docname,
        str(env.doc2path(docname)),
        Settings.for_app(app),
        report_ok=False,
    )
    logged = warn(findings, lambda name: str(env.doc2path(name)), app.config.suppress_warnings)
    if logged:
        recheck(env)[docname] = "failed"


def on_env_purge_doc(app: Sphinx, env: Any, docname: str) -> None:
    """``env-purge-doc``: a page read again is checked again; forget its record."""
    recheck(env).pop(docname, None)


def on_env_merge_info(app: Sphinx, env: Any, docnames: Iterable[str], other: Any) -> None:
    """``env-merge-info``: take the records of the pages a parallel reader read."""
    theirs = getattr(other, ENV_ATTRIBUTE, None) or {}
    mine = recheck(env)
    for docname in docnames:
        if docname in theirs:
            mine[docname] = theirs[docname]


def on_env_get_outdated(
    app: Sphinx, env: Any, added: set[str], changed: set[str], removed: set[str]
) -> list[str]:
    """``env-get-outdated``: pages whose examples failed on the last build (or that the
    ``skypilot-check`` builder read unchecked) are read again, so their warnings come
    back on every build until the examples are fixed (read-time warnings are not
    replayed for pages Sphinx does not read)."""
    if not _enabled(app):
        return []
    return sorted(name for name in recheck(env) if name in env.found_docs and name not in removed)


def loaded_mappings(srcdir: str | os.PathLike[str], config: Config) -> Mappings | None:
    """The build's mappings file, or ``None`` when it cannot be used (the loader at
    ``builder-inited`` has reported why; there is nothing to check)."""
    from slurm2sky.errors import SourceError
    from slurm2sky.sphinx.source import active_path, get_mappings

    try:
        return get_mappings(active_path(srcdir, config.slurm2sky_mappings))
    except SourceError:
        return None
