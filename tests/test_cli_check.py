"""``slurm2sky check`` in real processes: messages, summaries, exit codes, engines, and
the pre-commit hook that runs it."""

from __future__ import annotations

import os
import shlex
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


def test_multi_line_messages_are_one_line(files: Path) -> None:
    """jsonschema's message for an invalid env name spans two lines: one line here."""
    (files / "keys.yaml").write_text("envs:\n  1LR: x\nrun: echo\n", "utf-8")
    done = check("keys.yaml", cwd=files)
    assert done.returncode == 1
    assert done.stderr == (
        "keys.yaml:2:3: Invalid task YAML: The `envs` field contains invalid keys: '1LR' "
        "does not match any of the regexes: '^[a-zA-Z_][a-zA-Z0-9_]*$'\n"
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
    assert done.stderr == (
        "pod.yaml:1:1: cannot tell what kind of SkyPilot document this is (task, config or "
        "volume): pass --kind task|config|volume, or --skip-unknown to report files that "
        "are no SkyPilot document as skipped\n"
    )
    done = check("missing.yaml", "good.yaml", cwd=files)
    assert done.returncode == 2
    assert "missing.yaml: cannot read: No such file or directory" in done.stderr
    assert "good.yaml: valid" in done.stdout


def test_binary_and_non_utf8_files_cannot_be_read(files: Path) -> None:
    """As --help says: exit 2, with the line and column of the first bad byte."""
    (files / "latin1.yaml").write_bytes("run: echo\nname: caf\xe9\n".encode("latin-1"))
    (files / "image.yaml").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    done = check("latin1.yaml", "image.yaml", "good.yaml", cwd=files)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "latin1.yaml:2:10: cannot read: not UTF-8 text (byte 0xe9), not YAML text",
        "image.yaml:3:1: cannot read: a binary file (NUL byte), not YAML text",
    ]
    assert done.stdout == "good.yaml: valid\n"  # the other files are still checked
    assert "Exit codes" in check("--help", cwd=files).stdout
    assert "binary or not UTF-8" in " ".join(check("--help", cwd=files).stdout.split())


def test_stdin_is_read_once(files: Path) -> None:
    done = check("-", "-", cwd=files, stdin="run: x\n")
    assert done.returncode == 2
    assert done.stdout == ""
    assert "usage: slurm2sky check" in done.stderr
    assert "- (stdin) can be given only once" in done.stderr
    done = check("good.yaml", "-", cwd=files, stdin="run: x\n")
    assert (done.returncode, done.stdout) == (0, "good.yaml: valid\n<stdin>: valid\n")


def test_skip_unknown(files: Path) -> None:
    """Ordinary YAML files pass the hook's check; SkyPilot files are still checked."""
    (files / ".pre-commit-config.yaml").write_text(
        "repos:\n  - repo: https://github.com/astral-sh/ruff-pre-commit\n    rev: v0.6.0\n"
        "    hooks:\n      - id: ruff\n",
        "utf-8",
    )
    (files / "workflow.yaml").write_text(
        "name: CI\non: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n", "utf-8"
    )
    (files / "empty.yaml").write_text("# nothing yet\n", "utf-8")
    names = [".pre-commit-config.yaml", "workflow.yaml", "empty.yaml", "good.yaml"]
    done = check("--skip-unknown", *names, cwd=files)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.splitlines() == [
        ".pre-commit-config.yaml: skipped (not a SkyPilot task, config or volume)",
        "workflow.yaml: skipped (not a SkyPilot task, config or volume)",
        "empty.yaml: skipped (not a SkyPilot task, config or volume)",
        "good.yaml: valid",
    ]
    done = check("--skip-unknown", ".pre-commit-config.yaml", "bad.yaml", cwd=files)
    assert done.returncode == 1 and "bad.yaml: invalid (2 issues)" in done.stdout
    (files / "broken.yaml").write_text("run: [echo\n", "utf-8")  # a syntax error still fails
    assert check("--skip-unknown", "broken.yaml", cwd=files).returncode == 1
    # with --kind nothing is skipped
    done = check("--skip-unknown", "--kind", "task", ".pre-commit-config.yaml", cwd=files)
    assert done.returncode == 1 and "Found unsupported field 'repos'" in done.stderr


def test_usage_errors(files: Path) -> None:
    assert check(cwd=files).returncode == 2
    done = check("--engine", "pyyaml", "good.yaml", cwd=files)
    assert done.returncode == 2 and "invalid choice: 'pyyaml'" in done.stderr
    assert check("--kind", "dag", "good.yaml", cwd=files).returncode == 2


def test_help_says_what_is_not_checked(files: Path) -> None:
    text = " ".join(check("--help", cwd=files).stdout.split())
    assert "Not checked: what SkyPilot checks only on its API server or at launch" in text
    for fragment in ("the task name's format", "file_mounts paths exist on disk", "catalog"):
        assert fragment in text
    assert "--skip-unknown" in text and "Exit codes:" in text


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


def test_pre_commit_hook(files: Path) -> None:
    hooks = YAML(typ="safe").load((REPO / ".pre-commit-hooks.yaml").read_text("utf-8"))
    (hook,) = [hook for hook in hooks if hook["id"] == "slurm2sky-check"]
    assert hook["entry"] == "slurm2sky check --skip-unknown"
    assert hook["language"] == "python"
    assert hook["types"] == ["yaml"]
    # as pre-commit runs it: the entry, the user's args, then the staged YAML files
    (files / ".pre-commit-config.yaml").write_text("repos: []\n", "utf-8")
    entry = shlex.split(hook["entry"])
    assert entry[:2] == ["slurm2sky", "check"]
    yaml_files = [".pre-commit-config.yaml", "good.yaml", "array.yaml", "config.yaml"]
    done = check(*entry[2:], "--env", "TASK_ID=0", *yaml_files, cwd=files)
    assert done.returncode == 0, done.stderr
    done = check(*entry[2:], ".pre-commit-config.yaml", "bad.yaml", cwd=files)
    assert done.returncode == 1
