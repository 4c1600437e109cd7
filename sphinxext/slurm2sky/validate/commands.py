"""``sky`` command lines and ``SKYPILOT_*`` variable names, checked against the snapshot.

Two jobs, both pure Python (no Sphinx, no SkyPilot, no click):

- **Finding** ``sky …`` commands in shell text (:func:`find_sky_commands`): a ``bash`` or
  ``console`` code block, or one command line, read by the converter's own reader of
  shell (:func:`slurm2sky._shell.scan` with ``guide``), so that every simple command and
  its words are found with their 1-based line and column: ``$ `` prompts (console text),
  comments, ``\\`` continuations, quoting (``'…'``, ``"…"``, ``$'…'``), the separators
  ``;`` ``&&`` ``||`` ``|`` ``&``, subshells and brace groups,
  ``if``/``for``/``while``/``case`` bodies, ``VAR=x`` assignments and
  ``env``/``nohup``/``time``/``sudo``/``watch``/… in front of a command, redirections
  (dropped from the words), here-documents (their body is not shell), and command
  substitutions ``$(…)``, backquotes and process substitutions ``<(…)``, whose contents
  are read too. ``<word>`` placeholders (the guide's convention for "fill in") are
  words, not redirections.
- **Checking** one command (:func:`check_sky_command`) against the ``sky`` CLI tree of
  the embedded snapshot (``slurm2sky.validate.snapshot()["cli"]``, exported from
  SkyPilot's click commands), the way click 8.1 parses a command line
  (``click/parser.py``, ``OptionParser._process_args_for_options``): the command path
  must exist (aliases such as ``sky volume`` and hidden commands still run); options
  are matched exactly (click does not accept abbreviations), ``--opt=value`` and
  ``-o value``/``-ovalue`` give values, short flags bundle (``-yd``); an option that
  takes a value needs one, a flag takes none; option values and positional arguments
  must convert with their click type (integer, float, integer range, choice: ``sky
  jobs cancel my-job`` fails as click fails, "'my-job' is not a valid integer");
  required arguments must be there and no extra ones. A deprecated command
  (``sky show-gpus``) gives an issue of its own (``code="deprecated"``) naming the
  replacement (``sky gpus list``). Words that contain ``<placeholder>`` or a shell
  expansion (``$x``, ``$(…)``) are accepted as any value or argument.
- **Variables**: :func:`find_skypilot_variables` finds ``SKYPILOT_*`` names in any text;
  :func:`check_skypilot_variable` says whether the name exists in the release: the
  snapshot's ``environment_variables`` (the variables SkyPilot sets for a task, and the
  ones it reads from ``envs``) or its ``setting_variables`` (every other name the
  ``sky`` package reads or sets: ``SKYPILOT_CONFIG``, ``SKYPILOT_DEBUG``, ...), with a
  did-you-mean for a look-alike (:data:`SUGGESTION_CUTOFF`).

*Prose mode* (``prose=True``) is for commands quoted in running text (an inline
literal such as ````sky jobs launch --num-jobs N````): only the command path and the
option names are checked, because prose names a command without all its arguments and
writes ``N`` for a number, and may mention a deprecated spelling on purpose.

Every rule above is SkyPilot 0.14.1's ``sky`` CLI as click 8.1.8 parses it; the snapshot
records both versions (``cli.click_version``).
"""

from __future__ import annotations

import bisect
import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, NamedTuple

from slurm2sky._shell import PLACEHOLDER, heredoc_delimiters, is_assignment, scan, word_text
from slurm2sky.validate import snapshot
from slurm2sky.validate.model import Issue

__all__ = [
    "SUGGESTION_CUTOFF",
    "CommandCheck",
    "SkyCommand",
    "check_commands_in",
    "check_sky_command",
    "check_skypilot_variable",
    "find_sky_commands",
    "find_skypilot_variables",
    "known_variables",
    "setting_variables",
    "snapshot_data",
    "snapshot_version",
]

# ---------------------------------------------------------------------------
# Finding commands in shell text


@dataclass(frozen=True)
class SkyCommand:
    """One ``sky …`` command found in shell text.

    ``line``/``column``: 1-based position of the word ``sky`` in the text given to
    :func:`find_sky_commands`. ``argv``: the command's words after quote removal, ``sky``
    first (expansions such as ``$x`` are kept as written). ``positions``: the 1-based
    (line, column) of each word of ``argv``, so an issue about word ``i`` points at it.
    """

    line: int
    column: int
    argv: tuple[str, ...]
    positions: tuple[tuple[int, int], ...] = field(default=(), compare=False)

    def __str__(self) -> str:
        return " ".join(self.argv)


class _Word(NamedTuple):
    text: str  # after quote removal; expansions kept as written (word_text)
    quoted: bool  # any part was quoted or escaped
    start: int  # index of the word's first character in the text read


#: Reserved words that may stand in front of a command (``then sky status``).
_KEYWORDS = frozenset(
    {"if", "then", "else", "elif", "fi", "do", "done", "while", "until", "!", "{", "}"}
    | {"esac", "coproc", "in"}
)
#: Compound-command heads whose own words are not a command (``for x in a b``).
_NOT_A_COMMAND = frozenset({"for", "select", "case", "function", "[[", "[", "(("})
#: Commands that run the rest of their words as a command, and their options that take
#: a value (so ``sudo -u me sky status`` finds ``sky``).
_PREFIX_COMMANDS: dict[str, frozenset[str]] = {
    "env": frozenset({"-u", "--unset", "-C", "--chdir", "-S", "--split-string"}),
    "nohup": frozenset(),
    "command": frozenset(),
    "builtin": frozenset(),
    "exec": frozenset({"-a"}),
    "time": frozenset(),
    "sudo": frozenset({"-u", "-g", "-h", "-p", "-C", "-D", "-U", "-r", "-t", "-T"}),
    "nice": frozenset({"-n", "--adjustment"}),
    "watch": frozenset({"-n", "--interval", "-q", "--equexit"}),
}


#: A primary prompt of a console transcript, as Pygments' ``BashSessionLexer`` (which
#: highlights ``console`` blocks) recognises one (``_ps1rgx``), followed by a space or
#: the end of the line: ``$ ``, ``# `` (root), ``% ``, ``(venv) $ ``,
#: ``user@host:~/dir$ ``, ``[user@host dir]$ ``, ``sh-5.1$ ``.
_PROMPT = re.compile(
    r"^(?:(?:\[.*?\])|(?:\(\S+\))?(?:| |sh\S*?|\w+\S+[@:]\S+(?:\s+\S+)?"
    r"|\[\S+[@:][^\n]+\].+))\s*[$#%\u276f](?:[ \t]+|$)"
)


def _prompt_end(line: str) -> int:
    """The index after the primary prompt that starts ``line`` (0: none)."""
    match = _PROMPT.match(line)
    return match.end() if match else 0


def _mask_console(text: str) -> str:
    """Console text with everything that is not shell input blanked out.

    Keeps the line structure and every column: prompts (:data:`_PROMPT`: ``$ ``,
    ``(venv) $ ``, ``user@host:~$ ``, the root prompt ``# ``, ...) become spaces, output
    lines become empty. A line continued with ``\\`` keeps the next line (a ``> ``
    secondary prompt on it is blanked); a here-document's body and delimiter are kept,
    for the scanner to skip.
    """
    out: list[str] = []
    continued = False
    heredocs: list[tuple[str, bool]] = []
    for line in text.split("\n"):
        if heredocs:
            delimiter, strip_tabs = heredocs[0]
            if (line.lstrip("\t") if strip_tabs else line).rstrip("\r") == delimiter:
                heredocs.pop(0)
            out.append(line)
            continue
        if continued:
            if line.startswith("> "):
                line = "  " + line[2:]
        elif prompt := _prompt_end(line):
            line = " " * prompt + line[prompt:]
        else:
            out.append("")
            continue
        stripped = line.rstrip()
        continued = (len(stripped) - len(stripped.rstrip("\\"))) % 2 == 1
        heredocs.extend(heredoc_delimiters(line))
        out.append(line)
    return "\n".join(out)


def _has_prompts(text: str) -> bool:
    """Some line starts with a ``$`` prompt (also after ``(venv) `` or ``user@host:~``):
    text of unknown language is a transcript only then (a ``#`` line in a script is a
    comment)."""
    return any(
        (end := _prompt_end(line)) and line[:end].rstrip().endswith("$")
        for line in text.split("\n")
    )


class _Positions:
    """Index in a text -> 1-based (line, column)."""

    def __init__(self, text: str) -> None:
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def __call__(self, index: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.starts, index) - 1
        return line + 1, index - self.starts[line] + 1


def _command_words(words: list[_Word]) -> list[_Word]:
    """The words of the command a simple command runs (keywords, assignments and
    prefix commands such as ``env``/``sudo`` removed); ``[]`` for compound heads."""
    i = 0
    while i < len(words):
        word = words[i]
        if not word.quoted and word.text in _KEYWORDS:
            i += 1
            continue
        if not word.quoted and word.text in _NOT_A_COMMAND:
            return []
        if is_assignment(word.text):
            i += 1
            continue
        if not word.quoted and word.text in _PREFIX_COMMANDS:
            takes_value = _PREFIX_COMMANDS[word.text]
            i += 1
            while i < len(words) and words[i].text.startswith("-") and words[i].text != "-":
                if words[i].text == "--":
                    i += 1
                    break
                i += 2 if words[i].text in takes_value else 1
            continue  # env's NAME=value words are skipped as assignments
        return words[i:]
    return []


def find_sky_commands(shell: str, *, prompt: bool | None = None) -> list[SkyCommand]:
    """Every ``sky …`` command in ``shell``, in order of appearance.

    Args:
        shell: a shell script, a console transcript, or one command line.
        prompt: ``True`` for console text (only lines that start with a prompt, and
            the lines they continue, are commands; everything else is output; see
            :data:`_PROMPT`), ``False`` for a script, ``None`` (default) to decide by
            whether any line starts with a ``$`` prompt.

    Returns:
        :class:`SkyCommand` s with 1-based positions in ``shell``. Never raises for odd
        input: an unclosed quote or substitution runs to the end of the text.
    """
    if prompt is None:
        prompt = _has_prompts(shell)
    text = _mask_console(shell) if prompt else shell
    position = _Positions(text)
    found: list[SkyCommand] = []
    for statement in scan(text, guide=True):
        for segment in statement.segments:
            base = position.starts[segment.first]
            for simple in segment.commands:
                words = [_Word(*word_text(raw), base + start) for raw, start, _ in simple.words]
                command = _command_words(words)
                if command and command[0].text == "sky":
                    positions = tuple(position(word.start) for word in command)
                    argv = tuple(word.text for word in command)
                    found.append(SkyCommand(*positions[0], argv, positions))
    found.sort(key=lambda command: (command.line, command.column))  # nested ones come later
    return found


# ---------------------------------------------------------------------------
# The CLI tree


@dataclass(frozen=True)
class _Option:
    name: str
    opts: tuple[str, ...]  # primary spellings (take a value when takes_value)
    secondary: tuple[str, ...]  # --no-x spellings of boolean flags: never a value
    takes_value: bool
    value_optional: bool
    type: str
    choices: tuple[str, ...]
    case_sensitive: bool
    hidden: bool
    range: _Range | None = None

    @property
    def display(self) -> str:
        return max(self.opts, key=len)


@dataclass(frozen=True)
class _Range:
    """click's ``IntRange``/``FloatRange`` bounds (``None``: unbounded)."""

    min: float | None
    max: float | None
    min_open: bool
    max_open: bool
    clamp: bool

    def describe(self) -> str:
        """click 8.1's ``_describe_range``: ``x>=1``, ``0<=x<10``, ..."""
        low = "<" if self.min_open else "<="
        high = "<" if self.max_open else "<="
        if self.max is None:
            return f"x{'>' if self.min_open else '>='}{_number(self.min)}"
        if self.min is None:
            return f"x{high}{_number(self.max)}"
        return f"{_number(self.min)}{low}x{high}{_number(self.max)}"


def _number(value: float | None) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _range(raw: Mapping[str, Any] | None) -> _Range | None:
    if not raw:
        return None
    return _Range(
        raw.get("min"),
        raw.get("max"),
        bool(raw.get("min_open")),
        bool(raw.get("max_open")),
        bool(raw.get("clamp")),
    )


@dataclass(frozen=True)
class _Argument:
    name: str
    nargs: int  # -1: any number
    required: bool
    type: str = "text"
    choices: tuple[str, ...] = ()
    case_sensitive: bool = True
    range: _Range | None = None


@dataclass(frozen=True)
class _Command:
    path: str
    group: bool
    hidden: bool
    deprecated: bool
    replacement: str | None
    alias_of: str | None
    subcommands: tuple[str, ...]
    arguments: tuple[_Argument, ...]
    long: Mapping[str, tuple[_Option, bool]]  # spelling -> (option, is the secondary)
    short: Mapping[str, _Option]

    @property
    def display(self) -> str:
        return f"`sky {self.path}`" if self.path else "`sky`"


@dataclass(frozen=True)
class _Tree:
    version: str | None
    commands: Mapping[str, _Command]


def _is_short(spelling: str) -> bool:
    """click's ``split_opt``: a one-character prefix and a one-character name."""
    prefix = spelling[:2] if spelling[1:2] == spelling[:1] else spelling[:1]
    return len(prefix) == 1 and len(spelling) - len(prefix) == 1


def _compile(cli: Mapping[str, Any], version: str | None) -> _Tree:
    commands: dict[str, _Command] = {}
    for path, data in cli["commands"].items():
        long: dict[str, tuple[_Option, bool]] = {}
        short: dict[str, _Option] = {}
        for raw in data.get("options", ()):
            option = _Option(
                name=raw["name"],
                opts=tuple(raw.get("opts", ())),
                secondary=tuple(raw.get("secondary_opts", ())),
                takes_value=bool(raw.get("takes_value")),
                value_optional=bool(raw.get("value_optional")),
                type=str(raw.get("type", "text")),
                choices=tuple(raw.get("choices") or ()),
                case_sensitive=bool(raw.get("case_sensitive", True)),
                hidden=bool(raw.get("hidden")),
                range=_range(raw.get("range")),
            )
            for spelling, secondary in [(s, False) for s in option.opts] + [
                (s, True) for s in option.secondary
            ]:
                if _is_short(spelling) and not secondary:
                    short[spelling] = option
                elif _is_short(spelling):
                    short[spelling] = option  # a short secondary flag: never a value
                    long.setdefault(spelling, (option, True))
                else:
                    long[spelling] = (option, secondary)
        deprecation = data.get("deprecation") or {}
        commands[path] = _Command(
            path=path,
            group=bool(data.get("group")),
            hidden=bool(data.get("hidden")),
            deprecated=bool(data.get("deprecated")),
            replacement=deprecation.get("replacement"),
            alias_of=data.get("alias_of"),
            subcommands=tuple(data.get("subcommands") or ()),
            arguments=tuple(
                _Argument(
                    a["name"],
                    int(a.get("nargs", 1)),
                    bool(a.get("required")),
                    str(a.get("type", "text")),
                    tuple(a.get("choices") or ()),
                    bool(a.get("case_sensitive", True)),
                    _range(a.get("range")),
                )
                for a in data.get("arguments", ())
            ),
            long=long,
            short=short,
        )
    return _Tree(version, commands)


@cache
def snapshot_data(version: str | None = None) -> Mapping[str, Any]:
    """:func:`slurm2sky.validate.snapshot` of ``version``, read once per process and
    shared (do not modify it)."""
    return snapshot(version)


@cache
def _tree_for_version(version: str | None) -> _Tree:
    data = snapshot_data(version)
    return _compile(data["cli"], data["skypilot"]["version"])


_given_trees: dict[int, tuple[Mapping[str, Any], _Tree]] = {}


def _tree(cli: Mapping[str, Any] | None, version: str | None) -> _Tree:
    if cli is None:
        return _tree_for_version(version)
    cached = _given_trees.get(id(cli))
    if cached is None or cached[0] is not cli:
        cached = (cli, _compile(cli, version))
        _given_trees[id(cli)] = cached
    return cached[1]


# ---------------------------------------------------------------------------
# Checking one command


@dataclass(frozen=True)
class CommandCheck:
    """A command found in a text and what is wrong with it (``issues`` empty: valid)."""

    command: SkyCommand
    issues: tuple[Issue, ...]

    @property
    def valid(self) -> bool:
        return not self.issues


def _is_free(word: str) -> bool:
    """A word the checker cannot know the value of: a placeholder or an expansion."""
    return "$" in word or "`" in word or PLACEHOLDER.search(word) is not None


#: How alike a word and a suggestion must be (difflib's ratio, compared without a
#: prefix they share such as ``--`` or ``SKYPILOT_``, which would make any two names
#: look alike) for a "did you mean": high enough that unrelated words get none
#: (``epochs``/``ports`` 0.55, ``bogus-myst``/``no-use-spot`` 0.57, ``bogus``/``gpus``
#: 0.67), low enough for typos and short forms (``nodes``/``num-nodes`` 0.71,
#: ``detatch``/``detach-run`` 0.71).
SUGGESTION_CUTOFF = 0.7


def _suggest(word: str, candidates: Sequence[str], *, strip: str = "") -> str | None:
    """The candidate most like ``word``, if it is at least :data:`SUGGESTION_CUTOFF` alike;
    ``strip``: a prefix all candidates share, compared without it (so it does not make
    unrelated names look alike)."""
    if strip and word.startswith(strip):
        by_rest = {c[len(strip) :]: c for c in candidates if c.startswith(strip)}
        close = difflib.get_close_matches(
            word[len(strip) :], list(by_rest), n=1, cutoff=SUGGESTION_CUTOFF
        )
        return by_rest[close[0]] if close else None
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=SUGGESTION_CUTOFF)
    return close[0] if close else None


def _metavar(argument: _Argument) -> str:
    return argument.name.upper() + ("..." if argument.nargs == -1 else "")


def _click_metavar(argument: _Argument) -> str:
    """How click 8.1 names an argument in its errors: ``[JOB_IDS]...``, ``CLUSTER``."""
    name = argument.name.upper()
    if not argument.required:
        name = f"[{name}]"
    return name + ("..." if argument.nargs != 1 else "")


def _bad_value(
    value: str,
    type_name: str,
    choices: Sequence[str],
    case_sensitive: bool,
    bounds: _Range | None,
) -> str | None:
    """What click 8.1's parameter type says about ``value`` (``None``: it converts):
    ``INT``/``FLOAT``/``IntRange``/``FloatRange``/``Choice``; other types take any
    word. The text is click's (``'x' is not a valid integer.``)."""
    number: float | None = None
    if type_name in ("integer", "integer range"):
        if not re.fullmatch(r"\s*[+-]?\d[\d_]*\s*", value):
            return f"{value!r} is not a valid integer."
        number = int(value)
    elif type_name in ("float", "float range"):
        try:
            number = float(value)
        except ValueError:
            return f"{value!r} is not a valid float."
    elif choices:
        fold = (lambda text: text) if case_sensitive else str.casefold
        if fold(value) not in {fold(choice) for choice in choices}:
            listed = ", ".join(repr(choice) for choice in choices)
            return f"{value!r} is not one of {listed}."
        return None
    if number is not None and bounds is not None and not bounds.clamp:
        below = bounds.min is not None and (
            number <= bounds.min if bounds.min_open else number < bounds.min
        )
        above = bounds.max is not None and (
            number >= bounds.max if bounds.max_open else number > bounds.max
        )
        if below or above:
            return f"{_number(number)} is not in the range {bounds.describe()}."
    return None


class _Checker:
    def __init__(
        self,
        argv: Sequence[str],
        tree: _Tree,
        prose: bool,
        positions: Sequence[tuple[int, int]] | None,
    ) -> None:
        self.argv = list(argv)
        self.tree = tree
        self.prose = prose
        self.positions = positions
        self.issues: list[Issue] = []

    def issue(self, index: int, message: str, code: str) -> None:
        index = max(0, min(index, len(self.argv) - 1))
        line, column = (0, 0)
        if self.positions and index < len(self.positions):
            line, column = self.positions[index]
        self.issues.append(Issue(line, column, message, f"argv[{index}]", 0, code))

    def run(self) -> list[Issue]:
        argv = self.argv
        commands = self.tree.commands
        command = commands[""]
        i = 1 if argv and argv[0] == "sky" else 0
        while command.group:
            i, args = self.parse(command, i, interspersed=False)
            if args is None:
                return self.issues
            if not args:
                return self.issues  # `sky jobs`: click shows the group's help
            name_index = args[0]
            name = argv[name_index]
            if _is_free(name):
                return self.issues
            path = f"{command.path} {name}".strip()
            if name not in command.subcommands or path not in commands:
                visible = [
                    sub
                    for sub in command.subcommands
                    if not commands.get(f"{command.path} {sub}".strip(), command).hidden
                ]
                close = _suggest(name, visible)
                hint = (
                    f"; did you mean `sky {f'{command.path} {close}'.strip()}`?"
                    if close
                    else f"; {command.display} has: {', '.join(visible)}"
                )
                self.issue(name_index, f"no such command `sky {path}`{hint}", "unknown-command")
                return self.issues
            command = commands[path]
            i = name_index + 1
        if command.deprecated and not self.prose:
            replacement = f"`sky {command.replacement}`" if command.replacement else None
            version = f" in SkyPilot {self.tree.version}" if self.tree.version else ""
            self.issue(
                i - 1,
                f"{command.display} is deprecated{version}"
                + (f"; use {replacement}" if replacement else ""),
                "deprecated",
            )
        _, args = self.parse(command, i, interspersed=True)
        if args is not None and not self.prose:
            self.check_arguments(command, args)
        return self.issues

    def parse(
        self, command: _Command, i: int, *, interspersed: bool
    ) -> tuple[int, list[int] | None]:
        """Options of ``command`` from ``argv[i:]``; returns (next index, positional
        word indices), or (…, None) after an error that stops click."""
        argv = self.argv
        args: list[int] = []
        while i < len(argv):
            word = argv[i]
            if word == "--":
                args.extend(range(i + 1, len(argv)))
                return len(argv), args
            if word.startswith("-") and len(word) > 1 and not _is_free(word[:2]):
                i = self.option(command, i)
                if i < 0:
                    return -i, None
                continue
            if not interspersed:
                args.extend(range(i, len(argv)))
                return len(argv), args
            args.append(i)
            i += 1
        return i, args

    def option(self, command: _Command, i: int) -> int:
        """Process the option word ``argv[i]``; returns the next index (negative after
        an error that stops click's parsing)."""
        word = self.argv[i]
        name, equals, rest = word.partition("=")
        explicit = rest if equals else None
        if name in command.long:
            option, secondary = command.long[name]
            if explicit is not None:
                if secondary or not option.takes_value:
                    self.issue(
                        i,
                        f"option {name} of {command.display} takes no value "
                        f"(click: Option '{name}' does not take a value.)",
                        "unexpected-value",
                    )
                    return -(i + 1)
                self.check_value(command, option, name, explicit, i)
                return i + 1
            if secondary or not option.takes_value:
                return i + 1
            return self.value_from_next(command, option, name, i)
        if word.startswith("--"):
            self.unknown_option(command, name, i)
            return -(i + 1)
        # a cluster of short options: -yd, -n name, -nname
        prefix = word[0]
        for offset, letter in enumerate(word[1:], start=2):
            spelling = prefix + letter
            option = command.short.get(spelling)
            if option is None:
                self.unknown_option(command, spelling, i)
                return -(i + 1)
            if spelling in option.secondary or not option.takes_value:
                continue
            if offset < len(word):
                self.check_value(command, option, spelling, word[offset:], i)
                return i + 1
            return self.value_from_next(command, option, spelling, i)
        return i + 1

    def value_from_next(self, command: _Command, option: _Option, name: str, i: int) -> int:
        argv = self.argv
        following = argv[i + 1] if i + 1 < len(argv) else None
        if following is None:
            if option.value_optional:
                return i + 1
            if not self.prose:
                self.issue(
                    i,
                    f"option {name} of {command.display} needs a value "
                    f"(click: Option '{name}' requires an argument.)",
                    "missing-value",
                )
            return -(i + 1)
        if option.value_optional and following.startswith("-") and len(following) > 1:
            return i + 1
        self.check_value(command, option, name, following, i + 1)
        return i + 2

    def check_value(
        self, command: _Command, option: _Option, name: str, value: str, index: int
    ) -> None:
        if self.prose or _is_free(value):
            return
        problem = _bad_value(
            value, option.type, option.choices, option.case_sensitive, option.range
        )
        if problem is None:
            return
        if option.choices:
            close = _suggest(value, option.choices)
            self.issue(
                index,
                f"{value!r} is not a valid value for option {name} of {command.display}"
                + (f"; did you mean {close!r}?" if close else "")
                + " (one of: "
                + ", ".join(option.choices)
                + ")",
                "bad-value",
            )
            return
        self.issue(
            index, f"{problem.rstrip('.')} for option {name} of {command.display}", "bad-value"
        )

    def unknown_option(self, command: _Command, name: str, i: int) -> None:
        visible = [
            spelling
            for spelling, (option, _) in command.long.items()
            if not option.hidden and spelling.startswith("--")
        ]
        close = _suggest(name, visible, strip="--") if name.startswith("--") else None
        self.issue(
            i,
            f"no such option {name} for {command.display}"
            + (f"; did you mean {close}?" if close else ""),
            "unknown-option",
        )

    def check_arguments(self, command: _Command, args: list[int]) -> None:
        """click's ``_unpack_args``: fixed arguments from the front (and from the back
        after a ``nargs=-1`` one), the rest to the ``nargs=-1`` argument."""
        specs = command.arguments
        count = len(args)
        variadic = next((k for k, a in enumerate(specs) if a.nargs == -1), None)
        if variadic is None:
            fixed = sum(a.nargs for a in specs)
            if count > fixed:
                extra = [self.argv[k] for k in args[fixed:]]
                takes = " ".join(f"[{_metavar(a)}]" for a in specs)
                self.issue(
                    args[fixed],
                    f"unexpected extra argument{'s' if len(extra) > 1 else ''} "
                    f"{' '.join(extra)!r} for {command.display} "
                    + (f"(it takes {takes})" if specs else "(it takes no arguments)"),
                    "extra-argument",
                )
                return
        missing: _Argument | None = None
        remaining = count
        for spec in specs:
            if spec.nargs == -1:
                continue
            if remaining >= spec.nargs:
                remaining -= spec.nargs
            elif spec.required and missing is None:
                missing = spec
        if missing is None and variadic is not None and remaining == 0 and specs[variadic].required:
            missing = specs[variadic]
        if missing is not None:
            self.issue(
                args[-1] + 1 if args else len(self.argv) - 1,
                f"{command.display} needs the argument {_metavar(missing)} "
                f"(click: Missing argument '{_metavar(missing)}'.)",
                "missing-argument",
            )
            return
        self.check_argument_values(command, args, variadic)

    def check_argument_values(
        self, command: _Command, args: list[int], variadic: int | None
    ) -> None:
        """Each positional word converted by its argument's click type, as click's
        ``_unpack_args`` hands them out (front arguments, then back ones, the rest to the
        ``nargs=-1`` argument); click stops at the first that fails."""
        specs = command.arguments
        pairs: list[tuple[int, _Argument]] = []
        if variadic is None:
            position = 0
            for spec in specs:
                for index in args[position : position + spec.nargs]:
                    pairs.append((index, spec))
                position += spec.nargs
        else:
            front, back = specs[:variadic], specs[variadic + 1 :]
            start = 0
            for spec in front:
                pairs.extend((index, spec) for index in args[start : start + spec.nargs])
                start += spec.nargs
            end = len(args)
            for spec in reversed(back):
                pairs.extend((index, spec) for index in args[max(start, end - spec.nargs) : end])
                end -= spec.nargs
            pairs.extend((index, specs[variadic]) for index in args[start : max(start, end)])
        for index, spec in sorted(pairs):
            value = self.argv[index]
            if _is_free(value):
                continue
            problem = _bad_value(value, spec.type, spec.choices, spec.case_sensitive, spec.range)
            if problem is not None:
                self.issue(
                    index,
                    f"{problem.rstrip('.')} for the argument {_metavar(spec)} of "
                    f"{command.display} (click: Invalid value for '{_click_metavar(spec)}': "
                    f"{problem})",
                    "bad-value",
                )
                return


def check_sky_command(
    argv: Sequence[str],
    *,
    cli: Mapping[str, Any] | None = None,
    version: str | None = None,
    prose: bool = False,
    positions: Sequence[tuple[int, int]] | None = None,
) -> list[Issue]:
    """What click would refuse in the ``sky`` command line ``argv`` (``[]``: valid).

    Args:
        argv: the words of the command line, ``sky`` first (as in
            :attr:`SkyCommand.argv`); a leading ``sky`` may be left out.
        cli: a CLI tree in the snapshot's form (``snapshot()["cli"]``); default: the
            tree of ``version``.
        version: the SkyPilot release whose snapshot to use (default
            ``slurm2sky.SKYPILOT_VERSION``).
        prose: check only the command path and option names (see the module doc).
        positions: (line, column) of each word of ``argv``; the issues carry them.

    Returns:
        :class:`~slurm2sky.validate.Issue` s in argv order, ``path`` ``"argv[i]"`` naming
        the offending word and ``code`` one of ``unknown-command``, ``unknown-option``,
        ``missing-value``, ``unexpected-value``, ``bad-value``, ``missing-argument``,
        ``extra-argument``, ``deprecated``. Parsing stops at the first error click
        stops at, so one command gives at most one issue besides ``deprecated``.

    Raises:
        LookupError: no snapshot for ``version``.
    """
    if not argv:
        return []
    return _Checker(argv, _tree(cli, version), prose, positions).run()


def check_commands_in(
    shell: str,
    *,
    prompt: bool | None = None,
    prose: bool = False,
    cli: Mapping[str, Any] | None = None,
    version: str | None = None,
) -> list[CommandCheck]:
    """:func:`find_sky_commands` then :func:`check_sky_command` on each: every command in
    ``shell`` with its issues, positioned in ``shell``."""
    return [
        CommandCheck(
            command,
            tuple(
                check_sky_command(
                    command.argv,
                    cli=cli,
                    version=version,
                    prose=prose,
                    positions=command.positions,
                )
            ),
        )
        for command in find_sky_commands(shell, prompt=prompt)
    ]


# ---------------------------------------------------------------------------
# SKYPILOT_* variables

#: ``SKYPILOT_`` and at least one more name character; a trailing ``_`` followed by
#: ``*`` or ``<`` is a family (``SKYPILOT_DOCKER_*``).
_VARIABLE = re.compile(r"(?<![A-Za-z0-9_])SKYPILOT_[A-Z0-9][A-Z0-9_]*")


def find_skypilot_variables(text: str) -> list[tuple[int, int, str]]:
    """Every ``SKYPILOT_*`` name in ``text``: (line, column, name), 1-based, in order.

    A name must be written in capitals and stand alone (``MY_SKYPILOT_X`` is not one);
    ``SKYPILOT_*`` (the family) is not a name.
    """
    position = _Positions(text)
    found = []
    for match in _VARIABLE.finditer(text):
        line, column = position(match.start())
        found.append((line, column, match.group()))
    return found


@cache
def known_variables(version: str | None = None) -> Mapping[str, Mapping[str, Any]]:
    """The snapshot's ``environment_variables`` of ``version``: name -> facts (the
    variables of a task)."""
    return snapshot_data(version)["environment_variables"]


@cache
def setting_variables(version: str | None = None) -> Mapping[str, Mapping[str, Any]]:
    """The snapshot's ``setting_variables`` of ``version``: every other ``SKYPILOT_*``
    name the release reads or sets (client and server settings such as
    ``SKYPILOT_CONFIG``, internal names), name -> where it was found."""
    return snapshot_data(version).get("setting_variables", {})


def check_skypilot_variable(
    name: str, *, version: str | None = None, line: int = 0, column: int = 0
) -> Issue | None:
    """``None`` when the name exists in SkyPilot ``version``: a variable it sets for a
    task or reads from a task's envs (``environment_variables``), or any other name its
    ``sky`` package reads or sets, such as the client and server settings
    ``SKYPILOT_CONFIG`` and ``SKYPILOT_DEBUG`` (``setting_variables``). Else an
    :class:`~slurm2sky.validate.Issue` (``code="unknown-variable"``) at ``line``/``column``
    with a did-you-mean (a task variable first, else a setting; names are compared
    without their common ``SKYPILOT_`` prefix, :data:`SUGGESTION_CUTOFF`). A name ending
    in ``_`` (``SKYPILOT_DOCKER_`` of ``SKYPILOT_DOCKER_*``) is a family: valid when some
    variable starts with it."""
    task, settings = known_variables(version), setting_variables(version)
    if name in task or name in settings:
        return None
    if name.endswith("_") and any(k.startswith(name) for k in (*task, *settings)):
        return None
    release = snapshot_version(version)
    close = _suggest(name, sorted(task), strip="SKYPILOT_") or _suggest(
        name, sorted(settings), strip="SKYPILOT_"
    )
    if name.endswith("_"):
        message = f"no variable of SkyPilot {release} starts with {name}"
    else:
        message = (
            f"{name} is not a variable SkyPilot {release} sets for a task or reads from its "
            "envs, nor a setting it reads"
        )
    return Issue(
        line,
        column,
        message + (f"; did you mean {close}?" if close else ""),
        "",
        0,
        "unknown-variable",
    )


@cache
def snapshot_version(version: str | None = None) -> str:
    """The release the snapshot for ``version`` (default: the guide's) came from."""
    return str(snapshot_data(version)["skypilot"]["version"])
