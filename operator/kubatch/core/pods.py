"""Build the Pod of one attempt of one job: name, labels, AWS variables, resources, pool.

Why pure: the pod is the whole contract with the cluster, so it is built from values
alone and unit-tested. Its name is a function of (job, array index, node index,
attempt), which is what makes pod creation idempotent: an operator that restarts in
the middle of a create gets 409 Conflict for the same attempt, never a second pod.
"""

from __future__ import annotations

import copy
import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from kubatch.core.definition import (
    container_gpus,
    container_memory_mib,
    container_vcpus,
    substitute_parameters,
)
from kubatch.kinds import GROUP
CAPACITY_TYPE_LABEL = f"{GROUP}/capacity-type"
LABEL_JOB_NAME = f"{GROUP}/job-name"
LABEL_JOB_ID = f"{GROUP}/job-id"
LABEL_QUEUE = f"{GROUP}/queue"
LABEL_CE = f"{GROUP}/compute-environment"
LABEL_ARRAY_INDEX = f"{GROUP}/array-index"
LABEL_NODE_INDEX = f"{GROUP}/node-index"
LABEL_ATTEMPT = f"{GROUP}/attempt"
POOL_BY_CE_TYPE = {"EC2": "on-demand", "SPOT": "spot", "FARGATE": "fargate", "FARGATE_SPOT": "fargate-spot"}
FARGATE_TYPES = frozenset({"FARGATE", "FARGATE_SPOT"})
MAX_POD_NAME = 253


@dataclass(frozen=True)
class ComputePlacement:
    """Where a CE puts its pods: its name, type and (optionally) its own selector/tolerations."""

    name: str
    type: str  # EC2 | SPOT | FARGATE | FARGATE_SPOT
    node_selector: dict[str, str] | None = None
    tolerations: list[dict[str, Any]] | None = None

    def selector(self) -> dict[str, str]:
        if self.node_selector is not None:
            return dict(self.node_selector)
        return {CAPACITY_TYPE_LABEL: POOL_BY_CE_TYPE[self.type]}

    def pod_tolerations(self) -> list[dict[str, Any]]:
        if self.tolerations is not None:
            return copy.deepcopy(self.tolerations)
        pool = POOL_BY_CE_TYPE[self.type]
        if self.type == "EC2":
            return []
        return [{"key": CAPACITY_TYPE_LABEL, "operator": "Equal", "value": pool, "effect": "NoSchedule"}]


@dataclass(frozen=True)
class Attempt:
    """One attempt of one schedulable unit of a job."""

    namespace: str
    job_name: str
    job_uid: str
    queue: str
    attempt: int  # from 1, as AWS_BATCH_JOB_ATTEMPT
    array_index: int | None = None
    array_size: int | None = None
    node_index: int | None = None
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def job_id(self) -> str:
        """AWS's job id of this unit: the uid, ``uid:index`` for array children, ``uid#node`` for nodes."""
        if self.node_index is not None:
            return f"{self.job_uid}#{self.node_index}"
        return self.job_uid if self.array_index is None else f"{self.job_uid}:{self.array_index}"


_INDEX_LIKE_SUFFIX = re.compile(r"-[in][0-9]+$")


def pod_name(*, job_name: str, attempt: int, array_index: int | None = None, node_index: int | None = None) -> str:
    """Deterministic pod name per (job, index, node, attempt), unique across jobs, never too long.

    ``hello-a1``, ``hello-i7-a1`` (array child 7), ``hello-n0-a1`` (node 0). A job whose own
    name ends like an index token (``x-i1``) gets a short hash of its name after it, so its
    pods never collide with those of array job ``x``'s child 1.
    """
    base = job_name
    if _INDEX_LIKE_SUFFIX.search(job_name):
        base = f"{job_name}-{hashlib.sha256(job_name.encode()).hexdigest()[:5]}"
    suffix = "".join(f"-{tag}{number}" for tag, number in (("i", array_index), ("n", node_index), ("a", attempt))
                     if number is not None)
    if len(base) + len(suffix) <= MAX_POD_NAME:
        return base + suffix
    digest = hashlib.sha256(job_name.encode()).hexdigest()[:10]
    prefix = job_name[: MAX_POD_NAME - len(suffix) - 11].rstrip(".-")
    return f"{prefix}-{digest}{suffix}"


def label_value(text: str) -> str:
    """Label values are at most 63 characters; longer names keep a prefix and a hash."""
    if len(text) <= 63:
        return text
    return f"{text[:52]}-{hashlib.sha256(text.encode()).hexdigest()[:10]}"


def aws_environment(attempt: Attempt, placement: ComputePlacement) -> list[dict[str, str]]:
    env = {
        "AWS_BATCH_JOB_ID": attempt.job_id,
        "AWS_BATCH_JOB_ATTEMPT": str(attempt.attempt),
        "AWS_BATCH_JQ_NAME": attempt.queue,
        "AWS_BATCH_CE_NAME": placement.name,
    }
    if attempt.array_index is not None:
        env["AWS_BATCH_JOB_ARRAY_INDEX"] = str(attempt.array_index)
        env["AWS_BATCH_JOB_ARRAY_SIZE"] = str(attempt.array_size)
    env.update(attempt.extra_env)
    return [{"name": k, "value": v} for k, v in env.items()]


def _quantity_cpu(vcpus: float) -> str:
    millis = round(vcpus * 1000)
    return str(millis // 1000) if millis % 1000 == 0 else f"{millis}m"


def container_resources(container: dict[str, Any], *, fargate: bool) -> dict[str, dict[str, str]]:
    """AWS vCPU/memory/GPU as Kubernetes requests and limits.

    Memory is a hard limit in AWS Batch, so its request equals its limit. vCPUs are a
    reservation on EC2 (request only; the container may burst) and a hard size on
    Fargate, where requests equal limits.
    """
    cpu = _quantity_cpu(container_vcpus(container))
    memory = f"{container_memory_mib(container)}Mi"
    requests = {"cpu": cpu, "memory": memory}
    limits = {"memory": memory} | ({"cpu": cpu} if fargate else {})
    if gpus := container_gpus(container):
        requests["nvidia.com/gpu"] = limits["nvidia.com/gpu"] = str(gpus)
    return {"requests": requests, "limits": limits}


def _volumes(container: dict[str, Any]) -> tuple[list[dict], list[dict]]:
    volumes = []
    for volume in container.get("volumes") or []:
        if volume.get("host", {}).get("sourcePath"):
            volumes.append({"name": volume["name"], "hostPath": {"path": volume["host"]["sourcePath"]}})
        else:
            volumes.append({"name": volume["name"], "emptyDir": {}})
    mounts = [
        {"name": m["sourceVolume"], "mountPath": m["containerPath"], "readOnly": bool(m.get("readOnly", False))}
        for m in container.get("mountPoints") or []
    ]
    shm = (container.get("linuxParameters") or {}).get("sharedMemorySize")
    if shm:
        volumes.append({"name": "kubatch-shm", "emptyDir": {"medium": "Memory", "sizeLimit": f"{shm}Mi"}})
        mounts.append({"name": "kubatch-shm", "mountPath": "/dev/shm"})
    return volumes, mounts


def _secret_env(container: dict[str, Any]) -> list[dict[str, Any]]:
    """AWS ``secrets`` [{name, valueFrom}] where valueFrom is ``secret-name:key`` here."""
    env = []
    for secret in container.get("secrets") or []:
        secret_name, _, key = secret["valueFrom"].partition(":")
        env.append({"name": secret["name"],
                    "valueFrom": {"secretKeyRef": {"name": secret_name, "key": key or secret["name"]}}})
    return env


RESTRICTED_CONTAINER: dict[str, Any] = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}
"""What every unprivileged job container gets: the Pod Security ``restricted`` profile's
container rules (``runAsNonRoot`` too when the definition names a non-root ``user``)."""


def harden(context: dict[str, Any]) -> dict[str, Any]:
    """``context`` with the restricted defaults for whatever it does not set; privileged ones as they are."""
    if context.get("privileged"):
        return context
    return {**copy.deepcopy(RESTRICTED_CONTAINER), **context}


def _security_context(container: dict[str, Any]) -> dict[str, Any]:
    context: dict[str, Any] = {}
    if container.get("privileged"):
        context["privileged"] = True
    if container.get("readonlyRootFilesystem"):
        context["readOnlyRootFilesystem"] = True
    user = str(container.get("user") or "")
    uid, _, gid = user.partition(":")
    if uid.isdigit():
        context["runAsUser"] = int(uid)
    if gid.isdigit():
        context["runAsGroup"] = int(gid)
    if uid.isdigit() and int(uid) != 0:
        context["runAsNonRoot"] = True
    return harden(context)


def build_container_pod(
    *,
    attempt: Attempt,
    placement: ComputePlacement,
    container: dict[str, Any],
    parameters: dict[str, str],
    attempt_duration_seconds: int | None,
    annotations: dict[str, str] | None = None,
    owner: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The Pod for one attempt of a ``containerProperties`` job."""
    fargate = placement.type in FARGATE_TYPES
    volumes, mounts = _volumes(container)
    main: dict[str, Any] = {
        "name": "main",
        "image": container["image"],
        "env": [
            *[{"name": e["name"], "value": str(e.get("value", ""))} for e in container.get("environment") or []],
            *_secret_env(container),
            *aws_environment(attempt, placement),
        ],
        "resources": container_resources(container, fargate=fargate),
    }
    if container.get("command"):
        main["command"] = substitute_parameters(list(container["command"]), parameters)
    if mounts:
        main["volumeMounts"] = mounts
    main["securityContext"] = _security_context(container)
    spec: dict[str, Any] = {
        "restartPolicy": "Never",
        "containers": [main],
        "nodeSelector": placement.selector(),
        "tolerations": placement.pod_tolerations(),
        "enableServiceLinks": False,
    }
    if volumes:
        spec["volumes"] = volumes
    if container.get("serviceAccountName"):
        spec["serviceAccountName"] = container["serviceAccountName"]
    # A job talks to the Kubernetes API only when its definition names an identity for it.
    spec["automountServiceAccountToken"] = bool(container.get("serviceAccountName"))
    if attempt_duration_seconds:
        spec["activeDeadlineSeconds"] = int(attempt_duration_seconds)
    return pod_object(attempt=attempt, placement=placement, spec=spec, annotations=annotations, owner=owner)


def _one_job_per_node() -> dict[str, Any]:
    """Fargate-like pools give each job a node of its own."""
    return {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{
        "labelSelector": {"matchExpressions": [{"key": LABEL_JOB_ID, "operator": "Exists"}]},
        "topologyKey": "kubernetes.io/hostname",
    }]}}


def pod_object(*, attempt: Attempt, placement: ComputePlacement, spec: dict[str, Any],
               annotations: dict[str, str] | None, owner: dict[str, Any] | None) -> dict[str, Any]:
    """Wrap a pod spec with kubatch's name, labels and owner (and Fargate's node isolation)."""
    if placement.type in FARGATE_TYPES:
        spec = {**spec, "affinity": _one_job_per_node()}
    labels = {
        LABEL_JOB_NAME: label_value(attempt.job_name),
        LABEL_JOB_ID: attempt.job_uid,
        LABEL_QUEUE: label_value(attempt.queue),
        LABEL_CE: label_value(placement.name),
        LABEL_ATTEMPT: str(attempt.attempt),
    }
    if attempt.array_index is not None:
        labels[LABEL_ARRAY_INDEX] = str(attempt.array_index)
    if attempt.node_index is not None:
        labels[LABEL_NODE_INDEX] = str(attempt.node_index)
    metadata: dict[str, Any] = {
        "name": pod_name(job_name=attempt.job_name, attempt=attempt.attempt,
                         array_index=attempt.array_index, node_index=attempt.node_index),
        "namespace": attempt.namespace,
        "labels": labels,
        "annotations": dict(annotations or {}),
    }
    if owner:
        metadata["ownerReferences"] = [owner]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec}
