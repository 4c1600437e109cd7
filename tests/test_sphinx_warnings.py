"""Bad ``mapping-table`` input gives one located, typed, suppressible warning per problem.

The cases are in ``tests/roots/test-warnings``: ``index.rst`` (reST) and ``cases.md``
(MyST). Each directive is preceded by a ``case: <name>`` comment; its warning must
name the file and the directive's line (the comment's line + 1), also when
``rst_prolog`` adds lines in front of every reST page.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from slurm2sky import mappings as model

if TYPE_CHECKING:
    from conftest import BuildResult
    from sphinx.testing.util import SphinxTestApp

#: case -> fragments its warning message must contain
CASES: dict[str, tuple[str, ...]] = {
    "unknown-section": (
        "unknown section 'optons'",
        "did you mean 'options'?",
        "valid sections: " + ", ".join(model.SECTIONS),
    ),
    "unknown-column": (
        "unknown column 'bogus' for section 'options'",
        "valid columns: " + ", ".join(model.COLUMNS["options"]),
    ),
    "header-count": (":headers: gives 3 title(s) for 2 column(s)", "one title per column"),
    "unknown-row": ("unknown row id 'nope' in section 'options'", "valid ids: nodes, "),
    "unknown-tag": ("tag 'nope' matches no row of section 'commands'", "tags in this section:"),
    "untagged-section": ("tag 'gpu' matches no row of section 'features'", "have no tags"),
    "empty-selection": ("no row of section 'commands' is selected",),
    "bad-widths": (":widths: '1 2' does not fit 3 column(s)", "'auto'"),
    "duplicate-anchor": ("is already anchored on this page", "add :no-index: to every"),
    # reST only: cases.md (read first) anchors the row
    "anchored-elsewhere": ("row 'mem' is already anchored as 'option-mem' in ", "cases.md"),
}
PAGES = {"rst": "index.rst", "myst": "cases.md"}
#: five lines in front of every reST page (they shift docutils' raw line numbers)
PROLOG = ".. |one| replace:: 1\n.. |two| replace:: 2\n\nA line from rst_prolog.\n\n"


def case_lines(page: Path) -> dict[str, int]:
    """case -> 1-based line of its directive (the line after the ``case:`` comment)."""
    lines = page.read_text(encoding="utf-8").splitlines()
    found = {}
    for number, line in enumerate(lines, start=1):
        match = re.match(r"^(?:\.\.|%) case: ([\w-]+)$", line)
        if match:
            found[match[1]] = number + 1
    expected = CASES.keys() - ({"anchored-elsewhere"} if page.suffix == ".md" else set())
    assert found.keys() == expected
    return found


@pytest.fixture(scope="module")
def plain(sphinx_build, sphinx_root, tmp_path_factory) -> BuildResult:
    return sphinx_build(sphinx_root("warnings", tmp_path_factory.mktemp("warn") / "src"))


@pytest.fixture(scope="module")
def prolog(sphinx_build, sphinx_root, tmp_path_factory) -> BuildResult:
    src = sphinx_root("warnings", tmp_path_factory.mktemp("warn-prolog") / "src")
    return sphinx_build(src, confoverrides={"rst_prolog": PROLOG})


@pytest.mark.parametrize("build", ["plain", "prolog"])
def test_each_case_warns_once_at_its_line(request, build: str) -> None:
    result: BuildResult = request.getfixturevalue(build)
    assert ("A line from rst_prolog." in result.html["index.html"]) == (build == "prolog")
    records = result.warning_records()
    expected = []
    for language, page in PAGES.items():
        path = result.srcdir / page
        for case, line in case_lines(path).items():
            expected.append((str(path), line, case, language))
    assert len(records) == len(expected), result.warnings  # nothing else is reported
    for file, line, case, language in expected:
        matching = [r for r in records if r.file == file and r.line == line]
        assert len(matching) == 1, (case, language, result.warnings)
        record = matching[0]
        assert record.type == "slurm2sky.directive"
        assert record.level == "WARNING"
        assert record.message.startswith("mapping-table: ")
        for fragment in CASES[case]:
            assert fragment in record.message, (case, language, record.message)


@pytest.mark.parametrize("prefix,page", [("rst", "index.html"), ("myst", "cases.html")])
def test_renders_what_it_can(plain: BuildResult, prefix: str, page: str) -> None:
    tables = plain.tables()
    assert {name for name in tables if name.startswith(prefix)} == {
        f"{prefix}-{case}" for case in ("header-count", "unknown-row", "unknown-tag", "bad-widths")
    }
    row = "gres" if prefix == "rst" else "mem"
    # an unknown column renders no table (a wrong table would be worse than none)
    assert f"{prefix}-unknown-column" not in tables
    assert all(table.page == page for name, table in tables.items() if name.startswith(prefix))
    # wrong number of headers: the default headers
    assert tables[f"{prefix}-header-count"].headers == ["sbatch option", "Notes"]
    # unknown row id: the known rows
    assert tables[f"{prefix}-unknown-row"].rows == [
        (None, [_example(row), _skypilot(row), tables[f"{prefix}-unknown-row"].rows[0][1][2]])
    ]
    # unknown tag: the rows of the known tag
    batch = [r for r in model.load_mappings(plain.mappings_path).commands if "batch" in r.tags]
    assert len(tables[f"{prefix}-unknown-tag"].rows) == len(batch) > 0
    # bad widths: ignored
    assert "colwidths-given" not in tables[f"{prefix}-bad-widths"].classes


def _example(row: str) -> str:
    return {"gres": "--gres=gpu:a100:4", "mem": "--mem=64G"}[row]


def _skypilot(row: str) -> str:
    return {"gres": "accelerators: A100:4", "mem": "memory: 64+"}[row]


@pytest.mark.sphinx(
    "html",
    testroot="warnings",
    srcdir="warnings-suppressed",
    freshenv=True,
    confoverrides={"suppress_warnings": ["slurm2sky.directive"], "rst_prolog": PROLOG},
)
def test_suppress_warnings_silences_them(app: SphinxTestApp) -> None:
    app.build()
    assert app.warning.getvalue() == ""
    assert (Path(app.outdir) / "cases.html").is_file()
