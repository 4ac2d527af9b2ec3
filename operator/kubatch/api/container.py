"""The container of a job, as AWS Batch's `containerProperties` and `containerOverrides`.

Shared by JobDefinition (single-container and multi-node ranges) and BatchJob
(overrides). AWS-only parts (IAM roles, log drivers, Fargate platform settings,
network configuration) are left out; `serviceAccountName` takes the place of
`jobRoleArn`. Secrets name a key of a Kubernetes Secret instead of an ARN.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from kubatch.api.base import KubeModel, Rule
from kubatch.api.common import ENV_NAME, KeyValuePair, ObjectName

ResourceType = Literal["VCPU", "MEMORY", "GPU"]
MIN_MEMORY_MIB = 4

FilePath = Annotated[str, Field(min_length=1, max_length=4096)]


class ResourceRequirement(KubeModel):
    """An amount of one resource reserved for the container."""

    rules = (
        Rule(
            "self.type == 'VCPU' || !self.value.contains('.')",
            "resourceRequirements[].value must be a whole number for MEMORY and GPU",
            lambda r: r.type == "VCPU" or "." not in r.value,
            field_path=".value",
            reason="FieldValueInvalid",
        ),
        Rule(
            "self.type != 'VCPU' || double(self.value) > 0.0",
            "resourceRequirements[].value must be greater than 0 for VCPU",
            lambda r: r.type != "VCPU" or float(r.value) > 0,
            field_path=".value",
            reason="FieldValueInvalid",
        ),
        Rule(
            f"self.type != 'MEMORY' || double(self.value) >= {MIN_MEMORY_MIB}.0",
            f"resourceRequirements[].value must be at least {MIN_MEMORY_MIB} (MiB) for MEMORY",
            lambda r: r.type != "MEMORY" or float(r.value) >= MIN_MEMORY_MIB,
            field_path=".value",
            reason="FieldValueInvalid",
        ),
        Rule(
            "self.type != 'GPU' || double(self.value) >= 1.0",
            "resourceRequirements[].value must be at least 1 for GPU",
            lambda r: r.type != "GPU" or float(r.value) >= 1,
            field_path=".value",
            reason="FieldValueInvalid",
        ),
    )

    type: ResourceType = Field(
        description=(
            "VCPU (number of vCPUs, above 0, may be fractional such as 0.25), MEMORY (MiB, a whole number, at least "
            f"{MIN_MEMORY_MIB}) or GPU (number of GPUs, nvidia.com/gpu, a whole number, at least 1)."
        )
    )
    value: str = Field(
        max_length=16,
        pattern=r"^[0-9]+(\.[0-9]+)?$",
        description='The amount, as a decimal string (AWS\'s format): e.g. "2" vCPUs, "4096" MiB, "1" GPU.',
    )


DISTINCT_RESOURCE_TYPES = Rule(
    "!has(self.resourceRequirements)"
    " || self.resourceRequirements.all(a, self.resourceRequirements.exists_one(b, b.type == a.type))",
    "resourceRequirements may name each type (VCPU, MEMORY, GPU) at most once",
    lambda c: (
        c.resourceRequirements is None or len({r.type for r in c.resourceRequirements}) == len(c.resourceRequirements)
    ),
    field_path=".resourceRequirements",
    reason="FieldValueInvalid",
)

Command = Annotated[
    list[Annotated[str, Field(max_length=32768)]],
    Field(
        max_length=1024,
        description=(
            "The command the container runs (replaces the image's CMD). `Ref::name` is replaced by the job parameter "
            "`name`."
        ),
    ),
]
Environment = Annotated[
    list[KeyValuePair],
    Field(max_length=256, description="Environment variables of the container."),
]
ResourceRequirements = Annotated[
    list[ResourceRequirement],
    Field(
        max_length=3, description="vCPU, memory and GPU reserved for the container; preferred over vcpus and memory."
    ),
]
Vcpus = Annotated[
    int,
    Field(
        ge=1, description="Number of vCPUs reserved for the container (AWS's older form of resourceRequirements VCPU)."
    ),
]
Memory = Annotated[
    int,
    Field(
        ge=MIN_MEMORY_MIB,
        description="Memory in MiB the container may use, at least 4 (older form of resourceRequirements MEMORY).",
    ),
]


class Host(KubeModel):
    """A directory of the node mounted into the container."""

    sourcePath: str | None = Field(default=None, max_length=4096, description="Path on the node (a hostPath volume).")


class Volume(KubeModel):
    """A volume the container's mountPoints can refer to."""

    name: str = Field(
        max_length=63,
        pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
        description="Name of the volume, referenced by mountPoints[].sourceVolume.",
    )
    host: Host | None = Field(
        default=None,
        description=(
            "The node directory to mount; without it the volume is an empty scratch directory that lives as long as "
            "the pod."
        ),
    )


class MountPoint(KubeModel):
    """Where a volume appears inside the container."""

    sourceVolume: str = Field(max_length=63, description="Name of the volume (volumes[].name) to mount.")
    containerPath: FilePath = Field(description="Path inside the container where the volume is mounted.")
    readOnly: bool = Field(default=False, description="Mount the volume read-only.")


class Secret(KubeModel):
    """An environment variable whose value comes from a Kubernetes Secret of the job's namespace."""

    name: str = Field(max_length=256, pattern=ENV_NAME, description="Name of the environment variable to set.")
    valueFrom: str = Field(
        max_length=507,
        pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?:[-._a-zA-Z0-9]+$",
        description=(
            "`secret-name:key`: the key of a Secret in the job's namespace (in place of AWS's ARN). The value is "
            "read by the kubelet, never copied into the job."
        ),
    )


class Device(KubeModel):
    """A device of the node exposed to the container."""

    hostPath: FilePath = Field(description="Path of the device on the node, e.g. /dev/fuse.")
    containerPath: str | None = Field(
        default=None, max_length=4096, description="Path inside the container; defaults to hostPath."
    )
    permissions: list[Literal["READ", "WRITE", "MKNOD"]] | None = Field(
        default=None, max_length=3, description="Access to the device: READ, WRITE, MKNOD."
    )


class Tmpfs(KubeModel):
    """A memory-backed scratch directory."""

    containerPath: FilePath = Field(description="Where the tmpfs is mounted in the container.")
    size: int = Field(ge=1, description="Size limit of the tmpfs in MiB.")
    mountOptions: list[Annotated[str, Field(max_length=64)]] | None = Field(
        default=None,
        max_length=32,
        description="Mount options such as noexec; accepted as AWS writes them (Kubernetes memory volumes take none).",
    )


class LinuxParameters(KubeModel):
    """Linux-specific settings of the container."""

    devices: list[Device] | None = Field(
        default=None, max_length=16, description="Devices of the node mapped into the container."
    )
    sharedMemorySize: int | None = Field(default=None, ge=1, description="Size of /dev/shm in MiB.")
    tmpfs: list[Tmpfs] | None = Field(default=None, max_length=16, description="Memory-backed scratch directories.")


class Ulimit(KubeModel):
    """A resource limit (ulimit) of the container's processes."""

    name: str = Field(max_length=32, description="The ulimit, e.g. nofile, nproc, memlock.")
    softLimit: int = Field(ge=0, description="The soft limit.")
    hardLimit: int = Field(ge=0, description="The hard limit.")


class ContainerProperties(KubeModel):
    """What the job's container runs and with which resources (RegisterJobDefinition containerProperties)."""

    rules = (DISTINCT_RESOURCE_TYPES,)

    image: str = Field(
        min_length=1, max_length=1024, description="The container image, e.g. busybox:1.36 or registry/repo:tag."
    )
    command: Command | None = None
    environment: Environment | None = None
    vcpus: Vcpus | None = None
    memory: Memory | None = None
    resourceRequirements: ResourceRequirements | None = None
    readonlyRootFilesystem: bool | None = Field(
        default=None, description="Mount the container's root file system read-only."
    )
    privileged: bool | None = Field(
        default=None,
        description="Run the container privileged; refused unless the compute environment sets allowPrivileged.",
    )
    user: str | None = Field(
        default=None,
        max_length=32,
        pattern=r"^[0-9]+(:[0-9]+)?$",
        description="The user the container runs as, as Kubernetes needs it: a numeric uid, or uid:gid.",
    )
    volumes: list[Volume] | None = Field(
        default=None, max_length=64, description="Volumes the mountPoints can refer to."
    )
    mountPoints: list[MountPoint] | None = Field(
        default=None, max_length=64, description="Where volumes are mounted in the container."
    )
    secrets: list[Secret] | None = Field(
        default=None,
        max_length=64,
        description="Environment variables read from Kubernetes Secrets of the job's namespace.",
    )
    linuxParameters: LinuxParameters | None = Field(
        default=None, description="Linux-specific settings: devices, /dev/shm size, tmpfs mounts."
    )
    ulimits: list[Ulimit] | None = Field(
        default=None, max_length=16, description="Resource limits (ulimits) of the container's processes."
    )
    serviceAccountName: ObjectName | None = Field(
        default=None,
        description=(
            "Kubernetes extension in place of jobRoleArn: the ServiceAccount the job's pods run as, in the job's "
            "namespace."
        ),
    )


class ContainerOverrides(KubeModel):
    """Per-job changes to the definition's container (SubmitJob containerOverrides)."""

    rules = (DISTINCT_RESOURCE_TYPES,)

    command: Command | None = None
    environment: Annotated[
        Environment | None,
        Field(description="Environment variables added to, or replacing those of, the definition."),
    ] = None
    vcpus: Vcpus | None = None
    memory: Memory | None = None
    resourceRequirements: ResourceRequirements | None = None
