"""Parity: the embedded engine and SkyPilot itself give the same verdict.

Every document of the parity corpus (``tests/parity/``: realistic task YAMLs in the
styles of SkyPilot's examples, a crafted invalid case for each pre-processing step and
semantic check, null-env cases with and without ``--env``, pipelines and job groups,
config and volume files, YAML 1.1 edge cases, duplicate keys) and every YAML code block
of the guide goes through both engines; the verdicts (valid / needs_env / invalid)
must be equal. The corpus files also state SkyPilot 0.14.1's verdict (``# expect:``),
which the embedded engine is held to even where SkyPilot is not installed.

The SkyPilot side runs only when a Python with skypilot is available:
``$SLURM2SKY_SKYPILOT_PYTHON``, else this interpreter if it can ``import sky`` (the
nox ``tests`` session installs the pinned skypilot). Otherwise those tests are skipped,
and under CI they fail (see ``skypilot_python.py``).

Corpus file format (leading comment lines):

``# expect: valid | needs_env | invalid``
    the verdict without ``--env``;
``# with-env: KEY=VALUE [KEY=VALUE...] -> valid | needs_env | invalid``
    a further run with those ``--env`` values (repeatable);
``# why: ...``
    the rule the document exercises.

A file's kind is its folder's: ``config/`` → config, ``volume/`` → volume, any other
→ task. Guide blocks: rST ``.. code-block:: yaml`` and MyST ```` ```yaml ```` /
```` ```{code-block} yaml ```` in ``docs/**/*.rst|md``; a first line ``# skypilot:
task | config | volume | partial | none`` sets the kind (``partial``/``none`` are not
checked), otherwise it is inferred.
"""

from __future__ import annotations

import copy
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from skypilot_python import skypilot_python, unavailable
from slurm2sky.validate import Verdict, get_engine, validate_data, validate_text

TESTS = Path(__file__).resolve().parent
CORPUS = TESTS / "parity"
DOCS = TESTS.parent / "docs"
FOLDER_KIND = {"config": "config", "volume": "volume"}
VERDICTS = ("valid", "needs_env", "invalid")


@dataclass(frozen=True)
class Run:
    """One check of a corpus text: ``--env`` values and the expected verdict."""

    env: dict[str, str] = field(default_factory=dict)
    expect: str | None = None


@dataclass(frozen=True)
class Case:
    id: str
    text: str
    kind: str | None
    runs: tuple[Run, ...]
    source: str


def _env(words: list[str]) -> dict[str, str]:
    env = {}
    for word in words:
        key, _, value = word.partition("=")
        env[key] = value
    return env


def corpus_cases() -> list[Case]:
    cases = []
    for path in sorted(CORPUS.rglob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        relative = path.relative_to(CORPUS)
        kind = FOLDER_KIND.get(relative.parts[0], "task")
        runs: list[Run] = []
        for line in text.splitlines():
            if not line.startswith("#"):
                break
            found = re.match(r"#\s*expect:\s*(\S+)\s*$", line)
            if found:
                assert found[1] in VERDICTS, f"{relative}: bad expect {found[1]!r}"
                runs.insert(0, Run({}, found[1]))
            found = re.match(r"#\s*with-env:\s*(.*?)\s*->\s*(\S+)\s*$", line)
            if found:
                assert found[2] in VERDICTS, f"{relative}: bad expect {found[2]!r}"
                runs.append(Run(_env(found[1].split()), found[2]))
        assert runs and runs[0].env == {}, f"{relative}: no '# expect:' line"
        cases.append(Case(str(relative), text, kind, tuple(runs), str(path)))
    return cases


_RST_BLOCK = re.compile(
    r"^(?P<indent>[ \t]*)\.\. (?:code-block|code|sourcecode)::[ \t]+yaml[ \t]*$"
)
_MYST_FENCE = re.compile(
    r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?:\{code-block\}[ \t]+)?yaml\b.*$"
)


def _rst_blocks(lines: list[str]) -> list[tuple[int, str]]:
    blocks = []
    index = 0
    while index < len(lines):
        match = _RST_BLOCK.match(lines[index])
        index += 1
        if not match:
            continue
        indent = len(match["indent"].expandtabs())
        # options (":caption: ...") then a blank line, then the indented body
        while index < len(lines) and re.match(r"^[ \t]+:[\w-]+:", lines[index]):
            index += 1
        body: list[str] = []
        start = None
        while index < len(lines):
            line = lines[index]
            if line.strip() and len(line.expandtabs()) - len(line.expandtabs().lstrip()) <= indent:
                break
            if start is None and line.strip():
                start = index + 1
            body.append(line)
            index += 1
        while body and not body[-1].strip():
            body.pop()
        while body and not body[0].strip():
            body.pop(0)
        if body:
            width = min(len(b) - len(b.lstrip()) for b in body if b.strip())
            blocks.append((start or index, "\n".join(b[width:] for b in body) + "\n"))
    return blocks


def _myst_blocks(lines: list[str]) -> list[tuple[int, str]]:
    blocks = []
    index = 0
    while index < len(lines):
        match = _MYST_FENCE.match(lines[index])
        index += 1
        if not match:
            continue
        fence, indent = match["fence"], len(match["indent"])
        body: list[str] = []
        start = index + 1
        while index < len(lines) and not lines[index].strip().startswith(fence):
            line = lines[index]
            # MyST directive options (":caption: ...") and the blank line after them
            if not body and (re.match(r"^\s*:[\w-]+:", line) or not line.strip()):
                index += 1
                start = index + 1
                continue
            body.append(line[indent:] if line[:indent].strip() == "" else line)
            index += 1
        index += 1
        blocks.append((start, "\n".join(body) + "\n"))
    return blocks


def guide_cases() -> list[Case]:
    """Every YAML code block of the guide with its kind (``None``: infer); blocks marked
    ``partial`` or ``none`` are left out."""
    cases = []
    for path in sorted([*DOCS.rglob("*.rst"), *DOCS.rglob("*.md")]):
        if "_build" in path.parts:
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        blocks = _myst_blocks(lines) if path.suffix == ".md" else _rst_blocks(lines)
        for line, text in blocks:
            first = text.lstrip().splitlines()[0] if text.strip() else ""
            marker = re.match(r"#\s*skypilot:\s*(\w+)", first)
            kind = marker[1] if marker else None
            if kind in ("partial", "none"):
                continue
            relative = path.relative_to(DOCS.parent)
            cases.append(Case(f"{relative}:{line}", text, kind, (Run(),), f"{relative}:{line}"))
    return cases


CORPUS_CASES = corpus_cases()
GUIDE_CASES = guide_cases()


def _runs(cases: list[Case]) -> list[tuple[Case, Run]]:
    return [(case, run) for case in cases for run in case.runs]


def _run_id(item: tuple[Case, Run]) -> str:
    case, run = item
    if not run.env:
        return case.id
    return case.id + "[" + ",".join(f"{k}={v}" for k, v in run.env.items()) + "]"


CORPUS_RUNS = _runs(CORPUS_CASES)
GUIDE_RUNS = _runs(GUIDE_CASES)


@pytest.fixture(scope="module")
def skypilot_engine() -> Iterator[object]:
    python = skypilot_python()
    if python is None:
        unavailable("no Python with skypilot (set SLURM2SKY_SKYPILOT_PYTHON)")
    engine = get_engine("skypilot", python=python)
    yield engine
    engine.close()


def _explain(case: Case, run: Run, *verdicts: Verdict) -> str:
    lines = [f"{case.id} (kind {case.kind or 'inferred'}, env {run.env}):"]
    for verdict in verdicts:
        lines.append(f"  {verdict.engine}: {verdict.status}")
        lines.extend(
            f"    {issue.format(case.id)} [{issue.path or 'no field'}]" for issue in verdict.issues
        )
    return "\n".join(lines)


def _same_place(embedded: Verdict, skypilot: Verdict) -> bool | None:
    """Whether the engines locate the problem at the same line and column, where both
    name a field (``None``: one of them names none, e.g. SkyPilot's own Python errors
    such as "'list' object has no attribute 'items'"). SkyPilot stops at its first
    problem; the embedded engine may report more, so its issue with a field at the
    same place counts."""
    located = [issue for issue in skypilot.issues if issue.path]
    places = {(issue.line, issue.column) for issue in embedded.issues if issue.path}
    if not located or not places:
        return None
    return all((issue.line, issue.column) in places for issue in located)


def test_corpus_is_large_and_varied() -> None:
    assert len(CORPUS_CASES) >= 150
    folders = {Path(case.id).parts[0] for case in CORPUS_CASES}
    assert {"valid", "invalid", "env", "pipeline", "config", "volume", "yaml11"} <= folders
    verdicts = {run.expect for _case, run in CORPUS_RUNS}
    assert verdicts == {"valid", "needs_env", "invalid"}


def test_guide_blocks_are_found() -> None:
    """The guide has YAML examples and this test sees them (rST and MyST)."""
    assert any(".md:" in case.id for case in GUIDE_CASES)
    assert any(".rst:" in case.id for case in GUIDE_CASES)


@pytest.mark.parametrize("item", CORPUS_RUNS, ids=_run_id)
def test_embedded_gives_skypilots_verdict(item: tuple[Case, Run]) -> None:
    """The corpus's recorded SkyPilot 0.14.1 verdict, from the embedded engine alone."""
    case, run = item
    verdict = validate_text(case.text, case.kind, env=run.env, source=case.id)
    assert verdict.status == run.expect, _explain(case, run, verdict)


@pytest.mark.parametrize("item", CORPUS_RUNS, ids=_run_id)
def test_engines_agree_on_corpus(item: tuple[Case, Run], skypilot_engine: object) -> None:
    case, run = item
    embedded = validate_text(case.text, case.kind, env=run.env, source=case.id)
    skypilot = validate_text(
        case.text, case.kind, env=run.env, engine=skypilot_engine, source=case.id
    )
    assert embedded.status == skypilot.status, _explain(case, run, embedded, skypilot)
    assert embedded.needs_env == skypilot.needs_env, _explain(case, run, embedded, skypilot)
    assert _same_place(embedded, skypilot) is not False, _explain(case, run, embedded, skypilot)


def test_engines_locate_problems_alike(skypilot_engine: object) -> None:
    """Where SkyPilot's message names a field (its "Check problematic field(s): $.a.b",
    a field in quotes, a sentence about one), the skypilot engine finds that field in
    the parsed YAML: the same line and column as the embedded engine, on most of the
    invalid corpus."""
    compared, differ = 0, []
    for case, run in CORPUS_RUNS:
        if run.expect != "invalid":
            continue
        embedded = validate_text(case.text, case.kind, env=run.env, source=case.id)
        skypilot = validate_text(
            case.text, case.kind, env=run.env, engine=skypilot_engine, source=case.id
        )
        same = _same_place(embedded, skypilot)
        if same is None:
            continue
        compared += 1
        if not same:
            differ.append(_explain(case, run, embedded, skypilot))
    assert not differ, "\n".join(differ)
    assert compared >= 140, compared


@pytest.mark.parametrize("item", GUIDE_RUNS, ids=_run_id)
def test_engines_agree_on_guide(item: tuple[Case, Run], skypilot_engine: object) -> None:
    case, run = item
    embedded = validate_text(case.text, case.kind, source=case.id)
    skypilot = validate_text(case.text, case.kind, engine=skypilot_engine, source=case.id)
    assert embedded.status == skypilot.status, _explain(case, run, embedded, skypilot)
    assert embedded.needs_env == skypilot.needs_env, _explain(case, run, embedded, skypilot)


# --------------------------------------------------------------------------- mutations

_MUTANT_VALUES: list[object] = [
    None, 0, 1, -1, 2.0, 0.5, True, "", "x", "4+", "16GB", "H100:8", "H100:0", "A100:0.5",
    "tpu-v4-8", "aws", "gcp", "k8s/ctx", "slurm", "ssh/pool", "60m", 8080, "8080-8090",
    "nvme:100", "best", "MOUNT", "COPY", "MOUNT_CACHED", "s3", "volume", "/health", "$X",
    "round_robin", "instance_aware_least_load", [], {}, ["a"], {"a": 1}, {"H100": 2},
    "secrets:A", 70000, "T4:1", 256, "256GB", "*",
]  # fmt: skip
_MUTANT_KEYS = [
    "cpus", "memory", "accelerators", "gpus", "infra", "use_spot", "ports", "disk_size",
    "autostop", "any_of", "ordered", "labels", "priority", "name", "store", "mode", "type",
    "config", "replicas", "replica_policy", "min_replicas", "max_replicas",
    "target_qps_per_replica", "workers", "pool", "readiness_probe", "path", "post_data",
    "load_balancing_policy", "num_nodes", "envs", "secrets", "hooks", "run", "image_id",
    "job_recovery", "local_disk", "source", "persistent", "volumes", "size",
]  # fmt: skip


def _paths(value: object, prefix: tuple[object, ...] = ()) -> Iterator[tuple[object, ...]]:
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


def _mutate(document: dict, rng: random.Random) -> dict:
    """One random edit: a value replaced, a key removed, or a key added."""
    document = copy.deepcopy(document)
    paths = [path for path in _paths(document) if path]
    if not paths:
        return document
    path = rng.choice(paths)
    parent: Any = document
    for key in path[:-1]:
        parent = parent[key]
    roll = rng.random()
    if roll < 0.5:
        parent[path[-1]] = rng.choice(_MUTANT_VALUES)
    elif roll < 0.65 and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        target = parent[path[-1]] if isinstance(parent[path[-1]], dict) else parent
        if isinstance(target, dict):
            target[rng.choice(_MUTANT_KEYS)] = rng.choice(_MUTANT_VALUES)
    return document


def _corpus_documents() -> list[tuple[str, dict]]:
    from slurm2sky.validate.yaml11 import YamlError, load_documents

    found = []
    for case in CORPUS_CASES:
        try:
            documents, _ = load_documents(case.text)
        except YamlError:
            continue
        found.extend((case.kind or "task", d.data) for d in documents if isinstance(d.data, dict))
    return found


@pytest.mark.parametrize("seed", range(4))
def test_engines_agree_on_mutated_documents(seed: int, skypilot_engine: object) -> None:
    """Corpus documents with one or two random edits (deterministic seeds), 250 per seed:
    the edits reach every check with everything else valid. Documents whose loading
    SkyPilot can only finish online (GPU catalog lookups) are left out."""
    rng = random.Random(seed)
    documents = _corpus_documents()
    disagreements = []
    for _ in range(250):
        kind, document = rng.choice(documents)
        document = _mutate(document, rng)
        if rng.random() < 0.3:
            document = _mutate(document, rng)
        env = rng.choice([{}, {"X": "s3"}])
        embedded = validate_data(document, kind, env=env)
        skypilot = validate_data(document, kind, env=env, engine=skypilot_engine)
        if any(issue.code == "network" for issue in skypilot.issues):
            continue
        if (embedded.status, embedded.needs_env) != (skypilot.status, skypilot.needs_env):
            disagreements.append(
                f"{kind} {document!r} env={env}: embedded {embedded.status} "
                f"{[i.message for i in embedded.issues]}, skypilot {skypilot.status} "
                f"{[i.message for i in skypilot.issues]}"
            )
    assert not disagreements, "\n".join(disagreements[:10])
