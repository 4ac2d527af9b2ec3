"""The operator's in-memory view of the cluster, fed by watch events, read by the loop.

Why: the scheduler needs every queue, CE, runnable job and running pod at once; asking
the API server for them each cycle would cost a LIST per cycle. kopf's watch events
keep this store current. The loop's own writes are assumed before they are sent
(``assume``: the store already shows their result) and rolled back if the API server
refuses them (``roll_back``), as Kueue's cache does; the API's answer then replaces
the assumption (``record``), so the next cycle never re-plans what was just done.
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


@dataclass(frozen=True)
class Assumption:
    """What ``Store.assume`` showed, and what it replaced (None: nothing)."""

    kind: str
    assumed: dict[str, Any]
    previous: dict[str, Any] | None


def merged(document: Any, patch: Any) -> Any:
    """``document`` after the JSON merge patch ``patch`` (RFC 7386), as the API server applies it.

    Neither argument is changed; untouched parts of ``document`` are shared with the result.
    """
    if not isinstance(patch, dict):
        return patch
    result = dict(document) if isinstance(document, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merged(result.get(key), value)
    return result


def _without_managed_fields(obj: dict[str, Any]) -> dict[str, Any]:
    """A shallow copy without ``metadata.managedFields``: often the largest part of an object,
    and nothing in the operator reads it, so the store need not hold it for every job and pod."""
    kept = dict(obj)
    metadata = kept.get("metadata") or {}
    if "managedFields" in metadata:
        kept["metadata"] = {name: value for name, value in metadata.items() if name != "managedFields"}
    return kept


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
        obj = _without_managed_fields(obj)
        self.objects[kind][key] = obj
        if kind == "Pod":
            job_id = (obj["metadata"].get("labels") or {}).get(LABEL_JOB_ID)
            if job_id:
                self.pods_by_job[job_id][obj["metadata"]["name"]] = obj
        self.changed.set()

    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        return self.objects[kind].get((namespace, name))

    def _put(self, kind: str, obj: dict[str, Any]) -> None:
        self.objects[kind][_key(obj)] = obj
        if kind == "Pod":
            job_id = (obj["metadata"].get("labels") or {}).get(LABEL_JOB_ID)
            if job_id:
                self.pods_by_job[job_id][obj["metadata"]["name"]] = obj

    def assume(self, kind: str, obj: dict[str, Any]) -> Assumption:
        """Show ``obj`` now, before the write that makes it true is confirmed."""
        held = self.objects[kind].get(_key(obj))
        assumed = dict(obj)
        self._put(kind, assumed)
        return Assumption(kind=kind, assumed=assumed, previous=held)

    def roll_back(self, assumption: Assumption) -> None:
        """Undo an assumption whose write failed, unless a watch event has replaced it meanwhile."""
        kind, assumed = assumption.kind, assumption.assumed
        if self.objects[kind].get(_key(assumed)) is not assumed:
            return
        if assumption.previous is None:
            self.forget(kind, assumed)
        else:
            self._put(kind, assumption.previous)

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
