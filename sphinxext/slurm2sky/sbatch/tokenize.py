"""Splitting a ``#SBATCH`` line into words, as sbatch's ``get_argument()`` does.

Rules (Slurm ``src/sbatch/opt.c`` ``get_argument``; the spec's §3):

* words are separated by C whitespace (space, tab, ``\\v``, ``\\f``, ``\\r``);
* ``"`` and ``'`` start a quoted run that ends at the same quote; the quotes are removed,
  whitespace and ``#`` inside are kept; quotes may sit mid-word (``--job-name="a b"``);
* a backslash makes the next character literal and is removed — also inside quotes
  (``'it\\'s'``) — except that outside quotes a backslash followed by whitespace or the
  end of the line ends the word (the C loop tests for whitespace before it copies);
* an unquoted, unescaped ``#`` ends the line, even mid-word (``run#2`` → ``run``);
* a word that comes out empty (``""``, ``''``, a lone backslash) ends sbatch's reading of
  the line: nothing after it on that line is read;
* an unmatched quote is fatal ("Unmatched `"` in [...]"), and so is a word that starts with
  ``:`` ("Unexpected `:`", reserved for het-job separators); both are reported here and
  the word is still returned (the quote runs to the end of the line);
* there is no shell: ``$HOME``, ``$(...)``, ``~`` and globs stay as written.
"""

from __future__ import annotations

import re
from typing import NamedTuple

__all__ = ["C_SPACE", "LineWords", "Word", "common_words", "source_index", "split_words"]

C_SPACE = " \t\n\v\f\r"
_SPACES = re.compile(r"[ \t\n\v\f\r]*")
_PLAIN = re.compile(r"[^ \t\n\v\f\r\"'\\#]+")
_WORD = re.compile(r"[^ \t\n\v\f\r]+")
#: The common shape of a directive line (:func:`common_words`): one or two words without
#: quotes, backslashes or ``#``, then perhaps a comment.
_COMMON = re.compile(
    r"[ \t\v\f\r]*([^ \t\n\v\f\r\"'\\#]+)(?:[ \t\v\f\r]+([^ \t\n\v\f\r\"'\\#]+))?"
    r"[ \t\v\f\r]*(?:#.*)?"
)


class Word(NamedTuple):
    """One word: its ``text`` after quote and escape removal, and where it is in the line:
    ``start``/``end`` are 0-based indexes of its first character and of the character
    after it; ``plain`` is true when the text is the source slice as is (no quote or
    backslash), so text offset ``k`` is at ``start + k``; ``colon`` when it starts with an
    unquoted ``:``."""

    text: str
    start: int
    end: int
    plain: bool
    colon: bool = False


class LineWords(NamedTuple):
    """The words of one line and why reading stopped: ``stop`` is ``None`` (end of line),
    ``"comment"`` (an unquoted ``#``), ``"empty"`` (an empty word at index ``stop_at``:
    sbatch reads nothing further on the line) or ``"unmatched"`` (an unmatched ``quote``
    opened at index ``stop_at``; the last word runs to the end of the line)."""

    words: tuple[Word, ...]
    stop: str | None = None
    stop_at: int = 0
    quote: str = ""


def split_words(line: str, start: int = 0) -> LineWords:
    """Split ``line[start:]`` into words by sbatch's rules (module docstring).

    ``line`` is one line without its newline; indexes in the result are into ``line``.
    """
    stop = line.find("#", start)
    plain = line[start:] if stop < 0 else line[start:stop]
    if '"' not in plain and "'" not in plain and "\\" not in plain:
        # The common case: no quotes or backslashes before the first '#'.
        end = len(line) if stop < 0 else stop
        found = tuple(
            Word(m.group(), m.start(), m.end(), True, m.group()[0] == ":")
            for m in _WORD.finditer(line, start, end)
        )
        if stop < 0:
            return LineWords(found)
        return LineWords(found, "comment", stop)
    words: list[Word] = []
    n = len(line)
    i = start
    while True:
        i = _SPACES.match(line, i).end()  # type: ignore[union-attr]
        if i >= n:
            return LineWords(tuple(words))
        begin = i
        if line[i] == "#":
            return LineWords(tuple(words), "comment", i)
        parts: list[str] = []
        plain = True
        quote = ""
        quote_at = 0
        while i < n:
            if not quote:
                match = _PLAIN.match(line, i)
                if match:
                    parts.append(match.group())
                    i = match.end()
                    if i >= n:
                        break
                char = line[i]
                if char in C_SPACE or char == "#":
                    break
                plain = False
                if char == "\\":
                    i += 1
                    if i >= n or line[i] in C_SPACE:
                        break
                    parts.append(line[i])
                    i += 1
                else:  # a quote
                    quote, quote_at = char, i
                    i += 1
            else:
                j = i
                while j < n and line[j] != quote and line[j] != "\\":
                    j += 1
                parts.append(line[i:j])
                i = j
                if i >= n:
                    break
                if line[i] == "\\":
                    i += 1
                    if i < n:
                        parts.append(line[i])
                        i += 1
                else:
                    quote = ""
                    i += 1
        text = "".join(parts)
        word = Word(text, begin, i, plain, line[begin] == ":")
        if quote:
            words.append(word)
            return LineWords(tuple(words), "unmatched", quote_at, quote)
        if not text:
            return LineWords(tuple(words), "empty", begin)
        words.append(word)


def common_words(line: str, start: int = 0) -> tuple[Word, ...] | None:
    """The words of ``line[start:]`` when it has the common shape of a directive line —
    one or two words without quotes or backslashes, then perhaps a comment (from a ``#``,
    which may end a word: ``run#2``) — else ``None``.

    In that shape sbatch's rules come down to splitting on whitespace up to the first
    ``#``, so the words are those of :func:`split_words`, found at less cost.
    """
    match = _COMMON.fullmatch(line, start)
    if match is None:
        return None
    first, second = match.group(1, 2)
    one = Word(first, match.start(1), match.end(1), True, first[0] == ":")
    if second is None:
        return (one,)
    return one, Word(second, match.start(2), match.end(2), True, second[0] == ":")


def source_index(line: str, word: Word, offset: int) -> int:
    """The index in ``line`` of character ``offset`` of ``word.text`` (``word.end`` past
    the end)."""
    if word.plain:
        return word.start + offset
    count = 0
    i = word.start
    quote = ""
    while i < word.end:
        char = line[i]
        if char == "\\":
            i += 1
        elif quote and char == quote:
            quote = ""
            i += 1
            continue
        elif not quote and char in "\"'":
            quote = char
            i += 1
            continue
        if count == offset:
            return i
        count += 1
        i += 1
    return word.end
