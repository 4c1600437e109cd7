"""Sessions: ``docs`` builds the guide, ``tests`` runs the test suite (a full docs build
included), ``docs-live`` previews edits, ``lint`` runs ruff.

Each session installs what it needs into its own virtual environment.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import nox

nox.options.sessions = ["docs", "tests", "lint"]
nox.options.reuse_existing_virtualenvs = True

DOCS_OUT = "docs/_build/html"
DOCTREES = "docs/_build/doctrees"
SPHINX_FLAGS = ["-W", "--keep-going", "-n", "-d", DOCTREES, "-b", "html", "docs", DOCS_OUT]


@nox.session
def docs(session: nox.Session) -> None:
    """Build the guide as HTML into docs/_build/html; any warning fails the build."""
    session.install("-e", ".[docs]")
    # One process: the guide is small, and forking readers costs more than it saves
    # (bench/docs_build.py: 2.13 s at -j 1, 2.32 s at -j 2 on two cores).
    session.run("sphinx-build", *SPHINX_FLAGS, *session.posargs)


@nox.session(name="docs-live")
def docs_live(session: nox.Session) -> None:
    """Serve the guide on http://127.0.0.1:8000 and rebuild on every edit of the
    mappings file, the extension or a page."""
    session.install("-e", ".[docs]", "sphinx-autobuild")
    session.run(
        "sphinx-autobuild",
        "--watch",
        "mappings",
        "--watch",
        "sphinxext",
        "--port",
        "8000",
        "-d",
        DOCTREES,
        "docs",
        DOCS_OUT,
        *session.posargs,
    )


def _target_version() -> str:
    """The SkyPilot release the guide targets: SKYPILOT_VERSION in the package."""
    init = Path("sphinxext/slurm2sky/__init__.py").read_text(encoding="utf-8")
    match = re.search(r'^SKYPILOT_VERSION = "([^"]+)"$', init, re.M)
    if match is None:
        raise SystemExit("SKYPILOT_VERSION not found in sphinxext/slurm2sky/__init__.py")
    return match.group(1)


def _skypilot_python(session: nox.Session) -> str:
    """The Python of a virtual environment that holds the targeted SkyPilot release,
    kept beside the session's own (SkyPilot pins many packages of its own, so it gets
    an environment to itself); made once, reused while its version matches."""
    version = _target_version()
    venv = Path(session.virtualenv.location).parent / f"skypilot-{version}"
    python = venv / "bin" / "python"
    marker = venv / "slurm2sky-installed"
    if not marker.exists():
        session.run("python", "-m", "venv", "--clear", str(venv))
        session.run(
            str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip", external=True
        )
        session.run(
            str(python), "-m", "pip", "install", "--quiet", f"skypilot=={version}", external=True
        )
        marker.write_text(version, encoding="utf-8")
    return str(python)


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite (pytest), which also builds the whole guide with -W, and runs
    the parity tests against the targeted SkyPilot release, installed beside it."""
    session.install("-e", ".[test]")
    python = _skypilot_python(session)
    session.run("pytest", *session.posargs, env={"SLURM2SKY_SKYPILOT_PYTHON": python})


@nox.session
def lint(session: nox.Session) -> None:
    """ruff: lint and formatting."""
    session.install("ruff>=0.15,<0.18")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(name="refresh-skypilot")
def refresh_skypilot(session: nox.Session) -> None:
    """Regenerate sphinxext/slurm2sky/validate/data/skypilot-<version>.json from the
    SkyPilot release the guide targets (SKYPILOT_VERSION in the package);
    `nox -s refresh-skypilot -- --check` only checks that it is current.
    Installs skypilot (about 460 MB)."""
    session.install(f"skypilot=={_target_version()}")
    with tempfile.TemporaryDirectory(prefix="skypilot-home-") as home:
        session.run("python", "tools/refresh_skypilot.py", *session.posargs, env={"HOME": home})
