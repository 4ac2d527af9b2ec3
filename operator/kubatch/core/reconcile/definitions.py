"""JobDefinition revisions: each one numbered exactly once, old ones resolvable, one deregistrable.

Why in status: AWS keeps each revision as its own immutable record (``def:3``). Here a
definition is one object whose spec can change; every revision (the spec it holds, the
``metadata.generation`` it was recorded for, and whether it was deregistered) is kept
in ``status.revisions``, so a job can still name ``def:3`` after ``def:4`` exists.

Who numbers: whoever sees the object's current spec unnumbered (``observedGeneration``
behind ``generation``) — the service layer right after RegisterJobDefinition writes a
spec, the operator after ``kubectl apply`` — writes the next revision with the
object's ``resourceVersion`` as a precondition. A write based on a stale read is
refused (409) and redone from a fresh one, so a revision number is never given twice
and a spec is never numbered from a stale history. The same pure functions decide for
both writers.

History is bounded at ``KEPT_REVISIONS`` (the status has to fit in one etcd object);
naming a revision that fell out says so.
"""

from __future__ import annotations

from typing import Any

from kubatch.core.actions import PatchStatus, Step
from kubatch.core.definition import DefinitionRef, InvalidJobError
from kubatch.core.reconcile.world import Obj, World, meta, spec, status

KEPT_REVISIONS = 100
ACTIVE, INACTIVE = "ACTIVE", "INACTIVE"


def is_numbered(definition: Obj) -> bool:
    """Whether the definition's current spec already is a revision."""
    current = status(definition)
    return bool(current.get("revision")) and current.get("observedGeneration") == meta(definition).get("generation", 1)


def revisions(definition: Obj) -> list[dict[str, Any]]:
    """The kept revisions, oldest first: ``{revision, spec, generation?, status?}`` (absent status: ACTIVE).

    A definition numbered before revisions were all kept has its latest revision only
    as its spec; it is added here.
    """
    current = status(definition)
    kept = [entry for entry in current.get("revisions") or [] if entry.get("revision")]
    latest = int(current.get("revision") or 0)
    if latest and not any(int(entry["revision"]) == latest for entry in kept) and is_numbered(definition):
        kept.append({"revision": latest, "spec": spec(definition), "generation": meta(definition).get("generation", 1)})
    return kept


def entry_status(entry: dict[str, Any]) -> str:
    return entry.get("status") or ACTIVE


def _overall(entries: list[dict[str, Any]]) -> str:
    """ACTIVE while any revision is."""
    return ACTIVE if any(entry_status(entry) == ACTIVE for entry in entries) else INACTIVE


def with_next_revision(definition: Obj) -> dict[str, Any]:
    """The status that records the current spec as the next revision (ACTIVE)."""
    current = status(definition)
    revision = int(current.get("revision") or 0) + 1
    generation = meta(definition).get("generation", 1)
    history = [entry for entry in revisions(definition) if int(entry["revision"]) != revision]
    history = (history + [{"revision": revision, "generation": generation, "spec": spec(definition)}])[-KEPT_REVISIONS:]
    return {"revision": revision, "status": ACTIVE, "observedGeneration": generation, "revisions": history}


def with_revisions_inactive(definition: Obj, chosen: set[int]) -> dict[str, Any]:
    """The status with the ``chosen`` revisions deregistered (INACTIVE)."""
    history = [{**entry, "status": INACTIVE} if int(entry["revision"]) in chosen else entry
               for entry in revisions(definition)]
    return {"status": _overall(history), "revisions": history}


def precondition(definition: Obj) -> dict[str, Any]:
    """The part of a patch that makes the API server refuse it (409) if the object changed since it was read."""
    return {"resourceVersion": meta(definition)["resourceVersion"]} if meta(definition).get("resourceVersion") else {}


def plan_definitions(world: World) -> list[Step]:
    steps = []
    for (namespace, name), definition in world.definitions.items():
        if is_numbered(definition):
            continue
        steps.append(Step((PatchStatus("JobDefinition", namespace, name, with_next_revision(definition),
                                       metadata=precondition(definition)),)))
    return steps


def resolve_revision(definition: Obj, ref: DefinitionRef) -> tuple[dict[str, Any], int] | None:
    """(spec, revision) that ``ref`` names: ``def:N``, or ``def`` for the latest ACTIVE revision.

    None while a bare name's latest spec is not numbered yet. Raises InvalidJobError
    naming the field when the revision does not exist, is no longer kept or is INACTIVE.
    """
    name = meta(definition)["name"]
    history = revisions(definition)
    if ref.revision is None:
        if not is_numbered(definition):
            return None
        active = [entry for entry in history if entry_status(entry) == ACTIVE]
        if not active:
            raise InvalidJobError(f"spec.jobDefinition: JobDefinition {name!r} is INACTIVE (every revision is "
                                  "deregistered)")
        return active[-1]["spec"], int(active[-1]["revision"])
    for entry in history:
        if int(entry["revision"]) == ref.revision:
            if entry_status(entry) != ACTIVE:
                raise InvalidJobError(f"spec.jobDefinition: revision {ref.revision} of {name!r} is INACTIVE "
                                      "(deregistered)")
            return entry["spec"], ref.revision
    latest = int(status(definition).get("revision") or 0)
    if history and ref.revision < int(history[0]["revision"]):
        raise InvalidJobError(f"spec.jobDefinition: revision {ref.revision} of {name!r} is no longer kept (kubatch "
                              f"keeps the last {KEPT_REVISIONS} revisions; latest is {latest})")
    if ref.revision > latest and not is_numbered(definition):
        return None
    raise InvalidJobError(f"spec.jobDefinition: revision {ref.revision} of {name!r} does not exist "
                          f"(latest is {latest})")


def find_revision(world: World, *, namespace: str, ref: DefinitionRef) -> tuple[dict[str, Any], int] | None:
    """(spec, revision) of the named revision; None while the operator has not numbered it yet."""
    definition: Obj | None = world.definitions.get((namespace, ref.name))
    if definition is None:
        raise InvalidJobError(f"spec.jobDefinition: JobDefinition {ref.name!r} does not exist in namespace "
                              f"{namespace!r}")
    return resolve_revision(definition, ref)
