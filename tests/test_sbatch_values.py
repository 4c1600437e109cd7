"""Value grammars of slurm2sky.sbatch.values (sbatch(1) and Slurm's parsers)."""

from __future__ import annotations

import pytest
from slurm2sky.sbatch.values import (
    ExportSpec,
    Gres,
    ValueProblem,
    expand_hostlist,
    hostlist_count,
    parse_array,
    parse_export,
    parse_gpus,
    parse_gres,
    parse_int,
    parse_mail_type,
    parse_memory,
    parse_node_range,
    parse_signal,
    parse_time,
)


@pytest.mark.parametrize(
    ("value", "minutes"),
    [
        ("90", 90),
        ("30:00", 30),
        ("12:00", 12),  # M:S, not hours
        ("0:30", 1),
        ("1:30", 2),
        ("48:00:00", 48 * 60),
        ("0:0:30", 1),
        ("2-12", 60 * 60),
        ("1-00:30", 24 * 60 + 30),
        ("7-00:00:00", 7 * 24 * 60),
        ("10-48:00:00", 12 * 24 * 60),
        ("2-", 2 * 24 * 60),
        ("0", None),
        ("UNLIMITED", None),
        ("infinite", None),
        ("-1", None),
    ],
)
def test_time(value: str, minutes: int | None) -> None:
    assert parse_time(value) == minutes


@pytest.mark.parametrize(
    "value", ["", "1h", "1.5", "24:00:00 ", "1:2:3:4", "1-2-3", "1:2-3", ":30", "1::2", "-5", "a"]
)
def test_bad_time(value: str) -> None:
    with pytest.raises(ValueProblem) as caught:
        parse_time(value)
    assert caught.value.hint


@pytest.mark.parametrize(
    ("value", "mib"),
    [
        ("4096", 4096),
        ("4G", 4096),
        ("4GB", 4096),
        ("4gb", 4096),
        ("16Gb", 16384),
        ("500m", 500),
        ("1T", 1024 * 1024),
        ("1K", 1),
        ("1025K", 2),
        ("0", 0),
        ("1G", 1024),
    ],
)
def test_memory(value: str, mib: int) -> None:
    assert parse_memory(value) == mib


@pytest.mark.parametrize("value", ["1.5G", "4 G", "4GiB", "4Gi", "100B", "G", "", "-1G", "2P"])
def test_bad_memory(value: str) -> None:
    with pytest.raises(ValueProblem):
        parse_memory(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2", (2, 2)),
        ("2-4", (2, 4)),
        ("-4", (1, 4)),
        ("2-", (2, None)),
        ("1k", (1024, 1024)),
        ("1,5,9,13", (1, 13)),
        ("1-15:4", (1, 15)),
    ],
)
def test_node_range(value: str, expected: tuple[int, int | None]) -> None:
    assert parse_node_range(value) == expected


@pytest.mark.parametrize("value", ["NODES", "4-2", "2x", "", "$N"])
def test_bad_node_range(value: str) -> None:
    with pytest.raises(ValueProblem):
        parse_node_range(value)


def test_int() -> None:
    assert parse_int("8") == 8
    assert parse_int("0", positive=False) == 0
    for bad in ("0", "-1", "4 tasks", "=4", "2147483648", ""):
        with pytest.raises(ValueProblem):
            parse_int(bad)


@pytest.mark.parametrize(
    ("value", "items"),
    [
        ("gpu", [Gres("gpu", None, 1)]),
        ("gpu:4", [Gres("gpu", None, 4)]),
        ("gpu:a100:4", [Gres("gpu", "a100", 4)]),
        ("gpu:a100", [Gres("gpu", "a100", 1)]),
        ("gpu:v100:2,nvme:1", [Gres("gpu", "v100", 2), Gres("nvme", None, 1)]),
        ("gres/gpu:2", [Gres("gpu", None, 2)]),
        ("gpu:tesla:a100:2", [Gres("gpu", "tesla:a100", 2)]),
        ("gpu:3g.71gb:1", [Gres("gpu", "3g.71gb", 1)]),
        ("gpu:nvidia_a100-sxm4-80gb:8", [Gres("gpu", "nvidia_a100-sxm4-80gb", 8)]),
        ("bandwidth:lustre:4G", [Gres("bandwidth", "lustre", 4 * 1024**3)]),
        ("gpu:0,nvme:1", [Gres("nvme", None, 1)]),
        ("none", []),
    ],
)
def test_gres(value: str, items: list[Gres]) -> None:
    assert parse_gres(value) == items


@pytest.mark.parametrize("value", ["", "gpu:$N", "<gpus>", "gpu::2", "help", ",gpu"])
def test_bad_gres(value: str) -> None:
    with pytest.raises(ValueProblem):
        parse_gres(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("4", [(None, 4)]),
        ("a100:4", [("a100", 4)]),
        ("a100", [("a100", 1)]),
        ("volta:3,kepler:1", [("volta", 3), ("kepler", 1)]),
        ("gpu:a100:2", [("a100", 2)]),
    ],
)
def test_gpus(value: str, expected: list[tuple[str | None, int]]) -> None:
    assert parse_gpus(value) == expected


@pytest.mark.parametrize(
    ("value", "indices", "throttle", "step"),
    [
        ("0-15", tuple(range(16)), None, 1),
        ("1,3,5", (1, 3, 5), None, 1),
        ("0,6,16-32", (0, 6, *range(16, 33)), None, 1),
        ("0-15:4", (0, 4, 8, 12), None, 4),
        ("1-100%10", tuple(range(1, 101)), 10, 1),
        ("1-9:2,20,40-50%5", (1, 3, 5, 7, 9, 20, *range(40, 51)), 5, 2),
        ("[1-3]", (1, 2, 3), None, 1),
        ("3,1,3", (1, 3), None, 1),
    ],
)
def test_array(value: str, indices: tuple[int, ...], throttle: int | None, step: int) -> None:
    spec = parse_array(value)
    assert (spec.indices, spec.throttle, spec.step) == (indices, throttle, step)
    assert spec.count == len(indices)


@pytest.mark.parametrize("value", ["SRR1,SRR2", "-1", "5-1", "0-9:0", "", "1-3%x", "1.5"])
def test_bad_array(value: str) -> None:
    with pytest.raises(ValueProblem):
        parse_array(value)


def test_array_max_size() -> None:
    with pytest.raises(ValueProblem):
        parse_array("0-1001", max_array_size=1001)
    assert parse_array("1000", max_array_size=1001).indices == (1000,)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("ALL", ExportSpec("ALL")),
        ("none", ExportSpec("NONE")),
        ("NIL", ExportSpec("NIL")),
        ("A,B=1", ExportSpec("NONE", ("A",), (("B", "1"),))),
        ("ALL,OMP_NUM_THREADS=4", ExportSpec("ALL", (), (("OMP_NUM_THREADS", "4"),))),
    ],
)
def test_export(value: str, expected: ExportSpec) -> None:
    assert parse_export(value) == expected


def test_mail_type_and_signal() -> None:
    assert parse_mail_type("end,fail") == ("END", "FAIL")
    assert parse_mail_type("BEGIN,bogus") == ("BEGIN",)  # as parse_mail_type
    assert parse_signal("B:USR1@300") == ("B", 10, 300)
    assert parse_signal("SIGUSR1") == ("", 10, 60)
    assert parse_signal("10@120") == ("", 10, 120)


@pytest.mark.parametrize(
    ("value", "hosts"),
    [
        ("node[08-11]", ["node08", "node09", "node10", "node11"]),
        ("tux[1-3]", ["tux1", "tux2", "tux3"]),
        ("gpu[001-002,007],cpu12", ["gpu001", "gpu002", "gpu007", "cpu12"]),
        ("rack[1-2]-node[01-02]", ["rack1-node01", "rack1-node02", "rack2-node01", "rack2-node02"]),
        ("n[9-10]", ["n9", "n10"]),
        ("a,b", ["a", "b"]),
    ],
)
def test_hostlist(value: str, hosts: list[str]) -> None:
    assert expand_hostlist(value) == hosts
    assert hostlist_count(value) == len(hosts)


@pytest.mark.parametrize("value", ["node[1-3", "node]1[", "node[a-b]", "node[3-1]", "n[[1]]"])
def test_bad_hostlist(value: str) -> None:
    with pytest.raises(ValueProblem):
        expand_hostlist(value)


def test_huge_hostlist_is_refused_unexpanded() -> None:
    assert hostlist_count("n[0-99999999]") == 100_000_000
    with pytest.raises(ValueProblem):
        expand_hostlist("n[0-99999999]")


@pytest.mark.parametrize(
    ("value", "mib"),
    [
        ("9223372036854775807", 2**63 - 1),  # LLONG_MAX itself: strtoll reads it
        ("8796093022207T", (8796093022207) * 1024 * 1024),  # just fits 64 bits
        ("0000000000000000000000016G", 16 * 1024),  # leading zeros are not an overflow
    ],
)
def test_memory_at_sbatchs_limit(value: str, mib: int) -> None:
    assert parse_memory(value) == mib


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("9223372036854775808", "larger than sbatch can read"),  # strtoll: ERANGE
        ("99999999999999999999T", "larger than sbatch can read"),
        ("8796093022208T", "64-bit count"),  # the T factor wraps the count
    ],
)
def test_memory_beyond_sbatchs_limit(value: str, says: str) -> None:
    with pytest.raises(ValueProblem, match=says):
        parse_memory(value)


def test_gres_and_gpu_counts_beyond_64_bits_are_refused() -> None:
    assert parse_gres("gpu:18446744073709551614") == [Gres("gpu", None, 2**64 - 2)]
    for value in ("gpu:18446744073709551615", "gpu:99999999999999999999", "gpu:a100:" + "9" * 40):
        with pytest.raises(ValueProblem, match="larger than Slurm reads"):
            parse_gres(value)
    with pytest.raises(ValueProblem, match="64-bit count"):
        parse_gres("gpu:9999999999999999999k")
    with pytest.raises(ValueProblem, match="larger than Slurm reads"):
        parse_gpus("a100:99999999999999999999")
