"""The planner: from a snapshot of the world to the steps that move every job forward.

Why one pure function: the whole operator's behaviour is ``plan(world, now)``; the
controller only feeds the snapshot in and carries the steps out, so every rule is
unit-tested without a cluster and a cycle's cost is measurable on its own.

Order inside a cycle: definitions are numbered, new jobs are submitted, cancel and
terminate requests are honoured, dependencies are checked, running attempts (of jobs
and of array children) are observed, and only then are RUNNABLE units scheduled,
against capacity that already excludes what just ended.
"""

from __future__ import annotations

from kubatch.core.actions import Step
from kubatch.core.lifecycle import (
    ACTIVE_STATES,
    TERMINAL_STATES,
    CancelRequested,
    DependenciesMet,
    DependencyFailed,
    JobState,
    TerminateRequested,
    transition,
)
from kubatch.core.reconcile.admission import (
    Candidate,
    Holding,
    admitted_units,
    adopt_existing_pod,
    placement_of,
    plan_admissions,
    single_job_candidate,
    single_job_holding,
)
from kubatch.core.reconcile.arrays import ArrayCycle, is_array, plan_array
from kubatch.core.pods import ComputePlacement
from kubatch.core.reconcile.attempts import ends_attempt, plan_active_job
from kubatch.core.reconcile.multinode import is_multinode, plan_group
from kubatch.core.reconcile.dependencies import JobIndex, job_gate
from kubatch.core.reconcile.definitions import plan_definitions
from kubatch.core.reconcile.jobstatus import job_patch, transition_event, transition_fields
from kubatch.core.reconcile.resources import plan_compute_environment_status, plan_queue_status
from kubatch.core.reconcile.submission import after_submission, plan_submission, runnable_at_once
from kubatch.core.reconcile.settings import PodRetention, Settings
from kubatch.core.reconcile.shareusage import current_share_usage
from kubatch.core.reconcile.world import Obj, World, spec, status

__all__ = ["PodRetention", "Settings", "World", "plan"]


def _stop_request(job: Obj, *, now_ms: int) -> Step | None:
    """Cancel or terminate a job that has not started yet."""
    requests = spec(job)
    if not (requests.get("cancelRequest") or requests.get("terminateRequest")):
        return None
    state = JobState(status(job).get("status") or JobState.SUBMITTED.value)
    event = (TerminateRequested(reason=requests["terminateRequest"].get("reason"))
             if requests.get("terminateRequest")
             else CancelRequested(reason=requests["cancelRequest"].get("reason")))
    stopped = transition(state=state, event=event)
    if not stopped.changed:
        return None
    return Step((job_patch(job, transition_fields(stopped, now_ms=now_ms)), transition_event(job, stopped)))


def _pending_job(job: Obj, jobs: JobIndex, *, now_ms: int) -> Step | None:
    """A single job waiting for its dependencies."""
    gate = job_gate(job, jobs)
    if gate.failed_on or gate.open:
        event = DependencyFailed(dependency=gate.failed_on) if gate.failed_on else DependenciesMet()
        moved = transition(state=JobState.PENDING, event=event)
        return Step((job_patch(job, transition_fields(moved, now_ms=now_ms)), transition_event(job, moved)))
    message = f"Waiting for dependency {gate.waiting_on}"
    if status(job).get("statusMessage") != message:
        return Step((job_patch(job, {"statusMessage": message}),))
    return None


def _runnable_job(job: Obj, world: World, candidates: list[Candidate], holdings: list[Holding], *, now_ms: int,
                  submission: Step | None = None) -> Step | None:
    """A RUNNABLE single job: adopt its next attempt's pod if an earlier cycle created it, else let the
    scheduler decide (``submission``: the step that made it RUNNABLE in this cycle, to write with it)."""
    adopted = adopt_existing_pod(job, world, now_ms=now_ms)
    if adopted is None:
        candidates.append(single_job_candidate(job, world, now_ms=now_ms, submission=submission))
        return None
    step, holding = adopted
    holdings.append(holding)
    return after_submission(submission, step)


def plan(world: World, *, now_ms: int, settings: Settings = Settings()) -> list[Step]:
    steps: list[Step] = plan_definitions(world)
    jobs = JobIndex(world.jobs, world.finished)
    candidates: list[Candidate] = []
    holdings: list[Holding] = []
    arrays: list[ArrayCycle] = []
    for job in world.jobs:
        state = status(job).get("status")
        step: Step | None = None
        if state in TERMINAL_STATES:
            continue
        if state is None:
            step = _stop_request(job, now_ms=now_ms) or plan_submission(job, world, jobs, now_ms=now_ms)
            runnable = runnable_at_once(job, step)
            if runnable is not None:
                step = _runnable_job(runnable, world, candidates, holdings, now_ms=now_ms, submission=step)
        elif is_array(job):
            cycle = plan_array(job, world, jobs, now_ms=now_ms, settings=settings)
            arrays.append(cycle)
            candidates += cycle.candidates
            holdings += cycle.holdings
            step = Step(tuple(cycle.actions)) if cycle.actions else None
        elif state in ACTIVE_STATES:
            if is_multinode(job):
                ce = world.compute_environments.get(status(job).get("computeEnvironment"))
                placement = placement_of(ce) if ce else ComputePlacement(name=status(job)["computeEnvironment"],
                                                                         type="EC2")
                step = plan_group(job, world, placement=placement, now_ms=now_ms, settings=settings)
                holds_capacity = not ends_attempt(step)
            else:
                step, holds_capacity = plan_active_job(job, world, now_ms=now_ms, settings=settings)
            if holds_capacity:
                holdings.append(single_job_holding(job, world))
        else:
            step = _stop_request(job, now_ms=now_ms)
            if step is None and state == JobState.PENDING:
                step = _pending_job(job, jobs, now_ms=now_ms)
            elif step is None and state == JobState.RUNNABLE:
                step = _runnable_job(job, world, candidates, holdings, now_ms=now_ms)
        if step is not None:
            steps.append(step)
    admitted = admitted_units(holdings, now_ms=now_ms)
    share_usage = current_share_usage(world, admitted, now_ms=now_ms)
    admissions, front_of_queue = plan_admissions(world, candidates=candidates, admitted=admitted,
                                                 share_usage=share_usage.for_scheduler(), now_ms=now_ms)
    steps += admissions
    steps += [step for cycle in arrays if (step := cycle.message_step()) is not None]
    steps += plan_compute_environment_status(world, holdings)
    steps += plan_queue_status(world, holdings=holdings, front_of_queue=front_of_queue, share_usage=share_usage,
                               now_ms=now_ms)
    return steps
