"""``kubatch wait`` and ``submit-job --wait``: follow a job until it reaches a state.

Polling rather than a watch: a job changes state a handful of times, one GET every
few seconds costs nothing, and it needs only read access. ``progress`` is called with
the job's DescribeJobs entry whenever its status, reason, message or array counts
change, so front ends can show what the job is waiting for.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Collection
from typing import Any

from kubatch.service.context import Context
from kubatch.service.job_refs import find_job, parse_job_ref
from kubatch.service.jobs import describe_one
from kubatch.states import TERMINAL_STATES


def _seen(detail: dict[str, Any]) -> tuple[Any, ...]:
    return (detail.get("status"), detail.get("statusReason"), detail.get("statusMessage"),
            str((detail.get("arrayProperties") or {}).get("statusSummary")))


async def wait_for_job(ctx: Context, *, job: str, until: Collection[str], timeout: float | None,
                       progress: Callable[[dict[str, Any]], None], interval: float = 2.0,
                       sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> dict[str, Any]:
    """The job's DescribeJobs entry once its status is in ``until`` or final, or when ``timeout`` seconds passed."""
    ref = parse_job_ref(job, field="job")
    found = await find_job(ctx, ref, field="job")
    name = found["metadata"]["name"]
    deadline = None if timeout is None else time.monotonic() + timeout
    last = None
    while True:
        detail = await describe_one(ctx, found, ref)
        if _seen(detail) != last:
            progress(detail)
            last = _seen(detail)
        if detail["status"] in until or detail["status"] in TERMINAL_STATES:
            return detail
        if deadline is not None and time.monotonic() >= deadline:
            return detail
        await sleep(interval)
        found = await ctx.kube.get("BatchJob", name, namespace=ctx.namespace)
