"""The ``skypilot`` engine's worker: SkyPilot's own client-side loaders, one request at
a time, over JSON lines on stdin/stdout.

Run as ``python -m slurm2sky.validate._skypilot_worker`` by a Python that has skypilot
installed, with ``HOME`` a temporary directory (``import sky`` writes ``~/.sky``) and
this package on ``PYTHONPATH``; :class:`slurm2sky.validate.skypilot.SkyPilotEngine`
starts it. It imports nothing else from slurm2sky and runs on any Python SkyPilot runs
on.

Protocol: the worker first writes ``{"ready": true, "skypilot": "<version>", "python":
"<version>"}`` (or ``{"ready": false, "error": "..."}`` and exits 3 when skypilot
cannot be imported). Then, for each request line ``{"id", "op": "text"|"data", "kind",
"text" | "data" (base64 pickle), "env": {...}, "source"}`` it writes one line ``{"id",
"issues": [{"message", "error", "code", "line", "column"}], "needs_env": [...]}``.

What runs, per kind (SkyPilot 0.14.1 names):

* task text: ``dag_utils.load_dag_from_yaml(path, env_overrides)`` on a temporary file
  (job group or chain, as ``sky launch`` does), after ``yaml.safe_load_all`` for syntax
  errors and the CLI's "a YAML string is a command" rule; task data:
  ``Task.from_yaml_config``;
* config: ``skypilot_config.parse_and_validate_config_file`` (a YAML error, which that
  function only logs, is reported);
* volume: the CLI's ``sky volumes apply FILE`` reading, ``Volume.from_yaml_config`` and
  ``Volume.validate()``.

Null envs not given get a placeholder value and are reported in ``needs_env``.
Network access is refused (an audit hook): a document whose loading would reach the
network is reported with code ``network``. The server tier (``validate()``,
``--dryrun``, the SDK) is never called.
"""

import base64
import copy
import json
import os
import pickle
import sys
import tempfile
import traceback

PLACEHOLDER = "placeholder"
_NETWORK_EVENTS = (
    "socket.connect",
    "socket.getaddrinfo",
    "socket.gethostbyname",
    "socket.gethostbyname_ex",
)


class NetworkRefused(RuntimeError):
    pass


def _refuse_network(event, args):
    if event in _NETWORK_EVENTS:
        raise NetworkRefused(
            "SkyPilot tried to reach the network ({} {!r}); the skypilot engine checks "
            "documents offline".format(event, args[1:2] if event == "socket.connect" else args[:1])
        )


def _issue(message, error="", code="", line=0, column=0):
    return {"message": message, "error": error, "code": code, "line": line, "column": column}


def _null_envs(config):
    if isinstance(config, dict) and isinstance(config.get("envs"), dict):
        return [str(k) for k, v in config["envs"].items() if v is None]
    return []


def _exception_issue(error):
    name = type(error).__name__
    code = "engine"
    if isinstance(error, NetworkRefused):
        code = "network"
    elif name == "InvalidSkyPilotConfigError":
        code = "schema"
    elif isinstance(error, ValueError) and str(error).startswith("Duplicate key"):
        code = "duplicate-key"
    elif isinstance(error, (ValueError, AssertionError, TypeError, AttributeError, KeyError)):
        code = "value"
    message = str(error) or name
    mark = getattr(error, "problem_mark", None)  # a YAML error raised while loading a file
    if mark is not None:
        return _issue(message, name, "yaml", mark.line + 1, mark.column + 1)
    return _issue(message, name, code)


class Worker:
    def __init__(self):
        import yaml
        from sky.utils import dag_utils

        self.yaml = yaml
        self.dag_utils = dag_utils
        self.folder = tempfile.mkdtemp(prefix="slurm2sky-worker-")
        self.count = 0
        self._last = "\0"

    def _file(self, text):
        self.count += 1
        path = os.path.join(self.folder, f"document-{self.count}.yaml")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
        self._last = path
        return path

    def _yaml_error(self, error):
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or str(error)
        context = getattr(error, "context", None)
        message = f"{context}: {problem}" if context and problem else str(problem)
        if mark is not None:
            return _issue(message, type(error).__name__, "yaml", mark.line + 1, mark.column + 1)
        return _issue(message, type(error).__name__, "yaml")

    def handle(self, request):
        op, kind = request["op"], request["kind"]
        env = dict(request.get("env") or {})
        if op == "text":
            issues, needs = self.text(request["text"], kind, env)
            source = request.get("source") or "<text>"
            for issue in issues:  # the temporary file stands for the caller's file
                issue["message"] = issue["message"].replace(self._last, source)
            return issues, needs
        data = pickle.loads(base64.b64decode(request["data"]))
        return self.data(data, kind, env)

    # -- texts

    def text(self, text, kind, env):
        try:
            if kind == "config":
                configs = [self.yaml.safe_load(text)]
            else:
                configs = list(self.yaml.safe_load_all(text))
        except self.yaml.YAMLError as error:
            return [self._yaml_error(error)], []
        except Exception as error:  # a value PyYAML cannot construct (bad date, ...)
            return [_issue(str(error), type(error).__name__, "yaml")], []
        path = self._file(text)
        try:
            if kind == "task":
                return self._task_text(path, configs, env)
            if kind == "config":
                from sky import skypilot_config

                try:
                    skypilot_config.parse_and_validate_config_file(path)
                except Exception as error:
                    return [_exception_issue(error)], []
                return [], []
            if kind == "volume":
                return self._volume_file(path, configs), []
            raise ValueError(f"unknown kind {kind!r}")
        finally:
            os.unlink(path)

    def _task_text(self, path, configs, env):
        first = configs[0] if configs else {}
        if isinstance(first, str):
            return [
                _issue(
                    "The YAML is a string, not a task: sky would run it as a shell command.",
                    "",
                    "structure",
                )
            ], []
        try:
            job_group = self.dag_utils._is_job_group_configs(configs)
        except Exception:
            job_group = False
        tasks = configs[1:] if job_group else configs
        needs = sorted({name for c in tasks for name in _null_envs(c) if name not in env})
        overrides = list(env.items()) + [(name, PLACEHOLDER) for name in needs]
        try:
            self.dag_utils.load_dag_from_yaml(path, env_overrides=overrides)
        except Exception as error:
            return [_exception_issue(error)], needs
        return [], needs

    def _volume_file(self, path, configs):
        from sky.volumes import volume as volume_lib

        try:
            try:
                from sky.client.cli.command import _check_yaml_only

                is_yaml, config, _provided, reason = _check_yaml_only(path)
            except ImportError:
                is_yaml, config, reason = True, (configs[0] if configs else {}), ""
            if not is_yaml:
                return [
                    _issue(
                        f"{os.path.basename(path)!r} needs to be a YAML file {reason}".strip(),
                        "BadParameter",
                        "structure",
                    )
                ]
            # as volumes_apply: a copy of the first document, updated with the (here
            # empty) command-line overrides; a non-mapping document fails there
            settings = {}
            if config is not None:
                settings = config.copy()
                settings.update({})
            volume = volume_lib.Volume.from_yaml_config(settings)
            volume.validate()
        except Exception as error:
            return [_exception_issue(error)]
        return []

    # -- parsed documents

    def data(self, data, kind, env):
        needs = []
        try:
            if kind == "task":
                from sky import task as task_lib

                needs = sorted({name for name in _null_envs(data) if name not in env})
                overrides = list(env.items()) + [(name, PLACEHOLDER) for name in needs]
                task_lib.Task.from_yaml_config(copy.deepcopy(data), overrides)
                return [], needs
            if kind == "config":
                from sky import skypilot_config

                if data:
                    skypilot_config._validate_config(copy.deepcopy(data), "<data>")
                return [], []
            if kind == "volume":
                from sky.volumes import volume as volume_lib

                volume = volume_lib.Volume.from_yaml_config(dict(copy.deepcopy(data)))
                volume.validate()
                return [], []
            raise ValueError(f"unknown kind {kind!r}")
        except Exception as error:
            return [_exception_issue(error)], needs


def main():
    protocol = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)  # whatever SkyPilot prints goes to stderr, not into the protocol
    sys.stdout = sys.stderr
    os.environ.setdefault("SKYPILOT_DISABLE_USAGE_COLLECTION", "1")
    try:
        import sky

        worker = Worker()
    except BaseException as error:
        protocol.write(
            json.dumps(
                {
                    "ready": False,
                    "error": f"{type(error).__name__}: {error}",
                    "python": sys.version.split()[0],
                    "executable": sys.executable,
                }
            )
            + "\n"
        )
        return 3
    sys.addaudithook(_refuse_network)
    protocol.write(
        json.dumps(
            {
                "ready": True,
                "skypilot": getattr(sky, "__version__", "unknown"),
                "commit": getattr(sky, "__commit__", None),
                "python": sys.version.split()[0],
            }
        )
        + "\n"
    )
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        try:
            issues, needs = worker.handle(request)
        except BaseException as error:
            traceback.print_exc()
            issues, needs = (
                [_issue(f"{type(error).__name__}: {error}", type(error).__name__, "engine")],
                [],
            )
        protocol.write(
            json.dumps({"id": request.get("id"), "issues": issues, "needs_env": needs}) + "\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
