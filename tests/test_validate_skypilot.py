"""The skypilot engine: SkyPilot's own loaders in a long-lived worker process.

The test of a Python without skypilot always runs (a wrapper that starts this Python
with ``-S``, so site-packages, and skypilot with them, are out of reach). The rest
needs a Python with skypilot (``$SLURM2SKY_SKYPILOT_PYTHON``, or this one if it can
``import sky``) and is skipped otherwise.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from slurm2sky.validate import EngineUnavailable, validate_data, validate_text
from slurm2sky.validate.skypilot import SkyPilotEngine
from test_validate_parity import skypilot_python


@pytest.fixture
def python_without_skypilot(tmp_path: Path) -> str:
    if os.name != "posix":
        pytest.skip("the wrapper is a shell script")
    wrapper = tmp_path / "python-without-site"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -S "$@"\n', encoding="utf-8")
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    return str(wrapper)


def test_missing_skypilot_is_a_clear_error(python_without_skypilot: str) -> None:
    engine = SkyPilotEngine(python=python_without_skypilot)
    with pytest.raises(EngineUnavailable) as caught:
        validate_text("run: x", engine=engine)
    message = str(caught.value)
    assert "needs skypilot installed in" in message
    assert "No module named 'sky'" in message
    assert "SLURM2SKY_SKYPILOT_PYTHON" in message
    assert "Traceback" not in message
    engine.close()


def test_python_that_does_not_exist(tmp_path: Path) -> None:
    engine = SkyPilotEngine(python=str(tmp_path / "no-python"))
    with pytest.raises(EngineUnavailable, match="cannot run"):
        validate_text("run: x", engine=engine)


def test_python_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLURM2SKY_SKYPILOT_PYTHON", "/opt/sky/bin/python")
    assert SkyPilotEngine().python == "/opt/sky/bin/python"
    assert SkyPilotEngine(python="/x/python").python == "/x/python"


@pytest.fixture(scope="module")
def engine() -> Iterator[SkyPilotEngine]:
    python = skypilot_python()
    if python is None:
        pytest.skip("no Python with skypilot (set SLURM2SKY_SKYPILOT_PYTHON)")
    engine = SkyPilotEngine(python=python)
    yield engine
    engine.close()


def test_one_worker_for_many_documents(engine: SkyPilotEngine) -> None:
    engine.start()
    process = engine._process
    home = engine._home
    assert process is not None and home is not None and Path(home).is_dir()
    assert home != os.path.expanduser("~")
    for count in range(1, 6):
        assert validate_text(f"num_nodes: {count}\nrun: x\n", engine=engine).valid
    assert engine._process is process
    assert engine.skypilot_version == "0.14.1"


def test_skypilot_messages_are_located(engine: SkyPilotEngine) -> None:
    verdict = validate_text("name: t\nnodes: 2\nrun: x\n", engine=engine)
    assert verdict.engine == "skypilot"
    (issue,) = verdict.issues
    assert issue.message == "Invalid task YAML: Instead of 'nodes', did you mean 'num_nodes'?"
    assert (issue.line, issue.column) == (2, 1)
    (issue,) = validate_text("resources:\n  cpus: many\n", engine=engine).issues
    assert (issue.line, issue.column, issue.path) == (2, 9, "$.resources.cpus")  # the value
    (issue,) = validate_text("run: a\nrun: b\n", engine=engine).issues
    assert (issue.line, issue.column, issue.code) == (2, 1, "duplicate-key")
    (issue,) = validate_text("a: [1\n", engine=engine).issues
    assert (issue.line, issue.code) == (2, "yaml")


@pytest.mark.parametrize(
    ("text", "kind", "place", "path"),
    [
        # jsonschema's "Check problematic field(s): $['_docker_login_config']"
        (
            "resources:\n  _docker_login_config:\n    username: u\n    server: s\nrun: x\n",
            "task",
            (3, 5),
            "$.resources._docker_login_config",
        ),
        # a field in quotes, the value the message quotes chooses among any_of candidates
        (
            "resources:\n  any_of:\n    - cpus: 4\n    - cpus: none\nrun: x\n",
            "task",
            (4, 13),
            "$.resources.any_of[1].cpus",
        ),
        # an invalid env name: at the key
        ("envs:\n  OK: 1\n  1LR: x\nrun: x\n", "task", (3, 3), "$.envs.1LR"),
        # two fields that exclude each other: the second one's key
        ("service:\n  replicas: 2\n  workers: 2\nrun: x\n", "task", (3, 3), "$.service.workers"),
        # a dotted path in a config message
        (
            "dashboard:\n  external_links:\n    - label: x\n      url: http://a/${nope}\n",
            "config",
            (4, 12),
            "$.dashboard.external_links[0].url",
        ),
        # a sentence of its own: the job group's second job named twice
        (
            "name: g\nexecution: parallel\n---\nname: a\nrun: x\n---\nname: a\nrun: y\n",
            "task",
            (7, 7),
            "$.name",
        ),
    ],
)
def test_skypilot_messages_name_their_field(
    engine: SkyPilotEngine, text: str, kind: str, place: tuple[int, int], path: str
) -> None:
    """The skypilot engine finds the field SkyPilot's message names in the parsed YAML,
    at the same line and column as the embedded engine."""
    (issue,) = validate_text(text, kind, engine=engine).issues
    assert ((issue.line, issue.column), issue.path) == (place, path), issue
    embedded = validate_text(text, kind)
    assert (issue.line, issue.column) in {(i.line, i.column) for i in embedded.issues}


def test_null_envs_use_placeholders(engine: SkyPilotEngine) -> None:
    text = "envs:\n  TASK_ID:\nrun: echo $TASK_ID\n"
    assert validate_text(text, engine=engine).needs_env == ("TASK_ID",)
    assert validate_text(text, env={"TASK_ID": "3"}, engine=engine).status == "valid"


def test_messages_name_the_callers_file(engine: SkyPilotEngine) -> None:
    verdict = validate_text("", engine=engine, source="mine.yaml")
    assert verdict.issues[0].message.startswith("'mine.yaml' is empty")
    config = validate_text("kubernets: {}\n", "config", engine=engine, source="c.yaml")
    assert config.issues[0].message.startswith("Invalid config YAML from (c.yaml).")


def test_parsed_documents(engine: SkyPilotEngine) -> None:
    assert validate_data({"run": "x", "envs": {"A": None}}, engine=engine).needs_env == ("A",)
    (issue,) = validate_data({"num_nodes": 0}, engine=engine).issues
    assert issue.message == "num_nodes should be a positive int. Got: 0"
    assert validate_data({"kubernetes": {}}, "config", engine=engine).valid
    volume = {"name": "v", "type": "k8s-pvc", "size": "1Gi"}
    assert validate_data(volume, "volume", engine=engine).valid


def test_network_is_refused(engine: SkyPilotEngine) -> None:
    """Memory-based accelerator specs make SkyPilot download its GPU catalog: the
    worker refuses, and says so, rather than reaching the network."""
    (issue,) = validate_text("resources:\n  accelerators: 80GB+\n", engine=engine).issues
    assert issue.code == "network"
    assert "tried to reach the network" in issue.message


def test_close_removes_the_temporary_home(python_without_skypilot: str) -> None:
    python = skypilot_python()
    if python is None:
        pytest.skip("no Python with skypilot")
    engine = SkyPilotEngine(python=python)
    engine.start()
    home = engine._home
    assert home is not None and Path(home).is_dir()
    engine.close()
    engine.close()
    assert not Path(home).exists()
    assert validate_text("run: x", engine=engine).valid  # restarts on demand
    engine.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_processes_get_their_own_worker(engine: SkyPilotEngine) -> None:
    """``sphinx-build -j`` forks: a child must not talk to (or stop) its parent's worker."""
    engine.start()
    parent_worker = engine._process
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        ok = False
        try:
            ok = validate_text("num_nodes: 0\nrun: x\n", engine=engine).status == "invalid"
            ok = ok and engine._process is not parent_worker
            engine.close()
        finally:
            os._exit(0 if ok else 1)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert engine._process is parent_worker and parent_worker.poll() is None
    assert validate_text("run: x\n", engine=engine).valid
