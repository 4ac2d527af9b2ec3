"""What the planner asks the world to do; the controller carries it out.

Why values: the planner stays pure (it returns these, it performs nothing), tests
compare them directly, and the controller can batch and bound their execution. A
job's actions form one ordered ``Step`` list (create the pod, then record STARTING);
different jobs' steps run concurrently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union


@dataclass(frozen=True)
class PatchStatus:
    kind: str
    namespace: str
    name: str
    patch: dict[str, Any]
    # sent beside the status: ``{"resourceVersion": …}`` makes a write based on a stale read fail (409)
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CreatePod:
    manifest: dict[str, Any]
    # status patch to record if the API refuses the pod: invalid (422) or its name taken by another job (409)
    on_invalid: PatchStatus | None = None


@dataclass(frozen=True)
class CreateService:
    """A Service the job owns (a multi-node job's headless Service); creating it twice is fine."""

    manifest: dict[str, Any]


@dataclass(frozen=True)
class DeletePod:
    namespace: str
    name: str
    grace_seconds: int | None = None  # None: the pod's own terminationGracePeriodSeconds


@dataclass(frozen=True)
class Emit:
    """A Kubernetes Event about a kubatch object."""

    kind: str
    namespace: str
    name: str
    uid: str
    reason: str
    message: str
    type: str = "Normal"


Action = Union[PatchStatus, CreatePod, CreateService, DeletePod, Emit]


@dataclass(frozen=True)
class Step:
    """Actions for one object, applied in order; the first failure stops the rest."""

    actions: tuple[Action, ...] = field(default_factory=tuple)
