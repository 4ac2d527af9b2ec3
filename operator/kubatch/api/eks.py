"""Definitions written the AWS Batch on EKS way: `eksProperties.podProperties`.

This is the Kubernetes-native alternative to `containerProperties`. The containers,
init containers and volumes are Kubernetes objects already, so they are kept as
given (validated by the API server when the pod is created) instead of being
re-declared here; only the pod-level fields AWS lets you set are typed.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from kubatch.api.base import KubeModel
from kubatch.api.common import LabelMap, ObjectName

PodObjects = Annotated[list[dict[str, Any]], Field(max_length=10)]


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


class PodPropertiesOverride(KubeModel):
    """Per-job changes to the definition's pod."""

    containers: PodObjects | None = Field(
        default=None,
        description=(
            "Changes to containers, matched by name: image, command, args, env and resources given here replace the "
            "definition's."
        ),
    )
    initContainers: PodObjects | None = Field(
        default=None, description="Changes to init containers, matched by name, as for containers."
    )
    metadata: EksMetadata | None = Field(default=None, description="Labels and annotations added to the pod.")


class EksPropertiesOverride(KubeModel):
    """Per-job changes to an eksProperties definition (SubmitJob eksPropertiesOverride)."""

    podProperties: PodPropertiesOverride | None = Field(default=None, description="Changes to the pod.")
