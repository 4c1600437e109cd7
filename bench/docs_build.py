"""Time the guide's full build and a no-change rebuild (HTML, one process each).

Usage: python bench/docs_build.py [--runs N] [-j N]

Prints, for each run, the wall time of a full build into a fresh output folder and of a
second build with nothing changed, and then the median of each. Run it in an
environment where the docs extra is installed (e.g. `nox -s docs` has made one).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def build(out: Path, jobs: str, *defines: str) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one build of the guide into ``out``, in its own
    process; ``defines`` are ``-D name=value`` settings."""
    command = [sys.executable, "-m", "sphinx", "-q", "-W", "-n", "-j", jobs]
    for define in defines:
        command += ["-D", define]
    cpu = _children_cpu()
    start = time.perf_counter()
    subprocess.run([*command, "-b", "html", str(DOCS), str(out)], check=True)
    return time.perf_counter() - start, _children_cpu() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("-j", "--jobs", default="1")
    args = parser.parse_args()
    full, again = [], []
    for run in range(1, args.runs + 1):
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "html"
            full.append(build(out, args.jobs)[0])
            again.append(build(out, args.jobs)[0])
        print(f"run {run}: full build {full[-1]:.2f} s, no-change rebuild {again[-1]:.2f} s")
    print(
        f"median of {args.runs}: full build {statistics.median(full):.2f} s, "
        f"no-change rebuild {statistics.median(again):.2f} s (-j {args.jobs})"
    )


if __name__ == "__main__":
    main()
