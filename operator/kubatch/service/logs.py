"""``kubatch logs``: the log of a job's pod, which AWS would send to CloudWatch.

The pod of the latest attempt is read unless an attempt is named; an array job needs
a child (``job:INDEX``); a multi-node job shows its main node unless ``job#NODE``
names another. An archived job has no pods left: its log is gone, and the answer says so.
The container is ``main`` (kubatch's name for the job's container)
or, for pods written the EKS way, the first container, unless one is named.
"""

from __future__ import annotations

from kubatch.core.pods import LABEL_NODE_INDEX
from kubatch.service.children import attempt_number, selector
from kubatch.service.context import Context
from kubatch.service.archived import archived_parent
from kubatch.service.errors import ClientException, NoSuchObject
from kubatch.service.job_refs import find_job, parse_job_ref
from kubatch.service.port import Obj
from kubatch.service.shapes import job_detail

MAIN_CONTAINER = "main"


def _container(pod: Obj, wanted: str | None) -> str:
    names = [container.get("name") for container in (pod.get("spec") or {}).get("containers") or []]
    if wanted is not None:
        if wanted not in names:
            raise ClientException(f"container: pod {pod['metadata']['name']} has no container {wanted!r} "
                                  f"(it has {', '.join(names)})")
        return wanted
    return MAIN_CONTAINER if MAIN_CONTAINER in names or not names else names[0]


async def job_log(ctx: Context, *, job: str, attempt: int | None = None, container: str | None = None) -> str:
    """The log of the job's (or child's) pod for ``attempt`` (default: the latest)."""
    ref = parse_job_ref(job, field="job")
    try:
        found = await find_job(ctx, ref, field="job")
    except NoSuchObject:
        archived = await archived_parent(ctx, ref)
        if archived is None:
            raise
        raise ClientException(f"job: {job} was archived ({archived.detail['status']}) after its retention: its pods "
                              "and their logs are gone; describe-jobs still shows its record") from None
    if (found.get("spec") or {}).get("arrayProperties") and ref.array_index is None:
        raise ClientException(f"job: {job} is an array job: name one child as {ref.id}:INDEX")
    pods = await ctx.kube.list_pods(label_selector=selector(found, ref), namespace=ctx.namespace)
    if ref.node_index is None and any(LABEL_NODE_INDEX in pod["metadata"].get("labels", {}) for pod in pods):
        main = str((job_detail(found, arns=ctx.arns).get("nodeProperties") or {}).get("mainNode", 0))
        pods = [pod for pod in pods if pod["metadata"]["labels"].get(LABEL_NODE_INDEX) == main]
    if attempt is not None:
        pods = [pod for pod in pods if attempt_number(pod) == attempt]
    if not pods:
        status = (found.get("status") or {}).get("status") or "SUBMITTED"
        which = f"attempt {attempt} of {job}" if attempt is not None else job
        raise ClientException(f"job: {which} has no pod (the job is {status})")
    pod = max(pods, key=attempt_number)
    return await ctx.kube.read_pod_log(ctx.namespace, pod["metadata"]["name"],
                                       container=_container(pod, container))
