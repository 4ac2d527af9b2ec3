"""What the classifier needs to know about the node under a pod.

A spot interruption or a lost machine reaches Kubernetes in several ways: the Node
object is deleted, its Ready condition turns False/Unknown, or a termination handler
taints it before draining it (AWS Node Termination Handler, Karpenter, GKE, cluster
autoscaler, the non-graceful-shutdown `out-of-service` taint). `NodeFacts` reduces a
Node object (or its absence) to those signals so `outcome.classify_pod` can stay a
function of plain values.

A cordon alone (`node.kubernetes.io/unschedulable`) is deliberately not a signal:
administrators cordon nodes to let running jobs finish, and a drain that follows it
evicts pods, which the pod itself reports (`DisruptionTarget`, `Evicted`).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kubatch.core.kubetime import parse_time

INTERRUPTION_TAINT_KEYS = frozenset(
    {
        "aws-node-termination-handler/spot-itn",
        "aws-node-termination-handler/asg-lifecycle-termination",
        "karpenter.sh/disrupted",
        "karpenter.sh/disruption",
        "cloud.google.com/impending-node-termination",
        "node.kubernetes.io/out-of-service",
        "ToBeDeletedByClusterAutoscaler",
    }
)
"""Taint keys that announce the node is about to go away (spot reclaim, scale-in)."""


@dataclass(frozen=True, kw_only=True)
class NodeFacts:
    """The host-failure signals of one node. `exists=False` means the Node is gone."""

    name: str
    exists: bool = True
    ready: bool = True
    not_ready_since: datetime | None = None
    interruption_taint: str | None = None

    @classmethod
    def from_node(cls, *, name: str, node: Mapping[str, Any] | None) -> "NodeFacts":
        """Facts for the node called `name`, given its API object or None if deleted."""
        if node is None:
            return cls(name=name, exists=False)
        spec = node.get("spec") or {}
        status = node.get("status") or {}
        ready_condition = next(
            (c for c in status.get("conditions") or () if c.get("type") == "Ready"), None
        )
        ready = ready_condition is None or ready_condition.get("status") == "True"
        taint = next(
            (
                t["key"]
                for t in spec.get("taints") or ()
                if t.get("key") in INTERRUPTION_TAINT_KEYS
            ),
            None,
        )
        return cls(
            name=name,
            ready=ready,
            not_ready_since=(
                None if ready else parse_time(ready_condition.get("lastTransitionTime"))
            ),
            interruption_taint=taint,
        )
