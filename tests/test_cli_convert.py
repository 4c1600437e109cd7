"""``slurm2sky convert``: the real command line, run as a user runs it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

TRAIN = """#!/bin/bash
#SBATCH --job-name=train
#SBATCH --nodes=2
#SBATCH --gpus-per-node=8
#SBATCH --cpus-per-task=32
#SBATCH --mem=256G
#SBATCH --partition=gpu
#SBATCH --time=24:00:00

module load cuda/12.1

srun python train.py --epochs 100
"""

ARRAY = """#!/bin/bash
#SBATCH -J sweep
#SBATCH --array=0-15:4%2
python sweep.py --seed $SLURM_ARRAY_TASK_ID
"""


def run(*args: str, stdin: str | None = None, cwd: Path | None = None):
    return subprocess.run(
        [sys.executable, "-m", "slurm2sky", "convert", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
    )


def load(text: str) -> dict:
    return YAML(typ="safe", pure=True).load(text)


@pytest.fixture
def scripts(tmp_path: Path) -> Path:
    folder = tmp_path / "jobs"
    folder.mkdir()
    (folder / "train.sh").write_text(TRAIN)
    (folder / "sweep.sbatch").write_text(ARRAY)
    (folder / "README.md").write_text("not a script\n")
    return folder


def test_one_script_to_stdout_notes_to_stderr(scripts: Path) -> None:
    result = run(str(scripts / "train.sh"))
    assert result.returncode == 0, result.stderr
    task = load(result.stdout)
    assert task["name"] == "train" and task["num_nodes"] == 2
    assert task["resources"]["accelerators"] == "H100:8"
    assert "# Launch with:" in result.stdout and "sky jobs launch" in result.stdout
    assert re.search(
        re.escape(str(scripts / "train.sh")) + r": (NOTE|WARNING) line 8 \(--time=24:00:00\) "
        r"\[no-equivalent\]: ",
        result.stderr,
    )
    assert "Traceback" not in result.stderr


def test_sbatch_options_override_the_script(scripts: Path) -> None:
    result = run("-N", "3", "--gpu-type", "A100", "--mem", "128G", str(scripts / "train.sh"))
    assert result.returncode == 0, result.stderr
    task = load(result.stdout)
    assert task["num_nodes"] == 3
    assert task["resources"]["accelerators"] == "A100:8"
    assert task["resources"]["memory"] == "128+"


def test_partition_map_and_output_file(scripts: Path, tmp_path: Path) -> None:
    out = tmp_path / "train.yaml"
    result = run(
        "--partition-map", "gpu=kubernetes/gpu-ctx", "-o", str(out), str(scripts / "train.sh")
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert load(out.read_text())["resources"]["infra"] == "kubernetes/gpu-ctx"


def test_stdin(scripts: Path) -> None:
    result = run("-", stdin=ARRAY)
    assert result.returncode == 0, result.stderr
    assert "--num-jobs 4" in result.stdout
    assert "<stdin>: " in result.stderr and "[throttle]" in result.stderr


def test_directory_into_output_folder_with_summary(scripts: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run("-o", str(out), str(scripts))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["sweep.yaml", "train.yaml"]
    assert f"converted 2 scripts into {out}" in result.stderr
    assert (
        f"skipped 1 that are not batch scripts (no #! and no #SBATCH line): {scripts / 'README.md'}"
        in (result.stderr)
    )


def test_json_format(scripts: Path) -> None:
    result = run("--format", "json", str(scripts / "train.sh"))
    data = json.loads(result.stdout)
    assert data["task"]["name"] == "train"
    assert any(note["kind"] == "no-equivalent" for note in data["notes"])
    assert data["launch"]


def test_strict_exit_code_follows_lost_meaning(scripts: Path) -> None:
    lost = []
    for name in ("train.sh", "sweep.sbatch"):
        data = json.loads(run("--format", "json", str(scripts / name)).stdout)
        lost.append(data["loses_meaning"])
        assert run(str(scripts / name)).returncode == 0
        assert run("--strict", str(scripts / name)).returncode == int(data["loses_meaning"])
    assert any(lost)  # the %2 throttle of the sweep has no equivalent


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--mem-p=2G", "x.sh"), "'--mem-p=2G' is ambiguous"),
        (("--bogus", "x.sh"), "'--bogus' is not an sbatch option"),
        ((), "no script given"),
        (("missing.sh",), "missing.sh: cannot be read"),
        (("--partition-map", "gpu", "x.sh"), "--partition-map takes NAME=INFRA"),
        (("--partition-map", "gpu=nowhere/xyz", "x.sh"), "'nowhere/xyz' is not an infra"),
        (("--infra", "mycloud", "x.sh"), "--infra: 'mycloud' is not an infra SkyPilot accepts"),
        (("-", "-"), "standard input (-) can be read once"),
    ],
)
def test_usage_errors_exit_2(args: tuple[str, ...], message: str, scripts: Path) -> None:
    result = run(*args, cwd=scripts, stdin="")
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_several_scripts_need_a_directory(scripts: Path, tmp_path: Path) -> None:
    result = run(str(scripts / "train.sh"), str(scripts / "sweep.sbatch"))
    assert result.returncode == 2 and "-o DIR" in result.stderr
    one = tmp_path / "one.yaml"
    result = run("-o", str(one), str(scripts / "train.sh"), str(scripts / "sweep.sbatch"))
    assert result.returncode == 2 and "need a directory, not a file" in result.stderr
    assert not one.exists()


def test_binary_file_is_not_a_script(tmp_path: Path) -> None:
    binary = tmp_path / "bin.sh"
    binary.write_bytes(b"\x7fELF\x02\x01\x00\x00binary")
    result = run(str(binary))
    assert result.returncode == 2 and "a binary file, not a batch script" in result.stderr


def test_workdir_is_where_sky_runs(scripts: Path, tmp_path: Path) -> None:
    result = run(str(scripts / "train.sh"), cwd=tmp_path)
    assert load(result.stdout)["workdir"] == "."


def test_nothing_from_the_script_is_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    script = tmp_path / "evil.sh"
    script.write_text(f"#!/bin/bash\n#SBATCH -J x\ntouch {marker}\n$(touch {marker})\n")
    result = run(str(script))
    assert result.returncode == 0, result.stderr
    assert not marker.exists()


GPUS = "#!/bin/bash\n#SBATCH --gres=gpu:4\npython train.py\n"


@pytest.mark.parametrize(
    ("text", "reported"),
    [
        (
            "#!/bin/bash\n#SBATCH -N abc\nhostname\n",
            r"WARNING line 2 \(-N abc\) \[sbatch-rejects\]",
        ),
        (
            "#!/bin/bash\r\n#SBATCH -N 2\r\nhostname\r\n",
            r"WARNING line 1 \[sbatch-rejects\]: .*dos2unix",
        ),
        ("\n#!/bin/bash\n#SBATCH -N 2\nhostname\n", r"WARNING line 1 \[sbatch-rejects\]: .*#!"),
    ],
    ids=["bad-value", "crlf", "no-shebang"],
)
def test_strict_fails_for_what_sbatch_refuses(tmp_path: Path, text: str, reported: str) -> None:
    script = tmp_path / "job.sh"
    script.write_bytes(text.encode())
    result = run(str(script))
    assert result.returncode == 0, result.stderr
    assert re.search(reported, result.stderr), result.stderr
    assert run("--strict", str(script)).returncode == 1
    fixed = tmp_path / "fixed.sh"
    fixed.write_text("#!/bin/bash\n#SBATCH -N 2\nhostname\n")
    assert run("--strict", str(fixed)).returncode == 0


def test_signal_note_names_what_to_do_instead(tmp_path: Path) -> None:
    script = tmp_path / "job.sh"
    script.write_text("#!/bin/bash\n#SBATCH --signal=B:USR1@120\npython train.py\n")
    result = run(str(script))
    assert "WARNING line 2 (--signal=B:USR1@120) [no-equivalent]" in result.stderr
    assert "checkpoint" in result.stderr and "job_recovery" in result.stderr
    result = run("--infra", "slurm/c", str(script))
    assert load(result.stdout)["config"]["slurm"]["sbatch_options"] == {"signal": "B:USR1@120"}


def test_gpu_type_matched_as_skypilot_does(tmp_path: Path) -> None:
    script = tmp_path / "gpus.sh"
    script.write_text(GPUS)
    result = run("--strict", "--gpu-type", "h100-sxm", str(script))
    assert result.returncode == 0, result.stderr
    assert load(result.stdout)["resources"]["accelerators"] == "H100-SXM:4"
    assert "warning" not in result.stderr


def test_unknown_gpu_type_is_warned_about_with_close_names(tmp_path: Path) -> None:
    script = tmp_path / "gpus.sh"
    script.write_text(GPUS)
    result = run("--gpu-type", "H1000", str(script))
    assert result.returncode == 0, result.stderr
    assert "slurm2sky convert: warning: --gpu-type H1000: not an accelerator" in result.stderr
    assert "Did you mean H100" in result.stderr
    assert "WARNING script [gpu-type]: --gpu-type H1000" in result.stderr
    assert "# WARNING script [gpu-type]" in result.stdout
    assert run("--strict", "--gpu-type", "H1000", str(script)).returncode == 1
    # a script without GPUs does not use it: warned about, but the task keeps its meaning
    cpu = tmp_path / "cpu.sh"
    cpu.write_text("#!/bin/bash\n#SBATCH -N 2\nhostname\n")
    result = run("--strict", "--gpu-type", "H1000", str(cpu))
    assert result.returncode == 0 and "warning: --gpu-type H1000" in result.stderr
