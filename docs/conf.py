"""Sphinx configuration for the slurm2sky guide.

Build (from the repository root)::

    sphinx-build -W --keep-going -n -b html docs docs/_build/html

The ``mapping-table`` directive comes from ``slurm2sky.sphinx``. It finds
``mappings/slurm-to-skypilot.yaml`` relative to this file by itself; set
``slurm2sky_mappings`` only to render a different mappings file.

Nothing here fetches anything at build or view time: no intersphinx, no analytics,
no fonts or scripts from a CDN. Links to SkyPilot's documentation are plain URLs.
"""

from __future__ import annotations

import slurm2sky

# -- Project -------------------------------------------------------------------------

project = "slurm2sky"
author = "the slurm2sky authors"
copyright = "the slurm2sky authors"
version = slurm2sky.__version__
release = slurm2sky.__version__

#: The SkyPilot release every example and table targets.
skypilot_version = slurm2sky.SKYPILOT_VERSION

# -- General -------------------------------------------------------------------------

extensions = [
    "myst_parser",
    "sphinx_design",
    "sphinx_copybutton",
    "slurm2sky.sphinx",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build"]
language = "en"

# Every cross-reference must resolve; the build runs with -n -W.
nitpicky = True

# Curly quotes and ellipses, but no dashes: option names such as ``--time`` appear in
# link texts (:ref:`--time <option-time>`) and must not turn into an en dash.
smartquotes_action = "qe"

# Code blocks without a language are plain text, never guessed.
highlight_language = "none"

# ``|skypilot_version|`` in any reST page. An epilog, not a prolog: appended text leaves
# the line numbers of warnings in the page itself unchanged.
rst_epilog = f"""
.. |skypilot_version| replace:: {skypilot_version}
"""

# -- MyST ----------------------------------------------------------------------------

myst_enable_extensions = ["colon_fence"]

# -- Copy buttons --------------------------------------------------------------------

# ``console`` blocks show a ``$ `` prompt; the button copies the commands only, without
# prompts or output lines. Other blocks (bash, yaml) are copied as they are.
copybutton_prompt_text = "$ "
copybutton_only_copy_prompt_lines = True
copybutton_remove_prompts = True
copybutton_copy_empty_lines = False

# -- HTML ----------------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = "slurm2sky"
html_short_title = "slurm2sky"
html_static_path = ["_static"]
html_css_files = ["slurm2sky.css"]
html_show_sourcelink = False
html_copy_source = False

html_theme_options = {
    "logo": {"text": "slurm2sky"},
    "navbar_align": "left",
    "navbar_start": ["navbar-logo"],
    "navbar_center": ["navbar-nav"],
    "navbar_end": ["theme-switcher"],
    "navbar_persistent": ["search-button"],
    "header_links_before_dropdown": 4,
    # The pages built around wide tables give the page's width to the tables instead
    # of an "On this page" column.
    "secondary_sidebar_items": {
        "**": ["page-toc"],
        "guide/commands": [],
        "guide/environment-variables": [],
        "guide/job-arrays": [],
        "guide/job-options": [],
        "guide/resource-requests": [],
        "guide/porting-sbatch": [],
    },
    "show_toc_level": 2,
    "show_nav_level": 1,
    "navigation_depth": 3,
    "navigation_with_keys": False,
    "footer_start": ["copyright"],
    "footer_center": [],
    "footer_end": ["sphinx-version"],
    # No icon links, no version switcher, no analytics: nothing is fetched at view time.
    "icon_links": [],
}
html_sidebars = {
    "index": [],
}
