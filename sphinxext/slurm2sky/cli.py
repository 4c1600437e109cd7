"""The ``slurm2sky`` command line.

Exit codes: 0 success; 1 the input is invalid (each problem printed to stderr as
``file:line:column: ...``); 2 the command line itself is wrong (argparse's usage error).
"""

from __future__ import annotations

import argparse
import json
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
    return parser


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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "mappings":
        return _mappings(args)
    parser.print_help()
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
