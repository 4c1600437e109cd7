"""The dev corpus of real batch scripts, read where it lies (never copied into the repo):
``$SLURM2SKY_CORPUS``, or ``shared/corpus/sbatch-dev`` beside the repository.

Away from CI the corpus tests are skipped when it is absent; under CI (``CI`` set) they
run and fail, so a missing corpus can never pass unnoticed.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("SLURM2SKY_CORPUS", REPO.parent / "shared" / "corpus" / "sbatch-dev"))

needs_corpus = pytest.mark.skipif(
    not CORPUS.is_dir() and not os.environ.get("CI"),
    reason=f"the dev corpus is not at {CORPUS} (set SLURM2SKY_CORPUS)",
)


def corpus() -> list[tuple[str, str]]:
    """(file name, text) of every script, in name order; bytes that are not UTF-8 are kept
    as surrogate escapes, as the command line reads them."""
    return [
        (path.name, path.read_bytes().decode("utf-8", "surrogateescape"))
        for path in sorted(CORPUS.glob("*.sh"))
    ]
