"""A batch script, as sbatch reads it, as a SkyPilot 0.14.1 task: :func:`convert`.

The rules come from the mappings file (:mod:`slurm2sky.mappings`): an ``options`` row for
every option with specific handling (its ``field`` and ``on-slurm`` are what this module
does with it), ``option-categories`` for the rest, ``environment-variables`` for the
``SLURM_*`` values ``run`` derives from SkyPilot's, ``gpu-types`` for GRES type names and
``modules`` for ``module load``. What the body becomes is described in
:mod:`slurm2sky._body`.

Every directive gets exactly one primary *disposition*: a task field, a
``config.slurm.sbatch_options`` entry (on SkyPilot's Slurm infra), or a :class:`Note`;
nothing is dropped in silence. Units: Slurm memory is MiB unless suffixed (``G`` = 1024
MiB, sbatch(1) ``--mem``); SkyPilot memory and disk are GB of 2³⁰ bytes, so MiB are
rounded *up* to whole GB; times are minutes.

Pure Python (no Sphinx, no jsonschema, no subprocess); never raises for bad input.
"""

from __future__ import annotations

import math
import posixpath
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fnmatch import translate
from functools import cache
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from slurm2sky._body import SHIM, BodyContext, convert_body, slurm_variables
from slurm2sky.mappings import (
    EnvironmentVariableRow,
    GpuTypeRow,
    Mappings,
    ModuleRow,
    OptionCategoryRow,
    OptionRow,
    load_mappings,
)
from slurm2sky.sbatch import values as grammar

if TYPE_CHECKING:
    from slurm2sky.sbatch import BatchScript

__all__ = [
    "CATEGORY_LOSES_MEANING",
    "SKYPILOT_PROTECTED_SBATCH_OPTIONS",
    "SPECIAL_OPTIONS",
    "Conversion",
    "Note",
    "convert",
    "skypilot_time",
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
#: SkyPilot's rule for env names (task schema ``envs``).
_ENV_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_POSIX_SHELLS = frozenset({"bash", "sh", "zsh", "ksh", "dash", "ash", "mksh", "busybox"})
_DEFAULT_NAMES = frozenset({"<script>", "<stdin>", "-", ""})


@dataclass(frozen=True)
class Note:
    """Something the converter says about the script.

    ``line`` is the directive's (or the body line's) 1-based line, 0 for the whole script
    or a command-line option; ``directive`` the directive as written
    (``--time=24:00:00``) or ``""``; ``kind`` a stable id (see :data:`NOTE_KINDS`);
    ``message`` why, and what to do; ``loses_meaning`` is true when the task does not
    keep the script's meaning; ``field`` the task field it concerns
    (``resources.accelerators``), used to place the comment, or ``""``.
    """

    line: int
    directive: str
    kind: str
    message: str
    loses_meaning: bool
    field: str = ""


#: Every ``Note.kind`` the converter uses, with what it means.
NOTE_KINDS: Mapping[str, str] = MappingProxyType(
    {
        "sbatch-rejects": "sbatch would refuse the script or this directive",
        "foreign": "#PBS/#BSUB lines, het-job components: read by sbatch, not translated",
        "ignored-directive": "an #SBATCH line sbatch ignores (after the first command)",
        "site-option": "an option of a site plugin (SPANK), not translated",
        "overridden": "a directive a later one replaces",
        "no-equivalent": "an option SkyPilot has no equivalent for",
        "protected": "an option SkyPilot writes itself on its Slurm infra",
        "approximation": "converted, close to but not exactly the script's meaning",
        "default-gpu": "a GPU request without a type got the default type",
        "gpu-type": "a GPU type name with no row in gpu-types, or taken from elsewhere",
        "throttle": "the %N limit of --array",
        "partition": "a partition without an infra",
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
        "interpreter": "a body that is not a shell script",
        "slurm-infra": "what is decided for SkyPilot's Slurm infra",
        "not-converted": "something with no conversion at all",
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
        "tmp",
        "time",
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

#: SLURM_* rows of the mappings file the converter derives (row id -> how, see
#: :func:`_derivations`).
DERIVED_VARIABLE_ROWS = frozenset(
    {
        "slurm-job-nodelist",
        "slurm-job-num-nodes",
        "slurm-nodeid",
        "slurm-procid",
        "slurm-localid",
        "slurm-ntasks",
        "slurm-gpus-per-node",
        "slurm-job-id",
        "slurm-job-name",
        "slurm-submit-dir",
        "slurm-array-task-id",
        "slurm-array-task-count",
        "slurm-array-task-min-max",
        "slurm-array-task-step",
        "slurm-cpus-per-task",
        "slurm-ntasks-per-node",
        "slurm-gpus-per-task",
        "slurm-gpus-on-node",
        "slurm-cpus-on-node",
        "slurm-mem-per-node",
        "slurm-job-partition",
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
        "SLURM_CPUS_ON_NODE",
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


#: id(rows) -> (rows, compiled patterns, name -> row): the rows are kept so that the id
#: stays theirs.
_ROW_MATCHERS: dict[int, tuple[tuple[Any, ...], re.Pattern[str], dict[str, Any]]] = {}


def _matcher(rows: tuple[Any, ...]) -> tuple[re.Pattern[str], dict[str, Any]]:
    """One regex for the patterns of ``rows`` (group ``r<i>`` is row i; the first
    matching row wins) and a cache of names already looked up."""
    entry = _ROW_MATCHERS.get(id(rows))
    if entry is None or entry[0] is not rows:
        parts = []
        for index, row in enumerate(rows):
            patterns = row.slurm if isinstance(row, GpuTypeRow) else row.module
            body = "|".join(
                translate(p.lower()).removesuffix(r"\Z").removeprefix("(?s:").removesuffix(")")
                for p in patterns
            )
            parts.append(f"(?P<r{index}>{body})")
        pattern = re.compile(r"(?s:" + "|".join(parts) + r")\Z")
        if len(_ROW_MATCHERS) > 64:
            _ROW_MATCHERS.clear()
        entry = (rows, pattern, {})
        _ROW_MATCHERS[id(rows)] = entry
    return entry[1], entry[2]


def _match_row(rows: tuple[Any, ...], name: str) -> Any | None:
    if not rows:
        return None
    pattern, seen = _matcher(rows)
    if name in seen:
        return seen[name]
    match = pattern.match(name.lower())
    row = rows[int(match.lastgroup[1:])] if match is not None else None  # type: ignore[index]
    if len(seen) < 4096:
        seen[name] = row
    return row


_OPTION_ROWS: dict[int, tuple[Mappings, dict[str, OptionRow | OptionCategoryRow]]] = {}


def _option_rows(mappings: Mappings) -> dict[str, OptionRow | OptionCategoryRow]:
    """Option name -> its row (:meth:`Mappings.option`, as a dict built once)."""
    entry = _OPTION_ROWS.get(id(mappings))
    if entry is None or entry[0] is not mappings:
        rows: dict[str, OptionRow | OptionCategoryRow] = {}
        for category in mappings.option_categories:
            for name in category.options:
                rows.setdefault(name, category)
        for row in mappings.options:
            rows[row.option] = row
            for alias in row.aliases:
                rows[alias] = row
        if len(_OPTION_ROWS) > 16:
            _OPTION_ROWS.clear()
        entry = (mappings, rows)
        _OPTION_ROWS[id(mappings)] = entry
    return entry[1]


def gpu_type_row(mappings: Mappings, name: str) -> GpuTypeRow | None:
    """The ``gpu-types`` row for a Slurm GRES type name (first matching row), or None."""
    return _match_row(mappings.gpu_types, name)


def module_row(mappings: Mappings, name: str) -> ModuleRow | None:
    """The ``modules`` row for one module as written (``cuda/12.1``), or None."""
    return _match_row(mappings.modules, name)


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
        self.m = mappings
        self.default_gpu = gpu_type or mappings.default_gpu_type()
        self.gpu_type_given = gpu_type is not None
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
        self.winners = {id(d) for d in script.options.values()}
        self.infra: str | None = None
        self.slurm_infra = False
        self.image: tuple[int, str, str] | None = None  # (line, image, what chose it)
        self.array: grammar.ArraySpec | None = None
        self._positions: frozenset[tuple[int, int]] | None = None
        self.module_image: tuple[int, str, str, str] | None = None

    # -- notes -------------------------------------------------------------------

    def note(
        self,
        line: int,
        directive: str,
        kind: str,
        message: str,
        loses: bool,
        field: str = "",
    ) -> None:
        self.notes.append(Note(line, directive, kind, message, loses, field))

    def dispose(self, index: int, disposition: str) -> None:
        self.dispositions.setdefault(index, disposition)

    def dispose_as_note(
        self, index: int, d: Any, kind: str, message: str, loses: bool, field: str = ""
    ) -> None:
        """Directive ``index`` (``d``) becomes the note ``kind`` (disposition ``note:kind``)."""
        self.dispose(index, "note:" + kind)
        self.note(d.line, d.spelled, kind, message, loses, field)

    def value_of(self, name: str) -> Any | None:
        return self.options.get(name)

    # -- the whole conversion ------------------------------------------------------

    def run(self) -> Conversion:
        script = self.script
        self.whole_script_notes()
        self.decide_infra()
        self.compute_layout()
        for index, directive in enumerate(script.directives):
            self.directive(index, directive)
        self.body()
        self.image_choice()
        return self.assemble()

    def whole_script_notes(self) -> None:
        by_position = self.problems_by_position()
        self.problem_at = by_position
        for problem in self.script.problems:
            if (problem.line, problem.column) in self.directive_positions():
                continue  # reported with its directive
            self.note(
                problem.line,
                getattr(problem, "key", "") or "",
                "sbatch-rejects",
                _problem_text(problem) + " The task is converted as far as possible.",
                False,
            )
        for problem in self.script.foreign:
            if (problem.line, problem.column) in self.directive_positions():
                continue
            kind = getattr(problem, "kind", "")
            note_kind = "ignored-directive" if kind == "ignored-directive" else "foreign"
            self.note(
                problem.line,
                getattr(problem, "key", "") or "",
                note_kind,
                _problem_text(problem),
                kind in ("hetjob", "pbs", "bsub"),
            )

    def problems_by_position(self) -> dict[tuple[int, int], Any]:
        found: dict[tuple[int, int], Any] = {}
        for problem in (*self.script.problems, *self.script.foreign):
            found.setdefault((problem.line, problem.column), problem)
        return found

    def directive_positions(self) -> frozenset[tuple[int, int]]:
        if self._positions is None:
            self._positions = frozenset((d.line, d.column) for d in self.script.directives)
        return self._positions

    # -- infra and partitions --------------------------------------------------------

    def decide_infra(self) -> None:
        partition = self.value_of("partition")
        names = partition.value.split(",") if partition is not None and partition.value else []
        mapped = [self.partition_map[n] for n in names if n in self.partition_map]
        infra = self.infra_arg
        self.partition_infra = ""
        if mapped:
            infra = mapped[0]
            self.partition_infra = "map"
        elif (
            infra
            and names
            and _cloud(infra) == "slurm"
            and infra.strip("/").count("/") == 1
            and re.fullmatch(r"[A-Za-z0-9_.-]+", names[0])
        ):
            infra = f"{infra.strip('/')}/{names[0]}"
            self.partition_infra = "slurm"
        self.infra = infra or None
        self.slurm_infra = self.infra is not None and _cloud(self.infra) == "slurm"

    # -- the per-node request (sbatch-spec §7) ------------------------------------------

    def number(self, name: str, parse: Callable[[str], Any] = grammar.parse_int) -> Any | None:
        directive = self.value_of(name)
        if directive is None or directive.value is None:
            return None
        try:
            return parse(directive.value)
        except ValueError:
            return None

    def compute_layout(self) -> None:
        layout = self.layout
        nodes = self.number("nodes", grammar.parse_node_range)
        ntasks = self.number("ntasks")
        per_node = self.number("ntasks-per-node")
        cpus_per_task = self.number("cpus-per-task")
        if nodes is not None:
            layout.nodes = max(nodes[0], 1)
            layout.nodes_given = True
        elif ntasks is not None and per_node:
            layout.nodes = max(math.ceil(ntasks / per_node), 1)
        layout.ntasks = ntasks
        if per_node:
            layout.tasks_per_node = per_node
        elif ntasks:
            layout.tasks_per_node = max(math.ceil(ntasks / layout.nodes), 1)
        layout.tasks_set = ntasks is not None or per_node is not None
        layout.cpus_per_task = cpus_per_task
        layout.gpus_per_task = None
        # GPUs per node
        gpus, gpu_type, self.gpu_source = self.gpus_per_node()
        layout.gpus, layout.gpu_type = gpus, gpu_type
        # CPUs per node
        cpus_per_gpu = self.number("cpus-per-gpu")
        mincpus = self.number("mincpus")
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
        mem = self.number("mem", grammar.parse_memory)
        per_cpu = self.number("mem-per-cpu", grammar.parse_memory)
        per_gpu = self.number("mem-per-gpu", grammar.parse_memory)
        if mem is not None:
            memory = mem
        elif per_cpu is not None:
            memory = per_cpu * (
                layout.gpus * cpus_per_gpu
                if cpus_per_gpu and layout.gpus
                else layout.tasks_per_node * (cpus_per_task or 1)
            )
        elif per_gpu is not None and layout.gpus:
            memory = per_gpu * layout.gpus
        layout.memory_mib = memory

    def gpus_per_node(self) -> tuple[int, str | None, str]:
        """(GPUs per node, Slurm type or None, the option that decided)."""
        layout = self.layout
        per_node = self.number("gpus-per-node", grammar.parse_gpus)
        if per_node:
            return per_node[0][1], per_node[0][0], "gpus-per-node"
        gres = self.number("gres", grammar.parse_gres)
        if gres:
            for item in gres:
                if item.name == "gpu":
                    return item.count, item.type, "gres"
        per_task = self.number("gpus-per-task", grammar.parse_gpus)
        if per_task:
            layout.gpus_per_task = per_task[0][1]
            return per_task[0][1] * layout.tasks_per_node, per_task[0][0], "gpus-per-task"
        total = self.number("gpus", grammar.parse_gpus)
        if total:
            count = sum(c for _, c in total)
            return math.ceil(count / layout.nodes), total[0][0], "gpus"
        return 0, None, ""

    # -- directives ------------------------------------------------------------------

    def directive(self, index: int, d: Any) -> None:
        spelled = d.spelled
        if d.option is None:
            problem = self.problem_at.get((d.line, d.column))
            kind = getattr(problem, "kind", "")
            if kind == "site-option":
                self.dispose_as_note(
                    index,
                    d,
                    "site-option",
                    _problem_text(problem)
                    + (" A site plugin's option has no SkyPilot equivalent."),
                    True,
                )
            else:
                text = _problem_text(problem) if problem else "sbatch does not accept it."
                self.dispose_as_note(
                    index, d, "sbatch-rejects", text + " It is not converted.", True
                )
            return
        if d.component:
            self.dispose_as_note(
                index,
                d,
                "foreign",
                f"{spelled} belongs to het-job component "
                f"{d.component}; SkyPilot runs one kind of node per task: convert that "
                "component as a task of its own.",
                True,
            )
            return
        if id(d) not in self.winners:
            winner = self.options.get(d.option)
            where = (
                f"line {winner.line}" if winner is not None and winner.line else "the command line"
            )
            self.dispose_as_note(
                index,
                d,
                "overridden",
                f"{spelled} is replaced by {winner.spelled if winner else 'a later one'} "
                f"({where}): the last one wins.",
                False,
            )
            return
        problem = self.problem_at.get((d.line, d.column))
        if problem is not None:
            if getattr(problem, "kind", "") in _REJECTED_VALUE:
                self.dispose_as_note(
                    index,
                    d,
                    "sbatch-rejects",
                    _problem_text(problem) + " It is not converted.",
                    True,
                )
                return
            # sbatch refuses the script for it (e.g. --mem with --mem-per-cpu), but the
            # option itself has a meaning: said here, converted below
            self.note(d.line, spelled, "sbatch-rejects", _problem_text(problem), False)
        if d.option in SPECIAL_OPTIONS:
            getattr(self, "option_" + d.option.replace("-", "_"))(index, d)
            return
        category = _option_rows(self.m).get(d.option)
        if isinstance(category, OptionCategoryRow):
            self.category_option(index, d, category)
            return
        self.dispose_as_note(
            index,
            d,
            "no-equivalent",
            f"{spelled} has no SkyPilot equivalent and no row in the mappings file.",
            True,
        )

    def category_option(self, index: int, d: Any, category: OptionCategoryRow) -> None:
        why = _plain(category.note)
        if self.slurm_infra and category.on_slurm == "sbatch-options":
            self.pass_through(index, d, why)
            return
        self.dispose(index, "note:no-equivalent")
        lead = (
            f"{d.spelled}: no equivalent on SkyPilot's Slurm infra either. "
            if self.slurm_infra
            else f"{d.spelled}: no SkyPilot equivalent. "
        )
        self.note(
            d.line,
            d.spelled,
            "no-equivalent",
            lead + why,
            CATEGORY_LOSES_MEANING.get(category.id, True),
        )

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
                self.dispose_as_note(
                    index,
                    d,
                    "sbatch-rejects",
                    f"{d.spelled} is not a time sbatch accepts.",
                    True,
                )
                return
            if converted != value:
                self.note(
                    d.line,
                    d.spelled,
                    "approximation",
                    f"{d.spelled} is passed as "
                    f"time: {converted!r}, the same limit in a form SkyPilot's check "
                    "accepts (m, m:s, h:m:s, d-h, d-h:m, d-h:m:s).",
                    False,
                    "config.slurm.sbatch_options",
                )
            value = converted
        self.sbatch_options[name] = value
        self.dispose(index, f"sbatch-options:{name}")

    def field(self, index: int, path: str) -> None:
        self.dispose(index, f"field:{path}")

    # ----- one method per options row (SPECIAL_OPTIONS) -----

    def option_nodes(self, index: int, d: Any) -> None:
        self.field(index, "num_nodes")
        low, high = self.number("nodes", grammar.parse_node_range) or (1, 1)
        if high != low:
            self.note(
                d.line,
                d.spelled,
                "approximation",
                f"{d.spelled} is a range; SkyPilot "
                f"allocates exactly num_nodes nodes, so the task asks for {low}, the "
                "minimum.",
                False,
                "num_nodes",
            )
        if low == 0:
            self.note(
                d.line,
                d.spelled,
                "approximation",
                "--nodes=0 asks for no node; the task asks for one.",
                False,
                "num_nodes",
            )

    def option_ntasks_per_node(self, index: int, d: Any) -> None:
        self.field(index, "resources.cpus")

    def option_ntasks(self, index: int, d: Any) -> None:
        self.field(index, "resources.cpus")
        layout = self.layout
        if (
            not layout.nodes_given
            and self.value_of("ntasks-per-node") is None
            and (layout.ntasks or 0) > 1
        ):
            self.note(
                d.line,
                d.spelled,
                "approximation",
                f"{d.spelled} without --nodes: Slurm "
                "may spread the tasks over several nodes; the task puts all of them on "
                "one node (set num_nodes to spread them).",
                False,
                "resources.cpus",
            )
        elif layout.ntasks and layout.ntasks % layout.nodes:
            self.note(
                d.line,
                d.spelled,
                "approximation",
                f"{layout.ntasks} tasks do not divide "
                f"evenly over {layout.nodes} nodes; each node gets room for "
                f"{layout.tasks_per_node}.",
                False,
                "resources.cpus",
            )

    def option_cpus_per_task(self, index: int, d: Any) -> None:
        self.field(index, "resources.cpus")

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

    def option_cpus_per_gpu(self, index: int, d: Any) -> None:
        self.per_gpu_option(index, d, "resources.cpus", "nothing")

    def option_mincpus(self, index: int, d: Any) -> None:
        self.field(index, "resources.cpus")

    def option_mem(self, index: int, d: Any) -> None:
        if self.layout.memory_mib == 0:
            self.dispose_as_note(
                index,
                d,
                "approximation",
                "--mem=0 asks for all the memory of "
                "each node; a SkyPilot node is the job's alone, so the task sets no "
                "memory constraint.",
                False,
                "resources",
            )
            return
        self.field(index, "resources.memory")

    def option_mem_per_cpu(self, index: int, d: Any) -> None:
        self.field(index, "resources.memory")

    def option_mem_per_gpu(self, index: int, d: Any) -> None:
        self.per_gpu_option(index, d, "resources.memory", "no memory")

    def gpu_option(self, index: int, d: Any) -> None:
        if self.gpu_source and self.gpu_source != d.option:
            self.field(index, "resources.accelerators")
            self.note(
                d.line,
                d.spelled,
                "approximation",
                f"{d.spelled} and --{self.gpu_source}"
                f" both ask for GPUs; --{self.gpu_source} decides.",
                False,
                "resources.accelerators",
            )
            return
        if not self.layout.gpus:
            self.dispose_as_note(index, d, "no-equivalent", f"{d.spelled} asks for no GPU.", False)
            return
        self.field(index, "resources.accelerators")

    def option_gpus_per_node(self, index: int, d: Any) -> None:
        self.gpu_option(index, d)
        items = self.number("gpus-per-node", grammar.parse_gpus) or []
        if len(items) > 1:
            self.note(
                d.line,
                d.spelled,
                "approximation",
                f"SkyPilot nodes have one GPU type; the task asks for the first item of {d.value}.",
                True,
                "resources.accelerators",
            )

    def option_gres(self, index: int, d: Any) -> None:
        items = self.number("gres", grammar.parse_gres) or []
        others = [
            f"{g.name}{':' + g.type if g.type else ''}:{g.count}" for g in items if g.name != "gpu"
        ]
        gpu_items = [g for g in items if g.name == "gpu"]
        if not gpu_items:
            self.dispose(index, "note:no-equivalent")
        else:
            self.gpu_option(index, d)
        if others:
            self.note(
                d.line,
                d.spelled,
                "no-equivalent",
                "generic resources other than GPUs "
                f"({', '.join(others)}) have no SkyPilot equivalent; choose an "
                "instance_type that has them if they matter.",
                True,
                "resources",
            )
        if len(gpu_items) > 1:
            self.note(
                d.line,
                d.spelled,
                "approximation",
                "SkyPilot nodes have one GPU type; the task asks for the first gpu item.",
                True,
                "resources.accelerators",
            )

    def option_gpus(self, index: int, d: Any) -> None:
        self.gpu_option(index, d)
        total = sum(c for _, c in self.number("gpus", grammar.parse_gpus) or [])
        if self.gpu_source == "gpus" and total % self.layout.nodes:
            self.note(
                d.line,
                d.spelled,
                "approximation",
                f"{total} GPUs do not divide evenly "
                f"over {self.layout.nodes} nodes; each node gets {self.layout.gpus}.",
                False,
                "resources.accelerators",
            )

    def option_gpus_per_task(self, index: int, d: Any) -> None:
        self.gpu_option(index, d)

    def option_tmp(self, index: int, d: Any) -> None:
        mib = self.number("tmp", grammar.parse_memory) or 0
        gb = math.ceil(mib / 1024)
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
        minutes = self.number("time", grammar.parse_time)
        limit = "no limit" if minutes is None else _duration(minutes)
        advice = (
            f" To end the job in time, enforce it in run: timeout {minutes}m <command>."
            if minutes
            else ""
        )
        self.dispose(index, "note:no-equivalent")
        # the program runs the same without the limit: a note, not a loss of meaning
        self.note(
            d.line,
            d.spelled,
            "no-equivalent",
            f"{d.spelled} ({limit}) is a wall-clock "
            "limit; SkyPilot has none for jobs (autostop is idle-based, not the "
            f"same).{advice}",
            False,
            "run",
        )

    def option_wrap(self, index: int, d: Any) -> None:
        self.field(index, "run")

    def option_job_name(self, index: int, d: Any) -> None:
        self.task["name"] = d.value or ""
        self.field(index, "name")

    def option_partition(self, index: int, d: Any) -> None:
        names = (d.value or "").split(",")
        if self.partition_infra == "map":
            self.field(index, "resources.infra")
            unmapped = [n for n in names if n not in self.partition_map]
            if len(names) > 1:
                self.note(
                    d.line,
                    d.spelled,
                    "approximation",
                    f"{d.spelled} lists "
                    f"{len(names)} partitions; the task runs on the infra of the first "
                    f"mapped one ({self.infra})."
                    + (f" Not mapped: {', '.join(unmapped)}." if unmapped else ""),
                    False,
                    "resources.infra",
                )
            return
        if self.partition_infra == "slurm":
            self.field(index, "resources.infra")
            if len(names) > 1:
                self.note(
                    d.line,
                    d.spelled,
                    "approximation",
                    f"{d.spelled} lists several partitions; the task uses the first ({names[0]}).",
                    False,
                    "resources.infra",
                )
            return
        self.dispose(index, "note:partition")
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
        self.note(d.line, d.spelled, "partition", message, False, "resources")

    def option_array(self, index: int, d: Any) -> None:
        try:
            self.array = grammar.parse_array(d.value or "")
        except ValueError as error:
            self.dispose_as_note(index, d, "sbatch-rejects", f"{error} It is not converted.", True)
            return
        self.num_jobs = self.array.count
        self.field(index, "launch")
        if self.array.throttle is not None:
            self.note(
                d.line,
                d.spelled,
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
            self.dispose_as_note(index, d, "sbatch-rejects", f"{error}.", True)
            return
        bad = [
            name
            for name in (*spec.names, *(n for n, _ in spec.assignments))
            if not _ENV_NAME.fullmatch(name)
        ]
        if bad:
            self.note(
                d.line,
                d.spelled,
                "export",
                f"{', '.join(bad)} cannot be the name of a "
                "SkyPilot env (letters, digits and _, not starting with a digit); "
                "left out.",
                True,
                "envs",
            )
        spec = grammar.ExportSpec(
            spec.mode,
            tuple(n for n in spec.names if n not in bad),
            tuple((n, v) for n, v in spec.assignments if n not in bad),
        )
        for name, value in spec.assignments:
            self.envs[name] = value
        for name in spec.names:
            self.envs.setdefault(name, None)
            self.launch_env.append(name)
        if spec.assignments or spec.names:
            self.field(index, "envs")
            if spec.names:
                self.note(
                    d.line,
                    d.spelled,
                    "export",
                    "the variables passed with their "
                    f"current value ({', '.join(spec.names)}) must be given at launch: "
                    "sky jobs launch --env NAME passes your shell's value.",
                    False,
                    "envs",
                )
            return
        self.dispose(index, "note:export")
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
        self.note(d.line, d.spelled, "export", message, False, "envs")

    def option_chdir(self, index: int, d: Any) -> None:
        self.field(index, "workdir")
        value = d.value or "."
        self.workdir = posixpath.normpath(posixpath.join(self.workdir, value))
        self.note(
            d.line,
            d.spelled,
            "approximation",
            f"{d.spelled}: SkyPilot copies workdir "
            "from the machine that launches to ~/sky_workdir on every node and runs "
            "there; the path must exist where you launch.",
            False,
            "workdir",
        )

    def option_container_image(self, index: int, d: Any) -> None:
        image = _docker_image(d.value or "")
        if image is None:
            self.dispose_as_note(
                index,
                d,
                "container",
                f"{d.spelled} names an enroot squashfs "
                "file, which SkyPilot cannot run: push the image to a registry and set "
                "image_id: docker:<image>.",
                True,
                "resources",
            )
            return
        self.image = (d.line, image, d.spelled)
        self.field(index, "resources.image_id")
        if self.slurm_infra:
            self.note(
                d.line,
                d.spelled,
                "container",
                "on SkyPilot's Slurm infra, a container image needs pyxis on the cluster.",
                False,
                "resources.image_id",
            )

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
        wrap = self.value_of("wrap")
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
        values = self.static_values()
        context = BodyContext(
            body_line=body_line,
            nodes=layout.nodes,
            tasks_per_node=layout.tasks_per_node,
            ntasks=layout.ntasks,
            gpus_per_task=layout.gpus_per_task,
            slurm_infra=self.slurm_infra,
            values=values,
            module_rule=lambda name: module_row(self.m, name),
            mpi_module=lambda name: getattr(module_row(self.m, name), "id", "") == "mpi",
        )
        result = convert_body(body, context)
        for finding in result.findings:
            self.note(
                finding.line,
                "",
                finding.kind,
                finding.message,
                finding.loses_meaning,
                finding.field,
            )
        self.body_result = result
        self.variables = slurm_variables(body)
        preamble = self.preamble(result, body, body_line)
        run = result.run
        if preamble:
            run = preamble + ("\n" + run if run else "")
        self.run_text = run
        self.setup = result.setup
        if result.images and self.image is None:
            line, raw = result.images[0]
            image = _docker_image(raw)
            if image:
                self.image = (line, image, "srun --container-image")
        self.modules(result.modules)
        if not body.strip():
            self.note(
                0, "", "not-converted", "the script has no commands: the task has no run.", True, ""
            )

    def foreign_interpreter(self, program: str) -> None:
        """A body in another language (``#!/usr/bin/env python3``): run as a file."""
        text = self.script.text
        delimiter = "SLURM2SKY_SCRIPT"
        while re.search(rf"^{delimiter}$", text, re.M):
            delimiter += "_"
        run = (
            f"cat > \"$HOME/.slurm2sky_job\" <<'{delimiter}'\n{text.rstrip(chr(10))}\n"
            f'{delimiter}\nchmod +x "$HOME/.slurm2sky_job"\n'
        )
        if self.layout.nodes > 1:
            run += 'if [ "${SKYPILOT_NODE_RANK:-0}" = 0 ]; then "$HOME/.slurm2sky_job"; fi\n'
        else:
            run += '"$HOME/.slurm2sky_job"\n'
        self.run_text = run
        self.body_result = None
        self.variables = {}
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
        )

    def static_values(self) -> dict[str, str]:
        """SLURM_* values known from the header, to read srun options written with them."""
        layout = self.layout
        values = {
            "SLURM_NNODES": str(layout.nodes),
            "SLURM_JOB_NUM_NODES": str(layout.nodes),
            "SKYPILOT_NUM_NODES": str(layout.nodes),
        }
        if layout.tasks_set:
            total = layout.ntasks or layout.tasks_per_node * layout.nodes
            values["SLURM_NTASKS"] = values["SLURM_NPROCS"] = str(total)
        if self.value_of("ntasks-per-node") is not None:
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
        lines: list[str] = []
        derived, unknown = self.derive_variables()
        if derived:
            lines.append("# Slurm's variables, from SkyPilot's (slurm2sky)")
            lines.extend(derived)
        if unknown:
            first = min(self.variables[name] for name in unknown)
            line = body_line + body.count("\n", 0, first)
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
                    else "which SkyPilot does not set and cannot derive: give them a value "
                    "in envs or change the script."
                ),
                not native,
                "run",
            )
        if result.seed_random:
            lines.append(
                'RANDOM=$(( $(printf %s "$SKYPILOT_TASK_ID" | cksum | cut -d" " -f1)'
                " % 32768 ))  # the same $RANDOM on every node"
            )
        if result.hostfile:
            slots = self.layout.tasks_per_node
            lines.append(
                f'echo "$SKYPILOT_NODE_IPS" | sed "s/$/ slots={slots}/" > '
                '"$HOME/.slurm2sky_hostfile"  # the nodes, for mpirun'
            )
            lines.append(
                'export OMPI_MCA_orte_default_hostfile="$HOME/.slurm2sky_hostfile" '
                'PRTE_MCA_prte_default_hostfile="$HOME/.slurm2sky_hostfile" '
                'HYDRA_HOST_FILE="$HOME/.slurm2sky_hostfile"'
            )
        if result.shim:
            lines.append(SHIM)
        return "\n".join(lines)

    def derive_variables(self) -> tuple[list[str], list[str]]:
        """``export`` lines for the SLURM_* variables run needs, static ones into envs;
        the variables read that have no derivation."""
        wanted = set(self.variables)
        if self.array is not None:
            wanted |= {"SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT"}
        rows: dict[str, EnvironmentVariableRow] = {}
        for row in self.m.environment_variables:
            for name in row.slurm:
                rows[name] = row
        derivations = self.derivations()
        lines: list[str] = []
        unknown: list[str] = []
        done: list[str] = []
        for name in sorted(wanted, key=lambda n: (rows[n].line if n in rows else 10**9, n)):
            if self.slurm_infra and name in _NATIVE_ON_SLURM:
                continue
            row = rows.get(name)
            how = derivations.get(row.id) if row is not None else None
            if how is None:
                if name in self.variables and name not in _SET_BY_SCRIPT_ONLY:
                    unknown.append(name)
                continue
            value = how(name)
            if value is None:
                continue  # Slurm would not set it either
            kind, text = value
            if kind == "envs":
                self.envs.setdefault(name, text)
            else:
                lines.append(f"export {name}={text}")
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

    def derivations(self) -> dict[str, Callable[[str], tuple[str, str] | None]]:
        """Row id -> (name -> ("envs", value) | ("run", shell expression) | None)."""
        layout = self.layout
        array = self.array
        tasks = layout.tasks_per_node
        given = self.value_of

        def run(text: str) -> Callable[[str], tuple[str, str]]:
            return lambda _name: ("run", text)

        def envs(text: str | None) -> Callable[[str], tuple[str, str] | None]:
            return lambda _name: None if text is None else ("envs", text)

        total = (
            str(layout.ntasks)
            if layout.ntasks is not None
            else f"$(( SKYPILOT_NUM_NODES * {tasks} ))"
            if tasks != 1
            else "$SKYPILOT_NUM_NODES"
        )
        job_name = self.task.get("name") or _default_job_name(self.script.path)
        partition = given("partition")
        mem = self.layout.memory_mib if given("mem") is not None else None
        table: dict[str, Callable[[str], tuple[str, str] | None]] = {
            "slurm-job-nodelist": run('$(echo "$SKYPILOT_NODE_IPS" | paste -sd, -)'),
            "slurm-job-num-nodes": run("$SKYPILOT_NUM_NODES"),
            "slurm-nodeid": run("$SKYPILOT_NODE_RANK"),
            "slurm-procid": run(
                "$SKYPILOT_NODE_RANK" if tasks == 1 else f"$(( SKYPILOT_NODE_RANK * {tasks} ))"
            ),
            "slurm-localid": envs("0"),
            "slurm-ntasks": (lambda _n: ("run", total) if layout.tasks_set else None),
            "slurm-gpus-per-node": (
                lambda _n: (
                    ("run", "$SKYPILOT_NUM_GPUS_PER_NODE")
                    if self.gpu_source == "gpus-per-node"
                    else None
                )
            ),
            "slurm-job-id": run("${SKYPILOT_MANAGED_JOB_ID:-$SKYPILOT_TASK_ID}"),
            "slurm-job-name": envs(job_name),
            "slurm-submit-dir": run("$HOME/sky_workdir"),
            "slurm-array-task-id": (
                lambda _n: ("run", _array_expression(array)) if array else None
            ),
            "slurm-array-task-count": (lambda _n: ("run", "$SKYPILOT_NUM_JOBS") if array else None),
            "slurm-array-task-min-max": (
                lambda n: (
                    None
                    if array is None
                    else (
                        "envs",
                        str(min(array.indices) if n.endswith("MIN") else max(array.indices)),
                    )
                )
            ),
            "slurm-array-task-step": envs(str(array.step) if array else None),
            "slurm-cpus-per-task": envs(
                str(layout.cpus_per_task) if layout.cpus_per_task else None
            ),
            "slurm-ntasks-per-node": envs(str(tasks) if given("ntasks-per-node") else None),
            "slurm-gpus-per-task": envs(
                given("gpus-per-task").value if given("gpus-per-task") is not None else None
            ),
            "slurm-gpus-on-node": (
                lambda _n: ("run", "$SKYPILOT_NUM_GPUS_PER_NODE") if layout.gpus else None
            ),
            "slurm-cpus-on-node": run("$(nproc)"),
            "slurm-mem-per-node": envs(str(mem) if mem else None),
            "slurm-job-partition": envs(partition.value if partition is not None else None),
        }
        return table

    def modules(self, modules: list[tuple[int, str]]) -> None:
        """``module load`` lines were removed from run: choose the image of the first
        module whose ``modules`` row has one, and say what replaces the others."""
        if not modules or self.slurm_infra:
            return
        by_row: dict[str, tuple[ModuleRow | None, list[tuple[int, str]]]] = {}
        for line, name in modules:
            row = module_row(self.m, name)
            by_row.setdefault(row.id if row is not None else "", (row, []))[1].append((line, name))
        for row, found in by_row.values():
            if row is not None and row.image and self.image is None:
                line, name = found[0]
                self.module_image = (line, row.image, name, _plain(row.note))
                break
        image = self.image[1] if self.image else (self.module_image or (0, ""))[1]
        for key, (row, found) in by_row.items():
            names = ", ".join(dict.fromkeys(name for _, name in found))
            line = found[0][0]
            if row is None:
                self.note(
                    line,
                    "",
                    "module",
                    f"module load {names}: removed from run; no row "
                    "of the mappings file's modules table names "
                    + ("them" if len(dict.fromkeys(n for _, n in found)) > 1 else "it")
                    + ". Install what it provides in setup, or choose an image that has it.",
                    True,
                    "run",
                )
            elif row.image:
                if self.module_image is not None and found[0][1] == self.module_image[2]:
                    continue  # reported with the image (image_choice)
                self.note(
                    line,
                    "",
                    "module",
                    f"module load {names}: removed from run; the "
                    f"task runs in docker:{image} instead.",
                    False,
                    "resources.image_id",
                )
            else:
                covered = key in _HARMLESS_MODULE_ROWS or (
                    key == "cuda-libraries" and image.startswith("nvidia/cuda")
                )
                self.note(
                    line,
                    "",
                    "module",
                    f"module load {names}: removed from run. {_plain(row.note)}",
                    not covered,
                    "run",
                )

    def image_choice(self) -> None:
        if self.image is not None:
            self.resources["image_id"] = f"docker:{self.image[1]}"
            return
        if self.module_image is not None:
            line, image, name, why = self.module_image
            self.resources["image_id"] = f"docker:{image}"
            self.note(
                line,
                "",
                "module",
                f"module load {name}: removed from run; the task runs in docker:{image}. {why}",
                False,
                "resources.image_id",
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
            resources["accelerators"] = f"{self.accelerator()}:{layout.gpus}"
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
            task["envs"] = dict(self.envs)
        task["workdir"] = self.workdir
        if self.setup.strip():
            task["setup"] = self.setup if self.setup.endswith("\n") else self.setup + "\n"
        if self.run_text.strip():
            task["run"] = self.run_text if self.run_text.endswith("\n") else self.run_text + "\n"
        if self.sbatch_options:
            task["config"] = {"slurm": {"sbatch_options": dict(self.sbatch_options)}}
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
        for index in range(len(self.script.directives)):
            if index not in self.dispositions:  # pragma: no cover - every path disposes
                directive = self.script.directives[index]
                self.dispose_as_note(
                    index,
                    directive,
                    "not-converted",
                    f"{directive.spelled} is not converted.",
                    True,
                )
        notes = sorted(self.notes, key=lambda n: n.line)
        return Conversion(
            task,
            tuple(notes),
            (launch,),
            MappingProxyType(dict(sorted(self.dispositions.items()))),
            self.script.path,
        )

    def accelerator(self) -> str:
        layout = self.layout
        directive = self.value_of(self.gpu_source) if self.gpu_source else None
        line = directive.line if directive is not None else 0
        spelled = directive.spelled if directive is not None else ""
        slurm_type = layout.gpu_type
        if slurm_type is None:
            constraint = self.value_of("constraint")
            if (
                constraint is not None
                and constraint.value
                and re.fullmatch(r"[A-Za-z0-9_.-]+", constraint.value)
            ):
                row = gpu_type_row(self.m, constraint.value)
                if row is not None:
                    self.note(
                        line,
                        spelled,
                        "gpu-type",
                        f"{spelled} names no GPU type; "
                        f"{constraint.spelled} (line {constraint.line}) names one: "
                        f"{row.skypilot}.",
                        False,
                        "resources.accelerators",
                    )
                    return row.skypilot
            self.note(
                line,
                spelled,
                "default-gpu",
                f"{spelled} names no GPU type and "
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
        row = gpu_type_row(self.m, slurm_type)
        if row is not None:
            return row.skypilot
        mig = re.search(r"\d+g\.\d+gb", slurm_type.lower())
        self.note(
            line,
            spelled,
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
        )
        return self.default_gpu


#: ``modules`` rows whose removal loses nothing a SkyPilot image lacks (build tools,
#: Python and conda are on SkyPilot's default images).
_HARMLESS_MODULE_ROWS = frozenset({"toolchains", "python"})
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


def _duration(minutes: int) -> str:
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    parts = [
        f"{days} d" if days else "",
        f"{hours} h" if hours else "",
        f"{mins} min" if mins else "",
    ]
    return " ".join(p for p in parts if p) or "0 min"


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


def _array_expression(array: grammar.ArraySpec | None) -> str:
    """``SLURM_ARRAY_TASK_ID`` for the job of rank ``$SKYPILOT_JOB_RANK``: one arithmetic
    expression for a single range with a step, a list lookup otherwise."""
    if array is None or not array.indices:
        return "$SKYPILOT_JOB_RANK"
    indices = array.indices
    runs: list[tuple[int, int, int]] = []  # (first, step, count)
    for index in indices:
        if runs:
            first, step, count = runs[-1]
            if count == 1 and index > first:
                runs[-1] = (first, index - first, 2)
                continue
            if first + step * count == index:
                runs[-1] = (first, step, count + 1)
                continue
        runs.append((index, 1, 1))
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


def _problem_text(problem: Any) -> str:
    if problem is None:
        return ""
    text = problem.message.rstrip(".") + "."
    if getattr(problem, "hint", ""):
        text += f" Valid: {problem.hint.rstrip('.')}."
    return text[:1].upper() + text[1:]


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
        gpu_type: the SkyPilot accelerator for GPU requests without a type (default: the
            ``gpu-types`` row marked ``default``, H100).
        infra: where the task runs (``aws``, ``kubernetes/<context>``,
            ``slurm/<cluster>[/<partition>]``); on ``slurm/…`` options pass through
            ``config.slurm.sbatch_options``.
        partition_map: Slurm partition name -> infra (wins over ``infra`` for the
            partitions it names).
        workdir: the directory the script is submitted from, synced to the nodes.

    Returns:
        A :class:`Conversion`. Never raises for any script the parser returns.
    """
    return _Converter(
        script,
        mappings or _default_mappings(),
        gpu_type,
        infra,
        partition_map or {},
        workdir,
    ).run()
