"""Which Python has the targeted SkyPilot release, for the tests that run SkyPilot's own
code: ``$SLURM2SKY_SKYPILOT_PYTHON`` (``nox -s tests`` sets it), else this interpreter if
it can ``import sky``.

Away from CI those tests are skipped without one; under CI (``CI`` set) they fail, so a
missing SkyPilot can never pass unnoticed.
"""

from __future__ import annotations

import importlib.util
import os
import sys

import pytest


def skypilot_python() -> str | None:
    """The path of a Python with skypilot, or ``None``."""
    configured = os.environ.get("SLURM2SKY_SKYPILOT_PYTHON")
    if configured:
        return configured
    if importlib.util.find_spec("sky") is not None:
        return sys.executable
    return None


def unavailable(reason: str) -> None:
    """Skip the test for ``reason``, or fail it under CI."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; under CI the skypilot engine is required", pytrace=False)
    pytest.skip(reason)
