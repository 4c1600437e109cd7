"""SkyPilot's rules, for checking task, config and volume YAML without SkyPilot.

One interface, two engines:

* ``embedded`` (the default): the *embedded snapshot* of SkyPilot's JSON schemas,
  exported from the pinned release by ``tools/refresh_skypilot.py`` into
  ``data/skypilot-<version>.json`` (SkyPilot is Apache-2.0), checked with jsonschema's
  Draft 7 plus SkyPilot's two enum keywords, and SkyPilot's pre-processing and
  semantic checks reimplemented (:mod:`slurm2sky.validate.embedded`);
* ``skypilot`` (only when asked for): the same documents through SkyPilot's own
  client-side loaders, in a worker process of a Python that has skypilot installed
  (:mod:`slurm2sky.validate.skypilot`).

Importing this module is cheap: it reads JSON with the standard library only, and
jsonschema and ruamel.yaml are imported by the first validation (so the snapshot also
serves the conversion path in the browser).

Public API: :data:`KINDS`, :class:`Issue`, :class:`Verdict`, :class:`Engine`,
:func:`validate_text`, :func:`validate_data`, :func:`infer_kind`, :func:`get_engine`,
:func:`snapshot`, :func:`available_versions`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

from slurm2sky import SKYPILOT_VERSION
from slurm2sky.validate.model import ENGINES, KINDS, Engine, Issue, Verdict

__all__ = [
    "ENGINES",
    "KINDS",
    "SKYPILOT_VERSION",
    "Engine",
    "EngineUnavailable",
    "Issue",
    "Verdict",
    "available_versions",
    "get_engine",
    "infer_kind",
    "snapshot",
    "validate_data",
    "validate_text",
]

#: The environment variable naming the Python (with skypilot installed) that the
#: ``skypilot`` engine runs its worker with.
SKYPILOT_PYTHON_ENV = "SLURM2SKY_SKYPILOT_PYTHON"


class EngineUnavailable(RuntimeError):
    """An engine cannot run here, e.g. the ``skypilot`` engine's Python has no
    ``skypilot`` installed.

    ``reason`` says what went wrong (one sentence, no advice), ``python`` the
    interpreter concerned; the message (``str()``) adds how to choose another Python
    through the environment variable :data:`SKYPILOT_PYTHON_ENV`. Front ends that have
    their own setting for it (``slurm2sky check --skypilot-python``, the Sphinx value
    ``slurm2sky_skypilot_python``) build their message from ``reason``.
    """

    def __init__(self, reason: str, *, python: str | None = None) -> None:
        self.reason = reason.rstrip(". ")
        self.python = python
        super().__init__(
            f"{self.reason}. Set {SKYPILOT_PYTHON_ENV} to a Python that has skypilot "
            f"installed (pip install skypilot=={SKYPILOT_VERSION})"
        )


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
          ``nargs``: -1 for any number, ``required``, ``type``: click's type name such
          as ``integer``, with ``choices`` for a choice and ``range`` for
          ``IntRange``/``FloatRange``) and ``options`` (``opts``, ``secondary_opts``,
          ``takes_value``, ``value_optional``, ``is_flag``, ``multiple``, ``count``,
          ``hidden``, ``type``, ``choices``, ``range``, ...);
        - ``"environment_variables"``: the variables of a task, by name,
          ``{"set_by": "skypilot" | "user", "stages": [...], "scope": str,
          "meaning": str, "source": {...}}``;
        - ``"setting_variables"``: every other ``SKYPILOT_*`` name the release's
          ``sky`` package reads or sets (client and server settings such as
          ``SKYPILOT_CONFIG`` or ``SKYPILOT_DEBUG``, and internal names), by name,
          ``{"evidence": "environ" | "constant" | "literal" | "text", "environ":
          ["read", "set"], "areas": [...], "source": {"file", "line", "how",
          "constant"}}``.

    Raises:
        LookupError: no snapshot is packaged for ``version``.
    """
    return json.loads(_text(version or SKYPILOT_VERSION))


# ---------------------------------------------------------------------------
# Validation

_ENGINES: dict[tuple[str, str | None], Engine] = {}


def get_engine(name: str, *, python: str | None = None) -> Engine:
    """The engine called ``name`` (``"embedded"`` or ``"skypilot"``).

    Engines are created once per process and reused (the ``skypilot`` engine keeps one
    worker process per Python, started on first use and stopped at exit or by
    ``close()``).

    Args:
        name: ``"embedded"`` or ``"skypilot"``.
        python: for ``"skypilot"``, the Python interpreter with skypilot installed;
            default: ``$SLURM2SKY_SKYPILOT_PYTHON``, else this interpreter.

    Raises:
        ValueError: an unknown name (the message lists the valid ones).
    """
    if name == "embedded":
        key: tuple[str, str | None] = (name, None)
        if key not in _ENGINES:
            from slurm2sky.validate.embedded import EmbeddedEngine

            _ENGINES[key] = EmbeddedEngine()
        return _ENGINES[key]
    if name == "skypilot":
        chosen = python or os.environ.get(SKYPILOT_PYTHON_ENV) or None
        key = (name, chosen)
        engine = _ENGINES.get(key)
        if engine is None or getattr(engine, "closed", False):
            from slurm2sky.validate.skypilot import SkyPilotEngine

            engine = _ENGINES[key] = SkyPilotEngine(python=chosen)
        return engine
    raise ValueError(f"unknown validation engine {name!r}; valid engines: {', '.join(ENGINES)}")


def _engine(engine: str | Engine) -> Engine:
    return get_engine(engine) if isinstance(engine, str) else engine


def infer_kind(data: Any) -> str | None:
    """The kind of one parsed document: ``"task"``, ``"config"``, ``"volume"``, or
    ``None`` when it cannot be told (an empty document, or fields of no kind).

    A volume has ``type: k8s-pvc | k8s-hostpath | runpod-network-volume`` and only
    volume fields; a task has a field only tasks have (``run``, ``setup``,
    ``resources``, ``envs``, ``file_mounts``, ``num_nodes``, ``service``, ...) or only
    task fields (``name:`` alone is a pipeline header); a config has only config
    sections (``kubernetes``, ``jobs``, ``admin_policy``, ...).
    """
    from slurm2sky.validate.embedded import infer_kind as infer

    return infer(data)


def validate_text(
    text: str,
    kind: str | None = "task",
    *,
    env: Mapping[str, str] | None = None,
    engine: str | Engine = "embedded",
    source: str = "<text>",
) -> Verdict:
    """Check a YAML text as SkyPilot would load it.

    Args:
        text: YAML; a task text may hold several documents: a pipeline (a chain of
            tasks, optionally after a header document with only ``name``, or ``name``
            and ``execution: serial``) or a job group (a first document with
            ``execution: parallel``), told apart as SkyPilot 0.14.1's ``dag_utils``
            does.
        kind: ``"task"``, ``"config"``, ``"volume"``, or ``None`` to infer it (a
            multi-document text is a task; see :func:`infer_kind`). When it cannot be
            inferred the verdict has one issue with code ``"kind"``.
        env: values for ``--env NAME=VALUE`` (every task of the text gets them).
        engine: ``"embedded"`` (default), ``"skypilot"``, or an :class:`Engine`.
        source: how the text is named in messages that quote a path.

    Returns:
        A :class:`Verdict`: issues located by line and column in ``text``, and the
        null envs that must be given at launch (``needs_env``).

    Raises:
        ValueError: an unknown kind or engine name.
        EngineUnavailable: the ``skypilot`` engine cannot start (no skypilot in its
            Python).
    """
    chosen = _engine(engine)
    if kind is None:
        from slurm2sky.validate.embedded import infer_text_kind
        from slurm2sky.validate.yaml11 import YamlError, load_documents

        try:
            documents, _duplicates = load_documents(text)
        except YamlError as error:
            return Verdict(
                "",
                chosen.name,
                (Issue(error.line, error.column, error.problem, "", error.document, "yaml"),),
            )
        kind = infer_text_kind(documents)
        if kind is None:
            first = next((d for d in documents if d.data is not None), None)
            line, column = (first.line, first.column) if first else (1, 1)
            message = (
                "cannot tell what kind of SkyPilot document this is (task, config or "
                "volume); set the kind explicitly"
            )
            return Verdict("", chosen.name, (Issue(line, column, message, "", 0, "kind"),))
    _check_kind(kind)
    return chosen.check_text(text, kind, env=env, source=source)


def validate_data(
    data: Any,
    kind: str = "task",
    *,
    env: Mapping[str, str] | None = None,
    engine: str | Engine = "embedded",
) -> Verdict:
    """Check one already-parsed document (a dict, as PyYAML's ``safe_load`` gives it):
    one task (not a pipeline), a config or a volume. Issues carry no positions (line
    and column 0). ``data`` is not modified.

    Raises:
        ValueError: an unknown kind or engine name.
        EngineUnavailable: the ``skypilot`` engine cannot start.
    """
    _check_kind(kind)
    return _engine(engine).check_data(data, kind, env=env)


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown document kind {kind!r}; valid kinds: {', '.join(KINDS)}")
