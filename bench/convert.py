"""Converting the dev corpus: throughput, a 1 MB script, and the corpus figures.

Usage::

    python bench/convert.py [--corpus DIR] [--repeat 3]

One process, every script of ``../shared/corpus/sbatch-dev/`` (read once, before timing).
Figures (best of ``--repeat`` runs):

* parse: :func:`slurm2sky.sbatch.parse_script` alone (the parser's share);
* convert: :func:`slurm2sky.convert.convert` on already-parsed scripts (the converter's);
* parse + convert, scripts/s (target: 10,000/s);
* parse + convert + YAML text (:func:`slurm2sky.emit.emit_yaml`), scripts/s (target: 500/s);
* one 1 MB script (a real script's body repeated), parse + convert + YAML (target: < 1 s).

Then the corpus counts: scripts converted, scripts sbatch would reject, multi-node
scripts, notes by kind, dispositions by kind. Prints figures only; never asserts.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DEFAULT_CORPUS, best, read_corpus


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    from slurm2sky.convert import convert
    from slurm2sky.emit import emit_yaml
    from slurm2sky.sbatch import parse_script

    texts = read_corpus(args.corpus)
    if not texts:
        print(f"no scripts in {args.corpus}", file=sys.stderr)
        return 2
    count = len(texts)
    size = sum(len(t) for _, t in texts)
    print(f"corpus: {count} scripts, {size / 1e6:.1f} MB, in {args.corpus}")

    scripts = [parse_script(text, path=name) for name, text in texts]
    convert(scripts[0])  # the mappings file is read once, on first use
    emit_yaml(convert(scripts[0]))

    def parse_all() -> None:
        for name, text in texts:
            parse_script(text, path=name)

    def convert_all() -> None:
        for script in scripts:
            convert(script)

    def parse_convert_all() -> None:
        for name, text in texts:
            convert(parse_script(text, path=name))

    def full_all() -> None:
        for name, text in texts:
            emit_yaml(convert(parse_script(text, path=name)))

    print(f"\nthroughput (one process, best of {args.repeat}):")
    for label, run, target in (
        ("parse", parse_all, None),
        ("convert (already parsed)", convert_all, None),
        ("parse + convert", parse_convert_all, 10_000),
        ("parse + convert + YAML text", full_all, 500),
    ):
        seconds = best(run, args.repeat)
        rate = count / seconds
        goal = (
            f"  (target {target:,}/s: {'met' if rate >= target else 'NOT met'})" if target else ""
        )
        print(f"  {label:30} {rate:9,.0f} scripts/s  {seconds / count * 1e6:7.0f} µs/script{goal}")

    # one 1 MB script: a real multi-node script's body, repeated
    sample = next(
        (t for _, t in texts if "srun" in t and "module load" in t and "--nodes=2" in t),
        texts[0][1],
    )
    header, _, body = sample.partition("\nmodule")
    body = "module" + body
    big = header + "\n" + body * (1_000_000 // max(len(body), 1) + 1)
    big = big[: big.rfind("\n", 0, 1_000_000) + 1]
    seconds = best(lambda: emit_yaml(convert(parse_script(big, path="big.sh"))), args.repeat)
    parse_seconds = best(lambda: parse_script(big, path="big.sh"), args.repeat)
    print(
        f"\n1 MB script ({len(big):,} characters, {big.count(chr(10)):,} lines): "
        f"parse + convert + YAML {seconds:.2f} s (parse {parse_seconds:.2f} s) "
        f"(target < 1 s: {'met' if seconds < 1 else 'NOT met'})"
    )

    conversions = [convert(script) for script in scripts]
    rejected = sum(1 for script in scripts if script.rejected)
    multi = sum(1 for c in conversions if c.task.get("num_nodes", 1) > 1)
    losing = sum(1 for c in conversions if c.loses_meaning)
    notes = Counter(note.kind for c in conversions for note in c.notes)
    dispositions = Counter(
        value.split(":")[0] for c in conversions for value in c.dispositions.values()
    )
    directives = sum(len(script.directives) for script in scripts)
    print(f"\nscripts converted: {len(conversions)} of {count} (no exception)")
    print(f"scripts sbatch would reject: {rejected}")
    print(f"multi-node scripts: {multi}")
    print(f"scripts with a note that loses meaning (--strict would fail): {losing}")
    print(f"directives: {directives}: " + ", ".join(f"{k} {v}" for k, v in dispositions.items()))
    print(f"notes: {sum(notes.values())}, by kind:")
    for kind, number in notes.most_common():
        print(f"  {kind:20} {number:6}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
