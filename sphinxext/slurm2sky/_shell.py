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

The same reader reads the shell a guide shows (``scan(text, guide=True)``), for the checks
of its ``sky`` commands: there every line is read closely, ``<placeholders>`` are words,
and the commands inside substitutions are read too (see :func:`scan`).

Shapes: a :class:`Segment` is one logical line (physical lines ``first``..``last``,
0-based within the body) with the heredoc lines that follow it; a :class:`Command` is
one simple command of a segment, with ``words`` as ``(text, start, end)`` offsets into
the segment's ``text``; a :class:`Statement` is a run of segments that starts and ends at
depth 0.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import accumulate

__all__ = [
    "PLACEHOLDER",
    "Command",
    "Segment",
    "Statement",
    "heredoc_delimiters",
    "is_assignment",
    "scan",
    "substitutions",
    "unquote",
    "word_text",
]

#: Pieces of a shell word (bash(1) "QUOTING", "EXPANSION"), shared by the token patterns
#: and :func:`word_text`: quotes, backquotes, ``( … )`` with two levels of nesting (the
#: body of a ``$( … )``), ``${…}`` (which may hold quotes and one level of ``${…}``:
#: ``${f#"${dir}/"}``).
_SINGLE = r"'[^']*'"
_DOUBLE = r'"(?:[^"\\]|\\.)*"'
_BACKQUOTED = r"`(?:[^`\\]|\\.)*`"
_PARENS = rf"""\((?:[^()'"]|{_SINGLE}|{_DOUBLE}|\((?:[^()]|\([^()]*\))*\))*\)"""
#: ``( … )`` as a guide's reader needs it: quotes and escapes at every one of six levels
#: (``$((((t1 - t0) % 3600) / 60))``).
_GUIDE_PARENS = rf"""\((?:[^()'"\\]|\\.|{_SINGLE}|{_DOUBLE})*\)"""
for _ in range(5):
    _GUIDE_PARENS = rf"""\((?:[^()'"\\]|\\.|{_SINGLE}|{_DOUBLE}|{_GUIDE_PARENS})*\)"""
_PARAMETER = rf"""\$\{{(?:[^{{}}'"\\]|\\.|{_SINGLE}|{_DOUBLE}|\$\{{[^{{}}]*\}})*\}}"""
_WORD_PART = (
    rf"""[^\s'"\\`$;&|()<>]+|\\.|{_SINGLE}|{_DOUBLE}|{_BACKQUOTED}|\${_PARENS}|{_PARAMETER}|\$"""
)
#: One shell word: plain characters, escapes, quotes, substitutions, expansions.
_WORD = rf"(?:{_WORD_PART})+"
#: A placeholder a reader fills in, as guides write one: ``<job_id>``, ``<tasks-per-node>``.
PLACEHOLDER = re.compile(r"<[A-Za-z_][\w.:-]*>")


def _token_pattern(guide: bool) -> re.Pattern[str]:
    """The token pattern of :func:`_tokens`: :data:`_TOKEN`, or :data:`_GUIDE_TOKEN` for
    shell as a guide shows it (see :func:`scan`, ``guide``). There a ``<placeholder>``, a
    process substitution ``<( … )`` and ``$'…'`` are (parts of) words, ``( … )`` nest
    deeper, a double-quoted string may hold substitutions with quotes of their own
    (``"$(date "+%F")"``), and ``&>`` is a redirection, not ``&`` then ``>``."""
    word, operators, redirection = _WORD, r"[;&|()\n]", ""
    if guide:
        double = rf"""(?:[^"\\$`]|\\.|\${_GUIDE_PARENS}|{_PARAMETER}|{_BACKQUOTED}|\$)*"""
        word = (
            rf"""(?:{PLACEHOLDER.pattern}|[$<>]{_GUIDE_PARENS}|\$'(?:[^'\\]|\\.)*'"""
            rf"""|"{double}"|{_WORD_PART})+"""
        )
        operators = r"&(?!>)|[;|()\n]"
        redirection = rf"(?!{PLACEHOLDER.pattern}|[<>]\()"
    return re.compile(
        rf"""
    (?P<s>(?:[ \t\r\f\v]|\\\n)+)
   |(?P<c>\#[^\n]*)
   |(?P<o>&&|\|\||;;&?|;&|\|&|{operators})
   |(?P<h>\d*<<-?)(?!<)
   |(?P<r>&>>?|\d*(?:<<<|<>|>>|>&|<&|>\||{redirection}[<>]))
   |(?P<w>{word})
   |(?P<x>.)
    """,
        re.X | re.S,
    )


_TOKEN = _token_pattern(False)
_GUIDE_TOKEN = _token_pattern(True)
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
        "read",
        "mapfile",
        "readarray",
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
    | (ENVIRONMENT_COMMANDS - {"[", "[["})
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
    return _unquote(word, False)[0]


def word_text(word: str) -> tuple[str, bool]:
    """``(text, quoted)``: a word of :func:`scan` with ``guide`` as the shell reads it
    before expanding it (bash(1) "QUOTING"): quotes and the backslashes that escape
    removed, a ``\\`` newline (a line continuation) dropped; expansions (``$x``, ``${…}``,
    ``$( … )``, ``$(( … ))``, backquotes; one that does not close, to the end of the word)
    kept as written, and the text of ``$'…'`` as written. ``quoted``: some part of the
    word was quoted or escaped (so ``"if"`` is no keyword)."""
    return _unquote(word, True)


#: What :func:`word_text` keeps as written: an expansion (the pieces of the words of
#: :data:`_GUIDE_TOKEN`), or one that does not close, to the end of the word.
_EXPANSION = re.compile(
    rf"\${_GUIDE_PARENS}|{_PARAMETER}|{_BACKQUOTED}|\$(?:[A-Za-z_][A-Za-z0-9_]*|[0-9@*#?$!-])"
    r"|\$[({].*|`.*",
    re.S,
)
#: The characters :func:`_unquote` stops at (it copies the others).
_UNQUOTE_STOPS = re.compile(r"""[\\'"]""")
_WORD_TEXT_STOPS = re.compile(r"""[\\'"$`]""")
_ANSI_C = re.compile(r"\$'((?:[^'\\]|\\.?)*)'?", re.S)


def _unquote(word: str, guide: bool) -> tuple[str, bool]:
    """:func:`unquote` (``guide`` false: expansions are not special) or
    :func:`word_text` (``guide`` true)."""
    out: list[str] = []
    quoted = double = False
    i, n = 0, len(word)
    stops = _WORD_TEXT_STOPS if guide else _UNQUOTE_STOPS
    while stop := stops.search(word, i):
        j = stop.start()
        out.append(word[i:j])
        c = word[j]
        i = j + 1
        if c == "\\":
            following = word[i : i + 1]
            if guide and following == "\n":
                i += 1
                continue
            if following and (not double or following in '"\\$`'):
                out.append(following)
                quoted = True
                i += 1
                continue
        elif c == '"':
            double = not double
            quoted = True
            continue
        elif c == "'" and not double:
            end = word.find("'", i)
            end = n if end < 0 else end
            out.append(word[i:end])
            quoted = True
            i = end + 1
            continue
        elif guide:  # "$" or "`"
            ansi = not double and word.startswith("$'", j)
            match = (_ANSI_C if ansi else _EXPANSION).match(word, j)
            if match:
                out.append(match.group(1 if ansi else 0))
                i = match.end()
                continue
        out.append(c)
    out.append(word[i:])
    return "".join(out), quoted


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
    #: compound depth before the line
    depth_before: int = 0
    #: the line opens or closes a compound command, or holds keywords
    structural: bool = False
    blank: bool = False
    #: ordinary commands not split into words (see ``_ORDINARY``)
    work: bool = False
    #: the functions the line defines (``name() {``, ``function name``)
    functions: tuple[str, ...] = ()
    #: the delimiters of here-documents the body ends inside (bash ends them at the end
    #: of the input, with a warning), in order
    heredoc_open: tuple[str, ...] = ()

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


def _tokens(
    text: str, pattern: re.Pattern[str] = _TOKEN, to_end: bool = False
) -> tuple[list[tuple[str, str, int, int]], int]:
    """``(tokens, open)``: tokens as ``(kind, text, start, end)`` with kind ``w`` word,
    ``o`` operator, ``r`` redirection, ``h`` heredoc operator (comments and blanks
    dropped); an array literal ``name=(a b)`` is one word. ``open`` says whether the line
    continues on the next one: ``0`` no; ``-1`` an open quote, a trailing ``\\``, ``|``,
    ``&&`` or ``||``; else 1 + the offset of the ``(`` of an open ``$(`` or array.
    ``pattern``: :data:`_TOKEN`, or :data:`_GUIDE_TOKEN`. ``to_end``: there is no next
    line, so an open quote, ``$(`` or array runs to the end of ``text``, in the word that
    holds it (``open`` is then ``0``)."""
    tokens: list[tuple[str, str, int, int]] = []
    is_open = 0
    array_start = -1  # index in tokens of an array assignment being read
    array_depth = 0
    array_paren = 0
    start = 0
    matches = pattern.finditer(text)
    while matches is not None:
        found, matches = matches, None
        for match in found:
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
                        tokens[array_start] = (
                            "w",
                            text[first[2] : match.end()],
                            first[2],
                            match.end(),
                        )
                        array_start = -1
                        continue
                elif kind == "x":
                    is_open = -1
                    break
                tokens.append(("w", value, start, match.end()))
                continue
            if kind == "x":
                if value in "'\"`\\":
                    end = _deeper_word(tokens, text, start) if value != "\\" else -1
                    if end > 0:
                        matches = pattern.finditer(text, end)
                        break
                    is_open = -1
                    break
                kind = "w"
            elif kind == "o" and value == "(" and tokens:
                previous = tokens[-1]
                if previous[0] == "w" and previous[3] == start:
                    if previous[1].endswith("$"):
                        end = _deeper_word(tokens, text, start)
                        if end > 0:
                            matches = pattern.finditer(text, end)
                            break
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
    if to_end and is_open:
        if array_start < 0 and start == len(text) - 1 and text[start] == "\\":
            return tokens, 0  # a backslash at the very end continues the line with nothing
        # the open array, or the open quote or "$(" with the word it continues
        first = array_start
        if first < 0:
            touching = tokens and tokens[-1][0] == "w" and tokens[-1][3] == start
            first = len(tokens) - 1 if touching else len(tokens)
        begin = tokens[first][2] if first < len(tokens) else start
        del tokens[first:]
        tokens.append(("w", text[begin:], begin, len(text)))
        return tokens, 0
    if not is_open and (
        (text.endswith("\\") and not text.endswith("\\\\"))
        or (tokens and tokens[-1][0] == "o" and tokens[-1][1] in ("|", "&&", "||"))
    ):
        is_open = -1
    return tokens, is_open


def _deeper_word(tokens: list[tuple[str, str, int, int]], text: str, start: int) -> int:
    """At ``start``, a quote or ``$(`` the token pattern does not close (they nest deeper
    than it reads): the word that holds it, read to its end (with the word token it
    continues), added to ``tokens``; the end, or ``-1`` when the word does not end in
    ``text``."""
    previous = tokens[-1] if tokens else None
    touching = previous is not None and previous[0] == "w" and previous[3] == start
    begin = previous[2] if previous is not None and touching else start
    end = _word_end(text, begin)
    if end <= start:
        return -1
    if touching:
        tokens.pop()
    tokens.append(("w", text[begin:end], begin, end))
    return end


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
    body: str,
    special: frozenset[str] = SPECIAL_WORDS,
    assignments: bool = False,
    *,
    guide: bool = False,
) -> list[Statement]:
    """The statements of ``body`` (a script body, ``\\n`` line ends), in order.

    Lines whose first word is not in ``special`` (and, unless ``assignments``, is not an
    assignment) and that hold nothing else of interest are not read word by word: they
    form segments marked ``work``. Every physical line belongs to exactly one segment and
    every segment to exactly one statement, so writing the statements' lines back gives
    the body again.

    ``guide``: ``body`` is shell as a guide shows it to people (a code block), not a
    script bash runs. Every line is read word by word (``special`` and ``assignments``
    do not count), with :data:`_GUIDE_TOKEN` (a ``<placeholder>`` is a word, not a
    redirection; see :func:`_token_pattern`); the ``-p`` of ``time -p`` is no command;
    a quote, ``$(`` or array still open at the end of ``body`` runs to its end (bash
    would wait for more input); and the commands inside the words' substitutions
    (:func:`substitutions` with ``guide``) are read too, recursively: they follow a
    segment's own commands, their words' offsets into its ``text``, their ``depth``
    counted inside the substitution. :func:`word_text` gives such a word's text.
    """
    pattern = _GUIDE_TOKEN if guide else _TOKEN
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
                and not guide
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
            )
            if stack or current:
                current.append(segment)
            else:
                statements.append(Statement([segment], blank=not work))
            i = last + 1
            continue
        line = lines[i]
        depth = len(stack)
        if not guide and _PLAIN.match(line):
            words = []
            position = 0
            for word in line.split():
                position = line.find(word, position)
                words.append((word, position, position + len(word)))
                position += len(word)
            segment = Segment(i, i, line, depth_before=depth)
            if words[0][0] in _KEYWORDS or (stack and stack[-1] == "case-pat"):
                _walk(segment, [("w", w, s, e) for w, s, e in words], stack, guide)
            else:
                segment.commands.append(Command(words, depth))
            last = i
            i += 1
        else:
            text = line
            last = i
            tokens, is_open = _tokens(text, pattern)
            rounds = 0
            while is_open and last + 1 < count and (rounds < 64 or guide):
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
                tokens, is_open = _tokens(text, pattern)
            if is_open and guide:
                tokens, is_open = _tokens(text, pattern, True)
            segment = Segment(i, last, text, depth_before=depth)
            delimiters = _walk(segment, tokens, stack, guide)
            if guide:
                segment.commands.extend(_nested(tokens))
            i = last + 1
            if delimiters:
                start = i
                for index, (delimiter, strip_tabs) in enumerate(delimiters):
                    closed = False
                    while i < count:
                        candidate = lines[i].lstrip("\t") if strip_tabs else lines[i]
                        i += 1
                        if candidate == delimiter:
                            closed = True
                            break
                    if not closed:
                        segment.heredoc_open = tuple(d for d, _ in delimiters[index:])
                        break
                if i > start:
                    segment.heredoc = "\n".join(lines[start:i])
                    segment.heredoc_last = i - 1
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
    segment: Segment,
    tokens: list[tuple[str, str, int, int]],
    stack: list[str],
    guide: bool = False,
) -> list[tuple[str, bool]]:
    """Split one logical line's tokens into commands, following compound commands on
    ``stack``. Returns the heredoc delimiters the line opens, in order. ``guide`` (see
    :func:`scan`): the ``-p`` of ``time -p`` is no command word (bash(1) "Pipelines")."""
    heredocs: list[tuple[str, bool]] = []
    words: list[tuple[str, int, int]] = []
    command_position = True
    operand = ""  # "redirect" or "heredoc": the next word is an operand
    strip_tabs = False
    header = ""  # inside a "for x in …" / "case x in" header
    header_parens = 0
    function = False  # after "function": the next word is the name
    close_header = False  # the ")" of "name()" is next
    timed = False  # after "time" (guide): a "-p" is its option

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
                    segment.functions += (words[0][0],)
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
            if timed:
                timed = False
                if value == "-p":
                    continue
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
                timed = value == "time"
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
                segment.functions += (value,)
                continue
        words.append((value, start, end))
        if command_position and not is_assignment(value):
            command_position = False
    finish("")
    return heredocs


def heredoc_delimiters(line: str) -> list[tuple[str, bool]]:
    """The here-documents one line of shell as a guide shows it (see :func:`scan`,
    ``guide``) opens, in order: ``(delimiter, strip_tabs)``, the delimiter unquoted,
    ``strip_tabs`` for ``<<-`` (bash(1) "Here Documents"). The lines after ``line`` up to
    each delimiter line are its body."""
    return _walk(Segment(0, 0, line), _tokens(line, _GUIDE_TOKEN)[0], [], True)


def _nested(tokens: list[tuple[str, str, int, int]]) -> list[Command]:
    """The commands inside the substitutions of the words among ``tokens`` (see
    :func:`scan`, ``guide``), their words' offsets into the text of ``tokens``."""
    commands: list[Command] = []
    for kind, value, start, _ in tokens:
        if kind != "w":
            continue
        for begin, _, inner in substitutions(value, guide=True):
            offset = start + begin + (1 if value[begin] == "`" else 2)
            line_starts = [0, *accumulate(len(line) + 1 for line in inner.split("\n"))]
            for statement in scan(inner, guide=True):
                for segment in statement.segments:
                    shift = offset + line_starts[segment.first]
                    for command in segment.commands:
                        command.words = [(w, a + shift, b + shift) for w, a, b in command.words]
                        commands.append(command)
    return commands


_BACKQUOTES = re.compile(_BACKQUOTED, re.S)
#: The characters :func:`substitutions` stops at (it skips the others).
_STOPS = re.compile(r"""[\\'"$]""")
_GUIDE_STOPS = re.compile(r"""[\\'"$`<>]""")


def substitutions(text: str, *, guide: bool = False) -> list[tuple[int, int, str]]:
    """The outermost command substitutions ``$( … )`` of ``text`` (not ``$(( … ))``, not
    inside single quotes): ``(start, end, inner)`` with ``text[start:end]`` the whole
    ``$( … )``. Parentheses inside quotes do not count.

    ``guide`` (see :func:`scan`): backquotes and, outside quotes, process substitutions
    ``<( … )``/``>( … )`` count too (bash(1) "Command Substitution", "Process
    Substitution"), and one that does not close runs to the end of ``text``."""
    found: list[tuple[int, int, str]] = []
    n = len(text)
    quote = ""
    stops = _GUIDE_STOPS if guide else _STOPS
    stop = stops.search(text)
    while stop:
        i = stop.start()
        c = text[i]
        following = i + 1
        if c == "\\" and quote != "'":  # no escape in single quotes
            following = i + 2
        elif quote == "'":
            if c == "'":
                quote = ""
        elif c == "'" and not quote:
            quote = "'"
        elif c == '"':
            quote = "" if quote == '"' else '"'
        elif (
            text.startswith("$(", i) and not text.startswith("$((", i)
            if c == "$"
            else guide and (c == "`" or (not quote and text.startswith("(", i + 1)))
        ):
            inner = i + 1 if c == "`" else i + 2
            if c == "`":
                match = _BACKQUOTES.match(text, i)
                end = match.end() - 1 if match else -1
            else:
                end = _closing(text, inner)
            if end < 0:
                if guide:
                    found.append((i, n, text[inner:]))
                break
            found.append((i, end + 1, text[inner:end]))
            following = end + 1
        stop = stops.search(text, following)
    return found


def _closing(text: str, i: int) -> int:
    """The index of the ``)`` that closes a ``$(`` whose content starts at ``i``, or
    ``-1`` (see :func:`_nested_end`)."""
    return _nested_end(text, i, [")"])


def _word_end(text: str, i: int) -> int:
    """The end of the shell word that starts at ``i`` (its quotes, substitutions and
    expansions nested to any depth: bash(1) "QUOTING", "EXPANSION"), or ``-1`` when it
    does not end in ``text``."""
    return _nested_end(text, i, [])


def _nested_end(text: str, i: int, stack: list[str]) -> int:
    """Read ``text`` from ``i`` inside the contexts on ``stack`` (``)`` a ``$( … )`` or
    ``( … )``, ``}`` a ``${ … }``, ``"`` double quotes, `````` backquotes): the index of
    the character that closes the first of them; with none, the end of the word (a
    blank or an operator at top level, or the end of ``text``); ``-1`` when the text
    ends inside one."""
    n = len(text)
    closing = bool(stack)
    while i < n:
        c = text[i]
        top = stack[-1] if stack else ""
        if c == "\\":
            i += 2
            continue
        if top == '"' or top == "`":
            if c == top:
                stack.pop()
            elif top == '"' and c == "$" and text.startswith(("$(", "${"), i):
                stack.append(")" if text[i + 1] == "(" else "}")
                i += 1
            elif top == '"' and c == "`":
                stack.append("`")
        elif c == "'":
            end = text.find("'", i + 1)
            if end < 0:
                return -1
            i = end
        elif c == '"' or c == "`":
            stack.append(c)
        elif c == "$" and text.startswith(("$(", "${"), i):
            stack.append(")" if text[i + 1] == "(" else "}")
            i += 1
        elif c == "(" and top == ")":
            stack.append(")")
        elif top and c == top:
            stack.pop()
            if not stack and closing:
                return i
        elif not stack and c in " \t\n;&|()<>":
            return i
        i += 1
    return -1 if stack or closing else n
