"""The planner's input: every object the operator watches, as plain dicts, indexed.

Why a separate value: the controller's store changes under the loop's feet as watch
events arrive; the planner gets a view built once per cycle (the loop plans it without
yielding, so the store cannot change meanwhile), and unit tests build one by hand from
literal objects.

``jobs`` are the jobs the planner may move (any job may be listed there; the store lists
the live ones), ``finished`` the finished jobs' compact records (``finished.py``): a
cycle costs what is live, not the history the operator keeps.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Mapping

from kubatch.core.lifecycle import JobState
from kubatch.core.reconcile.finished import FinishedJobs

Obj = dict[str, Any]


@dataclass(frozen=True)
class World:
    jobs: list[Obj] = field(default_factory=list)
    finished: FinishedJobs = field(default_factory=FinishedJobs)
    pods_by_job: Mapping[str, Mapping[str, Obj]] = field(default_factory=dict)
    definitions: Mapping[tuple[str, str], Obj] = field(default_factory=dict)
    queues: Mapping[str, Obj] = field(default_factory=dict)
    compute_environments: Mapping[str, Obj] = field(default_factory=dict)
    scheduling_policies: Mapping[str, Obj] = field(default_factory=dict)
    nodes: Mapping[str, Obj] = field(default_factory=dict)
    namespaces: Mapping[str, Obj] = field(default_factory=dict)

    @classmethod
    def from_objects(cls, objects: Mapping[str, Mapping[tuple[str, str], Obj]],
                     pods_by_job: Mapping[str, Mapping[str, Obj]],
                     finished: FinishedJobs | None = None) -> "World":
        def by_name(kind: str) -> dict[str, Obj]:
            return {name: obj for (_, name), obj in objects.get(kind, {}).items()}

        return cls(
            jobs=list(objects.get("BatchJob", {}).values()),
            finished=finished if finished is not None else FinishedJobs(),
            pods_by_job={uid: dict(pods) for uid, pods in pods_by_job.items()},
            definitions=dict(objects.get("JobDefinition", {})),
            queues=by_name("JobQueue"),
            compute_environments=by_name("ComputeEnvironment"),
            scheduling_policies=by_name("SchedulingPolicy"),
            nodes=by_name("Node"),
            namespaces=by_name("Namespace"),
        )


    def job_counts(self) -> Counter[tuple[str, str]]:
        """Jobs per (queue, state), finished ones included."""
        counts = Counter(self.finished.counts)
        for job in self.jobs:
            counts[(spec(job).get("jobQueue", ""), status(job).get("status") or JobState.SUBMITTED.value)] += 1
        return counts


def spec(obj: Obj) -> dict[str, Any]:
    return obj.get("spec") or {}


def status(obj: Obj) -> dict[str, Any]:
    return obj.get("status") or {}


def meta(obj: Obj) -> dict[str, Any]:
    return obj["metadata"]


def labels_match(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """A Kubernetes label selector (matchLabels + matchExpressions); None matches all."""
    if not selector:
        return True
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values") or []
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True
