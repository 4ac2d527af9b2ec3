"""The operator's in-memory view of the cluster, fed by watch events, read by the loop.

Why: the scheduler needs every queue, CE, runnable job and running pod at once; asking
the API server for them each cycle would cost a LIST per cycle. kopf's watch events
keep this store current, and the loop's own writes are recorded as soon as the API
accepts them (``record``), so the next cycle never re-plans what was just done.
Objects are kept only if newer than what is held: a late watch event cannot roll the
store back behind a write the loop has already seen.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from kubatch.core.pods import LABEL_JOB_ID

Key = tuple[str, str]  # (namespace or "", name)


def _key(obj: dict[str, Any]) -> Key:
    metadata = obj["metadata"]
    return metadata.get("namespace") or "", metadata["name"]


def _version(obj: dict[str, Any]) -> int:
    try:
        return int(obj["metadata"].get("resourceVersion") or 0)
    except ValueError:  # opaque on exotic servers: treat every event as newer
        return 1 << 62


@dataclass
class Store:
    objects: dict[str, dict[Key, dict[str, Any]]] = field(default_factory=lambda: defaultdict(dict))
    pods_by_job: dict[str, dict[str, dict[str, Any]]] = field(default_factory=lambda: defaultdict(dict))
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def observe(self, kind: str, event_type: str | None, obj: dict[str, Any]) -> None:
        """A watch event (ADDED, MODIFIED, DELETED, or None for kopf's initial listing)."""
        if event_type == "DELETED":
            self.forget(kind, obj)
        else:
            self.record(kind, obj)

    def record(self, kind: str, obj: dict[str, Any]) -> None:
        key = _key(obj)
        held = self.objects[kind].get(key)
        if held is not None and held["metadata"].get("uid") == obj["metadata"].get("uid") \
                and _version(held) > _version(obj):
            return
        obj = dict(obj)
        self.objects[kind][key] = obj
        if kind == "Pod":
            job_id = (obj["metadata"].get("labels") or {}).get(LABEL_JOB_ID)
            if job_id:
                self.pods_by_job[job_id][obj["metadata"]["name"]] = obj
        self.changed.set()

    def forget(self, kind: str, obj: dict[str, Any]) -> None:
        key = _key(obj)
        held = self.objects[kind].get(key)
        if held is not None and held["metadata"].get("uid") != obj["metadata"].get("uid"):
            return  # a newer object of the same name replaced it already
        self.objects[kind].pop(key, None)
        if kind == "Pod":
            job_id = (obj["metadata"].get("labels") or {}).get(LABEL_JOB_ID)
            pods = self.pods_by_job.get(job_id or "")
            if pods is not None:
                pods.pop(obj["metadata"]["name"], None)
                if not pods:
                    del self.pods_by_job[job_id]
        self.changed.set()

    def all(self, kind: str) -> list[dict[str, Any]]:
        return list(self.objects[kind].values())
