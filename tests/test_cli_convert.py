"""``slurm2sky convert``: the real command line, run as a user runs it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

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
        re.escape(str(scripts / "train.sh"))
        + r": (NOTE|WARNING) line 8(:\d+)? \(--time=24:00:00\) "
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


def test_a_script_named_twice_is_converted_once(scripts: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run("-o", str(out), str(scripts), str(scripts / "train.sh"))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["sweep.yaml", "train.yaml"]
    assert result.stderr.count(" -> ") == 2


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
    assert result.returncode == 2
    # located at the first NUL byte, as `slurm2sky check` locates it
    assert f"{binary}:1:7: a binary file, not a batch script" in result.stderr
    assert "valid: a text file" in result.stderr
    # on standard input too, where bytes that are not UTF-8 are no traceback either
    nul = subprocess.run(
        [sys.executable, "-m", "slurm2sky", "convert", "-"],
        input=b"#!/bin/bash\n#SBATCH -N 2\nhost\0name\n",
        capture_output=True,
        check=False,
    )
    assert nul.returncode == 2 and b"<stdin>:3:5: a binary file" in nul.stderr
    latin = subprocess.run(
        [sys.executable, "-m", "slurm2sky", "convert", "-"],
        input=b"#!/bin/bash\n#SBATCH -J caf\xe9\nhostname\n",
        capture_output=True,
        check=False,
    )
    assert latin.returncode == 0 and b"[encoding]" in latin.stderr
    assert b"Traceback" not in nul.stderr + latin.stderr


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
            r"WARNING line 2(:\d+)? \(-N abc\) \[sbatch-rejects\]",
        ),
        (
            "#!/bin/bash\r\n#SBATCH -N 2\r\nhostname\r\n",
            r"WARNING line 1(:\d+)? \[sbatch-rejects\]: .*dos2unix",
        ),
        (
            "\n#!/bin/bash\n#SBATCH -N 2\nhostname\n",
            r"WARNING line 1(:\d+)? \[sbatch-rejects\]: .*#!",
        ),
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
    assert re.search(
        r"WARNING line 2(:\d+)? \(--signal=B:USR1@120\) \[no-equivalent\]", result.stderr
    )
    assert "checkpoint" in result.stderr and "job_recovery" in result.stderr
    # on SkyPilot's Slurm infra a signal to the job steps passes through (B: would reach
    # SkyPilot's own batch shell only: that is a warning)
    script.write_text("#!/bin/bash\n#SBATCH --signal=USR1@120\npython train.py\n")
    result = run("--infra", "slurm/c", str(script))
    assert load(result.stdout)["config"]["slurm"]["sbatch_options"] == {"signal": "USR1@120"}


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


# -- -o: where the output goes, and what is never overwritten ------------------------


@pytest.mark.parametrize("form", ["existing/", "existing", "new/", "new"])
def test_a_directory_of_scripts_goes_into_the_output_directory(tmp_path: Path, form: str) -> None:
    jobs = tmp_path / "jobs"
    jobs.mkdir()
    (jobs / "train.sh").write_text(TRAIN)  # one script only
    if form.startswith("existing"):
        (tmp_path / "tasks").mkdir()
    out = "tasks/" if form.endswith("/") else "tasks"
    result = run("-o", out, "jobs/", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "tasks").is_dir()
    assert [p.name for p in (tmp_path / "tasks").iterdir()] == ["train.yaml"]
    text = (tmp_path / "tasks" / "train.yaml").read_text()
    assert text.endswith("#   sky jobs launch tasks/train.yaml\n")
    assert "  jobs/train.sh -> tasks/train.yaml" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_trailing_slash_or_an_existing_directory_means_into_it(tmp_path: Path) -> None:
    (tmp_path / "ov.sh").write_text(TRAIN)
    (tmp_path / "od").mkdir()
    result = run("ov.sh", "-o", "od", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert load((tmp_path / "od" / "ov.yaml").read_text())["name"] == "train"
    assert "  ov.sh -> od/ov.yaml" in result.stderr
    result = run("-o", "fresh/", "ov.sh", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "fresh" / "ov.yaml").is_file()
    assert not (tmp_path / "fresh").is_file()


def test_a_directory_of_scripts_needs_o(scripts: Path) -> None:
    result = run(str(scripts))
    assert result.returncode == 2 and "give an output directory with -o DIR" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("-o", "missing/x/y.yaml", "a.sh"), "-o missing/x/y.yaml: missing/x does not exist"),
        (("-o", "a.sh/y.yaml", "a.sh"), "-o a.sh/y.yaml: a.sh is not a directory"),
        (("-o", "a.sh/x", "a.sh", "b.sh"), "-o a.sh/x: cannot create the directory"),
        (("-o", "a.sh/x/", "a.sh"), "-o a.sh/x/: cannot create the directory"),
        (("-o", "b.sh", "a.sh", "b.sh"), "-o b.sh: several scripts need a directory, not a file"),
        (("-o", "", "a.sh"), "-o needs a file or directory name"),
    ],
)
def test_unusable_outputs_are_usage_errors(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    for name in ("a.sh", "b.sh"):
        (tmp_path / name).write_text(TRAIN)
    result = run(*args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"slurm2sky convert: {message}"), result.stderr
    assert "valid" in result.stderr or "needs" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert (tmp_path / "a.sh").read_text() == TRAIN


def test_an_input_script_is_never_overwritten(tmp_path: Path) -> None:
    (tmp_path / "self.sh").write_text(TRAIN)
    for force in ((), ("--force",)):
        result = run(*force, "-o", "self.sh", "self.sh", cwd=tmp_path)
        assert result.returncode == 2
        assert "self.sh is the input script self.sh: it is not overwritten" in result.stderr
        assert (tmp_path / "self.sh").read_text() == TRAIN
    # a script whose name ends in .yaml, converted into its own directory
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "job.yaml").write_text(TRAIN)
    result = run("--force", "-o", "d", "d", cwd=tmp_path)
    assert result.returncode == 2 and "is the input script d/job.yaml" in result.stderr
    assert (folder / "job.yaml").read_text() == TRAIN


def test_a_file_that_exists_is_overwritten_only_with_force(tmp_path: Path) -> None:
    folder = tmp_path / "d5"
    folder.mkdir()
    (folder / "train.sh").write_text(TRAIN)
    (folder / "train.yaml").write_text("# written by hand\nrun: echo\n")
    result = run("-o", "d5", "d5", cwd=tmp_path)
    assert result.returncode == 2
    assert "d5/train.yaml exists already" in result.stderr and "--force" in result.stderr
    assert (folder / "train.yaml").read_text() == "# written by hand\nrun: echo\n"
    assert (folder / "train.sh").read_text() == TRAIN
    result = run("--force", "-o", "d5", "d5", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert load((folder / "train.yaml").read_text())["name"] == "train"
    assert (folder / "train.sh").read_text() == TRAIN
    # one script into a file that exists: the same rule
    (tmp_path / "mine.yaml").write_text("run: echo\n")
    result = run("-o", "mine.yaml", "d5/train.sh", cwd=tmp_path)
    assert result.returncode == 2 and "mine.yaml exists already" in result.stderr
    assert (tmp_path / "mine.yaml").read_text() == "run: echo\n"


@pytest.mark.parametrize("order", [("d1/job.sh", "d2/job.sh"), ("d2/job.sh", "d1/job.sh")])
def test_same_names_are_told_apart_in_path_order(tmp_path: Path, order: tuple[str, str]) -> None:
    for folder, name in (("d1", "one"), ("d2", "two")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "job.sh").write_text(f"#!/bin/bash\n#SBATCH -J {name}\nhostname\n")
    result = run("-o", "out", *order, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert load((tmp_path / "out" / "job.yaml").read_text())["name"] == "one"
    assert load((tmp_path / "out" / "job-2.yaml").read_text())["name"] == "two"
    assert "  d1/job.sh -> out/job.yaml\n" in result.stderr
    assert "  d2/job.sh -> out/job-2.yaml\n" in result.stderr


# -- the launch command names the file written ---------------------------------------


def test_the_launch_command_names_the_file_written(tmp_path: Path) -> None:
    (tmp_path / "sweep.sh").write_text(ARRAY)
    result = run("-o", "arr.yaml", "sweep.sh", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "arr.yaml").read_text()
    assert text.endswith("# Launch with:\n#   sky jobs launch --num-jobs 4 arr.yaml\n")
    result = run("-o", "outd/", "sweep.sh", cwd=tmp_path)
    text = (tmp_path / "outd" / "sweep.yaml").read_text()
    assert text.endswith("#   sky jobs launch --num-jobs 4 outd/sweep.yaml\n")
    # standard output: the file is the user's to name
    result = run("sweep.sh", cwd=tmp_path)
    assert result.stdout.endswith("#   sky jobs launch --num-jobs 4 task.yaml\n")


def test_json_launch_commands_name_the_task_saved_as_yaml(tmp_path: Path) -> None:
    # the JSON file holds {source, task, notes, ...}, which SkyPilot cannot launch: the
    # launch commands name the task's file as YAML, the output's name with .yaml
    (tmp_path / "sweep.sh").write_text(ARRAY)
    result = run("--format", "json", "-o", "one.json", "sweep.sh", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads((tmp_path / "one.json").read_text())
    assert data["launch"] == ["sky jobs launch --num-jobs 4 one.yaml"]
    assert not (tmp_path / "one.yaml").exists()
    result = run("--format", "json", "-o", "my tasks/", "sweep.sh", cwd=tmp_path)
    data = json.loads((tmp_path / "my tasks" / "sweep.json").read_text())
    assert data["launch"] == ["sky jobs launch --num-jobs 4 'my tasks/sweep.yaml'"]
    # the name a YAML conversion into the same directory writes
    result = run("-o", "my tasks/", "sweep.sh", cwd=tmp_path)
    assert (
        (tmp_path / "my tasks" / "sweep.yaml")
        .read_text()
        .endswith("#   sky jobs launch --num-jobs 4 'my tasks/sweep.yaml'\n")
    )
    data = json.loads(run("--format", "json", "sweep.sh", cwd=tmp_path).stdout)
    assert data["launch"] == ["sky jobs launch --num-jobs 4 task.yaml"]
    assert "task.yaml" in run("--help").stdout.split("--format", 1)[1]


# -- what is given on the command line must be valid ---------------------------------


@pytest.mark.parametrize(
    ("args", "message", "valid"),
    [
        (("-N", "abc"), "-N abc: 'abc' is not a valid node count", "N (exactly N nodes)"),
        (("--time", "5h"), "--time 5h: invalid time '5h'", "HH:MM:SS"),
        (("--mem=lots",), "--mem=lots: invalid memory size", "16G"),
        (("--exclusive=foo",), "--exclusive=foo: invalid exclusive option", "--exclusive=user"),
        (("--array=abc",), "--array=abc: invalid job array", "0-15"),
        (("--mem=1G", "--mem-per-cpu=1G"), "are mutually exclusive", "keep one of them"),
        (("--spread-job=1",), "doesn't allow an argument", "--spread-job alone"),
        (("--usage",), "--usage: sbatch prints its usage and exits", "leave it out"),
        (("--mpi=pmix",), "--mpi is an srun option", "srun --mpi"),
        (("--mem-p=2G",), "'--mem-p=2G' is ambiguous", "--mem-per-cpu or --mem-per-gpu"),
        (
            ("--gpu_type", "A100"),
            "'--gpu_type' is not an sbatch option",
            "did you mean --gpu-type?",
        ),
        (("-z",), "'-z' is not an sbatch option", "one of this command's: -o, --gpu-type"),
    ],
)
def test_bad_sbatch_options_on_the_command_line_are_usage_errors(
    tmp_path: Path, args: tuple[str, ...], message: str, valid: str
) -> None:
    (tmp_path / "ov.sh").write_text("#!/bin/bash\n#SBATCH -N 2\nhostname\n")
    result = run(*args, "ov.sh", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    line = next(line for line in result.stderr.splitlines() if message in line)
    assert line.startswith("slurm2sky convert: ")
    assert " — valid: " in line and valid in line.split(" — valid: ", 1)[1], line
    assert "Traceback" not in result.stderr


def test_a_missing_value_says_what_the_value_is(tmp_path: Path) -> None:
    (tmp_path / "ov.sh").write_text("#!/bin/bash\nhostname\n")
    result = run("ov.sh", "-N", cwd=tmp_path)
    assert result.returncode == 2
    assert "option '-N' requires an argument" in result.stderr
    assert "valid: --nodes=VALUE, where VALUE is N (exactly N nodes)" in result.stderr


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("A100:2", "a count does not belong in it"),
        ("A100:8", "write --gpu-type A100 "),
        ("A100,H100", "it is not an accelerator name"),
        ("{A100:1}", "it is not an accelerator name"),
        ("", "it is not an accelerator name"),
    ],
)
def test_gpu_type_is_a_name_without_a_count(tmp_path: Path, value: str, message: str) -> None:
    (tmp_path / "gpus.sh").write_text(GPUS)
    result = run("--gpu-type", value, "gpus.sh", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stdout == "" and message in result.stderr
    assert "valid: one accelerator name without a count, e.g. A100" in result.stderr


# -- outputs that cannot be written ------------------------------------------------


def run_buffered(*args: str, cwd: Path, stdout: Any) -> subprocess.CompletedProcess[str]:
    """The command with its standard output to ``stdout``, buffered as by default (a
    write error then shows when the buffer is flushed, not at the write)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    return subprocess.run(
        [sys.executable, "-m", "slurm2sky", "convert", *args],
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
        env=env,
        check=False,
    )


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_full_standard_output_is_an_output_that_cannot_be_written(tmp_path: Path) -> None:
    (tmp_path / "train.sh").write_text(TRAIN)
    with open("/dev/full", "w") as full:
        result = run_buffered("train.sh", cwd=tmp_path, stdout=full)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "Exception ignored" not in result.stderr
    assert result.stderr.splitlines()[-1] == (
        "slurm2sky convert: standard output: cannot be written: No space left on device"
    )
    # the same error as for -o FILE
    result = run("--force", "-o", "/dev/full", "train.sh", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == (
        "slurm2sky convert: /dev/full: cannot be written: No space left on device"
    )


def test_a_closed_pipe_on_standard_output_is_no_traceback(tmp_path: Path) -> None:
    (tmp_path / "train.sh").write_text(TRAIN)
    reader, writer = os.pipe()
    os.close(reader)  # the reader is gone before anything is written
    try:
        result = run_buffered("train.sh", cwd=tmp_path, stdout=writer)
    finally:
        os.close(writer)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr and "Exception ignored" not in result.stderr
    assert "cannot be written" not in result.stderr  # the reader chose to stop: quiet
    # a big output to a reader that stops early
    body = "".join(f"echo step {i} of a long job\n" for i in range(5000))
    (tmp_path / "long.sh").write_text("#!/bin/bash\n#SBATCH -N 1\n" + body)
    piped = subprocess.run(
        f"{sys.executable} -m slurm2sky convert long.sh | head -c 10",
        shell=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"},
        check=False,
    )
    assert piped.stdout == "# SkyPilot"
    assert "Traceback" not in piped.stderr and "Exception ignored" not in piped.stderr


# -- --wrap: the script sbatch builds ----------------------------------------------


def test_wrap_converts_the_script_sbatch_builds(tmp_path: Path) -> None:
    result = run("--wrap=python train.py --lr 0.1", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    task = load(result.stdout)
    assert task["name"] == "wrap"  # sbatch's job name for --wrap
    assert task["run"] == "python train.py --lr 0.1\n"
    assert result.stdout.startswith("# SkyPilot ") and " converted from --wrap " in result.stdout
    data = json.loads(run("--format", "json", "--wrap", "hostname", cwd=tmp_path).stdout)
    assert data["source"] == "--wrap" and data["task"]["name"] == "wrap"
    assert "Traceback" not in result.stderr


def test_wrap_takes_the_other_sbatch_options(tmp_path: Path) -> None:
    command = "srun python train.py $SLURM_JOB_NAME"
    result = run("-N", "2", "--gpus-per-node=4", f"--wrap={command}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    task = load(result.stdout)
    assert task["name"] == "wrap" and task["num_nodes"] == 2
    assert task["resources"]["accelerators"] == "H100:4"
    assert task["envs"]["SLURM_JOB_NAME"] == "wrap"
    # -J wins over sbatch's "wrap", wherever it is, and is no note of its own
    for args in (("-J", "mine", f"--wrap={command}"), (f"--wrap={command}", "--job=mine")):
        result = run(*args, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        task = load(result.stdout)
        assert task["name"] == "mine" and task["envs"]["SLURM_JOB_NAME"] == "mine"
        assert "overridden" not in result.stderr
    # the last --wrap wins, as in sbatch's first pass
    assert load(run("--wrap=first", "--wrap=second", cwd=tmp_path).stdout)["run"] == "second\n"


def test_wrap_notes_name_it(tmp_path: Path) -> None:
    result = run("-N", "2", "--wrap=hostname", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    # the command is line 4 of the script sbatch builds
    assert re.search(r"^--wrap: NOTE line 4(:\d+)? \[head-only\]", result.stderr, re.M)


@pytest.mark.parametrize("script", ["s.sh", "-"])
def test_wrap_with_a_script_is_refused_as_sbatch_refuses_it(tmp_path: Path, script: str) -> None:
    (tmp_path / "s.sh").write_text("#!/bin/bash\n#SBATCH -N 2\nhostname\n")
    for args in (("--wrap=hostname", script), (script, "--wrap", "hostname")):
        result = run(*args, cwd=tmp_path, stdin="#!/bin/bash\nhostname\n")
        assert result.returncode == 2, result.stderr
        assert result.stdout == "" and "Traceback" not in result.stderr
        (line,) = result.stderr.splitlines()
        assert line.startswith(f"slurm2sky convert: --wrap with a script ({script}): ")
        assert "script arguments are not permitted with the --wrap option" in line
        assert "valid: --wrap=COMMAND without a script, or the script without --wrap" in line


def test_wrap_into_a_directory_is_wrap_yaml(tmp_path: Path) -> None:
    result = run("--wrap=hostname", "-o", "out/", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["wrap.yaml"]
    text = (tmp_path / "out" / "wrap.yaml").read_text()
    assert load(text)["name"] == "wrap"
    assert text.endswith("#   sky jobs launch out/wrap.yaml\n")
    assert "  --wrap -> out/wrap.yaml" in result.stderr
    result = run("--wrap=hostname", "--format", "json", "-o", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads((tmp_path / "out" / "wrap.json").read_text())
    assert data["launch"] == ["sky jobs launch out/wrap.yaml"]


# -- --infra and --partition-map -----------------------------------------------------


def test_infra_and_partition_map_together_are_a_usage_error(scripts: Path) -> None:
    result = run("--infra", "aws", "--partition-map", "gpu=gcp", str(scripts / "train.sh"))
    assert result.returncode == 2, result.stderr
    assert result.stdout == "" and "Traceback" not in result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith("slurm2sky convert: --infra aws and --partition-map gpu=gcp: ")
    assert "valid: --infra alone, or --partition-map NAME=INFRA (repeatable) alone" in line
    # each alone is as documented: one infra for every task, or the partition's
    task = load(run("--infra", "aws", str(scripts / "train.sh")).stdout)
    assert task["resources"]["infra"] == "aws"
    task = load(run("--partition-map", "gpu=gcp", str(scripts / "train.sh")).stdout)
    assert task["resources"]["infra"] == "gcp"


def test_a_partition_map_entry_no_script_uses_is_warned_about(
    scripts: Path, tmp_path: Path
) -> None:
    maps = ("--partition-map", "gpus=gcp", "--partition-map", "gpu=aws")
    result = run(*maps, str(scripts / "train.sh"))
    assert result.returncode == 0, result.stderr
    assert load(result.stdout)["resources"]["infra"] == "aws"
    warnings = [line for line in result.stderr.splitlines() if "--partition-map" in line]
    assert warnings == [
        "slurm2sky convert: warning: --partition-map gpus=gcp was not used: no script asks "
        "for partition 'gpus' (a typo?); the scripts ask for: gpu"
    ]
    # after the summary of a directory; the exit code does not change
    result = run("--strict", *maps, "-o", str(tmp_path / "out"), str(scripts))
    assert result.returncode == 1  # the sweep's throttle loses meaning, as without a map
    assert result.stderr.splitlines()[-1].startswith(
        "slurm2sky convert: warning: --partition-map gpus=gcp was not used"
    )
    # a partition given on the command line counts
    result = run("--partition-map", "cpu=gcp", "-p", "cpu", str(scripts / "sweep.sbatch"))
    assert result.returncode == 0 and "warning" not in result.stderr
    result = run("--partition-map", "cpu=gcp", str(scripts / "sweep.sbatch"))
    assert "the scripts ask for: no partition" in result.stderr
