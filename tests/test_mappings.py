"""The mappings file: the real one loads and is complete; each kind of bad file is
reported with file, line, column, the key, what is wrong and what would be valid."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML
from slurm2sky.mappings import (
    COLUMNS,
    DEFAULT_COLUMNS,
    SECTIONS,
    MappingsError,
    default_mappings_path,
    load_mappings,
    markup_error,
)
from slurm2sky.sbatch import option_table

REPO = Path(__file__).resolve().parents[1]
MAPPINGS = REPO / "mappings" / "slurm-to-skypilot.yaml"
SCHEMA = REPO / "mappings" / "slurm-to-skypilot.schema.json"
TEXT = MAPPINGS.read_text(encoding="utf-8")


def line_of(text: str, needle: str) -> int:
    """1-based line of the first line containing ``needle``."""
    for number, line in enumerate(text.splitlines(), 1):
        if (needle.endswith("\n") and line == needle[:-1]) or needle in line:
            return number
    raise AssertionError(f"{needle!r} not in text")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "slurm-to-skypilot.yaml"
    path.write_text(text, encoding="utf-8")
    (tmp_path / SCHEMA.name).write_text(SCHEMA.read_text(encoding="utf-8"), encoding="utf-8")
    return path


def problems(tmp_path: Path, text: str) -> list[str]:
    path = write(tmp_path, text)
    with pytest.raises(MappingsError) as caught:
        load_mappings(path)
    return [str(p) for p in caught.value.problems]


# -- the real file -----------------------------------------------------------


def test_real_file_loads_and_every_row_renders() -> None:
    mappings = load_mappings(MAPPINGS)
    assert mappings.skypilot == "0.14.1"
    for section in SECTIONS:
        rows = mappings.section(section)
        assert rows, section
        assert set(DEFAULT_COLUMNS[section]) <= set(COLUMNS[section])
        anchors = [row.anchor for row in rows]
        assert len(anchors) == len(set(anchors))
        for row in rows:
            assert set(row.cells()) == set(COLUMNS[section])
            assert row.title()


def test_default_path_is_the_repository_copy_in_a_checkout() -> None:
    assert default_mappings_path().read_text(encoding="utf-8") == TEXT


def test_every_sbatch_option_has_exactly_one_row() -> None:
    """Options with specific handling have a row; all others fall in one category."""
    mappings = load_mappings(MAPPINGS)
    for name in option_table():
        assert mappings.option(name) is not None, f"--{name} has no row"
    original = {
        "commands": 9,
        "features": 6,
    }
    for section, count in original.items():
        assert len(mappings.section(section)) == count


def test_rows_the_issue_requires() -> None:
    mappings = load_mappings(MAPPINGS)
    options = {row.option for row in mappings.options}
    assert {
        "mem",
        "cpus-per-task",
        "gpus-per-node",
        "time",
        "nodes",
        "gres",
        "gpus",
        "gpus-per-task",
        "mem-per-cpu",
        "ntasks-per-node",
        "job-name",
        "partition",
        "array",
        "export",
        "chdir",
        "container-image",
        "output",
        "error",
    } <= options
    variables = {name for row in mappings.environment_variables for name in row.slurm}
    assert {
        "SLURM_JOB_NODELIST",
        "SLURM_NNODES",
        "SLURM_NODEID",
        "SLURM_PROCID",
        "SLURM_GPUS_PER_NODE",
        "SLURM_JOB_ID",
        "SLURM_ARRAY_TASK_ID",
        "SLURM_JOB_NUM_NODES",
        "SLURM_NTASKS",
        "SLURM_LOCALID",
        "SLURM_JOB_NAME",
        "SLURM_SUBMIT_DIR",
    } <= variables
    # Where the original guide is loose, the file is exact.
    time = mappings.option("time")
    assert time is not None and "wall-clock" in time.note and "autostop" in time.note
    assert time.field is None  # no task field is its equivalent
    array = mappings.option("array")
    assert array is not None and "--num-jobs" in (array.skypilot or "")
    job_id = next(r for r in mappings.environment_variables if "SLURM_JOB_ID" in r.slurm)
    assert job_id.relation == "similar" and "SKYPILOT_MANAGED_JOB_ID" in job_id.skypilot
    procid = next(r for r in mappings.environment_variables if "SLURM_PROCID" in r.slurm)
    assert procid.relation == "derived"
    commands = [str(row.skypilot) for row in mappings.commands]
    assert "sky gpus list" in commands and not any("show-gpus" in c for c in commands)


# -- bad files: the ten kinds the issue names, and the project's own rules ---------


def test_yaml_syntax_error(tmp_path: Path) -> None:
    text = TEXT.replace("    slurm: squeue\n", "    slurm: [squeue\n", 1)
    (message,) = problems(tmp_path, text)
    assert message.startswith(f"{tmp_path / 'slurm-to-skypilot.yaml'}:")
    assert "valid: valid YAML" in message


def test_duplicate_key(tmp_path: Path) -> None:
    text = TEXT.replace("    slurm: squeue\n", "    slurm: squeue\n    slurm: sinfo\n", 1)
    line = line_of(TEXT, "    slurm: squeue") + 1
    (message,) = problems(tmp_path, text)
    assert f":{line}:5: duplicate key 'slurm'" in message
    assert f"first defined at line {line - 1}" in message


def test_tab_indentation(tmp_path: Path) -> None:
    text = TEXT.replace("    slurm: squeue\n", "\tslurm: squeue\n", 1)
    line = line_of(TEXT, "    slurm: squeue")
    (message,) = problems(tmp_path, text)
    assert f":{line}:" in message and "tab character" in message
    assert "spaces" in message


def test_empty_file(tmp_path: Path) -> None:
    (message,) = problems(tmp_path, "# nothing here\n")
    assert ":1:1: the file is empty" in message
    assert "format, skypilot, commands" in message


def test_unknown_section(tmp_path: Path) -> None:
    text = TEXT + "partitions:\n  - id: gpu\n"
    (message,) = problems(tmp_path, text)
    assert f":{len(TEXT.splitlines()) + 1}:1: partitions: unknown section 'partitions'" in message
    assert "valid sections: format, skypilot, commands" in message


def test_unknown_field_with_suggestion(tmp_path: Path) -> None:
    text = TEXT.replace("    slurm: squeue\n", "    slurm: squeue\n    notes: x\n", 1)
    line = line_of(TEXT, "    slurm: squeue") + 1
    (message,) = problems(tmp_path, text)
    assert f":{line}:5: commands[3].notes: unknown field 'notes'" in message
    assert "did you mean 'note'?" in message


def test_missing_required_field(tmp_path: Path) -> None:
    text = TEXT.replace("    slurm: squeue\n", "", 1)
    line = line_of(TEXT, "  - id: squeue")
    (message,) = problems(tmp_path, text)
    assert f":{line}:5: commands[3]: missing required field 'slurm'" in message


def test_wrong_type(tmp_path: Path) -> None:
    text = TEXT.replace("    slurm: [SLURM_NODEID]\n", "    slurm: SLURM_NODEID\n", 1)
    line = line_of(TEXT, "    slurm: [SLURM_NODEID]")
    (message,) = problems(tmp_path, text)
    assert f":{line}:12: environment-variables[2].slurm: expected a list, found a string" in message
    assert "e.g. [SLURM_NODEID]" in message


def test_two_rows_for_the_same_option(tmp_path: Path) -> None:
    text = TEXT.replace("options: [account, qos,", "options: [account, mem, qos,", 1)
    line = line_of(TEXT, "options: [account, qos,")
    (message,) = problems(tmp_path, text)
    assert f":{line}:" in message
    assert "a second row for --mem (also options[" in message
    assert "one row per sbatch option" in message


def test_option_two_rows_via_alias_long_name_in_options(tmp_path: Path) -> None:
    row = TEXT.index("  - id: mem-per-cpu\n")
    text = (
        TEXT[:row]
        + (
            "  - id: mem-again\n    option: mem\n    example: --mem=1G\n"
            "    on-slurm: task\n    note: again\n"
        )
        + TEXT[row:]
    )
    messages = problems(tmp_path, text)
    assert any("a second row for --mem" in m for m in messages)


def test_bad_inline_markup(tmp_path: Path) -> None:
    text = TEXT.replace("What is queued and running:", "What is *queued and running:", 1)
    line = line_of(TEXT, "What is queued and running:") - 1  # the value starts on `note:`
    (message,) = problems(tmp_path, text)
    assert f":{line}:11: commands[3].note: inline markup does not parse" in message
    assert "Inline emphasis start-string without end-string" in message
    assert "``literal``" in message


def test_unknown_sbatch_option_is_named_with_suggestion(tmp_path: Path) -> None:
    text = TEXT.replace("    option: gres\n", "    option: gress\n", 1)
    line = line_of(TEXT, "    option: gres\n")
    (message,) = problems(tmp_path, text)
    assert f":{line}:13: options[" in message
    assert "--gress is not an sbatch option" in message and "did you mean --gres?" in message


def test_wrong_short_letter(tmp_path: Path) -> None:
    text = TEXT.replace("    option: nodes\n    short: N\n", "    option: nodes\n    short: n\n", 1)
    line = line_of(TEXT, "    short: N")
    (message,) = problems(tmp_path, text)
    assert (
        f":{line}:12: options[0].short: --nodes has short option -n here, but sbatch's is -N"
        in message
    )


def test_duplicate_id(tmp_path: Path) -> None:
    text = TEXT.replace("  - id: sacct\n", "  - id: scancel\n", 1)
    (message,) = problems(tmp_path, text)
    assert "duplicate id 'scancel'" in message


def test_bad_enum_value_suggests(tmp_path: Path) -> None:
    text = TEXT.replace("    relation: same\n", "    relation: sam\n", 1)
    (message,) = problems(tmp_path, text)
    assert "'sam' is not allowed" in message and "did you mean 'same'?" in message


def test_bad_command_shape(tmp_path: Path) -> None:
    text = TEXT.replace("    slurm: squeue\n", "    slurm: {after: [a, b]}\n", 1)
    (message,) = problems(tmp_path, text)
    assert "commands[3].slurm: a mapping is not a command" in message


def test_not_a_mapping(tmp_path: Path) -> None:
    (message,) = problems(tmp_path, "- a\n- b\n")
    assert "the file holds a list" in message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(MappingsError, match="file not found"):
        load_mappings(tmp_path / "absent.yaml")


def test_several_problems_are_all_reported(tmp_path: Path) -> None:
    text = TEXT.replace("    relation: same\n", "    relation: sam\n", 1).replace(
        "    slurm: squeue\n", "    slurm: squeue\n    notes: x\n", 1
    )
    assert len(problems(tmp_path, text)) == 2


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("plain words", None),
        ("``code`` and *em* and **strong** and `a link <https://example.org>`_", None),
        ("``unclosed", "Inline literal start-string without end-string"),
        ("`title ref`", "single backquotes"),
        (":ref:`x`", "Unknown interpreted text role"),
        ("first\n\nsecond", "expected one paragraph"),
        ("- a list", "expected one paragraph"),
    ],
)
def test_markup_error(text: str, fragment: str | None) -> None:
    error = markup_error(text)
    if fragment is None:
        assert error is None
    else:
        assert error is not None and fragment in error


# -- the command line --------------------------------------------------------------


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "slurm2sky", *args], capture_output=True, text=True, check=False
    )


def test_cli_checks_the_real_file() -> None:
    result = run_cli("mappings", str(MAPPINGS))
    assert result.returncode == 0, result.stderr
    assert "valid for SkyPilot 0.14.1" in result.stdout


def test_cli_json_has_every_section() -> None:
    result = run_cli("mappings", "--json", str(MAPPINGS))
    data = json.loads(result.stdout)
    raw = YAML(typ="safe").load(TEXT)
    for section in SECTIONS:
        assert [row["id"] for row in data[section]] == [row["id"] for row in raw[section]]


def test_cli_bad_file_exits_1_without_traceback(tmp_path: Path) -> None:
    path = write(tmp_path, TEXT.replace("    relation: same\n", "    relation: sam\n", 1))
    result = run_cli("mappings", str(path))
    assert result.returncode == 1
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert f"{path}:" in result.stderr and "'sam' is not allowed" in result.stderr


def test_cli_version_and_usage() -> None:
    assert run_cli("--version").stdout.startswith("slurm2sky ")
    assert run_cli("--bogus").returncode == 2


# -- the rules added after a new user's review ----------------------------------------


def test_version_must_be_the_guides_target(tmp_path: Path) -> None:
    text = TEXT.replace('skypilot: "0.14.1"', 'skypilot: "0.15.0"', 1)
    line = line_of(TEXT, 'skypilot: "0.14.1"')
    (message,) = problems(tmp_path, text)
    assert f":{line}:11: skypilot: the rows are written for SkyPilot 0.15.0" in message
    assert "the guide targets SkyPilot 0.14.1" in message
    # a caller that targets another release says so
    path = write(tmp_path, text)
    assert load_mappings(path, skypilot="0.15.0").skypilot == "0.15.0"


def test_alias_must_name_the_same_option(tmp_path: Path) -> None:
    text = TEXT.replace("    aliases: [tasks-per-node]\n", "    aliases: [ntasks]\n", 1)
    line = line_of(TEXT, "    aliases: [tasks-per-node]")
    (message,) = problems(tmp_path, text)
    assert f":{line}:15: options[1].aliases[0]: --ntasks is another option" in message


def test_example_must_use_the_rows_option(tmp_path: Path) -> None:
    text = TEXT.replace("    example: --nodes=2\n", "    example: --ntasks=2\n", 1)
    line = line_of(TEXT, "    example: --nodes=2")
    (message,) = problems(tmp_path, text)
    assert f":{line}:14: options[0].example: the example starts with --ntasks" in message
    assert "-N or --nodes" in message


def test_short_spelling_in_example_is_fine(tmp_path: Path) -> None:
    text = TEXT.replace("    example: --nodes=2\n", "    example: -N2\n", 1)
    assert load_mappings(write(tmp_path, text)).options[0].example == "-N2"


def test_unclosed_literal_swallowing_the_next_one(tmp_path: Path) -> None:
    text = TEXT.replace(
        "What is queued and running: ``sky jobs queue``",
        "What is ``queued and running: ``sky jobs queue``",
        1,
    )
    (message,) = problems(tmp_path, text)
    assert "an inline literal holds ``" in message and "probably not closed" in message


def test_derived_variable_needs_a_derivation(tmp_path: Path) -> None:
    start = TEXT.index("  - id: slurm-localid")
    end = TEXT.index("  - id: slurm-ntasks")
    row = TEXT[start:end]
    cut = row[: row.index("    derivation:")] + row[row.index("    note:") :]
    (message,) = problems(tmp_path, TEXT.replace(row, cut, 1))
    assert "missing required field 'derivation'" in message


def test_then_with_one_command(tmp_path: Path) -> None:
    text = TEXT.replace("      then: [salloc, srun <command>]\n", "      then: [salloc]\n", 1)
    (message,) = problems(tmp_path, text)
    assert "{then: [...]} joins two or more commands, found 1" in message


def test_tagged_value_and_string_format(tmp_path: Path) -> None:
    (message,) = problems(tmp_path, TEXT.replace("format: 1\n", 'format: "1"\n', 1))
    assert "'1' (a string) is not supported — valid: 1 (a number)" in message
    text = TEXT.replace("    slurm: sinfo\n", "    slurm: !!python/name:os.system x\n", 1)
    (message,) = problems(tmp_path, text)
    assert "is not a command" in message and "Traceback" not in message


def test_not_utf8_is_located(tmp_path: Path) -> None:
    path = write(tmp_path, TEXT)
    data = path.read_bytes().replace(b"  - id: squeue", b"  - id: sq\xffueue", 1)
    path.write_bytes(data)
    line = line_of(TEXT, "  - id: squeue")
    with pytest.raises(MappingsError) as caught:
        load_mappings(path)
    assert f":{line}:11: byte 0xff is not UTF-8 text" in str(caught.value)


def test_a_directory_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(MappingsError, match="cannot be read: Is a directory"):
        load_mappings(tmp_path)


def test_unclosed_flow_sequence_names_where_it_started(tmp_path: Path) -> None:
    text = TEXT.replace("    tags: [monitoring]\n", "    tags: [monitoring\n", 1)
    line = line_of(TEXT, "    tags: [monitoring]")
    (message,) = problems(tmp_path, text)
    assert f"that starts at line {line})" in message


def test_cli_survives_a_closed_pipe() -> None:
    result = subprocess.run(
        f"{sys.executable} -m slurm2sky mappings --json | head -c 10",
        shell=True,
        capture_output=True,
        text=True,
        check=False,
    )
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr


# -- gpu-types and modules (the converter's tables) --------------------------------------


def test_gpu_types_and_modules_load() -> None:
    mappings = load_mappings(MAPPINGS)
    assert mappings.default_gpu_type() == "H100"
    assert [row.skypilot for row in mappings.gpu_types if row.default] == ["H100"]
    cuda = next(row for row in mappings.modules if row.id == "cuda-12-1")
    assert cuda.image == "nvidia/cuda:12.1.1-cudnn8-runtime-ubuntu22.04"
    assert cuda.cells()["image"] == (("literal", f"docker:{cuda.image}"),)
    dropped = next(row for row in mappings.modules if row.image is None)
    assert dropped.cells()["image"] == (("text", "—"),)


def test_a_pattern_in_two_rows(tmp_path: Path) -> None:
    text = TEXT.replace(
        '    slurm: ["h200*", "nvidia_h200*"]\n', '    slurm: ["h200*", "v100l"]\n', 1
    )
    first = line_of(TEXT, '    slurm: ["h200*", "nvidia_h200*"]')
    later = line_of(TEXT, "    slurm: [v100l,")
    (message,) = problems(tmp_path, text)
    # the copy that can never apply (the later one) is reported
    assert f":{later}:13: gpu-types[6].slurm[0]: the pattern 'v100l' is also in " in message
    assert f"gpu-types[1].slurm[1] (line {first}), which comes first and wins" in message


def test_exactly_one_default_gpu_type(tmp_path: Path) -> None:
    none = TEXT.replace("    skypilot: H100\n    default: true\n", "    skypilot: H100\n", 1)
    (message,) = problems(tmp_path, none)
    assert "gpu-types: no row is marked default" in message
    two = TEXT.replace("    skypilot: H200\n", "    skypilot: H200\n    default: true\n", 1)
    line = line_of(TEXT, "    skypilot: H200") + 1
    (message,) = problems(tmp_path, two)
    assert f":{line}:14: gpu-types[1].default: 2 rows are marked default" in message


def test_module_pattern_must_be_lower_case(tmp_path: Path) -> None:
    text = TEXT.replace('"*cuda/12.1*"', '"*CUDA/12.1*"', 1)
    (message,) = problems(tmp_path, text)
    assert "is not well formed" in message and "shell-style pattern in lower case" in message
