"""Reading a batch script exactly as ``sbatch`` does: :func:`parse_script`.

The steps, each from Slurm's own code (``reference/sbatch-spec.md``):

1. whole-script checks (``sbatch.c`` ``_get_script_buffer``): empty, no ``#!`` at byte 0,
   NUL, CRLF, size — reported with sbatch's reason; the script is still read (CRLF as LF);
2. the header scan (``opt.c`` ``_opt_batch_script``): lines split on ``\\n``; a line that
   starts at column 0 with ``#SBATCH`` (or the legacy ``#SLURM``) is a directive line —
   a *prefix* test, so ``#SBATCH--mem=1G`` counts; blank lines and lines whose first
   non-blank character is ``#`` are skipped; any other line ends the header. A directive
   line holding ``hetjob``/``packjob`` (any case, anywhere) starts the next het-job
   component and the word itself is blanked;
3. the words of all directive lines of a component form one argv (``tokenize.py``);
4. ``getopt_long`` over sbatch's option table (``getopt.py``), then the command-line
   options, which are applied after the script's and so win;
5. value grammars (``values.py``) and the combinations sbatch refuses (``slurm_opt.c``).

Nothing is executed and nothing raises on bad input: what sbatch would refuse is a
located :class:`ScriptProblem` in ``problems``; what it would accept but this project
does not translate (``#PBS``/``#BSUB`` lines, het-job components, site options, ignored
``#SBATCH`` lines, the ``#SLURM`` alias) is in ``foreign``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType
from typing import Any, TypeVar

from slurm2sky._gc import collector_paused
from slurm2sky.errors import Problem
from slurm2sky.sbatch import values
from slurm2sky.sbatch.getopt import Event, OptionTable, getopt_long, sbatch_table, srun_table
from slurm2sky.sbatch.tokenize import C_SPACE, Word, common_words, source_index, split_words

__all__ = ["BatchScript", "Directive", "ScriptProblem", "SrunCall", "parse_script", "parse_srun"]

#: ``DEFAULT_BATCH_SCRIPT_LIMIT`` (the controller's default ``max_script_size``), bytes.
DEFAULT_SCRIPT_LIMIT = 4 * 1024 * 1024
#: ``MAX_BATCH_SCRIPT_SIZE`` (sbatch's own limit), bytes.
MAX_SCRIPT_SIZE = 512 * 1024 * 1024

COMMAND_LINE = "<command line>"

_T = TypeVar("_T")


@dataclass(frozen=True)
class Directive:
    """One option as sbatch sees it after ``getopt_long``.

    ``option`` is the canonical long name (``ntasks-per-node`` for ``--tasks=4``), or
    ``None`` for an unknown or ambiguous option, a stray word or ``--``; ``value`` the
    argument after tokenising (``None`` for flags and missing arguments); ``spelled`` the
    directive as written (``--tasks=4``, ``-N2``, ``-J run``; source text with its quotes);
    ``line``/``column`` the 1-based position of the option word — of its letter for a short
    option clustered after another (``t`` of ``-Ot10``) — (line 0 and column = the 1-based
    argument number for command-line options); ``source`` is ``"script"``,
    ``"command-line"`` or ``"slurm-alias"`` (a ``#SLURM`` line); ``component`` the het-job
    component. Extensions: ``value_line``/``value_column`` locate the value (0 if none);
    ``tokens`` the ``(line, column)`` of every word this directive used that no directive
    before it used (a short option clustered after another, ``-Ot10``, shares its word).
    """

    option: str | None
    value: str | None
    spelled: str
    line: int
    column: int
    source: str
    component: int = 0
    value_line: int = 0
    value_column: int = 0
    tokens: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class ScriptProblem(Problem):
    """A :class:`~slurm2sky.errors.Problem` with a stable ``kind`` for programs.

    ``key`` is the option concerned (``--mem``) or ``""``. Kinds in ``problems`` (sbatch
    refuses the script): ``empty``, ``no-shebang``, ``nul``, ``crlf``, ``too-large``,
    ``unmatched-quote``, ``colon``, ``unknown-option``, ``srun-option``, ``ambiguous-option``,
    ``missing-argument``, ``unexpected-argument``, ``stray-word``, ``bad-value``, ``exits``,
    ``conflict``. Kinds in ``foreign`` (accepted by sbatch, not translated here):
    ``site-option``, ``slurm-alias``, ``hetjob``, ``pbs``, ``bsub``, ``ignored-directive``,
    ``line-cut``, ``end-of-options``.
    """

    kind: str = ""


@dataclass(frozen=True)
class BatchScript:
    """A batch script as sbatch reads it.

    ``text`` is the script as given; ``shebang`` the interpreter after ``#!`` (e.g.
    ``/bin/bash -l``), ``None`` unless ``#!`` is at byte 0; ``directives`` every directive
    in the order sbatch applies them (the script's, by component, then the command line's),
    overridden ones included; ``options`` the effective option → winning directive of
    component 0 (the last wins; the command line wins over the script; ``--requeue`` and
    ``--no-requeue`` and similar pairs replace each other); ``body`` the script from the
    first command on (what runs; CRLF turned into LF), which starts at line ``body_line``;
    ``problems`` what makes sbatch refuse the script, ``foreign`` what it accepts but is
    not translated. Extension: ``components`` — ``options`` for each het-job component.
    """

    path: str
    text: str
    shebang: str | None
    directives: tuple[Directive, ...]
    options: Mapping[str, Directive]
    body: str
    body_line: int
    problems: tuple[Problem, ...]
    foreign: tuple[Problem, ...]
    components: tuple[Mapping[str, Directive], ...] = field(default=())

    @property
    def rejected(self) -> bool:
        """True when sbatch would refuse to submit the script."""
        return bool(self.problems)


# ---------------------------------------------------------------------------
# Option semantics beyond getopt

#: Options that set one setting, so the last of them wins (``slurm_opt.c``).
_SAME_SETTING: tuple[frozenset[str], ...] = (
    frozenset({"requeue", "no-requeue"}),
    frozenset({"cluster", "clusters"}),
    frozenset({"container-mount-home", "no-container-mount-home"}),
    frozenset({"container-remap-root", "no-container-remap-root"}),
    frozenset({"container-entrypoint", "no-container-entrypoint"}),
    frozenset({"container-writable", "container-readonly"}),
)
_REPLACES = {name: group - {name} for group in _SAME_SETTING for name in group}
#: Options every use of which counts, so none replaces another (``slurm_opt.c``:
#: ``opt->verbose++``, ``opt->quiet++``, ``opt->mail_type |= parse_mail_type(arg)``).
CUMULATIVE = frozenset({"verbose", "quiet", "mail-type"})


def same_setting(option: str) -> frozenset[str]:
    """The other options that set the setting ``option`` sets (``-M/--clusters`` and
    ``--cluster``; ``--requeue`` and ``--no-requeue``): the last of them wins
    (``slurm_opt.c``); empty for most options."""
    return _REPLACES.get(option, frozenset())


#: Options Slurm removed, with what replaces them and the release (the spec's §12).
_REMOVED = {"workdir": ("-D/--chdir", "19.05"), "share": ("-s/--oversubscribe", "19.05")}

#: Options that make sbatch print something and exit without submitting.
_EXITS = {
    "help": "prints its help and exits",
    "usage": "prints its usage and exits",
    "version": "prints its version and exits",
}


def _check_nodelist(value: str) -> object:
    if "/" in value:  # a file name (sbatch(1) -w)
        return value
    return values.hostlist_count(value)


def _positive(value: str) -> int:
    return values.parse_int(value, positive=True)


_VALIDATORS: dict[str, Callable[[Any], object]] = {
    "time": values.parse_time,
    "time-min": values.parse_time,
    "mem": values.parse_memory,
    "mem-per-cpu": values.parse_memory,
    "mem-per-gpu": values.parse_memory,
    "tmp": values.parse_memory,
    "nodes": values.parse_node_range,
    "ntasks": _positive,
    "cpus-per-task": _positive,
    "ntasks-per-node": _positive,
    "ntasks-per-socket": _positive,
    "ntasks-per-core": _positive,
    "ntasks-per-gpu": _positive,
    "cpus-per-gpu": _positive,
    "mincpus": _positive,
    "threads-per-core": values.parse_resource_range,
    "cores-per-socket": values.parse_resource_range,
    "sockets-per-node": values.parse_resource_range,
    "gres": values.parse_gres,
    "gpus": values.parse_gpus,
    "gpus-per-node": values.parse_gpus,
    "gpus-per-task": values.parse_gpus,
    "gpus-per-socket": values.parse_gpus,
    "array": values.array_ranges,
    "export": values.parse_export,
    "nodelist": _check_nodelist,
    "exclude": _check_nodelist,
    "mail-type": values.parse_mail_type,
    "hint": values.parse_hint,
    "signal": values.parse_signal,
    "open-mode": values.parse_open_mode,
}

_CHECKED = frozenset(_VALIDATORS) | frozenset(_EXITS) | {"exclusive"}

#: sbatch's own words for a bad value (``slurm_opt.c``/``proc_args.c``).
_SBATCH_SAYS = {
    "time": "Invalid --time specification",
    "time-min": "Invalid --time-min specification",
    "mem": "Invalid --mem specification",
    "mem-per-cpu": "Invalid --mem-per-cpu specification",
    "mem-per-gpu": "Invalid --mem-per-gpu specification",
    "tmp": "Invalid --tmp specification",
    "nodes": "invalid node count",
    "array": "Invalid job array specification",
    "exclusive": "invalid exclusive option",
    "signal": "Invalid --signal specification",
    "mail-type": "--mail-type invalid",
    "hint": "unrecognized --hint argument",
    "open-mode": "Invalid --open-mode argument",
    "gres": "Invalid --gres specification",
}


# ---------------------------------------------------------------------------
# Parsing


def _frozen(cls: type[_T], **values: Any) -> _T:
    """``cls(**values)`` for a frozen dataclass given every field, at about half the cost.

    A frozen dataclass's ``__init__`` sets each field through ``object.__setattr__``; this
    fills the new instance's ``__dict__`` in one step instead. The result is the same
    object (fields, equality, hash, repr): :class:`Directive` and :class:`BatchScript`
    have no ``__post_init__``.
    """
    instance = object.__new__(cls)
    instance.__dict__.update(values)
    return instance


@dataclass
class _Argv:
    """The words of one het-job component, with where each came from."""

    words: list[str] = field(default_factory=list)
    where: list[tuple[int, Word, str]] = field(default_factory=list)  # (line, word, source)
    #: each word as written (with its quotes and escapes)
    raw: list[str] = field(default_factory=list)
    #: where each word starts, as in Directive.tokens: (line, column), (0, argument number)
    tokens: list[tuple[int, int]] = field(default_factory=list)


class _Reader:
    def __init__(self, path: str, table: OptionTable) -> None:
        self.path = path
        self.table = table
        self.problems: list[Problem] = []
        self.foreign: list[Problem] = []
        self.lines: dict[int, str] = {}  # directive lines with words not plain, by number
        self.directives: list[Directive] = []
        #: each component's effective options: option -> winning directive, in order of effect
        self.options: list[dict[str, Directive]] = []
        self.has_wrappers = False
        self.warned_alias = False

    # -- reporting -------------------------------------------------------------

    def problem(
        self,
        line: int,
        column: int,
        key: str,
        message: str,
        hint: str,
        kind: str,
        *,
        foreign: bool = False,
    ) -> None:
        file = self.path if line > 0 or column == 0 else COMMAND_LINE
        target = self.foreign if foreign else self.problems
        target.append(ScriptProblem(file, line, column, key, message, hint, kind))

    # -- the directives of one component ----------------------------------------

    def apply(self, argv: _Argv, component: int) -> None:
        """getopt_long over one component's argv: a Directive for each event, and problems."""
        where = argv.where
        effective = self.options[component]
        previous: Event | None = None
        for event in getopt_long(argv.words, self.table):
            kind, index, spelled, spec, value, name, offset, value_index, value_offset, words, _ = (
                event
            )
            line, word, source = where[index]
            if not line:
                column = index + 1
            elif offset > 1:
                column = self._column(argv, index, offset)
            else:
                column = word.start + 1
            if value_index is None:
                value_line = value_column = 0
            else:
                value_line, value_word, _ = where[value_index]
                if value_line and value_word.plain:  # the common case of _column
                    value_column = value_word.start + value_offset + 1
                else:
                    value_column = self._column(argv, value_index, value_offset)
            if (
                name[:2] == "--"
                or kind == "stray"
                or kind == "end"
                or (offset == 1 and (len(argv.words[index]) == 2 or value_index == index))
            ):
                spelled = argv.raw[index]  # as written, quotes included
                if value_index is not None and value_index != index:
                    spelled += " " + argv.raw[value_index]
            if words == (index,):  # most events use one word of their own
                tokens = (argv.tokens[index],)
            else:
                tokens = tuple([argv.tokens[i] for i in words])
            option = spec.canonical if spec is not None else None
            directive = _frozen(
                Directive,
                option=option,
                value=value,
                spelled=spelled,
                line=line,
                column=column,
                source=source,
                component=component,
                value_line=value_line,
                value_column=value_column,
                tokens=tokens,
            )
            self.directives.append(directive)
            if option is not None:  # the last one wins; --requeue replaces --no-requeue, ...
                for other in _REPLACES.get(option, ()):
                    effective.pop(other, None)
                effective.pop(option, None)  # keep insertion order = order of effect
                effective[option] = directive
            if kind != "option":
                self._event_problems(event, directive, argv, previous)
            elif option in _CHECKED:
                self._check_option(directive, name)
            previous = event

    def _column(self, argv: _Argv, index: int, offset: int) -> int:
        """The 1-based column of character ``offset`` of word ``index``."""
        line, word, _ = argv.where[index]
        if not line:
            return index + 1
        if word.plain:
            return word.start + offset + 1
        return source_index(self.lines[line], word, offset) + 1

    def _event_problems(
        self, event: Event, directive: Directive, argv: _Argv, previous: Event | None
    ) -> None:
        """What sbatch makes of an event that is not a known option."""
        line, column, name = directive.line, directive.column, event.name
        kind = event.kind
        if kind == "unknown":
            self._unknown(event, directive)
        elif kind == "ambiguous":
            names = " ".join(f"'--{c.name}'" for c in event.candidates)
            self.problem(
                line,
                column,
                name,
                f"option '{name}' is ambiguous; possibilities: {names}",
                "write the option's full name: "
                + " or ".join(f"--{c.name}" for c in event.candidates),
                "ambiguous-option",
            )
        elif kind == "missing-argument":
            long = f"--{event.spec.name}" if event.spec else name
            self.problem(
                line,
                column,
                long,
                f"option '{name}' requires an argument (nothing follows it)",
                f"{long}=VALUE",
                "missing-argument",
            )
        elif kind == "unexpected-argument":
            assert event.spec is not None
            extra = ""
            if event.spec.name == "get-user-env":
                extra = " (--get-user-env takes no argument since Slurm 25.05)"
            self.problem(
                directive.value_line or line,
                directive.value_column or column,
                f"--{event.spec.name}",
                f"option '--{event.spec.name}' doesn't allow an argument{extra}",
                f"--{event.spec.name} alone",
                "unexpected-argument",
            )
        elif kind == "stray":
            line_no, word, _ = argv.where[event.index]
            if line_no and word.colon:
                return  # reported as an unexpected ':' already
            self.problem(
                line,
                column,
                "",
                f"Invalid directive found in batch script: {argv.words[event.index]}",
                _stray_hint(argv, event.index, previous),
                "stray-word",
            )
        elif kind == "end":
            self.problem(
                line,
                column,
                "--",
                "'--' ends sbatch's option parsing: a word after it is refused as an invalid "
                "directive",
                "remove the '--'",
                "end-of-options",
                foreign=True,
            )

    def _unknown(self, event: Event, directive: Directive) -> None:
        name = event.name
        line, column = directive.line, directive.column
        guess = ""
        if (
            event.value is not None
            and event.value_index is not None
            and event.value_index != event.index
        ):
            guess = f" (the next word, {event.value!r}, is taken as its value here)"
        if name.startswith("--"):
            long = name[2:]
            message = f"unrecognized option '{name}'"
        else:
            long = ""
            message = f"invalid option -- '{name[1:]}'"
        srun = srun_table(self.table.by_name.get("container-image") is not None)
        srun_spec = srun.lookup(long) if long else srun.short_spec.get(name[1:])
        if isinstance(srun_spec, tuple) or srun_spec is None or srun_spec.name in self.table:
            srun_spec = None
        if srun_spec is not None and srun_spec.origin == "srun":
            self.problem(
                line,
                column,
                name,
                f"{message}: --{srun_spec.name} is an srun option, not an sbatch option{guess}",
                f"give it to srun in the script's body (srun --{srun_spec.name} ...)",
                "srun-option",
            )
            return
        close = _close_option(long, self.table) if long else None
        hint = f"did you mean --{close}? " if close else ""
        if long in _REMOVED:
            replacement, release = _REMOVED[long]
            hint = f"{replacement} (--{long} was removed in Slurm {release})"
        elif long.startswith("container") and "container-image" not in self.table.by_name:
            hint += "a pyxis option: parse with pyxis=True for clusters that have pyxis"
        else:
            hint += "an sbatch option; on a cluster whose SPANK plugins add it, sbatch accepts it"
        self.problem(line, column, name, f"{message}{guess}", hint, "unknown-option")
        self.problem(
            line,
            column,
            name,
            f"{name} is not an sbatch option: a site or SPANK plugin option, not translated{guess}",
            "keep it only for the cluster that defines it",
            "site-option",
            foreign=True,
        )

    def _check_option(self, directive: Directive, name: str) -> None:
        """A known option (spelled ``name``) sbatch exits on, or whose value it refuses."""
        option = directive.option
        assert option is not None
        exits = _EXITS.get(option)
        if exits:
            self.problem(
                directive.line,
                directive.column,
                f"--{option}",
                f"{name}: sbatch {exits} without submitting the job",
                "remove it from the script",
                "exits",
            )
        if option == "exclusive":
            check: Callable[[Any], object] | None = values.parse_exclusive
        elif directive.value is None:
            return
        else:
            check = _VALIDATORS.get(option)
        if check is None:
            return
        try:
            check(directive.value)
        except values.ValueProblem as error:
            says = _SBATCH_SAYS.get(option, f"invalid --{option} value")
            self.problem(
                directive.value_line or directive.line,
                directive.value_column or directive.column,
                f"--{option}",
                f'{error} (sbatch: "{says}")',
                error.hint,
                "bad-value",
            )


@lru_cache(maxsize=1024)
def _close_option(name: str, table: OptionTable) -> str | None:
    """The sbatch option an unknown ``--name`` most likely meant (``--cpu_bind`` style
    underscores and typos), or ``None``."""
    dashed = name.replace("_", "-")
    if dashed in table.by_name:
        return dashed
    close = difflib.get_close_matches(dashed, list(table.by_name), n=1)
    return close[0] if close else None


def _stray_hint(argv: _Argv, index: int, previous: Event | None) -> str:
    """What to write instead of the stray word ``index`` of ``argv``."""
    word = argv.words[index]
    line, where, source = argv.where[index]
    if line and where.start == (6 if source == "slurm-alias" else 7):
        magic = "#SLURM" if source == "slurm-alias" else "#SBATCH"
        raw = argv.raw[index]
        return (
            f"the line starts {magic}{raw}, and sbatch reads any line that starts "
            f"{magic} as a directive, {raw} its first word: put a blank after {magic} "
            f"before an option, or write '# {magic[1:]}{raw}' to make the line a comment"
        )
    if word[:1] in ("\u2013", "\u2014", "\u2212"):
        return f"{word!r} starts with a typographic dash: write it with two ASCII hyphens (--)"
    if (
        previous is not None
        and previous.spec is not None
        and previous.value is None
        and previous.spec.argument == 2
    ):
        return (
            f"--{previous.spec.name} takes its argument only after '=': "
            f"--{previous.spec.name}={word}"
        )
    if (
        previous is not None
        and previous.value is not None
        and previous.kind == "option"
        and previous.value_index is not None
        and argv.where[previous.value_index][0] == line
    ):
        name = f"--{previous.spec.name}" if previous.spec is not None else previous.name
        return (
            "a value with spaces must be quoted: "
            f'{name}="{previous.value} {word}"; a note must follow a # sign'
        )
    return "remove it, or make it a comment after a # sign"


_HETJOB = re.compile(r"(?:[pP][aA][cC][kK]|[hH][eE][tT])[jJ][oO][bB]")
_FOREIGN_MAGIC = re.compile(r"#(?:BSUB|PBS)")
#: A header comment line that looks like a directive (matched at the start of the line):
#: an indented ``#SBATCH``, or ``#`` signs, blanks and a word like ``SBATCH`` followed by
#: an option (``# SBATCH --mem=1G``, ``##SBATCH -N 2``, ``#sbatch -N 2``, ``#SBTACH -N 2``);
#: :func:`_lookalike` decides which words count.
_LOOKS_LIKE = re.compile(
    r"(?P<indent>[ \t\v\f\r]+)#(?:SBATCH|SLURM)"
    r"|(?P<hashes>#+)(?P<gap>[ \t]*)(?P<word>[A-Za-z]{4,8})(?P<rest>[ \t]+--?[A-Za-z].*)"
)
#: A directive line in the body: the body starts on a line of its own (a command), so
#: each such line follows a newline.
_IGNORED_AFTER = re.compile(r"\n#(?:SBATCH|SLURM)")
#: What starts a directive line, at column 0 (a prefix test).
_MAGIC = ("#SBATCH", "#SLURM")
#: C whitespace but the newline: what may come before the ``#`` of a comment line.
_BLANKS = " \t\v\f\r"


def parse_script(
    text: str,
    *,
    path: str = "<script>",
    command_line: Sequence[str] = (),
    pyxis: bool = True,
) -> BatchScript:
    """Read a batch script as ``sbatch`` does; never raises on bad input.

    ``text`` is the script as decoded text (decode with plain UTF-8, not ``utf-8-sig``, so
    that a byte-order mark is seen: sbatch refuses it); ``path`` names it in problems
    (``"<stdin>"`` for standard input); ``command_line`` holds sbatch options as on its
    command line (``["--mem=8G", "-N", "2"]``), applied after the script's so they win;
    ``pyxis`` adds the pyxis container options (a SPANK plugin) to sbatch's table.
    Returns a :class:`BatchScript`. Sources: the module docstring.
    """
    with collector_paused():
        return _parse_script(text, path, command_line, pyxis)


def _parse_script(text: str, path: str, command_line: Sequence[str], pyxis: bool) -> BatchScript:
    table = sbatch_table(pyxis)
    reader = _Reader(path, table)
    norm = _whole_script_checks(reader, text)
    reader.has_wrappers = _FOREIGN_MAGIC.search(norm) is not None  # "#PBS" or "#BSUB" anywhere
    if text[:2] == "#!":
        eol = text.find("\n")
        shebang = text[2 : eol if eol >= 0 else len(text)].rstrip("\r").strip(C_SPACE)
    else:
        shebang = None

    # The header scan (``opt.c`` ``_opt_batch_script``), line by line up to the first command.
    components: list[_Argv] = [_Argv()]
    lookalikes: list[tuple[int, str, str]] = []  # comment lines that look like directives
    size = len(norm)
    header_end = -1  # where the first command starts; -1: the script has none
    lineno = 0
    pos = 0
    while pos < size:
        lineno += 1
        eol = norm.find("\n", pos)
        if eol < 0:
            eol = size
        line = norm[pos:eol]
        if line.startswith(_MAGIC):
            _directive_line(reader, components, lineno, line)
        elif line[:1] != "#" and line.lstrip(_BLANKS)[:1] not in ("", "#"):
            header_end = pos
            break
        elif line and (line[0] != "#" or line[1:2].isalpha() or line[1:2] in ("#", " ", "\t")):
            # (only an indented line, or "#" and a letter, a "#" or a blank, can look like
            # a directive)
            match = _LOOKS_LIKE.match(line)
            if match:
                found = _lookalike(match, line)
                if found is not None:
                    lookalikes.append((lineno, *found))
        pos = eol + 1
    if lookalikes:
        _report_lookalikes(reader, lookalikes)

    if header_end >= 0:
        body = norm[header_end:]
        body_line = lineno
        _report_ignored(reader, norm, header_end, body_line)
    else:
        body = ""
        body_line = lineno + 1

    reader.options = [{} for _ in components]
    for number, argv in enumerate(components):
        reader.apply(argv, number)
    if command_line:
        cli = _Argv(
            list(command_line),
            [(0, Word(w, 0, len(w), True), "command-line") for w in command_line],
            list(command_line),
            [(0, number) for number in range(1, len(command_line) + 1)],
        )
        reader.apply(cli, 0)

    if reader.has_wrappers:
        _report_wrappers(reader, norm.split("\n"))

    for effective in reader.options:
        _check_combinations(reader, effective)
    frozen = tuple(map(MappingProxyType, reader.options))
    return _frozen(
        BatchScript,
        path=path,
        text=text,
        shebang=shebang,
        directives=tuple(reader.directives),
        options=frozen[0],
        body=body,
        body_line=body_line,
        problems=tuple(reader.problems),
        foreign=tuple(reader.foreign),
        components=frozen,
    )


def _whole_script_checks(reader: _Reader, text: str) -> str:
    """sbatch.c ``_get_script_buffer``'s checks; returns the text to read (CRLF → LF)."""
    if not text:
        reader.problem(0, 0, "", "Batch script is empty!", "a script that starts with #!", "empty")
    elif not text.strip(C_SPACE):
        reader.problem(
            0,
            0,
            "",
            "Batch script contains only whitespace!",
            "a script that starts with #!",
            "empty",
        )
    elif text[:2] != "#!":
        if text.startswith("\ufeff"):
            why = "it starts with a byte-order mark"
        elif text[0] in C_SPACE:
            why = "it starts with a blank line or whitespace"
        else:
            why = "its first line is not an interpreter line"
        line = next((i + 1 for i, ln in enumerate(text.split("\n", 50)) if ln.startswith("#!")), 0)
        where = f"; #! is on line {line}" if line > 1 else ""
        reader.problem(
            1,
            1,
            "",
            "This does not look like a batch script. The first line must start with #! followed by "
            f"the path to an interpreter ({why}{where})",
            "#!/bin/bash (or another interpreter) as the very first bytes of the file",
            "no-shebang",
        )
    nul = text.find("\x00")
    if nul >= 0:
        reader.problem(
            text.count("\n", 0, nul) + 1,
            1,
            "",
            "The Slurm batch script contains a NULL character '\\0'",
            "a text file without NUL bytes",
            "nul",
        )
    crlf = text.find("\r\n") if "\r" in text else -1  # (a search for one character is quicker)
    if crlf >= 0:
        reader.problem(
            text.count("\n", 0, crlf) + 1,
            1,
            "",
            "Batch script contains DOS line breaks (\\r\\n) instead of expected UNIX line "
            "breaks (\\n)"
            " (read here as if they were \\n)",
            "convert it with dos2unix",
            "crlf",
        )
        text = text.replace("\r\n", "\n")
    if len(text) * 4 > DEFAULT_SCRIPT_LIMIT:
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > MAX_SCRIPT_SIZE:
            reader.problem(
                0,
                0,
                "",
                f"the script is {size} bytes, over sbatch's 512 MiB limit",
                "",
                "too-large",
            )
        elif size > DEFAULT_SCRIPT_LIMIT:
            reader.problem(
                0,
                0,
                "",
                f"the script is {size} bytes, over the controller's default limit of 4 MiB",
                "a smaller script, or a cluster with SchedulerParameters=max_script_size= raised",
                "too-large",
            )
    return text


def _directive_line(reader: _Reader, components: list[_Argv], lineno: int, line: str) -> None:
    """One ``#SBATCH`` (or ``#SLURM``) line of the header: its words join the argv of the
    current het-job component, or of the next one when the line holds ``hetjob``."""
    if line[2] == "B":
        start, source = 7, "script"
    else:
        start, source = 6, "slurm-alias"
        if not reader.warned_alias:
            reader.warned_alias = True
            reader.problem(
                lineno,
                1,
                "#SLURM",
                "Change from #SLURM to #SBATCH in your script and verify the options are "
                "valid in sbatch",
                "#SBATCH (sbatch still reads #SLURM lines, with this warning)",
                "slurm-alias",
                foreign=True,
            )
    # A quick test in lower case first: the case-blind search is slow.
    lower = line.lower()
    if ("hetjob" in lower or "packjob" in lower) and _HETJOB.search(line, start):
        line = _het_separator(reader, components, lineno, line, start)
    argv = components[-1]
    words = common_words(line, start)
    if words is not None:
        result = None
    else:
        result = split_words(line, start)
        words = result.words
        reader.lines[lineno] = line  # to locate characters of words with quotes or escapes
    for word in words:
        if word.colon:
            reader.problem(
                lineno,
                word.start + 1,
                "",
                f"Unexpected `:` in [{line}]",
                "a word of a directive line cannot start with ':' (sbatch reserves it)",
                "colon",
            )
        argv.words.append(word.text)
        argv.where.append((lineno, word, source))
        argv.raw.append(word.text if word.plain else line[word.start : word.end])
        argv.tokens.append((lineno, word.start + 1))
    if result is None:
        return
    if result.stop == "unmatched":
        reader.problem(
            lineno,
            result.stop_at + 1,
            "",
            f"Unmatched `{result.quote}` in [{line}]",
            f"close the quote with another {result.quote}",
            "unmatched-quote",
        )
    elif result.stop == "empty":
        rest = line[result.stop_at :]
        after = split_words(line, _empty_word_end(line, result.stop_at))
        ignored = line[after.words[0].start :].rstrip(C_SPACE) if after.words else ""
        if rest[:1] == "\\":
            if not ignored:
                message = (
                    "a trailing backslash: #SBATCH lines have no continuation (each one "
                    "stands alone), and sbatch drops it"
                )
                hint = (
                    "remove the backslash, and put further options on #SBATCH lines of "
                    "their own (a next line that is not a comment ends the header)"
                )
            else:
                message = (
                    "a backslash before a blank is an empty word, which ends sbatch's "
                    f"reading of this line: {ignored!r} is ignored"
                )
                hint = "remove the backslash"
        else:
            message = (
                f"an empty word ({rest.split()[0] if rest.split() else rest!r}) ends sbatch's "
                "reading of this line" + (f": {ignored!r} is ignored" if ignored else "")
            )
            hint = "remove the empty quotes"
        reader.problem(
            lineno,
            result.stop_at + 1,
            "",
            message,
            hint,
            "line-cut",
            foreign=True,
        )


def _empty_word_end(line: str, start: int) -> int:
    """Where the empty word at ``start`` (``""``, ``''``, a lone backslash) ends."""
    i = start
    while i < len(line):
        char = line[i]
        if char in "\"'":
            close = line.find(char, i + 1)
            i = len(line) if close < 0 else close + 1
        elif char == "\\":
            return i + 1
        else:
            break
    return i


def _het_separator(
    reader: _Reader, components: list[_Argv], lineno: int, line: str, start: int
) -> str:
    """A directive line holding ``hetjob``/``packjob``: the next component starts here.

    sbatch tests the whole line (``strcasestr``), not its first word, and blanks the word
    out before reading the line's words (``opt.c`` ``_opt_batch_script``, ``get_argument``).
    """
    components.append(_Argv())
    word = _HETJOB.search(line, start)
    assert word is not None
    first = line[start:].lstrip(C_SPACE).lower().startswith(("hetjob", "packjob"))
    where = (
        ""
        if first
        else f" (sbatch splits the job at the word {word.group()!r} anywhere on an #SBATCH "
        "line, even inside a value or a comment)"
    )
    reader.problem(
        lineno,
        word.start() + 1,
        word.group(),
        f"heterogeneous job: the directives from here on are component {len(components) - 1}, "
        "a separate allocation SkyPilot has no equivalent for; only component 0 is converted"
        + where,
        "convert each component as a task of its own",
        "hetjob",
        foreign=True,
    )
    return _HETJOB.sub(lambda m: " " * len(m.group()), line)


def _one_edit(word: str, target: str) -> bool:
    """``word`` is ``target`` with one letter changed, added or left out."""
    if abs(len(word) - len(target)) > 1 or word == target:
        return False
    if len(word) == len(target):
        return sum(a != b for a, b in zip(word, target, strict=True)) == 1
    short, long = sorted((word, target), key=len)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def _lookalike(match: re.Match[str], line: str) -> tuple[str, str] | None:
    """``(why sbatch reads the line as a comment, the directive it looks like)`` for a
    header line :data:`_LOOKS_LIKE` matched, or ``None`` for an ordinary comment.

    An option must follow the word, so prose that mentions SBATCH is not taken for a
    directive; a lower-case ``# sbatch --array=...`` (with a blank after the ``#``) is
    taken for a usage line and left alone."""
    if match.group("indent") is not None:
        return "it is indented, and sbatch reads only lines that start with #SBATCH", line.lstrip(
            _BLANKS
        )
    hashes, gap, word, rest = match.group("hashes", "gap", "word", "rest")
    directive = "#SBATCH" + rest.rstrip(C_SPACE)
    written = f"{hashes}{gap}{word}"
    if word == "SBATCH":  # (#SBATCH itself is a directive line, read before this)
        how = "more than one #" if len(hashes) > 1 else "a blank after the #"
        return (
            f"'{written}' has {how}, and sbatch reads only lines that start with #SBATCH: "
            "a comment to sbatch (the usual way to disable a directive)",
            directive,
        )
    upper = word.upper()
    if upper == "SBATCH":
        if gap:
            return None
        return (
            f"'{written}': only #SBATCH in capitals starts a directive, so sbatch reads the "
            "line as a comment",
            directive,
        )
    if sorted(upper) == sorted("SBATCH") or _one_edit(upper, "SBATCH"):
        return (
            f"'{written}' is not #SBATCH (a typo?), so sbatch reads the line as a comment",
            directive,
        )
    return None


def _report_lookalikes(reader: _Reader, lookalikes: list[tuple[int, str, str]]) -> None:
    """Header lines that look like directives but are comments to sbatch, as
    ``(line number, why, the directive it looks like)``."""
    for lineno, why, directive in lookalikes:
        reader.problem(
            lineno,
            1,
            "",
            f"not a directive: {why}",
            f"{directive} at the very start of the line, if it should apply",
            "ignored-directive",
            foreign=True,
        )


def _report_ignored(reader: _Reader, norm: str, offset: int, body_line: int) -> None:
    """``#SBATCH`` lines after the first command (at ``offset``, on line ``body_line``)."""
    line = body_line
    last = offset
    for count, match in enumerate(_IGNORED_AFTER.finditer(norm, offset)):
        start = match.start() + 1  # the line starts after the newline
        line += norm.count("\n", last, start)
        last = start
        if count >= 100:
            reader.problem(
                line,
                1,
                "",
                "more #SBATCH lines after the first command are ignored too",
                "",
                "ignored-directive",
                foreign=True,
            )
            break
        reader.problem(
            line,
            1,
            "",
            f"ignored by sbatch: the header ends at the first command (line {body_line}), and "
            "#SBATCH lines after it are not read",
            "move it above the first command, or remove it",
            "ignored-directive",
            foreign=True,
        )


def _report_wrappers(reader: _Reader, lines: list[str]) -> None:
    """#BSUB, else #PBS, lines within the first 100 non-comment lines (``opt.c``)."""
    if not reader.has_wrappers:
        return
    if "ignore-pbs" in {d.option for d in reader.directives}:
        return
    found: dict[str, list[int]] = {"#BSUB": [], "#PBS": []}
    non_comments = 0
    for index, line in enumerate(lines):
        match = _FOREIGN_MAGIC.match(line)
        if match:
            found[match.group()].append(index + 1)
            continue
        if not line.startswith("#"):
            non_comments += 1
            if non_comments > 100:
                break
    used = "#BSUB" if found["#BSUB"] else "#PBS"
    for magic, numbers in found.items():
        for number in numbers:
            if magic == used:
                message = (
                    f"{magic} directive: sbatch translates a subset of them and applies it "
                    "after the "
                    "#SBATCH directives (so they win); not converted here"
                )
            else:
                message = (
                    f"{magic} directive: ignored by sbatch (it reads #BSUB lines when there "
                    "are any)"
                )
            reader.problem(
                number,
                1,
                magic,
                message,
                "write it as an #SBATCH directive",
                magic[1:].lower(),
                foreign=True,
            )


def _refuse(
    reader: _Reader, options: Mapping[str, Directive], names: Sequence[str], message: str, hint: str
) -> None:
    """A combination sbatch refuses, reported at the option of ``names`` that comes last."""

    def at(directive: Directive) -> str:
        if directive.line == 0:
            return "on the command line"
        return f"line {directive.line}"

    found = [options[n] for n in names if n in options]
    last = max(found, key=lambda d: (d.source == "command-line", d.line, d.column))
    where = ", ".join(f"--{d.option} ({at(d)})" for d in found)
    reader.problem(
        last.line, last.column, f"--{last.option}", f"{message}: {where}", hint, "conflict"
    )


def _check_combinations(reader: _Reader, options: Mapping[str, Directive]) -> None:
    """The combinations sbatch refuses (``slurm_opt.c`` ``_validate_*``)."""
    memory = [n for n in ("mem", "mem-per-cpu", "mem-per-gpu") if n in options]
    if len(memory) > 1:
        _refuse(
            reader,
            options,
            memory,
            "--mem, --mem-per-cpu, and --mem-per-gpu are mutually exclusive",
            "keep one of them (a command-line one does not override the script's: both count)",
        )
    gres = options.get("gres")
    if gres is not None and "gpus-per-node" in options and gres.value:
        try:
            names = {item.name for item in values.parse_gres(gres.value)}
        except values.ValueProblem:
            names = set()
        if "gpu" in names:
            _refuse(
                reader,
                options,
                ("gres", "gpus-per-node"),
                "--gres=gpu and --gpus-per-node are mutually exclusive",
                "keep one of them: --gpus-per-node=N or --gres=gpu:N",
            )
    if "exclusive" in options and "oversubscribe" in options:
        _refuse(
            reader,
            options,
            ("exclusive", "oversubscribe"),
            "--exclusive and --oversubscribe are mutually exclusive",
            "keep one of them",
        )
    task_cpu = "tres-per-task" in options and "cpu" in (options["tres-per-task"].value or "")
    cpu_options = [n for n in ("cpus-per-task", "cpus-per-gpu") if n in options]
    if task_cpu:
        cpu_options.append("tres-per-task")
    if len(cpu_options) > 1:
        _refuse(
            reader,
            options,
            cpu_options,
            "--cpus-per-task, --tres-per-task=cpu:N and --cpus-per-gpu are mutually exclusive",
            "keep one of them",
        )
    if "ntasks-per-gpu" in options:
        clash = [
            n
            for n in ("gpus-per-task", "gpus-per-socket", "ntasks-per-node", "tres-per-task")
            if n in options
        ]
        nodes = options.get("nodes")
        if nodes is not None and nodes.value:
            try:
                low, high = values.parse_node_range(nodes.value)
            except values.ValueProblem:
                low, high = 0, 0
            if high != low:
                clash.append("nodes")
        if clash:
            _refuse(
                reader,
                options,
                ["ntasks-per-gpu", *clash],
                "--ntasks-per-gpu is mutually exclusive with "
                + ", ".join(f"--{n}" + (" (a range)" if n == "nodes" else "") for n in clash),
                "drop --ntasks-per-gpu, or the others",
            )


# ---------------------------------------------------------------------------
# srun lines of the body


@dataclass(frozen=True)
class SrunCall:
    """An ``srun`` command line, split as srun's ``getopt_long`` does.

    ``options`` maps canonical long names to values (``None`` for flags; the last
    occurrence wins); ``directives`` are the options one by one (line 0, column = the
    1-based argument number); ``command`` is the program and its arguments (everything
    from the first non-option word on); ``problems`` names unknown or ambiguous options and
    missing arguments.
    """

    options: Mapping[str, str | None]
    directives: tuple[Directive, ...]
    command: tuple[str, ...]
    problems: tuple[str, ...]


def parse_srun(argv: Sequence[str], *, pyxis: bool = True) -> SrunCall:
    """Split ``srun``'s arguments (without ``srun`` itself) into options and the command.

    ``argv`` is already split into words (by the converter's shell reading). srun's
    optstring starts with ``+``: the first word that is not an option starts the command;
    ``--`` ends the options too. Source: srun(1); ``slurm_opt.c`` (srun's table).
    """
    table = srun_table(pyxis)
    options: dict[str, str | None] = {}
    directives: list[Directive] = []
    problems: list[str] = []
    command: tuple[str, ...] = ()
    start = 0  # getopt restarts here after an unknown option taken as a flag
    while start is not None:
        words, offset, start = argv[start:], start, None
        for event in getopt_long(words, table):
            index = offset + event.index
            if event.kind == "stray":
                command = tuple(argv[index:])
                break
            if event.kind == "end":
                command = tuple(argv[index + 1 :])
                break
            guessed = (
                event.kind in ("unknown", "ambiguous")
                and len(event.words) > 1
                and "=" not in argv[index]
            )
            option = event.spec.canonical if event.spec is not None else None
            directives.append(
                Directive(
                    option,
                    None if guessed else event.value,
                    argv[index] if guessed else event.spelled,
                    0,
                    index + 1,
                    "command-line",
                    value_column=(offset + event.value_index + 1)
                    if event.value_index is not None and not guessed
                    else 0,
                    tokens=((0, index + 1),)
                    if guessed
                    else tuple((0, offset + i + 1) for i in event.words),
                )
            )
            # A word after an option srun does not know is more likely the command than
            # the option's value (srun itself would refuse the line): read on from it.
            flag = (
                "; it is taken as a flag, and the next word starts the command" if guessed else ""
            )
            if event.kind == "option" and option is not None:
                options.pop(option, None)
                options[option] = event.value
            elif event.kind == "ambiguous":
                names = " ".join(f"'--{c.name}'" for c in event.candidates)
                problems.append(f"option '{event.name}' is ambiguous; possibilities: {names}{flag}")
            elif event.kind == "unknown":
                problems.append(f"unrecognized option '{event.name}'{flag}")
            elif event.kind == "missing-argument":
                problems.append(f"option '{event.name}' requires an argument")
            elif event.kind == "unexpected-argument":
                problems.append(f"option '{event.name}' doesn't allow an argument")
            if guessed:
                start = offset + event.words[1]
                break
    return SrunCall(MappingProxyType(options), tuple(directives), command, tuple(problems))


def wrap_script(command: str) -> str:
    """The batch script ``sbatch --wrap=COMMAND`` submits: ``#!/bin/sh``, the comment
    line ``# This script was created by sbatch --wrap.``, a blank line, ``command`` and a
    newline. sbatch reads ``--wrap`` from its command line only and then reads no script
    file (``sbatch --wrap=cmd script.sh`` is refused); the script has no directives, and
    the job name is ``wrap`` unless ``--job-name`` is given (``opt.c``, first pass).

    ``command`` is the option's value as given (``"python train.py"``); returns the script
    text, for :func:`parse_script`. Source: ``sbatch.c`` ``_script_wrap``; sbatch(1),
    ``--wrap``.
    """
    return f"#!/bin/sh\n# This script was created by sbatch --wrap.\n\n{command}\n"
