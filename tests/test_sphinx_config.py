"""``slurm2sky_mappings``: where the file is found, how it is cached, and how a bad file
stops the build (located problems, no Python traceback of the loader)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
import slurm2sky
from slurm2sky.mappings import MappingsError, default_mappings_path, load_mappings
from slurm2sky.sphinx.source import get_mappings, resolve_mappings_path
from sphinx.testing.util import SphinxTestApp

#: a value the schema refuses, in each of the three rows that have it: three problems
BAD_EDITS = (("relation: same\n", "relation: sameish\n"),)


def checkout(tmp_path: Path, sphinx_root, *, bad: bool) -> Path:
    """A repository-like layout: ``docs/`` (the test root) beside ``mappings/``."""
    docs = sphinx_root("default-path", tmp_path / "docs")
    (tmp_path / "mappings").mkdir()
    text = default_mappings_path().read_text(encoding="utf-8")
    if bad:
        for old, new in BAD_EDITS:
            assert old in text
            text = text.replace(old, new)
    (tmp_path / "mappings" / "slurm-to-skypilot.yaml").write_text(text, encoding="utf-8")
    return docs


# -- resolution -------------------------------------------------------------


def test_default_prefers_the_checkout_file(tmp_path: Path) -> None:
    conf = tmp_path / "docs"
    conf.mkdir()
    assert resolve_mappings_path("", conf) == default_mappings_path().resolve()
    (tmp_path / "mappings").mkdir()
    (tmp_path / "mappings" / "slurm-to-skypilot.yaml").write_text("{}\n")
    assert resolve_mappings_path("", conf) == tmp_path / "mappings" / "slurm-to-skypilot.yaml"


def test_relative_paths_are_relative_to_confdir(tmp_path: Path) -> None:
    assert resolve_mappings_path("data/m.yaml", tmp_path) == tmp_path / "data" / "m.yaml"
    assert resolve_mappings_path("../m.yaml", tmp_path / "docs") == tmp_path / "m.yaml"
    assert resolve_mappings_path(str(tmp_path / "x.yaml"), "/elsewhere") == tmp_path / "x.yaml"


def test_cache_rereads_a_changed_file(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    shutil.copyfile(default_mappings_path(), path)
    first = get_mappings(path)
    assert get_mappings(path) is first
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("Cancel a managed job.", "Cancel one managed job."))
    second = get_mappings(path)
    assert second is not first
    (sbatch,) = [row for row in second.commands if row.id == "scancel"]
    assert sbatch.note.startswith("Cancel one managed job.")


# -- builds -----------------------------------------------------------------


def test_default_path_build_and_metadata(tmp_path: Path, sphinx_root) -> None:
    docs = checkout(tmp_path, sphinx_root, bad=False)
    app = SphinxTestApp("html", srcdir=docs, status=StringIO(), warning=StringIO())
    try:
        app.build()
        assert app.warning.getvalue() == ""
        assert app.env.dependencies["index"] == {tmp_path / "mappings" / "slurm-to-skypilot.yaml"}
        extension = app.extensions["slurm2sky.sphinx"]
        assert extension.version == slurm2sky.__version__
        assert extension.parallel_read_safe is True
        assert extension.parallel_write_safe is True
        # one thing stored on env (the pages whose examples failed), declared
        assert app.env.version["slurm2sky.sphinx"] == 1
        assert app.env.slurm2sky_recheck == {}
    finally:
        app.cleanup()
    assert 'id="command-sbatch"' in (docs / "_build" / "html" / "index.html").read_text()


def test_bad_file_stops_the_build_with_located_problems(tmp_path: Path, sphinx_root) -> None:
    docs = checkout(tmp_path, sphinx_root, bad=True)
    bad = tmp_path / "mappings" / "slurm-to-skypilot.yaml"
    with pytest.raises(MappingsError) as loader:
        load_mappings(bad)
    expected = str(loader.value)
    assert len(loader.value.problems) == 3
    assert all(f"{bad}:" in line for line in expected.splitlines())

    warnings = StringIO()
    with pytest.raises(SystemExit) as stopped:
        SphinxTestApp("html", srcdir=docs, status=StringIO(), warning=warnings)
    assert stopped.value.code == 1
    # each problem is logged once as a located error, the form of every Sphinx diagnostic
    logged = [
        re.sub(r"\x1b\[[0-9;]*m", "", line)
        for line in warnings.getvalue().splitlines()
        if "ERROR" in line
    ]
    assert len(logged) == 4
    for problem, line in zip(loader.value.problems, logged, strict=False):
        assert line.startswith(f"{bad}:{problem.line}:{problem.column}: ERROR: {problem.key}: ")
        assert line.endswith("[slurm2sky.mappings]")
    assert "the build stops here: fix the mappings file (3 problems above)" in logged[-1]

    # sphinx-build: exit status 1, the problems on stderr once, no crash report
    env = dict(os.environ)
    package_root = str(Path(slurm2sky.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-q", "-b", "html", str(docs), str(tmp_path / "out")],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 1
    for problem in loader.value.problems:
        located = f"{problem.file}:{problem.line}:{problem.column}: ERROR: {problem.key}: "
        assert result.stderr.count(located + problem.message) == 1
    assert "Traceback" not in result.stderr
    assert "Versions" not in result.stderr  # Sphinx's crash report
    assert not (tmp_path / "out" / "index.html").exists()
    assert "mappings.py" not in result.stderr  # the loader's frames are not shown
    assert "During handling" not in result.stderr
    assert "threw an exception" not in result.stderr
