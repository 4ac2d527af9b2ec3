"""The five kubatch kinds as the API server knows them: group, version, plural, scope, short names.

Why one registry at the bottom of the package: the CRDs (`kubatch.api`), the client
(`kubatch.kube`), the watches (`kubatch.controller`), the service's namespace scoping,
Events and the owner references on pods and Services all name the same kinds, and a
second spelling of any of them is a bug waiting for a rename. This module imports
nothing of kubatch, so every layer may read it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

GROUP = "kubatch.io"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"


@dataclass(frozen=True)
class Kind:
    """How one kind is addressed: ``name`` is the ``kind`` field, ``plural`` the URL segment."""

    name: str
    plural: str
    short_names: tuple[str, ...]
    namespaced: bool

    @property
    def scope(self) -> Literal["Namespaced", "Cluster"]:
        return "Namespaced" if self.namespaced else "Cluster"


COMPUTE_ENVIRONMENT = Kind("ComputeEnvironment", "computeenvironments", ("ce",), namespaced=False)
JOB_QUEUE = Kind("JobQueue", "jobqueues", ("jq",), namespaced=False)
SCHEDULING_POLICY = Kind("SchedulingPolicy", "schedulingpolicies", ("sp",), namespaced=False)
JOB_DEFINITION = Kind("JobDefinition", "jobdefinitions", ("jd",), namespaced=True)
BATCH_JOB = Kind("BatchJob", "batchjobs", ("bj",), namespaced=True)

KINDS: Mapping[str, Kind] = {
    kind.name: kind for kind in (COMPUTE_ENVIRONMENT, JOB_QUEUE, SCHEDULING_POLICY, JOB_DEFINITION, BATCH_JOB)
}
"""Every kind by its name, in the order the operator lists them at start-up."""


def owner_reference(job: Mapping[str, Any]) -> dict[str, Any]:
    """The reference a BatchJob's pods and Service carry, so deleting the job deletes them.

    ``blockOwnerDeletion`` is False: the operator's service account has no finalizer rights
    on jobs, and nothing needs the garbage collector to wait.
    """
    metadata = job["metadata"]
    return {"apiVersion": job.get("apiVersion", API_VERSION), "kind": BATCH_JOB.name, "name": metadata["name"],
            "uid": metadata["uid"], "controller": True, "blockOwnerDeletion": False}
