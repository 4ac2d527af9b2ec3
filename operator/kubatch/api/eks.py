"""Definitions written the AWS Batch on EKS way: `eksProperties.podProperties`.

This is the Kubernetes-native alternative to `containerProperties`. The containers,
init containers and volumes are Kubernetes objects already, so they are kept as
given (validated by the API server when the pod is created) instead of being
re-declared here; only the pod-level fields AWS lets you set are typed. The one
exception is the `name` of a per-job container override: overrides are matched to the
definition's containers by name, so it is checked and unique. As in AWS's model it may
be left out when the definition's pod has a single container, which it then changes.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field

from kubatch.api.base import KubeModel, Rule
from kubatch.api.common import LabelMap, ObjectName

MAX_CONTAINERS = 10
CONTAINER_NAME = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"

PodObjects = Annotated[list[dict[str, Any]], Field(max_length=MAX_CONTAINERS)]


class EksMetadata(KubeModel):
    """Labels and annotations added to the job's pods."""

    labels: LabelMap | None = Field(default=None, description="Labels added to the pods.")
    annotations: dict[str, str] | None = Field(
        default=None, max_length=64, description="Annotations added to the pods."
    )


class LocalObjectReference(KubeModel):
    """A reference to an object in the job's namespace."""

    name: ObjectName = Field(description="Name of the object.")


class PodProperties(KubeModel):
    """The pod-spec subset AWS Batch on EKS accepts."""

    containers: PodObjects = Field(
        min_length=1,
        description=(
            "The pod's containers, as Kubernetes Container objects (name, image, command, args, env, resources, ...)."
        ),
    )
    initContainers: PodObjects | None = Field(
        default=None, description="Init containers, as Kubernetes Container objects, run before the containers."
    )
    volumes: Annotated[list[dict[str, Any]], Field(max_length=64)] | None = Field(
        default=None, description="The pod's volumes, as Kubernetes Volume objects."
    )
    serviceAccountName: ObjectName | None = Field(
        default=None, description="The ServiceAccount the pod runs as, in the job's namespace."
    )
    hostNetwork: bool | None = Field(default=None, description="Use the node's network namespace.")
    dnsPolicy: Literal["Default", "ClusterFirst", "ClusterFirstWithHostNet", "None"] | None = Field(
        default=None, description="The pod's DNS policy, as in a Kubernetes pod spec."
    )
    imagePullSecrets: list[LocalObjectReference] | None = Field(
        default=None, max_length=16, description="Secrets used to pull the containers' images."
    )
    shareProcessNamespace: bool | None = Field(
        default=None, description="Let the pod's containers see each other's processes."
    )
    metadata: EksMetadata | None = Field(default=None, description="Labels and annotations of the pod.")


class EksProperties(KubeModel):
    """A job's pod, written the AWS Batch on EKS way."""

    podProperties: PodProperties = Field(description="The pod the job runs.")


class EksContainerOverride(KubeModel):
    """Per-job changes to one container of the definition's pod, found by its name."""

    model_config = ConfigDict(extra="allow")

    name: str | None = Field(
        default=None,
        min_length=1,
        max_length=63,
        pattern=CONTAINER_NAME,
        description=(
            "The name of the definition's container this override applies to (overrides are matched by name, never "
            "by position, as AWS Batch does). Optional when the definition's pod has a single container."
        ),
    )


def _distinct_names(field: str) -> Rule:
    return Rule(
        f"!has(self.{field}) || self.{field}.all(a, self.{field}.exists_one(b, has(a.name) ? (has(b.name) && "
        "b.name == a.name) : !has(b.name)))",
        f"eksPropertiesOverride.podProperties.{field}[].name must not name a container twice (and only one may "
        "leave it out)",
        lambda o: len({c.name for c in getattr(o, field) or []}) == len(getattr(o, field) or []),
        field_path=f".{field}",
        reason="FieldValueInvalid",
    )


EksContainerOverrides = Annotated[list[EksContainerOverride], Field(max_length=MAX_CONTAINERS)]


class PodPropertiesOverride(KubeModel):
    """Per-job changes to the definition's pod."""

    rules = (_distinct_names("containers"), _distinct_names("initContainers"))

    containers: EksContainerOverrides | None = Field(
        default=None,
        description=(
            "Changes to containers, matched by name: each entry gives the `name` of a container of the definition "
            "(it may be left out when the pod has a single container); image, command, args, env and resources given "
            "here replace that container's."
        ),
    )
    initContainers: EksContainerOverrides | None = Field(
        default=None,
        description="Changes to init containers, matched by name, as for containers.",
    )
    metadata: EksMetadata | None = Field(default=None, description="Labels and annotations added to the pod.")


class EksPropertiesOverride(KubeModel):
    """Per-job changes to an eksProperties definition (SubmitJob eksPropertiesOverride)."""

    podProperties: PodPropertiesOverride | None = Field(default=None, description="Changes to the pod.")
