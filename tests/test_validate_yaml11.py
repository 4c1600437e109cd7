"""slurm2sky.validate.yaml11: YAML read as SkyPilot reads it (PyYAML safe_load, YAML 1.1),
with positions, duplicate keys as SkyPilot's chain loader finds them, and located errors.

PyYAML itself is the reference where it is installed (it comes with myst-parser);
the expected values are also written out, so the tests say what YAML 1.1 means.
"""

from __future__ import annotations

import datetime
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slurm2sky.validate.yaml11 import YamlError, load_documents, resolve_plain

yaml = pytest.importorskip("yaml")


def load(text: str) -> Any:
    documents, _duplicates = load_documents(text)
    return documents[0].data


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


UTC_MINUS_5 = datetime.timezone(datetime.timedelta(hours=-5))


@pytest.mark.parametrize(
    ("scalar", "value"),
    [
        ("yes", True),
        ("Yes", True),
        ("on", True),
        ("OFF", False),
        ("no", False),
        ("y", "y"),
        ("n", "n"),
        ("tRue", "tRue"),
        ("1:30", 90),
        ("-1:30", -90),
        ("190:20:30", 685230),
        ("1:30.5", 90.5),
        ("12:60", "12:60"),
        ("0777", 511),
        ("0o17", "0o17"),
        ("09", "09"),
        ("0x1F", 31),
        ("0b101", 5),
        ("1_000", 1000),
        ("+12", 12),
        ("-0", 0),
        ("1e3", "1e3"),
        ("1.0e3", "1.0e3"),
        ("1.0e+3", 1000.0),
        ("1.", 1.0),
        (".5", 0.5),
        ("._1", "._1"),
        ("-.inf", -math.inf),
        ("~", None),
        ("Null", None),
        ("", None),
        ("2024-01-01", datetime.date(2024, 1, 1)),
        ("2024-01-01 10:00:00", datetime.datetime(2024, 1, 1, 10, 0)),
        (
            "2001-12-14t21:59:43.10-05:00",
            datetime.datetime(2001, 12, 14, 21, 59, 43, 100000, tzinfo=UTC_MINUS_5),
        ),
        ("! 12", 12),
        ("!!str 12", "12"),
        ("!!int '12'", 12),
        ("!!float 1", 1.0),
        ("'yes'", "yes"),
        ('"1:30"', "1:30"),
    ],
)
def test_scalars_have_yaml_1_1_values(scalar: str, value: Any) -> None:
    text = f"key: {scalar}\n"
    assert same(load(text)["key"], value)
    assert same(yaml.safe_load(text)["key"], value)


def test_nan() -> None:
    assert math.isnan(load("k: .NaN\n")["k"])


def test_merge_keys_and_aliases() -> None:
    text = (
        "base: &base {cpus: 4, memory: 16}\n"
        "a:\n  <<: *base\n  cpus: 8\n"
        "b:\n  <<: [{x: 1, y: 1}, {x: 2, z: 2}]\n"
        "c: *base\n"
        "=: value-key\n"
    )
    data = load(text)
    assert data == yaml.safe_load(text)
    assert data["a"] == {"cpus": 8, "memory": 16}
    assert data["b"] == {"x": 1, "z": 2, "y": 1}
    assert data["c"] is data["base"]
    assert data["="] == "value-key"


def test_sets_omap_binary() -> None:
    text = "s: !!set {a, b}\no: !!omap [{x: 1}, {y: 2}]\nb: !!binary aGVsbG8=\n"
    data = load(text)
    assert data == yaml.safe_load(text)
    assert data == {"s": {"a", "b"}, "o": [("x", 1), ("y", 2)], "b": b"hello"}


def test_documents_and_empty_texts() -> None:
    assert load_documents("")[0] == []
    assert load_documents("# only a comment\n")[0] == []
    documents, _ = load_documents("---\n")
    assert [d.data for d in documents] == [None]
    documents, _ = load_documents("a: 1\n---\nb: 2\n")
    assert [d.data for d in documents] == [{"a": 1}, {"b": 2}]
    assert [(d.index, d.line) for d in documents] == [(0, 1), (1, 3)]


def test_positions_of_keys_and_values() -> None:
    text = "name: x\nresources:\n  any_of:\n    - infra: aws\n      cpus: 4\n"
    document = load_documents(text)[0][0]
    assert document.locate(("name",)) == (1, 7)
    assert document.locate(("name",), at_key=True) == (1, 1)
    assert document.locate(("resources", "any_of", 0, "cpus")) == (5, 13)
    assert document.locate(("resources", "any_of", 0, "cpus"), at_key=True) == (5, 7)
    # unknown paths fall back to the nearest located ancestor, then the document
    assert document.locate(("resources", "nope")) == (3, 3)
    assert document.locate(("missing",)) == (1, 1)


def test_positions_in_later_documents_are_absolute() -> None:
    documents, _ = load_documents("name: p\n---\nrun: a\n---\n\nrun: b\n")
    assert documents[2].locate(("run",), at_key=True) == (6, 1)


def test_duplicate_keys_compare_raw_text_like_skypilot() -> None:
    text = "a: 1\n'a': 2\n1: x\n'1': y\nyes: 1\ntrue: 2\nm:\n  - k: 1\n    k: 2\n? [x]\n: 1\n"
    with pytest.raises(YamlError, match="unhashable"):
        load_documents(text)  # PyYAML cannot build a list key either
    _, duplicates = load_documents(text.replace("? [x]\n: 1\n", ""))
    assert [(d.raw, d.line, d.first_line) for d in duplicates] == [
        ("a", 2, 1),
        ("1", 4, 3),
        ("k", 9, 8),
    ]
    assert duplicates[0].message == (
        "Duplicate key 'a' in YAML at line 2 (also defined at line 1). Remove one of the "
        "entries so the intended value is unambiguous."
    )


def test_duplicates_keep_the_last_value_like_pyyaml() -> None:
    text = "run: one\nrun: two\n"
    assert load(text) == yaml.safe_load(text) == {"run": "two"}


@pytest.mark.parametrize(
    ("text", "line", "column", "problem"),
    [
        ("a: [1\n", 2, 1, "expected ',' or ']'"),
        ("a:\n\tb: 1\n", 2, 1, "found character '\\t' that cannot start any token"),
        ("a: b: c\n", 1, 5, "mapping values are not allowed here"),
        ("run: !Sub x\n", 1, 6, "could not determine a constructor for the tag '!Sub'"),
        (
            "run: =\n",
            1,
            6,
            "could not determine a constructor for the tag 'tag:yaml.org,2002:value'",
        ),
        ("a: &x 1\nb: &x 2\n", 2, 4, "found duplicate anchor 'x'"),
        ("a: *nope\n", 1, 4, "found undefined alias"),
        ("d: 2024-13-01\n", 1, 4, "month must be in 1..12"),
    ],
)
def test_errors_are_located(text: str, line: int, column: int, problem: str) -> None:
    with pytest.raises(YamlError) as caught:
        load_documents(text)
    assert (caught.value.line, caught.value.column) == (line, column)
    assert problem in caught.value.problem
    with pytest.raises((yaml.YAMLError, ValueError)):
        list(yaml.safe_load_all(text))


def test_resolver_matches_pyyaml_on_tricky_plain_scalars() -> None:
    for value in ["0b", "0x", "1__0", "+.inf", "1:5", "00", "1_0:30", "0.", "Off", "NULL", "<<"]:
        expected = yaml.SafeLoader.resolve(yaml.SafeLoader, yaml.ScalarNode, value, (True, False))
        assert resolve_plain(value) == expected


PIECES = st.sampled_from(
    [
        "0", "1", "7", "9", "00", "017", "0x1f", "0b10", "1_0", "1.5", ".5", "1.", "1e3",
        "1.0e+3", "1:30", "1:60", "-", "+", ".inf", ".nan", "yes", "no", "on", "y", "True",
        "~", "null", "2024-01-01", "2024-1-1 1:00:00", "a", "b c", "x:y", "=", "<<", "_",
    ]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(["k", "v", "w"]), st.lists(PIECES, min_size=1, max_size=3)))
)
def test_fuzz_values_agree_with_pyyaml(entries: list[tuple[str, list[str]]]) -> None:
    """Plain scalars glued from pieces: same values (or both errors) as PyYAML."""
    lines = [f"{key}{index}: {''.join(parts)}" for index, (key, parts) in enumerate(entries)]
    text = "\n".join(lines) + "\n"
    try:
        expected = list(yaml.safe_load_all(text))
    except Exception:  # any PyYAML failure must be a failure here too
        with pytest.raises(YamlError):
            load_documents(text)
        return
    documents, _ = load_documents(text)
    assert same([d.data for d in documents] or [], [e for e in expected])


def test_the_classic_yaml_1_1_surprises() -> None:
    """``on: yes`` is ``{True: True}``, ``1:30`` is 90, ``0777`` is 511: as PyYAML (and so
    SkyPilot) reads them, not as YAML 1.2 would."""
    text = "on: yes\ntime: 1:30\nmode: 0777\n"
    assert load(text) == yaml.safe_load(text) == {True: True, "time": 90, "mode": 511}
