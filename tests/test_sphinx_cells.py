"""Table cells from ``Row.cells()`` pieces, without a Sphinx build (docutils settings)."""

from __future__ import annotations

import pytest
from docutils import nodes
from docutils.frontend import get_default_settings
from docutils.parsers.rst import Parser
from slurm2sky.sphinx.tables import cell_nodes, comma_list, header_list, parse_markup

SOURCE = "/data/slurm-to-skypilot.yaml"


@pytest.fixture(scope="module")
def settings():
    return get_default_settings(Parser)


def paragraph_of(blocks: list[nodes.Element]) -> nodes.paragraph:
    assert len(blocks) == 1 and isinstance(blocks[0], nodes.paragraph)
    return blocks[0]


def test_literal_text_and_markup_pieces_make_one_paragraph(settings) -> None:
    cell = (
        ("literal", "-c"),
        ("text", ", "),
        ("literal", "--cpus-per-task"),
    )
    paragraph = paragraph_of(cell_nodes(cell, settings=settings, source=SOURCE, line=7))
    assert [type(child) for child in paragraph.children] == [
        nodes.literal,
        nodes.Text,
        nodes.literal,
    ]
    assert paragraph.astext() == "-c, --cpus-per-task"


def test_markup_is_parsed_as_rst_and_located_in_the_file(settings) -> None:
    cell = (
        ("markup", "Counted *per node*; see ``--gres``."),
        ("markup", " `Read more <https://example.org/gres>`__"),
    )
    paragraph = paragraph_of(cell_nodes(cell, settings=settings, source=SOURCE, line=42))
    assert paragraph.astext() == "Counted per node; see --gres. Read more"
    assert paragraph.next_node(nodes.emphasis).astext() == "per node"
    assert paragraph.next_node(nodes.literal).astext() == "--gres"
    reference = paragraph.next_node(nodes.reference)
    assert reference["refuri"] == "https://example.org/gres"


def test_named_links_leave_no_target_behind(settings) -> None:
    children = parse_markup(
        "See `the docs <https://example.org>`_.", settings=settings, source=SOURCE, line=3
    )
    assert not any(isinstance(child, nodes.target) for child in children)
    assert [child.astext() for child in children] == ["See ", "the docs", "."]


def test_markup_that_is_not_one_paragraph_keeps_its_blocks(settings) -> None:
    blocks = cell_nodes(
        (("literal", "x"), ("markup", "First.\n\nSecond.")),
        settings=settings,
        source=SOURCE,
        line=1,
    )
    assert [block.astext() for block in blocks] == ["x", "First.", "Second."]


def test_empty_cells(settings) -> None:
    assert cell_nodes((), settings=settings, source=SOURCE, line=1) == []
    assert cell_nodes((("markup", "  "),), settings=settings, source=SOURCE, line=1) == []


def test_markup_problems_point_at_the_row(settings, caplog) -> None:
    # the loader refuses such notes; if one got through, docutils' message names the
    # mappings file and the row's line (through Sphinx's logging)
    with caplog.at_level("WARNING"):
        children = parse_markup("An *unclosed emphasis", settings=settings, source=SOURCE, line=42)
    (problematic,) = [c for c in children if isinstance(c, nodes.problematic)]
    assert problematic.astext() == "*"
    (record,) = [r for r in caplog.records if "emphasis" in r.getMessage()]
    assert record.location == f"{SOURCE}:42"


def test_option_lists() -> None:
    assert comma_list(" option, note ,, skypilot ") == ["option", "note", "skypilot"]
    assert header_list('sbatch, "Slurm, sbatch", Notes') == ["sbatch", "Slurm, sbatch", "Notes"]
