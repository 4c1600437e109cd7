"""How fast a pure-Python reader of the dev corpus can be at all: the floor under
:mod:`bench.convert`'s parse + convert figure.

Usage::

    python bench/floor.py [--corpus DIR] [--repeat 3]

Each figure reads every script of the corpus (read once, before timing) and does less
than the converter must, so none of them is a converter; they show what is left of the
budget (100 µs a script for 10,000 scripts/s) before any conversion is done:

* lines: split each script into lines (``str.split``);
* header words: the lines, and the words of each ``#SBATCH`` line of the header
  (``str.split``; no quotes, no options table);
* first words: the lines, and each body line's first word looked up among the words the
  converter must read a line for (:data:`slurm2sky._shell.SPECIAL_WORDS`);
* logical lines: one regular expression that joins continued lines and quotes across
  lines (:data:`slurm2sky._shell._LOGICAL`), over each body, and each logical line's first
  word looked up as above;
* parse: :func:`slurm2sky.sbatch.parse_script`, the parser as it is;
* shell reader: :func:`slurm2sky._shell.scan` over each body, as the converter runs it.

Prints figures only; never asserts.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DEFAULT_CORPUS, best, read_corpus

_FIRST_WORD = re.compile(r"[ \t]*([^\s;&|()<>]*)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    from slurm2sky._shell import _LOGICAL, SPECIAL_WORDS, scan
    from slurm2sky.sbatch import parse_script

    texts = [text for _, text in read_corpus(args.corpus)]
    if not texts:
        print(f"no scripts in {args.corpus}", file=sys.stderr)
        return 2
    bodies = [parse_script(text).body for text in texts]
    special = SPECIAL_WORDS

    def lines() -> None:
        for text in texts:
            text.split("\n")

    def header_words() -> None:
        for text in texts:
            for line in text.split("\n"):
                if line.startswith("#SBATCH"):
                    line[7:].split()
                elif line and line[0] != "#":
                    break

    def first_words() -> None:
        for text in texts:
            for line in text.split("\n"):
                words = line.split(None, 1)
                if words and words[0] in special:
                    pass

    def logical_lines() -> None:
        for body in bodies:
            position, end = 0, len(body)
            while position < end:
                match = _LOGICAL.match(body, position)
                stop = match.end() if match is not None else end
                _FIRST_WORD.match(body, position).group(1) in special  # noqa: B015
                position = max(stop, position + 1)

    def parse() -> None:
        for text in texts:
            parse_script(text)

    def shell_reader() -> None:
        for body in bodies:
            scan(body)

    count = len(texts)
    print(f"corpus: {count} scripts, in {args.corpus}")
    print(f"floors (one process, best of {args.repeat}; budget for 10,000/s: 100 µs):")
    for label, run in (
        ("lines", lines),
        ("header words", header_words),
        ("first words", first_words),
        ("logical lines", logical_lines),
        ("parse", parse),
        ("shell reader", shell_reader),
    ):
        seconds = best(run, args.repeat)
        print(f"  {label:16s} {seconds / count * 1e6:7.1f} µs/script  {count / seconds:>9,.0f}/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
