"""The embedded snapshot of SkyPilot's rules (slurm2sky/validate/data/skypilot-<v>.json):
it is packaged, canonical, for the pinned release, and holds the schemas, the ``sky``
command tree and the ``SKYPILOT_*`` variables the guide relies on.

None of these tests needs SkyPilot, except ``test_snapshot_matches_fresh_export``, which
runs only when ``SLURM2SKY_SKYPILOT_PYTHON`` names a Python with skypilot installed.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import jsonschema
import pytest
import slurm2sky
from slurm2sky.validate import SKYPILOT_VERSION, available_versions, snapshot

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "sphinxext" / "slurm2sky" / "validate" / "data"
TOOL = REPO / "tools" / "refresh_skypilot.py"
SCHEMA_NAMES = {"task", "resources", "storage", "service", "volume_mount", "volume", "config"}


@pytest.fixture(scope="module")
def snap() -> dict[str, Any]:
    return snapshot()


@pytest.fixture(scope="module")
def commands(snap: dict[str, Any]) -> dict[str, Any]:
    return snap["cli"]["commands"]


@pytest.fixture(scope="module")
def tool() -> ModuleType:
    """tools/refresh_skypilot.py as a module (it imports SkyPilot only inside functions)."""
    spec = importlib.util.spec_from_file_location("refresh_skypilot", TOOL)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def option(commands: dict[str, Any], path: str, spelling: str) -> dict[str, Any]:
    """The option of ``sky <path>`` spelled ``spelling`` (a primary or secondary flag)."""
    for opt in commands[path]["options"]:
        if spelling in opt["opts"] or spelling in opt["secondary_opts"]:
            return opt
    raise AssertionError(f"sky {path} has no option {spelling}")


# --------------------------------------------------------------------------- the file


def test_pinned_release_is_packaged() -> None:
    assert SKYPILOT_VERSION == slurm2sky.SKYPILOT_VERSION == "0.14.1"
    assert SKYPILOT_VERSION in available_versions()
    assert (DATA / f"skypilot-{SKYPILOT_VERSION}.json").is_file()


def test_snapshot_identifies_its_release(snap: dict[str, Any]) -> None:
    assert snap["format"] == 2
    assert snap["skypilot"]["version"] == SKYPILOT_VERSION
    assert re.fullmatch(r"[0-9a-f]{40}", snap["skypilot"]["commit"])
    assert "Apache" in snap["$comment"]
    assert "tools/refresh_skypilot.py" in snap["$comment"]


def test_snapshot_file_is_canonical() -> None:
    """Sorted keys, indent 1, trailing newline: what the exporter writes, byte for byte."""
    text = (DATA / f"skypilot-{SKYPILOT_VERSION}.json").read_text(encoding="utf-8")
    data = json.loads(text)
    assert text == json.dumps(data, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def test_snapshot_returns_a_fresh_dict() -> None:
    first = snapshot()
    first["schemas"].clear()
    assert snapshot(SKYPILOT_VERSION)["schemas"]


def test_unknown_version_names_the_packaged_ones() -> None:
    with pytest.raises(LookupError, match=re.escape(SKYPILOT_VERSION)):
        snapshot("0.0.0")


def test_import_stays_light() -> None:
    """Design rule: the validate package reads JSON only; no jsonschema at import."""
    code = "import sys, slurm2sky.validate as v; v.snapshot(); print('jsonschema' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --------------------------------------------------------------------------- schemas


def test_all_schemas_are_valid_draft7(snap: dict[str, Any]) -> None:
    assert set(snap["schemas"]) == SCHEMA_NAMES
    for schema in snap["schemas"].values():
        jsonschema.Draft7Validator.check_schema(schema)


def test_notes_describe_skypilots_validator(snap: dict[str, Any]) -> None:
    notes = snap["notes"]
    assert notes["validator"]["draft"] == "draft-07"
    assert notes["validator"]["custom_keywords"] == ["case_insensitive_enum", "case_sensitive_enum"]
    assert "slurm" in notes["clouds"]["all_clouds"]
    assert notes["python_inline_regex_flags"]["patterns"]["resources"]


def test_environment_dependent_values_are_recorded(snap: dict[str, Any]) -> None:
    """§6.3 of the reference: additionalProperties is true on a client only; every
    recorded pointer must resolve to ``true`` in the exported schema."""
    dependent = snap["notes"]["client_view"]["additional_properties_true_on_client_only"]
    assert "/properties/job_recovery/anyOf/1/additionalProperties" in dependent["resources"]
    assert "/properties/config/additionalProperties" in dependent["task"]
    for name, pointers in dependent.items():
        for pointer in pointers:
            node: Any = snap["schemas"][name]
            for part in pointer.lstrip("/").split("/"):
                part = part.replace("~1", "/").replace("~0", "~")
                node = node[int(part)] if isinstance(node, list) else node[part]
            assert node is True, (name, pointer)


def test_schemas_with_skypilots_keywords(snap: dict[str, Any]) -> None:
    """With SkyPilot's two custom keywords the snapshot gives SkyPilot's verdicts on
    simple cases (the full engine, with SkyPilot's pre-processing, lives elsewhere)."""

    def case_insensitive_enum(validator, enums, instance, schema):
        del validator, schema
        if instance.lower() not in [e.lower() for e in enums]:
            yield jsonschema.ValidationError(f"{instance!r} is not one of {enums!r}")

    sky_validator = jsonschema.validators.extend(
        jsonschema.Draft7Validator, {"case_insensitive_enum": case_insensitive_enum}
    )
    task = sky_validator(snap["schemas"]["task"])
    resources = sky_validator(snap["schemas"]["resources"])
    assert task.is_valid({"name": "train", "num_nodes": 2, "run": "python train.py"})
    assert not task.is_valid({"nmae": "train"})
    assert resources.is_valid({"accelerators": "H100:8", "cloud": "AWS"})
    assert not resources.is_valid({"cloud": "awz"})
    assert not resources.is_valid({"spot_recovery": "FAILOVER"})


# --------------------------------------------------------------------------- CLI


def test_command_tree_is_consistent(commands: dict[str, Any]) -> None:
    assert commands[""]["group"]
    for path, entry in commands.items():
        for sub in entry["subcommands"]:
            assert f"{path} {sub}".strip() in commands
        if entry["alias_of"] is not None:
            assert entry["alias_of"] in commands
        if entry["deprecation"] and entry["deprecation"]["replacement"]:
            assert entry["deprecation"]["replacement"] in commands
        assert entry["deprecated"] == (entry["deprecation"] is not None)
        spellings = [s for o in entry["options"] for s in o["opts"] + o["secondary_opts"]]
        assert len(spellings) == len(set(spellings)), path


def test_jobs_launch_options(commands: dict[str, Any]) -> None:
    assert option(commands, "jobs launch", "--num-jobs")["takes_value"]
    env = option(commands, "jobs launch", "--env")
    assert env["takes_value"] and env["multiple"]
    assert option(commands, "jobs launch", "-y") is option(commands, "jobs launch", "--yes")
    detach = option(commands, "jobs launch", "-d")
    assert detach is option(commands, "jobs launch", "--detach-run")
    assert detach["is_flag"] and not detach["takes_value"]
    assert commands["jobs launch"]["arguments"] == [
        {"name": "entrypoint", "nargs": -1, "required": True, "type": "text"}
    ]


def test_launch_options(commands: dict[str, Any]) -> None:
    cluster = option(commands, "launch", "-c")
    assert cluster is option(commands, "launch", "--cluster") and cluster["takes_value"]
    for spelling in ("--gpus", "--num-nodes", "--infra"):
        opt = option(commands, "launch", spelling)
        assert opt["takes_value"] and not opt["hidden"], spelling
    assert option(commands, "launch", "--cloud")["hidden"]  # replaced by --infra


def test_show_gpus_is_deprecated_for_gpus_list(commands: dict[str, Any]) -> None:
    show_gpus = commands["show-gpus"]
    assert show_gpus["deprecated"] and show_gpus["hidden"]
    assert show_gpus["deprecation"]["replacement"] == "gpus list"
    gpus_list = commands["gpus list"]
    assert not gpus_list["deprecated"] and not gpus_list["hidden"]


def test_volume_is_an_alias_of_volumes(commands: dict[str, Any]) -> None:
    assert commands["volume"]["alias_of"] == "volumes"
    assert commands["volume apply"]["alias_of"] == "volumes apply"


#: Command lines of the guide, and whether SkyPilot 0.14.1's CLI accepts their shape
#: (checked by parsing each with SkyPilot's own click tree).
GUIDE_COMMANDS = [
    ("sky launch -c dev --gpus H100:8", True),
    ("sky launch -c dev task.yaml", True),
    ("sky exec mycluster 'python train.py'", True),
    ("sky status", True),
    ("sky down mycluster", True),
    ("sky stop", True),
    ("sky start", True),
    ("sky queue mycluster", True),
    ("sky cancel mycluster 3", True),
    ("sky jobs launch task.yaml", True),
    ("sky jobs launch --num-jobs 4 task.yaml", True),
    ("sky jobs launch --env TASK_ID=1 -y -d task.yaml", True),
    ("sky jobs cancel 7", True),
    ("sky jobs queue", True),
    ("sky jobs logs 7", True),
    ("sky logs mycluster", True),
    ("sky gpus list", True),
    ("sky serve up service.yaml", True),
    ("sky dashboard", True),
    ("sky api login", True),
    ("sky volumes apply volume.yaml", True),
    ("sky volumes apply -f -", False),  # no -f: that is kubectl's spelling
    ("sky launch --infra kubernetes/my-gpu-context task.yaml", True),
    ("sky launch -c dev --gpus H100:8 --num-nodes 4", True),
]


@pytest.mark.parametrize(("line", "accepted"), GUIDE_COMMANDS, ids=[c for c, _ in GUIDE_COMMANDS])
def test_guide_command_shapes(commands: dict[str, Any], line: str, accepted: bool) -> None:
    """The command path exists and is current; every flag is a known spelling, followed
    by a value when it takes one. (A shape check, not click's parser: no ``-abc``
    clusters, no ``--opt=value``.)"""
    words = shlex.split(line)[1:]
    path: list[str] = []
    while words and " ".join([*path, words[0]]) in commands:
        path.append(words.pop(0))
    entry = commands[" ".join(path)]
    assert not entry["group"] and not entry["deprecated"] and not entry["hidden"], line
    known = {s: o for o in entry["options"] for s in o["opts"] + o["secondary_opts"]}
    ok, positional = True, 0
    while words:
        word = words.pop(0)
        if word.startswith("-") and word != "-":
            opt = known.get(word)
            if opt is None:
                ok = False
                break
            if opt["takes_value"] and not opt["value_optional"]:
                ok = ok and bool(words) and not words.pop(0).startswith("-")
        else:
            positional += 1
    arguments = entry["arguments"]
    needed = sum(1 for a in arguments if a["required"])
    unbounded = any(a["nargs"] == -1 for a in arguments)
    ok = ok and positional >= needed and (unbounded or positional <= len(arguments))
    assert ok == accepted, line


# --------------------------------------------------------------------------- env vars

TASK_VARIABLES = [
    "SKYPILOT_NODE_RANK",
    "SKYPILOT_NODE_IPS",
    "SKYPILOT_NUM_NODES",
    "SKYPILOT_NUM_GPUS_PER_NODE",
    "SKYPILOT_TASK_ID",
    "SKYPILOT_JOB_RANK",
    "SKYPILOT_NUM_JOBS",
    "SKYPILOT_MANAGED_JOB_ID",
]


@pytest.mark.parametrize("name", TASK_VARIABLES)
def test_task_variables_are_known(snap: dict[str, Any], name: str) -> None:
    variable = snap["environment_variables"][name]
    assert variable["set_by"] == "skypilot"
    assert variable["stages"] and variable["meaning"]
    assert variable["source"]["file"].startswith("sky/") and variable["source"]["line"] > 0


def test_user_set_variables_are_flagged(snap: dict[str, Any]) -> None:
    user_set = {n for n, v in snap["environment_variables"].items() if v["set_by"] == "user"}
    assert {"SKYPILOT_DOCKER_USERNAME", "SKYPILOT_DOCKER_PASSWORD", "SKYPILOT_DOCKER_SERVER"} <= (
        user_set
    )
    assert not user_set & set(TASK_VARIABLES)


def test_setting_variables_are_the_rest_of_the_releases_names(snap: dict[str, Any]) -> None:
    """Client and server settings (SKYPILOT_CONFIG, ...) are exported, each with where it
    was found, and apart from the task's variables."""
    settings = snap["setting_variables"]
    assert len(settings) > 50
    assert not set(settings) & set(snap["environment_variables"])
    for name in ("SKYPILOT_CONFIG", "SKYPILOT_API_SERVER_ENDPOINT", "SKYPILOT_DEBUG"):
        entry = settings[name]
        assert entry["evidence"] == "environ" and "read" in entry["environ"], entry
        assert entry["source"]["file"].startswith("sky/") and entry["source"]["line"] > 0
    for name, entry in settings.items():
        assert re.fullmatch(r"SKYPILOT_[A-Z0-9_]*[A-Z0-9]", name), name
        assert entry["evidence"] in ("environ", "constant", "literal", "text")
        assert entry["areas"], name


def test_snapshot_matches_the_exporters_tables(snap: dict[str, Any], tool: ModuleType) -> None:
    """Editing the exporter's tables without re-exporting is caught here."""
    assert snap["format"] == tool.FORMAT
    assert set(snap["schemas"]) == set(tool.SCHEMA_NAMES)
    assert set(snap["environment_variables"]) == set(tool.ENVIRONMENT_VARIABLES)
    for name, spec in tool.ENVIRONMENT_VARIABLES.items():
        exported = snap["environment_variables"][name]
        assert exported["meaning"] == spec["meaning"]
        assert exported["stages"] == spec["stages"]
    assert tool.pinned_version() == SKYPILOT_VERSION


@pytest.mark.skipif(
    not os.environ.get("SLURM2SKY_SKYPILOT_PYTHON"),
    reason="set SLURM2SKY_SKYPILOT_PYTHON to a Python with skypilot installed",
)
def test_snapshot_matches_fresh_export() -> None:
    python = os.environ["SLURM2SKY_SKYPILOT_PYTHON"]
    result = subprocess.run(
        [python, str(TOOL), "--check"], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
