"""The operator's in-memory view of the cluster, fed by watch events, read by the loop.

Why: the scheduler needs every queue, CE, runnable job and running pod at once; asking
the API server for them each cycle would cost a LIST per cycle. kopf's watch events
keep this store current. The loop's own writes are assumed before they are sent
(``assume``: the store already shows their result) and rolled back if the API server
refuses them (``roll_back``), as Kueue's cache does; the API's answer then replaces
the assumption (``record``), so the next cycle never re-plans what was just done.
Objects are kept only if newer than what is held: a late watch event cannot roll the
store back behind a write the loop has already seen.

What it holds costs what is live, not the history (issue 17): a finished job, once the
API server says so, is kept as a compact record of the few fields anything reads
(``FinishedJob``, about 500 bytes) and its pods are let go; a live job is kept without
what nothing reads (managedFields, annotations), its spec and resolved definition shared
with every equal one. ``bench/bench_history.py`` measures both.
"""

from __future__ import annotations

import asyncio
import copy
import sys
import weakref
from collections import defaultdict
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

from kubatch.core.pods import LABEL_JOB_ID
from kubatch.core.reconcile.finished import FinishedJob, FinishedJobs, is_finished
from kubatch.core.reconcile.world import World

Key = tuple[str, str]  # (namespace or "", name)


def _key(obj: dict[str, Any]) -> Key:
    metadata = obj["metadata"]
    return metadata.get("namespace") or "", metadata["name"]


def _job_of(pod: dict[str, Any]) -> str:
    """The uid of the job a pod belongs to ("" for none)."""
    return (pod["metadata"].get("labels") or {}).get(LABEL_JOB_ID) or ""


def _version(obj: dict[str, Any]) -> int:
    try:
        return int(obj["metadata"].get("resourceVersion") or 0)
    except ValueError:  # opaque on exotic servers: treat every event as newer
        return 1 << 62


@dataclass(frozen=True)
class Assumption:
    """What ``Store.assume`` showed, and what it replaced (None: nothing)."""

    kind: str
    key: Key
    shown: dict[str, Any]
    previous: dict[str, Any] | FinishedJob | None


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


def _without(obj: dict[str, Any], metadata_fields: tuple[str, ...]) -> dict[str, Any]:
    """A shallow copy without those metadata fields, or ``obj`` itself when it has none."""
    metadata = obj.get("metadata") or {}
    if not any(name in metadata for name in metadata_fields):
        return obj
    return {**obj, "metadata": {name: value for name, value in metadata.items() if name not in metadata_fields}}


UNREAD_METADATA = ("managedFields",)
"""Often the largest part of an object (every writer's field list), and nothing in the operator reads it."""
UNREAD_JOB_METADATA = (*UNREAD_METADATA, "annotations")
"""The planner reads no annotation of a job (kubectl's last-applied copy of it is the largest)."""


def _refuse_change(self: Any, *args: Any, **kwargs: Any) -> None:
    raise TypeError("a value the store shares between jobs is read-only; copy it before changing it")


class _SharedDict(dict):
    """A read-only dict the store holds once for every equal one (weakly referenced: it goes with its users).

    Copies (``dict(x)``, ``copy.deepcopy``) are plain, changeable dicts.
    """

    __slots__ = ("__weakref__",)
    __setitem__ = __delitem__ = update = pop = popitem = clear = setdefault = __ior__ = _refuse_change

    def __copy__(self) -> dict[str, Any]:
        return dict(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, Any]:
        return {key: copy.deepcopy(value, memo) for key, value in self.items()}

    def __reduce__(self) -> tuple[Any, ...]:
        return dict, (dict(self),)


class _SharedList(list):
    """A read-only list the store holds once for every equal one (see ``_SharedDict``)."""

    __slots__ = ("__weakref__",)
    __setitem__ = __delitem__ = append = extend = insert = pop = remove = clear = sort = reverse = _refuse_change
    __iadd__ = __imul__ = _refuse_change

    def __copy__(self) -> list[Any]:
        return list(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> list[Any]:
        return [copy.deepcopy(value, memo) for value in self]

    def __reduce__(self) -> tuple[Any, ...]:
        return list, (list(self),)


def _identity(value: Any) -> Hashable:
    """What tells a (shared) value apart from an unequal one in a key: strings and integers are
    themselves, a shared container its id (in a 1-tuple), other scalars their type and value."""
    kind = type(value)
    if kind is str or kind is int:
        return value
    if kind is _SharedDict or kind is _SharedList:
        return (id(value),)
    return kind.__name__, value


class SharedValues:
    """Equal JSON values, and equal parts of them, held once (hash-consing, bottom up).

    Why: every job of a definition revision carries the same ``status.resolvedDefinition``
    (the definition with the job's overrides applied, frozen at submission), the largest
    part of a RUNNABLE job, and jobs submitted together mostly have equal specs; a watch
    event decodes a new copy of each every time. Jobs that differ in one parameter still
    share the rest (its container, its retry strategy...). A shared value is read-only, so
    a change made in place by mistake fails loudly instead of changing every job.
    """

    def __init__(self) -> None:
        self._held: weakref.WeakValueDictionary[Hashable, _SharedDict | _SharedList] = weakref.WeakValueDictionary()

    def share(self, value: Any) -> Any:
        """``value`` (a JSON value) as the store holds it: shared containers, interned strings."""
        if isinstance(value, str):
            return sys.intern(value) if len(value) <= INTERNED_LENGTH else value
        if type(value) in (_SharedDict, _SharedList):
            return value
        if isinstance(value, dict):
            items = [(sys.intern(name) if isinstance(name, str) else name, self.share(item))
                     for name, item in value.items()]
            key: Hashable = ("{", *(part for name, item in items for part in (name, _identity(item))))
            held = self._held.get(key)
            if held is None:
                held = self._held[key] = _SharedDict(items)
            return held
        if isinstance(value, list):
            members = [self.share(item) for item in value]
            key = ("[", *(_identity(item) for item in members))
            held = self._held.get(key)
            if held is None:
                held = self._held[key] = _SharedList(members)
            return held
        return value

    def __len__(self) -> int:
        return len(self._held)


INTERNED_LENGTH = 64
"""Strings inside shared values up to this long are interned (commands, images, names of things)."""
SHARED_STATUS = ("resolvedDefinition", "dependsOn", "attempts")
"""A job's status fields held as shared values (the rest changes with every write)."""
INTERNED_FIELDS = {
    "metadata": ("namespace", "creationTimestamp"),
    "status": ("status", "statusReason", "statusMessage", "jobQueue", "computeEnvironment"),
}
"""A job's fields whose strings many jobs repeat."""


@dataclass
class Store:
    """The objects the operator watches, and the indexes the planner reads, updated together.

    - ``objects[kind][(namespace, name)]``: every watched object, lean (see ``lean``); for
      BatchJobs only the live ones (not SUCCEEDED or FAILED, or not confirmed so yet);
    - ``finished``: the finished jobs' compact records (``core/reconcile/finished.py``), by
      uid and by name, with their number per queue and state;
    - ``pods_by_job[job uid][pod name]``: the pods of live jobs (``objects["Pod"]`` is the
      same pods by name); a finished job's pods are not kept: nothing plans it any more.

    Every change goes through ``_hold``, ``_drop`` or ``finished.put``, which keep these consistent.
    """

    objects: dict[str, dict[Key, dict[str, Any]]] = field(default_factory=lambda: defaultdict(dict))
    pods_by_job: dict[str, dict[str, dict[str, Any]]] = field(default_factory=lambda: defaultdict(dict))
    finished: FinishedJobs = field(default_factory=FinishedJobs)
    shared: SharedValues = field(default_factory=SharedValues)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def observe(self, kind: str, event_type: str | None, obj: dict[str, Any]) -> None:
        """A watch event (ADDED, MODIFIED, DELETED, or None for kopf's initial listing)."""
        if event_type == "DELETED":
            self.forget(kind, obj)
        else:
            self.record(kind, obj)

    def record(self, kind: str, obj: dict[str, Any]) -> None:
        """``obj`` as the API server has it (a watch event, a write's answer), unless what is held is newer."""
        key = _key(obj)
        held = self.get(kind, *key)
        if held is not None and held["metadata"].get("uid") == obj["metadata"].get("uid") \
                and _version(held) > _version(obj):
            return
        if kind == "Pod" and self.finished.with_uid(_job_of(obj)) is not None:
            self._drop(kind, key)  # the pod of a finished job: nothing plans it any more
        elif kind == "BatchJob" and is_finished(obj):
            self._drop(kind, key)
            self.finished.put(FinishedJob.of(obj))
            self._forget_pods_of(obj["metadata"].get("uid") or "")
        else:
            self._put(kind, obj)
        self.changed.set()

    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        """The object held, or for a finished job its compact record in the shape of a BatchJob."""
        held = self.objects[kind].get((namespace, name))
        if held is None and kind == "BatchJob" and (record := self.finished.named(namespace, name)) is not None:
            return record.as_object()
        return held

    def _held(self, kind: str, key: Key) -> dict[str, Any] | FinishedJob | None:
        """What stands for the object in the store: the object, or a finished job's record."""
        held = self.objects[kind].get(key)
        return held if held is not None or kind != "BatchJob" else self.finished.named(*key)

    def lean(self, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        """``obj`` as the store holds it: without what nothing reads; for a job, its spec and the
        stable parts of its status shared with equal ones and its repeated strings interned."""
        if kind != "BatchJob":
            return _without(obj, UNREAD_METADATA)
        obj = _without(obj, UNREAD_JOB_METADATA)
        lean = {sys.intern(key): self.shared.share(value) if key in ("apiVersion", "kind", "spec") else value
                for key, value in obj.items()}
        for part, fields in INTERNED_FIELDS.items():
            if isinstance(obj.get(part), dict):
                lean[part] = {key: sys.intern(value) if key in fields and isinstance(value, str) else value
                              for key, value in obj[part].items()}
        status = lean.get("status")
        if isinstance(status, dict):
            for key in SHARED_STATUS:
                if key in status:
                    status[key] = self.shared.share(status[key])
            if status.get("jobId") == lean["metadata"].get("uid"):
                status["jobId"] = lean["metadata"]["uid"]
        return lean

    def _put(self, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        """Hold ``obj`` lean, replacing the object of its name, with every index; returns what is held.

        A finished job is held whole too until the API server confirms it (``record``): an
        assumed end may still be rolled back, and its pods must then still be there.
        """
        return self._hold(kind, _key(obj), self.lean(kind, obj))

    def _hold(self, kind: str, key: Key, obj: dict[str, Any]) -> dict[str, Any]:
        self._drop(kind, key)
        self.objects[kind][key] = obj
        if kind == "Pod" and (job_id := _job_of(obj)):
            self.pods_by_job[job_id][key[1]] = obj
        return obj

    def _drop(self, kind: str, key: Key) -> None:
        """Let go of the object of that name, from every index."""
        held = self.objects[kind].pop(key, None)
        if kind == "BatchJob" and held is None:
            self.finished.drop(*key)
        if kind == "Pod" and held is not None:
            job_id = _job_of(held)
            pods = self.pods_by_job.get(job_id)
            if pods is not None and pods.get(key[1]) is held:
                del pods[key[1]]
                if not pods:
                    del self.pods_by_job[job_id]

    def _forget_pods_of(self, job_uid: str) -> None:
        for pod in list(self.pods_by_job.get(job_uid, {}).values()):
            self._drop("Pod", _key(pod))

    def assume(self, kind: str, obj: dict[str, Any]) -> Assumption:
        """Show ``obj`` now, before the write that makes it true is confirmed."""
        key = _key(obj)
        previous = self._held(kind, key)
        return Assumption(kind=kind, key=key, shown=self._put(kind, dict(obj)), previous=previous)

    def roll_back(self, assumption: Assumption) -> None:
        """Undo an assumption whose write failed, unless a watch event has replaced it meanwhile."""
        kind, key, previous = assumption.kind, assumption.key, assumption.previous
        if self._held(kind, key) is not assumption.shown:
            return
        if previous is None:
            self._drop(kind, key)
            self.changed.set()
        elif isinstance(previous, FinishedJob):
            self._drop(kind, key)
            self.finished.put(previous)
        else:
            self._hold(kind, key, previous)  # as it was held: already lean

    def forget(self, kind: str, obj: dict[str, Any]) -> None:
        key = _key(obj)
        held = self.get(kind, *key)
        if held is not None and held["metadata"].get("uid") != obj["metadata"].get("uid"):
            return  # a newer object of the same name replaced it already
        self._drop(kind, key)
        self.changed.set()

    def all(self, kind: str) -> list[dict[str, Any]]:
        return list(self.objects[kind].values())

    def snapshot(self) -> World:
        """The planner's view: live jobs and the pods, finished jobs as their compact records."""
        return World.from_objects(self.objects, self.pods_by_job, self.finished)
