"""The guide itself: every example passes the checks, and breaking one example of each
kind in a copy of the guide fails the build at the right file and line."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import parse_warnings

REPO = Path(__file__).resolve().parents[1]


def sphinx(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sphinx", *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_guide_passes_the_skypilot_check_builder(tmp_path: Path) -> None:
    result = sphinx("-b", "skypilot-check", "-W", REPO / "docs", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    report = (tmp_path / "out" / "output.txt").read_text(encoding="utf-8")
    assert re.search(r"^guide/\S+\.rst:\d+: \[ok\] valid task", report, re.MULTILINE)
    assert re.search(r"^guide/\S+\.md:\d+: \[ok\] valid task", report, re.MULTILINE)
    assert re.search(r"\[ok\] valid config", report)
    assert re.search(r"\[ok\] valid volume", report)
    assert re.search(r"^\.\./mappings/slurm-to-skypilot\.yaml:\d+: \[ok\] sky ", report, re.M)
    assert "0 failures" in result.stdout


def _first_line(path: Path, pattern: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if re.search(pattern, line):
            return number
    raise AssertionError(f"{pattern!r} not in {path}")


def _first_yaml_line(path: Path) -> int:
    """The first content line of the first ``code-block:: yaml`` of a reST page."""
    lines = path.read_text(encoding="utf-8").splitlines()
    start = next(n for n, line in enumerate(lines) if line.strip() == ".. code-block:: yaml")
    for number in range(start + 1, len(lines)):
        text = lines[number].strip()
        if text and not text.startswith(":"):
            return number + 1
    raise AssertionError(f"no YAML block in {path}")


def _edit_line(path: Path, number: int, old: str, new: str) -> None:
    lines = path.read_text(encoding="utf-8").split("\n")
    assert old in lines[number - 1], (path, number, lines[number - 1])
    lines[number - 1] = lines[number - 1].replace(old, new, 1)
    path.write_text("\n".join(lines), encoding="utf-8")


def _insert_before(path: Path, number: int, text: str) -> None:
    lines = path.read_text(encoding="utf-8").split("\n")
    indent = re.match(r"\s*", lines[number - 1]).group()  # type: ignore[union-attr]
    lines.insert(number - 1, indent + text)
    path.write_text("\n".join(lines), encoding="utf-8")


@pytest.fixture(scope="module")
def broken(tmp_path_factory) -> tuple[Path, list[tuple[Path, int, str, str]], str]:
    """A copy of docs/ and mappings/ with one example of each kind broken; returns
    (copy, [(file, line, subtype, fragment)], warnings of an HTML build)."""
    root = tmp_path_factory.mktemp("guide")
    shutil.copytree(REPO / "docs", root / "docs", ignore=shutil.ignore_patterns("_build"))
    shutil.copytree(REPO / "mappings", root / "mappings")
    docs, guide = root / "docs", root / "docs" / "guide"
    expected: list[tuple[Path, int, str, str]] = []

    # a misspelt field of a task (reST, inside a tab-set)
    page = guide / "porting-sbatch.rst"
    line = _first_line(page, r"^\s+accelerators: \S+$")
    _edit_line(page, line, "accelerators:", "acelerators:")
    expected.append((page, line, "yaml", "did you mean 'accelerators'?"))

    # an option sky jobs launch does not have (MyST console block)
    page = guide / "job-arrays.md"
    line = _first_line(page, r"^\$ sky jobs launch ")
    _edit_line(page, line, "sky jobs launch", "sky jobs launch --nodes 16")
    expected.append((page, line, "command", "no such option --nodes for `sky jobs launch`"))

    # the deprecated spelling of sky gpus list (reST console block)
    page = guide / "resource-requests.rst"
    line = _first_line(page, r"^\s+\$ sky gpus list")
    _edit_line(page, line, "sky gpus list", "sky show-gpus")
    expected.append((page, line, "deprecated", "use `sky gpus list`"))

    # a variable SkyPilot does not set (MyST YAML block)
    page = guide / "environment-variables.md"
    line = _first_line(page, r"\$SKYPILOT_NUM_NODES\b")
    _edit_line(page, line, "SKYPILOT_NUM_NODES", "SKYPILOT_NUM_NODE")
    expected.append((page, line, "variable", "did you mean SKYPILOT_NUM_NODES?"))

    # a task declared as something else (reST)
    page = guide / "job-logs.rst"
    line = _first_yaml_line(page)
    _insert_before(page, line, "# skypilot: volume")
    expected.append((page, line, "kind", "wrong kind"))

    # a command of the mappings file
    mappings = root / "mappings" / "slurm-to-skypilot.yaml"
    line = _first_line(mappings, r"^\s+skypilot: sky jobs launch ")
    _edit_line(mappings, line, "sky jobs launch", "sky jobs launch --nodes 2")
    expected.append((mappings, line, "command", "no such option --nodes"))

    result = sphinx("-W", "--keep-going", "-n", "-b", "html", docs, root / "out")
    assert result.returncode == 1
    return root, expected, result.stderr


def test_each_broken_example_fails_at_its_file_and_line(broken) -> None:
    _, expected, warnings = broken
    records = parse_warnings(warnings)
    assert len(records) == len(expected), warnings
    for path, line, subtype, fragment in expected:
        matching = [r for r in records if Path(r.file) == path and r.line == line]
        assert len(matching) == 1, (path.name, line, warnings)
        assert matching[0].type == f"slurm2sky.{subtype}", matching[0]
        assert fragment in matching[0].message, matching[0]


def test_the_builder_reports_the_same_lines(broken) -> None:
    root, expected, _ = broken
    result = sphinx("-b", "skypilot-check", root / "docs", root / "check")
    assert result.returncode == 1
    report = (root / "check" / "output.txt").read_text(encoding="utf-8")
    for path, line, subtype, fragment in expected:
        name = Path(*path.relative_to(root).parts)
        relative = str(name.relative_to("docs")) if name.parts[0] == "docs" else f"../{name}"
        entry = next(
            (e for e in report.splitlines() if e.startswith(f"{relative}:{line}: [{subtype}] ")),
            None,
        )
        assert entry is not None and fragment in entry, (relative, line, subtype)
