"""The header scan, the tokeniser, getopt_long and the checks of slurm2sky.sbatch."""

from __future__ import annotations

import pytest
from slurm2sky.sbatch import BatchScript, parse_script, parse_srun
from slurm2sky.sbatch.getopt import sbatch_table
from slurm2sky.sbatch.tokenize import split_words


def script(*lines: str) -> str:
    return "#!/bin/bash\n" + "\n".join(lines) + "\n"


def parse(*lines: str, **kwargs) -> BatchScript:
    return parse_script(script(*lines), path="job.sh", **kwargs)


def kinds(problems) -> list[str]:
    return [p.kind for p in problems]


def words(line: str) -> list[str]:
    return [w.text for w in split_words(line).words]


# ---------------------------------------------------------------------------
# Header scan


def test_the_spec_example() -> None:
    result = parse_script(
        "#!/bin/bash -l\n"
        "# request resources\n"
        "#SBATCH -N 2 --ntasks-per-node=4   # trailing comment is fine\n"
        "\n"
        "##SBATCH --mem=1G\n"
        "   #SBATCH --mem=2G\n"
        "#SBATCH --time 1-00:00:00\n"
        "module load gcc\n"
        "#SBATCH --mem=4G\n"
    )
    assert [(d.option, d.value, d.line) for d in result.directives] == [
        ("nodes", "2", 3),
        ("ntasks-per-node", "4", 3),
        ("time", "1-00:00:00", 7),
    ]
    assert result.body_line == 8
    assert result.body.startswith("module load gcc\n")
    assert result.shebang == "/bin/bash -l"
    assert not result.rejected
    assert [(p.line, p.kind) for p in result.foreign] == [
        (5, "ignored-directive"),  # ##SBATCH: disabled
        (6, "ignored-directive"),  # indented
        (9, "ignored-directive"),  # after the first command
    ]


def test_prefix_test_without_a_space() -> None:
    result = parse("#SBATCH--mem=1G")
    assert result.options["mem"].value == "1G"
    assert result.options["mem"].column == 8


def test_sbatchx_is_a_directive_with_a_stray_word() -> None:
    result = parse("#SBATCHx")
    assert kinds(result.problems) == ["stray-word"]


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("# SBATCH -N 2", "'# SBATCH' has a blank after the #"),
        ("##SBATCH -N 2", "'##SBATCH' has more than one #"),
        ("## SBATCH -N 2", "'## SBATCH' has more than one #"),
        ("#SBTACH -N 2", "'#SBTACH' is not #SBATCH (a typo?)"),
        ("#SBACH -N 2", "'#SBACH' is not #SBATCH (a typo?)"),
        ("#SBATHC -N 2", "'#SBATHC' is not #SBATCH (a typo?)"),
        ("#S BATCH -N 2", None),  # not an #SBATCH look-alike
    ],
)
def test_disabled_directives_are_comments_reported_with_what_to_write(
    line: str, why: str | None
) -> None:
    result = parse(line, "#SBATCH -n 1")
    assert list(result.options) == ["ntasks"]
    if why is None:
        assert result.foreign == ()
        return
    (problem,) = result.foreign
    assert (problem.kind, problem.line, problem.column) == ("ignored-directive", 2, 1)
    assert why in problem.message and "comment" in problem.message
    assert problem.hint == "#SBATCH -N 2 at the very start of the line, if it should apply"


@pytest.mark.parametrize(
    "line",
    [
        "# SBATCH options are listed below",
        "# sbatch --array=1-10 job.sh",  # a usage line
        "# Batch - the whole thing",
        "# Search --everything",
        "## SBATCH",
        "# see the SBATCH -N docs",
        "# SLURM -N 2",
    ],
)
def test_comments_that_mention_sbatch_are_not_reported(line: str) -> None:
    result = parse(line)
    assert result.foreign == ()


def test_a_trailing_backslash_is_said_as_such() -> None:
    result = parse("#SBATCH -N 2 \\", "#SBATCH -n 2 \\ --time=5", '#SBATCH -J "" --qos=x')
    messages = [(p.line, p.kind, p.message, p.hint) for p in result.foreign]
    (line2, line3, line4) = messages
    assert line2[:2] == (2, "line-cut") and "trailing backslash" in line2[2]
    assert "no continuation" in line2[2] and "quotes" not in line2[3]
    assert "remove the backslash" in line2[3]
    assert line3[:2] == (3, "line-cut") and "'--time=5' is ignored" in line3[2]
    assert line3[3] == "remove the backslash"
    assert line4[:2] == (4, "line-cut") and "'--qos=x' is ignored" in line4[2]
    assert line4[3] == "remove the empty quotes"


def test_a_word_glued_to_sbatch_gets_advice_about_the_line() -> None:
    result = parse("#SBATCH -c 4", "#SBATCHx")
    (problem,) = result.problems
    assert problem.kind == "stray-word" and problem.line == 3
    assert "#SBATCHx" in problem.hint and "# SBATCHx" in problem.hint
    assert '"4 x"' not in problem.hint
    # a stray word on the value's own line is still a value with spaces
    (problem,) = parse("#SBATCH --job-name=Big simulation").problems
    assert '--job-name="Big simulation"' in problem.hint
    # ... but not a word on a later line
    (problem,) = parse("#SBATCH -c 4", "#SBATCH simulation").problems
    assert '"4 simulation"' not in problem.hint


@pytest.mark.parametrize("line", ["#sbatch -N 2", "#sbAtch -N 2", "#Sbatch -N 2"])
def test_lower_case_directive_is_reported(line: str) -> None:
    result = parse(line)
    assert result.directives == ()
    assert kinds(result.foreign) == ["ignored-directive"]


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("#SBATCH --mem=" + "1" * 5000, "bad-value"),  # strtoll overflows: invalid
        ("#SBATCH -N " + "9" * 30, "bad-value"),  # _str_to_nodes casts to a C int
        ("#SBATCH -c " + "9" * 5000, "bad-value"),
        ("#SBATCH --time=" + "7" * 5000, None),
    ],
)
def test_numbers_of_any_length_are_read_without_raising(line: str, kind: str | None) -> None:
    result = parse(line)
    assert [problem.kind for problem in result.problems] == ([kind] if kind else [])


def test_slurm_alias() -> None:
    result = parse("#SLURM -N 2", "#SLURM -n 4")
    assert [d.source for d in result.directives] == ["slurm-alias", "slurm-alias"]
    assert kinds(result.foreign) == ["slurm-alias"]  # warned once, as sbatch does
    assert not result.rejected


def test_body_when_there_is_no_command() -> None:
    result = parse_script("#!/bin/sh\n#SBATCH -N 1\n")
    assert result.body == ""
    assert result.body_line == 3


def test_hetjob_components() -> None:
    result = parse("#SBATCH -N 1 --mem=4G", "#SBATCH hetjob", "#SBATCH -N 2 --gres=gpu:1")
    assert [(d.option, d.component) for d in result.directives] == [
        ("nodes", 0),
        ("mem", 0),
        ("nodes", 1),
        ("gres", 1),
    ]
    assert result.options["nodes"].value == "1"
    assert result.components[1]["nodes"].value == "2"
    assert kinds(result.foreign) == ["hetjob"]
    assert not result.rejected


def test_hetjob_anywhere_on_the_line_splits_the_job() -> None:
    result = parse("#SBATCH -N 1", "#SBATCH --job-name=packjob_test -n 2")
    # sbatch blanks the word out before splitting: "--job-name=       _test"
    assert result.components[1]["job-name"].value == ""
    assert [p.message for p in result.problems] == [
        "Invalid directive found in batch script: _test"
    ]
    assert "anywhere" in result.foreign[0].message


def test_pbs_and_bsub_lines_are_reported() -> None:
    result = parse("#PBS -l walltime=1:00:00", "#SBATCH -N 1")
    assert kinds(result.foreign) == ["pbs"]
    result = parse("#PBS -N x", "#BSUB -n 4")
    assert sorted(kinds(result.foreign)) == ["bsub", "pbs"]
    assert "ignored by sbatch" in next(p for p in result.foreign if p.kind == "pbs").message


# ---------------------------------------------------------------------------
# Whole-script checks


def test_empty_and_whitespace_scripts() -> None:
    assert kinds(parse_script("").problems) == ["empty"]
    assert kinds(parse_script(" \n\t\n").problems) == ["empty"]


def test_byte_order_mark() -> None:
    result = parse_script("\ufeff#!/bin/bash\n#SBATCH -N 1\n")
    assert kinds(result.problems) == ["no-shebang"]
    assert "byte-order mark" in result.problems[0].message
    # to sbatch the first line is then a command: the header ends before it starts
    assert result.directives == () and result.body_line == 1


def test_nul_byte() -> None:
    result = parse_script("#!/bin/bash\necho a\x00b\n")
    assert kinds(result.problems) == ["nul"]
    assert result.problems[0].line == 2


# ---------------------------------------------------------------------------
# Tokeniser


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("-J 'a b' -N 2", ["-J", "a b", "-N", "2"]),
        ('--job-name="my job"', ["--job-name=my job"]),
        ("--comment='{\"a\": 1}'", ['--comment={"a": 1}']),
        ('-J "a#b" # c', ["-J", "a#b"]),
        (r"-J a\#b", ["-J", "a#b"]),
        (r'-J "a\"b"', ["-J", 'a"b']),
        (r"-J 'it\'s'", ["-J", "it's"]),
        ("-J run#2 -N 4", ["-J", "run"]),
        ("-N 2\\", ["-N", "2"]),
        (r"-J a\ b", ["-J", "a", "b"]),  # outside quotes, '\ ' ends the word
        ('-J "" -N 2', ["-J"]),  # an empty word ends the line
        ("\t-N\v2\f", ["-N", "2"]),
        ("-J\u00a0x", ["-J\u00a0x"]),  # not C whitespace
    ],
)
def test_tokeniser(line: str, expected: list[str]) -> None:
    assert words(line) == expected


def test_unmatched_quote() -> None:
    result = parse('#SBATCH --job-name="my job')
    assert kinds(result.problems) == ["unmatched-quote"]
    assert result.problems[0].column == 20
    assert result.options["job-name"].value == "my job"


def test_colon_word() -> None:
    result = parse("#SBATCH -N 1 :")
    assert kinds(result.problems) == ["colon"]


def test_option_and_value_on_different_lines() -> None:
    result = parse("#SBATCH -J", "#SBATCH name")
    directive = result.options["job-name"]
    assert directive.value == "name"
    assert (directive.line, directive.value_line, directive.value_column) == (2, 3, 9)
    assert directive.spelled == "-J name"


def test_empty_word_cuts_the_line() -> None:
    result = parse('#SBATCH --comment "" --mem=4G', "#SBATCH -N 1")
    assert result.options["comment"].value == "-N"
    assert "mem" not in result.options
    assert kinds(result.foreign) == ["line-cut"]


# ---------------------------------------------------------------------------
# getopt_long


def test_short_options_attached_separate_and_clustered() -> None:
    result = parse("#SBATCH -N2 -n 8 -Ot10 -vvH")
    assert [(d.option, d.value) for d in result.directives] == [
        ("nodes", "2"),
        ("ntasks", "8"),
        ("overcommit", None),
        ("time", "10"),
        ("verbose", None),
        ("verbose", None),
        ("hold", None),
    ]
    time = result.options["time"]
    assert (time.spelled, time.column, time.value_column, time.tokens) == ("-t10", 20, 21, ())


def test_short_option_equals_sign_is_part_of_the_value() -> None:
    result = parse("#SBATCH -n=4")
    assert result.options["ntasks"].value == "=4"
    assert kinds(result.problems) == ["bad-value"]


def test_optional_arguments_only_with_equals() -> None:
    result = parse("#SBATCH -koff --no-kill --exclusive=user --nice")
    assert [(d.option, d.value) for d in result.directives] == [
        ("no-kill", "off"),
        ("no-kill", None),
        ("exclusive", "user"),
        ("nice", None),
    ]
    assert not parse("#SBATCH --requeue").rejected


def test_required_argument_takes_the_next_word_whatever_it_is() -> None:
    result = parse("#SBATCH --job-name --nodes=2")
    assert result.options["job-name"].value == "--nodes=2"
    assert "nodes" not in result.options


def test_flag_refuses_a_value() -> None:
    result = parse("#SBATCH --get-user-env=10L")
    assert kinds(result.problems) == ["unexpected-argument"]


def test_missing_argument() -> None:
    result = parse("#SBATCH --time")
    assert kinds(result.problems) == ["missing-argument"]


def test_alias_pair_is_not_ambiguous() -> None:
    table = sbatch_table()
    assert table.lookup("ntasks-per-n").canonical == "ntasks-per-node"  # type: ignore[union-attr]
    assert table.lookup("tasks-per").canonical == "ntasks-per-node"  # type: ignore[union-attr]
    assert isinstance(table.lookup("cluste"), tuple)  # cluster/clusters differ (two ids)


def test_unknown_site_option() -> None:
    result = parse("#SBATCH --fpgalink=x", "#SBATCH --image docker:x/y -N 1")
    assert kinds(result.problems) == ["unknown-option", "unknown-option"]
    assert kinds(result.foreign) == ["site-option", "site-option"]
    image = result.directives[1]
    assert image.option is None and image.value == "docker:x/y"
    assert result.options["nodes"].value == "1"


def test_removed_options_name_what_replaced_them() -> None:
    """The spec's §12: --workdir and --share were removed in Slurm 19.05."""
    result = parse("#SBATCH --workdir=/x --share")
    hints = [p.hint for p in result.problems]
    assert hints == [
        "-D/--chdir (--workdir was removed in Slurm 19.05)",
        "-s/--oversubscribe (--share was removed in Slurm 19.05)",
    ]


def test_srun_only_option() -> None:
    result = parse("#SBATCH --mpi=pmix --cpu-bind=cores")
    assert kinds(result.problems) == ["srun-option", "srun-option"]
    assert result.foreign == ()


def test_underscore_spelling_suggests_the_dashed_name() -> None:
    result = parse("#SBATCH --mem_bind=local")
    assert "--mem-bind" in result.problems[0].hint


def test_pyxis_options_need_pyxis() -> None:
    line = r"#SBATCH --container-image=nvcr.io\#nvidia/pytorch:24.01-py3"
    assert not parse(line).rejected
    without = parse(line, pyxis=False)
    assert kinds(without.problems) == ["unknown-option"]
    assert kinds(without.foreign) == ["site-option"]


def test_typographic_dash() -> None:
    result = parse("#SBATCH \u2013-time=10")
    assert kinds(result.problems) == ["stray-word"]
    assert "typographic dash" in result.problems[0].hint


def test_help_exits() -> None:
    assert kinds(parse("#SBATCH --help").problems) == ["exits"]


def test_double_dash() -> None:
    result = parse("#SBATCH -N 1 --", "#SBATCH -n 2")
    assert kinds(result.foreign) == ["end-of-options"]
    # sbatch stops at "-n"; reading on, "2" is a stray word too
    assert [p.message for p in result.problems] == [
        "Invalid directive found in batch script: -n",
        "Invalid directive found in batch script: 2",
    ]


def test_paired_flags_replace_each_other() -> None:
    result = parse("#SBATCH --requeue", "#SBATCH --no-requeue")
    assert "requeue" not in result.options and "no-requeue" in result.options


# ---------------------------------------------------------------------------
# Combinations sbatch refuses


@pytest.mark.parametrize(
    "lines",
    [
        ("#SBATCH --mem=4G --mem-per-cpu=1G",),
        ("#SBATCH --mem-per-gpu=4G --mem-per-cpu=1G",),
        ("#SBATCH --gres=gpu:2 --gpus-per-node=2",),
        ("#SBATCH --exclusive --oversubscribe",),
        ("#SBATCH -c 4 --cpus-per-gpu=8",),
        ("#SBATCH --ntasks-per-gpu=2 --gpus-per-task=1",),
        ("#SBATCH --ntasks-per-gpu=2 --ntasks-per-node=1",),
        ("#SBATCH --ntasks-per-gpu=2 -N 2-4",),
    ],
)
def test_conflicts(lines: tuple[str, ...]) -> None:
    assert kinds(parse(*lines).problems) == ["conflict"]


def test_no_conflict_for_non_gpu_gres() -> None:
    assert not parse("#SBATCH --gres=nvme:1 --gpus-per-node=2").rejected


# ---------------------------------------------------------------------------
# Bad values are located at the value


@pytest.mark.parametrize(
    ("line", "column"),
    [
        ("#SBATCH --time=1h", 16),
        ("#SBATCH -t 1h", 12),
        ("#SBATCH -t1h", 11),
        ('#SBATCH --nodes="NODES"', 18),
        ("#SBATCH --array=SRR1,SRR2", 17),
        ("#SBATCH --ntasks=$N", 18),
        ("#SBATCH --gres=gpu:$NGPU", 16),
        ("#SBATCH --mail-type=sometimes", 21),
        ("#SBATCH --signal=FOO@60", 18),
        ("#SBATCH --exclusive=all", 21),
        ("#SBATCH --nodelist=node[1-3", 20),
    ],
)
def test_bad_values(line: str, column: int) -> None:
    result = parse(line)
    (problem,) = result.problems
    assert problem.kind == "bad-value"  # type: ignore[attr-defined]
    assert (problem.line, problem.column) == (2, column)
    assert problem.hint
    assert len(result.directives) == 1  # the directive is kept


def test_nodelist_file_is_not_a_hostlist() -> None:
    assert not parse("#SBATCH --nodelist=./hosts.txt").rejected


# ---------------------------------------------------------------------------
# srun lines


def test_parse_srun() -> None:
    call = parse_srun(
        ["--ntasks-per-node=8", "-N", "2", "--mpi=pmix", "python", "train.py", "-N", "3"]
    )
    assert dict(call.options) == {"ntasks-per-node": "8", "nodes": "2", "mpi": "pmix"}
    assert call.command == ("python", "train.py", "-N", "3")
    assert call.problems == ()


def test_parse_srun_with_pyxis_and_problems() -> None:
    call = parse_srun(["--container-image=nvcr.io#nvidia/pytorch:24.01-py3", "--bogus", "x"])
    assert call.options["container-image"] == "nvcr.io#nvidia/pytorch:24.01-py3"
    assert call.problems == (
        "unrecognized option '--bogus'; it is taken as a flag, and the next word starts "
        "the command",
    )
    assert call.command == ("x",)
    call = parse_srun(["-l", "--", "hostname"])
    assert dict(call.options) == {"label": None}
    assert call.command == ("hostname",)


def test_srun_unknown_option_does_not_swallow_the_command() -> None:
    """A word after an option srun does not know starts the command (found by a review:
    ``srun --foo python e.py`` lost ``python``)."""
    from slurm2sky.sbatch import parse_srun

    call = parse_srun(["--foo", "python", "e.py"])
    assert call.command == ("python", "e.py")
    assert "unrecognized option '--foo'" in call.problems[0]
    call = parse_srun(["--unknownopt", "-N", "2", "python", "e.py"])
    assert dict(call.options) == {"nodes": "2"} and call.command == ("python", "e.py")
    call = parse_srun(["--foo=3", "python"])
    assert call.command == ("python",)
