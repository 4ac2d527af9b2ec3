"""JobDefinition revisions: every spec change is a new revision, old ones stay resolvable.

Why in status: AWS keeps each revision as its own immutable record (`def:3`). Here a
definition is one object whose spec can change; the operator numbers each new
``metadata.generation`` as the next revision and keeps the last revisions' specs in
``status.revisions`` so a job can still name ``def:3`` after ``def:4`` exists.
"""

from __future__ import annotations

from typing import Any

from kubatch.core.actions import PatchStatus, Step
from kubatch.core.definition import DefinitionRef, InvalidJobError
from kubatch.core.reconcile.world import Obj, World, meta, spec, status

KEPT_REVISIONS = 20


def plan_definitions(world: World) -> list[Step]:
    steps = []
    for (namespace, name), definition in world.definitions.items():
        current = status(definition)
        generation = meta(definition).get("generation", 1)
        if current.get("observedGeneration") == generation:
            continue
        revision = int(current.get("revision") or 0) + 1
        history = [r for r in current.get("revisions") or [] if r.get("revision") != revision]
        history = (history + [{"revision": revision, "spec": spec(definition)}])[-KEPT_REVISIONS:]
        patch = {"revision": revision, "status": current.get("status") or "ACTIVE",
                 "observedGeneration": generation, "revisions": history}
        steps.append(Step((PatchStatus("JobDefinition", namespace, name, patch),)))
    return steps


def find_revision(world: World, *, namespace: str, ref: DefinitionRef) -> tuple[dict[str, Any], int] | None:
    """(spec, revision) of the named revision; None while the operator has not numbered it yet."""
    definition: Obj | None = world.definitions.get((namespace, ref.name))
    if definition is None:
        raise InvalidJobError(f"spec.jobDefinition: JobDefinition {ref.name!r} does not exist in namespace "
                              f"{namespace!r}")
    current = status(definition)
    if current.get("status") == "INACTIVE":
        raise InvalidJobError(f"spec.jobDefinition: JobDefinition {ref.name!r} is INACTIVE (deregistered)")
    if current.get("observedGeneration") != meta(definition).get("generation", 1):
        return None
    latest = int(current["revision"])
    if ref.revision is None or ref.revision == latest:
        return spec(definition), latest
    for kept in current.get("revisions") or []:
        if kept.get("revision") == ref.revision:
            return kept["spec"], ref.revision
    raise InvalidJobError(f"spec.jobDefinition: revision {ref.revision} of {ref.name!r} does not exist "
                          f"(latest is {latest})")
