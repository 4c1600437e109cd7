"""The build-time checks of examples: one located, typed, suppressible warning per
problem, in reST (also with ``rst_prolog``) and MyST pages, and the ``skypilot-check``
builder's report and exit status.

The cases are in ``tests/roots/test-checks-rst`` and ``tests/roots/test-checks-myst``:
each offending line carries ``case: <name>``, and the warning for it must name that
file and line.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import BuildResult

#: case -> (warning subtype, fragments its message must contain)
CASES: dict[str, tuple[str, tuple[str, ...]]] = {
    "yaml-field": ("yaml", ("Instead of 'nodes', did you mean 'num_nodes'?",)),
    "yaml-nested": ("yaml", ("Instead of 'acelerators', did you mean 'accelerators'?",)),
    "yaml-value": ("yaml", ('"memory" field should be a number', "'lots'")),
    "kind-unknown": ("kind", ("cannot tell which kind of SkyPilot YAML", "# skypilot: task")),
    "kind-wrong": ("kind", ("wrong kind", "says config", "is a valid task")),
    "kind-marker": ("kind", ("unknown kind 'tsk'", "did you mean 'task'?")),
    "variable-yaml": ("variable", ("SKYPILOT_RANK is not a variable SkyPilot 0.14.1 sets",)),
    "command-option": (
        "command",
        ("no such option --nodes for `sky jobs launch`; did you mean --num-nodes?",),
    ),
    "command-unknown": ("command", ("no such command `sky job`; did you mean `sky jobs`?",)),
    "deprecated": (
        "deprecated",
        ("`sky show-gpus` is deprecated in SkyPilot 0.14.1; use `sky gpus list`",),
    ),
    "command-continued": ("command", ("no such option --gpu for `sky launch`",)),
    "variable-shell": ("variable", ("SKYPILOT_NODE_RANKS", "did you mean SKYPILOT_NODE_RANK?")),
    "prose-command": ("command", ("no such option --nodes for `sky jobs launch`",)),
    "prose-variable": ("variable", ("did you mean SKYPILOT_NUM_NODES?",)),
    "needs-env": ("yaml", ("envs.DATASET is null", "--env DATASET", "no `sky` command")),
    # a block no kind fits, with a look-alike of a SkyPilot field
    "kind-typo": (
        "kind",
        ("cannot tell which kind", "'resorces' (did you mean 'resources'?)", "train.yaml"),
    ),
    # a caption naming a YAML file makes the block a task
    "caption-task": ("yaml", ("Instead of 'resorces', did you mean 'resources'?",)),
    "command-argument": (
        "command",
        ("'my-job' is not a valid integer for the argument JOB_IDS... of `sky jobs cancel`",),
    ),
    "prompt-venv": ("command", ("no such option --bogus for `sky launch`",)),
    "prompt-user": ("command", ("no such command `sky stauts`; did you mean `sky status`?",)),
    "prompt-root": ("command", ("no such option --nodes for `sky jobs launch`",)),
    "literalinclude": (
        "yaml",
        ("'H100:eight'", "(shown by literalinclude in more."),
    ),
    "highlight-literal": ("yaml", ('The "cpus" field should be', "'many'")),
}
ROOTS = {"rst": ("checks-rst", ".rst"), "myst": ("checks-myst", ".md")}
#: five lines in front of every reST page (they shift docutils' raw line numbers)
PROLOG = ".. |one| replace:: 1\n.. |two| replace:: 2\n\nA line from rst_prolog.\n\n"


def case_lines(srcdir: Path, suffix: str) -> dict[str, tuple[Path, int]]:
    """case -> (file, 1-based line) of every ``case: <name>`` marker in the root's pages
    and the YAML files they include."""
    found: dict[str, tuple[Path, int]] = {}
    for path in sorted([*srcdir.glob(f"*{suffix}"), *srcdir.glob("examples/*.yaml")]):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            for match in re.finditer(r"case: ([\w-]+)", line):
                assert match[1] not in found, match[1]
                found[match[1]] = (path, number)
    assert found.keys() == CASES.keys()
    return found


@pytest.fixture(scope="module")
def builds(sphinx_build, sphinx_root, tmp_path_factory) -> dict[str, BuildResult]:
    results = {}
    for name, (root, _) in ROOTS.items():
        results[name] = sphinx_build(sphinx_root(root, tmp_path_factory.mktemp(name) / "src"))
    src = sphinx_root("checks-rst", tmp_path_factory.mktemp("prolog") / "src")
    results["rst-prolog"] = sphinx_build(src, confoverrides={"rst_prolog": PROLOG})
    return results


@pytest.mark.parametrize("build", ["rst", "myst", "rst-prolog"])
def test_each_problem_warns_once_at_its_line(builds, build: str) -> None:
    result: BuildResult = builds[build]
    suffix = ROOTS[build.split("-")[0]][1]
    if build == "rst-prolog":
        assert "A line from rst_prolog." in result.html["index.html"]
    records = result.warning_records()
    expected = case_lines(result.srcdir, suffix)
    assert len(records) == len(expected), result.warnings  # nothing else is reported
    for case, (path, line) in expected.items():
        subtype, fragments = CASES[case]
        matching = [r for r in records if r.file == str(path) and r.line == line]
        assert len(matching) == 1, (case, build, result.warnings)
        record = matching[0]
        assert record.type == f"slurm2sky.{subtype}", (case, record)
        assert record.level == "WARNING"
        for fragment in fragments:
            assert fragment in record.message, (case, build, record.message)


@pytest.mark.parametrize("root", ["checks-rst", "checks-myst"])
def test_suppress_warnings_silences_one_subtype(sphinx_build, sphinx_root, tmp_path, root) -> None:
    result = sphinx_build(
        sphinx_root(root, tmp_path / "src"),
        confoverrides={"suppress_warnings": ["slurm2sky.command"]},
    )
    types = {record.type for record in result.warning_records()}
    assert "slurm2sky.command" not in types
    assert {"slurm2sky.yaml", "slurm2sky.deprecated", "slurm2sky.variable"} <= types


def test_checks_can_be_switched_off(sphinx_build, sphinx_root, tmp_path) -> None:
    result = sphinx_build(
        sphinx_root("checks-myst", tmp_path / "src"), confoverrides={"slurm2sky_check": False}
    )
    assert result.warning_records() == [], result.warnings


def test_parallel_reading_reports_the_same(builds, sphinx_build, sphinx_root, tmp_path) -> None:
    result = sphinx_build(sphinx_root("checks-myst", tmp_path / "src"), parallel=2)

    def key(build: BuildResult) -> list[tuple[str, int | None, str | None, str]]:
        return sorted(
            (Path(r.file).name, r.line, r.type, r.message) for r in build.warning_records()
        )

    assert key(result), result.warnings  # the root has failing examples to compare
    assert key(result) == key(builds["myst"])


def sphinx_build_cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sphinx", *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize(
    ("define", "message"),
    [
        (
            "slurm2sky_engine=bogus",
            "slurm2sky_engine = 'bogus': not a validation engine; valid: 'embedded' (the "
            "default: the embedded snapshot of SkyPilot's rules) or 'skypilot'",
        ),
        (
            "slurm2sky_skypilot_version=0.9.9",
            "slurm2sky_skypilot_version = '0.9.9': slurm2sky ",
        ),
        (
            "slurm2sky_skypilot_python=/no/such/python",
            "slurm2sky_engine = 'skypilot': the engine cannot run: the skypilot engine cannot "
            "run '/no/such/python'",
        ),
    ],
)
def test_a_bad_setting_stops_the_build_without_a_crash_report(
    sphinx_root, tmp_path: Path, define: str, message: str
) -> None:
    """One error naming the setting and what is valid, exit status 1, no traceback and
    no crash report; a value set in conf.py is located at its line there."""
    src = sphinx_root("checks-rst", tmp_path / "src")
    extra = ["-D", "slurm2sky_engine=skypilot"] if "python" in define else []
    done = sphinx_build_cli("-b", "html", "-D", define, *extra, src, tmp_path / "out")
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and "sphinx-err-" not in done.stderr
    assert "Exception occurred" not in done.stderr
    plain = re.sub(r"\x1b\[[0-9;]*m", "", done.stderr)  # colours, where the console has them
    (error, stop) = [line for line in plain.splitlines() if "ERROR" in line]
    assert message in error, error
    assert error.endswith("[slurm2sky.config]")
    assert "--skypilot-python" not in error  # a flag of slurm2sky check, not of a build
    assert "build stops here" in stop
    assert not (tmp_path / "out" / "index.html").exists()  # no page was read

    # the same value written in conf.py: the error is at its line
    conf = src / "conf.py"
    name, value = define.split("=", 1)
    lines = conf.read_text(encoding="utf-8").splitlines()
    lines += ['slurm2sky_engine = "skypilot"'] if extra else []
    lines.append(f"{name} = {value!r}")
    conf.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = sphinx_build_cli("-b", "skypilot-check", src, tmp_path / "check")
    assert done.returncode == 1
    plain = re.sub(r"\x1b\[[0-9;]*m", "", done.stderr)
    (error, _) = [line for line in plain.splitlines() if "ERROR" in line]
    assert error.startswith(f"{conf}:{len(lines)}: ERROR: "), error
    assert "Traceback" not in done.stderr


# ---------------------------------------------------------------------------
# The skypilot-check builder


def run_builder(srcdir: Path, outdir: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "skypilot-check", *extra, str(srcdir), str(outdir)],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize("name", ["rst", "myst"])
def test_builder_writes_both_reports_and_exits_1(sphinx_root, tmp_path, name) -> None:
    root, suffix = ROOTS[name]
    src = sphinx_root(root, tmp_path / "src")
    out = tmp_path / "out"
    result = run_builder(src, out)
    assert result.returncode == 1, result.stderr
    expected = case_lines(src, suffix)

    # output.txt: one file:line: [tag] message line per item
    lines = (out / "output.txt").read_text(encoding="utf-8").splitlines()
    for case, (path, line) in expected.items():
        subtype, fragments = CASES[case]
        prefix = f"{path.relative_to(src)}:{line}: [{subtype}] "
        hits = [entry for entry in lines if entry.startswith(prefix)]
        assert len(hits) == 1, (case, prefix, lines)
        assert all(fragment in hits[0] for fragment in fragments), hits[0]
    text = "\n".join(lines)
    assert re.search(r"\[partial\] a deliberately partial snippet", text)
    assert re.search(r"\[none\] not a SkyPilot document", text)
    assert re.search(r"env\.\w+:\d+: \[ok\] valid task, needs --env SHARD", text)
    assert re.search(r": \[ok\] sky jobs launch --env X=1 -y -d task.yaml", text)
    assert re.search(r": \[ok\] SKYPILOT_NODE_RANK", text)
    # settings SkyPilot reads are names of the release too
    assert re.search(r": \[ok\] SKYPILOT_DEBUG$", text, re.M)
    assert re.search(r": \[ok\] SKYPILOT_CONFIG$", text, re.M)
    assert re.search(r": \[ok\] sky jobs cancel <job_id>$", text, re.M)
    assert "mappings" in text  # the mappings file's items are reported too

    # output.json: one object per line and item
    items = [json.loads(entry) for entry in (out / "output.json").read_text().splitlines()]
    assert len(items) == len(lines)
    failures = [item for item in items if item["status"] == "failure"]
    assert len(failures) == len(CASES)
    for item in failures:
        assert set(item) >= {"filename", "lineno", "column", "item", "tag", "message"}
    statuses = {item["status"] for item in items}
    assert statuses == {"ok", "skipped", "failure"}

    # the same warnings as an HTML build, and a summary
    assert f"{len(CASES)} failures" in result.stdout
    assert "[slurm2sky.command]" in result.stderr


def test_builder_exits_0_when_everything_is_valid(sphinx_root, tmp_path) -> None:
    src = sphinx_root("checks-myst", tmp_path / "src")
    for page in src.glob("*.md"):  # keep only the valid examples
        text = page.read_text(encoding="utf-8")
        page.write_text(text.split("## Problems", 1)[0].split("and a warning")[0])
    result = run_builder(src, tmp_path / "out", "-W")
    assert result.returncode == 0, result.stderr
    assert "0 failures" in result.stdout


# ---------------------------------------------------------------------------
# The mappings file


def test_mappings_file_problems_are_located_in_the_file(sphinx_build, sphinx_root, tmp_path):
    from slurm2sky.mappings import default_mappings_path

    src = sphinx_root("checks-mappings", tmp_path / "src")
    copy = tmp_path / "mappings.yaml"
    lines = default_mappings_path().read_text(encoding="utf-8").split("\n")
    expected: dict[int, tuple[str, str]] = {}

    def edit(pattern: str, old: str, new: str, subtype: str, fragment: str) -> None:
        number = next(n for n, line in enumerate(lines, start=1) if re.search(pattern, line))
        assert old in lines[number - 1]
        lines[number - 1] = lines[number - 1].replace(old, new, 1)
        expected[number] = (subtype, fragment)

    edit(
        r"^\s+skypilot: sky jobs launch",
        "sky jobs launch",
        "sky jobs launch --nodes 2",
        "command",
        "no such option --nodes for `sky jobs launch`",
    )
    edit(
        r"^\s+skypilot: \"memory: \d+\+",
        "memory: ",
        "memory: lots",
        "yaml",
        '"memory" field should be a number',
    )
    edit(
        r"^\s+skypilot: \[SKYPILOT_NODE_IPS\]",
        "SKYPILOT_NODE_IPS",
        "SKYPILOT_NODE_IP",
        "variable",
        "did you mean SKYPILOT_NODE_IPS?",
    )
    edit(
        r"^\s+\w.*``sky jobs ", "``sky jobs ", "``sky job ", "command", "no such command `sky job`"
    )
    copy.write_text("\n".join(lines), encoding="utf-8")

    result = sphinx_build(src, confoverrides={"slurm2sky_mappings": str(copy)})
    records = result.warning_records()
    assert len(records) == len(expected), result.warnings
    for number, (subtype, fragment) in expected.items():
        (record,) = [r for r in records if r.file == str(copy) and r.line == number]
        assert record.type == f"slurm2sky.{subtype}"
        assert fragment in record.message, record.message
