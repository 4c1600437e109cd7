"""What the converter does with the body's job steps and commands the nodes lack:
``srun --export``, srun options without an equivalent, the module command in a
substitution, paths on a cluster's own file systems. Steps are checked by running the
converted ``run`` with bash, once per simulated node."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from convert_helpers import BASH, conv, notes, simulate

needs_bash = pytest.mark.skipif(BASH is None, reason="bash is needed to run the converted run")


@needs_bash
@pytest.mark.parametrize("header", ["-N 1", "-N 2 --ntasks-per-node=1", "-N 2 --ntasks-per-node=2"])
def test_srun_export_assignments_reach_the_step(header: str, tmp_path: Path) -> None:
    c = conv(
        f"#SBATCH {header}\n"
        "KEEP=caller\n"
        "export KEEP\n"
        'srun --export=ALL,NEW="a b",KEEP=step bash -c \'echo "$NEW|$KEEP"\'\n'
    )
    _, done = simulate(c.task["run"], c.task.get("num_nodes", 1), tmp_path=tmp_path)
    lines = [line for process in done for line in process.stdout.split()]
    # sbatch-spec §6.12: with ALL, an assignment applies only where the caller has none
    assert lines and set(lines) == {"a", "b|caller"}


@needs_bash
def test_srun_export_without_all_is_noted_and_still_assigns(tmp_path: Path) -> None:
    c = conv("#SBATCH -N 1\nsrun --export=NONE,X=1 bash -c 'echo $X'\n")
    _, done = simulate(c.task["run"], tmp_path=tmp_path)
    assert done[0].stdout.strip() == "1"
    (note,) = [n for n in notes(c, "srun") if "--export=NONE,X=1" in n.message]
    assert note.line == 3


def test_a_single_quoted_dollar_in_srun_export_stays_literal() -> None:
    c = conv("#SBATCH -N 1\nsrun --export=ALL,'A=$HOME' prog\n")
    assert 'env "A=${A-\\$HOME}" prog' in c.task["run"]


@pytest.mark.parametrize("option", ["--kill-on-bad-exit", "-K", "--cpu-bind=cores"])
def test_srun_options_without_an_equivalent_are_noted(option: str) -> None:
    c = conv(f"#SBATCH -N 2\nsrun {option} python train.py\n")
    (note,) = notes(c, "srun")
    assert note.line == 3
    assert ("--kill-on-bad-exit" if option == "-K" else option.split("=")[0]) in note.message


def test_the_module_command_in_a_substitution_is_noted() -> None:
    c = conv('#SBATCH -N 1\necho "loaded: $(module list 2>&1)"\npython x.py\n')
    (note,) = [n for n in notes(c, "module") if "substitution" in n.message]
    assert note.line == 3 and not note.loses_meaning


@pytest.mark.parametrize(
    ("path", "shown"),
    [("/home/alice/data", "/home"), ("/mnt/lab/x", "/mnt"), ("$SCRATCH/x", "$SCRATCH")],
)
def test_paths_on_the_cluster_file_systems_are_noted(path: str, shown: str) -> None:
    c = conv(f"#SBATCH -N 1\ncd {path}\npython x.py\n")
    (note,) = notes(c, "cluster-path")
    assert note.line == 3 and note.loses_meaning and f"({shown}" in note.message


def test_home_relative_paths_are_not_cluster_paths() -> None:
    c = conv("#SBATCH -N 1\ncd $HOME/project\npython ./x.py --out results/\n")
    assert not notes(c, "cluster-path")


@pytest.mark.parametrize("count", ["9" * 5000, "\u0661\u0662"])
@pytest.mark.parametrize("step", ["srun -n {} x", "srun --mpi=pmix -n {} x", "srun -N {} x"])
def test_step_counts_of_any_length_or_script_are_read_without_raising(
    count: str, step: str
) -> None:
    c = conv("#SBATCH -N 2\nmodule load openmpi\n" + step.format(count) + "\n")
    assert c.task["num_nodes"] == 2


def test_the_guide_explains_every_note_kind() -> None:
    """The guide's table of note kinds (guide/converting.rst) names each kind the
    converter uses, and no other."""
    import re

    from slurm2sky.convert import NOTE_KINDS

    page = (Path(__file__).parents[1] / "docs" / "guide" / "converting.rst").read_text()
    table = page[page.index(".. list-table::") :]
    first_cells = re.findall(r"^   \* - (.+)$", table, re.M)
    named = {kind for cell in first_cells for kind in re.findall(r"``([a-z-]+)``", cell)}
    assert named - {"Kind"} == set(NOTE_KINDS)


def test_bytes_that_are_not_utf8_are_replaced_and_said() -> None:
    latin = b"caf\xe9".decode("utf-8", "surrogateescape")  # as the command line reads it
    c = conv(f"#SBATCH -J {latin}\necho {latin} '{latin}'\n")
    assert c.task["name"] == "caf"  # U+FFFD is not in a SkyPilot task name (a name note)
    assert c.task["run"] == "echo caf\ufffd 'caf\ufffd'\n"
    (note,) = notes(c, "encoding")
    assert (note.line, note.loses_meaning) == (2, True)
    assert note.message.startswith("column 15 holds the byte 0xE9")
    # the other notes write the byte as \xe9, as text: no escape of Python's, no surrogate
    (name,) = [n for n in c.notes if n.field == "name" or "job name" in n.message]
    assert "'caf\\xe9'" in name.message and name.directive == "-J caf\\xe9"
    assert not any(re.search(r"[\udc80-\udcff]|\\udc", n.message + n.directive) for n in c.notes)


def _body(text: str, nodes: int = 2):
    from slurm2sky._body import BodyContext, convert_body

    context = BodyContext(
        body_line=2,
        nodes=nodes,
        tasks_per_node=1,
        ntasks=None,
        gpus_per_task=None,
        slurm_infra=False,
        values={},
        mpi_module=lambda name: False,
    )
    return convert_body(text, context)


def test_step_images_are_reported_one_by_one() -> None:
    """The body lists the steps' images; the converter, which knows the job's image, says
    that the first becomes image_id and that a variable's, or other steps', are lost."""
    steps = (
        "srun --container-image=nvcr.io#nvidia/pytorch:24.01-py3 python a.py\n"
        "srun --container-image=ubuntu:22.04 python b.py\n"
        'srun --container-image="${docker_image}" python c.py\n'
    )
    result = _body(steps)
    assert result.images == [
        (2, 1, "nvcr.io#nvidia/pytorch:24.01-py3"),
        (3, 1, "ubuntu:22.04"),
        (4, 1, "${docker_image}"),
    ]
    assert not [f for f in result.findings if f.kind == "container"]  # said once, by convert
    c = conv("#SBATCH -N 2\n" + steps)
    assert c.task["resources"]["image_id"] == "docker:nvcr.io/nvidia/pytorch:24.01-py3"
    first, other, variable = notes(c, "container")
    assert not first.loses_meaning and "nvcr.io#nvidia/pytorch:24.01-py3" in first.message
    assert other.loses_meaning and other.line == 4 and "ubuntu:22.04" in other.message
    assert variable.loses_meaning and variable.line == 5
    assert "through a variable" in variable.message and "image_id is not set" in variable.message


def test_body_notes_carry_the_column_of_the_command() -> None:
    c = conv("#SBATCH -N 1\nif true; then\n    singularity exec x.sif prog\nfi\n")
    (note,) = notes(c, "container")
    assert (note.line, note.column) == (4, 5)


def test_module_notes_carry_the_column_of_the_module_command() -> None:
    c = conv("#SBATCH -N 1\nif true; then\n  module load gcc/12\nfi\n")
    (note,) = notes(c, "module")
    assert (note.line, note.column) == (4, 3)
