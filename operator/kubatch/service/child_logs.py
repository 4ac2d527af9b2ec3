"""``kubatch logs JOB:INDEX``: the log of an array child's current or last attempt.

Why the record picks the attempt: the child's pods are not all there — the operator
removes the pods of retried attempts (``--pod-retention``), and a pod of an older
attempt may outlive the newest one's. The parent's record says which attempt is the
child's latest (``kubatch.service.array_record``), so that is the pod read unless
``--attempt`` names another, and a pod that is gone is reported as gone, not replaced
by an older one. Jobs that are not array children are ``kubatch.service.logs``'s.
"""

from __future__ import annotations

from kubatch.service.children import array_record, attempt_number, selector
from kubatch.service.context import Context
from kubatch.service.errors import ClientException
from kubatch.service.job_refs import find_job, parse_job_ref
from kubatch.service.logs import job_log


async def log(ctx: Context, *, job: str, attempt: int | None = None, container: str | None = None) -> str:
    """The log of ``job``'s pod for ``attempt`` (default: the latest); ``job`` may name an array child."""
    ref = parse_job_ref(job, field="job")
    if ref.array_index is None:
        return await job_log(ctx, job=job, attempt=attempt, container=container)
    parent = await find_job(ctx, ref, field="job")
    record = await array_record(ctx, parent)
    child = record.child(ref.array_index)
    pods = await ctx.kube.list_pods(label_selector=selector(parent, ref), namespace=ctx.namespace)
    latest = max([child.made, *(attempt_number(pod) for pod in pods)])
    if latest == 0:
        raise ClientException(f"job: {job} has not started an attempt yet (it is {child.status})")
    wanted = latest if attempt is None else attempt
    if not 1 <= wanted <= latest:
        raise ClientException(f"job: {job} has no attempt {wanted} (its attempts are 1 to {latest})")
    if not any(attempt_number(pod) == wanted for pod in pods):
        raise ClientException(f"job: the pod of attempt {wanted} of {job}, "
                              f"{record.pod_name(ref.array_index, wanted)}, is gone (the child is {child.status}; "
                              "the operator's --pod-retention decides which pods stay)")
    return await job_log(ctx, job=job, attempt=wanted, container=container)
