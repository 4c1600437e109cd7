"""The test vectors of ``reference/sbatch-spec.md`` §11 and the examples of issue 4."""

from __future__ import annotations

import pytest
from slurm2sky.sbatch import BatchScript, parse_script
from slurm2sky.sbatch.values import parse_array, parse_gres, parse_memory, parse_time


def script(*lines: str) -> str:
    return "#!/bin/bash\n" + "\n".join(lines) + "\n"


def parse(*lines: str, **kwargs) -> BatchScript:
    return parse_script(script(*lines), path="job.sh", **kwargs)


def kinds(result: BatchScript) -> list[str]:
    return [p.kind for p in result.problems]  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------
# §11, row by row


def test_time_minutes_seconds_rounds_up() -> None:
    result = parse("#SBATCH --time=1:30")
    assert result.options["time"].value == "1:30"
    assert parse_time(result.options["time"].value) == 2
    assert not result.rejected


def test_time_days_hours() -> None:
    result = parse("#SBATCH -t 2-12")
    assert parse_time(result.options["time"].value) == 60 * 60


def test_decimal_memory_is_rejected() -> None:
    result = parse("#SBATCH --mem=1.5G")
    assert result.rejected
    (problem,) = result.problems
    assert problem.kind == "bad-value"  # type: ignore[attr-defined]
    assert (problem.line, problem.column) == (2, 15)  # the value, not the option
    assert "Invalid --mem specification" in problem.message
    assert "1536M" in problem.message + problem.hint
    assert result.options["mem"].value == "1.5G"  # kept for the converter


def test_memory_with_lower_case_gb() -> None:
    result = parse("#SBATCH --mem=16gb")
    assert parse_memory(result.options["mem"].value) == 16384
    assert not result.rejected


def test_tasks_is_ntasks_per_node() -> None:
    result = parse("#SBATCH --tasks=4")
    assert result.options["ntasks-per-node"].value == "4"
    assert result.options["ntasks-per-node"].spelled == "--tasks=4"
    assert "ntasks" not in result.options


def test_cores_is_cores_per_socket() -> None:
    result = parse("#SBATCH --cores=8")
    assert result.options["cores-per-socket"].value == "8"


def test_out_is_output() -> None:
    result = parse("#SBATCH --out=log.%j")
    assert result.options["output"].value == "log.%j"


def test_mem_p_is_ambiguous() -> None:
    result = parse("#SBATCH --mem-p=2G")
    assert kinds(result) == ["ambiguous-option"]
    (problem,) = result.problems
    assert (problem.line, problem.column) == (2, 9)
    assert "--mem-per-cpu" in problem.message and "--mem-per-gpu" in problem.message
    (directive,) = result.directives
    assert directive.option is None and directive.spelled == "--mem-p=2G"


def test_exclusive_user_is_a_stray_word() -> None:
    result = parse("#SBATCH --exclusive user")
    assert kinds(result) == ["stray-word"]
    (problem,) = result.problems
    assert problem.message == "Invalid directive found in batch script: user"
    assert (problem.line, problem.column) == (2, 21)
    assert "--exclusive=user" in problem.hint
    assert result.options["exclusive"].value is None


def test_unquoted_job_name_with_a_space() -> None:
    result = parse("#SBATCH --job-name=my job")
    assert [p.message for p in result.problems] == ["Invalid directive found in batch script: job"]
    assert result.options["job-name"].value == "my"


def test_quoted_job_name() -> None:
    result = parse('#SBATCH --job-name="my job"')
    assert result.options["job-name"].value == "my job"
    assert result.options["job-name"].spelled == '--job-name="my job"'
    assert not result.rejected


def test_hash_ends_the_value() -> None:
    result = parse("#SBATCH -J run#2")
    assert result.options["job-name"].value == "run"
    assert not result.rejected


def test_escaped_hash_in_a_pyxis_image() -> None:
    result = parse(r"#SBATCH --container-image nvcr.io\#nvidia/pytorch:24.01-py3")
    assert result.options["container-image"].value == "nvcr.io#nvidia/pytorch:24.01-py3"
    assert not result.rejected


def test_no_shell_expansion() -> None:
    result = parse("#SBATCH --output=$HOME/x_%j.out")
    assert result.options["output"].value == "$HOME/x_%j.out"


def test_last_occurrence_wins() -> None:
    result = parse("#SBATCH -N 2", "#SBATCH -N 4")
    assert result.options["nodes"].value == "4"
    assert [d.value for d in result.directives] == ["2", "4"]  # the overridden one too


def test_mail_type_does_not_accumulate() -> None:
    result = parse("#SBATCH --mail-type=BEGIN", "#SBATCH --mail-type=END")
    assert result.options["mail-type"].value == "END"


def test_indented_directive_is_ignored() -> None:
    result = parse("  #SBATCH -N 2")
    assert result.directives == ()
    assert [p.kind for p in result.foreign] == ["ignored-directive"]  # type: ignore[attr-defined]


def test_directive_after_a_command_is_ignored() -> None:
    result = parse("echo hi", "#SBATCH -N 2")
    assert result.directives == ()
    assert result.body == "echo hi\n#SBATCH -N 2\n"
    assert result.body_line == 2
    assert [(p.line, p.kind) for p in result.foreign] == [(3, "ignored-directive")]  # type: ignore[attr-defined]


def test_array_with_step_and_throttle() -> None:
    result = parse("#SBATCH --array=0-15:4%2")
    spec = parse_array(result.options["array"].value)
    assert spec.indices == (0, 4, 8, 12)
    assert spec.throttle == 2
    assert spec.step == 4


def test_gres_type_without_count() -> None:
    result = parse("#SBATCH --gres=gpu:a100")
    (gres,) = parse_gres(result.options["gres"].value)
    assert (gres.name, gres.type, gres.count) == ("gpu", "a100", 1)


def test_node_range() -> None:
    from slurm2sky.sbatch.values import parse_node_range

    result = parse("#SBATCH --nodes=2-4")
    assert parse_node_range(result.options["nodes"].value) == (2, 4)


def test_time_zero_is_unlimited() -> None:
    result = parse("#SBATCH --time=0")
    assert parse_time(result.options["time"].value) is None
    assert not result.rejected


def test_blank_first_line_rejects_the_script() -> None:
    result = parse_script("\n#!/bin/bash\n#SBATCH -N 2\n")
    assert kinds(result) == ["no-shebang"]
    assert result.shebang is None
    assert result.options["nodes"].value == "2"  # still read as far as possible
    assert "#! is on line 2" in result.problems[0].message


def test_crlf_rejects_the_script() -> None:
    result = parse_script("#!/bin/bash\r\n#SBATCH -N 2\r\necho hi\r\n")
    assert kinds(result) == ["crlf"]
    assert "DOS line breaks" in result.problems[0].message
    assert result.options["nodes"].value == "2"  # no stray '\r'
    assert result.body == "echo hi\n"
    assert result.shebang == "/bin/bash"


# ---------------------------------------------------------------------------
# The issue's examples


def test_issue_examples_together() -> None:
    result = parse(
        "#SBATCH --tasks=4",
        "#SBATCH -J run#2",
        "#SBATCH --mem-p=2G",
        r"#SBATCH --container-image=nvcr.io\#nvidia/pytorch:24.01-py3",
    )
    assert result.options["ntasks-per-node"].value == "4"
    assert result.options["job-name"].value == "run"
    assert result.options["container-image"].value == "nvcr.io#nvidia/pytorch:24.01-py3"
    (problem,) = result.problems
    assert problem.line == 4 and "ambiguous" in problem.message
    assert "'--mem-per-cpu' '--mem-per-gpu'" in problem.message


def test_command_line_overrides_the_script() -> None:
    result = parse(
        "#SBATCH -N 2 --time=10 --partition=cpu",
        command_line=["-N", "4", "--partition=gpu"],
    )
    assert result.options["nodes"].value == "4"
    assert result.options["nodes"].source == "command-line"
    assert result.options["nodes"].line == 0
    assert result.options["partition"].value == "gpu"
    assert result.options["time"].source == "script"
    assert [d.source for d in result.directives] == ["script"] * 3 + ["command-line"] * 2
    assert not result.rejected


def test_memory_options_on_script_and_command_line_conflict() -> None:
    result = parse("#SBATCH --mem=8G", command_line=["--mem-per-cpu=2G"])
    assert kinds(result) == ["conflict"]
    assert "mutually exclusive" in result.problems[0].message


@pytest.mark.parametrize(
    ("line", "option"),
    [
        ("#SBATCH --out=x", "output"),
        ("#SBATCH --err=x", "error"),
        ("#SBATCH --constrain=x", "constraint"),
        ("#SBATCH --license=x", "licenses"),
        ("#SBATCH --job=x", "job-name"),
        ("#SBATCH --depend=afterok:1", "dependency"),
        ("#SBATCH --exclusiv", "exclusive"),
        ("#SBATCH --mem=1G", "mem"),
        ("#SBATCH --gres=gpu", "gres"),
        ("#SBATCH --time=5", "time"),
        ("#SBATCH --tasks-per-node=2", "ntasks-per-node"),
        ("#SBATCH --cluster=gpu", "cluster"),
    ],
)
def test_abbreviations_seen_in_real_scripts(line: str, option: str) -> None:
    result = parse(line)
    assert list(result.options) == [option]
    assert not result.rejected


@pytest.mark.parametrize(
    "prefix",
    [
        "--mem-per",
        "--cpus",
        "--nod",
        "--ntask",
        "--mail",
        "--gpus-per",
        "--exclu",
        "--res",
        "--gre",
    ],
)
def test_ambiguous_prefixes(prefix: str) -> None:
    result = parse(f"#SBATCH {prefix}=1")
    assert kinds(result) == ["ambiguous-option"]
