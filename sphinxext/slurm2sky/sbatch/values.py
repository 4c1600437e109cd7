"""sbatch's value grammars, as its own C code reads them.

Every parser takes the option's argument *after* tokenising (quotes and escapes already
removed) and either returns the value in the units named in its docstring or raises
:class:`ValueProblem` (a :class:`ValueError`) whose message says what is wrong and whose
``hint`` says what would be valid. Nothing here runs a shell or touches the network.

Rules and sources (SchedMD/slurm, see ``reference/sbatch-spec.md`` §6 and §10):

* time — ``src/common/parse_time.c`` ``time_str2secs``/``_is_valid_timespec``/
  ``time_str2mins``; ``slurm_opt.c`` ``arg_set_time_limit`` (``0`` → no limit);
* memory — ``src/common/proc_args.c`` ``str_to_mbytes``/``_end_on_byte``;
* node counts — ``proc_args.c`` ``verify_node_count``/``_str_to_nodes``;
* positive integers — ``proc_args.c`` ``parse_int``;
* ``--gres``/``--gpus*`` — sbatch(1), ``slurm_protocol_defs.c`` ``slurm_get_next_tres``;
* ``--array`` — ``slurm_protocol_defs.c`` ``_parse_array_tok``; sbatch(1) ``-a``;
* ``--export`` — sbatch(1) ``--export``;
* ``--mail-type`` — ``proc_args.c`` ``parse_mail_type``; ``--hint`` — ``verify_hint``;
  ``--signal`` — ``get_signal_opts``;
* hostlists — scontrol(1) ``hostnames``, sbatch(1) ``-w``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import product

__all__ = [
    "ArraySpec",
    "ExportSpec",
    "Gres",
    "ValueProblem",
    "array_ranges",
    "expand_hostlist",
    "hostlist_count",
    "parse_array",
    "parse_export",
    "parse_gpus",
    "parse_gres",
    "parse_int",
    "parse_memory",
    "parse_node_range",
    "parse_time",
    "parse_time_seconds",
]

#: C ``isspace`` in the "C" locale (what Slurm's parsers skip).
C_SPACE = " \t\n\v\f\r"

#: Slurm's largest accepted ``MaxArraySize`` (slurm.conf(5)); indices stay below it.
MAX_ARRAY_SIZE = 4_000_001

#: Largest hostlist :func:`expand_hostlist` expands (a guard for generated input).
MAX_HOSTS = 1_000_000

_INT_MAX = 2**31 - 1


class ValueProblem(ValueError):
    """A value sbatch refuses: ``str(error)`` says why, ``hint`` what would be valid."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


def _strtol(text: str, start: int = 0) -> tuple[int | None, int]:
    """C ``strtol(text + start, &end, 10)``: ``(value or None if no digits, end index)``.

    Leading C whitespace and one sign are accepted, as in C; with no digits the end is
    ``start`` (C returns the original pointer). A value beyond a 64-bit ``long`` is
    clamped to ``LONG_MAX``/``LONG_MIN``, as strtol(3) does on overflow (so any number of
    digits is read, without Python's limit on converting long digit strings).
    """
    i = start
    n = len(text)
    while i < n and text[i] in C_SPACE:
        i += 1
    sign = 1
    if i < n and text[i] in "+-":
        sign = -1 if text[i] == "-" else 1
        i += 1
    j = i
    while j < n and "0" <= text[j] <= "9":
        j += 1
    if j == i:
        return None, start
    return max(_LONG_MIN, sign * _digits(text[i:j])), j


_LONG_MAX = 2**63 - 1
_LONG_MIN = -(2**63)


def _overflows(text: str, end: int) -> bool:
    """The digits of ``text`` before ``end`` (read by :func:`_strtol`) exceed a C
    ``long``, where strtol(3) clamps and reports ``ERANGE``."""
    digits = text[:end].lstrip(C_SPACE).lstrip("+-").lstrip("0")
    return len(digits) > 19 or int(digits or "0") > _LONG_MAX


def _digits(text: str) -> int:
    """A string of ASCII digits as C reads it into a 64-bit ``long``: clamped to
    ``LONG_MAX`` (strtol(3) on overflow), so any number of digits is read, without
    Python's limit on converting long digit strings."""
    text = text.lstrip("0")
    return _LONG_MAX if len(text) > 19 else min(_LONG_MAX, int(text or "0"))


# ---------------------------------------------------------------------------
# Time


def _valid_timespec(value: str) -> bool:
    """``_is_valid_timespec``: digits, at most one ``-`` before at most two ``:``."""
    groups = dashes = colons = 0
    in_digits = False
    for char in value:
        if "0" <= char <= "9":
            if not in_digits:
                groups += 1
                in_digits = True
        elif char == "-":
            in_digits = False
            dashes += 1
            if colons:
                return False
        elif char == ":":
            in_digits = False
            colons += 1
        else:
            return False
    if not groups or dashes > 1 or colons > 2:
        return False
    need = {0: 1, 1: 2, 2: 3}[colons] + (1 if dashes else 0)
    return not (colons and groups < need)


_TIME_HINT = (
    "minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS (digits only), "
    "or UNLIMITED / INFINITE / -1 / 0 for no limit"
)


def parse_time_seconds(value: str) -> int | None:
    """A time limit in seconds; ``None`` for no limit (``UNLIMITED``, ``INFINITE``, ``-1``).

    Forms: ``M``, ``M:S``, ``H:M:S``, ``D-H``, ``D-H:M``, ``D-H:M:S``, ``D-`` (fields may
    exceed 24/59). ``0`` is returned as ``0`` (callers decide what it means; for ``--time``
    it is no limit). Raises :class:`ValueProblem` ("Invalid --time specification").
    Source: ``parse_time.c`` ``time_str2secs``.
    """
    if value.upper() in ("-1", "INFINITE", "UNLIMITED"):
        return None
    if not value or not _valid_timespec(value):
        reason = "empty" if not value else _time_reason(value)
        raise ValueProblem(f"invalid time {value!r}: {reason}", _TIME_HINT)
    if "-" in value:
        days_text, _, rest = value.partition("-")
        if not days_text:
            raise ValueProblem(
                f"invalid time {value!r}: a day count cannot be negative", _TIME_HINT
            )
        fields = [_digits(f) for f in rest.split(":")] if rest else []
        fields += [0] * (3 - len(fields))
        hours, minutes, seconds = fields
        return _digits(days_text) * 86400 + hours * 3600 + minutes * 60 + seconds
    fields = [_digits(f) for f in value.split(":")]
    if len(fields) == 3:
        return fields[0] * 3600 + fields[1] * 60 + fields[2]
    if len(fields) == 2:
        return fields[0] * 60 + fields[1]
    return fields[0] * 60


def _time_reason(value: str) -> str:
    bad = [c for c in value if not (c.isdigit() and c.isascii()) and c not in "-:"]
    if bad:
        return f"{bad[0]!r} is not allowed (sbatch takes no units: 90 is 90 minutes, not 1h30)"
    if value.count("-") > 1:
        return "more than one '-'"
    if value.count(":") > 2:
        return "more than two ':'"
    if "-" in value and ":" in value and value.index(":") < value.index("-"):
        return "the day count must come first (D-HH:MM:SS)"
    return "an empty field"


def parse_time(value: str) -> int | None:
    """A ``--time``/``--time-min`` value in whole minutes; ``None`` means no limit.

    Seconds round **up** to minutes (``1:30`` → 2); ``0`` and ``UNLIMITED``/``INFINITE``/
    ``-1`` (any case) mean no limit. ``12:00`` is 12 minutes (``M:S``), ``2-12`` 60 hours.
    Raises :class:`ValueProblem`. Source: ``parse_time.c`` ``time_str2mins``;
    ``slurm_opt.c`` ``arg_set_time_limit``.
    """
    seconds = parse_time_seconds(value)
    if seconds is None:
        return None
    minutes = (seconds + 59) // 60
    return minutes or None


# ---------------------------------------------------------------------------
# Memory and counts

_MEMORY_HINT = (
    "a whole number of MiB, or a whole number with K, M, G or T (optionally followed by B), "
    "e.g. 4096, 500M, 16G, 16GB; 0 means all the memory of each node"
)
_MEMORY_UNITS = {"k": -1, "m": 1, "g": 1024, "t": 1024 * 1024}


def parse_memory(value: str) -> int:
    """A memory size in MiB (``--mem``, ``--mem-per-cpu``, ``--mem-per-gpu``, ``--tmp``).

    ``<non-negative integer>[K|M|G|T[B]]``, suffix case-insensitive, binary units: no suffix
    = MiB, ``K`` = KiB rounded up to MiB, ``G`` = 1024 MiB, ``T`` = 1024² MiB; ``0`` is 0
    (for ``--mem``: all of each node's memory). ``1.5G``, ``4 G``, ``4GiB``, ``100B`` are
    invalid. Raises :class:`ValueProblem`. Source: ``proc_args.c`` ``str_to_mbytes``.
    """
    number, end = _strtol(value)
    if number is None:
        raise ValueProblem(f"invalid memory size {value!r}: no number", _MEMORY_HINT)
    if number < 0:
        raise ValueProblem(f"invalid memory size {value!r}: negative", _MEMORY_HINT)
    if number == _LONG_MAX and _overflows(value, end):
        # strtoll overflows (ERANGE): str_to_mbytes gives NO_VAL64, an invalid size
        raise ValueProblem(
            f"invalid memory size {value!r}: the number is larger than sbatch can read "
            f"({_LONG_MAX} at most)",
            _MEMORY_HINT,
        )
    suffix = value[end:]
    if not suffix:
        return number
    unit = _MEMORY_UNITS.get(suffix[0].lower())
    if unit is None or suffix[1:] not in ("", "B", "b"):
        if suffix[:1] == ".":
            reason = "decimals are not allowed (write 1536M, not 1.5G)"
        elif suffix[:1] in C_SPACE:
            reason = "a space before the unit"
        else:
            reason = f"unknown unit {suffix!r}"
        raise ValueProblem(f"invalid memory size {value!r}: {reason}", _MEMORY_HINT)
    if unit == -1:
        return (number + 1023) // 1024
    if number * unit > _LONG_MAX:
        # str_to_mbytes multiplies a C long long: past 2^63 the count wraps around
        raise ValueProblem(
            f"invalid memory size {value!r}: {number}{suffix[0]} is more MiB than sbatch's "
            "64-bit count holds (it would wrap around to a meaningless amount)",
            _MEMORY_HINT,
        )
    return number * unit


def parse_int(value: str, *, positive: bool = True) -> int:
    """A whole-number count (``-n``, ``-c``, ``--ntasks-per-node``, ``--cpus-per-gpu``, …).

    C ``strtol`` of the whole value; must be > 0 (``positive``) or >= 0, and fit an ``int``.
    Raises :class:`ValueProblem` ("Invalid numeric value"). Source: ``proc_args.c``
    ``parse_int``.
    """
    number, end = _strtol(value)
    if number is None or end != len(value):
        raise ValueProblem(
            f"invalid numeric value {value!r}: not a whole number",
            "a whole number such as 4 (no units, no variables: sbatch does not expand $VAR)",
        )
    if number < 0 or (positive and number == 0):
        raise ValueProblem(
            f"invalid numeric value {value!r}: must be {'at least 1' if positive else '0 or more'}",
            "a whole number of 1 or more" if positive else "a whole number of 0 or more",
        )
    if number > _INT_MAX:
        raise ValueProblem(f"numeric argument {value!r} is too big", f"at most {_INT_MAX}")
    return number


_NODES_HINT = "N (exactly N nodes), MIN-MAX, or a list of sizes such as 1,2,4 or 2-16:2"


def _str_to_nodes(text: str) -> tuple[int | None, str]:
    """``proc_args.c`` ``_str_to_nodes``: strtol, then ``k``/``m`` multipliers, and the
    result cast to a C ``int`` (so a count beyond 2147483647 wraps, usually negative,
    and is then refused as a node count)."""
    number, end = _strtol(text)
    if number is None:
        return None, text
    rest = text[end:]
    if rest[:1] in ("k", "K"):
        number *= 1024
        rest = rest[1:]
    if rest[:1] in ("m", "M"):
        number *= 1024 * 1024
        rest = rest[1:]
    return (number + 2**31) % 2**32 - 2**31, rest


def parse_node_range(value: str) -> tuple[int, int | None]:
    """A ``--nodes``/``-N`` value as ``(min, max)``; ``max`` is ``None`` when open.

    ``N`` → ``(N, N)``; ``MIN-MAX``; ``-MAX`` → min 1; ``MIN-`` or ``MIN-0`` → ``(MIN, None)``;
    numbers may carry ``k`` (x1024) or ``m`` (x1024^2). A size list with ``,`` or ``:``
    (``1,5,9``, ``1-15:4``) gives its smallest and largest size. Raises
    :class:`ValueProblem` ("is not a valid node count"). Source: ``proc_args.c``
    ``verify_node_count``.
    """
    if "," in value or ":" in value:
        sizes = _node_size_list(value)
        return min(sizes), max(sizes)
    if "-" in value:
        low_text, _, high_text = value.partition("-")
        low, rest = _str_to_nodes(low_text)
        if rest.strip(C_SPACE):
            raise ValueProblem(f"{low_text!r} is not a valid node count", _NODES_HINT)
        if low is None or low < 0:
            low = 1
        high, rest = _str_to_nodes(high_text)
        if rest.strip(C_SPACE):
            raise ValueProblem(f"{high_text!r} is not a valid node count", _NODES_HINT)
        if high is None or high == 0:
            return low, None
        if high < low:
            raise ValueProblem(
                f"maximum node count {high} is less than minimum node count {low}", _NODES_HINT
            )
        return low, high
    count, rest = _str_to_nodes(value)
    if rest.strip(C_SPACE) or count is None or count < 0:
        raise ValueProblem(f"{value!r} is not a valid node count", _NODES_HINT)
    return count, count


def _node_size_list(value: str) -> list[int]:
    sizes: list[int] = []
    for item in value.split(","):
        first, _, step_text = item.partition(":")
        low_text, dash, high_text = first.partition("-")
        low, rest = _str_to_nodes(low_text)
        high, rest2 = _str_to_nodes(high_text) if dash else (low, "")
        step, rest3 = _str_to_nodes(step_text) if step_text else (1, "")
        if (
            low is None
            or high is None
            or step is None
            or rest
            or rest2
            or rest3
            or low < 0
            or high < low
            or step <= 0
        ):
            raise ValueProblem(f"{item!r} is not a valid node count", _NODES_HINT)
        sizes.extend((low, high) if low != high else (low,))
    if not sizes:
        raise ValueProblem(f"{value!r} is not a valid node count", _NODES_HINT)
    return sizes


# ---------------------------------------------------------------------------
# GRES and GPUs


@dataclass(frozen=True)
class Gres:
    """One ``--gres`` item: ``name`` (``gpu``), ``type`` (``a100``) or ``None``, ``count``.

    ``count`` is per node, already multiplied out for ``k/m/g/t/p`` suffixes.
    """

    name: str
    type: str | None
    count: int


_NAME = re.compile(r"[A-Za-z0-9_.\-]+\Z")
_COUNT = re.compile(r"([0-9]+)([kKmMgGtTpP]?)\Z")
_COUNT_FACTORS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4, "p": 1024**5}
_GRES_HINT = (
    "name[[:type]:count] items separated by commas, e.g. gpu:4, gpu:a100:2, gpu:a100 "
    "(1 GPU), gpu:v100:2,nvme:1 — or none"
)


#: ``ULLONG_MAX``: what ``strtoull`` returns on overflow, which Slurm refuses as a count.
_ULLONG_MAX = 2**64 - 1


def _count(text: str) -> int | None:
    """A GRES/GPU count (``4``, ``2k``) as Slurm reads it (``gres.c``: ``strtoull``, a
    count that overflows it is invalid, then the ``k/m/g/t/p`` factor in 64 bits), or
    ``None`` when ``text`` is not a count (a type name). Raises :class:`ValueProblem`
    for a count beyond 64 bits."""
    match = _COUNT.match(text)
    if not match:
        return None
    digits = match[1].lstrip("0")
    factor = _COUNT_FACTORS[match[2].lower()]
    if len(digits) > 20 or int(digits or "0") >= _ULLONG_MAX:
        raise ValueProblem(
            f"invalid count {text!r}: larger than Slurm reads (a 64-bit count; it refuses "
            "the request as an invalid GRES specification)",
            "a count such as 4",
        )
    count = int(digits or "0") * factor
    if count > _ULLONG_MAX:
        raise ValueProblem(
            f"invalid count {text!r}: with its {match[2]} factor it is more than Slurm's "
            "64-bit count holds (it would wrap around to a meaningless count)",
            "a count such as 4",
        )
    return count


def _check_name(word: str, what: str, value: str, hint: str) -> None:
    if not _NAME.match(word):
        if any(c in word for c in "$<>{}`"):
            why = "a placeholder or an unexpanded variable (sbatch reads $VAR literally)"
        elif not word:
            why = "empty"
        else:
            why = "not a name"
        raise ValueProblem(f"invalid {what} {word!r} in {value!r}: {why}", hint)


def parse_gres(value: str) -> list[Gres]:
    """A ``--gres`` value as a list of :class:`Gres` (counts are **per node**).

    Items ``name[[:type]:count]`` separated by ``,``; a non-numeric last field is a type
    with count 1 (``gpu:a100`` → 1 ``a100``); a type may hold ``:`` (``gpu:tesla:a100:2``
    → type ``tesla:a100``) and dots (MIG ``3g.71gb``); counts take ``k/m/g/t/p``; a
    ``gres/`` prefix is dropped; items with count 0 are dropped; ``none`` gives ``[]``.
    Raises :class:`ValueProblem` for empty items, names that are not names (``$NGPU``,
    ``<gpus>``) and ``help``/``list`` (sbatch prints and exits). Source: sbatch(1)
    ``--gres``; ``slurm_protocol_defs.c`` ``slurm_get_next_tres``.
    """
    if value.lower() in ("help", "list"):
        raise ValueProblem(
            f"--gres={value} prints the cluster's GRES types and exits without submitting",
            _GRES_HINT,
        )
    if value.lower() == "none":
        return []
    items: list[Gres] = []
    for item in value.split(","):
        if item.startswith("gres/"):
            item = item[len("gres/") :]
        fields = item.split(":")
        name = fields[0]
        _check_name(name, "GRES name", value, _GRES_HINT)
        count = 1
        gres_type: str | None = None
        if len(fields) > 1:
            last = _count(fields[-1])
            if last is not None:
                count = last
                type_fields = fields[1:-1]
            else:
                type_fields = fields[1:]
            if type_fields:
                for word in type_fields:
                    _check_name(word, "GRES type", value, _GRES_HINT)
                gres_type = ":".join(type_fields)
        if count:
            items.append(Gres(name, gres_type, count))
    return items


_GPUS_HINT = "[type:]count, or a comma list of them, e.g. 4, a100:4, volta:3,kepler:1"


def parse_gpus(value: str) -> list[tuple[str | None, int]]:
    """A ``--gpus``/``--gpus-per-node``/``--gpus-per-task``/``--gpus-per-socket`` value.

    ``[type:]count`` items separated by ``,``: returns ``[(type or None, count), …]``
    (``a100`` alone is one GPU of type ``a100``; a ``gpu:`` prefix is dropped). The scope
    (job, node, task, socket) is the option's. Raises :class:`ValueProblem`. Source:
    sbatch(1) ``-G``, ``--gpus-per-*``.
    """
    result: list[tuple[str | None, int]] = []
    for item in value.split(","):
        fields = item.split(":")
        if len(fields) > 1 and fields[0] in ("gpu", "gres/gpu"):
            fields = fields[1:]
        count = _count(fields[-1]) if fields[-1] else None
        if count is None:
            type_fields = fields
            count = 1
        else:
            type_fields = fields[:-1]
        for word in type_fields:
            _check_name(word, "GPU type", value, _GPUS_HINT)
        if not type_fields and not fields[-1]:
            raise ValueProblem(f"invalid GPU count in {value!r}: empty", _GPUS_HINT)
        result.append((":".join(type_fields) or None, count))
    return result


# ---------------------------------------------------------------------------
# Arrays


@dataclass(frozen=True)
class ArraySpec:
    """A ``--array`` value: the task ``indices`` (ascending, unique) and the ``throttle``.

    ``throttle`` is the ``%`` limit on simultaneously running tasks, ``None`` without one;
    ``step`` is ``SLURM_ARRAY_TASK_STEP`` (the step of the first ``N-M:S`` item, else 1).
    """

    indices: tuple[int, ...]
    throttle: int | None
    step: int = 1

    @property
    def count(self) -> int:
        """``SLURM_ARRAY_TASK_COUNT``."""
        return len(self.indices)


_ARRAY_HINT = (
    "indices, ranges and steps separated by commas with an optional %limit, "
    "e.g. 0-15, 1,3,5, 0-15:4, 1-100%10 (whole numbers only)"
)


def array_ranges(
    value: str, max_array_size: int = MAX_ARRAY_SIZE
) -> tuple[list[range], int | None]:
    """Validate a ``--array`` value without expanding it: ``(ranges, throttle)``.

    Indices must be below ``max_array_size`` (the cluster's ``MaxArraySize``; default
    here is Slurm's largest, 4000001 — most clusters keep the default 1001). Raises
    :class:`ValueProblem` ("Invalid job array specification"). Source:
    ``slurm_protocol_defs.c`` ``_parse_array_tok``.
    """
    text, percent, throttle_text = value.partition("%")
    throttle: int | None = None
    if percent:
        number, end = _strtol(throttle_text)
        if number is None or end != len(throttle_text) or number < 0:
            raise ValueProblem(
                f"invalid job array specification {value!r}: the limit after % is not a number",
                _ARRAY_HINT,
            )
        throttle = number
    ranges: list[range] = []
    for token in text.split(","):
        if not token:
            continue  # strtok skips empty tokens
        ranges.append(_array_token(token, value, max_array_size))
    if not ranges:
        raise ValueProblem(f"invalid job array specification {value!r}: no index", _ARRAY_HINT)
    return ranges, throttle


def _array_token(token: str, value: str, max_array_size: int) -> range:
    def bad(why: str) -> ValueProblem:
        return ValueProblem(f"invalid job array specification {value!r}: {why}", _ARRAY_HINT)

    pos = 1 if token.startswith("[") else 0
    first, pos = _strtol(token, pos)
    first = first or 0
    if token[pos : pos + 1] == "]":
        pos += 1
    if first < 0:
        raise bad(f"{token!r} is negative")
    if token[pos : pos + 1] == "-":
        last, pos = _strtol(token, pos + 1)
        last = last or 0
        if token[pos : pos + 1] == "]":
            pos += 1
        step = 1
        if token[pos : pos + 1] == ":":
            step_value, pos = _strtol(token, pos + 1)
            step = step_value or 0
            if token[pos : pos + 1] == "]":
                pos += 1
            if pos != len(token) or step <= 0:
                raise bad(f"{token!r} needs a step of 1 or more")
        elif pos != len(token):
            raise bad(f"{token!r} is not an index or a range")
        if last < first:
            raise bad(f"{token!r} ends before it starts")
    elif pos != len(token):
        raise bad(f"{token!r} is not an index or a range")
    else:
        last, step = first, 1
    if last >= max_array_size:
        raise bad(f"index {last} is not below MaxArraySize ({max_array_size})")
    return range(first, last + 1, step)


def parse_array(value: str, max_array_size: int = MAX_ARRAY_SIZE) -> ArraySpec:
    """A ``--array``/``-a`` value as an :class:`ArraySpec`.

    Items ``N``, ``N-M``, ``N-M:S`` separated by ``,``, optional ``[ ]`` around items, and
    ``%L`` (at most L tasks at once): ``0-15:4%2`` → indices 0, 4, 8, 12, throttle 2,
    step 4. Raises :class:`ValueProblem`. Source: sbatch(1) ``-a``;
    ``slurm_protocol_defs.c`` ``_parse_array_tok``; ``job_mgr.c`` (array variables).
    """
    ranges, throttle = array_ranges(value, max_array_size)
    step = next((r.step for r in ranges if len(r) > 1 or r.step != 1), 1)
    indices: set[int] = set()
    for index_range in ranges:
        indices.update(index_range)
    return ArraySpec(tuple(sorted(indices)), throttle, step)


# ---------------------------------------------------------------------------
# --export


@dataclass(frozen=True)
class ExportSpec:
    """A ``--export`` value.

    ``mode`` is ``"ALL"`` (the submission environment, the default), ``"NONE"`` (only
    ``SLURM_*``/SPANK variables plus ``names`` and ``assignments``; a bare list such as
    ``A,B=1`` is this mode) or ``"NIL"`` (like NONE, without re-creating the login
    environment). ``names`` are variables passed with their current value; ``assignments``
    ``(name, value)`` pairs (with ``ALL`` they apply only where the caller has no value).
    """

    mode: str
    names: tuple[str, ...] = ()
    assignments: tuple[tuple[str, str], ...] = ()


def parse_export(value: str) -> ExportSpec:
    """A ``--export`` value as an :class:`ExportSpec` (``ALL``/``NONE``/``NIL`` any case).

    Raises :class:`ValueProblem` for an empty value or an empty item/variable name.
    Source: sbatch(1) ``--export``.
    """
    hint = "ALL, NONE, NIL, or variables and NAME=value items, e.g. ALL,OMP_NUM_THREADS=4"
    if not value:
        raise ValueProblem("empty --export value", hint)
    mode: str | None = None
    names: list[str] = []
    assignments: list[tuple[str, str]] = []
    for item in value.split(","):
        if not item:
            raise ValueProblem(f"empty item in --export value {value!r}", hint)
        upper = item.upper()
        if upper in ("ALL", "NONE", "NIL"):
            mode = mode if mode == "ALL" else upper
            continue
        name, equals, assigned = item.partition("=")
        if not name:
            raise ValueProblem(f"no variable name in {item!r}", hint)
        if equals:
            assignments.append((name, assigned))
        else:
            names.append(name)
    if mode is None:
        mode = "NONE"
    return ExportSpec(mode, tuple(names), tuple(assignments))


# ---------------------------------------------------------------------------
# --mail-type, --hint, --signal, --exclusive, --open-mode

MAIL_TYPES = frozenset(
    {
        "NONE",
        "BEGIN",
        "END",
        "FAIL",
        "REQUEUE",
        "ALL",
        "INVALID_DEPEND",
        "STAGE_OUT",
        "TIME_LIMIT",
        "TIME_LIMIT_90",
        "TIME_LIMIT_80",
        "TIME_LIMIT_50",
        "ARRAY_TASKS",
    }
)


def parse_mail_type(value: str) -> tuple[str, ...]:
    """``--mail-type``: the recognised event names (upper case), ``NONE`` overriding all.

    Unknown names next to a known one are ignored, as ``parse_mail_type`` does; a value
    with no known name is invalid (:class:`ValueProblem`). Source: ``proc_args.c``.
    """
    known: list[str] = []
    for word in (w for w in value.split(",") if w):
        upper = word.upper()
        if upper == "NONE":
            return ("NONE",)
        if upper in MAIL_TYPES:
            known.append(upper)
    if not known:
        raise ValueProblem(
            f"--mail-type={value} names no mail event",
            "NONE, BEGIN, END, FAIL, REQUEUE, ALL, TIME_LIMIT, TIME_LIMIT_90/80/50, "
            "ARRAY_TASKS, INVALID_DEPEND, STAGE_OUT (comma list, any case)",
        )
    return tuple(known)


HINTS = frozenset({"compute_bound", "memory_bound", "multithread", "nomultithread"})


def parse_hint(value: str) -> tuple[str, ...]:
    """``--hint``: the hint words, lower case. Source: ``proc_args.c`` ``verify_hint``."""
    words = tuple(w.lower() for w in re.split(r",(?![0-9])", value))
    for word in words:
        if word == "help":
            raise ValueProblem("--hint=help prints the hints and exits", "")
        if word not in HINTS:
            raise ValueProblem(
                f"unrecognized --hint argument {word!r}",
                "compute_bound, memory_bound, multithread or nomultithread",
            )
    return words


_SIGNALS = {
    "HUP": 1,
    "INT": 2,
    "QUIT": 3,
    "ABRT": 6,
    "KILL": 9,
    "USR1": 10,
    "USR2": 12,
    "PIPE": 13,
    "ALRM": 14,
    "TERM": 15,
    "CHLD": 17,
    "CONT": 18,
    "STOP": 19,
    "TSTP": 20,
    "TTIN": 21,
    "TTOU": 22,
    "URG": 23,
    "XCPU": 24,
    "XFSZ": 25,
    "VTALRM": 26,
    "PROF": 27,
    "WINCH": 28,
    "IO": 29,
    "POLL": 29,
    "PWR": 30,
    "SYS": 31,
}


def parse_signal(value: str) -> tuple[str, int, int]:
    """``--signal=[{R|B}:]<sig>[@<seconds>]`` as ``(flags, signal number, seconds)``.

    ``flags`` holds ``B`` (batch shell only) and/or ``R``; seconds default to 60 and are
    0-65535. Raises :class:`ValueProblem`. Source: ``proc_args.c`` ``get_signal_opts``.
    """
    hint = "[B:|R:]SIGNAL[@SECONDS], e.g. USR1@60, B:SIGUSR1@300, 10@120"
    rest = value
    flags = ""
    for letter in ("R", "B", "R"):
        if rest[:1].upper() == letter and letter not in flags:
            flags += letter
            rest = rest[1:]
    if rest.startswith(":"):
        rest = rest[1:]
    name, at, seconds_text = rest.partition("@")
    number, end = _strtol(name)
    if number is not None and end == len(name):
        signal = number
    else:
        upper = name.upper()
        signal = _SIGNALS.get(upper[3:] if upper.startswith("SIG") else upper, 0)
    if not 1 <= signal <= 0xFFFF:
        raise ValueProblem(f"invalid --signal specification {value!r}: unknown signal", hint)
    seconds = 60
    if at:
        parsed, end = _strtol(seconds_text)
        if parsed is None or end != len(seconds_text) or not 0 <= parsed <= 0xFFFF:
            raise ValueProblem(
                f"invalid --signal specification {value!r}: seconds must be 0-65535", hint
            )
        seconds = parsed
    return "".join(sorted(flags)), signal, seconds


def parse_exclusive(value: str | None) -> str:
    """``--exclusive[=user|mcs|topo]``: ``"node"`` for the bare flag, else the mode.

    Source: sbatch(1) ``--exclusive``; ``slurm_opt.c`` ``arg_set_exclusive``.
    """
    if value is None:
        return "node"
    if value.lower() in ("user", "mcs", "topo"):
        return value.lower()
    raise ValueProblem(
        f"invalid exclusive option {value!r}", "--exclusive, --exclusive=user, =mcs or =topo"
    )


def parse_open_mode(value: str) -> str:
    """``--open-mode``: ``"append"`` or ``"truncate"`` (sbatch reads the first letter)."""
    first = value[:1].lower()
    if first == "a":
        return "append"
    if first == "t":
        return "truncate"
    raise ValueProblem(f"invalid --open-mode argument {value!r}", "append or truncate")


def parse_resource_range(value: str) -> tuple[int, int | None]:
    """``--threads-per-core``/``--cores-per-socket``/``--sockets-per-node``: N, MIN-MAX, *.

    Returns ``(min, max or None)``. Source: ``proc_args.c`` ``get_resource_arg_range``.
    """
    hint = "a whole number, a MIN-MAX range, or *"
    if value in ("", "*"):
        return 1, None
    low, rest = _str_to_nodes(value)
    if low is None or low < 0 or rest[:1] not in ("", "-"):
        raise ValueProblem(f"invalid numeric value {value!r}", hint)
    if not rest:
        return low, low
    high, rest = _str_to_nodes(rest[1:])
    if high is None or high <= 0 or rest[:1] not in ("", "-"):
        raise ValueProblem(f"invalid numeric value {value!r}", hint)
    return low, high


# ---------------------------------------------------------------------------
# Hostlists


_HOSTLIST_HINT = "host names or prefix[ranges]suffix expressions, e.g. node[01-04,07],gpu12"


def _split_top(value: str) -> list[str]:
    """Split on commas outside brackets."""
    parts: list[str] = []
    depth = 0
    start = 0
    for i, char in enumerate(value):
        if char == "[":
            depth += 1
            if depth > 1:
                raise ValueProblem(f"nested '[' in hostlist {value!r}", _HOSTLIST_HINT)
        elif char == "]":
            depth -= 1
            if depth < 0:
                raise ValueProblem(f"unmatched ']' in hostlist {value!r}", _HOSTLIST_HINT)
        elif char == "," and depth == 0:
            parts.append(value[start:i])
            start = i + 1
    if depth:
        raise ValueProblem(f"unmatched '[' in hostlist {value!r}", _HOSTLIST_HINT)
    parts.append(value[start:])
    return [p for p in parts if p]


_RANGE = re.compile(r"([0-9]+)(?:-([0-9]+))?\Z")


def _host_pieces(expression: str, value: str) -> list[str | list[tuple[int, int, int]]]:
    """``rack[1-2]-n[01-04]`` → ``["rack", [(1, 2, 0)], "-n", [(1, 4, 2)]]``."""
    pieces: list[str | list[tuple[int, int, int]]] = []
    for i, chunk in enumerate(re.split(r"[\[\]]", expression)):
        if i % 2 == 0:
            if chunk:
                pieces.append(chunk)
            continue
        ranges: list[tuple[int, int, int]] = []
        for item in chunk.split(","):
            match = _RANGE.match(item)
            if not match:
                raise ValueProblem(f"invalid range {item!r} in hostlist {value!r}", _HOSTLIST_HINT)
            low_text, high_text = match[1], match[2] or match[1]
            low, high = _digits(low_text), _digits(high_text)
            if high < low:
                raise ValueProblem(
                    f"range {item!r} ends before it starts in hostlist {value!r}", _HOSTLIST_HINT
                )
            width = len(low_text) if low_text.startswith("0") and len(low_text) > 1 else 0
            ranges.append((low, high, width))
        pieces.append(ranges)
    return pieces


def hostlist_count(value: str) -> int:
    """How many host names a hostlist expression names (duplicates counted), unexpanded.

    Raises :class:`ValueProblem` for a malformed expression.
    """
    total = 0
    for expression in _split_top(value):
        count = 1
        for piece in _host_pieces(expression, value):
            if isinstance(piece, list):
                count *= sum(high - low + 1 for low, high, _ in piece)
        total += count
    return total


def expand_hostlist(value: str) -> list[str]:
    """Expand a hostlist expression to host names, in order (``scontrol show hostnames``).

    ``prefix[ranges]suffix``, ranges a comma list of ``N`` or ``N-M``, several bracket
    groups allowed (``rack[1-2]-node[01-04]``), expressions separated by ``,``; the zero
    padding of a range's first number is kept (``node[08-11]`` → ``node08`` … ``node11``).
    Raises :class:`ValueProblem` for a malformed expression or more than
    :data:`MAX_HOSTS` names. Source: scontrol(1) ``hostnames``; sbatch(1) ``-w``.
    """
    if hostlist_count(value) > MAX_HOSTS:
        raise ValueProblem(f"hostlist {value!r} names more than {MAX_HOSTS} hosts", "")
    hosts: list[str] = []
    for expression in _split_top(value):
        choices: list[list[str]] = []
        for piece in _host_pieces(expression, value):
            if isinstance(piece, str):
                choices.append([piece])
            else:
                choices.append(
                    [
                        str(n).zfill(width)
                        for low, high, width in piece
                        for n in range(low, high + 1)
                    ]
                )
        hosts.extend("".join(parts) for parts in product(*choices))
    return hosts
