"""JobDefinition revisions: each spec change is the next revision; old ones stay resolvable.

AWS: the first registration is revision 1, each later one the next number, and a job
may name ``def`` (the latest ACTIVE revision) or ``def:N``; a deregistered (INACTIVE)
revision takes no jobs, the others stay usable.
"""

from __future__ import annotations

import copy

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubatch.core.actions import PatchStatus
from kubatch.core.definition import DefinitionRef, InvalidJobError
from kubatch.core.reconcile.definitions import (KEPT_REVISIONS, find_revision, plan_definitions,
                                                with_revisions_inactive)

from .builders import (
    compute_environment,
    container,
    definition,
    definition_spec,
    job,
    only_step,
    patched,
    plan_of,
    queue,
    world,
)


def numbering(obj: dict) -> dict | None:
    """The status patch plan_definitions writes for ``obj`` (None: nothing to do)."""
    steps = plan_definitions(world(obj))
    if not steps:
        return None
    (step,) = steps
    (action,) = step.actions
    assert isinstance(action, PatchStatus)
    assert (action.kind, action.namespace, action.name) == ("JobDefinition", "default", obj["metadata"]["name"])
    return action.patch


def edited(obj: dict, *, generation: int, **spec_fields) -> dict:
    """``obj`` after a spec edit the operator has not seen yet."""
    changed = copy.deepcopy(obj)
    changed["metadata"]["generation"] = generation
    changed["spec"] = definition_spec(**spec_fields)
    return changed


V1 = definition_spec(containerProperties=container(command=["echo", "v1"]))


def test_a_new_definition_is_revision_1() -> None:
    new = definition(revision=None, containerProperties=V1["containerProperties"])
    assert numbering(new) == {"revision": 1, "status": "ACTIVE", "observedGeneration": 1,
                              "revisions": [{"revision": 1, "generation": 1, "spec": V1}]}


def test_the_operator_numbers_with_the_resource_version_it_read_as_a_precondition() -> None:
    new = definition(revision=None)
    new["metadata"]["resourceVersion"] = "41"
    ((action,),) = [step.actions for step in plan_definitions(world(new))]
    assert action.metadata == {"resourceVersion": "41"}


def test_an_edit_is_the_next_revision_and_the_old_one_is_kept() -> None:
    v2 = edited(definition(containerProperties=V1["containerProperties"]), generation=2,
                containerProperties=container(command=["echo", "v2"]))
    assert numbering(v2) == {"revision": 2, "status": "ACTIVE", "observedGeneration": 2,
                             "revisions": [{"revision": 1, "spec": V1},
                                           {"revision": 2, "generation": 2, "spec": v2["spec"]}]}


def test_a_numbered_definition_needs_nothing() -> None:
    assert numbering(definition(generation=3, revision=2)) is None


def test_several_unseen_edits_make_one_revision() -> None:
    assert numbering(edited(definition(), generation=4))["revision"] == 2


def test_a_new_revision_of_a_deregistered_definition_is_active_and_the_old_one_stays_inactive() -> None:
    patch = numbering(edited(definition(state="INACTIVE"), generation=2))
    assert patch["status"] == "ACTIVE"
    assert [(entry["revision"], entry.get("status", "ACTIVE")) for entry in patch["revisions"]] == [
        (1, "INACTIVE"), (2, "ACTIVE")]


def test_only_the_last_revisions_are_kept() -> None:
    older = {number: definition_spec(parameters={"n": str(number)}) for number in range(1, KEPT_REVISIONS)}
    full = definition(revision=KEPT_REVISIONS, generation=KEPT_REVISIONS, older=older)
    patch = numbering(edited(full, generation=KEPT_REVISIONS + 1))
    kept = [entry["revision"] for entry in patch["revisions"]]
    assert kept == list(range(2, KEPT_REVISIONS + 2))


def test_a_half_written_revision_is_replaced_not_duplicated() -> None:
    stale = edited(definition(), generation=2)
    stale["status"]["revisions"].append({"revision": 2, "spec": {"stale": True}})
    patch = numbering(stale)
    assert patch["revisions"] == [{"revision": 1, "spec": definition()["spec"]},
                                  {"revision": 2, "generation": 2, "spec": stale["spec"]}]


# -- find_revision ----------------------------------------------------------------------------


OLD = definition_spec(parameters={"which": "one"})
CURRENT = definition(revision=3, generation=3, older={1: OLD}, parameters={"which": "three"})


@pytest.mark.parametrize(
    ("ref", "expected_revision", "expected_which"),
    [(DefinitionRef("def", None), 3, "three"), (DefinitionRef("def", 3), 3, "three"),
     (DefinitionRef("def", 1), 1, "one")],
)
def test_a_reference_finds_the_latest_or_the_named_revision(ref: DefinitionRef, expected_revision: int,
                                                             expected_which: str) -> None:
    spec, revision = find_revision(world(CURRENT), namespace="default", ref=ref)
    assert (revision, spec["parameters"]["which"]) == (expected_revision, expected_which)


@pytest.mark.parametrize(
    ("objects", "ref", "message"),
    [
        ([CURRENT], DefinitionRef("def", 2), "revision 2 of 'def' does not exist (latest is 3)"),
        ([CURRENT], DefinitionRef("def", 4), "revision 4 of 'def' does not exist (latest is 3)"),
        ([], DefinitionRef("def", None), "JobDefinition 'def' does not exist in namespace 'default'"),
        ([definition(state="INACTIVE")], DefinitionRef("def", 1), "INACTIVE"),
        ([definition(state="INACTIVE")], DefinitionRef("def", None), "INACTIVE"),
    ],
)
def test_a_reference_to_nothing_usable_is_invalid(objects: list, ref: DefinitionRef, message: str) -> None:
    with pytest.raises(InvalidJobError, match=message.replace("(", r"\(").replace(")", r"\)")):
        find_revision(world(*objects), namespace="default", ref=ref)


@pytest.mark.parametrize("unnumbered", [definition(revision=None), edited(definition(), generation=2)])
def test_a_definition_not_numbered_yet_resolves_to_nothing_for_now(unnumbered: dict) -> None:
    assert find_revision(world(unnumbered), namespace="default", ref=DefinitionRef("def", None)) is None


def test_one_deregistered_revision_leaves_the_others_usable_and_a_name_takes_the_latest_active() -> None:
    latest_inactive = copy.deepcopy(CURRENT)
    latest_inactive["status"] = with_revisions_inactive(CURRENT, {3}) | {
        k: v for k, v in CURRENT["status"].items() if k not in ("status", "revisions")}
    assert latest_inactive["status"]["status"] == "ACTIVE"
    spec, revision = find_revision(world(latest_inactive), namespace="default", ref=DefinitionRef("def", None))
    assert (revision, spec["parameters"]["which"]) == (1, "one")
    with pytest.raises(InvalidJobError, match="revision 3 of 'def' is INACTIVE"):
        find_revision(world(latest_inactive), namespace="default", ref=DefinitionRef("def", 3))
    assert with_revisions_inactive(CURRENT, {1, 3})["status"] == "INACTIVE"


def test_a_revision_that_fell_out_of_the_history_says_so() -> None:
    many = definition(revision=KEPT_REVISIONS + 5, generation=KEPT_REVISIONS + 5,
                      older={number: definition_spec() for number in range(6, KEPT_REVISIONS + 5)})
    with pytest.raises(InvalidJobError, match=f"revision 2 of 'def' is no longer kept \\(kubatch keeps the last "
                                              f"{KEPT_REVISIONS} revisions"):
        find_revision(world(many), namespace="default", ref=DefinitionRef("def", 2))


def test_a_job_naming_an_old_revision_runs_that_revision() -> None:
    steps = plan_of(job(definition="def:1"), CURRENT, queue(), compute_environment())
    frozen = patched(only_step(steps, "job"))["resolvedDefinition"]
    assert (frozen["revision"], frozen["parameters"]) == (1, {"which": "one"})


# -- property: a history of edits ----------------------------------------------------------------


@given(edits=st.lists(st.text(alphabet="abc", min_size=1, max_size=3), min_size=1, max_size=KEPT_REVISIONS + 5))
def test_every_edit_gets_the_next_revision_and_each_kept_revision_resolves_to_its_spec(edits: list[str]) -> None:
    obj = definition(revision=None, parameters={"v": edits[0]})
    specs: dict[int, dict] = {}
    for generation, value in enumerate(edits, start=1):
        obj = edited(obj, generation=generation, parameters={"v": value}) if generation > 1 else obj
        patch = numbering(obj)
        assert patch["revision"] == generation
        obj["status"] = patch
        specs[generation] = copy.deepcopy(obj["spec"])
        assert numbering(obj) is None
    kept = {entry["revision"] for entry in obj["status"]["revisions"]}
    assert kept == set(range(max(1, len(edits) - KEPT_REVISIONS + 1), len(edits) + 1))
    for revision in kept:
        spec, found = find_revision(world(obj), namespace="default", ref=DefinitionRef("def", revision))
        assert (found, spec) == (revision, specs[revision])
