"""The ``slurm2sky`` command line.

Exit codes: 0 success; 1 the input is invalid (each problem printed to stderr as
``file:line:column: ...``); 2 the command line itself is wrong (argparse's usage error;
for ``check`` also a file that cannot be read: missing, a directory, binary or not
UTF-8, located at its first bad byte; or a validation engine that cannot run).

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
from typing import TYPE_CHECKING

from slurm2sky import SKYPILOT_VERSION, __version__
from slurm2sky.errors import SourceError
from slurm2sky.mappings import SECTIONS, default_mappings_path, load_mappings

if TYPE_CHECKING:
    from slurm2sky.validate import Issue

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
    commands.add_parser(
        "convert",
        help="convert sbatch scripts to SkyPilot task YAML (slurm2sky convert --help)",
        add_help=False,
    )
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
    check = _add_check(commands)
    check.set_defaults(subparser=check)
    return parser


def _add_check(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    check = commands.add_parser(
        "check",
        help="check SkyPilot task, config and volume YAML files",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            f"Check SkyPilot YAML files as SkyPilot {SKYPILOT_VERSION} loads them on the\n"
            "client (sky launch / sky jobs launch / sky volumes apply): schemas,\n"
            "pre-processing and semantic checks. Each problem is printed to stderr as\n"
            "FILE:LINE:COLUMN: MESSAGE; each file then gets a summary line on stdout:\n"
            "'FILE: valid', 'FILE: valid, needs --env NAME' (a null env to supply at\n"
            "launch), 'FILE: invalid (N issues)' or, with --skip-unknown, 'FILE: skipped\n"
            "(...)'.\n\n"
            "Not checked: what SkyPilot checks only on its API server or at launch (the\n"
            "server tier, sky launch --dryrun): the task name's format, that workdir and\n"
            "file_mounts paths exist on disk, and whether the infra, regions, instance\n"
            "types and accelerators are in the catalog or available to you."
        ),
        epilog="Exit codes: 0 every file valid (or skipped); 1 a file is invalid; 2 bad "
        "command line, a file that cannot be read (missing, a directory, binary or not "
        "UTF-8 text) or an engine that cannot run.",
    )
    check.add_argument("files", nargs="+", metavar="FILE", help="YAML files; - reads stdin (once)")
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
        "~/.sky/config.yaml, a volume (sky volumes apply); default: inferred per file "
        "from its fields (a file whose kind cannot be inferred is invalid, or skipped "
        "with --skip-unknown)",
    )
    check.add_argument(
        "--skip-unknown",
        action="store_true",
        help="report a file whose kind cannot be inferred (YAML that is no SkyPilot "
        "document, e.g. .pre-commit-config.yaml) as skipped instead of invalid; YAML "
        "syntax errors still fail (without --kind only)",
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
    return check


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


def byte_position(data: bytes, index: int) -> tuple[int, int]:
    """1-based (line, column) of byte ``index`` (the column counts bytes)."""
    line_start = data.rfind(b"\n", 0, index) + 1
    return data.count(b"\n", 0, index) + 1, index - line_start + 1


def read_bytes(path: str) -> bytes:
    """The bytes of file ``path``, or of standard input for ``-``. Raises OSError."""
    if path == "-":
        return sys.stdin.buffer.read()
    with open(path, "rb") as handle:
        return handle.read()


def discard_stdout() -> None:
    """Point standard output at ``os.devnull``, so that what is still buffered for it
    (a reader that went away, a full disk) is dropped at exit instead of failing again
    with a traceback. Source: the Python docs, ``signal`` module, "Note on SIGPIPE"."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def nul_position(data: bytes, end: int | None = None) -> tuple[int, int] | None:
    """Where the first NUL byte of ``data[:end]`` is (a binary file), or ``None``."""
    nul = data.find(b"\0", 0, len(data) if end is None else end)
    return byte_position(data, nul) if nul >= 0 else None


def _read(path: str) -> tuple[str | None, str]:
    """``(text, "")``, or ``(None, why it cannot be read)``: an OS error, a binary file
    (a NUL byte) or bytes that are not UTF-8, located as ``LINE:COLUMN: ...``."""
    try:
        data = read_bytes(path)
    except OSError as error:
        return None, error.strerror or str(error)
    nul = nul_position(data)
    if nul is not None:
        return None, f"{nul[0]}:{nul[1]}: a binary file (NUL byte), not YAML text"
    try:
        return data.decode("utf-8"), ""
    except UnicodeDecodeError as error:
        line, column = byte_position(data, error.start)
        byte = data[error.start]
        return None, f"{line}:{column}: not UTF-8 text (byte 0x{byte:02x}), not YAML text"


def _kind_hint(issue: Issue) -> Issue:
    """The "cannot tell what kind" issue, with the options that settle it."""
    from dataclasses import replace

    return replace(
        issue,
        message="cannot tell what kind of SkyPilot document this is (task, config or "
        "volume): pass --kind task|config|volume, or --skip-unknown to report files that "
        "are no SkyPilot document as skipped",
    )


def _check(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from slurm2sky.validate import EngineUnavailable, get_engine, validate_text

    if args.files.count("-") > 1:
        parser.error("argument FILE: - (stdin) can be given only once")
    envs = _parse_envs(parser, args.env)
    engine = get_engine(args.engine, python=args.skypilot_python)
    status = EXIT_OK
    try:
        for path in args.files:
            name = "<stdin>" if path == "-" else path
            text, problem = _read(path)
            if text is None:
                print(_unreadable(name, problem), file=sys.stderr)
                status = max(status, EXIT_USAGE)
                continue
            verdict = validate_text(text, args.kind, env=envs, engine=engine, source=name)
            unknown = not verdict.kind and any(i.code == "kind" for i in verdict.issues)
            if unknown and args.skip_unknown:
                print(f"{name}: skipped (not a SkyPilot task, config or volume)", flush=True)
                continue
            for issue in verdict.issues:
                shown = _kind_hint(issue) if unknown and issue.code == "kind" else issue
                print(shown.format(name), file=sys.stderr)
            sys.stderr.flush()
            print(f"{name}: {verdict.summary()}", flush=True)
            if not verdict.valid:
                status = max(status, EXIT_INVALID)
    except EngineUnavailable as error:
        print(
            f"slurm2sky check: {error.reason}. Pass --skypilot-python PATH (or set "
            "SLURM2SKY_SKYPILOT_PYTHON) to a Python that has skypilot=="
            f"{SKYPILOT_VERSION} installed, or use --engine embedded",
            file=sys.stderr,
        )
        return EXIT_USAGE
    return status


def _unreadable(name: str, problem: str) -> str:
    """``NAME:LINE:COLUMN: cannot read: ...`` for a located problem, else
    ``NAME: cannot read: ...``."""
    where, located, what = problem.partition(": ")
    if located and where.replace(":", "").isdigit():
        return f"{name}:{where}: cannot read: {what}"
    return f"{name}: cannot read: {problem}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    words = list(sys.argv[1:] if argv is None else argv)
    try:
        if words[:1] == ["convert"]:
            # convert reads sbatch's own options, which argparse cannot know: it splits
            # them off itself (slurm2sky.convert_cli).
            from slurm2sky import convert_cli

            return convert_cli.main(words[1:])
        parser = _parser()
        args = parser.parse_args(words)
        if args.command == "mappings":
            return _mappings(args)
        if args.command == "check":
            return _check(args.subparser, args)
        parser.print_help()
        return EXIT_OK
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): stop quietly, as the Python docs advise.
        discard_stdout()
        return EXIT_INVALID


if __name__ == "__main__":
    sys.exit(main())
