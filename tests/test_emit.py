"""The YAML text and the data of a conversion: comments beside what they concern, the
launch command last, and the text loads back (YAML 1.1, as SkyPilot's PyYAML reads it)
as exactly the task, which SkyPilot's rules accept."""

from __future__ import annotations

import json
import re
import shlex

from convert_helpers import conv
from hypothesis import example, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from slurm2sky.convert import Conversion, Note
from slurm2sky.emit import as_data, emit_yaml, format_note, launch_commands
from slurm2sky.validate import validate_text
from slurm2sky.validate.commands import check_sky_command
from slurm2sky.validate.yaml11 import load_documents

GUIDE = """\
#!/bin/bash
#SBATCH --job-name=train
#SBATCH --nodes=2
#SBATCH --gpus-per-node=8
#SBATCH --cpus-per-task=32
#SBATCH --mem=256G
#SBATCH --partition=gpu
#SBATCH --time=24:00:00

module load cuda/12.1
source ~/venv/bin/activate

srun python train.py --epochs 100
"""


def load(text: str) -> object:
    documents, duplicates = load_documents(text)
    assert not duplicates
    (document,) = documents
    return document.data


def test_the_text_loads_back_as_the_task_and_is_valid() -> None:
    c = conv(GUIDE)
    text = emit_yaml(c)
    assert load(text) == c.task
    assert YAML(typ="safe", pure=True).load(text) == c.task
    verdict = validate_text(text, "task")
    assert verdict.valid, verdict.issues


def test_notes_are_comments_above_what_they_concern() -> None:
    c = conv(GUIDE)
    lines = emit_yaml(c).splitlines()
    accelerators = next(i for i, line in enumerate(lines) if line.startswith("  accelerators:"))
    above = []
    for line in reversed(lines[:accelerators]):
        if not line.lstrip().startswith("#"):
            break
        above.append(line)
    assert any("[default-gpu]" in line for line in above)
    assert all(line.startswith("  #") for line in above)  # indented like the key
    image = next(i for i, line in enumerate(lines) if line.startswith("  image_id:"))
    assert "[module]" in " ".join(lines[image - 3 : image])
    run = next(i for i, line in enumerate(lines) if line.startswith("run:"))
    assert "--time=24:00:00" in " ".join(lines[:run])
    assert any(
        re.match(r"# NOTE line 8(:\d+)? \(--time=24:00:00\) \[no-equivalent\]", line)
        for line in lines
    )


def test_the_launch_command_comes_last() -> None:
    c = conv("#SBATCH --array=1-4\necho $SLURM_ARRAY_TASK_ID\n")
    text = emit_yaml(c)
    assert text.endswith("# Launch with:\n#   sky jobs launch --num-jobs 4 task.yaml\n")
    for command in c.launch:
        assert check_sky_command(shlex.split(command)) == [], command


def test_launch_commands_are_valid_sky_commands() -> None:
    for text in ("echo\n", "#SBATCH --export=A,B=1\necho\n", "#SBATCH -a 0-15:4%2\necho\n"):
        for command in conv(text).launch:
            issues = check_sky_command(shlex.split(command))
            assert issues == [], (command, issues)


def test_format_note() -> None:
    note = Note(5, "--time=1:00:00", "no-equivalent", "why. what.", True, "run")
    assert format_note(note) == "WARNING line 5 (--time=1:00:00) [no-equivalent]: why. what."
    assert format_note(Note(0, "", "variables", "x.", False)) == "NOTE script [variables]: x."


def _with_column(note: Note, column: int) -> Note:
    # Note(..., column=) where Note has the field; the same attribute where it has not
    note.__dict__["column"] = column
    return note


def test_format_note_shows_a_column() -> None:
    note = _with_column(Note(8, "-N abc", "sbatch-rejects", "bad.", True), 12)
    assert format_note(note) == "WARNING line 8:12 (-N abc) [sbatch-rejects]: bad."
    assert format_note(_with_column(Note(8, "", "x", "y.", False), 0)) == "NOTE line 8 [x]: y."
    # a note about the whole script has no column to show
    assert format_note(_with_column(Note(0, "", "x", "y.", False), 3)) == "NOTE script [x]: y."
    c = Conversion({"run": "echo\n"}, (note,), ("sky jobs launch task.yaml",), {})
    assert "# WARNING line 8:12 (-N abc) [sbatch-rejects]: bad." in emit_yaml(c)
    (data,) = as_data(c)["notes"]
    assert data["line"] == 8 and data["column"] == 12
    assert all(n["column"] >= 0 for n in as_data(conv(GUIDE))["notes"])  # every note has one


def test_the_launch_command_names_the_file_written() -> None:
    c = conv("#SBATCH --array=1-4\necho $SLURM_ARRAY_TASK_ID\n")
    assert emit_yaml(c, "arr.yaml").endswith("#   sky jobs launch --num-jobs 4 arr.yaml\n")
    assert emit_yaml(c) == emit_yaml(c, "task.yaml")
    assert as_data(c, "out/arr.json")["launch"] == ["sky jobs launch --num-jobs 4 out/arr.json"]
    assert as_data(c)["launch"] == list(c.launch)
    # quoted for the shell; a name starting with "-" is not read as an option
    assert launch_commands(c, "my jobs/a b.yaml") == (
        "sky jobs launch --num-jobs 4 'my jobs/a b.yaml'",
    )
    assert launch_commands(c, "-x.yaml") == ("sky jobs launch --num-jobs 4 ./-x.yaml",)
    for name in ("my jobs/a b.yaml", "-x.yaml", "out/it's.yaml"):
        for command in launch_commands(c, name):
            words = shlex.split(command)
            assert words[-1].endswith(name)
            assert check_sky_command(words) == [], command


def test_as_data_is_json_able_and_the_same() -> None:
    c = conv(GUIDE)
    data = as_data(c)
    assert json.loads(json.dumps(data)) == data
    assert data["task"] == c.task
    assert data["launch"] == list(c.launch)
    assert [n["kind"] for n in data["notes"]] == [n.kind for n in c.notes]
    assert data["dispositions"] == {str(k): v for k, v in c.dispositions.items()}
    assert data["loses_meaning"] is True


def test_scalars_yaml_would_misread_are_quoted() -> None:
    task = {
        "name": "yes",
        "envs": {
            "A": "1:30",
            "B": "0x10",
            "C": "null",
            "D": "~",
            "E": "2026-01-01",
            "F": "",
            "G": "on",
            "H": "# x",
            "I": "a: b",
            "J": "-x",
            "K": "%x",
            "L": "@x",
            "M": None,
        },
        "resources": {"cpus": "4+", "accelerators": "H100:8"},
        "config": {"slurm": {"sbatch_options": {"time": "24:00:00", "exclusive": True}}},
        "run": "echo hi\n",
    }
    c = Conversion(task, (), ("sky jobs launch task.yaml",), {})
    assert load(emit_yaml(c)) == task


STRINGS = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)


@settings(max_examples=300, deadline=None)
@example(name="", env={"ON": "\x1f"}, run="", note="")  # a YAML 1.1 boolean key, by ruamel
@given(
    name=STRINGS,
    env=st.dictionaries(
        st.from_regex(r"[A-Z_][A-Z0-9_]{0,8}", fullmatch=True), STRINGS, max_size=4
    ),
    run=st.text(max_size=200),
    note=STRINGS,
)
def test_any_strings_load_back(name: str, env: dict[str, str], run: str, note: str) -> None:
    task = {"name": name, "envs": env, "run": run, "workdir": "."}
    notes = (Note(3, note, "approximation", note, False, "run"), Note(0, "", "x", note, True))
    c = Conversion(task, notes, ("sky jobs launch task.yaml",), {})
    assert load(emit_yaml(c)) == task


def test_a_huge_run_is_a_json_string_and_loads_back() -> None:
    run = "".join(f"python step.py --index {i}  # 'quoted' \\ back\n" for i in range(3000))
    task = {"run": run, "workdir": "."}
    text = emit_yaml(Conversion(task, (), ("sky jobs launch task.yaml",), {}))
    assert text.splitlines()[1].startswith('run: "python step.py')
    assert load(text) == task
