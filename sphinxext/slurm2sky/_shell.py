"""A light reader of the shell a batch script's body is written in.

It finds what the converter needs and nothing more: the body's *statements* (the lines
from one top-level command to the end of the compound command it opens: ``if … fi``,
``for … done``, ``{ … }``, a function), the *simple commands* in each statement with
their words and where they are, heredoc bodies (kept verbatim, never read as commands),
and line continuations. It follows bash's grammar for the constructs batch scripts use
(bash(1) "SHELL GRAMMAR", "QUOTING", "Here Documents"); it expands nothing and runs
nothing.

Lines without quotes, substitutions or operators take a fast path (split on blanks);
others are tokenised by one regular expression. A line with an open quote, an open
``$(`` or a trailing ``\\``, ``|``, ``&&`` or ``||`` is joined with the next one first, as
the shell does.

Shapes: a :class:`Segment` is one logical line (physical lines ``first``..``last``,
0-based within the body) with the heredoc lines that follow it; a :class:`Command` is
one simple command of a segment, with ``words`` as ``(text, start, end)`` offsets into
the segment's ``text``; a :class:`Statement` is a run of segments that starts and ends at
depth 0.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["Command", "Segment", "Statement", "is_assignment", "scan", "unquote"]

#: One shell word: plain characters, escapes, quotes, substitutions, expansions (a
#: ``${…}`` may hold quotes and one level of ``${…}``: ``${f#"${dir}/"}``).
_WORD = (
    r"""(?:[^\s'"\\`$;&|()<>]+|\\.|'[^']*'|"(?:[^"\\]|\\.)*"|`(?:[^`\\]|\\.)*`"""
    r"""|\$\((?:[^()'"]|'[^']*'|"(?:[^"\\]|\\.)*"|\((?:[^()]|\([^()]*\))*\))*\)"""
    r"""|\$\{(?:[^{}'"\\]|\\.|'[^']*'|"(?:[^"\\]|\\.)*"|\$\{[^{}]*\})*\}|\$)+"""
)
_TOKEN = re.compile(
    rf"""
    (?P<s>(?:[ \t\r\f\v]|\\\n)+)
   |(?P<c>\#[^\n]*)
   |(?P<o>&&|\|\||;;&?|;&|\|&|[;&|()\n])
   |(?P<h>\d*<<-?)(?!<)
   |(?P<r>&>>?|\d*(?:<<<|<>|>>|>&|<&|>\||[<>]))
   |(?P<w>{_WORD})
   |(?P<x>.)
    """,
    re.X | re.S,
)
#: One word and the blanks after it.
_WORD_AND_BLANKS = re.compile(rf"({_WORD})[ \t\r\f\v]*", re.S)
#: One logical line as far as quotes and backslashes go: it ends at the first newline
#: outside quotes that no backslash escapes.
_LOGICAL = re.compile(
    r"""(?:[^'"\\\n`]+|\\.|'[^']*'|"(?:[^"\\]|\\.)*"|`(?:[^`\\]|\\.)*`|['"`])*""", re.S
)
#: bash(1) reserved words (with ``time``): they open, continue or close compound commands.
RESERVED_WORDS = frozenset(
    {
        "if",
        "then",
        "elif",
        "else",
        "fi",
        "for",
        "while",
        "until",
        "do",
        "done",
        "case",
        "esac",
        "select",
        "function",
        "in",
        "time",
    }
)
#: Words before a command that leave the command what it is (``numactl`` included).
WRAPPER_WORDS = frozenset(
    {"exec", "time", "nohup", "command", "builtin", "env", "stdbuf", "nice", "numactl", "timeout"}
)
#: Slurm's commands other than ``srun`` and ``scontrol``.
SLURM_COMMANDS = frozenset(
    {
        "sbatch",
        "squeue",
        "sacct",
        "sinfo",
        "scancel",
        "salloc",
        "sstat",
        "sattach",
        "sbcast",
        "sreport",
        "sshare",
        "sprio",
        "strigger",
    }
)
#: Commands that change the state later commands run in: the directory, variables,
#: shell options and limits, loaded modules, the active environment.
STATE_COMMANDS = frozenset(
    {
        "export",
        "source",
        ".",
        "cd",
        "pushd",
        "popd",
        "set",
        "shopt",
        "ulimit",
        "umask",
        "unset",
        "module",
        "ml",
        "conda",
        "mamba",
        "micromamba",
        "spack",
        "eval",
        "declare",
        "typeset",
        "readonly",
    }
)
#: Commands that only set up the environment (or wait), run on every node.
ENVIRONMENT_COMMANDS = STATE_COMMANDS | frozenset(
    {
        "trap",
        "alias",
        "unalias",
        "local",
        "wait",
        "sleep",
        "exit",
        "return",
        "true",
        "false",
        ":",
        "hash",
        "mkdir",
        "[",
        "[[",
        "test",
        "let",
        "ray",
        "nvidia-smi",
        "renice",
        "getopts",
        "shift",
    }
)
#: Launchers of MPI and other parallel workloads.
WORKLOAD_LAUNCHERS = frozenset({"mpirun", "mpiexec", "mpiexec.hydra", "orterun", "prun"})
#: Commands (other than Slurm's) that run inside a container image.
CONTAINER_COMMANDS = frozenset({"singularity", "apptainer"})
#: First words that make a line worth reading closely: keywords, and the commands the
#: converter rewrites or classifies (any other simple command is ordinary work).
SPECIAL_WORDS = (
    RESERVED_WORDS
    | WRAPPER_WORDS
    | (ENVIRONMENT_COMMANDS - {".", ":", "[", "[["})
    | SLURM_COMMANDS
    | (WORKLOAD_LAUNCHERS - {"mpiexec.hydra"})
    | CONTAINER_COMMANDS
    | {"srun", "scontrol", "pip", "pip3", "virtualenv", "uv", "poetry"}
)
#: A line with none of these characters is a plain list of words.
_PLAIN = re.compile(r"[^'\"\\`;&|()<>#\n]*\Z")
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\[[^\]]*\])?\+?=")
_OPENERS = frozenset({"if", "while", "until", "for", "select", "case"})
_CLOSERS = {"fi": ("if",), "done": ("while", "until", "for", "select"), "esac": ("case",)}
_PASS = frozenset({"then", "do", "else", "elif", "!", "time"})
_KEYWORDS = _OPENERS | _PASS | frozenset(_CLOSERS) | {"{", "}", "function", "in"}
#: Words before a command that leave the command what it is.
WRAPPERS = frozenset(
    {"exec", "time", "nohup", "command", "builtin", "env", "stdbuf", "nice", "timeout"}
)


def is_assignment(word: str) -> bool:
    """``NAME=value`` (also ``NAME+=value``, ``NAME[i]=value``): bash(1) "PARAMETERS"."""
    return "=" in word and _ASSIGNMENT.match(word) is not None


def unquote(word: str) -> str:
    """A word with its quotes and backslashes removed (no expansion): ``"a b"`` → ``a b``."""
    if "'" not in word and '"' not in word and "\\" not in word:
        return word
    out: list[str] = []
    i, n = 0, len(word)
    while i < n:
        c = word[i]
        if c == "\\" and i + 1 < n:
            out.append(word[i + 1])
            i += 2
        elif c == "'":
            end = word.find("'", i + 1)
            end = n if end < 0 else end
            out.append(word[i + 1 : end])
            i = end + 1
        elif c == '"':
            i += 1
            while i < n and word[i] != '"':
                if word[i] == "\\" and i + 1 < n and word[i + 1] in '"\\$`':
                    i += 1
                out.append(word[i])
                i += 1
            i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


@dataclass(slots=True)
class Command:
    """One simple command: its ``words`` as ``(text, start, end)`` in the segment's text,
    and the ``depth`` of compound commands around it (0 at top level)."""

    words: list[tuple[str, int, int]]
    depth: int
    #: the operator that ends it (``;``, ``&``, ``&&``, ``|``, newline, ``""`` at the end)
    end: str = ""

    @property
    def name(self) -> str:
        """The command word (after ``NAME=value`` assignments), unquoted; ``""`` if none."""
        for text, _, _ in self.words:
            if not is_assignment(text):
                return unquote(text)
        return ""

    def name_index(self) -> int:
        """Index in ``words`` of the command word, or ``len(words)`` if there is none."""
        for index, (text, _, _) in enumerate(self.words):
            if not is_assignment(text):
                return index
        return len(self.words)


@dataclass(slots=True)
class Segment:
    """One logical line (physical lines ``first``..``last`` of the body, 0-based) and the
    heredoc lines after it (``heredoc``, verbatim, newline-joined, ``""`` if none)."""

    first: int
    last: int
    text: str
    heredoc: str = ""
    heredoc_last: int = -1
    commands: list[Command] = field(default_factory=list)
    #: compound depth before and after the line
    depth_before: int = 0
    depth_after: int = 0
    #: the line opens or closes a compound command, or holds keywords
    structural: bool = False
    blank: bool = False
    #: ordinary commands not split into words (see ``_ORDINARY``)
    work: bool = False

    @property
    def end(self) -> int:
        """The last physical line, heredoc included."""
        return max(self.last, self.heredoc_last)


@dataclass
class Statement:
    """Segments from one top-level command to the end of its compound command.

    ``compound`` is true when it holds a compound command (keywords, braces,
    subshells); ``blank`` when it is only blank lines and comments."""

    segments: list[Segment]
    compound: bool = False
    blank: bool = False

    @property
    def first(self) -> int:
        return self.segments[0].first

    @property
    def last(self) -> int:
        return self.segments[-1].end

    def commands(self) -> list[Command]:
        return [command for segment in self.segments for command in segment.commands]


def _tokens(text: str) -> tuple[list[tuple[str, str, int, int]], int]:
    """``(tokens, open)``: tokens as ``(kind, text, start, end)`` with kind ``w`` word,
    ``o`` operator, ``r`` redirection, ``h`` heredoc operator (comments and blanks
    dropped); an array literal ``name=(a b)`` is one word. ``open`` says whether the line
    continues on the next one: ``0`` no; ``-1`` an open quote, a trailing ``\\``, ``|``,
    ``&&`` or ``||``; else 1 + the offset of the ``(`` of an open ``$(`` or array."""
    tokens: list[tuple[str, str, int, int]] = []
    is_open = 0
    array_start = -1  # index in tokens of an array assignment being read
    array_depth = 0
    array_paren = 0
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        if kind == "s" or kind == "c":
            continue
        value = match.group()
        start = match.start()
        if array_start >= 0:
            if kind == "o" and value == "(":
                array_depth += 1
            elif kind == "o" and value == ")":
                array_depth -= 1
                if array_depth == 0:
                    first = tokens[array_start]
                    del tokens[array_start + 1 :]
                    tokens[array_start] = ("w", text[first[2] : match.end()], first[2], match.end())
                    array_start = -1
                    continue
            elif kind == "x":
                is_open = -1
                break
            tokens.append(("w", value, start, match.end()))
            continue
        if kind == "x":
            if value in "'\"`\\":
                is_open = -1
                break
            kind = "w"
        elif kind == "o" and value == "(" and tokens:
            previous = tokens[-1]
            if previous[0] == "w" and previous[3] == start:
                if previous[1].endswith("$"):
                    is_open = start + 1  # "$(" that does not close on this line
                    break
                if previous[1].endswith("=") and is_assignment(previous[1]):
                    array_start = len(tokens) - 1
                    array_depth = 1
                    array_paren = start
                    continue
        tokens.append((kind or "w", value, start, match.end()))
    if array_start >= 0 and not is_open:
        is_open = array_paren + 1
    if not is_open and (
        (text.endswith("\\") and not text.endswith("\\\\"))
        or (tokens and tokens[-1][0] == "o" and tokens[-1][1] in ("|", "&&", "||"))
    ):
        is_open = -1
    return tokens, is_open


#: What keeps a line from being ordinary (see :func:`_ordinary`): operators (but
#: ``2>&1``), here-documents, backquotes, continuations, and what the converter rewrites
#: (``_REWRITTEN``, searched only where ``_REWRITTEN_HINT`` finds a candidate).
_OPERATOR_CHARACTER = re.compile(r"[;|<`\\]")
_BACKGROUND = re.compile(r"&&|(?<!>)&(?!>)")
_REWRITTEN = re.compile(
    r"\b(?:srun|scontrol|hostname|ifconfig|ip)\b|-m[ \t]+(?:venv|pip|virtualenv)\b"
    r"|\$\(\s*(?:module|ml)\b"
)
_REWRITTEN_HINT = re.compile(r"ip|srun|scontrol|hostname|ifconfig|-m|\$\(")
#: A line whose quotes all close.
_QUOTES_CLOSE = re.compile(r"""(?:[^'"]|'[^']*'|"[^"]*")*\Z""")


def _ordinary(stripped: str, special: frozenset[str], assignments: bool) -> bool:
    """A line (blanks stripped) that is one simple command the converter need not read
    word by word: its command word is not ``special`` (nor a brace, nor after an
    assignment unless ``assignments``), and it has no operator, continuation, heredoc,
    backquote, subshell or anything the converter rewrites; its quotes close on it."""
    if _OPERATOR_CHARACTER.search(stripped) or "$$" in stripped or "RANDOM" in stripped:
        return False
    if "&" in stripped and _BACKGROUND.search(stripped):
        return False
    if ("(" in stripped or ")" in stripped) and (
        "$(" not in stripped or stripped.count("(") != stripped.count(")")
    ):
        return False  # parentheses only in closed $( … )
    if _REWRITTEN_HINT.search(stripped) and _REWRITTEN.search(stripped):
        return False
    if ("'" in stripped or '"' in stripped) and _QUOTES_CLOSE.match(stripped) is None:
        return False
    return _ordinary_command(stripped, special, assignments)


def _ordinary_command(text: str, special: frozenset[str], assignments: bool) -> bool:
    """The command word of a simple command (``text``), after its assignments, leaves
    it ordinary (see :func:`_ordinary`); an empty command (after a final ``&``) does too."""
    rest = text.strip()
    while rest:
        words = rest.split(None, 1)
        first = words[0]
        if first[0] in "{}![":
            return False
        if "(" in first or "'" in first or '"' in first or "`" in first:
            # quotes and substitutions may hold blanks: the word as the shell reads it
            match = _WORD_AND_BLANKS.match(rest)
            if match is None:
                return False
            first, rest = match.group(1), rest[match.end() :]
            if rest and match.end(1) == match.end():
                return False  # an operator after the word: name(), an array, a redirection
        else:
            rest = words[1] if len(words) > 1 else ""
        name = unquote(first) if ("'" in first or '"' in first or "\\" in first) else first
        if name in special or ("/" in name and name.rsplit("/", 1)[1] in special):
            return False
        if "=" not in first:
            return True
        if not assignments or not is_assignment(first):
            return False
    return True


def scan(
    body: str, special: frozenset[str] = SPECIAL_WORDS, assignments: bool = False
) -> list[Statement]:
    """The statements of ``body`` (a script body, ``\\n`` line ends), in order.

    Lines whose first word is not in ``special`` (and, unless ``assignments``, is not an
    assignment) and that hold nothing else of interest are not read word by word: they
    form segments marked ``work``. Every physical line belongs to exactly one segment and
    every segment to exactly one statement, so writing the statements' lines back gives
    the body again.
    """
    lines = body.split("\n")
    offsets: list[int] = []
    position = 0
    for line in lines:
        offsets.append(position)
        position += len(line) + 1
    statements: list[Statement] = []
    stack: list[str] = []
    current: list[Segment] = []
    compound = False
    i = 0
    count = len(lines)
    while i < count:
        # a run of blank, comment and ordinary lines: one segment, not read word by word
        last = i - 1
        work = False
        while last + 1 < count:
            stripped = lines[last + 1].strip()
            if not stripped or stripped[0] == "#":
                last += 1
            elif (
                (work or last < i)  # blank lines before a command are a segment of their own
                and not (stack and stack[-1] == "case-pat")
                and _ordinary(stripped, special, assignments)
            ):
                last += 1
                work = True
            else:
                break
        if last >= i:
            segment = Segment(
                i,
                last,
                "\n".join(lines[i : last + 1]) if last > i else lines[i],
                blank=not work,
                work=work,
                depth_before=len(stack),
                depth_after=len(stack),
            )
            if stack or current:
                current.append(segment)
            else:
                statements.append(Statement([segment], blank=not work))
            i = last + 1
            continue
        line = lines[i]
        depth = len(stack)
        if _PLAIN.match(line):
            words = []
            position = 0
            for word in line.split():
                position = line.find(word, position)
                words.append((word, position, position + len(word)))
                position += len(word)
            segment = Segment(i, i, line, depth_before=depth)
            if words[0][0] in _KEYWORDS or (stack and stack[-1] == "case-pat"):
                _walk(segment, [("w", w, s, e) for w, s, e in words], stack)
            else:
                segment.commands.append(Command(words, depth))
            last = i
            i += 1
        else:
            text = line
            last = i
            tokens, is_open = _tokens(text)
            rounds = 0
            while is_open and last + 1 < count and rounds < 64:
                rounds += 1
                if is_open > 0:  # an open $( or array: to its closing parenthesis
                    end = _closing(body, offsets[i] + is_open)
                    end = len(body) if end < 0 else end
                else:  # quotes and escaped newlines, then one more line
                    end = _LOGICAL.match(body, offsets[last]).end()
                    if body.count("\n", offsets[last], end) == 0:
                        end = offsets[last + 1]
                new_last = min(i + body.count("\n", offsets[i], end), count - 1)
                last = max(new_last, last + 1)
                text = "\n".join(lines[i : last + 1])
                tokens, is_open = _tokens(text)
            segment = Segment(i, last, text, depth_before=depth)
            delimiters = _walk(segment, tokens, stack)
            i = last + 1
            if delimiters:
                start = i
                for delimiter, strip_tabs in delimiters:
                    while i < count:
                        candidate = lines[i].lstrip("\t") if strip_tabs else lines[i]
                        i += 1
                        if candidate == delimiter:
                            break
                if i > start:
                    segment.heredoc = "\n".join(lines[start:i])
                    segment.heredoc_last = i - 1
        segment.depth_after = len(stack)
        if segment.structural:
            compound = True
        current.append(segment)
        if not stack:
            statements.append(Statement(current, compound=compound))
            current = []
            compound = False
    if current:
        statements.append(Statement(current, compound=True))
    return statements


def _walk(
    segment: Segment, tokens: list[tuple[str, str, int, int]], stack: list[str]
) -> list[tuple[str, bool]]:
    """Split one logical line's tokens into commands, following compound commands on
    ``stack``. Returns the heredoc delimiters the line opens, in order."""
    heredocs: list[tuple[str, bool]] = []
    words: list[tuple[str, int, int]] = []
    command_position = True
    operand = ""  # "redirect" or "heredoc": the next word is an operand
    strip_tabs = False
    header = ""  # inside a "for x in …" / "case x in" header
    header_parens = 0
    function = False  # after "function": the next word is the name
    close_header = False  # the ")" of "name()" is next

    def finish(end: str) -> None:
        nonlocal words
        if words:
            segment.commands.append(Command(words, len(stack), end))
            words = []

    count = len(tokens)
    for index in range(count):
        kind, value, start, end = tokens[index]
        if header:
            if kind == "o" and value == "(":
                header_parens += 1
            elif kind == "o" and value == ")":
                header_parens -= 1
            elif header == "case" and kind == "w" and value == "in":
                header = ""
                stack.append("case-pat")
                command_position = True
            elif header_parens <= 0 and kind == "o" and value in (";", "\n"):
                header = ""
                command_position = True
            continue
        if kind == "o":
            following = tokens[index + 1] if index + 1 < count else None
            if value == "(" and following is not None and following[:2] == ("o", ")"):
                if stack and stack[-1] == "fn" and not words:
                    close_header = True  # "function name()"
                    continue
                if len(words) == 1 and not is_assignment(words[0][0]):
                    # name() { … }: the body may start on a later line
                    segment.structural = True
                    words = []
                    stack.append("fn")
                    close_header = True
                    command_position = True
                    continue
            if value == ")" and close_header:
                close_header = False
                continue
            finish(value)
            if value == "(":
                if stack and stack[-1] == "fn":
                    stack[-1] = "("
                elif not (stack and stack[-1] == "case-pat"):
                    stack.append("(")
                    segment.structural = True
            elif value == ")":
                if stack and stack[-1] == "case-pat":
                    stack[-1] = "case-body"
                elif stack and stack[-1] == "(":
                    stack.pop()
                segment.structural = True
            elif value in (";;", ";&", ";;&") and stack and stack[-1] == "case-body":
                stack[-1] = "case-pat"
            command_position = True
            continue
        if kind == "r" or kind == "h":
            operand = "heredoc" if kind == "h" else "redirect"
            strip_tabs = value.endswith("-")
            continue
        if operand:
            if operand == "heredoc":
                heredocs.append((unquote(value), strip_tabs))
            operand = ""
            continue
        if command_position and not words:
            if stack and stack[-1] == "case-pat":
                if value == "esac":
                    stack.pop()
                    if stack and stack[-1] == "case":
                        stack.pop()
                    segment.structural = True
                    command_position = False
                continue
            if value in _OPENERS:
                segment.structural = True
                stack.append(value)
                if value in ("for", "select", "case"):
                    header = value
                    header_parens = 0
                continue
            if value in _PASS:
                segment.structural = True
                continue
            if value in _CLOSERS:
                segment.structural = True
                if value == "esac":
                    while stack and stack[-1] in ("case-pat", "case-body"):
                        stack.pop()
                if stack and stack[-1] in _CLOSERS[value]:
                    stack.pop()
                command_position = False
                continue
            if value == "{":
                segment.structural = True
                if stack and stack[-1] == "fn":
                    stack[-1] = "{"
                else:
                    stack.append("{")
                continue
            if value == "}":
                segment.structural = True
                if stack and stack[-1] == "{":
                    stack.pop()
                command_position = False
                continue
            if value == "function":
                segment.structural = True
                function = True
                continue
            if function:
                function = False
                stack.append("fn")  # "function name": the body follows
                continue
        words.append((value, start, end))
        if command_position and not is_assignment(value):
            command_position = False
    finish("")
    return heredocs


def substitutions(text: str) -> list[tuple[int, int, str]]:
    """The outermost command substitutions ``$( … )`` of ``text`` (not ``$(( … ))``, not
    inside single quotes): ``(start, end, inner)`` with ``text[start:end]`` the whole
    ``$( … )``. Parentheses inside quotes do not count."""
    found: list[tuple[int, int, str]] = []
    i, n = 0, len(text)
    quote = ""
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if quote == "'":
            if c == "'":
                quote = ""
            i += 1
            continue
        if c == "'" and not quote:
            quote = "'"
        elif c == '"':
            quote = "" if quote == '"' else '"'
        elif c == "$" and text.startswith("$(", i) and not text.startswith("$((", i):
            end = _closing(text, i + 2)
            if end < 0:
                break
            found.append((i, end + 1, text[i + 2 : end]))
            i = end + 1
            continue
        i += 1
    return found


def _closing(text: str, i: int) -> int:
    """The index of the ``)`` that closes a ``$(`` whose content starts at ``i``."""
    depth = 1
    quote = ""
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if quote:
            if c == quote:
                quote = ""
        elif c in "'\"":
            quote = c
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1
