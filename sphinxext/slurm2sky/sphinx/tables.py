"""The ``mapping-table`` directive: one section of the mappings file as a table.

reST::

    .. mapping-table:: options
       :columns: option, skypilot, note
       :headers: sbatch, SkyPilot, Notes
       :widths: 20 30 50
       :tags: resources
       :rows: mem, gres
       :caption: Resource requests
       :name: table-resources
       :no-index:

MyST: ```` ```{mapping-table} options ```` with the same ``:key: value`` options.

The argument is a section name (:data:`slurm2sky.mappings.SECTIONS`). Options:

``columns``
    comma list of column keys of the section (:data:`slurm2sky.mappings.COLUMNS`),
    in display order; default :data:`slurm2sky.mappings.DEFAULT_COLUMNS`.
``headers``
    comma list of column titles, one per column (CSV quoting allowed for a title
    holding a comma); default the section's default headers.
``widths``
    relative column widths (integers, space or comma separated), or ``auto``.
``tags``
    comma list: only rows having any of these tags.
``rows``
    comma list of row ids: only these rows, in this order (with ``tags`` too: those
    of them having any of the tags).
``caption`` / ``name``
    the table's title (inline markup of the page's language) and label.
``no-index``
    do not give the rows their anchors (neither the HTML id nor the ``:ref:`` label),
    for a second rendering of rows that are anchored elsewhere (an id on both
    renderings would be a duplicate id when both are on one page).
``class``
    extra CSS classes for the table (beside ``slurm2sky-mapping-table`` and
    ``slurm2sky-<section>``; rows have ``slurm2sky-row-<id>``, cells
    ``slurm2sky-col-<column>``).

The table is built from docutils nodes directly (never generated reST, which a MyST
page would read as Markdown). Every body row gets ``ids=[row.anchor]`` (e.g.
``option-gres``) and a standard-domain label of that name titled ``row.title()``, so
``:ref:`option-gres``` links to it from any page. Cells are built from
:meth:`slurm2sky.mappings.Row.cells`: literal pieces become ``literal`` nodes, text
pieces text, and markup pieces are parsed by docutils' own reST parser (so notes read
the same in reST and MyST pages); nodes parsed from the file carry the file's path and
the row's line as their source, so any later warning about them points into the file.

Bad directive input is reported as a warning with ``type="slurm2sky"``,
``subtype="directive"`` at the directive's line (correct with ``rst_prolog`` and in
MyST), naming what would be valid; the directive then renders what it can, or nothing.
"""

from __future__ import annotations

import csv
import difflib
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, ClassVar

from docutils import nodes
from docutils.parsers.rst import Parser as DocutilsRSTParser
from docutils.parsers.rst import directives
from docutils.parsers.rst.states import RSTStateMachine
from docutils.statemachine import StringList, string2lines
from docutils.utils import new_document
from sphinx.util import logging
from sphinx.util.docutils import LoggingReporter, SphinxDirective

from slurm2sky.errors import SourceError
from slurm2sky.mappings import COLUMNS, DEFAULT_COLUMNS, SECTIONS, Cell, Row
from slurm2sky.sphinx.source import active_path, get_mappings

if TYPE_CHECKING:
    from docutils.frontend import Values
    from sphinx.util.typing import OptionSpec

logger = logging.getLogger(__name__)

WARNING_TYPE = "slurm2sky"


def comma_list(value: str) -> list[str]:
    """``"a, b,c"`` -> ``["a", "b", "c"]`` (empty items dropped)."""
    return [item.strip() for item in value.split(",") if item.strip()]


def header_list(value: str) -> list[str]:
    """Comma-separated titles; a title holding a comma is written in double quotes."""
    return [item.strip() for item in next(csv.reader([value], skipinitialspace=True), [])]


def _suggest(word: str, valid: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(valid), n=1)
    return f"did you mean {close[0]!r}? " if close else ""


# ---------------------------------------------------------------------------
# Cells


def parse_markup(text: str, *, settings: Values, source: str, line: int) -> list[nodes.Node]:
    """Parse ``text`` (reST inline markup) with docutils' reST parser, whatever the page's
    language.

    The text is parsed into a fresh document that shares the page's ``settings`` (so
    Sphinx roles and the page's environment are available), with every line located
    at ``source``:``line`` (the mappings file and the row), so docutils' own messages
    and any node's location point there. Returns the children of the paragraph when
    the text is one paragraph (the normal case, which the loader checks), else the
    parsed body elements. System messages are logged (by Sphinx's reporter), not
    returned; targets of embedded URIs are dropped (their reference keeps the URI).
    """
    stripped = text.strip()
    if not stripped:
        return []
    document = new_document(source, settings)
    document.reporter = LoggingReporter.from_reporter(document.reporter)
    parser = DocutilsRSTParser()
    parser.setup_parse(stripped, document)
    lines = string2lines(
        stripped, tab_width=getattr(settings, "tab_width", 8), convert_whitespace=True
    )
    # every line of the text is reported at the row's line of the mappings file
    located = StringList(lines, items=[(source, line - 1)] * len(lines))
    # The state machine is run directly rather than through Parser.parse(), which
    # would also delete the page's default role (``default_role``) when it finishes.
    machine = RSTStateMachine(
        state_classes=parser.state_classes,
        initial_state=parser.initial_state,
        debug=document.reporter.debug_flag,
    )
    machine.run(located, document, inliner=parser.inliner)
    parser.finish_parse()

    body = [child for child in document.children if not isinstance(child, nodes.system_message)]
    for child in body:
        for target in list(child.findall(nodes.target)):
            if target.get("refuri") and target.parent is not None:
                target.parent.remove(target)
    if len(body) == 1 and isinstance(body[0], nodes.paragraph):
        return list(body[0].children)
    return body


def cell_nodes(cell: Cell, *, settings: Values, source: str, line: int) -> list[nodes.Element]:
    """The body elements of one table cell: usually one paragraph, or none if empty.

    ``cell`` is a tuple of ``(kind, text)`` pieces from :meth:`Row.cells`; ``kind`` is
    ``"literal"``, ``"text"`` or ``"markup"`` (see :func:`parse_markup`).
    """
    blocks: list[nodes.Element] = []
    paragraph = nodes.paragraph()
    for kind, text in cell:
        if kind == "literal":
            paragraph += nodes.literal(text, text)
        elif kind == "markup":
            # keep the whitespace around a piece (e.g. " `Read more <...>`__"): a
            # leading space would make reST read the piece as a block quote
            if text[:1].isspace() and len(paragraph):
                paragraph += nodes.Text(" ")
            for child in parse_markup(text, settings=settings, source=source, line=line):
                if isinstance(child, nodes.Inline | nodes.Text):
                    paragraph += child
                else:
                    if len(paragraph):
                        blocks.append(paragraph)
                        paragraph = nodes.paragraph()
                    blocks.append(child)  # type: ignore[arg-type]
            if text[-1:].isspace() and text.strip():
                paragraph += nodes.Text(" ")
        else:  # "text" (and any kind a newer model adds: shown as plain text)
            paragraph += nodes.Text(text)
    if len(paragraph):
        blocks.append(paragraph)
    return blocks


def _text_entry(text: str) -> nodes.entry:
    entry = nodes.entry()
    if text:
        entry += nodes.paragraph(text, text)
    return entry


# ---------------------------------------------------------------------------
# The directive


class MappingTableDirective(SphinxDirective):
    """``mapping-table``: one section of the mappings file as a table (see module doc)."""

    required_arguments = 1
    optional_arguments = 0
    final_argument_whitespace = False
    has_content = False
    option_spec: ClassVar[OptionSpec] = {
        "columns": directives.unchanged_required,
        "headers": directives.unchanged_required,
        "widths": directives.unchanged_required,
        "tags": directives.unchanged_required,
        "rows": directives.unchanged_required,
        "caption": directives.unchanged_required,
        "name": directives.unchanged,
        "class": directives.class_option,
        "no-index": directives.flag,
    }

    def warn(self, message: str, *args: object, subtype: str = "directive") -> None:
        """Log a located warning ``[slurm2sky.<subtype>]`` at the directive's line."""
        logger.warning(
            "mapping-table: " + message,
            *args,
            location=self.get_location() or None,
            type=WARNING_TYPE,
            subtype=subtype,
        )

    def run(self) -> list[nodes.Node]:
        path = active_path(self.env.srcdir, self.config.slurm2sky_mappings)
        # declared before reading, so a page whose table failed is also re-read
        # when the file is fixed
        self.env.note_dependency(path)
        try:
            mappings = get_mappings(path)
        except SourceError as error:  # the file changed into a bad one mid-build
            self.warn("the mappings file cannot be used:\n%s", error, subtype="mappings")
            return []

        section = self.arguments[0].strip()
        if section not in SECTIONS:
            self.warn(
                "unknown section %r; %svalid sections: %s",
                section,
                _suggest(section, SECTIONS),
                ", ".join(SECTIONS),
            )
            return []

        chosen = self._columns_and_headers(section)
        if chosen is None:  # a bad :columns: renders nothing, rather than a wrong table
            return []
        columns, headers = chosen
        rows = self._select_rows(section, mappings.section(section))
        if not rows:
            return []
        title, messages = self._caption()
        table, row_nodes = self._build_table(
            section, columns, headers, rows, title, str(mappings.path)
        )
        if "no-index" not in self.options:
            self._register_anchors(rows, row_nodes)
        return [table, *messages]

    # -- option handling ---------------------------------------------------

    def _columns_and_headers(self, section: str) -> tuple[list[str], list[str]] | None:
        known = COLUMNS[section]
        requested = (
            comma_list(self.options["columns"])
            if "columns" in self.options
            else list(DEFAULT_COLUMNS[section])
        )
        titles: list[str] | None = None
        if "headers" in self.options:
            titles = header_list(self.options["headers"])
            if len(titles) != len(requested):
                self.warn(
                    ":headers: gives %d title(s) for %d column(s) (%s); "
                    "give one title per column, comma-separated; using the default titles",
                    len(titles),
                    len(requested),
                    ", ".join(requested),
                )
                titles = None
        unknown = [key for key in requested if key not in known]
        for key in unknown:
            self.warn(
                "unknown column %r for section %r; %svalid columns: %s",
                key,
                section,
                _suggest(key, known),
                ", ".join(known),
            )
        if unknown or not requested:
            return None
        headers = [
            titles[position] if titles is not None else known[key]
            for position, key in enumerate(requested)
        ]
        return requested, headers

    def _select_rows(self, section: str, rows: Sequence[Row]) -> list[Row]:
        selected = list(rows)
        warned = False
        if "rows" in self.options:
            by_id = {row.id: row for row in rows}
            selected = []
            for row_id in comma_list(self.options["rows"]):
                if row_id in by_id:
                    selected.append(by_id[row_id])
                else:
                    warned = True
                    self.warn(
                        "unknown row id %r in section %r; %svalid ids: %s",
                        row_id,
                        section,
                        _suggest(row_id, by_id),
                        ", ".join(by_id),
                    )
        if "tags" in self.options:
            tags = comma_list(self.options["tags"])
            present = list(dict.fromkeys(tag for row in rows for tag in row.tags))
            for tag in tags:
                if tag not in present:
                    warned = True
                    self.warn(
                        "tag %r matches no row of section %r; %s",
                        tag,
                        section,
                        (_suggest(tag, present) + "tags in this section: " + ", ".join(present))
                        if present
                        else "the rows of this section have no tags",
                    )
            wanted = set(tags)
            selected = [row for row in selected if wanted.intersection(row.tags)]
        if not selected and not warned:
            self.warn("no row of section %r is selected; nothing to show", section)
        return selected

    def _widths(self, count: int) -> tuple[str, list[int]]:
        """(table class or "", colwidths) for ``count`` columns."""
        equal = [100 // count] * count
        value = self.options.get("widths", "").strip()
        if not value:
            return "", equal
        if value == "auto":
            return "colwidths-auto", equal
        try:
            widths = [int(item) for item in value.replace(",", " ").split()]
        except ValueError:
            widths = []
        if len(widths) != count or any(width <= 0 for width in widths):
            self.warn(
                ":widths: %r does not fit %d column(s); give %d positive integers "
                "(e.g. %s) or 'auto'",
                value,
                count,
                count,
                " ".join(map(str, equal)),
            )
            return "", equal
        return "colwidths-given", widths

    # -- building ------------------------------------------------------------

    def _caption(self) -> tuple[nodes.title | None, list[nodes.system_message]]:
        """The table's title from ``:caption:``, parsed as inline markup of the page's
        language (reST or MyST), and the parser's messages."""
        if "caption" not in self.options:
            return None, []
        caption = self.options["caption"]
        inline, messages = self.parse_inline(caption, lineno=self.lineno)
        title = nodes.title(caption, "", *inline)
        self.set_source_info(title)
        return title, messages

    def _build_table(
        self,
        section: str,
        columns: list[str],
        headers: list[str],
        rows: list[Row],
        title: nodes.title | None,
        mappings_source: str,
    ) -> tuple[nodes.table, list[nodes.row]]:
        """The table node, and its body rows (one per ``rows`` item, in order)."""
        table = nodes.table(classes=["slurm2sky-mapping-table", f"slurm2sky-{section}"])
        table["classes"] += self.options.get("class", [])
        self.set_source_info(table)
        width_class, widths = self._widths(len(columns))
        if width_class:
            table["classes"].append(width_class)
        if title is not None:
            table += title
        self.add_name(table)

        tgroup = nodes.tgroup(cols=len(columns))
        table += tgroup
        for width in widths:
            tgroup += nodes.colspec(colwidth=width)

        thead = nodes.thead()
        header_row = nodes.row()
        for header in headers:
            header_row += _text_entry(header)
        thead += header_row
        tgroup += thead

        settings = self.state.document.settings
        tbody = nodes.tbody()
        row_nodes = []
        for row in rows:
            cells = row.cells()
            row_node = nodes.row(classes=[f"slurm2sky-row-{row.id}"])
            self.set_source_info(row_node)
            for key in columns:
                entry = nodes.entry(classes=[f"slurm2sky-col-{key}"])
                entry += cell_nodes(
                    cells.get(key, ()), settings=settings, source=mappings_source, line=row.line
                )
                row_node += entry
            tbody += row_node
            row_nodes.append(row_node)
        tgroup += tbody
        return table, row_nodes

    def _register_anchors(self, rows: list[Row], row_nodes: list[nodes.row]) -> None:
        """Give each body row its anchor id and a standard-domain label (``:ref:``),
        titled ``row.title()``; a row whose anchor is taken is warned about and left
        without one."""
        document = self.state.document
        std = self.env.domains.standard_domain
        docname = self.env.docname
        for row, row_node in zip(rows, row_nodes, strict=True):
            anchor = row.anchor
            if anchor in document.ids:
                self.warn(
                    "row %r is already anchored on this page (%r is taken); add "
                    ":no-index: to every rendering of it but one",
                    row.id,
                    anchor,
                )
                continue
            other = std.anonlabels.get(anchor)
            if other is not None and other != (docname, anchor):
                self.warn(
                    "row %r is already anchored as %r in %s; add :no-index: to every "
                    "rendering of it but one",
                    row.id,
                    anchor,
                    self.env.doc2path(other[0]),
                )
                continue
            row_node["ids"].append(anchor)
            document.ids[anchor] = row_node
            std.note_hyperlink_target(anchor, docname, anchor, row.title())
