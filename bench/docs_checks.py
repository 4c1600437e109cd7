"""What the build-time checks cost: the guide's full HTML build with ``slurm2sky_check``
on and off (embedded engine), side by side.

Usage: python bench/docs_checks.py [--runs N] [-j N]

Each run builds the guide twice into fresh output folders, once with the checks off
(``-D slurm2sky_check=0``) and once with them on, in alternating order, each in its own
process (so every run pays the imports a CI build pays, jsonschema's included). Prints
each run, then the median of each setting and the relative cost of the checks, in wall
time and in CPU time (user + system of the build and its parallel workers; steadier
than wall time on a busy machine). The target is at most 10 % more time with the
checks on. Run it in an environment where the
docs extra is installed (e.g. the one `nox -s docs` makes).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from docs_build import build


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("-j", "--jobs", default="1")
    args = parser.parse_args()
    wall: dict[bool, list[float]] = {False: [], True: []}
    cpu: dict[bool, list[float]] = {False: [], True: []}
    for run in range(1, args.runs + 1):
        order = (False, True) if run % 2 else (True, False)
        for check in order:
            with tempfile.TemporaryDirectory() as tmp:
                seconds, cpu_seconds = build(
                    Path(tmp) / "html", args.jobs, f"slurm2sky_check={int(check)}"
                )
            wall[check].append(seconds)
            cpu[check].append(cpu_seconds)
        print(
            f"run {run}: checks off {wall[False][-1]:.2f} s ({cpu[False][-1]:.2f} s CPU), "
            f"checks on {wall[True][-1]:.2f} s ({cpu[True][-1]:.2f} s CPU)"
        )
    for name, times in (("wall", wall), ("CPU", cpu)):
        off, on = statistics.median(times[False]), statistics.median(times[True])
        print(
            f"median of {args.runs} (-j {args.jobs}), {name} time: checks off {off:.2f} s, "
            f"checks on {on:.2f} s, cost of the checks {on - off:+.2f} s ({(on - off) / off:+.1%})"
        )


if __name__ == "__main__":
    main()
