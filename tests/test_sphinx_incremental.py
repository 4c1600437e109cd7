"""Editing the mappings file re-reads exactly the pages whose tables use it.

Every ``mapping-table`` declares the file with ``env.note_dependency``; the extension
caches the loaded model by (path, mtime_ns, size), so a second build in the same
process reads the edited file.
"""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING

from slurm2sky.mappings import default_mappings_path

if TYPE_CHECKING:
    from pathlib import Path

    from conftest import BuildResult

SECTION_PAGES = [
    "commands",
    "environment-variables",
    "features",
    "gpu-types",
    "modules",
    "option-categories",
    "options",
]
OLD = "Only the ``gpu`` item has an equivalent;"
NEW = "Only the ``gpu`` item has a SkyPilot equivalent (edited);"


def cells(result: BuildResult) -> dict[tuple[str, int, int], str]:
    """(table id, body row index, column index) -> text, for every table of the build."""
    return {
        (name, r, c): text
        for name, table in result.tables().items()
        for r, (_, row) in enumerate(table.rows)
        for c, text in enumerate(row)
    }


def test_editing_one_note_rereads_only_pages_using_the_file(
    sphinx_build, sphinx_root, tmp_path: Path
) -> None:
    src = sphinx_root("tables-rst", tmp_path / "src")
    mappings = src / "mappings.yaml"
    shutil.copyfile(default_mappings_path(), mappings)
    use_copy = {"slurm2sky_mappings": str(mappings)}

    first = sphinx_build(src, confoverrides=use_copy)
    assert first.mappings_path == mappings.resolve()
    assert first.warning_records() == [], first.warnings
    assert set(first.reread) == {"index", "refs", "plain", *SECTION_PAGES}

    text = mappings.read_text(encoding="utf-8")
    assert text.count(OLD) == 1
    mappings.write_text(text.replace(OLD, NEW), encoding="utf-8")

    second = sphinx_build(
        src, confoverrides=use_copy
    )  # same srcdir, same _build: an incremental build
    assert second.warning_records() == [], second.warnings
    assert second.reread == SECTION_PAGES  # not index, refs, plain (no table there)

    before, after = cells(first), cells(second)
    assert before.keys() == after.keys()
    changed = {key for key in before if before[key] != after[key]}
    # the gres row's note, in both tables of options (every column; the defaults,
    # whose rows have no ids but the same order)
    tables = second.tables()
    gres = [row_id for row_id, _ in tables["table-options"].rows].index("option-gres")
    expected = {
        (name, gres, tables[name].column("Notes"))
        for name in ("table-options", "table-options-default")
    }
    assert len(expected) == 2  # the full table and the default-columns table
    assert changed == expected
    for key in changed:
        assert "has a SkyPilot equivalent (edited);" in after[key]
        assert after[key].replace("a SkyPilot equivalent (edited)", "an equivalent") == before[key]

    third = sphinx_build(src, confoverrides=use_copy)  # nothing changed: nothing re-read
    assert third.reread == []
