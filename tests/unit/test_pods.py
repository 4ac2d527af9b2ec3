"""The Pod of one attempt: name, labels, AWS variables, resources, security, pool placement.

DESIGN §1 (pools, Fargate isolation, requests = limits) and §2 (AWS_BATCH_* variables,
labels, deterministic pod names) are the contract; each table below is one rule.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from kubatch.core.pods import (
    CAPACITY_TYPE_LABEL,
    LABEL_ARRAY_INDEX,
    LABEL_ATTEMPT,
    LABEL_CE,
    LABEL_JOB_ID,
    LABEL_JOB_NAME,
    LABEL_NODE_INDEX,
    LABEL_QUEUE,
    MAX_POD_NAME,
    Attempt,
    ComputePlacement,
    aws_environment,
    build_container_pod,
    container_resources,
    label_value,
    pod_name,
)

from .builders import container

UID = "0b9f3c1e-5d2a-4c4e-9a57-1f0d6f2b7c11"
DNS_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS_SUBDOMAIN = re.compile(rf"{DNS_LABEL}(\.{DNS_LABEL})*")
LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
OWNER = {"apiVersion": "kubatch.io/v1alpha1", "kind": "BatchJob", "name": "render", "uid": UID,
         "controller": True, "blockOwnerDeletion": False}


def attempt(**fields) -> Attempt:
    return Attempt(**({"namespace": "team-a", "job_name": "render", "job_uid": UID, "queue": "high",
                       "attempt": 1} | fields))


def build(container_fields: dict | None = None, *, ce_type: str = "EC2", placement: ComputePlacement | None = None,
          parameters: dict | None = None, timeout: int | None = None, **attempt_fields) -> dict:
    return build_container_pod(
        attempt=attempt(**attempt_fields),
        placement=placement or ComputePlacement(name="pool", type=ce_type),
        container=container(**(container_fields or {})),
        parameters=parameters or {},
        attempt_duration_seconds=timeout,
        owner=OWNER,
    )


def main_container(pod: dict) -> dict:
    (only,) = pod["spec"]["containers"]
    return only


def env_of(pod: dict) -> dict[str, dict]:
    return {entry["name"]: entry for entry in main_container(pod)["env"]}


# -- the whole pod, once ---------------------------------------------------------------------


def test_a_simple_ec2_job_gets_exactly_this_pod() -> None:
    pod = build({"command": ["echo", "Ref::msg"], "environment": [{"name": "MODE", "value": "fast"}]},
                parameters={"msg": "hello"}, timeout=120)
    assert pod == {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "render-a1",
            "namespace": "team-a",
            "labels": {LABEL_JOB_NAME: "render", LABEL_JOB_ID: UID, LABEL_QUEUE: "high", LABEL_CE: "pool",
                       LABEL_ATTEMPT: "1"},
            "annotations": {},
            "ownerReferences": [OWNER],
        },
        "spec": {
            "restartPolicy": "Never",
            "enableServiceLinks": False,
            "activeDeadlineSeconds": 120,
            "nodeSelector": {CAPACITY_TYPE_LABEL: "on-demand"},
            "tolerations": [],
            "containers": [{
                "name": "main",
                "image": "busybox:1.36",
                "command": ["echo", "hello"],
                "env": [
                    {"name": "MODE", "value": "fast"},
                    {"name": "AWS_BATCH_JOB_ID", "value": UID},
                    {"name": "AWS_BATCH_JOB_ATTEMPT", "value": "1"},
                    {"name": "AWS_BATCH_JQ_NAME", "value": "high"},
                    {"name": "AWS_BATCH_CE_NAME", "value": "pool"},
                ],
                "resources": {"requests": {"cpu": "1", "memory": "2048Mi"}, "limits": {"memory": "2048Mi"}},
                "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
                                    "seccompProfile": {"type": "RuntimeDefault"}},
            }],
            "automountServiceAccountToken": False,
        },
    }


# -- pod names ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"job_name": "render", "attempt": 1}, "render-a1"),
        ({"job_name": "render", "attempt": 10}, "render-a10"),
        ({"job_name": "render", "attempt": 2, "array_index": 0}, "render-i0-a2"),
        ({"job_name": "render", "attempt": 1, "node_index": 3}, "render-n3-a1"),
        ({"job_name": "render", "attempt": 1, "array_index": 7, "node_index": 3}, "render-i7-n3-a1"),
    ],
)
def test_pod_name_is_the_job_name_with_index_node_and_attempt(fields: dict, expected: str) -> None:
    assert pod_name(**fields) == expected


K8S_NAMES = st.from_regex(rf"{DNS_LABEL}(\.{DNS_LABEL})*", fullmatch=True).filter(lambda n: len(n) <= 253)
LONG_NAMES = st.builds(lambda head, tail: (head + tail)[:253], st.from_regex(r"[a-z0-9]", fullmatch=True),
                       st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-.", min_size=200, max_size=252)
                       ).map(lambda n: n.rstrip("-.") or "x").filter(lambda n: DNS_SUBDOMAIN.fullmatch(n))
INDICES = st.none() | st.integers(min_value=0, max_value=9999)
ATTEMPTS = st.integers(min_value=1, max_value=10)


@given(job_name=K8S_NAMES | LONG_NAMES, attempt=ATTEMPTS, array_index=INDICES, node_index=INDICES)
@example(job_name="a" * 238 + "." + "b" * 14, attempt=1, array_index=None, node_index=None)
def test_pod_name_is_always_a_valid_pod_name(job_name: str, attempt: int, array_index: int | None,
                                             node_index: int | None) -> None:
    """Pod names are DNS subdomains of at most 253 characters: a cut that lands after a
    dot must not produce ``.-`` (the API server would refuse the pod)."""
    name = pod_name(job_name=job_name, attempt=attempt, array_index=array_index, node_index=node_index)
    assert len(name) <= MAX_POD_NAME
    assert DNS_SUBDOMAIN.fullmatch(name), name


@given(job_name=K8S_NAMES | LONG_NAMES, attempt=ATTEMPTS, array_index=INDICES, node_index=INDICES)
def test_pod_name_is_deterministic_and_keeps_the_attempt_suffix(job_name: str, attempt: int,
                                                                array_index: int | None,
                                                                node_index: int | None) -> None:
    name = pod_name(job_name=job_name, attempt=attempt, array_index=array_index, node_index=node_index)
    again = pod_name(job_name=job_name, attempt=attempt, array_index=array_index, node_index=node_index)
    suffix = "".join([f"-i{array_index}" if array_index is not None else "",
                      f"-n{node_index}" if node_index is not None else "", f"-a{attempt}"])
    assert name == again
    assert name.endswith(suffix)
    assert name.startswith(job_name[:100])


@pytest.mark.parametrize("suffix_fields", [{}, {"array_index": 9999}, {"node_index": 15},
                                           {"array_index": 9999, "node_index": 15}])
def test_long_names_sharing_a_prefix_get_different_pod_names(suffix_fields: dict) -> None:
    first, second = "x" * 250 + "one", "x" * 250 + "two"
    names = {pod_name(job_name=job, attempt=1, **suffix_fields) for job in (first, second)}
    assert len(names) == 2
    assert all(len(name) == MAX_POD_NAME for name in names)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ({"job_name": "x", "attempt": 1, "array_index": 1}, {"job_name": "x-i1", "attempt": 1}),
        ({"job_name": "x", "attempt": 1, "node_index": 0}, {"job_name": "x-n0", "attempt": 1}),
        ({"job_name": "x", "attempt": 2}, {"job_name": "x-a2", "attempt": 1}),
    ],
    ids=["array child vs job named like it", "node vs job named like it", "attempts"],
)
def test_pods_of_different_jobs_never_share_a_name(one: dict, other: dict) -> None:
    """Pod names are per (job, index, node, attempt): a second job must never find its
    pod name taken by another job's pod (its create would fail with 409 forever)."""
    assert pod_name(**one) != pod_name(**other)


# -- label values -------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["q", "high-priority", "a" * 63])
def test_short_label_values_are_kept(text: str) -> None:
    assert label_value(text) == text


@given(text=K8S_NAMES.filter(lambda n: len(n) > 63))
def test_long_label_values_are_cut_to_63_valid_characters(text: str) -> None:
    value = label_value(text)
    assert len(value) == 63
    assert value.startswith(text[:52])
    assert LABEL_VALUE.fullmatch(value)


def test_long_label_values_sharing_a_prefix_stay_distinct() -> None:
    assert label_value("q" * 60 + "-one") != label_value("q" * 60 + "-two")


def test_long_names_are_shortened_in_labels_but_not_in_variables() -> None:
    long_queue, long_ce = "q" * 100, "c" * 80
    pod = build(placement=ComputePlacement(name=long_ce, type="EC2"), queue=long_queue, job_name="j" * 70)
    labels = pod["metadata"]["labels"]
    assert (labels[LABEL_QUEUE], labels[LABEL_CE], labels[LABEL_JOB_NAME]) == (
        label_value(long_queue), label_value(long_ce), label_value("j" * 70))
    assert all(len(value) <= 63 for value in labels.values())
    env = env_of(pod)
    assert (env["AWS_BATCH_JQ_NAME"]["value"], env["AWS_BATCH_CE_NAME"]["value"]) == (long_queue, long_ce)


# -- AWS variables --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, {"AWS_BATCH_JOB_ID": UID, "AWS_BATCH_JOB_ATTEMPT": "1", "AWS_BATCH_JQ_NAME": "high",
              "AWS_BATCH_CE_NAME": "pool"}),
        ({"attempt": 3}, {"AWS_BATCH_JOB_ID": UID, "AWS_BATCH_JOB_ATTEMPT": "3", "AWS_BATCH_JQ_NAME": "high",
                          "AWS_BATCH_CE_NAME": "pool"}),
        ({"array_index": 4, "array_size": 10},
         {"AWS_BATCH_JOB_ID": f"{UID}:4", "AWS_BATCH_JOB_ATTEMPT": "1", "AWS_BATCH_JQ_NAME": "high",
          "AWS_BATCH_CE_NAME": "pool", "AWS_BATCH_JOB_ARRAY_INDEX": "4", "AWS_BATCH_JOB_ARRAY_SIZE": "10"}),
        ({"node_index": 1, "extra_env": {"AWS_BATCH_JOB_NODE_INDEX": "1", "AWS_BATCH_JOB_NUM_NODES": "4",
                                         "AWS_BATCH_JOB_MAIN_NODE_INDEX": "0"}},
         {"AWS_BATCH_JOB_ID": f"{UID}#1", "AWS_BATCH_JOB_ATTEMPT": "1", "AWS_BATCH_JQ_NAME": "high",
          "AWS_BATCH_CE_NAME": "pool", "AWS_BATCH_JOB_NODE_INDEX": "1", "AWS_BATCH_JOB_NUM_NODES": "4",
          "AWS_BATCH_JOB_MAIN_NODE_INDEX": "0"}),
    ],
    ids=["single job", "third attempt", "array child", "multi-node child"],
)
def test_every_container_gets_the_aws_batch_variables_that_apply(fields: dict, expected: dict) -> None:
    env = aws_environment(attempt(**fields), ComputePlacement(name="pool", type="EC2"))
    assert {entry["name"]: entry["value"] for entry in env} == expected
    assert all(set(entry) == {"name", "value"} for entry in env)


def test_definition_environment_comes_first_and_aws_variables_last() -> None:
    pod = build({"environment": [{"name": "B", "value": "2"}, {"name": "A", "value": 1}],
                 "secrets": [{"name": "TOKEN", "valueFrom": "api:token"}]})
    names = [entry["name"] for entry in main_container(pod)["env"]]
    assert names[:3] == ["B", "A", "TOKEN"]
    assert names[3:] == ["AWS_BATCH_JOB_ID", "AWS_BATCH_JOB_ATTEMPT", "AWS_BATCH_JQ_NAME", "AWS_BATCH_CE_NAME"]
    assert env_of(pod)["A"] == {"name": "A", "value": "1"}


# -- command -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "parameters", "expected"),
    [
        (["python", "process.py", "Ref::input_file"], {"input_file": "s3://b/in.csv"},
         ["python", "process.py", "s3://b/in.csv"]),
        (["echo", "Ref::unknown"], {}, ["echo", "Ref::unknown"]),
    ],
)
def test_command_has_its_placeholders_replaced(command: list[str], parameters: dict, expected: list[str]) -> None:
    assert main_container(build({"command": command}, parameters=parameters))["command"] == expected


def test_without_a_command_the_image_default_runs() -> None:
    assert "command" not in main_container(build())


# -- resources --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "fargate", "expected"),
    [
        ({"vcpus": 2, "memory": 4096}, False,
         {"requests": {"cpu": "2", "memory": "4096Mi"}, "limits": {"memory": "4096Mi"}}),
        ({"vcpus": 2, "memory": 4096}, True,
         {"requests": {"cpu": "2", "memory": "4096Mi"}, "limits": {"cpu": "2", "memory": "4096Mi"}}),
        ({"vcpus": None, "memory": None, "resourceRequirements": [{"type": "VCPU", "value": "0.25"},
                                                                  {"type": "MEMORY", "value": "512"}]}, True,
         {"requests": {"cpu": "250m", "memory": "512Mi"}, "limits": {"cpu": "250m", "memory": "512Mi"}}),
        ({"resourceRequirements": [{"type": "VCPU", "value": "1.5"}]}, False,
         {"requests": {"cpu": "1500m", "memory": "2048Mi"}, "limits": {"memory": "2048Mi"}}),
        ({"resourceRequirements": [{"type": "GPU", "value": "2"}]}, False,
         {"requests": {"cpu": "1", "memory": "2048Mi", "nvidia.com/gpu": "2"},
          "limits": {"memory": "2048Mi", "nvidia.com/gpu": "2"}}),
        ({"vcpus": None, "memory": None}, False,
         {"requests": {"cpu": "1", "memory": "2048Mi"}, "limits": {"memory": "2048Mi"}}),
    ],
    ids=["ec2 legacy", "fargate legacy", "fargate quarter vcpu", "fractional", "gpu", "defaults"],
)
def test_resources_from_vcpus_memory_and_requirements(fields: dict, fargate: bool, expected: dict) -> None:
    assert container_resources(container(**fields), fargate=fargate) == expected


@pytest.mark.parametrize(("ce_type", "cpu_limited"), [("EC2", False), ("SPOT", False), ("FARGATE", True),
                                                       ("FARGATE_SPOT", True)])
def test_only_fargate_pools_limit_cpu_to_the_request(ce_type: str, cpu_limited: bool) -> None:
    resources = main_container(build({"vcpus": 4, "memory": 8192}, ce_type=ce_type))["resources"]
    assert (resources["limits"].get("cpu") == resources["requests"]["cpu"]) is cpu_limited
    assert resources["limits"]["memory"] == resources["requests"]["memory"] == "8192Mi"


# -- volumes, secrets, security ---------------------------------------------------------------------


def test_volumes_mount_points_and_shared_memory() -> None:
    pod = build({
        "volumes": [{"name": "data", "host": {"sourcePath": "/mnt/data"}}, {"name": "scratch"},
                    {"name": "cache", "host": {}}],
        "mountPoints": [{"sourceVolume": "data", "containerPath": "/data", "readOnly": True},
                        {"sourceVolume": "scratch", "containerPath": "/tmp/work"}],
        "linuxParameters": {"sharedMemorySize": 256},
    })
    assert pod["spec"]["volumes"] == [
        {"name": "data", "hostPath": {"path": "/mnt/data"}},
        {"name": "scratch", "emptyDir": {}},
        {"name": "cache", "emptyDir": {}},
        {"name": "kubatch-shm", "emptyDir": {"medium": "Memory", "sizeLimit": "256Mi"}},
    ]
    assert main_container(pod)["volumeMounts"] == [
        {"name": "data", "mountPath": "/data", "readOnly": True},
        {"name": "scratch", "mountPath": "/tmp/work", "readOnly": False},
        {"name": "kubatch-shm", "mountPath": "/dev/shm"},
    ]


def test_no_volumes_means_no_volume_fields() -> None:
    pod = build({"linuxParameters": {}})
    assert "volumes" not in pod["spec"]
    assert "volumeMounts" not in main_container(pod)


@pytest.mark.parametrize(
    ("secret", "expected_ref"),
    [
        ({"name": "DB_PASSWORD", "valueFrom": "db-creds:password"}, {"name": "db-creds", "key": "password"}),
        ({"name": "API_TOKEN", "valueFrom": "tokens"}, {"name": "tokens", "key": "API_TOKEN"}),
    ],
)
def test_secrets_become_secret_key_refs_never_values(secret: dict, expected_ref: dict) -> None:
    entry = env_of(build({"secrets": [secret]}))[secret["name"]]
    assert entry == {"name": secret["name"], "valueFrom": {"secretKeyRef": expected_ref}}


RESTRICTED = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
              "seccompProfile": {"type": "RuntimeDefault"}}


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, RESTRICTED),
        ({"privileged": False, "readonlyRootFilesystem": False}, RESTRICTED),
        ({"privileged": True}, {"privileged": True}),
        ({"readonlyRootFilesystem": True}, RESTRICTED | {"readOnlyRootFilesystem": True}),
        ({"user": "1000"}, RESTRICTED | {"runAsUser": 1000, "runAsNonRoot": True}),
        ({"user": "1000:2000"}, RESTRICTED | {"runAsUser": 1000, "runAsGroup": 2000, "runAsNonRoot": True}),
        ({"user": "0:0"}, RESTRICTED | {"runAsUser": 0, "runAsGroup": 0}),
        ({"privileged": True, "readonlyRootFilesystem": True, "user": "65534:65534"},
         {"privileged": True, "readOnlyRootFilesystem": True, "runAsUser": 65534, "runAsGroup": 65534,
          "runAsNonRoot": True}),
    ],
)
def test_security_fields_map_to_the_container_security_context(fields: dict, expected: dict) -> None:
    """Unprivileged containers always get the restricted profile's rules; a non-root user says so."""
    assert main_container(build(fields))["securityContext"] == expected


def test_only_a_definition_naming_a_service_account_gets_an_api_token() -> None:
    assert build()["spec"]["automountServiceAccountToken"] is False
    assert build({"serviceAccountName": "reader"})["spec"]["automountServiceAccountToken"] is True


def test_service_account_is_the_definitions() -> None:
    assert build({"serviceAccountName": "reader"})["spec"]["serviceAccountName"] == "reader"
    assert "serviceAccountName" not in build()["spec"]


# -- placement ---------------------------------------------------------------------------------------


def _toleration(pool: str) -> dict:
    return {"key": CAPACITY_TYPE_LABEL, "operator": "Equal", "value": pool, "effect": "NoSchedule"}


@pytest.mark.parametrize(
    ("ce_type", "pool", "tolerations", "isolated"),
    [
        ("EC2", "on-demand", [], False),
        ("SPOT", "spot", [_toleration("spot")], False),
        ("FARGATE", "fargate", [_toleration("fargate")], True),
        ("FARGATE_SPOT", "fargate-spot", [_toleration("fargate-spot")], True),
    ],
)
def test_each_ce_type_places_pods_on_its_pool(ce_type: str, pool: str, tolerations: list, isolated: bool) -> None:
    spec = build(ce_type=ce_type)["spec"]
    assert spec["nodeSelector"] == {CAPACITY_TYPE_LABEL: pool}
    assert spec["tolerations"] == tolerations
    assert ("affinity" in spec) is isolated


@pytest.mark.parametrize("ce_type", ["FARGATE", "FARGATE_SPOT"])
def test_fargate_pods_never_share_a_node_with_another_kubatch_pod(ce_type: str) -> None:
    assert build(ce_type=ce_type)["spec"]["affinity"] == {"podAntiAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": [{
            "labelSelector": {"matchExpressions": [{"key": LABEL_JOB_ID, "operator": "Exists"}]},
            "topologyKey": "kubernetes.io/hostname",
        }]}}


KARPENTER_SPOT = {"karpenter.sh/capacity-type": "spot"}
KARPENTER_TOLERATION = [{"key": "karpenter.sh/disrupted", "operator": "Exists", "effect": "NoSchedule"}]


@pytest.mark.parametrize(
    ("placement", "selector", "tolerations"),
    [
        (ComputePlacement("ce", "SPOT", node_selector=KARPENTER_SPOT), KARPENTER_SPOT, [_toleration("spot")]),
        (ComputePlacement("ce", "SPOT", tolerations=KARPENTER_TOLERATION), {CAPACITY_TYPE_LABEL: "spot"},
         KARPENTER_TOLERATION),
        (ComputePlacement("ce", "SPOT", node_selector=KARPENTER_SPOT, tolerations=KARPENTER_TOLERATION),
         KARPENTER_SPOT, KARPENTER_TOLERATION),
        (ComputePlacement("ce", "FARGATE", node_selector={}, tolerations=[]), {}, []),
        (ComputePlacement("ce", "EC2", tolerations=KARPENTER_TOLERATION), {CAPACITY_TYPE_LABEL: "on-demand"},
         KARPENTER_TOLERATION),
    ],
    ids=["selector only", "tolerations only", "both", "explicitly empty", "ec2 with tolerations"],
)
def test_ce_node_selector_and_tolerations_replace_the_pool_defaults(placement: ComputePlacement, selector: dict,
                                                                    tolerations: list) -> None:
    spec = build(placement=placement)["spec"]
    assert (spec["nodeSelector"], spec["tolerations"]) == (selector, tolerations)


def test_placement_hands_out_copies() -> None:
    placement = ComputePlacement("ce", "SPOT", node_selector=dict(KARPENTER_SPOT),
                                 tolerations=[dict(KARPENTER_TOLERATION[0])])
    build(placement=placement)["spec"]["tolerations"][0]["key"] = "changed"
    placement.selector()["x"] = "y"
    assert placement.pod_tolerations() == KARPENTER_TOLERATION
    assert placement.selector() == KARPENTER_SPOT


# -- timeout, owner, labels, annotations ----------------------------------------------------------------


@pytest.mark.parametrize(("timeout", "expected"), [(None, None), (0, None), (60, 60), (3600, 3600)])
def test_attempt_duration_becomes_active_deadline_seconds(timeout: int | None, expected: int | None) -> None:
    assert build(timeout=timeout)["spec"].get("activeDeadlineSeconds") == expected


def test_pod_is_owned_by_its_job_only_when_an_owner_is_given() -> None:
    assert build()["metadata"]["ownerReferences"] == [OWNER]
    without = build_container_pod(attempt=attempt(), placement=ComputePlacement("pool", "EC2"), container=container(),
                                  parameters={}, attempt_duration_seconds=None)
    assert "ownerReferences" not in without["metadata"]


@pytest.mark.parametrize(
    ("fields", "expected_extra"),
    [
        ({}, {}),
        ({"array_index": 5, "array_size": 8}, {LABEL_ARRAY_INDEX: "5"}),
        ({"node_index": 2}, {LABEL_NODE_INDEX: "2"}),
        ({"array_index": 0, "array_size": 2, "node_index": 0}, {LABEL_ARRAY_INDEX: "0", LABEL_NODE_INDEX: "0"}),
    ],
)
def test_pod_labels_name_job_queue_ce_attempt_and_indices(fields: dict, expected_extra: dict) -> None:
    pod = build(attempt=2, **fields)
    assert pod["metadata"]["labels"] == {LABEL_JOB_NAME: "render", LABEL_JOB_ID: UID, LABEL_QUEUE: "high",
                                         LABEL_CE: "pool", LABEL_ATTEMPT: "2", **expected_extra}
    assert pod["metadata"]["name"] == pod_name(job_name="render", attempt=2, array_index=fields.get("array_index"),
                                               node_index=fields.get("node_index"))


def test_annotations_are_copied_onto_the_pod() -> None:
    annotations = {"team": "render"}
    pod = build_container_pod(attempt=attempt(), placement=ComputePlacement("pool", "EC2"), container=container(),
                              parameters={}, attempt_duration_seconds=None, annotations=annotations)
    pod["metadata"]["annotations"]["x"] = "y"
    assert annotations == {"team": "render"}
