"""Property-based tests: generated headers (valid and invalid directives) and bodies
(the statements real scripts use, and arbitrary text). For every script: no exception,
every directive has exactly one disposition, the YAML loads back as the task and
SkyPilot's rules accept it; for bodies bash can read, bash can read run and setup."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slurm2sky.convert import NOTE_KINDS, convert
from slurm2sky.emit import as_data, emit_yaml
from slurm2sky.sbatch import option_table, parse_script
from slurm2sky.validate import validate_data
from slurm2sky.validate.yaml11 import load_documents

DIRECTIVES = {
    "-N": ["1", "2", "4", "2-4", "0", "x", "3-"],
    "--nodes=": ["1", "2", "16"],
    "-n": ["1", "8", "x", "7"],
    "--ntasks-per-node=": ["1", "4", "8"],
    "--tasks=": ["2"],
    "-c": ["1", "8", "32", "0"],
    "--mem=": ["0", "4G", "1.5G", "16gb", "100", "256G"],
    "--mem-per-cpu=": ["4G", "500M"],
    "--mem-per-gpu=": ["40G"],
    "--gres=": [
        "gpu:2",
        "gpu:a100:4",
        "gpu:tesla:1",
        "gpu",
        "nvme:1,gpu:v100:2",
        "gpu:3g.40gb:1",
        "none",
        "$G",
    ],
    "--gpus=": ["8", "a100:4", "3"],
    "--gpus-per-node=": ["8", "volta:3,kepler:1", "h100:8"],
    "--gpus-per-task=": ["1", "a100:1"],
    "--cpus-per-gpu=": ["8"],
    "--mincpus=": ["16"],
    "--tmp=": ["10G", "500G"],
    "--time=": ["10", "1:30", "24:00:00", "2-12", "UNLIMITED", "1h", "2-", "0"],
    "-J ": ["run#2", "'a b'", "train"],
    "-p ": ["gpu", "a,b", "cpu"],
    "--array=": ["0-15:4%2", "1,3,5", "1-100", "x", "7", "1-9:2,20,40-50%5"],
    "--export=": ["ALL", "NONE", "A,B=1", "ALL,SEED=1"],
    "--chdir=": ["sub", "/abs/dir"],
    "--container-image=": ["nvcr.io\\#nvidia/pytorch:24.01-py3", "/x.sqsh", "ubuntu:22.04"],
    "-o ": ["log.%j", "logs/%x-%A_%a.out"],
    "-e ": ["err.%j"],
    "--account=": ["proj"],
    "--qos=": ["high"],
    "--exclusive": [""],
    "--exclusive=": ["user"],
    "--mail-type=": ["END", "BAD"],
    "--requeue": [""],
    "--no-requeue": [""],
    "--dependency=": ["afterok:1"],
    "--constraint=": ["a100", "haswell|skylake"],
    "--wrap=": ["'python x.py'"],
    "--bogus=": ["1"],
    "--mem-p=": ["2G"],
    "--cpus=": ["4"],
    "--container-mounts=": ["/d:/d"],
    "--get-user-env=": ["10L"],
    "--signal=": ["B:USR1@60"],
}

STATEMENTS = [
    "srun python train.py",
    "srun -N1 -n1 -w $head hostname",
    "srun --ntasks-per-node=4 prog --x 1",
    "srun --mpi=pmix lmp -in in.x",
    "srun -n $SLURM_NTASKS prog &",
    "srun --container-image=nvcr.io\\#nvidia/pytorch:24.01-py3 --container-mounts=/d:/d prog",
    "srun torchrun --nnodes $SLURM_NNODES --nproc_per_node 8 train.py",
    "srun --label --cpu-bind=cores prog",
    "wait",
    "module load cuda/12.1",
    "module load gcc openmpi/4.1 foo/1",
    "ml cudnn",
    "module purge",
    "source /etc/profile.d/modules.sh",
    "conda activate env",
    "source venv/bin/activate",
    "python -m venv venv",
    "pip install -r requirements.txt",
    "conda create -n x python=3.10 -y",
    "export MASTER_ADDR=$(scontrol show hostnames $SLURM_JOB_NODELIST | head -n 1)",
    'nodes=( $(scontrol show hostnames "$SLURM_JOB_NODELIST") )',
    "export MASTER_PORT=$((10000 + RANDOM % 100))",
    "X=$(hostname)",
    'head_ip=$(srun -N1 -n1 -w "$head" hostname --ip-address)',
    "if [ -f x ]; then\n  module load x\nfi",
    "if [ -d env ]; then source env/bin/activate; else python -m venv env; fi",
    "for i in 1 2; do\n  srun -N1 -n1 -r $i prog &\ndone",
    "for host in $(scontrol show hostnames); do\n  srun -w $host prog &\ndone\nwait",
    "cat > f.txt <<EOF\nsrun inside\nmodule load x\nEOF",
    "cat <<'END'\n$SLURM_JOB_ID\nEND",
    "f() {\n  echo hi\n}",
    "function g\n{\n  module load y\n}",
    'case "$1" in\n  a) echo a ;;\n  *) srun prog ;;\nesac',
    "echo $SLURM_JOB_ID $SLURM_ARRAY_TASK_ID $SLURM_PROCID $SLURM_TMPDIR",
    "ray start --head --block &",
    "mpirun -np 4 ./a.out",
    "sbatch next.sh",
    "scontrol requeue $SLURM_JOB_ID",
    "cd $SLURM_SUBMIT_DIR",
    "mkdir -p logs",
    "set -euo pipefail",
    "python -c 'print(\"a\")' > out.log 2>&1",
    'echo "multi\nline string"',
    "timeout 1h srun python x.py",
    "cp -r /scratch/me/data $TMPDIR/",
    "",
    "# a comment",
]

option_and_value = st.sampled_from(sorted(DIRECTIVES)).flatmap(
    lambda option: st.sampled_from(DIRECTIVES[option]).map(lambda value: f"{option}{value}")
)
any_option = st.sampled_from(sorted(option_table())).flatmap(
    lambda name: st.text(alphabet="abc0123:=,%-#'\" ", max_size=8).map(
        lambda value: f"--{name}={value}" if value else f"--{name}"
    )
)
header_line = st.one_of(
    st.lists(option_and_value, min_size=1, max_size=3).map(lambda o: "#SBATCH " + " ".join(o)),
    any_option.map(lambda o: "#SBATCH " + o),
    st.sampled_from(
        [
            "##SBATCH -N 9",
            "  #SBATCH -N 9",
            "#SBATCH",
            "#PBS -l nodes=2",
            "#SBATCH hetjob",
            "# comment",
            "",
        ]
    ),
)
body_statement = st.sampled_from(STATEMENTS)
wild_line = st.text(max_size=60).map(lambda t: t.replace("\r", ""))


@st.composite
def scripts(draw: st.DrawFn, wild: bool) -> tuple[str, bool]:
    shebang = draw(st.sampled_from(["#!/bin/bash\n", "#!/bin/bash -l\n", "#!/bin/sh\n", ""]))
    header = draw(st.lists(header_line, max_size=8))
    statements = draw(st.lists(body_statement, max_size=10))
    extra = draw(st.lists(wild_line, max_size=3)) if wild else []
    body = statements + extra
    text = shebang + "\n".join(header) + "\n" + "\n".join(body) + "\n"
    return text, bool(extra)


def check(text: str) -> None:
    script = parse_script(text, path="gen.sh")
    for kw in ({}, {"infra": "slurm/c"}, {"partition_map": {"gpu": "aws"}, "gpu_type": "A100"}):
        conversion = convert(script, **kw)
        assert sorted(conversion.dispositions) == list(range(len(script.directives)))
        for value in conversion.dispositions.values():
            assert re.match(r"(field|sbatch-options|note):\S+\Z", value), value
        for note in conversion.notes:
            assert note.kind in NOTE_KINDS and note.message
        documents, _ = load_documents(emit_yaml(conversion))
        assert documents[0].data == conversion.task
        verdict = validate_data(conversion.task, "task")
        assert verdict.valid, (verdict.issues, conversion.task)
        as_data(conversion)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scripts(wild=True))
def test_generated_scripts_convert(generated: tuple[str, bool]) -> None:
    check(generated[0])


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_converts(text: str) -> None:
    check(text)
    check("#!/bin/bash\n" + text)


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash checks the shell syntax")
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scripts(wild=False), st.integers(1, 3))
def test_run_and_setup_stay_valid_shell(generated: tuple[str, bool], nodes: int) -> None:
    text = generated[0]
    script = parse_script(text, path="gen.sh", command_line=[f"--nodes={nodes}"])
    conversion = convert(script)
    if script.shebang is not None and not script.shebang.endswith(("bash", "bash -l", "sh")):
        return

    def syntax_ok(shell: str) -> bool:
        return (
            subprocess.run(["bash", "-n"], input=shell, text=True, capture_output=True).returncode
            == 0
        )

    if syntax_ok(script.body):
        assert syntax_ok(conversion.task.get("run", "")), conversion.task.get("run")
        assert syntax_ok(conversion.task.get("setup", "")), conversion.task.get("setup")
