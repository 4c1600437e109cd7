"""``slurm2sky convert``: batch scripts to SkyPilot task YAML, on the command line.

Usage::

    slurm2sky convert [OPTIONS] [SBATCH OPTIONS] SCRIPT|DIR|- ...

``SBATCH OPTIONS`` are given as on the ``sbatch`` command line and override the
script's own directives (sbatch(1): command-line options win over ``#SBATCH`` lines),
except ``-o``, which is this command's output; write sbatch's as ``--output``.

One script (or ``-`` for standard input): the task YAML goes to standard output, or to
``-o FILE``; each note goes to standard error, one line each:
``SCRIPT: WARNING line 8 (--time=24:00:00) [no-equivalent]: ...`` (``WARNING`` when the
task does not keep the script's meaning, ``NOTE`` otherwise). Several scripts, or a
directory (every file in it, not recursing, that starts with ``#!`` or holds an
``#SBATCH`` line): ``-o DIR`` is required; each script becomes ``DIR/<name>.yaml``
(``.json`` with ``--format json``), and a summary follows.

The task's ``workdir`` is ``.``: the directory ``sky`` is run from, as ``sbatch`` runs a job
from the directory it was submitted from. Nothing from the scripts is ever run.

``--gpu-type`` is a SkyPilot accelerator name, matched case-insensitively as SkyPilot does
(``a100-80gb`` is ``A100-80GB``). A name the mappings file does not know (its
``gpu-types`` rows and its ``accelerators`` list) is a warning, with the closest names; each
task that asks for it has a ``gpu-type`` note that loses meaning.

Exit codes: 0 converted; 1 with ``--strict``, some note says the task does not keep the
script's meaning (every file is still written); 2 the command line is wrong or a script
cannot be read.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from slurm2sky.convert import Conversion, convert, unknown_accelerator
from slurm2sky.emit import as_data, emit_yaml, format_note
from slurm2sky.sbatch import parse_script
from slurm2sky.sbatch.getopt import getopt_long, sbatch_table

EXIT_OK, EXIT_STRICT, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """The command line cannot be used; the message says why and what would be valid."""


#: This command's own options and whether each takes a value; every other option is
#: sbatch's.
OWN_OPTIONS = {
    "-o": True,
    "--gpu-type": True,
    "--infra": True,
    "--partition-map": True,
    "--format": True,
    "--strict": False,
    "-h": False,
    "--help": False,
}


def build_parser() -> argparse.ArgumentParser:
    """The parser of this command's own options (sbatch's are split off first)."""
    parser = argparse.ArgumentParser(
        prog="slurm2sky convert",
        usage="slurm2sky convert [OPTIONS] [SBATCH OPTIONS] SCRIPT|DIR|- ...",
        description=__doc__.split("\n\n", 2)[2].split("Exit codes")[0].strip(),
        epilog="Exit codes: 0 converted; 1 --strict and meaning lost; 2 bad command line "
        "or unreadable script.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    parser.add_argument("-o", dest="out", metavar="FILE|DIR", help="where to write (see above)")
    parser.add_argument(
        "--gpu-type",
        metavar="TYPE",
        help="SkyPilot accelerator for GPU requests without a type, or with a GRES type the "
        "mappings file does not know (default: H100); a name SkyPilot does not know is warned "
        "about",
    )
    parser.add_argument(
        "--infra",
        metavar="INFRA",
        help="where the task runs: aws, gcp, kubernetes/<context>, "
        "slurm/<cluster>[/<partition>] (on slurm/..., options without a task field pass "
        "through sbatch_options)",
    )
    parser.add_argument(
        "--partition-map",
        action="append",
        default=[],
        metavar="NAME=INFRA",
        help="the infra for a Slurm partition (repeatable), e.g. gpu=kubernetes/gpu-context",
    )
    parser.add_argument("--format", choices=("yaml", "json"), default="yaml")
    parser.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 when a note says the task does not keep the script's meaning",
    )
    return parser


def split_own_options(argv: Sequence[str]) -> tuple[list[str], list[str]]:
    """Split ``argv`` into (this command's options with their values, everything else)."""
    own: list[str] = []
    rest: list[str] = []
    words = iter(argv)
    for word in words:
        name = word.split("=", 1)[0]
        if name in OWN_OPTIONS and word.startswith("-"):
            own.append(word)
            if OWN_OPTIONS[name] and "=" not in word:
                value = next(words, None)
                if value is not None:
                    own.append(value)
        else:
            rest.append(word)
    return own, rest


def main(argv: Sequence[str]) -> int:
    """``slurm2sky convert ARGV``; returns the exit code (see the module doc)."""
    own, rest = split_own_options(argv)
    args = build_parser().parse_args(own)
    args.args = rest
    return run(args)


def split_sbatch_options(words: Sequence[str]) -> tuple[list[str], list[str]]:
    """Split ``words`` into (sbatch options with their values, scripts).

    The options are read with sbatch's own option table (getopt_long, so ``-N 2``,
    ``-N2``, ``--mem 8G`` and unique prefixes all work); every other word is a script.
    Raises :class:`UsageError` for an unknown or ambiguous option, or a missing value.
    """
    options: list[str] = []
    scripts: list[str] = []
    for event in getopt_long(list(words), sbatch_table()):
        if event.kind == "stray":
            scripts.append(words[event.index])
        elif event.kind == "option":
            options.extend(words[index] for index in event.words)
        elif event.kind == "ambiguous":
            names = ", ".join(f"--{spec.name}" for spec in event.candidates)
            raise UsageError(f"option {event.spelled!r} is ambiguous: it could be {names}")
        elif event.kind == "missing-argument":
            raise UsageError(f"option {event.spelled!r} needs a value")
        elif event.kind != "end":
            raise UsageError(
                f"{event.name or event.spelled!r} is not an sbatch option (nor one of this "
                "command's; see slurm2sky convert --help)"
            )
    return options, scripts


def check_infra(infra: str, where: str) -> str:
    """``infra`` if SkyPilot accepts it (the ``infra`` pattern of the targeted release's
    resources schema, from the embedded snapshot); :class:`UsageError` otherwise."""
    import re

    from slurm2sky.validate import snapshot

    pattern = snapshot()["schemas"]["resources"]["properties"]["infra"]["pattern"]
    if re.fullmatch(pattern, infra) is None:
        raise UsageError(
            f"{where}: {infra!r} is not an infra SkyPilot accepts; valid: a cloud, optionally "
            "with region and zone (aws, gcp/us-central1), kubernetes[/<context>], "
            "slurm/<cluster>[/<partition>], or ssh/<pool>"
        )
    return infra


def _partition_map(values: Sequence[str]) -> dict[str, str]:
    result: dict[str, str] = {}
    for value in values:
        name, sep, infra = value.partition("=")
        if not sep or not name or not infra:
            raise UsageError(
                f"--partition-map takes NAME=INFRA, e.g. gpu=kubernetes/ctx; got {value!r}"
            )
        result[name] = check_infra(infra, f"--partition-map {value}")
    return result


def _looks_like_script(path: Path) -> bool:
    try:
        head = path.read_bytes()[:65536]
    except OSError:
        return False
    return head.startswith(b"#!") or b"\n#SBATCH" in head or head.startswith(b"#SBATCH")


def _expand(scripts: Sequence[str]) -> tuple[list[str], list[str]]:
    """(the scripts to convert, the entries of named directories that are skipped)."""
    expanded: list[str] = []
    skipped: list[str] = []
    for name in scripts:
        path = Path(name)
        if name != "-" and path.is_dir():
            entries = sorted(path.iterdir())
            found = [p for p in entries if p.is_file() and _looks_like_script(p)]
            if not found:
                raise UsageError(f"{name}: no batch script in this directory")
            expanded.extend(str(p) for p in found)
            skipped.extend(
                str(p) + ("/ (a directory: not searched)" if p.is_dir() else "")
                for p in entries
                if p not in found
            )
        else:
            expanded.append(name)
    return expanded, skipped


def _read(name: str) -> str:
    if name == "-":
        return sys.stdin.read()
    try:
        data = Path(name).read_bytes()
    except OSError as error:
        raise UsageError(f"{name}: cannot be read: {error.strerror}") from None
    if b"\0" in data[:65536]:
        raise UsageError(f"{name}: a binary file, not a batch script (it holds NUL bytes)")
    return data.decode("utf-8", errors="surrogateescape")


def _render(conversion: Conversion, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(as_data(conversion), indent=2, ensure_ascii=False) + "\n"
    return emit_yaml(conversion)


def _report(name: str, conversion: Conversion, stream: TextIO) -> None:
    for note in conversion.notes:
        print(f"{name}: {format_note(note)}", file=stream)


def run(args: argparse.Namespace, *, stdout: TextIO | None = None) -> int:
    """Run ``slurm2sky convert`` for parsed ``args``; return the exit code (module doc)."""
    out, err = stdout or sys.stdout, sys.stderr
    try:
        sbatch_options, scripts = split_sbatch_options(args.args)
        if not scripts:
            raise UsageError("no script given: name a batch script, a directory or -")
        partition_map = _partition_map(args.partition_map)
        if args.infra:
            check_infra(args.infra, "--infra")
        names, skipped = _expand(scripts)
        if names.count("-") > 1:
            raise UsageError("standard input (-) can be read once")
        several = len(names) > 1
        target = Path(args.out) if args.out else None
        if several and target is None:
            raise UsageError("several scripts: give an output directory with -o DIR")
        if (
            several
            and target is not None
            and (
                (target.exists() and not target.is_dir())
                or (not target.exists() and target.suffix in (".yaml", ".yml", ".json"))
            )
        ):
            raise UsageError(f"-o {target}: several scripts need a directory, not a file")
        texts = [(name, _read(name)) for name in names]
    except UsageError as error:
        print(f"slurm2sky convert: {error}", file=err)
        return EXIT_USAGE
    unknown_gpu = unknown_accelerator(args.gpu_type) if args.gpu_type else None
    if unknown_gpu:
        print(f"slurm2sky convert: warning: {unknown_gpu}", file=err)

    kinds: Counter[str] = Counter()
    lost = 0
    rejected = 0
    used: set[str] = set()
    for name, text in texts:
        path = "<stdin>" if name == "-" else name
        script = parse_script(text, path=path, command_line=sbatch_options)
        conversion = convert(
            script,
            gpu_type=args.gpu_type,
            infra=args.infra,
            partition_map=partition_map,
        )
        rendered = _render(conversion, args.format)
        _report(path, conversion, err)
        kinds.update(note.kind for note in conversion.notes)
        lost += conversion.loses_meaning
        rejected += script.rejected
        if several:
            assert target is not None
            target.mkdir(parents=True, exist_ok=True)
            stem = Path(name).stem or "script"
            file_name = f"{stem}.{args.format}"
            counter = 2
            while file_name in used:
                file_name = f"{stem}-{counter}.{args.format}"
                counter += 1
            used.add(file_name)
            (target / file_name).write_text(rendered, encoding="utf-8")
        elif target is not None:
            target.write_text(rendered, encoding="utf-8")
        else:
            out.write(rendered)
    if several:
        summary = ", ".join(f"{kind} {count}" for kind, count in kinds.most_common())
        print(
            f"converted {len(texts)} scripts into {target}: {rejected} that sbatch would "
            f"refuse, {lost} that lose meaning; notes: {summary or 'none'}",
            file=err,
        )
        if skipped:
            print(
                f"skipped {len(skipped)} that are not batch scripts (no #! and no #SBATCH "
                "line): " + ", ".join(skipped),
                file=err,
            )
    return EXIT_STRICT if args.strict and lost else EXIT_OK
