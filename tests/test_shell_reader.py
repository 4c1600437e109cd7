"""The converter's reader of a script body (``slurm2sky._shell``): statements as bash reads
them, the command word after assignments, words with quotes inside ``${…}``, and lines
that need no close reading grouped without changing what the converter finds."""

from __future__ import annotations

import pytest
from convert_helpers import conv, notes
from hypothesis import given, settings
from hypothesis import strategies as st
from slurm2sky import _shell
from slurm2sky._body import _ONE_NODE_SPECIAL

HEADER = "#SBATCH --nodes={nodes}\n"


@pytest.mark.parametrize("nodes", [1, 2])
def test_the_command_word_follows_the_assignments(nodes: int) -> None:
    c = conv(
        HEADER.format(nodes=nodes)
        + "LMOD_DISABLE_SAME_NAME_AUTOSWAP=no module load gcc/12\n"
        + "CUDA_VISIBLE_DEVICES=1 A=2 singularity run image.sif\n"
    )
    assert "module load" not in c.task["run"]
    assert [note.line for note in notes(c, "module")] == [3]
    assert [note.line for note in notes(c, "container")] == [4]


@pytest.mark.parametrize("nodes", [1, 2])
def test_quotes_inside_a_parameter_expansion_close_there(nodes: int) -> None:
    c = conv(
        HEADER.format(nodes=nodes)
        + 'N=${FS#"${BAM_DIR}/"} # name of the sample\n'
        + "echo $N\n"
        + "module load samtools/1.6\n"
        + "python call.py\n"
    )
    assert "module load" not in c.task["run"]
    assert [note.line for note in notes(c, "module")] == [5]
    assert 'N=${FS#"${BAM_DIR}/"}' in c.task["run"]


def test_head_only_lines_start_at_the_command_not_the_comments_before_it() -> None:
    c = conv(
        "#SBATCH -N 2\n"  # line 2
        "export A=1\n"  # line 3
        "\n"
        "# run the experiment\n"  # line 5
        "python main.py\n"  # line 6
    )
    (note,) = notes(c, "head-only")
    assert note.line == 6
    assert note.message.startswith("line 6 runs on the head node only")
    run = c.task["run"]
    assert run.index("# run the experiment") < run.index("SKYPILOT_NODE_RANK")


def test_an_operator_inside_quotes_does_not_hide_a_command() -> None:
    c = conv('#SBATCH -N 1\necho "a; b" | tee log\nmodule load cuda/12.1\n')
    assert "module load" not in c.task["run"]
    assert 'echo "a; b" | tee log' in c.task["run"]


_LINES = st.sampled_from(
    [
        "",
        "# a comment",
        "echo hi",
        "A=1 B=2 python x.py",
        'X="a b" module load gcc',
        'N=${F#"${D}/"} # c',
        "module load cuda",
        "if [ -f x ]; then",
        "fi",
        "for i in 1 2; do",
        "done",
        "cat <<EOF",
        "EOF",
        "python a.py \\",
        "  --flag 1",
        "echo 'open",
        "close'",
        "x=$(hostname)",
        "srun python t.py",
        "f() {",
        "}",
        "echo `date`",
        "a=(1 2",
        "3)",
        "case $x in",
        "a) echo a ;;",
        "esac",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_LINES, max_size=25), st.booleans())
def test_every_line_is_in_exactly_one_segment(lines: list[str], assignments: bool) -> None:
    body = "\n".join(lines)
    for special in (_shell.SPECIAL_WORDS, _ONE_NODE_SPECIAL):
        statements = _shell.scan(body, special, assignments)
        covered: list[int] = []
        for statement in statements:
            for segment in statement.segments:
                covered.extend(range(segment.first, segment.end + 1))
        assert covered == list(range(len(body.split("\n"))))


@settings(max_examples=300, deadline=None)
@given(st.lists(_LINES, max_size=25))
def test_lines_read_closely_or_not_give_the_same_commands(lines: list[str]) -> None:
    """A line left unread (``work``) is one the reader would have found ordinary work in:
    reading every line closely finds no special command word in it."""
    body = "\n".join(lines)
    for statement in _shell.scan(body, _ONE_NODE_SPECIAL, True):
        for segment in statement.segments:
            if not segment.work:
                continue
            for line in segment.text.split("\n"):
                stripped = line.strip()
                if not stripped or stripped.startswith("#"):
                    continue
                (closely,) = _shell.scan(line, frozenset(), True)
                for command in closely.commands():
                    assert command.name not in _ONE_NODE_SPECIAL, line


def test_the_functions_a_line_defines_are_recorded() -> None:
    body = "launch() {\n  srun x\n}\nfunction run_compose() {\n  srun y\n}\nfunction f {\n:\n}\n"
    defined = [
        name
        for statement in _shell.scan(body)
        for segment in statement.segments
        for name in segment.functions
    ]
    assert defined == ["launch", "run_compose", "f"]


@pytest.mark.parametrize(
    ("body", "open_"),
    [
        ("cat <<EOF\na\nEOF\necho", ()),
        ("cat <<EOF\na\n", ("EOF",)),
        ("cat <<A <<'B'\na\nA\nb\n", ("B",)),
        ("cat <<-A <<B\na\n", ("A", "B")),
    ],
)
def test_a_heredoc_the_body_ends_inside_is_recorded(body: str, open_: tuple[str, ...]) -> None:
    (segment,) = [s for st in _shell.scan(body) for s in st.segments if s.commands][:1]
    assert segment.heredoc_open == open_


@pytest.mark.parametrize("line", [". ./env.sh", ': "${IMAGE:=default}"'])
def test_dot_and_colon_are_read_closely(line: str) -> None:
    (statement,) = _shell.scan(line)
    assert not statement.segments[0].work
    assert statement.commands()[0].name == line.split()[0]


@pytest.mark.parametrize(
    "line",
    [
        'sub=$(basename "$(dirname "$(dirname "$(dirname "${m[ID]}")")")")',  # corpus 01723
        'x="$(a "$(b "$(c "$d")")")"',
        "y=$(echo $( echo $( echo $(echo 1))))",
    ],
)
def test_substitutions_nested_deeper_close_on_their_line(line: str) -> None:
    body = f"{line}\nmodule load matlab\nsrun matlab -r x"
    statements = _shell.scan(body)
    assert [statement.segments[0].text for statement in statements] == body.split("\n")
    c = conv(f"#SBATCH -N 1\n{body}")
    assert "module load" not in c.task["run"] and "srun" not in c.task["run"]
