"""GNU ``getopt_long`` as sbatch and srun call it, over the real option tables.

The tables come from ``options.json`` (Slurm ``src/common/slurm_opt.c`` and pyxis
``args.c``). The engine follows glibc's ``getopt_long`` (``posix/getopt.c``,
``process_long_option``) with the ``+`` (REQUIRE_ORDER) optstring sbatch and srun use:

* short options: flags cluster (``-vvH``), a required argument is the rest of the word
  or the next word (``-N2``, ``-N 2``, ``-Ot10``), an optional argument (``-k``) only the
  rest of the word; ``-n=4`` gives the argument ``=4``;
* long options: exact names win; otherwise a unique prefix (``--tasks`` is
  ``--tasks-per-node``), or several prefixes that all name the same option; else the
  prefix is ambiguous. Required arguments take ``=value`` or the next word (whatever it
  is), optional ones only ``=value``, flags refuse ``=value``;
* ``--`` ends the options; the first word that is not an option stops parsing (sbatch
  then refuses the script: "Invalid directive found in batch script").

Unlike getopt, :func:`getopt_long` does not stop at errors: it reports each one as an
:class:`Event` and goes on, so a caller can account for every word.
"""

from __future__ import annotations

import json
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import NamedTuple

__all__ = ["Event", "OptionSpec", "OptionTable", "getopt_long", "sbatch_table", "srun_table"]


@dataclass(frozen=True)
class OptionSpec:
    """One long option: ``name``, ``argument`` (0 none, 1 required, 2 optional), the
    ``short`` letter or ``None``, the ``id`` getopt returns (two names with one id are one
    option), its ``canonical`` name (the first name with that id: ``ntasks-per-node`` for
    ``tasks-per-node``) and the ``origin`` table (``sbatch``, ``srun`` or ``pyxis``)."""

    name: str
    argument: int
    short: str | None
    id: str
    canonical: str
    origin: str


class OptionTable:
    """A ``getopt_long`` option table: long options in table order plus the optstring."""

    def __init__(self, specs: Sequence[OptionSpec], optstring: str) -> None:
        self.specs: tuple[OptionSpec, ...] = tuple(specs)
        self.by_name: dict[str, OptionSpec] = {s.name: s for s in self.specs}
        self._order = {s.name: i for i, s in enumerate(self.specs)}
        self._sorted = sorted(self.by_name)
        #: short letter -> argument kind (0, 1, 2), from the optstring
        self.short_args: dict[str, int] = {}
        letters = optstring.lstrip("+-:")
        i = 0
        while i < len(letters):
            letter = letters[i]
            colons = 0
            while i + 1 + colons < len(letters) and letters[i + 1 + colons] == ":":
                colons += 1
            self.short_args[letter] = min(colons, 2)
            i += 1 + colons
        by_id = {s.id: s for s in reversed(self.specs)}
        #: short letter -> the long option with that id (every sbatch letter has one)
        self.short_spec: dict[str, OptionSpec] = {
            letter: by_id[letter] for letter in self.short_args if letter in by_id
        }

    def __contains__(self, name: object) -> bool:
        return name in self.by_name

    def lookup(self, name: str) -> OptionSpec | tuple[OptionSpec, ...] | None:
        """The option ``--name`` selects: a spec, the ambiguous candidates, or ``None``.

        An exact name wins; else the names starting with ``name``: one, or several with
        the same argument kind and id, select the first (glibc's rule); others are
        ambiguous (returned in table order, like glibc's "possibilities" list).
        """
        result: OptionSpec | tuple[OptionSpec, ...] | None
        exact = self.by_name.get(name)
        if exact is not None:
            result = exact
        else:
            start = bisect_left(self._sorted, name)
            matches = []
            for candidate in self._sorted[start:]:
                if not candidate.startswith(name):
                    break
                matches.append(self.by_name[candidate])
            matches.sort(key=lambda s: self._order[s.name])
            if not matches:
                result = None
            elif all(m.id == matches[0].id and m.argument == matches[0].argument for m in matches):
                result = matches[0]
            else:
                result = tuple(matches)
        return result


@cache
def _load() -> dict:
    """``options.json``, read once."""
    return json.loads(resources.files(__package__).joinpath("options.json").read_text("utf-8"))


def _specs(rows: Sequence[Sequence], origin: str) -> list[OptionSpec]:
    canonical: dict[str, str] = {}
    specs = []
    for name, argument, code in rows:
        ident = code or f"{origin}:{name}"
        canonical.setdefault(ident, name)
        short = code if isinstance(code, str) and len(code) == 1 else None
        specs.append(OptionSpec(name, argument, short, ident, canonical[ident], origin))
    return specs


@cache
def sbatch_table(pyxis: bool = True) -> OptionTable:
    """sbatch's table (``slurm_opt.c``), with the pyxis SPANK options when ``pyxis``."""
    data = _load()
    specs = _specs(data["sbatch"]["long"], "sbatch")
    if pyxis:
        specs += _specs(data["pyxis"]["long"], "pyxis")
    return OptionTable(specs, data["sbatch"]["short"])


@cache
def srun_table(pyxis: bool = True) -> OptionTable:
    """srun's table (``slurm_opt.c``), with the pyxis SPANK options when ``pyxis``."""
    data = _load()
    specs = _specs(data["srun"]["long"], "srun")
    if pyxis:
        specs += _specs(data["pyxis"]["long"], "pyxis")
    return OptionTable(specs, data["srun"]["short"])


class Event(NamedTuple):
    """What ``getopt_long`` made of one option (or one non-option word).

    ``kind``:

    * ``"option"`` — a known option: ``spec``, ``value`` (``None`` when none was given);
    * ``"unknown"`` — not in the table (``name`` as written, e.g. ``--image`` or ``-z``);
    * ``"ambiguous"`` — a prefix of several options (``candidates``);
    * ``"missing-argument"`` — a required argument is missing at the end of the words;
    * ``"unexpected-argument"`` — ``--flag=value`` for an option that takes none;
    * ``"stray"`` — a word that is not an option (getopt stops here; sbatch refuses it);
    * ``"end"`` — the ``--`` word.

    ``index`` is the word holding the option and ``offset`` where the option starts in it
    (for a short option, its letter: ``-Ot10`` has ``O`` at 1 and ``t`` at 2);
    ``value_index``/``value_offset`` where the value starts (``None``: no value);
    ``words`` the indices of the words this event uses that no earlier event used (a
    short option after the first of its word shares that word); ``spelled`` the option as
    written, value included.
    """

    kind: str
    index: int
    spelled: str
    spec: OptionSpec | None = None
    value: str | None = None
    name: str = ""
    offset: int = 0
    value_index: int | None = None
    value_offset: int = 0
    words: tuple[int, ...] = ()
    candidates: tuple[OptionSpec, ...] = ()


def getopt_long(argv: Sequence[str], table: OptionTable) -> Iterator[Event]:
    """Parse ``argv`` (without ``argv[0]``) as glibc ``getopt_long`` with a ``+`` optstring.

    Yields one :class:`Event` per option and per stray word, in order, and never stops
    early: after a stray word (where getopt would stop) parsing resumes at the next word,
    and after ``--`` the next word is reported as stray. Unknown options and ambiguous
    prefixes take the next word as their value when it is not an option and the option
    may take one (a best guess, which the caller reports as such).
    """
    n = len(argv)
    i = 0
    after_end = False
    while i < n:
        word = argv[i]
        if after_end or len(word) < 2 or word[0] != "-":
            after_end = False
            yield Event("stray", i, word, words=(i,))
            i += 1
            continue
        if word == "--":
            after_end = True
            yield Event("end", i, word, words=(i,))
            i += 1
            continue
        if word[1] == "-":
            event = _long(argv, i, table)
            yield event
            i = event.words[-1] + 1
            continue
        i = yield from _short_cluster(argv, i, table)


def _short_cluster(argv: Sequence[str], i: int, table: OptionTable) -> Iterator[Event]:
    """The options of one ``-abc`` word; returns the index of the next word to parse."""
    word = argv[i]
    has_next = i + 1 < len(argv)
    own: tuple[int, ...] = (i,)
    for pos in range(1, len(word)):
        letter = word[pos]
        name = "-" + letter
        kind = table.short_args.get(letter)
        spec = table.short_spec.get(letter)
        last = pos == len(word) - 1
        if kind is None or spec is None or letter in ":;-":
            # glibc: "invalid option -- 'x'"; the rest of the word is still scanned.
            if last and has_next and not _is_option(argv[i + 1]):
                yield Event(
                    "unknown",
                    i,
                    name + " " + argv[i + 1],
                    value=argv[i + 1],
                    name=name,
                    offset=pos,
                    value_index=i + 1,
                    words=(*own, i + 1),
                )
                return i + 2
            yield Event("unknown", i, name, name=name, offset=pos, words=own)
        elif kind == 0 or (kind == 2 and last):
            yield Event("option", i, name, spec, None, name, pos, None, 0, own)
        elif not last:
            rest = word[pos + 1 :]
            yield Event(
                "option",
                i,
                name + rest,
                spec,
                rest,
                name,
                pos,
                value_index=i,
                value_offset=pos + 1,
                words=own,
            )
            return i + 1
        elif has_next:
            nxt = argv[i + 1]
            yield Event(
                "option", i, name + " " + nxt, spec, nxt, name, pos, i + 1, 0, (*own, i + 1)
            )
            return i + 2
        else:
            yield Event("missing-argument", i, name, spec, name=name, offset=pos, words=own)
        own = ()
    return i + 1


def _is_option(word: str) -> bool:
    return len(word) > 1 and word[0] == "-"


def _long(argv: Sequence[str], i: int, table: OptionTable) -> Event:
    word = argv[i]
    name, equals, value = word[2:].partition("=")
    found = table.by_name.get(name)  # an exact name, as most are
    if found is None:
        found = table.lookup(name)
    dashed = "--" + name
    if found is None or found.__class__ is tuple:
        candidates: tuple[OptionSpec, ...] = found or ()  # type: ignore[assignment]
        kind = "unknown" if found is None else "ambiguous"
        takes = (not candidates) or all(c.argument == 1 for c in candidates)
        has_next = i + 1 < len(argv)
        if not equals and takes and has_next and not _is_option(argv[i + 1]):
            nxt = argv[i + 1]
            return Event(
                kind, i, f"{word} {nxt}", None, nxt, dashed, 0, i + 1, 0, (i, i + 1), candidates
            )
        if equals:
            return Event(kind, i, word, None, value, dashed, 0, i, len(name) + 3, (i,), candidates)
        return Event(kind, i, word, None, None, dashed, 0, None, 0, (i,), candidates)
    spec: OptionSpec = found  # type: ignore[assignment]
    if equals:
        kind = "unexpected-argument" if spec.argument == 0 else "option"
        return Event(kind, i, word, spec, value, dashed, 0, i, len(name) + 3, (i,))
    if spec.argument == 1:
        if i + 1 < len(argv):
            nxt = argv[i + 1]
            return Event("option", i, f"{word} {nxt}", spec, nxt, dashed, 0, i + 1, 0, (i, i + 1))
        return Event("missing-argument", i, word, spec, None, dashed, 0, None, 0, (i,))
    return Event("option", i, word, spec, None, dashed, 0, None, 0, (i,))
