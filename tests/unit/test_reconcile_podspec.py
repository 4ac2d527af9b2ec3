"""From a job's frozen definition to its attempt's pod and its quota demand.

The quota counts what the pod asks for (podspec.py); tags reach the pod when
``propagateTags`` is set; definitions written the AWS-on-EKS way
(``eksProperties.podProperties``, overridden per job by ``eksPropertiesOverride``,
"matched by name" as the API documents) get the same labels, variables and placement.
"""

from __future__ import annotations

import pytest

from kubatch.core.pods import CAPACITY_TYPE_LABEL, LABEL_JOB_ID, ComputePlacement
from kubatch.core.reconcile.podspec import Demand, attempt_pod, cpu_quantity, memory_mib_quantity, pod_demand

from .builders import container, definition_spec, runnable_job

SPOT = ComputePlacement(name="spot-ce", type="SPOT")


def eks(*containers: dict, **pod_properties) -> dict:
    return definition_spec(containerProperties=None, eksProperties={"podProperties": {
        "containers": list(containers), **pod_properties}})


def eks_container(name: str = "main", **fields) -> dict:
    return {"name": name, "image": "busybox:1.36", **fields}


def resources(requests: dict | None = None, limits: dict | None = None) -> dict:
    return {"resources": {key: value for key, value in (("requests", requests), ("limits", limits)) if value}}


def pod_of(frozen: dict, *, attempt: int = 1, placement: ComputePlacement = SPOT, **job_fields) -> dict:
    return attempt_pod(runnable_job(frozen=frozen, **job_fields), placement, attempt=attempt)


def by_name(items: list[dict]) -> dict[str, dict]:
    return {item["name"]: item for item in items}


# -- quantities and demand -----------------------------------------------------------------------


@pytest.mark.parametrize(("value", "vcpus"), [("500m", 0.5), ("2", 2.0), (1, 1.0), ("0.25", 0.25), ("1500m", 1.5)])
def test_cpu_quantities(value: str | int, vcpus: float) -> None:
    assert cpu_quantity(value) == vcpus


@pytest.mark.parametrize(
    ("value", "mib"),
    [("512Mi", 512), ("1Gi", 1024), ("1.5Gi", 1536), ("2048Ki", 2), ("1G", 953), ("500M", 476),
     (str(2**30), 1024), (0, 0)],
)
def test_memory_quantities_in_mib(value: str | int, mib: int) -> None:
    assert memory_mib_quantity(value) == mib


@pytest.mark.parametrize(
    ("frozen", "demand"),
    [
        (definition_spec(containerProperties=container(vcpus=2, memory=4096)), Demand(2.0, 4096, 0)),
        (definition_spec(containerProperties=container(resourceRequirements=[
            {"type": "VCPU", "value": "0.5"}, {"type": "GPU", "value": "1"}])), Demand(0.5, 2048, 1)),
        (eks(eks_container(**resources({"cpu": "500m", "memory": "1Gi"}))), Demand(0.5, 1024, 0)),
        (eks(eks_container(**resources(limits={"cpu": "2", "memory": "2Gi", "nvidia.com/gpu": "1"}))),
         Demand(2.0, 2048, 1)),
        (eks(eks_container(**resources({"cpu": "1"}, {"cpu": "4", "memory": "1Gi"}))), Demand(1.0, 1024, 0)),
        (eks(eks_container("a", **resources({"cpu": "1", "memory": "1Gi"})),
             eks_container("b", **resources({"cpu": "250m", "memory": "256Mi"}))), Demand(1.25, 1280, 0)),
        (eks(eks_container()), Demand(1.0, 0, 0)),
    ],
    ids=["legacy", "requirements", "eks requests", "eks limits only", "eks requests win", "eks sum", "eks none"],
)
def test_the_quota_counts_what_the_pod_asks_for(frozen: dict, demand: Demand) -> None:
    resolved = runnable_job(frozen=frozen)["status"]["resolvedDefinition"]
    assert pod_demand(resolved) == demand


# -- tags and annotations ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("propagate", "expected"),
    [(True, {"team": "render", "example.com/cost-center": "42"}), (False, {})],
)
def test_tags_become_pod_annotations_only_when_propagated(propagate: bool, expected: dict) -> None:
    frozen = definition_spec(tags={"team": "render", "example.com/cost-center": 42, "not a key!": "x"})
    pod = pod_of(frozen, propagateTags=propagate)
    assert pod["metadata"]["annotations"] == expected


def test_the_definitions_propagate_tags_reaches_the_pod_unless_the_job_says_no() -> None:
    frozen = definition_spec(tags={"team": "render"}, propagateTags=True)
    assert pod_of(frozen)["metadata"]["annotations"] == {"team": "render"}
    assert pod_of(frozen, propagateTags=False)["metadata"]["annotations"] == {}


def test_the_container_pod_has_owner_timeout_and_attempt() -> None:
    pod = pod_of(definition_spec(timeout={"attemptDurationSeconds": 90}), attempt=3)
    assert pod["metadata"]["name"] == "job-a3"
    assert pod["metadata"]["ownerReferences"] == [{
        "apiVersion": "kubatch.io/v1alpha1", "kind": "BatchJob", "name": "job", "uid": "uid-default-job",
        "controller": True, "blockOwnerDeletion": False}]
    assert pod["spec"]["activeDeadlineSeconds"] == 90
    assert pod["spec"]["nodeSelector"] == {CAPACITY_TYPE_LABEL: "spot"}


# -- eksProperties pods --------------------------------------------------------------------------


RESTRICTED = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
              "seccompProfile": {"type": "RuntimeDefault"}}


def test_an_eks_pod_gets_kubatchs_labels_variables_and_placement() -> None:
    frozen = eks(eks_container(env=[{"name": "MODE", "value": "fast"}], command=["sleep", "1"]),
                 serviceAccountName="reader", volumes=[{"name": "scratch", "emptyDir": {}}], hostNetwork=False,
                 dnsPolicy="ClusterFirst", imagePullSecrets=[{"name": "regcred"}], shareProcessNamespace=True,
                 initContainers=[eks_container("init")],
                 metadata={"labels": {"app": "render", LABEL_JOB_ID: "spoofed"}, "annotations": {"a": "b"}})
    frozen["timeout"] = {"attemptDurationSeconds": 120}
    pod = pod_of(frozen)
    spec = pod["spec"]
    (main,) = spec["containers"]
    assert main["command"] == ["sleep", "1"]
    assert [e["name"] for e in main["env"]] == ["MODE", "AWS_BATCH_JOB_ID", "AWS_BATCH_JOB_ATTEMPT",
                                                "AWS_BATCH_JQ_NAME", "AWS_BATCH_CE_NAME"]
    assert (spec["restartPolicy"], spec["enableServiceLinks"], spec["activeDeadlineSeconds"]) == ("Never", False, 120)
    assert spec["nodeSelector"] == {CAPACITY_TYPE_LABEL: "spot"}
    assert spec["tolerations"] == SPOT.pod_tolerations()
    assert (spec["serviceAccountName"], spec["volumes"], spec["hostNetwork"], spec["dnsPolicy"],
            spec["imagePullSecrets"], spec["shareProcessNamespace"], spec["initContainers"]) == (
        "reader", [{"name": "scratch", "emptyDir": {}}], False, "ClusterFirst", [{"name": "regcred"}], True,
        [eks_container("init") | {"securityContext": RESTRICTED}])
    assert main["securityContext"] == RESTRICTED and spec["automountServiceAccountToken"] is True
    assert pod["metadata"]["labels"]["app"] == "render"
    assert pod["metadata"]["labels"][LABEL_JOB_ID] == "uid-default-job"
    assert pod["metadata"]["annotations"] == {"a": "b"}


def test_an_eks_containers_own_security_settings_win_over_the_restricted_defaults() -> None:
    privileged = eks_container("tools") | {"securityContext": {"privileged": True}}
    tuned = eks_container() | {"securityContext": {"capabilities": {"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]},
                                                   "runAsUser": 1000}}
    spec = pod_of(eks(tuned, privileged))["spec"]
    main, tools = spec["containers"]
    assert main["securityContext"] == RESTRICTED | tuned["securityContext"]
    assert tools["securityContext"] == {"privileged": True}
    assert spec["automountServiceAccountToken"] is False  # no service account named


def test_an_eks_pod_on_fargate_is_alone_on_its_node() -> None:
    pod = pod_of(eks(eks_container()), placement=ComputePlacement(name="f", type="FARGATE"))
    assert "podAntiAffinity" in pod["spec"]["affinity"]


def test_building_an_eks_pod_leaves_the_frozen_definition_alone() -> None:
    job = runnable_job(frozen=eks(eks_container(env=[{"name": "A", "value": "1"}])),
                       eksPropertiesOverride={"podProperties": {"containers": [{"name": "main", "command": ["x"]}]}})
    before = repr(job["status"])
    attempt_pod(job, SPOT, attempt=1)
    attempt_pod(job, SPOT, attempt=2)
    assert repr(job["status"]) == before


def test_eks_overrides_replace_the_fields_they_give() -> None:
    frozen = eks(eks_container(command=["old"], args=["a"], env=[{"name": "A", "value": "1"}]))
    override = {"podProperties": {"containers": [{"name": "main", "image": "busybox:1.37", "command": ["new"],
                                                  "env": [{"name": "B", "value": "2"}]}]}}
    (main,) = pod_of(frozen, eksPropertiesOverride=override)["spec"]["containers"]
    assert (main["image"], main["command"], main["args"]) == ("busybox:1.37", ["new"], ["a"])
    assert main["env"][0] == {"name": "B", "value": "2"}


def test_eks_container_overrides_are_matched_by_name() -> None:
    """API (PodPropertiesOverride.containers): "Changes to containers, matched by name"."""
    frozen = eks(eks_container("sidecar", command=["proxy"]), eks_container("main", command=["old"]))
    override = {"podProperties": {"containers": [{"name": "main", "command": ["new"]}]}}
    containers = by_name(pod_of(frozen, eksPropertiesOverride=override)["spec"]["containers"])
    assert (containers["sidecar"]["command"], containers["main"]["command"]) == (["proxy"], ["new"])


def test_eks_init_container_overrides_are_applied() -> None:
    """API (PodPropertiesOverride.initContainers): "matched by name, as for containers"."""
    frozen = eks(eks_container(), initContainers=[eks_container("fetch", command=["old"])])
    override = {"podProperties": {"initContainers": [{"name": "fetch", "command": ["new"]}]}}
    (init,) = pod_of(frozen, eksPropertiesOverride=override)["spec"]["initContainers"]
    assert init["command"] == ["new"]


def test_eks_metadata_overrides_are_added_to_the_pod() -> None:
    """API (PodPropertiesOverride.metadata): "Labels and annotations added to the pod"."""
    override = {"podProperties": {"metadata": {"labels": {"run": "7"}, "annotations": {"note": "rerun"}}}}
    pod = pod_of(eks(eks_container()), eksPropertiesOverride=override)
    assert pod["metadata"]["labels"]["run"] == "7"
    assert pod["metadata"]["annotations"]["note"] == "rerun"
