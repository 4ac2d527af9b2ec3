"""Fair-share usage that outlives a cycle and a restart, kept in each fair-share queue's status.

Why: AWS Batch's fair share remembers who had the capacity (usage decays with a half-life
of ``shareDecaySeconds``). Without a record, a share whose jobs just ended would look
as idle as one that never ran, and a restarted operator would forget everything. Each
cycle advances the queue's last record (``status.shareUsage`` as of
``status.shareUsageAt``) with the units holding capacity now, and schedules with the
result; the record itself is rewritten at most every ``SHARE_USAGE_WRITE_SECONDS``, so
a restart loses at most that long of the usage of jobs that ended in between.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kubatch.core import scheduling as sched
from kubatch.core.reconcile.admission import scheduler_policy, scheduler_queue
from kubatch.core.reconcile.world import Obj, World, spec, status

SHARE_USAGE_WRITE_SECONDS = 15


@dataclass(frozen=True)
class ShareUsage:
    """Each fair-share queue's usage now, by share identifier (vCPU-seconds × weightFactor)."""

    by_queue: Mapping[str, Mapping[str, float]]

    def for_scheduler(self) -> dict[sched.ShareKey, float]:
        return {(queue, share): usage for queue, shares in self.by_queue.items() for share, usage in shares.items()}

    def status_fields(self, queue: Obj, *, now_ms: int) -> dict[str, Any]:
        """The record to write into the queue's status: nothing while the last one is recent."""
        name = queue["metadata"]["name"]
        if name not in self.by_queue:
            return {}
        written_at = status(queue).get("shareUsageAt")
        if written_at is not None and now_ms - written_at < SHARE_USAGE_WRITE_SECONDS * 1000:
            return {}
        usage = {share: round(value, 3) for share, value in sorted(self.by_queue[name].items())}
        if not usage and not status(queue).get("shareUsage"):
            return {}
        return {"shareUsage": usage, "shareUsageAt": now_ms}


def current_share_usage(world: World, admitted: Sequence[sched.AdmittedUnit], *, now_ms: int) -> ShareUsage:
    """Every fair-share queue's record advanced to ``now_ms`` with what runs in it."""
    now = now_ms / 1000
    by_queue: dict[str, dict[str, float]] = {}
    for name, queue in world.queues.items():
        policy = world.scheduling_policies.get(spec(queue).get("schedulingPolicy") or "")
        if policy is None:
            continue
        record = status(queue).get("shareUsage") or {}
        written_at = status(queue).get("shareUsageAt")
        advanced = sched.advance_share_usage(
            snapshot=sched.Snapshot(
                now=now, compute_environments=(), job_queues=(scheduler_queue(queue),),
                scheduling_policies=(scheduler_policy(policy),),
                admitted=tuple(unit for unit in admitted if unit.queue == name),
                share_usage={(name, share): float(usage) for share, usage in record.items()},
            ),
            since=written_at / 1000 if written_at is not None else now,
        )
        by_queue[name] = {share: usage for (_, share), usage in advanced.items()}
    return ShareUsage(by_queue=by_queue)
