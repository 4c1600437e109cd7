"""The slurm2sky Sphinx extension: ``extensions = ["slurm2sky.sphinx"]``.

Registers

- the config value ``slurm2sky_mappings`` (str; ``""`` = the default file, see
  :func:`slurm2sky.sphinx.source.resolve_mappings_path`; relative paths are relative
  to the directory of conf.py; changing it re-reads every page);
- the directive ``mapping-table`` (:mod:`slurm2sky.sphinx.tables`), in reST and MyST;
- the build-time checks of the examples (:mod:`slurm2sky.sphinx.checks`) with the config
  values ``slurm2sky_check`` (bool, default True), ``slurm2sky_engine`` (``"embedded"``
  or ``"skypilot"``), ``slurm2sky_skypilot_version`` (default
  ``slurm2sky.SKYPILOT_VERSION``) and ``slurm2sky_skypilot_python`` (the Python the
  ``skypilot`` engine runs; ``""`` = ``$SLURM2SKY_SKYPILOT_PYTHON``, else this one), and
  the builder ``skypilot-check`` (:mod:`slurm2sky.sphinx.builder`). A setting that
  cannot work (an unknown engine, a release with no snapshot, a ``skypilot`` engine
  whose Python has no skypilot) is one error located at conf.py, and the build stops
  with exit status 1 before any page is read.

The mappings file is loaded and fully checked at ``builder-inited``; a bad file is
reported as one located error ``file:line:col: key: what is wrong — valid: ...`` per
problem, and the build stops with exit status 1 before any page is read.

On the build environment the extension stores one thing: the pages whose examples
failed (``env.slurm2sky_recheck``), so that the next build reads them again and their
warnings come back until they are fixed (Sphinx replays no read-time warning of a page
it does not read). It is purged per page and merged from parallel readers, hence
``env_version``; row labels go to the standard domain, which purges and merges them
itself. The extension is safe for parallel reading and writing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sphinx.util import logging

from slurm2sky import __version__
from slurm2sky.errors import SourceError
from slurm2sky.sphinx.source import get_mappings, resolve_mappings_path, set_active_path

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.config import Config


logger = logging.getLogger(__name__)


def _load_at_builder_inited(app: Sphinx) -> None:
    """Resolve, load and check the mappings file once per build, before any page is read.

    A missing or invalid file is reported as one located error per problem
    (``file:line:col: ERROR: key: what is wrong — valid: ...`` ``[slurm2sky.mappings]``)
    and the build stops with exit status 1. It stops with :class:`SystemExit`, as a
    command line does on bad input: Sphinx prints a crash report with a traceback for
    every ``Exception`` an extension raises, and these are mistakes in a data file,
    not crashes.
    """
    path = resolve_mappings_path(app.config.slurm2sky_mappings, app.confdir)
    set_active_path(app.srcdir, path)
    try:
        get_mappings(path)
    except SourceError as error:
        for problem in error.problems:
            logger.error(
                problem.description,
                location=problem.location,
                type="slurm2sky",
                subtype="mappings",
            )
        logger.error(
            "slurm2sky: the build stops here: fix the mappings file (%d problem%s above)",
            len(error.problems),
            "" if len(error.problems) == 1 else "s",
            type="slurm2sky",
            subtype="mappings",
        )
        raise SystemExit(1) from None


STATIC = Path(__file__).with_name("static")


def _add_static(app: Sphinx, config: Config) -> None:
    """Ship the tables' stylesheet (``config-inited``, so that the value Sphinx compares
    between builds already holds it and an incremental build sees no config change)."""
    if str(STATIC) not in config.html_static_path:
        config.html_static_path.append(str(STATIC))


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the config value, the directive and the loader (see the module doc)."""
    from slurm2sky import SKYPILOT_VERSION
    from slurm2sky.sphinx import checks
    from slurm2sky.sphinx.builder import SkyPilotCheckBuilder
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
    app.connect("config-inited", _add_static)
    app.add_css_file("slurm2sky-tables.css")
    app.add_config_value(
        "slurm2sky_check",
        True,
        "env",
        types=frozenset({bool}),
        description="Check every example against SkyPilot while reading the pages.",
    )
    app.add_config_value(
        "slurm2sky_engine",
        "embedded",
        "env",
        types=frozenset({str}),
        description="Validation engine for YAML examples: 'embedded' or 'skypilot'.",
    )
    app.add_config_value(
        "slurm2sky_skypilot_version",
        SKYPILOT_VERSION,
        "env",
        types=frozenset({str}),
        description="The SkyPilot release the examples must be valid for.",
    )
    app.add_config_value(
        "slurm2sky_skypilot_python",
        "",
        "env",
        types=frozenset({str}),
        description="The Python (with skypilot installed) that slurm2sky_engine = "
        "'skypilot' runs; '' = $SLURM2SKY_SKYPILOT_PYTHON, else the Python of the build.",
    )
    app.connect("config-inited", checks.check_config)
    app.connect("builder-inited", checks.on_builder_inited, priority=600)
    app.connect("doctree-read", checks.on_doctree_read)
    app.connect("env-get-outdated", checks.on_env_get_outdated)
    app.connect("env-purge-doc", checks.on_env_purge_doc)
    app.connect("env-merge-info", checks.on_env_merge_info)
    app.add_builder(SkyPilotCheckBuilder)
    return {
        "version": __version__,
        # 1: env.slurm2sky_recheck (the pages whose examples failed)
        "env_version": 1,
        "parallel_read_safe": True,
        "parallel_write_safe": True,
    }
