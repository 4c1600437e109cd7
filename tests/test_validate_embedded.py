"""The embedded engine on its own: SkyPilot 0.14.1's messages, word for word where
SkyPilot has them (reference §4), at the line and column of the offending key or value,
and each pre-processing step and semantic check of reference §3/§6.

Whether SkyPilot itself agrees on the verdicts is tests/test_validate_parity.py.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from slurm2sky.validate import Issue, Verdict, validate_data, validate_text
from slurm2sky.validate.embedded import PLACEHOLDER, _validator


def issues(text: str, **kw: Any) -> list[tuple[int, int, str]]:
    return [(i.line, i.column, i.message) for i in validate_text(text, **kw).issues]


def only(text: str, **kw: Any) -> Issue:
    verdict = validate_text(text, **kw)
    assert len(verdict.issues) == 1, verdict.issues
    return verdict.issues[0]


# --------------------------------------------------------------------------- messages


@pytest.mark.parametrize(
    ("text", "line", "column", "message"),
    [
        (
            "nodes: 2\nrun: echo\n",
            1,
            1,
            "Invalid task YAML: Instead of 'nodes', did you mean 'num_nodes'?",
        ),
        (
            "run: echo\nautostop: 60m\n",
            2,
            1,
            "Invalid task YAML: Found unsupported field 'autostop'.",
        ),
        (
            'run: echo\nnum_nodes: "two"\n',
            2,
            12,
            "Invalid task YAML: 'two' is not of type 'integer'. Check problematic field(s): "
            "$.num_nodes",
        ),
        (
            "resources:\n  acelerators: H100:8\n",
            2,
            3,
            "Invalid resources YAML: Instead of 'acelerators', did you mean 'accelerators'?",
        ),
        (
            "resources:\n  autostop:\n    wait_for: forever\n",
            3,
            15,
            "Invalid resources YAML: 'forever' is not one of ['jobs_and_ssh', 'jobs', 'none']. "
            "Check problematic field(s): $.autostop.wait_for",
        ),
        (
            "resources:\n  autostop: 60x\n",
            2,
            13,
            "Invalid resources YAML: '60x' does not match '^[0-9]+(m|h|d|w|M|H|D|W)?$'. Check "
            "problematic field(s): $.autostop",
        ),
        (
            "file_mounts:\n  /data:\n    source: s3://my-bucket/datasets\n    mode: MOUNTED\n",
            4,
            11,
            "Invalid storage YAML: 'MOUNTED' is not one of ['MOUNT', 'COPY', 'MOUNT_CACHED']. "
            "Check problematic field(s): $.mode",
        ),
        (
            "envs:\n  1BAD: x\nrun: echo\n",
            2,
            3,
            "Invalid task YAML: The `envs` field contains invalid keys:\n'1BAD' does not match "
            "any of the regexes: '^[a-zA-Z_][a-zA-Z0-9_]*$'",
        ),
        (
            "resources:\n  accelerators: H100:eight\n",
            2,
            17,
            'The "accelerators" field as a str should be <name> or <name>:<cnt>. Found: '
            "'H100:eight'",
        ),
        (
            'resources:\n  accelerators: "123abc::"\n',
            2,
            17,
            "invalid literal for int() with base 10: ''",
        ),
        (
            "resources:\n  memory: lots\n",
            2,
            11,
            '"memory" field should be a number (e.g. "16") or "<number><unit>" where unit is one '
            'of KB/MB/GB/TB/PB (e.g. "16GB") or "<number>+" for "at least". Got: \'lots\'',
        ),
        (
            "resources:\n  cpus: many\n",
            2,
            9,
            'The "cpus" field should be either a number or a string "<number>+". Found: \'many\'',
        ),
        ("num_nodes: 0\nrun: echo\n", 1, 12, "num_nodes should be a positive int. Got: 0"),
        (
            "service:\n  readiness_probe: /\n  replica_policy:\n    min_replicas: 1\n"
            "    max_replicas: 2\nrun: echo\n",
            3,
            3,
            "Detected different min_replicas and max_replicas while target_qps_per_replica is "
            "not set. To enable autoscaling, please set target_qps_per_replica.",
        ),
        (
            "run: one\nrun: two\n",
            2,
            1,
            "Duplicate key 'run' in YAML at line 2 (also defined at line 1). Remove one of the "
            "entries so the intended value is unambiguous.",
        ),
    ],
)
def test_skypilots_words_at_the_offending_place(
    text: str, line: int, column: int, message: str
) -> None:
    issue = only(text)
    assert (issue.line, issue.column, issue.message) == (line, column, message)


def test_cloud_enum_message_names_every_cloud() -> None:
    issue = only("resources:\n  cloud: awz\n")
    assert issue.message.startswith("Invalid resources YAML: 'awz' is not one of ['aws', 'azure'")
    assert "'slurm'" in issue.message and "'verda'" in issue.message
    assert issue.message.endswith(". Check problematic field(s): $.cloud")
    assert (issue.line, issue.column, issue.path, issue.code) == (
        2,
        10,
        "$.resources.cloud",
        "schema",
    )


def test_infra_regex_message() -> None:
    issue = only("resources:\n  infra: mycloud/us-east-1\n")
    assert issue.message.startswith(
        "Invalid resources YAML: 'mycloud/us-east-1' does not match '^(?:"
    )
    assert issue.message.endswith("Check problematic field(s): $.infra")


def test_object_is_called_dict_as_skypilot_does() -> None:
    assert "'H100:8' is not of type 'dict'" in only("resources: H100:8\nrun: x\n").message


def test_all_independent_problems_are_reported_in_order() -> None:
    text = "nodes: 1\nnum_nodes: 0\nresources:\n  cpus: 0\n  memory: lots\nrun: a\nrun: b\n"
    found = validate_text(text).issues
    assert [(i.line, i.code) for i in found] == [
        (1, "schema"),
        (2, "value"),
        (4, "value"),
        (5, "value"),
        (7, "duplicate-key"),
    ]


# --------------------------------------------------------------------------- positions


def test_gpus_alias_points_at_gpus() -> None:
    issue = only("resources:\n  gpus: H100:eight\n")
    assert (issue.line, issue.column, issue.path) == (2, 9, "$.resources.gpus")


def test_any_of_candidate_problem_points_into_the_candidate() -> None:
    text = "resources:\n  any_of:\n    - infra: aws\n    - infra: gcp\n      cpus: none\n"
    issue = only(text)
    assert (issue.line, issue.column, issue.path) == (5, 13, "$.resources.any_of[1].cpus")


def test_substituted_file_mount_key_is_found_in_the_file() -> None:
    text = "envs:\n  D: data\nfile_mounts:\n  /mnt/$D:\n    source: s3://b\n    mode: MOUNTED\n"
    issue = only(text)
    assert (issue.line, issue.column) == (6, 11)
    assert issue.path == "$.file_mounts./mnt/$D.mode"


def test_pipeline_problem_is_in_its_document() -> None:
    issue = only("name: p\n---\nrun: ok\n---\nresources:\n  memory: lots\n")
    assert (issue.document, issue.line, issue.column) == (2, 6, 11)


def test_unknown_key_in_volume_mount_is_at_the_key() -> None:
    issue = only("volume_mounts:\n  - path: /mnt\n    volume_nam: x\nrun: echo\n")
    assert (issue.line, issue.column) == (3, 5)
    assert (
        issue.message == "Invalid task YAML: Instead of 'volume_nam', did you mean 'volume_name'?"
    )


# --------------------------------------------------------------------------- pre-processing


def test_env_values_are_str_coerced_before_the_schema() -> None:
    assert validate_text("envs:\n  SEED: 42\n  ON: yes\n  L: [1]\nrun: x\n").valid


def test_null_fields_are_dropped_before_the_schemas() -> None:
    text = "name:\nresources:\nfile_mounts:\n  /d:\n    name:\n    source: s3://x\nrun: x\n"
    assert validate_text(text).valid


def test_null_unknown_field_survives_to_skypilots_final_assertion() -> None:
    issue = only("nodes:\nrun: echo\n")
    assert issue.message.startswith("Invalid task args: dict_keys(['nodes'])")
    assert (issue.line, issue.column) == (1, 1)


def test_substitution_happens_before_the_storage_schema() -> None:
    text = "envs:\n  STORE: s3\nfile_mounts:\n  /d:\n    name: b\n    store: $STORE\nrun: x\n"
    assert validate_text(text).valid
    bad = text.replace("STORE: s3", "STORE: dropbox")
    assert "'dropbox' is not one of" in only(bad).message


def test_substitution_uses_env_overrides_and_inline_secrets_only() -> None:
    text = "secrets:\n  S: s3\n  M:\nfile_mounts:\n  /d:\n    name: b\n    store: ${S}\nrun: x\n"
    assert validate_text(text).valid
    assert not validate_text(text.replace("${S}", "${M}")).valid  # managed: no value
    undeclared = "file_mounts:\n  /d:\n    name: b\n    store: $ST\nrun: x\n"
    assert not validate_text(undeclared).valid
    assert validate_text(undeclared, env={"ST": "gcs"}).valid


def test_substitution_that_breaks_json_fails_like_skypilot() -> None:
    text = "envs:\n  SRC: 'a\"b'\nfile_mounts:\n  /data: $SRC\nrun: x\n"
    issue = only(text)
    assert issue.message.startswith("Cannot substitute envs into `file_mounts`: Expecting")


def test_storage_checked_only_for_dict_mounts_not_volumes() -> None:
    text = "file_mounts:\n  /a: ./local\n  /v:\n    store: volume\n    name: v1\nrun: x\n"
    assert validate_text(text).valid
    issue = only("file_mounts:\n  /v:\n    store: volume\nrun: x\n")
    assert issue.message == 'Network volume /v must have "name" field.'


def test_gpus_alias_conflicts_with_accelerators_even_null() -> None:
    issue = only("resources:\n  gpus: H100\n  accelerators:\n")
    assert issue.message == "Cannot specify both gpus and accelerators in config."
    assert (issue.line, issue.column) == (2, 3)


# --------------------------------------------------------------------------- null envs


def test_null_env_means_needs_env() -> None:
    verdict = validate_text("envs:\n  TASK_ID:\n  B: null\nrun: echo $TASK_ID\n")
    assert verdict.valid and verdict.status == "needs_env"
    assert verdict.needs_env == ("B", "TASK_ID")
    assert verdict.summary() == "valid, needs --env B --env TASK_ID"
    given = validate_text("envs:\n  TASK_ID:\n  B: null\nrun: x\n", env={"TASK_ID": "1"})
    assert given.needs_env == ("B",)
    assert validate_text("envs:\n  TASK_ID:\nrun: x\n", env={"TASK_ID": ""}).status == "valid"


def test_null_env_is_checked_with_the_placeholder() -> None:
    text = "envs:\n  STORE:\nfile_mounts:\n  /d:\n    name: b\n    store: $STORE\nrun: x\n"
    verdict = validate_text(text)
    assert verdict.needs_env == ("STORE",)
    assert f"'{PLACEHOLDER}' is not one of" in verdict.issues[0].message
    assert validate_text(text, env={"STORE": "s3"}).status == "valid"


def test_null_env_across_a_pipeline_and_a_job_group() -> None:
    pipeline = "name: p\n---\nenvs:\n  A:\nrun: x\n---\nenvs:\n  B:\nrun: y\n"
    assert validate_text(pipeline).needs_env == ("A", "B")
    group = "name: g\nexecution: parallel\n---\nname: a\nenvs:\n  A:\nrun: x\n"
    assert validate_text(group).needs_env == ("A",)


def test_null_secret_is_not_a_missing_env() -> None:
    assert validate_text("secrets:\n  HF_TOKEN:\nrun: x\n").status == "valid"


def test_envs_without_value_is_invalid_as_in_skypilot() -> None:
    issue = only("envs:\nrun: x\n")
    assert "'NoneType' object has no attribute 'update'" in issue.message


# --------------------------------------------------------------------------- semantic checks


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("secrets:\n  - HF_TOKEN\nrun: x\n", "Invalid secret in array form: 'HF_TOKEN'"),
        (
            "secrets:\n  secrets:X: v\nrun: x\n",
            "secret references (secrets: prefix) must have a null",
        ),
        (
            "service:\n  readiness_probe: /\npool:\n  workers: 1\nrun: x\n",
            "Cannot set both service and pool in the same task.",
        ),
        (
            "envs:\n  SKYPILOT_DOCKER_USERNAME: u\nrun: x\n",
            "Missing from envs: ['SKYPILOT_DOCKER_PASSWORD', 'SKYPILOT_DOCKER_SERVER']",
        ),
        (
            "secrets:\n  SKYPILOT_DOCKER_SERVER: s\nrun: x\n",
            "Missing from secrets: ['SKYPILOT_DOCKER_PASSWORD', 'SKYPILOT_DOCKER_USERNAME']",
        ),
        (
            "envs:\n  SKYPILOT_DOCKER_USERNAME: u\n"
            "secrets:\n  SKYPILOT_DOCKER_PASSWORD: p\nrun: x\n",
            "not split across both. Found in envs: ['SKYPILOT_DOCKER_USERNAME'], Found in "
            "secrets: ['SKYPILOT_DOCKER_PASSWORD']",
        ),
        (
            "resources:\n  hooks:\n    - run: x\n",
            "Lifecycle hooks live under top-level `config.hooks:`",
        ),
        (
            "service:\n  readiness_probe: /\n  replicas: 1\n"
            "  replica_policy:\n    min_replicas: 1\n",
            "Cannot specify both `replicas` and `replica_policy`",
        ),
        (
            "resources:\n  any_of:\n    - infra: aws\n  ordered:\n    - infra: gcp\n",
            'Cannot specify both "any_of" and "ordered" in resources.',
        ),
        (
            "resources:\n  accelerators: [A100, H100]\n  ordered:\n    - infra: aws\n",
            'Cannot specify multiple "accelerators" with "ordered" in resources.',
        ),
        ("resources:\n  ports: 70000\n", "Invalid port 70000."),
        ("resources:\n  disk_tier: fast\n", "Invalid disk_tier 'fast'."),
        ("resources:\n  infra: aws\n  accelerators: tpu-v4-8\n", "Cloud must be GCP or Kubernetes"),
        ("resources:\n  local_disk: hdd:1\n", "Invalid local_disk mode: 'hdd'."),
        ("resources:\n  infra: aws\n  region: us-east-1\n", "Cannot specify both `infra` and"),
        ("inputs: {}\nrun: x\n", "Only one input is allowed."),
        ("file_mounts:\n  /d: 5\nrun: x\n", "Unable to parse file_mount /d:5"),
    ],
)
def test_semantic_checks(text: str, fragment: str) -> None:
    verdict = validate_text(text)
    assert any(fragment in issue.message for issue in verdict.issues), verdict.issues


def test_task_name_is_a_server_tier_check_only() -> None:
    assert validate_text('name: "my task!"\nrun: x\n').valid


def test_memory_zero_only_on_slurm() -> None:
    assert not validate_text("resources:\n  memory: 0\n").valid
    assert validate_text("resources:\n  infra: slurm/c/p\n  memory: 0\n").valid


# --------------------------------------------------------------------------- documents


def test_pipeline_header_and_job_group_are_told_apart() -> None:
    assert validate_text("name: p\nexecution: serial\n---\nrun: a\n---\nrun: b\n").valid
    lonely = only("name: p\nexecution: parallel\n")
    assert lonely.message.startswith("Invalid execution mode for pipeline: 'parallel'.")
    group = "name: g\nexecution: parallel\n---\nname: a\nrun: x\n---\nname: a\nrun: y\n"
    assert only(group).message == "Duplicate job name in Job Group: a"


def test_job_groups_skip_the_duplicate_key_check_like_skypilot() -> None:
    assert validate_text("name: g\nexecution: parallel\n---\nname: a\nrun: x\nrun: y\n").valid


def test_empty_task_file() -> None:
    issue = only("# nothing\n", source="empty.yaml")
    assert issue.message == (
        "'empty.yaml' is empty or contains no task definition. Add at least a `run:` (or "
        "`setup:`) field."
    )


def test_yaml_error_is_located() -> None:
    issue = only("resources:\n  accelerators: 123abc::\n")
    assert (issue.line, issue.column, issue.code) == (2, 24, "yaml")  # as PyYAML reports
    assert issue.message == "mapping values are not allowed here"


def test_config_and_volume_kinds() -> None:
    config = validate_text("kubernets:\n  a: 1\n", "config", source="c.yaml")
    assert config.issues[0].message == (
        "Invalid config YAML from (c.yaml). See: https://docs.skypilot.co/en/latest/reference/"
        "config.html. Error: Instead of 'kubernets', did you mean 'kubernetes'?"
    )
    assert validate_text("", "config").valid
    assert validate_text("name: d\ntype: k8s-pvc\nsize: 10Gi\n", "volume").valid
    issue = validate_text("name: D\ntype: k8s-pvc\nsize: 10Gi\n", "volume").issues[0]
    assert issue.message.startswith("Invalid volume name 'D': Volume name must be a valid DNS-1123")
    assert (issue.line, issue.column) == (1, 7)


# --------------------------------------------------------------------------- data


def test_validate_data_has_no_positions_and_does_not_modify_the_document() -> None:
    data = {
        "envs": {"SEED": 1, "X": None},
        "resources": {"gpus": "H100:8", "any_of": [{"infra": "aws", "gpus": "A100:8"}]},
        "file_mounts": {"/d": {"name": "$X", "store": "s3"}},
        "run": "x",
    }
    before = copy.deepcopy(data)
    verdict = validate_data(data)
    assert verdict.status == "needs_env" and verdict.needs_env == ("X",)
    assert data == before
    bad = validate_data({"num_nodes": 0})
    assert [(i.line, i.column, i.message) for i in bad.issues] == [
        (0, 0, "num_nodes should be a positive int. Got: 0")
    ]


def test_verdict_and_issue_text() -> None:
    verdict = Verdict("task", "embedded", (Issue(3, 5, "bad\nthing", "$.x", 0, "schema"),))
    assert verdict.status == "invalid" and not verdict.valid
    assert verdict.summary() == "invalid (1 issue)"
    assert verdict.issues[0].format("t.yaml") == "t.yaml:3:5: bad thing"
    assert Issue(0, 0, "m").format("t.yaml") == "t.yaml: m"


def test_validators_are_built_once() -> None:
    assert _validator("task") is _validator("task")
