"""Validating 1,000 task documents: the embedded engine against SkyPilot, side by side.

Usage::

    python bench/validate.py [--skypilot-python PATH] [--count 1000] [--repeat 3]

The documents are the parity corpus's valid single-document tasks
(``tests/parity/{valid,yaml11,env}``), cycled to ``--count``. Figures (best of
``--repeat`` runs, per document):

* already parsed: the embedded engine's ``check_data`` (``validate_data``) against
  SkyPilot's ``Task.from_yaml_config`` on the same dicts (each call gets its own deep
  copy, made outside the timing: SkyPilot consumes its input);
* with parsing: ``check_text`` (``validate_text``: YAML 1.1 with positions, duplicate
  keys, pipeline/job-group detection) against ``Task.from_yaml_str`` (PyYAML, duplicate
  keys) and ``dag_utils.load_chain_dag_from_yaml_str`` (what the CLI's loader does minus
  file reading).

SkyPilot runs in a subprocess of the Python that has it (``--skypilot-python``, else
``$SLURM2SKY_SKYPILOT_PYTHON``, else this one if it can import ``sky``), with ``HOME``
a temporary directory; that subprocess times itself and prints JSON. The target: the
embedded engine at least 5x faster per already-parsed document. Prints figures only.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "tests" / "parity"

SKYPILOT_SIDE = r"""
import copy, json, sys, time
import yaml
import sky
from sky.utils import dag_utils

texts, repeat = json.load(sys.stdin)
docs = [yaml.safe_load(t) for t in texts]

def best(func, items):
    runs = []
    for _ in range(repeat):
        batch = [copy.deepcopy(d) for d in items] if func is sky.Task.from_yaml_config else items
        start = time.perf_counter()
        for item in batch:
            func(item)
        runs.append(time.perf_counter() - start)
    return min(runs)

sky.Task.from_yaml_config(copy.deepcopy(docs[0]))  # first call: lazy imports
result = {
    "version": sky.__version__,
    "from_yaml_config": best(sky.Task.from_yaml_config, docs),
    "from_yaml_str": best(sky.Task.from_yaml_str, texts),
    "load_chain_dag_from_yaml_str": best(dag_utils.load_chain_dag_from_yaml_str, texts),
}
print("\n@@RESULT@@" + json.dumps(result))
"""


def corpus_texts() -> list[str]:
    texts = []
    for folder in ("valid", "yaml11", "env"):
        for path in sorted((CORPUS / folder).glob("*.yaml")):
            text = path.read_text(encoding="utf-8")
            if re.search(r"^# expect: valid$", text, re.M) and "\n---" not in text:
                texts.append(text)
    return texts


def skypilot_python(given: str | None) -> str | None:
    if given:
        return given
    if os.environ.get("SLURM2SKY_SKYPILOT_PYTHON"):
        return os.environ["SLURM2SKY_SKYPILOT_PYTHON"]
    return sys.executable if importlib.util.find_spec("sky") else None


def run_skypilot(python: str, texts: list[str], repeat: int) -> dict[str, float] | None:
    with tempfile.TemporaryDirectory(prefix="bench-skypilot-home-") as home:
        env = {**os.environ, "HOME": home, "SKYPILOT_DISABLE_USAGE_COLLECTION": "1"}
        done = subprocess.run(
            [python, "-c", SKYPILOT_SIDE],
            input=json.dumps([texts, repeat]),
            capture_output=True,
            text=True,
            env=env,
            cwd=home,
            check=False,
        )
    marker = done.stdout.rfind("@@RESULT@@")
    if done.returncode != 0 or marker < 0:
        print(f"SkyPilot side failed ({python}):\n{done.stderr[-2000:]}", file=sys.stderr)
        return None
    return json.loads(done.stdout[marker + len("@@RESULT@@") :])


def best(func: object, items: list[object], repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        for item in items:
            func(item)  # type: ignore[operator]
        runs.append(time.perf_counter() - start)
    return min(runs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skypilot-python")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    sys.path.insert(0, str(REPO / "sphinxext"))
    from slurm2sky.validate.embedded import EmbeddedEngine, warm_up
    from slurm2sky.validate.yaml11 import load_documents

    base = corpus_texts()
    texts = [base[i % len(base)] for i in range(args.count)]
    docs = [load_documents(text)[0][0].data for text in texts]
    engine = EmbeddedEngine()
    start = time.perf_counter()
    warm_up()
    build = time.perf_counter() - start
    verdicts = [engine.check_data(doc, "task") for doc in docs]
    invalid = sum(not verdict.valid for verdict in verdicts)
    embedded = best(lambda doc: engine.check_data(doc, "task"), docs, args.repeat)
    embedded_text = best(lambda text: engine.check_text(text, "task"), texts, args.repeat)

    n = len(docs)
    print(f"{n} task documents ({len(base)} distinct corpus files), best of {args.repeat}")
    print(f"embedded: validators built once in {build * 1e3:.1f} ms; {invalid} invalid")
    print(f"{'':44}{'per 1000':>12}{'per doc':>12}")

    def row(label: str, seconds: float) -> None:
        print(f"{label:44}{seconds * 1000 / n * 1000:>9.1f} ms{seconds / n * 1e6:>9.1f} µs")

    row("embedded check_data (parsed dict)", embedded)
    row("embedded check_text (YAML text)", embedded_text)
    python = skypilot_python(args.skypilot_python)
    if python is None:
        print("SkyPilot side skipped: no Python with skypilot (--skypilot-python)")
        return 0
    result = run_skypilot(python, texts, args.repeat)
    if result is None:
        return 1
    row(f"skypilot {result['version']} Task.from_yaml_config", result["from_yaml_config"])
    row("skypilot Task.from_yaml_str", result["from_yaml_str"])
    row("skypilot load_chain_dag_from_yaml_str", result["load_chain_dag_from_yaml_str"])
    ratio = result["from_yaml_config"] / embedded
    print(f"already parsed: embedded is {ratio:.1f}x faster per document (target >= 5x)")
    ratio_text = result["load_chain_dag_from_yaml_str"] / embedded_text
    print(f"with parsing: embedded is {ratio_text:.1f}x the speed of the chain loader")
    return 0


if __name__ == "__main__":
    sys.exit(main())
