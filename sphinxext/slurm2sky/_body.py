"""The body of a batch script as SkyPilot's ``setup`` and ``run`` (used by
:mod:`slurm2sky.convert`).

Slurm runs the body once, on the first node, and ``srun`` starts the job steps on the
nodes; SkyPilot runs ``run`` on every node at once (sbatch-spec §8-§9; SkyPilot
``SKYPILOT_NODE_RANK``). The body is rewritten so that each node does its share:

* a job step (``srun``) that starts one task on every node becomes its command, run on
  every node; any other step keeps ``srun``, which ``run`` then defines as a small shell
  function that starts this node's tasks of the step with their ``SLURM_PROCID``,
  ``SLURM_LOCALID`` and ``SLURM_NODEID`` (block distribution, as Slurm's default);
* an MPI step (``srun --mpi``, or ``srun`` after an MPI module is loaded) becomes
  ``mpirun`` on the head node, with a hostfile of the nodes;
* with several nodes, statements that only set up the environment (assignments,
  ``export``, ``source``, ``cd``, ``module``, ``mkdir``, functions, ``wait``, ``sleep``)
  and statements that start job steps run on every node; everything else runs on the
  head node only, as in the batch shell;
* ``scontrol show hostnames`` becomes ``SKYPILOT_NODE_IPS``; the batch host's own address
  (``$(hostname)``, ``$(hostname -I)``, ``$(ip … addr …)``) assigned on every node becomes
  the head node's; ``$RANDOM`` is seeded alike on every node; ``ray start --block``
  loses ``--block`` (the workers would otherwise outlive the job);
* ``module load`` lines are removed (their modules choose an image through the
  ``modules`` table), except on SkyPilot's Slurm infra, where the cluster still has them;
* environment creation (``conda create``, ``python -m venv``, ``pip install``, …) moves to
  ``setup``, after the environment statements that precede it; activation stays in
  ``run``.

Everything here reads text; nothing is executed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from slurm2sky._shell import (
    CONTAINER_COMMANDS,
    ENVIRONMENT_COMMANDS,
    RESERVED_WORDS,
    SLURM_COMMANDS,
    SPECIAL_WORDS,
    STATE_COMMANDS,
    WORKLOAD_LAUNCHERS,
    WRAPPER_WORDS,
    Command,
    Segment,
    Statement,
    is_assignment,
    scan,
    substitutions,
    unquote,
)
from slurm2sky.sbatch import parse_srun
from slurm2sky.sbatch.values import ValueProblem, parse_export

__all__ = ["SHIM", "BodyContext", "BodyResult", "Finding", "convert_body", "slurm_variables"]


@dataclass(frozen=True)
class Finding:
    """Something the converter reports about the body: ``line`` is 1-based in the
    script; ``kind``, ``message``, ``loses_meaning`` and ``field`` as in
    :class:`slurm2sky.convert.Note`."""

    line: int
    kind: str
    message: str
    loses_meaning: bool
    field: str = "run"


@dataclass
class BodyContext:
    """What the body's conversion needs from the header.

    ``nodes`` and ``tasks_per_node`` are the job's layout (sbatch-spec §7); ``values``
    the static values of ``SLURM_*`` variables (and simple assignments found in the
    body) used to read ``srun`` options written with variables; ``slurm_infra`` is true
    on SkyPilot's Slurm infra; ``module_rule`` returns the ``modules`` row for a module
    name (``None`` without one); ``mpi_module`` tells an MPI module.
    """

    body_line: int
    nodes: int
    tasks_per_node: int
    ntasks: int | None
    gpus_per_task: int | None
    slurm_infra: bool
    values: dict[str, str]
    module_rule: Callable[[str], object | None]
    mpi_module: Callable[[str], bool]


@dataclass
class BodyResult:
    """``run`` and ``setup`` (without the variables' preamble, which the converter adds),
    the ``modules`` loaded (line, name), the pyxis ``images`` of ``srun`` steps (line,
    image), what the body reports, and what ``run`` needs: the ``srun`` function
    (``shim``), a hostfile for MPI, ``$RANDOM`` seeded alike on every node."""

    run: str
    setup: str
    findings: list[Finding] = field(default_factory=list)
    modules: list[tuple[int, str]] = field(default_factory=list)
    images: list[tuple[int, str]] = field(default_factory=list)
    shim: bool = False
    hostfile: bool = False
    seed_random: bool = False
    head_only: list[tuple[int, int]] = field(default_factory=list)


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

HEAD_IP = '$(echo "$SKYPILOT_NODE_IPS" | head -n 1)'
HOSTFILE = "$HOME/.slurm2sky_hostfile"

_SLURM_VARIABLE = re.compile(r"SLURMD?_[A-Z0-9_]+")
_SCONTROL_HOSTNAMES = re.compile(
    r"scontrol\s+show\s+hostnames?\b"
    r"(?P<arg>[ \t]+(?!\||;|&|\))(?:\"[^\"]*\"|'[^']*'|[^\s|;&)`])+)?"
)
_NODELIST_ARG = re.compile(r"""^\s*["']?\$\{?SLURM_(?:JOB_)?NODELIST\}?["']?\s*$""")
#: The batch host's own name or address: what it means in the batch shell is the head
#: node's address (the batch shell runs on the first node, sbatch-spec §8).
_OWN_ADDRESS = re.compile(r"`\s*hostname(?:\s+-[A-Za-z]+)*\s*`|\$\{?HOSTNAME\}?(?![A-Za-z0-9_])")
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
_MODULE_INIT = re.compile(r"(?:modules?\.(?:sh|bash)|lmod\.(?:sh|bash)|/init/(?:bash|sh)\b)")
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
        self.ignored_srun: dict[str, int] = {}
        self.mpi_loaded = False
        self.notes_seen: set[str] = set()
        self.pending: list[tuple[Segment, Command]] = []
        self.srun_calls: dict[tuple[str, ...], object] = {}
        self.track_values = "srun" in body
        self.lines = body.split("\n")
        self.created = False
        self.activated: tuple[int, str] | None = None

    # -- reporting ----------------------------------------------------------------

    def line(self, segment: Segment, offset: int = 0) -> int:
        return self.ctx.body_line + segment.first + segment.text.count("\n", 0, offset)

    def find(self, line: int, kind: str, message: str, loses: bool, once: str = "") -> None:
        if once:
            if once in self.notes_seen:
                return
            self.notes_seen.add(once)
        self.result.findings.append(Finding(line, kind, message, loses))

    def edit(self, segment: Segment, start: int, end: int, text: str) -> None:
        self.edits.setdefault(id(segment), []).append(_Edit(start, end, text))

    # -- the statements -------------------------------------------------------------

    def run(self) -> BodyResult:
        if self.multi:
            statements = scan(self.body)
        else:
            # one node: only the commands the converter rewrites matter (and, when the body
            # creates an environment, those setup repeats before it)
            creates = _MAY_CREATE.search(self.body) is not None
            special = SPECIAL_WORDS if creates else _ONE_NODE_SPECIAL
            statements = scan(self.body, special, assignments=not (creates or self.track_values))
        classes: list[str] = []
        for statement in statements:
            classes.append(self.statement(statement))
        self.setup_and_run(statements, classes)
        self.wrap_up()
        return self.result

    def statement(self, statement: Statement) -> str:
        """Rewrite one statement; returns its class: ``blank``, ``env`` (every node),
        ``step`` (starts job steps: every node), ``mpi`` (head), ``create`` (to setup),
        ``work`` (head)."""
        if statement.blank:
            return "blank"
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
                self.find(
                    self.line(statement.segments[0]),
                    "approximation",
                    f"lines {self.span(statement)} start job steps, so they run on every node; "
                    "the other commands in them also run on every node, where the batch "
                    "shell ran them once. Move those to a separate statement if they must "
                    "run once.",
                    False,
                )
            return "step"
        if "create" in kinds and kinds <= {"create", "env"}:
            return "create"
        if "work" in kinds or "slurm" in kinds:
            return "work"
        return "env"

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
            return "env"
        raw = words[index][0]
        if raw in WRAPPER_WORDS:
            # wrappers: exec, time, nohup, env, timeout DURATION, …
            while index < count - 1 and unquote(words[index][0]) in WRAPPER_WORDS:
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
        if base not in _INTERESTING:
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
            self.created = True
            return "create"
        if base in WORKLOAD_LAUNCHERS:
            if self.multi:
                self.result.hostfile = True
                self.find(
                    self.line(segment, words[index][1]),
                    "mpi",
                    f"{base} runs on the head node and reaches the other nodes over SSH, "
                    f"with the nodes in {HOSTFILE} ({self.ctx.tasks_per_node} slots each). "
                    "The MPI library must be installed on every node (setup or image_id).",
                    False,
                    once="mpirun",
                )
            return "work"
        if base == "ray":
            if plain[1:2] == ["start"] and self.multi:
                self.ray_start(segment, words[index:])
                return "step"
            return "work"
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
            self.find(self.line(segment, words[index][1]), kind, message, True)
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
            self.activated = (self.line(segment, offset), what)

    # -- rewrites -----------------------------------------------------------------

    def text_rewrites(self, segment: Segment) -> None:
        """Rewrites found in the text of a line, also inside ``$( )``."""
        text = segment.text
        if "scontrol" in text and not self.ctx.slurm_infra:
            for match in _SCONTROL_HOSTNAMES.finditer(text):
                argument = match.group("arg")
                if argument is None or _NODELIST_ARG.match(argument):
                    replacement = 'echo "$SKYPILOT_NODE_IPS"'
                else:
                    replacement = f"echo {argument.strip()} | tr , '\\n'"
                self.edit(segment, match.start(), match.end(), replacement)
                self.find(
                    self.line(segment, match.start()),
                    "rewritten",
                    "scontrol show hostnames becomes the node IPs in SKYPILOT_NODE_IPS (one "
                    "per line, head node first), which every node can reach.",
                    False,
                    once="scontrol",
                )
        if "srun" in text and "$(" in text:
            for start, end, inner in substitutions(text):
                if re.match(r"\s*srun\s", inner):
                    self.substituted_srun(segment, start, end, inner)
        if not self.ctx.slurm_infra and "m" in text and _MODULE_SUBSTITUTION.search(text):
            self.find(
                self.line(segment),
                "module",
                "a command substitution runs the module command, which SkyPilot nodes do not "
                "have: its output is empty there. Remove it, or print what the image has "
                "(nvcc --version, pip list) instead.",
                False,
                once="module-substitution",
            )
        if self.multi and "RANDOM" in text and _RANDOM.search(text):
            self.result.seed_random = True
            self.find(
                self.line(segment),
                "approximation",
                "$RANDOM is seeded from SKYPILOT_TASK_ID, so every node draws the same "
                "numbers, as the batch shell drew them once (a port or rendezvous id then "
                "agrees across the nodes).",
                False,
                once="random",
            )

    def assignment(self, segment: Segment, command: Command, first: int = 0) -> None:
        """Assignments (alone, or after ``export``/``declare``): record simple values for
        srun options; with several nodes, the batch host's own address becomes the head
        node's."""
        for word, start, _end in command.words[first:]:
            if not is_assignment(word):
                continue
            name, _, value = word.partition("=")
            if name.endswith("+"):
                continue
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
                    )
            if self.multi and (
                "$$" in value
                or (
                    "$(" in value
                    and any(_PER_NODE.search(inner) for _, _, inner in substitutions(value))
                )
            ):
                self.find(
                    self.line(segment, start),
                    "per-node-value",
                    f"{name} is computed on each node and may differ between them (the batch "
                    "shell computed it once): give it a fixed value if the nodes must agree "
                    "on it (a port, a run name).",
                    True,
                    once=f"per-node-{name}",
                )

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
        for name in names:
            self.result.modules.append((line, name))
            if self.ctx.mpi_module(name):
                self.mpi_loaded = True
        if self.ctx.slurm_infra:
            return "env"
        self.remove_command(segment, command)
        return "removed"

    def srun(self, segment: Segment, command: Command, index: int) -> str:
        """One ``srun`` step: stripped to its command, kept for the ``srun`` function,
        or turned into ``mpirun``."""
        words = command.words
        argv = tuple(unquote(w) for w, _, _ in words[index + 1 :])
        call = self.srun_calls.get(argv)
        if call is None:
            call = self.srun_calls[argv] = parse_srun(argv)
        start = words[index][1]
        line = self.line(segment, start)
        if not call.command:
            self.find(
                line,
                "not-converted",
                "srun without a command starts nothing here; it is kept as written.",
                True,
            )
            return "step"
        command_at = index + 1 + len(argv) - len(call.command)
        command_start = words[command_at][1]
        if (
            self.multi
            and call.command[0].rsplit("/", 1)[-1] == "ray"
            and call.command[1:2] == ("start",)
        ):
            self.ray_start(segment, words[command_at:])
        options = call.options
        for problem in call.problems:
            self.find(line, "srun", f"srun: {problem}; the option is ignored.", False)
        for name in options:
            if name not in _SRUN_GEOMETRY and name not in _SRUN_HARMLESS:
                self.ignored_srun.setdefault(name, line)
        image = options.get("container-image")
        if image:
            self.result.images.append((line, image))
        environment = self.step_environment(
            options.get("export"),
            _original_word([w for w, _, _ in words[index:]], call, "export"),
            line,
        )
        if "pty" in options:
            self.find(
                line,
                "not-converted",
                "srun --pty starts an interactive shell, which "
                "a batch task cannot have; use sky launch and ssh for that.",
                True,
            )

        def value(name: str) -> str | None:
            raw = options.get(name)
            if raw is None:
                return None
            resolved = self.resolve(raw)
            if resolved is not None:
                return resolved
            return _original_word([w for w, _, _ in words[index:]], call, name) or raw

        nodes = value("nodes")
        if nodes is not None and "-" in nodes and nodes.split("-")[0].isdigit():
            nodes = nodes.split("-")[0]  # a range: its minimum, like the header's --nodes
        ntasks = value("ntasks")
        per_node = value("ntasks-per-node")
        nodelist = value("nodelist")
        relative = value("relative")
        gpus = value("gpus-per-task")
        if gpus is not None and ":" in gpus:
            gpus = gpus.rsplit(":", 1)[-1]
        if gpus is None and self.ctx.gpus_per_task:
            gpus = str(self.ctx.gpus_per_task)
        step = _StepShape(nodes, ntasks, per_node, nodelist, relative, gpus)
        mpi = "mpi" in options and options.get("mpi") not in ("none", None)
        if mpi or self.mpi_loaded:
            total = self.static_tasks(step)
            if mpi or (total is None or total > 1):
                count = ntasks or (
                    str(total)
                    if total is not None
                    else f"$(( {per_node or self.ctx.tasks_per_node} * {nodes or self.ctx.nodes} ))"
                )
                self.edit(segment, start, command_start, f"mpirun -np {count} {environment}")
                self.result.hostfile = self.result.hostfile or self.multi
                self.find(
                    line,
                    "mpi",
                    "an MPI step: srun starts MPI ranks through Slurm's PMI, which SkyPilot "
                    "does not have, so the step becomes mpirun on the head node"
                    + (f", with the nodes in {HOSTFILE}" if self.multi else "")
                    + ". The MPI library must be installed (setup or image_id).",
                    False,
                    once="mpi-step",
                )
                return "mpi"
        if self.whole_job_one_task_each(step):
            self.edit(segment, start, command_start, environment)
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
        self.edit(segment, start, command_start, "srun " + " ".join(normalized) + " " + environment)
        self.result.shim = True
        return "step"

    def step_environment(self, export: str | None, written: str | None, line: int) -> str:
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
            self.find(line, "srun", f"srun --export: {problem}; the option is ignored.", False)
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

    def substituted_srun(self, segment: Segment, begin: int, end: int, inner: str) -> None:
        """``$(srun -w HOST hostname -I …)``: the address of one node, which only that
        node could print; every node now computes it."""
        from slurm2sky._shell import _tokens
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
            )

    # -- setup, run, head-only -------------------------------------------------------

    def setup_and_run(self, statements: list[Statement], classes: list[str]) -> None:
        last_create = max((i for i, c in enumerate(classes) if c == "create"), default=-1)
        setup: list[str] = []
        if last_create >= 0:
            moved: list[int] = []
            for i in range(last_create + 1):
                if classes[i] == "create":
                    setup.append(self.text(statements[i]))
                    moved.append(i)
                elif classes[i] == "env" and _context(statements[i]):
                    setup.append(self.text(statements[i]))
            first = statements[moved[0]]
            self.find(
                self.ctx.body_line + first.first,
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
        self.result.setup = "\n".join(part for part in setup if part.strip())
        parts: list[str] = []
        head: list[str] = []
        head_lines: list[int] = []

        def flush() -> None:
            if not head:
                return
            text = "\n".join(head)
            body = text.rstrip("\n ")
            if body.strip():
                parts.append('if [ "${SKYPILOT_NODE_RANK:-0}" = 0 ]; then  # the head node only')
                parts.append(body)
                parts.append("fi" + text[len(body) :].replace(" ", ""))
                self.result.head_only.append((head_lines[0], head_lines[-1]))
            else:
                parts.append(text)
            head.clear()
            head_lines.clear()

        for statement, kind in zip(statements, classes, strict=True):
            if kind == "moved":
                continue
            text = self.text(statement)
            if not self.multi:
                parts.append(text)
                continue
            if kind in ("work", "mpi") or (kind == "blank" and head):
                head.append(text)
                if kind != "blank":
                    last = statement.last  # the last line with a command, not blank lines after it
                    while last > statement.first and self.lines[last].strip()[:1] in ("", "#"):
                        last -= 1
                    head_lines.extend(
                        (self.ctx.body_line + statement.first, self.ctx.body_line + last)
                    )
                continue
            flush()
            parts.append(text)
        flush()
        run = "\n".join(parts)
        self.result.run = _tidy(run)
        if self.result.head_only:
            ranges = ", ".join(f"{a}-{b}" if b > a else str(a) for a, b in self.result.head_only)
            self.find(
                self.result.head_only[0][0],
                "head-only",
                f"lines {ranges} run on the head node only, as the batch shell ran them once; "
                "the other lines run on every node. Each node has its own disk: files those "
                "lines write are on the head node only.",
                False,
            )

    def text(self, statement: Statement) -> str:
        edits, removed = self.edits, self.removed
        for segment in statement.segments:
            if id(segment) in edits or id(segment) in removed:
                break
        else:
            first, last = statement.segments[0].first, statement.segments[-1].end
            return self.lines[first] if first == last else "\n".join(self.lines[first : last + 1])
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
            if segment.heredoc:
                lines.append(segment.heredoc)
        return "\n".join(lines)

    def wrap_up(self) -> None:
        if self.ignored_srun:
            names = ", ".join(f"--{name}" for name in self.ignored_srun)
            self.find(
                min(self.ignored_srun.values()),
                "srun",
                f"srun options without an equivalent are dropped ({names}): each node runs "
                "its tasks directly, with the resources of the whole node.",
                False,
            )
        for line, _ in self.result.images[:1]:
            self.find(
                line,
                "container",
                "srun --container-image runs the step in a container; on SkyPilot the whole "
                "task runs in image_id, which takes the image.",
                False,
            )
        if self.activated is not None and not self.created:
            line, what = self.activated
            self.find(
                line,
                "environment",
                f"run activates the environment {what}, which the cluster had and a new "
                "SkyPilot node does not: create it in setup (python -m venv / conda create, "
                "then pip install) or use an image that has it.",
                True,
            )
        path = next(
            (
                m
                for m in _CLUSTER_PATH.finditer(self.body)
                if m.start() == 0 or not re.match(r"[\w.$/:-]", self.body[m.start() - 1])
            ),
            None,
        )
        if path:
            self.find(
                self.ctx.body_line + self.body.count("\n", 0, path.start()),
                "cluster-path",
                f"the script uses the cluster's shared file systems ({path.group().rstrip('/')}…), "
                "which SkyPilot nodes do not have: bring the data with file_mounts or a "
                "volume, and write results to a bucket or volume.",
                True,
            )


_SRUN_GEOMETRY = frozenset(
    {
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
        "exclude",
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
        "container-workdir",
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
#: (cd), which variables and modules, which environment is active.
_SETUP_CONTEXT = STATE_COMMANDS | {""}


def _context(statement: Statement) -> bool:
    """A simple statement that only sets the environment (see :data:`_SETUP_CONTEXT`)."""
    if statement.compound or any(segment.work for segment in statement.segments):
        return False
    return all(command.name in _SETUP_CONTEXT for command in statement.commands())


def _tidy(text: str) -> str:
    """No leading blank lines, no more than one blank line in a row, one final newline."""
    text = re.sub(r"\n{3,}", "\n\n", text.strip("\n"))
    return text + "\n" if text else ""


def convert_body(body: str, context: BodyContext) -> BodyResult:
    """``run`` and ``setup`` for a batch script body (see the module's docstring)."""
    return _Body(body, context).run()
