"""``mapping-table`` renders every section of the mappings file, in reST and in MyST.

The expected cells are computed here from the raw YAML (ruamel, safe loader) with the
rendering rules of the spec, not from the model's ``Row.cells()``; only the display
words of enumerated values (``relation``, ``on-slurm``) and the default
headers are taken from the model, which owns them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from ruamel.yaml import YAML
from slurm2sky import mappings as model
from slurm2sky import sbatch

if TYPE_CHECKING:
    from conftest import BuildResult

SECTIONS = (
    "commands",
    "features",
    "environment-variables",
    "options",
    "option-categories",
    "gpu-types",
    "modules",
)
#: sbatch's short letters, read from the option table's data file itself
_TABLE = json.loads((Path(sbatch.__file__).with_name("options.json")).read_text(encoding="utf-8"))[
    "sbatch"
]["long"]
SHORT = {name: code for name, _, code in _TABLE if len(code) == 1}

PREFIX = {
    "commands": "command",
    "features": "feature",
    "environment-variables": "env",
    "options": "option",
    "option-categories": "category",
    "gpu-types": "gpu",
    "modules": "module",
}
#: The columns the test pages ask for (every column of the section).
ALL_COLUMNS = {
    "commands": ("slurm", "skypilot", "note"),
    "features": ("feature", "command", "description"),
    "environment-variables": ("slurm", "skypilot", "relation", "derivation", "note"),
    "options": ("option", "example", "skypilot", "field", "on-slurm", "note"),
    "option-categories": ("category", "options", "on-slurm", "note"),
    "gpu-types": ("slurm", "skypilot", "note"),
    "modules": ("module", "image", "note"),
}

_INLINE = re.compile(r"``(.+?)``|\*\*(.+?)\*\*|\*(.+?)\*|`([^`<]+?)\s*<[^>]*>`__?")


def markup_text(text: str | None) -> str:
    """The text a reader sees for one paragraph of reST inline markup (no docutils)."""
    if not text:
        return ""
    plain = _INLINE.sub(lambda m: next(g for g in m.groups() if g is not None), text)
    return " ".join(plain.split())


def command_text(value: str | dict[str, list[str]]) -> str:
    if isinstance(value, str):
        return value
    ((join, commands),) = value.items()
    return f" {join} ".join(commands)


def expected_cells(section: str, row: dict[str, Any]) -> dict[str, str]:
    """Column key -> the cell's visible text (whitespace collapsed), from one raw YAML row."""
    return {key: " ".join(text.split()) for key, text in _cells(section, row).items()}


def _cells(section: str, row: dict[str, Any]) -> dict[str, str]:
    if section == "commands":
        return {
            "slurm": command_text(row["slurm"]),
            "skypilot": command_text(row["skypilot"]),
            "note": markup_text(row["note"]),
        }
    if section == "features":
        description = markup_text(row["description"])
        if row.get("docs"):
            description += " Read more"
        return {
            "feature": row["feature"],
            "command": row.get("command") or "—",
            "description": description,
        }
    if section == "environment-variables":
        return {
            "slurm": ", ".join(f"${name}" for name in row["slurm"]),
            "skypilot": ", ".join(f"${name}" for name in row["skypilot"]) or "—",
            "relation": model.RELATION_TEXT[row["relation"]],
            "derivation": markup_text(row.get("derivation"))
            or (f"${row['skypilot'][0]}" if row["relation"] == "same" else "—"),
            "note": markup_text(row["note"]),
        }
    if section == "options":
        option = ", ".join(f"--{name}" for name in [row["option"], *row.get("aliases", [])])
        if row.get("short"):
            option = f"-{row['short']}, {option}"
        return {
            "option": option,
            "example": row["example"],
            "skypilot": row.get("skypilot") or "—",
            "field": row.get("field") or "—",
            "on-slurm": model.ON_SLURM_TEXT[row["on-slurm"]],
            "note": markup_text(row["note"]),
        }
    if section == "gpu-types":
        return {
            "slurm": ", ".join(row["slurm"]),
            "skypilot": row["skypilot"],
            "note": markup_text(row["note"]),
        }
    if section == "modules":
        return {
            "module": ", ".join(row["module"]),
            "image": f"docker:{row['image']}" if row.get("image") else "—",
            "note": markup_text(row["note"]),
        }
    assert section == "option-categories"
    return {
        "category": row["category"],
        "options": ", ".join(
            (f"-{SHORT[name]}/" if SHORT.get(name) else "") + f"--{name}" for name in row["options"]
        ),
        "on-slurm": model.ON_SLURM_TEXT[row["on-slurm"]],
        "note": markup_text(row["note"]),
    }


def expected_title(section: str, row: dict[str, Any]) -> str:
    """The text of a ``:ref:`` to the row (the label's title)."""
    return {
        "commands": lambda: command_text(row["slurm"]),
        "features": lambda: row["feature"],
        "environment-variables": lambda: " / ".join(row["slurm"]),
        "options": lambda: f"--{row['option']}",
        "option-categories": lambda: row["category"],
        "gpu-types": lambda: row["skypilot"],
        "modules": lambda: row["module"][0].strip("*"),
    }[section]()


def raw_mappings(path: Path) -> dict[str, Any]:
    return YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def rst(sphinx_build, sphinx_root, tmp_path_factory) -> BuildResult:
    return sphinx_build(sphinx_root("tables-rst", tmp_path_factory.mktemp("rst") / "src"))


@pytest.fixture(scope="module")
def myst(sphinx_build, sphinx_root, tmp_path_factory) -> BuildResult:
    return sphinx_build(sphinx_root("tables-myst", tmp_path_factory.mktemp("myst") / "src"))


@pytest.fixture(params=["rst", "myst"])
def built(request) -> BuildResult:
    return request.getfixturevalue(request.param)


def test_builds_use_the_default_file_without_warnings(built: BuildResult) -> None:
    assert built.mappings_path == model.default_mappings_path().resolve()
    assert built.warning_records() == [], built.warnings


@pytest.mark.parametrize("section", SECTIONS)
def test_every_column_of_every_row_matches_the_yaml(built: BuildResult, section: str) -> None:
    raw = raw_mappings(built.mappings_path)[section]
    table = built.tables()[f"table-{section}"]
    assert table.headers == [model.COLUMNS[section][key] for key in ALL_COLUMNS[section]]
    assert list(model.COLUMNS[section]) == list(ALL_COLUMNS[section]), "a new column: test it"
    expected = [
        (
            f"{PREFIX[section]}-{row['id']}",
            [expected_cells(section, row)[key] for key in ALL_COLUMNS[section]],
        )
        for row in raw
    ]
    assert table.rows == expected


@pytest.mark.parametrize("section", SECTIONS)
def test_default_columns_without_anchors(built: BuildResult, section: str) -> None:
    raw = raw_mappings(built.mappings_path)[section]
    table = built.tables()[f"table-{section}-default"]
    columns = model.DEFAULT_COLUMNS[section]
    assert table.headers == [model.COLUMNS[section][key] for key in columns]
    assert table.rows == [
        (None, [expected_cells(section, row)[key] for key in columns]) for row in raw
    ]


def test_caption_is_inline_markup_of_the_page(built: BuildResult) -> None:
    table = built.tables()["table-options"]
    assert table.caption == "Options, every column"
    page = built.soup(table.page)
    assert page.find(id="table-options").find("caption").find("em").get_text() == "every"


def test_links_in_descriptions(built: BuildResult) -> None:
    raw = raw_mappings(built.mappings_path)["features"]
    table = built.soup(built.tables()["table-features"].page).find(id="table-features")
    for row in raw:
        cell = table.find(id=f"feature-{row['id']}").find_all("td")[2]
        links = [a["href"] for a in cell.find_all("a")]
        assert links == ([row["docs"]] if row.get("docs") else [])


def test_every_row_is_a_label_titled_by_the_row(built: BuildResult) -> None:
    raw = raw_mappings(built.mappings_path)
    tables = built.tables()
    for section in SECTIONS:
        docname = tables[f"table-{section}"].page.removesuffix(".html")
        for row in raw[section]:
            anchor = f"{PREFIX[section]}-{row['id']}"
            assert built.labels[anchor] == (docname, anchor, expected_title(section, row))
    # the second rendering (:no-index:) adds no id: every anchor appears once per build
    ids = [row_id for table in tables.values() for row_id, _ in table.rows if row_id]
    assert len(ids) == len(set(ids)) == sum(len(raw[section]) for section in SECTIONS)


def test_refs_to_rows_and_tables_resolve(built: BuildResult) -> None:
    page = "refs.html" if "refs.html" in built.html else "index.html"
    links = {
        " ".join(a.get_text().split()): a["href"]
        for a in built.soup(page).find_all("a", class_="reference internal")
    }
    tables = built.tables()

    def target(table: str, anchor: str) -> str:
        here = tables[table].page
        return ("" if here == page else here) + "#" + anchor

    assert links["--gres"] == target("table-options", "option-gres")
    assert links["SLURM_PROCID"] == target("table-environment-variables", "env-slurm-procid")
    assert links["sbatch script.sh"] == target("table-commands", "command-sbatch")
    assert links["Model serving"] == target("table-features", "feature-serve")
    assert links["Accounting and priority"] == target(
        "table-option-categories", "category-accounting"
    )
    assert links["Options, every column"] == target("table-options", "table-options")
    assert links["memory"] == target("table-options", "option-mem")


def test_rst_and_myst_render_the_same_tables(rst: BuildResult, myst: BuildResult) -> None:
    rst_tables, myst_tables = rst.tables(), myst.tables()
    assert rst_tables.keys() == myst_tables.keys()
    for name, table in rst_tables.items():
        assert (table.headers, table.rows) == (myst_tables[name].headers, myst_tables[name].rows)
        assert table.html == myst_tables[name].html


def test_parallel_build_gives_identical_tables(
    rst: BuildResult, sphinx_build, sphinx_root, tmp_path_factory
) -> None:
    src = sphinx_root("tables-rst", tmp_path_factory.mktemp("parallel") / "src")
    parallel = sphinx_build(src, parallel=2)
    assert parallel.warning_records() == [], parallel.warnings
    assert len(parallel.reread) == len(rst.reread) > 5  # more docs than chunks: really parallel
    assert {name: t.html for name, t in parallel.tables().items()} == {
        name: t.html for name, t in rst.tables().items()
    }
    assert parallel.labels == rst.labels
    assert parallel.soup("refs.html").find("div", role="main") is not None
    assert str(parallel.soup("refs.html").find(role="main")) == str(
        rst.soup("refs.html").find(role="main")
    )


def test_default_role_survives_the_tables(rst: BuildResult) -> None:
    codes = [code.get_text() for code in rst.soup("options.html").find_all("code")]
    assert "after-tables" in codes
