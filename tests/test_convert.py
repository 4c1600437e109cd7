"""The converter: the issue's "Right values", resources, options and their notes, the
partition map, and SkyPilot's Slurm infra (sbatch_options pass-through)."""

from __future__ import annotations

import re
import subprocess
from dataclasses import FrozenInstanceError, asdict, replace
from pathlib import Path

import pytest
from convert_helpers import BASH, conv, disposition, notes, simulate
from slurm2sky.convert import (
    SKYPILOT_PROTECTED_SBATCH_OPTIONS,
    Conversion,
    Note,
    accelerator_name,
    convert,
    gpu_type_row,
    module_row,
    sbatch_word,
    skypilot_time,
    task_name,
    unknown_accelerator,
)
from slurm2sky.mappings import load_mappings
from slurm2sky.sbatch import parse_script
from slurm2sky.sbatch.tokenize import split_words
from slurm2sky.validate import validate_data

MAPPINGS_FILE = Path(__file__).resolve().parents[1] / "mappings" / "slurm-to-skypilot.yaml"

GUIDE = """\
#!/bin/bash
#SBATCH --job-name=train
#SBATCH --nodes=2
#SBATCH --gpus-per-node=8
#SBATCH --cpus-per-task=32
#SBATCH --mem=256G
#SBATCH --partition=gpu

module load cuda/12.1
source ~/venv/bin/activate

srun python train.py --epochs 100
"""

needs_bash = pytest.mark.skipif(BASH is None, reason="bash is needed to run the converted run")


def valid(conversion: Conversion) -> None:
    verdict = validate_data(conversion.task, "task")
    assert verdict.valid, verdict.issues


# -- the issue's "Right values" ------------------------------------------------------------


def test_the_original_guides_example() -> None:
    c = conv(GUIDE)
    task = c.task
    assert task["name"] == "train"
    assert task["num_nodes"] == 2
    assert task["resources"] == {
        "accelerators": "H100:8",
        "cpus": "32+",
        "memory": "256+",
        "image_id": "docker:nvidia/cuda:12.1.1-cudnn8-runtime-ubuntu22.04",
    }
    assert "module load" not in task["run"]
    assert "source ~/venv/bin/activate" in task["run"]
    assert "python train.py --epochs 100" in task["run"].splitlines()
    assert "srun" not in task["run"]
    assert [n.kind for n in notes(c, "default-gpu")] == ["default-gpu"]
    valid(c)


@needs_bash
def test_the_guides_run_executes_the_program_once_per_node(tmp_path: Path) -> None:
    c = conv(GUIDE)
    started, _ = simulate(c.task["run"], c.task["num_nodes"], tmp_path=tmp_path)
    assert sorted((s.program, s.node, s.args) for s in started) == [
        ("python", 0, "train.py --epochs 100"),
        ("python", 1, "train.py --epochs 100"),
    ]


def test_tasks_per_node_times_cpus_per_task() -> None:
    c = conv("#SBATCH -N2 --ntasks-per-node=4 -c 8\nsrun hostname\n")
    assert c.task["num_nodes"] == 2
    assert c.task["resources"]["cpus"] == "32+"


def test_memory_per_cpu_times_cpus_per_node() -> None:
    c = conv("#SBATCH --mem-per-cpu=4G -c 4 --ntasks-per-node=2\necho\n")
    assert c.task["resources"]["memory"] == "32+"


def test_gpus_for_the_whole_job_are_spread_over_the_nodes() -> None:
    c = conv("#SBATCH --gpus=8 --nodes=2\necho\n")
    assert c.task["resources"]["accelerators"] == "H100:4"


def test_tasks_prefix_run_hash_and_an_ambiguous_prefix() -> None:
    text = "#SBATCH --tasks=4\n#SBATCH -J run#2\n#SBATCH --mem-p=2G\necho\n"
    c = conv(text)
    assert c.task["name"] == "run"
    assert c.task["resources"]["cpus"] == "4+"  # --ntasks-per-node=4, not --ntasks
    assert disposition(c, text, "--tasks=4") == "field:resources.cpus"
    (ambiguous,) = [n for n in c.notes if n.directive == "--mem-p=2G"]
    assert ambiguous.kind == "sbatch-rejects" and ambiguous.line == 4
    assert "ambiguous" in ambiguous.message
    assert disposition(c, text, "--mem-p=2G") == "note:sbatch-rejects"


@needs_bash
def test_array_with_a_step_and_a_throttle(tmp_path: Path) -> None:
    c = conv("#SBATCH --array=0-15:4%2\npython work.py $SLURM_ARRAY_TASK_ID\n")
    assert c.launch == ("sky jobs launch --num-jobs 4 task.yaml",)
    (throttle,) = notes(c, "throttle")
    assert throttle.line == 2 and "%2" in throttle.message and throttle.directive
    ids = []
    for rank in range(4):
        started, _ = simulate(c.task["run"], tmp_path=tmp_path, job_rank=rank, num_jobs=4)
        ids += [s.args.split()[-1] for s in started]
    assert ids == ["0", "4", "8", "12"]
    valid(c)


def test_container_image_with_an_escaped_registry_separator() -> None:
    c = conv("#SBATCH --container-image=nvcr.io\\#nvidia/pytorch:24.01-py3\necho\n")
    assert c.task["resources"]["image_id"] == "docker:nvcr.io/nvidia/pytorch:24.01-py3"
    valid(c)


@needs_bash
def test_one_task_per_gpu_with_srun(tmp_path: Path) -> None:
    c = conv("#SBATCH -N 2\n#SBATCH --gres=gpu:8\nsrun --ntasks-per-node=8 python train.py\n")
    started, done = simulate(c.task["run"], 2, tmp_path=tmp_path)
    assert all(d.returncode == 0 for d in done), [d.stderr for d in done]
    assert sorted(int(s.procid) for s in started) == list(range(16))
    for node in (0, 1):
        here = [s for s in started if s.node == node]
        assert len(here) == 8
        assert sorted(int(s.localid) for s in here) == list(range(8))
        assert {int(s.procid) // 8 for s in here} == {node}
        assert {s.ntasks for s in here} == {"16"}
    valid(c)


# -- resources (sbatch-spec §7) ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("--mem=64G", {"memory": "64+"}),
        ("--mem=1000", {"memory": "1+"}),  # 1000 MiB rounds up to 1 GB
        ("--mem=1025M", {"memory": "2+"}),
        ("--mem=16gb", {"memory": "16+"}),
        ("--mem=0", {}),
        ("--mem-per-gpu=40G --gpus-per-node=a100:8", {"accelerators": "A100:8", "memory": "320+"}),
        ("--cpus-per-gpu=8 --gpus-per-node=4", {"accelerators": "H100:4", "cpus": "32+"}),
        ("--mincpus=16 -c 4", {"cpus": "16+"}),
        ("--mem-per-cpu=4G --mincpus=16", {"cpus": "16+", "memory": "64+"}),
        (
            "--mem-per-cpu=1G --cpus-per-gpu=4 --gpus-per-node=2",
            {"accelerators": "H100:2", "cpus": "8+", "memory": "8+"},
        ),
        ("--ntasks=8 --nodes=2", {"cpus": "4+"}),
        ("--ntasks=8", {"cpus": "8+"}),
        ("--gres=gpu:v100:2,nvme:1", {"accelerators": "V100:2"}),
        ("--gres=gpu:a100", {"accelerators": "A100:1"}),
        ("--gres=gpu:nvidia_a100-sxm4-80gb:4", {"accelerators": "A100-80GB:4"}),
        ("--gres=gpu:volta:2", {"accelerators": "V100:2"}),
        ("--gres=gpu:v100l:2", {"accelerators": "V100-32GB:2"}),
        ("--gpus-per-task=1 --ntasks-per-node=8", {"accelerators": "H100:8", "cpus": "8+"}),
        ("--gpus=3 --nodes=2", {"accelerators": "H100:2"}),
        ("--tmp=500G", {"disk_size": 500}),
        ("--tmp=10G", {}),
    ],
)
def test_per_node_resources(header: str, expected: dict[str, object]) -> None:
    c = conv(f"#SBATCH {header}\necho\n")
    assert c.task.get("resources", {}) == expected
    valid(c)


def test_node_ranges_take_their_minimum() -> None:
    c = conv("#SBATCH --nodes=2-4\necho\n")
    assert c.task["num_nodes"] == 2
    assert notes(c, "approximation")[0].field == "num_nodes"


def test_ntasks_and_tasks_per_node_give_the_node_count() -> None:
    assert conv("#SBATCH -n 16 --ntasks-per-node=4\necho\n").task["num_nodes"] == 4


def test_gpu_types_from_the_mappings_table() -> None:
    mappings = load_mappings()
    for name, expected in [
        ("a100", "A100"),
        ("A100", "A100"),
        ("a100_80g", "A100-80GB"),
        ("A100.80gb", "A100-80GB"),
        ("nvidia_h100_80gb_hbm3", "H100"),
        ("v100", "V100"),
        ("volta", "V100"),
        ("rtx8000", "RTX8000"),
        ("l40s", "L40S"),
        ("l40", "L40"),
        ("h200", "H200"),
        ("mi250x", "MI250X"),
        ("a10", "A10"),
        ("a10g", "A10G"),
    ]:
        row = gpu_type_row(mappings, name)
        assert row is not None and row.skypilot == expected, name
    assert gpu_type_row(mappings, "tesla") is None


def test_default_gpu_type_and_its_note() -> None:
    text = "#SBATCH --gres=gpu:4\necho\n"
    c = conv(text)
    assert c.task["resources"]["accelerators"] == "H100:4"
    (note,) = notes(c, "default-gpu")
    assert note.line == 2 and note.directive == "--gres=gpu:4"
    assert note.field == "resources.accelerators" and "--gpu-type" in note.message
    other = conv(text, gpu_type="A100-80GB")
    assert other.task["resources"]["accelerators"] == "A100-80GB:4"


def test_unknown_gpu_type_gets_the_default_and_a_warning() -> None:
    c = conv("#SBATCH --gres=gpu:tesla:2\necho\n")
    assert c.task["resources"]["accelerators"] == "H100:2"
    (note,) = notes(c, "gpu-type")
    assert note.loses_meaning and "tesla" in note.message


def test_gpu_type_from_a_constraint() -> None:
    c = conv("#SBATCH --gres=gpu:2\n#SBATCH --constraint=a100\necho\n")
    assert c.task["resources"]["accelerators"] == "A100:2"


def test_modules_choose_an_image() -> None:
    mappings = load_mappings()
    for module, image in [
        ("cuda/12.1", "nvidia/cuda:12.1.1-cudnn8-runtime-ubuntu22.04"),
        ("CUDA/11.3.1-GCC-10.2.0", "nvidia/cuda:11.3.1-cudnn8-runtime-ubuntu20.04"),
        ("cuda/11.8.0", "nvidia/cuda:11.8.0-cudnn8-runtime-ubuntu22.04"),
        ("cudatoolkit/11.7", "nvidia/cuda:11.7.1-cudnn8-runtime-ubuntu22.04"),
        ("cuda", "nvidia/cuda:12.1.1-cudnn8-runtime-ubuntu22.04"),
    ]:
        row = module_row(mappings, module)
        assert row is not None and row.image == image, module
    for module in ("cuda/10.2", "cudnn/8.0", "gcc/9.3.0", "anaconda3", "openmpi/4.1"):
        row = module_row(mappings, module)
        assert row is not None and row.image is None, module


def test_a_cuda_module_with_nvcc_in_the_body_gets_the_devel_image() -> None:
    c = conv("module load cuda/12.1\nnvcc -o saxpy saxpy.cu\n./saxpy\n")
    assert c.task["resources"]["image_id"] == "docker:nvidia/cuda:12.1.1-cudnn8-devel-ubuntu22.04"
    (note,) = notes(c, "module")
    assert "runs nvcc" in note.message
    runtime = conv("module load cuda/12.1\necho nvcc is not run\npython x.py\n")
    assert runtime.task["resources"]["image_id"].endswith("-runtime-ubuntu22.04")


def test_module_lines_are_removed_and_noted() -> None:
    c = conv(
        "module purge\nmodule load gcc/9 cuda/11.8 foo/1.0\nif true; then\n  ml cudnn\nfi\n"
        "python x.py\n"
    )
    run = c.task["run"]
    assert "module" not in run and "ml cudnn" not in run
    assert "  :\n" in run  # inside if … fi a no-op keeps the script valid
    assert c.task["resources"]["image_id"] == "docker:nvidia/cuda:11.8.0-cudnn8-runtime-ubuntu22.04"
    messages = " ".join(n.message for n in notes(c, "module"))
    assert "foo/1.0" in messages and "gcc/9" in messages
    # a module command that loads nothing is said at its own line, too
    (purge,) = [n for n in notes(c, "module") if n.line == 2]
    assert purge.message.startswith("module purge: removed from run") and purge.column == 1
    slurm = conv("module purge\nmodule load gcc\npython x.py\n", infra="slurm/c")
    assert slurm.task["run"].startswith("module purge\n") and not notes(slurm, "module")


def test_the_module_systems_start_up_files_are_removed_and_a_scripts_own_are_kept() -> None:
    c = conv(
        "source /etc/profile.d/modules.sh\n. $MODULESHOME/init/bash\n"
        "source /etc/profile.modules\nsource modules.sh\nsource ./load_modules.sh\n"
        "python x.py\n"
    )
    assert c.task["run"] == "source modules.sh\nsource ./load_modules.sh\npython x.py\n"
    assert [n.line for n in notes(c, "module")] == [2, 3, 4]


def test_environment_creation_goes_to_setup() -> None:
    c = conv(
        "cd project\nexport PIP_NO_CACHE_DIR=1\npython -m venv env\nsource env/bin/activate\n"
        "pip install -r requirements.txt\necho start\npython train.py\n"
    )
    assert c.task["setup"] == (
        "cd project\nexport PIP_NO_CACHE_DIR=1\npython -m venv env\nsource env/bin/activate\n"
        "pip install -r requirements.txt\n"
    )
    run = c.task["run"]
    assert "pip install" not in run and "python -m venv" not in run
    assert "source env/bin/activate" in run and "python train.py" in run
    assert notes(c, "setup") and not notes(c, "environment")


@needs_bash
def test_setup_sets_the_slurm_variables_it_reads(tmp_path: Path) -> None:
    """setup repeats the lines before the environment's creation; the SLURM_* variables
    they read are set there as in run, from setup's own SkyPilot variables."""
    c = conv(
        "#SBATCH -N 2\ncd $SLURM_SUBMIT_DIR\n"
        "WORK=/tmp/j_${SLURM_JOB_ID}_${SLURM_NNODES}_$SLURM_NODEID\n"
        "python -m venv $WORK/env\nsrun python train.py\n"
    )
    setup = c.task["setup"]
    assert setup.startswith("# Slurm's variables, from SkyPilot's (slurm2sky)\n")
    assert 'SKYPILOT_NUM_NODES=$(echo "$SKYPILOT_SETUP_NODE_IPS" | wc -l)\n' in setup
    assert "export SLURM_NODEID=0\n" in setup  # the batch shell's (sbatch-spec §8)
    (tmp_path / "sky_workdir").mkdir()
    env = {
        "HOME": str(tmp_path),
        "PATH": "/usr/bin:/bin",
        "SKYPILOT_SETUP_NODE_RANK": "1",
        "SKYPILOT_SETUP_NODE_IPS": "10.0.0.1\n10.0.0.2",
        "SKYPILOT_TASK_ID": "sky-managed-x_job_7-0",
        "SKYPILOT_MANAGED_JOB_ID": "7",
    }
    probe = setup.replace("python -m venv $WORK/env", 'echo "$PWD $WORK"')
    done = subprocess.run([BASH, "-c", probe], env=env, capture_output=True, text=True, check=True)
    assert done.stdout == f"{tmp_path}/sky_workdir /tmp/j_7_2_0\n"


def test_activation_without_creation_is_a_warning() -> None:
    c = conv("conda activate myenv\npython x.py\n")
    (note,) = notes(c, "environment")
    assert note.loses_meaning and "myenv" in note.message and note.line == 2


def test_workdir_and_chdir() -> None:
    assert conv("echo\n").task["workdir"] == "."
    assert conv("echo\n", workdir="/home/me/project").task["workdir"] == "/home/me/project"
    text = "#SBATCH --chdir=sub\npip install -r req.txt\necho $SLURM_SUBMIT_DIR\n"
    c = conv(text, workdir="/home/me")
    # the submission directory stays the synced workdir; the job runs in sub/ inside it
    assert c.task["workdir"] == "/home/me"
    assert c.task["run"].startswith("cd sub  # --chdir (slurm2sky)\n")
    assert c.task["setup"].startswith("cd sub  # --chdir (slurm2sky)\n")
    assert "export SLURM_SUBMIT_DIR=$HOME/sky_workdir" in c.task["run"]
    assert disposition(c, text, "--chdir=sub") == "field:workdir"
    (note,) = notes(c, "approximation")
    assert not note.loses_meaning and "cd sub" in note.message
    # an absolute path inside the given workdir is the same directory
    inside = conv("#SBATCH -D /home/me/sub\necho\n", workdir="/home/me")
    assert inside.task["workdir"] == "/home/me" and inside.task["run"].startswith("cd sub ")
    valid(c)


def test_submit_dir_is_the_synced_workdir() -> None:
    c = conv("cd $SLURM_SUBMIT_DIR\npython x.py\n")
    assert "export SLURM_SUBMIT_DIR=$HOME/sky_workdir" in c.task["run"]


def test_export_values_become_envs_and_names_are_given_at_launch() -> None:
    text = "#SBATCH --export=ALL,SEED=1,DATA\necho $SEED\n"
    c = conv(text)
    assert c.task["envs"] == {"SEED": "1", "DATA": None}
    assert c.launch == ("sky jobs launch --env DATA task.yaml",)
    assert disposition(c, text, "--export=ALL,SEED=1,DATA") == "field:envs"
    verdict = validate_data(c.task, "task")
    assert verdict.valid and verdict.needs_env == ("DATA",)


def test_job_name_and_cpus_per_task_for_scripts_that_read_them() -> None:
    c = conv(
        "#SBATCH -J prep -c 4\nexport OMP_NUM_THREADS=$SLURM_CPUS_PER_TASK\necho $SLURM_JOB_NAME\n"
    )
    assert c.task["envs"] == {"SLURM_JOB_NAME": "prep", "SLURM_CPUS_PER_TASK": "4"}


def test_wrap_is_the_run() -> None:
    c = conv("", command_line=["--wrap=python train.py --fast"])
    assert c.task["run"] == "python train.py --fast\n"


def _located(c: Conversion, kind: str) -> list[tuple[int, int]]:
    return [(note.line, note.column) for note in notes(c, kind)]


def test_wrap_in_a_script_is_ignored_as_sbatch_ignores_it() -> None:
    """opt.c _set_options: --wrap is "handled in process_options_first_pass", on the
    command line only; an #SBATCH --wrap line changes nothing, and the body runs."""
    c = conv('#SBATCH --wrap="module load cuda; srun --pty x"\npython train.py\n')
    assert c.task["run"] == "python train.py\n"
    assert c.dispositions == {0: "note:ignored-directive"}
    assert not notes(c, "module") and not notes(c, "not-converted")


def test_notes_about_a_command_line_wrap_have_no_line_of_the_script() -> None:
    c = conv("", command_line=["--wrap=module load cuda\nsrun --pty x"])
    assert _located(c, "not-converted") == [(0, 0)] and _located(c, "module") == [(0, 0)]


def test_body_notes_have_columns() -> None:
    c = conv(
        "#SBATCH -N 2\n"
        "source activate myenv\n"
        "  srun --cpu-bind=cores --export=NONE python a.py /scratch/x\n"
        "echo $SLURM_ARRAY_JOB_ID\n"
    )
    assert _located(c, "environment") == [(3, 1)]
    assert (4, 3) in _located(c, "srun")
    assert _located(c, "cluster-path") == [(4, 51)]
    assert _located(c, "variable") == [(5, 7)]


def test_a_python_body_runs_as_a_file() -> None:
    c = conv("#!/usr/bin/env python3\n#SBATCH -N 2\nprint('hello')\n")
    run = c.task["run"]
    assert "print('hello')" in run and "SKYPILOT_NODE_RANK" in run
    assert notes(c, "interpreter")
    valid(c)


# -- notes for options without an equivalent ------------------------------------------------


@pytest.mark.parametrize(
    ("directive", "loses"),
    [
        ("--time=24:00:00", False),
        ("--account=proj", False),
        ("--qos=high", False),
        ("--mail-type=END", False),
        ("--mail-user=me@example.org", False),
        ("--output=logs/%j.out", False),
        ("--error=logs/%j.err", False),
        ("--dependency=afterok:123", True),
        ("--constraint=haswell", False),
        ("--exclusive", False),
        ("--requeue", False),
        ("--nodelist=node1", False),
        ("--begin=now+1hour", True),
        ("--signal=B:USR1@60", True),
        ("--container-mounts=/data:/data", True),
    ],
)
def test_every_option_without_an_equivalent_has_a_located_note(directive: str, loses: bool) -> None:
    text = f"#SBATCH {directive}\necho\n"
    c = conv(text)
    found = [n for n in c.notes if n.directive == directive]
    assert len(found) == 1, c.notes
    (note,) = found
    assert note.line == 2 and note.message and note.loses_meaning is loses
    assert disposition(c, text, directive) == f"note:{note.kind}"


def test_time_note_says_what_to_do() -> None:
    (note,) = notes(conv("#SBATCH -t 1-12\necho\n"), "no-equivalent")
    assert "1 d 12 h" in note.message and "timeout 2160m" in note.message


def test_overridden_directives_are_accounted_for() -> None:
    text = "#SBATCH -N 2\n#SBATCH -N 4\necho\n"
    c = conv(text)
    assert c.task["num_nodes"] == 4
    assert c.dispositions == {0: "note:overridden", 1: "field:num_nodes"}


def test_options_of_one_setting_replace_each_other_and_cumulative_ones_add_up() -> None:
    """slurm_opt.c: -M and --cluster set one setting (the last wins, whatever its
    spelling); -v counts each time and --mail-type ORs its types together."""
    c = conv("#SBATCH -M gpu\n#SBATCH --cluster=smp\n#SBATCH -vv\necho\n")
    (overridden,) = notes(c, "overridden")
    assert "-M gpu is replaced by --cluster=smp (line 3)" in overridden.message
    assert c.dispositions[2] == c.dispositions[3] == "note:no-equivalent"
    c = conv("#SBATCH --mail-type=END\n#SBATCH --mail-type=FAIL\necho\n", infra="slurm/c")
    assert c.task["config"]["slurm"]["sbatch_options"] == {"mail-type": "END,FAIL"}
    assert not notes(c, "overridden")


def test_command_line_options_override_the_script() -> None:
    c = conv("#SBATCH --mem=4G\necho\n", command_line=["--mem=8G"])
    assert c.task["resources"]["memory"] == "8+"


def test_rejected_scripts_are_still_converted_with_a_warning() -> None:
    c = conv("#!/bin/bash\r\n#SBATCH -N 2\r\nsrun hostname\r\n")
    assert c.task["num_nodes"] == 2
    (note,) = notes(c, "sbatch-rejects")
    assert note.loses_meaning and c.loses_meaning
    assert "DOS line breaks" in note.message and "dos2unix" in note.message
    c = convert(parse_script("\n#!/bin/bash\n#SBATCH -N 2\necho\n"))
    (note,) = notes(c, "sbatch-rejects")
    assert note.line == 1 and "#!" in note.message and note.loses_meaning
    assert "sbatch refuses the script" in note.message


@pytest.mark.parametrize(
    ("text", "spelled", "says"),
    [
        ("#SBATCH -N abc\necho\n", "-N abc", "not a valid node count"),
        ("#SBATCH --time=abc\necho\n", "--time=abc", "Invalid time 'abc'"),
        ("#SBATCH --mem=lots\necho\n", "--mem=lots", "lots"),
        ("#SBATCH --array=1-x\necho\n", "--array=1-x", "array specification"),
        ("#SBATCH --get-user-env=10L\necho\n", "--get-user-env=10L", "argument"),
    ],
)
def test_a_value_sbatch_refuses_is_a_warning_and_left_out(
    text: str, spelled: str, says: str
) -> None:
    c = conv(text)
    (note,) = [n for n in c.notes if n.line == 2]
    assert note.kind == "sbatch-rejects" and note.directive == spelled
    assert note.loses_meaning and says in note.message
    assert "sbatch refuses the script" in note.message and "Valid: " in note.message
    assert disposition(c, text, spelled) == "note:sbatch-rejects"
    assert "num_nodes" not in c.task and "memory" not in c.task.get("resources", {})
    assert c.launch == ("sky jobs launch task.yaml",)


def test_a_refused_command_line_value_is_a_warning() -> None:
    c = conv("#SBATCH -N 2\necho\n", command_line=["-N", "abc"])
    (note,) = notes(c, "sbatch-rejects")
    assert note.line == 0 and note.directive == "-N abc" and note.loses_meaning
    assert c.dispositions == {0: "note:overridden", 1: "note:sbatch-rejects"}


def test_options_sbatch_refuses_together_are_a_warning() -> None:
    text = "#SBATCH --mem=4G\n#SBATCH --mem-per-cpu=2G\necho\n"
    c = conv(text)
    (note,) = notes(c, "sbatch-rejects")
    assert note.line == 3 and note.loses_meaning and "mutually exclusive" in note.message
    assert c.task["resources"]["memory"] == "4+"  # converted, but a guess


def test_signal_has_its_own_advice() -> None:
    text = "#SBATCH --signal=B:USR1@120\necho\n"
    c = conv(text)
    (note,) = notes(c, "no-equivalent")
    assert note.directive == "--signal=B:USR1@120" and note.loses_meaning
    assert "checkpoint" in note.message and "job_recovery" in note.message
    assert "dependencies" not in note.message  # not the scheduling category's advice
    # on SkyPilot's Slurm infra, B: would signal SkyPilot's own batch script, not run
    on_slurm = conv(text, infra="slurm/c")
    assert "config" not in on_slurm.task
    (note,) = [n for n in on_slurm.notes if n.directive == "--signal=B:USR1@120"]
    assert note.kind == "slurm-infra" and note.loses_meaning
    assert "SkyPilot's own batch script" in note.message and "not passed" in note.message
    assert disposition(on_slurm, text, "--signal=B:USR1@120") == "note:slurm-infra"
    steps = conv("#SBATCH --signal=USR1@120\necho\n", infra="slurm/c")
    assert steps.task["config"]["slurm"]["sbatch_options"] == {"signal": "USR1@120"}
    (note,) = notes(steps, "slurm-infra")[1:]
    assert "every step of the job" in note.message and not note.loses_meaning


def test_gpu_type_is_matched_as_skypilot_does() -> None:
    assert accelerator_name("a100-80gb") == "A100-80GB"
    assert accelerator_name(" h100-sxm ") == "H100-SXM"  # the catalog's, not a gpu-types row's
    assert accelerator_name("H1000") is None
    mappings = load_mappings()
    for row in mappings.gpu_types:
        assert accelerator_name(row.skypilot.lower(), mappings) == row.skypilot
        assert unknown_accelerator(row.skypilot, mappings) is None
    c = conv("#SBATCH --gres=gpu:4\necho\n", gpu_type="a100-80gb")
    assert c.task["resources"]["accelerators"] == "A100-80GB:4"
    assert not notes(c, "gpu-type") and not c.loses_meaning


def test_an_unknown_gpu_type_is_a_warning_with_close_names() -> None:
    text = "#SBATCH --gres=gpu:4\necho\n"
    c = conv(text, gpu_type="H1000")
    assert c.task["resources"]["accelerators"] == "H1000:4"  # as asked: SkyPilot may know it
    (note,) = notes(c, "gpu-type")
    assert note.loses_meaning and note.field == "resources.accelerators"
    assert "--gpu-type H1000" in note.message and "Did you mean H100" in note.message
    # a site type no gpu-types row knows gets the --gpu-type too
    assert notes(conv("#SBATCH --gres=gpu:tesla:2\necho\n", gpu_type="H1000"), "gpu-type")
    # not used: no note
    assert not notes(conv("#SBATCH -N 2\necho\n", gpu_type="H1000"), "gpu-type")
    message = unknown_accelerator("rtx-4090")
    assert message is not None and "Did you mean RTX4090" in message
    message = unknown_accelerator("tpu-v4-8")
    assert message is not None and "TPU" in message


def test_the_accelerators_list_is_read_from_the_mappings_file(tmp_path: Path) -> None:
    text = MAPPINGS_FILE.read_text(encoding="utf-8")
    assert "\naccelerators:\n" in text
    copy = tmp_path / MAPPINGS_FILE.name
    start = text.index("\naccelerators:\n")
    copy.write_text(text[:start] + text[text.index("\nmodules:\n", start) :], encoding="utf-8")
    without = load_mappings(copy, check=False)
    assert accelerator_name("H100", without) == "H100"  # a gpu-types row's
    assert accelerator_name("H100-SXM", without) is None


# -- partitions and infra ------------------------------------------------------------------------


def test_partition_map_gives_the_infra() -> None:
    text = "#SBATCH -p gpu\necho\n"
    c = conv(text, partition_map={"gpu": "kubernetes/gpu-context"})
    assert c.task["resources"]["infra"] == "kubernetes/gpu-context"
    assert disposition(c, text, "-p gpu") == "field:resources.infra"
    valid(c)


def test_unmapped_partition_is_a_note() -> None:
    text = "#SBATCH -p gpu\necho\n"
    c = conv(text)
    assert "infra" not in c.task.get("resources", {})
    (note,) = notes(c, "partition")
    assert "--partition-map gpu=" in note.message and note.line == 2


def test_partition_list_uses_the_first_mapped_partition() -> None:
    c = conv("#SBATCH -p a,b\necho\n", partition_map={"b": "aws"})
    assert c.task["resources"]["infra"] == "aws"
    assert notes(c, "approximation")


# -- SkyPilot's Slurm infra ------------------------------------------------------------------------

SLURM_SCRIPT = """\
#SBATCH -J sim -p batch -N 2 -c 8 --mem=32G
#SBATCH --time=1-00:00
#SBATCH --account=proj --qos=high --exclusive
#SBATCH --output=sim.out --no-requeue --mail-type=END
module load gromacs/2023
srun gmx mdrun
"""


def test_slurm_infra_passes_options_through_sbatch_options() -> None:
    c = conv(SLURM_SCRIPT, infra="slurm/mycluster")
    task = c.task
    assert task["resources"]["infra"] == "slurm/mycluster/batch"
    options = task["config"]["slurm"]["sbatch_options"]
    assert options == {
        "time": "1-00:00",
        "account": "proj",
        "qos": "high",
        "exclusive": True,
        "mail-type": "END",
    }
    assert not set(options) & SKYPILOT_PROTECTED_SBATCH_OPTIONS
    assert "module load gromacs/2023" in task["run"]  # the cluster still has modules
    assert disposition(c, SLURM_SCRIPT, "--output=sim.out").startswith("note:")
    assert disposition(c, SLURM_SCRIPT, "--no-requeue").startswith("note:")
    assert disposition(c, SLURM_SCRIPT, "--account=proj") == "sbatch-options:account"
    assert notes(c, "slurm-infra")
    valid(c)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("90", "90"),
        ("30:00", "30:00"),
        ("48:00:00", "48:00:00"),
        ("2-12", "2-12"),
        ("1-00:30", "1-00:30"),
        ("7-00:00:00", "7-00:00:00"),
        ("UNLIMITED", "0"),
        ("infinite", "0"),
        ("-1", "0"),
        ("2-", "2-0:00:00"),
        ("1h", None),
    ],
)
def test_time_values_in_the_forms_skypilot_accepts(value: str, expected: str | None) -> None:
    assert skypilot_time(value) == expected


def test_slurm_infra_converts_time_forms_skypilot_refuses() -> None:
    c = conv("#SBATCH --time=UNLIMITED\necho\n", infra="slurm/c/p")
    assert c.task["config"]["slurm"]["sbatch_options"] == {"time": "0"}
    assert notes(c, "approximation")


def test_slurm_infra_keeps_native_variables() -> None:
    c = conv(
        "#SBATCH -N 2\necho $SLURM_JOB_ID $SLURM_JOB_NODELIST $SLURM_SUBMIT_DIR\n", infra="slurm/c"
    )
    run = c.task["run"]
    assert "SLURM_JOB_ID=" not in run and "SLURM_JOB_NODELIST=" not in run
    assert "SLURM_SUBMIT_DIR=" in run


def test_slurm_infra_keeps_the_clusters_paths() -> None:
    """On SkyPilot's Slurm infra the job runs on the cluster's nodes, with its file
    systems: an absolute --chdir is where run starts, and its paths are no warning."""
    text = "#SBATCH -D /scratch/me/run\ncp /project/data/x .\npython x.py\n"
    c = conv(text, infra="slurm/c")
    assert c.task["run"].startswith("cd /scratch/me/run  # --chdir (slurm2sky)\n")
    assert not notes(c, "cluster-path") and not c.loses_meaning
    elsewhere = conv(text)
    assert len(notes(elsewhere, "cluster-path")) == 2


def test_slurm_infra_sets_in_run_what_skypilots_job_wrapper_unsets() -> None:
    """SkyPilot's Slurm executor unsets the step's variables (SLURM_CPUS_PER_TASK,
    SLURM_CPUS_ON_NODE, …) after the task's envs are exported and before run: run sets
    them itself."""
    c = conv(
        "#SBATCH -N 2 --ntasks-per-node=4 -c 8\nexport OMP_NUM_THREADS=$SLURM_CPUS_PER_TASK\n"
        "echo $SLURM_CPUS_ON_NODE $SLURM_NTASKS_PER_NODE $SLURM_LOCALID\n",
        infra="slurm/c",
    )
    run = c.task["run"]
    for name in ("SLURM_CPUS_PER_TASK", "SLURM_CPUS_ON_NODE", "SLURM_NTASKS_PER_NODE"):
        assert f"export {name}=" in run and name not in c.task.get("envs", {}), name
    elsewhere = conv("#SBATCH -c 8\necho $SLURM_CPUS_PER_TASK\n")
    assert elsewhere.task["envs"]["SLURM_CPUS_PER_TASK"] == "8"


def test_protected_keys_never_pass_through() -> None:
    mappings = load_mappings()
    for row in mappings.options:
        if row.on_slurm == "sbatch-options":
            assert row.option not in SKYPILOT_PROTECTED_SBATCH_OPTIONS
    for category in mappings.option_categories:
        if category.on_slurm == "sbatch-options":
            assert not set(category.options) & SKYPILOT_PROTECTED_SBATCH_OPTIONS


def test_a_steps_container_options_dropped_are_a_warning() -> None:
    c = conv(
        "srun --container-image=ubuntu:22.04 --container-mounts=/data:/data "
        "--container-workdir=/data python /data/train.py\n"
    )
    (note,) = notes(c, "srun")
    assert note.loses_meaning and "(--container-mounts, --container-workdir)" in note.message
    assert not notes(conv("srun --cpu-bind=cores python x.py\n"), "srun")[0].loses_meaning


def test_a_nodelist_without_nodes_asks_for_every_node_it_names() -> None:
    c = conv("#SBATCH -w node[01-03]\nsrun hostname\n")
    assert c.task["num_nodes"] == 3
    assert [n.kind for n in c.notes if n.line == 2] == ["approximation"]
    assert disposition(c, "#SBATCH -w node[01-03]\nsrun hostname\n", "-w node[01-03]") == (
        "field:num_nodes"
    )
    assert "num_nodes" not in conv("#SBATCH -w node01\nsrun hostname\n").task
    assert conv("#SBATCH -N 2 -w node[01-03]\nsrun hostname\n").task["num_nodes"] == 2


def test_a_container_image_named_by_a_variable_is_said_to_be_literal() -> None:
    (note,) = notes(conv("#SBATCH --container-image=$IMG\nx\n"), "container")
    assert "does not expand variables" in note.message and note.loses_meaning
    (note,) = notes(conv("#SBATCH --container-image=/images/pt.sqsh\nx\n"), "container")
    assert "squashfs" in note.message


def test_fewer_gpus_than_nodes_is_a_warning() -> None:
    c = conv("#SBATCH -N 4 --gpus=a100:2\nsrun x\n")
    assert c.task["resources"]["accelerators"] == "A100:1"
    (note,) = notes(c, "approximation")
    assert note.loses_meaning and "at least one GPU" in note.message


def test_an_array_index_above_the_default_max_array_size_is_a_warning() -> None:
    c = conv("#SBATCH --array=1-9999\nx\n")
    (note,) = notes(c, "approximation")
    assert note.loses_meaning and "MaxArraySize (1001)" in note.message
    assert not notes(conv("#SBATCH --array=0-1000\nx\n"), "approximation")


def test_mem_0_is_a_warning_that_says_what_the_node_gets() -> None:
    (note,) = notes(conv("#SBATCH --mem=0 -c 8\nx\n"), "approximation")
    assert note.loses_meaning and "Set resources.memory" in note.message


def test_start_conditions_and_unread_resources_never_pass_through() -> None:
    """On SkyPilot's Slurm infra a --begin or --dependency keeps SkyPilot's own job
    pending until its provisioning gives up; --tres-per-task beside the --cpus-per-task
    SkyPilot writes is refused by sbatch."""
    c = conv(
        "#SBATCH --dependency=afterok:4242 --begin=now+1hour --tres-per-task=cpu=4\n"
        "#SBATCH --time-min=30 --qos=high\nsrun x\n",
        infra="slurm/c1",
    )
    assert c.task["config"]["slurm"]["sbatch_options"] == {"time-min": "30", "qos": "high"}
    assert [n.loses_meaning for n in notes(c, "no-equivalent")] == [True, True, True]


def test_sbatch_lowers_the_node_count_to_the_task_count() -> None:
    """sbatch opt.c _opt_verify: fewer tasks than nodes sets the node count to the tasks;
    a range's minimum too."""
    c = conv("#SBATCH -N 8\n#SBATCH -n 2\nsrun x\n")
    assert c.task["num_nodes"] == 2
    (note,) = notes(c, "overridden")
    assert (note.line, note.column, note.loses_meaning) == (2, 9, False)
    assert conv("#SBATCH -N 4-8 -n 3\nsrun x\n").task["num_nodes"] == 3
    assert conv("#SBATCH -N 2 -n 2\nsrun x\n").task["num_nodes"] == 2
    assert not notes(conv("#SBATCH -N 2 -n 5\nsrun x\n"), "overridden")


def test_options_that_change_the_submission_never_pass_through() -> None:
    """SkyPilot writes sbatch_options into the script it submits itself: --wait would
    block that sbatch, --hold keep the job from starting, --test-only submit nothing, and
    -M send the job to a cluster SkyPilot does not watch."""
    c = conv(
        "#SBATCH -W --hold --test-only -M gpu --cluster-constraint=x --qos=high\nsrun x\n",
        infra="slurm/c1",
    )
    assert c.task["config"]["slurm"]["sbatch_options"] == {"qos": "high"}
    assert len(notes(c, "no-equivalent")) == 5
    assert all(note.loses_meaning for note in notes(c, "no-equivalent"))


# -- variables ------------------------------------------------------------------------------------


@needs_bash
def test_hostnames_and_the_head_node(tmp_path: Path) -> None:
    c = conv(
        "#SBATCH -N 3 --ntasks-per-node=1\n"
        'export MASTER_ADDR=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)\n'
        "export WORLD=$SLURM_NTASKS\n"
        "srun python train.py --nodes $SLURM_JOB_NUM_NODES\n"
    )
    started, _ = simulate(c.task["run"], 3, tmp_path=tmp_path)
    assert len(started) == 3
    assert {s.env["MASTER_ADDR"] for s in started} == {"10.0.0.1"}
    assert {s.env["WORLD"] for s in started} == {"3"}
    assert {s.args for s in started} == {"train.py --nodes 3"}


def test_variables_without_a_counterpart_are_noted() -> None:
    c = conv("echo $SLURM_ARRAY_JOB_ID $SLURM_TMPDIR\n")
    (note,) = notes(c, "variable")
    assert "SLURM_ARRAY_JOB_ID" in note.message and "SLURM_TMPDIR" in note.message
    assert note.loses_meaning


def test_steps_with_gpus_of_their_own_that_run_at_once_are_warned() -> None:
    step = "srun --exact -n1 --gres=gpu:1 python run.py --seed $i"
    c = conv(f"#SBATCH -n 4 --gres=gpu:4\nfor i in 0 1 2 3; do\n  {step} &\ndone\nwait\n")
    (note,) = [n for n in notes(c, "srun") if "GPUs of its own" in n.message]
    assert (note.line, note.column, note.loses_meaning) == (4, 3, True)
    alone = conv(f"#SBATCH -n 4 --gres=gpu:4\ni=0\n{step}\n")
    assert not [n for n in notes(alone, "srun") if "GPUs of its own" in n.message]


def test_a_het_job_step_runs_its_first_component_only_and_says_so() -> None:
    c = conv(
        "#SBATCH -N1\n#SBATCH hetjob\n#SBATCH -N1\n"
        "srun --het-group=0 ./a x :  --het-group=1 ./b\necho done\n"
    )
    assert c.task["run"].endswith("\n./a x\necho done\n")
    (note,) = [n for n in notes(c, "not-converted") if "het-job" in n.message]
    assert (note.line, note.column, note.loses_meaning) == (5, 26, True)


def test_srun_with_an_unknown_option_keeps_its_command() -> None:
    from slurm2sky.convert import convert
    from slurm2sky.sbatch import parse_script

    text = "#!/bin/bash\n#SBATCH -N2 --ntasks-per-node=2\nsrun --foo python e.py\n"
    conversion = convert(parse_script(text, path="x.sh"))
    assert "python e.py" in conversion.task["run"]
    assert any("--foo" in note.message for note in conversion.notes)


def test_notes_are_frozen_values() -> None:
    note = Note(2, "-N 2", "approximation", "why.", False)
    assert note == Note(2, "-N 2", "approximation", "why.", False, "")
    assert hash(note) == hash(Note(2, "-N 2", "approximation", "why.", False, ""))
    with pytest.raises(FrozenInstanceError):
        note.line = 3  # type: ignore[misc]
    assert asdict(note) == {
        "line": 2,
        "directive": "-N 2",
        "kind": "approximation",
        "message": "why.",
        "loses_meaning": False,
        "field": "",
        "column": 0,
    }
    assert replace(note, line=5) == Note(5, "-N 2", "approximation", "why.", False)
    # the column is the last field, optional: positional construction still works
    located = Note(2, "-N 2", "approximation", "why.", False, "num_nodes", 9)
    assert (located.field, located.column) == ("num_nodes", 9)
    assert replace(note, column=9).column == 9 and note.column == 0


# -- the review's findings ------------------------------------------------------------------


def test_notes_carry_the_column_of_their_directive_or_value() -> None:
    text = "#SBATCH -N 2 --time=24:00:00\n#SBATCH   --mem=lots\necho\n"
    c = conv(text)
    (time,) = [n for n in c.notes if n.directive == "--time=24:00:00"]
    assert (time.line, time.column) == (2, 14)  # the option's column
    (mem,) = notes(c, "sbatch-rejects")
    assert (mem.line, mem.column) == (3, 17)  # a value sbatch refuses: the value's column
    cli = conv("echo\n", command_line=["--time=10"])
    assert [n.column for n in cli.notes if n.directive] == [0]  # the command line: none
    body = conv("conda activate env\npython x.py\n")
    assert all(n.column >= 0 for n in body.notes)


#: SkyPilot's task name rule (sky/task.py _VALID_NAME_REGEX, Task.validate_name).
SKYPILOT_TASK_NAME = re.compile(r"[a-zA-Z0-9]+(?:[._-]{1,2}[a-zA-Z0-9]+)*")


@pytest.mark.parametrize(
    ("written", "name"),
    [
        ('"my job"', "my-job"),
        ("'EA NAS'", "EA-NAS"),
        ("$jobname", "jobname"),
        ("<job-name>", "job-name"),
        ("th_new/hmg_ldc3d", "th_new-hmg_ldc3d"),
        ("%%job-name%%", "job-name"),
        ("a___b", "a-b"),
        ("a--b", "a--b"),
        ("_x_", "x"),
        ("'r\u00e9sum\u00e9 v2'", "resume-v2"),
        ("train", "train"),
    ],
)
def test_job_names_skypilot_refuses_are_made_valid(written: str, name: str) -> None:
    text = f"#SBATCH -J {written}\necho $SLURM_JOB_NAME\n"
    c = conv(text)
    assert c.task["name"] == name and SKYPILOT_TASK_NAME.fullmatch(name)
    directive = parse_script("#!/bin/bash\n" + text).options["job-name"]
    original = directive.value
    assert c.task["envs"]["SLURM_JOB_NAME"] == original  # the script's own name
    assert disposition(c, text, f"-J {written}") == "field:name"
    found = [n for n in c.notes if n.field == "name"]
    if name == original:
        assert found == []
    else:
        (note,) = found
        assert repr(original) in note.message and name in note.message
        assert not note.loses_meaning and note.column == directive.value_column
    valid(c)


@pytest.mark.parametrize("written", ['""', "'{{'", "'<>'"])
def test_a_job_name_with_nothing_valid_is_left_out(written: str) -> None:
    text = f"#SBATCH --job-name={written}\necho $SLURM_JOB_NAME\n"
    c = conv(text, path="/x/train.sh")
    assert "name" not in c.task
    value = parse_script("#!/bin/bash\n" + text).options["job-name"].value
    assert c.task["envs"]["SLURM_JOB_NAME"] == (value or "train.sh")
    (note,) = [n for n in c.notes if n.field == "name"]
    assert "no name" in note.message
    assert disposition(c, text, f"--job-name={written}") == "note:approximation"


def test_task_name_of_every_corpus_job_name_is_valid() -> None:
    from corpus import CORPUS, corpus

    if not CORPUS.is_dir():
        pytest.skip("no corpus")
    names = 0
    for name, text in corpus():
        directive = parse_script(text, path=name).options.get("job-name")
        if directive is None:
            continue
        names += 1
        converted = task_name(directive.value or "")
        assert converted == "" or SKYPILOT_TASK_NAME.fullmatch(converted), (name, converted)
    assert names > 1000


@pytest.mark.parametrize(
    "value",
    [
        "hello world",
        "run#2",
        'say "hi"',
        "it's",
        "a\\b c",
        "both ' and \"",
        "  padded  ",
        "tab\there",
        "plain",
    ],
)
def test_sbatch_option_values_survive_skypilots_sbatch_line(value: str) -> None:
    word = sbatch_word(value)
    # SkyPilot writes f"#SBATCH --{key}={value}" (_build_custom_sbatch_directives)
    line = f"#SBATCH --comment={word}"
    read = split_words(line, len("#SBATCH"))
    assert [w.text for w in read.words] == [f"--comment={value}"] and read.stop is None
    assert (word == value) is (value == "plain")


def test_slurm_infra_quotes_values_sbatch_would_split() -> None:
    text = "#SBATCH --comment='hello world' --reservation=r#1\necho\n"
    c = conv(text, infra="slurm/c1")
    options = c.task["config"]["slurm"]["sbatch_options"]
    assert options["comment"] == '"hello world"'
    quoted = [n for n in notes(c, "slurm-infra") if n.directive]
    assert len(quoted) == 1 and "sbatch gets it whole" in quoted[0].message
    assert quoted[0].column == 20  # the value (inside its quotes)
    # a # inside the value cannot have come from the script (it ends sbatch's line there),
    # only from the command line
    cli = conv("echo\n", infra="slurm/c1", command_line=["--comment=run #2"])
    assert cli.task["config"]["slurm"]["sbatch_options"]["comment"] == '"run #2"'
    # sbatch would split SkyPilot's script at the word hetjob: not passed, and said
    het = conv("echo\n", infra="slurm/c1", command_line=["--comment=a hetjob test"])
    assert "config" not in het.task
    (note,) = [n for n in notes(het, "slurm-infra") if n.loses_meaning]
    assert "hetjob" in note.message
    valid(c)


def test_partition_map_to_a_slurm_cluster_keeps_the_partition() -> None:
    text = "#SBATCH -p gpu\necho\n"
    assert conv(text, infra="slurm/c1").task["resources"]["infra"] == "slurm/c1/gpu"
    c = conv(text, partition_map={"gpu": "slurm/c1"})
    assert c.task["resources"]["infra"] == "slurm/c1/gpu"
    (note,) = notes(c, "partition")
    assert "slurm/c1/gpu" in note.message and "slurm/c1/<partition>" in note.message
    assert disposition(c, text, "-p gpu") == "field:resources.infra"
    # a mapped infra with its own partition, or another cloud, is taken as given
    assert conv(text, partition_map={"gpu": "slurm/c1/big"}).task["resources"]["infra"] == (
        "slurm/c1/big"
    )
    assert conv(text, partition_map={"gpu": "aws"}).task["resources"]["infra"] == "aws"
    assert not notes(conv(text, partition_map={"gpu": "aws"}), "partition")
    valid(c)


@pytest.mark.parametrize(
    ("value", "envs", "says"),
    [
        ("ALL,PATH=/x", None, "export PATH=/x:$PATH"),
        ("PATH", None, "would break the node"),
        ("HOSTNAME", None, "mislabel it"),
        ("ALL,HOME=/h,SEED=1", {"SEED": "1"}, "replace the node's own"),
        ("NONE,LD_LIBRARY_PATH=/opt/lib,DATA", {"DATA": None}, "LD_LIBRARY_PATH"),
    ],
)
def test_export_leaves_the_nodes_own_variables_alone(
    value: str, envs: dict[str, str | None] | None, says: str
) -> None:
    text = f"#SBATCH --export={value}\necho\n"
    c = conv(text)
    assert c.task.get("envs") == envs
    assert "--env PATH" not in c.launch[0] and "--env HOSTNAME" not in c.launch[0]
    warning = [n for n in notes(c, "export") if n.loses_meaning]
    assert len(warning) == 1 and says in warning[0].message
    assert "Left out of envs" in warning[0].message
    assert disposition(c, text, f"--export={value}") == ("field:envs" if envs else "note:export")


@pytest.mark.parametrize("directory", ["/gpfs/proj/me", "../elsewhere", "~/proj", "$HOME/x"])
def test_chdir_outside_the_submission_directory_is_a_warning(directory: str) -> None:
    text = f"#SBATCH --chdir={directory}\necho $SLURM_SUBMIT_DIR\n"
    c = conv(text)
    assert c.task["workdir"] == "."
    assert not c.task["run"].startswith("cd ")
    (note,) = [n for n in c.notes if n.directive == f"--chdir={directory}"]
    assert note.loses_meaning and "workdir: ." in note.message and note.field == "workdir"
    kind = "cluster-path" if directory.startswith("/") else "approximation"
    assert note.kind == kind and disposition(c, text, f"--chdir={directory}") == f"note:{kind}"
    valid(c)


def test_a_job_image_replaces_a_different_step_image_with_a_warning() -> None:
    c = conv(
        "#SBATCH --container-image=ubuntu:22.04\n"
        "srun --container-image=ubuntu:22.04 python a.py\n"
        "srun --container-image=nvcr.io\\#nvidia/pytorch:24.01-py3 python b.py\n"
    )
    assert c.task["resources"]["image_id"] == "docker:ubuntu:22.04"
    (note,) = notes(c, "container")
    assert note.line == 4 and note.loses_meaning
    assert "nvcr.io#nvidia/pytorch:24.01-py3" in note.message and "instead" in note.message
    # without a job image the first step's image is the task's, and a second one is said
    c = conv("srun --container-image=alpine:3 a\nsrun --container-image=ubuntu:22.04 b\n")
    assert c.task["resources"]["image_id"] == "docker:alpine:3"
    taken, replaced = notes(c, "container")
    assert (taken.line, taken.loses_meaning) == (2, False) and "docker:alpine:3" in taken.message
    assert (replaced.line, replaced.loses_meaning) == (3, True)


def test_a_step_image_given_through_a_variable_is_not_claimed() -> None:
    c = conv('IMG=nvcr.io/nvidia/pytorch:24.01-py3\nsrun --container-image="$IMG" python x.py\n')
    assert "image_id" not in c.task.get("resources", {})
    (note,) = notes(c, "container")
    assert note.loses_meaning and "variable" in note.message
    assert "which takes" not in note.message


def test_a_job_image_cut_at_a_hash_is_a_warning_with_how_to_write_it() -> None:
    text = "#SBATCH --container-image nvcr.io#nvidia/pytorch:24.01-py3\necho\n"
    c = conv(text)
    assert c.task["resources"]["image_id"] == "docker:nvcr.io"  # as sbatch reads it
    (note,) = notes(c, "container")
    assert note.loses_meaning and (note.line, note.column) == (2, 27)
    assert "nvcr.io\\#nvidia/pytorch:24.01-py3" in note.message
    assert "nvcr.io/nvidia/pytorch:24.01-py3" in note.message
    # escaped or quoted, the image is whole and nothing is said
    for written in ("nvcr.io\\#nvidia/pytorch:24.01-py3", "'nvcr.io#nvidia/pytorch:24.01-py3'"):
        whole = conv(f"#SBATCH --container-image={written}\necho\n")
        assert whole.task["resources"]["image_id"] == "docker:nvcr.io/nvidia/pytorch:24.01-py3"
        assert not notes(whole, "container")


def test_container_mounts_in_the_header_are_a_warning() -> None:
    (note,) = notes(conv("#SBATCH --container-mounts=/data:/data\necho\n"), "no-equivalent")
    assert note.loses_meaning and "file_mounts" in note.message


def test_ignored_lines_and_cut_lines_are_located_notes() -> None:
    c = conv("# SBATCH --mem=1G\n#SBATCH -N 2 \\\necho\n")
    ignored = notes(c, "ignored-directive")
    assert [(n.line, n.column, n.loses_meaning) for n in ignored] == [(2, 1, False), (3, 14, False)]
    assert "#SBATCH --mem=1G at the very start of the line" in ignored[0].message
    assert "trailing backslash" in ignored[1].message and "quotes" not in ignored[1].message
    assert not notes(c, "foreign")


def test_comment_has_its_own_advice() -> None:
    text = "#SBATCH --comment='nightly run'\necho\n"
    (note,) = notes(conv(text), "no-equivalent")
    assert "free-text comment" in note.message and "QOS" not in note.message
    assert not note.loses_meaning


def test_a_gpu_type_named_by_another_gpu_option_is_kept() -> None:
    c = conv("#SBATCH -G a100:8 --gpus-per-node=4\necho\n")
    assert c.task["resources"]["accelerators"] == "A100:4"
    assert not notes(c, "default-gpu")
    (note,) = notes(c, "approximation")
    assert "names the type, a100" in note.message


@pytest.mark.parametrize(
    "value",
    ["--mem=99999999999999999999T", "--mem=9999999999999T", "--gres=gpu:99999999999999999999"],
)
def test_numbers_beyond_sbatchs_limits_are_refused(value: str) -> None:
    text = f"#SBATCH {value}\necho\n"
    c = conv(text)
    (note,) = notes(c, "sbatch-rejects")
    assert note.loses_meaning and disposition(c, text, value) == "note:sbatch-rejects"
    assert "resources" not in c.task


def test_more_gpus_than_a_node_has_is_a_warning() -> None:
    c = conv("#SBATCH --gres=gpu:a100:1000\necho\n")
    (note,) = [n for n in notes(c, "approximation") if "GPUs per node" in n.message]
    assert note.loses_meaning


def test_exclusive_says_what_it_means_for_resources() -> None:
    c = conv("#SBATCH --exclusive -c 8\necho\n")
    (note,) = notes(c, "no-equivalent")
    assert "every CPU and GPU" in note.message and "8+ CPUs" in note.message
    assert not note.loses_meaning
    shared = conv("#SBATCH --exclusive=user\necho\n")
    (note,) = notes(shared, "no-equivalent")
    assert "sharing policy" in note.message
    on_slurm = conv("#SBATCH --exclusive\necho\n", infra="slurm/c/p")
    assert on_slurm.task["config"]["slurm"]["sbatch_options"] == {"exclusive": True}


@needs_bash
def test_tasks_per_gpu_give_the_tasks_per_node(tmp_path: Path) -> None:
    text = "#SBATCH --ntasks-per-gpu=2 --gpus-per-node=4 -c 2\nsrun python x.py\n"
    c = conv(text)
    assert c.task["resources"]["cpus"] == "16+"  # 8 tasks x 2 CPUs
    assert disposition(c, text, "--ntasks-per-gpu=2") == "field:resources.cpus"
    started, _ = simulate(c.task["run"], tmp_path=tmp_path, gpus=4)
    assert sorted(int(s.procid) for s in started) == list(range(8))
    without = conv("#SBATCH --ntasks-per-gpu=2\necho\n")
    assert "cpus" not in without.task.get("resources", {})


def test_a_program_in_another_language_gets_slurms_variables() -> None:
    c = conv(
        "#!/usr/bin/env python3\n#SBATCH -N 2 -c 4\nimport os\n"
        "print(os.environ['SLURM_PROCID'], os.environ['SLURM_CPUS_PER_TASK'])\n"
    )
    run = c.task["run"]
    assert run.index("export SLURM_PROCID=$SKYPILOT_NODE_RANK") < run.index("cat > ")
    assert c.task["envs"] == {"SLURM_CPUS_PER_TASK": "4"}
    assert notes(c, "variables")
    valid(c)


@pytest.mark.parametrize(
    ("shebang", "body", "loses"),
    [
        ("/bin/zsh", "echo hi\n", False),
        ("/usr/bin/env zsh", "setopt extendedglob\necho hi\n", True),
        ("/bin/ksh", "echo hi\n", False),
        ("/bin/bash", "echo hi\n", None),
        ("/bin/sh", "echo hi\n", None),
    ],
)
def test_a_zsh_script_is_said_to_run_under_bash(shebang: str, body: str, loses: bool) -> None:
    c = conv(f"#!{shebang}\n#SBATCH -N 1\n{body}")
    found = notes(c, "interpreter")
    if loses is None:
        assert found == []
        return
    (note,) = found
    assert "bash" in note.message and note.loses_meaning is loses
    assert "echo hi" in c.task["run"]
