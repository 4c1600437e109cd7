"""Property-based tests of parse_script over generated headers (hypothesis).

For any text: no exception, every problem located inside the script, and every word of
every directive line accounted for — the words the header scan and the tokeniser find
(computed here from the spec's rules, independently of the parser's scan) are exactly
the words the directives claim, each once, in order.
"""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slurm2sky.sbatch import parse_script, parse_srun
from slurm2sky.sbatch.tokenize import split_words

PIECES = [
    "-N", "2", "--nodes=2", "-N2", "-Ot10", "-vvH", "-n=4", "--mem-p=2G", "--mem=1.5G",
    "--tasks=4", "--cores=8", '"a b"', "'x y'", "'unclosed", "run#2", r"a\#b", "\\", r"a\ b",
    "--exclusive", "user", "--exclusive=user", ":", ":x", "--", '""', "hetjob", "packjob_x",
    "--time", "1-00:00:00", "-koff", "-k", "--gres=gpu:a100:2", "--gres=gpu", "--gpus-per-node=2",
    "--array=0-15:4%2", "\u2013-time=1", "--image", "docker:x/y", "--mpi=pmix", "-J", "--job-name",
    "--container-image=nvcr.io\\#nvidia/pytorch:24.01-py3", "--help", "--get-user-env=10L",
    "--nodelist=node[1-4]", "--nodelist=n[1-", "-z", "--requeue", "--no-requeue", "--cluste",
    "--mem-per-cpu=1G", "--mem=4G", "#", "# comment", "-", "---x", "--=x", "\t", "\r", "$HOME",
]  # fmt: skip

piece = st.one_of(
    st.sampled_from(PIECES),
    st.text(alphabet="-=:#\"'\\ \tabcN0129%[],@\r\u00a0\u2013", max_size=12),
)
directive_line = st.builds(
    lambda magic, sep, parts: magic + sep + " ".join(parts),
    st.sampled_from(
        ["#SBATCH", "#SBATCH", "#SBATCH", "#SLURM", "  #SBATCH", "#sbatch", "##SBATCH"]
    ),
    st.sampled_from([" ", "", "\t", "  "]),
    st.lists(piece, max_size=6),
)
other_line = st.sampled_from(
    [
        "",
        "# a comment",
        "   ",
        "echo hi",
        "module load cuda/12.1",
        "#PBS -N x",
        "#BSUB -n 4",
        "\t# x",
    ]
)
header = st.lists(st.one_of(directive_line, directive_line, other_line), max_size=12)


def build(shebang: str, lines: list[str], newline: str) -> str:
    return shebang + newline.join(lines) + newline


def expected_words(text: str) -> list[tuple[int, int]]:
    """(line, column) of every word sbatch reads, by the spec's rules (§2, §3)."""
    found: list[tuple[int, int]] = []
    for number, line in enumerate(text.replace("\r\n", "\n").split("\n"), 1):
        if line.startswith("#SBATCH"):
            start = 7
        elif line.startswith("#SLURM"):
            start = 6
        else:
            stripped = line.lstrip(" \t\n\v\f\r")
            if stripped and stripped[0] != "#":
                break
            continue
        line = re.sub("(?i)packjob|hetjob", lambda m: " " * len(m.group()), line)
        found.extend((number, w.start + 1) for w in split_words(line, start).words)
    return found


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    shebang=st.sampled_from(["#!/bin/bash\n", "", "\n#!/bin/bash\n", "\ufeff#!/bin/sh\n"]),
    lines=header,
    newline=st.sampled_from(["\n", "\n", "\r\n"]),
    command_line=st.lists(st.sampled_from(PIECES), max_size=4),
    pyxis=st.booleans(),
)
def test_every_word_is_accounted_for(
    shebang: str, lines: list[str], newline: str, command_line: list[str], pyxis: bool
) -> None:
    text = build(shebang, lines, newline)
    result = parse_script(text, command_line=command_line, pyxis=pyxis)

    claimed = [t for d in result.directives if d.source != "command-line" for t in d.tokens]
    assert claimed == expected_words(text)
    cli_claimed = [t for d in result.directives if d.source == "command-line" for t in d.tokens]
    assert cli_claimed == [(0, i + 1) for i in range(len(command_line))]

    line_count = text.count("\n") + 1
    for problem in (*result.problems, *result.foreign):
        assert 0 <= problem.line <= line_count
        assert problem.message
        assert problem.line == 0 or problem.column >= 1
        str(problem)
    for directive in result.directives:
        if directive.option is not None:
            assert directive.option in {d.option for d in result.directives}
        assert directive.spelled
    for name, directive in result.options.items():
        assert directive.option == name and directive.component == 0
    assert result.rejected == bool(result.problems)
    assert text.replace("\r\n", "\n").endswith(result.body)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_never_raises(text: str) -> None:
    result = parse_script(text)
    assert isinstance(result.problems, tuple)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([*PIECES, "python", "train.py"]), max_size=8))
def test_srun_never_raises(argv: list[str]) -> None:
    call = parse_srun(argv)
    assert len(call.command) <= len(argv)
