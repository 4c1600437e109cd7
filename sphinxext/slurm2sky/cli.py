"""The ``slurm2sky`` command line.

Exit codes: 0 success; 1 the input is invalid (each problem printed to stderr as
``file:line:column: ...``); 2 the command line itself is wrong (argparse's usage error;
for ``check`` also a file that cannot be read or a validation engine that cannot run).

Subcommands: ``mappings`` (check the mappings file), ``check`` (check SkyPilot task,
config and volume YAML files as SkyPilot would load them).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import asdict

from slurm2sky import SKYPILOT_VERSION, __version__
from slurm2sky.errors import SourceError
from slurm2sky.mappings import SECTIONS, default_mappings_path, load_mappings

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="slurm2sky",
        description=(
            "Tools for moving batch work from Slurm to SkyPilot "
            f"(targets SkyPilot {SKYPILOT_VERSION})."
        ),
        epilog="Exit codes: 0 success, 1 invalid input, 2 bad command line.",
    )
    parser.add_argument("--version", action="version", version=f"slurm2sky {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    mappings = commands.add_parser(
        "mappings",
        help="check the mappings file and summarise it",
        description=(
            "Check a mappings file against its schema and the project's rules, then print "
            "how many rows each section has (or the whole file as JSON with --json)."
        ),
    )
    mappings.add_argument(
        "path",
        nargs="?",
        metavar="FILE",
        help=f"the mappings file (default: {default_mappings_path()})",
    )
    mappings.add_argument("--json", action="store_true", help="print the checked rows as JSON")
    _add_check(commands)
    return parser


def _add_check(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    check = commands.add_parser(
        "check",
        help="check SkyPilot task, config and volume YAML files",
        description=(
            f"Check SkyPilot YAML files as SkyPilot {SKYPILOT_VERSION} loads them on the "
            "client (sky launch / sky jobs launch / sky volumes apply): schemas, "
            "pre-processing and semantic checks. Each problem is printed to stderr as "
            "FILE:LINE:COLUMN: MESSAGE; each file then gets a summary line on stdout: "
            "'FILE: valid', 'FILE: valid, needs --env NAME' (a null env to supply at "
            "launch) or 'FILE: invalid (N issues)'."
        ),
        epilog="Exit codes: 0 every file valid, 1 a file is invalid, 2 bad command line, "
        "unreadable file or unavailable engine.",
    )
    check.add_argument("files", nargs="+", metavar="FILE", help="YAML files; - reads stdin")
    check.add_argument(
        "--engine",
        choices=("embedded", "skypilot"),
        default="embedded",
        help="embedded (default): the rules of the embedded SkyPilot snapshot, no SkyPilot "
        "needed; skypilot: SkyPilot's own loaders, in a Python with skypilot installed",
    )
    check.add_argument(
        "--kind",
        choices=("task", "config", "volume"),
        help="what the files are: a task YAML (also a pipeline or job group), a "
        "~/.sky/config.yaml, a volume (sky volumes apply); default: inferred per file",
    )
    check.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a value for a task env, as sky launch --env (repeatable; KEY alone takes the "
        "value from this environment)",
    )
    check.add_argument(
        "--skypilot-python",
        metavar="PATH",
        help="the Python with skypilot installed that --engine skypilot runs "
        "(default: $SLURM2SKY_SKYPILOT_PYTHON, else this Python)",
    )


def _mappings(args: argparse.Namespace) -> int:
    try:
        mappings = load_mappings(args.path)
    except SourceError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        return EXIT_INVALID
    if args.json:
        data = {
            "path": str(mappings.path),
            "skypilot": mappings.skypilot,
            **{
                section: [
                    {"anchor": row.anchor, **asdict(row)} for row in mappings.section(section)
                ]
                for section in SECTIONS
            },
        }
        json.dump(data, sys.stdout, indent=2, ensure_ascii=False, default=str)
        print()
        return EXIT_OK
    print(f"{mappings.path}: valid for SkyPilot {mappings.skypilot}")
    for section in SECTIONS:
        print(f"  {section}: {len(mappings.section(section))} rows")
    return EXIT_OK


def _parse_envs(parser: argparse.ArgumentParser, values: list[str]) -> dict[str, str]:
    envs: dict[str, str] = {}
    for value in values:
        key, equals, text = value.partition("=")
        if not key:
            parser.error(f"argument --env: expected KEY=VALUE, got {value!r}")
        if not equals:
            if key not in os.environ:
                parser.error(f"argument --env: {key} is not set in this environment")
            text = os.environ[key]
        envs[key] = text
    return envs


def _read(path: str) -> tuple[str | None, str | None]:
    """``(text, None)``, ``("", "not-utf8")``, or ``(None, why it cannot be read)``."""
    try:
        if path == "-":
            data = sys.stdin.buffer.read()
        else:
            with open(path, "rb") as handle:
                data = handle.read()
    except OSError as error:
        return None, error.strerror or str(error)
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        return "", "not-utf8"


def _check(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from slurm2sky.validate import EngineUnavailable, Issue, Verdict, get_engine, validate_text

    envs = _parse_envs(parser, args.env)
    engine = get_engine(args.engine, python=args.skypilot_python)
    status = EXIT_OK
    try:
        for path in args.files:
            name = "<stdin>" if path == "-" else path
            text, problem = _read(path)
            if text is None:
                print(f"{name}: cannot read: {problem}", file=sys.stderr)
                status = max(status, EXIT_USAGE)
                continue
            if problem == "not-utf8":
                message = f"{name!r} is not a valid UTF-8 text file and cannot be parsed as YAML."
                verdict = Verdict(
                    args.kind or "", engine.name, (Issue(0, 0, message, code="yaml"),)
                )
            else:
                verdict = validate_text(text, args.kind, env=envs, engine=engine, source=name)
            for issue in verdict.issues:
                print(issue.format(name), file=sys.stderr)
            sys.stderr.flush()
            print(f"{name}: {verdict.summary()}", flush=True)
            if not verdict.valid:
                status = max(status, EXIT_INVALID)
    except EngineUnavailable as error:
        print(f"slurm2sky check: {error}", file=sys.stderr)
        return EXIT_USAGE
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "mappings":
            return _mappings(args)
        if args.command == "check":
            return _check(parser, args)
        parser.print_help()
        return EXIT_OK
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): stop quietly, as the Python docs advise.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_INVALID


if __name__ == "__main__":
    sys.exit(main())
