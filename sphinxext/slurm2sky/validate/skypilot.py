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
from dataclasses import dataclass
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
                f"the skypilot engine cannot run {self.python!r}: {error}", python=self.python
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
                f"(Python {ready.get('python', '?')}), which cannot import it: {reason}",
                python=self.python,
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
                            f"(stopped): {tail or 'no output'}",
                            python=self.python,
                        )
                answer = process.stdout.readline()
            except (BrokenPipeError, OSError):
                answer = ""
            if not answer:
                tail = self._log_tail()
                self.close()
                raise EngineUnavailable(
                    f"the skypilot worker stopped: {tail or 'no output'}", python=self.python
                )
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
#
# SkyPilot raises one exception per document and names the offending field in its
# message, in a few forms: jsonschema's "Check problematic field(s): $.a.b", "Instead
# of 'x', did you mean 'y'?", a field in quotes or backquotes ('The "cpus" field ...'),
# a dotted path ("dashboard.external_links[0].regex"), a field name in the sentence
# ("num_nodes should be ..."), or a sentence of its own (the rules below). The field
# is found among the document's keys (the YAML is parsed here, with positions); when
# several keys fit (a pipeline, ``any_of`` candidates), the one whose value (or key) the
# message quotes wins. The position is the value's, or the key's for messages about a
# key (an unknown or misplaced field, an invalid env name, two fields that exclude each
# other: the second one). SkyPilot's own Python errors that name no field
# ("'list' object has no attribute 'items'") are located at the document's start.


@dataclass(frozen=True)
class _Target:
    """A field a message is about: the end of its path (``"*"``: any key), whether the
    key (not the value) is meant, the values the message quotes (to choose among
    several fields that fit), and whether the last fitting field is meant."""

    suffix: tuple[Any, ...]
    at_key: bool = False
    hints: tuple[str, ...] = ()
    last: bool = False
    #: the hint names the key (``suffix[-1]`` is ``"*"``) rather than the value
    hint_is_key: bool = False
    #: ``suffix`` is the whole path from the document's root
    exact: bool = False


#: SkyPilot 0.14.1 sentences that name their field in words of their own:
#: (pattern, field path suffix, at_key). ``{1}`` in the suffix is the first group.
_SENTENCES: tuple[tuple[re.Pattern[str], tuple[str, ...], bool], ...] = tuple(
    (re.compile(pattern), suffix, at_key)
    for pattern, suffix, at_key in (
        # resources (sky/resources.py)
        (r"^Cannot specify both gpus and accelerators", ("gpus",), True),
        (r"^Cannot specify both `infra` and", ("infra",), True),
        (r"^Priority is not consistent across resources", ("resources",), True),
        (r"not `resources\.hooks:`", ("resources", "hooks"), True),
        (r"^Invalid \w+ args: dict_keys\(\['([^']*)'", ("{1}",), True),
        (r"^Accelerator count must be", ("accelerators",), False),
        (r"^If specifying a GPU manufacturer", ("accelerators",), False),
        (r'^Cannot specify multiple "accelerators"', ("accelerators",), False),
        (r"^Cloud must be GCP or Kubernetes for TPU", ("accelerators",), False),
        (r"^Cannot specify instance type \(got", ("instance_type",), False),
        (r"^Invalid port(?: range)? ", ("ports",), False),
        (r"^Network volume .* must have", ("volumes",), False),
        (r"^image_id has both", ("image_id",), False),
        # task (sky/task.py)
        (r"^Only one input is allowed", ("inputs",), False),
        (r"^Unable to parse file_mount (.+):[^:]*$", ("file_mounts", "{1}"), False),
        (r"^Storage mount path cannot be empty", ("file_mounts", ""), True),
        (r"^Cannot use '([^']*)' as a destination path", ("file_mounts", "{1}"), True),
        (r"^config\.(\w+) can only be specified", ("config", "{1}"), True),
        (r"^(\w+) can only be specified when mode is", ("{1}",), True),
        # service (sky/serve/service_spec.py)
        (r'^When using "instance_aware_least_load" policy', ("load_balancing_policy",), True),
        (r"^Unknown load balancing policy", ("load_balancing_policy",), False),
        (r"^When using dict type target_qps_per_replica", ("replica_policy",), True),
        (r"\b(?:min|max)_replicas\b", ("replica_policy",), True),
        (r"^readiness_path must", ("readiness_probe",), False),
        (r"`post_data`", ("readiness_probe", "post_data"), False),
        (r"^Port must be between", ("service", "ports"), False),
        # pools (sky/serve/service_spec.py)
        (r"^(\w+) is not supported for pool", ("{1}",), True),
        (r"^Cannot specify `(\w+)` for cluster pool", ("{1}",), True),
        (r"^One of workers, or both min_workers and max_workers", ("pool",), True),
        (r"^min_workers \(", ("min_workers",), True),
        (r"^max_workers must be set when min_workers", ("min_workers",), True),
        # job groups (sky/utils/dag_utils.py)
        (
            r"^termination_delay references unknown job: ([^\s.]+)",
            ("termination_delay", "{1}"),
            False,
        ),
        # volumes (sky/volumes/volume.py)
        (r"^Invalid cloud \S+ for volume type", ("infra",), False),
    )
)
#: "Cannot specify both X and Y" / "Cannot set both X and Y": the second field's key.
_BOTH = re.compile(r"^Cannot (?:specify|set) both [`\"']?(\w+)[`\"']? and [`\"']?(\w+)[`\"']?")
_UNKNOWN_FIELD = re.compile(r"(?:Instead of|Found unsupported field) '([^']+)'")
#: Messages about a field that is missing: they name it, and no key is meant.
_MISSING = re.compile(r"must have a \"\w+\" field|missing required fields|is empty or contains")
#: Messages about a whole document of a job group (``dag_utils``): (pattern, index of
#: the document; the group is the job's number, 1-based, after the header).
_WHOLE_DOCUMENT = (
    (re.compile(r"^Job (\d+) in Job Group must have"), lambda m: int(m.group(1))),
    (re.compile(r"^Job Group header missing"), lambda m: 0),
)
_CHECKED = re.compile(r"Check problematic field\(s\): (\$\S*)")
_DOTTED = re.compile(r"\b([a-z_]\w*(?:\.[a-z_]\w*|\[\d+\])+)")
_QUOTED_FIELD = re.compile(r"[\"`]([a-z_][a-z0-9_]*)[\"`]")
_QUOTED = re.compile(r"'([^']*)'")
_GOT = re.compile(r"\b(?:Got|Found|got \w+):? ([^\s'\",]+?)\.?(?:\s|$)")


def _json_path_parts(text: str) -> tuple[Any, ...]:
    """``$.a.b[0]`` or ``$['a']['b'][0]`` -> ``("a", "b", 0)``."""
    parts: list[Any] = []
    for name, quoted, index in re.findall(r"\.([^.\[\]]+)|\['([^']*)'\]|\[(\d+)\]", text):
        parts.append(int(index) if index else (quoted if quoted else name))
    return tuple(parts)


def _json_path(path: tuple[Any, ...]) -> str:
    """The ``Issue.path`` form: ``$.resources.accelerators``, ``$.envs[1]`` for an
    integer key or a sequence index (as the embedded engine writes it)."""
    text = "$"
    for part in path:
        text += f"[{part}]" if isinstance(part, int) and not isinstance(part, bool) else f".{part}"
    return text


def _hints(message: str) -> tuple[str, ...]:
    """The values a message quotes: ``'x'`` and the word after ``Got:``/``Found:``."""
    return tuple(dict.fromkeys([*_QUOTED.findall(message), *_GOT.findall(message)]))


def _targets(message: str, documents: list[Any], base: tuple[Any, ...] = ()) -> list[_Target]:
    """The fields ``message`` may be about, best first; ``base``: the part of the
    document the message's stage is about (``("resources",)`` for "Invalid resources
    YAML: ...")."""
    hints = _hints(message)
    found: list[_Target] = []
    for pattern, suffix, at_key in _SENTENCES:
        match = pattern.search(message)
        if match:
            filled = tuple(match.group(1) if part == "{1}" else part for part in suffix)
            found.append(_Target(filled, at_key, hints))
    both = _BOTH.match(message)
    if both:
        found.append(_Target((both.group(2),), True))
    primary = re.match(r"^primary_tasks references unknown job: ([^\s.]+)", message)
    if primary:
        found.append(_Target(("primary_tasks", "*"), False, (primary.group(1),)))
    duplicate = re.match(r"^Duplicate job name in Job Group: (.+)$", message)
    if duplicate:
        found.append(_Target(("name",), False, (duplicate.group(1),), last=True))
    docker = re.match(
        r"^Docker login variables must be specified together (?:either )?in (envs|secrets)",
        message,
    )
    if docker:
        section = "envs" if "Found in envs" in message or docker.group(1) == "envs" else "secrets"
        present = sorted(
            key
            for document in documents
            if isinstance(document.data, dict) and isinstance(document.data.get(section), dict)
            for key in document.data[section]
            if str(key).startswith("SKYPILOT_DOCKER_")
        )
        if present:
            found.append(_Target((section, present[0]), True))
    label = re.match(r"^Invalid label (?:value|key) (.*?) for ", message)
    if label:
        found.append(_Target(("labels", "*"), True, (label.group(1),)))
    keys = re.search(r"The `(envs|secrets)` field contains invalid keys:\s*'([^']*)'", message)
    if keys:
        found.append(_Target((keys.group(1), "*"), True, (keys.group(2),), hint_is_key=True))
    checked = _CHECKED.search(message)
    if checked:
        # jsonschema's path, relative to the stage's part of the document (a storage
        # error is about one file_mounts entry: any of them)
        relative = _json_path_parts(checked.group(1))
        at_key = _UNKNOWN_FIELD.search(message) is not None
        if base == ("file_mounts",):
            found.append(_Target(("file_mounts", "*", *relative), at_key))
        elif relative or base:
            found.append(_Target((*base, *relative), at_key, exact=True))
    secret = re.match(r"^Invalid secret '([^']*)'", message)
    if secret:
        found.append(_Target(("secrets", "*"), True, (secret.group(1),), hint_is_key=True))
    if message.startswith("Invalid secret in array form"):
        found.append(_Target(("secrets", "*"), False, hints))
    if re.match(r"^Storage mount destination path cannot be cloud storage", message):
        found.append(
            _Target(("file_mounts", "*"), True, ("s3://", "gs://", "r2://", "az://", "cos://"))
        )
    unknown = _UNKNOWN_FIELD.search(message)
    if unknown:
        found.append(_Target((unknown.group(1),), True))
    if _MISSING.search(message):
        return found  # the field is not there: no other key is meant
    for dotted in _DOTTED.findall(message):
        parts = _json_path_parts("." + dotted)
        if len(parts) > 1:
            found.append(_Target(parts, False, hints))
    for name in dict.fromkeys(_QUOTED_FIELD.findall(message)):
        found.append(_Target((name,), False, hints))
    keys_of_documents = {
        path[-1]
        for document in documents
        for path in document.positions
        if path and isinstance(path[-1], str)
    }
    for word in dict.fromkeys(re.findall(r"\b[a-z_][a-z0-9_]*\b", message)):
        if word in keys_of_documents:
            found.append(_Target((word,), False, hints))
    return found


def _value_at(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        inside = (isinstance(data, dict) and part in data) or (
            isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data)
        )
        if not inside:
            return None
        data = data[part]
    return data


def _fits(path: tuple[Any, ...], suffix: tuple[Any, ...]) -> bool:
    if len(path) < len(suffix):
        return False
    tail = path[len(path) - len(suffix) :]
    return all(
        want == "*" or str(have) == str(want) for have, want in zip(tail, suffix, strict=True)
    )


def _resolve(
    documents: list[Any], base: tuple[Any, ...], target: _Target
) -> tuple[Any, tuple[Any, ...]] | None:
    """(document, path) of the field ``target`` names, or ``None``."""
    candidates = [
        (document, path)
        for document in documents
        for path in document.positions
        if _fits(path, target.suffix) and (len(path) == len(target.suffix) or not target.exact)
    ]
    if base:
        under = [(d, p) for d, p in candidates if p[: len(base)] == base]
        candidates = under or candidates
    if not candidates:
        return None
    if target.hints:

        def quoted(document: Any, path: tuple[Any, ...]) -> bool:
            if target.hint_is_key:
                return str(path[-1]) in target.hints
            if target.suffix[-1] == "*" and target.at_key:
                key, value = str(path[-1]), _value_at(document.data, path)
                return any(
                    hint and (hint in (key, str(value)) or key.startswith(hint))
                    for hint in target.hints
                )
            value = _value_at(document.data, path)
            return (
                value is not None
                and not isinstance(value, dict | list)
                and any(hint == str(value) or hint == _yaml_scalar(value) for hint in target.hints)
            )

        matching = [(d, p) for d, p in candidates if quoted(d, p)]
        if matching:
            candidates = matching
        elif target.hint_is_key or target.suffix[-1] == "*":
            return None
    return candidates[-1] if target.last else candidates[0]


def _yaml_scalar(value: Any) -> str:
    """How SkyPilot prints a scalar it read: ``True``, ``2.0``, ``None``."""
    return repr(value) if isinstance(value, str) else str(value)


def _locate(text: str, raw: dict[str, Any]) -> Issue:
    """An :class:`Issue` for one worker issue, located in ``text`` as well as its message
    allows (see the comment above), with the field's ``path`` when it names one."""
    message, code = raw["message"], raw.get("code") or "engine"
    if raw.get("line"):
        return Issue(raw["line"], raw.get("column") or 1, message, "", 0, code)
    from slurm2sky.validate.yaml11 import YamlError, load_documents

    try:
        documents, duplicates = load_documents(text)
    except YamlError as error:  # e.g. a date PyYAML cannot build: the parser's position
        return Issue(error.line, error.column, message, "", error.document, code)
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
    for target in _targets(message, documents, base):
        located = _resolve(documents, base, target)
        if located:
            return _issue_at(located, target.at_key, message, code)
    for pattern, index in _WHOLE_DOCUMENT:
        match = pattern.match(message)
        if match and index(match) < len(documents):
            document = documents[index(match)]
            return Issue(document.line, document.column, message, "", document.index, code)
    start = next((d for d in documents if d.data is not None), documents[0] if documents else None)
    if start is None:
        return Issue(1, 1, message, "", 0, code)
    return Issue(start.line, start.column, message, "", start.index, code)


def _issue_at(located: tuple[Any, tuple[Any, ...]], at_key: bool, message: str, code: str) -> Issue:
    document, path = located
    position = document.positions[path]
    line, column = (
        (position.key_line, position.key_column)
        if at_key
        else (position.value_line, position.value_column)
    )
    return Issue(line, column, message, _json_path(path), document.index, code)
