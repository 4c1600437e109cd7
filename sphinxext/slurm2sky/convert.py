"""A batch script, as sbatch reads it, as a SkyPilot 0.14.1 task: :func:`convert`.

The rules come from the mappings file (:mod:`slurm2sky.mappings`): an ``options`` row for
every option with specific handling (its ``field`` and ``on-slurm`` are what this module
does with it), ``option-categories`` for the rest, ``environment-variables`` for the
``SLURM_*`` values ``run`` derives from SkyPilot's, ``gpu-types`` for GRES type names and
``modules`` for ``module load``, and ``gpu-types`` with ``accelerators`` for the SkyPilot
accelerator names ``gpu_type`` may be. What the body becomes is described in
:mod:`slurm2sky._body`.

Every directive gets exactly one primary *disposition*: a task field, a
``config.slurm.sbatch_options`` entry (on SkyPilot's Slurm infra), or a :class:`Note`;
nothing is dropped in silence. Whatever sbatch would refuse the script for (a value it
rejects, an unknown option, options it refuses together, no ``#!`` at byte 0, CRLF) is a
``sbatch-rejects`` note that loses meaning: the task is converted as far as possible, but
it is a guess. Units: Slurm memory is MiB unless suffixed (``G`` = 1024 MiB, sbatch(1)
``--mem``); SkyPilot memory and disk are GB of 2³⁰ bytes, so MiB are rounded *up* to
whole GB; times are minutes.

Pure Python (no Sphinx, no jsonschema, no subprocess); never raises for bad input.
"""

from __future__ import annotations

import difflib
import math
import posixpath
import re
import shlex
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from fnmatch import translate
from functools import cache
from operator import attrgetter
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from slurm2sky._body import HOSTFILE, SHIM, BodyContext, convert_body, slurm_variables
from slurm2sky._gc import collector_paused
from slurm2sky.mappings import (
    EnvironmentVariableRow,
    GpuTypeRow,
    Mappings,
    ModuleRow,
    OptionCategoryRow,
    OptionRow,
    load_mappings,
)
from slurm2sky.notes import Note
from slurm2sky.sbatch import values as grammar
from slurm2sky.sbatch.script import CUMULATIVE, same_setting
from slurm2sky.sbatch.tokenize import split_words

if TYPE_CHECKING:
    from slurm2sky.sbatch import BatchScript

__all__ = [
    "CATEGORY_LOSES_MEANING",
    "NODE_ENVIRONMENT",
    "SKYPILOT_PROTECTED_SBATCH_OPTIONS",
    "SPECIAL_OPTIONS",
    "Conversion",
    "Note",
    "accelerator_name",
    "convert",
    "partitions",
    "sbatch_word",
    "skypilot_time",
    "task_name",
    "unknown_accelerator",
]

#: sbatch options SkyPilot 0.14.1 writes itself on its Slurm infra and drops from
#: ``config.slurm.sbatch_options`` with a warning (``sky/provision/slurm/instance.py``,
#: ``_SBATCH_PROTECTED_OPTIONS``; reference/skypilot-validation.md §7).
SKYPILOT_PROTECTED_SBATCH_OPTIONS = frozenset(
    {
        "job-name",
        "output",
        "error",
        "nodes",
        "wait-all-nodes",
        "no-requeue",
        "cpus-per-task",
        "mem",
        "gres",
        "partition",
    }
)

#: Whether a note for an option of each ``option-categories`` row says the task loses
#: the script's meaning (a dependency or a start time changes what runs when; an
#: account or a mail address does not change what runs).
CATEGORY_LOSES_MEANING: Mapping[str, bool] = MappingProxyType(
    {
        "accounting": False,
        "notification": False,
        "scheduling": True,
        "scheduling-hints": False,
        "submission": True,
        "unread-resources": True,
        "managed-by-skypilot": False,
        "placement": False,
        "io": True,
        "containers": True,
        "site": False,
    }
)

#: SkyPilot's accepted ``--time`` forms (``sky/provision/slurm/utils.py``
#: ``validate_sbatch_time``): m, m:s, h:m:s, d-h, d-h:m, d-h:m:s.
_SKYPILOT_TIME = re.compile(r"\d+|\d+:\d+|\d+:\d+:\d+|\d+-\d+|\d+-\d+:\d+|\d+-\d+:\d+:\d+")
#: The variables a task srun starts has, which programs read from their environment
#: (PyTorch Lightning, submitit, mmcv's ``--launcher slurm``): run sets them when the
#: body starts job steps, whether or not the script names them (sbatch-spec §8, §9; a
#: derivation gives none that Slurm would not set, such as SLURM_CPUS_PER_TASK
#: without -c).
_TASK_ENVIRONMENT = frozenset(
    {
        "SLURM_JOB_ID",
        "SLURM_JOBID",
        "SLURM_JOB_NAME",
        "SLURM_JOB_NODELIST",
        "SLURM_NODELIST",
        "SLURM_JOB_NUM_NODES",
        "SLURM_NNODES",
        "SLURM_NTASKS",
        "SLURM_NPROCS",
        "SLURM_NTASKS_PER_NODE",
        "SLURM_PROCID",
        "SLURM_LOCALID",
        "SLURM_NODEID",
        "SLURM_SUBMIT_DIR",
        "SLURM_CPUS_ON_NODE",
        "SLURM_CPUS_PER_TASK",
        "SLURM_GPUS_ON_NODE",
        "SLURM_JOB_PARTITION",
        "SLURM_MEM_PER_NODE",
    }
)
#: The CUDA compiler run as a command (a module's ``-runtime`` image lacks it).
_NVCC = re.compile(r"(?:^|[;&|(`]|\bthen|\bdo|\bsrun\b.*?\s)[ \t]*(?:\S*/)?nvcc(?=\s|$)", re.M)
#: run's SkyPilot variables that setup has under other names, or not at all
#: (``setup_variables``): (name, the line that sets it in setup from setup's).
#: The batch shell's task ids: 0 there (sbatch-spec §8).
_BATCH_TASK_IDS = frozenset({"SLURM_PROCID", "SLURM_NODEID", "SLURM_LOCALID"})
_SETUP_ALIASES = (
    ("SKYPILOT_NODE_RANK", "SKYPILOT_NODE_RANK=$SKYPILOT_SETUP_NODE_RANK"),
    ("SKYPILOT_NODE_IPS", "SKYPILOT_NODE_IPS=$SKYPILOT_SETUP_NODE_IPS"),
    ("SKYPILOT_NUM_NODES", 'SKYPILOT_NUM_NODES=$(echo "$SKYPILOT_SETUP_NODE_IPS" | wc -l)'),
    ("SKYPILOT_NUM_GPUS_PER_NODE", "SKYPILOT_NUM_GPUS_PER_NODE=$SKYPILOT_SETUP_NUM_GPUS_PER_NODE"),
)
#: Slurm's default ``MaxArraySize`` (slurm.conf(5)): array indices stay below it unless
#: the site raises it (the spec's §6.7); the parser takes up to Slurm's largest.
_DEFAULT_MAX_ARRAY_SIZE = 1001
#: More GPUs per node than any machine has (the largest hold 8 to 16).
_MAX_GPUS_PER_NODE = 64
#: SkyPilot's rule for env names (task schema ``envs``).
_ENV_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_POSIX_SHELLS = frozenset({"bash", "sh", "zsh", "ksh", "dash", "ash", "mksh", "busybox"})
#: Shells whose scripts run differs from: ``run`` is executed by bash.
_NOT_BASH = frozenset({"zsh", "ksh", "mksh"})
#: Syntax of zsh and ksh that bash does not share (at the start of a command, or a
#: parameter expansion flag).
_NOT_BASH_SYNTAX = re.compile(
    r"(?m)^[ \t]*(?:setopt|unsetopt|autoload|zmodload|bindkey|zstyle|emulate|print -|"
    r"typeset -[A-Za-z]*[UTZ])\b|\$\{\([^)]*\)|\$\{\^|\${=[A-Za-z_]"
)
_DEFAULT_NAMES = frozenset({"<script>", "<stdin>", "-", ""})


#: Every ``Note.kind`` the converter uses, with what it means.
NOTE_KINDS: Mapping[str, str] = MappingProxyType(
    {
        "sbatch-rejects": "sbatch would refuse the script or this directive",
        "foreign": "#PBS/#BSUB lines, het-job components: read by sbatch, not translated",
        "ignored-directive": "a line, or the rest of one, that looks like a directive but "
        "sbatch does not read (indented, disabled, misspelt, after the first command, after "
        "an empty word)",
        "site-option": "an option of a site plugin (SPANK), not translated",
        "overridden": "a directive a later one, or a rule of sbatch's, replaces",
        "no-equivalent": "an option SkyPilot has no equivalent for",
        "protected": "an option SkyPilot writes itself on its Slurm infra",
        "approximation": "converted, close to but not exactly the script's meaning",
        "default-gpu": "a GPU request without a type got the default type",
        "gpu-type": "a GPU type with no gpu-types row, one taken from elsewhere, or a "
        "--gpu-type SkyPilot does not know",
        "throttle": "the %N limit of --array",
        "partition": "a partition, and the infra it became (or that none was given)",
        "export": "--export and the submission environment",
        "container": "container images",
        "module": "module load lines removed, and what replaces them",
        "setup": "environment creation moved to setup",
        "environment": "an environment run activates that a new node does not have",
        "head-only": "lines that run on the head node only",
        "mpi": "MPI steps and mpirun",
        "ray": "Ray started with srun",
        "srun": "srun options without an equivalent",
        "rewritten": "a Slurm idiom rewritten to SkyPilot's values",
        "per-node-value": "a value each node computes for itself",
        "variables": "SLURM_* variables set from SkyPilot's",
        "variable": "SLURM_* variables with no SkyPilot counterpart",
        "slurm-command": "a Slurm command in the body",
        "nested-sbatch": "the body submits other Slurm jobs",
        "cluster-path": "paths of the cluster's shared file systems",
        "interpreter": "a body that is not a bash script",
        "slurm-infra": "what is decided for SkyPilot's Slurm infra, and how values are "
        "passed to it",
        "not-converted": "something with no conversion at all",
        "encoding": "bytes that are not UTF-8, which a task cannot hold",
    }
)


@dataclass(frozen=True)
class Conversion:
    """A converted script.

    ``task`` is a SkyPilot 0.14.1 task as plain data (keys in the order ``name``,
    ``num_nodes``, ``resources``, ``envs``, ``workdir``, ``setup``, ``run``, ``config``;
    values are str, int, None, dicts); ``notes`` what the converter says, in script
    order; ``launch`` the command lines that launch the task (``task.yaml`` stands for
    the file it is saved in); ``dispositions`` maps the index of every directive in
    ``script.directives`` to its one primary disposition: ``field:<path>`` (a task field;
    ``field:launch`` for ``--array``, which becomes ``--num-jobs``),
    ``sbatch-options:<name>`` or ``note:<kind>``.
    """

    task: dict[str, Any]
    notes: tuple[Note, ...]
    launch: tuple[str, ...]
    dispositions: Mapping[int, str]
    source: str = ""

    @property
    def loses_meaning(self) -> bool:
        """Any note says the task does not keep the script's meaning."""
        return any(note.loses_meaning for note in self.notes)


#: The sbatch options this module handles one by one (each has an ``options`` row in the
#: mappings file; every other option is handled by its ``option-categories`` row).
SPECIAL_OPTIONS = frozenset(
    {
        "nodes",
        "ntasks-per-node",
        "ntasks",
        "cpus-per-task",
        "mem",
        "mem-per-cpu",
        "mem-per-gpu",
        "gpus-per-node",
        "gres",
        "gpus",
        "gpus-per-task",
        "cpus-per-gpu",
        "mincpus",
        "ntasks-per-gpu",
        "tmp",
        "time",
        "signal",
        "exclusive",
        "nodelist",
        "comment",
        "wrap",
        "job-name",
        "partition",
        "array",
        "export",
        "chdir",
        "container-image",
        "output",
        "error",
    }
)

#: Variables SkyPilot's Slurm infra provides itself, with the same meaning (the task
#: runs inside SkyPilot's own allocation, which is the job's).
_NATIVE_ON_SLURM = frozenset(
    {
        "SLURM_JOB_ID",
        "SLURM_JOBID",
        "SLURM_JOB_NODELIST",
        "SLURM_NODELIST",
        "SLURM_JOB_NUM_NODES",
        "SLURM_NNODES",
        "SLURM_GPUS_ON_NODE",
        "SLURM_MEM_PER_NODE",
        "SLURM_JOB_PARTITION",
        "SLURM_CLUSTER_NAME",
        "SLURMD_NODENAME",
        "SLURM_JOB_ACCOUNT",
        "SLURM_TMPDIR",
        "SLURM_JOB_USER",
        "SLURM_JOB_UID",
        "SLURM_SUBMIT_HOST",
        "SLURM_JOB_QOS",
        "SLURM_JOB_GPUS",
        "SLURM_TOPOLOGY_ADDR",
    }
)


#: Variables SkyPilot's Slurm infra unsets before run starts (the step's, which run is
#: not): a value for them goes into run, not envs, which are set before the unset
#: (``sky/skylet/executor/slurm.py``, ``UNSET_STEP_SCOPED_SLURM_ENV``, 0.14.1).
_UNSET_ON_SLURM = frozenset(
    {
        "SLURM_CPUS_PER_TASK",
        "SLURM_TRES_PER_TASK",
        "SLURM_CPUS_ON_NODE",
        "SLURM_NTASKS",
        "SLURM_NPROCS",
        "SLURM_NTASKS_PER_NODE",
        "SLURM_TASKS_PER_NODE",
        "SLURM_DISTRIBUTION",
        "SLURM_PROCID",
        "SLURM_LOCALID",
        "SLURM_NODEID",
        "SLURM_GTIDS",
        "SLURM_STEPID",
    }
)


@cache
def _default_mappings() -> Mappings:
    return load_mappings(check=False)


@dataclass
class _Layout:
    """The job's per-node request (sbatch-spec §7)."""

    nodes: int = 1
    nodes_given: bool = False
    tasks_per_node: int = 1
    ntasks: int | None = None
    tasks_set: bool = False  # Slurm sets SLURM_NTASKS
    cpus_per_task: int | None = None
    cpus: int | None = None
    gpus: int = 0
    gpu_type: str | None = None
    gpus_per_task: int | None = None
    memory_mib: int | None = None


def skypilot_time(value: str) -> str | None:
    """An sbatch ``--time`` value in a form SkyPilot's check accepts (m, m:s, h:m:s,
    d-h, d-h:m, d-h:m:s), the same limit; ``None`` when the value is invalid.

    Forms sbatch takes that SkyPilot's check refuses: ``UNLIMITED``/``INFINITE``/``-1``
    become ``0`` (also no limit to sbatch), ``2-`` becomes ``2-0``.
    Source: sbatch(1) ``--time``; SkyPilot ``validate_sbatch_time``.
    """
    if _SKYPILOT_TIME.fullmatch(value):
        return value
    try:
        seconds = grammar.parse_time_seconds(value)
    except ValueError:
        return None
    if seconds is None:
        return "0"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{days}-{hours}:{minutes:02d}:{secs:02d}"


@cache
def _plain(markup: str) -> str:
    """One paragraph of the mappings file's inline markup as plain text."""
    text = re.sub(r"`([^`<]+?)\s*<([^>]*)>`__?", r"\1 (\2)", markup)
    text = re.sub(r"``(.+?)``", r"\1", text)
    text = re.sub(r"\*\*(.+?)\*\*|\*(.+?)\*", lambda m: m.group(1) or m.group(2), text)
    return " ".join(text.split())


class _RowMatcher:
    """The first of ``rows`` with a shell-style pattern that matches a whole name,
    case-insensitively: one regex for every pattern (group ``r<i>`` is row i), and the
    names already looked up (GRES type and module names; at most 4096)."""

    __slots__ = ("_pattern", "_rows", "_seen")

    def __init__(self, rows: tuple[Any, ...], patterns: Callable[[Any], tuple[str, ...]]) -> None:
        self._rows = rows
        parts = []
        for index, row in enumerate(rows):
            body = "|".join(
                translate(p.lower()).removesuffix(r"\Z").removeprefix("(?s:").removesuffix(")")
                for p in patterns(row)
            )
            parts.append(f"(?P<r{index}>{body})")
        self._pattern = re.compile(r"(?s:" + "|".join(parts) + r")\Z") if parts else None
        self._seen: dict[str, Any] = {}

    def __call__(self, name: str) -> Any | None:
        seen = self._seen
        if name in seen:
            return seen[name]
        match = self._pattern.match(name.lower()) if self._pattern is not None else None
        row = self._rows[int(match.lastgroup[1:])] if match is not None else None  # type: ignore[index]
        if len(seen) < 4096:
            seen[name] = row
        return row


class _Rules:
    """What the converter reads from one :class:`Mappings`, worked out once: option name
    -> its row (as :meth:`Mappings.option`) and, for an option of a category, the
    category's note as plain text; ``SLURM_*`` name -> its ``environment-variables`` row,
    its place in the rows' order and how ``run`` derives it; the ``gpu-types`` and
    ``modules`` matchers and the modules' notes as plain text; the default GPU type;
    and, on first use, the accelerator names SkyPilot knows."""

    def __init__(self, mappings: Mappings) -> None:
        self.mappings = mappings
        options: dict[str, OptionRow | OptionCategoryRow] = {}
        for category in mappings.option_categories:
            for name in category.options:
                options.setdefault(name, category)
        for row in mappings.options:
            options[row.option] = row
            for alias in row.aliases:
                options[alias] = row
        self.options = options
        self.category_notes: dict[str, str] = {
            name: _plain(row.note)
            for name, row in options.items()
            if isinstance(row, OptionCategoryRow)
        }
        self.variables: dict[str, EnvironmentVariableRow] = {
            name: row for row in mappings.environment_variables for name in row.slurm
        }
        #: name -> (row line, name): the order run sets the variables in
        self.variable_order = {name: (row.line, name) for name, row in self.variables.items()}
        self.derivations = {
            name: _DERIVATIONS[row.id]
            for name, row in self.variables.items()
            if row.id in _DERIVATIONS
        }
        self.gpu_type = _RowMatcher(mappings.gpu_types, attrgetter("slurm"))
        self.module = _RowMatcher(mappings.modules, attrgetter("module"))
        self.module_notes = {row.id: _plain(row.note) for row in mappings.modules}
        self.default_gpu = mappings.default_gpu_type()
        self._accelerators: dict[str, str] | None = None

    def accelerators(self) -> dict[str, str]:
        """Lower-case name -> SkyPilot's spelling of every accelerator the mappings file
        names: its ``gpu-types`` rows' and its ``accelerators`` list."""
        if self._accelerators is None:
            names: dict[str, str] = {}
            for name in (
                *(row.skypilot for row in self.mappings.gpu_types),
                *self.mappings.accelerators,
            ):
                names.setdefault(name.lower(), name)
            self._accelerators = names
        return self._accelerators


_RULES: dict[int, _Rules] = {}


def _rules(mappings: Mappings) -> _Rules:
    rules = _RULES.get(id(mappings))
    if rules is None or rules.mappings is not mappings:
        if len(_RULES) > 16:
            _RULES.clear()
        rules = _RULES[id(mappings)] = _Rules(mappings)
    return rules


#: A byte that was not UTF-8, as Python's ``surrogateescape`` decoding keeps it.
_UNDECODABLE = re.compile("[\udc80-\udcff]")


#: An undecodable byte in a note's text: as kept (:data:`_UNDECODABLE`), or as ``repr``
#: writes it in a quoted value (``'caf\\udce9'``).
_UNDECODABLE_TEXT = re.compile(r"[\udc80-\udcff]|(?<!\\)\\udc([89a-f][0-9a-f])")


def partitions(script: BatchScript) -> list[str]:
    """The partitions ``script`` asks for, in order (``--partition=gpu,cpu``, the command
    line's included; sbatch-spec §6.18: a comma list); ``[]`` without one."""
    partition = script.options.get("partition")
    return partition.value.split(",") if partition is not None and partition.value else []


def _readable(note: Note) -> Note:
    """``note`` with every undecodable byte of its text (:data:`_UNDECODABLE_TEXT`)
    written as ``\\xNN``, the byte's value: ``caf\\xe9``."""
    return replace(
        note,
        message=_UNDECODABLE_TEXT.sub(_byte_escape, note.message),
        directive=_UNDECODABLE_TEXT.sub(_byte_escape, note.directive),
    )


def _byte_escape(match: re.Match[str]) -> str:
    byte = int(match.group(1), 16) if match.group(1) else ord(match.group()) - 0xDC00
    return f"\\x{byte:02x}"


def _decodable(value: Any) -> Any:
    """``value`` (the task's strings, lists and mappings) with every undecodable byte
    (:data:`_UNDECODABLE`) replaced by U+FFFD: YAML text is Unicode, and SkyPilot's
    loader (libyaml) refuses the escapes that would keep them."""
    if isinstance(value, str):
        return _UNDECODABLE.sub("\ufffd", value) if _UNDECODABLE.search(value) else value
    if isinstance(value, dict):
        return {_decodable(k): _decodable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decodable(item) for item in value]
    return value


def accelerator_name(name: str, mappings: Mappings | None = None) -> str | None:
    """SkyPilot's spelling of the accelerator ``name`` (``a100-80gb`` -> ``A100-80GB``),
    or ``None`` when the mappings file does not know it (neither a ``gpu-types`` row's
    accelerator nor in its ``accelerators`` list).

    Case-insensitive, as SkyPilot matches a name against its catalog
    (``sky/utils/accelerator_registry.py``, ``canonicalize_accelerator_name``).
    """
    return _rules(mappings or _default_mappings()).accelerators().get(name.strip().lower())


def unknown_accelerator(name: str, mappings: Mappings | None = None) -> str | None:
    """Why ``name``, given as ``--gpu-type``, is not an accelerator SkyPilot knows, with
    the closest names that are (did you mean); ``None`` when it is one
    (:func:`accelerator_name`)."""
    known = _rules(mappings or _default_mappings()).accelerators()
    wanted = name.strip().lower()
    if wanted in known:
        return None
    if wanted.startswith("tpu-"):
        return (
            f"--gpu-type {name}: a TPU, not a GPU; SkyPilot counts TPUs in slices "
            "(tpu-v4-8:1), not per node as a GPU request is. Give a GPU name, or write "
            "the TPU into the task's accelerators yourself."
        )
    # SkyPilot's own search: catalog names that contain the name (the shortest first),
    # names that the name contains (nvidia-h100), then look-alikes
    close = [known[n] for n in sorted(known, key=len) if wanted and wanted in n]
    close += [known[n] for n in known if len(n) > 3 and n in wanted]
    close += [known[n] for n in difflib.get_close_matches(wanted, list(known), n=5, cutoff=0.6)]
    names = list(dict.fromkeys(close))[:5]
    return (
        f"--gpu-type {name}: not an accelerator SkyPilot knows (the mappings file's gpu-types "
        "and accelerators). "
        + (f"Did you mean {', '.join(names[:-1])} or {names[-1]}? " if len(names) > 1 else "")
        + (f"Did you mean {names[0]}? " if len(names) == 1 else "")
        + "SkyPilot matches the name against its catalog, case-insensitively; a name outside "
        "it works only on a Kubernetes or Slurm cluster of yours whose GPUs carry that name."
    )


def gpu_type_row(mappings: Mappings, name: str) -> GpuTypeRow | None:
    """The ``gpu-types`` row for a Slurm GRES type name (first matching row), or None."""
    return _rules(mappings).gpu_type(name)


def module_row(mappings: Mappings, name: str) -> ModuleRow | None:
    """The ``modules`` row for one module as written (``cuda/12.1``), or None."""
    return _rules(mappings).module(name)


#: How the converter reads the value of each option it computes with (grammar of
#: sbatch(1); a value that does not parse counts as absent).
_PARSERS: Mapping[str, Callable[[str], Any]] = MappingProxyType(
    {
        "nodes": grammar.parse_node_range,
        "ntasks": grammar.parse_int,
        "ntasks-per-node": grammar.parse_int,
        "cpus-per-task": grammar.parse_int,
        "cpus-per-gpu": grammar.parse_int,
        "mincpus": grammar.parse_int,
        "ntasks-per-gpu": grammar.parse_int,
        "mem": grammar.parse_memory,
        "mem-per-cpu": grammar.parse_memory,
        "mem-per-gpu": grammar.parse_memory,
        "tmp": grammar.parse_memory,
        "gpus-per-node": grammar.parse_gpus,
        "gpus-per-task": grammar.parse_gpus,
        "gpus": grammar.parse_gpus,
        "gres": grammar.parse_gres,
        "time": grammar.parse_time,
    }
)


class _Converter:
    def __init__(
        self,
        script: Any,
        mappings: Mappings,
        gpu_type: str | None,
        infra: str | None,
        partition_map: Mapping[str, str],
        workdir: str,
    ) -> None:
        self.script = script
        self.rules = rules = _rules(mappings)
        self.gpu_type_given = gpu_type is not None
        #: why ``gpu_type`` is not an accelerator SkyPilot knows ("" when it is one)
        self.unknown_gpu = ""
        if gpu_type:
            known = rules.accelerators().get(gpu_type.strip().lower())
            if known is None:
                self.unknown_gpu = unknown_accelerator(gpu_type, mappings) or ""
            self.default_gpu = known or gpu_type.strip()
        else:
            self.default_gpu = rules.default_gpu
        self.infra_arg = infra.strip() if infra else None
        self.partition_map = partition_map
        self.workdir = workdir
        self.notes: list[Note] = []
        self.dispositions: dict[int, str] = {}
        self.task: dict[str, Any] = {}
        self.resources: dict[str, Any] = {}
        self.envs: dict[str, Any] = {}
        self.sbatch_options: dict[str, Any] = {}
        self.launch_env: list[str] = []
        self.num_jobs: int | None = None
        self.layout = _Layout()
        self.options: Mapping[str, Any] = script.options
        self.parsed: dict[str, Any] = {}  # option -> its parsed value (see number)
        self.refused: set[int] = set()  # ids of directives whose value sbatch refuses
        self.nodes_asked = 0  # --nodes when sbatch lowers it to --ntasks (compute_layout)
        self.nodes_listed = False  # num_nodes counts --nodelist's hosts (compute_layout)
        #: name -> value of each variable run exports (derive_variables), in order
        self.variable_exports: dict[str, str] = {}
        self.steps = False  # the body starts job steps (srun)
        self.problem_at: dict[tuple[int, int], Any] = {}  # sbatch's problems, by position
        self.refusal_at: dict[tuple[int, int], Any] = {}  # those it refuses the script for
        self.infra: str | None = None
        self.slurm_infra = False
        self.image: tuple[int, str, str] | None = None  # (line, image, what chose it)
        self.array: grammar.ArraySpec | None = None
        self.module_image: tuple[int, str, str, str] | None = None
        self.module_columns: dict[int, int] = {}  # line -> column of its module command
        self.job_name = ""  # --job-name as sbatch read it ("" when not given)
        self.chdir = ""  # --chdir inside the submission directory: run and setup cd there
        self.lines: list[str] | None = None  # the script's lines, once one is needed

    # -- notes -------------------------------------------------------------------

    def note(
        self,
        line: int,
        directive: str,
        kind: str,
        message: str,
        loses: bool,
        field: str = "",
        column: int = 0,
    ) -> None:
        self.notes.append(
            Note(line, directive, kind, message, loses, field, column if line > 0 else 0)
        )

    def note_for(
        self,
        d: Any,
        kind: str,
        message: str,
        loses: bool,
        field: str = "",
        *,
        value: bool = False,
    ) -> None:
        """A note about directive ``d`` (its line, as written), at the column of its
        option, or of its value when the note is about the ``value``."""
        self.notes.append(Note(d.line, d.spelled, kind, message, loses, field, _column(d, value)))

    def approximation(
        self, d: Any, message: str, field: str, loses: bool = False, *, value: bool = False
    ) -> None:
        """Directive ``d`` is converted close to, not exactly, what it means."""
        self.note_for(d, "approximation", message, loses, field, value=value)

    def dispose(self, index: int, disposition: str) -> None:
        self.dispositions.setdefault(index, disposition)

    def dispose_as_note(
        self,
        index: int,
        d: Any,
        kind: str,
        message: str,
        loses: bool,
        field: str = "",
        *,
        value: bool = False,
    ) -> None:
        """Directive ``index`` (``d``) becomes the note ``kind`` (disposition ``note:kind``)."""
        self.dispose(index, "note:" + kind)
        self.note_for(d, kind, message, loses, field, value=value)

    def rejected(self, index: int, d: Any, reason: str, *, value: bool = True) -> None:
        """Directive ``index`` (``d``) is one sbatch refuses the script for: left out
        (located at its value, where the value is what sbatch refuses)."""
        self.dispose_as_note(index, d, "sbatch-rejects", _refused(reason), True, value=value)

    # -- the whole conversion ------------------------------------------------------

    def run(self) -> Conversion:
        script = self.script
        if script.problems or script.foreign:
            self.whole_script_notes()
        self.decide_infra()
        self.compute_layout()
        directive = self.directive
        for index, d in enumerate(script.directives):
            directive(index, d)
        self.body()
        self.image_choice()
        return self.assemble()

    def whole_script_notes(self) -> None:
        """sbatch's problems with the script: a directive's are said with it
        (:meth:`sbatch_problems`, :meth:`not_an_option`), the others here. Each one sbatch
        refuses the script for is a warning: the task is a guess at what a script sbatch
        never ran means."""
        script = self.script
        refusals = self.refusal_at
        for problem in script.problems:
            refusals.setdefault((problem.line, problem.column), problem)
        found = self.problem_at
        found.update(refusals)
        for problem in script.foreign:
            found.setdefault((problem.line, problem.column), problem)
        options: set[tuple[int, int]] = set()
        values: set[tuple[int, int]] = set()
        for d in script.directives:
            at = (d.line, d.column)
            options.add(at)
            if getattr(refusals.get(at), "kind", "") in _REJECTED_VALUE:
                self.refused.add(id(d))
            if d.value_column:
                at = (d.value_line, d.value_column)
                values.add(at)
                if getattr(refusals.get(at), "kind", "") in _REJECTED_VALUE:
                    self.refused.add(id(d))
        for problem in script.problems:
            at = (problem.line, problem.column)
            if at not in options and at not in values:
                self.note(
                    problem.line,
                    problem.key,
                    "sbatch-rejects",
                    _refused(_problem_text(problem), "the task is converted as far as possible"),
                    True,
                    column=problem.column,
                )
        for problem in script.foreign:
            if (problem.line, problem.column) not in options:
                kind = getattr(problem, "kind", "")
                self.note(
                    problem.line,
                    problem.key,
                    "ignored-directive" if kind in _NOT_READ else "foreign",
                    _problem_text(problem),
                    kind in ("hetjob", "pbs", "bsub"),
                    column=problem.column,
                )

    def sbatch_problems(self, index: int, d: Any) -> bool:
        """Say what sbatch refuses about directive ``d`` (at its option or at its value).
        A value sbatch refuses leaves the directive out: True. A combination sbatch
        refuses (``--mem`` with ``--mem-per-cpu``) is said, and the directive converted
        as if sbatch had taken it: False."""
        refusals = self.refusal_at
        problem = refusals.get((d.line, d.column))
        if d.value_column and (problem is None or problem.kind not in _REJECTED_VALUE):
            problem = refusals.get((d.value_line, d.value_column)) or problem
        if problem is None:
            return False
        at_value = bool(d.value_column) and (problem.line, problem.column) == (
            d.value_line,
            d.value_column,
        )
        if problem.kind in _REJECTED_VALUE:
            self.rejected(index, d, _problem_text(problem), value=at_value)
            return True
        self.note_for(
            d,
            "sbatch-rejects",
            _refused(
                _problem_text(problem),
                "the task takes one of them, a guess at what the script means"
                if problem.kind == "conflict"
                else "the directive is converted as read here",
            ),
            True,
            value=at_value,
        )
        return False

    # -- infra and partitions --------------------------------------------------------

    def decide_infra(self) -> None:
        names = partitions(self.script)
        mapped = [(n, self.partition_map[n]) for n in names if n in self.partition_map]
        infra = self.infra_arg
        self.partition_infra = ""
        self.partition_kept = ""  # a partition added to a mapped Slurm cluster
        if mapped:
            name, infra = mapped[0]
            self.partition_infra = "map"
            if _slurm_cluster_only(infra) and re.fullmatch(r"[A-Za-z0-9_.-]+", name):
                # SkyPilot writes --partition itself, from infra (a protected option)
                infra = f"{infra.strip().strip('/')}/{name}"
                self.partition_kept = name
        elif (
            infra
            and names
            and _slurm_cluster_only(infra)
            and re.fullmatch(r"[A-Za-z0-9_.-]+", names[0])
        ):
            infra = f"{infra.strip().strip('/')}/{names[0]}"
            self.partition_infra = "slurm"
        self.infra = infra or None
        self.slurm_infra = self.infra is not None and _cloud(self.infra) == "slurm"

    # -- the per-node request (sbatch-spec §7) ------------------------------------------

    def number(self, name: str) -> Any | None:
        """The value of option ``name`` read with its grammar (:data:`_PARSERS`), once;
        ``None`` when it is not given, does not parse, or sbatch refuses it."""
        parsed = self.parsed
        if name in parsed:
            return parsed[name]
        directive = self.options.get(name)
        value = None
        if (
            directive is not None
            and directive.value is not None
            and not (self.refused and id(directive) in self.refused)
        ):
            try:
                value = _PARSERS[name](directive.value)
            except ValueError:
                value = None
        parsed[name] = value
        return value

    def compute_layout(self) -> None:
        layout = self.layout
        options = self.options
        number = self.number
        nodes = number("nodes") if "nodes" in options else None
        ntasks = number("ntasks") if "ntasks" in options else None
        per_node = number("ntasks-per-node") if "ntasks-per-node" in options else None
        cpus_per_task = number("cpus-per-task") if "cpus-per-task" in options else None
        if nodes is not None:
            layout.nodes = max(nodes[0], 1)
            layout.nodes_given = True
            if ntasks is not None and 0 < ntasks < layout.nodes:
                # sbatch opt.c _opt_verify: "can't run n processes on N nodes, setting
                # nnodes to n" (the spec's §6.3)
                self.nodes_asked, layout.nodes = layout.nodes, ntasks
        elif (listed := self.listed_nodes()) > 1:
            # sbatch(1) -w: "the job will contain all of these hosts"
            layout.nodes, layout.nodes_given = listed, True
            self.nodes_listed = True
        elif ntasks is not None and per_node:
            layout.nodes = max(math.ceil(ntasks / per_node), 1)
        layout.ntasks = ntasks
        if per_node:
            layout.tasks_per_node = per_node
        elif ntasks:
            layout.tasks_per_node = max(math.ceil(ntasks / layout.nodes), 1)
        layout.tasks_set = ntasks is not None or per_node is not None
        layout.cpus_per_task = cpus_per_task
        # GPUs per node
        layout.gpus, layout.gpu_type, self.gpu_source = self.gpus_per_node()
        self.gpu_type_source = self.gpu_source
        if layout.gpus and layout.gpu_type is None:
            layout.gpu_type, self.gpu_type_source = self.gpu_type_elsewhere()
        # --ntasks-per-gpu: tasks per node from the GPUs (sbatch refuses it with
        # --ntasks-per-node; --ntasks wins)
        tasks_per_gpu = number("ntasks-per-gpu") if "ntasks-per-gpu" in options else None
        if tasks_per_gpu and layout.gpus and not per_node and ntasks is None:
            layout.tasks_per_node = tasks_per_gpu * layout.gpus
            per_node = layout.tasks_per_node
        # CPUs per node
        cpus_per_gpu = number("cpus-per-gpu") if "cpus-per-gpu" in options else None
        mincpus = number("mincpus") if "mincpus" in options else None
        cpus: int | None = None
        if cpus_per_gpu and layout.gpus:
            cpus = layout.gpus * cpus_per_gpu
        elif cpus_per_task or per_node or ntasks:
            cpus = layout.tasks_per_node * (cpus_per_task or 1)
        if mincpus:
            cpus = max(cpus or 0, mincpus)
        layout.cpus = cpus
        # memory per node
        memory: int | None = None
        mem = number("mem") if "mem" in options else None
        if mem is not None:
            memory = mem
        elif "mem-per-cpu" in options and (per_cpu := number("mem-per-cpu")) is not None:
            # per CPU allocated on the node (--mincpus included: sbatch-spec §7.5)
            memory = per_cpu * (cpus or layout.tasks_per_node * (cpus_per_task or 1))
        elif (
            "mem-per-gpu" in options
            and (per_gpu := number("mem-per-gpu")) is not None
            and layout.gpus
        ):
            memory = per_gpu * layout.gpus
        layout.memory_mib = memory

    def listed_nodes(self) -> int:
        """How many nodes ``--nodelist`` names (a host list: ``node[01-03]``), 0 for
        none, a file of names or a value the converter cannot count."""
        d = self.options.get("nodelist")
        if d is None or not d.value or "/" in d.value or id(d) in self.refused:
            return 0
        try:
            return grammar.hostlist_count(d.value)
        except ValueError:
            return 0

    def gpu_type_elsewhere(self) -> tuple[str | None, str]:
        """A GPU type named by a GPU option other than the one that decides the count
        (``-G a100:8 --gpus-per-node=4``): (type, its option), else (None, "")."""
        for name in ("gpus-per-node", "gres", "gpus", "gpus-per-task"):
            if name == self.gpu_source or name not in self.options:
                continue
            items = self.number(name) or []
            if name == "gres":
                items = [(g.type, g.count) for g in items if g.name == "gpu"]
            for gpu_type, _ in items:
                if gpu_type:
                    return gpu_type, name
        return None, ""

    def gpus_per_node(self) -> tuple[int, str | None, str]:
        """(GPUs per node, Slurm type or None, the option that decided)."""
        options = self.options
        if "gpus-per-node" in options and (per_node := self.number("gpus-per-node")):
            return per_node[0][1], per_node[0][0], "gpus-per-node"
        if "gres" in options and (gres := self.number("gres")):
            for item in gres:
                if item.name == "gpu":
                    return item.count, item.type, "gres"
        if "gpus-per-task" in options and (per_task := self.number("gpus-per-task")):
            layout = self.layout
            layout.gpus_per_task = per_task[0][1]
            return per_task[0][1] * layout.tasks_per_node, per_task[0][0], "gpus-per-task"
        if "gpus" in options and (total := self.number("gpus")):
            count = sum(c for _, c in total)
            return math.ceil(count / self.layout.nodes), total[0][0], "gpus"
        return 0, None, ""

    # -- directives ------------------------------------------------------------------

    def directive(self, index: int, d: Any) -> None:
        option = d.option
        if option is None:
            self.not_an_option(index, d)
            return
        if d.component:
            self.dispose_as_note(
                index,
                d,
                "foreign",
                f"{d.spelled} belongs to het-job component "
                f"{d.component}; SkyPilot runs one kind of node per task: convert that "
                "component as a task of its own.",
                True,
            )
            return
        winner = self.options.get(option) or next(
            (self.options[other] for other in same_setting(option) if other in self.options),
            None,
        )
        if winner is not d and option not in CUMULATIVE:
            where = (
                f"line {winner.line}" if winner is not None and winner.line else "the command line"
            )
            self.dispose_as_note(
                index,
                d,
                "overridden",
                f"{d.spelled} is replaced by {winner.spelled if winner else 'a later one'} "
                f"({where}): the last one wins.",
                False,
            )
            return
        if self.refusal_at and self.sbatch_problems(index, d):
            return
        handler = _OPTION_HANDLERS.get(option)
        if handler is not None:
            handler(self, index, d)
            return
        row = self.rules.options.get(option)
        if isinstance(row, OptionCategoryRow):
            self.category_option(index, d, row)
            return
        self.dispose_as_note(
            index,
            d,
            "no-equivalent",
            f"{d.spelled} has no SkyPilot equivalent and no row in the mappings file.",
            True,
        )

    def not_an_option(self, index: int, d: Any) -> None:
        """A word sbatch does not take as an option (unknown, ambiguous, stray, ``--``)."""
        problem = self.problem_at.get((d.line, d.column))
        if getattr(problem, "kind", "") == "site-option":
            self.dispose_as_note(
                index,
                d,
                "site-option",
                _problem_text(problem) + " A site plugin's option has no SkyPilot equivalent.",
                True,
            )
            return
        self.rejected(
            index,
            d,
            _problem_text(problem) if problem else "sbatch does not accept it.",
            value=False,
        )

    def no_equivalent(self, index: int, d: Any, why: str, loses: bool, field: str = "") -> None:
        """Directive ``d`` has no SkyPilot equivalent (on this infra): ``why``."""
        lead = (
            f"{d.spelled}: no equivalent on SkyPilot's Slurm infra either. "
            if self.slurm_infra
            else f"{d.spelled}: no SkyPilot equivalent. "
        )
        self.dispose_as_note(index, d, "no-equivalent", lead + why, loses, field)

    def category_option(self, index: int, d: Any, category: OptionCategoryRow) -> None:
        why = self.rules.category_notes[d.option]
        if self.slurm_infra and category.on_slurm == "sbatch-options":
            self.pass_through(index, d, why)
            return
        self.no_equivalent(index, d, why, CATEGORY_LOSES_MEANING.get(category.id, True))

    def pass_through(self, index: int, d: Any, why: str = "") -> None:
        """``config.slurm.sbatch_options`` (long name; ``true`` for a flag)."""
        name = d.option
        if name in SKYPILOT_PROTECTED_SBATCH_OPTIONS:
            self.dispose_as_note(
                index,
                d,
                "protected",
                f"{d.spelled}: SkyPilot writes --{name} "
                "itself on its Slurm infra and ignores it in sbatch_options.",
                True,
            )
            return
        value: Any = True if d.value is None else d.value
        if name == "time" and isinstance(value, str):
            converted = skypilot_time(value)
            if converted is None:
                self.rejected(index, d, f"{d.spelled} is not a time sbatch accepts.")
                return
            if converted != value:
                self.approximation(
                    d,
                    f"{d.spelled} is passed as "
                    f"time: {converted!r}, the same limit in a form SkyPilot's check "
                    "accepts (m, m:s, h:m:s, d-h, d-h:m, d-h:m:s).",
                    "config.slurm.sbatch_options",
                )
            value = converted
        if isinstance(value, str):
            if _HETJOB_WORD.search(value):
                self.dispose_as_note(
                    index,
                    d,
                    "slurm-infra",
                    f"{d.spelled}: SkyPilot writes the value on an #SBATCH line of its own "
                    "script, where sbatch takes the word hetjob (or packjob) anywhere on the "
                    "line as a het-job separator; the value is not passed.",
                    True,
                    "config.slurm.sbatch_options",
                    value=True,
                )
                return
            word = sbatch_word(value)
            if word != value:
                self.note_for(
                    d,
                    "slurm-infra",
                    f"{d.spelled}: SkyPilot writes #SBATCH --{name}=<value> with the value "
                    "as given, and sbatch splits that line at spaces and ends it at a #; "
                    f"the value is written {name}: {word}, quoted as sbatch's tokenizer "
                    "reads it, so that sbatch gets it whole.",
                    False,
                    "config.slurm.sbatch_options",
                    value=True,
                )
                value = word
        previous = self.sbatch_options.get(name)
        if name in CUMULATIVE and isinstance(previous, str) and isinstance(value, str):
            value = f"{previous},{value}"  # --mail-type=END --mail-type=FAIL: both
        self.sbatch_options[name] = value
        self.dispose(index, f"sbatch-options:{name}")

    def field(self, index: int, path: str) -> None:
        self.dispositions.setdefault(index, "field:" + path)

    # ----- one method per options row (SPECIAL_OPTIONS) -----

    def option_nodes(self, index: int, d: Any) -> None:
        self.field(index, "num_nodes")
        low, high = self.number("nodes") or (1, 1)
        if high != low:
            self.approximation(
                d,
                f"{d.spelled} is a range; SkyPilot "
                f"allocates exactly num_nodes nodes, so the task asks for {low}, the "
                "minimum.",
                "num_nodes",
            )
        if low == 0:
            self.approximation(d, "--nodes=0 asks for no node; the task asks for one.", "num_nodes")
        if self.nodes_asked:
            tasks = self.layout.nodes
            self.note_for(
                d,
                "overridden",
                f"{d.spelled} with {tasks} task{'s' if tasks > 1 else ''} (--ntasks): sbatch "
                f"runs no node without a task, so it lowers the node count to {tasks} "
                f'("can\'t run {tasks} processes on {self.nodes_asked} nodes"); the task '
                f"asks for {tasks}.",
                False,
                "num_nodes",
            )

    def option_cpus(self, index: int, d: Any) -> None:
        """``--ntasks-per-node``, ``--cpus-per-task``, ``--mincpus``: the CPUs per node."""
        self.field(index, "resources.cpus")

    option_ntasks_per_node = option_cpus_per_task = option_mincpus = option_cpus

    def option_ntasks(self, index: int, d: Any) -> None:
        self.field(index, "resources.cpus")
        layout = self.layout
        if (
            not layout.nodes_given
            and self.options.get("ntasks-per-node") is None
            and (layout.ntasks or 0) > 1
        ):
            self.approximation(
                d,
                f"{d.spelled} without --nodes: Slurm "
                "may spread the tasks over several nodes; the task puts all of them on "
                "one node (set num_nodes to spread them).",
                "resources.cpus",
            )
        elif layout.ntasks and layout.ntasks % layout.nodes:
            self.approximation(
                d,
                f"{layout.ntasks} tasks do not divide "
                f"evenly over {layout.nodes} nodes; each node gets room for "
                f"{layout.tasks_per_node}.",
                "resources.cpus",
            )

    def per_gpu_option(self, index: int, d: Any, path: str, asks_for: str) -> None:
        """An amount per GPU (``path`` its field): without GPUs it asks for ``asks_for``."""
        if not self.layout.gpus:
            self.dispose_as_note(
                index,
                d,
                "no-equivalent",
                f"{d.spelled} without a GPU request asks for {asks_for}.",
                False,
            )
            return
        self.field(index, path)

    def option_ntasks_per_gpu(self, index: int, d: Any) -> None:
        layout = self.layout
        if not layout.gpus:
            self.dispose_as_note(
                index,
                d,
                "no-equivalent",
                f"{d.spelled} counts tasks per GPU, and the script asks for no GPU: "
                "no task count follows from it.",
                False,
            )
            return
        self.field(index, "resources.cpus")

    def option_nodelist(self, index: int, d: Any) -> None:
        """``-w``: particular hosts; without ``--nodes``, their count is the node count
        (compute_layout: sbatch(1) -w, "the job will contain all of these hosts")."""
        if self.slurm_infra:
            self.pass_through(index, d)
            return
        if not self.nodes_listed:
            self.no_equivalent(
                index,
                d,
                "It names particular hosts of the cluster; SkyPilot chooses the nodes itself.",
                False,
            )
            return
        self.field(index, "num_nodes")
        self.approximation(
            d,
            f"{d.spelled} names {self.layout.nodes} nodes, all of which Slurm allocates: the "
            f"task asks for num_nodes: {self.layout.nodes}, on nodes SkyPilot chooses itself "
            "(node names have no equivalent).",
            "num_nodes",
        )

    def option_exclusive(self, index: int, d: Any) -> None:
        if self.slurm_infra:
            self.pass_through(index, d)
            return
        if d.value is not None:  # =user, =mcs, =topo: who may share the node
            self.no_equivalent(
                index,
                d,
                "A sharing policy of Slurm's nodes; a SkyPilot node is the job's alone.",
                False,
            )
            return
        layout = self.layout
        asked = [f"{layout.cpus}+ CPUs" if layout.cpus else "", ""]
        if layout.gpus:
            asked[1] = f"{layout.gpus} GPUs"
        request = " and ".join(a for a in asked if a) or "no particular CPUs or GPUs"
        self.no_equivalent(
            index,
            d,
            "In Slurm the job gets every CPU and GPU of its nodes (memory only as asked; "
            "--mem=0 for all of it). A SkyPilot node is the job's alone as well, but it is "
            f"chosen by resources, and the task asks for {request} per node. If the job "
            "uses the whole node (nproc, every GPU), ask for what the cluster's nodes "
            "have: cpus and accelerators, or an instance_type.",
            False,
            "resources",
        )

    def option_comment(self, index: int, d: Any) -> None:
        if self.slurm_infra:
            self.pass_through(index, d)
            return
        self.no_equivalent(
            index,
            d,
            "A free-text comment Slurm stores with the job (squeue, sacct); it does not "
            "change how the job runs. SkyPilot keeps no comment with a job: name the job "
            "(name) or keep the text as a comment in the task YAML.",
            False,
        )

    def option_cpus_per_gpu(self, index: int, d: Any) -> None:
        self.per_gpu_option(index, d, "resources.cpus", "nothing")

    def option_mem(self, index: int, d: Any) -> None:
        if self.layout.memory_mib == 0:
            self.dispose_as_note(
                index,
                d,
                "approximation",
                "--mem=0 asks for all the memory of each node, and SkyPilot has no such "
                "request: the task sets no memory constraint, so the node's memory is "
                "whatever the instance chosen for its CPUs and GPUs has"
                + (
                    " (on SkyPilot's Slurm infra, a share of the node by its CPUs)"
                    if self.slurm_infra
                    else ""
                )
                + ". Set resources.memory to what the job needs.",
                True,
                "resources",
            )
            return
        self.field(index, "resources.memory")

    def option_mem_per_cpu(self, index: int, d: Any) -> None:
        self.field(index, "resources.memory")

    def option_mem_per_gpu(self, index: int, d: Any) -> None:
        self.per_gpu_option(index, d, "resources.memory", "no memory")

    def gpu_option(self, index: int, d: Any) -> None:
        """``--gpus-per-node``, ``--gres``, ``--gpus``, ``--gpus-per-task``: the GPUs."""
        if self.gpu_source and self.gpu_source != d.option:
            self.field(index, "resources.accelerators")
            typed = self.gpu_type_source == d.option
            self.approximation(
                d,
                f"{d.spelled} and --{self.gpu_source} both ask for GPUs; "
                + (
                    f"--{self.gpu_source} decides the count, and {d.spelled} names the "
                    f"type, {self.layout.gpu_type}."
                    if typed
                    else f"--{self.gpu_source} decides."
                ),
                "resources.accelerators",
            )
            return
        if not self.layout.gpus:
            self.dispose_as_note(index, d, "no-equivalent", f"{d.spelled} asks for no GPU.", False)
            return
        self.field(index, "resources.accelerators")

    option_gpus_per_task = gpu_option

    def option_gpus_per_node(self, index: int, d: Any) -> None:
        self.gpu_option(index, d)
        if len(self.number("gpus-per-node") or ()) > 1:
            self.approximation(
                d,
                f"SkyPilot nodes have one GPU type; the task asks for the first item of {d.value}.",
                "resources.accelerators",
                True,
            )

    def option_gres(self, index: int, d: Any) -> None:
        items = self.number("gres") or []
        others = [
            f"{g.name}{':' + g.type if g.type else ''}:{g.count}" for g in items if g.name != "gpu"
        ]
        gpu_items = [g for g in items if g.name == "gpu"]
        if not gpu_items:
            self.dispose(index, "note:no-equivalent")
        else:
            self.gpu_option(index, d)
        if others:
            self.note_for(
                d,
                "no-equivalent",
                "generic resources other than GPUs "
                f"({', '.join(others)}) have no SkyPilot equivalent; choose an "
                "instance_type that has them if they matter.",
                True,
                "resources",
            )
        if len(gpu_items) > 1:
            self.approximation(
                d,
                "SkyPilot nodes have one GPU type; the task asks for the first gpu item.",
                "resources.accelerators",
                True,
            )

    def option_gpus(self, index: int, d: Any) -> None:
        self.gpu_option(index, d)
        total = sum(c for _, c in self.number("gpus") or [])
        nodes = self.layout.nodes
        if self.gpu_source == "gpus" and 0 < total < nodes:
            self.approximation(
                d,
                f"{total} GPU{'s' if total > 1 else ''} for {nodes} nodes: Slurm gives every "
                "node of the job at least one GPU, which it cannot here, so the job does "
                f"not start (sbatch(1) --gpus); the task asks for one per node, {nodes} in "
                "all.",
                "resources.accelerators",
                True,
            )
        elif self.gpu_source == "gpus" and total % nodes:
            self.approximation(
                d,
                f"{total} GPUs do not divide evenly "
                f"over {self.layout.nodes} nodes; each node gets {self.layout.gpus}.",
                "resources.accelerators",
            )

    def option_tmp(self, index: int, d: Any) -> None:
        gb = math.ceil((self.number("tmp") or 0) / 1024)
        if gb <= 256:
            self.dispose_as_note(
                index,
                d,
                "approximation",
                f"{d.spelled} ({gb} GB) fits on "
                "SkyPilot's default disk (256 GB), so disk_size is left at the default.",
                False,
                "resources",
            )
            return
        self.resources["disk_size"] = gb
        self.field(index, "resources.disk_size")

    def option_time(self, index: int, d: Any) -> None:
        if self.slurm_infra:
            self.pass_through(index, d)
            return
        minutes = self.number("time")
        limit = "no limit" if minutes is None else _duration(minutes)
        advice = (
            f" To end the job in time, enforce it in run: timeout {minutes}m <command>."
            if minutes
            else ""
        )
        # the program runs the same without the limit: a note, not a loss of meaning
        self.dispose_as_note(
            index,
            d,
            "no-equivalent",
            f"{d.spelled} ({limit}) is a wall-clock "
            "limit; SkyPilot has none for jobs (autostop is idle-based, not the "
            f"same).{advice}",
            False,
            "run",
        )

    def option_signal(self, index: int, d: Any) -> None:
        """The row's note is the advice: SkyPilot sends no signal before a limit."""
        if self.slurm_infra:
            try:
                flags = grammar.parse_signal(d.value or "")[0]
            except ValueError:
                flags = ""
            if "B" not in flags:
                self.pass_through(index, d)
                self.note_for(
                    d,
                    "slurm-infra",
                    f"{d.spelled}: Slurm sends the signal to every step of the job, "
                    "SkyPilot's own included (skylet, and the step that starts run); run's "
                    "processes get it, but check on the cluster that a handler has the time "
                    "it needs.",
                    False,
                    "run",
                )
                return
            # B: signals only the batch shell, which on SkyPilot's Slurm infra is
            # SkyPilot's own provisioning script (sky/provision/slurm/instance.py), not run
            self.dispose_as_note(
                index,
                d,
                "slurm-infra",
                f"{d.spelled}: B: sends the signal to the job's batch shell only. On "
                "SkyPilot's Slurm infra that shell is SkyPilot's own batch script (it keeps "
                "the allocation and starts skylet), not run: a trap in the script never "
                "sees the signal, and SkyPilot's script does not handle it, so it is not "
                "passed. Without B: Slurm signals the job steps, run's among them "
                "(--signal=USR1@120); or save checkpoints periodically.",
                True,
                "run",
            )
            return
        row = self.rules.options["signal"]
        # a handler that traps the signal (to checkpoint or requeue) never runs
        self.no_equivalent(index, d, _plain(row.note), True, "run")

    def option_wrap(self, index: int, d: Any) -> None:
        """sbatch reads ``--wrap`` in its first pass over its command line only; on an
        ``#SBATCH`` line it is ignored and the script runs (``opt.c`` ``_set_options``:
        "handled in process_options_first_pass")."""
        if d.source == "command-line":
            self.field(index, "run")
            return
        self.dispose_as_note(
            index,
            d,
            "ignored-directive",
            f"{d.spelled}: sbatch reads --wrap on its command line only; in a script it is "
            "ignored, and the script's own commands run.",
            False,
        )

    def option_job_name(self, index: int, d: Any) -> None:
        original = d.value or ""
        self.job_name = original  # SLURM_JOB_NAME keeps it as sbatch read it
        name = task_name(original)
        if name and name == original:
            self.task["name"] = name
            self.field(index, "name")
            return
        literal = (
            " (a placeholder or a variable, which sbatch reads literally: it does not expand $VAR)"
            if re.search(r"[$<>{}%]", original)
            else ""
        )
        rule = (
            "SkyPilot refuses it as a task name (letters and digits, with single or double "
            ". _ - between them only)"
            if original
            else "SkyPilot refuses an empty task name"
        )
        kept = (
            f"; SLURM_JOB_NAME stays {original!r} for the script"
            if original and self.job_name_read()
            else ""
        )
        if name:
            self.task["name"] = name
            self.field(index, "name")
            self.approximation(
                d,
                f"the job name {original!r}{literal}: {rule}, so the task is named {name}{kept}.",
                "name",
                value=True,
            )
            return
        self.dispose_as_note(
            index,
            d,
            "approximation",
            f"the job name {original!r}{literal}: {rule}, and nothing of it is a valid "
            "name, so the task has no name (SkyPilot names the job itself; set name: in "
            f"the task to choose one){kept}.",
            False,
            "name",
            value=True,
        )

    def job_name_read(self) -> bool:
        """The body reads ``SLURM_JOB_NAME``."""
        return "SLURM_JOB_NAME" in self.script.body

    def option_partition(self, index: int, d: Any) -> None:
        names = partitions(self.script) or [""]
        if self.partition_infra == "map":
            self.field(index, "resources.infra")
            if self.partition_kept:
                name = self.partition_kept
                self.note_for(
                    d,
                    "partition",
                    f"--partition-map maps {name} to {self.partition_map[name]}, a Slurm "
                    f"cluster without a partition; the task keeps the partition: infra "
                    f"{self.infra} (SkyPilot writes --partition itself, from infra only). "
                    f"Map {name} to {self.partition_map[name].strip().strip('/')}/<partition> "
                    "to choose another.",
                    False,
                    "resources.infra",
                    value=True,
                )
            unmapped = [n for n in names if n not in self.partition_map]
            if len(names) > 1:
                self.approximation(
                    d,
                    f"{d.spelled} lists "
                    f"{len(names)} partitions; the task runs on the infra of the first "
                    f"mapped one ({self.infra})."
                    + (f" Not mapped: {', '.join(unmapped)}." if unmapped else ""),
                    "resources.infra",
                )
            return
        if self.partition_infra == "slurm":
            self.field(index, "resources.infra")
            if len(names) > 1:
                self.approximation(
                    d,
                    f"{d.spelled} lists several partitions; the task uses the first ({names[0]}).",
                    "resources.infra",
                )
            return
        if self.infra:
            message = (
                f"{d.spelled}: the task runs on infra {self.infra} (given), where the "
                "partition has no meaning."
            )
        else:
            message = (
                f"{d.spelled}: partitions are the site's names; give the infra it "
                f"stands for, e.g. slurm2sky convert --partition-map "
                f"{names[0]}=kubernetes/<context> (or aws, gcp/us-central1, "
                f"slurm/<cluster>/{names[0]}). Without it SkyPilot chooses any infra "
                "that has the resources."
            )
        self.dispose_as_note(index, d, "partition", message, False, "resources")

    def option_array(self, index: int, d: Any) -> None:
        try:
            self.array = grammar.parse_array(d.value or "")
        except ValueError as error:
            self.rejected(index, d, str(error))
            return
        self.num_jobs = self.array.count
        self.field(index, "launch")
        largest = self.array.indices[-1]
        if largest >= _DEFAULT_MAX_ARRAY_SIZE:
            self.approximation(
                d,
                f"index {largest} is above what Slurm's default MaxArraySize "
                f"({_DEFAULT_MAX_ARRAY_SIZE}) allows, so a cluster with that default refuses "
                f"the script (a site may raise it); sky jobs launch --num-jobs "
                f"{self.num_jobs} starts every one of them.",
                "launch",
                True,
                value=True,
            )
        if self.array.throttle is not None:
            self.note_for(
                d,
                "throttle",
                f"the %{self.array.throttle} limit (at "
                f"most {self.array.throttle} array tasks at once) has no equivalent: "
                f"sky jobs launch --num-jobs {self.num_jobs} starts every job. Launch "
                "them in batches if the limit matters.",
                True,
            )

    def option_export(self, index: int, d: Any) -> None:
        try:
            spec = grammar.parse_export(d.value or "")
        except ValueError as error:
            self.rejected(index, d, str(error))
            return
        bad = [
            name
            for name in (*spec.names, *(n for n, _ in spec.assignments))
            if not _ENV_NAME.fullmatch(name)
        ]
        if bad:
            self.note_for(
                d,
                "export",
                f"{', '.join(bad)} cannot be the name of a "
                "SkyPilot env (letters, digits and _, not starting with a digit); "
                "left out.",
                True,
                "envs",
                value=True,
            )
        names = [n for n in spec.names if n not in bad]
        assignments = [(n, v) for n, v in spec.assignments if n not in bad]
        node_names = [n for n in names if n in NODE_ENVIRONMENT]
        node_values = [(n, v) for n, v in assignments if n in NODE_ENVIRONMENT]
        names = [n for n in names if n not in NODE_ENVIRONMENT]
        assignments = [(n, v) for n, v in assignments if n not in NODE_ENVIRONMENT]
        for name, value in assignments:
            self.envs[name] = value
        for name in names:
            self.envs.setdefault(name, None)
            self.launch_env.append(name)
        if node_names or node_values:
            message = _node_environment_message(d.spelled, spec.mode, node_names, node_values)
            if assignments or names:
                self.note_for(d, "export", message, True, "envs", value=True)
            else:
                self.dispose_as_note(index, d, "export", message, True, "envs", value=True)
                return
        if assignments or names:
            self.field(index, "envs")
            if names:
                self.note_for(
                    d,
                    "export",
                    "the variables passed with their "
                    f"current value ({', '.join(names)}) must be given at launch: "
                    "sky jobs launch --env NAME passes your shell's value.",
                    False,
                    "envs",
                    value=True,
                )
            return
        if spec.mode == "ALL":
            message = (
                f"{d.spelled}: the submission shell's variables do not travel to a "
                "SkyPilot node; name the ones the job needs in envs, or pass them "
                "with sky jobs launch --env NAME."
            )
        else:
            message = (
                f"{d.spelled}: the job starts without the submission shell's "
                "variables, which is what a SkyPilot node does anyway."
            )
        self.dispose_as_note(index, d, "export", message, False, "envs")

    def option_chdir(self, index: int, d: Any) -> None:
        """``--chdir``: the submission directory stays the ``workdir`` (what SkyPilot
        syncs, and ``SLURM_SUBMIT_DIR``); a directory inside it becomes a ``cd`` at the
        start of ``run`` and ``setup``; any other is a path ``sky launch`` cannot sync."""
        value = d.value or "."
        base = self.workdir
        inside = _inside(base, value)
        if inside is not None:
            self.field(index, "workdir")
            if inside != ".":
                self.chdir = inside
                self.approximation(
                    d,
                    f"{d.spelled}: the task's workdir stays {base}, the directory the "
                    "script is submitted from, which SkyPilot syncs to ~/sky_workdir on "
                    f"every node (and SLURM_SUBMIT_DIR names); run and setup start with "
                    f"cd {shlex.quote(inside)}, where the script ran.",
                    "run",
                    value=True,
                )
            return
        keep = (
            f"the task keeps workdir: {base} (the directory you launch from, synced to "
            "~/sky_workdir on every node)"
        )
        if "$" in value or value.startswith("~"):
            self.dispose_as_note(
                index,
                d,
                "approximation",
                f"{d.spelled}: sbatch does not expand $VAR or ~ and reads {value!r} "
                "literally, relative to the submission directory, where it normally does "
                f"not exist; {keep}. Write the directory as an absolute path or relative to "
                "the submission directory.",
                True,
                "workdir",
                value=True,
            )
            return
        if posixpath.isabs(value) and self.slurm_infra:
            # the cluster's file systems are there: the job starts where the script ran
            self.chdir = value
            self.field(index, "workdir")
            self.approximation(
                d,
                f"{d.spelled}: on SkyPilot's Slurm infra the cluster's file systems are "
                f"there, so run and setup start with cd {shlex.quote(value)}, where the "
                f"script ran; {keep}.",
                "run",
                value=True,
            )
            return
        if posixpath.isabs(value):
            self.dispose_as_note(
                index,
                d,
                "cluster-path",
                f"{d.spelled}: the script ran in {value} on the cluster. SkyPilot's "
                "workdir is copied from the machine you launch on, where a cluster path "
                f"normally does not exist (sky launch then fails), so {keep}. Launch from a "
                f"copy of {value}, or set workdir to the path of that copy.",
                True,
                "workdir",
                value=True,
            )
            return
        self.dispose_as_note(
            index,
            d,
            "approximation",
            f"{d.spelled}: {value} lies outside the directory the script is submitted from, "
            f"which is what SkyPilot syncs; {keep}. Set workdir to that directory (as a "
            "path on the machine you launch on) if the job needs its files.",
            True,
            "workdir",
            value=True,
        )

    def option_container_image(self, index: int, d: Any) -> None:
        image = _docker_image(d.value or "")
        if image is None:
            value = d.value or ""
            self.dispose_as_note(
                index,
                d,
                "container",
                (
                    f"{d.spelled}: sbatch does not expand variables, so pyxis gets the "
                    f"literal image name {value}, which is no image"
                    if "$" in value
                    else f"{d.spelled} names an enroot squashfs file, which SkyPilot cannot run"
                )
                + ": push the image to a registry and set image_id: docker:<image>.",
                True,
                "resources",
            )
            return
        self.image = (d.line, image, d.spelled)
        self.field(index, "resources.image_id")
        cut = self.cut_at_hash(d)
        if cut:
            whole = f"{d.value}{cut}"
            self.note_for(
                d,
                "container",
                f"{d.spelled}: an unescaped # ends an #SBATCH line, so sbatch gives pyxis "
                f"the image {d.value!r}, not {whole!r}, and the task asks for docker:{image} "
                f"as sbatch reads it. Write --container-image={d.value}\\{cut} (or the "
                f"Docker form {d.value}/{cut[1:]}) in the script, or set image_id: "
                f"docker:{d.value}/{cut[1:]} in the task.",
                True,
                "resources.image_id",
                value=True,
            )
        if self.slurm_infra:
            self.note_for(
                d,
                "container",
                "on SkyPilot's Slurm infra, a container image needs pyxis on the cluster.",
                False,
                "resources.image_id",
            )

    def source_line(self, number: int) -> str:
        """Line ``number`` (1-based) of the script as sbatch reads it (CRLF as LF)."""
        lines = self.lines
        if lines is None:
            lines = self.lines = self.script.text.replace("\r\n", "\n").split("\n")
        return lines[number - 1] if 0 < number <= len(lines) else ""

    def cut_at_hash(self, d: Any) -> str:
        """What an unescaped ``#`` right after ``d``'s value cut off (sbatch's tokenizer
        ends the line there: ``nvcr.io#nvidia/pytorch`` gives ``nvcr.io``), or ``""``."""
        if d.value_line <= 0 or not d.value_column or not d.value or not d.tokens:
            return ""
        word_line, word_column = d.tokens[-1]  # where the value's word starts
        if word_line != d.value_line:
            return ""
        line = self.source_line(d.value_line)
        read = split_words(line, word_column - 1)
        if read.stop != "comment" or not read.words or read.words[0].end != read.stop_at:
            return ""
        return line[read.stop_at :].split(None, 1)[0]

    def option_output(self, index: int, d: Any) -> None:
        self.output_option(index, d, "standard output")

    def option_error(self, index: int, d: Any) -> None:
        self.output_option(index, d, "standard error")

    def output_option(self, index: int, d: Any, what: str) -> None:
        self.dispose_as_note(
            index,
            d,
            "no-equivalent",
            f"{d.spelled}: SkyPilot keeps the job's "
            f"{what} itself (sky jobs logs <job_id>). To keep a copy in a file, "
            "redirect in run (python train.py > out.log 2>&1); Slurm's %j is "
            "$SKYPILOT_TASK_ID there.",
            False,
        )

    # -- the body ---------------------------------------------------------------------

    def body(self) -> None:
        script = self.script
        layout = self.layout
        wrap = self.options.get("wrap")
        if wrap is not None and wrap.source != "command-line":
            wrap = None  # ignored in a script (option_wrap)
        body, body_line = (
            (wrap.value or "", wrap.line) if wrap is not None else (script.body, script.body_line)
        )
        self.setup = ""
        self.run_text = ""
        interpreter = (script.shebang or "").split()
        program = interpreter[0].rsplit("/", 1)[-1] if interpreter else "bash"
        if program == "env" and len(interpreter) > 1:
            program = interpreter[1].rsplit("/", 1)[-1]
        if wrap is None and program not in _POSIX_SHELLS:
            self.foreign_interpreter(program)
            return
        if wrap is None and program in _NOT_BASH:
            self.other_shell(program, body, body_line)
        module = self.rules.module
        context = BodyContext(
            body_line=body_line,
            nodes=layout.nodes,
            tasks_per_node=layout.tasks_per_node,
            ntasks=layout.ntasks,
            gpus_per_task=layout.gpus_per_task,
            slurm_infra=self.slurm_infra,
            values=self.static_values(),
            mpi_module=lambda name: getattr(module(name), "id", "") == "mpi",
        )
        first_note = len(self.notes)
        result = convert_body(body, context)
        self.notes += result.findings
        # the ones still read once the body is converted (a rewrite may drop a use)
        self.variables = {
            name: offset
            for name, offset in slurm_variables(body).items()
            if name in result.run or name in result.setup
        }
        self.steps = result.steps
        preamble = self.preamble(result, body, body_line)
        run = result.run
        if preamble:
            run = preamble + ("\n" + run if run else "")
        self.run_text = run
        self.setup = result.setup
        if "SLURM" in self.setup:
            self.setup = self.setup_variables(self.setup) + self.setup
        if result.images:
            self.step_images(result.images)
        modules = result.modules
        if wrap is not None:  # the command line's: no line of the script
            modules = [(0, name, 0) for _, name, _ in modules]
        self.modules(modules)
        if not body or body.isspace():
            self.note(
                0, "", "not-converted", "the script has no commands: the task has no run.", True
            )
        if wrap is not None:
            for index in range(first_note, len(self.notes)):
                self.notes[index] = replace(self.notes[index], line=0, column=0)

    def step_images(self, images: list[tuple[int, int, str]]) -> None:
        """The images of ``srun --container-image`` steps: the first one the converter
        can read becomes ``image_id`` unless the job has one; each other step runs in
        that image instead of its own, and one named through a variable is not known."""
        seen: set[str] = set()
        for line, column, raw in images:
            if raw in seen:
                continue  # said at its first step
            seen.add(raw)
            image = _docker_image(raw)
            if image is None:
                why = (
                    "names the image through a variable, which the converter cannot know"
                    if "$" in raw
                    else "names an enroot squashfs file or a path, which SkyPilot cannot run"
                )
                self.note(
                    line,
                    "",
                    "container",
                    f"srun --container-image={raw} {why}: image_id is not set from it"
                    + (
                        f" (the task runs in docker:{self.image[1]})"
                        if self.image is not None
                        else ""
                    )
                    + ". Set image_id: docker:<image> in the task to the image the step needs.",
                    True,
                    "resources.image_id",
                    column,
                )
                continue
            if self.image is None:
                self.image = (line, image, f"srun --container-image={raw}")
                self.note(
                    line,
                    "",
                    "container",
                    f"srun --container-image={raw} runs the step in a container; on SkyPilot "
                    f"the whole task runs in image_id, which takes it: docker:{image}.",
                    False,
                    "resources.image_id",
                    column,
                )
                continue
            if image != self.image[1]:
                where = f"line {self.image[0]}" if self.image[0] else "the command line"
                self.note(
                    line,
                    "",
                    "container",
                    f"srun --container-image={raw} runs this step in its own image, but a "
                    f"SkyPilot task runs everything in one image_id: docker:{self.image[1]} "
                    f"({self.image[2]}, {where}), so the step runs there instead. Run the "
                    "step as a task of its own if it needs its image.",
                    True,
                    "resources.image_id",
                    column,
                )

    def other_shell(self, program: str, body: str, body_line: int) -> None:
        """A body for zsh or ksh, which run (executed by bash) reads as bash."""
        found = _NOT_BASH_SYNTAX.search(body)
        where = ""
        if found is not None:
            number = body_line + body.count("\n", 0, found.start())
            where = (
                f" Line {number} uses {found.group().strip()!r}, which is {program}'s "
                "own syntax and fails or means something else in bash: rewrite it for bash."
            )
        self.note(
            body_line,
            "",
            "interpreter",
            f"the script is written for {program} (#!{self.script.shebang}); SkyPilot runs "
            f"run with bash, and the converter reads the body as bash. {program}'s own "
            "syntax behaves differently there ("
            + (
                "arrays count from 1, $var is not split into words, setopt, ${(...)} flags"
                if program == "zsh"
                else "print, typeset options, some expansions"
            )
            + ")."
            + (
                where
                or f" Check the body, or install {program} in setup and run the script "
                f"with it from run ({program} job.sh)."
            ),
            found is not None,
            "run",
            1,
        )

    def foreign_interpreter(self, program: str) -> None:
        """A body in another language (``#!/usr/bin/env python3``): run as a file."""
        text = self.script.text
        delimiter = "SLURM2SKY_SCRIPT"
        while re.search(rf"^{delimiter}$", text, re.M):
            delimiter += "_"
        # the program reads Slurm's variables from its environment (os.environ, ...):
        # run exports them before it starts the program
        self.variables = slurm_variables(self.script.body)
        exports = self.variable_lines(self.script.body, self.script.body_line)
        program_file = '"$HOME/.slurm2sky_job.$SKYPILOT_TASK_ID"'  # a home may be shared
        run = (
            f"cat > {program_file} <<'{delimiter}'\n{text.rstrip(chr(10))}\n{delimiter}\n"
            f"chmod +x {program_file}\n{program_file}\n"
        )
        if self.layout.nodes > 1:  # written and run on the head node only
            run = f'if [ "${{SKYPILOT_NODE_RANK:-0}}" = 0 ]; then\n{run}fi\n'
        self.run_text = "".join(line + "\n" for line in exports) + run
        self.note(
            self.script.body_line,
            "",
            "interpreter",
            f"the script is a {program} "
            "program, not a shell script: run writes it to a file and runs it "
            + (
                "on the head node, as Slurm ran it once."
                if self.layout.nodes > 1
                else "as Slurm did."
            ),
            False,
            "run",
            1,
        )

    def static_values(self) -> dict[str, str]:
        """SLURM_* values known from the header, to read srun options written with them."""
        layout = self.layout
        nodes = str(layout.nodes)
        values = {"SLURM_NNODES": nodes, "SLURM_JOB_NUM_NODES": nodes, "SKYPILOT_NUM_NODES": nodes}
        if layout.tasks_set:
            total = layout.ntasks or layout.tasks_per_node * layout.nodes
            values["SLURM_NTASKS"] = values["SLURM_NPROCS"] = str(total)
        if "ntasks-per-node" in self.options:
            values["SLURM_NTASKS_PER_NODE"] = str(layout.tasks_per_node)
        if layout.cpus_per_task:
            values["SLURM_CPUS_PER_TASK"] = str(layout.cpus_per_task)
        if layout.gpus:
            values["SLURM_GPUS_ON_NODE"] = values["SKYPILOT_NUM_GPUS_PER_NODE"] = str(layout.gpus)
            if self.gpu_source == "gpus-per-node":
                values["SLURM_GPUS_PER_NODE"] = str(layout.gpus)
        return values

    def preamble(self, result: Any, body: str, body_line: int) -> str:
        """The top of ``run``: Slurm's variables from SkyPilot's, the shared ``$RANDOM``
        seed, the MPI hostfile and the ``srun`` function."""
        lines = self.variable_lines(body, body_line)
        if result.seed_random:
            lines.append(
                'RANDOM=$(( $(printf %s "$SKYPILOT_TASK_ID" | cksum | cut -d" " -f1)'
                " % 32768 ))  # the same $RANDOM on every node"
            )
        if result.mpi and not self.slurm_infra:
            # run sets SLURM_* variables, from which MPI launchers infer a Slurm
            # allocation and would start their ranks with srun: a shell function here
            lines.append(
                "export OMPI_MCA_plm=^slurm OMPI_MCA_ras=^slurm PRTE_MCA_plm=^slurm "
                "PRTE_MCA_ras=^slurm HYDRA_BOOTSTRAP=ssh HYDRA_RMK=user "
                "I_MPI_HYDRA_BOOTSTRAP=ssh  # mpirun: no Slurm here"
            )
        if result.hostfile:
            slots = self.layout.tasks_per_node
            lines.append(
                '[ "${SKYPILOT_NODE_RANK:-0}" != 0 ] || echo "$SKYPILOT_NODE_IPS" | '
                f'sed "s/$/ slots={slots}/" > "{HOSTFILE}"  # the nodes, for mpirun'
            )
            lines.append(
                f'export OMPI_MCA_orte_default_hostfile="{HOSTFILE}" '
                f'PRTE_MCA_prte_default_hostfile="{HOSTFILE}" HYDRA_HOST_FILE="{HOSTFILE}"'
            )
            # a container image runs run as root, which Open MPI refuses unless told
            lines.append("export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1")
        if result.shim:
            lines.append(SHIM)
        return "\n".join(lines)

    def setup_variables(self, setup: str) -> str:
        """The lines that set, in ``setup``, the ``SLURM_*`` variables it reads, as in run
        (:attr:`variable_exports`; ``""`` for none). SkyPilot gives setup other names for
        the node's rank, the node IPs and its GPUs (``SKYPILOT_SETUP_NODE_RANK``, …;
        ``sky/backends/cloud_vm_ray_backend.py``, ``_setup``), and no node count: the
        lines read run's names, set from setup's first."""
        used = slurm_variables(setup)
        lines = [
            # the batch shell's own task ids are 0 (sbatch-spec §8), which its lines read
            f"export {name}={'0' if name in _BATCH_TASK_IDS else value}"
            for name, value in self.variable_exports.items()
            if name in used
        ]
        if not lines:
            return ""
        text = "\n".join(lines)
        aliases = [alias for name, alias in _SETUP_ALIASES if name in text]
        return "\n".join(["# Slurm's variables, from SkyPilot's (slurm2sky)", *aliases, *lines, ""])

    def variable_lines(self, body: str, body_line: int) -> list[str]:
        """The ``export`` lines that set the ``SLURM_*`` variables ``body`` reads
        (:attr:`variables`) from SkyPilot's, and a note for those with no derivation."""
        lines: list[str] = []
        derived, unknown = self.derive_variables()
        if derived:
            lines.append("# Slurm's variables, from SkyPilot's (slurm2sky)")
            lines.extend(derived)
        if unknown:
            first = min(self.variables[name] for name in unknown)
            line = body_line + body.count("\n", 0, first)
            column = first - body.rfind("\n", 0, first)
            native = self.slurm_infra
            self.note(
                line,
                "",
                "variable",
                f"the body reads {', '.join(sorted(unknown))}, "
                + (
                    "which the cluster sets for SkyPilot's own allocation; check that "
                    "its value is what the script expects."
                    if native
                    else "which SkyPilot does not set and cannot derive: give "
                    + ("them a value" if len(unknown) > 1 else "it a value")
                    + " in envs or change the script."
                ),
                not native,
                "run",
                column,
            )
        return lines

    def derive_variables(self) -> tuple[list[str], list[str]]:
        """``export`` lines for the SLURM_* variables run needs, static ones into envs;
        the variables read that have no derivation (:data:`_DERIVATIONS`)."""
        variables = self.variables
        wanted = set(variables)
        if self.steps:  # what every srun task has, read by programs (sbatch-spec §8, §9)
            wanted |= _TASK_ENVIRONMENT
        if self.array is not None:
            wanted |= {"SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT"}
        lines: list[str] = []
        unknown: list[str] = []
        if not wanted:
            return lines, unknown
        rules = self.rules
        order = rules.variable_order
        derivations = rules.derivations
        native = _NATIVE_ON_SLURM if self.slurm_infra else frozenset()
        done: list[str] = []
        # in the order of the mappings file's rows, then the others by name
        for name in [
            *sorted((n for n in wanted if n in order), key=order.__getitem__),
            *sorted(n for n in wanted if n not in order),
        ]:
            if name in native:
                continue
            how = derivations.get(name)
            if how is None:
                if name in variables and name not in _SET_BY_SCRIPT_ONLY:
                    unknown.append(name)
                continue
            value = how(self, name)
            if value is None:
                continue  # Slurm would not set it either
            kind, text = value
            if kind == "envs" and not (self.slurm_infra and name in _UNSET_ON_SLURM):
                self.envs.setdefault(name, text)
            else:
                lines.append(f"export {name}={text}")
                self.variable_exports[name] = text
            done.append(name)
        if done:
            self.note(
                0,
                "",
                "variables",
                "run sets " + ", ".join(done) + " from SkyPilot's "
                "values (the mappings file's environment-variables rows).",
                False,
                "run",
            )
        return lines, unknown

    def total_tasks(self) -> str:
        """``SLURM_NTASKS`` in ``run``: the count, or an expression of the node count."""
        layout = self.layout
        if layout.ntasks is not None:
            return str(layout.ntasks)
        tasks = layout.tasks_per_node
        return f"$(( SKYPILOT_NUM_NODES * {tasks} ))" if tasks != 1 else "$SKYPILOT_NUM_NODES"

    def modules(self, modules: list[tuple[int, str, int]]) -> None:
        """``module load`` lines were removed from run: choose the image of the first
        module whose ``modules`` row has one, and say what replaces the others."""
        if not modules or self.slurm_infra:
            return
        module = self.rules.module
        # row id ("" for none) -> (row, line of its first module, its modules in order)
        groups: dict[str, tuple[ModuleRow | None, int, dict[str, None]]] = {}
        for line, name, column in modules:
            self.module_columns.setdefault(line, column)
            row = module(name)
            key = row.id if row is not None else ""
            if key in groups:
                groups[key][2][name] = None
            else:
                groups[key] = (row, line, {name: None})
        notes = self.rules.module_notes
        for key, (row, line, names) in groups.items():
            if row is not None and row.image and self.image is None:
                image, why = row.image, notes[key]
                if "-runtime-" in image and _NVCC.search(self.run_text):
                    # NVIDIA's runtime images have the libraries, not the compiler
                    image = image.replace("-runtime-", "-devel-")
                    why += (
                        " The body runs nvcc, so the task takes NVIDIA's -devel image of it, "
                        "which has the compiler."
                    )
                self.module_image = (line, image, next(iter(names)), why)
                break
        image = self.image[1] if self.image else (self.module_image or (0, ""))[1]
        for key, (row, line, names) in groups.items():
            removed = f"module load {', '.join(names)}: removed from run"
            if row is None:
                self.module_note(
                    line,
                    f"{removed}; no row of the mappings file's modules table names "
                    + ("them" if len(names) > 1 else "it")
                    + ". Install what it provides in setup, or choose an image that has it.",
                    True,
                    "run",
                )
            elif row.image:
                if self.module_image is not None and next(iter(names)) == self.module_image[2]:
                    continue  # reported with the image (image_choice)
                self.module_note(
                    line, f"{removed}; the task runs in docker:{image} instead.", False
                )
            else:
                covered = key in _HARMLESS_MODULE_ROWS or (
                    key == "cuda-libraries" and image.startswith("nvidia/cuda")
                )
                self.module_note(line, f"{removed}. {notes[key]}", not covered, "run")

    def module_note(
        self, line: int, message: str, loses: bool, field: str = "resources.image_id"
    ) -> None:
        column = self.module_columns.get(line, 0)
        self.notes.append(Note(line, "", "module", message, loses, field, column))

    def image_choice(self) -> None:
        if self.image is not None:
            self.resources["image_id"] = f"docker:{self.image[1]}"
            return
        if self.module_image is not None:
            line, image, name, why = self.module_image
            self.resources["image_id"] = f"docker:{image}"
            self.module_note(
                line,
                f"module load {name}: removed from run; the task runs in docker:{image}. {why}",
                False,
            )

    # -- the task ----------------------------------------------------------------------

    def assemble(self) -> Conversion:
        layout = self.layout
        task: dict[str, Any] = {}
        if "name" in self.task:
            task["name"] = self.task["name"]
        if layout.nodes_given or layout.nodes > 1:
            task["num_nodes"] = layout.nodes
        resources: dict[str, Any] = {}
        if self.infra:
            resources["infra"] = self.infra
        if layout.gpus:
            accelerator = self.accelerator()
            resources["accelerators"] = f"{accelerator}:{layout.gpus}"
            if self.unknown_gpu and accelerator == self.default_gpu:
                self.note(0, "", "gpu-type", self.unknown_gpu, True, "resources.accelerators")
            if layout.gpus > _MAX_GPUS_PER_NODE:
                self.note_for(
                    self.options[self.gpu_source],
                    "approximation",
                    f"{layout.gpus} GPUs per node: more than any node has (Slurm refuses "
                    "such a job: Requested node configuration is not available), and "
                    "SkyPilot finds no instance for it. Check the count.",
                    True,
                    "resources.accelerators",
                    value=True,
                )
        if layout.cpus:
            resources["cpus"] = f"{layout.cpus}+"
        if layout.memory_mib:
            resources["memory"] = f"{math.ceil(layout.memory_mib / 1024)}+"
        if "disk_size" in self.resources:
            resources["disk_size"] = self.resources["disk_size"]
        if "image_id" in self.resources:
            resources["image_id"] = self.resources["image_id"]
        if resources:
            task["resources"] = resources
        if self.envs:
            task["envs"] = self.envs
        task["workdir"] = self.workdir
        setup, run = self.setup, self.run_text
        if self.chdir:
            cd = f"cd {shlex.quote(self.chdir)}  # --chdir (slurm2sky)\n"
            if setup and not setup.isspace():
                setup = cd + setup
            if run and not run.isspace():
                run = cd + run
        if setup and not setup.isspace():
            task["setup"] = setup if setup[-1] == "\n" else setup + "\n"
        if run and not run.isspace():
            task["run"] = run if run[-1] == "\n" else run + "\n"
        if self.sbatch_options:
            task["config"] = {"slurm": {"sbatch_options": self.sbatch_options}}
        undecodable = _UNDECODABLE.search(self.script.text)
        if undecodable is not None:
            task = _decodable(task)
            text, at = self.script.text, undecodable.start()
            line, column = text.count("\n", 0, at) + 1, at - text.rfind("\n", 0, at)
            self.note(
                line,
                "",
                "encoding",
                f"column {column} holds the byte 0x{ord(undecodable.group()) - 0xDC00:02X}, "
                "which is not UTF-8 (sbatch passes bytes through; SkyPilot reads task YAML "
                "as UTF-8 only): every such byte is U+FFFD in the task. Save the script as "
                "UTF-8 (iconv -f latin1 -t utf-8, for one) and convert it again.",
                True,
                column=column,
            )
        if self.slurm_infra:
            self.note(
                0,
                "",
                "slurm-infra",
                "on SkyPilot's Slurm infra: options Slurm keeps "
                "its meaning for pass through config.slurm.sbatch_options; module load "
                "lines stay in run (the cluster's modules); the cluster's own "
                "SLURM_JOB_ID, SLURM_JOB_NODELIST, SLURM_JOB_NUM_NODES and similar "
                "are kept. run still runs on every node of SkyPilot's allocation, so "
                "srun and the per-task variables are the converter's.",
                False,
            )
        launch = "sky jobs launch"
        if self.num_jobs is not None:
            launch += f" --num-jobs {self.num_jobs}"
        for name in self.launch_env:
            launch += f" --env {name}"
        launch += " task.yaml"
        # every directive has its disposition, given in the order of the directives
        dispositions = self.dispositions
        directives = self.script.directives
        if len(dispositions) != len(directives):  # pragma: no cover - every path disposes
            for index, directive in enumerate(directives):
                if index not in dispositions:
                    self.dispose_as_note(
                        index,
                        directive,
                        "not-converted",
                        f"{directive.spelled} is not converted.",
                        True,
                    )
            dispositions = dict(sorted(dispositions.items()))
        self.notes.sort(key=_LINE)
        script = self.script
        if _UNDECODABLE.search(script.text) or any(
            _UNDECODABLE.search(d.spelled) for d in script.directives if not d.line
        ):  # bytes that are not UTF-8, which notes may quote
            self.notes = [_readable(note) for note in self.notes]
        return Conversion(
            task,
            tuple(self.notes),
            (launch,),
            MappingProxyType(dispositions),
            self.script.path,
        )

    def accelerator(self) -> str:
        """The SkyPilot accelerator of the GPU request (``layout.gpus`` > 0)."""
        d = self.options[self.gpu_source]
        slurm_type = self.layout.gpu_type
        if slurm_type is None:
            constraint = self.options.get("constraint")
            if (
                constraint is not None
                and constraint.value
                and re.fullmatch(r"[A-Za-z0-9_.-]+", constraint.value)
            ):
                row = self.rules.gpu_type(constraint.value)
                if row is not None:
                    self.note_for(
                        d,
                        "gpu-type",
                        f"{d.spelled} names no GPU type; "
                        f"{constraint.spelled} (line {constraint.line}) names one: "
                        f"{row.skypilot}.",
                        False,
                        "resources.accelerators",
                    )
                    return row.skypilot
            self.note_for(
                d,
                "default-gpu",
                f"{d.spelled} names no GPU type and "
                f"SkyPilot needs one: the task asks for {self.default_gpu} ("
                + (
                    "--gpu-type)."
                    if self.gpu_type_given
                    else "the mappings file's default; choose another with --gpu-type)."
                )
                + " SkyPilot also accepts several, e.g. {H100:8, A100-80GB:8}.",
                False,
                "resources.accelerators",
            )
            return self.default_gpu
        row = self.rules.gpu_type(slurm_type)
        if row is not None:
            return row.skypilot
        d = self.options.get(self.gpu_type_source, d)  # the option that names the type
        mig = re.search(r"\d+g\.\d+gb", slurm_type.lower())
        self.note_for(
            d,
            "gpu-type",
            (
                f"{slurm_type} is a MIG slice of a GPU, which SkyPilot does not allocate; "
                if mig
                else f"the GPU type {slurm_type} is the site's own name and no row "
                "of the mappings file's gpu-types table matches it; "
            )
            + f"the task asks for {self.default_gpu}. Choose the type with --gpu-type or "
            "add a gpu-types row.",
            True,
            "resources.accelerators",
            value=True,
        )
        return self.default_gpu


#: The handler of each option with an ``options`` row (:data:`SPECIAL_OPTIONS`).
_OPTION_HANDLERS: Mapping[str, Callable[[_Converter, int, Any], None]] = MappingProxyType(
    {name: getattr(_Converter, "option_" + name.replace("-", "_")) for name in SPECIAL_OPTIONS}
)
_LINE = attrgetter("line")


def _envs(value: str | None) -> tuple[str, str] | None:
    return None if value is None else ("envs", value)


def _array_bound(c: _Converter, name: str) -> tuple[str, str] | None:
    if c.array is None:
        return None
    indices = c.array.indices  # ascending
    return "envs", str(indices[0] if name.endswith("MIN") else indices[-1])


#: How ``run`` gets each SLURM_* variable the mappings file's ``environment-variables``
#: rows derive (row id -> (converter, variable name) -> ``("envs", value)`` for a value
#: known in advance, ``("run", shell expression)``, or None where Slurm would not set it).
_DERIVATIONS: Mapping[str, Callable[[_Converter, str], tuple[str, str] | None]] = MappingProxyType(
    {
        "slurm-job-nodelist": lambda c, n: ("run", '$(echo "$SKYPILOT_NODE_IPS" | paste -sd, -)'),
        "slurm-job-num-nodes": lambda c, n: ("run", "$SKYPILOT_NUM_NODES"),
        "slurm-nodeid": lambda c, n: ("run", "$SKYPILOT_NODE_RANK"),
        "slurm-procid": lambda c, n: (
            "run",
            "$SKYPILOT_NODE_RANK"
            if c.layout.tasks_per_node == 1
            else f"$(( SKYPILOT_NODE_RANK * {c.layout.tasks_per_node} ))",
        ),
        "slurm-localid": lambda c, n: ("envs", "0"),
        "slurm-ntasks": lambda c, n: ("run", c.total_tasks()) if c.layout.tasks_set else None,
        "slurm-gpus-per-node": lambda c, n: (
            ("run", "$SKYPILOT_NUM_GPUS_PER_NODE") if c.gpu_source == "gpus-per-node" else None
        ),
        "slurm-job-id": lambda c, n: ("run", "${SKYPILOT_MANAGED_JOB_ID:-$SKYPILOT_TASK_ID}"),
        "slurm-job-name": lambda c, n: (
            "envs",
            c.job_name or _default_job_name(c.script.path),
        ),
        "slurm-submit-dir": lambda c, n: ("run", "$HOME/sky_workdir"),
        "slurm-array-task-id": lambda c, n: (
            ("run", _array_expression(c.array)) if c.array else None
        ),
        "slurm-array-task-count": lambda c, n: ("run", "$SKYPILOT_NUM_JOBS") if c.array else None,
        "slurm-array-task-min-max": _array_bound,
        "slurm-array-task-step": lambda c, n: _envs(str(c.array.step) if c.array else None),
        "slurm-cpus-per-task": lambda c, n: _envs(
            str(c.layout.cpus_per_task) if c.layout.cpus_per_task else None
        ),
        "slurm-ntasks-per-node": lambda c, n: _envs(
            str(c.layout.tasks_per_node) if "ntasks-per-node" in c.options else None
        ),
        "slurm-gpus-per-task": lambda c, n: _envs(
            getattr(c.options.get("gpus-per-task"), "value", None)
        ),
        "slurm-gpus-on-node": lambda c, n: (
            ("run", "$SKYPILOT_NUM_GPUS_PER_NODE") if c.layout.gpus else None
        ),
        "slurm-cpus-on-node": lambda c, n: ("run", "$(nproc)"),
        "slurm-mem-per-node": lambda c, n: _envs(
            str(c.layout.memory_mib) if "mem" in c.options and c.layout.memory_mib else None
        ),
        "slurm-job-partition": lambda c, n: _envs(
            getattr(c.options.get("partition"), "value", None)
        ),
    }
)
#: The ``environment-variables`` rows the converter derives (:data:`_DERIVATIONS`).
DERIVED_VARIABLE_ROWS = frozenset(_DERIVATIONS)


#: ``modules`` rows whose removal loses nothing a SkyPilot image lacks (build tools,
#: Python and conda are on SkyPilot's default images).
_HARMLESS_MODULE_ROWS = frozenset({"toolchains", "python"})
#: The parser's ``foreign`` kinds for text of a header line sbatch does not read.
_NOT_READ = frozenset({"ignored-directive", "line-cut"})
#: Problems that leave a directive without a usable value.
_REJECTED_VALUE = frozenset({"bad-value", "missing-argument", "unexpected-argument", "exits"})
#: Variables scripts set for srun themselves (input variables), never read from Slurm.
_SET_BY_SCRIPT_ONLY = frozenset(
    {
        "SRUN_CPUS_PER_TASK",
        "SLURM_EXPORT_ENV",
        "SLURM_CPU_BIND",
        "SLURM_MPI_TYPE",
        "SLURM_OVERLAP",
        "SLURM_EXACT",
        "SLURM_HINT",
        "SLURM_DISTRIBUTION",
        "SLURM_UNBUFFEREDIO",
    }
)


def _cloud(infra: str) -> str:
    return infra.strip().strip("/").split("/", 1)[0].lower()


def _inside(base: str, path: str) -> str | None:
    """``path`` (a ``--chdir`` value) relative to the submission directory ``base`` when
    it lies inside it (``"."`` for ``base`` itself), else ``None`` (also for ``$VAR`` and
    ``~``, which sbatch does not expand)."""
    if "$" in path or path.startswith("~"):
        return None
    if posixpath.isabs(path):
        if not posixpath.isabs(base):
            return None
        path = posixpath.relpath(posixpath.normpath(path), posixpath.normpath(base))
    path = posixpath.normpath(path)
    if path == ".." or path.startswith("../"):
        return None
    return path


def _slurm_cluster_only(infra: str) -> bool:
    """``infra`` is ``slurm/<cluster>``: a Slurm cluster without a partition."""
    return _cloud(infra) == "slurm" and infra.strip().strip("/").count("/") == 1


def _duration(minutes: int) -> str:
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    parts = []
    if days:
        parts.append(f"{days} d")
    if hours:
        parts.append(f"{hours} h")
    if mins:
        parts.append(f"{mins} min")
    return " ".join(parts) or "0 min"


#: SkyPilot's rule for a task name (``sky/task.py`` ``_VALID_NAME_REGEX``, checked by
#: ``Task.validate_name`` when a task is launched).
_TASK_NAME = re.compile(r"[a-zA-Z0-9]+(?:[._-]{1,2}[a-zA-Z0-9]+)*")
_NAME_PARTS = re.compile(r"([A-Za-z0-9]+)")
_NAME_SEPARATOR = re.compile(r"[._-]{1,2}")


def task_name(name: str) -> str:
    """``name`` as a task name SkyPilot accepts (``Task.validate_name``: letters and
    digits, with one or two of ``.``, ``_``, ``-`` between them): itself when it is one;
    else accents dropped (``é`` -> ``e``), every other run of characters between letters
    and digits made ``-`` (``my job`` -> ``my-job``, ``th_new/hmg`` -> ``th_new-hmg``) and
    the ends trimmed (``<job-name>`` -> ``job-name``); ``""`` when no letter or digit is
    left (``{{``, ``""``)."""
    if _TASK_NAME.fullmatch(name):
        return name
    plain = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    parts = _NAME_PARTS.split(plain)  # separator, name part, separator, ..., separator
    pieces: list[str] = []
    for index in range(1, len(parts), 2):
        if pieces:
            between = parts[index - 1]
            pieces.append(between if _NAME_SEPARATOR.fullmatch(between) else "-")
        pieces.append(parts[index])
    return "".join(pieces)


#: Variables that describe the machine a process runs on (its login, its software):
#: the node sets them itself, and a value from elsewhere breaks or mislabels it.
NODE_ENVIRONMENT = frozenset(
    {
        "PATH",
        "HOME",
        "HOSTNAME",
        "HOST",
        "USER",
        "LOGNAME",
        "SHELL",
        "PWD",
        "OLDPWD",
        "SHLVL",
        "TERM",
        "DISPLAY",
        "MAIL",
        "LD_LIBRARY_PATH",
        "LD_PRELOAD",
        "LIBRARY_PATH",
        "CPATH",
        "MANPATH",
        "TMPDIR",
        "TMP",
        "TEMP",
        "XDG_RUNTIME_DIR",
        "MODULEPATH",
        "LOADEDMODULES",
        "SSH_AUTH_SOCK",
        "SSH_CLIENT",
        "SSH_CONNECTION",
        "SSH_TTY",
    }
)
#: The node variables that list directories, which a job extends rather than replaces.
_SEARCH_PATHS = frozenset(
    {"PATH", "LD_LIBRARY_PATH", "LIBRARY_PATH", "CPATH", "MANPATH", "MODULEPATH"}
)


def _node_environment_message(
    spelled: str, mode: str, names: list[str], values: list[tuple[str, str]]
) -> str:
    """The warning for ``--export`` items that name the node's own variables."""
    parts = []
    if names:
        listed = ", ".join(names)
        parts.append(
            f"{listed} would be passed from the shell that ran sbatch on the cluster, "
            f"where {'they' if len(names) > 1 else 'it'} described that machine and its "
            "software; a SkyPilot node sets "
            f"{'them' if len(names) > 1 else 'it'} itself, and giving your own machine's "
            "value with --env would "
            + (
                "break the node"
                if set(names) & (_SEARCH_PATHS | {"HOME", "SHELL", "TMPDIR", "USER"})
                else "mislabel it"
            )
        )
    if values:
        listed = ", ".join(f"{n}={v}" for n, v in values)
        if mode == "ALL":
            why = (
                "with ALL, sbatch uses such a value only where the submitting shell has "
                "none (a shell always has PATH, HOME and USER), and in envs it would "
                "replace the node's own"
            )
        else:
            why = "in envs it would replace the node's own value"
        parts.append(f"{listed}: {why}")
    advice = []
    paths = [(n, v) for n, v in values if n in _SEARCH_PATHS]
    if paths:
        advice.append(
            "to add directories, extend the node's value in run ("
            + "; ".join(
                f"export {n}={v}" if re.search(rf"\$\{{?{n}\b", v) else f"export {n}={v}:${n}"
                for n, v in paths
            )
            + ") where they exist on the node"
        )
    if any(n in _SEARCH_PATHS for n in (*names, *(n for n, _ in values))):
        advice.append("install what the job needs in setup or choose an image that has it")
    else:
        advice.append("the job reads the node's own value, as a job does on a new machine")
    return (
        f"{spelled}: "
        + "; ".join(parts)
        + ". Left out of envs: the node keeps its own. "
        + "; ".join(advice)[:1].upper()
        + "; ".join(advice)[1:]
        + "."
    )


def _default_job_name(path: str) -> str:
    """sbatch's default job name: the script's file name (``sbatch`` for stdin)."""
    if path in _DEFAULT_NAMES:
        return "sbatch"
    return posixpath.basename(path.replace("\\", "/")) or "sbatch"


def _docker_image(value: str) -> str | None:
    """A pyxis ``--container-image`` value as a Docker reference (``registry#image`` ->
    ``registry/image``; ``docker://`` dropped); ``None`` for a squashfs file or a path.
    Source: pyxis README, enroot ``import`` URIs."""
    image = value.strip()
    for prefix in ("docker://", "dockerd://", "podman://"):
        if image.startswith(prefix):
            image = image[len(prefix) :]
    if not image or image.startswith(("/", ".", "~")) or image.endswith(".sqsh") or "$" in image:
        return None
    if "@" in image.split("#", 1)[0] and "#" in image:
        image = image.split("@", 1)[1]  # USER@REGISTRY#IMAGE: credentials come from SkyPilot
    image = image.replace("#", "/", 1)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._/:@-]*", image):
        return None
    return image


def _array_runs(indices: tuple[int, ...]) -> list[tuple[int, int, int]]:
    """Ascending ``indices`` as arithmetic runs ``(first, step, count)``, greedily: a run
    takes the index after its first whatever the step, then every next index while the
    step stays the same."""
    runs: list[tuple[int, int, int]] = []
    count = len(indices)
    start = 0
    while start < count:
        first = indices[start]
        if start + 1 == count:
            runs.append((first, 1, 1))
            break
        step = indices[start + 1] - first
        rest = count - start
        # the rest is one range (most arrays)? With step 1, counting tells: the indices
        # are whole, ascending and unique
        if indices[-1] - first == step * (rest - 1) and (
            step == 1
            or (indices if start == 0 else indices[start:])
            == tuple(range(first, indices[-1] + 1, step))
        ):
            runs.append((first, step, rest))
            break
        end = start + 2
        while end < count and indices[end] - indices[end - 1] == step:
            end += 1
        runs.append((first, step, end - start))
        start = end
    return runs


def _array_expression(array: grammar.ArraySpec | None) -> str:
    """``SLURM_ARRAY_TASK_ID`` for the job of rank ``$SKYPILOT_JOB_RANK``: one arithmetic
    expression for a single range with a step, a list lookup otherwise."""
    if array is None or not array.indices:
        return "$SKYPILOT_JOB_RANK"
    indices = array.indices
    runs = _array_runs(indices)
    if len(runs) == 1:
        first, step, _ = runs[0]
        term = "SKYPILOT_JOB_RANK" if step == 1 else f"SKYPILOT_JOB_RANK * {step}"
        return f"$(( {first} + {term} ))" if first else f"$(( {term} ))"
    if len(indices) <= 64:
        listed = " ".join(map(str, indices))
        return f"$(set -- {listed}; shift $SKYPILOT_JOB_RANK; echo $1)"
    pieces = []
    offset = 0
    for first, step, count in runs:
        pieces.append(f"r < {offset + count} ? {first} + (r - {offset}) * {step}")
        offset += count
    expression = " : ".join(pieces) + " : -1"
    return f"$(( r = SKYPILOT_JOB_RANK, {expression} ))"


#: What sbatch takes as a het-job separator anywhere on an #SBATCH line (``strcasestr``).
_HETJOB_WORD = re.compile(r"(?i)hetjob|packjob")
#: Characters that make sbatch's tokenizer split or cut a value, or that it removes.
_SBATCH_SPECIAL = re.compile(r"[ \t\v\f\r\"'\\#]")
_SBATCH_BLANKS = re.compile(r"[ \t\v\f\r]+|.", re.S)


def sbatch_word(value: str) -> str:
    """``value`` written so that sbatch's tokenizer (sbatch-spec §3) reads it back whole
    from an ``#SBATCH --name=<value>`` line: unchanged when it has no blank, quote,
    backslash or ``#``; else in double quotes (single quotes when it holds a double
    quote); a value with a backslash, or with both quotes, keeps its blanks in double
    quotes and escapes each quote, backslash and ``#`` with a backslash.

    SkyPilot writes ``#SBATCH --{key}={value}`` with the value as given
    (``sky/provision/slurm/instance.py`` ``_build_custom_sbatch_directives``)."""
    if not _SBATCH_SPECIAL.search(value):
        return value
    if "\\" not in value:
        if '"' not in value:
            return f'"{value}"'
        if "'" not in value:
            return f"'{value}'"
    pieces = []
    for match in _SBATCH_BLANKS.finditer(value):
        text = match.group()
        if text[0] in " \t\v\f\r":
            pieces.append(f'"{text}"')
        elif text in "\"'\\#":
            pieces.append("\\" + text)
        else:
            pieces.append(text)
    return "".join(pieces)


def _column(d: Any, value: bool = False) -> int:
    """The column a note about directive ``d`` points at: its value's (when ``value`` and
    the value is on the directive's line), else its option's; 0 on the command line."""
    if d.line <= 0:
        return 0
    if value and d.value_column and d.value_line == d.line:
        return d.value_column
    return d.column


def _problem_text(problem: Any) -> str:
    if problem is None:
        return ""
    text = problem.message.rstrip(".")
    text += "" if text.endswith(("!", "?")) else "."
    if getattr(problem, "hint", ""):
        text += f" Valid: {problem.hint.rstrip('.')}."
    return text[:1].upper() + text[1:]


def _refused(reason: str, outcome: str = "the task leaves it out") -> str:
    """A note's message for something sbatch refuses the script for: sbatch's reason
    (and what would be valid), then what the task does instead."""
    return f"{reason.rstrip('.')}. sbatch refuses the script for it; {outcome}."


def convert(
    script: BatchScript,
    *,
    mappings: Mappings | None = None,
    gpu_type: str | None = None,
    infra: str | None = None,
    partition_map: Mapping[str, str] | None = None,
    workdir: str = ".",
) -> Conversion:
    """Convert a parsed batch script (:func:`slurm2sky.sbatch.parse_script`) to a task.

    Args:
        script: a :class:`slurm2sky.sbatch.BatchScript`.
        mappings: the rules (default: the shipped mappings file, read unchecked).
        gpu_type: the SkyPilot accelerator for GPU requests without a type, or with a
            GRES type no ``gpu-types`` row maps (default: the row marked ``default``,
            H100). Matched without regard to case and written as SkyPilot spells it
            (:func:`accelerator_name`); a name the mappings file does not know is kept,
            with a ``gpu-type`` note that loses meaning where the task asks for it.
        infra: where the task runs (``aws``, ``kubernetes/<context>``,
            ``slurm/<cluster>[/<partition>]``); on ``slurm/…`` options pass through
            ``config.slurm.sbatch_options``.
        partition_map: Slurm partition name -> infra (wins over ``infra`` for the
            partitions it names).
        workdir: the directory the script is submitted from, synced to the nodes.

    Returns:
        A :class:`Conversion`. Never raises for any script the parser returns.
    """
    converter = _Converter(
        script, mappings or _default_mappings(), gpu_type, infra, partition_map or {}, workdir
    )
    with collector_paused():
        return converter.run()
