"""A new BatchJob: InvalidJob at once for what can never run, else RUNNABLE, definition frozen.

AWS SubmitJob validates the queue and the definition and freezes the definition; DESIGN
§1–§2 add the namespaceSelector extension and the CE's allowPrivileged switch.
"""

from __future__ import annotations

import pytest

from kubatch.core.actions import CreatePod, Emit, PatchStatus, Step
from kubatch.core.definition import resolve_job
from kubatch.core.reconcile.dependencies import JobIndex
from kubatch.core.reconcile.submission import after_submission, plan_submission

from .builders import (
    NOW_MS,
    compute_environment,
    container,
    definition,
    healthy,
    iso,
    job,
    namespace,
    of_type,
    only_step,
    patched,
    plan_of,
    pod,
    queue,
    steps_for,
    world,
)

CREATED_MS = NOW_MS - 90_000


def submit(submitted: dict, *objects: dict) -> dict:
    """What submission writes into a brand-new job's status (and the event it emits), before the
    same cycle schedules the job (see the tests of ``after_submission`` below)."""
    snapshot = world(submitted, *objects)
    step = plan_submission(snapshot.jobs[0], snapshot, JobIndex(snapshot.jobs), now_ms=NOW_MS)
    assert step is not None and not [action for action in step.actions if isinstance(action, CreatePod)]
    return {"status": patched(step), "events": [a for a in step.actions if isinstance(a, Emit)]}


INVALID = [
    pytest.param(job(definition="nope"), healthy(), "JobDefinition 'nope' does not exist in namespace 'default'",
                 id="missing definition"),
    pytest.param(job(definition="def:7"), healthy(), "revision 7 of 'def' does not exist (latest is 1)",
                 id="missing revision"),
    pytest.param(job(definition="def"), [definition(state="INACTIVE"), queue(), compute_environment()],
                 "JobDefinition 'def' is INACTIVE", id="inactive definition"),
    pytest.param(job(definition="def:x"), healthy(), "spec.jobDefinition 'def:x' is not 'name' or 'name:revision'",
                 id="malformed reference"),
    pytest.param(job(definition="other"), [definition(namespace="elsewhere", name="other"), queue(),
                                           compute_environment()],
                 "JobDefinition 'other' does not exist in namespace 'default'", id="definition of another namespace"),
    pytest.param(job(queue="nope"), healthy(), "spec.jobQueue: JobQueue 'nope' does not exist", id="missing queue"),
    pytest.param(job(), [definition(), queue(state="DISABLED"), compute_environment()],
                 "JobQueue 'q' is DISABLED and accepts no new jobs", id="disabled queue"),
    pytest.param(job(), [definition(), queue("q", "gone"), compute_environment()],
                 "JobQueue 'q' has no valid compute environment", id="queue without an existing CE"),
    pytest.param(job(), [definition(), queue(namespace_selector={"matchLabels": {"team": "a"}}),
                         compute_environment(), namespace("default", team="b")],
                 "does not accept jobs from namespace 'default'", id="namespaceSelector label mismatch"),
    pytest.param(job(), [definition(), compute_environment(), queue(namespace_selector={"matchExpressions": [
        {"key": "kubernetes.io/metadata.name", "operator": "In", "values": ["batch"]}]})],
                 "does not accept jobs from namespace 'default'", id="namespaceSelector by name, no Namespace object"),
    pytest.param(job(dependsOn=[{"jobId": "other"}]), healthy(),
                 "spec.dependsOn[0].jobId: job 'other' does not exist in namespace 'default'",
                 id="dependency on a missing job"),
    pytest.param(job(dependsOn=[{"jobId": "job"}]), healthy(), "spec.dependsOn[0].jobId: a job cannot depend on itself",
                 id="dependency on itself"),
    pytest.param(job(), [definition(type="multinode", containerProperties=None,
                                    nodeProperties={"numNodes": 2, "mainNode": 0, "nodeRangeProperties": []}),
                         queue(), compute_environment()],
                 "no range covers node 0 of 2", id="multi-node definition without node ranges"),
    pytest.param(job(), [definition(containerProperties=container(privileged=True)), queue(),
                         compute_environment()],
                 "compute environment ce does not allow privileged containers", id="privileged refused by CE"),
    pytest.param(job(), [definition(containerProperties=container(privileged=True)), queue("q", "ce", "other"),
                         compute_environment(allow_privileged=True), compute_environment("other")],
                 "compute environment other does not allow privileged", id="privileged refused by one CE"),
    pytest.param(job(), [definition(containerProperties=None, eksProperties={"podProperties": {"containers": [
        {"name": "main", "image": "busybox", "securityContext": {"privileged": True}}]}}),
                         queue(), compute_environment()],
                 "does not allow privileged containers", id="privileged eks container refused"),
    pytest.param(job(), [definition(containerProperties=container(
        volumes=[{"name": "data", "host": {"sourcePath": "/var/lib/data"}}],
        mountPoints=[{"sourceVolume": "data", "containerPath": "/data"}])), queue(), compute_environment()],
                 "volumes[].host.sourcePath: compute environment ce does not allow host-path volumes "
                 "(set its spec.allowHostPath: true)", id="host path refused by CE"),
    pytest.param(job(), [definition(containerProperties=None, eksProperties={"podProperties": {
        "containers": [{"name": "main", "image": "busybox"}],
        "volumes": [{"name": "root", "hostPath": {"path": "/"}}]}}), queue(), compute_environment()],
                 "does not allow host-path volumes", id="host path of an eks pod refused"),
]


@pytest.mark.parametrize(("submitted", "objects", "message"), INVALID)
def test_a_job_that_can_never_run_fails_at_once_with_invalid_job(submitted: dict, objects: list, message: str) -> None:
    submitted["metadata"]["creationTimestamp"] = iso(CREATED_MS)
    result = submit(submitted, *objects)
    status = result["status"]
    assert (status["status"], status["statusReason"]) == ("FAILED", "InvalidJob")
    assert message in status["statusMessage"]
    assert status["jobId"] == submitted["metadata"]["uid"]
    assert (status["createdAt"], status["stoppedAt"]) == (CREATED_MS, NOW_MS)
    assert (status["attemptCount"], status["attempts"]) == (0, [])
    assert "resolvedDefinition" not in status
    (event,) = result["events"]
    assert (event.reason, event.type, event.uid) == ("Failed", "Warning", submitted["metadata"]["uid"])
    assert message in event.message and "InvalidJob" in event.message


ACCEPTED = [
    pytest.param(healthy(), id="plain"),
    pytest.param([definition(), compute_environment(), queue(namespace_selector={"matchLabels": {"team": "a"}}),
                  namespace("default", team="a")], id="namespaceSelector matches the Namespace's labels"),
    pytest.param([definition(), compute_environment(), queue(namespace_selector={"matchExpressions": [
        {"key": "kubernetes.io/metadata.name", "operator": "In", "values": ["default"]}]})],
                 id="namespaceSelector by name, no Namespace object"),
    pytest.param([definition(), compute_environment(), queue("q", "gone", "ce")], id="one CE of two exists"),
    pytest.param([definition(containerProperties=container(privileged=True)), queue(),
                  compute_environment(allow_privileged=True)], id="privileged allowed by the CE"),
    pytest.param([definition(containerProperties=container(volumes=[{"name": "d", "host": {"sourcePath": "/d"}}])),
                  queue(), compute_environment(allow_host_path=True)], id="host path allowed by the CE"),
    pytest.param([definition(), compute_environment(state="DISABLED"), queue()],
                 id="disabled CE: waits rather than fails"),
]


@pytest.mark.parametrize("objects", ACCEPTED)
def test_a_valid_job_becomes_runnable_with_its_definition_frozen(objects: list) -> None:
    submitted = job(created_ms=CREATED_MS, parameters={"p": "1"})
    result = submit(submitted, *objects)
    definition_spec = next(o for o in objects if o["kind"] == "JobDefinition")["spec"]
    assert result["status"].items() >= {
        "jobId": submitted["metadata"]["uid"],
        "jobQueue": "q",
        "createdAt": CREATED_MS,
        "observedGeneration": 1,
        "attemptCount": 0,
        "attempts": [],
        "status": "RUNNABLE",
        "statusReason": None,
        "statusMessage": "Waiting to be placed on a compute environment",
        "runnableAt": NOW_MS,
        "resolvedDefinition": resolve_job(job_spec=submitted["spec"], definition_spec=definition_spec, revision=1),
    }.items()
    (event,) = result["events"]
    assert (event.reason, event.type) == ("Runnable", "Normal")
    assert "queue q" in event.message and "revision 1" in event.message


@pytest.mark.parametrize(
    ("extra", "summary"),
    [
        ([job("first", status={"status": "RUNNING"})], None),
        ([], {"size": 3, "statusSummary": {"PENDING": 3}}),
    ],
    ids=["dependency", "array"],
)
def test_a_job_with_dependencies_or_children_starts_pending(extra: list, summary: dict | None) -> None:
    submitted = job(dependsOn=[{"jobId": "first"}]) if extra else job(arrayProperties={"size": 3})
    status = submit(submitted, *extra, *healthy())["status"]
    assert (status["status"], status["statusReason"]) == ("PENDING", None)
    assert status.get("arrayProperties") == summary
    if extra:
        assert status["dependsOn"][0]["jobId"] == "uid-default-first"


def test_a_job_without_a_creation_timestamp_is_created_now() -> None:
    submitted = job()
    del submitted["metadata"]["creationTimestamp"]
    assert submit(submitted, *healthy())["status"]["createdAt"] == NOW_MS


@pytest.mark.parametrize("objects", [
    pytest.param([definition(), compute_environment()], id="queue not seen yet"),
    pytest.param([definition(), queue()], id="no compute environment of the queue seen yet"),
])
def test_a_just_created_job_waits_for_the_cache_to_see_its_queue_then_fails(objects: list) -> None:
    from kubatch.core.reconcile.submission import REFERENCE_GRACE_SECONDS

    fresh = job(created_ms=NOW_MS - 2_000)  # applied together with its queue: the watch may lag
    assert steps_for(plan_of(fresh, *objects), "job") == []
    stale = job(created_ms=NOW_MS - REFERENCE_GRACE_SECONDS * 1000)
    assert submit(stale, *objects)["status"]["statusReason"] == "InvalidJob"


def test_a_job_waits_while_its_definition_is_not_numbered_yet() -> None:
    steps = plan_of(job(), definition(revision=None), queue(), compute_environment())
    assert steps_for(steps, "job") == []
    (numbering,) = steps_for(steps, "def", kind="JobDefinition")
    assert isinstance(numbering.actions[0], PatchStatus)


def test_a_job_waits_while_an_edit_of_its_definition_is_not_numbered_yet() -> None:
    edited = definition(generation=2, revision=1)
    edited["status"]["observedGeneration"] = 1
    assert steps_for(plan_of(job(), edited, queue(), compute_environment()), "job") == []


def test_job_overrides_are_frozen_with_the_definition() -> None:
    submitted = job(containerOverrides={"command": ["echo", "Ref::x"], "environment": [{"name": "E", "value": "1"}]},
                    parameters={"x": "job"}, timeout={"attemptDurationSeconds": 60}, schedulingPriorityOverride=5)
    frozen = submit(submitted, definition(parameters={"x": "def"}, schedulingPriority=1), queue(),
                    compute_environment())["status"]["resolvedDefinition"]
    assert frozen["containerProperties"]["command"] == ["echo", "Ref::x"]
    assert frozen["containerProperties"]["environment"] == [{"name": "E", "value": "1"}]
    assert (frozen["parameters"], frozen["timeout"], frozen["schedulingPriority"]) == (
        {"x": "job"}, {"attemptDurationSeconds": 60}, 5)


def test_submitted_jobs_of_other_namespaces_use_their_own_definitions() -> None:
    mine = job("mine", namespace="team-a")
    assert submit(mine, definition(namespace="team-a"), queue(), compute_environment())["status"]["status"] == "RUNNABLE"


# ---------------------------------------------------------------- scheduled in the cycle that submits it


def test_a_job_that_fits_is_submitted_and_started_with_one_status_write() -> None:
    step = only_step(plan_of(job(), *healthy()), "job")
    (create,) = of_type(step, CreatePod)
    (write,) = of_type(step, PatchStatus)
    assert step.actions.index(create) < step.actions.index(write)  # the pod first, as for any admission
    assert write.patch["status"] == "STARTING" and write.patch["computeEnvironment"] == "ce"
    assert write.patch["runnableAt"] == NOW_MS and write.patch["resolvedDefinition"]["revision"] == 1
    assert write.patch["jobId"] == "uid-default-job" and write.patch["attemptCount"] == 1
    assert [event.reason for event in of_type(step, Emit)] == ["Runnable", "Starting"]
    refused = create.on_invalid.patch  # a refused pod fails a job that still needs its submission fields
    assert refused["status"] == "FAILED" and refused["jobId"] == "uid-default-job" and "resolvedDefinition" in refused


def test_a_job_that_must_wait_is_submitted_with_its_reason_in_one_status_write() -> None:
    step = only_step(plan_of(job(), definition(), queue(), compute_environment(state="DISABLED")), "job")
    (write,) = of_type(step, PatchStatus)
    assert write.patch["status"] == "RUNNABLE" and write.patch["jobId"] == "uid-default-job"
    assert write.patch["statusReason"] == "COMPUTE_ENVIRONMENT_DISABLED"
    assert not of_type(step, CreatePod)


def test_a_fresh_job_whose_pod_exists_adopts_it() -> None:
    """The operator stopped between creating the first pod and writing the job's first status."""
    fresh = job()
    step = only_step(plan_of(fresh, pod(fresh, attempt=1), *healthy()), "job")
    assert not of_type(step, CreatePod)
    (write,) = of_type(step, PatchStatus)
    assert write.patch["status"] == "STARTING" and "resolvedDefinition" in write.patch


def test_an_outcome_that_writes_no_status_still_gets_the_submission() -> None:
    submission = Step((PatchStatus("BatchJob", "default", "job", {"status": "RUNNABLE", "jobId": "u"}),
                       Emit("BatchJob", "default", "job", "u", "Runnable", "submitted")))
    only_events = Step((Emit("BatchJob", "default", "job", "u", "CannotRun", "never fits", "Warning"),))
    joined = after_submission(submission, only_events)
    assert [type(a).__name__ for a in joined.actions] == ["PatchStatus", "Emit", "Emit"]
    assert [a.reason for a in of_type(joined, Emit)] == ["Runnable", "CannotRun"]
    assert after_submission(submission, None) == submission and after_submission(None, only_events) == only_events
