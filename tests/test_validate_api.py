"""The public interface of slurm2sky.validate: kinds, engines, inference, and a light
import (jsonschema and ruamel.yaml only once something is validated)."""

from __future__ import annotations

import subprocess
import sys

import pytest
import slurm2sky.validate as validate
from slurm2sky.validate import (
    KINDS,
    Engine,
    get_engine,
    infer_kind,
    snapshot,
    validate_data,
    validate_text,
)


def test_public_names() -> None:
    assert KINDS == ("task", "config", "volume")
    for name in ("Issue", "Verdict", "validate_text", "validate_data", "infer_kind", "get_engine"):
        assert name in validate.__all__
    assert callable(snapshot)  # the snapshot accessor stays


def test_import_is_light() -> None:
    code = (
        "import sys, slurm2sky.validate\n"
        "heavy = [m for m in ('jsonschema', 'ruamel', 'ruamel.yaml', 'yaml', 'sphinx', 'sky')"
        " if m in sys.modules]\n"
        "print(heavy)\n"
        "slurm2sky.validate.validate_text('run: x')\n"
        "print('jsonschema' in sys.modules, 'sphinx' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split("\n")
    assert out[0] == "[]"
    assert out[1] == "True False"


def test_get_engine() -> None:
    embedded = get_engine("embedded")
    assert embedded is get_engine("embedded")
    assert isinstance(embedded, Engine) and embedded.name == "embedded"
    with pytest.raises(ValueError, match="valid engines: embedded, skypilot"):
        get_engine("pyyaml")


def test_unknown_kind() -> None:
    with pytest.raises(ValueError, match="valid kinds: task, config, volume"):
        validate_text("run: x", "dag")
    with pytest.raises(ValueError, match="valid kinds"):
        validate_data({}, "dag")


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        ({"run": "x"}, "task"),
        ({"name": "pipeline-header"}, "task"),
        ({"name": "g", "execution": "parallel"}, "task"),
        ({"resources": {"cpus": 2}}, "task"),
        ({"nodes": 2, "run": "x"}, "task"),
        ({"kubernetes": {"allowed_contexts": ["a"]}}, "config"),
        ({"jobs": {}, "admin_policy": "p.P"}, "config"),
        ({"name": "v", "type": "k8s-pvc", "size": "1Gi"}, "volume"),
        ({"name": "v", "type": "k8s-hostpath"}, "volume"),
        ({"name": "v", "type": "kubernetes"}, None),
        ({"apiVersion": "v1", "kind": "Pod"}, None),
        ({}, None),
        (None, None),
        (["run"], None),
    ],
)
def test_infer_kind(data: object, kind: str | None) -> None:
    assert infer_kind(data) == kind


def test_validate_text_infers_the_kind() -> None:
    assert validate_text("kubernetes:\n  pod_config: {}\n", None).kind == "config"
    assert validate_text("name: v\ntype: k8s-pvc\nsize: 1Gi\n", None).kind == "volume"
    assert validate_text("name: p\n---\nrun: x\n", None).kind == "task"
    unknown = validate_text("apiVersion: v1\nkind: Pod\n", None)
    assert unknown.kind == "" and not unknown.valid
    assert unknown.issues[0].code == "kind"
    assert "set the kind explicitly" in unknown.issues[0].message
    broken = validate_text("a: [1\n", None)
    assert broken.issues[0].code == "yaml"


def test_engine_instance_can_be_passed() -> None:
    engine = get_engine("embedded")
    assert validate_text("run: x", engine=engine).engine == "embedded"
    assert validate_data({"run": "x"}, engine=engine).valid
