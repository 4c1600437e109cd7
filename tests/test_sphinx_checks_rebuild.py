"""Failing examples fail every build until they are fixed, and the ``skypilot-check``
builder and the HTML build agree on what fails.

Sphinx replays no read-time warning of a page it does not read again, so a second build
with the same output and doctree folders would pass with a broken example still there.
The extension records the pages whose examples failed on the build environment and
asks Sphinx to read them again (``env-get-outdated``), merging the record from parallel
readers (``env-merge-info``) and forgetting a page when it is read again
(``env-purge-doc``).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import parse_warnings, run_build

CONF = 'extensions = ["myst_parser", "slurm2sky.sphinx"]\nexclude_patterns = ["_build"]\n'
GOOD = "resources:\n  accelerators: H100:8\nrun: python train.py\n"
BAD = "resources:\n  acelerators: H100:8\nrun: python train.py\n"


def page(title: str, yaml: str, *, myst: bool) -> str:
    if myst:
        return f"# {title}\n\n```{{code-block}} yaml\n:caption: train.yaml\n\n{yaml}```\n"
    body = "".join(f"   {line}\n" for line in yaml.splitlines())
    return f"{title}\n{'=' * len(title)}\n\n.. code-block:: yaml\n   :caption: train.yaml\n\n{body}"


def project(root: Path, bad: set[str], *, pages: int = 3, myst: bool = False) -> Path:
    """A project of ``pages`` pages (``p0``, ``p1``, ...), each with one task; the
    ``bad`` ones misspell ``accelerators`` (line 8 of a reST page, 7 of a MyST page)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "conf.py").write_text(CONF, encoding="utf-8")
    names = [f"p{i}" for i in range(pages)]
    (root / "index.rst").write_text(
        "Index\n=====\n\n.. toctree::\n\n" + "".join(f"   {n}\n" for n in names), "utf-8"
    )
    for name in names:
        suffix = ".md" if myst else ".rst"
        (root / f"{name}{suffix}").write_text(
            page(name, BAD if name in bad else GOOD, myst=myst), encoding="utf-8"
        )
    return root


def located(result: object) -> list[tuple[str, int | None, str | None]]:
    return sorted(
        (Path(r.file).name, r.line, r.type)
        for r in parse_warnings(result.warnings)  # type: ignore[attr-defined]
    )


@pytest.mark.parametrize("myst", [False, True], ids=["rst", "myst"])
def test_a_failing_page_fails_every_build_until_fixed(tmp_path: Path, myst: bool) -> None:
    src = project(tmp_path / "src", {"p1"}, myst=myst)
    name, line = ("p1.md", 7) if myst else ("p1.rst", 8)
    expected = [(name, line, "slurm2sky.yaml")]

    first = run_build(src)  # builddir: src/_build, the same for every build here
    assert located(first) == expected, first.warnings
    second = run_build(src)
    assert located(second) == expected, second.warnings  # the same warning, again
    assert second.reread == ["p1"]  # only the failing page is read again
    assert "did you mean 'accelerators'?" in second.warnings

    (src / name).write_text(page("p1", GOOD, myst=myst), encoding="utf-8")  # fixed
    third = run_build(src)
    assert located(third) == [], third.warnings
    assert third.reread == ["p1"]  # changed
    fourth = run_build(src)
    assert fourth.reread == [] and located(fourth) == []  # nothing left to read again


def test_parallel_readers_record_their_failing_pages(tmp_path: Path) -> None:
    """With -j 2 the pages are read in forked processes; their records reach the main
    build environment, so the next (also parallel) build warns again about each."""
    bad = {f"p{i}" for i in range(0, 8, 2)}
    src = project(tmp_path / "src", bad, pages=8)
    expected = sorted((f"{name}.rst", 8, "slurm2sky.yaml") for name in bad)
    first = run_build(src, parallel=2)
    assert located(first) == expected, first.warnings
    (src / "p7.rst").write_text(page("p7", BAD, myst=False), encoding="utf-8")  # one more
    second = run_build(src, parallel=2)
    assert located(second) == sorted([*expected, ("p7.rst", 8, "slurm2sky.yaml")])
    assert set(second.reread) == {*bad, "p7"}


def test_suppressed_failures_are_not_read_again(tmp_path: Path) -> None:
    src = project(tmp_path / "src", {"p1"})
    quiet = {"suppress_warnings": ["slurm2sky.yaml"]}
    first = run_build(src, confoverrides=quiet)
    assert located(first) == []
    second = run_build(src, confoverrides=quiet)
    assert second.reread == []


def sphinx(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sphinx", *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_command_line_builds_with_one_doctree_folder(tmp_path: Path) -> None:
    """`sphinx-build -W` twice into the same folders: both fail at the same place; the
    skypilot-check builder sharing the doctrees (as `-d docs/_build/doctrees` does)
    does not hide a failure from the next HTML build."""
    src = project(tmp_path / "src", {"p2"})
    doctrees = tmp_path / "doctrees"
    html = ("-W", "--keep-going", "-d", doctrees, "-b", "html", src, tmp_path / "html")
    runs = [sphinx(*html), sphinx(*html)]
    for done in runs:
        assert done.returncode == 1
        records = parse_warnings(done.stderr)
        assert [(Path(r.file).name, r.line, r.type) for r in records] == [
            ("p2.rst", 8, "slurm2sky.yaml")
        ]

    (src / "p0.rst").write_text(page("p0", BAD, myst=False), encoding="utf-8")
    check = sphinx("-d", doctrees, "-b", "skypilot-check", src, tmp_path / "check")
    assert check.returncode == 1
    assert {(Path(r.file).name, r.line) for r in parse_warnings(check.stderr)} == {
        ("p0.rst", 8),
        ("p2.rst", 8),
    }
    after = sphinx(*html)  # p0 was read by the builder, unchecked: read again here
    assert {(Path(r.file).name, r.line) for r in parse_warnings(after.stderr)} == {
        ("p0.rst", 8),
        ("p2.rst", 8),
    }


# ---------------------------------------------------------------------------
# suppress_warnings in the skypilot-check builder; messages on one line


def test_builder_honours_suppress_warnings(tmp_path: Path) -> None:
    src = project(tmp_path / "src", {"p1"})
    (src / "p0.rst").write_text(
        "p0\n==\n\n.. code-block:: console\n\n   $ sky jobs launch --nodes 2 train.yaml\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    done = sphinx("-W", "-b", "skypilot-check", "-D", "suppress_warnings=slurm2sky.command",
                  src, out)  # fmt: skip
    assert done.returncode == 1  # the yaml failure still counts
    assert [(Path(r.file).name, r.type) for r in parse_warnings(done.stderr)] == [
        ("p1.rst", "slurm2sky.yaml")
    ]
    assert "1 failure, 1 suppressed" in done.stdout
    report = (out / "output.txt").read_text(encoding="utf-8")
    assert re.search(r"^p0\.rst:6: \[suppressed command\] no such option --nodes", report, re.M)
    statuses = {
        item["tag"]: item["status"]
        for item in map(json.loads, (out / "output.json").read_text().splitlines())
        if item["status"] != "ok"
    }
    assert statuses == {"command": "suppressed", "yaml": "failure"}

    # suppressing every failing kind: the builder passes, as the HTML build does
    both = "suppress_warnings=slurm2sky.command,slurm2sky.yaml"
    done = sphinx("-W", "-b", "skypilot-check", "-D", both, src, tmp_path / "out2")
    assert done.returncode == 0, done.stderr
    assert "WARNING" not in done.stderr
    assert "0 failures, 2 suppressed" in done.stdout
    html = sphinx("-W", "-b", "html", "-D", both, src, tmp_path / "html")
    assert html.returncode == 0, html.stderr


def test_multi_line_messages_are_one_line(tmp_path: Path) -> None:
    """jsonschema's "invalid keys:\\n'1LR' does not match ..." in a warning and in
    output.txt."""
    src = project(tmp_path / "src", set(), pages=1)
    (src / "p0.rst").write_text(
        "p0\n==\n\n.. code-block:: yaml\n   :caption: train.yaml\n\n"
        "   envs:\n     1LR: x\n   run: echo\n",
        encoding="utf-8",
    )
    html = sphinx("-b", "html", src, tmp_path / "html")
    (record,) = parse_warnings(html.stderr)
    assert (Path(record.file).name, record.line) == ("p0.rst", 8)
    assert "contains invalid keys: '1LR' does not match" in record.message
    lines = [line for line in html.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, html.stderr
    check = sphinx("-b", "skypilot-check", src, tmp_path / "check")
    report = (tmp_path / "check" / "output.txt").read_text(encoding="utf-8")
    (entry,) = [line for line in report.splitlines() if "[yaml]" in line]
    assert entry.startswith("p0.rst:8: [yaml] ") and "keys: '1LR' does not match" in entry
    assert check.returncode == 1
