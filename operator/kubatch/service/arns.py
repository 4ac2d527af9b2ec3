"""Synthetic ARNs: the identifiers AWS tools print and send back, for kubatch's named objects.

An ARN here is ``arn:aws:batch:<region>:<account>:<resource>/<id>`` with the region
and account taken from configuration (``KUBATCH_REGION``, ``KUBATCH_ACCOUNT_ID``).
Wherever AWS accepts a name or an ARN, so does kubatch: any well-formed Batch ARN of
the expected resource type is reduced to its name, whatever its region and account,
because tenancy here is the namespace, not the account.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from kubatch.service.errors import ClientException

JOB = "job"
JOB_DEFINITION = "job-definition"
JOB_QUEUE = "job-queue"
COMPUTE_ENVIRONMENT = "compute-environment"
SCHEDULING_POLICY = "scheduling-policy"

DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT = "000000000000"

_ARN = re.compile(r"^arn:aws[a-z-]*:batch:[^:]*:[^:]*:(?P<resource>[a-z-]+)/(?P<name>.+)$")


@dataclass(frozen=True, kw_only=True)
class Arns:
    region: str = DEFAULT_REGION
    account: str = DEFAULT_ACCOUNT

    @classmethod
    def from_environment(cls) -> Arns:
        return cls(region=os.environ.get("KUBATCH_REGION", DEFAULT_REGION),
                   account=os.environ.get("KUBATCH_ACCOUNT_ID", DEFAULT_ACCOUNT))

    def build(self, resource: str, name: str) -> str:
        return f"arn:aws:batch:{self.region}:{self.account}:{resource}/{name}"


def name_of(value: str, *, resource: str, field: str) -> str:
    """The name (or id) a name-or-ARN value stands for; a ClientException for another resource's ARN."""
    if not isinstance(value, str) or not value:
        raise ClientException(f"{field}: must be a non-empty string")
    if not value.startswith("arn:"):
        return value
    match = _ARN.match(value)
    if match is None or match.group("resource") != resource:
        raise ClientException(f"{field}: {value!r} is not a {resource} name or ARN")
    return match.group("name")


def parse_arn(value: str, *, field: str) -> tuple[str, str]:
    """``(resource type, name)`` of a Batch ARN; a ClientException for anything else."""
    match = _ARN.match(value) if isinstance(value, str) else None
    if match is None:
        raise ClientException(f"{field}: {value!r} is not an AWS Batch ARN (arn:aws:batch:<region>:<account>:"
                              "<resource>/<name>)")
    return match.group("resource"), match.group("name")
