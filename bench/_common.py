"""What the benchmarks share: where the dev corpus is, how it is read, how a run is timed."""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: The dev corpus, read where it lies: ``$SLURM2SKY_CORPUS`` or ``../shared/corpus/sbatch-dev``.
DEFAULT_CORPUS = Path(
    os.environ.get("SLURM2SKY_CORPUS", REPO.parent / "shared" / "corpus" / "sbatch-dev")
)


def read_corpus(folder: Path) -> list[tuple[str, str]]:
    """(file name, text) of every ``*.sh`` in ``folder``, in name order; bytes that are not
    UTF-8 are kept as surrogate escapes, as the CLI reads them."""
    return [
        (path.name, path.read_bytes().decode("utf-8", "surrogateescape"))
        for path in sorted(folder.glob("*.sh"))
    ]


def best(run: Callable[[], object], repeat: int) -> float:
    """The fastest of ``repeat`` runs of ``run()``, in seconds (garbage collected between)."""
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)
