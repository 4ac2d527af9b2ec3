"""Fair-share usage is remembered in the queue's status, decays, and steers the next cycle after a restart.

AWS: a share's usage is its weighted vCPU-seconds with a half-life of shareDecaySeconds;
the share with the least usage goes first. The operator keeps it in
``status.shareUsage`` (as of ``status.shareUsageAt``) so neither a finished job nor a
restart makes it forget.
"""

from __future__ import annotations

from kubatch.core.actions import CreatePod, PatchStatus
from kubatch.core.reconcile.shareusage import SHARE_USAGE_WRITE_SECONDS

from .builders import (
    NOW_MS,
    active_job,
    compute_environment,
    node,
    plan_of,
    pod,
    queue,
    runnable_job,
    scheduling_policy,
    sized,
)

DECAY = 600  # AWS's (and kubatch's) shortest half-life


def fair_queue(**status) -> dict:
    return queue(scheduling_policy="fair", status=status or None)


def queue_patch(steps) -> dict:
    patches = [action.patch for step in steps for action in step.actions
               if isinstance(action, PatchStatus) and action.kind == "JobQueue"]
    return patches[0] if patches else {}


def started(steps) -> list[str]:
    return [action.manifest["metadata"]["labels"]["kubatch.io/job-name"]
            for step in steps for action in step.actions if isinstance(action, CreatePod)]


def waiting() -> list[dict]:
    return [runnable_job(f"{share}-job", frozen=sized(2), shareIdentifier=share) for share in ("blue", "green")]


def test_the_share_with_more_remembered_usage_waits_even_with_nothing_running() -> None:
    policy, ce = scheduling_policy(decay_seconds=DECAY), compute_environment(max_vcpus=2)
    remembered = fair_queue(shareUsage={"blue": 500.0}, shareUsageAt=NOW_MS - 5_000)
    assert started(plan_of(*waiting(), remembered, policy, ce)) == ["green-job"]
    forgotten = fair_queue()  # what an operator without a record would do: FIFO among equals
    assert started(plan_of(*waiting(), forgotten, policy, ce)) == ["blue-job"]


def test_usage_decays_with_the_policys_half_life() -> None:
    policy, ce = scheduling_policy(decay_seconds=DECAY), compute_environment(max_vcpus=2)
    old = fair_queue(shareUsage={"blue": 100.0, "green": 60.0}, shareUsageAt=NOW_MS - 2 * DECAY * 1000)
    patch = queue_patch(plan_of(*waiting(), old, policy, ce))
    assert patch["shareUsage"] == {"blue": 25.0, "green": 15.0}  # two half-lives
    assert patch["shareUsageAt"] == NOW_MS


def test_running_jobs_accrue_usage_and_the_record_is_rewritten_at_most_every_15_s() -> None:
    policy, ce = scheduling_policy(decay_seconds=DECAY, weights={"blue": 0.5}), compute_environment(max_vcpus=8)
    running = active_job("blue-run", "RUNNING", frozen=sized(2), started_ms=NOW_MS - 30_000, shareIdentifier="blue")
    fresh = fair_queue(shareUsage={}, shareUsageAt=NOW_MS - (SHARE_USAGE_WRITE_SECONDS - 1) * 1000)
    its_pod = pod(running, "Running", started_ms=NOW_MS - 30_000)
    assert "shareUsage" not in queue_patch(plan_of(running, its_pod, node(), fresh, policy, ce))
    due = fair_queue(shareUsage={}, shareUsageAt=NOW_MS - SHARE_USAGE_WRITE_SECONDS * 1000)
    usage = queue_patch(plan_of(running, its_pod, node(), due, policy, ce))["shareUsage"]
    # 2 vCPUs × weight 0.5 for the 15 s since the record, a little decayed
    assert 14.0 < usage["blue"] < 15.0


def test_a_queue_without_a_policy_keeps_no_record() -> None:
    assert "shareUsage" not in queue_patch(plan_of(*[runnable_job("j", frozen=sized(1))], queue(),
                                                  compute_environment()))
