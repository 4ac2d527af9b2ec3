"""Finished jobs in and out of the archive, in DescribeJobs' shapes.

Writing (the operator's retention worker): ``records_of`` shapes a finished BatchJob
the way DescribeJobs prints it — the job, and each array child or multi-node node,
whose pods are read once while they still exist (node names, attempt times) — into
``kubatch.archive.Record`` rows. ARNs are written with the default region and account
and rewritten to the reader's on the way out (``relabel``), so an API configured with
another ``--region`` prints its own ARNs, as it does for live jobs.

Reading (``kubatch.service.jobs``): DescribeJobs asks the archive for the ids and names
the cluster did not have; ListJobs merges the archive's rows with the live jobs. The
paging rule across both: one order for all (newest first, then index, then id: the key
in every nextToken), the live jobs that match plus the archive's first ``maxResults + 1``
rows after the token are merged, a job found in both places (archived, not yet deleted)
is listed once, and the page is cut from the merge. A token so names a position in the
combined order, and a job moving from the cluster to the archive between two pages keeps
its place in it: it is neither repeated nor skipped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from kubatch.archive import ListQuery, Record
from kubatch.core.pods import LABEL_ARRAY_INDEX, LABEL_NODE_INDEX
from kubatch.service.arns import JOB_DEFINITION, JOB_QUEUE, Arns, name_of
from kubatch.service.array_record import ArrayRecord, array_size, is_array
from kubatch.service.children import child_detail, node_count, node_detail, selector
from kubatch.service.context import Context
from kubatch.service.errors import ClientException
from kubatch.service.job_refs import JobRef
from kubatch.service.port import Obj
from kubatch.service.shapes import job_detail, job_id

STORED_ARNS = Arns()
"""The region and account of the ARNs in archived records; readers rewrite them to their own."""
ARN_FIELDS = ("jobArn", "jobQueue", "jobDefinition")


def _prefix(arns: Arns) -> str:
    return arns.build("", "")[:-1]  # "arn:aws:batch:<region>:<account>:"


def relabel(detail: dict[str, Any], arns: Arns) -> dict[str, Any]:
    """An archived entry with its ARNs in ``arns``' region and account."""
    stored, wanted = _prefix(STORED_ARNS), _prefix(arns)
    if stored == wanted:
        return detail
    return {key: (wanted + value[len(stored):] if key in ARN_FIELDS and isinstance(value, str)
                  and value.startswith(stored) else value) for key, value in detail.items()}


def _by_label(pods: Iterable[Obj], label: str) -> dict[int, list[Obj]]:
    grouped: dict[int, list[Obj]] = {}
    for pod in pods:
        value = ((pod.get("metadata") or {}).get("labels") or {}).get(label)
        if value is not None and value.isdigit():
            grouped.setdefault(int(value), []).append(pod)
    return grouped


async def records_of(ctx: Context, job: Obj) -> list[Record]:
    """The archive rows of the finished ``job``: its DescribeJobs entry, then one per array child or node."""
    detail = job_detail(job, arns=STORED_ARNS)
    definition = name_of(detail["jobDefinition"], resource=JOB_DEFINITION, field="jobDefinition") \
        if detail.get("jobDefinition") else None
    queue = name_of(detail["jobQueue"], resource=JOB_QUEUE, field="jobQueue") if detail.get("jobQueue") else None
    namespace, name = job["metadata"]["namespace"], job["metadata"]["name"]

    def row(entry: dict[str, Any], *, parent: str | None = None, position: int = -1) -> Record:
        return Record(job_id=entry["jobId"], namespace=namespace, name=name, detail=entry, job_queue=queue,
                      job_definition=definition, parent_id=parent, position=position)

    rows = [row(detail)]
    if not (is_array(job) or node_count(job)):
        return rows
    pods = await ctx.kube.list_pods(label_selector=selector(job, JobRef(id=job_id(job))), namespace=namespace)
    uid = detail["jobId"]
    if is_array(job):
        record = ArrayRecord(job)
        by_index = _by_label(pods, LABEL_ARRAY_INDEX)
        rows += [row(child_detail(detail, record, record.child(index), pods=by_index.get(index, []),
                                  arns=STORED_ARNS), parent=uid, position=index)
                 for index in range(array_size(job))]
    else:
        by_node = _by_label(pods, LABEL_NODE_INDEX)
        rows += [row(node_detail(job, node=node, pods=by_node.get(node, []), arns=STORED_ARNS), parent=uid,
                     position=node) for node in range(node_count(job))]
    return rows


# ---------------------------------------------------------------------------- reading


def _child_id(parent_id: str, ref: JobRef) -> str | None:
    if ref.array_index is not None:
        return f"{parent_id}:{ref.array_index}"
    if ref.node_index is not None:
        return f"{parent_id}#{ref.node_index}"
    return None


async def describe_archived(ctx: Context, refs: Iterable[JobRef]) -> dict[JobRef, dict[str, Any]]:
    """The archived DescribeJobs entries of ``refs`` (jobs by id or name, or their children); absent ones left out."""
    refs = list(refs)
    if ctx.archive is None or not refs:
        return {}
    keys = sorted({ref.id for ref in refs})
    parents: dict[str, Record] = {}
    for record in await ctx.archive.get(ctx.namespace, ids=keys, names=keys):
        parents.setdefault(record.job_id, record)
        parents.setdefault(record.name, record)
    wanted = {ref: _child_id(parents[ref.id].job_id, ref) for ref in refs if ref.id in parents}
    children = {record.job_id: record
                for record in await ctx.archive.get(ctx.namespace, ids=sorted(filter(None, wanted.values())))}
    found = {}
    for ref, child in wanted.items():
        record = children.get(child) if child else parents[ref.id]
        if record is not None:
            found[ref] = relabel(record.detail, ctx.arns)
    return found


async def archived_parent(ctx: Context, ref: JobRef) -> Record | None:
    """The archived job ``ref`` names (by id or name), if any."""
    if ctx.archive is None:
        return None
    records = await ctx.archive.get(ctx.namespace, ids=[ref.id], names=[ref.id])
    return records[0] if records else None


def filter_terms(items: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """ListJobs filters (already checked by the service) as ``ListQuery`` fields."""
    terms: dict[str, Any] = {}
    for item in items:
        name, value = item["name"], str(item["values"][0])
        if name == "JOB_NAME":
            terms["name"] = value
        elif name == "JOB_DEFINITION":
            terms["definition"] = name_of(value, resource=JOB_DEFINITION, field="filters.values")
        elif name == "AFTER_CREATED_AT":
            terms["created_after"] = max(int(value), terms.get("created_after", int(value)))
        elif name == "BEFORE_CREATED_AT":
            terms["created_before"] = min(int(value), terms.get("created_before", int(value)))
    return terms


async def archived_details(ctx: Context, *, size: int, after: list[Any] | None, **query: Any) -> list[dict[str, Any]]:
    """The archive's first ``size + 1`` entries after the token key ``after`` that answer ``query`` (ListQuery
    fields), for merging with the live jobs before a page is cut."""
    if ctx.archive is None:
        return []
    try:
        key = (int(after[0]), int(after[1]), str(after[2])) if after else None
    except (TypeError, ValueError, IndexError):
        raise ClientException("nextToken: is not a token returned by this operation") from None
    records = await ctx.archive.list(ListQuery(namespace=ctx.namespace, limit=size + 1, after=key, **query))
    return [relabel(record.detail, ctx.arns) for record in records]
