"""Every script of the dev corpus (``../shared/corpus/sbatch-dev/``, read in place, never
copied): converted without an exception, every directive accounted for once, every note
located and documented, the YAML loads back as the task, SkyPilot's rules accept it, the
launch commands are valid sky commands, and where the body was valid shell, so are
``run`` and ``setup``."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from corpus import corpus, needs_corpus
from slurm2sky.convert import NOTE_KINDS, Conversion, convert
from slurm2sky.emit import emit_yaml
from slurm2sky.sbatch import BatchScript, parse_script
from slurm2sky.validate import validate_data
from slurm2sky.validate.commands import check_sky_command

pytestmark = needs_corpus
DISPOSITION = re.compile(r"(?:field:[a-z_.]+|sbatch-options:[a-z-]+|note:[a-z-]+)\Z")


def _load(text: str) -> Any:
    try:  # SkyPilot's own loader when PyYAML is there (fast); else the project's YAML 1.1
        import yaml

        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except ImportError:
        from slurm2sky.validate.yaml11 import load_documents

        (document,) = load_documents(text)[0]
        return document.data


@pytest.fixture(scope="module")
def converted() -> list[tuple[str, BatchScript, Conversion]]:
    results = []
    for name, text in corpus():
        script = parse_script(text, path=name)
        results.append((name, script, convert(script)))
    assert len(results) > 4000
    return results


def test_every_directive_has_exactly_one_disposition(converted) -> None:
    for name, script, conversion in converted:
        assert sorted(conversion.dispositions) == list(range(len(script.directives))), name
        for value in conversion.dispositions.values():
            assert DISPOSITION.match(value), (name, value)


def test_every_note_is_located_and_documented(converted) -> None:
    """A note on a line of the script has a column on that line; one about the whole
    script (line 0) has none."""
    for name, script, conversion in converted:
        lines = script.text.split("\n")
        for note in conversion.notes:
            assert note.kind in NOTE_KINDS, (name, note)
            assert 0 <= note.line <= len(lines), (name, note)
            if note.line:
                assert 1 <= note.column <= len(lines[note.line - 1]) + 1, (name, note)
            else:
                assert note.column == 0, (name, note)
            assert note.message.strip().endswith((".", ")")), (name, note)


def test_the_yaml_loads_back_and_is_valid(converted) -> None:
    for name, _, conversion in converted:
        text = emit_yaml(conversion)
        assert _load(text) == conversion.task, name
        verdict = validate_data(conversion.task, "task")
        assert verdict.valid, (name, verdict.issues)


@cache
def _sky_ok(command: str) -> bool:
    return check_sky_command(shlex.split(command)) == []


def test_launch_commands_are_valid(converted) -> None:
    for name, _, conversion in converted:
        for command in conversion.launch:
            assert _sky_ok(command), (name, command)


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash checks the shell syntax")
def test_run_is_valid_shell_where_the_body_was(converted, tmp_path: Path) -> None:
    """``bash -n`` on the multi-node scripts (where run is most rewritten) and on the
    scripts whose setup was split off: a body bash can read gives a run it can read."""
    chosen = [
        (name, script, conversion)
        for name, script, conversion in converted
        if (conversion.task.get("num_nodes", 1) > 1 or "setup" in conversion.task)
        and (script.shebang or "bash").split("/")[-1].split()[0] in ("bash", "sh", "env")
    ]
    files = []
    for name, script, conversion in chosen:
        for part, text in (
            ("body", script.body),
            ("run", conversion.task.get("run", "")),
            ("setup", conversion.task.get("setup", "")),
        ):
            path = tmp_path / f"{name}.{part}"
            path.write_text(text)
            files.append(str(path))
    check = 'for f in "$@"; do bash -n "$f" 2>/dev/null || echo "$f"; done'
    failed = subprocess.run(
        ["bash", "-c", check, "check", *files], capture_output=True, text=True, check=True
    ).stdout.split()
    failed_names = {Path(f).name for f in failed}
    broken = [
        name
        for name, _, _ in chosen
        if f"{name}.body" not in failed_names and ({f"{name}.run", f"{name}.setup"} & failed_names)
    ]
    assert broken == []


def test_notes_by_kind(converted) -> None:
    """The figures the issue asks for (also printed by bench/convert.py)."""
    kinds = Counter(note.kind for _, _, c in converted for note in c.notes)
    assert kinds["sbatch-rejects"] > 0 and kinds["no-equivalent"] > 0
    rejected = sum(1 for _, script, _ in converted if script.rejected)
    assert 0 < rejected < len(converted)
