"""How callers name a job: its id (uid), its name, an ARN, plus ``:INDEX`` or ``#NODE`` for one child.

AWS jobs are named by id; kubatch also accepts the BatchJob's name, since that is what
``kubectl get bj`` shows. ``<job>:<i>`` is child ``i`` of an array job and ``<job>#<n>``
node ``n`` of a multi-node job, as AWS writes their ids.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from kubatch.service.arns import JOB, name_of
from kubatch.service.context import Context
from kubatch.service.errors import ClientException, NoSuchObject
from kubatch.service.objects import read
from kubatch.service.port import Obj
from kubatch.service.shapes import job_id

_REF = re.compile(r"^(?P<id>[^:#]+)(?::(?P<index>[0-9]{1,5})|#(?P<node>[0-9]{1,5}))?$")
_UID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@dataclass(frozen=True, kw_only=True)
class JobRef:
    id: str
    array_index: int | None = None
    node_index: int | None = None

    @property
    def is_child(self) -> bool:
        return self.array_index is not None or self.node_index is not None


def parse_job_ref(value: Any, *, field: str) -> JobRef:
    match = _REF.match(name_of(value, resource=JOB, field=field))
    if match is None:
        raise ClientException(f"{field}: {value!r} is not a job id, name or ARN (with :INDEX or #NODE for a child)")
    index, node = match.group("index"), match.group("node")
    return JobRef(id=match.group("id"), array_index=int(index) if index is not None else None,
                  node_index=int(node) if node is not None else None)


def index_jobs(jobs: list[Obj]) -> dict[str, Obj]:
    """Jobs by id and by name."""
    return {key: job for job in jobs for key in (job_id(job), job["metadata"]["name"])}


async def find_job(ctx: Context, ref: JobRef, *, field: str) -> Obj:
    """The BatchJob ``ref`` names in the caller's namespace, or a ClientException."""
    if not _UID.match(ref.id):
        return await read(ctx, "BatchJob", ref.id, field=field)
    job = index_jobs(await ctx.kube.list("BatchJob", namespace=ctx.namespace)).get(ref.id)
    if job is None:
        raise NoSuchObject(f"{field}: BatchJob {ref.id!r} does not exist in namespace {ctx.namespace!r}")
    return job
