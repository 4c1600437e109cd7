"""SkyPilot's rules, for checking the guide's examples without SkyPilot installed.

This module holds the *embedded snapshot*: SkyPilot's JSON schemas, its ``sky``
command tree and the ``SKYPILOT_*`` variables a task sees, exported from the pinned
release by ``tools/refresh_skypilot.py`` into ``data/skypilot-<version>.json``
(SkyPilot is Apache-2.0). Pure Python: it reads JSON with the standard library only,
so it also runs in the browser.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from slurm2sky import SKYPILOT_VERSION

__all__ = ["SKYPILOT_VERSION", "available_versions", "snapshot"]

_DATA = "data"
_PREFIX, _SUFFIX = "skypilot-", ".json"


def available_versions() -> list[str]:
    """SkyPilot releases with a packaged snapshot, e.g. ``["0.14.1"]``, sorted as text."""
    folder = resources.files(__package__) / _DATA
    return sorted(
        entry.name[len(_PREFIX) : -len(_SUFFIX)]
        for entry in folder.iterdir()
        if entry.name.startswith(_PREFIX) and entry.name.endswith(_SUFFIX)
    )


@cache
def _text(version: str) -> str:
    entry = resources.files(__package__) / _DATA / f"{_PREFIX}{version}{_SUFFIX}"
    try:
        return entry.read_text(encoding="utf-8")
    except FileNotFoundError:
        known = ", ".join(available_versions()) or "none"
        raise LookupError(
            f"no SkyPilot snapshot for version {version!r} in slurm2sky.validate "
            f"(packaged: {known}); run `nox -s refresh-skypilot` with skypilot=={version}"
        ) from None


def snapshot(version: str | None = None) -> dict[str, Any]:
    """The embedded snapshot of SkyPilot's rules for one release.

    Args:
        version: a SkyPilot release such as ``"0.14.1"``; ``None`` means
            ``SKYPILOT_VERSION``, the release the guide targets.

    Returns:
        A new dict (callers may change it) with the keys written by
        ``tools/refresh_skypilot.py``:

        - ``"skypilot"``: ``{"version": str, "commit": str | None}``;
        - ``"schemas"``: JSON schemas by name (``task``, ``resources``, ``storage``,
          ``service``, ``volume_mount``, ``volume``, ``config``), from
          ``sky.utils.schemas.get_<name>_schema()``. SkyPilot checks them with
          Draft 7 plus its ``case_insensitive_enum``/``case_sensitive_enum`` keywords;
        - ``"notes"``: facts a schema consumer needs (validator, values that depend on
          the environment at export time, Python-only regex flags);
        - ``"cli"``: ``{"commands": {path: command}}`` where path is the words after
          ``sky`` (``"jobs launch"``; the root group is ``""``) and each command has
          ``group``, ``hidden``, ``deprecated``, ``deprecation`` (``replacement`` is a
          command path), ``alias_of``, ``subcommands``, ``arguments`` (``name``,
          ``nargs``: -1 for any number, ``required``, ``type``) and ``options``
          (``opts``, ``secondary_opts``, ``takes_value``, ``value_optional``,
          ``is_flag``, ``multiple``, ``count``, ``hidden``, ``type``, ...);
        - ``"environment_variables"``: by name, ``{"set_by": "skypilot" | "user",
          "stages": [...], "scope": str, "meaning": str, "source": {...}}``.

    Raises:
        LookupError: no snapshot is packaged for ``version``.
    """
    return json.loads(_text(version or SKYPILOT_VERSION))
