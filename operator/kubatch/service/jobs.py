"""SubmitJob, DescribeJobs, ListJobs, CancelJob, TerminateJob.

SubmitJob creates a BatchJob whose spec is the request (ARNs reduced to names) after
checking it with the API model, that the queue takes it (the planner's own rules, in
``kubatch.core.targets``) and that the definition exists, so mistakes fail at once with a ClientException instead of an InvalidJob later. AWS
job names are not unique, Kubernetes names are: the object is named after the job
(lowercased, ``_`` as ``-``), with a random suffix when that name is taken, and the
AWS name is kept in an annotation when it differs. The job id is the object's uid.

Cancel and terminate write a request into the job's spec; the operator acts on it.
A job id nobody has (or another namespace's) is a success with an empty answer, as on
AWS.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from typing import Any

from kubatch.api import BatchJobSpec, StopRequest
from kubatch.archive import Record
from kubatch.core.targets import TargetError, check_queue
from kubatch.core.definition import InvalidJobError, resolve_job
from kubatch.kube.client import ApiError
from kubatch.service.archived import archived_details, archived_parent, describe_archived, filter_terms
from kubatch.service.arns import JOB, JOB_DEFINITION, JOB_QUEUE, name_of
from kubatch.service.children import (describe_child, has_child, node_count, node_detail, node_details, page_children,
                                      selector)
from kubatch.service.context import Context
from kubatch.service.definitions import peek_definition, reference, resolve_definition
from kubatch.service.errors import ClientException, NoSuchObject, ServerException
from kubatch.service.fields import (
    INSTANCES,
    drop_aws_only,
    model_fields,
    pick,
    refuse,
    refuse_unknown,
    require,
    validated,
)
from kubatch.service.job_refs import JobRef, find_job, index_jobs, parse_job_ref
from kubatch.service.objects import CONFLICT, read
from kubatch.service.paging import page, page_size, token_key
from kubatch.service.port import Obj
from kubatch.service.shapes import JOB_NAME_ANNOTATION, current_revision, job_detail, job_summary, present
from kubatch.states import JOB_STATES

KIND = "BatchJob"
SPEC_FIELDS = model_fields(BatchJobSpec, excluding=["cancelRequest", "terminateRequest"])
AWS_ONLY = {
    "containerOverrides.instanceType": INSTANCES,
    "nodeOverrides.nodePropertyOverrides[].containerOverrides.instanceType": INSTANCES,
    "nodeOverrides.nodePropertyOverrides[].instanceTypes": INSTANCES,
    "consumableResourcePropertiesOverride": "consumable resources are not modelled; use resourceRequirements",
}
UNSUPPORTED = {"ecsPropertiesOverride": "use containerOverrides or eksPropertiesOverride"}
JOB_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")
DESCRIBE_MAX = 100
LIST_LIMIT = 1000
FORBIDDEN = 403
NAME_ATTEMPTS = 5


def _dependencies(values: Any) -> Any:
    """``dependsOn`` with job ARNs reduced to ids (anything else is left for the model to judge)."""
    if not isinstance(values, list):
        return values
    return [{**item, "jobId": name_of(item["jobId"], resource=JOB, field=f"dependsOn[{index}].jobId")}
            if isinstance(item, dict) and item.get("jobId") is not None else item
            for index, item in enumerate(values)]


async def _check_target(ctx: Context, spec: dict[str, Any]) -> None:
    """The queue takes the job (``core.targets``' rules), the definition (and revision) exists.

    Skipped where RBAC forbids reading them; the operator checks again when the job arrives.
    """
    try:
        queue = await read(ctx, "JobQueue", spec["jobQueue"], field="jobQueue")
        try:
            check_queue(spec["jobQueue"], queue, share_identifier=spec.get("shareIdentifier"))
        except TargetError as error:
            raise ClientException(f"{error.field}: {error.detail}") from None
        ref = reference(spec["jobDefinition"], field="jobDefinition")
        definition = await read(ctx, "JobDefinition", ref.name, field="jobDefinition")
    except ApiError as error:
        if error.status != FORBIDDEN:
            raise
        return
    kept = {int(item.get("revision") or 0) for item in (definition.get("status") or {}).get("revisions") or []}
    latest = current_revision(definition)
    if ref.revision is not None and ref.revision != latest and ref.revision not in kept:
        raise ClientException(f"jobDefinition: revision {ref.revision} of {ref.name!r} does not exist "
                              f"(latest is {latest})")


async def _pinned(ctx: Context, spec: dict[str, Any]) -> dict[str, Any]:
    """``spec`` naming its definition as ``name:revision``: the revision is chosen now, as AWS freezes it at
    SubmitJob (a bare name: the latest ACTIVE one), so DescribeJobs can show it at once and a later
    registration cannot change what the job runs. Left as given where RBAC forbids reading definitions."""
    ref = reference(spec["jobDefinition"], field="jobDefinition")
    try:
        definition_spec, revision = await resolve_definition(ctx, ref, field="jobDefinition")
    except ApiError as error:
        if error.status != FORBIDDEN:
            raise
        return spec
    pinned = {**spec, "jobDefinition": f"{ref.name}:{revision}"}
    try:
        resolve_job(job_spec=pinned, definition_spec=definition_spec, revision=revision)  # as the operator will
    except InvalidJobError as error:
        raise ClientException(str(error)) from None
    return pinned


async def _as_resolved(ctx: Context, job: Obj) -> Obj:
    """The job as DescribeJobs shows it: until the operator has frozen its definition into the status, the
    revision the job names, resolved here the same way (the operator still checks it)."""
    status = job.get("status") or {}
    if status.get("resolvedDefinition") or not (job.get("spec") or {}).get("jobDefinition"):
        return job
    try:
        ref = reference(job["spec"]["jobDefinition"], field="jobDefinition")
        found = await peek_definition(ctx, ref, field="jobDefinition")
        if found is None:
            return job
        resolved = resolve_job(job_spec=job["spec"], definition_spec=found[0], revision=found[1])
    except (ClientException, ServerException, InvalidJobError, ApiError):
        return job  # the operator will say what is wrong
    return {**job, "status": {**status, "resolvedDefinition": resolved}}


def _object_name(job_name: str) -> str:
    return job_name.lower().replace("_", "-").rstrip("-")


async def _create(ctx: Context, *, job_name: str, spec: dict[str, Any]) -> Obj:
    base = _object_name(job_name)
    name = base
    for _ in range(NAME_ATTEMPTS):
        metadata: dict[str, Any] = {"name": name}
        if name != job_name:
            metadata["annotations"] = {JOB_NAME_ANNOTATION: job_name}
        try:
            return await ctx.kube.create(KIND, {"metadata": metadata, "spec": spec}, namespace=ctx.namespace)
        except ApiError as error:
            if error.status != CONFLICT:
                raise
        name = f"{base}-{secrets.token_hex(3)[:5]}"
    raise ClientException(f"jobName: no free object name found for {job_name!r}")


async def submit_job(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    refuse(request, UNSUPPORTED)
    request = drop_aws_only(ctx, request, AWS_ONLY)
    refuse_unknown(request, {"jobName", *SPEC_FIELDS})
    require(request, "jobName", "jobQueue", "jobDefinition")
    job_name = request["jobName"]
    if not isinstance(job_name, str) or not JOB_NAME.match(job_name):
        raise ClientException(f"jobName: {job_name!r} must be 1 to 128 letters, digits, '-' and '_', starting with a "
                              "letter or digit")
    spec = validated(BatchJobSpec, {
        **pick(request, SPEC_FIELDS),
        "jobQueue": name_of(request["jobQueue"], resource=JOB_QUEUE, field="jobQueue"),
        "jobDefinition": name_of(request["jobDefinition"], resource=JOB_DEFINITION, field="jobDefinition"),
        "dependsOn": _dependencies(request.get("dependsOn")),
    })
    await _check_target(ctx, spec)
    job = await _create(ctx, job_name=job_name, spec=await _pinned(ctx, spec))
    uid = job["metadata"]["uid"]
    return {"jobArn": ctx.arns.build(JOB, uid), "jobName": job_name, "jobId": uid}


async def describe_one(ctx: Context, job: Obj, ref: JobRef, *, jobs: list[Obj] | None = None) -> dict[str, Any]:
    """The DescribeJobs entry of the job, or of the child ``ref`` names (``jobs``: the namespace's, if at hand)."""
    if ref.array_index is not None:
        return await describe_child(ctx, job, ref.array_index, jobs=jobs)
    if ref.node_index is None:
        return job_detail(await _as_resolved(ctx, job), arns=ctx.arns)
    pods = await ctx.kube.list_pods(label_selector=selector(job, ref), namespace=ctx.namespace)
    return node_detail(job, node=ref.node_index, pods=pods, arns=ctx.arns)


def _exists(jobs: dict[str, Obj], ref: JobRef) -> bool:
    """Whether ``ref`` names a job of ``jobs``, or a child that job has (AWS leaves unknown ids out)."""
    job = jobs.get(ref.id)
    if job is None:
        return False
    if ref.array_index is not None:
        return has_child(job, ref.array_index)
    return ref.node_index is None or 0 <= ref.node_index < node_count(job)


async def describe_jobs(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    refuse_unknown(request, {"jobs"})
    require(request, "jobs")
    values = request["jobs"]
    if not isinstance(values, list) or len(values) > DESCRIBE_MAX:
        raise ClientException(f"jobs: must be a list of 1 to {DESCRIBE_MAX} job ids")
    refs = [parse_job_ref(value, field="jobs") for value in values]
    listed = await ctx.kube.list(KIND, namespace=ctx.namespace)
    jobs = index_jobs(listed)
    archived = await describe_archived(ctx, [ref for ref in refs if ref.id not in jobs])
    return {"jobs": [await describe_one(ctx, jobs[ref.id], ref, jobs=listed) if ref.id in jobs else archived[ref]
                     for ref in refs if _exists(jobs, ref) or ref in archived]}


Predicate = Callable[[dict[str, Any]], bool]


def _matches(text: str, pattern: str) -> bool:
    return text.startswith(pattern[:-1]) if pattern.endswith("*") else text == pattern


def _filter(item: Any) -> Predicate:
    """A predicate on DescribeJobs entries for one ListJobs filter (``{"name": …, "values": [one value]}``)."""
    if not isinstance(item, dict) or not isinstance(item.get("values"), list) or len(item["values"]) != 1:
        raise ClientException("filters: each filter is {name, values} with exactly one value")
    name, value = item.get("name"), str(item["values"][0])
    if name == "JOB_NAME":
        return lambda detail: _matches(detail["jobName"].lower(), value.lower())
    if name == "JOB_DEFINITION":
        wanted = name_of(value, resource=JOB_DEFINITION, field="filters.values")

        def by_definition(detail: dict[str, Any]) -> bool:
            actual = name_of(detail.get("jobDefinition") or "-", resource=JOB_DEFINITION, field="jobDefinition")
            return _matches(actual if ":" in wanted else actual.split(":")[0], wanted)

        return by_definition
    if name in ("BEFORE_CREATED_AT", "AFTER_CREATED_AT"):
        if not value.isdigit():
            raise ClientException(f"filters: {name} takes epoch milliseconds, not {value!r}")
        sign = 1 if name == "AFTER_CREATED_AT" else -1
        return lambda detail: sign * ((detail.get("createdAt") or 0) - int(value)) > 0
    raise ClientException(f"filters: unknown filter {name!r} (JOB_NAME, JOB_DEFINITION, BEFORE_CREATED_AT, "
                          "AFTER_CREATED_AT)")


def _order(detail: dict[str, Any]) -> list[Any]:
    """Newest first; nodes by index."""
    index = (detail.get("arrayProperties") or {}).get("index", (detail.get("nodeDetails") or {}).get("nodeIndex", -1))
    return [-(detail.get("createdAt") or 0), index, detail["jobId"]]


def _scope(request: dict[str, Any]) -> str | None:
    scopes = [field for field in ("jobQueue", "arrayJobId", "multiNodeJobId") if request.get(field)]
    if len(scopes) > 1:
        raise ClientException("give only one of jobQueue, arrayJobId and multiNodeJobId")
    return scopes[0] if scopes else None


async def _parent(ctx: Context, request: dict[str, Any], field: str) -> Obj:
    return await find_job(ctx, parse_job_ref(request[field], field=field), field=field)


async def _candidates(ctx: Context, request: dict[str, Any], scope: str | None) -> list[dict[str, Any]]:
    if scope == "multiNodeJobId":
        return await node_details(ctx, await _parent(ctx, request, scope))
    jobs = await ctx.kube.list(KIND, namespace=ctx.namespace)
    if scope:
        queue = name_of(request["jobQueue"], resource=JOB_QUEUE, field="jobQueue")
        jobs = [job for job in jobs if (job.get("spec") or {}).get("jobQueue") == queue]
    return [job_detail(job, arns=ctx.arns) for job in jobs]


async def _archived_candidates(ctx: Context, request: dict[str, Any], scope: str | None, *, status: str | None,
                               parent_id: str | None = None) -> list[dict[str, Any]]:
    """The archive's part of a ListJobs answer, to merge with the live jobs (rule: kubatch.service.archived)."""
    queue = name_of(request["jobQueue"], resource=JOB_QUEUE, field="jobQueue") if scope == "jobQueue" else None
    return await archived_details(ctx, size=page_size(request, limit=LIST_LIMIT), after=token_key(request),
                                  job_queue=queue, parent_id=parent_id, status=status,
                                  **filter_terms(request.get("filters") or []))


async def _list_archived_units(ctx: Context, request: dict[str, Any], parent: Record, *, status: str | None,
                               keep: Predicate) -> dict[str, Any]:
    """ListJobs of the children or nodes of an array or multi-node job that is only in the archive."""
    details = [detail for detail in await _archived_candidates(ctx, request, None, status=status,
                                                                parent_id=parent.job_id) if keep(detail)]
    chosen, token = page(details, request=request, key=_order, limit=LIST_LIMIT)
    return present({"jobSummaryList": [job_summary(detail) for detail in chosen], "nextToken": token})


def _once(details: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each job once: one archived and not yet deleted is in both lists, with the same entry."""
    return list({detail["jobId"]: detail for detail in details}.values())


async def _archived_parent(ctx: Context, request: dict[str, Any], scope: str) -> Record | None:
    """The archived array or multi-node job ``scope`` names once the cluster no longer has it; None while it does."""
    if ctx.archive is None:
        return None
    try:
        await _parent(ctx, request, scope)
        return None
    except NoSuchObject:
        parent = await archived_parent(ctx, parse_job_ref(request[scope], field=scope))
        if parent is None:
            raise
        return parent


async def list_jobs(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    """AWS's rules: without a status or filter only RUNNING jobs are listed; with a filter, every status."""
    refuse_unknown(request, {"jobQueue", "arrayJobId", "multiNodeJobId", "jobStatus", "maxResults", "nextToken",
                             "filters"})
    filters = [_filter(item) for item in request.get("filters") or []]
    status = request.get("jobStatus")
    if status is not None and status not in JOB_STATES:
        raise ClientException(f"jobStatus: must be one of {', '.join(JOB_STATES)}")
    if status is None and not filters:
        status = "RUNNING"
    scope = _scope(request)
    keep = lambda detail: all(match(detail) for match in filters)  # noqa: E731
    archived = await _archived_parent(ctx, request, scope) if scope in ("arrayJobId", "multiNodeJobId") else None
    if archived is not None:
        return await _list_archived_units(ctx, request, archived, status=None if filters else status, keep=keep)
    if scope == "arrayJobId":
        chosen, token = await page_children(ctx, await _parent(ctx, request, scope), request=request,
                                            status=None if filters else status, limit=LIST_LIMIT,
                                            keep=keep)
        return present({"jobSummaryList": [job_summary(detail) for detail in chosen], "nextToken": token})
    details = [detail for detail in await _candidates(ctx, request, scope)
               if (filters or status == detail["status"]) and keep(detail)]
    if scope != "multiNodeJobId":
        details = _once(details + [detail for detail in await _archived_candidates(
            ctx, request, scope, status=None if filters else status) if keep(detail)])
    chosen, token = page(details, request=request, key=_order, limit=LIST_LIMIT)
    return present({"jobSummaryList": [job_summary(detail) for detail in chosen], "nextToken": token})


async def _stop(ctx: Context, request: dict[str, Any], *, field: str) -> dict[str, Any]:
    refuse_unknown(request, {"jobId", "reason"})
    require(request, "jobId", "reason")
    ref = parse_job_ref(request["jobId"], field="jobId")
    if ref.is_child:
        raise ClientException(f"jobId: kubatch stops array and multi-node jobs as a whole: name {ref.id}")
    stop = validated(StopRequest, {"reason": request["reason"]})
    try:
        job = await find_job(ctx, ref, field="jobId")
    except NoSuchObject:
        return {}  # AWS answers an unknown job id with success and nothing to say
    if not (job.get("spec") or {}).get(field):
        await ctx.kube.patch(KIND, job["metadata"]["name"], {"spec": {field: stop}}, namespace=ctx.namespace)
    return {}


async def cancel_job(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    return await _stop(ctx, request, field="cancelRequest")


async def terminate_job(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    return await _stop(ctx, request, field="terminateRequest")


BULK_LIMIT = 50


async def _stop_each(ctx: Context, request: dict[str, Any], *, field: str) -> dict[str, Any]:
    """CancelJobs and TerminateJobs: each job on its own; jobs that do not exist count as done, as in AWS."""
    refuse_unknown(request, {"jobs", "reason"})
    require(request, "jobs", "reason")
    jobs = request["jobs"]
    if not isinstance(jobs, list) or not 1 <= len(jobs) <= BULK_LIMIT or not all(isinstance(j, str) for j in jobs):
        raise ClientException(f"jobs: must be a list of 1 to {BULK_LIMIT} job ids")
    successful: list[str] = []
    errors: list[dict[str, str]] = []
    for value in jobs:
        try:
            await _stop(ctx, {"jobId": value, "reason": request["reason"]}, field=field)
        except NoSuchObject:
            pass
        except ClientException as error:
            errors.append({"job": value, "code": error.code, "message": error.message})
            continue
        successful.append(value)
    return {"successful": successful, "errors": errors}


async def cancel_jobs(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    return await _stop_each(ctx, request, field="cancelRequest")


async def terminate_jobs(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    return await _stop_each(ctx, request, field="terminateRequest")
