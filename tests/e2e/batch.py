"""Builders and waits for kubatch objects in e2e tests."""

from __future__ import annotations

import uuid
from typing import Any, Iterator

from tests.e2e.kubectl import Kubectl

API_VERSION = "kubatch.io/v1alpha1"
TERMINAL = {"SUCCEEDED", "FAILED"}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def compute_environment(name: str, *, type_: str = "EC2", max_vcpus: int = 16, state: str = "ENABLED") -> dict:
    resources: dict[str, Any] = {"type": type_, "maxvCpus": max_vcpus}
    if type_ in ("EC2", "SPOT"):
        resources["minvCpus"] = 0
    return {"apiVersion": API_VERSION, "kind": "ComputeEnvironment", "metadata": {"name": name},
            "spec": {"type": "MANAGED", "state": state, "computeResources": resources}}


def job_queue(name: str, *compute_environments: str, priority: int = 10, **extra: Any) -> dict:
    order = [{"order": i + 1, "computeEnvironment": ce} for i, ce in enumerate(compute_environments)]
    return {"apiVersion": API_VERSION, "kind": "JobQueue", "metadata": {"name": name},
            "spec": {"priority": priority, "state": "ENABLED", "computeEnvironmentOrder": order, **extra}}


def job_definition(name: str, *, vcpus: str = "1", memory: str = "512", command: list[str] | None = None,
                   **extra: Any) -> dict:
    container = {"image": "busybox", "command": command or ["sh", "-c", "echo hello"],
                 "resourceRequirements": [{"type": "VCPU", "value": vcpus}, {"type": "MEMORY", "value": memory}]}
    return {"apiVersion": API_VERSION, "kind": "JobDefinition", "metadata": {"name": name},
            "spec": {"type": "container", "containerProperties": container, **extra}}


def definition_with(name: str, **container_fields: Any) -> dict:
    """``job_definition(name)`` with these ``containerProperties`` fields set too."""
    made = job_definition(name)
    made["spec"]["containerProperties"].update(container_fields)
    return made


def queue_on_new_environment(kubectl: Kubectl, prefix: str, *, max_vcpus: int = 8) -> Iterator[str]:
    """A fresh EC2 compute environment and a queue on it, deleted afterwards (fixtures ``yield from`` it)."""
    ce, name = unique(f"{prefix}-ce"), unique(f"q-{prefix}")
    kubectl.apply(compute_environment(ce, max_vcpus=max_vcpus), job_queue(name, ce))
    yield name
    for kind, made in (("jobqueue", name), ("computeenvironment", ce)):
        kubectl.run("delete", kind, made, "--wait=false", check=False)


def batch_job(name: str, *, definition: str, queue: str, simulate: dict[str, str] | None = None,
              **extra: Any) -> dict:
    """A BatchJob; ``simulate`` becomes tags propagated to the pod (kwok's run annotations)."""
    spec: dict[str, Any] = {"jobDefinition": definition, "jobQueue": queue, **extra}
    if simulate:
        spec["propagateTags"] = True
        spec["tags"] = {f"kubatch.io/sim-{key}": value for key, value in simulate.items()}
    return {"apiVersion": API_VERSION, "kind": "BatchJob", "metadata": {"name": name}, "spec": spec}


def job_status(kubectl: Kubectl, namespace: str, name: str) -> dict:
    return ((kubectl.get("batchjob", name, namespace=namespace) or {}).get("status")) or {}


def job_statuses(kubectl: Kubectl, namespace: str, names: list[str]) -> dict[str, dict]:
    """The named jobs' statuses from ONE list call: a consistent snapshot, unlike one get per job."""
    listing = kubectl.get("batchjobs", namespace=namespace) or {"items": []}
    found = {job["metadata"]["name"]: job.get("status") or {} for job in listing["items"]}
    return {name: found.get(name, {}) for name in names}


def wait_for_state(kubectl: Kubectl, namespace: str, name: str, states: set[str], *, timeout: float = 60) -> dict:
    return kubectl.wait_for(
        f"job {name} in {sorted(states)}",
        lambda: (s := job_status(kubectl, namespace, name)).get("status") in states and s,
        timeout=timeout,
    )
