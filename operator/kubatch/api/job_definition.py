"""JobDefinition: the blueprint of a job (RegisterJobDefinition).

Every registration or change of the spec is a new revision, kept in `status.revisions`
(`kubatch.core.reconcile.definitions`); a job names `def` (the latest ACTIVE revision) or
`def:3`. The definition must describe exactly one way to run: a
container, a pod (`eksProperties`) or, for `multinode`, node ranges.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field

from kubatch.api.base import AGE, CrdNames, KubeModel, PrinterColumn, Resource, Rule, StatusModel
from kubatch.api.container import ContainerProperties
from kubatch.api.eks import EksProperties
from kubatch.api.multinode import NodeProperties
from kubatch.api.retry import JobTimeout, RetryStrategy
from kubatch.kinds import JOB_DEFINITION

FARGATE_MAX_VCPUS = 16
FARGATE_MAX_MEMORY_MIB = 120 * 1024  # 120 GiB

Parameters = Annotated[
    dict[str, Annotated[str, Field(max_length=32768)]],
    Field(max_length=256, description="Default values of the `Ref::name` placeholders in the command."),
]
Tags = Annotated[
    dict[str, Annotated[str, Field(max_length=256)]],
    Field(max_length=50, description="Key/value tags; with propagateTags they are copied to the job's pods."),
]
PropagateTags = Annotated[bool, Field(description="Copy the tags (the job's over the definition's) to the job's pods.")]
SchedulingPriority = Annotated[
    int,
    Field(ge=0, le=9999, description="0 to 9999; within a fair-share queue, higher priority jobs are scheduled first."),
]


def _one_way_to_run(spec: JobDefinitionSpec) -> bool:
    has_container, has_eks = spec.containerProperties is not None, spec.eksProperties is not None
    if spec.type == "multinode":
        return spec.nodeProperties is not None and not has_container and not has_eks
    return spec.nodeProperties is None and has_container != has_eks


def _on_fargate(spec: JobDefinitionSpec) -> bool:
    return "FARGATE" in (spec.platformCapabilities or []) and spec.containerProperties is not None


_ON_FARGATE_CEL = (
    "has(self.platformCapabilities) && 'FARGATE' in self.platformCapabilities && has(self.containerProperties)"
)


def _fargate_cap(legacy: str, kind: str, cap: int, amount: str) -> tuple[Rule, Rule]:
    """The FARGATE per-job cap on one resource: in the legacy field (vcpus, memory) and in resourceRequirements."""
    when = "when platformCapabilities include FARGATE"
    legacy_rule = Rule(
        f"!({_ON_FARGATE_CEL}) || !has(self.containerProperties.{legacy})"
        f" || self.containerProperties.{legacy} <= {cap}",
        f"containerProperties.{legacy} must not exceed {amount} {when}",
        lambda s: not _on_fargate(s) or (getattr(s.containerProperties, legacy) or 0) <= cap,
        field_path=f".containerProperties.{legacy}",
        reason="FieldValueInvalid",
    )
    requirements_rule = Rule(
        f"!({_ON_FARGATE_CEL}) || !has(self.containerProperties.resourceRequirements)"
        f" || self.containerProperties.resourceRequirements.all(r, r.type != '{kind}' || double(r.value) <= {cap}.0)",
        f"containerProperties.resourceRequirements {kind} must not exceed {amount} {when}",
        lambda s: not _on_fargate(s)
        or all(r.type != kind or float(r.value) <= cap for r in s.containerProperties.resourceRequirements or []),
        field_path=".containerProperties.resourceRequirements",
        reason="FieldValueInvalid",
    )
    return legacy_rule, requirements_rule


class JobDefinitionSpec(KubeModel):
    """What a job runs, with which resources, retries and time limit."""

    rules = (
        Rule(
            "self.type == 'multinode'"
            " ? (has(self.nodeProperties) && !has(self.containerProperties) && !has(self.eksProperties))"
            " : (!has(self.nodeProperties) && has(self.containerProperties) != has(self.eksProperties))",
            (
                "type container needs exactly one of containerProperties or eksProperties; type multinode needs "
                "nodeProperties alone"
            ),
            _one_way_to_run,
        ),
        *_fargate_cap("vcpus", "VCPU", FARGATE_MAX_VCPUS, f"{FARGATE_MAX_VCPUS} vCPU"),
        *_fargate_cap("memory", "MEMORY", FARGATE_MAX_MEMORY_MIB, f"{FARGATE_MAX_MEMORY_MIB} MiB (120 GiB)"),
        Rule(
            "self.type == 'container' || !has(self.platformCapabilities) || !('FARGATE' in self.platformCapabilities)",
            "multinode jobs cannot run on FARGATE (platformCapabilities)",
            lambda s: s.type == "container" or "FARGATE" not in (s.platformCapabilities or []),
            field_path=".platformCapabilities",
            reason="FieldValueInvalid",
        ),
    )

    type: Literal["container", "multinode"] = Field(
        description=(
            "container: one pod per job (or per array child). multinode: a multi-node parallel job described by "
            "nodeProperties."
        )
    )
    parameters: Parameters | None = None
    containerProperties: ContainerProperties | None = Field(
        default=None, description="The container of a container job (the AWS Batch on ECS way)."
    )
    eksProperties: EksProperties | None = Field(
        default=None,
        description=(
            "The pod of a container job, written the AWS Batch on EKS way; an alternative to containerProperties."
        ),
    )
    nodeProperties: NodeProperties | None = Field(default=None, description="Nodes and containers of a multinode job.")
    retryStrategy: RetryStrategy | None = Field(
        default=None, description="Attempts and retry rules; without it a job is tried once."
    )
    timeout: JobTimeout | None = Field(
        default=None, description="Time limit of each attempt; without it attempts may run forever."
    )
    propagateTags: PropagateTags | None = None
    tags: Tags | None = None
    schedulingPriority: SchedulingPriority | None = None
    platformCapabilities: list[Literal["EC2", "FARGATE"]] | None = Field(
        default=None,
        max_length=2,
        description=(
            "EC2 (the default) or FARGATE: the capacity the definition is meant for; FARGATE jobs may ask for at "
            "most 16 vCPU and 120 GiB (122880 MiB) of memory."
        ),
    )


class JobDefinitionStatus(StatusModel):
    """Which revision the current spec is; every kept revision (spec, ACTIVE or INACTIVE) is in ``revisions``."""

    revision: int | None = Field(
        default=None, ge=1, description="Revision number of the current spec, from 1; a job may name def:REVISION."
    )
    status: Literal["ACTIVE", "INACTIVE"] | None = Field(
        default=None, description="ACTIVE while any revision is; INACTIVE once every revision is deregistered."
    )
    observedGeneration: int | None = Field(
        default=None, description="The metadata.generation the revision was recorded for."
    )


class JobDefinition(Resource):
    """The blueprint of a job: image, command, resources, retries, timeout (AWS Batch job definition)."""

    crd: ClassVar[CrdNames] = CrdNames(
        kind=JOB_DEFINITION,
        columns=(
            PrinterColumn("Type", ".spec.type"),
            PrinterColumn("Revision", ".status.revision", "integer"),
            AGE,
        ),
    )

    kind: Literal["JobDefinition"] = "JobDefinition"
    spec: JobDefinitionSpec
    status: JobDefinitionStatus = Field(default_factory=JobDefinitionStatus)
