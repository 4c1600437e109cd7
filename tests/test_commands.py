"""``sky`` commands in shell text and ``SKYPILOT_*`` names, checked against the snapshot
(slurm2sky.validate.commands): the scanner on tricky shell, the checker against the
0.14.1 CLI tree as click parses it, and the variable check."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slurm2sky import _shell
from slurm2sky.validate.commands import (
    check_commands_in,
    check_sky_command,
    check_skypilot_variable,
    find_sky_commands,
    find_skypilot_variables,
)


def argvs(text: str, **kwargs) -> list[tuple[str, ...]]:
    return [command.argv for command in find_sky_commands(text, **kwargs)]


def codes(line: str, **kwargs) -> list[str]:
    (command,) = find_sky_commands(line)
    return [issue.code for issue in check_sky_command(command.argv, **kwargs)]


# ---------------------------------------------------------------------------
# Finding commands


def test_console_prompts_continuations_and_output_lines() -> None:
    text = (
        "$ sky launch -c dev \\\n"
        "    --gpus H100:8 task.yaml\n"
        "Launching... sky launch --not-a-command\n"
        "$ sky status\n"
    )
    found = find_sky_commands(text)
    assert [c.argv for c in found] == [
        ("sky", "launch", "-c", "dev", "--gpus", "H100:8", "task.yaml"),
        ("sky", "status"),
    ]
    first = found[0]
    assert (first.line, first.column) == (1, 3)
    # words on the continuation line keep their own line and column
    assert first.positions[4] == (2, 5)
    assert first.positions[6] == (2, 19)
    assert (found[1].line, found[1].column) == (4, 3)


def test_secondary_prompt_after_a_continuation() -> None:
    text = "$ sky jobs launch \\\n> --env A=1 task.yaml\n"
    (command,) = find_sky_commands(text)
    assert command.argv == ("sky", "jobs", "launch", "--env", "A=1", "task.yaml")
    assert command.positions[3] == (2, 3)


def test_prompt_detection_can_be_forced() -> None:
    assert argvs("sky status\n", prompt=True) == []  # no $ line: all output
    assert argvs("$ sky status\n", prompt=False) == []  # `$` is then a command word
    assert argvs("sky status\n") == [("sky", "status")]


def test_separators_pipes_and_lists() -> None:
    text = "sky status; sky jobs queue && sky down dev || echo no | sky logs dev & sky check"
    assert argvs(text) == [
        ("sky", "status"),
        ("sky", "jobs", "queue"),
        ("sky", "down", "dev"),
        ("sky", "logs", "dev"),
        ("sky", "check"),
    ]


def test_comments_are_not_commands() -> None:
    text = "# sky launch --nodes 2\nsky jobs queue  # sky jobs launch --nodes\necho a#b sky\n"
    assert argvs(text) == [("sky", "jobs", "queue")]


def test_loops_conditions_and_groups() -> None:
    text = (
        "for lr in 0.001 0.01; do\n"
        '  sky jobs launch -n "lr$lr" --env LR=$lr -y -d train.yaml\n'
        "done\n"
        "while sky jobs queue | grep -q RUNNING; do sleep 10; done\n"
        "if sky status dev; then sky down -y dev; else sky start dev; fi\n"
        "( sky status ) && { sky queue dev; }\n"
        'case "$x" in a) sky check ;; esac\n'
        "[[ -n $X ]] && sky down -a -y\n"
    )
    assert argvs(text) == [
        ("sky", "jobs", "launch", "-n", "lr$lr", "--env", "LR=$lr", "-y", "-d", "train.yaml"),
        ("sky", "jobs", "queue"),
        ("sky", "status", "dev"),
        ("sky", "down", "-y", "dev"),
        ("sky", "start", "dev"),
        ("sky", "status"),
        ("sky", "queue", "dev"),
        ("sky", "check"),
        ("sky", "down", "-a", "-y"),
    ]


def test_assignments_and_prefix_commands() -> None:
    text = (
        'X=1 Y="a b" sky launch x.yaml\n'
        "env FOO=1 sky exec dev ls\n"
        "sudo -u me sky status\n"
        "nohup sky jobs logs 1 > log.txt 2>&1 &\n"
        "time sky check\n"
        "watch -n 5 sky status\n"
        "FOO=1\n"
    )
    assert argvs(text) == [
        ("sky", "launch", "x.yaml"),
        ("sky", "exec", "dev", "ls"),
        ("sky", "status"),
        ("sky", "jobs", "logs", "1"),
        ("sky", "check"),
        ("sky", "status"),
    ]


def test_heredoc_bodies_are_not_shell() -> None:
    text = (
        "cat <<EOF > run.sh\n"
        "sky launch --in-a-heredoc\n"
        "EOF\n"
        "cat <<-'END'\n"
        "\tsky launch --also-not\n"
        "\tEND\n"
        "cat <<< 'sky here-string' && sky status\n"
    )
    assert argvs(text) == [("sky", "status")]


def test_heredoc_in_console_text() -> None:
    text = "$ cat <<'EOF' > task.yaml\n$ sky launch --inside\nEOF\n$ sky check\n"
    assert argvs(text) == [("sky", "check")]


def test_command_substitutions_are_scanned() -> None:
    text = (
        "ID=$(sky jobs launch -d -y task.yaml | tail -1)\n"
        'echo "`sky status`"\n'
        'echo "$(sky api info)" $(( 1 + 2 ))\n'
        "diff <(sky status) <(sky queue dev)\n"
    )
    assert argvs(text) == [
        ("sky", "jobs", "launch", "-d", "-y", "task.yaml"),
        ("sky", "status"),
        ("sky", "api", "info"),
        ("sky", "status"),
        ("sky", "queue", "dev"),
    ]


def test_quoting_and_redirections() -> None:
    text = (
        "sky exec dev 'python train.py --epochs 1' > out.txt\n"
        "sky jobs launch --env \"MSG=a b\" --env X=$'tab\\there' task.yaml 2>&1 | tee log\n"
        '"sky" status\n'
        "echo sky launch\n"
    )
    assert argvs(text) == [
        ("sky", "exec", "dev", "python train.py --epochs 1"),
        ("sky", "jobs", "launch", "--env", "MSG=a b", "--env", "X=tab\\there", "task.yaml"),
        ("sky", "status"),
    ]


def test_placeholders_are_words_not_redirections() -> None:
    assert argvs("sky exec <cluster> <command>") == [("sky", "exec", "<cluster>", "<command>")]
    assert argvs("sky jobs logs <job_id> < input.txt") == [("sky", "jobs", "logs", "<job_id>")]


def test_unclosed_quotes_do_not_raise() -> None:
    assert argvs("sky exec dev 'python x.py") == [("sky", "exec", "dev", "python x.py")]
    assert argvs('sky status "$(sky check') == [("sky", "status", "$(sky check"), ("sky", "check")]


def test_shell_read_as_bash_reads_it() -> None:
    text = (
        "time -p sky check\n"
        'sky launch -c "dev-$(date "+%F")" task.yaml\n'
        "for id in $(sky jobs queue | tail -n +2); do echo $id; done\n"
        'echo "${CLUSTER:-$(sky status --refresh)}" > "$(sky api info)"\n'
        "cmd=(sky launch task.yaml)\n"
        "sky() { echo not run; }\n"
        "sky launch task.yaml &> <log> \\\n  --down\n"
        "sky jobs logs <job_id> > <out>\n"
        "sky status \\"
    )
    assert argvs(text) == [
        ("sky", "check"),
        ("sky", "launch", "-c", 'dev-$(date "+%F")', "task.yaml"),
        ("sky", "jobs", "queue"),
        ("sky", "status", "--refresh"),
        ("sky", "api", "info"),
        ("sky", "launch", "task.yaml", "--down"),
        ("sky", "jobs", "logs", "<job_id>"),
        ("sky", "status"),
    ]


def test_nested_commands_keep_their_positions() -> None:
    (command,) = find_sky_commands('ID=$(\n  sky jobs launch \\\n    -d "$(cat f)")\n')
    assert command.argv == ("sky", "jobs", "launch", "-d", "$(cat f)")
    assert command.positions == ((2, 3), (2, 7), (2, 12), (3, 5), (3, 8))


def test_console_heredoc_delimiters_are_read_as_the_shell_reads_them() -> None:
    text = "$ cat <<'END OF FILE' > task.yaml\nrun: sky\nEND OF FILE\n$ echo '<<EOF'\n$ sky check\n"
    assert argvs(text) == [("sky", "check")]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("sky $'\"\\`()<>|&;#\n\tabc-=EOF{}")), max_size=80))
def test_any_text_scans_without_error(text: str) -> None:
    lines = text.split("\n")
    for command in find_sky_commands(text):
        assert command.argv[0] == "sky"
        for line, column in command.positions:
            assert 1 <= line <= len(lines)
            assert 1 <= column <= len(lines[line - 1]) + 1


# ---------------------------------------------------------------------------
# Checking one command


def test_the_issue_examples() -> None:
    assert (
        check_sky_command(["sky", "jobs", "launch", "--env", "X=1", "-y", "-d", "task.yaml"]) == []
    )
    (issue,) = check_sky_command(["sky", "jobs", "launch", "--nodes", "2"])
    assert issue.message == (
        "no such option --nodes for `sky jobs launch`; did you mean --num-nodes?"
    )
    assert issue.code == "unknown-option"
    assert issue.path == "argv[3]"


def test_issues_carry_the_word_position() -> None:
    text = "$ sky jobs launch \\\n    --nodes 2 task.yaml\n"
    (check,) = check_commands_in(text)
    (issue,) = check.issues
    assert (issue.line, issue.column) == (2, 5)


def test_deprecated_command_names_its_replacement() -> None:
    (issue,) = check_sky_command(["sky", "show-gpus", "--infra", "k8s"])
    assert issue.code == "deprecated"
    assert issue.message == "`sky show-gpus` is deprecated in SkyPilot 0.14.1; use `sky gpus list`"
    # its options are still checked
    found = check_sky_command(["sky", "show-gpus", "--infro", "k8s"])
    assert [i.code for i in found] == ["deprecated", "unknown-option"]
    assert check_sky_command(["sky", "show-gpus"], prose=True) == []


@pytest.mark.parametrize(
    "line",
    [
        "sky volume apply volume.yaml",  # an alias of `sky volumes apply`
        "sky ui",  # hidden, still runs
        "sky launch -yd task.yaml",  # bundled flags
        "sky launch -cdev task.yaml",  # a short option with its value attached
        "sky launch --cluster=dev --num-nodes=2 task.yaml",
        "sky launch -c dev --gpus H100:8",  # no task: a cluster to work on
        "sky launch -c train --down -i 1440 --wait-for none train.yaml",
        "sky launch --disk-tier BEST task.yaml",  # case-insensitive choice
        "sky launch --no-use-spot task.yaml",  # the secondary spelling of a flag
        "sky launch -no-d task.yaml",  # click's one-dash long spelling
        "sky exec <cluster> <command>",
        "sky exec dev --num-nodes 4 hostname",  # options between arguments
        "sky jobs launch --num-jobs $N task.yaml",
        "sky jobs launch --num-jobs <n> task.yaml",
        "sky jobs queue -s",  # a value-optional option without its value
        "sky jobs queue -s --all",
        "sky jobs logs --controller <job_id>",
        "sky logs -- dev 2",
        "sky jobs",  # a group alone shows its help
        "sky --version",
        "sky",
    ],
)
def test_valid_commands(line: str) -> None:
    assert codes(line) == []


@pytest.mark.parametrize(
    ("line", "code", "message"),
    [
        (
            "sky jobs lunch task.yaml",
            "unknown-command",
            "no such command `sky jobs lunch`; did you mean `sky jobs launch`?",
        ),
        ("sky launch -yx task.yaml", "unknown-option", "no such option -x for `sky launch`"),
        (
            "sky launch --yes=1 task.yaml",
            "unexpected-value",
            "option --yes of `sky launch` takes no value",
        ),
        ("sky launch task.yaml -c", "missing-value", "option -c of `sky launch` needs a value"),
        (
            "sky launch --num-nodes two task.yaml",
            "bad-value",
            "'two' is not a valid integer for option --num-nodes of `sky launch`",
        ),
        (
            "sky launch --disk-tier fast task.yaml",
            "bad-value",
            "'fast' is not a valid value for option --disk-tier of `sky launch`",
        ),
        ("sky cancel", "missing-argument", "`sky cancel` needs the argument CLUSTER"),
        ("sky serve up", "missing-argument", "`sky serve up` needs the argument SERVICE_YAML..."),
        (
            "sky jobs logs 1 2 3",
            "extra-argument",
            "unexpected extra argument '3' for `sky jobs logs` (it takes [JOB_ID] [TASK])",
        ),
    ],
)
def test_invalid_commands(line: str, code: str, message: str) -> None:
    (command,) = find_sky_commands(line)
    issues = check_sky_command(command.argv, positions=command.positions)
    assert [i.code for i in issues] == [code]
    assert message in issues[0].message


def test_prose_mode_checks_only_paths_and_option_names() -> None:
    assert codes("sky jobs launch --num-jobs N", prose=True) == []
    assert codes("sky jobs launch --priority", prose=True) == []
    assert codes("sky cancel", prose=True) == []
    assert codes("sky jobs launch --nodes 2", prose=True) == ["unknown-option"]
    assert codes("sky jobs lunch", prose=True) == ["unknown-command"]


def test_a_given_cli_tree() -> None:
    cli = {
        "commands": {
            "": {"group": True, "subcommands": ["go"], "options": [], "arguments": []},
            "go": {
                "group": False,
                "options": [
                    {"name": "fast", "opts": ["-f", "--fast"], "takes_value": False},
                ],
                "arguments": [],
            },
        }
    }
    assert check_sky_command(["sky", "go", "-f"], cli=cli) == []
    assert [i.code for i in check_sky_command(["sky", "go", "--slow"], cli=cli)] == [
        "unknown-option"
    ]
    assert [i.code for i in check_sky_command(["sky", "launch"], cli=cli)] == ["unknown-command"]


# ---------------------------------------------------------------------------
# Variables


def test_find_variables_with_positions() -> None:
    text = 'echo "$SKYPILOT_NODE_RANK"\nX=${SKYPILOT_NUM_NODES} MY_SKYPILOT_X SKYPILOT_*\n'
    assert find_skypilot_variables(text) == [
        (1, 8, "SKYPILOT_NODE_RANK"),
        (2, 5, "SKYPILOT_NUM_NODES"),
    ]


def test_check_variables() -> None:
    assert check_skypilot_variable("SKYPILOT_NODE_RANK") is None
    assert check_skypilot_variable("SKYPILOT_DOCKER_USERNAME") is None  # user-set, read
    assert check_skypilot_variable("SKYPILOT_DOCKER_") is None  # the SKYPILOT_DOCKER_* family
    issue = check_skypilot_variable("SKYPILOT_NUM_NODE", line=3, column=7)
    assert issue is not None
    assert (issue.line, issue.column, issue.code) == (3, 7, "unknown-variable")
    assert issue.message == (
        "SKYPILOT_NUM_NODE is not a variable SkyPilot 0.14.1 sets for a task or reads from "
        "its envs, nor a setting it reads; did you mean SKYPILOT_NUM_NODES?"
    )


@pytest.mark.parametrize(
    "name",
    [
        # client and server settings SkyPilot 0.14.1 reads (sky/skypilot_config.py,
        # sky/server/common.py, sky/utils/env_options.py, ...)
        "SKYPILOT_CONFIG",
        "SKYPILOT_API_SERVER_ENDPOINT",
        "SKYPILOT_DEBUG",
        "SKYPILOT_DISABLE_USAGE_COLLECTION",
        "SKYPILOT_PROJECT_CONFIG",
        "SKYPILOT_SERVER_PLUGINS_CONFIG",  # built from SKYPILOT_SERVER_ENV_VAR_PREFIX
    ],
)
def test_settings_of_the_release_are_variables(name: str) -> None:
    assert check_skypilot_variable(name) is None


@pytest.mark.parametrize(
    ("name", "suggestion"),
    [
        ("SKYPILOT_NUM_NODEZ", "SKYPILOT_NUM_NODES"),
        ("SKYPILOT_NODE_RANKS", "SKYPILOT_NODE_RANK"),
        ("SKYPILOT_DEBUGG", "SKYPILOT_DEBUG"),  # a setting, when no task variable is close
        ("SKYPILOT_BOGUS", None),
        ("SKYPILOT_FOO", None),  # the shared SKYPILOT_ prefix alone is not a likeness
    ],
)
def test_typos_of_variables_fail(name: str, suggestion: str | None) -> None:
    issue = check_skypilot_variable(name)
    assert issue is not None and issue.code == "unknown-variable"
    if suggestion is None:
        assert "did you mean" not in issue.message, issue.message
    else:
        assert issue.message.endswith(f"; did you mean {suggestion}?"), issue.message


@pytest.mark.parametrize(
    ("line", "suggestion"),
    [
        ("sky jobs launch task.yaml --epochs 3", None),  # not --ports
        ("sky launch --bogus-myst task.yaml", None),  # not --no-use-spot
        ("sky jobs launch --nodes 2 task.yaml", "--num-nodes"),
        ("sky launch --gpu H100:8 task.yaml", "--gpus"),
        ("sky jobs lunch task.yaml", "`sky jobs launch`"),
    ],
)
def test_suggestions_are_for_look_alikes_only(line: str, suggestion: str | None) -> None:
    (command,) = find_sky_commands(line)
    (issue,) = check_sky_command(command.argv)
    if suggestion is None:
        assert "did you mean" not in issue.message, issue.message
    else:
        assert f"did you mean {suggestion}?" in issue.message, issue.message


@pytest.mark.parametrize(
    ("line", "word", "message"),
    [
        (
            "sky jobs cancel my-job",
            "my-job",
            "'my-job' is not a valid integer for the argument JOB_IDS... of `sky jobs cancel` "
            "(click: Invalid value for '[JOB_IDS]...': 'my-job' is not a valid integer.)",
        ),
        (
            "sky jobs logs abc",
            "abc",
            "(click: Invalid value for '[JOB_ID]': 'abc' is not a valid integer.)",
        ),
        ("sky jobs cancel 1 2 three", "three", "'three' is not a valid integer"),
        ("sky cancel dev 1 two", "two", "the argument JOBS... of `sky cancel`"),
        ("sky serve logs svc 1 x", "x", "the argument REPLICA_IDS... of `sky serve logs`"),
        ("sky local up --num-nodes 0", "0", "0 is not in the range x>=1 for option --num-nodes"),
    ],
)
def test_argument_values_are_converted_as_click_does(line: str, word: str, message: str) -> None:
    (command,) = find_sky_commands(line)
    issues = check_sky_command(command.argv, positions=command.positions)
    assert [i.code for i in issues] == ["bad-value"]
    assert message in issues[0].message
    assert issues[0].column == line.index(" " + word) + 2  # at the offending word


@pytest.mark.parametrize(
    "line",
    [
        "sky jobs cancel 1 2 3",
        "sky jobs cancel <job_id>",
        "sky jobs logs <job-id>",
        "sky jobs cancel $JOB_ID",
        "sky jobs cancel ${JOB_ID}",
        'sky jobs cancel $(sky jobs queue | awk "/train/ {print $1}")',
        "sky jobs logs 7",
        "sky cancel dev 1 2",
        "sky local up --num-nodes 2",
    ],
)
def test_numeric_arguments_accept_numbers_placeholders_and_expansions(line: str) -> None:
    checks = check_commands_in(line)
    assert [issue for check in checks for issue in check.issues] == [], line


# ---------------------------------------------------------------------------
# The shell reader's guide mode (slurm2sky._shell), shared with the converter


def test_word_text_unquotes_and_keeps_expansions() -> None:
    assert _shell.word_text('"$(date "+%F")"') == ('$(date "+%F")', True)
    assert _shell.word_text("a'b c'\\ d") == ("ab c d", True)
    assert _shell.word_text("--env=X\\\n") == ("--env=X", False)  # a continuation
    assert _shell.word_text("$'tab\\there'${x:-'a'}`date`") == ("tab\\there${x:-'a'}`date`", False)
    assert _shell.word_text("<job_id>") == ("<job_id>", False)
    assert _shell.word_text('"$(open') == ("$(open", True)
    # the converter's unquote is the same code without the guide's rules
    assert _shell.unquote('"$(date "+%F")"') == "$(date +%F)"


def test_substitutions_in_guide_mode() -> None:
    text = "a `b` <(c) \"$(d)\" '$(e)' $((1 + 2)) $(f"
    assert _shell.substitutions(text) == [(12, 16, "d")]  # the converter's: $( … ) only
    assert _shell.substitutions(text, guide=True) == [
        (2, 5, "b"),
        (6, 10, "c"),
        (12, 16, "d"),
        (36, 39, "f"),  # not closed: to the end
    ]


def test_scan_in_guide_mode_reads_every_line_and_nested_commands() -> None:
    text = "echo $(sky status <cluster>)\nls <in>"
    (first, second) = _shell.scan(text, guide=True)
    (segment,) = first.segments
    assert [command.words for command in segment.commands] == [
        [("echo", 0, 4), ("$(sky status <cluster>)", 5, 28)],
        [("sky", 7, 10), ("status", 11, 17), ("<cluster>", 18, 27)],
    ]
    assert [c.words for c in second.commands()] == [[("ls", 0, 2), ("<in>", 3, 7)]]
    # the converter's reading: "<" is a redirection
    (converter,) = _shell.scan("ls <in>")
    assert [c.words for c in converter.commands()] == [[("ls", 0, 2)]]


def test_heredoc_delimiters() -> None:
    assert _shell.heredoc_delimiters("cat <<'A B' >x <<-EOF") == [("A B", False), ("EOF", True)]
    assert _shell.heredoc_delimiters("cat <<< 'x' '<<EOF' # <<C") == []
