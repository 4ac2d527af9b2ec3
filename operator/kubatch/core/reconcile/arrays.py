"""Array jobs: up to 10,000 children kept in the parent's status, not as 10,000 objects.

The parent's ``status.arrayProperties`` holds:

- ``succeeded`` / ``failed``: index ranges ("0-99,120") of children that ended;
- ``exitCodes``, ``attempts``, ``reasons``: for ended children, index ranges keyed by
  their last exit code, their number of attempts and (failed ones) their statusReason;
- ``children``: a record per child that is STARTING, RUNNING, or waiting to retry,
  with its attempts in the DescribeJobs shape; it leaves the map when the child ends;
- ``statusSummary``: counts by state.

A child with no record and no range is RUNNABLE (or PENDING while a dependency holds
it). Admitting a child only creates its pod (name per index and attempt); the next
cycle finds the pod and records the child as STARTING, so a crash between the two
neither loses nor duplicates a child. Each cycle writes at most one merge patch per
parent, touching only the children that changed.

Parent states (AWS): PENDING until every child has ended (its ``startedAt`` records the
first child seen running), then SUCCEEDED if all succeeded, else FAILED.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from kubatch.core import scheduling as sched
from kubatch.core.actions import Action, CreatePod, DeletePod, Step
from kubatch.core.lifecycle import ACTIVE_STATES, JobState
from kubatch.core.pods import pod_name
from kubatch.core.ranges import decode, encode
from kubatch.core.reasons import StatusReason
from kubatch.core.reconcile.admission import Candidate, Holding, ce_of_pod, placement_of
from kubatch.core.reconcile.attempts import TERMINATE_GRACE_SECONDS, attempt_record, observe_attempt
from kubatch.core.reconcile.dependencies import Gate, JobIndex, child_gate, job_gate
from kubatch.core.reconcile.jobstatus import job_event, job_patch
from kubatch.core.reconcile.podspec import attempt_pod, job_demand
from kubatch.core.reconcile.settings import Settings
from kubatch.core.reconcile.world import Obj, World, meta, spec, status

SUMMARY_STATES = tuple(state.value for state in JobState)


def is_array(job: Obj) -> bool:
    return bool(spec(job).get("arrayProperties"))


@dataclass(frozen=True)
class Ended:
    """A child that ended this cycle."""

    succeeded: bool
    attempts: int
    exit_code: int | None
    reason: str | None


@dataclass
class ArrayCycle:
    """One parent's share of a cycle: its bookkeeping step, its RUNNABLE children, its held capacity."""

    job: Obj
    actions: list[Action] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)
    holdings: list[Holding] = field(default_factory=list)
    unoffered: int = 0  # RUNNABLE children not offered to the scheduler this cycle
    first_wait: sched.Wait | None = None

    def note_wait(self, wait: sched.Wait) -> None:
        if self.first_wait is None:
            self.first_wait = wait

    def message_step(self) -> Step | None:
        """The parent says why its waiting children wait (one message for all of them)."""
        if self.first_wait is None or status(self.job).get("statusMessage") == self.first_wait.message:
            return None
        return Step((job_patch(self.job, {"statusMessage": self.first_wait.message}),))


class _Children:
    """The parent's child records and ranges, plus what this cycle changes."""

    def __init__(self, job: Obj) -> None:
        array = status(job).get("arrayProperties") or {}
        self.size = int(spec(job)["arrayProperties"]["size"])
        self.records: dict[str, dict[str, Any]] = dict(array.get("children") or {})
        self.succeeded = decode(array.get("succeeded"))
        self.failed = decode(array.get("failed"))
        self.array = array
        self.patch: dict[str, dict[str, Any] | None] = {}
        self.ended: dict[int, Ended] = {}

    def update(self, index: int, record: dict[str, Any]) -> None:
        self.records[str(index)] = record
        self.patch[str(index)] = record

    def end(self, index: int, outcome: Ended) -> None:
        self.ended[index] = outcome
        (self.succeeded if outcome.succeeded else self.failed).add(index)
        if str(index) in self.records:
            del self.records[str(index)]
            self.patch[str(index)] = None

    def ranges_patch(self) -> dict[str, Any]:
        if not self.ended:
            return {}
        patch: dict[str, Any] = {"succeeded": encode(self.succeeded), "failed": encode(self.failed)}
        for key, value_of in (("exitCodes", lambda e: e.exit_code), ("attempts", lambda e: e.attempts),
                              ("reasons", lambda e: e.reason)):
            grouped: dict[str, set[int]] = {}
            for index, outcome in self.ended.items():
                value = value_of(outcome)
                if value is not None:
                    grouped.setdefault(str(value), set()).add(index)
            current = self.array.get(key) or {}
            patch[key] = {value: encode(decode(current.get(value)) | indexes) for value, indexes in grouped.items()}
        return patch


def plan_array(job: Obj, world: World, jobs: JobIndex, *, now_ms: int, settings: Settings) -> ArrayCycle:
    cycle = ArrayCycle(job=job)
    children = _Children(job)
    pods = world.pods_by_job.get(meta(job)["uid"], {})
    gate = job_gate(job, jobs)
    stopping = spec(job).get("terminateRequest") or spec(job).get("cancelRequest")
    offer_limit = _most_admissible(job, world)
    for index in range(children.size):
        if index in children.succeeded or index in children.failed:
            continue
        record = children.records.get(str(index)) or {}
        state = record.get("status", JobState.RUNNABLE.value)
        if state in ACTIVE_STATES:
            _observe_child(cycle, children, index, record, pods, world, now_ms=now_ms, settings=settings)
        elif state == JobState.FAILED.value:  # recorded by a refused pod creation
            children.end(index, Ended(False, int(record.get("attemptCount") or 0), None,
                                      record.get("statusReason")))
        elif stopping:
            reason = StatusReason.CANCELLED.value
            children.end(index, Ended(False, int(record.get("attemptCount") or 0), None, reason))
        elif len(cycle.candidates) >= offer_limit:
            cycle.unoffered += 1  # RUNNABLE, but no CE could take it this cycle anyway
        else:
            _waiting_child(cycle, children, index, record, pods, gate, jobs, world, now_ms=now_ms)
    _finish_parent(cycle, children, now_ms=now_ms)
    return cycle


def _most_admissible(job: Obj, world: World) -> int:
    """How many children could possibly start in one cycle: the queue's CEs' quota over a child's vCPUs.

    Children are admitted in index order, so offering the scheduler more than this
    would only cost time: with 10,000 children and room for 500, the other 9,500 wait.
    """
    queue = world.queues.get(spec(job).get("jobQueue"))
    vcpus = job_demand(job).vcpus
    per_child_gates = any(d.get("type") in ("N_TO_N", "SEQUENTIAL") for d in status(job).get("dependsOn") or [])
    if queue is None or vcpus <= 0 or per_child_gates:
        return 1 << 30
    quota = sum(float((spec(world.compute_environments[entry["computeEnvironment"]]).get("computeResources") or {})
                      .get("maxvCpus", 0))
                for entry in spec(queue).get("computeEnvironmentOrder") or []
                if entry["computeEnvironment"] in world.compute_environments)
    return int(quota // vcpus) + 1


def _observe_child(cycle: ArrayCycle, children: _Children, index: int, record: dict[str, Any],
                   pods: dict[str, Obj], world: World, *, now_ms: int, settings: Settings) -> None:
    job = cycle.job
    attempt = int(record["attemptCount"])
    name = pod_name(job_name=meta(job)["name"], attempt=attempt, array_index=index)
    pod = pods.get(name)
    namespace = meta(job)["namespace"]
    if spec(job).get("terminateRequest"):
        reason = StatusReason.TERMINATED.value
        finished = attempt_record(pod, pod_name_if_gone=name, outcome=None, reason=reason,
                                  started_at=record.get("startedAt"), now_ms=now_ms)
        if pod is not None:
            cycle.actions.append(DeletePod(namespace, name, grace_seconds=TERMINATE_GRACE_SECONDS))
        children.end(index, Ended(False, attempt, finished["container"].get("exitCode"), reason))
        return
    seen = observe_attempt(pod=pod, pod_name_if_gone=name, state=JobState(record["status"]),
                           resolved=status(job)["resolvedDefinition"], attempts_made=attempt,
                           started_at=record.get("startedAt"), world=world, now_ms=now_ms, settings=settings)
    if seen.ended is None:
        if seen.started_at is not None:
            children.update(index, record | {"status": JobState.RUNNING.value, "startedAt": seen.started_at})
        cycle.holdings.append(_holding(job, index, record, pod))
        return
    if seen.delete_pod:
        cycle.actions.append(DeletePod(namespace, name))
    attempts = [*(record.get("attempts") or []), seen.record]
    ended = seen.ended
    reason = ended.status_reason.value if ended.status_reason else None
    if ended.state is JobState.RUNNABLE:
        children.update(index, {"status": JobState.RUNNABLE.value, "attemptCount": attempt, "runnableAt": now_ms,
                                "statusReason": reason, "attempts": attempts})
    else:
        children.end(index, Ended(ended.state is JobState.SUCCEEDED, attempt,
                                  seen.record["container"].get("exitCode"), reason))


def _waiting_child(cycle: ArrayCycle, children: _Children, index: int, record: dict[str, Any],
                   pods: dict[str, Obj], gate: Gate, jobs: JobIndex, world: World, *, now_ms: int) -> None:
    job = cycle.job
    attempt = int(record.get("attemptCount") or 0) + 1
    pod = pods.get(pod_name(job_name=meta(job)["name"], attempt=attempt, array_index=index))
    if pod is not None:  # created by an earlier cycle: adopt it
        started = {"status": JobState.STARTING.value, "attemptCount": attempt,
                   "computeEnvironment": ce_of_pod(pod, world),
                   "attempts": record.get("attempts") or []}
        children.update(index, started)
        cycle.holdings.append(_holding(job, index, started, pod))
        return
    if gate.open:
        gate = child_gate(job, index, jobs)
    if gate.failed_on:
        children.end(index, Ended(False, attempt - 1, None, StatusReason.DEPENDENCY_FAILED.value))
        return
    if not gate.open:
        return
    cycle.candidates.append(Candidate(
        job=job, index=index, demand=job_demand(job),
        runnable_since_ms=record.get("runnableAt") or status(job).get("runnableAt"),
        admit=lambda ce: _admit_child(job, index, attempt, ce, now_ms=now_ms),
        wait=lambda wait: cycle.note_wait(wait),
    ))


def _admit_child(job: Obj, index: int, attempt: int, ce: Obj, *, now_ms: int) -> Step:
    manifest = attempt_pod(job, placement_of(ce), attempt=attempt, array_index=index)
    refused = {"status": JobState.FAILED.value, "attemptCount": attempt,
               "statusReason": StatusReason.INVALID_JOB.value, "stoppedAt": now_ms}
    return Step((CreatePod(manifest, on_invalid=job_patch(
        job, {"arrayProperties": {"children": {str(index): refused}}})),))


def _holding(job: Obj, index: int, record: dict[str, Any], pod: Obj | None) -> Holding:
    return Holding(job=job, index=index, compute_environment=record.get("computeEnvironment") or "",
                   demand=job_demand(job),
                   started_at_ms=record.get("startedAt"), pod=pod)


def _finish_parent(cycle: ArrayCycle, children: _Children, *, now_ms: int) -> None:
    job = cycle.job
    active = Counter(r["status"] for r in children.records.values() if r.get("status") in ACTIVE_STATES)
    summary = dict.fromkeys(SUMMARY_STATES, 0) | {
        JobState.SUCCEEDED.value: len(children.succeeded), JobState.FAILED.value: len(children.failed),
        JobState.STARTING.value: active[JobState.STARTING.value], JobState.RUNNING.value: active[JobState.RUNNING.value],
        JobState.RUNNABLE.value: len(cycle.candidates) + cycle.unoffered,
    }
    summary[JobState.PENDING.value] = children.size - sum(summary.values())

    fields: dict[str, Any] = {}
    done = len(children.succeeded) + len(children.failed) == children.size
    started = any(summary[s] for s in (JobState.RUNNING.value, JobState.SUCCEEDED.value))
    state = (JobState.SUCCEEDED if done and not children.failed else JobState.FAILED if done
             else JobState.PENDING)
    if started and not status(job).get("startedAt"):
        fields["startedAt"] = now_ms  # the first child start, even if every child ended before it was seen
    if state.value != status(job).get("status"):
        fields["status"] = state.value
        if done:
            fields |= _final_fields(job, children, state, now_ms=now_ms)
        cycle.actions.append(job_event(job, reason=state.value.capitalize(),
                                       message=fields.get("statusMessage") or f"array of {children.size}",
                                       warning=state is JobState.FAILED))
    array_patch = {"children": children.patch} if children.patch else {}
    array_patch |= children.ranges_patch()
    if summary != (status(job).get("arrayProperties") or {}).get("statusSummary"):
        array_patch["statusSummary"] = summary
    if array_patch:
        fields["arrayProperties"] = array_patch | {"size": children.size}
    if fields:
        cycle.actions.insert(0, job_patch(job, fields))


def _final_fields(job: Obj, children: _Children, state: JobState, *, now_ms: int) -> dict[str, Any]:
    if state is JobState.SUCCEEDED:
        return {"stoppedAt": now_ms, "statusReason": None,
                "statusMessage": f"All {children.size} child jobs succeeded"}
    reasons = Counter(outcome.reason for outcome in children.ended.values() if not outcome.succeeded and outcome.reason)
    for key, ranges in (children.array.get("reasons") or {}).items():
        reasons[key] += len(decode(ranges))
    reason = reasons.most_common(1)[0][0] if reasons else StatusReason.TASK_FAILED.value
    return {"stoppedAt": now_ms, "statusReason": reason,
            "statusMessage": f"{len(children.failed)} of {children.size} child jobs failed: "
                             f"{encode(children.failed)}"}
