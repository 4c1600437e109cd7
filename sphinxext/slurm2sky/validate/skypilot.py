"""The ``skypilot`` engine: documents checked by SkyPilot's own client-side loaders.

SkyPilot is not imported here: a long-lived worker process
(:mod:`slurm2sky.validate._skypilot_worker`) runs in a Python that has skypilot
installed, so 1,000 documents pay SkyPilot's ~1.6 s import once. The worker's Python is
the ``python`` argument, else ``$SLURM2SKY_SKYPILOT_PYTHON``, else this interpreter;
it runs with ``HOME`` set to a temporary directory (``import sky`` writes ``~/.sky``),
this package alone on ``PYTHONPATH`` (linked from that directory), usage collection
off and network access refused. The worker starts on first use and stops with
:meth:`SkyPilotEngine.close` or at exit; a forked child (``sphinx-build -j``) starts
its own.

SkyPilot stops at the first problem, so a verdict from this engine has at most one
issue per text; its position is found from SkyPilot's message (the field it names,
the line of a duplicate key, the YAML error's mark), else it is the document's start.
"""

from __future__ import annotations

import atexit
import base64
import itertools
import json
import os
import pickle
import re
import select
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from slurm2sky.validate.model import Issue, Verdict

__all__ = ["SkyPilotEngine"]

_PACKAGE = Path(__file__).resolve().parents[1]  # the slurm2sky package directory
_STAGE_PREFIXES = (
    ("Invalid task YAML: ", ()),
    ("Invalid resources YAML: ", ("resources",)),
    ("Invalid service YAML: ", ("service",)),
    ("Invalid storage YAML: ", ("file_mounts",)),
    ("Invalid volume mount config: ", ("volume_mounts",)),
    ("Invalid volumes config: ", ()),
    ("Invalid config YAML", ()),
)


class SkyPilotEngine:
    """Validation by SkyPilot itself (see the module docstring).

    Args:
        python: the interpreter to run the worker with; it must have skypilot
            installed. Default: ``$SLURM2SKY_SKYPILOT_PYTHON``, else ``sys.executable``.

    Attributes (after the worker started): ``skypilot_version`` and ``python_version``
    of the worker.
    """

    name = "skypilot"

    def __init__(self, python: str | None = None, *, timeout: float = 300.0):
        self.python = python or os.environ.get("SLURM2SKY_SKYPILOT_PYTHON") or sys.executable
        self.timeout = timeout
        self.skypilot_version: str | None = None
        self.python_version: str | None = None
        self.closed = False
        self._process: subprocess.Popen[str] | None = None
        self._owner = os.getpid()
        self._home: str | None = None
        self._log: Any = None
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._exit_hook = False

    # -- worker lifecycle

    def _forget_if_forked(self) -> None:
        """In a forked child (``sphinx-build -j``) the worker, its pipes and its HOME are
        the parent's: leave them alone and start this process's own worker."""
        if self._owner != os.getpid():
            self._process, self._home, self._log = None, None, None
            self._owner = os.getpid()

    def _start(self) -> subprocess.Popen[str]:
        from slurm2sky.validate import EngineUnavailable

        self._forget_if_forked()
        if self._process is not None and self._process.poll() is None:
            return self._process
        if self._process is not None:  # it died: clean up before starting again
            self.close()
        self._home = tempfile.mkdtemp(prefix="slurm2sky-skypilot-home-")
        env = dict(os.environ)
        env["HOME"] = self._home
        env["PYTHONPATH"] = os.pathsep.join(
            part for part in (_package_path(self._home), os.environ.get("PYTHONPATH", "")) if part
        )
        env["SKYPILOT_DISABLE_USAGE_COLLECTION"] = "1"
        env.pop("PYTHONHOME", None)
        self._log = open(os.path.join(self._home, "worker.log"), "w+", encoding="utf-8")  # noqa: SIM115
        try:
            process = subprocess.Popen(
                [self.python, "-m", "slurm2sky.validate._skypilot_worker"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._log,
                cwd=self._home,
                env=env,
                text=True,
                encoding="utf-8",
                bufsize=1,
            )
        except OSError as error:
            self._cleanup()
            raise EngineUnavailable(
                f"the skypilot engine cannot run {self.python!r}: {error}. Set "
                "SLURM2SKY_SKYPILOT_PYTHON (or --skypilot-python) to a Python with "
                "skypilot installed."
            ) from None
        assert process.stdout is not None
        hello = process.stdout.readline()
        try:
            ready = json.loads(hello) if hello else {}
        except json.JSONDecodeError:
            ready = {}
        if not ready.get("ready"):
            process.wait(timeout=30)
            reason = ready.get("error") or self._log_tail() or "no answer"
            self._cleanup()
            raise EngineUnavailable(
                f"the skypilot engine needs skypilot installed in {self.python!r} "
                f"(Python {ready.get('python', '?')}), which cannot import it: {reason}. "
                "Install it there (pip install skypilot==<the guide's version>) or set "
                "SLURM2SKY_SKYPILOT_PYTHON (or --skypilot-python) to a Python that has it."
            )
        self.skypilot_version = ready.get("skypilot")
        self.python_version = ready.get("python")
        self._process = process
        if not self._exit_hook:
            atexit.register(self.close)
            self._exit_hook = True
        return process

    def _log_tail(self) -> str:
        if self._log is None:
            return ""
        self._log.flush()
        self._log.seek(0)
        lines = [line for line in self._log.read().splitlines() if line.strip()]
        return " | ".join(lines[-3:])

    def _cleanup(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._home is not None:
            shutil.rmtree(self._home, ignore_errors=True)
            self._home = None

    def close(self) -> None:
        """Stop the worker and remove its temporary HOME; idempotent."""
        self._forget_if_forked()
        process, self._process = self._process, None
        if process is not None:
            try:
                if process.stdin is not None:
                    process.stdin.close()
                process.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                process.kill()
                process.wait()
            if process.stdout is not None:
                process.stdout.close()
        self._cleanup()
        self.closed = True

    def __enter__(self) -> SkyPilotEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        """Start the worker now (otherwise the first check starts it).

        Raises:
            slurm2sky.validate.EngineUnavailable: skypilot cannot be imported there.
        """
        with self._lock:
            self.closed = False
            self._start()

    def _ask(self, request: dict[str, Any]) -> dict[str, Any]:
        from slurm2sky.validate import EngineUnavailable

        with self._lock:
            self.closed = False
            process = self._start()
            request["id"] = next(self._ids)
            assert process.stdin is not None and process.stdout is not None
            try:
                process.stdin.write(json.dumps(request) + "\n")
                process.stdin.flush()
                if os.name == "posix":
                    ready, _, _ = select.select([process.stdout], [], [], self.timeout)
                    if not ready:
                        process.kill()
                        tail = self._log_tail()
                        self.close()
                        raise EngineUnavailable(
                            f"the skypilot worker gave no answer in {self.timeout:.0f} s "
                            f"(stopped): {tail or 'no output'}"
                        )
                answer = process.stdout.readline()
            except (BrokenPipeError, OSError):
                answer = ""
            if not answer:
                tail = self._log_tail()
                self.close()
                raise EngineUnavailable(f"the skypilot worker stopped: {tail or 'no output'}")
            return json.loads(answer)

    # -- checks

    def check_text(
        self,
        text: str,
        kind: str,
        *,
        env: Mapping[str, str] | None = None,
        source: str = "<text>",
    ) -> Verdict:
        """Check a YAML text with SkyPilot's loader for ``kind`` (see the worker)."""
        answer = self._ask(
            {"op": "text", "kind": kind, "text": text, "env": dict(env or {}), "source": source}
        )
        issues = tuple(_locate(text, raw) for raw in answer["issues"])
        return Verdict(kind, self.name, issues, tuple(answer["needs_env"]))

    def check_data(self, data: Any, kind: str, *, env: Mapping[str, str] | None = None) -> Verdict:
        """Check one parsed document (``Task.from_yaml_config`` for a task)."""
        payload = base64.b64encode(pickle.dumps(data, protocol=4)).decode("ascii")
        answer = self._ask({"op": "data", "kind": kind, "data": payload, "env": dict(env or {})})
        issues = tuple(
            Issue(0, 0, raw["message"], "", 0, raw.get("code") or "engine")
            for raw in answer["issues"]
        )
        return Verdict(kind, self.name, issues, tuple(answer["needs_env"]))


def _package_path(home: str) -> str:
    """A directory holding only this ``slurm2sky`` package (a link to it, else a copy),
    for the worker's ``PYTHONPATH``: the folder this package is installed in may hold
    other versions of SkyPilot's dependencies, which must not shadow the worker's."""
    folder = Path(home) / "python"
    folder.mkdir()
    try:
        (folder / "slurm2sky").symlink_to(_PACKAGE, target_is_directory=True)
    except OSError:
        shutil.copytree(
            _PACKAGE, folder / "slurm2sky", ignore=shutil.ignore_patterns("__pycache__")
        )
    return str(folder)


# ---------------------------------------------------------------------------
# Positions of SkyPilot's messages


def _locate(text: str, raw: dict[str, Any]) -> Issue:
    """An :class:`Issue` for one worker issue, located in ``text`` as well as its message
    allows."""
    message, code = raw["message"], raw.get("code") or "engine"
    if raw.get("line"):
        return Issue(raw["line"], raw.get("column") or 1, message, "", 0, code)
    from slurm2sky.validate.yaml11 import YamlError, load_documents

    try:
        documents, duplicates = load_documents(text)
    except YamlError:
        return Issue(0, 0, message, "", 0, code)
    if code == "duplicate-key":
        found = re.search(r"at line (\d+)", message)
        for dup in duplicates:
            if found and dup.line == int(found.group(1)):
                return Issue(dup.line, dup.column, message, "", dup.document, code)
    base: tuple[Any, ...] = ()
    for prefix, stage in _STAGE_PREFIXES:
        if message.startswith(prefix):
            base = stage
            break
    paths: list[tuple[tuple[Any, ...], bool]] = []
    field = re.search(r"(?:Instead of|Found unsupported field) '([^']+)'", message)
    checked = re.search(r"Check problematic field\(s\): \$((?:\.[^.\[\s]+|\[\d+\])*)", message)
    if checked:
        parts = re.findall(r"\.([^.\[]+)|\[(\d+)\]", checked.group(1))
        relative = tuple(name if name else int(index) for name, index in parts)
        paths.append(((*base, *relative), False))
    if field:
        paths.append(((*base, field.group(1)), True))
    words = [
        w
        for w in dict.fromkeys(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", message))
        if "_" in w or w.islower()
    ]
    for document in documents:
        for path, at_key in paths:
            located = _find(document, path, at_key, loose=base == ("file_mounts",))
            if located:
                return Issue(located[0], located[1], message, "", document.index, code)
        if field:
            located = _find_key(document, field.group(1))
            if located:
                return Issue(located[0], located[1], message, "", document.index, code)
        for word in words:
            located = _find_key(document, word)
            if located:
                return Issue(located[0], located[1], message, "", document.index, code)
    start = next((d for d in documents if d.data is not None), None)
    if start is None:
        return Issue(1, 1, message, "", 0, code)
    return Issue(start.line, start.column, message, "", start.index, code)


def _find(
    document: Any, path: tuple[Any, ...], at_key: bool, *, loose: bool
) -> tuple[int, int] | None:
    positions = document.positions
    if path in positions:
        position = positions[path]
        return (
            (position.key_line, position.key_column)
            if at_key
            else (position.value_line, position.value_column)
        )
    if loose and len(path) >= 1:
        # storage errors are relative to one file_mounts entry: try each of them
        for candidate in positions:
            if (
                len(candidate) == len(path) + 1
                and candidate[0] == path[0]
                and candidate[2:] == path[1:]
            ):
                position = positions[candidate]
                return (
                    (position.key_line, position.key_column)
                    if at_key
                    else (position.value_line, position.value_column)
                )
    return None


def _find_key(document: Any, name: str) -> tuple[int, int] | None:
    for path, position in document.positions.items():
        if path and path[-1] == name:
            return position.key_line, position.key_column
    return None
