"""ComputeEnvironment: a pool of nodes jobs may use, with a vCPU quota (CreateComputeEnvironment).

kubatch does not provision instances: a compute environment selects existing nodes
(by default those labelled `kubatch.io/capacity-type` for its `computeResources.type`)
and caps the vCPUs its jobs hold at `maxvCpus`. AWS's networking and IAM fields
(subnets, security groups, roles, launch templates) have no meaning here.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field

from kubatch.api.base import AGE, CrdNames, KubeModel, PrinterColumn, Resource, Rule, StatusModel
from kubatch.api.common import LabelMap, ResourceStatus, State, Toleration
from kubatch.kinds import COMPUTE_ENVIRONMENT

ComputeType = Literal["EC2", "SPOT", "FARGATE", "FARGATE_SPOT"]
AllocationStrategy = Literal[
    "BEST_FIT", "BEST_FIT_PROGRESSIVE", "SPOT_CAPACITY_OPTIMIZED", "SPOT_PRICE_CAPACITY_OPTIMIZED"
]
FARGATE_TYPES = ("FARGATE", "FARGATE_SPOT")

VCpus = Annotated[int, Field(ge=0)]


EC2_ONLY = ("minvCpus", "desiredvCpus", "instanceTypes", "allocationStrategy", "bidPercentage")


def _not_on_fargate(field: str) -> Rule:
    return Rule(
        f"!(self.type in {list(FARGATE_TYPES)}) || !has(self.{field})",
        f"computeResources.{field} does not apply to FARGATE and FARGATE_SPOT",
        lambda r: r.type not in FARGATE_TYPES or getattr(r, field) is None,
        field_path=f".{field}",
        reason="FieldValueForbidden",
    )


class ComputeResources(KubeModel):
    """The nodes of the environment and its vCPU limits."""

    rules = (
        Rule(
            "!has(self.minvCpus) || self.minvCpus <= self.maxvCpus",
            "computeResources.minvCpus must not exceed computeResources.maxvCpus",
            lambda r: r.minvCpus is None or r.minvCpus <= r.maxvCpus,
            field_path=".minvCpus",
            reason="FieldValueInvalid",
        ),
        Rule(
            "!has(self.desiredvCpus) || self.desiredvCpus <= self.maxvCpus",
            "computeResources.desiredvCpus must not exceed computeResources.maxvCpus",
            lambda r: r.desiredvCpus is None or r.desiredvCpus <= r.maxvCpus,
            field_path=".desiredvCpus",
            reason="FieldValueInvalid",
        ),
        Rule(
            "!has(self.minvCpus) || !has(self.desiredvCpus) || self.minvCpus <= self.desiredvCpus",
            "computeResources.desiredvCpus must be at least computeResources.minvCpus",
            lambda r: r.minvCpus is None or r.desiredvCpus is None or r.minvCpus <= r.desiredvCpus,
            field_path=".desiredvCpus",
            reason="FieldValueInvalid",
        ),
        *(_not_on_fargate(field) for field in EC2_ONLY),
        Rule(
            "self.type == 'SPOT' || !has(self.bidPercentage)",
            "computeResources.bidPercentage applies only to type SPOT",
            lambda r: r.type == "SPOT" or r.bidPercentage is None,
            field_path=".bidPercentage",
            reason="FieldValueForbidden",
        ),
        Rule(
            "self.type == 'SPOT' || !has(self.allocationStrategy) || !self.allocationStrategy.startsWith('SPOT_')",
            "computeResources.allocationStrategy SPOT_CAPACITY_OPTIMIZED and SPOT_PRICE_CAPACITY_OPTIMIZED apply only"
            " to type SPOT",
            lambda r: r.type == "SPOT" or r.allocationStrategy is None or not r.allocationStrategy.startswith("SPOT_"),
            field_path=".allocationStrategy",
            reason="FieldValueInvalid",
        ),
    )

    type: ComputeType = Field(
        description=(
            "Capacity the jobs run on: EC2 (on-demand nodes), SPOT, FARGATE or FARGATE_SPOT (one job per node, "
            "requests equal limits, at most 16 vCPU and 120 GiB per job). Selects nodes labelled "
            "kubatch.io/capacity-type=on-demand, spot, fargate or fargate-spot unless nodeSelector is given."
        )
    )
    maxvCpus: VCpus = Field(
        description="The quota: the vCPUs of this environment's STARTING and RUNNING jobs never add up to more."
    )
    minvCpus: VCpus | None = Field(
        default=None, description="vCPUs the environment keeps available even without jobs (EC2 and SPOT only)."
    )
    desiredvCpus: VCpus | None = Field(
        default=None,
        description="vCPUs the environment should have now, between minvCpus and maxvCpus (EC2 and SPOT only).",
    )
    instanceTypes: list[Annotated[str, Field(max_length=64)]] | None = Field(
        default=None,
        max_length=20,
        description=(
            "Instance types (m5.large) or families (m5) the jobs may use, matched against the node label "
            "node.kubernetes.io/instance-type; absent or 'optimal' allows any (EC2 and SPOT only)."
        ),
    )
    allocationStrategy: AllocationStrategy | None = Field(
        default=None,
        description=(
            "How capacity is chosen: BEST_FIT, BEST_FIT_PROGRESSIVE, or for SPOT SPOT_CAPACITY_OPTIMIZED, "
            "SPOT_PRICE_CAPACITY_OPTIMIZED."
        ),
    )
    bidPercentage: int | None = Field(
        default=None,
        ge=0,
        le=100,
        description="SPOT only: the highest Spot price, as a percentage of the On-Demand price, 0 to 100.",
    )
    nodeSelector: LabelMap | None = Field(
        default=None,
        description=(
            "Kubernetes extension: node labels the jobs' pods require, replacing the default "
            "kubatch.io/capacity-type selector (e.g. karpenter.sh/capacity-type: spot)."
        ),
    )
    tolerations: list[Toleration] | None = Field(
        default=None,
        max_length=16,
        description=(
            "Kubernetes extension: tolerations of the jobs' pods, replacing the default toleration of the pool's taint."
        ),
    )


class ComputeEnvironmentSpec(KubeModel):
    """A pool of nodes and its vCPU quota."""

    rules = (
        Rule(
            "self.type == 'UNMANAGED' || has(self.computeResources)",
            "computeResources is required when type is MANAGED",
            lambda s: s.type == "UNMANAGED" or s.computeResources is not None,
            field_path=".computeResources",
            reason="FieldValueRequired",
        ),
        Rule(
            "self.type == 'MANAGED' || !has(self.computeResources)",
            "computeResources must not be set when type is UNMANAGED",
            lambda s: s.type == "MANAGED" or s.computeResources is None,
            field_path=".computeResources",
            reason="FieldValueForbidden",
        ),
    )

    type: Literal["MANAGED", "UNMANAGED"] = Field(
        description=(
            "MANAGED: kubatch places jobs on the nodes computeResources selects, within maxvCpus. UNMANAGED: nodes "
            "you manage yourself."
        )
    )
    state: State = Field(
        default="ENABLED",
        description="ENABLED: queues may place new jobs here. DISABLED: no new jobs start; running ones finish.",
    )
    computeResources: ComputeResources | None = Field(
        default=None,
        description="The nodes and vCPU limits of a MANAGED environment: required for MANAGED, refused for UNMANAGED.",
    )
    allowPrivileged: bool = Field(
        default=False,
        description=(
            "Kubernetes extension: allow jobs whose definition asks for privileged containers (refused by default)."
        ),
    )
    allowHostPath: bool = Field(
        default=False,
        description=(
            "Kubernetes extension: allow jobs whose definition mounts host paths (volumes[].host.sourcePath, "
            "eksProperties hostPath volumes); refused by default."
        ),
    )
    serviceRole: str | None = Field(
        default=None,
        max_length=2048,
        description=(
            "AWS's service role (an IAM role ARN), kept so DescribeComputeEnvironments returns it as given; kubatch "
            "does not use it (IAM has no meaning on Kubernetes)."
        ),
    )


class ComputeEnvironmentStatus(StatusModel):
    """Health and usage of the environment, as DescribeComputeEnvironments shows them."""

    status: ResourceStatus | None = Field(
        default=None, description="VALID when the environment can run jobs, INVALID when not (see statusReason)."
    )
    statusReason: str | None = Field(default=None, description="Why the environment has its status.")
    usedvCpus: int | None = Field(
        default=None, ge=0, description="vCPUs held by this environment's STARTING and RUNNING jobs."
    )
    runningJobs: int | None = Field(
        default=None, ge=0, description="Number of STARTING and RUNNING jobs in the environment."
    )
    desiredvCpus: int | None = Field(default=None, ge=0, description="vCPUs the environment currently wants.")
    observedGeneration: int | None = Field(default=None, description="The metadata.generation this status reflects.")


class ComputeEnvironment(Resource):
    """A pool of nodes jobs may use, with a vCPU quota (AWS Batch compute environment)."""

    crd: ClassVar[CrdNames] = CrdNames(
        kind=COMPUTE_ENVIRONMENT,
        columns=(
            PrinterColumn("Type", ".spec.computeResources.type", description="EC2, SPOT, FARGATE or FARGATE_SPOT"),
            PrinterColumn("State", ".spec.state"),
            PrinterColumn("Used", ".status.usedvCpus", "integer", "vCPUs in use"),
            PrinterColumn("Max", ".spec.computeResources.maxvCpus", "integer", "vCPU quota"),
            PrinterColumn("Status", ".status.status"),
            AGE,
        ),
    )

    kind: Literal["ComputeEnvironment"] = "ComputeEnvironment"
    spec: ComputeEnvironmentSpec
    status: ComputeEnvironmentStatus = Field(default_factory=ComputeEnvironmentStatus)
