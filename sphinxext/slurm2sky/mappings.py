"""Load, check and model the mappings file (``mappings/slurm-to-skypilot.yaml``).

The file is the one source of truth for every Slurm ↔ SkyPilot correspondence: the
guide's tables, the converter's rules and the build-time checks all read it through
:func:`load_mappings`. Loading needs only ruamel.yaml (pure Python, so it also runs in
the browser); the full check (``check=True``) also validates the file against its JSON
Schema with jsonschema and parses every note's inline markup with docutils, both
imported lazily.

Every problem found is reported with the file, line and column (1-based) of the
offending key or value, the key's path, what is wrong, and what would be valid.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from slurm2sky import SKYPILOT_VERSION
from slurm2sky.errors import Problem, SourceError

SECTIONS: tuple[str, ...] = (
    "commands",
    "features",
    "environment-variables",
    "options",
    "option-categories",
    "gpu-types",
    "modules",
)

#: Prefix of each section's row anchors: a row's anchor is ``<prefix>-<id>``.
ANCHOR_PREFIX: dict[str, str] = {
    "commands": "command",
    "features": "feature",
    "environment-variables": "env",
    "options": "option",
    "option-categories": "category",
    "gpu-types": "gpu",
    "modules": "module",
}

#: Section -> {column key: default header}, in display order.
COLUMNS: dict[str, dict[str, str]] = {
    "commands": {"slurm": "Slurm", "skypilot": "SkyPilot", "note": "Notes"},
    "features": {"feature": "Feature", "command": "Command", "description": "Description"},
    "environment-variables": {
        "slurm": "Slurm",
        "skypilot": "SkyPilot",
        "relation": "Relation",
        "derivation": "How to derive",
        "note": "Notes",
    },
    "options": {
        "option": "sbatch option",
        "example": "Slurm",
        "skypilot": "SkyPilot",
        "field": "Task YAML field",
        "on-slurm": "On SkyPilot's Slurm infra",
        "note": "Notes",
    },
    "option-categories": {
        "category": "Category",
        "options": "sbatch options",
        "on-slurm": "On SkyPilot's Slurm infra",
        "note": "Notes",
    },
    "gpu-types": {"slurm": "Slurm GRES type", "skypilot": "SkyPilot accelerator", "note": "Notes"},
    "modules": {"module": "module load", "image": "image_id", "note": "Notes"},
}

#: Columns a table shows when the directive does not choose.
DEFAULT_COLUMNS: dict[str, tuple[str, ...]] = {
    "commands": ("slurm", "skypilot", "note"),
    "features": ("feature", "command", "description"),
    "environment-variables": ("slurm", "skypilot", "note"),
    "options": ("example", "skypilot", "note"),
    "option-categories": ("category", "options", "note"),
    "gpu-types": ("slurm", "skypilot", "note"),
    "modules": ("module", "image", "note"),
}

#: (kind, text): kind is ``"literal"`` (code), ``"text"`` (plain) or ``"markup"``
#: (reStructuredText inline markup, one paragraph).
Inline = tuple[str, str]
#: The content of one table cell: inline pieces in order.
Cell = tuple[Inline, ...]
#: What a cell with nothing to say shows.
EMPTY: Cell = (("text", "—"),)

RELATION_TEXT = {
    "same": "the same value",
    "derived": "derived",
    "similar": "similar, not equal",
    "none": "no counterpart",
}
ON_SLURM_TEXT = {
    "task": "converted into the task",
    "sbatch-options": "passed through sbatch_options",
    "note": "no equivalent",
}


class MappingsError(SourceError):
    """The mappings file cannot be used: one or more located :class:`Problem` s."""


# ---------------------------------------------------------------------------
# Model


def _literals(values: Iterable[str], sep: str = ", ") -> Cell:
    pieces: list[Inline] = []
    for i, value in enumerate(values):
        if i:
            pieces.append(("text", sep))
        pieces.append(("literal", value))
    return tuple(pieces)


def option_spellings(
    name: str, short: str | None = None, aliases: Iterable[str] = ()
) -> tuple[str, ...]:
    """How an sbatch option is written: ``("-c", "--cpus-per-task")`` (sbatch(1))."""
    return ((f"-{short}",) if short else ()) + tuple(f"--{n}" for n in (name, *aliases))


@dataclass(frozen=True)
class Command:
    """A command cell: one command line, or several joined by ``then`` / ``or``."""

    commands: tuple[str, ...]
    join: str = ""  # "" (one command), "then" or "or"

    @classmethod
    def from_data(cls, data: str | Mapping[str, Sequence[str]]) -> Command:
        if isinstance(data, str):
            return cls((data,))
        ((join, commands),) = data.items()
        return cls(tuple(commands), join)

    def cell(self) -> Cell:
        return _literals(self.commands, f" {self.join} ")

    def __str__(self) -> str:
        return f" {self.join} ".join(self.commands)


@dataclass(frozen=True)
class Row:
    """A row of one section. ``line`` is the 1-based line of the row in the file."""

    section: ClassVar[str] = ""
    id: str
    line: int
    tags: tuple[str, ...]

    @property
    def anchor(self) -> str:
        """The row's stable anchor, ``<prefix>-<id>`` (e.g. ``option-gres``)."""
        return f"{ANCHOR_PREFIX[self.section]}-{self.id}"

    def cells(self) -> dict[str, Cell]:
        """Every column of the row's section -> its cell content."""
        raise NotImplementedError

    def title(self) -> str:
        """Plain text that names the row, e.g. ``--gres`` or ``SLURM_PROCID``."""
        raise NotImplementedError


@dataclass(frozen=True)
class CommandRow(Row):
    """A Slurm command and the SkyPilot command line that replaces it."""

    section: ClassVar[str] = "commands"
    slurm: Command = field(default_factory=lambda: Command(("",)))
    skypilot: Command = field(default_factory=lambda: Command(("",)))
    note: str = ""

    def cells(self) -> dict[str, Cell]:
        return {
            "slurm": self.slurm.cell(),
            "skypilot": self.skypilot.cell(),
            "note": (("markup", self.note),),
        }

    def title(self) -> str:
        return str(self.slurm)


@dataclass(frozen=True)
class FeatureRow(Row):
    """A SkyPilot feature with no Slurm counterpart."""

    section: ClassVar[str] = "features"
    feature: str = ""
    command: str | None = None
    description: str = ""
    docs: str | None = None

    def cells(self) -> dict[str, Cell]:
        description: Cell = (("markup", self.description),)
        if self.docs:
            description += (("text", " "), ("markup", f"`Read more <{self.docs}>`__"))
        return {
            "feature": (("text", self.feature),),
            "command": (("literal", self.command),) if self.command else EMPTY,
            "description": description,
        }

    def title(self) -> str:
        return self.feature


@dataclass(frozen=True)
class EnvironmentVariableRow(Row):
    """Slurm variables (a name and its aliases) and the SkyPilot ones they come from.

    ``relation``: ``same`` (the identical value under another name), ``derived``
    (computed from SkyPilot's values as ``derivation`` says), ``similar`` (same
    purpose, different value) or ``none``.
    """

    section: ClassVar[str] = "environment-variables"
    slurm: tuple[str, ...] = ()
    skypilot: tuple[str, ...] = ()
    relation: str = "none"
    derivation: str | None = None
    note: str = ""

    def cells(self) -> dict[str, Cell]:
        return {
            "slurm": _literals(f"${name}" for name in self.slurm),
            "skypilot": _literals(f"${name}" for name in self.skypilot) or EMPTY,
            "relation": (("text", RELATION_TEXT[self.relation]),),
            "derivation": self._derivation(),
            "note": (("markup", self.note),),
        }

    def _derivation(self) -> Cell:
        if self.derivation:
            return (("markup", self.derivation),)
        if self.relation == "same" and self.skypilot:
            return (("literal", f"${self.skypilot[0]}"),)
        return EMPTY

    def title(self) -> str:
        return " / ".join(self.slurm)


@dataclass(frozen=True)
class OptionRow(Row):
    """An sbatch option with specific handling (sbatch(1) names; pyxis for containers).

    ``option`` is the canonical long name without dashes, ``short`` its letter and
    ``aliases`` other long names sbatch takes for it. ``field`` is the SkyPilot task
    YAML path it sets, if any; ``on_slurm`` says what becomes of it on SkyPilot's Slurm
    infra: ``task`` (converted into the task; SkyPilot writes its own directive),
    ``sbatch-options`` (passed through ``config.slurm.sbatch_options``) or ``note``.
    """

    section: ClassVar[str] = "options"
    option: str = ""
    short: str | None = None
    aliases: tuple[str, ...] = ()
    example: str = ""
    skypilot: str | None = None
    field: str | None = None
    on_slurm: str = "task"
    note: str = ""

    def cells(self) -> dict[str, Cell]:
        return {
            "option": _literals(option_spellings(self.option, self.short, self.aliases)),
            "example": (("literal", self.example),),
            "skypilot": (("literal", self.skypilot),) if self.skypilot else EMPTY,
            "field": (("literal", self.field),) if self.field else EMPTY,
            "on-slurm": (("text", ON_SLURM_TEXT[self.on_slurm]),),
            "note": (("markup", self.note),),
        }

    def title(self) -> str:
        return f"--{self.option}"


@dataclass(frozen=True)
class OptionCategoryRow(Row):
    """sbatch options without a row of their own, handled alike."""

    section: ClassVar[str] = "option-categories"
    category: str = ""
    options: tuple[str, ...] = ()
    on_slurm: str = "note"
    note: str = ""

    def cells(self) -> dict[str, Cell]:
        from slurm2sky.sbatch import option_table

        table = option_table()
        spellings = [
            "/".join(option_spellings(name, table.get(name, {}).get("short")))  # type: ignore[arg-type]
            for name in self.options
        ]
        return {
            "category": (("text", self.category),),
            "options": _literals(spellings),
            "on-slurm": (("text", ON_SLURM_TEXT[self.on_slurm]),),
            "note": (("markup", self.note),),
        }

    def title(self) -> str:
        return self.category


@dataclass(frozen=True)
class GpuTypeRow(Row):
    """Slurm GRES type names (shell-style patterns, lower case) and the SkyPilot
    accelerator they name. The first row with a pattern matching the whole type name,
    case-insensitively, wins; the ``default`` row's accelerator is also what a request
    without a type gets."""

    section: ClassVar[str] = "gpu-types"
    slurm: tuple[str, ...] = ()
    skypilot: str = ""
    default: bool = False
    note: str = ""

    def cells(self) -> dict[str, Cell]:
        return {
            "slurm": _literals(self.slurm),
            "skypilot": (("literal", self.skypilot),),
            "note": (("markup", self.note),),
        }

    def title(self) -> str:
        return self.skypilot


@dataclass(frozen=True)
class ModuleRow(Row):
    """Environment modules (shell-style patterns, lower case, matched against one
    module as written, e.g. ``cuda/12.1``) and what replaces them: the Docker ``image``
    the task runs in (``image_id: docker:<image>``), or, without one, nothing (the
    ``module load`` is removed and the note says what to do instead)."""

    section: ClassVar[str] = "modules"
    module: tuple[str, ...] = ()
    image: str | None = None
    note: str = ""

    def cells(self) -> dict[str, Cell]:
        return {
            "module": _literals(self.module),
            "image": (("literal", f"docker:{self.image}"),) if self.image else EMPTY,
            "note": (("markup", self.note),),
        }

    def title(self) -> str:
        return self.module[0].strip("*")


ROW_TYPES: dict[str, type[Row]] = {
    cls.section: cls
    for cls in (
        CommandRow,
        FeatureRow,
        EnvironmentVariableRow,
        OptionRow,
        OptionCategoryRow,
        GpuTypeRow,
        ModuleRow,
    )
}


@dataclass(frozen=True)
class Mappings:
    """The whole mappings file, typed. ``skypilot`` is the targeted SkyPilot release."""

    path: Path
    skypilot: str
    commands: tuple[CommandRow, ...]
    features: tuple[FeatureRow, ...]
    environment_variables: tuple[EnvironmentVariableRow, ...]
    options: tuple[OptionRow, ...]
    option_categories: tuple[OptionCategoryRow, ...]
    gpu_types: tuple[GpuTypeRow, ...] = ()
    modules: tuple[ModuleRow, ...] = ()
    #: SkyPilot accelerator names beside the ``gpu-types`` rows' (the top-level
    #: ``accelerators`` list): what ``--gpu-type`` accepts without a warning.
    accelerators: tuple[str, ...] = ()

    def section(self, name: str) -> tuple[Row, ...]:
        """The rows of section ``name`` (one of :data:`SECTIONS`); KeyError otherwise."""
        if name not in SECTIONS:
            raise KeyError(name)
        return getattr(self, name.replace("-", "_"))

    def option(self, name: str) -> OptionRow | OptionCategoryRow | None:
        """The row that handles sbatch option ``name`` (canonical long name), if any."""
        for row in self.options:
            if name == row.option or name in row.aliases:
                return row
        for category in self.option_categories:
            if name in category.options:
                return category
        return None

    def default_gpu_type(self) -> str:
        """The accelerator a GPU request without a type gets (the ``gpu-types`` row
        marked ``default``; ``H100`` if the file marks none)."""
        for row in self.gpu_types:
            if row.default:
                return row.skypilot
        return "H100"


def _row_from_data(section: str, data: Mapping[str, Any], line: int) -> Row:
    values: dict[str, Any] = {"id": data["id"], "line": line, "tags": tuple(data.get("tags", ()))}
    for key, value in data.items():
        if key in ("id", "tags"):
            continue
        name = key.replace("-", "_")
        if section == "commands" and key in ("slurm", "skypilot"):
            value = Command.from_data(value)
        elif isinstance(value, list):
            value = tuple(value)
        values[name] = value
    return ROW_TYPES[section](**values)


# ---------------------------------------------------------------------------
# Loading


def default_mappings_path() -> Path:
    """The mappings file shipped with the package, else the repository's copy.

    An installed wheel carries ``slurm2sky/data/slurm-to-skypilot.yaml``; a checkout
    (editable install) reads ``<repo>/mappings/slurm-to-skypilot.yaml``.
    """
    packaged = Path(str(resources.files("slurm2sky").joinpath("data/slurm-to-skypilot.yaml")))
    if packaged.is_file():
        return packaged
    return Path(__file__).resolve().parents[2] / "mappings" / "slurm-to-skypilot.yaml"


def schema_path(mappings_path: Path | None = None) -> Path:
    """The JSON Schema beside ``mappings_path`` if there is one, else the shipped one."""
    if mappings_path is not None:
        beside = mappings_path.with_name("slurm-to-skypilot.schema.json")
        if beside.is_file():
            return beside
    return default_mappings_path().with_name("slurm-to-skypilot.schema.json")


def load_mappings(
    path: str | Path | None = None, *, check: bool = True, skypilot: str | None = SKYPILOT_VERSION
) -> Mappings:
    """Read the mappings file at ``path`` (default: :func:`default_mappings_path`).

    With ``check`` (the build and the CLI), the file is validated against its JSON
    Schema and the project's own rules: ids unique per section, every sbatch option
    named by one row only and known to sbatch (or pyxis), short letters as sbatch
    defines them, examples that use the row's option, notes whose inline markup
    parses, and ``skypilot`` equal to ``skypilot`` (the release the guide targets;
    ``None`` accepts any). Without it (the browser), only the YAML is read and the
    data is trusted.

    Returns a frozen :class:`Mappings`. Raises :class:`MappingsError` listing every
    problem with file, line and column; never another exception for bad content.
    """
    path = Path(path) if path is not None else default_mappings_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MappingsError(
            [Problem(str(path), 0, 0, "", "file not found", "the path of a mappings file")]
        ) from None
    except UnicodeDecodeError as error:
        data = path.read_bytes()[: error.start]
        line = data.count(b"\n") + 1
        column = len(data) - (data.rfind(b"\n") + 1) + 1
        byte = error.object[error.start]
        raise MappingsError(
            [
                Problem(
                    str(path),
                    line,
                    column,
                    "",
                    f"byte 0x{byte:02x} is not UTF-8 text ({error.reason})",
                    "a file saved as UTF-8",
                )
            ]
        ) from None
    except OSError as error:
        raise MappingsError(
            [
                Problem(
                    str(path),
                    0,
                    0,
                    "",
                    f"cannot be read: {error.strerror}",
                    "the path of a mappings file",
                )
            ]
        ) from None
    data = _parse_yaml(text, str(path))
    if check:
        problems = list(_check(data, str(path), skypilot))
        if problems:
            raise MappingsError(sorted(problems, key=lambda p: (p.line, p.column)))
    rows: dict[str, tuple[Row, ...]] = {}
    for section in SECTIONS:
        items = data[section]
        rows[section] = tuple(
            _row_from_data(section, item, _position(items, index)[0])
            for index, item in enumerate(items)
        )
    return Mappings(
        path=path,
        skypilot=str(data["skypilot"]),
        commands=rows["commands"],  # type: ignore[arg-type]
        features=rows["features"],  # type: ignore[arg-type]
        environment_variables=rows["environment-variables"],  # type: ignore[arg-type]
        options=rows["options"],  # type: ignore[arg-type]
        option_categories=rows["option-categories"],  # type: ignore[arg-type]
        gpu_types=rows["gpu-types"],  # type: ignore[arg-type]
        modules=rows["modules"],  # type: ignore[arg-type]
        accelerators=tuple(str(name) for name in data.get("accelerators") or ()),
    )


def _parse_yaml(text: str, filename: str) -> CommentedMap:
    yaml = YAML(typ="rt", pure=True)
    yaml.allow_duplicate_keys = False
    try:
        data = yaml.load(text)
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = " ".join(str(error.problem or error.context or "invalid YAML").split())
        if error.context and error.problem and error.context_mark is not None:
            context = " ".join(str(error.context).split())
            message += f" ({context} that starts at line {error.context_mark.line + 1})"
        hint = "valid YAML"
        if "mapping values are not allowed" in message:
            hint = "valid YAML: check the indentation of this line and of the key above it"
        if "'\\t'" in message or "\\t" in message or _has_tab_at(text, line, column):
            message = "a tab character in the indentation"
            hint = "YAML indents with spaces only"
        elif "duplicate key" in message:
            key = _key_at(text, line, column)
            message = f"duplicate key {key!r}"
            start = error.context_mark.line + 1 if error.context_mark else 1
            first = _first_key_line(text, key, start, line, column)
            if first:
                message += f" (first defined at line {first})"
            hint = "each key once per mapping; remove or rename one"
        raise MappingsError([Problem(filename, line, column, "", message, hint)]) from None
    except YAMLError as error:  # unmarked errors (rare): still located at the file
        raise MappingsError([Problem(filename, 1, 1, "", str(error), "valid YAML")]) from None
    if data is None:
        raise MappingsError(
            [
                Problem(
                    filename,
                    1,
                    1,
                    "",
                    "the file is empty",
                    "a mapping with the keys: format, skypilot, " + ", ".join(SECTIONS),
                )
            ]
        )
    if not isinstance(data, CommentedMap):
        raise MappingsError(
            [
                Problem(
                    filename,
                    1,
                    1,
                    "",
                    f"the file holds {_type_name(data)}",
                    "a mapping with the keys: format, skypilot, " + ", ".join(SECTIONS),
                )
            ]
        )
    return data


def _has_tab_at(text: str, line: int, column: int) -> bool:
    lines = text.splitlines()
    return 0 < line <= len(lines) and "\t" in lines[line - 1][: max(column, 1)]


def _first_key_line(text: str, key: str, start: int, line: int, column: int) -> int | None:
    """The first line in ``start``..``line``-1 where ``key`` starts at ``column``."""
    lines = text.splitlines()
    for number in range(max(start, 1), line):
        if lines[number - 1][column - 1 :].split(":", 1)[0].strip() == key:
            return number
    return None


def _key_at(text: str, line: int, column: int) -> str:
    lines = text.splitlines()
    if 0 < line <= len(lines):
        return lines[line - 1][column - 1 :].split(":", 1)[0].strip()
    return ""


# ---------------------------------------------------------------------------
# Checks


def _position(node: Any, key: str | int | None) -> tuple[int, int]:
    """1-based (line, column) of ``node[key]`` (the key itself for mappings)."""
    try:
        if isinstance(node, CommentedMap):
            if key is None:
                return node.lc.line + 1, node.lc.col + 1
            line, column = node.lc.key(key)
            return line + 1, column + 1
        if isinstance(node, CommentedSeq):
            if key is None:
                return node.lc.line + 1, node.lc.col + 1
            line, column = node.lc.item(key)
            return line + 1, column + 1
    except (KeyError, IndexError, TypeError, AttributeError):
        pass
    return 1, 1


def _value_position(node: Any, key: str | int) -> tuple[int, int]:
    """1-based (line, column) of the value ``node[key]``."""
    if isinstance(node, CommentedMap):
        try:
            line, column = node.lc.value(key)
            return line + 1, column + 1
        except (KeyError, TypeError, AttributeError):
            pass
    return _position(node, key)


def _key_path(path: Sequence[str | int]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    tag = getattr(value, "tag", None)
    if tag is not None:
        return f"a value tagged {getattr(tag, 'value', tag)}"
    return type(value).__name__


@cache
def _schema(path: str) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def _check(data: CommentedMap, filename: str, skypilot: str | None) -> Iterator[Problem]:
    schema = _schema(str(schema_path(Path(filename))))
    schema_problems = list(_schema_problems(data, schema, filename))
    yield from schema_problems
    if schema_problems:
        return
    if skypilot is not None and data["skypilot"] != skypilot:
        line, column = _value_position(data, "skypilot")
        yield Problem(
            filename,
            line,
            column,
            "skypilot",
            f"the rows are written for SkyPilot {data['skypilot']}, but the guide targets "
            f"SkyPilot {skypilot}",
            f'"{skypilot}", once every row has been checked against that release',
        )
    yield from _rule_problems(data, filename)


def _schema_problems(
    data: CommentedMap, schema: dict[str, Any], filename: str
) -> Iterator[Problem]:
    import jsonschema  # lazily: the conversion path never needs it

    validator = jsonschema.Draft202012Validator(schema)
    seen: set[tuple[int, int, str]] = set()
    for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        problem = _describe(error, data, filename)
        marker = (problem.line, problem.column, problem.message)
        if marker not in seen:
            seen.add(marker)
            yield problem


def _node_at(data: Any, path: Sequence[str | int]) -> Any:
    node = data
    for part in path:
        node = node[part]
    return node


def _describe(error: Any, data: CommentedMap, filename: str) -> Problem:
    """Turn a jsonschema error into a located Problem a maintainer can act on."""
    path = list(error.absolute_path)
    parent = _node_at(data, path[:-1]) if path else None
    line, column = _position(parent, path[-1]) if path else (1, 1)
    where = _key_path(path)
    subschema = error.schema
    validator = error.validator
    section = next((p for p in path if isinstance(p, str) and p in SECTIONS), None)

    if validator == "additionalProperties":
        node = _node_at(data, path)
        allowed = list(subschema.get("properties", {}))
        for key in node:
            if key in allowed:
                continue
            line, column = _position(node, key)
            what = "section" if not path else "field"
            message = f"unknown {what} {key!r}"
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = (
                (f"did you mean {close[0]!r}? " if close else "")
                + f"valid {what}s: "
                + ", ".join(allowed)
            )
            return Problem(filename, line, column, _key_path([*path, key]), message, hint)
    if validator == "required":
        node = _node_at(data, path)
        line, column = _position(node, None)
        missing = [name for name in subschema["required"] if name not in node]
        kind = "section" if not path else "field"
        return Problem(
            filename,
            line,
            column,
            where,
            f"missing required {kind} {missing[0]!r}",
            "add it; required: " + ", ".join(subschema["required"]),
        )
    if path:
        line, column = _value_position(parent, path[-1])
    value = error.instance
    if validator == "type":
        expected = subschema["type"]
        expected_text = {
            "string": "a string",
            "array": "a list",
            "object": "a mapping",
            "integer": "a whole number",
            "number": "a number",
        }.get(expected, expected)
        hint = f"{expected_text}"
        if expected == "array" and isinstance(value, str):
            hint += f", e.g. [{value}]"
        return Problem(
            filename,
            line,
            column,
            where,
            f"expected {expected_text}, found {_type_name(value)}",
            hint,
        )
    if validator == "enum":
        options = ", ".join(map(str, subschema["enum"]))
        close = difflib.get_close_matches(str(value), list(map(str, subschema["enum"])), n=1)
        return Problem(
            filename,
            line,
            column,
            where,
            f"{value!r} is not allowed",
            (f"did you mean {close[0]!r}? " if close else "") + f"one of: {options}",
        )
    if validator == "const":
        const = subschema["const"]
        return Problem(
            filename,
            line,
            column,
            where,
            f"{value!r} ({_type_name(value)}) is not supported",
            f"{const!r} ({_type_name(const)})",
        )
    if validator == "pattern":
        hint = subschema.get("description") or f"a string matching {subschema['pattern']}"
        return Problem(filename, line, column, where, f"{value!r} is not well formed", hint)
    if validator == "oneOf" and section == "commands":
        if isinstance(value, Mapping) and len(value) == 1:
            ((join, commands),) = value.items()
            if join in ("then", "or") and isinstance(commands, list) and len(commands) < 2:
                return Problem(
                    filename,
                    line,
                    column,
                    where,
                    f"{{{join}: [...]}} joins two or more commands, found {len(commands)}",
                    "a plain command line for one command",
                )
        return Problem(
            filename,
            line,
            column,
            where,
            f"{_type_name(value)} is not a command",
            "a command line, {then: [two or more commands]} or {or: [two or more commands]}",
        )
    if validator in ("minItems", "minLength"):
        return Problem(
            filename,
            line,
            column,
            where,
            "is empty",
            subschema.get("description") or "at least one item",
        )
    if validator == "uniqueItems":
        return Problem(filename, line, column, where, "lists an item twice", "each item once")
    return Problem(filename, line, column, where, error.message, subschema.get("description", ""))


def _rule_problems(data: CommentedMap, filename: str) -> Iterator[Problem]:
    """The project's rules that no schema holds (run on schema-valid data)."""
    from slurm2sky.sbatch import option_table

    for section in SECTIONS:
        seen_ids: dict[str, int] = {}
        for index, row in enumerate(data[section]):
            line, column = _value_position(row, "id")
            if row["id"] in seen_ids:
                yield Problem(
                    filename,
                    line,
                    column,
                    f"{section}[{index}].id",
                    f"duplicate id {row['id']!r} (first at line {seen_ids[row['id']]})",
                    "ids are unique within a section",
                )
            else:
                seen_ids[row["id"]] = line
            yield from _markup_problems(row, f"{section}[{index}]", filename)

    table = option_table()
    claimed: dict[str, tuple[str, int]] = {}

    def claim(name: str, where: str, node: Any, key: str | int) -> Iterator[Problem]:
        line, column = _value_position(node, key)
        if name not in table:
            close = difflib.get_close_matches(name, list(table), n=1)
            yield Problem(
                filename,
                line,
                column,
                where,
                f"--{name} is not an sbatch option",
                (f"did you mean --{close[0]}? " if close else "")
                + "a long option name of sbatch(1) or pyxis, without dashes",
            )
        elif name in claimed:
            other, other_line = claimed[name]
            yield Problem(
                filename,
                line,
                column,
                where,
                f"a second row for --{name} (also {other}, line {other_line})",
                "one row per sbatch option: remove one",
            )
        else:
            claimed[name] = (where, line)

    for index, row in enumerate(data["options"]):
        where = f"options[{index}].option"
        yield from claim(row["option"], where, row, "option")
        known = table.get(row["option"])
        for position, alias in enumerate(row.get("aliases", ())):
            alias_where = f"options[{index}].aliases[{position}]"
            if alias in table and known is not None and table[alias]["id"] != known["id"]:
                line, column = _value_position(row["aliases"], position)
                yield Problem(
                    filename,
                    line,
                    column,
                    alias_where,
                    f"--{alias} is another option than --{row['option']}, not a second name of it",
                    "a long name sbatch maps to the same option",
                )
            else:
                yield from claim(alias, alias_where, row["aliases"], position)
        spellings = option_spellings(row["option"], row.get("short"), row.get("aliases", ()))
        first = row["example"].split()[0].split("=")[0]
        if (
            known is not None
            and first not in spellings
            and not (row.get("short") and first.startswith(f"-{row['short']}"))
        ):
            line, column = _value_position(row, "example")
            yield Problem(
                filename,
                line,
                column,
                f"options[{index}].example",
                f"the example starts with {first}, not with the row's option",
                "an example that uses " + " or ".join(spellings),
            )
        if known is not None and row.get("short") != known["short"]:
            line, column = _value_position(row, "short") if "short" in row else _position(row, None)
            expected = f"short: {known['short']}" if known["short"] else "no short letter"
            found = f"-{row['short']}" if row.get("short") else "none"
            yield Problem(
                filename,
                line,
                column,
                f"options[{index}].short",
                f"--{row['option']} has short option {found} here, "
                f"but sbatch's is {'-' + known['short'] if known['short'] else 'none'}",
                expected,
            )
    for index, row in enumerate(data["option-categories"]):
        for position, name in enumerate(row["options"]):
            yield from claim(
                name, f"option-categories[{index}].options[{position}]", row["options"], position
            )
    yield from _pattern_problems(data, filename)


def _pattern_problems(data: CommentedMap, filename: str) -> Iterator[Problem]:
    """``gpu-types`` and ``modules``: each pattern in one row only (the first match
    wins, so a second copy could never apply), and exactly one default GPU type."""
    for section, key in (("gpu-types", "slurm"), ("modules", "module")):
        seen: dict[str, tuple[str, int]] = {}
        for index, row in enumerate(data[section]):
            for position, pattern in enumerate(row[key]):
                where = f"{section}[{index}].{key}[{position}]"
                line, column = _value_position(row[key], position)
                if pattern in seen:
                    other, other_line = seen[pattern]
                    yield Problem(
                        filename,
                        line,
                        column,
                        where,
                        f"the pattern {pattern!r} is also in {other} (line {other_line}), "
                        "which comes first and wins",
                        "each pattern in one row",
                    )
                else:
                    seen[pattern] = (where, line)
    defaults = [(index, row) for index, row in enumerate(data["gpu-types"]) if row.get("default")]
    if len(defaults) != 1:
        if defaults:
            index, row = defaults[1]
            line, column = _value_position(row, "default")
            where = f"gpu-types[{index}].default"
            found = f"{len(defaults)} rows are marked default"
        else:
            line, column = _position(data, "gpu-types")
            where = "gpu-types"
            found = "no row is marked default"
        yield Problem(
            filename,
            line,
            column,
            where,
            f"{found}; the default is the type a GPU request without a type gets",
            "default: true on exactly one row",
        )


_MARKUP_FIELDS = ("note", "description", "derivation")


def _markup_problems(row: CommentedMap, where: str, filename: str) -> Iterator[Problem]:
    for key in _MARKUP_FIELDS:
        if key in row:
            message = markup_error(row[key])
            if message:
                line, column = _value_position(row, key)
                yield Problem(
                    filename,
                    line,
                    column,
                    f"{where}.{key}",
                    message,
                    "one paragraph of reStructuredText inline markup: ``literal``, "
                    "*emphasis*, **strong**, `text <https://…>`_",
                )


def markup_error(text: str) -> str | None:
    """Why ``text`` is not one paragraph of valid rST inline markup, or None.

    Parsed with docutils' own reStructuredText parser (imported lazily), with no
    roles beyond docutils' standard ones. Returns the first problem docutils reports,
    or says that the text is not a single paragraph.
    """
    from docutils import nodes
    from docutils.frontend import get_default_settings
    from docutils.parsers.rst import Parser
    from docutils.utils import new_document

    settings = get_default_settings(Parser)
    settings.report_level = 5
    settings.halt_level = 5
    settings.warning_stream = False
    document = new_document("<note>", settings)
    Parser().parse(text, document)
    messages = [m for m in document.findall(nodes.system_message) if m["level"] >= 2]
    if messages:
        return "inline markup does not parse: " + " ".join(messages[0].astext().split())
    for literal in document.findall(nodes.literal):
        if "``" in literal.astext():
            return (
                "an inline literal holds ``: one ``literal`` was probably not closed "
                f"(it reads: ``{literal.astext()}``)"
            )
    if any(True for _ in document.findall(nodes.title_reference)):
        return "`single backquotes` have no meaning here: use ``double`` for code"
    if len(document.children) != 1 or not isinstance(document.children[0], nodes.paragraph):
        kinds = ", ".join(child.tagname for child in document.children) or "nothing"
        return f"expected one paragraph of inline markup, found: {kinds}"
    return None
