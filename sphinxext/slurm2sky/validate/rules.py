"""SkyPilot's value rules that no JSON schema holds, as pure functions.

Each function reproduces one rule SkyPilot 0.14.1 applies on the client while it
builds a task (``Task.from_yaml_config`` and the ``Resources``, ``Storage`` and
``SkyServiceSpec`` constructors it calls) or a volume, and raises :class:`ValueError`
with SkyPilot's own message when the value breaks it. The source of each rule is
named in its docstring. Our own code: SkyPilot's constants are restated here, for
the release in :data:`slurm2sky.SKYPILOT_VERSION`.

Pure Python, standard library only.
"""

from __future__ import annotations

import re
from typing import Any

#: ``sky.skylet.constants.MEMORY_SIZE_UNITS``, in SkyPilot's order (matters: the
#: first matching suffix wins), bytes per unit.
MEMORY_SIZE_UNITS: dict[str, int] = {
    "kb": 2**10,
    "ki": 2**10,
    "mb": 2**20,
    "mi": 2**20,
    "gb": 2**30,
    "gi": 2**30,
    "tb": 2**40,
    "ti": 2**40,
    "pb": 2**50,
    "pi": 2**50,
}
#: ``constants.TIME_PATTERN_SECONDS`` (job group ``termination_delay``).
TIME_PATTERN_SECONDS = re.compile(r"^[0-9]+(s|m|h|d|w|S|M|H|D|W)?$")

DISK_TIERS = ("low", "medium", "high", "ultra", "best")  # resources_utils.DiskTier
NETWORK_TIERS = ("standard", "best")  # resources_utils.NetworkTier
STORAGE_TYPES = ("network", "instance")  # resources_utils.StorageType
DEFAULT_DISK_SIZE_GB = 256  # sky.resources.DEFAULT_DISK_SIZE_GB
#: ``sky.serve`` load-balancing policies (registered names; matched case-sensitively)
LB_POLICIES = ("round_robin", "least_load", "instance_aware_least_load")
#: ``constants.DOCKER_LOGIN_ENV_VARS``
DOCKER_LOGIN_ENV_VARS = frozenset(
    {"SKYPILOT_DOCKER_USERNAME", "SKYPILOT_DOCKER_PASSWORD", "SKYPILOT_DOCKER_SERVER"}
)
#: ``constants.SKY_REMOTE_WORKDIR``
SKY_REMOTE_WORKDIR = "~/sky_workdir"
#: ``provision.kubernetes.utils.GKE_TPU_ACCELERATOR_TO_GENERATION`` keys
GKE_TPU_ACCELERATORS = frozenset(
    {
        "tpu-v4-podslice",
        "tpu-v5-lite-device",
        "tpu-v5-lite-podslice",
        "tpu-v5p-slice",
        "tpu-v6e-slice",
    }
)
#: ``Cloud._REPR`` of each cloud, by its registry name (used in messages)
CLOUD_REPR: dict[str, str] = {
    "aws": "AWS",
    "azure": "Azure",
    "gcp": "GCP",
    "ibm": "IBM",
    "lambda": "Lambda",
    "scp": "SCP",
    "oci": "OCI",
    "kubernetes": "Kubernetes",
    "runpod": "RunPod",
    "vast": "Vast",
    "vsphere": "vSphere",
    "cudo": "Cudo",
    "fluidstack": "Fluidstack",
    "paperspace": "Paperspace",
    "primeintellect": "PrimeIntellect",
    "do": "DO",
    "nebius": "Nebius",
    "ssh": "SSH",
    "slurm": "Slurm",
    "hyperbolic": "Hyperbolic",
    "seeweb": "Seeweb",
    "shadeform": "Shadeform",
    "yotta": "Yotta",
    "mithril": "Mithril",
    "verda": "Verda",
}
#: SkyPilot's cloud aliases (``k8s`` for Kubernetes), registry name by alias
CLOUD_ALIASES: dict[str, str] = {"k8s": "kubernetes"}
#: ``sky.utils.volume.VolumeType`` values and the cloud each belongs to
VOLUME_TYPE_CLOUD: dict[str, str] = {
    "k8s-pvc": "kubernetes",
    "k8s-hostpath": "kubernetes",
    "runpod-network-volume": "runpod",
}
MIN_RUNPOD_NETWORK_VOLUME_SIZE_GB = 10  # sky.utils.volume
VOLUME_NAME_MAX = {"kubernetes": 63, "runpod": 30}  # Cloud._MAX_VOLUME_NAME_LEN_LIMIT

_PORT_HINT = "Invalid port {}. Please use a port number between 1 and 65535."
_PORT_RANGE_HINT = (
    'Invalid port range {}. Please use the format "from-to", in which from <= to. e.g. "1-3".'
)
_MEMORY_NAMED = re.compile(r"^[0-9]+[GgMmTt][Bb]\+?$")


def cloud_repr(name: str | None) -> str:
    """``str(Cloud)`` for a registry name or alias (``None`` for no cloud)."""
    if name is None:
        return "None"
    key = CLOUD_ALIASES.get(name.lower(), name.lower())
    return CLOUD_REPR.get(key, name)


def parse_memory_resource(
    value: Any,
    field_name: str,
    *,
    ret_type: type = int,
    allow_plus: bool = False,
    allow_x: bool = False,
    allow_rounding: bool = False,
) -> str:
    """A size in GB as SkyPilot writes it (``"16"``, ``"16+"``), from ``16``, ``"16GB"``,
    ``"512Mi"``, ``"1TB+"``... (``resources_utils.parse_memory_resource``).

    Raises:
        ValueError: SkyPilot's message, e.g. ``"memory" field should be a number (e.g.
            "16") or "<number><unit>" where unit is one of KB/MB/GB/TB/PB (e.g.
            "16GB") or "<number>+" for "at least". Got: 'lots'``.
    """
    plus_hint = ' or "<number>+" for "at least"' if allow_plus else ""
    message = (
        f'"{field_name}" field should be a number (e.g. "16") or "<number><unit>" where '
        f'unit is one of KB/MB/GB/TB/PB (e.g. "16GB"){plus_hint}. Got: {value!r}'
    )
    text = str(value)
    plus = ""
    if text.endswith("+"):
        if not allow_plus:
            raise ValueError(message)
        text, plus = text[:-1], "+"
    x = ""
    if text.endswith("x"):
        if not allow_x:
            raise ValueError(message)
        text, x = text[:-1], "x"
    try:
        ret_type(text)
        return f"{text}{plus}{x}"
    except ValueError:
        pass
    lowered = text.lower()
    for unit, multiplier in MEMORY_SIZE_UNITS.items():
        if lowered.endswith(unit):
            try:
                number = ret_type(lowered[: -len(unit)])
                converted = number * multiplier / MEMORY_SIZE_UNITS["gb"]
                if not allow_rounding and ret_type(converted) != converted:
                    raise ValueError(message)
                return f"{ret_type(converted)}{plus}{x}"
            except ValueError:
                continue
    raise ValueError(message)


def check_cpus(cpus: str) -> None:
    """``Resources._set_cpus``: a number or ``"<number>+"``, positive.

    Raises:
        ValueError: ``The "cpus" field should be either a number or a string
            "<number>+". Found: 'many'`` or ``... should be positive. Found: '0'``.
    """
    number = cpus[:-1] if cpus.endswith("+") else cpus
    try:
        count = float(number)
    except ValueError:
        raise ValueError(
            f'The "cpus" field should be either a number or a string "<number>+". Found: {cpus!r}'
        ) from None
    if count <= 0:
        raise ValueError(f'The "cpus" field should be positive. Found: {cpus!r}')


def check_memory(memory: str, *, slurm: bool) -> None:
    """``Resources._set_memory``: a size (units allowed, ``+`` for at least), positive;
    ``0`` only on Slurm.

    Raises:
        ValueError: SkyPilot's message.
    """
    parsed = parse_memory_resource(memory, "memory", ret_type=float, allow_plus=True, allow_x=True)
    number = parsed[:-1] if parsed.endswith(("+", "x")) else parsed
    try:
        size = float(number)
    except ValueError:
        raise ValueError(
            f'The "memory" field should be either a number or a string "<number>+". '
            f"Found: {parsed!r}"
        ) from None
    if size < 0 or (size == 0 and not slurm):
        raise ValueError(f'The "memory" field should be positive. Found: {parsed!r}')


def parse_accelerator_spec(spec: str) -> list[tuple[str, bool]]:
    """The accelerators one string names, with whether the user named them
    (``Resources._parse_accelerators_from_str``).

    ``"H100:8"`` and ``"H100"`` name themselves. Memory forms (``"80GB+"``,
    ``"nvidia:24GB:1"``) select devices from SkyPilot's GPU catalog, which the client
    downloads: they are checked for form only and stand for no named device here.

    Raises:
        ValueError: a count that is not an integer in the 2- and 3-part memory forms
            (Python's ``invalid literal for int() ...``), or a memory size that is not
            whole GB.
        AssertionError: a 3-part form without a memory size (SkyPilot asserts).
    """
    parts = spec.split(":")
    memory: str | None = None
    if len(parts) == 3:
        _manufacturer, memory, count = parts
        int(count)
        if not re.match(r"^[0-9]+[GgMmTt][Bb]\+?$", memory):
            raise AssertionError(
                "If specifying a GPU manufacturer, you must alsospecify the memory size"
            )
    elif len(parts) == 2 and _MEMORY_NAMED.match(parts[0]):
        memory = parts[0]
        int(parts[1])
    elif len(parts) == 2 and _MEMORY_NAMED.match(parts[1]):
        memory = parts[1]
    elif len(parts) == 1 and _MEMORY_NAMED.match(parts[0]):
        memory = parts[0]
    else:
        return [(spec, True)]
    parse_memory_resource(memory, "accelerators", allow_plus=True)
    return []


def accelerator_count(spec: str) -> tuple[str, float | int]:
    """``Resources._set_accelerators`` for one ``"<name>"`` / ``"<name>:<count>"``.

    Raises:
        ValueError: ``The "accelerators" field as a str should be <name> or
            <name>:<cnt>. Found: 'H100:eight'``, or ``Accelerator count must be a
            positive number. Got: 'H100': 0.``
    """
    if ":" not in spec:
        name, count = spec, 1
    else:
        parts = spec.split(":")
        message = (
            f'The "accelerators" field as a str should be <name> or <name>:<cnt>. Found: {spec!r}'
        )
        if len(parts) != 2:
            raise ValueError(message)
        try:
            number = float(parts[1])
        except ValueError:
            raise ValueError(message) from None
        name, count = parts[0], int(number) if number.is_integer() else number
    if count <= 0:
        raise ValueError(f"Accelerator count must be a positive number. Got: {name!r}: {count!r}.")
    return name, count


def simplify_ports(ports: Any) -> list[str]:
    """``Resources.__init__`` ports handling: a value or list, comma-separated tokens,
    each a port 1-65535 or a ``from-to`` range (``resources_utils.simplify_ports``).

    Raises:
        ValueError: ``Invalid port 70000. Please use a port number between 1 and
            65535.`` or ``Invalid port range 9-1. ...``.
    """
    if isinstance(ports, tuple):
        ports = list(ports)
    if not isinstance(ports, list):
        ports = [str(ports)]
    tokens = [token.strip() for port in ports for token in str(port).split(",")]
    found: set[int] = set()
    for token in (t for t in tokens if t):
        if token.isdigit():
            _check_port(token)
            found.add(int(token))
            continue
        bounds = token.split("-")
        if len(bounds) != 2:
            raise ValueError(_PORT_RANGE_HINT.format(token))
        _check_port(bounds[0])
        _check_port(bounds[1])
        if int(bounds[0]) > int(bounds[1]):
            raise ValueError(_PORT_RANGE_HINT.format(token))
        found.update(range(int(bounds[0]), int(bounds[1]) + 1))
    return [str(port) for port in sorted(found)]


def _check_port(port: str) -> None:
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(_PORT_HINT.format(port))


def normalize_local_disk(value: Any) -> str:
    """``resources_utils.normalize_local_disk``: ``"mode:size[+]"``, ``"mode"`` or
    ``"size[+]"`` with mode ``nvme``/``ssd`` and a positive size in GB.

    Raises:
        ValueError: SkyPilot's message.
    """
    text = str(value).lower().strip()
    parts = text.split(":")

    def check_size(size: str) -> None:
        try:
            number = float(size.rstrip("+"))
            if number <= 0:
                raise ValueError
        except ValueError:
            raise ValueError(
                f'Invalid local_disk: {text!r}. Expected "mode:size[+]", "mode", or '
                '"size[+]". Mode must be "nvme" or "ssd", size must be positive (GB), '
                'optionally with "+".'
            ) from None

    if len(parts) == 1:
        if parts[0] in ("nvme", "ssd"):
            return f"{parts[0]}:100+"
        check_size(parts[0])
        return f"nvme:{parts[0]}"
    if len(parts) == 2:
        mode, size = parts
        if mode not in ("nvme", "ssd"):
            raise ValueError(f'Invalid local_disk mode: {mode!r}. Must be "nvme" or "ssd".')
        check_size(size)
        return f"{mode}:{size}"
    raise ValueError(
        f'Invalid local_disk format: {text!r}. Expected "mode:size[+]", "mode", or '
        '"size[+]". Examples: "nvme:1000+", "ssd:500", "nvme", "1000+".'
    )


def parse_infra(infra: str | None) -> tuple[str | None, str | None, str | None]:
    """``(cloud, region, zone)`` from ``cloud[/region[/zone]]``; ``*`` is ``None``;
    ``k8s``/``kubernetes`` take everything after the first ``/`` as the context,
    ``ssh/<pool>`` becomes region ``ssh-<pool>`` (``infra_utils.InfraInfo.from_str``).

    Raises:
        ValueError: empty parts (``aws//x``) or more than three parts.
    """
    if infra is None or not infra.strip():
        return None, None, None
    infra = infra.strip().strip("/")
    parts = [part.strip() for part in infra.strip().split("/")]
    if "" in parts:
        raise ValueError(
            f"Invalid infra format: {infra}. Format should not contain empty parts "
            '(e.g., double slashes "//").'
        )
    cloud: str | None = parts[0].lower()
    region: str | None = None
    zone: str | None = None
    if cloud in ("k8s", "kubernetes"):
        cloud = "kubernetes"
        region = "/".join(parts[1:]) if len(parts) >= 2 else None
    elif cloud == "ssh":
        region = "/".join(parts[1:]) if len(parts) >= 2 else None
        if region:
            region = f"ssh-{region}"
    else:
        rest = parts[1:]
        if rest:
            region = rest[0]
            if len(rest) > 1:
                zone = rest[1]
            if len(rest) > 2:
                raise ValueError(
                    f'Invalid infra format: {infra}. Expected format is "cloud", '
                    '"cloud/region", or "cloud/region/zone".'
                )
    return (
        None if cloud == "*" else cloud,
        None if region == "*" else region,
        None if zone == "*" else zone,
    )


def check_time_seconds(value: str, field_name: str) -> None:
    """Job group durations (``dag_utils._validate_time_duration``).

    Raises:
        ValueError: ``Invalid time duration for termination_delay: '5x'. Expected
            format: NUMBER[s|m|h|d|w] (e.g., "30s", "5m", "1h")``.
    """
    if not TIME_PATTERN_SECONDS.match(value):
        raise ValueError(
            f"Invalid time duration for {field_name}: {value!r}. Expected format: "
            'NUMBER[s|m|h|d|w] (e.g., "30s", "5m", "1h")'
        )


def group_name_ok(name: Any) -> bool:
    """Job group and job names: non-empty, only alphanumerics, ``-`` and ``_``
    (``dag_utils._load_job_group``)."""
    return isinstance(name, str) and all(c.isalnum() or c in "-_" for c in name)


def k8s_volume_name_error(name: str) -> str | None:
    """``Kubernetes.is_volume_name_valid``: a DNS-1123 subdomain of at most 63
    characters; the reason, or ``None`` when valid."""
    if len(name) > VOLUME_NAME_MAX["kubernetes"]:
        return (
            f"Volume name exceeds the maximum length of {VOLUME_NAME_MAX['kubernetes']} "
            "characters (DNS-1123 subdomain)."
        )
    label = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
    if re.fullmatch(rf"^{label}(\.{label})*$", name) is None:
        return (
            'Volume name must be a valid DNS-1123 subdomain: lowercase alphanumeric, "-", '
            'and "."; start/end with alphanumeric.'
        )
    return None


def k8s_label_error(key: str, value: str) -> str | None:
    """``Kubernetes.is_label_valid``; the reason, or ``None`` when valid."""
    key_ok = bool(
        re.match(
            r"^(?:(?=[a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?\/)?"
            r"[a-z0-9]([-a-z0-9_.]{0,61}[a-z0-9])?$",
            key,
        )
    )
    value_ok = bool(re.match(r"^([a-zA-Z0-9]([-a-zA-Z0-9_.]{0,61}[a-zA-Z0-9])?)?$", value))
    condition = (
        "Value must consist of alphanumeric characters or '-', '_', '.', and must be no "
        "more than 63 characters in length."
    )
    if not value_ok:
        return f"Invalid label value {value} for Kubernetes. {condition}"
    if not key_ok:
        return f"Invalid label key {key} for Kubernetes. {condition}"
    return None
