"""The body of a batch script as SkyPilot's ``setup`` and ``run`` (used by
:mod:`slurm2sky.convert`).

Slurm runs the body once, on the first node, and ``srun`` starts the job steps on the
nodes; SkyPilot runs ``run`` on every node at once (sbatch-spec §8-§9; SkyPilot
``SKYPILOT_NODE_RANK``). The body is rewritten so that each node does its share:

* a job step (``srun``) that starts one task on every node becomes its command, run on
  every node (with the step's own ``SLURM_PROCID``/``SLURM_NTASKS`` where ``run`` sets
  the job's, which differ); any other step keeps ``srun``, which ``run`` then defines as
  a small shell function that starts this node's tasks of the step with their
  ``SLURM_PROCID``, ``SLURM_LOCALID`` and ``SLURM_NODEID`` (block distribution, as
  Slurm's default); a step on named hosts of the cluster (``--nodelist=node01``) runs on
  the first nodes instead;
* srun options and srun itself kept in variables are read with the variables' values
  (``SRUN="srun --mpi=pmi2"; $SRUN prog``, ``srun "${ARGS[@]}" prog``); a step the
  converter cannot read (a value it does not know, srun inside another command) keeps
  ``srun``, with the function defined, and is noted; ``$(srun …)`` is read like any step;
* an MPI step (``srun --mpi``, or ``srun`` after an MPI module is loaded) becomes
  ``mpirun`` on the head node, with a hostfile of the nodes;
* with several nodes, statements that only set up the environment (assignments,
  ``export``, ``source``/``.``, ``:``, ``cd``, ``module``, ``mkdir``, functions, ``wait``,
  ``sleep``) and statements that start job steps (also calls of functions that do) run
  on every node; everything else runs on the head node only, as in the batch shell;
  assignments whose command substitutions run commands that may act or differ per node
  are noted;
* ``scontrol show hostnames`` becomes ``SKYPILOT_NODE_IPS`` (a literal hostlist is written
  out); the batch host's own address (``$(hostname)``, ``$(hostname -I)``,
  ``$(ip … addr …)``) assigned on every node becomes the head node's; ``$RANDOM`` is
  seeded alike on every node, and again after head-only lines that draw from it;
  ``ray start --block`` loses ``--block`` (the workers would otherwise outlive the job);
* ``module load`` lines are removed (their modules choose an image through the
  ``modules`` table), except on SkyPilot's Slurm infra, where the cluster still has them;
* environment creation (``conda create``, ``python -m venv``, ``pip install``, …) moves to
  ``setup``, after the environment statements that precede it, while every statement
  before it is such, moves too or changes nothing; after any other statement
  (``git clone``, ``wget``, …), which it may need, it stays in ``run``; activation stays in
  ``run``;
* the text is kept as written elsewhere: here-documents and quoted strings (blank lines
  included); a here-document the body ends inside is closed, so that what ``run`` adds
  after it stays outside it.

Everything here reads text; nothing is executed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from slurm2sky._shell import (
    CONTAINER_COMMANDS,
    ENVIRONMENT_COMMANDS,
    RESERVED_WORDS,
    SLURM_COMMANDS,
    SPECIAL_WORDS,
    STATE_COMMANDS,
    WORKLOAD_LAUNCHERS,
    WRAPPER_WORDS,
    WRAPPERS,
    Command,
    Segment,
    Statement,
    _tokens,
    is_assignment,
    scan,
    substitutions,
    unquote,
)
from slurm2sky.notes import Note
from slurm2sky.sbatch import parse_srun
from slurm2sky.sbatch.values import ValueProblem, expand_hostlist, hostlist_count, parse_export

__all__ = ["SHIM", "BodyContext", "BodyResult", "convert_body", "slurm_variables"]


@dataclass
class BodyContext:
    """What the body's conversion needs from the header.

    ``nodes`` and ``tasks_per_node`` are the job's layout (sbatch-spec §7); ``values``
    the static values of ``SLURM_*`` variables (and simple assignments found in the
    body) used to read ``srun`` options written with variables; ``slurm_infra`` is true
    on SkyPilot's Slurm infra; ``mpi_module`` tells an MPI module (by the ``modules``
    table); the pyxis images of ``srun`` steps are the converter's to judge (it knows the
    job's image), so the body only lists them.
    """

    body_line: int
    nodes: int
    tasks_per_node: int
    ntasks: int | None
    gpus_per_task: int | None
    slurm_infra: bool
    values: dict[str, str]
    mpi_module: Callable[[str], bool]


@dataclass
class BodyResult:
    """``run`` and ``setup`` (without the variables' preamble, which the converter adds),
    the ``modules`` loaded (line, name, column), the pyxis ``images`` of ``srun`` steps (line,
    column, image), what the body reports, and what ``run`` needs: the ``srun`` function
    (``shim``), a hostfile for MPI, ``$RANDOM`` seeded alike on every node."""

    run: str
    setup: str
    findings: list[Note] = field(default_factory=list)
    modules: list[tuple[int, str, int]] = field(default_factory=list)
    images: list[tuple[int, int, str]] = field(default_factory=list)
    shim: bool = False
    hostfile: bool = False
    seed_random: bool = False
    head_only: list[tuple[int, int]] = field(default_factory=list)
    #: the body starts job steps (srun), whose tasks have Slurm's task environment
    steps: bool = False
    #: the body runs mpirun (its own, or a step turned into one)
    mpi: bool = False


#: ``srun`` as a shell function: starts this node's tasks of a job step (sbatch-spec §9:
#: block distribution; ``SLURM_PROCID`` global, ``SLURM_LOCALID`` on the node,
#: ``SLURM_NODEID`` within the step; the step's exit code is the highest of its tasks').
#: The converter passes only ``--nodes``, ``--ntasks``, ``--ntasks-per-node``,
#: ``--nodelist``, ``--relative`` and ``--gpus-per-task``, in the ``--name=value`` form.
SHIM = r"""# srun: this node's share of a Slurm job step (one copy of the command per task)
srun() {
  local nodes=${SKYPILOT_NUM_NODES:-1} rank=${SKYPILOT_NODE_RANK:-0}
  local N= n= T=1 w= r=0 g= a k=0 me=-1 c f i pids= rc=0 names
  while [ $# -gt 0 ]; do
    case $1 in
      --nodes=*) N=${1#*=} ;; --ntasks=*) n=${1#*=} ;; --ntasks-per-node=*) T=${1#*=} ;;
      --nodelist=*) w=${1#*=} ;; --relative=*) r=${1#*=} ;; --gpus-per-task=*) g=${1#*=} ;;
      --) shift; break ;;
      *) break ;;
    esac
    shift
  done
  if [ -n "$w" ]; then
    case $w in *[[]*) w=$(scontrol show hostnames "$w" 2>/dev/null | paste -sd, -) ;; esac
    names=" $(echo "$SKYPILOT_NODE_IPS" | sed -n "$((rank + 1))p") $(hostname) "
    names="$names$(hostname -s) ${SLURMD_NODENAME:-} "
    for a in ${w//,/ }; do
      case $names in *" $a "*) me=$k ;; esac
      k=$((k + 1))
    done
  else
    k=${N:-$((nodes - r))}
    [ -z "$n" ] || [ "$n" -ge "$k" ] || k=$n
    [ "$rank" -lt "$r" ] || [ "$rank" -ge $((r + k)) ] || me=$((rank - r))
  fi
  [ "$me" -ge 0 ] || return 0
  n=${n:-$((T * k))}
  c=$((n / k + (me < n % k))); f=$((me * (n / k) + (me < n % k ? me : n % k)))
  for ((i = 0; i < c; i++)); do
    (
      export SLURM_PROCID=$((f + i)) SLURM_LOCALID=$i SLURM_NODEID=$me SLURM_NTASKS=$n \
        SLURM_NPROCS=$n SLURM_NNODES=$k SLURM_STEP_NUM_TASKS=$n SLURM_STEP_NUM_NODES=$k
      [ -z "$g" ] || export CUDA_VISIBLE_DEVICES=$(seq -s, $((i * g)) $((i * g + g - 1)))
      "$@"
    ) &
    pids="$pids $!"
  done
  for a in $pids; do wait "$a" || { k=$?; [ "$k" -le "$rc" ] || rc=$k; }; done
  return $rc
}
export -f srun"""

#: A task's own variable, read where the batch shell expands it.
_TASK_VARIABLE = re.compile(r"(?<!\\)\$\{?(SLURM_(?:PROCID|NODEID|LOCALID))\b")
#: What an MPI step over SSH does not carry over (said with the mpi notes).
_MPI_ENVIRONMENT = (
    "Unlike srun, Open MPI's mpirun gives the ranks on other nodes only the variables "
    "named with -x (mpirun -x NAME ...): name those the program needs "
    "(MPICH and Intel MPI pass the whole environment)."
)
#: srun options that give a step GPUs of its own (sbatch-spec §9: steps do not share).
_STEP_GPU_OPTIONS = ("gres", "gpus", "gpus-per-task", "gpus-per-node")
#: A first line that reads ``$?`` before it runs a command of its own (``if [ $? -ne 0 ]``,
#: ``rc=$?``, ``exit $?``): the match ends at that ``$?``.
_STATUS_FIRST = re.compile(r"[^;&|$`]*?(?<!\\)\$\?")
_NONBLANK = re.compile(r"\S")
#: A variable read: ``$NAME`` or ``${NAME``.
_READ_VARIABLE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")
#: Commands that only print (a statement of state and these runs on every node).
_PRINTS = frozenset({"echo", "printf"})
#: Commands that set state or test, with no effect beyond the shell (see ``prints_only``).
_STATE_OR_TEST = STATE_COMMANDS | frozenset(
    {"[", "[[", "test", "true", "false", ":", "exit", "return", "local", "shift", "let"}
)
#: Shell state a head-only statement may change that later lines need (said in a warning).
_SHELL_STATE = frozenset({"cd", "pushd", "popd", "source", ".", "conda", "mamba", "micromamba"})
#: A redirection to a file (not ``>&2``) or a substitution that runs a command.
_WRITES_OR_RUNS = re.compile(r"(?<![<>&0-9])>>?(?!&)|\$\(|`")
#: A variable a statement assigns (``X=1``, ``export X=1``, ``local X=``, ``X+=``).
_ASSIGNED_NAME = re.compile(r"(?<![\w$./-])([A-Za-z_][A-Za-z0-9_]*)(?:\[[^\]]*\])?\+?=")
#: The names ``read`` assigns (``read -r A B < file``).
_READ_NAMES = re.compile(r"\bread\b([^<;|&\n]*)")
HEAD_IP = '$(echo "$SKYPILOT_NODE_IPS" | head -n 1)'
#: Where run writes the nodes for mpirun (on the head node, which runs it): named by the
#: task's SKYPILOT_TASK_ID, since a home directory may be shared by jobs and nodes.
HOSTFILE = "$HOME/.slurm2sky_hostfile.$SKYPILOT_TASK_ID"

_SLURM_VARIABLE = re.compile(r"SLURMD?_[A-Z0-9_]+")
_SCONTROL_HOSTNAMES = re.compile(
    r"scontrol\s+show\s+hostnames?\b"
    r"(?P<arg>[ \t]+(?!\||;|&|\))(?:\"[^\"]*\"|'[^']*'|[^\s|;&)`])+)?"
)
_NODELIST_ARG = re.compile(r"""^\s*["']?\$\{?SLURM_(?:JOB_)?NODELIST\}?["']?\s*$""")
#: The batch host's own name or address: what it means in the batch shell is the head
#: node's address (the batch shell runs on the first node, sbatch-spec §8).
_OWN_ADDRESS = re.compile(r"`\s*hostname(?:\s+-[A-Za-z]+)*\s*`|\$\{?HOSTNAME\}?(?![A-Za-z0-9_])")
#: A value that names the host the batch shell runs on (the head node): ``$(hostname)``,
#: ```hostname -s```, ``$SLURMD_NODENAME``, ``$HOSTNAME``, quoted or not.
_BATCH_HOST = re.compile(
    r"""(["']?)(?:\$\(\s*hostname(?:\s+-[A-Za-z]+)*\s*\)|`\s*hostname(?:\s+-[A-Za-z]+)*\s*`"""
    r"|\$\{?(?:SLURMD_NODENAME|HOSTNAME)\}?)\1"
)


def _written_files(statement: Statement) -> Iterator[tuple[Segment, str]]:
    """The files ``statement`` writes, as written (``out.log``, ``$config``): the words
    after ``>``, ``>>``, ``>|`` (not ``>&2``, ``/dev/…``), and ``tee``'s files; not the
    ``>`` of ``[[ … ]]`` or ``(( … ))``, which compares."""
    for segment in statement.segments:
        text = segment.text
        if segment.blank or (">" not in text and "tee" not in text):
            continue
        if ">" in text and "[[" not in text and "((" not in text:
            tokens, _ = _tokens(text)
            for (kind, value, _, _), following in pairwise(tokens):
                if (
                    kind == "r"
                    and value.lstrip("0123456789") in (">", ">>", ">|")
                    and following[0] == "w"
                    and not following[1].startswith("/dev/")
                ):
                    yield segment, following[1]
        for command in segment.commands:
            if command.name == "tee":
                for word, _, _ in command.words[command.name_index() + 1 :]:
                    if not word.startswith("-"):
                        yield segment, word


#: A value that is one variable, quoted or not: ``$head``, ``"${head}"``.
_VARIABLE_VALUE = re.compile(r"""(["']?)\$\{?([A-Za-z_]\w*)\}?\1""")


def _is_batch_host(value: str) -> bool:
    return _BATCH_HOST.fullmatch(value.strip()) is not None


#: The first word of a command substitution that prints the host's own name or address.
_OWN_ADDRESS_COMMAND = re.compile(r"\s*(?:/s?bin/|/usr/s?bin/)?(?:hostname|ip|ifconfig)\b")
#: ``$(module …)`` or ```module …```: output of the module command used as a value.
_MODULE_SUBSTITUTION = re.compile(r"(?:\$\(|`)\s*(?:module|ml)\b")
_RANDOM = re.compile(r"\$\{?RANDOM\b|\bRANDOM\s*%")
#: In a command substitution: commands whose output differs from node to node.
_PER_NODE = re.compile(r"\b(?:shuf|mktemp|uuidgen|socket|urandom|random)\b")
#: Paths on a cluster's own file systems (the ones real scripts use most: home and
#: project trees, parallel file systems, site mounts) and the variables that name them.
_CLUSTER_PATH = re.compile(
    r"/(?:scratch|gpfs|lustre|project|projects|proj|work|fs\d*|nfs|data|shared|storage|"
    r"cluster|share|global|p|pfs|beegfs|home|users|mnt|cvmfs|apps|sw|fsx|castor|eos|orange|"
    r"blue|ocean)/|\$\{?(?:SCRATCH|WORK|PROJECT|STORE|SLURM_TMPDIR)\b"
)
#: A character a path continues with (a cluster path is no part of a longer one).
_PATH_CHARACTER = re.compile(r"[\w.$/:-]")
#: Node-local scratch the cluster creates for each job (not a shared file system).
_NODE_LOCAL_PATH = frozenset({"$SLURM_TMPDIR", "${SLURM_TMPDIR"})
#: Software trees of a cluster (not data).
_SOFTWARE_PATH = frozenset({"/cvmfs/", "/apps/", "/sw/"})
#: The module system's own start-up files (``/etc/profile.d/modules.sh``, ``lmod.sh``,
#: ``$MODULESHOME/init/bash``), not a script's own file that happens to be called
#: ``modules.sh``.
_MODULE_INIT = re.compile(
    r"profile\.d/(?:z?\d*[-_]?)?(?:modules?|lmod)\.(?:sh|bash)$|^/etc/profile\.modules$"
    r"|/init/(?:bash|sh|zsh|ksh|profile)$"
)
_IP_QUERY = frozenset({"hostname", "ip", "ifconfig"})
_CONDA_ENVIRONMENT = frozenset({"activate", "deactivate", "init", "config"})
#: The body may create an environment (see :func:`_is_creation`).
_MAY_CREATE = re.compile(
    r"\b(?:pip3?|conda|mamba|micromamba|virtualenv|uv|poetry)\b|-m\s+(?:venv|pip)\b"
)
#: Command names :meth:`_Body.command` looks at more closely.
_INTERESTING = (
    frozenset(
        {
            "srun",
            "module",
            "ml",
            "source",
            ".",
            "conda",
            "mamba",
            "micromamba",
            "spack",
            "pip",
            "pip3",
            "python",
            "python3",
            "virtualenv",
            "uv",
            "poetry",
            "ray",
            "scontrol",
            "export",
            "declare",
            "typeset",
            "local",
            "readonly",
        }
    )
    | WORKLOAD_LAUNCHERS
    | SLURM_COMMANDS
    | CONTAINER_COMMANDS
    | frozenset(f"python3.{minor}" for minor in range(6, 16))
    | frozenset(f"pip3.{minor}" for minor in range(6, 16))
)


#: With one node, the first words worth reading closely: keywords (for the depth) and the
#: commands the converter rewrites or reports.
_ONE_NODE_SPECIAL = (
    RESERVED_WORDS
    | WRAPPER_WORDS
    | SLURM_COMMANDS
    | CONTAINER_COMMANDS
    | {"srun", "scontrol", "source", ".", "module", "ml", "conda", "mamba", "micromamba"}
    | {"spack", "export", "declare", "typeset", "readonly", "local"}
)


def slurm_variables(text: str) -> dict[str, int]:
    """Every ``SLURM_*``/``SLURMD_*`` name in ``text`` -> the offset of its first use."""
    found: dict[str, int] = {}
    if "SLURM" not in text:
        return found
    for match in _SLURM_VARIABLE.finditer(text):
        start = match.start()
        if start and (text[start - 1].isalnum() or text[start - 1] == "_"):
            continue
        end = match.end()
        if end < len(text) and (text[end].isalnum() or text[end] == "_"):
            continue  # SLURM_Xy: a lower-case letter ends no name
        found.setdefault(match.group(), start)
    return found


def _is_creation(words: Sequence[str]) -> bool:
    """Environment creation (goes to ``setup``): ``conda create``, ``conda env create``,
    ``conda install``, ``python -m venv``, ``virtualenv``, ``pip install``, ``uv venv``,
    ``uv pip install``, ``uv sync``, ``poetry install``."""
    if not words:
        return False
    name = words[0].rsplit("/", 1)[-1]
    rest = words[1:]
    if name in ("conda", "mamba", "micromamba"):
        if rest[:1] in (["create"], ["install"]):
            return True
        return rest[:2] in (["env", "create"], ["env", "update"])
    if name in ("pip", "pip3") or re.fullmatch(r"pip3?\.\d+", name):
        return rest[:1] == ["install"]
    if re.fullmatch(r"python[0-9.]*", name):
        if rest[:2] == ["-m", "venv"] or rest[:2] == ["-m", "virtualenv"]:
            return True
        return rest[:3] == ["-m", "pip", "install"]
    if name == "virtualenv":
        return True
    if name == "uv":
        return rest[:1] in (["venv"], ["sync"]) or rest[:2] == ["pip", "install"]
    return name == "poetry" and rest[:1] == ["install"]


def _creates_environment(words: Sequence[str]) -> bool:
    """Creation (see :func:`_is_creation`) that makes a new environment, rather than
    installing into one: ``conda create``, ``conda env create``, ``python -m venv``,
    ``virtualenv``, ``uv venv``, ``uv sync``, ``poetry install``."""
    name = words[0].rsplit("/", 1)[-1]
    rest = list(words[1:3])
    if name in ("conda", "mamba", "micromamba"):
        return rest[:1] == ["create"] or rest == ["env", "create"]
    if name in ("pip", "pip3") or re.fullmatch(r"pip3?\.\d+", name):
        return False
    if re.fullmatch(r"python[0-9.]*", name):
        return rest in (["-m", "venv"], ["-m", "virtualenv"])
    if name == "uv":
        return rest[:1] in (["venv"], ["sync"])
    return name in ("virtualenv", "poetry")


@dataclass
class _Edit:
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class _StepShape:
    """An ``srun`` step's geometry options, each a static value where one is known
    (see :meth:`_Body.resolve`), else as written, or ``None`` when not given."""

    nodes: str | None
    ntasks: str | None
    per_node: str | None
    nodelist: str | None
    relative: str | None
    gpus: str | None


class _Body:
    def __init__(self, body: str, context: BodyContext) -> None:
        self.body = body
        self.ctx = context
        self.result = BodyResult("", "")
        self.edits: dict[int, list[_Edit]] = {}
        self.removed: set[int] = set()  # ids of segments removed from run
        self.multi = context.nodes > 1
        self.ignored_srun: dict[str, tuple[int, int]] = {}
        #: variables assigned the batch host's own name or address (NAME=$(hostname))
        self.batch_host_names: set[str] = set()
        self.mpi_loaded = False
        self.notes_seen: set[str] = set()
        self.pending: list[tuple[Segment, Command]] = []
        self.srun_calls: dict[tuple[str, ...], object] = {}
        self.track_values = self.srun_text = "srun" in body
        self.lines = body.split("\n")
        self.line_starts: list[int] | None = None  # offset_after, when first needed
        self.read_offsets: dict[str, int] | None = None  # last_reads, when first needed
        self.created = False
        self.activated: tuple[int, int, str] | None = None
        #: functions whose body starts job steps (name -> "step", or "mpi" for MPI steps)
        self.functions: dict[str, str] = {}
        #: srun options or srun itself in variables: name -> (words, array), or None
        #: when the value is not known (assigned differently in places)
        self.known: dict[str, tuple[tuple[str, ...], bool] | None] = {}
        #: notes about the statement being read that hold only if it runs on every node
        self.deferred: list[tuple[int, int, str, str, bool, str]] = []
        #: the SLURM_* variables the body reads (run sets the job's values of them)
        self.read: dict[str, int] | None = None
        #: some empty lines are marked as kept (see :meth:`keep_blank`)
        self.kept_blank = False

    # -- reporting ----------------------------------------------------------------

    def line(self, segment: Segment, offset: int = 0) -> int:
        return self.ctx.body_line + segment.first + segment.text.count("\n", 0, offset)

    def column(self, segment: Segment, offset: int = 0) -> int:
        """The 1-based column of ``offset`` (in ``segment.text``) on its line."""
        return offset - segment.text.rfind("\n", 0, offset)

    def find(
        self,
        line: int,
        kind: str,
        message: str,
        loses: bool,
        once: str = "",
        *,
        column: int = 0,
    ) -> None:
        """A note about body line ``line`` (the script's numbering), at ``column`` (1-based;
        ``0``: where the line's command starts). ``once``: a key said at most once."""
        if once:
            if once in self.notes_seen:
                return
            self.notes_seen.add(once)
        if not column:
            index = line - self.ctx.body_line
            text = self.lines[index] if 0 <= index < len(self.lines) else ""
            column = len(text) - len(text.lstrip(" \t")) + 1
        self.result.findings.append(Note(line, "", kind, message, loses, "run", column))

    def edit(self, segment: Segment, start: int, end: int, text: str) -> None:
        self.edits.setdefault(id(segment), []).append(_Edit(start, end, text))

    # -- the statements -------------------------------------------------------------

    def run(self) -> BodyResult:
        body = self.body
        extra: set[str] = set()
        if self.srun_text or "SRUN" in body:
            # a variable that holds srun is a command word worth reading ($SRUN …)
            names = set(_SRUN_NAMED.findall(body)) if "SRUN" in body else set()
            if "=" in body:
                for match in _SRUN_VALUE.finditer(body):
                    assigned = _ASSIGNED.search(body, max(0, match.start() - 100), match.start())
                    if assigned:
                        names.add(assigned.group(1))
            for name in names:
                extra.update((f"${name}", f"${{{name}}}"))
        if self.multi:
            if "()" in body or "function" in body:
                # the calls of functions, which may start job steps or set state
                extra.update(a or b for a, b in _FUNCTION_DEFINITION.findall(body))
            statements = scan(body, SPECIAL_WORDS | extra if extra else SPECIAL_WORDS)
        else:
            # one node: only the commands the converter rewrites matter (and, when the body
            # creates an environment, those setup repeats before it)
            creates = _MAY_CREATE.search(body) is not None
            special = SPECIAL_WORDS if creates else _ONE_NODE_SPECIAL
            if extra:
                special = special | extra
            statements = scan(body, special, assignments=not (creates or self.track_values))
        classes: list[str] = []
        for statement in statements:
            classes.append(self.statement(statement))
        self.setup_and_run(statements, classes)
        self.wrap_up(statements)
        return self.result

    def statement(self, statement: Statement) -> str:
        """Rewrite one statement; returns its class: ``blank``, ``env`` (every node),
        ``step`` (starts job steps: every node), ``mpi`` (head), ``create`` (to setup),
        ``work`` (head). A function whose body starts job steps makes its calls steps
        too (or MPI steps, on the head node); one whose body only sets state (and prints)
        makes its calls run on every node, which then has that state."""
        if statement.blank:
            return "blank"
        kind = self.classify(statement)
        if self.multi:
            defines = (
                [name for segment in statement.segments for name in segment.functions]
                if statement.compound
                else ()
            )
            if defines and (
                kind in ("step", "mpi") or (kind == "env" and self.state_set(statement))
            ):
                for name in defines:
                    self.functions[name] = kind
            if self.deferred:
                if kind in ("env", "step", "create") and not defines:
                    for line, column, note_kind, message, loses, once in self.deferred:
                        self.find(line, note_kind, message, loses, once, column=column)
                self.deferred = []
        return kind

    def classify(self, statement: Statement) -> str:
        """The class of a statement (see :meth:`statement`), its rewrites recorded."""
        kinds: set[str] = set()
        for segment in statement.segments:
            if segment.blank:
                continue
            if segment.work:
                kinds.add("work")
                continue
            self.text_rewrites(segment)
            self.pending = []
            for command in segment.commands:
                kinds.add(self.command(segment, command))
            if self.pending:
                whole = (
                    len(self.pending) == len(segment.commands)
                    and segment.depth_before == 0
                    and not segment.structural
                    and not segment.heredoc
                )
                if whole:
                    self.removed.add(id(segment))
                else:
                    for _, command in self.pending:
                        self.edit(segment, command.words[0][1], command.words[-1][2], ":")
        if "removed" in kinds and kinds <= {"removed"} and not statement.compound:
            for segment in statement.segments:
                if not segment.blank:
                    self.removed.add(id(segment))
            return "blank"
        kinds.discard("removed")
        if "mpi" in kinds:
            return "mpi"
        if "step" in kinds:
            if "work" in kinds and self.multi:
                span = self.span(statement)
                self.find(
                    self.line(statement.segments[0]),
                    "approximation",
                    (
                        f"line {span} starts job steps, so it runs on every node; the other "
                        "commands on it"
                        if span.isdigit()
                        else f"lines {span} start job steps, so they run on every node; the "
                        "other commands in them"
                    )
                    + " also run on every node, where the batch shell ran them once. Move "
                    "those to a separate statement if they must run once.",
                    False,
                )
            return "step"
        if "create" in kinds and kinds <= {"create", "env"}:
            return "create"
        if "work" in kinds or "slurm" in kinds:
            if self.multi and kinds == {"env", "work"}:
                return self.state_and_work(statement)
            return "work"
        return "env"

    def state_and_work(self, statement: Statement) -> str:
        """A statement with environment commands and other work (``if [ -z "$PORT" ];
        then PORT=29500; echo …; fi``). The batch shell ran it once and every later step
        had the state it set (sbatch-spec §8, §9). When it sets state (variables, the
        directory, an environment) and otherwise only prints to the job's output, it runs
        on every node (``env``), which then prints too; else on the head node (``work``),
        with a warning when the state it sets is what later lines need."""
        span = self.span(statement)
        one = span.isdigit()
        lines = f"line {span}" if one else f"lines {span}"
        state = self.state_set(statement)
        if not state:
            return "work"
        if all(self.prints_only(segment) for segment in statement.segments):
            self.find(
                self.line(statement.segments[0]),
                "approximation",
                f"{lines} {'sets' if one else 'set'} variables or the directory that later "
                f"lines may need on every node, so every node runs {'it' if one else 'them'};"
                " what it prints, every node prints.",
                False,
            )
            return "env"
        text = "\n".join(self.lines[statement.first : statement.last + 1])
        names = {m.group(1) for m in _ASSIGNED_NAME.finditer(text)}
        for match in _READ_NAMES.finditer(text):  # its words (options too: they match nothing)
            names.update(word for word in match.group(1).split() if word.isidentifier())
        later = self.offset_after(statement)  # where the later lines start in the body
        last_reads = self.last_reads()
        read = sorted(name for name in names if last_reads.get(name, -1) >= later)
        changes = sorted(state & _SHELL_STATE)
        if read or (changes and _NONBLANK.search(self.body, later)):
            what = []
            if read:
                what.append(f"{'sets' if one else 'set'} {', '.join(read)}, which later lines read")
            if changes:
                what.append(
                    f"{'runs' if one else 'run'} {', '.join(changes)}, whose effect later "
                    "lines may need"
                )
            self.find(
                self.line(statement.segments[0]),
                "head-only",
                f"{lines} {'runs' if one else 'run'} on the head node only, as the batch "
                f"shell ran {'it' if one else 'them'} once, and {' and '.join(what)}: on "
                "the other nodes that is not done. Do it in a statement of its own (every "
                "node runs that), apart from the work the head node does once.",
                True,
            )
        return "work"

    def last_reads(self) -> dict[str, int]:
        """Each variable the body reads (``$NAME``, ``${NAME…}``) -> the offset of its last
        read, found in one pass when first needed."""
        if self.read_offsets is None:
            self.read_offsets = {m.group(1): m.start() for m in _READ_VARIABLE.finditer(self.body)}
        return self.read_offsets

    def offset_after(self, statement: Statement) -> int:
        """The offset in the body of the line after ``statement``."""
        if self.line_starts is None:
            starts = [0]
            for line in self.lines:
                starts.append(starts[-1] + len(line) + 1)
            self.line_starts = starts
        return self.line_starts[min(statement.last + 1, len(self.lines))]

    def state_set(self, statement: Statement) -> set[str]:
        """What in ``statement`` changes the shell's state for later lines: ``=`` for an
        assignment, else the command (``cd``, ``source``, ``export``, ``read``, …)."""
        found: set[str] = set()
        for segment in statement.segments:
            if segment.blank or segment.work:
                continue  # an ordinary line's command is none of them
            for command in segment.commands:
                if command.name_index() >= len(command.words):
                    found.add("=")  # NAME=value alone (before a command, it is the command's)
                    continue
                base = command.name.rsplit("/", 1)[-1]
                if base in STATE_COMMANDS:
                    found.add(base)
        return found

    def prints_only(self, segment: Segment) -> bool:
        """Whether ``segment`` does nothing but set state, test and print to the job's
        output (``echo``, ``printf``; no redirection to a file, no substitution that
        runs a command, no other command)."""
        if segment.blank:
            return True
        if _WRITES_OR_RUNS.search(segment.text):
            return False
        if segment.work:
            for line in segment.text.split("\n"):
                words = line.split(None, 1)
                if words and words[0][0] != "#" and words[0] not in _PRINTS:
                    return False
            return True
        for command in segment.commands:
            name = command.name
            base = name.rsplit("/", 1)[-1]
            if name and base not in _PRINTS and base not in _STATE_OR_TEST:
                return False
        return True

    def span(self, statement: Statement) -> str:
        first = self.ctx.body_line + statement.first
        last = self.ctx.body_line + statement.last
        return f"{first}-{last}" if last > first else str(first)

    def command(self, segment: Segment, command: Command) -> str:
        """Rewrite one simple command; returns its class (see :meth:`statement`)."""
        words = command.words
        index = command.name_index()
        count = len(words)
        if index >= count:
            if self.track_values or self.multi:
                self.assignment(segment, command)
                if self.srun_text and "`" in segment.text and "srun" in segment.text:
                    self.srun_inside(segment, command, -1, "a backquoted substitution")
            return "env"
        raw = words[index][0]
        if raw in WRAPPER_WORDS or ("/" in raw and raw.rsplit("/", 1)[-1] in WRAPPER_WORDS):
            # wrappers: exec, time, nohup, env, timeout DURATION, …
            while (
                index < count - 1 and unquote(words[index][0]).rsplit("/", 1)[-1] in WRAPPER_WORDS
            ):
                if words[index][0] == "command" and words[index + 1][0] in ("-v", "-V"):
                    return "env"  # a lookup: command -v srun
                if words[index][0] == "timeout" and index + 2 < count:
                    index += 2
                    continue
                index += 1
                while index < count - 1 and (
                    words[index][0].startswith("-") or is_assignment(words[index][0])
                ):
                    index += 1
            raw = words[index][0]
        name = unquote(raw) if ("'" in raw or '"' in raw or "\\" in raw) else raw
        base = name.rsplit("/", 1)[-1] if "/" in name else name
        if self.srun_text and "srun" in segment.text and base not in _NOT_RUNNING_SRUN:
            self.srun_inside(segment, command, index, f"the arguments of {base}")
        if base not in _INTERESTING:
            if self.functions and base in self.functions:
                return self.functions[base]
            if name[:1] == "$" and self.srun_text:
                kind = self.srun_variable(segment, command, index)
                if kind:
                    return kind
            if base in ENVIRONMENT_COMMANDS and name == base:
                return "env"
            return "work"
        if base == "srun":
            return self.srun(segment, command, index)
        plain = [unquote(w) for w, _, _ in words[index:]]
        if base in ("module", "ml"):
            return self.module(segment, command, index, plain)
        if base in ("source", "."):
            argument = plain[1] if len(plain) > 1 else ""
            if _MODULE_INIT.search(argument):
                if not self.ctx.slurm_infra:
                    self.find(
                        self.line(segment, words[index][1]),
                        "module",
                        f"{base} {argument}: removed from run; it starts the cluster's "
                        "environment modules, which SkyPilot nodes do not have.",
                        False,
                        column=self.column(segment, words[index][1]),
                    )
                    self.remove_command(segment, command)
                    return "removed"
                return "env"
            if argument.endswith("/bin/activate") or (argument == "activate" and len(plain) > 2):
                self.activation(
                    segment,
                    words[index][1],
                    plain[2] if argument == "activate" else argument[: -len("/bin/activate")],
                )
            return "env"
        if _is_creation(plain):
            self.created = self.created or _creates_environment(plain)
            return "create"
        if base in WORKLOAD_LAUNCHERS:
            self.result.mpi = True
            if self.multi:
                self.result.hostfile = True
                self.find(
                    self.line(segment, words[index][1]),
                    "mpi",
                    f"{base} runs on the head node and reaches the other nodes over SSH, "
                    f"with the nodes in {HOSTFILE} ({self.ctx.tasks_per_node} slots each). "
                    "The MPI library must be installed on every node (setup or image_id). "
                    + _MPI_ENVIRONMENT,
                    False,
                    once="mpirun",
                    column=self.column(segment, words[index][1]),
                )
            return "work"
        if base == "ray":
            if plain[1:2] == ["start"] and "--head" not in plain and self.multi:
                self.ray_start(segment, words[index:])
                return "step"
            return "work"  # the head (ray start --head), ray stop, …: as the batch shell did
        if base == "scontrol":
            if plain[1:3] in (["show", "hostnames"], ["show", "hostname"]):
                return "env"
            self.find(
                self.line(segment, words[index][1]),
                "slurm-command",
                f"scontrol {' '.join(plain[1:3])} needs a Slurm cluster; SkyPilot has none "
                "(managed jobs are recovered by SkyPilot itself, job details are in "
                "sky jobs queue). Remove it or guard it.",
                not self.ctx.slurm_infra,
                column=self.column(segment, words[index][1]),
            )
            return "work"
        if base in ("singularity", "apptainer"):
            self.find(
                self.line(segment, words[index][1]),
                "container",
                f"{base} runs a container image, and SkyPilot nodes do not have {base}: "
                "set image_id: docker:<image> (the image the .sif was built from) and run "
                f"the command directly, or install {base} in setup.",
                True,
                once="apptainer",
                column=self.column(segment, words[index][1]),
            )
            return "work"
        if base in SLURM_COMMANDS:
            kind = "nested-sbatch" if base == "sbatch" else "slurm-command"
            message = (
                "sbatch submits another Slurm job: convert that script too and launch it "
                "with sky jobs launch (or chain the tasks in a pipeline YAML)."
                if base == "sbatch"
                else f"{base} queries Slurm, which SkyPilot nodes do not have: use "
                "sky jobs queue / sky status from the machine that launches."
            )
            self.find(
                self.line(segment, words[index][1]),
                kind,
                message,
                True,
                column=self.column(segment, words[index][1]),
            )
            return "slurm"
        if base in ("conda", "mamba", "micromamba", "spack"):
            if plain[1:2] == ["activate"] and len(plain) > 2:
                self.activation(segment, words[index][1], plain[2])
            if (plain[1:2] and plain[1] in _CONDA_ENVIRONMENT) or plain[1:2] == ["load"]:
                return "env"
            return "work"
        if base in ("export", "declare", "typeset", "local", "readonly"):
            if self.track_values or self.multi:
                self.assignment(segment, command, index + 1)
            return "env"
        if base in ENVIRONMENT_COMMANDS and name == base:
            return "env"
        return "work"

    def activation(self, segment: Segment, offset: int, what: str) -> None:
        if self.activated is None:
            self.activated = (self.line(segment, offset), self.column(segment, offset), what)

    # -- rewrites -----------------------------------------------------------------

    def text_rewrites(self, segment: Segment) -> None:
        """Rewrites found in the text of a line, also inside ``$( )``."""
        text = segment.text
        if "scontrol" in text and not self.ctx.slurm_infra:
            for match in _SCONTROL_HOSTNAMES.finditer(text):
                self.scontrol_hostnames(segment, match)
        if "srun" in text and "$(" in text:
            for start, end, inner in substitutions(text):
                if re.match(r"\s*srun\s", inner) and not self.substituted_srun(
                    segment, start, end, inner
                ):
                    self.substituted_step(segment, start, inner)
        if not self.ctx.slurm_infra and "m" in text and _MODULE_SUBSTITUTION.search(text):
            self.find(
                self.line(segment),
                "module",
                "a command substitution runs the module command, which SkyPilot nodes do not "
                "have: its output is empty there. Remove it, or print what the image has "
                "(nvcc --version, pip list) instead.",
                False,
                once="module-substitution",
                column=self.column(segment),
            )
        if self.multi and "RANDOM" in text and _RANDOM.search(text):
            self.result.seed_random = True
            self.find(
                self.line(segment),
                "approximation",
                "$RANDOM is seeded from SKYPILOT_TASK_ID, so every node draws the same "
                "numbers, as the batch shell drew them once (a port or rendezvous id then "
                "agrees across the nodes); after lines that run on the head node only and "
                "draw from it, it is seeded again, alike on every node. A draw inside "
                "$( … ) differs from node to node (bash seeds it anew there).",
                False,
                once="random",
                column=self.column(segment),
            )

    def scontrol_hostnames(self, segment: Segment, match: re.Match[str]) -> None:
        """``scontrol show hostnames [LIST]``: the node IPs for the job's own node list; a
        literal hostlist written out; another variable split at its commas."""
        argument = match.group("arg")
        line = self.line(segment, match.start())
        column = self.column(segment, match.start())
        if argument is None or _NODELIST_ARG.match(argument):
            replacement = 'echo "$SKYPILOT_NODE_IPS"'
            self.find(
                line,
                "rewritten",
                "scontrol show hostnames becomes the node IPs in SKYPILOT_NODE_IPS (one "
                "per line, head node first), which every node can reach.",
                False,
                once="scontrol",
                column=column,
            )
        else:
            written = argument.strip()
            hosts = None
            if "$" not in written and "`" not in written:
                try:
                    hosts = expand_hostlist(unquote(written))
                except ValueProblem:
                    hosts = None
            if hosts:
                shown = " ".join(hosts) if len(hosts) <= 4 else f"{hosts[0]} … {hosts[-1]}"
                replacement = "printf '%s\\n' " + " ".join(_quoted(h) for h in hosts)
                self.find(
                    line,
                    "rewritten",
                    f"scontrol show hostnames {written} is written out as the names it "
                    f"lists ({shown}); those are the cluster's host names, which SkyPilot's "
                    "nodes do not have (they are the IPs in SKYPILOT_NODE_IPS).",
                    True,
                    once=f"scontrol-{written}",
                    column=column,
                )
            else:
                replacement = f"echo {written} | tr , '\\n'"
                self.find(
                    line,
                    "rewritten",
                    f"scontrol show hostnames {written}: SkyPilot's nodes have no scontrol, "
                    f"so {written} is split at its commas; a hostlist with brackets "
                    "(node[01-04]) in it is not expanded, and host names of the cluster "
                    "are no names of SkyPilot's nodes (those are the IPs in "
                    "SKYPILOT_NODE_IPS).",
                    False,
                    once=f"scontrol-{written}",
                    column=column,
                )
        self.edit(segment, match.start(), match.end(), replacement)

    def assignment(self, segment: Segment, command: Command, first: int = 0) -> None:
        """Assignments (alone, or after ``export``/``declare``): record simple values for
        srun options; with several nodes, the batch host's own address becomes the head
        node's."""
        for word, start, _end in command.words[first:]:
            if not is_assignment(word):
                continue
            name, _, value = word.partition("=")
            self.batch_host_names.discard(name.rstrip("+"))  # assigned again (see below)
            if name.endswith("+"):
                if name[:-1] in self.known:
                    self.known[name[:-1]] = None
                continue
            if self.track_values:
                self.remember(name, value, command.depth)
            plain = unquote(value)
            if re.fullmatch(r"[0-9]+", plain):
                self.ctx.values[name] = plain
            elif plain.startswith("$"):
                key = plain.strip("${}")
                if key in self.ctx.values:
                    self.ctx.values[name] = self.ctx.values[key]
            if self.multi and command.depth == 0:
                spans = [(m.start(), m.end()) for m in _OWN_ADDRESS.finditer(word)]
                if "$(" in word:
                    spans += [
                        (a, b)
                        for a, b, inner in substitutions(word)
                        if _OWN_ADDRESS_COMMAND.match(inner)
                    ]
                if spans and len(spans) == 1 and spans[0] == (len(name) + 1, len(word)):
                    self.batch_host_names.add(name)  # NAME=$(hostname): the head node
                for begin_at, end_at in spans:
                    begin = start + begin_at
                    self.edit(segment, begin, start + end_at, HEAD_IP)
                    self.find(
                        self.line(segment, begin),
                        "rewritten",
                        f"{name} is the batch host's own address, which is the head node's "
                        "(the batch shell runs on the first node); run runs on every node, "
                        "so it becomes the head node's IP on all of them.",
                        False,
                        once=f"address-{name}",
                        column=self.column(segment, begin),
                    )
            if self.multi and ("$" in value or "`" in value):
                why = _node_dependent(value)
                if why is None:
                    continue
                if why:
                    message = (
                        f"{name}={why} now runs on every node, where the batch shell ran it "
                        "once: what it does (a download, "
                        "a POST, a directory made) happens once per node, and the nodes may "
                        "get different values (a time, a file only one node has). Compute "
                        "it before launching and pass it in envs, make it deterministic "
                        "(from $SKYPILOT_TASK_ID), or run it on the head node only "
                        '(if [ "$SKYPILOT_NODE_RANK" = 0 ]) if only that node needs it.'
                    )
                else:
                    message = (
                        f"{name} is computed on each node and may differ between them (the "
                        "batch shell computed it once): give it a fixed value if the nodes "
                        "must agree on it (a port, a run name)."
                    )
                self.deferred.append(
                    (
                        self.line(segment, start),
                        self.column(segment, start),
                        "per-node-value",
                        message,
                        True,
                        f"per-node-{name}",
                    )
                )

    def remember(self, name: str, value: str, depth: int) -> None:
        """Record the value of a variable that holds srun options or srun itself
        (``SRUN_ARGS="-N 1 --mpi=pmi2"``, ``ARGS=(--container-image x)``,
        ``SRUN="srun --mpi=pmi2"``), which :meth:`expansion` then reads."""
        if value[:1] != "(" and "-" not in value and "srun" not in value:
            if name in self.known:
                self.known[name] = None  # it holds something else now
            return
        if value[:1] == "(":
            tokens, _ = _tokens(value[1:-1] if value.endswith(")") else value[1:])
            words = tuple(text for kind, text, _, _ in tokens if kind == "w")
            array = True
        else:
            words = tuple(unquote(value).split())
            array = False
        first = unquote(words[0]) if words else ""
        if not (first[:1] == "-" or first.rsplit("/", 1)[-1] == "srun"):
            if name in self.known:
                self.known[name] = None  # it holds something else now
            return
        entry = (words, array)
        if depth and name in self.known and self.known[name] != entry:
            self.known[name] = None  # set differently in places
        else:
            self.known[name] = entry

    def expansion(self, text: str, srun: bool = False) -> tuple[str, ...] | None:
        """The words a word that expands a variable :meth:`remember` knows stands for
        (``$ARGS``, ``"${ARGS[@]}"``); srun options only, or (``srun``) srun and its
        options; ``None`` when the word is no such expansion."""
        match = _EXPANSION_WORD.fullmatch(text)
        if match is None:
            return None
        value = self.known.get(match.group("n1") or match.group("n2") or "")
        if not value:
            return None
        words, array = value
        first = unquote(words[0])
        if (first.rsplit("/", 1)[-1] == "srun") != srun or (not srun and first[:1] != "-"):
            return None
        if array and not match.group("all"):
            return words[:1]  # $ARGS is the first element
        if not array and match.group("q"):
            return (" ".join(words),)  # "$X": one word
        return words

    def srun_variable(self, segment: Segment, command: Command, index: int) -> str | None:
        """A command word that expands a variable holding srun (``$SRUN prog``): the
        step read with the variable's value, or noted when the value is not known."""
        raw = command.words[index][0]
        expanded = self.expansion(raw, srun=True)
        if expanded is not None:
            return self.srun(segment, command, index, expanded[1:])
        match = _EXPANSION_WORD.fullmatch(raw)
        if match is None:
            return None
        name = match.group("n1") or match.group("n2")
        if (name in self.known and self.known[name] is None) or "SRUN" in name.upper():
            return self.unread_srun(
                segment,
                command.words[index][1],
                f"{raw} starts a job step with srun, but the converter cannot tell its "
                "value (it is set in more than one way, or outside the script)",
            )
        return None

    def unread_srun(self, segment: Segment, start: int, why: str) -> str:
        """A job step the converter cannot read (its srun at offset ``start`` of the
        segment's text): kept, for run's srun function."""
        self.result.shim = True
        line = self.line(segment, start)
        self.find(
            line,
            "not-converted",
            f"{why}: srun is kept, and run defines it as a function that starts this node's "
            "share of the tasks and reads only --nodes, --ntasks, --ntasks-per-node, "
            "--nodelist, --relative and --gpus-per-task in the --name=value form; any "
            "other option stops it. Write the step's options out on the srun line.",
            True,
            once=f"srun-unread-{line}",
            column=self.column(segment, start),
        )
        return "step"

    def srun_inside(self, segment: Segment, command: Command, index: int, where: str) -> None:
        """srun in the words of another command (``xargs srun``, ``bash -c "srun …"``,
        ```srun hostname```): kept, for run's srun function, and noted."""
        words = command.words
        for position in range(index + 1, len(words)):
            text, start, _ = words[position]
            if "srun" not in text or (is_assignment(text) and "`" not in text):
                continue
            if "$(" in text or "`" in text:
                text = _SRUN_QUERY.sub("", text)
            plain = unquote(text)
            # srun to run: a word of its own with its arguments after it (xargs srun
            # prog), or a command in a string or substitution (bash -c "srun prog")
            if (plain == "srun" and position < len(words) - 1) or _SRUN_COMMAND.search(plain):
                line = self.line(segment, start)
                column = self.column(segment, start)
                self.result.shim = True
                self.find(
                    line,
                    "not-converted",
                    f"srun in {where} is not read by the converter: run defines srun as "
                    "a bash function (which bash -c and the shell itself reach, but not "
                    "xargs or other programs) that starts this node's share of the tasks "
                    "only (the other nodes run theirs only if they run this line) and "
                    "reads only --nodes, --ntasks, --ntasks-per-node, --nodelist, "
                    "--relative and --gpus-per-task in the --name=value form. Write the "
                    "step as a line of its own.",
                    True,
                    once=f"srun-unread-{line}",
                    column=column,
                )
                return

    def remove_command(self, segment: Segment, command: Command) -> None:
        """Take a command out of ``run``: the whole line when it is all the line holds at
        top level, else a ``:`` (a no-op) in its place, which keeps ``if … fi`` valid."""
        self.pending.append((segment, command))

    def module(self, segment: Segment, command: Command, index: int, plain: list[str]) -> str:
        """``module load a b`` / ``ml a b``: record the modules; removed from ``run``
        except on SkyPilot's Slurm infra."""
        base = plain[0].rsplit("/", 1)[-1]
        names: list[str] = []
        if base == "ml":
            rest = plain[1:]
            if rest and rest[0] in ("load", "add"):
                rest = rest[1:]
            if rest and rest[0] in (
                "purge",
                "list",
                "avail",
                "spider",
                "unload",
                "use",
                "save",
                "restore",
                "show",
                "help",
                "-r",
                "--force",
            ):
                rest = []
            names = [n for n in rest if not n.startswith("-")]
        elif plain[1:2] and plain[1] in ("load", "add", "try-load", "try-add"):
            names = [n for n in plain[2:] if not n.startswith("-")]
        elif plain[1:2] and plain[1] in ("swap", "switch") and len(plain) >= 4:
            names = [plain[3]]
        line = self.line(segment, command.words[index][1])
        column = self.column(segment, command.words[index][1])
        for name in names:
            self.result.modules.append((line, name, column))
            if self.ctx.mpi_module(name):
                self.mpi_loaded = True
        if self.ctx.slurm_infra:
            return "env"
        if not names:  # module purge, unload, use, list, …: nothing to choose an image by
            shown = " ".join(plain)
            shown = shown if len(shown) <= 40 else shown[:39] + "…"
            self.find(
                line,
                "module",
                f"{shown}: removed from run; SkyPilot nodes have no environment modules "
                "(software comes from image_id or setup).",
                False,
                column=column,
            )
        self.remove_command(segment, command)
        return "removed"

    def srun(
        self, segment: Segment, command: Command, index: int, prefix: Sequence[str] = ()
    ) -> str:
        """One ``srun`` step: stripped to its command, kept for the ``srun`` function,
        or turned into ``mpirun``. ``prefix``: srun's first arguments, from the value of
        the variable ``words[index]`` expands to (``SRUN="srun --mpi=pmi2"``; ``$SRUN``)."""
        words = command.words
        # srun's arguments as raw words, with the index in words of the word each comes
        # from, and whether it comes from the value of a variable the converter knows
        items: list[tuple[str, int, bool]] | None = None
        if prefix or self.known:
            items = [(word, index, True) for word in prefix]
            for position in range(index + 1, len(words)):
                text = words[position][0]
                if "$" in text:
                    expanded = self.expansion(text)
                    if expanded is not None:
                        items.extend((word, position, True) for word in expanded)
                        continue
                items.append((text, position, False))
            written = ["srun", *(text for text, _, _ in items)]
        else:
            written = [text for text, _, _ in words[index:]]
        self.result.steps = True
        argv = tuple(unquote(text) for text in written[1:])
        call = self.srun_calls.get(argv)
        if call is None:
            call = self.srun_calls[argv] = parse_srun(argv)
        start = words[index][1]
        line = self.line(segment, start)
        column = self.column(segment, start)
        if not call.command:
            self.find(
                line,
                "not-converted",
                "srun without a command starts nothing here; it is kept as written.",
                True,
                column=column,
            )
            self.result.shim = True
            return "step"
        tail = ""  # the step's command words that come from a variable, written out
        if items is None:
            command_at = index + len(written) - len(call.command)
            command_start = words[command_at][1]
        else:
            first_item = len(items) - len(call.command)
            _, command_at, from_value = items[first_item]
            command_start = words[command_at][1]
            if from_value:
                # the command starts in a variable's value: written out in its place
                value = [
                    text
                    for text, position, synthetic in items[first_item:]
                    if synthetic and position == command_at
                ]
                if any(_NOT_PLAIN.search(text) for text in value):
                    return self.unread_srun(
                        segment,
                        start,
                        "this srun step's command is part of the value of "
                        f"{words[command_at][0]}, which the converter cannot write out",
                    )
                tail = " ".join(value)
                command_start = words[command_at][2]
        colon = next((i for i in range(command_at + 1, len(words)) if words[i][0] == ":"), 0)
        if colon:
            # srun(1) "heterogeneous job steps": a ":" word separates the components' commands
            self.edit(segment, words[colon - 1][2], words[-1][2], "")
            self.find(
                line,
                "not-converted",
                "this srun step starts commands in the het-job's components, separated by "
                '":"; the task is component 0 only, so only the first command runs here. '
                "Run each other component's command in a task of its own.",
                True,
                column=self.column(segment, words[colon][1]),
            )
        first = words[command_at][0]
        if not tail and first[:1] in ('"', "$") and _may_hold_options(first):
            return self.unread_srun(
                segment,
                start,
                f"this srun step's arguments start with {first}, whose value the converter "
                "cannot see (it may hold srun options)",
            )
        if (
            self.multi
            and call.command[0].rsplit("/", 1)[-1] == "ray"
            and call.command[1:2] == ("start",)
        ):
            self.ray_start(segment, words[command_at:])
        options = call.options
        for problem in call.problems:
            self.find(
                line, "srun", f"srun: {problem}; the option is ignored.", False, column=column
            )
        for name in options:
            if name not in _SRUN_GEOMETRY and name not in _SRUN_HARMLESS:
                self.ignored_srun.setdefault(name, (line, column))
        image = options.get("container-image")
        if image:
            self.result.images.append((line, column, image))
        environment = self.step_environment(
            options.get("export"), _original_word(written, call, "export"), line, column
        )
        if "pty" in options:
            self.find(
                line,
                "not-converted",
                "srun --pty starts an interactive shell, which "
                "a batch task cannot have; use sky launch and ssh for that.",
                True,
                column=column,
            )

        def value(name: str) -> str | None:
            raw = options.get(name)
            if raw is None:
                return None
            resolved = self.resolve(raw)
            if resolved is not None:
                return resolved
            return _original_word(written, call, name) or raw

        nodes = value("nodes")
        if nodes is not None and "-" in nodes and nodes.split("-")[0].isdigit():
            nodes = nodes.split("-")[0]  # a range: its minimum, like the header's --nodes
        ntasks = value("ntasks")
        per_node = value("ntasks-per-node")
        nodelist = value("nodelist")
        relative = value("relative")
        if nodelist is not None and _is_batch_host(nodelist):
            # the batch host is the head node; each node would name itself here
            nodelist = HEAD_IP
        exclude = value("exclude")
        if exclude is not None and self.multi:
            named = _VARIABLE_VALUE.fullmatch(exclude.strip())
            head = _is_batch_host(exclude) or (
                named is not None and named.group(2) in self.batch_host_names
            )
            if head and nodelist is None and relative is None:
                relative = "1"  # every node but the batch host, which is node 0
            else:
                self.find(
                    line,
                    "srun",
                    f"srun --exclude={exclude} is dropped: run's srun cannot tell which of "
                    "SkyPilot's nodes that names, so the step may run there. Name the "
                    "nodes to use with --relative (a node index) instead.",
                    True,
                    column=column,
                )
        if nodelist is not None and "$" not in nodelist and "`" not in nodelist:
            # host names of the cluster: no node here has them, so the step would run nowhere
            try:
                hosts = min(hostlist_count(nodelist), self.ctx.nodes)
            except ValueProblem:
                hosts = 0
            if hosts:
                self.find(
                    line,
                    "approximation",
                    f"srun --nodelist={nodelist} names particular hosts of the cluster, and "
                    "SkyPilot chooses the nodes itself (named by their IPs, in "
                    "SKYPILOT_NODE_IPS): the step runs on the first "
                    + ("node" if hosts == 1 else f"{hosts} nodes")
                    + " instead.",
                    True,
                    column=column,
                )
                nodelist = relative = None
                nodes = nodes or str(hosts)
        gpus = value("gpus-per-task")
        if gpus is not None and ":" in gpus:
            gpus = gpus.rsplit(":", 1)[-1]
        if gpus is None and self.ctx.gpus_per_task:
            gpus = str(self.ctx.gpus_per_task)
        step = _StepShape(nodes, ntasks, per_node, nodelist, relative, gpus)
        if (
            command.end == "&"
            and nodelist is None
            and relative is None
            and any(name in options for name in _STEP_GPU_OPTIONS)
        ):
            self.find(
                line,
                "srun",
                "this step asks for GPUs of its own and runs beside other work (&): Slurm "
                "gives each such step its own GPUs, but here the steps running at once on "
                "a node share its GPUs. Give each its own, e.g. CUDA_VISIBLE_DEVICES=$i "
                "before its command.",
                True,
                once="step-gpus",
                column=column,
            )
        if self.multi:
            self.per_task_arguments(words[index + 1 :], line, column)
        mpi = "mpi" in options and options.get("mpi") not in ("none", None)
        if mpi or self.mpi_loaded:
            total = self.static_tasks(step)
            if mpi or (total is None or total > 1):
                count = ntasks or (
                    str(total)
                    if total is not None
                    else f"$(( {per_node or self.ctx.tasks_per_node} * {nodes or self.ctx.nodes} ))"
                )
                self.edit(segment, start, command_start, f"mpirun -np {count} {environment}{tail}")
                self.result.hostfile = self.result.hostfile or self.multi
                self.result.mpi = True
                self.find(
                    line,
                    "mpi",
                    "an MPI step: srun starts MPI ranks through Slurm's PMI, which SkyPilot "
                    "does not have, so the step becomes mpirun on the head node"
                    + (f", with the nodes in {HOSTFILE}" if self.multi else "")
                    + ". The MPI library must be installed (setup or image_id)."
                    + (" " + _MPI_ENVIRONMENT if self.multi else ""),
                    False,
                    once="mpi-step",
                    column=column,
                )
                return "mpi"
        if self.whole_job_one_task_each(step):
            self.edit(segment, start, command_start, self.step_variables(environment) + tail)
            return "step"
        normalized = []
        for option, text in (
            ("nodes", nodes),
            ("ntasks", ntasks),
            ("ntasks-per-node", per_node),
            ("nodelist", nodelist),
            ("relative", relative),
            ("gpus-per-task", gpus),
        ):
            if text is not None:
                normalized.append(f"--{option}={text}")
        if ntasks is None and per_node is None:
            normalized.append(f"--ntasks-per-node={self.ctx.tasks_per_node}")
        if command.end == "&" and self.multi and nodelist is None and relative is None:
            self.spread(step, line, column)
        self.edit(
            segment,
            start,
            command_start,
            "srun " + " ".join(normalized) + " " + environment + tail,
        )
        self.result.shim = True
        return "step"

    def per_task_arguments(
        self, words: Sequence[tuple[str, int, int]], line: int, column: int
    ) -> None:
        """A step's arguments that read a task's own variable (``srun prog --rank
        $SLURM_PROCID``): the batch shell expands it before srun starts the tasks, so in
        Slurm every task gets the batch step's value, 0 (sbatch-spec §8); run expands it
        on each node, where it is that node's."""
        for text, _, _ in words:
            if "SLURM_" not in text:
                continue
            found = _TASK_VARIABLE.search(re.sub(r"'[^']*'", "", text))
            if found is None:
                continue
            name = found.group(1)
            self.find(
                line,
                "per-node-value",
                f"this step's arguments read ${name}, which the batch shell expands before "
                "srun starts the tasks: in Slurm every task gets the batch step's value, 0; "
                "here each node expands it to its own value. To give each task its own, "
                f"read it inside the task (srun bash -c '… ${name} …').",
                True,
                once="task-variable-argument",
                column=column,
            )
            return

    def spread(self, step: _StepShape, line: int, column: int) -> None:
        """A step started in the background on fewer nodes than the job (``srun -N1 -n1
        x &``, a task farm): Slurm gives each such step free nodes of the allocation, so
        steps started together spread over it (sbatch-spec §9); run's srun function starts
        a step on the first nodes it covers (from ``--relative``, else the first), so here
        they all run there."""
        nodes = self.ctx.nodes
        covered = int(step.nodes) if step.nodes and step.nodes.isdigit() else nodes
        if step.ntasks and step.ntasks.isdigit():
            covered = min(covered, int(step.ntasks))
        if covered >= nodes:
            return
        self.find(
            line,
            "srun",
            f"srun on {covered} of the job's {nodes} nodes, started in the background: Slurm "
            "gives each such step nodes of the allocation that are free, so steps started "
            "together spread over all of them; here each one runs on the first "
            + ("node" if covered == 1 else f"{covered} nodes")
            + " of the task, and the others stay idle. Spread the steps with --relative "
            f"(srun --relative=$(( i % {nodes} )) …, which run's srun reads), or start one "
            "step per node.",
            True,
            once="srun-spread",
            column=column,
        )

    def step_variables(self, environment: str) -> str:
        """The prefix of a step that starts one task on every node, run as its command:
        ``environment`` (see :meth:`step_environment`), and the step's own ``SLURM_PROCID``,
        ``SLURM_NTASKS`` and ``SLURM_NPROCS`` where run sets the job's, which differ (more
        than one task per node: sbatch-spec §9, a step's tasks count from 0)."""
        if self.read is None:
            self.read = slurm_variables(self.body)
        nodes = str(self.ctx.nodes)
        assignments = []
        if self.ctx.tasks_per_node != 1 and "SLURM_PROCID" in self.read:
            assignments.append("SLURM_PROCID=$SKYPILOT_NODE_RANK")
        if self.ctx.values.get("SLURM_NTASKS") != nodes:  # also where the job has none
            assignments.extend(
                f"{name}={nodes}" for name in ("SLURM_NTASKS", "SLURM_NPROCS") if name in self.read
            )
        if not assignments:
            return environment
        rest = environment[4:] if environment.startswith("env ") else environment
        return "env " + " ".join(assignments) + " " + rest

    def step_environment(
        self, export: str | None, written: str | None, line: int, column: int
    ) -> str:
        """``srun --export``'s assignments as an ``env`` prefix for the step's command
        (``""`` without any). sbatch-spec §6.12: with ``ALL`` a ``NAME=value`` applies only
        where the caller has no ``NAME`` (so ``NAME=${NAME-value}``); ``NONE``, ``NIL`` or
        a bare list limit the step to ``SLURM_*`` and the named variables, which a node's
        command here does not undergo (noted). ``written`` is the value as written in the
        script (quotes kept): a single-quoted ``$`` stays literal."""
        if export is None:
            return ""
        try:
            spec = parse_export(export)
        except ValueProblem as problem:
            self.find(
                line,
                "srun",
                f"srun --export: {problem}; the option is ignored.",
                False,
                column=column,
            )
            return ""
        if spec.mode != "ALL":
            self.find(
                line,
                "srun",
                f"srun --export={export} starts the step with only the SLURM_* variables"
                + (" and the ones it names" if spec.names or spec.assignments else "")
                + "; here the step's command sees the whole environment of run"
                + (", with the assignments it makes" if spec.assignments else "")
                + ".",
                False,
                column=column,
            )
        # the value as the shell passed it: $ expands in it unless it was single-quoted
        special = r'(["\\`$])' if "'" in (written or "") else r'(["\\`])'
        items = []
        for name, value in spec.assignments:
            escaped = re.sub(special, r"\\\1", value)
            items.append(
                f'"{name}=${{{name}-{escaped}}}"' if spec.mode == "ALL" else f'"{name}={escaped}"'
            )
        return "env " + " ".join(items) + " " if items else ""

    def ray_start(self, segment: Segment, words: Sequence[tuple[str, int, int]]) -> None:
        """``ray start … --block``: without ``--block`` (see the module's docstring)."""
        for text, start, end in words:
            if text == "--block":
                self.edit(segment, start - 1 if segment.text[start - 1] == " " else start, end, "")
                self.find(
                    self.line(segment, start),
                    "ray",
                    "ray start loses --block: the Ray processes keep running in the "
                    "background on each node, and the job ends when the head node's "
                    "script ends, as in Slurm (a blocking worker would keep its node's "
                    "run, and so the job, alive).",
                    False,
                    once="ray-block",
                    column=self.column(segment, start),
                )

    def resolve(self, raw: str) -> str | None:
        """A static value for an srun option value: a number, or a variable whose value
        is known (``$SLURM_NNODES``, ``${GPUS_PER_NODE}``); ``None`` when dynamic."""
        text = raw.strip()
        if re.fullmatch(r"[0-9]+(?:-[0-9]+)?", text):
            return text
        match = re.fullmatch(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", text)
        if match and match.group(1) in self.ctx.values:
            return self.ctx.values[match.group(1)]
        if "$" not in text and "`" not in text:
            return text
        return None

    def static_tasks(self, step: _StepShape) -> int | None:
        """The step's task count when it is known before the job runs."""

        def number(text: str | None) -> int | None:
            # a count of any length: more than 18 digits is no count a job could have
            if text is None or not (text.isascii() and text.isdigit()) or len(text) > 18:
                return None
            return int(text)

        if step.ntasks is not None:
            return number(step.ntasks)
        step_nodes = number(step.nodes)
        if step.nodelist is not None:
            step_nodes = step.nodelist.count(",") + 1 if "$" not in step.nodelist else None
        elif step_nodes is None:
            step_nodes = self.ctx.nodes - (number(step.relative) or 0)
        tasks = number(step.per_node) if step.per_node is not None else self.ctx.tasks_per_node
        if step_nodes is None or tasks is None:
            return None
        return step_nodes * tasks

    def whole_job_one_task_each(self, step: _StepShape) -> bool:
        """The step starts exactly one task on every node of the job."""
        if step.nodelist is not None or step.gpus is not None or step.relative not in (None, "0"):
            return False
        job_nodes = str(self.ctx.nodes)
        if step.nodes is not None and step.nodes != job_nodes:
            return False
        if step.ntasks is not None:
            return step.ntasks == job_nodes and step.per_node in (None, "1")
        if step.per_node is not None:
            return step.per_node == "1"
        return self.ctx.tasks_per_node == 1

    def substituted_step(self, segment: Segment, begin: int, inner: str) -> None:
        """``$(srun … | …)``: the step read as any other; with several nodes, the
        substitution holds only the output of the tasks on the node that runs it."""

        tokens, _ = _tokens(inner)
        offset = begin + 2
        words: list[tuple[str, int, int]] = []
        operand = False
        for kind, value, start, end in tokens:
            if kind == "o":
                break
            if kind in ("r", "h"):
                operand = True
            elif operand:
                operand = False
            else:
                words.append((value, start + offset, end + offset))
        self.srun(segment, Command(words, 0), 0)
        if self.multi:
            line = self.line(segment, begin)
            column = self.column(segment, begin)
            self.find(
                line,
                "not-converted",
                "$(srun …) holds, in Slurm, the output of every task of the step, from all "
                "its nodes; here each node runs its own tasks of the step, so the "
                "substitution holds the output of that node's tasks only. For the nodes' "
                "addresses, read SKYPILOT_NODE_IPS.",
                True,
                once=f"srun-unread-{line}",
                column=column,
            )

    def substituted_srun(self, segment: Segment, begin: int, end: int, inner: str) -> bool:
        """``$(srun -w HOST hostname -I …)``: the address of one node, which only that
        node could print; every node now computes it. False for any other ``$(srun …)``."""
        from slurm2sky.sbatch import parse_srun

        tokens, _ = _tokens(inner.strip())
        words = [value for kind, value, _, _ in tokens if kind == "w"]
        call = parse_srun([unquote(w) for w in words[1:]])
        target = call.options.get("nodelist")
        if (
            target is not None
            and call.command
            and call.command[0].rsplit("/", 1)[-1] in _IP_QUERY
            and "," not in target
        ):
            original = _original_word(words, call, "nodelist") or target
            if self.ctx.slurm_infra:
                replacement = f"$(getent hosts {original} | awk '{{print $1; exit}}')"
            elif "$" not in original and "`" not in original:
                self.edit(segment, begin, end, HEAD_IP)
                self.find(
                    self.line(segment, begin),
                    "rewritten",
                    f"the address of {original}, which srun printed on that host, becomes "
                    f"the head node's IP: {original} is a host of the cluster, which "
                    "SkyPilot's nodes are not (they are named by their IPs).",
                    True,
                    once=f"srun-address-{original}",
                    column=self.column(segment, begin),
                )
                return True
            else:
                replacement = f"$(echo {original})"
            self.edit(segment, begin, end, replacement)
            self.find(
                self.line(segment, begin),
                "rewritten",
                "the address of one node, which srun printed on that node, is computed on "
                "every node: "
                + (
                    "the node's name resolved to its address."
                    if self.ctx.slurm_infra
                    else "the nodes are named by their IPs here, so it is the name itself."
                ),
                False,
                once="srun-address",
                column=self.column(segment, begin),
            )
            return True
        return False

    # -- setup, run, head-only -------------------------------------------------------

    def setup_part(self, statements: list[Statement], classes: list[str]) -> str:
        """Environment creation for ``setup``, which SkyPilot runs before ``run``: each
        creation statement moves there while every statement before it moves too, only
        sets the environment (repeated there: assignments, ``export``, ``cd``,
        ``source``, ``mkdir -p``, …) or changes nothing (``echo``, ``nvidia-smi``, …).
        From the first other statement on (``git clone``, ``wget``, ``cp``, …), which it
        may need, creation stays in ``run``, in its place."""
        if "create" not in classes:
            return ""
        setup: list[str] = []
        context: list[str] = []
        moved: list[int] = []
        kept: list[int] = []
        blocker = -1
        for i, kind in enumerate(classes):
            if kind == "create":
                if blocker < 0:
                    setup.extend(context)
                    context.clear()
                    setup.append(self.text(statements[i]))
                    moved.append(i)
                else:
                    kept.append(i)
                continue
            if blocker >= 0 or kind == "blank":
                continue
            nature = _preparation(statements[i])
            if nature == "context":
                context.append(self.text(statements[i]))
            elif nature != "harmless":
                blocker = i
        if moved:
            self.find(
                self.ctx.body_line + statements[moved[0]].first,
                "setup",
                "environment creation ("
                + ", ".join(self.span(statements[i]) for i in moved)
                + ") moves to setup, which SkyPilot runs on every node before run; the "
                "environment statements before it are repeated there, and activation stays "
                "in run.",
                False,
            )
            for i in moved:
                classes[i] = "moved"
        if kept:
            first_line = self.lines[statements[blocker].first].strip()
            shown = first_line if len(first_line) <= 40 else first_line[:39] + "…"
            self.find(
                self.ctx.body_line + statements[kept[0]].first,
                "setup",
                "environment creation ("
                + ", ".join(self.span(statements[i]) for i in kept)
                + ") stays in run"
                + (", on every node" if self.multi else "")
                + f": line {self.span(statements[blocker])} before it ({shown}) may prepare "
                "what it needs, and setup runs before run. To create the environment in "
                "setup, move the lines it needs to setup too"
                + (
                    " (files that lines run on the head node only write are on the head node only)."
                    if self.multi
                    else "."
                ),
                False,
            )
        return "\n".join(part for part in setup if part.strip())

    def setup_and_run(self, statements: list[Statement], classes: list[str]) -> None:
        self.result.setup = self.setup_part(statements, classes)
        parts: list[str] = []
        head: list[str] = []
        head_lines: list[int] = []

        def flush(later: bool) -> None:
            if not head:
                return
            text = "\n".join(head)
            body = text.rstrip("\n ")
            if body.strip():
                first, newline, rest = body.partition("\n")
                reads = _STATUS_FIRST.match(first)
                if reads:  # the guard's test would be the $? the block's first line reads
                    parts.append("slurm2sky_status=$?  # the status the next block reads")
                    first = first[: reads.end() - 2] + "$slurm2sky_status" + first[reads.end() :]
                    body = first + newline + rest
                parts.append('if [ "${SKYPILOT_NODE_RANK:-0}" = 0 ]; then  # the head node only')
                parts.append(body)
                parts.append("fi")
                if later and self.result.seed_random and _RANDOM.search(body):
                    # the head node drew from $RANDOM: seed it alike again on every node
                    parts.append(
                        'RANDOM=$(( ($(printf %s "$SKYPILOT_TASK_ID" | cksum | cut -d" " '
                        f"-f1) + {head_lines[-1]}) % 32768 ))  # the same $RANDOM on every "
                        "node again"
                    )
                parts[-1] += text[len(body) :].replace(" ", "")
                self.result.head_only.append((head_lines[0], head_lines[-1]))
            else:
                parts.append(text)
            head.clear()
            head_lines.clear()

        written: dict[str, int] = {}  # files head-only lines write -> the line
        for statement, kind in zip(statements, classes, strict=True):
            if kind == "moved":
                continue
            text = self.text(statement)
            if not self.multi:
                parts.append(text)
                continue
            if kind in ("work", "mpi") or (kind == "blank" and head):
                head.append(text)
                if ">" in text or "tee" in text:
                    for segment, target in _written_files(statement):
                        written.setdefault(target, self.line(segment))
                if kind != "blank":
                    last = statement.last  # the last line with a command, not blank lines after it
                    while last > statement.first and self.lines[last].strip()[:1] in ("", "#"):
                        last -= 1
                    head_lines.extend(
                        (self.ctx.body_line + statement.first, self.ctx.body_line + last)
                    )
                continue
            flush(True)
            parts.append(text)
            if written and kind != "blank":
                self.read_on_every_node(written, statement, text)
        flush(False)
        run = "\n".join(parts)
        self.result.run = _tidy(run)
        if self.kept_blank:
            self.result.run = self.result.run.replace(_KEPT_BLANK, "")
            self.result.setup = self.result.setup.replace(_KEPT_BLANK, "")
        if self.result.head_only:
            ranges = ", ".join(f"{a}-{b}" if b > a else str(a) for a, b in self.result.head_only)
            self.find(
                self.result.head_only[0][0],
                "head-only",
                (
                    f"line {ranges} runs on the head node only, as the batch shell ran it once; "
                    if ranges.isdigit()
                    else f"lines {ranges} run on the head node only, as the batch shell ran "
                    "them once; "
                )
                + "the other lines run on every node. Each node has its own disk: files "
                + ("it writes" if ranges.isdigit() else "those lines write")
                + " are on the head node only.",
                False,
            )

    def read_on_every_node(self, written: dict[str, int], statement: Statement, text: str) -> None:
        """A statement every node runs reads a file a head-only line wrote (a DeepSpeed
        config from ``cat <<EOF > $config``): in Slurm every node saw it on the shared
        file system; here each node has its own disk."""
        for target, line in written.items():
            if target in text and re.search(re.escape(target) + r"(?![\w.])", text):
                self.find(
                    line,
                    "head-only",
                    f"line {line} writes {target} on the head node only, and line "
                    f"{self.line(statement.segments[0])}, which every node runs, reads it: "
                    "the other nodes do not have the file (each node has its own disk, where "
                    "Slurm's nodes shared one). Write it in a statement of its own, which "
                    "every node runs, or ship it in the workdir.",
                    True,
                    once=f"read-on-every-node-{target}",
                )

    def text(self, statement: Statement) -> str:
        """The statement as ``run`` has it: its lines with the edits made. A here-document
        the body ends inside is closed (bash closes it at the end of the input), so that
        what ``run`` adds after it stays outside it. Blank lines inside here-documents and
        quotes are marked (:data:`_KEPT_BLANK`), so that :func:`_tidy` keeps them."""
        edits, removed = self.edits, self.removed
        for segment in statement.segments:
            if id(segment) in edits or id(segment) in removed or segment.heredoc_open:
                break
        else:
            first, last = statement.segments[0].first, statement.segments[-1].end
            if first == last:
                return self.lines[first]
            return self.keep_blank(statement, "\n".join(self.lines[first : last + 1]))
        lines: list[str] = []
        for segment in statement.segments:
            if id(segment) in self.removed:
                if segment.heredoc:
                    lines.append(segment.heredoc)
                continue
            text = segment.text
            for edit in sorted(self.edits.get(id(segment), ()), key=lambda e: -e.start):
                text = text[: edit.start] + edit.text + text[edit.end :]
            lines.append(text)
            heredoc = segment.heredoc
            if segment.heredoc_open:
                if segment.heredoc_last == len(self.lines) - 1 and self.lines[-1] == "":
                    heredoc = heredoc[:-1]  # the body's final newline ends a line
                if heredoc:
                    lines.append(heredoc)
                lines.extend(segment.heredoc_open)
            elif heredoc:
                lines.append(heredoc)
        return self.keep_blank(statement, "\n".join(lines))

    def keep_blank(self, statement: Statement, text: str) -> str:
        """``text`` with its empty lines marked when they may be in a here-document or a
        quoted string (which :func:`_tidy` must not change)."""
        if "\n\n\n" not in text or _KEPT_BLANK in self.body:
            return text
        for segment in statement.segments:
            if segment.heredoc or (
                segment.last > segment.first and not segment.work and not segment.blank
            ):
                self.kept_blank = True
                return _EMPTY_LINE.sub(_KEPT_BLANK, text)
        return text

    def wrap_up(self, statements: list[Statement]) -> None:
        if self.ignored_srun:
            names = ", ".join(f"--{name}" for name in self.ignored_srun)
            line, column = min(self.ignored_srun.values())
            containers = [name for name in self.ignored_srun if name.startswith("container")]
            self.find(
                line,
                "srun",
                f"srun options without an equivalent are dropped ({names}): each node runs "
                "its tasks directly, with the resources of the whole node"
                + (
                    "; the step's container mounts and settings are lost (the task runs "
                    "in image_id, with file_mounts for data)."
                    if containers
                    else "."
                ),
                bool(containers),
                column=column,
            )
        if self.activated is not None and not self.created and self.activated[2] != "base":
            line, column, what = self.activated
            self.find(
                line,
                "environment",
                f"run activates the environment {what}, which the cluster had and a new "
                "SkyPilot node does not: create it in setup (python -m venv / conda create, "
                "then pip install) or use an image that has it.",
                True,
                column=column,
            )
        self.cluster_paths()
        if "$" in self.body and _ARGUMENT_HINT.search(self.body):
            self.script_arguments(statements)

    def cluster_paths(self) -> None:
        """The first path on the cluster's shared file systems, in its software trees,
        and the node-local scratch directory the script uses (none on SkyPilot's Slurm
        infra, where the job runs on the cluster's own nodes, which have them)."""
        if self.ctx.slurm_infra:
            return
        body = self.body
        found: dict[str, re.Match[str]] = {}
        wanted = 1 + ("SLURM_TMPDIR" in body) + any(path in body for path in _SOFTWARE_PATH)
        for match in _CLUSTER_PATH.finditer(body):
            start = match.start()
            if start and _PATH_CHARACTER.match(body, start - 1):
                continue
            text = match.group()
            kind = (
                "local"
                if text in _NODE_LOCAL_PATH
                else "software"
                if text in _SOFTWARE_PATH
                else "shared"
            )
            if kind not in found:
                found[kind] = match
                if len(found) == wanted and "shared" in found:
                    break
        for kind, match in sorted(found.items(), key=lambda item: item[1].start()):
            shown = match.group().rstrip("/").lstrip("${")
            start = match.start()
            line = self.ctx.body_line + body.count("\n", 0, start)
            column = start - body.rfind("\n", 0, start)
            if kind == "shared":
                message = (
                    "the script uses the cluster's shared file systems "
                    f"({match.group().rstrip('/')}…), which SkyPilot nodes do not have: "
                    "bring the data with file_mounts or a volume, and write results to a "
                    "bucket or volume."
                )
            elif kind == "software":
                message = (
                    f"the script uses software installed on the cluster ({shown}…), which "
                    "SkyPilot nodes do not have: install it in setup, or use an image "
                    "(image_id) that has it."
                )
            else:
                message = (
                    "the script uses $SLURM_TMPDIR, the scratch directory on each node's "
                    "local disk that the cluster creates for the job; SkyPilot does not set "
                    "it: give it a value in envs (a local directory such as /tmp/job), or "
                    "use such a directory directly."
                )
            self.find(line, "cluster-path", message, True, column=column)

    def script_arguments(self, statements: list[Statement]) -> None:
        """The first use of the script's arguments (``$1``, ``"$@"``, ``$#``), outside
        single quotes and function bodies: sbatch passes them, SkyPilot has none."""
        for statement in statements:
            if statement.blank or any(segment.functions for segment in statement.segments):
                continue
            for segment in statement.segments:
                if segment.blank or "$" not in segment.text:
                    continue
                offset = _argument_use(segment.text)
                if offset < 0:
                    continue
                use = _ARGUMENT.match(segment.text, offset).group()
                self.find(
                    self.line(segment, offset),
                    "not-converted",
                    f"the body reads the script's arguments ({use}): sbatch passes the words "
                    "after the script's name (sbatch job.sh a b) to the script, and "
                    "SkyPilot's run gets none, so they are empty. Write them into run (set -- "
                    "a b at its top), or pass them in envs (ARGS, set with sky jobs launch "
                    "--env ARGS='a b') and start run with set -- $ARGS.",
                    True,
                    column=self.column(segment, offset),
                )
                return


_SRUN_GEOMETRY = frozenset(
    {
        "exclude",
        "export",
        "nodes",
        "ntasks",
        "ntasks-per-node",
        "nodelist",
        "relative",
        "gpus-per-task",
        "mpi",
        "container-image",
        "pty",
    }
)
#: srun options that change nothing a node's tasks would notice here.
_SRUN_HARMLESS = frozenset(
    {
        "label",
        "unbuffered",
        "overlap",
        "exact",
        "quiet",
        "verbose",
        "cpus-per-task",
        "mem",
        "mem-per-cpu",
        "mem-per-gpu",
        "gres",
        "gpus",
        "gpus-per-node",
        "job-name",
        "wait",
        "threads-per-core",
        "hint",
        "distribution",
        "cpus-per-gpu",
        "ntasks-per-core",
        "ntasks-per-socket",
        "exclusive",
        "jobid",
        "chdir",
        "oversubscribe",
        "no-kill",
        "gpu-bind",
        "mem-bind",
        "whole",
        "propagate",
        "container-writable",
        "container-remap-root",
        "no-container-remap-root",
        "container-mount-home",
        "no-container-mount-home",
        "container-entrypoint",
        "no-container-entrypoint",
        "container-name",
    }
)


def _original_word(words: Sequence[str], call: object, name: str) -> str | None:
    """The value of srun option ``name`` as written (quotes kept), the last one given.

    ``words`` are the words from ``srun`` on; the call's directives number srun's
    arguments from 1 (``value_column``), so argument ``k`` is ``words[k]``.
    """
    found: str | None = None
    for directive in getattr(call, "directives", ()):
        if directive.option != name or directive.value is None:
            continue
        column = directive.value_column
        if not column or column >= len(words):
            found = directive.value
            continue
        text = words[column]
        if column == directive.column:  # attached: --opt=value, -wvalue
            text = text.split("=", 1)[1] if text.startswith("--") and "=" in text else text[2:]
        found = text
    return found


#: Commands whose effect setup needs before the environment it creates: where it is
#: (cd), which variables and modules, which environment is active (repeated in setup).
_SETUP_CONTEXT = STATE_COMMANDS | {"", "let", "local", "shift"}
#: Commands that change nothing a later command could need (unless their output goes to
#: a file): setup need not run them before the environment it creates.
_HARMLESS = frozenset(
    {
        "echo",
        "printf",
        "date",
        "hostname",
        "nvidia-smi",
        "sleep",
        "pwd",
        "ls",
        "env",
        "printenv",
        "which",
        "nproc",
        "free",
        "df",
        "du",
        "uname",
        "whoami",
        "id",
        "lscpu",
        "true",
        "false",
        ":",
        "[",
        "[[",
        "test",
        "wait",
        "trap",
        "cat",
        "head",
        "tail",
        "module",
        "ml",
        "nvcc",
        "hash",
        "alias",
        "unalias",
        "type",
    }
)
#: Commands whose output is the same on every node and that change nothing: a value a
#: command substitution of theirs computes is the same on every node (and in setup).
_PURE = frozenset(
    {
        "basename",
        "dirname",
        "echo",
        "printf",
        "expr",
        "seq",
        "cat",
        "wc",
        "tr",
        "cut",
        "sed",
        "awk",
        "gawk",
        "head",
        "tail",
        "sort",
        "uniq",
        "grep",
        "egrep",
        "fgrep",
        "paste",
        "realpath",
        "readlink",
        "pwd",
        "which",
        "whoami",
        "id",
        "nproc",
        "true",
        "false",
        "printenv",
        "bc",
        "rev",
        "tac",
        "column",
        "jq",
        "numfmt",
        "getconf",
        "command",
        "type",
        "test",
        "[",
        "xargs",
        "env",
    }
)
#: Commands whose arguments may hold the word srun without running it (or srun itself).
_NOT_RUNNING_SRUN = (
    frozenset({"srun", "echo", "printf", ":", "[", "[[", "test", "which", "type", "hash"})
    | frozenset({"killall", "pkill", "pgrep", "grep", "module", "ml"})
    | SLURM_COMMANDS
)
#: A lookup of srun, which does not run it: ``$(command -v srun)``, ``$(which srun)``.
_SRUN_QUERY = re.compile(r"(?:\bcommand\s+-[vV]|\bwhich|\btype(?:\s+-\w+)?|\bhash)\s+srun\b")
#: An output redirection to a file (not a descriptor, not /dev/null).
_FILE_OUTPUT = re.compile(
    r"(?<![<>])\d*>>?(?!&)[ \t]*(?!/dev/null\b)(?=[^\s&])|&>>?(?![ \t]*/dev/null)"
)


def _substitution_commands(value: str) -> list[tuple[str, str]]:
    """The commands the command substitutions of ``value`` run, as ``(name, the
    substitution's text)``; ``$$``, ``$RANDOM`` and ``shuf`` and the like with the name
    ``""``; those the converter rewrites left out (``hostname``, ``scontrol show
    hostnames``, ``srun``)."""
    found: list[tuple[str, str]] = []
    if "$$" in value:
        found.append(("", "$$"))
    if "$(" not in value and "`" not in value:
        return found
    for _, _, inner in substitutions(value, guide=True):
        if "RANDOM" in inner or _PER_NODE.search(inner):
            found.append(("", inner))
            continue
        if _OWN_ADDRESS_COMMAND.match(inner) or re.match(r"\s*(?:scontrol|srun)\s", inner):
            continue
        for statement in scan(inner, guide=True):
            for command in statement.commands():
                found.append((_command_name(command), inner))
    return found


def _command_name(command: Command) -> str:
    """The program a command runs (after assignments and wrappers), without its path;
    ``conda info`` and the like as two words."""
    words = [unquote(text) for text, _, _ in command.words[command.name_index() :]]
    index = 0
    while index < len(words) - 1 and words[index] in WRAPPERS:
        index += 2 if words[index] == "timeout" else 1
        while index < len(words) - 1 and words[index].startswith("-"):
            index += 1
    if index >= len(words):
        return ""
    name = words[index].rsplit("/", 1)[-1]
    if name in ("conda", "mamba", "micromamba") and index + 1 < len(words):
        return f"{name} {words[index + 1]}"
    return name


def _node_dependent(value: str) -> str | None:
    """Whether a value may differ from node to node, or the command computing it may do
    something once per node: ``None`` no; ``""`` it differs (``$$``, ``$RANDOM`` in a
    substitution, ``shuf``, ``mktemp``, …); else the first command its substitutions run
    that is not known to be pure (:data:`_PURE`)."""
    for name, inner in _substitution_commands(value):
        if not name:
            return ""
        if name not in _PURE and name not in _PURE_QUERIES and name not in SLURM_COMMANDS:
            shown = " ".join(inner.split())
            return f"$({shown if len(shown) <= 40 else shown[:39] + '…'})"
    return None


#: Commands with a subcommand that only read (``conda info --base``).
_PURE_QUERIES = frozenset(
    {"conda info", "conda shell.bash", "mamba info", "micromamba info", "micromamba shell"}
)


def _preparation(statement: Statement) -> str:
    """What a statement before environment creation is to ``setup`` (see
    :meth:`_Body.setup_part`): ``context`` (it sets the environment: repeated there),
    ``harmless`` (it changes nothing the creation could need) or ``work``."""
    if statement.compound:
        # a function's definition does nothing until it is called
        return "harmless" if statement.segments[0].functions else "work"
    nature = "harmless"
    for segment in statement.segments:
        if segment.blank:
            continue
        text = segment.text + ("\n" + segment.heredoc if segment.heredoc else "")
        if ">" in segment.text and _FILE_OUTPUT.search(segment.text):
            return "work"
        if segment.work:
            for line in text.split("\n"):
                stripped = line.strip()
                if not stripped or stripped[0] == "#":
                    continue
                name = stripped.split(None, 1)[0].rsplit("/", 1)[-1]
                if name not in _HARMLESS:
                    return "work"
                if ("$" in stripped or "`" in stripped) and _unsafe_to_repeat(stripped):
                    return "work"
            continue
        for command in segment.commands:
            name = command.name.rsplit("/", 1)[-1]
            if name in _SETUP_CONTEXT or (
                name == "mkdir" and any(w in ("-p", "--parents") for w, _, _ in command.words)
            ):
                nature = "context"
            elif name not in _HARMLESS:
                return "work"
        if ("$" in segment.text or "`" in segment.text) and _unsafe_to_repeat(segment.text):
            return "work"
    return nature


def _unsafe_to_repeat(text: str) -> bool:
    """The command substitutions of ``text`` run something that may give another value
    or do something again when setup repeats it."""
    for name, _ in _substitution_commands(text):
        if not (name in _PURE or name in _PURE_QUERIES or name in ("hostname", "date")):
            return True
    return False


def _may_hold_options(word: str) -> bool:
    """A word that expands an array (``"${ARGS[@]}"``) or a variable named like one
    holding options (``$SRUN_ARGS``, ``$OPTS``): as srun's first word after its
    options, it may hold more srun options."""
    match = _EXPANSION_WORD.fullmatch(word)
    if match is None:
        return False
    if match.group("all"):
        return True
    name = (match.group("n1") or match.group("n2")).lower()
    return any(part in _OPTION_NAMES for part in name.split("_"))


_OPTION_NAMES = frozenset(
    {"args", "arg", "opts", "opt", "options", "flags", "params", "srun", "srunargs", "srunopts"}
)
#: One word that expands a variable: ``$X``, ``${X}``, ``"$X"``, ``"${X[@]}"``.
_EXPANSION_WORD = re.compile(
    r'(?P<q>"?)\$(?:\{(?P<n1>[A-Za-z_][A-Za-z0-9_]*)(?P<all>\[[@*]\])?\}|(?P<n2>[A-Za-z_][A-Za-z0-9_]*))(?P=q)'
)
#: A function definition at the start of a line: ``name() {``, ``function name``.
_FUNCTION_DEFINITION = re.compile(
    r"^[ \t]*(?:function[ \t]+([A-Za-z_][\w.:-]*)|([A-Za-z_][\w.:-]*)[ \t]*\([ \t]*\))", re.M
)
#: A variable named for srun (``$SRUN``, ``${MY_SRUN}``), a value that starts with srun
#: (``="srun``, ``=/usr/bin/srun``), and the name the value is assigned to, before it.
_SRUN_NAMED = re.compile(r"\$\{?([A-Za-z0-9_]*SRUN[A-Za-z0-9_]*)")
_SRUN_VALUE = re.compile(r"=[\"']?(?:[^\s\"'=;|&]*/)?srun\b")
_ASSIGNED = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\Z")
#: A character that makes a word of a variable's value read differently when written out.
_NOT_PLAIN = re.compile(r"""[\\'"`$*?\[\]{}~]""")
#: srun at the start of a command in some text (``srun …``, ``a; srun …``, ``$(srun …``).
_SRUN_COMMAND = re.compile(r"(?:^|[;&|(`]\s*)srun\s")


#: A use of the script's arguments: ``$1``, ``$@``, ``$*``, ``$#``, ``${1}``, ``${@}``.
_ARGUMENT = re.compile(r"\$(?:[1-9@*#]|\{(?:[1-9][0-9]*|[@*#])[}:#%/=?+-])")
_ARGUMENT_HINT = re.compile(r"\$\{?[1-9@*#]")


def _argument_use(text: str) -> int:
    """The offset in ``text`` (shell) of the first use of the script's arguments (see
    :data:`_ARGUMENT`) outside single quotes, comments and escapes; ``-1`` if none."""
    if not _ARGUMENT_HINT.search(text):
        return -1
    stack: list[str] = []  # '"' in double quotes, ")" in $( … ) or ( … )
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        top = stack[-1] if stack else ""
        if c == "\\":
            i += 2
            continue
        if c == "$":
            if text.startswith("$(", i):
                stack.append(")")
                i += 2
                continue
            if _ARGUMENT.match(text, i):
                return i
        elif top == '"':
            if c == '"':
                stack.pop()
        elif c == "'":
            end = text.find("'", i + 1)
            if end < 0:
                return -1
            i = end
        elif c == '"':
            stack.append('"')
        elif c == "#" and (i == 0 or text[i - 1] in " \t\n;&|("):
            end = text.find("\n", i)
            if end < 0:
                return -1
            i = end
        elif c == "(" and top == ")":
            stack.append(")")
        elif c == ")" and top == ")":
            stack.pop()
        i += 1
    return -1


def _quoted(word: str) -> str:
    """``word`` quoted for the shell where it needs it."""
    return word if re.fullmatch(r"[\w.,:+@%/-]+", word) else "'" + word.replace("'", "'\\''") + "'"


#: Marks an empty line that :func:`_tidy` keeps (see :meth:`_Body.keep_blank`); a script
#: with this character keeps none.
_KEPT_BLANK = "\x00"
_EMPTY_LINE = re.compile(r"(?<=\n)(?=\n)")


def _tidy(text: str) -> str:
    """No leading blank lines, no more than one blank line in a row, one final newline."""
    text = re.sub(r"\n{3,}", "\n\n", text.strip("\n"))
    return text + "\n" if text else ""


def convert_body(body: str, context: BodyContext) -> BodyResult:
    """``run`` and ``setup`` for a batch script body (see the module's docstring)."""
    return _Body(body, context).run()
