"""Every converted output passes :mod:`slurm2sky.validate` with both engines, and the
engines agree on it.

Outputs: every script of the dev corpus (``../shared/corpus/sbatch-dev/``, read in
place, never copied), and a set of small scripts written here that reach the rest of the
converter's output space: every options row's example and every option of the
option categories (on the default infra and on SkyPilot's Slurm infra, where they pass
through ``config.slurm.sbatch_options``), every GPU type and module image of the
mappings, multi-node layouts, arrays, containers, partition maps, ``--infra`` values,
``--gpu-type``, time limits, ``--export`` lists, odd names and values (YAML 1.1 words,
control and non-ASCII characters, bytes that are not UTF-8).

Each output is checked four ways: the YAML text (:func:`~slurm2sky.emit.emit_yaml`) with
the ``embedded`` and the ``skypilot`` engine, and the task of
:func:`~slurm2sky.emit.as_data` (after a JSON round trip, as ``--format json`` writes
it) with both engines. All four must say valid, or all four "valid, needs --env" with
the same names, and then the text is valid with those ``--env`` values on both engines.

Speed: two ``skypilot`` workers serve every check, one for the texts (the engine of
:func:`~slurm2sky.validate.get_engine`) and one for the data, each driven from a thread
beside the conversion and the embedded checks. The API checks one text at a time, so
texts are sent as chains of :data:`CHAIN` documents (one pipeline
text: SkyPilot 0.14.1's ``dag_utils`` loads each document with
``Task.from_yaml_config``, as for a text of its own); a chain SkyPilot accepts means each
document is accepted, and the documents of a chain it rejects are checked one by one.
Documents a chain could read differently (null envs, whose ``needs_env`` is per text; a
first document that could be a pipeline header; a ``---``/``...`` line) are always
checked alone.

The ``skypilot`` engine needs ``$SLURM2SKY_SKYPILOT_PYTHON`` (or ``import sky`` here):
without it these tests are skipped, and under CI (``CI`` set) they fail.
"""

from __future__ import annotations

import json
import queue
import re
import sys
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from convert_helpers import conv
from corpus import corpus, needs_corpus
from skypilot_python import skypilot_python, unavailable
from slurm2sky.convert import SKYPILOT_PROTECTED_SBATCH_OPTIONS, Conversion, convert
from slurm2sky.emit import as_data, emit_yaml
from slurm2sky.mappings import load_mappings
from slurm2sky.sbatch import option_table, parse_script
from slurm2sky.validate import (
    Engine,
    EngineUnavailable,
    Verdict,
    get_engine,
    validate_data,
    validate_text,
)
from slurm2sky.validate.skypilot import SkyPilotEngine

#: documents per chain text sent to the skypilot engine
CHAIN = 64
#: the four checks of an output (``--env`` checks are added where envs are null)
CHECKS = ("embedded text", "skypilot text", "embedded data", "skypilot data")
ENV_CHECKS = ("embedded text --env", "skypilot text --env")


# --------------------------------------------------------------------------- the engine


@pytest.fixture(scope="module")
def skypilot_engines() -> Iterator[tuple[Engine, Engine]]:
    """Two skypilot engines (two worker processes, one per core): the shared one of
    :func:`~slurm2sky.validate.get_engine` checks the texts, a second one the data."""
    python = skypilot_python()
    if python is None:
        unavailable("no Python with skypilot (set SLURM2SKY_SKYPILOT_PYTHON)")
    engines = (get_engine("skypilot", python=python), SkyPilotEngine(python=python))
    try:
        for engine in engines:
            engine.start()  # type: ignore[attr-defined]
    except EngineUnavailable as error:
        unavailable(str(error))
    yield engines
    for engine in engines:
        engine.close()


# --------------------------------------------------------------------------- outputs


@dataclass(frozen=True)
class Output:
    """One converted script: its YAML text and its JSON data's task."""

    id: str
    text: str
    data: Any
    launch: tuple[str, ...]


def _output(id: str, conversion: Conversion) -> Output:
    data = json.loads(json.dumps(as_data(conversion)))
    return Output(id, emit_yaml(conversion), data["task"], tuple(data["launch"]))


def _null_envs(task: Any) -> list[str]:
    envs = task.get("envs") if isinstance(task, dict) else None
    return [str(k) for k, v in envs.items() if v is None] if isinstance(envs, dict) else []


_DOCUMENT_MARKER = re.compile(r"^(?:---|\.\.\.)(?:[ \t]|$)", re.MULTILINE)


def _chainable(output: Output) -> bool:
    """Whether the text reads the same inside a chain (see the module docstring)."""
    data = output.data
    return (
        isinstance(data, dict)
        and not set(data) <= {"name", "execution"}
        and "execution" not in data
        and not _null_envs(data)
        and not _DOCUMENT_MARKER.search(output.text)
    )


@dataclass
class Checked:
    output: Output
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    chained: bool = False


class _SkyPilotSide(threading.Thread):
    """The skypilot checks of the texts (``data=False``) or of the data, in a thread:
    the worker process runs SkyPilot while this process converts and runs the embedded
    checks."""

    def __init__(self, engine: Engine, *, data: bool) -> None:
        super().__init__(daemon=True)
        self.engine = engine
        self.data = data
        self.inbox: queue.Queue[Output | None] = queue.Queue()
        self.verdicts: dict[str, dict[str, Verdict]] = {}
        self.chained: set[str] = set()
        self.chains = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            pending: list[Output] = []
            while (output := self.inbox.get()) is not None:
                found = self.verdicts[output.id] = {}
                if self.data:
                    found["skypilot data"] = validate_data(output.data, "task", engine=self.engine)
                elif _chainable(output):
                    pending.append(output)
                    if len(pending) == CHAIN:
                        self._chain(pending)
                        pending = []
                else:
                    self._alone(output)
            if pending:
                self._chain(pending)
        except BaseException as error:  # re-raised by the test's thread
            self.error = error

    def _chain(self, outputs: list[Output]) -> None:
        self.chains += 1
        text = "---\n".join(output.text for output in outputs)
        verdict = validate_text(text, "task", engine=self.engine, source="<chain>")
        if verdict.status != "valid":
            for output in outputs:
                self._alone(output)
            return
        for output in outputs:
            self.verdicts[output.id]["skypilot text"] = Verdict("task", verdict.engine, ())
            self.chained.add(output.id)

    def _alone(self, output: Output) -> None:
        found = self.verdicts[output.id]
        found["skypilot text"] = validate_text(
            output.text, "task", engine=self.engine, source=output.id
        )
        names = _null_envs(output.data)
        if names:
            found["skypilot text --env"] = validate_text(
                output.text,
                "task",
                env=dict.fromkeys(names, "x"),
                engine=self.engine,
                source=output.id,
            )


@dataclass
class Results:
    checked: dict[str, Checked]
    chains: int

    def chained(self) -> int:
        return sum(1 for c in self.checked.values() if c.chained)


def check_all(outputs: Iterable[Output], engines: tuple[Engine, Engine]) -> Results:
    """Every output through both engines (see the module docstring); ``outputs`` may be
    a generator (the conversion then overlaps the skypilot checks). ``engines``: the
    skypilot engines for the texts and for the data."""
    sides = (_SkyPilotSide(engines[0], data=False), _SkyPilotSide(engines[1], data=True))
    interval = sys.getswitchinterval()
    sys.setswitchinterval(0.0005)  # the workers' answers wait less for the GIL
    for side in sides:
        side.start()
    checked: dict[str, Checked] = {}
    embedded = get_engine("embedded")
    try:
        for output in outputs:
            assert output.id not in checked, output.id
            for side in sides:
                side.inbox.put(output)
            found = checked[output.id] = Checked(output)
            found.verdicts["embedded text"] = validate_text(
                output.text, "task", engine=embedded, source=output.id
            )
            found.verdicts["embedded data"] = validate_data(output.data, "task", engine=embedded)
            names = _null_envs(output.data)
            if names:
                found.verdicts["embedded text --env"] = validate_text(
                    output.text,
                    "task",
                    env=dict.fromkeys(names, "x"),
                    engine=embedded,
                    source=output.id,
                )
    finally:
        for side in sides:
            side.inbox.put(None)
            side.join()
        sys.setswitchinterval(interval)
    for side in sides:
        if side.error is not None:
            raise side.error
    for id, found in checked.items():
        for side in sides:
            found.verdicts.update(side.verdicts[id])
        found.chained = id in sides[0].chained
    return Results(checked, sides[0].chains)


def problems(checked: Checked) -> list[str]:
    """What is wrong with one output: a check that rejects it, or engines that disagree."""
    verdicts = checked.verdicts
    found = []
    for name in CHECKS:
        if verdicts[name].status == "invalid":
            found.append(f"{name} rejects it")
    outcomes = {name: (verdicts[name].status, verdicts[name].needs_env) for name in CHECKS}
    if len(set(outcomes.values())) > 1:
        found.append(f"the checks disagree: {outcomes}")
    for name in ENV_CHECKS:
        if name in verdicts and verdicts[name].status != "valid":
            found.append(f"{name} (the null envs given) is not valid")
    return found


_MARK = re.compile(r"\bline (\d+), column \d+")


def explain(checked: Checked) -> str:
    """The output's problems, every check's verdict and issues, and the YAML around the
    lines the issues name."""
    output = checked.output
    lines = [f"{output.id}: " + "; ".join(problems(checked))]
    wanted: set[int] = set()
    for name, verdict in checked.verdicts.items():
        lines.append(f"  {name}: {verdict.summary()}")
        for issue in verdict.issues:
            lines.append(f"    {issue.format(output.id)} [{issue.path or 'no field'}]")
            # the engine's position, and the marks SkyPilot's YAML errors quote
            marks = [issue.line] + [int(n) for n in _MARK.findall(issue.message)]
            for line in marks:
                if line > 0:
                    wanted.update(range(line - 1, line + 2))
    text = output.text.splitlines()
    shown = sorted(n for n in wanted if 1 <= n <= len(text)) or range(1, min(len(text), 12) + 1)
    lines.append("  YAML:")
    lines.extend(f"    {n:4}| {text[n - 1]}" for n in shown)
    return "\n".join(lines)


# --------------------------------------------------------------------------- the corpus


def _corpus_outputs() -> Iterator[Output]:
    for name, text in corpus():
        yield _output(name, convert(parse_script(text, path=name)))


@pytest.fixture(scope="module")
def corpus_results(skypilot_engines: tuple[Engine, Engine]) -> Results:
    return check_all(_corpus_outputs(), skypilot_engines)


@needs_corpus
def test_every_corpus_output_passes_both_engines(corpus_results: Results) -> None:
    checked = corpus_results.checked
    assert len(checked) > 4000
    failures = [explain(c) for c in checked.values() if problems(c)]
    assert not failures, f"{len(failures)} outputs:\n" + "\n".join(failures[:20])


@needs_corpus
def test_corpus_outputs_reach_every_verdict_that_passes(corpus_results: Results) -> None:
    """Both passing verdicts occur (null envs from ``--export=NAME``), and the chains
    carry nearly every text to SkyPilot."""
    checked = corpus_results.checked.values()
    statuses = Counter(c.verdicts["skypilot text"].status for c in checked)
    assert statuses["valid"] > 4000 and statuses["needs_env"] > 0, statuses
    assert corpus_results.chained() > 0.95 * len(corpus_results.checked)
    assert corpus_results.chains < len(corpus_results.checked) / (CHAIN / 2)


# --------------------------------------------------------------------------- varied options


@dataclass(frozen=True)
class Case:
    """A script written here, and the options it is converted with
    (:func:`slurm2sky.convert.convert` keyword arguments, sbatch's command line)."""

    id: str
    text: str
    options: dict[str, Any] = field(default_factory=dict)
    command_line: tuple[str, ...] = ()

    def output(self) -> Output:
        return _output(self.id, conv(self.text, command_line=self.command_line, **self.options))


#: values for the option categories' options (``x`` otherwise; a flag when the option
#: takes no argument): forms sbatch accepts, so that they pass through on Slurm infra
CATEGORY_VALUES: dict[str, str | None] = {
    "mail-type": "END,FAIL", "hint": "nomultithread", "signal": "B:USR1@60",
    "open-mode": "append", "nodelist": "node[1-2]", "exclude": "node3", "time-min": "30:00",
    "ntasks-per-socket": "2", "ntasks-per-core": "1", "ntasks-per-gpu": "2",
    "threads-per-core": "1", "cores-per-socket": "8", "sockets-per-node": "2",
    "gpus-per-socket": "1", "begin": "now+1hour", "deadline": "2030-01-01T00:00:00",
    "dependency": "afterok:123:456", "priority": "10", "nice": "5",
    "distribution": "block:cyclic", "cpu-freq": "high", "gpu-freq": "high",
    "mem-bind": "local", "gpu-bind": "closest", "licenses": "matlab:1",
    "reservation": "resv1", "comment": "a comment with spaces", "account": "proj",
    "qos": "high", "constraint": "a100&ib", "prefer": "h100", "switches": "1@10:00",
    "extra-node-info": "2:8:1", "delay-boot": "10", "kill-on-invalid-dep": "yes",
    "core-spec": "2", "thread-spec": "2", "network": "sn_all", "tres-per-task": "cpu:2",
    "gres-flags": "enforce-binding", "nodefile": "/tmp/nodes",
    "tres-bind": "gres/gpu:closest", "acctg-freq": "task=30", "get-user-env": "10L",
    "container-mounts": "/data:/data", "container-env": "A,B",
}  # fmt: skip

#: values SkyPilot or YAML 1.1 could read as something else than a string
ODD_VALUES = {
    "yes": "yes", "no": "no", "on": "on", "off": "off", "true": "true", "null": "null",
    "tilde": "~", "float": "1e3", "hex": "0x1F", "sexagesimal": "12:30", "octal": "010",
    "underscore": "1_000", "inf": ".inf", "dash": "-", "colon-space": "a: b",
    "space-hash": "a #b", "at": "@x", "percent": "%j", "star": "*", "anchor": "&a",
    "tag": "!tag", "flow-seq": "[x]", "flow-map": "{x}", "backslash": "a\\\\tb",
    "spaces": "a  b ", "unicode": "\u00e9t\u00e9 \u2603",
}  # fmt: skip

#: characters a script may hold (see NON_UTF8 for bytes that are not UTF-8)
CHARACTERS = {
    "del": "\x7f", "c1": "\x80", "nel": "\x85", "c1-9f": "\x9f", "nbsp": "\xa0",
    "line-separator": "\u2028", "paragraph-separator": "\u2029", "bom": "\ufeff",
    "fffe": "\ufffe", "emoji": "\U0001f600", "nul": "\x00", "esc": "\x1b", "bell": "\x07",
    "vt": "\x0b", "ff": "\x0c", "cr": "\r", "tab": "\t",
}  # fmt: skip

#: Where a script's text lands in the task: (id, script, options) with {} for the text.
PLACES: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("run", "echo 'a{}b'\n", {}),
    ("name", "#SBATCH -J 'a{}b'\necho\n", {}),
    ("export", "#SBATCH --export=ALL,V='a{}b'\necho $V\n", {}),
    ("setup", "pip install 'a{}b'\nsrun x\n", {}),
    ("sbatch-option", "#SBATCH --comment='a{}b'\necho\n", {"infra": "slurm/c"}),
)

#: A byte that is not UTF-8 (Latin-1 e acute): read as a surrogate escape, as the
#: command line and tests/corpus.py read scripts.
NON_UTF8 = b"caf\xe9".decode("utf-8", "surrogateescape")

#: Outputs SkyPilot rejects or the engines disagree on, with the reason (strict xfail:
#: a fix makes the test fail until the entry is removed). None today: bytes that are not
#: UTF-8 become U+FFFD in the task, with an ``encoding`` warning (libyaml, which SkyPilot
#: reads task files with, refuses the ``\\uDCxx`` escapes that would keep them).
KNOWN_FAILURES: dict[str, str] = {}

SCRIPT = "#SBATCH -p batch -N 2 -c 4 --mem=8G --gres=gpu:1 --time=1:00:00 --account=a\nsrun x\n"
EVERYTHING = """\
#SBATCH -J all -p batch -N 2 --ntasks-per-node=4 -c 8 --mem=64G --gres=gpu:a100:4
#SBATCH --time=2-00:00:00 --array=0-3 --export=ALL,SEED=1,DATA --account=a --qos=q
#SBATCH --mail-type=END --mail-user=a@b --constraint=a100 --exclusive --tmp=100G
#SBATCH --container-image=ubuntu:22.04 --chdir=sub -o out.%j
module load cuda/12.1
python -m venv env
pip install -r requirements.txt
srun python x.py $SLURM_ARRAY_TASK_ID
"""


def _varied_cases() -> list[Case]:
    mappings = load_mappings()
    table = option_table()
    cases: list[Case] = []

    def add(id: str, text: str, command_line: tuple[str, ...] = (), **options: Any) -> None:
        cases.append(Case(id, text, options, command_line))

    for row in mappings.options:  # every options row, on both sides
        add(f"example-{row.option}", f"#SBATCH {row.example}\nsrun python x.py\n")
        add(
            f"example-{row.option}-slurm",
            f"#SBATCH {row.example}\nsrun python x.py\n",
            infra="slurm/c/p",
        )
    for category in mappings.option_categories:
        for option in category.options:
            if option not in table:
                continue
            value = CATEGORY_VALUES.get(option, None if table[option]["argument"] == 0 else "x")
            directive = f"--{option}" if value is None else f"--{option}={value}"
            add(f"option-{option}", f"#SBATCH {directive}\necho\n")
            add(f"option-{option}-slurm", f"#SBATCH {directive}\necho\n", infra="slurm/c")
    for row in mappings.gpu_types:  # every accelerator: by GRES type, by --gpu-type
        pattern = row.slurm[0].replace("*", "").replace("[-_.]", "-").replace("[-_]", "_")
        add(f"gres-type-{row.id}", f"#SBATCH -N 2 --gres=gpu:{pattern}:4\nsrun python x.py\n")
        add(f"gpu-type-{row.id}", "#SBATCH --gpus-per-node=2\necho\n", gpu_type=row.skypilot)
        add(
            f"gpus-type-{row.id}-slurm",
            f"#SBATCH --gpus={pattern}:8 -N 2 -p gpu\necho\n",
            infra="slurm/c",
        )
    for row in mappings.modules:  # every module row (an image, or a note)
        module = row.module[0].replace("*", "")
        add(f"module-{row.id}", f"module load {module}\nsrun python x.py\n")
        add(
            f"module-{row.id}-slurm", f"module load {module}\nsrun python x.py\n", infra="slurm/c/p"
        )
    for key, value in ODD_VALUES.items():
        add(f"odd-name-{key}", f"#SBATCH -J '{value}'\necho $SLURM_JOB_NAME\n")
        add(f"odd-export-{key}", f"#SBATCH --export=ALL,V='{value}'\necho $V\n")
        add(
            f"odd-sbatch-option-{key}",
            f"#SBATCH --comment='{value}' --account='{value}'\necho\n",
            infra="slurm/c",
        )
        add(f"odd-partition-{key}", f"#SBATCH -p '{value}'\necho\n", infra="slurm/c")
        add(f"odd-workdir-{key}", "echo\n", workdir=f"/home/{value}")
    for key, character in CHARACTERS.items():
        for place, script, options in PLACES:
            add(f"character-{key}-{place}", script.format(character), **options)
    for place, script, options in PLACES:
        add(f"non-utf8-{place}", script.format(NON_UTF8), **options)
    add("non-utf8-script", f"#SBATCH -J {NON_UTF8}\necho {NON_UTF8}\n")
    for name in ("", "x" * 200, "run#2", "a b", "-lead", "123", "1.5", "UPPER", "a/b", "a.b-c_d"):
        add(f"job-name-{name[:12] or 'empty'}", f"#SBATCH -J '{name}'\necho\n")
    for limit in (
        "90", "30:00", "48:00:00", "2-12", "1-00:30", "7-00:00:00", "UNLIMITED", "infinite",
        "-1", "2-", "1h", "0", "00:00:01", "1-0", "60:00:00",
    ):  # fmt: skip
        add(f"time-{limit}", f"#SBATCH --time={limit}\necho\n")
        add(f"time-{limit}-slurm", f"#SBATCH --time={limit}\necho\n", infra="slurm/c/p")
    for export in (
        "ALL", "NONE", "A,B=1", "ALL,SEED=1,DATA", "NIL", "ALL,1BAD=2", "ALL,A-B=1",
        "ALL,PATH=/x:$PATH", "ALL,A=,B", "ALL,SKYPILOT_X=1", "ALL,A=a=b", "A,B,C",
    ):  # fmt: skip
        add(f"export-{export}", f"#SBATCH --export={export}\necho $A $B\n")
    for gpus in (
        "--gpus=3 -N 2", "--gpus=1 -N 4", "--gres=gpu:0", "--gres=gpu:2(S:0)",
        "--gpus-per-node=volta:3,kepler:1", "--gres=nvme:1,gpu:v100:2", "--gres=gpu:3g.40gb:1",
        "--gpus-per-task=2 -n 3", "--gpus=a100:4 --gpus-per-node=2", "--gres=gpu:a100:1000",
        "--mem-per-gpu=40G --gpus=2", "--gres=gpu:tesla:2", "--gres=gpu:2 --constraint=a100",
        "--gres=gpu:mi250x:8 -N 16", "--gpus-per-task=1 --ntasks-per-node=8 -N 2 -c 12",
    ):  # fmt: skip
        add(f"gpus-{gpus}", f"#SBATCH {gpus}\nsrun python x.py\n")
        add(f"gpus-{gpus}-slurm", f"#SBATCH {gpus}\nsrun python x.py\n", infra="slurm/c")
    for size in (
        "--mem=0", "--mem=1K", "--mem=1", "--mem=100T", "--mem-per-cpu=500M -c 3", "--tmp=1",
        "--tmp=10M", "--tmp=1T", "--tmp=0", "-c 100000", "-n 1000", "-N 1000", "-N 2-4",
        "-N 0", "-N 2 --ntasks-per-node=4 -c 8", "--mincpus=16 -c 2", "-n 7 -N 2",
    ):  # fmt: skip
        add(f"size-{size}", f"#SBATCH {size}\nsrun x\n")
        add(f"size-{size}-slurm", f"#SBATCH {size}\nsrun x\n", infra="slurm/c/p")
    for image in (
        "ubuntu:22.04", "nvcr.io\\#nvidia/pytorch:24.01-py3", "nvcr.io/nvidia/pytorch:24.01-py3",
        "/x.sqsh", "docker://ubuntu", "ubuntu", "registry:5000/a/b:tag", f"a@sha256:{'0' * 64}",
    ):  # fmt: skip
        add(f"container-image-{image}", f"#SBATCH --container-image={image}\nsrun python x.py\n")
        add(f"srun-container-image-{image}", f"srun --container-image={image} python x.py\n")
        add(
            f"container-image-{image}-slurm",
            f"#SBATCH --container-image={image}\necho\n",
            infra="slurm/c",
        )
    for partitions, mapping in (
        ("gpu", {"gpu": "kubernetes/gpu-context"}), ("a,b", {"b": "aws"}),
        ("gpu", {"gpu": "gcp/us-central1"}), ("gpu", {"gpu": "aws/us-east-1/us-east-1a"}),
        ("gpu", {"gpu": "slurm/c/gpu"}), ("gpu", {"gpu": "slurm/c"}), ("gpu", {"gpu": "k8s"}),
        ("gpu", {"gpu": "ssh/pool"}), ("gpu", {"other": "aws"}),
        ("gpu,cpu", {"cpu": "slurm/c/cpu"}),
    ):  # fmt: skip
        target = next(iter(mapping.values()))
        text = f"#SBATCH -p {partitions} -N 2 --gres=gpu:2 --account=p --time=1:00:00\nsrun x\n"
        add(f"partition-map-{partitions}-{target}", text, partition_map=mapping)
        add(
            f"partition-map-{partitions}-{target}-slurm",
            text,
            partition_map=mapping,
            infra="slurm/c",
        )
    for infra in (
        "aws", "gcp", "azure", "kubernetes", "kubernetes/ctx", "k8s/ctx", "slurm", "slurm/c",
        "slurm/c/p", "ssh/pool", "aws/us-east-1", "aws/us-east-1/us-east-1a", "runpod",
        "*/us-east-1", "lambda", "nebius",
    ):  # fmt: skip
        add(f"infra-{infra}", SCRIPT, infra=infra)
    for array in ("0-15:4%2", "1,3,5", "1-100", "7", "1-9:2,20,40-50%5", "0-3", "0-4095"):
        text = f"#SBATCH --array={array} -N 2\nsrun python w.py $SLURM_ARRAY_TASK_ID\n"
        add(f"array-{array}", text)
        add(f"array-{array}-slurm", text, infra="slurm/c")
    for workdir in ("/home/me", "/home/me/my project", "~/x", "rel/dir", "/"):
        add(f"workdir-{workdir}", "#SBATCH --chdir=sub\necho\n", workdir=workdir)
        add(f"workdir-{workdir}-chdir-abs", "#SBATCH --chdir=/abs\necho\n", workdir=workdir)
    add("wrap", "", ("--wrap=python train.py --fast",))
    add("wrap-nodes", "", ("--wrap=srun hostname", "-N", "3"))
    add("command-line-overrides", "#SBATCH --mem=4G -N 2\necho\n", ("--mem=8G", "-N", "3"))
    add("python-shebang", "#!/usr/bin/env python3\n#SBATCH -N 2\nprint('hello')\n")
    add("perl-shebang", "#!/usr/bin/perl\n#SBATCH -N 2\nprint 'hi';\n")
    add("sh-shebang", "#!/bin/sh\n#SBATCH -N 2\nsrun hostname\n")
    add("empty", "")
    add("only-directives", "#SBATCH -N 2\n")
    add("crlf", "#!/bin/bash\r\n#SBATCH -N 2\r\nsrun hostname\r\n")
    add("leading-blank-line", "\n#!/bin/bash\n#SBATCH -N 2\necho\n")
    add("hetjob", "#SBATCH -N 1\n#SBATCH hetjob\n#SBATCH -N 2\nsrun x\n")
    add(
        "setup-split",
        "python -m venv env\nsource env/bin/activate\npip install -r r.txt\nsrun python t.py\n",
    )
    add("conda-activate", "conda activate myenv\npython x.py\n")
    add(
        "torchrun-multi-node",
        "#SBATCH -N 4 --ntasks-per-node=1 --gpus-per-node=8 -c 64 --mem=0\n"
        "export MASTER_ADDR=$(scontrol show hostnames $SLURM_JOB_NODELIST | head -n1)\n"
        "srun torchrun --nnodes $SLURM_NNODES --node_rank $SLURM_PROCID train.py\n",
    )
    add(
        "mpi",
        "#SBATCH -N 2 -n 8\nmodule load openmpi\nsrun --mpi=pmix lmp -in in.x\nmpirun -np 8 prog\n",
    )
    add(
        "ray",
        "#SBATCH -N 3 --gpus-per-node=4\nsrun --nodes=1 -w $head ray start --head &\n"
        "sleep 5\npython drive.py\n",
    )
    add("everything", EVERYTHING, partition_map={"batch": "aws"}, workdir="/w")
    add("everything-slurm", EVERYTHING, infra="slurm/c", gpu_type="A100", workdir="/w")
    add(
        "everything-slurm-map",
        EVERYTHING,
        infra="slurm/c",
        partition_map={"batch": "slurm/c2/batch"},
    )
    return cases


VARIED = _varied_cases()


def _param(case: Case) -> Any:
    reason = KNOWN_FAILURES.get(case.id)
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    return pytest.param(case, id=case.id, marks=marks)


@pytest.fixture(scope="module")
def varied_results(skypilot_engines: tuple[Engine, Engine]) -> Results:
    return check_all((case.output() for case in VARIED), skypilot_engines)


@pytest.mark.parametrize("case", [_param(case) for case in VARIED])
def test_varied_output_passes_both_engines(case: Case, varied_results: Results) -> None:
    checked = varied_results.checked[case.id]
    assert not problems(checked), explain(checked)


def test_known_failures_are_cases() -> None:
    assert set(KNOWN_FAILURES) <= {case.id for case in VARIED}


def test_varied_cases_cover_the_output_space(varied_results: Results) -> None:
    """The cases reach every field the converter writes and every value the mappings
    give: accelerators, images, infra kinds, passed-through options, null envs, arrays."""
    mappings = load_mappings()
    tasks = [c.output.data for c in varied_results.checked.values()]
    resources = [t.get("resources", {}) for t in tasks]

    fields = {key for task in tasks for key in task}
    assert fields == {"name", "num_nodes", "resources", "envs", "workdir", "setup", "run", "config"}
    assert {key for r in resources for key in r} == {
        "infra", "accelerators", "cpus", "memory", "disk_size", "image_id",
    }  # fmt: skip
    accelerators = {r["accelerators"].split(":")[0] for r in resources if "accelerators" in r}
    assert {row.skypilot for row in mappings.gpu_types} <= accelerators
    images = {r["image_id"] for r in resources if "image_id" in r}
    assert {f"docker:{row.image}" for row in mappings.modules if row.image} <= images
    infras = {r["infra"].split("/")[0] for r in resources if "infra" in r}
    assert {"aws", "gcp", "kubernetes", "k8s", "slurm", "ssh"} <= infras
    passed = {
        key
        for task in tasks
        for key in task.get("config", {}).get("slurm", {}).get("sbatch_options", {})
    }
    table = option_table()
    expected = {
        option
        for category in mappings.option_categories
        if category.on_slurm == "sbatch-options"
        for option in category.options
        if option in table
    }
    assert (expected - SKYPILOT_PROTECTED_SBATCH_OPTIONS) | {"time"} <= passed
    assert max(task.get("num_nodes", 1) for task in tasks) > 2
    assert any(None in t.get("envs", {}).values() for t in tasks)
    launches = [c.output.launch for c in varied_results.checked.values()]
    assert any("--num-jobs" in line for launch in launches for line in launch)
    assert any("--env" in line for launch in launches for line in launch)
