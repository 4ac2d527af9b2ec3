"""Finished jobs as the planner needs them: a few fields each, by uid and by name, counted per queue.

Why: SUCCEEDED and FAILED never change, and the planner never plans a finished job. It
only asks about one when another job depends on it (its state and name; an array's
size for N_TO_N and its children's outcomes) and when it counts a queue's jobs by
state. Holding each finished job whole (resolved definition, attempts, retained pod)
and walking it every cycle made the operator's memory and every cycle grow with the
history it keeps: issue 17 measured a cycle over 100 RUNNABLE jobs at 16 ms alone and
2 s beside 100,000 SUCCEEDED ones. A ``FinishedJob`` is a slotted record of the few
fields anything reads (``bench/bench_history.py`` measures its bytes), and
``FinishedJobs`` keeps the lookups and the per-queue counts up to date as records
come and go, so a cycle reads them in O(1).

Besides the planner's fields, a record keeps what job retention needs to decide on a
job without the API (its labels, owners, creation time, queue, reason, stoppedAt):
``as_object`` shows it in the shape of a BatchJob carrying only those fields.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from kubatch.core.lifecycle import TERMINAL_STATES


def is_finished(job: Mapping[str, Any]) -> bool:
    return (job.get("status") or {}).get("status") in TERMINAL_STATES


def _shared(text: str | None) -> str | None:
    """One copy of a string many records repeat (namespace, queue, state, reason, timestamp)."""
    return sys.intern(text) if isinstance(text, str) else text


@dataclass(frozen=True, slots=True)
class FinishedJob:
    namespace: str
    name: str
    uid: str
    queue: str
    state: str
    status_reason: str | None = None
    stopped_at: int | None = None
    resource_version: str | None = None
    creation_timestamp: str | None = None
    labels: Mapping[str, str] | None = None
    owner_references: tuple[Mapping[str, Any], ...] | None = None
    array_size: int | None = None
    children_succeeded: str | None = None  # index ranges ("0-99,120"), array jobs only
    children_failed: str | None = None

    @classmethod
    def of(cls, job: Mapping[str, Any]) -> "FinishedJob":
        metadata, spec, status = job["metadata"], job.get("spec") or {}, job.get("status") or {}
        array = status.get("arrayProperties") or {}
        owners = metadata.get("ownerReferences")
        return cls(
            namespace=_shared(metadata.get("namespace") or ""), name=metadata["name"], uid=metadata.get("uid") or "",
            queue=_shared(spec.get("jobQueue", "")), state=_shared(status["status"]),
            status_reason=_shared(status.get("statusReason")), stopped_at=status.get("stoppedAt"),
            resource_version=metadata.get("resourceVersion"),
            creation_timestamp=_shared(metadata.get("creationTimestamp")),
            labels=metadata.get("labels") or None, owner_references=tuple(owners) if owners else None,
            array_size=(spec.get("arrayProperties") or {}).get("size"),
            children_succeeded=array.get("succeeded"), children_failed=array.get("failed"),
        )

    def as_object(self) -> dict[str, Any]:
        """The record in the shape of a BatchJob (only the fields above; absent ones left out)."""
        metadata: dict[str, Any] = {"name": self.name, "namespace": self.namespace, "uid": self.uid}
        for key, value in (("resourceVersion", self.resource_version), ("creationTimestamp", self.creation_timestamp),
                           ("labels", dict(self.labels) if self.labels else None),
                           ("ownerReferences", list(self.owner_references) if self.owner_references else None)):
            if value is not None:
                metadata[key] = value
        spec: dict[str, Any] = {"jobQueue": self.queue}
        status: dict[str, Any] = {"status": self.state, "jobQueue": self.queue, "statusReason": self.status_reason,
                                  "stoppedAt": self.stopped_at}
        if self.array_size is not None:
            spec["arrayProperties"] = {"size": self.array_size}
            status["arrayProperties"] = {"size": self.array_size, "succeeded": self.children_succeeded,
                                         "failed": self.children_failed}
        return {"kind": "BatchJob", "metadata": metadata, "spec": spec,
                "status": {key: value for key, value in status.items() if value is not None}}


class FinishedJobs:
    """Finished jobs by uid and by (namespace, name), and their number per (queue, state), kept together."""

    def __init__(self, jobs: Iterable[FinishedJob] = ()) -> None:
        self._by_uid: dict[str, FinishedJob] = {}
        self._by_name: dict[tuple[str, str], FinishedJob] = {}
        self.counts: Counter[tuple[str, str]] = Counter()
        for job in jobs:
            self.put(job)

    def put(self, job: FinishedJob) -> None:
        """Hold ``job``, replacing the record of that name."""
        self.drop(job.namespace, job.name)
        self._by_name[(job.namespace, job.name)] = job
        self._by_uid[job.uid] = job
        self.counts[(job.queue, job.state)] += 1

    def drop(self, namespace: str, name: str) -> FinishedJob | None:
        job = self._by_name.pop((namespace, name), None)
        if job is not None:
            if self._by_uid.get(job.uid) is job:
                del self._by_uid[job.uid]
            self.counts[(job.queue, job.state)] -= 1
            if not self.counts[(job.queue, job.state)]:
                del self.counts[(job.queue, job.state)]
        return job

    def named(self, namespace: str, name: str) -> FinishedJob | None:
        return self._by_name.get((namespace, name))

    def with_uid(self, uid: str) -> FinishedJob | None:
        return self._by_uid.get(uid)

    def __len__(self) -> int:
        return len(self._by_name)

    def __iter__(self) -> Iterator[FinishedJob]:
        return iter(self._by_name.values())
