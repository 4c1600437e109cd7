"""Pausing Python's cyclic garbage collector while a script is read or converted.

Reading and converting a script build many small objects (words, directives, segments,
commands) and no reference cycles that need collecting while it runs. With the collector
on, its passes over those objects grow with the script: a 1 MB script spent 40 % of its
conversion in them. The collector runs as usual once the work is done.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["collector_paused"]


@contextmanager
def collector_paused() -> Iterator[None]:
    """Disable the cyclic collector for the block, then restore it as it was (a nested
    use, or a caller that disabled it, keeps it off)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
