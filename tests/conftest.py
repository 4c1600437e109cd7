"""Shared fixtures: Sphinx's own testing fixtures, the test roots, and a small build helper.

Test roots live in ``tests/roots/test-<name>/``. Builds run with
:class:`sphinx.testing.util.SphinxTestApp` in a temporary copy of a root; the
``sphinx_build`` fixture returns a function that builds and hands back a
:class:`BuildResult` (HTML pages parsed with BeautifulSoup, warnings parsed into
records, and the docnames each build re-read).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path
from typing import Any

import pytest

pytest_plugins = ("sphinx.testing.fixtures",)

TESTS = Path(__file__).resolve().parent
ROOTS = TESTS / "roots"
REPO = TESTS.parent
REPO_MAPPINGS = REPO / "mappings" / "slurm-to-skypilot.yaml"


@pytest.fixture(scope="session")
def rootdir() -> Path:
    """The directory of the test roots (``@pytest.mark.sphinx(testroot=...)``)."""
    return ROOTS


# ---------------------------------------------------------------------------
# Reading built HTML

_ANSI = re.compile(r"\x1b\[[0-9;]*[mK]")
#: smart quotes, en dash and ellipsis (Sphinx's smartquotes) -> ASCII
_TYPOGRAPHY = str.maketrans(
    {"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u2013": "--", "\u2026": "..."}
)


def normalize_text(text: str) -> str:
    """Whitespace collapsed, and Sphinx's smart quotes/dashes turned back to ASCII."""
    return " ".join(text.translate(_TYPOGRAPHY).split())


@dataclass(frozen=True)
class TableView:
    """A rendered ``<table>``: header texts and body rows as (tr id or None, cell texts)."""

    page: str
    id: str
    classes: tuple[str, ...]
    caption: str | None
    headers: list[str]
    rows: list[tuple[str | None, list[str]]]
    html: str

    def column(self, header: str) -> int:
        return self.headers.index(header)


def read_table(page: str, table: Any) -> TableView:
    caption = table.find("caption")
    caption_text = table.find("caption").find(class_="caption-text") if caption else None
    headers = [normalize_text(th.get_text()) for th in table.find("thead").find_all("th")]
    rows = [
        (tr.get("id"), [normalize_text(td.get_text()) for td in tr.find_all("td")])
        for tr in table.find("tbody").find_all("tr", recursive=False)
    ]
    return TableView(
        page=page,
        id=table.get("id", ""),
        classes=tuple(table.get("class", ())),
        caption=normalize_text(caption_text.get_text()) if caption_text else None,
        headers=headers,
        rows=rows,
        html=str(table),
    )


@dataclass(frozen=True)
class WarningRecord:
    """One line of Sphinx's warning stream: ``file:line: LEVEL: message [type.subtype]``."""

    file: str
    line: int | None
    level: str
    message: str
    type: str | None


_WARNING_LINE = re.compile(
    r"^(?P<location>.*?): (?P<level>WARNING|ERROR|CRITICAL): (?P<message>.*?)"
    r"(?: \[(?P<type>[\w.-]+)\])?$"
)


def parse_warnings(text: str) -> list[WarningRecord]:
    records = []
    for raw in _ANSI.sub("", text).splitlines():
        match = _WARNING_LINE.match(raw)
        if not match:
            continue
        location = match["location"]
        file, line = location, None
        found = re.match(r"^(.*?):(\d+)(?::\d+)?$", location)
        if found:
            file, line = found[1], int(found[2])
        records.append(WarningRecord(file, line, match["level"], match["message"], match["type"]))
    return records


@dataclass
class BuildResult:
    """A finished build of a test root."""

    srcdir: Path
    outdir: Path
    status: str = field(repr=False)
    warnings: str = field(repr=False)
    reread: list[str]
    labels: dict[str, tuple[str, str, str]] = field(repr=False)
    mappings_path: Path
    #: page (path relative to outdir) -> HTML text, read when the build finished
    html: dict[str, str] = field(repr=False)
    _soups: dict[str, Any] = field(default_factory=dict, repr=False)

    def soup(self, page: str) -> Any:
        """The parsed HTML of ``page`` (e.g. ``"options.html"``)."""
        from bs4 import BeautifulSoup

        if page not in self._soups:
            self._soups[page] = BeautifulSoup(self.html[page], "html.parser")
        return self._soups[page]

    def pages(self) -> list[str]:
        return sorted(self.html)

    def tables(self) -> dict[str, TableView]:
        """Every table with an id on every page, by id."""
        found: dict[str, TableView] = {}
        for page in self.pages():
            for table in self.soup(page).find_all("table"):
                if table.get("id"):
                    view = read_table(page, table)
                    assert view.id not in found, f"table id {view.id} twice"
                    found[view.id] = view
        return found

    def warning_records(self) -> list[WarningRecord]:
        return parse_warnings(self.warnings)


def copy_root(name: str, dest: Path) -> Path:
    """Copy ``tests/roots/test-<name>`` to ``dest`` (created) and return ``dest``."""
    shutil.copytree(ROOTS / f"test-{name}", dest)
    return dest


def run_build(srcdir: Path, *, builddir: Path | None = None, **kwargs: Any) -> BuildResult:
    """Build ``srcdir`` with a SphinxTestApp (html by default); keyword arguments go to
    SphinxTestApp (``confoverrides``, ``parallel``, ``freshenv``, ...).

    Exceptions from the build propagate (after the app's global state is cleaned up).
    """
    from sphinx.testing.util import SphinxTestApp

    reread: list[str] = []
    app = SphinxTestApp(
        kwargs.pop("buildername", "html"),
        srcdir=srcdir,
        builddir=builddir,
        status=StringIO(),
        warning=StringIO(),
        **kwargs,
    )
    try:
        app.connect("env-before-read-docs", lambda _app, _env, docnames: reread.extend(docnames))
        app.build()
        std = app.env.domains.standard_domain
        from slurm2sky.sphinx.source import active_path

        outdir = Path(app.outdir)
        html = {
            str(path.relative_to(outdir)): path.read_text(encoding="utf-8")
            for path in sorted(outdir.rglob("*.html"))
            if path.name not in ("genindex.html", "search.html")
        }
        return BuildResult(
            srcdir=srcdir,
            outdir=outdir,
            status=_ANSI.sub("", app.status.getvalue()),
            warnings=_ANSI.sub("", app.warning.getvalue()),
            reread=sorted(reread),
            labels=dict(std.labels),
            mappings_path=active_path(app.srcdir, app.config.slurm2sky_mappings),
            html=html,
        )
    finally:
        app.cleanup()


@pytest.fixture(scope="session")
def sphinx_build() -> Callable[..., BuildResult]:
    """``sphinx_build(srcdir, **SphinxTestApp kwargs) -> BuildResult``."""
    return run_build


@pytest.fixture(scope="session")
def sphinx_root() -> Callable[[str, Path], Path]:
    """``sphinx_root(name, dest) -> dest``: a fresh copy of ``tests/roots/test-<name>``."""
    return copy_root
