"""Where the extension finds the mappings file, and a per-process cache of the loaded model.

Nothing here is stored on the Sphinx build environment: the loaded :class:`Mappings` is
kept in a module-level cache keyed by the file's resolved path, its modification time
(nanoseconds) and its size, so an edited file is read again on the next build (and the
pages that use it are re-read, because every directive declares the file as a
dependency with ``env.note_dependency``). Parallel readers are forked after
``builder-inited`` and inherit the cache; a process that starts with an empty cache
simply loads the file once.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from slurm2sky.mappings import Mappings, default_mappings_path, load_mappings

#: Where the default (``slurm2sky_mappings = ""``) looks first, relative to confdir.
CHECKOUT_MAPPINGS = Path("..", "mappings", "slurm-to-skypilot.yaml")


@dataclass(frozen=True)
class _Entry:
    key: tuple[int, int]  # (st_mtime_ns, st_size)
    mappings: Mappings


_cache: dict[Path, _Entry] = {}

#: srcdir -> the resolved mappings path of the build whose builder was set up last
#: with that srcdir (set at ``builder-inited``; directives read it).
_active: dict[str, Path] = {}


def resolve_mappings_path(value: str, confdir: str | os.PathLike[str]) -> Path:
    """The absolute path of the mappings file a build uses.

    ``value`` is the ``slurm2sky_mappings`` setting: a path (absolute, or relative to
    ``confdir``, the directory holding conf.py), or ``""`` for the default, which is
    ``<confdir>/../mappings/slurm-to-skypilot.yaml`` when that file exists (a checkout
    of the repository) and else :func:`slurm2sky.mappings.default_mappings_path` (the
    copy shipped with the package). The file is not required to exist here; loading
    reports a missing file.
    """
    base = Path(confdir)
    if value:
        path = Path(value).expanduser()
        return (path if path.is_absolute() else base / path).resolve()
    checkout = base / CHECKOUT_MAPPINGS
    if checkout.is_file():
        return checkout.resolve()
    return default_mappings_path().resolve()


def get_mappings(path: Path) -> Mappings:
    """The checked :class:`Mappings` in the file at ``path`` (absolute), cached.

    The cache entry is reused while the file's (mtime_ns, size) is unchanged.
    Raises :class:`slurm2sky.mappings.MappingsError` (every problem located at
    file:line:col) when the file is missing or invalid.
    """
    try:
        stat = path.stat()
    except OSError:
        _cache.pop(path, None)
        return load_mappings(path, check=True)  # raises a located MappingsError
    key = (stat.st_mtime_ns, stat.st_size)
    entry = _cache.get(path)
    if entry is None or entry.key != key:
        entry = _Entry(key, load_mappings(path, check=True))
        _cache[path] = entry
    return entry.mappings


def set_active_path(srcdir: str | os.PathLike[str], path: Path) -> None:
    """Record the mappings path of the build that reads ``srcdir``."""
    _active[os.fspath(srcdir)] = path


def active_path(srcdir: str | os.PathLike[str], value: str) -> Path:
    """The mappings path recorded for ``srcdir``, else ``value`` resolved against it."""
    path = _active.get(os.fspath(srcdir))
    return path if path is not None else resolve_mappings_path(value, srcdir)
