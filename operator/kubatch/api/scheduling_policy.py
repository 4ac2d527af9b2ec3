"""SchedulingPolicy: fair share between share identifiers of a queue (CreateSchedulingPolicy).

Semantics are AWS's: a lower weight factor means a larger share; usage is
vCPU-seconds times the weight, decayed over `shareDecaySeconds`.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, field_validator

from kubatch.api.base import AGE, CrdNames, KubeModel, PrinterColumn, Resource, Rule, StatusModel
from kubatch.kinds import SCHEDULING_POLICY

SHARE_IDENTIFIER_MAX = 255
WEIGHT_MIN, WEIGHT_MAX = 0.0001, 999.9999

# The OpenAPI bounds alone are not enough: when the JSON value is a whole number the API
# server compares it with the bounds truncated to integers (0 and 999), so `weightFactor: 0`
# would pass. The CEL rule compares as doubles.
WEIGHT_IN_RANGE = Rule(
    f"self >= {WEIGHT_MIN} && self <= {WEIGHT_MAX}",
    f"weightFactor must be between {WEIGHT_MIN} and {WEIGHT_MAX}",
    lambda w: WEIGHT_MIN <= w <= WEIGHT_MAX,
    reason="FieldValueInvalid",
)


class ShareAttributes(KubeModel):
    """The weight of one share identifier (or a prefix of them)."""

    shareIdentifier: str = Field(
        min_length=1,
        max_length=SHARE_IDENTIFIER_MAX + 1,
        pattern=r"^[A-Za-z0-9_]{0,255}\*?$",
        description=(
            "Share identifier of jobs (letters, digits, '_', up to 255); may end in '*' to cover all identifiers "
            "with that prefix."
        ),
    )
    weightFactor: Annotated[float, Field(ge=WEIGHT_MIN, le=WEIGHT_MAX), WEIGHT_IN_RANGE] | None = Field(
        default=None,
        description=(
            "0.0001 to 999.9999 (default 1): a lower weight gives the identifier a larger share of the capacity."
        ),
    )


class FairsharePolicy(KubeModel):
    """How capacity is shared between share identifiers."""

    shareDecaySeconds: int | None = Field(
        default=None,
        ge=0,
        le=604800,
        description=(
            "Seconds over which past usage counts, 0 to 604800 (one week): usage this old counts half. "
            "0 means AWS's minimum window, 600 seconds."
        ),
    )
    computeReservation: int | None = Field(
        default=None,
        ge=0,
        le=99,
        description=(
            "0 to 99: percentage of the queue's maximum vCPUs kept free for share identifiers that have no running "
            "jobs yet, as AWS computes it ((computeReservation/100)^activeShareIdentifiers)."
        ),
    )
    shareDistribution: list[ShareAttributes] | None = Field(
        default=None,
        max_length=500,
        description=(
            "Weights of share identifiers; identifiers not listed have weight 1. Entries must not overlap "
            "(not UserA* beside UserA1), as AWS requires; the CLI and HTTP API refuse overlaps."
        ),
    )

    @field_validator("shareDistribution")
    @classmethod
    def _no_overlaps(cls, entries: list[ShareAttributes] | None) -> list[ShareAttributes] | None:
        """AWS refuses share identifiers that overlap. There is no CEL twin: comparing 500
        entries pairwise is over the API server's CEL cost budget, so an overlapping policy
        applied with kubectl is resolved as documented (exact identifier, else longest prefix)."""
        for later, entry in enumerate(entries or ()):
            for earlier in range(later):
                if _overlap(entries[earlier].shareIdentifier, entry.shareIdentifier):
                    raise ValueError(f"fairsharePolicy.shareDistribution[{later}].shareIdentifier: {entry.shareIdentifier!r} overlaps "
                                     f"shareDistribution[{earlier}] {entries[earlier].shareIdentifier!r}; share "
                                     f"identifiers must not overlap")
        return entries


def _overlap(one: str, other: str) -> bool:
    """Whether two share identifiers (either may be a `prefix*`) can name the same share."""
    if one == other:
        return True
    for pattern, identifier in ((one, other), (other, one)):
        if pattern.endswith("*") and identifier.rstrip("*").startswith(pattern[:-1]):
            return True
    return False


class SchedulingPolicySpec(KubeModel):
    """A fair-share policy a JobQueue can name."""

    fairsharePolicy: FairsharePolicy | None = Field(default=None, description="The fair-share parameters.")


class SchedulingPolicyStatus(StatusModel):
    """Bookkeeping of the operator."""

    observedGeneration: int | None = Field(default=None, description="The metadata.generation this status reflects.")


class SchedulingPolicy(Resource):
    """A fair-share scheduling policy for job queues (AWS Batch scheduling policy)."""

    crd: ClassVar[CrdNames] = CrdNames(
        kind=SCHEDULING_POLICY,
        columns=(
            PrinterColumn("Share-Decay", ".spec.fairsharePolicy.shareDecaySeconds", "integer", "seconds"),
            AGE,
        ),
    )

    kind: Literal["SchedulingPolicy"] = "SchedulingPolicy"
    spec: SchedulingPolicySpec = Field(default_factory=SchedulingPolicySpec)
    status: SchedulingPolicyStatus = Field(default_factory=SchedulingPolicyStatus)
