"""A :class:`~slurm2sky.convert.Conversion` as YAML text or as data.

:func:`emit_yaml` writes the task YAML with each note as a comment above the field it
concerns (notes about the whole script at the top), then the launch command(s) as
comments. It is cheap: scalars are written as plain YAML scalars when YAML 1.1 reads
them back as the same string (:func:`slurm2sky.validate.yaml11.resolve_plain`), else as
JSON strings (a JSON string is a YAML double-quoted scalar); only multi-line strings
(``setup``, ``run``) and strings with characters JSON would leave raw but YAML cannot
hold go through ruamel.yaml's emitter (one cached safe dumper), which writes them as
literal blocks where it can; a multi-line string over 64 KiB is a JSON string (ruamel.yaml
reads scalars character by character, which for a megabyte takes half a second). The
text loads back (PyYAML's SafeLoader, YAML 1.1) as exactly ``conversion.task``.

:func:`as_data` gives the same as JSON-able data for programs.
"""

from __future__ import annotations

import io
import json
import re
import shlex
from dataclasses import asdict
from functools import cache
from typing import Any

from slurm2sky import SKYPILOT_VERSION
from slurm2sky.convert import Conversion, Note
from slurm2sky.validate.yaml11 import resolve_plain

__all__ = ["as_data", "emit_yaml", "format_note", "launch_commands"]

#: The file name :attr:`Conversion.launch <slurm2sky.convert.Conversion>` uses for the
#: file the task is saved in.
TASK_FILE = "task.yaml"

_WIDTH = 92
#: Multi-line strings longer than this are written as JSON strings, not literal blocks.
_BLOCK_LIMIT = 64 * 1024
_STR_TAG = "tag:yaml.org,2002:str"
#: A conservative plain-scalar alphabet (no indicators, no spaces, no ": " or " #").
_PLAIN = re.compile(r"[A-Za-z0-9_./~$][A-Za-z0-9_./~$%+@=:,-]*(?<![:,])\Z")
#: Characters JSON leaves raw that YAML 1.1 does not read back as themselves (C1 controls,
#: NEL, line/paragraph separators, BOM, surrogates, non-characters).
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff\ud800-\udfff\ufffe\uffff]")


@cache
def _dumper() -> Any:
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    yaml.width = 1 << 20
    yaml.default_flow_style = False

    def represent_str(representer: Any, data: str) -> Any:
        # ruamel.yaml would write control characters raw inside a block, which YAML
        # forbids; a block that keeps trailing blank lines would swallow what follows it
        if _UNSAFE.search(data) or data.endswith("\n\n") or data == "\n":
            style = '"'
        else:
            style = "|" if "\n" in data else None
        return representer.represent_scalar(_STR_TAG, data, style=style)

    yaml.representer.add_representer(str, represent_str)
    return yaml


def _ruamel(key: str, value: str) -> str:
    """``key: value`` with ``value`` written by ruamel.yaml; the key as :func:`_key`
    writes it (ruamel.yaml reads YAML 1.2, where ``ON`` is no boolean: it would leave
    such a key plain, and YAML 1.1 would read it back as ``True``)."""
    stream = io.StringIO()
    _dumper().dump({"k": value}, stream)
    text = stream.getvalue()
    if text.endswith("\n...\n"):  # the document end marker (column 0, not content)
        text = text[: -len("...\n")]
    return _key(key) + text[1:]


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    if _PLAIN.match(text) and resolve_plain(text) == _STR_TAG:
        return text
    return json.dumps(text, ensure_ascii=False)


def _key(key: str) -> str:
    return key if _PLAIN.match(key) and resolve_plain(key) == _STR_TAG else json.dumps(key)


def _wrap(text: str, width: int) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    if current:
        lines.append(current)
    return lines


def format_note(note: Note) -> str:
    """One note on one line: ``WARNING line 5 (--time=24:00:00) [no-equivalent]: …``
    (``line 5:12`` when the note has a column); ``WARNING`` when the task loses the
    script's meaning, ``NOTE`` otherwise."""
    column = getattr(note, "column", 0)
    where = f"line {note.line}" if note.line > 0 else "script"
    if note.line > 0 and column > 0:
        where += f":{column}"
    if note.directive:
        where += f" ({note.directive})"
    label = "WARNING" if note.loses_meaning else "NOTE"
    return f"{label} {where} [{note.kind}]: {note.message}"


#: What a YAML comment cannot hold (non-printable characters, line breaks YAML knows).
_NOT_IN_COMMENT = re.compile(
    "[^\t\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]|[\u2028\u2029\ufeff]"
)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _comment(note: Note, indent: str) -> list[str]:
    width = max(_WIDTH - len(indent) - 2, 40)
    text = format_note(note)
    if _NOT_IN_COMMENT.search(text):
        text = _NOT_IN_COMMENT.sub(_escape, " ".join(text.split()))
    lines = _wrap(text, width) or [""]
    return [f"{indent}# {lines[0]}"] + [f"{indent}#   {line}" for line in lines[1:]]


def _place(
    notes: tuple[Note, ...], task: dict[str, Any]
) -> tuple[dict[str, list[Note]], list[Note]]:
    """Each note under the deepest existing key of its field path (``""`` -> the top)."""
    placed: dict[str, list[Note]] = {}
    top: list[Note] = []
    for note in notes:
        parts = note.field.split(".") if note.field else []
        node: Any = task
        path = ""
        for part in parts:
            if isinstance(node, dict) and part in node:
                node = node[part]
                path = f"{path}.{part}" if path else part
            else:
                break
        if path:
            placed.setdefault(path, []).append(note)
        else:
            top.append(note)
    return placed, top


def _mapping(
    data: dict[str, Any], path: str, indent: str, placed: dict[str, list[Note]], out: list[str]
) -> None:
    for key, value in data.items():
        here = f"{path}.{key}" if path else key
        for note in placed.get(here, ()):
            out.extend(_comment(note, indent))
        if isinstance(value, dict):
            if not value:
                out.append(f"{indent}{_key(key)}: {{}}")
                continue
            out.append(f"{indent}{_key(key)}:")
            _mapping(value, here, indent + "  ", placed, out)
        elif isinstance(value, str) and len(value) > _BLOCK_LIMIT and not _UNSAFE.search(value):
            # ruamel.yaml reads a scalar character by character: a huge one is written
            # as a JSON string (a YAML double-quoted scalar), in time linear and small
            out.append(f"{indent}{_key(key)}: {json.dumps(value, ensure_ascii=False)}")
        elif isinstance(value, str) and ("\n" in value or _UNSAFE.search(value)):
            block = _ruamel(key, value).rstrip("\n")
            if indent:
                block = "\n".join(indent + line if line else line for line in block.split("\n"))
            out.append(block)
        else:
            out.append(f"{indent}{_key(key)}: {_scalar(value)}")


def launch_commands(conversion: Conversion, file_name: str = TASK_FILE) -> tuple[str, ...]:
    """``conversion.launch`` with the task file named ``file_name`` (a path as the user
    gave it, quoted for a POSIX shell where it needs it; ``./`` in front of one that
    starts with ``-``, which ``sky`` would read as an option) instead of ``task.yaml``."""
    if file_name == TASK_FILE:
        return tuple(conversion.launch)
    if file_name.startswith("-"):
        file_name = "./" + file_name
    quoted = shlex.quote(file_name)
    suffix = " " + TASK_FILE
    return tuple(
        command[: -len(TASK_FILE)] + quoted if command.endswith(suffix) else command
        for command in conversion.launch
    )


def emit_yaml(conversion: Conversion, file_name: str = TASK_FILE) -> str:
    """The task as YAML text: a header, the notes as comments above the fields they
    concern (``WARNING`` when the task loses the script's meaning), the task, and the
    launch command(s) as comments at the end, naming the task file ``file_name`` (the
    path the text is written to, as the user gave it; ``task.yaml`` when it goes to
    standard output). Loads back as ``conversion.task``."""
    task = conversion.task
    placed, top = _place(conversion.notes, task)
    source = f" from {conversion.source}" if conversion.source else ""
    out = [f"# SkyPilot {SKYPILOT_VERSION} task converted{source} by slurm2sky."]
    for note in top:
        out.extend(_comment(note, ""))
    _mapping(task, "", "", placed, out)
    out.append("")
    out.append("# Launch with:")
    out.extend(f"#   {line}" for line in launch_commands(conversion, file_name))
    return "\n".join(out) + "\n"


def _note_data(note: Note) -> dict[str, Any]:
    data = asdict(note)
    data.setdefault("column", getattr(note, "column", 0))
    return data


def as_data(conversion: Conversion, file_name: str = TASK_FILE) -> dict[str, Any]:
    """The conversion as JSON-able data: ``source``, ``task``, ``notes`` (dicts with
    ``line``, ``column`` (0: none), ``directive``, ``kind``, ``message``,
    ``loses_meaning``, ``field``), ``launch`` (naming the task file ``file_name``, as
    :func:`emit_yaml` does), ``dispositions`` (directive index as a string ->
    disposition), ``loses_meaning``."""
    return {
        "source": conversion.source,
        "task": conversion.task,
        "notes": [_note_data(note) for note in conversion.notes],
        "launch": list(launch_commands(conversion, file_name)),
        "dispositions": {str(index): value for index, value in conversion.dispositions.items()},
        "loses_meaning": conversion.loses_meaning,
    }
