"""From a job's frozen definition to its attempt's Pod and its resource demand.

Why: both the scheduler (how many vCPUs does this job take from a CE's quota?) and
the pod builder read the same resolved definition; keeping the two readings side by
side means the quota counts exactly what the pod requests.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

from kubatch.core.definition import container_gpus, container_memory_mib, container_vcpus
from kubatch.core.multinode import main_node, node_container, num_nodes
from kubatch.core.pods import Attempt, ComputePlacement, aws_environment, build_container_pod, harden, pod_object
from kubatch.core.reconcile.world import Obj, meta, spec, status
from kubatch.kinds import owner_reference

ANNOTATION_KEY = re.compile(r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}
_DECIMAL = {"k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}


@dataclass(frozen=True)
class Demand:
    vcpus: float
    memory_mib: int
    gpus: int


def cpu_quantity(value: str | int | float) -> float:
    text = str(value)
    return int(text[:-1]) / 1000 if text.endswith("m") else float(text)


def memory_mib_quantity(value: str | int) -> int:
    text = str(value)
    for suffix, factor in {**_BINARY, **_DECIMAL}.items():
        if text.endswith(suffix):
            return int(float(text[: -len(suffix)]) * factor // 2**20)
    return int(float(text) // 2**20)


def _merged_by_name(base: list[dict[str, Any]], overrides: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """AWS's container overrides: matched by name, given fields replace the definition's."""
    by_name = {override.get("name"): override for override in overrides}
    merged = []
    for container in base:
        override = by_name.get(container.get("name"), {})
        merged.append({**container, **{k: copy.deepcopy(v) for k, v in override.items() if v is not None}})
    return merged


def eks_pod_properties(resolved: dict[str, Any]) -> dict[str, Any]:
    """``eksProperties.podProperties`` with the job's ``eksPropertiesOverride`` applied."""
    properties = copy.deepcopy((resolved.get("eksProperties") or {}).get("podProperties") or {})
    override = (resolved.get("eksPropertiesOverride") or {}).get("podProperties") or {}
    for key in ("containers", "initContainers"):
        if override.get(key):
            properties[key] = _merged_by_name(properties.get(key) or [], override[key])
    metadata = properties.setdefault("metadata", {})
    for key in ("labels", "annotations"):
        metadata[key] = {**(metadata.get(key) or {}), **((override.get("metadata") or {}).get(key) or {})}
    return properties


def pod_demand(resolved: dict[str, Any]) -> Demand:
    """vCPUs, MiB and GPUs one attempt takes from its CE's quota."""
    if "containerProperties" in resolved:
        container = resolved["containerProperties"]
        return Demand(container_vcpus(container), container_memory_mib(container), container_gpus(container))
    if "nodeProperties" in resolved:  # a multi-node group is admitted whole
        nodes = [node_container(resolved, index) for index in range(num_nodes(resolved))]
        return Demand(sum(map(container_vcpus, nodes)), sum(map(container_memory_mib, nodes)),
                      sum(map(container_gpus, nodes)))
    vcpus, memory, gpus = 0.0, 0, 0
    for container in eks_pod_properties(resolved).get("containers") or []:
        resources = container.get("resources") or {}
        amounts = {**(resources.get("limits") or {}), **(resources.get("requests") or {})}
        vcpus += cpu_quantity(amounts.get("cpu", 0))
        memory += memory_mib_quantity(amounts.get("memory", 0))
        gpus += int(amounts.get("nvidia.com/gpu", 0))
    return Demand(vcpus or 1.0, memory, gpus)


class DemandMemo:
    """``pod_demand`` remembered per definition object: a cache of a pure function, bounded.

    Planning asks every RUNNABLE and running job's demand each cycle, and most frozen
    definitions are the same objects as last cycle (the store replaces a job's dict
    only when the job changes), so the answer is looked up by the definition object's
    identity. The entry holds the object itself: an id is never trusted alone, and it
    cannot be reused while the entry lives. Jobs that share one definition object share
    one entry. Past ``limit`` entries the memo starts afresh, so it never holds more
    than ``limit`` definitions the store has dropped.
    """

    def __init__(self, *, limit: int) -> None:
        self._limit = limit
        self._by_id: dict[int, tuple[dict[str, Any], Demand]] = {}

    def __len__(self) -> int:
        return len(self._by_id)

    def __call__(self, resolved: dict[str, Any]) -> Demand:
        cached = self._by_id.get(id(resolved))
        if cached is not None and cached[0] is resolved:
            return cached[1]
        if len(self._by_id) >= self._limit:
            self._by_id.clear()
        demand = pod_demand(resolved)
        self._by_id[id(resolved)] = (resolved, demand)
        return demand


DEMANDS = DemandMemo(limit=200_000)
"""The planner's memo of demands: pure, so sharing it between cycles (and worlds) cannot change a decision."""


def job_demand(job: Obj, *, memo: DemandMemo = DEMANDS) -> Demand:
    """``pod_demand`` of a job's frozen definition, through ``memo``."""
    resolved = status(job).get("resolvedDefinition")
    return memo(resolved) if resolved else pod_demand({})


def _annotations(job: Obj, resolved: dict[str, Any]) -> dict[str, str]:
    """Tags reach the pod when propagateTags is set on the job, else on its definition (AWS copies
    them to the task); a job resolved before the flag was frozen answers with its own spec."""
    annotations: dict[str, str] = {}
    if "eksProperties" in resolved:
        annotations.update(eks_pod_properties(resolved)["metadata"]["annotations"])
    if resolved.get("propagateTags", spec(job).get("propagateTags")):
        annotations.update({k: str(v) for k, v in (resolved.get("tags") or {}).items() if ANNOTATION_KEY.match(k)})
    return annotations


def _node_env(resolved: dict[str, Any], node_index: int | None, main_node_ip: str | None) -> dict[str, str]:
    """AWS's multi-node variables; children also learn the main node's address."""
    if node_index is None:
        return {}
    env = {"AWS_BATCH_JOB_NODE_INDEX": str(node_index), "AWS_BATCH_JOB_NUM_NODES": str(num_nodes(resolved)),
           "AWS_BATCH_JOB_MAIN_NODE_INDEX": str(main_node(resolved))}
    if main_node_ip:
        env["AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS"] = main_node_ip
    return env


def attempt_pod(job: Obj, placement: ComputePlacement, *, attempt: int, array_index: int | None = None,
                node_index: int | None = None, main_node_ip: str | None = None) -> dict[str, Any]:
    """The pod of one attempt: of a job, of array child ``array_index``, or of node ``node_index``."""
    resolved = status(job)["resolvedDefinition"]
    array_size = (spec(job).get("arrayProperties") or {}).get("size") if array_index is not None else None
    this = Attempt(namespace=meta(job)["namespace"], job_name=meta(job)["name"], job_uid=meta(job)["uid"],
                   queue=spec(job)["jobQueue"], attempt=attempt, array_index=array_index, array_size=array_size,
                   node_index=node_index, extra_env=_node_env(resolved, node_index, main_node_ip))
    timeout = (resolved.get("timeout") or {}).get("attemptDurationSeconds")
    annotations = _annotations(job, resolved)
    container = (node_container(resolved, node_index) if node_index is not None
                 else resolved.get("containerProperties"))
    if container is not None:
        return build_container_pod(attempt=this, placement=placement, container=container,
                                   parameters=resolved.get("parameters") or {}, attempt_duration_seconds=timeout,
                                   annotations=annotations, owner=owner_reference(job))
    return _eks_pod(this, placement, resolved, timeout=timeout, annotations=annotations, owner=owner_reference(job))


def _eks_pod(attempt: Attempt, placement: ComputePlacement, resolved: dict[str, Any], *, timeout: int | None,
             annotations: dict[str, str], owner: dict[str, Any]) -> dict[str, Any]:
    """A pod from ``eksProperties.podProperties``, the Kubernetes-native definition."""
    pod_properties = eks_pod_properties(resolved)
    containers = pod_properties.get("containers") or []
    for container in containers:
        container["env"] = [*container.get("env", []), *aws_environment(attempt, placement)]
    for container in [*containers, *(pod_properties.get("initContainers") or [])]:
        container["securityContext"] = harden(container.get("securityContext") or {})
    pod_spec: dict[str, Any] = {
        "restartPolicy": "Never",
        "containers": containers,
        "nodeSelector": placement.selector(),
        "tolerations": placement.pod_tolerations(),
        "enableServiceLinks": False,
    }
    for key in ("initContainers", "volumes", "serviceAccountName", "hostNetwork", "dnsPolicy",
                "imagePullSecrets", "shareProcessNamespace"):
        if pod_properties.get(key) is not None:
            pod_spec[key] = pod_properties[key]
    pod_spec["automountServiceAccountToken"] = pod_properties.get("serviceAccountName") is not None
    if timeout:
        pod_spec["activeDeadlineSeconds"] = int(timeout)
    pod = pod_object(attempt=attempt, placement=placement, spec=pod_spec, annotations=annotations, owner=owner)
    pod["metadata"]["labels"] = {**pod_properties["metadata"]["labels"], **pod["metadata"]["labels"]}
    return pod
