"""The wheel carries the mappings file, its schema and the sbatch option table, and the
installed command line finds them without the repository."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(out),
            str(REPO),
        ],
        check=True,
    )
    (path,) = out.glob("slurm2sky-*.whl")
    return path


def test_wheel_holds_the_data(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "slurm2sky/data/slurm-to-skypilot.yaml" in names
    assert "slurm2sky/data/slurm-to-skypilot.schema.json" in names
    assert "slurm2sky/sbatch/options.json" in names
    assert "slurm2sky/sphinx/__init__.py" in names
    assert "slurm2sky/sphinx/static/slurm2sky-tables.css" in names
    data = zipfile.ZipFile(wheel).read("slurm2sky/data/slurm-to-skypilot.yaml")
    assert data == (REPO / "mappings" / "slurm-to-skypilot.yaml").read_bytes()


def test_installed_cli_reads_the_packaged_file(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    env = {**os.environ, "PYTHONPATH": str(site)}
    result = subprocess.run(
        [sys.executable, "-m", "slurm2sky", "mappings"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(str(site / "slurm2sky" / "data" / "slurm-to-skypilot.yaml"))
