"""Parsing batch scripts: throughput on the dev corpus, and time against script size.

Usage::

    python bench/parse.py [--corpus DIR] [--repeat 5]

Figures (best of ``--repeat`` runs, one process):

* scripts/s for ``slurm2sky.sbatch.parse_script`` over every script of the dev corpus
  (``../shared/corpus/sbatch-dev`` beside the repository, or ``$SLURM2SKY_CORPUS``);
* seconds for generated scripts of 1 MB and 2 MB of each shape — a header of typical
  directive lines, a header of hard lines (quotes, escapes, comments, abbreviations,
  bad values), one 1 MB directive line, and a short header with a long body — so that
  the time per MB shows the parser is linear (target: a 1 MB script in under 1 s).

Prints figures only; tests never time anything.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from slurm2sky.sbatch import parse_script

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DEFAULT_CORPUS, best, read_corpus

MB = 1024 * 1024

TYPICAL = [
    "#SBATCH --job-name=train",
    "#SBATCH --nodes=2",
    "#SBATCH --ntasks-per-node=4   # one task per GPU",
    "#SBATCH --gres=gpu:a100:4",
    "#SBATCH -t 1-00:00:00",
    "#SBATCH --mem=256G",
    "#SBATCH --output=logs/%x_%j.out",
    "# a comment",
    "",
]
HARD = [
    '#SBATCH --job-name="a long name with # and spaces" -N2 -Ot10',
    r"#SBATCH --container-image=nvcr.io\#nvidia/pytorch:24.01-py3 --tasks=4",
    "#SBATCH --mem-p=2G --exclusive user --mem=1.5G",
    "#SBATCH --array=0-15:4%2 --nodelist=node[001-128] --fpgalink=x",
    "#SBATCH --comment='{\"json\": [1, 2]}' --mail-type=END,FAIL",
    "  #SBATCH --mem=2G",
]


def generated(lines: list[str], size: int) -> str:
    block = "\n".join(lines) + "\n"
    return "#!/bin/bash\n" + block * (size // len(block) + 1)


def shapes(size: int) -> dict[str, str]:
    return {
        "typical header": generated(TYPICAL, size),
        "hard header": generated(HARD, size),
        "one long line": "#!/bin/bash\n#SBATCH " + "--nodes=2 " * (size // 10) + "\n",
        "long body": generated(TYPICAL[:7], 2048) + "python train.py --epochs 100\n" * (size // 29),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    if args.corpus.is_dir():
        texts = [text for _, text in read_corpus(args.corpus)]

        def run() -> None:
            for text in texts:
                parse_script(text)

        run()  # warm up (tables, regexes)
        seconds = best(run, args.repeat)
        print(
            f"corpus: {len(texts)} scripts in {seconds:.3f} s = "
            f"{len(texts) / seconds:,.0f} scripts/s "
            f"({seconds / len(texts) * 1e6:.0f} µs per script)"
        )
    else:
        print(f"corpus: not found at {args.corpus}")

    for name, one in shapes(MB).items():
        two = shapes(2 * MB)[name]
        t1 = best(lambda text=one: parse_script(text), max(1, args.repeat // 2))
        t2 = best(lambda text=two: parse_script(text), max(1, args.repeat // 2))
        result = parse_script(one)
        print(
            f"{name:>15}: 1 MB {t1:.3f} s, 2 MB {t2:.3f} s (x{t2 / t1:.2f}); "
            f"{len(result.directives):,} directives, {len(result.problems):,} problems"
        )


if __name__ == "__main__":
    main()
