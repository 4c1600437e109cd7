"""``slurm2sky convert``: batch scripts to SkyPilot task YAML, on the command line.

Usage::

    slurm2sky convert [OPTIONS] [SBATCH OPTIONS] SCRIPT|DIR|- ...
    slurm2sky convert [OPTIONS] [SBATCH OPTIONS] --wrap=COMMAND

``SBATCH OPTIONS`` are given as on the ``sbatch`` command line and override the
script's own directives (sbatch(1): command-line options win over ``#SBATCH`` lines),
except ``-o``, which is this command's output; write sbatch's as ``--output``. A value
sbatch would refuse (``-N abc``), an unknown option or options sbatch refuses together
on the command line are command-line errors, with what would be valid; an option sbatch
refuses beside a script's directive (``--mem-per-cpu`` for a script with ``--mem``) is
a WARNING for that script, as sbatch would refuse that script. ``--wrap=COMMAND`` takes the place of
a script, as for sbatch: the script converted is the one sbatch builds (``#!/bin/sh``, a
comment line, a blank line, then COMMAND at line 4), named ``--wrap`` in notes, and its
job name is ``wrap`` unless ``-J`` is given; ``--wrap`` with a script is an error, as
sbatch refuses it.

One script (or ``-`` for standard input): the task YAML goes to standard output, or to
``-o FILE``; each note goes to standard error, one line each:
``SCRIPT: WARNING line 8:9 (--time=24:00:00) [no-equivalent]: ...`` (``WARNING`` when the
task does not keep the script's meaning, ``NOTE`` otherwise). Several scripts, a
directory (every file in it, not recursing, that starts with ``#!`` or holds an
``#SBATCH`` line), or ``-o DIR`` naming an existing directory or ending in ``/``: the
output is a directory (created if need be; ``-o DIR`` is required), each script becomes
``DIR/<name>.yaml`` (``.json`` with ``--format json``; ``stdin`` for ``-``, ``wrap`` for
``--wrap``; when two scripts have one name, the later in path order gets ``<name>-2``),
and a summary says which script went to which file. An input script is never
overwritten, and a file that exists already only with ``--force``. The launch command at
the end of the YAML names the file written (``task.yaml`` on standard output). With
``--format json`` the file written holds more than the task (``source``, ``task``,
``notes``, ``launch``, ``dispositions``), so its launch commands name the file the task
would be saved to as YAML: the output's name with ``.yaml`` for its suffix
(``-o one.json``: ``one.yaml``), ``task.yaml`` on standard output.

``--infra`` is one infra for every task; ``--partition-map NAME=INFRA`` gives one per
partition (the first mapped partition of a script's ``--partition`` list), and a task
whose partitions are not mapped leaves the infra to SkyPilot. The two together are an
error: ``--infra`` would leave the map unused. A ``--partition-map`` entry that no
converted script asks for is warned about (a typo?) after the run.

The task's ``workdir`` is ``.``: the directory ``sky`` is run from, as ``sbatch`` runs a job
from the directory it was submitted from. Nothing from the scripts is ever run.

``--gpu-type`` is a SkyPilot accelerator name without a count (the count comes from the
script's GPU request), matched case-insensitively as SkyPilot does (``a100-80gb`` is
``A100-80GB``). A name the mappings file does not know (its ``gpu-types`` rows and its
``accelerators`` list) is a warning, with the closest names; each task that asks for it
has a ``gpu-type`` note that loses meaning.

Exit codes: 0 converted; 1 with ``--strict``, some note says the task does not keep the
script's meaning (every file is still written); 2 the command line is wrong, a script
cannot be read or an output cannot be written.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from slurm2sky.cli import discard_stdout, nul_position, read_bytes
from slurm2sky.convert import Conversion, convert, partitions, unknown_accelerator
from slurm2sky.emit import TASK_FILE, as_data, emit_yaml, format_note
from slurm2sky.sbatch import parse_script, wrap_script
from slurm2sky.sbatch.getopt import getopt_long, sbatch_table

EXIT_OK, EXIT_STRICT, EXIT_USAGE = 0, 1, 2

#: The name of the script built from ``--wrap`` (in notes, the summary and ``source``).
WRAP = "--wrap"


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
    "--force": False,
    "-h": False,
    "--help": False,
}


def build_parser() -> argparse.ArgumentParser:
    """The parser of this command's own options (sbatch's are split off first)."""
    parser = argparse.ArgumentParser(
        prog="slurm2sky convert",
        usage="slurm2sky convert [OPTIONS] [SBATCH OPTIONS] SCRIPT|DIR|- ... | --wrap=COMMAND",
        description=__doc__.split("\n\n", 3)[3].split("Exit codes")[0].strip(),
        epilog="Exit codes: 0 converted; 1 --strict and meaning lost; 2 bad command line, "
        "unreadable script or unwritable output.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    parser.add_argument(
        "-o",
        dest="out",
        metavar="FILE|DIR",
        help="where to write: a file for one script; a directory (one file per script) for "
        "several, for a directory of scripts, or when it exists or ends in /",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="overwrite output files that exist already (never an input script)",
    )
    parser.add_argument(
        "--gpu-type",
        metavar="TYPE",
        help="SkyPilot accelerator name, without a count, for GPU requests without a type, "
        "or with a GRES type the mappings file does not know (default: H100); a name "
        "SkyPilot does not know is warned about",
    )
    parser.add_argument(
        "--infra",
        metavar="INFRA",
        help="where the task runs: aws, gcp, kubernetes/<context>, "
        "slurm/<cluster>[/<partition>] (on slurm/..., options without a task field pass "
        "through sbatch_options); one infra for every task, so not with --partition-map",
    )
    parser.add_argument(
        "--partition-map",
        action="append",
        default=[],
        metavar="NAME=INFRA",
        help="the infra for a Slurm partition (repeatable), e.g. gpu=kubernetes/gpu-context; "
        "not with --infra; an entry no script asks for is warned about",
    )
    parser.add_argument(
        "--format",
        choices=("yaml", "json"),
        default="yaml",
        help="yaml (default): the task with the notes as comments; json: {source, task, "
        "notes, launch, dispositions} for programs, whose launch commands name the task "
        "saved as YAML: the output's name with .yaml for its suffix (task.yaml on "
        "standard output)",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 when a note says the task does not keep the script's meaning",
    )
    return parser


def split_own_options(argv: Sequence[str]) -> tuple[list[str], list[str]]:
    """Split ``argv`` into (this command's options with their values, everything else).

    ``-oFILE`` (attached) is this command's ``-o`` too, as argparse reads it."""
    own: list[str] = []
    rest: list[str] = []
    words = iter(argv)
    for word in words:
        name = word.split("=", 1)[0]
        if word.startswith("-o") and len(word) > 2:
            own.append(word)
        elif name in OWN_OPTIONS and word.startswith("-"):
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
    Unknown, ambiguous or incomplete options are kept with the options, for
    :func:`check_sbatch_options` to report. Never raises.
    """
    options: list[str] = []
    scripts: list[str] = []
    for event in getopt_long(list(words), sbatch_table()):
        if event.kind == "stray":
            scripts.append(words[event.index])
        elif event.kind != "end":
            options.extend(words[index] for index in event.words)
    return options, scripts


def split_wrap(options: Sequence[str]) -> tuple[str | None, list[str]]:
    """(the command of ``--wrap``, ``None`` without one; ``options`` without ``--wrap``,
    ending in ``--job-name=wrap`` when there is a ``--wrap`` and no job name).

    sbatch reads ``--wrap`` in its first pass over the command line (the last one wins)
    and builds the script from it (:func:`~slurm2sky.sbatch.wrap_script`); that pass also
    sets the job name to ``wrap``, which ``--job-name`` on the command line replaces.
    ``options`` are checked already (:func:`check_sbatch_options`). Source: sbatch
    ``opt.c`` ``process_options_first_pass``, ``slurm_opt.c`` ``arg_set_wrap``.
    """
    wrap: str | None = None
    named = False
    rest: list[str] = []
    for event in getopt_long(list(options), sbatch_table()):
        option = event.spec.canonical if event.kind == "option" and event.spec else ""
        if option == "wrap":
            wrap = event.value or ""
            continue
        named = named or option == "job-name"
        rest.extend(options[index] for index in event.words)
    if wrap is not None and not named:
        rest.append("--job-name=wrap")
    return wrap, rest


#: This command's options, for "did you mean" and for what is valid.
_OWN_LONG = ("--gpu-type", "--infra", "--partition-map", "--format", "--strict", "--force")
_OWN_LIST = "-o, " + ", ".join(_OWN_LONG)


def _close_option(name: str) -> str | None:
    """The option (this command's or sbatch's) an unknown ``--name`` most likely meant."""
    if not name.startswith("--"):
        return None
    dashed = name.replace("_", "-")
    candidates = list(_OWN_LONG) + [f"--{spec}" for spec in sbatch_table().by_name]
    if dashed in candidates:
        return dashed
    close = difflib.get_close_matches(dashed, candidates, n=1, cutoff=0.75)
    return close[0] if close else None


def _value_hint(option: str) -> str:
    """What sbatch takes as the value of ``option`` (``--nodes``), or ``""``."""
    probe = parse_script("#!/bin/bash\n", path="<probe>", command_line=[f"{option}="])
    for problem in probe.problems:
        if getattr(problem, "kind", "") == "bad-value" and problem.hint:
            return problem.hint
    return ""


def check_sbatch_options(options: Sequence[str]) -> None:
    """Raise :class:`UsageError` (one line per problem) when sbatch would refuse
    ``options`` as its command line: an unknown, ambiguous or srun-only option, a
    missing or unexpected value, a value it refuses (``-N abc``), options it refuses
    together, or one that only prints and exits. Each line says what would be valid.
    Source: the problems :func:`~slurm2sky.sbatch.parse_script` reports for its
    ``command_line`` (line 0, column = the argument's number).
    """
    if not options:
        return
    probe = parse_script("#!/bin/bash\n", path="<command line>", command_line=list(options))
    spelled_at: dict[int, str] = {}
    for directive in probe.directives:
        if directive.source == "command-line":
            spelled_at.setdefault(directive.column, directive.spelled)
            if directive.value_column:
                spelled_at.setdefault(directive.value_column, directive.spelled)
    lines: list[str] = []
    for problem in probe.problems:
        if problem.line != 0 or problem.column <= 0:
            continue
        kind = getattr(problem, "kind", "")
        word = options[problem.column - 1] if problem.column <= len(options) else ""
        spelled = spelled_at.get(problem.column, word)
        message, hint = problem.message, problem.hint
        if kind == "unknown-option":
            spelled = problem.key
            close = _close_option(problem.key)
            message = f"{problem.key!r} is not an sbatch option, nor one of this command's"
            hint = (f"did you mean {close}? " if close else "") + (
                f"an sbatch option (sbatch --help), or one of this command's: {_OWN_LIST} "
                "(slurm2sky convert --help)"
            )
        elif kind == "ambiguous-option":
            names = re.findall(r"'(--[^']+)'", message.partition("possibilities:")[2])
            if names:
                message = f"{spelled!r} is ambiguous: it could be " + " or ".join(names)
        elif kind == "exits":
            hint = f"leave it out: this command's own options are {_OWN_LIST} "
            hint += "(slurm2sky convert --help)"
        elif kind == "missing-argument":
            values = _value_hint(problem.key)
            if values:
                hint = f"{problem.key}=VALUE, where VALUE is {values}"
        text = message if spelled in message else f"{spelled}: {message}"
        lines.append(f"{text} — valid: {hint}" if hint else text)
    if lines:
        raise UsageError("\nslurm2sky convert: ".join(lines))


#: An accelerator name as ``--gpu-type`` takes it: no count, no list, no spaces.
_GPU_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def check_gpu_type(name: str) -> str:
    """``name`` if it has the form of an accelerator name (SkyPilot's ``A100``,
    ``H100-SXM``, a Kubernetes GPU label); :class:`UsageError` otherwise (a count, a
    list, spaces). Whether SkyPilot knows the name is :func:`unknown_accelerator`'s."""
    if _GPU_NAME.fullmatch(name):
        return name
    base, sep, count = name.partition(":")
    if sep and _GPU_NAME.fullmatch(base) and count.strip().isdigit():
        why = (
            f"a count does not belong in it: the count comes from the script's GPU request "
            f"(--gres, --gpus, --gpus-per-node); write --gpu-type {base}"
        )
    else:
        why = "it is not an accelerator name"
    raise UsageError(
        f"--gpu-type {name!r}: {why} — valid: one accelerator name without a count, "
        "e.g. A100, H100-SXM or A100-80GB (letters, digits, '.', '_' and '-')"
    )


def check_infra(infra: str, where: str) -> str:
    """``infra`` if SkyPilot accepts it (the ``infra`` pattern of the targeted release's
    resources schema, from the embedded snapshot); :class:`UsageError` otherwise."""
    from slurm2sky.validate import snapshot

    pattern = snapshot()["schemas"]["resources"]["properties"]["infra"]["pattern"]
    if re.fullmatch(pattern, infra) is None:
        raise UsageError(
            f"{where}: {infra!r} is not an infra SkyPilot accepts; valid: a cloud, optionally "
            "with region and zone (aws, gcp/us-central1), kubernetes[/<context>], "
            "slurm/<cluster>[/<partition>], or ssh/<pool>"
        )
    return infra


def _partition_map(values: Sequence[str], infra: str | None) -> dict[str, str]:
    """Partition name -> infra from the ``--partition-map NAME=INFRA`` values (the last
    for a name wins); :class:`UsageError` for a value of another form, an infra SkyPilot
    does not accept, or a map given with ``--infra`` (one infra for every task: the map
    would not be used)."""
    if values and infra:
        raise UsageError(
            f"--infra {infra} and --partition-map {values[0]}: --infra is the one infra for "
            "every task, so the partition map would not be used — valid: --infra alone, or "
            "--partition-map NAME=INFRA (repeatable) alone, for the scripts' partitions"
        )
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


def _expand(scripts: Sequence[str]) -> tuple[list[str], list[str], bool]:
    """(the scripts to convert, the entries of named directories that are skipped,
    whether a directory was named)."""
    expanded: list[str] = []
    skipped: list[str] = []
    directory = False
    for name in scripts:
        path = Path(name)
        if name != "-" and path.is_dir():
            directory = True
            try:
                entries = sorted(path.iterdir())
            except OSError as error:
                raise UsageError(f"{name}: cannot be read: {error.strerror}") from None
            found = [p for p in entries if p.is_file() and _looks_like_script(p)]
            if not found:
                raise UsageError(
                    f"{name}: no batch script in this directory — valid: a directory holding "
                    "files that start with #! or hold an #SBATCH line"
                )
            expanded.extend(str(p) for p in found)
            skipped.extend(
                str(p) + ("/ (a directory: not searched)" if p.is_dir() else "")
                for p in entries
                if p not in found
            )
        else:
            expanded.append(name)
    # a script named twice (itself and through its directory) is converted once
    unique: list[str] = []
    seen: set[str] = set()
    for name in expanded:
        key = os.path.normpath(name) if name != "-" else f"-{len(unique)}"
        if key not in seen:
            seen.add(key)
            unique.append(name)
    return unique, skipped, directory


def _read(name: str) -> str:
    """The text of script ``name`` (``-``: standard input), bytes that are not UTF-8
    kept as surrogate escapes (the converter notes them); :class:`UsageError` when it
    cannot be read or is binary (a NUL byte in its first 64 KiB)."""
    shown = "<stdin>" if name == "-" else name
    try:
        data = read_bytes(name)
    except OSError as error:
        raise UsageError(f"{shown}: cannot be read: {error.strerror or error}") from None
    nul = nul_position(data, 65536)
    if nul is not None:
        line, column = nul
        raise UsageError(
            f"{shown}:{line}:{column}: a binary file, not a batch script (a NUL byte) — "
            "valid: a text file that starts with #!"
        )
    return data.decode("utf-8", errors="surrogateescape")


def _render(conversion: Conversion, fmt: str, target: str) -> str:
    """The output for ``target`` (``""``: standard output) in format ``fmt``. Its launch
    commands name the task file: in YAML ``target`` (``task.yaml`` on standard output);
    in JSON, whose file holds more than the task, the file the task would be saved to as
    YAML: ``target`` with ``.yaml`` for its suffix (``task.yaml`` on standard output)."""
    if fmt == "json":
        task_file = os.path.splitext(target)[0] + ".yaml" if target else TASK_FILE
        data = as_data(conversion, task_file)
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    return emit_yaml(conversion, target or TASK_FILE)


def _write(target: str, text: str, out: TextIO) -> None:
    """Write ``text`` to file ``target``, or to ``out`` for ``""``, flushed so that an
    error (a full disk, a closed pipe) is raised here and not at exit. Raises OSError."""
    if not target:
        out.write(text)
        out.flush()
        return
    with open(target, "w", encoding="utf-8") as handle:
        handle.write(text)


def _report(name: str, conversion: Conversion, stream: TextIO) -> None:
    for note in conversion.notes:
        print(f"{name}: {format_note(note)}", file=stream)


def _is_dir_name(out: str) -> bool:
    """``-o out`` names a directory: it ends in a separator or is one."""
    return out.endswith(("/", os.sep)) or Path(out).is_dir()


def _output_names(names: Sequence[str], target: str, ext: str) -> dict[str, str]:
    """Input name -> the path written for it in directory ``target`` (as the user spelled
    ``target``): ``<stem>.<ext>``, and ``<stem>-2.<ext>``, ... when stems repeat, given
    in path order so that the names do not depend on the order of the arguments."""
    outputs: dict[str, str] = {}
    used: set[str] = set()
    for name in sorted(set(names), key=lambda n: (n != "-", os.path.normpath(n))):
        stem = {"-": "stdin", WRAP: "wrap"}.get(name) or Path(name).stem or "script"
        file_name = f"{stem}.{ext}"
        counter = 2
        while file_name.lower() in used:
            file_name = f"{stem}-{counter}.{ext}"
            counter += 1
        used.add(file_name.lower())
        outputs[name] = os.path.join(target, file_name)
    return outputs


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def _check_outputs(outputs: Sequence[str], inputs: Sequence[str], force: bool) -> None:
    """:class:`UsageError` when an output would overwrite an input script, is a
    directory, or exists already without ``force``."""
    sources = [name for name in inputs if name not in ("-", WRAP)]
    for output in outputs:
        for source in sources:
            if _same_file(output, source):
                raise UsageError(
                    f"{output} is the input script {source}: it is not overwritten — valid: "
                    "-o another file, or a directory other than the script's"
                )
        if os.path.isdir(output):
            raise UsageError(
                f"{output} is a directory: the task cannot be written there — valid: -o "
                "another file or directory"
            )
        if os.path.lexists(output) and not force:
            raise UsageError(
                f"{output} exists already and this run did not write it: it is not "
                "overwritten — valid: --force to overwrite it, or -o another file or directory"
            )


def _plan(
    args: argparse.Namespace, names: Sequence[str], directory: bool
) -> tuple[dict[str, str], bool]:
    """(input name -> output path, ``""`` for standard output; whether the output is a
    directory); checks the outputs and creates the output directory. :class:`UsageError`
    for an output that cannot be used."""
    out: str | None = args.out
    if out == "":
        raise UsageError("-o needs a file or directory name")
    several = len(names) > 1
    into_dir = several or directory or (out is not None and _is_dir_name(out))
    if not into_dir:
        if out is None:
            return {names[0]: ""}, False
        parent = os.path.dirname(out) or "."
        if not os.path.isdir(parent):
            why = "does not exist" if not os.path.lexists(parent) else "is not a directory"
            raise UsageError(
                f"-o {out}: {parent} {why} — valid: a file in an existing directory, or a "
                "directory name ending in / (created if need be)"
            )
        _check_outputs([out], names, args.force)
        return {names[0]: out}, False
    what = "several scripts" if several else "a directory of scripts"
    if out is None:
        raise UsageError(f"{what}: give an output directory with -o DIR")
    if not _is_dir_name(out) and (
        os.path.lexists(out) or Path(out).suffix in (".yaml", ".yml", ".json")
    ):
        raise UsageError(
            f"-o {out}: {what} need a directory, not a file — valid: a directory (an "
            "existing one, or a new one: end its name with / to be sure)"
        )
    outputs = _output_names(names, out, args.format)
    _check_outputs(list(outputs.values()), names, args.force)
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as error:
        raise UsageError(
            f"-o {out}: cannot create the directory: {error.strerror or error} — valid: a "
            "directory that exists or can be created"
        ) from None
    return outputs, True


def run(args: argparse.Namespace, *, stdout: TextIO | None = None) -> int:
    """Run ``slurm2sky convert`` for parsed ``args``; return the exit code (module doc)."""
    out, err = stdout or sys.stdout, sys.stderr
    try:
        if args.gpu_type is not None:
            check_gpu_type(args.gpu_type)
        sbatch_options, scripts = split_sbatch_options(args.args)
        check_sbatch_options(sbatch_options)
        wrap, sbatch_options = split_wrap(sbatch_options)
        if wrap is not None and scripts:
            # sbatch opt.c: "Script arguments are not permitted with the --wrap option."
            raise UsageError(
                f"--wrap with a script ({' '.join(scripts)}): sbatch refuses it: script "
                "arguments are not permitted with the --wrap option (sbatch builds the "
                "script from --wrap's command) — valid: --wrap=COMMAND without a script, "
                "or the script without --wrap"
            )
        if not scripts and wrap is None:
            raise UsageError(
                "no script given: name a batch script, a directory or -, or give --wrap=COMMAND"
            )
        if args.infra:
            check_infra(args.infra, "--infra")
        partition_map = _partition_map(args.partition_map, args.infra)
        if wrap is not None:
            names, skipped, directory = [WRAP], [], False
            texts = [(WRAP, wrap_script(wrap))]
        else:
            names, skipped, directory = _expand(scripts)
            if names.count("-") > 1:
                raise UsageError("standard input (-) can be read once")
            texts = [(name, _read(name)) for name in names]
        outputs, into_dir = _plan(args, names, directory)
    except UsageError as error:
        print(f"slurm2sky convert: {error}", file=err)
        return EXIT_USAGE
    unknown_gpu = unknown_accelerator(args.gpu_type) if args.gpu_type else None
    if unknown_gpu:
        print(f"slurm2sky convert: warning: {unknown_gpu}", file=err)

    kinds: Counter[str] = Counter()
    lost = 0
    rejected = 0
    written: list[tuple[str, str]] = []
    asked: set[str] = set()  # the partitions the scripts ask for
    for name, text in texts:
        path = "<stdin>" if name == "-" else name
        script = parse_script(text, path=path, command_line=sbatch_options)
        conversion = convert(
            script,
            gpu_type=args.gpu_type,
            infra=args.infra,
            partition_map=partition_map,
        )
        target = outputs[name]
        rendered = _render(conversion, args.format, target)
        _report(path, conversion, err)
        kinds.update(note.kind for note in conversion.notes)
        lost += conversion.loses_meaning
        rejected += script.rejected
        asked.update(partitions(script))
        try:
            _write(target, rendered, out)
        except OSError as error:
            if not target and isinstance(error, BrokenPipeError):
                raise  # the reader went away (| head): slurm2sky.cli.main stops quietly
            if not target and out is sys.stdout:
                discard_stdout()  # what is left in its buffer would fail again at exit
            print(
                f"slurm2sky convert: {target or 'standard output'}: cannot be written: "
                f"{error.strerror or error}"
                + (f" ({len(written)} written before it)" if written else ""),
                file=err,
            )
            return EXIT_USAGE
        written.append((path, target))
    if into_dir:
        summary = ", ".join(f"{kind} {count}" for kind, count in kinds.most_common())
        print(
            f"converted {len(texts)} script{'s' if len(texts) != 1 else ''} into {args.out}: "
            f"{rejected} that sbatch would refuse, {lost} that lose meaning; notes: "
            f"{summary or 'none'}",
            file=err,
        )
        for source, target in written:
            print(f"  {source} -> {target}", file=err)
    if skipped:
        print(
            f"skipped {len(skipped)} that are not batch scripts (no #! and no #SBATCH "
            "line): " + ", ".join(skipped),
            file=err,
        )
    for partition, infra in partition_map.items():
        if partition not in asked:
            print(
                f"slurm2sky convert: warning: --partition-map {partition}={infra} was not "
                f"used: no script asks for partition {partition!r} (a typo?); the scripts "
                f"ask for: {', '.join(sorted(asked)) or 'no partition'}",
                file=err,
            )
    return EXIT_STRICT if args.strict and lost else EXIT_OK
