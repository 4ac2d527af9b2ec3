"""RUNNABLE jobs: one scheduling pass, then a pod per admitted job and a reason for the rest.

Why here: this is the bridge between the API objects and the pure scheduler. It maps
queues, CEs and jobs into a scheduler snapshot, runs ``schedule``, and turns each
admission into "create the attempt's pod, then record STARTING" (in that order, so a
crash in between leaves a pod that the next cycle adopts rather than duplicates).
Every job left waiting gets the scheduler's message as its ``statusMessage``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

from kubatch.core import scheduling as sched
from kubatch.core.actions import CreatePod, Step
from kubatch.core.kubetime import parse_time
from kubatch.core.lifecycle import Admitted, Invalidated, JobState, RunnableTimeLimitExceeded, transition
from kubatch.core.pods import LABEL_CE, ComputePlacement, label_value, pod_name
from kubatch.core.multinode import main_node
from kubatch.core.reconcile.attempts import current_pod
from kubatch.core.reconcile.multinode import first_pods, is_multinode, node_pod_name
from kubatch.core.reconcile.jobstatus import job_event, job_patch, transition_event, transition_fields
from kubatch.core.reconcile.podspec import Demand, attempt_pod, job_demand
from kubatch.core.reconcile.submission import after_submission
from kubatch.core.reconcile.world import Obj, World, meta, spec, status

def _seconds(ms: int | None) -> float | None:
    return ms / 1000 if ms is not None else None


def _compute_environment(ce: Obj) -> sched.ComputeEnvironment:
    resources = spec(ce).get("computeResources") or {}
    return sched.ComputeEnvironment(
        name=meta(ce)["name"],
        max_vcpus=float(resources.get("maxvCpus", 0)),
        state=sched.ComputeEnvironmentState(spec(ce).get("state", "ENABLED")),
        valid=status(ce).get("status", "VALID") != "INVALID",
        resource_type=sched.ComputeResourceType(resources.get("type", "EC2")),
    )


def scheduler_queue(queue: Obj) -> sched.JobQueue:
    order = sorted(spec(queue).get("computeEnvironmentOrder") or [], key=lambda entry: entry["order"])
    return sched.JobQueue(name=meta(queue)["name"], priority=int(spec(queue).get("priority", 0)),
                          compute_environments=tuple(entry["computeEnvironment"] for entry in order),
                          scheduling_policy=spec(queue).get("schedulingPolicy"))


def scheduler_policy(policy: Obj) -> sched.SchedulingPolicy:
    fairshare = spec(policy).get("fairsharePolicy") or {}
    return sched.SchedulingPolicy(
        name=meta(policy)["name"],
        share_decay_seconds=float(fairshare.get("shareDecaySeconds", 0)),
        compute_reservation=int(fairshare.get("computeReservation", 0)),
        share_distribution=tuple(
            sched.ShareWeight(share_identifier=item["shareIdentifier"], weight_factor=float(item.get("weightFactor", 1)))
            for item in fairshare.get("shareDistribution") or []),
    )


def _unschedulable_since(pod: Obj | None) -> float | None:
    pod_status = (pod or {}).get("status") or {}
    if pod_status.get("phase", "Pending") != "Pending":
        return None  # only a Pending pod can be Unschedulable; skip the conditions of every running one
    for condition in pod_status.get("conditions") or []:
        if condition.get("type") == "PodScheduled" and condition.get("reason") == "Unschedulable":
            moment = parse_time(condition.get("lastTransitionTime"))
            return moment.timestamp() if moment else None
    return None


@dataclass(frozen=True)
class Candidate:
    """One RUNNABLE unit (a job, or one child of an array) and what to do with the scheduler's answer."""

    job: Obj
    index: int | None
    demand: Demand
    runnable_since_ms: int | None
    admit: Callable[[Obj], Step]                 # given the chosen CE
    wait: Callable[[sched.Wait], Step | None]
    unit_id: str = field(init=False)

    def __post_init__(self) -> None:
        uid = meta(self.job)["uid"]
        object.__setattr__(self, "unit_id", uid if self.index is None else f"{uid}:{self.index}")

    def order(self) -> tuple:
        return (status(self.job).get("createdAt") or 0, meta(self.job)["namespace"], meta(self.job)["name"],
                -1 if self.index is None else self.index)


@dataclass(frozen=True)
class Holding:
    """Capacity held by a STARTING or RUNNING unit."""

    job: Obj
    index: int | None
    compute_environment: str
    demand: Demand
    started_at_ms: int | None
    pod: Obj | None


def single_job_candidate(job: Obj, world: World, *, now_ms: int, submission: Step | None = None) -> Candidate:
    """A RUNNABLE job; ``submission``: the step that makes it so in this very cycle, written with the outcome."""
    return Candidate(job=job, index=None, demand=job_demand(job),
                     runnable_since_ms=status(job).get("runnableAt"),
                     admit=lambda ce: after_submission(submission, _admit(job, ce, now_ms=now_ms)),
                     wait=lambda wait: after_submission(submission, _wait(job, wait, world, now_ms=now_ms)))


def single_job_holding(job: Obj, world: World) -> Holding:
    return Holding(job=job, index=None, compute_environment=status(job)["computeEnvironment"],
                   demand=job_demand(job),
                   started_at_ms=status(job).get("startedAt"), pod=current_pod(job, world))


def admitted_units(holdings: list[Holding], *, now_ms: int) -> list[sched.AdmittedUnit]:
    """What holds capacity, as the scheduler counts it."""
    return [
        sched.AdmittedUnit(
            id=meta(h.job)["uid"] if h.index is None else f"{meta(h.job)['uid']}:{h.index}",
            queue=spec(h.job)["jobQueue"], compute_environment=h.compute_environment,
            vcpus=h.demand.vcpus, memory_mib=h.demand.memory_mib, gpus=h.demand.gpus,
            started_at=(h.started_at_ms or now_ms) / 1000, share_identifier=spec(h.job).get("shareIdentifier"),
            unschedulable_since=_unschedulable_since(h.pod),
        )
        for h in holdings
    ]


def plan_admissions(world: World, *, candidates: list[Candidate], admitted: list[sched.AdmittedUnit],
                    share_usage: Mapping[sched.ShareKey, float], now_ms: int
                    ) -> tuple[list[Step], Mapping[str, Sequence[str]]]:
    """The steps that admit or explain every candidate, and each queue's front (see ``Decisions``)."""
    by_id = {}
    units = []
    for sequence, candidate in enumerate(sorted(candidates, key=Candidate.order)):
        job, demand = candidate.job, candidate.demand
        by_id[candidate.unit_id] = candidate
        units.append(sched.RunnableUnit(
            id=candidate.unit_id, queue=spec(job)["jobQueue"], vcpus=demand.vcpus, memory_mib=demand.memory_mib,
            gpus=demand.gpus, created_at=(status(job).get("createdAt") or 0) / 1000, sequence=sequence,
            share_identifier=spec(job).get("shareIdentifier"),
            scheduling_priority=int(status(job)["resolvedDefinition"].get("schedulingPriority") or 0),
            runnable_since=_seconds(candidate.runnable_since_ms),
        ))
    decisions = sched.schedule(sched.Snapshot(
        now=now_ms / 1000,
        compute_environments=tuple(_compute_environment(ce) for ce in world.compute_environments.values()),
        job_queues=tuple(scheduler_queue(q) for q in world.queues.values()),
        scheduling_policies=tuple(scheduler_policy(p) for p in world.scheduling_policies.values()),
        runnable=tuple(units), admitted=tuple(admitted), share_usage=share_usage,
    ))
    steps = [by_id[a.unit_id].admit(world.compute_environments[a.compute_environment]) for a in decisions.admissions]
    for unit_id, wait in decisions.waits.items():
        step = by_id[unit_id].wait(wait)
        if step is not None:
            steps.append(step)
    return steps, decisions.front_of_queue


def placement_of(ce: Obj) -> ComputePlacement:
    resources = spec(ce).get("computeResources") or {}
    return ComputePlacement(name=meta(ce)["name"], type=resources.get("type", "EC2"),
                            node_selector=resources.get("nodeSelector"), tolerations=resources.get("tolerations"))


def _admit(job: Obj, ce: Obj, *, now_ms: int) -> Step:
    """Create the attempt's pod (a multi-node job: its Service and main node's pod), then record STARTING."""
    attempt = int(status(job).get("attemptCount") or 0) + 1
    invalid = transition(state=JobState.RUNNABLE, event=Invalidated(message="the cluster refused the job's pod"))
    refused = job_patch(job, transition_fields(invalid, now_ms=now_ms))
    if is_multinode(job):
        service, main = first_pods(job, placement_of(ce), attempt=attempt)
        creates: tuple = (service, CreatePod(main.manifest, on_invalid=refused))
    else:
        creates = (CreatePod(attempt_pod(job, placement_of(ce), attempt=attempt), on_invalid=refused),)
    admitted = transition(state=JobState.RUNNABLE, event=Admitted(compute_environment=meta(ce)["name"]))
    fields = transition_fields(admitted, now_ms=now_ms) | {
        "computeEnvironment": meta(ce)["name"], "attemptCount": attempt,
        "container": _fresh_container(creates[-1].manifest["metadata"]["name"]),
    }
    return Step((*creates, job_patch(job, fields), transition_event(job, admitted)))


def _fresh_container(pod: str) -> dict[str, object]:
    """``status.container`` of a new attempt: the previous attempt's exit code and node are cleared."""
    return {"podName": pod, "nodeName": None, "exitCode": None, "reason": None}


def ce_of_pod(pod: Obj, world: World) -> str:
    """The CE a pod was admitted to; its label may be a shortened form of the CE's name."""
    label = (meta(pod).get("labels") or {}).get(LABEL_CE, "")
    if label in world.compute_environments:
        return label
    return next((name for name in world.compute_environments if label_value(name) == label), label)


def adopt_existing_pod(job: Obj, world: World, *, now_ms: int) -> tuple[Step, Holding] | None:
    """A RUNNABLE job whose next attempt's pod exists: an earlier cycle created it, then crashed.

    The job becomes STARTING and holds its CE's capacity in this very cycle.
    """
    attempt = int(status(job).get("attemptCount") or 0) + 1
    name = (node_pod_name(job, attempt=attempt, node=main_node(status(job)["resolvedDefinition"]))
            if is_multinode(job) else pod_name(job_name=meta(job)["name"], attempt=attempt))
    pod = world.pods_by_job.get(meta(job)["uid"], {}).get(name)
    if pod is None:
        return None
    ce_name = ce_of_pod(pod, world)
    admitted = transition(state=JobState.RUNNABLE, event=Admitted(compute_environment=ce_name))
    fields = transition_fields(admitted, now_ms=now_ms) | {
        "computeEnvironment": ce_name, "attemptCount": attempt, "container": _fresh_container(meta(pod)["name"])}
    holding = Holding(job=job, index=None, compute_environment=ce_name,
                      demand=job_demand(job), started_at_ms=None, pod=pod)
    return Step((job_patch(job, fields), transition_event(job, admitted))), holding


def _wait(job: Obj, wait: sched.Wait, world: World, *, now_ms: int) -> Step | None:
    """Say why the job waits (AWS keeps even never-fitting jobs RUNNABLE, with the reason).

    ``statusReason`` carries the scheduler's code (``CAPACITY``,
    ``MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT``, …) so that jobStateTimeLimitActions
    can match it; a job that cannot ever run also gets a Warning event, once.
    """
    if wait.reason is sched.WaitReason.JOB_QUEUE_NOT_FOUND:
        # AWS: deleting a queue terminates its jobs; nothing could ever run this one now.
        failed = transition(state=JobState.RUNNABLE, event=Invalidated(message=f"spec.jobQueue: {wait.message}"))
        return Step((job_patch(job, transition_fields(failed, now_ms=now_ms)), transition_event(job, failed)))
    expired = _time_limit_action(job, wait, world, now_ms=now_ms)
    if expired is not None:
        return expired
    fields = {"statusReason": wait.reason.value, "statusMessage": wait.message}
    if all(status(job).get(key) == value for key, value in fields.items()):
        return None
    actions: list = [job_patch(job, fields)]
    if wait.cannot_ever_run and status(job).get("statusReason") != wait.reason.value:
        actions.append(job_event(job, reason="CannotRun", message=wait.message, warning=True))
    return Step(tuple(actions))


def _time_limit_action(job: Obj, wait: sched.Wait, world: World, *, now_ms: int) -> Step | None:
    """jobStateTimeLimitActions: cancel a job RUNNABLE too long for a listed reason."""
    queue = world.queues.get(spec(job)["jobQueue"]) or {}
    runnable_ms = now_ms - int(status(job).get("runnableAt") or now_ms)
    for action in spec(queue).get("jobStateTimeLimitActions") or []:
        if action.get("state", "RUNNABLE") != "RUNNABLE" or not wait.reason.value.startswith(action["reason"]):
            continue
        if runnable_ms >= int(action["maxTimeSeconds"]) * 1000:
            ended = transition(state=JobState.RUNNABLE, event=RunnableTimeLimitExceeded(
                reason=action["reason"], max_time_seconds=int(action["maxTimeSeconds"])))
            return Step((job_patch(job, transition_fields(ended, now_ms=now_ms)), transition_event(job, ended)))
    return None
