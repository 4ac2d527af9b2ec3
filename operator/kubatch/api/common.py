"""Small types several kinds share: names, enumerations, key/value pairs, conditions.

AWS identifies resources by name or ARN; kubatch by Kubernetes object name, so every
reference is checked against Kubernetes' own name syntax at the door instead of
failing later as a missing object.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, create_model

from kubatch.api.base import KubeModel, Rule
from kubatch.states import COUNTED_AS, JOB_STATES

DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
DNS_SUBDOMAIN_MAX = 253

ObjectName = Annotated[str, Field(min_length=1, max_length=DNS_SUBDOMAIN_MAX, pattern=DNS_SUBDOMAIN)]
"""A Kubernetes object name (DNS subdomain), as used for references between kubatch objects."""

EpochMillis = Annotated[int, Field(ge=0)]
"""A point in time as milliseconds since the Unix epoch, as the AWS APIs print times."""

State = Literal["ENABLED", "DISABLED"]
"""Whether a queue or compute environment takes new work."""

ResourceStatus = Literal["CREATING", "UPDATING", "DELETING", "DELETED", "VALID", "INVALID"]
"""Health of a queue or compute environment as AWS reports it."""

JobStatus = Literal[JOB_STATES]  # type: ignore[valid-type]  # the names of `kubatch.states.JobState`
"""The seven states of AWS Batch's job life cycle."""

LabelMap = Annotated[dict[str, Annotated[str, Field(max_length=63)]], Field(max_length=64)]
"""Kubernetes labels: keys and values as in Pod metadata."""

AWS_BATCH_PREFIX = "AWS_BATCH"
ENV_NAME = r"^[-._a-zA-Z][-._a-zA-Z0-9]*$"


class KeyValuePair(KubeModel):
    """An environment variable of the job's container."""

    rules = (
        Rule(
            f"!self.name.startsWith('{AWS_BATCH_PREFIX}')",
            "environment[].name must not start with AWS_BATCH: those variables are set by kubatch",
            lambda kv: not kv.name.startswith(AWS_BATCH_PREFIX),
            field_path=".name",
            reason="FieldValueInvalid",
        ),
    )

    name: str = Field(
        min_length=1,
        max_length=256,
        pattern=ENV_NAME,
        description=(
            "Name of the environment variable. Names starting with AWS_BATCH are reserved for the variables kubatch "
            "sets."
        ),
    )
    value: str | None = Field(
        default=None,
        max_length=32768,
        description="Value of the environment variable (empty when absent).",
    )


StatusSummary = create_model(
    "StatusSummary",
    __base__=KubeModel,
    __doc__="How many jobs are in each state.",
    __module__=__name__,
    **{state.value: (int, Field(default=0, ge=0, description=meaning)) for state, meaning in COUNTED_AS.items()},
)
"""How many jobs are in each state: one field per `JobState`, so a new state cannot be forgotten here."""


class Condition(KubeModel):
    """A Kubernetes condition, so `kubectl wait --for=condition=...` works on kubatch objects."""

    type: str = Field(max_length=316, description="Type of the condition, e.g. Succeeded.")
    status: Literal["True", "False", "Unknown"] = Field(
        description="Whether the condition holds: True, False or Unknown."
    )
    reason: str | None = Field(default=None, max_length=1024, description="A CamelCase code for the last transition.")
    message: str | None = Field(
        default=None, max_length=32768, description="Human-readable details of the last transition."
    )
    lastTransitionTime: str | None = Field(
        default=None,
        json_schema_extra={"format": "date-time"},
        description="When the condition last changed status (RFC 3339, as Kubernetes conditions are).",
    )
    observedGeneration: int | None = Field(
        default=None, ge=0, description="The metadata.generation the condition was computed from."
    )


class Toleration(KubeModel):
    """A Kubernetes toleration added to the pods of the compute environment."""

    key: str | None = Field(
        default=None,
        max_length=317,
        description="Taint key the toleration matches; empty with operator Exists matches all taints.",
    )
    operator: Literal["Exists", "Equal"] | None = Field(default=None, description="Exists or Equal (default Equal).")
    value: str | None = Field(
        default=None, max_length=63, description="Taint value the toleration matches (with operator Equal)."
    )
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = Field(
        default=None, description="Taint effect to match; empty matches all effects."
    )
    tolerationSeconds: int | None = Field(
        default=None, description="For NoExecute taints: how long the pod stays bound after the taint appears."
    )


class LabelSelectorRequirement(KubeModel):
    """One label condition of a selector."""

    key: str = Field(max_length=317, description="The label key the requirement applies to.")
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist"] = Field(description="In, NotIn, Exists or DoesNotExist.")
    values: list[Annotated[str, Field(max_length=63)]] | None = Field(
        default=None, max_length=64, description="Label values for In and NotIn; empty for Exists and DoesNotExist."
    )


class LabelSelector(KubeModel):
    """A Kubernetes label selector: all given requirements must hold."""

    matchLabels: LabelMap | None = Field(default=None, description="Labels that must all be present with these values.")
    matchExpressions: list[LabelSelectorRequirement] | None = Field(
        default=None, max_length=32, description="Label requirements that must all hold."
    )
