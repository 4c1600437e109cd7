"""The converter takes its rules from the mappings file: every ``options`` row is
implemented as the row says (its ``field``, its ``on-slurm``), every option the converter
handles one by one has a row, every other sbatch option is handled as its category says,
and the ``SLURM_*`` variables it derives are the file's rows."""

from __future__ import annotations

import shlex

import pytest
from convert_helpers import conv
from slurm2sky import convert as converter
from slurm2sky.mappings import OptionCategoryRow, load_mappings
from slurm2sky.sbatch import option_table, parse_script

MAPPINGS = load_mappings()
TABLE = option_table()

#: A value sbatch accepts, for options whose value it checks.
SAMPLE = {
    "time-min": "10",
    "ntasks-per-socket": "2",
    "ntasks-per-core": "1",
    "ntasks-per-gpu": "1",
    "threads-per-core": "1",
    "cores-per-socket": "4",
    "sockets-per-node": "2",
    "gpus-per-socket": "1",
    "nodelist": "node1",
    "exclude": "node2",
    "mail-type": "END",
    "hint": "nomultithread",
    "signal": "USR1@60",
    "open-mode": "append",
    "exclusive": "user",
    "nice": "10",
    "requeue": None,
    "propagate": None,
    "oom-kill-step": None,
    "resv-ports": None,
    "no-kill": None,
    "dependency": "afterok:1",
    "begin": "now",
    "deadline": "now+1hour",
    "distribution": "block",
    "cpu-freq": "high",
    "gpu-freq": "high",
    "mem-bind": "local",
    "gpu-bind": "closest",
    "acctg-freq": "30",
    "profile": "none",
    "delay-boot": "10",
    "switches": "1",
    "core-spec": "1",
    "thread-spec": "1",
    "wait-all-nodes": "1",
    "priority": "10",
    "uid": "1000",
    "gid": "1000",
    "bb": "x",
    "bbf": "x",
}
EXITS = {"help", "usage", "version"}


def spelled(name: str) -> str:
    argument = TABLE[name]["argument"]
    if argument == 0:
        return f"--{name}"
    value = SAMPLE.get(name, "x") if name in SAMPLE else "x"
    if argument == 2 and value is None:
        return f"--{name}"
    return f"--{name}={value}"


def disposition_of(text: str, option: str, command_line: tuple[str, ...] = (), **kw: object) -> str:
    script = parse_script("#!/bin/bash\n" + text, path="job.sh", command_line=command_line)
    conversion = converter.convert(script, **kw)  # type: ignore[arg-type]
    (index,) = [
        i for i, d in enumerate(script.directives) if d.option == option and d.component == 0
    ]
    assert set(conversion.dispositions) == set(range(len(script.directives)))
    return conversion.dispositions[index]


def test_every_options_row_is_implemented_and_every_special_option_has_a_row() -> None:
    rows = {row.option for row in MAPPINGS.options}
    assert rows == set(converter.SPECIAL_OPTIONS)
    for name in converter.SPECIAL_OPTIONS:
        assert hasattr(converter._Converter, "option_" + name.replace("-", "_")), name


@pytest.mark.parametrize("row", MAPPINGS.options, ids=lambda row: row.option)
def test_each_options_rows_example_gets_the_rows_disposition(row: object) -> None:
    #: what an example needs beside it to mean something (the row's skypilot cell says so)
    context = {"mem-per-gpu": " --gpus-per-node=8", "cpus-per-gpu": ""}
    text = f"#SBATCH {row.example}{context.get(row.option, '')}\necho\n"  # type: ignore[attr-defined]
    if row.option == "wrap":  # type: ignore[attr-defined]
        # read on sbatch's command line only (ignored on an #SBATCH line)
        assert disposition_of(text, "wrap") == "note:ignored-directive"
        text, kw = "", {"command_line": tuple(shlex.split(row.example))}  # type: ignore[attr-defined]
    else:
        kw = {}
    got = disposition_of(text, row.option, **kw)  # type: ignore[attr-defined]
    if row.field:  # type: ignore[attr-defined]
        expected = f"field:{row.field}"  # type: ignore[attr-defined]
    elif row.option == "array":  # type: ignore[attr-defined]
        expected = "field:launch"
    else:
        expected = "note:no-equivalent"
    if row.option == "partition":  # type: ignore[attr-defined]
        # a partition needs the user's map; without it a note says how to give one
        assert got == "note:partition"
        got = disposition_of(text, "partition", partition_map={"gpu": "aws"})
    assert got == expected
    on_slurm = disposition_of(text, row.option, infra="slurm/c", **kw)  # type: ignore[attr-defined]
    if row.on_slurm == "sbatch-options":  # type: ignore[attr-defined]
        assert on_slurm == f"sbatch-options:{row.option}"  # type: ignore[attr-defined]
    elif row.on_slurm == "note":  # type: ignore[attr-defined]
        assert on_slurm.startswith("note:")
    else:
        assert on_slurm == expected


CATEGORY_OPTIONS = sorted(
    (name, row) for row in MAPPINGS.option_categories for name in row.options if name not in EXITS
)


@pytest.mark.parametrize(("name", "category"), CATEGORY_OPTIONS, ids=lambda v: getattr(v, "id", v))
def test_every_other_option_is_handled_as_its_category_says(
    name: str, category: OptionCategoryRow
) -> None:
    text = f"#SBATCH {spelled(name)}\necho\n"
    assert disposition_of(text, name) == "note:no-equivalent"
    on_slurm = disposition_of(text, name, infra="slurm/c/p")
    if category.on_slurm == "sbatch-options":
        assert on_slurm == f"sbatch-options:{name}"
        assert name not in converter.SKYPILOT_PROTECTED_SBATCH_OPTIONS
    else:
        assert on_slurm == "note:no-equivalent"
    assert category.id in converter.CATEGORY_LOSES_MEANING


def test_options_that_make_sbatch_exit_are_refused() -> None:
    for name in EXITS:
        assert disposition_of(f"#SBATCH --{name}\necho\n", name) == "note:sbatch-rejects"


def test_every_sbatch_option_is_handled() -> None:
    aliases = {alias for row in MAPPINGS.options for alias in row.aliases}
    handled = set(converter.SPECIAL_OPTIONS) | aliases | {n for n, _ in CATEGORY_OPTIONS} | EXITS
    assert handled == set(TABLE)


def test_derived_variables_are_the_mappings_rows() -> None:
    rows = {row.id: row for row in MAPPINGS.environment_variables}
    assert set(rows) >= converter.DERIVED_VARIABLE_ROWS
    for row_id, row in rows.items():
        if row.relation != "none":
            assert row_id in converter.DERIVED_VARIABLE_ROWS, row_id
    c = conv("#SBATCH -N 2\necho $SLURM_PROCID\n")
    assert "export SLURM_PROCID=$SKYPILOT_NODE_RANK" in c.task["run"]


def test_note_kinds_are_documented() -> None:
    kinds = set()
    for text in (
        "#SBATCH -N 2 --time=1 -p x --array=1-3%1 --gres=gpu:2,nvme:1\n"
        "module load cuda/12.1 foo\nconda activate x\nsrun --label python a.py\n"
        "sbatch next.sh\necho $SLURM_TMPDIR /scratch/me\n",
    ):
        kinds |= {note.kind for note in conv(text).notes}
    assert kinds <= set(converter.NOTE_KINDS)
