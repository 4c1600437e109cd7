"""Helpers for the converter's tests: convert a script text, and run a task's ``run`` as
every node of a SkyPilot cluster would (bash, one process per node, with SkyPilot's
``SKYPILOT_*`` variables and stub programs that log how they were started)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slurm2sky.convert import Conversion, Note, convert
from slurm2sky.sbatch import parse_script

BASH = shutil.which("bash")


def conv(
    text: str, *, command_line: Sequence[str] = (), path: str = "job.sh", **kw: Any
) -> Conversion:
    """Parse ``text`` as sbatch does and convert it (``kw`` go to :func:`convert`)."""
    if not text.startswith("#!"):
        text = "#!/bin/bash\n" + text
    return convert(parse_script(text, path=path, command_line=command_line), **kw)


def notes(conversion: Conversion, kind: str) -> list[Note]:
    return [note for note in conversion.notes if note.kind == kind]


def disposition(conversion: Conversion, script_text: str, spelled: str) -> str:
    """The disposition of the directive written ``spelled``."""
    if not script_text.startswith("#!"):
        script_text = "#!/bin/bash\n" + script_text
    script = parse_script(script_text, path="job.sh")
    for index, directive in enumerate(script.directives):
        if directive.spelled == spelled:
            return conversion.dispositions[index]
    raise AssertionError(f"no directive {spelled!r}: {[d.spelled for d in script.directives]}")


@dataclass(frozen=True)
class Started:
    """One stub program start: the program, the node it ran on, its SLURM_* values."""

    program: str
    node: int
    procid: str
    localid: str
    nodeid: str
    ntasks: str
    cuda: str
    args: str
    env: Mapping[str, str]


_STUB = """#!/bin/bash
line=$(printf '%s\\t%s\\t%s\\t%s\\t%s\\t%s\\t%s\\t%s\\t' "{name}" "$SKYPILOT_NODE_RANK" \\
  "${{SLURM_PROCID-}}" "${{SLURM_LOCALID-}}" "${{SLURM_NODEID-}}" "${{SLURM_NTASKS-}}" \\
  "${{CUDA_VISIBLE_DEVICES-}}" "$*"; env | grep -E '^(SLURM|MASTER|RANK|WORLD)' | tr '\\n' ' ')
echo "$line" >> "{log}"  # one write: the nodes log at the same time
case " $* " in *" --fail "*) exit 3 ;; esac  # a program that fails, when asked to
"""


def simulate(
    run: str,
    nodes: int = 1,
    *,
    programs: Iterable[str] = (
        "python",
        "torchrun",
        "accelerate",
        "deepspeed",
        "ray",
        "mpirun",
        "lmp",
        "prog",
    ),
    job_rank: int = 0,
    num_jobs: int = 1,
    gpus: int = 0,
    tmp_path: Path,
    env: Mapping[str, str] | None = None,
) -> tuple[list[Started], list[subprocess.CompletedProcess[str]]]:
    """Run ``run`` with bash once per node, all nodes at once, as SkyPilot does."""
    assert BASH is not None
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    log = tmp_path / "started.log"
    for program in programs:
        stub = bin_dir / program
        stub.write_text(_STUB.format(name=program, log=log))
        stub.chmod(0o755)
    ips = "\n".join(f"10.0.0.{rank + 1}" for rank in range(nodes))
    processes = []
    for rank in range(nodes):
        home = tmp_path / f"node{rank}"
        (home / "sky_workdir").mkdir(parents=True, exist_ok=True)
        node_env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("SLURM")},
            "PATH": f"{bin_dir}:{os.environ['PATH']}",
            "HOME": str(home),
            "SKYPILOT_NODE_RANK": str(rank),
            "SKYPILOT_NUM_NODES": str(nodes),
            "SKYPILOT_NODE_IPS": ips,
            "SKYPILOT_TASK_ID": "sky-managed-2026-01-01_job_7-0",
            "SKYPILOT_MANAGED_JOB_ID": "7",
            "SKYPILOT_NUM_GPUS_PER_NODE": str(gpus),
            "SKYPILOT_JOB_RANK": str(job_rank),
            "SKYPILOT_NUM_JOBS": str(num_jobs),
            **(env or {}),
        }
        processes.append(
            subprocess.Popen(
                [BASH, "-c", run],
                env=node_env,
                cwd=home / "sky_workdir",
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    done = []
    for process in processes:
        out, err = process.communicate(timeout=60)
        done.append(subprocess.CompletedProcess(process.args, process.returncode, out, err))
    started = []
    if log.exists():
        for line in log.read_text().splitlines():
            program, node, procid, localid, nodeid, ntasks, cuda, args, rest = line.split("\t")
            values = dict(item.split("=", 1) for item in rest.split() if "=" in item)
            started.append(
                Started(program, int(node), procid, localid, nodeid, ntasks, cuda, args, values)
            )
    log.unlink(missing_ok=True)
    return started, done
