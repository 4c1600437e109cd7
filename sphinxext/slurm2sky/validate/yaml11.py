"""Read YAML exactly as SkyPilot does, and remember where every key and value is.

SkyPilot 0.14.1 reads task, config and volume files with PyYAML's ``safe_load`` /
``safe_load_all`` (``sky/utils/yaml_utils.py``): YAML 1.1, so ``yes``/``no``/``on``/
``off`` are booleans, ``1:30`` is the sexagesimal integer 90, ``0777`` is octal 511,
``1e3`` is a *string* (PyYAML's 1.1 float needs a dot and a signed exponent) and
``2024-01-01`` is a :class:`datetime.date`. Before loading a task file its chain
loader rejects duplicate keys (``yaml_utils.check_no_duplicate_keys``), comparing the
raw text of scalar keys in each mapping. Where libyaml (PyYAML's ``CSafeLoader``, which
SkyPilot uses when it is installed, as it is in PyYAML's wheels) and the pure-Python
scanner differ, libyaml is followed: a ``\\uD800``-``\\uDFFF`` escape is refused.

This module reproduces those values with ruamel.yaml's composer (pure Python, so it
also runs in the browser) and its own YAML 1.1 resolver and constructor written to
PyYAML's published rules; it never imports PyYAML. Every key and value keeps its
1-based line and column so messages can point at them.

Public entry point: :func:`load_documents`. Errors: :class:`YamlError` (a syntax or
construction error, located).
"""

from __future__ import annotations

import base64
import binascii
import datetime
import io
import math
import re
import warnings
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Document",
    "DuplicateKey",
    "Position",
    "YamlError",
    "load_documents",
]

Path = tuple[Any, ...]


@dataclass(frozen=True)
class Position:
    """Where a mapping entry or sequence item sits in the text: 1-based line and column
    of its key (for sequence items, of the item) and of its value."""

    key_line: int
    key_column: int
    value_line: int
    value_column: int


@dataclass(frozen=True)
class DuplicateKey:
    """A key written twice in one mapping (SkyPilot's ``check_no_duplicate_keys``).

    ``raw`` is the key's text; lines and columns are 1-based; ``document`` is the
    index of the YAML document.
    """

    raw: str
    line: int
    column: int
    first_line: int
    document: int

    @property
    def message(self) -> str:
        """SkyPilot 0.14.1's wording (``yaml_utils.check_no_duplicate_keys``)."""
        return (
            f"Duplicate key {self.raw!r} in YAML at line {self.line} "
            f"(also defined at line {self.first_line}). Remove one of the entries so "
            "the intended value is unambiguous."
        )


@dataclass
class Document:
    """One YAML document: the value PyYAML's ``safe_load`` gives (``None`` for an empty
    document), the position of every key/value by path (a tuple of mapping keys and
    sequence indices from the document root), and where the document starts."""

    data: Any
    positions: dict[Path, Position] = field(default_factory=dict)
    line: int = 1
    column: int = 1
    index: int = 0

    def locate(self, path: Path, *, at_key: bool = False) -> tuple[int, int]:
        """(line, column) of ``path``'s value (or key), else of its nearest located
        ancestor, else of the document's start."""
        probe = tuple(path)
        while probe:
            pos = self.positions.get(probe)
            if pos is not None:
                if at_key:
                    return pos.key_line, pos.key_column
                return pos.value_line, pos.value_column
            probe = probe[:-1]
            at_key = False
        return self.line, self.column


class YamlError(ValueError):
    """The text is not YAML that PyYAML's ``safe_load`` accepts.

    Attributes: ``line``/``column`` (1-based, 0 if unknown), ``problem`` (what is
    wrong, in the YAML library's words) and ``document`` (index, 0 if unknown).
    """

    def __init__(self, problem: str, line: int = 0, column: int = 0, document: int = 0):
        super().__init__(problem)
        self.problem = problem
        self.line = line
        self.column = column
        self.document = document


# ---------------------------------------------------------------------------
# YAML 1.1 implicit types, as PyYAML's SafeLoader resolves plain scalars

_STR = "tag:yaml.org,2002:str"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_NULL = "tag:yaml.org,2002:null"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_MERGE = "tag:yaml.org,2002:merge"
_VALUE = "tag:yaml.org,2002:value"
_BINARY = "tag:yaml.org,2002:binary"
_SET = "tag:yaml.org,2002:set"
_OMAP = "tag:yaml.org,2002:omap"
_PAIRS = "tag:yaml.org,2002:pairs"

#: (tag, pattern, first characters), in PyYAML's registration order
_IMPLICIT: tuple[tuple[str, re.Pattern[str], str], ...] = (
    (
        _BOOL,
        re.compile(
            r"^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$"
        ),
        "yYnNtTfFoO",
    ),
    (
        _FLOAT,
        re.compile(
            r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?"
            r"|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?"
            r"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*"
            r"|[-+]?\.(?:inf|Inf|INF)"
            r"|\.(?:nan|NaN|NAN))$"
        ),
        "-+0123456789.",
    ),
    (
        _INT,
        re.compile(
            r"^(?:[-+]?0b[0-1_]+"
            r"|[-+]?0[0-7_]+"
            r"|[-+]?(?:0|[1-9][0-9_]*)"
            r"|[-+]?0x[0-9a-fA-F_]+"
            r"|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$"
        ),
        "-+0123456789",
    ),
    (_MERGE, re.compile(r"^(?:<<)$"), "<"),
    (_NULL, re.compile(r"^(?:~|null|Null|NULL|)$"), "~nN\0"),
    (
        _TIMESTAMP,
        re.compile(
            r"^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"
            r"|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?"
            r"(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?"
            r"(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$"
        ),
        "0123456789",
    ),
    (_VALUE, re.compile(r"^(?:=)$"), "="),
)

_BY_FIRST: dict[str, list[tuple[str, re.Pattern[str]]]] = {}
for _tag, _pattern, _first in _IMPLICIT:
    for _ch in _first:
        _BY_FIRST.setdefault("" if _ch == "\0" else _ch, []).append((_tag, _pattern))


def resolve_plain(value: str) -> str:
    """The tag PyYAML's SafeLoader (YAML 1.1) gives an untagged plain scalar."""
    for tag, pattern in _BY_FIRST.get(value[:1], ()):
        if pattern.match(value):
            return tag
    return _STR


def _resolver_class() -> type:
    """A ruamel.yaml resolver class that applies :func:`resolve_plain` (built lazily so
    importing this module does not import ruamel.yaml)."""
    from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode
    from ruamel.yaml.resolver import BaseResolver
    from ruamel.yaml.tag import Tag

    tags = {name: Tag(suffix=name) for name, _pattern, _first in _IMPLICIT}
    tags.update({name: Tag(suffix=name) for name in (_STR, _SEQ, _MAP)})

    class Yaml11Resolver(BaseResolver):  # type: ignore[misc]
        def __init__(self, version: Any = None, loader: Any = None, loadumper: Any = None):
            super().__init__(loader if loader is not None else loadumper)

        def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
            if kind is ScalarNode:
                return tags[resolve_plain(value) if implicit[0] else _STR]
            if kind is SequenceNode:
                return tags[_SEQ]
            if kind is MappingNode:
                return tags[_MAP]
            return tags[_STR]

        @property
        def processing_version(self) -> Any:
            return (1, 1)

    return Yaml11Resolver


_YAML_FACTORY: Any = None


def _new_yaml() -> Any:
    global _YAML_FACTORY
    if _YAML_FACTORY is None:
        from ruamel.yaml import YAML

        resolver = _resolver_class()

        def factory() -> Any:
            yaml = YAML(typ="safe", pure=True)
            yaml.Resolver = resolver
            return yaml

        _YAML_FACTORY = factory
    return _YAML_FACTORY()


# ---------------------------------------------------------------------------
# Construction, as PyYAML's SafeConstructor does it


class _ConstructError(Exception):
    def __init__(self, problem: str, mark: Any):
        super().__init__(problem)
        self.problem = problem
        self.mark = mark


_BOOL_VALUES = {"yes": True, "no": False, "true": True, "false": False, "on": True, "off": False}
_TIMESTAMP_PARTS = re.compile(
    r"^(?P<year>[0-9][0-9][0-9][0-9])-(?P<month>[0-9][0-9]?)-(?P<day>[0-9][0-9]?)"
    r"(?:(?:[Tt]|[ \t]+)(?P<hour>[0-9][0-9]?):(?P<minute>[0-9][0-9]):(?P<second>[0-9][0-9])"
    r"(?:\.(?P<fraction>[0-9]*))?"
    r"(?:[ \t]*(?P<tz>Z|(?P<tz_sign>[-+])(?P<tz_hour>[0-9][0-9]?)"
    r"(?::(?P<tz_minute>[0-9][0-9]))?))?)?$"
)


def _sexagesimal(parts: list[Any]) -> Any:
    value, base = parts[0] * 0, 1
    for digit in reversed(parts):
        value += digit * base
        base *= 60
    return value


def construct_int(text: str) -> int:
    """An int from a YAML 1.1 int scalar: ``_`` ignored, ``0b``/``0x``/leading-``0``
    octal, ``a:b:c`` base 60 (PyYAML ``construct_yaml_int``)."""
    value = text.replace("_", "")
    sign = -1 if value[:1] == "-" else 1
    if value[:1] in ("+", "-"):
        value = value[1:]
    if value == "0":
        return 0
    if value.startswith("0b"):
        return sign * int(value[2:], 2)
    if value.startswith("0x"):
        return sign * int(value[2:], 16)
    if value[:1] == "0":
        return sign * int(value, 8)
    if ":" in value:
        return sign * _sexagesimal([int(part) for part in value.split(":")])
    return sign * int(value)


def construct_float(text: str) -> float:
    """A float from a YAML 1.1 float scalar (PyYAML ``construct_yaml_float``)."""
    value = text.replace("_", "").lower()
    sign = -1 if value[:1] == "-" else 1
    if value[:1] in ("+", "-"):
        value = value[1:]
    if value == ".inf":
        return sign * math.inf
    if value == ".nan":
        return math.nan
    if ":" in value:
        return sign * _sexagesimal([float(part) for part in value.split(":")])
    return sign * float(value)


def construct_timestamp(text: str) -> datetime.date | datetime.datetime:
    """A date or (possibly timezone-aware) datetime (PyYAML ``construct_yaml_timestamp``)."""
    match = _TIMESTAMP_PARTS.match(text)
    if match is None:
        raise ValueError(f"invalid timestamp {text!r}")
    parts = match.groupdict()
    year, month, day = int(parts["year"]), int(parts["month"]), int(parts["day"])
    if not parts["hour"]:
        return datetime.date(year, month, day)
    hour, minute, second = int(parts["hour"]), int(parts["minute"]), int(parts["second"])
    fraction = 0
    if parts["fraction"]:
        fraction = int(parts["fraction"][:6].ljust(6, "0"))
    tzinfo: datetime.tzinfo | None = None
    if parts["tz_sign"]:
        delta = datetime.timedelta(
            hours=int(parts["tz_hour"]), minutes=int(parts["tz_minute"] or 0)
        )
        if parts["tz_sign"] == "-":
            delta = -delta
        tzinfo = datetime.timezone(delta)
    elif parts["tz"]:
        tzinfo = datetime.UTC
    return datetime.datetime(year, month, day, hour, minute, second, fraction, tzinfo=tzinfo)


def _tag(node: Any) -> str:
    tag = node.tag
    return str(getattr(tag, "value", tag))


class _Builder:
    """Builds Python values from one composed document and records positions."""

    def __init__(self, positions: dict[Path, Position]):
        self.positions = positions
        self.built: dict[int, Any] = {}
        self.building: set[int] = set()

    def record(self, path: Path, key_mark: Any, value_mark: Any) -> None:
        self.positions[path] = Position(
            key_mark.line + 1, key_mark.column + 1, value_mark.line + 1, value_mark.column + 1
        )

    def build(self, node: Any, path: Path) -> Any:
        key = id(node)
        if key in self.built:
            self._record_only(node, path, set())
            return self.built[key]
        if key in self.building:
            raise _ConstructError("found unconstructable recursive node", node.start_mark)
        self.building.add(key)
        try:
            value = self._build(node, path)
        finally:
            self.building.discard(key)
        self.built[key] = value
        return value

    def _record_only(self, node: Any, path: Path, seen: set[int]) -> None:
        """Positions of an aliased node's children at another path."""
        if id(node) in seen:
            return
        seen.add(id(node))
        kind = type(node).__name__
        if kind == "MappingNode":
            for key_node, value_node in self._flatten(node):
                if type(key_node).__name__ != "ScalarNode":
                    continue
                try:
                    key = self.built.get(id(key_node), None) or self._scalar(key_node)
                except Exception:
                    continue
                if isinstance(key, Hashable):
                    self.record((*path, key), key_node.start_mark, value_node.start_mark)
                    self._record_only(value_node, (*path, key), seen)
        elif kind == "SequenceNode":
            for index, item in enumerate(node.value):
                self.record((*path, index), item.start_mark, item.start_mark)
                self._record_only(item, (*path, index), seen)

    def _build(self, node: Any, path: Path) -> Any:
        kind = type(node).__name__
        tag = _tag(node)
        if kind == "ScalarNode":
            return self._scalar(node)
        if kind == "SequenceNode":
            if tag == _SEQ:
                items = []
                for index, item in enumerate(node.value):
                    self.record((*path, index), item.start_mark, item.start_mark)
                    items.append(self.build(item, (*path, index)))
                return items
            if tag in (_OMAP, _PAIRS):
                pairs = []
                for index, item in enumerate(node.value):
                    if type(item).__name__ != "MappingNode" or len(item.value) != 1:
                        raise _ConstructError(
                            f"while constructing an ordered map: expected a mapping of "
                            f"length 1, but found {type(item).__name__}",
                            item.start_mark,
                        )
                    key_node, value_node = item.value[0]
                    self.record((*path, index), item.start_mark, item.start_mark)
                    pairs.append(
                        (self.build(key_node, (*path, index)), self.build(value_node, path))
                    )
                return pairs
            raise _ConstructError(
                f"could not determine a constructor for the tag {tag!r}", node.start_mark
            )
        if kind == "MappingNode":
            if tag == _SET:
                result_set = set()
                for key_node, _value in self._flatten(node):
                    result_set.add(self._hashable(self.build(key_node, path), key_node))
                return result_set
            if tag in (_OMAP, _PAIRS):
                raise _ConstructError(
                    "while constructing an ordered map: expected a sequence, but found a mapping",
                    node.start_mark,
                )
            if tag != _MAP:
                raise _ConstructError(
                    f"could not determine a constructor for the tag {tag!r}", node.start_mark
                )
            mapping: dict[Any, Any] = {}
            for key_node, value_node in self._flatten(node):
                if _tag(key_node) == _VALUE:
                    key = "="  # PyYAML's flatten_mapping turns a `=` key into a string
                else:
                    key = self._hashable(self.build(key_node, path), key_node)
                self.record((*path, key), key_node.start_mark, value_node.start_mark)
                mapping[key] = self.build(value_node, (*path, key))
            return mapping
        raise _ConstructError(f"unexpected node {kind}", node.start_mark)

    @staticmethod
    def _hashable(key: Any, node: Any) -> Any:
        try:
            hash(key)
        except TypeError:
            raise _ConstructError(
                "while constructing a mapping: found unhashable key", node.start_mark
            ) from None
        return key

    def _flatten(self, node: Any) -> list[tuple[Any, Any]]:
        """The mapping's pairs with ``<<`` merge keys expanded, merged pairs first
        (PyYAML ``flatten_mapping``); a ``=`` key is the string ``"="``."""
        merge: list[tuple[Any, Any]] = []
        own: list[tuple[Any, Any]] = []
        for key_node, value_node in node.value:
            if _tag(key_node) == _MERGE:
                value_kind = type(value_node).__name__
                if value_kind == "MappingNode":
                    merge.extend(self._flatten(value_node))
                elif value_kind == "SequenceNode":
                    groups = []
                    for sub in value_node.value:
                        if type(sub).__name__ != "MappingNode":
                            raise _ConstructError(
                                "while constructing a mapping: expected a mapping for "
                                f"merging, but found {type(sub).__name__}",
                                sub.start_mark,
                            )
                        groups.append(self._flatten(sub))
                    for group in reversed(groups):
                        merge.extend(group)
                else:
                    raise _ConstructError(
                        "while constructing a mapping: expected a mapping or list of "
                        f"mappings for merging, but found {value_kind}",
                        value_node.start_mark,
                    )
            else:
                own.append((key_node, value_node))
        return merge + own

    def _scalar(self, node: Any) -> Any:
        tag = _tag(node)
        text = node.value
        try:
            if tag == _STR:
                return text
            if tag == _NULL:
                return None
            if tag == _BOOL:
                return _BOOL_VALUES[text.lower()]
            if tag == _INT:
                return construct_int(text)
            if tag == _FLOAT:
                return construct_float(text)
            if tag == _TIMESTAMP:
                return construct_timestamp(text)
            if tag == _BINARY:
                try:
                    return base64.decodebytes(text.encode("ascii"))
                except (binascii.Error, UnicodeEncodeError) as error:
                    raise _ConstructError(
                        f"failed to decode base64 data: {error}", node.start_mark
                    ) from None
        except _ConstructError:
            raise
        except (ValueError, KeyError, IndexError) as error:
            raise _ConstructError(
                f"cannot construct {tag.rsplit(':', 1)[-1]} from {text!r}: {error}",
                node.start_mark,
            ) from None
        if tag in (_SEQ, _MAP, _SET, _OMAP, _PAIRS):
            raise _ConstructError(
                f"expected a {'sequence' if tag in (_SEQ, _OMAP, _PAIRS) else 'mapping'} "
                f"node, but found scalar",
                node.start_mark,
            )
        raise _ConstructError(
            f"could not determine a constructor for the tag {tag!r}", node.start_mark
        )


def _key_text(node: Any) -> str:
    return node.value if isinstance(node.value, str) else str(node.value)


def _duplicates(root: Any, document: int) -> list[DuplicateKey]:
    """Keys written twice in one mapping: scalar keys compared by their raw text, merge
    keys included, non-scalar keys skipped (SkyPilot 0.14.1
    ``yaml_utils.check_no_duplicate_keys``)."""
    found: list[DuplicateKey] = []
    seen_nodes: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        kind = type(node).__name__
        if kind == "MappingNode":
            first: dict[str, int] = {}
            for key_node, value_node in node.value:
                if type(key_node).__name__ == "ScalarNode":
                    raw = _key_text(key_node)
                    line = key_node.start_mark.line
                    if raw in first:
                        found.append(
                            DuplicateKey(
                                raw,
                                line + 1,
                                key_node.start_mark.column + 1,
                                first[raw] + 1,
                                document,
                            )
                        )
                    else:
                        first[raw] = line
                stack.append(value_node)
        elif kind == "SequenceNode":
            stack.extend(node.value)
    found.sort(key=lambda dup: (dup.line, dup.column))
    return found


def _mark_error(error: Any, text: str, document: int) -> YamlError:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    context = getattr(error, "context", None)
    message = f"{context}: {problem}" if context and problem else str(problem)
    line = mark.line + 1 if mark is not None else 0
    column = mark.column + 1 if mark is not None else 0
    position = getattr(error, "position", None)  # a reader error: a character's index
    if mark is None and isinstance(position, int) and 0 <= position <= len(text):
        line = text.count("\n", 0, position) + 1
        column = position - (text.rfind("\n", 0, position) + 1) + 1
    return YamlError(message.strip(), line, column, document)


#: An escape in a double-quoted scalar (the text between its quotes).
_ESCAPE = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|.)", re.S)


def _bad_escape(node: Any, text: str) -> tuple[int, int] | None:
    """Where the first ``\\uD800``-``\\uDFFF`` escape (a lone surrogate) of a
    double-quoted scalar in ``node`` is: 1-based line and column of its hex digits.
    libyaml, which SkyPilot's ``safe_load`` uses (``CSafeLoader``), refuses them ("found
    invalid Unicode character escape code"); PyYAML's pure-Python scanner does not."""
    stack = [node]
    while stack:
        current = stack.pop()
        value = current.value
        if isinstance(value, list):
            for item in reversed(value):
                stack.extend(reversed(item) if isinstance(item, tuple) else (item,))
            continue
        if current.style != '"' or not any("\ud800" <= c <= "\udfff" for c in value):
            continue
        start, end = current.start_mark.index, current.end_mark.index
        for match in _ESCAPE.finditer(text, start, end):
            digits = match.group(1) or match.group(2)
            if digits and 0xD800 <= int(digits, 16) <= 0xDFFF:
                at = match.start() + 2
                line = text.count("\n", 0, at) + 1
                return line, at - (text.rfind("\n", 0, at) + 1) + 1
    return None


def load_documents(text: str) -> tuple[list[Document], list[DuplicateKey]]:
    """Every YAML document in ``text`` with PyYAML ``safe_load_all``'s values.

    Returns:
        ``(documents, duplicate_keys)``; an empty or comment-only text gives no
        documents. Positions are 1-based and absolute in ``text``.

    Raises:
        YamlError: a syntax error (as PyYAML's scanner/parser/composer reports, e.g.
            a reused anchor) or a value that cannot be constructed (an unknown tag such
            as ``!Ref``, an unhashable key, a bad ``!!binary``), located.
    """
    from ruamel.yaml.error import ReusedAnchorWarning, YAMLError

    yaml = _new_yaml()
    nodes: list[Any] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", ReusedAnchorWarning)
            for node in yaml.compose_all(io.StringIO(text)):
                nodes.append(node)
    except ReusedAnchorWarning as warning:
        raise YamlError(
            str(warning).strip().splitlines()[0], *_warning_mark(warning), len(nodes)
        ) from None
    except YAMLError as error:
        raise _mark_error(error, text, len(nodes)) from None
    except (ValueError, TypeError, IndexError) as error:
        raise YamlError(str(error), 0, 0, len(nodes)) from None

    documents: list[Document] = []
    duplicates: list[DuplicateKey] = []
    for index, node in enumerate(nodes):
        if node is not None and ("\\u" in text or "\\U" in text):
            where = _bad_escape(node, text)
            if where is not None:
                raise YamlError(
                    "while parsing a quoted scalar: found invalid Unicode character escape "
                    "code (a surrogate, \\uD800-\\uDFFF, is not a character)",
                    *where,
                    index,
                )
        positions: dict[Path, Position] = {}
        builder = _Builder(positions)
        try:
            data = None if node is None else builder.build(node, ())
        except _ConstructError as error:
            mark = error.mark
            raise YamlError(
                error.problem,
                mark.line + 1 if mark is not None else 0,
                mark.column + 1 if mark is not None else 0,
                index,
            ) from None
        except RecursionError:
            raise YamlError("document nested too deeply", 0, 0, index) from None
        start = node.start_mark if node is not None else None
        documents.append(
            Document(
                data,
                positions,
                start.line + 1 if start is not None else 1,
                start.column + 1 if start is not None else 1,
                index,
            )
        )
        if node is not None:
            duplicates.extend(_duplicates(node, index))
    return documents, duplicates


def _warning_mark(warning: Warning) -> tuple[int, int]:
    found = re.findall(r"line (\d+), column (\d+)", str(warning))
    if found:
        line, column = found[-1]
        return int(line), int(column)
    return 0, 0
