"""The slurm2sky Sphinx extension: ``extensions = ["slurm2sky.sphinx"]``.

Registers

- the config value ``slurm2sky_mappings`` (str; ``""`` = the default file, see
  :func:`slurm2sky.sphinx.source.resolve_mappings_path`; relative paths are relative
  to the directory of conf.py; changing it re-reads every page);
- the directive ``mapping-table`` (:mod:`slurm2sky.sphinx.tables`), in reST and MyST.

The mappings file is loaded and fully checked at ``builder-inited``; a bad file stops
the build with :class:`MappingsFileError`, whose message is one
``file:line:col: key: what is wrong — valid: ...`` line per problem. The extension
stores nothing on the build environment (row labels go to the standard domain, which
purges and merges them itself), so it declares no ``env_version`` and is safe for
parallel reading and writing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sphinx.errors import ExtensionError
from sphinx.util import logging

from slurm2sky import __version__
from slurm2sky.errors import SourceError
from slurm2sky.sphinx.source import get_mappings, resolve_mappings_path, set_active_path

if TYPE_CHECKING:
    from sphinx.application import Sphinx


logger = logging.getLogger(__name__)


class MappingsFileError(ExtensionError):
    """The mappings file cannot be used; ``problems`` holds the located problems.

    Each problem has already been logged as a located error; the message only counts
    them, so the build log shows every problem once.
    """

    def __init__(self, error: SourceError) -> None:
        count = len(error.problems)
        where = error.problems[0].file
        super().__init__(
            f"{where}: {count} problem{'s' if count != 1 else ''} in the mappings file "
            "(listed above); the build stops here",
            modname=__name__,
        )
        self.problems = error.problems

    @property
    def category(self) -> str:
        return "slurm2sky: the mappings file cannot be used"


def _load_at_builder_inited(app: Sphinx) -> None:
    """Resolve, load and check the mappings file once per build, before any page is read.

    Raises :class:`MappingsFileError` (after logging each problem as a located error
    ``[slurm2sky.mappings]``) when the file is missing or invalid.
    """
    path = resolve_mappings_path(app.config.slurm2sky_mappings, app.confdir)
    set_active_path(app.srcdir, path)
    try:
        get_mappings(path)
    except SourceError as error:
        # Each problem as a located error first, in the form of every other Sphinx
        # diagnostic (editors and CI problem matchers read it); then stop the build.
        for problem in error.problems:
            location = (
                problem.file
                if problem.line <= 0
                else f"{problem.file}:{problem.line}:{problem.column}"
            )
            logger.error(
                str(problem).removeprefix(location + ": "),
                location=location,
                type="slurm2sky",
                subtype="mappings",
            )
        # ``from None``: the located problems are the whole story; a chained
        # traceback of the loader would only hide them.
        raise MappingsFileError(error) from None


STATIC = Path(__file__).with_name("static")


def _add_static(app: Sphinx) -> None:
    """Ship the tables' stylesheet with HTML builds (not other builders)."""
    if app.builder.format == "html":
        app.config.html_static_path.append(str(STATIC))
        app.add_css_file("slurm2sky-tables.css")


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the config value, the directive and the loader (see the module doc)."""
    from slurm2sky.sphinx.tables import MappingTableDirective

    app.add_config_value(
        "slurm2sky_mappings",
        "",
        "env",
        types=frozenset({str}),
        description="Path of the mappings file (absolute or relative to conf.py); "
        "'' = ../mappings/slurm-to-skypilot.yaml if present, else the packaged copy.",
    )
    app.add_directive("mapping-table", MappingTableDirective)
    app.connect("builder-inited", _load_at_builder_inited)
    app.connect("builder-inited", _add_static)
    return {
        "version": __version__,
        "parallel_read_safe": True,
        "parallel_write_safe": True,
    }
