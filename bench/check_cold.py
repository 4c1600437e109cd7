"""``slurm2sky check one.yaml`` in a cold process: wall time, median of N runs.

Usage::

    python bench/check_cold.py [--runs 10] [FILE]

FILE defaults to a realistic distributed-training task from the parity corpus. Each
run is a fresh process (the ``slurm2sky`` console script next to this Python, else
``python -m slurm2sky``) with the embedded engine. For scale it also times ``python -c
pass`` and ``python -c "import slurm2sky.validate"``. Target: at most 0.3 s (SkyPilot's
import alone takes about 1.6 s). Prints figures only.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT = REPO / "tests" / "parity" / "valid" / "torchrun-distributed.yaml"


def wall(command: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        times.append(time.perf_counter() - start)
        if done.returncode not in (0, 1):
            raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr}")
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", default=str(DEFAULT))
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()

    script = Path(sys.executable).with_name("slurm2sky")
    check = [str(script)] if script.exists() else [sys.executable, "-m", "slurm2sky"]
    check += ["check", args.file]
    out = subprocess.run(check, capture_output=True, text=True, check=False)
    print(f"$ {' '.join(check)}")
    print((out.stderr + out.stdout).rstrip())
    print(f"median of {args.runs} cold runs:")
    for label, command in (
        ("python -c pass", [sys.executable, "-c", "pass"]),
        (
            'python -c "import slurm2sky.validate"',
            [sys.executable, "-c", "import slurm2sky.validate"],
        ),
        ("slurm2sky check FILE", check),
    ):
        times = wall(command, args.runs)
        print(
            f"  {label:40} {statistics.median(times):.3f} s "
            f"(min {min(times):.3f}, max {max(times):.3f})"
        )
    print("target for slurm2sky check: <= 0.300 s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
