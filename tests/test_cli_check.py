"""``slurm2sky check`` in real processes: messages, summaries, exit codes, engines, and
the pre-commit hook that runs it."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML
from test_validate_parity import skypilot_python

REPO = Path(__file__).resolve().parents[1]
BAD = "name: t\nnodes: 2\nrun: echo\nresources:\n  accelerators: H100:eight\n"
NULL_ENV = "envs:\n  TASK_ID:\nrun: python work.py --shard $TASK_ID\n"


def check(
    *args: str, cwd: Path, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "slurm2sky", "check", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
    )


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "good.yaml").write_text("run: echo hello\n", encoding="utf-8")
    (tmp_path / "bad.yaml").write_text(BAD, encoding="utf-8")
    (tmp_path / "array.yaml").write_text(NULL_ENV, encoding="utf-8")
    (tmp_path / "config.yaml").write_text("kubernetes:\n  allowed_contexts: [a]\n", "utf-8")
    (tmp_path / "volume.yaml").write_text("name: d\ntype: k8s-pvc\nsize: 1Gi\n", "utf-8")
    return tmp_path


def test_valid_file(files: Path) -> None:
    done = check("good.yaml", cwd=files)
    assert (done.returncode, done.stdout, done.stderr) == (0, "good.yaml: valid\n", "")


def test_invalid_file_is_located(files: Path) -> None:
    done = check("bad.yaml", cwd=files)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "bad.yaml:2:1: Invalid task YAML: Instead of 'nodes', did you mean 'num_nodes'?",
        'bad.yaml:5:17: The "accelerators" field as a str should be <name> or <name>:<cnt>. '
        "Found: 'H100:eight'",
    ]
    assert done.stdout == "bad.yaml: invalid (2 issues)\n"


def test_null_env_needs_env(files: Path) -> None:
    done = check("array.yaml", cwd=files)
    assert (done.returncode, done.stdout) == (0, "array.yaml: valid, needs --env TASK_ID\n")
    done = check("--env", "TASK_ID=3", "array.yaml", cwd=files)
    assert (done.returncode, done.stdout) == (0, "array.yaml: valid\n")
    done = check("--env", "TASK_ID", "array.yaml", cwd=files, env={"TASK_ID": "5"})
    assert (done.returncode, done.stdout) == (0, "array.yaml: valid\n")


def test_env_usage_errors(files: Path) -> None:
    done = check("--env", "NOT_SET_ANYWHERE_42", "array.yaml", cwd=files)
    assert done.returncode == 2
    assert "NOT_SET_ANYWHERE_42 is not set in this environment" in done.stderr
    assert check("--env", "=x", "array.yaml", cwd=files).returncode == 2


def test_many_files_and_kinds(files: Path) -> None:
    done = check("good.yaml", "bad.yaml", "config.yaml", "volume.yaml", cwd=files)
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        "good.yaml: valid",
        "bad.yaml: invalid (2 issues)",
        "config.yaml: valid",
        "volume.yaml: valid",
    ]
    done = check("--kind", "task", "config.yaml", cwd=files)
    assert done.returncode == 1
    assert (
        "config.yaml:1:1: Invalid task YAML: Found unsupported field 'kubernetes'." in done.stderr
    )


def test_stdin(files: Path) -> None:
    done = check("-", cwd=files, stdin="num_nodes: 0\nrun: x\n")
    assert done.returncode == 1
    assert done.stderr == "<stdin>:1:12: num_nodes should be a positive int. Got: 0\n"
    assert done.stdout == "<stdin>: invalid (1 issue)\n"


def test_unknown_kind_and_unreadable_files(files: Path) -> None:
    (files / "pod.yaml").write_text("apiVersion: v1\nkind: Pod\n", "utf-8")
    done = check("pod.yaml", cwd=files)
    assert done.returncode == 1
    assert "pod.yaml:1:1: cannot tell what kind of SkyPilot document this is" in done.stderr
    (files / "latin1.yaml").write_bytes("run: caf\xe9\n".encode("latin-1"))
    done = check("latin1.yaml", cwd=files)
    assert done.returncode == 1
    assert "is not a valid UTF-8 text file" in done.stderr
    done = check("missing.yaml", "good.yaml", cwd=files)
    assert done.returncode == 2
    assert "missing.yaml: cannot read: No such file or directory" in done.stderr
    assert "good.yaml: valid" in done.stdout


def test_usage_errors(files: Path) -> None:
    assert check(cwd=files).returncode == 2
    done = check("--engine", "pyyaml", "good.yaml", cwd=files)
    assert done.returncode == 2 and "invalid choice: 'pyyaml'" in done.stderr
    assert check("--kind", "dag", "good.yaml", cwd=files).returncode == 2


@pytest.mark.skipif(os.name != "posix", reason="the wrapper is a shell script")
def test_skypilot_engine_without_skypilot(files: Path) -> None:
    wrapper = files / "python-without-site"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -S "$@"\n', encoding="utf-8")
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    done = check("--engine", "skypilot", "--skypilot-python", str(wrapper), "good.yaml", cwd=files)
    assert done.returncode == 2
    assert done.stderr.startswith("slurm2sky check: the skypilot engine needs skypilot installed")
    assert "Traceback" not in done.stderr


def test_skypilot_engine(files: Path) -> None:
    python = skypilot_python()
    if python is None:
        pytest.skip("no Python with skypilot (set SLURM2SKY_SKYPILOT_PYTHON)")
    done = check(
        "--engine", "skypilot", "--skypilot-python", python, "good.yaml", "bad.yaml", "array.yaml",
        cwd=files,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        "good.yaml: valid",
        "bad.yaml: invalid (1 issue)",
        "array.yaml: valid, needs --env TASK_ID",
    ]
    assert done.stderr == (
        "bad.yaml:2:1: Invalid task YAML: Instead of 'nodes', did you mean 'num_nodes'?\n"
    )


def test_pre_commit_hook() -> None:
    hooks = YAML(typ="safe").load((REPO / ".pre-commit-hooks.yaml").read_text("utf-8"))
    (hook,) = [hook for hook in hooks if hook["id"] == "slurm2sky-check"]
    assert hook["entry"] == "slurm2sky check"
    assert hook["language"] == "python"
    assert hook["types"] == ["yaml"]
