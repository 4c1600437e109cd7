"""The embedded engine: SkyPilot's client-side checks without SkyPilot.

It follows what ``sky launch task.yaml`` / ``sky jobs launch`` do on the client in
SkyPilot 0.14.1 before contacting the API server, step by step:

* reading: ``dag_utils.is_job_group_yaml`` / ``load_job_group_from_yaml`` (no duplicate
  key check) or ``load_chain_dag_from_yaml`` (duplicate keys, empty file, pipeline
  header), YAML 1.1 values as PyYAML gives them (:mod:`slurm2sky.validate.yaml11`);
* ``Task.from_yaml_config``: ``str()`` of ``envs``/``secrets``, the task schema with
  null top-level fields dropped, ``--env`` overrides, null envs, ``$VAR``/``${VAR}``
  substitution into ``file_mounts``, ``service``, ``workdir`` and ``volumes``, the
  ``secrets`` forms, the docker-login trio, ``num_nodes``, file mounts (copy, storage,
  volume), storage (schema and ``Storage`` constructor), ``inputs``/``outputs``,
  ``config.hooks`` vs ``resources.hooks``, resources, service/pool, volume mounts and
  the final "no unknown field left" assertion;
* ``Resources.from_yaml_config``: the ``gpus`` alias, the resources schema,
  ``any_of``/``ordered``, the accelerators list, and the ``Resources`` constructor
  (infra, disk size and tier, image, ports, cpus, memory, accelerators and TPUs,
  autostop, volumes, local disk);
* ``SkyServiceSpec.from_yaml_config`` and its constructor;
* config files: ``skypilot_config.parse_and_validate_config_file``; volume files:
  ``Volume.from_yaml_config`` and ``Volume.validate()``.

Schemas come from the embedded snapshot (:func:`slurm2sky.validate.snapshot`) and are
checked with jsonschema's Draft 7 extended with SkyPilot's ``case_insensitive_enum`` and
``case_sensitive_enum`` keywords (``sky/utils/validator.py``), built once per process.
Messages reproduce ``common_utils.validate_schema``. jsonschema is imported on first
use only.

Unlike SkyPilot, which stops at the first problem, the engine reports every problem
it can find independently; the verdict (valid / needs env / invalid) is SkyPilot's.
The server-tier checks (task name, catalog lookups, cloud credentials, volume
existence, local paths) are not client-side checks and are not made.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from slurm2sky.validate import rules
from slurm2sky.validate.model import Issue, Verdict
from slurm2sky.validate.yaml11 import Document, YamlError, load_documents

__all__ = ["PLACEHOLDER", "EmbeddedEngine", "infer_kind", "null_envs"]

Path = tuple[Any, ...]
Locate = Callable[[Path], Path]

#: The value a null env takes when it is not given: what the document is checked with
#: (both engines use the same one, so ``$VAR`` substitution agrees).
PLACEHOLDER = "placeholder"

_ENV_SUBST = re.compile(r"\$\{?\b([a-zA-Z_][a-zA-Z0-9_]*)\b\}?")
_TASK_PREFIX = "Invalid task YAML: "
_RESOURCES_PREFIX = "Invalid resources YAML: "
_STORAGE_PREFIX = "Invalid storage YAML: "
_SERVICE_PREFIX = "Invalid service YAML: "
_VOLUME_MOUNT_PREFIX = "Invalid volume mount config: "
_VOLUME_PREFIX = "Invalid volumes config: "
_CONFIG_PREFIX = (
    "Invalid config YAML from ({source}). See: "
    "https://docs.skypilot.co/en/latest/reference/config.html. Error: "
)
_DASHBOARD_VARIABLES = ("cluster_name", "job_id", "job_name", "user", "workspace")

#: task fields Task.from_yaml_config pops (always, or -- inputs/outputs -- when set)
_TASK_POPPED = frozenset(
    {
        "name",
        "run",
        "workdir",
        "setup",
        "num_nodes",
        "envs",
        "secrets",
        "volumes",
        "event_callback",
        "api_server_access",
        "file_mounts_mapping",
        "_metadata",
        "managed_secrets",
        "file_mounts",
        "config",
        "resources",
        "service",
        "pool",
        "volume_mounts",
    }
)
#: resources fields Resources._from_yaml_config_single pops
_RESOURCES_POPPED = frozenset(
    {
        "infra",
        "cloud",
        "region",
        "zone",
        "instance_type",
        "cpus",
        "memory",
        "accelerators",
        "accelerator_args",
        "use_spot",
        "job_recovery",
        "disk_size",
        "image_id",
        "disk_tier",
        "network_tier",
        "local_disk",
        "max_hourly_cost",
        "ports",
        "labels",
        "autostop",
        "hooks",
        "priority",
        "priority_class",
        "volumes",
        "_docker_login_config",
        "_docker_username_for_runpod",
        "_is_image_managed",
        "_requires_fuse",
        "_cluster_config_overrides",
        "_no_missing_accel_warnings",
        "ephemeral_storage",
    }
)
_STORAGE_POPPED = frozenset(
    {
        "name",
        "source",
        "store",
        "mode",
        "type",
        "_force_delete",
        "_is_sky_managed",
        "_bucket_sub_path",
        "persistent",
        "config",
    }
)


# ---------------------------------------------------------------------------
# Schemas and validators (built once per process)


def _schemas() -> Mapping[str, Any]:
    """The snapshot's schemas, from the copy :mod:`~slurm2sky.validate.commands` reads
    once per process (shared: do not modify)."""
    from slurm2sky.validate.commands import snapshot_data

    return snapshot_data()["schemas"]


@cache
def _validator_class() -> Any:
    """Draft 7 plus SkyPilot's two enum keywords (``sky/utils/validator.py``)."""
    import jsonschema

    def case_insensitive_enum(validator: Any, enums: Any, instance: Any, schema: Any) -> Any:
        if isinstance(instance, str) and instance.lower() not in [e.lower() for e in enums]:
            yield jsonschema.ValidationError(f"{instance!r} is not one of {enums!r}")

    def case_sensitive_enum(validator: Any, enums: Any, instance: Any, schema: Any) -> Any:
        if isinstance(instance, str) and instance not in enums:
            yield jsonschema.ValidationError(f"{instance!r} is not one of {enums!r}")

    return jsonschema.validators.extend(
        jsonschema.Draft7Validator,
        validators={
            "case_insensitive_enum": case_insensitive_enum,
            "case_sensitive_enum": case_sensitive_enum,
        },
    )


@cache
def _validator(name: str) -> Any:
    return _validator_class()(_schemas()[name])


def warm_up() -> None:
    """Build every validator now (otherwise each is built on first use)."""
    for name in ("task", "resources", "storage", "service", "volume_mount", "volume", "config"):
        _validator(name)


def _json_path(path: Path) -> str:
    text = "$"
    for part in path:
        text += f"[{part}]" if isinstance(part, int) and not isinstance(part, bool) else f".{part}"
    return text


# ---------------------------------------------------------------------------
# Collecting issues


class _Report:
    """Issues of one YAML document, located through the document's positions."""

    def __init__(self, document: Document | None, index: int, issues: list[Issue]):
        self.document = document
        self.index = index
        self.issues = issues
        self._seen: set[tuple[str, str]] = set()

    def add(
        self, message: str, path: Path = (), code: str = "value", *, at_key: bool = False
    ) -> None:
        key = (_json_path(path), message)
        if key in self._seen:
            return
        self._seen.add(key)
        if self.document is not None:
            line, column = self.document.locate(path, at_key=at_key)
        else:
            line = column = 0
        self.issues.append(Issue(line, column, message, key[0] if path else "", self.index, code))

    def schema(
        self,
        obj: Any,
        schema: str,
        prefix: str,
        locate: Locate,
        *,
        skip_none: bool = True,
        envs_hack: bool = False,
    ) -> bool:
        """``common_utils.validate_schema(obj, schema, prefix, skip_none)``; every error
        becomes an issue in SkyPilot's words; returns whether ``obj`` is valid."""
        if skip_none and isinstance(obj, dict):
            obj = {k: v for k, v in obj.items() if v is not None}
        errors = list(_validator(schema).iter_errors(obj))
        for error in errors:
            self._schema_error(error, prefix, locate, envs_hack)
        return not errors

    def _schema_error(self, error: Any, prefix: str, locate: Locate, envs_hack: bool) -> None:
        import jsonschema

        where = tuple(error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            if envs_hack and tuple(error.schema_path) == (
                "properties",
                "envs",
                "additionalProperties",
            ):
                patterns = list(error.schema.get("patternProperties", {}))
                bad = [
                    key
                    for key in error.instance
                    if not any(re.search(pattern, key) for pattern in patterns)
                ]
                self.add(
                    f"{prefix}The `envs` field contains invalid keys:\n{error.message}",
                    locate((*where, bad[0]) if bad else where),
                    "schema",
                    at_key=bool(bad),
                )
                return
            known = set(error.schema.get("properties", {}))
            for field in error.instance:
                if field in known:
                    continue
                close = difflib.get_close_matches(field, known, 1) if isinstance(field, str) else []
                hint = (
                    f"Instead of {field!r}, did you mean {close[0]!r}?"
                    if close
                    else f"Found unsupported field {field!r}."
                )
                self.add(prefix + hint, locate((*where, field)), "schema", at_key=True)
            return
        best = jsonschema.exceptions.best_match([error])
        message = best.message.replace("type 'object'", "type 'dict'")
        self.add(
            f"{prefix}{message}. Check problematic field(s): {best.json_path}",
            locate(tuple(best.absolute_path)),
            "schema",
        )


def _under(base: Path) -> Locate:
    return lambda path: (*base, *path)


def _twin_path(original: Any, changed: Any, path: Path) -> Path:
    """The path in ``original`` of ``path`` in ``changed``, a copy of it whose strings
    (keys included) may differ (``$VAR`` substitution through JSON)."""
    result: list[Any] = []
    for part in path:
        if isinstance(changed, dict) and isinstance(original, dict):
            keys = list(changed)
            if part not in changed or keys.index(part) >= len(original):
                result.append(part)
                break
            twin = list(original)[keys.index(part)]
            result.append(twin)
            original, changed = original[twin], changed[part]
        elif isinstance(changed, list) and isinstance(original, list):
            result.append(part)
            if not isinstance(part, int) or part >= len(original) or part >= len(changed):
                break
            original, changed = original[part], changed[part]
        else:
            result.append(part)
            break
    return tuple(result) + tuple(path[len(result) :])


def _fill_in_env_vars(field: Any, values: Mapping[str, str]) -> Any:
    """``task._fill_in_env_vars``: dump to JSON, replace ``$NAME``/``${NAME}`` of known
    names, parse back. Raises what that does (``TypeError`` for values JSON cannot
    hold, ``json.JSONDecodeError`` when a value breaks the JSON)."""
    text = json.dumps(field)
    text = _ENV_SUBST.sub(lambda match: values.get(match.group(1), match.group(0)), text)
    return json.loads(text)


def _exception_text(error: BaseException) -> str:
    return str(error) or type(error).__name__


def null_envs(data: Any) -> list[str]:
    """Names of the ``envs`` of a task document whose value is null (``str()`` of each
    key, as SkyPilot coerces them)."""
    if isinstance(data, dict) and isinstance(data.get("envs"), dict):
        return [str(key) for key, value in data["envs"].items() if value is None]
    return []


# ---------------------------------------------------------------------------
# Task


class _TaskCheck:
    """``Task.from_yaml_config`` for one task document."""

    def __init__(self, report: _Report, env: Mapping[str, str]):
        self.report = report
        self.env = env

    def add(self, message: str, path: Path = (), code: str = "value", **kw: Any) -> None:
        self.report.add(message, path, code, **kw)

    def run(self, data: Any) -> None:
        if not isinstance(data, dict):
            self.add(
                f"A task must be a mapping of fields, not a {type(data).__name__} "
                f"(SkyPilot: {type(data).__name__!r} object has no attribute 'pop').",
                (),
                "structure",
            )
            return
        config = dict(data)
        config.pop("_user_specified_yaml", None)
        env_keys: dict[str, Any] = {}
        if isinstance(config.get("envs"), dict):
            coerced: dict[str, Any] = {}
            for key, value in config["envs"].items():
                env_keys[str(key)] = key
                coerced[str(key)] = None if value is None else str(value)
            config["envs"] = coerced
        secrets = config.get("secrets")
        secret_keys: dict[str, Any] = {}
        if isinstance(secrets, dict):
            coerced = {}
            for key, value in secrets.items():
                secret_keys[str(key)] = key
                coerced[str(key)] = None if value is None else str(value)
            config["secrets"] = coerced
        elif isinstance(secrets, list):
            config["secrets"] = [str(item) for item in secrets]

        def locate(path: Path) -> Path:
            if len(path) >= 2 and path[0] == "envs" and path[1] in env_keys:
                return ("envs", env_keys[path[1]], *path[2:])
            if len(path) >= 2 and path[0] == "secrets" and path[1] in secret_keys:
                return ("secrets", secret_keys[path[1]], *path[2:])
            return path

        before = len(self.report.issues)
        self.report.schema(config, "task", _TASK_PREFIX, locate, envs_hack=True)
        broken = {
            issue.path.split(".")[1].split("[")[0]
            for issue in self.report.issues[before:]
            if issue.path.count(".")
        }
        if len(self.report.issues) > before and not broken:
            return
        self._after_schema(config, broken)

    def _after_schema(self, config: dict[str, Any], broken: set[str]) -> None:
        # 3-4. --env overrides, then null envs (Task.from_yaml_config)
        if "envs" in config and config["envs"] is None:
            self.add(
                "`envs:` has no value; SkyPilot 0.14.1 fails on it ('NoneType' object has "
                "no attribute 'update'). Give it a mapping of envs or remove it.",
                ("envs",),
                "structure",
                at_key=True,
            )
            return
        envs = dict(config["envs"]) if isinstance(config.get("envs"), dict) else {}
        envs.update(self.env)
        config["envs"] = envs
        for key, value in envs.items():
            if value is None:
                self.add(
                    f"Environment variable {key!r} is None. Please set a value for it in "
                    "task YAML or with --env flag. To set it to be empty, use an empty "
                    f'string ({key}: "" in task YAML or --env {key}="" in CLI).',
                    ("envs", key),
                    "value",
                )
        # 5. $VAR substitution into file_mounts, service, workdir, volumes
        secrets = config.get("secrets")
        inline = (
            {k: v for k, v in secrets.items() if v is not None} if isinstance(secrets, dict) else {}
        )
        values = {k: v for k, v in envs.items() if v is not None}
        values.update(inline)
        originals: dict[str, Any] = {}
        for field in ("file_mounts", "service", "workdir", "volumes"):
            if config.get(field) is not None and field not in broken:
                try:
                    substituted = _fill_in_env_vars(config[field], values)
                except (TypeError, ValueError) as error:
                    self.add(
                        f"Cannot substitute envs into `{field}`: {_exception_text(error)}",
                        (field,),
                        "value",
                    )
                    broken.add(field)
                    continue
                originals[field] = config[field]
                config[field] = substituted

        def locate(field: str) -> Locate:
            def inner(path: Path) -> Path:
                if field in originals:
                    return (field, *_twin_path(originals[field], config[field], path))
                return (field, *path)

            return inner

        # 6. secrets: list form (references) and dict form
        raw_secrets = config.get("secrets")
        inline_secrets: dict[str, Any] = {}
        if isinstance(raw_secrets, list) and "secrets" not in broken:
            for index, item in enumerate(raw_secrets):
                if not item.startswith("secrets:"):
                    self.add(
                        f"Invalid secret in array form: {item!r}. Array items must use the "
                        "secrets: prefix (e.g., secrets:HF_TOKEN). For inline secrets with "
                        'values, use dict form: secrets: {MY_SECRET: "value"}',
                        ("secrets", index),
                        "structure",
                    )
        elif isinstance(raw_secrets, dict) and "secrets" not in broken:
            for key, value in raw_secrets.items():
                if key.startswith("secrets:"):
                    if value is not None:
                        self.add(
                            f"Invalid secret {key!r}: secret references (secrets: prefix) must "
                            "have a null value in dict form. To provide an inline secret "
                            "value, remove the 'secrets:' prefix.",
                            ("secrets", key),
                            "structure",
                            at_key=True,
                        )
                elif value is not None:
                    inline_secrets[key] = value

        # 7. Task(...): docker login trio, num_nodes
        if envs or inline_secrets:
            self._docker_login(envs, inline_secrets)
        num_nodes = config.get("num_nodes")
        positive = isinstance(num_nodes, int) and not isinstance(num_nodes, bool) and num_nodes > 0
        if "num_nodes" not in broken and num_nodes is not None and not positive:
            self.add(
                f"num_nodes should be a positive int. Got: {num_nodes}", ("num_nodes",), "value"
            )

        # 9-11. file mounts: copy, volume, storage
        volumes: list[dict[str, Any]] = []
        file_mounts = config.get("file_mounts")
        if isinstance(file_mounts, dict) and "file_mounts" not in broken:
            self._file_mounts(file_mounts, config, volumes, locate("file_mounts"))

        # 12. inputs / outputs
        for field in ("inputs", "outputs"):
            value = config.get(field)
            if (
                value is not None
                and field not in broken
                and isinstance(value, dict)
                and len(value) != 1
            ):
                self.add(f"Only one {field[:-1]} is allowed.", (field,), "structure")

        # 13. config.hooks vs resources.hooks, then resources
        override = config.get("config") or {}
        hooks = None
        if isinstance(override, dict):
            override = dict(override)
            hooks = override.pop("hooks", None)
        resources = config.get("resources") or {}
        if isinstance(resources, dict) and "resources" not in broken:
            resources = dict(resources)
            if "hooks" in resources:
                self.add(
                    "Lifecycle hooks live under top-level `config.hooks:`, not "
                    "`resources.hooks:`. Move the list to `config.hooks` at the top level "
                    "of the task YAML.",
                    ("resources", "hooks"),
                    "structure",
                    at_key=True,
                )
                resources.pop("hooks")
            if hooks is not None:
                resources["hooks"] = hooks
            if override and "config" not in broken:
                if resources.get("_cluster_config_overrides") is not None:
                    self.add(
                        "Cannot set _cluster_config_overrides in both resources and "
                        "experimental.config_overrides",
                        ("resources", "_cluster_config_overrides"),
                        "structure",
                        at_key=True,
                    )
                resources["_cluster_config_overrides"] = override
            if volumes:
                resources["volumes"] = volumes
            checker = _ResourcesCheck(self.report)
            chosen = checker.run(resources, _under(("resources",)))
            if chosen:
                self._priorities(chosen)

        # 16. service / pool
        service, pool = config.get("service"), config.get("pool")
        if service is not None and pool is not None:
            self.add(
                "Cannot set both service and pool in the same task.",
                ("pool",),
                "structure",
                at_key=True,
            )
        elif service is not None and "service" not in broken:
            _ServiceCheck(self.report, locate("service")).run(service)
        elif pool is not None and "pool" not in broken:
            wrapped = {"pool": pool} if isinstance(pool, dict) else {"pool": {}}
            _ServiceCheck(self.report, lambda path: ("pool", *path[1:])).run(wrapped)

        # 17. volume mounts
        mounts = config.get("volume_mounts")
        if isinstance(mounts, list) and "volume_mounts" not in broken:
            for index, mount in enumerate(mounts):
                self._volume_mount(mount, ("volume_mounts", index))

        # 18. nothing left: null fields SkyPilot does not know, null inputs/outputs
        leftover = [key for key in config if key not in _TASK_POPPED and config[key] is None]
        if leftover:
            for key in leftover:
                self.add(
                    f"Invalid task args: dict_keys({leftover!r}) (a field without a value "
                    "that SkyPilot does not accept here)",
                    (key,),
                    "schema",
                    at_key=True,
                )

    def _docker_login(self, envs: Mapping[str, Any], secrets: Mapping[str, Any]) -> None:
        """``task._check_docker_login_config``."""
        every = rules.DOCKER_LOGIN_ENV_VARS
        in_envs, in_secrets = every & set(envs), every & set(secrets)
        if in_envs and in_secrets:
            self.add(
                "Docker login variables must be specified together either in envs OR "
                f"secrets, not split across both. Found in envs: {sorted(in_envs)}, Found in "
                f"secrets: {sorted(in_secrets)}",
                ("envs", sorted(in_envs)[0]),
                "structure",
                at_key=True,
            )
            return
        # At most one of the two is non-empty here: SkyPilot's two "in <where>" messages.
        for where, found in (("envs", in_envs), ("secrets", in_secrets)):
            if found and found != every:
                self.add(
                    f"Docker login variables must be specified together in {where}. "
                    f"Missing from {where}: {sorted(every - found)}",
                    (where, sorted(found)[0]),
                    "structure",
                    at_key=True,
                )

    def _file_mounts(
        self,
        file_mounts: dict[Any, Any],
        config: dict[str, Any],
        volumes: list[dict[str, Any]],
        locate: Locate,
    ) -> None:
        storages: list[tuple[Any, dict[str, Any]]] = []
        for dst, src in file_mounts.items():
            if isinstance(src, str):
                continue
            if isinstance(src, dict):
                if src.get("store") == "volume":
                    volume: dict[str, Any] = {"path": dst}
                    if src.get("name"):
                        volume["name"] = src.get("name")
                    volume["auto_delete"] = not src.get("persistent", False)
                    try:
                        volume.update(src.get("config", {}))
                    except (TypeError, ValueError) as error:
                        self.report.add(
                            _exception_text(error), locate((dst, "config")), "structure"
                        )
                        continue
                    volumes.append(volume)
                else:
                    storages.append((dst, src))
            else:
                self.report.add(
                    f"Unable to parse file_mount {dst}:{src}", locate((dst,)), "structure"
                )
        for dst, src in storages:
            where = locate((dst,))
            if not dst:
                self.report.add(
                    "Storage mount path cannot be empty.", where, "structure", at_key=True
                )
                continue
            if _StorageCheck(self.report, _under(where)).run(src):
                if dst == rules.SKY_REMOTE_WORKDIR and config.get("workdir") is not None:
                    self.report.add(
                        f"Cannot use {rules.SKY_REMOTE_WORKDIR!r} as a destination path of a "
                        "file mount, as it will be used by the workdir. If uploading a "
                        "file/folder to the workdir is needed, please specify the full path "
                        "to the file/folder.",
                        where,
                        "structure",
                        at_key=True,
                    )
                if _netloc(dst):
                    self.report.add(
                        "Storage mount destination path cannot be cloud storage",
                        where,
                        "structure",
                        at_key=True,
                    )

    def _priorities(self, chosen: list[dict[str, Any]]) -> None:
        """``Task._ensure_consistent_priority``."""
        found = {c["priority"] for c in chosen if c.get("priority") is not None}
        if len(found) > 1:
            self.add(
                f"Priority is not consistent across resources: {sorted(found)}",
                ("resources",),
                "structure",
                at_key=True,
            )

    def _volume_mount(self, mount: Any, where: Path) -> None:
        """``VolumeMount.from_yaml_config``: the volume-mount schema, then
        ``models.VolumeConfig`` (pydantic) for ``volume_config``."""
        if not isinstance(mount, dict):
            return
        if not self.report.schema(mount, "volume_mount", _VOLUME_MOUNT_PREFIX, _under(where)):
            return
        config = mount.get("volume_config")
        if not isinstance(config, dict):
            self.add(
                "volume_config: Input should be a valid dictionary or instance of VolumeConfig",
                (*where, "volume_config"),
                "schema",
            )
            return
        for field, kind in (
            ("name", str),
            ("type", str),
            ("cloud", str),
            ("name_on_cloud", str),
            ("region", (str, type(None))),
            ("zone", (str, type(None))),
            ("size", (str, type(None))),
        ):
            if field not in config:
                self.add(
                    f"volume_config.{field}: Field required", (*where, "volume_config"), "schema"
                )
            elif not isinstance(config[field], kind):
                self.add(
                    f"volume_config.{field}: Input should be a valid string",
                    (*where, "volume_config", field),
                    "schema",
                )


def _netloc(path: Any) -> str:
    from urllib.parse import urlsplit

    try:
        return urlsplit(str(path)).netloc
    except ValueError:
        return ""


# ---------------------------------------------------------------------------
# Storage


class _StorageCheck:
    """``Storage.from_yaml_config`` and the ``Storage`` constructor."""

    def __init__(self, report: _Report, locate: Locate):
        self.report = report
        self.locate = locate

    def run(self, config: dict[str, Any]) -> bool:
        before = len(self.report.issues)
        if not self.report.schema(config, "storage", _STORAGE_PREFIX, self.locate):
            return False
        mode = config.get("mode")
        mode = mode.upper() if isinstance(mode, str) else "MOUNT"
        settings = config.get("config") or {}
        if config.get("type") is not None and mode != "MOUNT_CACHED":
            self._add(
                f"type can only be specified when mode is MOUNT_CACHED. Got mode={mode}.",
                ("type",),
            )
        if isinstance(settings, dict):
            if settings.get("mount_cached") is not None and mode != "MOUNT_CACHED":
                self._add(
                    "config.mount_cached can only be specified when mode is MOUNT_CACHED. "
                    f"Got mode={mode}.",
                    ("config", "mount_cached"),
                )
            if settings.get("mount") is not None and mode != "MOUNT":
                self._add(
                    f"config.mount can only be specified when mode is MOUNT. Got mode={mode}.",
                    ("config", "mount"),
                )
        leftover = [key for key in config if key not in _STORAGE_POPPED]
        for key in leftover:
            self.report.add(
                f"Invalid storage args: dict_keys({leftover!r}) (a field without a value that "
                "SkyPilot does not accept here)",
                self.locate((key,)),
                "schema",
                at_key=True,
            )
        return len(self.report.issues) == before

    def _add(self, message: str, path: Path) -> None:
        self.report.add(message, self.locate(path), "structure", at_key=True)


# ---------------------------------------------------------------------------
# Resources


class _ResourcesCheck:
    """``Resources.from_yaml_config`` and the ``Resources`` constructor."""

    def __init__(self, report: _Report):
        self.report = report

    def run(self, config: dict[str, Any], locate: Locate) -> list[dict[str, Any]]:
        """Check; returns the candidate resource configs when valid so far."""
        aliased: set[Path] = set()
        if not self._aliases(config, (), locate, aliased):
            return []
        for name in ("any_of", "ordered"):
            items = config.get(name)
            if isinstance(items, list):
                # copies: the checked document is never modified
                config[name] = items = [dict(i) if isinstance(i, dict) else i for i in items]
                for index, item in enumerate(items):
                    if isinstance(item, dict):
                        self._aliases(item, (name, index), locate, aliased)

        def where(path: Path) -> Path:
            for depth in (3, 1):
                head = path[:depth]
                if len(path) >= depth and (*head[:-1], "accelerators") == head and head in aliased:
                    return locate((*head[:-1], "gpus", *path[depth:]))
            return locate(path)

        hooks = config.pop("hooks", None)
        if not self.report.schema(config, "resources", _RESOURCES_PREFIX, where):
            return []
        if hooks is not None:
            config["hooks"] = hooks
        return self._expand(config, where)

    def _aliases(
        self, config: dict[str, Any], at: Path, locate: Locate, aliased: set[Path]
    ) -> bool:
        """``Resources._apply_resource_config_aliases``: ``gpus`` → ``accelerators``."""
        if "gpus" in config:
            if "accelerators" in config:
                self.report.add(
                    "Cannot specify both gpus and accelerators in config.",
                    locate((*at, "gpus")),
                    "structure",
                    at_key=True,
                )
                return False
            config["accelerators"] = config.pop("gpus")
            aliased.add((*at, "accelerators"))
        return True

    def _expand(self, config: dict[str, Any], locate: Locate) -> list[dict[str, Any]]:
        config = dict(config)
        any_of = config.pop("any_of", None)
        ordered = config.pop("ordered", None)
        if any_of is not None and ordered is not None:
            self.report.add(
                'Cannot specify both "any_of" and "ordered" in resources.',
                locate(("ordered",)),
                "structure",
                at_key=True,
            )
            return []
        accelerators = config.get("accelerators")
        expanded: list[tuple[str, bool]] = []
        if config and accelerators is not None:
            names: list[Any]
            if isinstance(accelerators, str):
                names = [accelerators]
            elif isinstance(accelerators, dict):
                names = [f"{k}:{v}" if v is not None else f"{k}" for k, v in accelerators.items()]
            else:
                names = list(accelerators)
            seen: dict[str, bool] = {}
            for name in names:
                try:
                    for spec, named in rules.parse_accelerator_spec(name):
                        seen[spec] = named or seen.get(spec, False)
                except (ValueError, AssertionError) as error:
                    self.report.add(_exception_text(error), locate(("accelerators",)), "value")
                    return []
            expanded = list(seen.items())
            if len(expanded) > 1 and ordered:
                self.report.add(
                    'Cannot specify multiple "accelerators" with "ordered" in resources.',
                    locate(("accelerators",)),
                    "structure",
                )
                return []
            if len(expanded) > 1 and any_of and isinstance(accelerators, list):
                self.report.add(
                    'Cannot specify multiple "accelerators" with preferred order (i.e., list '
                    'of accelerators) with "any_of" in resources.',
                    locate(("accelerators",)),
                    "structure",
                )
                return []
        candidates = any_of or ordered
        if candidates:
            name = "any_of" if any_of else "ordered"
            chosen: list[dict[str, Any]] = []
            for index, override in enumerate(candidates):
                merged = dict(config)
                override = dict(override)
                labels = override.pop("labels", None)
                merged.update(override)
                base_labels = merged.get("labels")
                if isinstance(base_labels, dict) and isinstance(labels, dict):
                    merged["labels"] = {**base_labels, **labels}
                elif labels is not None:
                    merged["labels"] = labels
                else:
                    merged["labels"] = base_labels
                own = set(override) | ({"labels"} if labels is not None else set())

                def inner(path: Path, _own: set[Any] = own, _index: int = index) -> Path:
                    if path and path[0] in _own:
                        return locate((name, _index, *path))
                    return locate(path)

                # each candidate is a whole resources config again (from_yaml_config
                # recurses), hooks popped before its schema as at the top
                unhooked = {k: v for k, v in merged.items() if k != "hooks"}
                if not self.report.schema(unhooked, "resources", _RESOURCES_PREFIX, inner):
                    continue
                chosen.extend(self._expand(merged, inner))
            return chosen
        if expanded:
            chosen = []
            for spec, _named in expanded:
                single = dict(config)
                single["accelerators"] = spec
                chosen.extend(self._single(single, locate))
            return chosen
        return self._single(config, locate)

    def _single(self, config: dict[str, Any], locate: Locate) -> list[dict[str, Any]]:
        """``Resources._from_yaml_config_single`` and ``Resources.__init__``."""
        before = len(self.report.issues)

        def add(message: str, field: str, code: str = "value", at_key: bool = False) -> None:
            self.report.add(message, locate((field,)), code, at_key=at_key)

        leftover = [key for key in config if key not in _RESOURCES_POPPED]
        for key in leftover:
            self.report.add(
                f"Invalid resource args: dict_keys({leftover!r}) (a field without a value "
                "that SkyPilot does not accept here)",
                locate((key,)),
                "schema",
                at_key=True,
            )
        infra = config.get("infra")
        cloud = config.get("cloud")
        cloud = cloud.lower() if isinstance(cloud, str) else None
        region, zone = config.get("region"), config.get("zone")
        if infra is not None and (cloud is not None or region is not None or zone is not None):
            add(
                "Cannot specify both `infra` and `cloud`, `region`, or `zone` parameters. Got: "
                f"infra={infra}, cloud={rules.cloud_repr(cloud) if cloud else None}, "
                f"region={region}, zone={zone}",
                "infra",
                "structure",
                True,
            )
        if infra is not None:
            try:
                cloud, region, zone = rules.parse_infra(infra)
            except ValueError as error:
                add(str(error), "infra")
        if cloud is not None:
            cloud = rules.CLOUD_ALIASES.get(cloud, cloud)
        # disk_size
        disk_size = config.get("disk_size")
        if disk_size is not None:
            try:
                size = int(rules.parse_memory_resource(str(disk_size), "disk_size"))
                if size != rules.DEFAULT_DISK_SIZE_GB and size <= 0:
                    add(
                        f'"disk_size" must be a positive integer (in GB). Got: {str(disk_size)!r}.',
                        "disk_size",
                    )
            except ValueError as error:
                add(str(error), "disk_size")
        # image_id
        image_id = config.get("image_id")
        if isinstance(image_id, dict):
            self._image_id(dict(image_id), add)
        # disk_tier, network_tier
        for field, tiers, label in (
            ("disk_tier", rules.DISK_TIERS, "Disk tier"),
            ("network_tier", rules.NETWORK_TIERS, "Network tier"),
        ):
            value = config.get(field)
            if isinstance(value, str) and value.lower() not in tiers:
                choices = ", ".join(tiers)
                add(f"Invalid {field} {value.lower()!r}. {label} must be one of {choices}.", field)
        # ports
        ports = config.get("ports")
        if ports is not None:
            try:
                rules.simplify_ports(ports)
            except ValueError as error:
                add(str(error), "ports")
        # cpus, memory
        if config.get("cpus") is not None:
            try:
                rules.check_cpus(str(config["cpus"]))
            except ValueError as error:
                add(str(error), "cpus")
        if config.get("memory") is not None:
            try:
                rules.check_memory(str(config["memory"]), slurm=cloud == "slurm")
            except ValueError as error:
                add(str(error), "memory")
        # accelerators (one per candidate by now)
        accelerators = config.get("accelerators")
        if isinstance(accelerators, str):
            try:
                name, _count = rules.accelerator_count(accelerators)
            except ValueError as error:
                add(str(error), "accelerators")
            else:
                self._tpu(name, cloud, config, add)
        elif isinstance(accelerators, dict) and not accelerators:
            # nothing to expand: Resources._set_accelerators takes the first item
            add("list index out of range (accelerators is an empty mapping)", "accelerators")
        elif isinstance(accelerators, list):
            add("'list' object has no attribute 'items' (accelerators is empty)", "accelerators")
        # autostop wait_for (the schema's enum is case-insensitive, so is this)
        # priority is fully covered by the schema.
        # volumes
        volumes = config.get("volumes")
        if isinstance(volumes, list):
            self._volumes(volumes, add)
        # local_disk
        if config.get("local_disk") is not None:
            try:
                rules.normalize_local_disk(str(config["local_disk"]))
            except ValueError as error:
                add(str(error), "local_disk")
        if len(self.report.issues) != before:
            return []
        return [config]

    @staticmethod
    def _image_id(image_id: dict[Any, Any], add: Callable[..., None]) -> None:
        docker = None
        if "docker" in image_id:
            docker = image_id.pop("docker")
            if not isinstance(docker, str):
                add(
                    f"{type(docker).__name__!r} object has no attribute 'strip' "
                    "(image_id.docker must be a string)",
                    "image_id",
                )
                return
        if image_id and None not in image_id:
            for key, value in image_id.items():
                if not isinstance(key, str) or not isinstance(value, str):
                    bad = key if not isinstance(key, str) else value
                    add(
                        f"{type(bad).__name__!r} object has no attribute 'strip' "
                        "(image_id regions and images must be strings)",
                        "image_id",
                    )
                    return
        elif image_id and not isinstance(image_id[None], str):
            add(
                f"{type(image_id[None]).__name__!r} object has no attribute 'strip' "
                "(image_id images must be strings)",
                "image_id",
            )
            return
        if docker is not None and image_id:
            prefixed = [
                f"{v} (region: {k})"
                for k, v in image_id.items()
                if isinstance(v, str) and v.strip().startswith("docker:")
            ]
            if prefixed:
                add(
                    "image_id has both a 'docker' key and docker:-prefixed region values: "
                    f"{', '.join(prefixed)}. Please use only one mechanism to specify the "
                    "Docker image.",
                    "image_id",
                    "structure",
                )

    @staticmethod
    def _tpu(
        name: str, cloud: str | None, config: dict[str, Any], add: Callable[..., None]
    ) -> None:
        """TPUs only on GCP or Kubernetes; a GCP TPU VM has no instance type but
        ``TPU-VM`` (``Resources._set_accelerators``)."""
        if "tpu" not in name.lower():
            return
        if cloud is None:
            cloud = "kubernetes" if name in rules.GKE_TPU_ACCELERATORS else "gcp"
        if cloud not in ("gcp", "kubernetes"):
            add(
                "Cloud must be GCP or Kubernetes for TPU accelerators.", "accelerators", "structure"
            )
            return
        args = config.get("accelerator_args") or {}
        use_tpu_vm = args.get("tpu_vm", True) if isinstance(args, dict) else True
        instance_type = config.get("instance_type")
        if (
            cloud == "gcp"
            and name not in rules.GKE_TPU_ACCELERATORS
            and instance_type is not None
            and use_tpu_vm
            and instance_type != "TPU-VM"
        ):
            add(
                f"Cannot specify instance type (got {instance_type!r}) for TPU VM.",
                "instance_type",
                "structure",
            )

    @staticmethod
    def _volumes(volumes: list[Any], add: Callable[..., None]) -> None:
        """``Resources._set_volumes`` (volumes from ``resources.volumes`` and from
        ``file_mounts`` entries with ``store: volume``)."""
        for volume in volumes:
            if not isinstance(volume, dict):
                continue
            if "path" not in volume:
                add(f'Invalid volume {volume!r}. Volume must have a "path" field.', "volumes")
                continue
            storage_type = volume.get("storage_type", "network")
            if isinstance(storage_type, str) and storage_type.lower() not in rules.STORAGE_TYPES:
                storage_type = "network"
            if isinstance(storage_type, str) and storage_type.lower() == "network":
                if "disk_size" in volume:
                    size = volume["disk_size"]
                    try:
                        whole = round(size) == size
                    except TypeError as error:
                        add(_exception_text(error), "volumes")
                        continue
                    if not whole:
                        add(f"Volume size must be an integer. Got: {size}.", "volumes")
                        continue
                if "name" not in volume:
                    add(f'Network volume {volume["path"]} must have "name" field.', "volumes")


# ---------------------------------------------------------------------------
# Service and pool


class _ServiceCheck:
    """``SkyServiceSpec.from_yaml_config`` and the ``SkyServiceSpec`` constructor."""

    def __init__(self, report: _Report, locate: Locate):
        self.report = report
        self.locate = locate

    def add(
        self, message: str, path: Path = (), code: str = "structure", at_key: bool = True
    ) -> None:
        self.report.add(message, self.locate(path), code, at_key=at_key)

    def run(self, config: Any) -> None:
        if not isinstance(config, dict):
            return
        if not self.report.schema(config, "service", _SERVICE_PREFIX, self.locate):
            return
        if "replicas" in config and "replica_policy" in config:
            self.add(
                "Cannot specify both `replicas` and `replica_policy` in the service YAML. "
                "Please use one of them.",
                ("replica_policy",),
            )
            return
        probe = config.get("readiness_probe", "/")
        post_data = headers = None
        if isinstance(probe, str):
            readiness_path = probe
        elif isinstance(probe, dict):
            readiness_path = probe["path"]
            post_data, headers = probe.get("post_data"), probe.get("headers")
        else:
            self.add(
                f"{type(probe).__name__!r} object is not subscriptable (readiness_probe has "
                "no value)",
                ("readiness_probe",),
            )
            return
        if isinstance(post_data, str):
            try:
                json.loads(post_data)
            except json.JSONDecodeError:
                self.add(
                    "Invalid JSON string for `post_data` in the `readiness_probe` section of "
                    "your service YAML.",
                    ("readiness_probe", "post_data"),
                    "value",
                    False,
                )
                return
        ports = config.get("ports")
        if ports is not None and not isinstance(ports, int):
            # the schema's integer takes 2.0; SkyPilot then asserts isinstance(ports, int)
            self.add(
                f"AssertionError: ports must be an int, got {ports!r}", ("ports",), "value", False
            )
            return
        if ports is not None and not 1 <= ports <= 65535:
            self.add("Port must be between 1 and 65535.", ("ports",), "value", False)
            return
        pool = config.get("pool")
        policy = config.get("replica_policy")
        if policy is not None and pool:
            self.add(
                "Cannot specify `replica_policy` for cluster pool. Only `workers: <num>` or "
                "`min_workers: <num> max_workers: <num>` is supported for pool now.",
                ("replica_policy",),
            )
            return
        replicas = config.get("replicas")
        workers = config.get("workers")
        if replicas is not None and workers is not None:
            self.add(
                "Cannot specify both `replicas` and `workers`. Please use one of them.",
                ("workers",),
            )
            return
        if replicas is not None and pool:
            self.add(
                "Cannot specify `replicas` for pool. Please use `workers` instead.", ("replicas",)
            )
            return
        if replicas is None:
            replicas = workers
        queue = min_workers = max_workers = up = down = None
        if isinstance(pool, dict):
            queue = pool.get("queue_length_threshold")
            min_workers, max_workers = pool.get("min_workers"), pool.get("max_workers")
            up, down = pool.get("upscale_delay_seconds"), pool.get("downscale_delay_seconds")
            workers = pool.get("workers", workers)
            if min_workers is None and max_workers is None and workers is None:
                self.add(
                    "One of workers, or both min_workers and max_workers must be set for pool "
                    "autoscaling.",
                    ("pool",),
                )
                return
            if queue is not None and max_workers is None:
                self.add(
                    "max_workers must be set when queue_length_threshold is specified for pool "
                    "autoscaling.",
                    ("pool", "queue_length_threshold"),
                )
                return
            if min_workers is not None and max_workers is None:
                self.add(
                    "max_workers must be set when min_workers is specified for pool autoscaling.",
                    ("pool", "min_workers"),
                )
                return
            if min_workers is not None and max_workers is not None and min_workers > max_workers:
                self.add(
                    f"min_workers ({min_workers}) must be <= max_workers ({max_workers}) for pool "
                    "autoscaling.",
                    ("pool", "min_workers"),
                )
                return
        spec: dict[str, Any] = {}
        where = ("replica_policy",)
        if policy is None or replicas is not None:
            min_replicas = (
                replicas if replicas is not None else (workers if workers is not None else 1)
            )
            if pool is not None and max_workers is not None:
                if queue is None:
                    queue = 1  # AUTOSCALER_DEFAULT_QUEUE_LENGTH_THRESHOLD (> 0)
                min_replicas = min_workers if min_workers is not None else min_replicas
            spec.update(
                min_replicas=min_replicas,
                max_replicas=max_workers,
                upscale_delay_seconds=up,
                downscale_delay_seconds=down,
            )
            where = ("pool",) if pool is not None else ("replicas",)
        else:
            spec.update(
                min_replicas=policy["min_replicas"],
                max_replicas=policy.get("max_replicas"),
                num_overprovision=policy.get("num_overprovision"),
                target_qps_per_replica=policy.get("target_qps_per_replica"),
                upscale_delay_seconds=policy.get("upscale_delay_seconds"),
                downscale_delay_seconds=policy.get("downscale_delay_seconds"),
                base_ondemand_fallback_replicas=policy.get("base_ondemand_fallback_replicas"),
                dynamic_ondemand_fallback=policy.get("dynamic_ondemand_fallback"),
                spot_placer=policy.get("spot_placer"),
            )
        policy_name = config.get("load_balancing_policy")
        qps = spec.get("target_qps_per_replica")
        if isinstance(qps, dict) and policy_name != "instance_aware_least_load":
            self.add(
                "When using dict type target_qps_per_replica, load_balancing_policy must be "
                '"instance_aware_least_load".',
                ("load_balancing_policy",) if policy_name is not None else where,
            )
            return
        if policy_name == "instance_aware_least_load" and not isinstance(qps, dict):
            self.add(
                'When using "instance_aware_least_load" policy, target_qps_per_replica must be '
                "a dict mapping GPU types to QPS values.",
                ("load_balancing_policy",),
            )
            return
        self._spec(
            spec,
            where,
            readiness_path=readiness_path,
            pool=pool,
            queue=queue,
            lb_policy=policy_name,
            extras={
                "load_balancing_policy": policy_name,
                "ports": ports,
                "post_data": post_data,
                "tls_credential": config.get("tls"),
                "readiness_headers": headers,
            },
        )

    def _spec(
        self,
        spec: dict[str, Any],
        where: Path,
        *,
        readiness_path: str,
        pool: Any,
        queue: Any,
        lb_policy: Any,
        extras: dict[str, Any],
    ) -> None:
        """``SkyServiceSpec.__init__``."""
        min_replicas, max_replicas = spec["min_replicas"], spec.get("max_replicas")
        if pool:
            unsupported = [
                "num_overprovision",
                "target_qps_per_replica",
                "base_ondemand_fallback_replicas",
                "dynamic_ondemand_fallback",
                "spot_placer",
                "load_balancing_policy",
                "ports",
                "post_data",
                "tls_credential",
                "readiness_headers",
            ]
            if max_replicas is None:
                unsupported += ["upscale_delay_seconds", "downscale_delay_seconds"]
            values = {**spec, **extras}
            for field in unsupported:
                if values.get(field) is not None:
                    field_path = {
                        "tls_credential": ("tls",),
                        "readiness_headers": ("readiness_probe", "headers"),
                        "post_data": ("readiness_probe", "post_data"),
                        "upscale_delay_seconds": ("pool", "upscale_delay_seconds"),
                        "downscale_delay_seconds": ("pool", "downscale_delay_seconds"),
                    }.get(field, (field,))
                    self.add(f"{field} is not supported for pool.", field_path)
                    return
            if queue is not None and queue <= 0:
                self.add(f"queue_length_threshold must be > 0. Got: {queue}", ("pool",))
                return
            if queue is not None and max_replicas is None:
                self.add(
                    "max_workers must be set when queue_length_threshold is specified for pool "
                    "autoscaling.",
                    ("pool",),
                )
                return
        if max_replicas is not None and max_replicas < min_replicas:
            self.add(
                "max_replicas must be greater than or equal to min_replicas. Found: "
                f"min_replicas={min_replicas}, max_replicas={max_replicas}",
                where,
            )
            return
        if spec.get("target_qps_per_replica") is not None:
            if max_replicas is None:
                self.add("max_replicas must be set where target_qps_per_replica is set.", where)
                return
        elif not pool and max_replicas is not None and max_replicas != min_replicas:
            self.add(
                "Detected different min_replicas and max_replicas while "
                "target_qps_per_replica is not set. To enable autoscaling, please set "
                "target_qps_per_replica.",
                where,
            )
            return
        if not readiness_path.startswith("/"):
            self.add(
                f"readiness_path must start with a slash (/). Got: {readiness_path}",
                ("readiness_probe",),
                "value",
                False,
            )
            return
        if lb_policy is not None and lb_policy not in rules.LB_POLICIES:
            self.add(
                f"Unknown load balancing policy: {lb_policy}. Available policies: "
                f"{list(rules.LB_POLICIES)}",
                ("load_balancing_policy",),
                "value",
                False,
            )


# ---------------------------------------------------------------------------
# Config and volume files


def _check_config(data: Any, report: _Report, source: str) -> None:
    """``skypilot_config.parse_and_validate_config_file``: an empty file is an empty
    config; otherwise the config schema (nulls kept), then the dashboard links."""
    if data is None:
        return
    if not isinstance(data, dict):
        report.add(
            f"A SkyPilot config must be a mapping of sections, not a {type(data).__name__}.",
            (),
            "structure",
        )
        return
    if not data:
        return
    prefix = _CONFIG_PREFIX.format(source=source)
    report.schema(data, "config", prefix, lambda path: path, skip_none=False)
    dashboard = data.get("dashboard")
    links = dashboard.get("external_links") if isinstance(dashboard, dict) else None
    if not isinstance(links, list):
        return
    for index, entry in enumerate(links):
        if not isinstance(entry, dict):
            continue
        where = ("dashboard", "external_links", index)
        regex = entry.get("regex")
        if isinstance(regex, str):
            try:
                re.compile(regex)
            except re.error as error:
                report.add(
                    f"Invalid config YAML from ({source}). dashboard.external_links[{index}]."
                    f"regex is not a valid regex: {regex!r} ({error}).",
                    (*where, "regex"),
                    "value",
                )
        url = entry.get("url")
        if isinstance(url, str):
            for match in re.finditer(r"\$\{([^}]*)\}", url):
                if match.group(1) not in _DASHBOARD_VARIABLES:
                    report.add(
                        f"Invalid config YAML from ({source}). dashboard.external_links[{index}]"
                        f".url references an unknown template variable ${{{match.group(1)}}}. "
                        f"Allowed variables: {', '.join(sorted(_DASHBOARD_VARIABLES))}.",
                        (*where, "url"),
                        "value",
                    )
                    break


def _check_volume(data: Any, report: _Report) -> None:
    """``sky volumes apply FILE`` on the client: ``Volume.from_yaml_config`` (only the
    fields ``name``, ``type``, ``infra``, ``size``, ``labels``, ``use_existing`` and
    ``config`` are read; others are ignored), then ``Volume.validate()``."""
    if isinstance(data, str):
        report.add(
            "A volume file must be a mapping of fields, not a string (sky volumes apply: "
            "'needs to be a YAML file').",
            (),
            "structure",
        )
        return
    if data is None:
        data = {}
    if not isinstance(data, dict):
        report.add(
            f"A volume file must be a mapping of fields, not a {type(data).__name__}.",
            (),
            "structure",
        )
        return
    volume_type = data.get("type")
    try:
        known_type = volume_type in rules.VOLUME_TYPE_CLOUD
    except TypeError:
        known_type = False
    if not known_type:
        report.add(f"Invalid volume type: {volume_type}", ("type",), "value")
        return
    fields = {
        "name": data.get("name"),
        "type": volume_type,
        "infra": data.get("infra"),
        "size": data.get("size"),
        "labels": data.get("labels") or {},
        "use_existing": data.get("use_existing"),
        "config": data.get("config", {}) or {},
    }
    if not report.schema(fields, "volume", _VOLUME_PREFIX, lambda path: path):
        return
    size = fields["size"]
    if size is not None:
        try:
            size = rules.parse_memory_resource(size, "size", allow_rounding=True)
            if size == "0":
                raise ValueError("Size must be no less than 1Gi")
        except ValueError as error:
            report.add(f"Invalid size {fields['size']}: {error}", ("size",), "value")
            return
    try:
        cloud, _region, zone = rules.parse_infra(fields["infra"])
    except ValueError as error:
        report.add(str(error), ("infra",), "value")
        return
    type_cloud = rules.VOLUME_TYPE_CLOUD[volume_type]
    if cloud and rules.CLOUD_ALIASES.get(cloud, cloud) != type_cloud:
        report.add(f"Invalid cloud {cloud} for volume type {volume_type}", ("infra",), "structure")
        return
    cloud = type_cloud
    name = fields["name"]
    if not name:
        report.add("Volume name must be set.", ("name",), "value")
        return
    if volume_type != "k8s-hostpath" and not fields["use_existing"] and not size:
        report.add(
            "Size is required for new volumes. Please specify the size in the YAML file or "
            "use the --size flag.",
            (),
            "structure",
        )
        return
    if cloud == "kubernetes":
        reason = rules.k8s_volume_name_error(name)
        if reason is not None:
            report.add(f"Invalid volume name {name!r}: {reason}", ("name",), "value")
            return
        for key, value in fields["labels"].items():
            reason = rules.k8s_label_error(key, value)
            if reason is not None:
                report.add(reason, ("labels", key), "value", at_key=True)
                return
    elif len(name) > rules.VOLUME_NAME_MAX["runpod"]:
        report.add(
            f"Invalid volume name {name!r}: Volume name exceeds the maximum length of "
            f"{rules.VOLUME_NAME_MAX['runpod']} characters.",
            ("name",),
            "value",
        )
        return
    if volume_type == "k8s-hostpath":
        host_path = fields["config"].get("host_path")
        if not host_path:
            report.add(
                "host_path is required in config for k8s-hostpath volumes.", ("config",), "value"
            )
        elif not host_path.startswith("/"):
            report.add(
                f"host_path must be an absolute path, got: {host_path!r}",
                ("config", "host_path"),
                "value",
            )
        elif _normpath("/" + host_path.lstrip("/")) == "/":
            report.add(
                f"host_path must not resolve to the root directory: {host_path!r}",
                ("config", "host_path"),
                "value",
            )
    elif volume_type == "runpod-network-volume":
        if not fields["use_existing"] and size is not None:
            try:
                if int(size) < rules.MIN_RUNPOD_NETWORK_VOLUME_SIZE_GB:
                    raise ValueError(
                        "RunPod network volume size must be at least "
                        f"{rules.MIN_RUNPOD_NETWORK_VOLUME_SIZE_GB}GB."
                    )
            except ValueError as error:
                report.add(f"Invalid volume size {size!r}: {error}", ("size",), "value")
                return
        if not zone:
            report.add(
                "RunPod DataCenterId is required for network volumes. Set the zone in the "
                "infra field.",
                ("infra",),
                "value",
            )


def _normpath(path: str) -> str:
    import posixpath

    return posixpath.normpath(path)


# ---------------------------------------------------------------------------
# Documents and texts


def infer_kind(data: Any) -> str | None:
    """The kind of one parsed document, or ``None`` when it cannot be told.

    * ``"volume"``: a mapping with ``type`` one of SkyPilot's volume types (``k8s-pvc``,
      ``k8s-hostpath``, ``runpod-network-volume``) and only volume fields;
    * ``"task"``: a mapping with a field only tasks have (``run``, ``setup``,
      ``resources``, ``envs``, ``file_mounts``, ``num_nodes``, ``service``, ...), or only
      task fields (``name`` alone is a pipeline header); a job-group header
      (``execution:``) too;
    * ``"config"``: a mapping whose fields are all config sections (``kubernetes``,
      ``jobs``, ``admin_policy``, ``allowed_clouds``, ...).
    """
    if not isinstance(data, dict) or not data:
        return None
    keys = {str(key) for key in data}
    schemas = _schemas()
    volume_fields = set(schemas["volume"]["properties"])
    task_fields = set(schemas["task"]["properties"]) | {"gpus"}
    config_fields = set(schemas["config"]["properties"])
    if keys <= volume_fields and data.get("type") in rules.VOLUME_TYPE_CLOUD:
        return "volume"
    if keys & (task_fields - {"name", "config"}):
        return "task"
    if keys <= config_fields:
        return "config"
    if keys <= task_fields or keys <= {
        "name",
        "execution",
        "primary_tasks",
        "termination_delay",
        "inter_connection",
    }:
        return "task"
    return None


def infer_text_kind(documents: list[Document]) -> str | None:
    """The kind of a YAML text: a multi-document text is a task (pipeline or job group);
    one document is :func:`infer_kind` of it."""
    present = [d for d in documents if d.data is not None]
    if len(present) > 1:
        return "task"
    if not present:
        return None
    return infer_kind(present[0].data)


class EmbeddedEngine:
    """The embedded engine (see the module docstring). Stateless; cheap to create."""

    name = "embedded"

    def check_text(
        self,
        text: str,
        kind: str,
        *,
        env: Mapping[str, str] | None = None,
        source: str = "<text>",
    ) -> Verdict:
        """Check a YAML text of ``kind`` (``"task"``, ``"config"`` or ``"volume"``).

        ``env`` is what ``--env NAME=VALUE`` gives (applied to every task of a pipeline
        or job group, like SkyPilot's CLI); ``source`` names the text in messages that
        quote a path, as SkyPilot quotes the file.
        """
        issues: list[Issue] = []
        try:
            documents, duplicates = load_documents(text)
        except YamlError as error:
            issues.append(
                Issue(error.line, error.column, error.problem, "", error.document, "yaml")
            )
            return Verdict(kind, self.name, tuple(issues))
        needs: list[str] = []
        if kind == "task":
            needs = self._task_text(documents, duplicates, issues, dict(env or {}), source)
        elif kind == "config":
            if len(documents) > 1:
                second = documents[1]
                issues.append(
                    Issue(
                        second.line,
                        second.column,
                        "expected a single document in the stream, but found another document",
                        "",
                        1,
                        "yaml",
                    )
                )
            else:
                document = documents[0] if documents else Document(None)
                _check_config(document.data, _Report(document, 0, issues), source)
        elif kind == "volume":
            document = documents[0] if documents else Document(None)
            _check_volume(document.data, _Report(document, 0, issues))
        else:
            raise ValueError(f"unknown kind {kind!r}; valid kinds: task, config, volume")
        issues.sort(key=lambda issue: (issue.document, issue.line, issue.column))
        return Verdict(kind, self.name, tuple(issues), tuple(needs))

    def check_data(self, data: Any, kind: str, *, env: Mapping[str, str] | None = None) -> Verdict:
        """Check one parsed document (a task is one task, not a pipeline); issues have no
        positions (line and column 0). ``data`` is not modified."""
        issues: list[Issue] = []
        report = _Report(None, 0, issues)
        needs: list[str] = []
        if kind == "task":
            given = dict(env or {})
            needs = sorted({name for name in null_envs(data) if name not in given})
            overrides = {**given, **dict.fromkeys(needs, PLACEHOLDER)}
            _TaskCheck(report, overrides).run(data)
        elif kind == "config":
            _check_config(data, report, "<data>")
        elif kind == "volume":
            _check_volume(data, report)
        else:
            raise ValueError(f"unknown kind {kind!r}; valid kinds: task, config, volume")
        return Verdict(kind, self.name, tuple(issues), tuple(needs))

    def close(self) -> None:
        """Nothing to release."""

    # -- task texts: chain (pipeline) or job group

    def _task_text(
        self,
        documents: list[Document],
        duplicates: list[Any],
        issues: list[Issue],
        env: dict[str, str],
        source: str,
    ) -> list[str]:
        configs: list[Any] = [d.data for d in documents] or [{}]
        docs: list[Document | None] = list(documents) or [Document(None)]
        first = configs[0]
        if isinstance(first, str):
            _Report(docs[0], 0, issues).add(
                "The YAML is a string, not a task: sky would run it as a shell command.",
                (),
                "structure",
            )
            return []
        job_group = (
            len(configs) >= 2 and isinstance(first, dict) and first.get("execution") == "parallel"
        )
        if len(configs) >= 2 and first is not None and not isinstance(first, dict):
            _Report(docs[0], 0, issues).add(
                f"The first document must be a mapping, not a {type(first).__name__}.",
                (),
                "structure",
            )
            return []
        task_indices = range(1, len(configs)) if job_group else range(len(configs))
        given = set(env)
        needs = sorted(
            {name for i in task_indices for name in null_envs(configs[i]) if name not in given}
        )
        overrides = {**env, **dict.fromkeys(needs, PLACEHOLDER)}
        if job_group:
            self._job_group(configs, docs, issues, overrides)
            return needs
        for dup in duplicates:
            issues.append(
                Issue(dup.line, dup.column, dup.message, "", dup.document, "duplicate-key")
            )
        if not any(c for c in configs):
            _Report(docs[0], 0, issues).add(
                f"{source!r} is empty or contains no task definition. Add at least a `run:` "
                "(or `setup:`) field.",
                (),
                "structure",
            )
            return needs
        self._chain(configs, docs, issues, overrides)
        return needs

    def _chain(
        self,
        configs: list[Any],
        docs: list[Document | None],
        issues: list[Issue],
        env: dict[str, str],
    ) -> None:
        """``dag_utils._load_chain_dag``."""
        first = configs[0]
        start = 0
        if isinstance(first, dict) and set(first) in ({"name"}, {"name", "execution"}):
            execution = first.get("execution")
            if execution is not None and execution != "serial":
                _Report(docs[0], 0, issues).add(
                    f"Invalid execution mode for pipeline: {execution!r}. Pipelines must use "
                    "execution: serial (or omit it). Use execution: parallel for job groups.",
                    ("execution",),
                    "structure",
                )
            start = 1
            if len(configs) == 1:  # a header alone: SkyPilot still builds {name: ...}
                _TaskCheck(_Report(docs[0], 0, issues), env).run({"name": first["name"]})
                return
        elif first is not None and not isinstance(first, dict):
            _Report(docs[0], 0, issues).add(
                f"A task must be a mapping of fields, not a {type(first).__name__}.",
                (),
                "structure",
            )
            return
        for index in range(start, len(configs)):
            if configs[index] is None:
                continue
            _TaskCheck(_Report(docs[index], index, issues), env).run(configs[index])

    def _job_group(
        self,
        configs: list[Any],
        docs: list[Document | None],
        issues: list[Issue],
        env: dict[str, str],
    ) -> None:
        """``dag_utils._load_job_group``."""
        header = configs[0]
        head = _Report(docs[0], 0, issues)
        if "name" not in header:
            head.add("Job Group header missing required fields: {'name'}", (), "structure")
        else:
            name = header["name"]
            if not name or not rules.group_name_ok(name):
                head.add(
                    f"Invalid job group name: {name!r}. Name must contain only alphanumeric "
                    "characters, hyphens, and underscores.",
                    ("name",),
                    "value",
                )
        names: list[str] = []
        for offset, job in enumerate(configs[1:]):
            index = offset + 1
            report = _Report(docs[index], index, issues)
            if job is None:
                continue
            if not isinstance(job, dict):
                report.add(
                    f"A job must be a mapping of fields, not a {type(job).__name__}.",
                    (),
                    "structure",
                )
                continue
            job_name = job.get("name")
            if job_name is None:
                report.add(f'Job {index} in Job Group must have a "name" field.', (), "structure")
            elif not isinstance(job_name, str) or not all(
                c.isalnum() or c in "-_" for c in job_name
            ):
                report.add(
                    f"Invalid job name: {job_name!r}. Name must contain only alphanumeric "
                    "characters, hyphens, and underscores.",
                    ("name",),
                    "value",
                )
            elif job_name in names:
                report.add(f"Duplicate job name in Job Group: {job_name}", ("name",), "structure")
            else:
                names.append(job_name)
            _TaskCheck(report, env).run(job)
        primary = header.get("primary_tasks")
        if primary is not None:
            if not isinstance(primary, list):
                head.add(
                    f"primary_tasks must be a list of job names, got {type(primary).__name__}",
                    ("primary_tasks",),
                    "structure",
                )
            else:
                for position, job_name in enumerate(primary):
                    if not isinstance(job_name, str):
                        head.add(
                            f"primary_tasks entries must be strings, got {type(job_name).__name__}",
                            ("primary_tasks", position),
                            "structure",
                        )
                    elif job_name not in names:
                        head.add(
                            f"primary_tasks references unknown job: {job_name}. Available jobs: "
                            f"{sorted(names)}",
                            ("primary_tasks", position),
                            "structure",
                        )
        delay = header.get("termination_delay")
        if delay is not None:
            if isinstance(delay, (str, int)):
                try:
                    rules.check_time_seconds(str(delay), "termination_delay")
                except ValueError as error:
                    head.add(str(error), ("termination_delay",), "value")
            elif isinstance(delay, dict):
                for key, value in delay.items():
                    if not isinstance(key, str) or not isinstance(value, (str, int)):
                        head.add(
                            "termination_delay dict must have string keys and string/int values, "
                            f"got {key!r}: {value!r}",
                            ("termination_delay", key),
                            "structure",
                        )
                    elif key != "default" and key not in names:
                        head.add(
                            f"termination_delay references unknown job: {key}. Available jobs: "
                            f'{sorted(names)} (or "default")',
                            ("termination_delay", key),
                            "structure",
                        )
                    else:
                        try:
                            rules.check_time_seconds(str(value), f"termination_delay[{key!r}]")
                        except ValueError as error:
                            head.add(str(error), ("termination_delay", key), "value")
            else:
                head.add(
                    f"termination_delay must be a string, int, or dict, got {type(delay).__name__}",
                    ("termination_delay",),
                    "structure",
                )
        link = header.get("inter_connection")
        if link is not None and not isinstance(link, bool):
            head.add(
                f"inter_connection must be a boolean, got {type(link).__name__}: {link!r}",
                ("inter_connection",),
                "structure",
            )
