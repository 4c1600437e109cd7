"""Export SkyPilot's rules into the embedded snapshot that slurm2sky validates against.

Run it with the Python of a virtual environment that has the pinned SkyPilot release
installed (``slurm2sky.SKYPILOT_VERSION``), never with the project's own environment::

    python3 -m venv /work/skyvenv
    /work/skyvenv/bin/pip install skypilot==0.14.1
    /work/skyvenv/bin/python tools/refresh_skypilot.py          # write the snapshot
    /work/skyvenv/bin/python tools/refresh_skypilot.py --check  # exit 1 if it is stale

It writes ``sphinxext/slurm2sky/validate/data/skypilot-<version>.json`` (sorted keys,
indent 1, trailing newline; the same installation always gives the same bytes) with:

``skypilot``
    the exported release: ``version`` (``sky.__version__``) and ``commit``
    (``sky.__commit__``).
``schemas``
    the JSON schemas of ``sky.utils.schemas``: ``task``, ``resources``, ``storage``,
    ``service``, ``volume_mount``, ``volume`` and ``config`` (``get_<name>_schema()``),
    as a plain client sees them.
``notes``
    what a consumer of the schemas must know: the validator SkyPilot uses (always
    Draft 7 plus two custom keywords), the values that depend on the environment at
    export time (``additionalProperties`` switches, plugin registries, clouds), and the
    patterns written with Python-only inline regex flags.
``cli``
    the ``sky`` command tree (``sky.client.cli.command.cli``, walked as click objects):
    for every command path (``"launch"``, ``"jobs launch"``; the root group is ``""``)
    its options, positional arguments, subcommands, and whether it is a group, hidden,
    an alias or deprecated (click's ``deprecated`` or SkyPilot's own
    ``sky.client.cli.deprecation_utils`` wrapper, with the replacement command).
``environment_variables``
    the ``SKYPILOT_*`` variables a task sees, or sets for SkyPilot to read, each
    confirmed in the installed source (file, line and how it was found). The export
    fails when one of them is not found.
``setting_variables``
    every other ``SKYPILOT_*`` name the installed ``sky`` package reads or sets: the
    client and server settings (``SKYPILOT_CONFIG``, ``SKYPILOT_API_SERVER_ENDPOINT``,
    ``SKYPILOT_DEBUG``, ...) and internal names, found by scanning the package's Python
    source (string literals, constants built from ``SKYPILOT_ENV_VAR_PREFIX``, names in
    shell code and messages, and ``os.environ``/``os.getenv`` reads and writes), each
    with its best evidence (file, line, how) and the subpackages that name it.

Importing ``sky`` writes ``~/.sky``; the script therefore points ``HOME`` at a fresh
temporary directory and clears ``SKYPILOT_*`` and ``IS_SKYPILOT_*`` variables before
the import, so the export is what a plain client with no configuration and no plugins
sees. It never calls ``validate()``, ``--dryrun`` or the SDK: no network is used.
"""

from __future__ import annotations

import argparse
import ast
import importlib.metadata
import inspect
import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
PACKAGE_INIT = REPO / "sphinxext" / "slurm2sky" / "__init__.py"
DATA_DIR = REPO / "sphinxext" / "slurm2sky" / "validate" / "data"

#: Version of this file's layout; bump when keys change meaning.
FORMAT = 2

#: ``sky.utils.schemas.get_<name>_schema`` functions exported under ``schemas``.
SCHEMA_NAMES = ("task", "resources", "storage", "service", "volume_mount", "volume", "config")

#: Registries in ``sky.utils.schemas`` that plugins fill at run time.
PLUGIN_REGISTRIES = {
    "job_recovery": "_extra_job_recovery_properties",
    "jobs": "_extra_jobs_properties",
    "kubernetes": "_extra_kubernetes_properties",
    "slurm": "_extra_slurm_properties",
    "plugins": "_extra_plugin_properties",
}

#: The SKYPILOT_* variables of a task (SkyPilot docs, running-jobs/environment-variables,
#: checked against the 0.14.1 code). ``stages``: where the variable is visible
#: (``setup``/``run`` commands, or a lifecycle ``hook``); ``scope``: which tasks get it;
#: ``set_by``: ``skypilot`` or ``user`` (set in ``envs``/``secrets``, read by SkyPilot).
ENVIRONMENT_VARIABLES: dict[str, dict[str, Any]] = {
    "SKYPILOT_NODE_RANK": {
        "stages": ["run"],
        "scope": "task",
        "meaning": "Rank of this node among the task's nodes, 0 to num_nodes-1; "
        "rank 0 is the head node.",
    },
    "SKYPILOT_NODE_IPS": {
        "stages": ["run"],
        "scope": "task",
        "meaning": "IP addresses of the task's nodes, one per line, in rank order.",
    },
    "SKYPILOT_NUM_NODES": {
        "stages": ["setup", "run"],
        "scope": "task",
        "meaning": "Number of nodes: the task's nodes in run, the cluster's nodes in setup.",
    },
    "SKYPILOT_NUM_GPUS_PER_NODE": {
        "stages": ["run"],
        "scope": "task",
        "meaning": "GPUs reserved on each node: the accelerators count, rounded up.",
    },
    "SKYPILOT_SETUP_NODE_RANK": {
        "stages": ["setup"],
        "scope": "task",
        "meaning": "Rank of the node that is running setup.",
    },
    "SKYPILOT_SETUP_NODE_IPS": {
        "stages": ["setup"],
        "scope": "task",
        "meaning": "IP addresses of all the cluster's nodes, one per line.",
    },
    "SKYPILOT_SETUP_NUM_GPUS_PER_NODE": {
        "stages": ["setup"],
        "scope": "task",
        "meaning": "GPUs per node as seen by setup; they may not be usable during setup.",
    },
    "SKYPILOT_TASK_ID": {
        "stages": ["setup", "run"],
        "scope": "task",
        "meaning": "Unique ID of this task run (sky-<timestamp>_<cluster>_<job id>); for a "
        "managed job it stays the same across recoveries.",
    },
    "SKYPILOT_CLUSTER_INFO": {
        "stages": ["setup", "run"],
        "scope": "task",
        "meaning": "JSON object with the cluster's name, cloud, region and zone.",
    },
    "SKYPILOT_USER": {
        "stages": ["setup", "run"],
        "scope": "task",
        "meaning": "Name of the user who launched the task.",
    },
    "SKYPILOT_SERVE_REPLICA_ID": {
        "stages": ["setup", "run"],
        "scope": "serve_replica",
        "meaning": "ID of this SkyServe replica, counting from 1.",
    },
    "SKYPILOT_TASK_IDS": {
        "stages": ["setup", "run"],
        "scope": "managed_job",
        "meaning": "Task IDs of every task in the managed job's pipeline, one per line.",
    },
    "SKYPILOT_MANAGED_JOB_ID": {
        "stages": ["setup", "run"],
        "scope": "managed_job",
        "meaning": "ID of the managed job.",
    },
    "SKYPILOT_ROOT_JOB_ID": {
        "stages": ["setup", "run"],
        "scope": "managed_job",
        "meaning": "ID of the root managed job when jobs launch other jobs (a job tree); "
        "absent for a plain managed job.",
    },
    "SKYPILOT_JOB_RANK": {
        "stages": ["setup", "run"],
        "scope": "managed_job",
        "meaning": "Index of this job among those started by one `sky jobs launch "
        "--num-jobs N` (0 to N-1; 0 without --num-jobs).",
    },
    "SKYPILOT_NUM_JOBS": {
        "stages": ["setup", "run"],
        "scope": "managed_job",
        "meaning": "N, the number of jobs given to `sky jobs launch --num-jobs`.",
    },
    "SKYPILOT_JOBGROUP_NAME": {
        "stages": ["setup", "run"],
        "scope": "job_group",
        "meaning": "Name of the job group; a peer is reachable as "
        "<task>-<i>.${SKYPILOT_JOBGROUP_NAME}.",
    },
    "SKYPILOT_HOOK_EVENT": {
        "stages": ["hook"],
        "scope": "hook",
        "meaning": "Event that fired a lifecycle hook (config.hooks): stop, preemption or down.",
    },
    "SKYPILOT_INTERNAL_JOB_ID": {
        "stages": ["run"],
        "scope": "internal",
        "meaning": "Job ID on the cluster used by SkyPilot's generated code; not documented "
        "for users.",
    },
    "SKYPILOT_DOCKER_USERNAME": {
        "set_by": "user",
        "stages": [],
        "scope": "task",
        "meaning": "User name for a private container registry; set together with "
        "SKYPILOT_DOCKER_PASSWORD and SKYPILOT_DOCKER_SERVER, in the same place.",
    },
    "SKYPILOT_DOCKER_PASSWORD": {
        "set_by": "user",
        "stages": [],
        "scope": "task",
        "meaning": "Password or token for the private container registry (best in secrets).",
    },
    "SKYPILOT_DOCKER_SERVER": {
        "set_by": "user",
        "stages": [],
        "scope": "task",
        "meaning": "Address of the private container registry.",
    },
    "SKYPILOT_RUNPOD_DOCKER_USERNAME": {
        "set_by": "user",
        "stages": [],
        "scope": "task",
        "meaning": "Registry user name for private images on RunPod.",
    },
}


class ExportError(Exception):
    """A fact the snapshot must contain was not found in the installed SkyPilot."""


# --------------------------------------------------------------------------- helpers


def pinned_version() -> str:
    """``SKYPILOT_VERSION`` from ``sphinxext/slurm2sky/__init__.py``, read without
    importing slurm2sky (this script runs in SkyPilot's environment)."""
    tree = ast.parse(PACKAGE_INIT.read_text(encoding="utf-8"))
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "SKYPILOT_VERSION" for t in node.targets)
            and isinstance(node.value, ast.Constant)
        ):
            return str(node.value.value)
    raise ExportError(f"{PACKAGE_INIT}: no SKYPILOT_VERSION = '...' assignment")


def isolate_environment() -> Path:
    """Make the import of ``sky`` a plain client's: fresh ``HOME``, no SkyPilot variables.

    Returns the temporary home, which the caller removes.
    """
    home = Path(tempfile.mkdtemp(prefix="skypilot-export-home-"))
    os.environ["HOME"] = str(home)
    for name in list(os.environ):
        if name.startswith(("SKYPILOT_", "IS_SKYPILOT_")):
            del os.environ[name]
    return home


def json_pointer(path: tuple[Any, ...]) -> str:
    """RFC 6901 pointer of ``path``."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def walk_json(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Every (path, value) in a JSON value, depth first, dict keys sorted."""
    yield path, value
    if isinstance(value, dict):
        for key in sorted(value):
            yield from walk_json(value[key], (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from walk_json(item, (*path, index))


def check_plain_json(value: Any, where: str) -> None:
    """Fail unless ``value`` is made only of dict (str keys), list, str, int, float,
    bool and None: tuples or objects would not survive the JSON round trip."""
    for path, item in walk_json(value):
        if isinstance(item, dict):
            bad = [k for k in item if not isinstance(k, str)]
            if bad:
                raise ExportError(f"{where}{json_pointer(path)}: non-string keys {bad!r}")
        elif not isinstance(item, list | str | int | float | bool | type(None)):
            raise ExportError(f"{where}{json_pointer(path)}: {type(item).__name__} {item!r}")


# --------------------------------------------------------------------------- schemas


def export_schemas() -> tuple[dict[str, Any], dict[str, Any]]:
    """The schemas as a plain client sees them, and the notes about them."""
    from sky.skylet import constants
    from sky.utils import schemas

    def build() -> dict[str, Any]:
        return {name: getattr(schemas, f"get_{name}_schema")() for name in SCHEMA_NAMES}

    registries = {key: getattr(schemas, attr) for key, attr in PLUGIN_REGISTRIES.items()}
    if any(registries.values()):
        raise ExportError(
            "plugin properties are registered at export time, so the schemas are not a "
            f"plain client's: {json.dumps(registries, sort_keys=True)}"
        )
    if os.environ.get(constants.ENV_VAR_IS_SKYPILOT_SERVER) is not None:
        raise ExportError(f"{constants.ENV_VAR_IS_SKYPILOT_SERVER} is set")

    client = build()
    for name, schema in client.items():
        check_plain_json(schema, f"schemas/{name}")
    # Export the same functions again as a server that has loaded its plugins would
    # see them, to find every value that depends on _allow_additional_properties().
    original = schemas._allow_additional_properties
    schemas._allow_additional_properties = lambda: False
    try:
        server = build()
    finally:
        schemas._allow_additional_properties = original
    client_only: dict[str, list[str]] = {}
    server_values = dict(walk_json(server))
    for path, value in walk_json(client):
        # Only the boolean switches: a schema-valued additionalProperties differs too
        # when a switch inside it does.
        if path and path[-1] == "additionalProperties" and value is True:
            if server_values.get(path) is False:
                client_only.setdefault(path[0], []).append(json_pointer(path[1:]))
            elif server_values.get(path) is not True:
                raise ExportError(f"schemas/{path[0]}{json_pointer(path[1:])}: no server value")
    if not client_only:
        raise ExportError("no additionalProperties depends on the environment: re-check §6.3")

    inline_flags: dict[str, list[str]] = {}
    keyword_uses: dict[str, dict[str, int]] = {}
    for path, value in walk_json(client):
        if path and path[-1] == "pattern" and isinstance(value, str) and "(?i" in value:
            inline_flags.setdefault(path[0], []).append(json_pointer(path[1:]))
        if path and path[-1] in ("case_insensitive_enum", "case_sensitive_enum"):
            uses = keyword_uses.setdefault(path[-1], {})
            uses[path[0]] = uses.get(path[0], 0) + 1

    import jsonschema
    from sky.utils import validator

    sky_validator = validator.get_schema_validator()
    if sky_validator.META_SCHEMA != jsonschema.Draft7Validator.META_SCHEMA:
        raise ExportError("sky.utils.validator.get_schema_validator() is no longer Draft 7")
    custom = sorted(set(sky_validator.VALIDATORS) - set(jsonschema.Draft7Validator.VALIDATORS))
    notes = {
        "validator": {
            "text": "SkyPilot validates every schema with Draft 7 extended by custom "
            "keywords (sky/utils/validator.py, get_schema_validator), whatever the "
            "schema's own $schema says. Stock validators ignore the custom keywords.",
            "draft": "draft-07",
            "custom_keywords": custom,
            "custom_keyword_uses": keyword_uses,
            "declared_schema": {
                name: schema.get("$schema")
                for name, schema in client.items()
                if "$schema" in schema
            },
        },
        "client_view": {
            "text": "Exported as a plain client sees the schemas: empty HOME, no "
            "IS_SKYPILOT_SERVER, no SKYPILOT_* variables, no plugins. On an API server, "
            "once plugins have loaded, every additionalProperties listed under "
            "'additional_properties_true_on_client_only' is false instead, and "
            "plugin-registered properties are merged into the registries listed.",
            "additional_properties_true_on_client_only": client_only,
            "plugin_registries_empty_at_export": sorted(registries),
        },
        "clouds": {
            "text": "The cloud enum and the infra pattern are built from "
            "sky.skylet.constants.ALL_CLOUDS.",
            "all_clouds": list(constants.ALL_CLOUDS),
        },
        "task_overrideable_config_keys": {
            "text": "The task's config: block is the config schema filtered to these key "
            "paths (sky.skylet.constants.OVERRIDEABLE_CONFIG_KEYS_IN_TASK) plus hooks; "
            "a server may register more.",
            "keys": [list(k) for k in constants.OVERRIDEABLE_CONFIG_KEYS_IN_TASK],
        },
        "python_inline_regex_flags": {
            "text": "These patterns use Python's inline flag groups such as (?i:...), which "
            "ECMAScript engines before ES2025 regex modifiers reject.",
            "patterns": inline_flags,
        },
    }
    check_plain_json(notes, "notes")
    return client, notes


# --------------------------------------------------------------------------- CLI


def _sky_deprecation(command: Any) -> dict[str, Any] | None:
    """SkyPilot's own deprecation mark: ``sky.client.cli.deprecation_utils`` replaces the
    command's ``invoke`` with ``_with_deprecation_warning``'s wrapper, whose closure
    holds the replacement (``original_name``) and the deprecated spelling
    (``alias_name``)."""
    invoke = vars(command).get("invoke")
    if invoke is None:
        return None
    # functools.wraps copied click's names onto the wrapper; its code object keeps its own.
    code = getattr(invoke, "__code__", None)
    where = f"{code.co_filename}:{code.co_qualname}" if code else repr(invoke)
    if not (
        code is not None
        and Path(code.co_filename).as_posix().endswith("sky/client/cli/deprecation_utils.py")
        and code.co_qualname.startswith("_with_deprecation_warning.")
    ):
        raise ExportError(f"command {command.name!r} has an unknown invoke override: {where}")
    closure = inspect.getclosurevars(invoke).nonlocals
    return {
        "mechanism": "sky.client.cli.deprecation_utils._with_deprecation_warning",
        "deprecated_spelling": closure["alias_name"],
        "replacement": closure["original_name"],
        "override_arguments": closure.get("override_command_argument"),
    }


def _param_type(param: Any) -> dict[str, Any]:
    import click

    kind = param.type
    out: dict[str, Any] = {"type": kind.name}
    if isinstance(kind, click.Choice):
        out["choices"] = [str(c) for c in kind.choices]
        out["case_sensitive"] = bool(kind.case_sensitive)
    if isinstance(kind, click.IntRange | click.FloatRange):
        out["range"] = {
            "min": kind.min,
            "max": kind.max,
            "min_open": bool(kind.min_open),
            "max_open": bool(kind.max_open),
            "clamp": bool(kind.clamp),
        }
    return out


def _spellings(opts: list[str]) -> list[str]:
    """Flag spellings, short ones first, then alphabetical. Click builds the help
    option's spellings from a set, so declaration order is not stable across runs."""
    return sorted(opts, key=lambda o: (o.startswith("--"), o))


def _option(option: Any) -> dict[str, Any]:
    deprecated = getattr(option, "deprecated", False)
    takes_value = not (option.is_flag or option.count)
    return {
        "name": option.name,
        "opts": _spellings(option.opts),
        "secondary_opts": _spellings(option.secondary_opts),
        "takes_value": takes_value,
        # click: is_flag=False with a flag_value: the value may be left out.
        "value_optional": bool(takes_value and getattr(option, "_flag_needs_value", False)),
        "is_flag": bool(option.is_flag),
        "multiple": bool(option.multiple),
        "count": bool(option.count),
        "nargs": option.nargs,
        "required": bool(option.required),
        "hidden": bool(option.hidden),
        "deprecated": bool(deprecated),
        "help_mentions_deprecated": bool(re.search(r"deprecat", option.help or "", re.I)),
        **_param_type(option),
    }


def _argument(argument: Any) -> dict[str, Any]:
    return {
        "name": argument.name,
        "nargs": argument.nargs,
        "required": bool(argument.required),
        **_param_type(argument),
    }


def export_cli() -> dict[str, Any]:
    """The ``sky`` command tree, keyed by command path (root: ``""``)."""
    import click
    from sky.client.cli import command as sky_command

    commands: dict[str, dict[str, Any]] = {}

    def visit(
        cmd: click.Command,
        path: tuple[str, ...],
        parent: click.Context | None,
        alias_of: str | None,
    ) -> None:
        # As click's make_context() builds it, so help_option_names (-h) is inherited.
        ctx = cmd.context_class(
            cmd, info_name=path[-1] if path else "sky", parent=parent, **cmd.context_settings
        )
        params = cmd.get_params(ctx)
        click_deprecated = cmd.deprecated
        sky_deprecation = _sky_deprecation(cmd)
        entry: dict[str, Any] = {
            "group": isinstance(cmd, click.Group),
            "hidden": bool(cmd.hidden),
            "deprecated": bool(click_deprecated) or sky_deprecation is not None,
            "deprecation": None,
            "alias_of": alias_of,
            "options": [_option(p) for p in params if isinstance(p, click.Option)],
            "arguments": [_argument(p) for p in params if isinstance(p, click.Argument)],
            "subcommands": [],
        }
        unknown = [p for p in params if not isinstance(p, click.Option | click.Argument)]
        if unknown:
            raise ExportError(f"{' '.join(path)}: unknown parameter kinds {unknown!r}")
        if click_deprecated:
            entry["deprecation"] = {
                "mechanism": "click",
                "message": click_deprecated if isinstance(click_deprecated, str) else None,
                "replacement": None,
            }
        if sky_deprecation is not None:
            replacement = sky_deprecation["replacement"]
            if not replacement.startswith("sky "):
                raise ExportError(f"{path}: replacement {replacement!r} is not a sky command")
            sky_deprecation["replacement"] = replacement[len("sky ") :]
            entry["deprecation"] = sky_deprecation
        commands[" ".join(path)] = entry
        if isinstance(cmd, click.Group):
            # group.commands, not list_commands(): SkyPilot's list_commands() leaves out
            # hidden commands and aliases, which still run.
            canonical: dict[int, str] = {}
            for name, sub in cmd.commands.items():
                if sub.name == name:
                    canonical.setdefault(id(sub), name)
            for name, sub in cmd.commands.items():
                canonical.setdefault(id(sub), name)
            for name, sub in cmd.commands.items():
                entry["subcommands"].append(name)
                sub_alias = alias_of and f"{alias_of} {name}"
                if canonical[id(sub)] != name:
                    sub_alias = " ".join((*path, canonical[id(sub)]))
                visit(sub, (*path, name), ctx, sub_alias)

    root = sky_command.cli
    visit(root, (), None, None)

    for path, entry in commands.items():
        replacement = (entry["deprecation"] or {}).get("replacement")
        if replacement is not None and replacement not in commands:
            raise ExportError(f"{path!r}: replacement {replacement!r} is not a command")
    check_plain_json(commands, "cli/commands")
    return {
        "$comment": 'Command paths are the words after `sky` (the root group is ""). '
        "Aliases (alias_of) and hidden commands are included; they still run.",
        "program": "sky",
        "entry_point": "sky.client.cli.command:cli",
        "click_version": importlib.metadata.version("click"),
        "commands": commands,
    }


# --------------------------------------------------------------------------- env vars


def _resolve_string(node: ast.AST, prefix: str) -> str | None:
    """Value of a constant string expression, with ``SKYPILOT_ENV_VAR_PREFIX`` known."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name | ast.Attribute):
        name = node.id if isinstance(node, ast.Name) else node.attr
        return prefix if name == "SKYPILOT_ENV_VAR_PREFIX" else None
    if isinstance(node, ast.FormattedValue) and node.conversion == -1 and not node.format_spec:
        return _resolve_string(node.value, prefix)
    if isinstance(node, ast.JoinedStr):
        parts = [_resolve_string(v, prefix) for v in node.values]
        return None if None in parts else "".join(p for p in parts if p is not None)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _resolve_string(node.left, prefix), _resolve_string(node.right, prefix)
        return None if left is None or right is None else left + right
    return None


def confirm_environment_variables() -> dict[str, dict[str, Any]]:
    """Each variable of ENVIRONMENT_VARIABLES with where the installed SkyPilot names it.

    Evidence, best first: a constant defined to that string (``NAME = '...'``, including
    ``f'{SKYPILOT_ENV_VAR_PREFIX}...'``), the string as a literal or keyword, the name as
    a word anywhere in the source. Ties go to the first file (sorted path), first line.
    Raises ExportError naming every variable with no evidence.
    """
    import sky
    from sky.skylet import constants

    prefix = constants.SKYPILOT_ENV_VAR_PREFIX
    site = Path(sky.__file__).resolve().parent.parent
    rank = {"constant": 0, "literal": 1, "text": 2}
    found: dict[str, dict[str, Any]] = {}

    def offer(name: str, how: str, rel: str, line: int, constant: str | None = None) -> None:
        candidate = {"how": how, "file": rel, "line": line, "constant": constant}
        best = found.get(name)
        key = (rank[how], rel, line)
        if best is None or key < (rank[best["how"]], best["file"], best["line"]):
            found[name] = candidate

    words = {name: re.compile(rf"\b{re.escape(name)}\b") for name in ENVIRONMENT_VARIABLES}
    for path in sorted(Path(sky.__file__).resolve().parent.rglob("*.py")):
        text = path.read_text(encoding="utf-8", errors="replace")
        # Evidence needs the full name, or the prefix constant to build it from.
        if "SKYPILOT_ENV_VAR_PREFIX" not in text and not any(n in text for n in words):
            continue
        rel = path.relative_to(site).as_posix()
        tree = ast.parse(text, filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                value = _resolve_string(node.value, prefix)
                if value in ENVIRONMENT_VARIABLES:
                    for target in targets:
                        if isinstance(target, ast.Name):
                            offer(value, "constant", rel, node.lineno, target.id)
            elif (isinstance(node, ast.Constant) and node.value in ENVIRONMENT_VARIABLES) or (
                isinstance(node, ast.keyword) and node.arg in ENVIRONMENT_VARIABLES
            ):
                name = node.value if isinstance(node, ast.Constant) else node.arg
                offer(name, "literal", rel, node.lineno)
        for name, word in words.items():
            match = word.search(text) if name in text else None
            if match:
                offer(name, "text", rel, text.count("\n", 0, match.start()) + 1)

    missing = sorted(set(ENVIRONMENT_VARIABLES) - set(found))
    if missing:
        raise ExportError(
            f"not found in the installed SkyPilot ({site / 'sky'}): {', '.join(missing)}"
        )
    out = {}
    for name, spec in ENVIRONMENT_VARIABLES.items():
        out[name] = {
            "set_by": spec.get("set_by", "skypilot"),
            "stages": spec["stages"],
            "scope": spec["scope"],
            "meaning": spec["meaning"],
            "source": found[name],
        }
    return out


#: A whole SKYPILOT_* name (a trailing ``_`` is a prefix such as ``SKYPILOT_SERVER_``,
#: not a name).
_VARIABLE_NAME = re.compile(r"SKYPILOT_[A-Z0-9_]*[A-Z0-9]")
_VARIABLE_WORD = re.compile(r"(?<![A-Za-z0-9_])SKYPILOT_[A-Z0-9_]*[A-Z0-9](?![A-Za-z0-9_])")
#: Kinds of evidence, best first: read or written through ``os.environ``/``os.getenv``;
#: the value of a constant; a string literal that is the whole name; a name inside a
#: longer string (shell code, a message, a docstring).
SETTING_EVIDENCE = ("environ", "constant", "literal", "text")
_UNKNOWN = "\0"


def _module_constants(trees: dict[Path, ast.Module], prefix: str) -> dict[str, str]:
    """``NAME -> string`` for every module-level ``NAME = <string expression>`` of the
    package whose value is the same wherever the name is assigned (names assigned
    different strings in different modules are left out), resolved to a fixed point so
    constants built from other constants (``f'{SKYPILOT_ENV_VAR_PREFIX}CONFIG'``) are
    known."""
    table: dict[str, str] = {"SKYPILOT_ENV_VAR_PREFIX": prefix}
    clashes: set[str] = set()
    for _ in range(10):
        changed = False
        for tree in trees.values():
            for node in tree.body:
                if not isinstance(node, ast.Assign | ast.AnnAssign) or node.value is None:
                    continue
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                value = _string_value(node.value, table)
                if value is None or _UNKNOWN in value:
                    continue
                for target in targets:
                    if not isinstance(target, ast.Name) or target.id in clashes:
                        continue
                    known = table.get(target.id)
                    if known is None:
                        table[target.id] = value
                        changed = True
                    elif known != value and target.id != "SKYPILOT_ENV_VAR_PREFIX":
                        clashes.add(target.id)
                        del table[target.id]
                        changed = True
        if not changed:
            break
    return table


def _string_value(node: ast.AST, table: dict[str, str]) -> str | None:
    """The text of a string expression, with constants of ``table`` filled in and every
    other interpolated part replaced by a NUL; ``None`` if ``node`` is not a string
    expression (a name alone is one only when ``table`` knows it)."""
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) else None
    if isinstance(node, ast.Name | ast.Attribute):
        return table.get(node.id if isinstance(node, ast.Name) else node.attr)
    if isinstance(node, ast.JoinedStr):
        parts = []
        for value in node.values:
            if isinstance(value, ast.FormattedValue):
                inner = None
                if value.conversion == -1 and value.format_spec is None:
                    inner = _string_value(value.value, table)
                parts.append(_UNKNOWN if inner is None else inner)
            else:
                parts.append(_string_value(value, table) or "")
        return "".join(parts)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _string_value(node.left, table), _string_value(node.right, table)
        if left is None and right is None:
            return None
        return (left if left is not None else _UNKNOWN) + (right if right is not None else _UNKNOWN)
    return None


def _environ_uses(node: ast.AST) -> Iterator[tuple[ast.AST, str]]:
    """(key expression, ``"read"`` | ``"set"``) for a use of the process environment:
    ``os.environ[k]``, ``os.environ.get/pop/setdefault(k)``, ``os.getenv(k)``,
    ``os.putenv(k, v)``, ``k in os.environ``, ``os.environ.update({k: v})``."""

    def is_environ(expr: ast.AST) -> bool:
        return (
            isinstance(expr, ast.Attribute)
            and expr.attr == "environ"
            and isinstance(expr.value, ast.Name)
            and expr.value.id == "os"
        )

    if isinstance(node, ast.Subscript) and is_environ(node.value):
        yield node.slice, "set" if isinstance(node.ctx, ast.Store | ast.Del) else "read"
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args:
        func = node.func
        if is_environ(func.value) and func.attr in ("get", "pop", "setdefault"):
            yield node.args[0], "set" if func.attr == "setdefault" else "read"
        elif is_environ(func.value) and func.attr == "update":
            if isinstance(node.args[0], ast.Dict):
                for key in node.args[0].keys:
                    if key is not None:
                        yield key, "set"
        elif (
            isinstance(func.value, ast.Name)
            and func.value.id == "os"
            and func.attr in ("getenv", "putenv", "unsetenv")
        ):
            yield node.args[0], "read" if func.attr == "getenv" else "set"
    elif (
        isinstance(node, ast.Compare)
        and len(node.ops) == 1
        and isinstance(node.ops[0], ast.In | ast.NotIn)
        and is_environ(node.comparators[0])
    ):
        yield node.left, "read"


def export_setting_variables(task_names: set[str]) -> dict[str, dict[str, Any]]:
    """Every ``SKYPILOT_*`` name the installed ``sky`` package names in its Python source,
    except ``task_names`` (see ``setting_variables`` in the module doc).

    For each name: ``evidence`` (the best kind of :data:`SETTING_EVIDENCE` found),
    ``environ`` (``"read"``/``"set"``: how ``os.environ`` is used with it, if it is),
    ``areas`` (the ``sky`` subpackages or modules that name it, e.g. ``client``,
    ``server``, ``skylet``) and ``source`` (file, line and, for a constant, its name,
    of the best evidence; ties go to the first file, first line).
    """
    import sky
    from sky.skylet import constants

    root = Path(sky.__file__).resolve().parent
    site = root.parent
    trees = {
        path: ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for path in sorted(root.rglob("*.py"))
    }
    table = _module_constants(trees, constants.SKYPILOT_ENV_VAR_PREFIX)
    rank = {how: index for index, how in enumerate(SETTING_EVIDENCE)}
    found: dict[str, dict[str, Any]] = {}

    def offer(name: str, how: str, rel: str, line: int, constant: str | None = None) -> None:
        if name in task_names:
            return
        entry = found.setdefault(name, {"environ": set(), "areas": set(), "source": None})
        area = Path(rel).parts[1] if len(Path(rel).parts) > 2 else Path(rel).stem
        entry["areas"].add(area.removesuffix(".py"))
        best = entry["source"]
        key = (rank[how], rel, line)
        if best is None or key < (rank[best["how"]], best["file"], best["line"]):
            entry["source"] = {"how": how, "file": rel, "line": line, "constant": constant}

    for path, tree in trees.items():
        rel = path.relative_to(site).as_posix()
        assigned: dict[int, str] = {}
        for node in tree.body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
                if isinstance(target, ast.Name):
                    assigned[id(node.value)] = target.id
        for node in ast.walk(tree):
            for key, use in _environ_uses(node):
                value = _string_value(key, table)
                if value is not None and _VARIABLE_NAME.fullmatch(value):
                    offer(value, "environ", rel, node.lineno)
                    if value in found:
                        found[value]["environ"].add(use)
            if not isinstance(node, ast.Constant | ast.JoinedStr | ast.BinOp):
                continue
            value = _string_value(node, table)
            if value is None:
                continue
            if _VARIABLE_NAME.fullmatch(value):
                constant = assigned.get(id(node))
                offer(value, "constant" if constant else "literal", rel, node.lineno, constant)
                continue
            for match in _VARIABLE_WORD.finditer(value):
                offer(match.group(), "text", rel, node.lineno)

    out: dict[str, dict[str, Any]] = {}
    for name in sorted(found):
        entry = found[name]
        out[name] = {
            "evidence": entry["source"]["how"],
            "environ": sorted(entry["environ"]),
            "areas": sorted(entry["areas"]),
            "source": entry["source"],
        }
    for required in ("SKYPILOT_CONFIG", "SKYPILOT_API_SERVER_ENDPOINT", "SKYPILOT_DEBUG"):
        if required not in out:
            raise ExportError(f"{required} not found in {root}: re-check the scanner")
    return out


# --------------------------------------------------------------------------- main


def export(expected_version: str | None) -> tuple[str, str]:
    """Import SkyPilot and build the snapshot. Returns (version, JSON text)."""
    import sky

    version = sky.__version__
    if expected_version is not None and version != expected_version:
        raise ExportError(
            f"installed skypilot is {version}, the project pins {expected_version} "
            f"(slurm2sky.SKYPILOT_VERSION); install skypilot=={expected_version} or pass "
            "--any-version"
        )
    schemas, notes = export_schemas()
    snapshot = {
        "$comment": "Exported from SkyPilot (https://github.com/skypilot-org/skypilot, "
        "Apache License 2.0) by tools/refresh_skypilot.py; do not edit by hand. "
        "Regenerate with `nox -s refresh-skypilot`.",
        "format": FORMAT,
        "skypilot": {"version": version, "commit": getattr(sky, "__commit__", None)},
        "schemas": schemas,
        "notes": notes,
        "cli": export_cli(),
        "environment_variables": confirm_environment_variables(),
        "setting_variables": export_setting_variables(set(ENVIRONMENT_VARIABLES)),
    }
    text = json.dumps(snapshot, sort_keys=True, indent=1, ensure_ascii=False) + "\n"
    return version, text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=DATA_DIR,
        help=f"where to write skypilot-<version>.json (default: {DATA_DIR.relative_to(REPO)})",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if the committed snapshot differs from a fresh export",
    )
    parser.add_argument(
        "--any-version",
        action="store_true",
        help="export whatever skypilot is installed, not only slurm2sky.SKYPILOT_VERSION",
    )
    args = parser.parse_args(argv)

    home = isolate_environment()
    try:
        version, text = export(None if args.any_version else pinned_version())
    except ExportError as error:
        print(f"refresh_skypilot: error: {error}", file=sys.stderr)
        return 2
    finally:
        shutil.rmtree(home, ignore_errors=True)

    target = args.output_dir / f"skypilot-{version}.json"
    shown = target.relative_to(REPO) if target.is_relative_to(REPO) else target
    if args.check:
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if current != text:
            print(
                f"refresh_skypilot: {shown} is {'missing' if current is None else 'stale'}; "
                "run `nox -s refresh-skypilot`",
                file=sys.stderr,
            )
            return 1
        print(f"refresh_skypilot: {shown} is up to date")
        return 0
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    print(f"refresh_skypilot: wrote {shown} ({len(text.encode())} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
