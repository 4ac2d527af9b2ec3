"""A new BatchJob: check it can run, freeze its definition, and make it RUNNABLE.

Why at submission: AWS Batch validates SubmitJob against the queue and the definition
and freezes the definition then. A job that names a missing or disabled queue, a
missing definition, or a namespace the queue does not serve fails at once with
``InvalidJob`` and a message naming the field, rather than waiting forever.

"Missing" is judged from the operator's watch cache, which can lag the API server: a
queue and a job applied together (GitOps, a script) may reach the operator job first.
So a job whose queue, or every compute environment of it, is not seen yet waits up to
``REFERENCE_GRACE_SECONDS`` from its creation before it fails; the API server, not the
cache, is what SubmitJob checked.

A job that is RUNNABLE at once is scheduled in the same cycle (``runnable_at_once``,
``after_submission``): its first status write already records STARTING (or why it
waits), with the submission's fields and Event. Every write counts when thousands of
jobs arrive together, and the API server, not the planner, is then the bottleneck.
"""

from __future__ import annotations

from dataclasses import replace

from kubatch.core.actions import CreatePod, Emit, PatchStatus, Step
from kubatch.core.definition import InvalidJobError, parse_definition_ref, resolve_job
from kubatch.core.multinode import check_nodes
from kubatch.core.kubetime import epoch_millis, parse_time
from kubatch.core.lifecycle import Invalidated, JobState, transition
from kubatch.core.reconcile.definitions import find_revision
from kubatch.core.reconcile.dependencies import JobIndex, resolve_depends_on
from kubatch.core.reconcile.jobstatus import job_event, job_patch, transition_fields
from kubatch.core.reconcile.world import Obj, World, labels_match, meta, spec
from kubatch.core.targets import check_queue

REFERENCE_GRACE_SECONDS = 30

def plan_submission(job: Obj, world: World, jobs: JobIndex, *, now_ms: int) -> Step | None:
    """The first status of a job that has none yet; None to wait (definition not numbered)."""
    namespace = meta(job)["namespace"]
    created = parse_time(meta(job).get("creationTimestamp"))
    base = {
        "jobId": meta(job)["uid"],
        "jobQueue": spec(job).get("jobQueue"),
        "createdAt": epoch_millis(created) if created else now_ms,
        "observedGeneration": meta(job).get("generation"),
        "attemptCount": 0,
        "attempts": [],
    }
    if _references_unseen(job, world) and now_ms - base["createdAt"] < REFERENCE_GRACE_SECONDS * 1000:
        return None
    try:
        _check_queue(job, world, namespace=namespace)
        depends_on = resolve_depends_on(job, jobs)
        found = find_revision(world, namespace=namespace, ref=parse_definition_ref(spec(job).get("jobDefinition")))
        if found is None:
            return None
        definition_spec, revision = found
        resolved = resolve_job(job_spec=spec(job), definition_spec=definition_spec, revision=revision)
        if "nodeProperties" in resolved:
            _check_multinode(resolved, world.queues[spec(job)["jobQueue"]], world)
        _check_privileged(resolved, world.queues[spec(job)["jobQueue"]], world)
    except InvalidJobError as error:
        failed = transition(state=JobState.SUBMITTED, event=Invalidated(message=str(error)))
        return Step((job_patch(job, base | transition_fields(failed, now_ms=now_ms)),
                     job_event(job, reason="Failed", message=f"InvalidJob {error}", warning=True)))
    waits = bool(depends_on) or bool(spec(job).get("arrayProperties"))
    fields = base | {
        "status": (JobState.PENDING if waits else JobState.RUNNABLE).value,
        "statusReason": None,
        "statusMessage": "Waiting for dependencies" if depends_on else
        "Waiting to be placed on a compute environment",
        "runnableAt": now_ms,
        "resolvedDefinition": resolved,
        "dependsOn": depends_on,
    }
    if spec(job).get("arrayProperties"):
        size = int(spec(job)["arrayProperties"]["size"])
        fields["arrayProperties"] = {"size": size, "statusSummary": {"PENDING": size}}
    return Step((job_patch(job, fields),
                 job_event(job, reason=fields["status"].capitalize(), message=f"Submitted to queue {base['jobQueue']} with "
                           f"definition {spec(job).get('jobDefinition')} "
                           f"(revision {resolved['revision']})")))


def _references_unseen(job: Obj, world: World) -> bool:
    """The job's queue, or every compute environment of it, is not in the cache (yet)."""
    queue = world.queues.get(spec(job).get("jobQueue"))
    if queue is None:
        return True
    return not any(entry["computeEnvironment"] in world.compute_environments
                   for entry in spec(queue).get("computeEnvironmentOrder") or [])


def _check_multinode(resolved: dict, queue: Obj, world: World) -> None:
    """AWS refuses multi-node jobs on Spot and Fargate; every node needs a container."""
    check_nodes(resolved)
    for entry in spec(queue).get("computeEnvironmentOrder") or []:
        ce = world.compute_environments.get(entry["computeEnvironment"])
        kind = (spec(ce).get("computeResources") or {}).get("type", "EC2") if ce else "EC2"
        if kind != "EC2":
            raise InvalidJobError(f"spec.jobQueue: multi-node parallel jobs cannot run on {kind} compute "
                                  f"environment {entry['computeEnvironment']!r} (AWS allows EC2 only)")


def _wants_privileged(resolved: dict) -> bool:
    if (resolved.get("containerProperties") or {}).get("privileged"):
        return True
    ranges = (resolved.get("nodeProperties") or {}).get("nodeRangeProperties") or []
    if any((item.get("container") or {}).get("privileged") for item in ranges):
        return True
    containers = ((resolved.get("eksProperties") or {}).get("podProperties") or {}).get("containers") or []
    return any((c.get("securityContext") or {}).get("privileged") for c in containers)


def _mounts_host_paths(resolved: dict) -> bool:
    containers = [resolved.get("containerProperties") or {},
                  *((item.get("container") or {}) for item in
                    (resolved.get("nodeProperties") or {}).get("nodeRangeProperties") or [])]
    if any((volume.get("host") or {}).get("sourcePath") for c in containers for volume in c.get("volumes") or []):
        return True
    volumes = ((resolved.get("eksProperties") or {}).get("podProperties") or {}).get("volumes") or []
    return any(volume.get("hostPath") for volume in volumes)


PERMISSIONS = (
    # (does the job want it, the CE switch that allows it, the field to name, what it is)
    (_wants_privileged, "allowPrivileged", "containerProperties.privileged", "privileged containers"),
    (_mounts_host_paths, "allowHostPath", "volumes[].host.sourcePath", "host-path volumes"),
)


def _check_privileged(resolved: dict, queue: Obj, world: World) -> None:
    """Privileged containers and host paths run only where every CE of the queue allows them."""
    for wants, switch, field, what in PERMISSIONS:
        if not wants(resolved):
            continue
        refusing = [entry["computeEnvironment"] for entry in spec(queue).get("computeEnvironmentOrder") or []
                    if not spec(world.compute_environments.get(entry["computeEnvironment"], {})).get(switch)]
        if refusing:
            raise InvalidJobError(f"{field}: compute environment {', '.join(refusing)} does not allow {what} "
                                  f"(set its spec.{switch}: true)")


def _check_queue(job: Obj, world: World, *, namespace: str) -> None:
    name = spec(job).get("jobQueue")
    queue = world.queues.get(name)
    namespace_labels = (meta(world.namespaces[namespace]).get("labels") or {}) \
        if namespace in world.namespaces else {"kubernetes.io/metadata.name": namespace}
    selected = queue is None or labels_match(spec(queue).get("namespaceSelector"), namespace_labels)
    check_queue(name, queue, share_identifier=spec(job).get("shareIdentifier"),
                compute_environments=world.compute_environments, namespace=namespace, namespace_selected=selected)


def runnable_at_once(job: Obj, submission: Step | None) -> Obj | None:
    """The job as ``submission`` leaves it, if that makes it RUNNABLE; else None."""
    if submission is None:
        return None
    patch = next((action.patch for action in submission.actions if isinstance(action, PatchStatus)), None)
    if patch is None or patch.get("status") != JobState.RUNNABLE.value:
        return None
    fields = {**(job.get("status") or {}), **patch}
    return {**job, "status": {key: value for key, value in fields.items() if value is not None}}


def after_submission(submission: Step | None, then: Step | None) -> Step | None:
    """``submission`` and ``then`` (the same cycle's admission or wait) as one step.

    ``then``'s status patches of the job (and a pod's ``on_invalid`` patch) carry the
    submission's fields under their own, so one write records both; the submission's
    Event goes before ``then``'s Events.
    """
    if submission is None or then is None:
        return then or submission
    (submitted,) = (action for action in submission.actions if isinstance(action, PatchStatus))
    events = tuple(action for action in submission.actions if isinstance(action, Emit))

    def of_the_job(patch: PatchStatus) -> bool:
        return (patch.kind, patch.namespace, patch.name) == (submitted.kind, submitted.namespace, submitted.name)

    def with_submission(patch: PatchStatus) -> PatchStatus:
        return replace(patch, patch=submitted.patch | patch.patch) if of_the_job(patch) else patch

    actions: list = []
    if not any(isinstance(action, PatchStatus) and of_the_job(action) for action in then.actions):
        actions.append(submitted)
    for action in then.actions:
        if isinstance(action, PatchStatus):
            action = with_submission(action)
        elif isinstance(action, CreatePod) and action.on_invalid is not None:
            action = replace(action, on_invalid=with_submission(action.on_invalid))
        elif isinstance(action, Emit) and events:
            actions += events
            events = ()
        actions.append(action)
    return Step((*actions, *events))
