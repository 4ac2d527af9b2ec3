"""Counting capacity: what each compute environment holds and whether a unit fits.

vCPUs are counted in integer thousandths (milli-vCPUs) so that sums of fractional
requests such as 0.25 or 0.1 are exact: "a CE never exceeds maxvCpus" must not
depend on floating-point rounding.

Two questions are kept apart on purpose:
- `misfit`: can this unit *ever* run here (quota and per-job platform limits)?
- `has_room`: is there room *now*, given what runs and what this cycle admitted?
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from .snapshot import ComputeEnvironment, ComputeEnvironmentState

FARGATE_MAX_JOB_VCPUS = 16
FARGATE_MAX_JOB_MEMORY_MIB = 120 * 1024


def to_milli(vcpus: float) -> int:
    return round(vcpus * 1000)


def format_vcpus(milli: int) -> str:
    return f"{milli / 1000:g}"


class Demand(NamedTuple):
    """What a unit asks for (a tuple: cheap to build and usable as a cache key)."""

    vcpus_milli: int
    memory_mib: int
    gpus: int


@dataclass(frozen=True, slots=True)
class Misfit:
    """Why a unit can never run in a CE: `allows` is the limit, in `dimension` units.
    `per_job` is True for a platform limit on one job (Fargate), False for a quota."""

    dimension: str
    needs: str
    allows: str
    limit_name: str
    per_job: bool


@dataclass(frozen=True, slots=True)
class Hold:
    """A head-of-line reservation: `unit_id` waited past its patience."""

    unit_id: str
    queue: str


@dataclass(frozen=True, slots=True)
class Stall:
    """The cluster has not placed a pod of `unit_id` for `waited_seconds`."""

    unit_id: str
    waited_seconds: float


class ComputeEnvironmentLedger:
    """Usage of one CE: `used_*` before the cycle, `planned_*` including admissions."""

    __slots__ = (
        "spec",
        "accepting",
        "max_vcpus_milli",
        "used_vcpus_milli",
        "used_memory_mib",
        "used_gpus",
        "planned_vcpus_milli",
        "planned_memory_mib",
        "planned_gpus",
        "admitted_units",
        "hold",
        "stall",
        "_misfits",
    )

    def __init__(self, spec: ComputeEnvironment) -> None:
        self.spec = spec
        self.accepting = spec.state is ComputeEnvironmentState.ENABLED and spec.valid
        self.max_vcpus_milli = to_milli(spec.max_vcpus)
        self.used_vcpus_milli = 0
        self.used_memory_mib = 0
        self.used_gpus = 0
        self.planned_vcpus_milli = 0
        self.planned_memory_mib = 0
        self.planned_gpus = 0
        self.admitted_units = 0
        self.hold: Hold | None = None
        self.stall: Stall | None = None
        self._misfits: dict[Demand, Misfit | None] = {}

    def count_running(self, demand: Demand) -> None:
        self.used_vcpus_milli += demand.vcpus_milli
        self.used_memory_mib += demand.memory_mib
        self.used_gpus += demand.gpus
        self.planned_vcpus_milli = self.used_vcpus_milli
        self.planned_memory_mib = self.used_memory_mib
        self.planned_gpus = self.used_gpus

    def note_stall(self, stall: Stall) -> None:
        """Keep the longest stall (ties: smallest unit id) so messages are stable."""
        current = self.stall
        if current is None or (-stall.waited_seconds, stall.unit_id) < (
            -current.waited_seconds,
            current.unit_id,
        ):
            self.stall = stall

    def misfit(self, demand: Demand) -> Misfit | None:
        """Why `demand` can never run here, or None; memoised, as sizes repeat."""
        try:
            return self._misfits[demand]
        except KeyError:
            misfit = self._misfits[demand] = self._find_misfit(demand)
            return misfit

    def _find_misfit(self, demand: Demand) -> Misfit | None:
        spec = self.spec
        if spec.resource_type.is_fargate:
            kind = spec.resource_type.value
            if demand.gpus > 0:
                return Misfit(
                    dimension="GPU",
                    needs=str(demand.gpus),
                    allows="0",
                    limit_name=f"{kind} has no GPUs",
                    per_job=True,
                )
            if demand.vcpus_milli > FARGATE_MAX_JOB_VCPUS * 1000:
                return Misfit(
                    dimension="vCPU",
                    needs=format_vcpus(demand.vcpus_milli),
                    allows=str(FARGATE_MAX_JOB_VCPUS),
                    limit_name=f"per {kind} job",
                    per_job=True,
                )
            if demand.memory_mib > FARGATE_MAX_JOB_MEMORY_MIB:
                return Misfit(
                    dimension="MiB memory",
                    needs=str(demand.memory_mib),
                    allows=str(FARGATE_MAX_JOB_MEMORY_MIB),
                    limit_name=f"per {kind} job",
                    per_job=True,
                )
        if demand.vcpus_milli > self.max_vcpus_milli:
            return Misfit(
                dimension="vCPU",
                needs=format_vcpus(demand.vcpus_milli),
                allows=format_vcpus(self.max_vcpus_milli),
                limit_name="maxvCpus",
                per_job=False,
            )
        if spec.max_memory_mib is not None and demand.memory_mib > spec.max_memory_mib:
            return Misfit(
                dimension="MiB memory",
                needs=str(demand.memory_mib),
                allows=str(spec.max_memory_mib),
                limit_name="memory limit",
                per_job=False,
            )
        if spec.max_gpus is not None and demand.gpus > spec.max_gpus:
            return Misfit(
                dimension="GPU",
                needs=str(demand.gpus),
                allows=str(spec.max_gpus),
                limit_name="GPU limit",
                per_job=False,
            )
        return None

    def has_room(self, demand: Demand, *, vcpu_ceiling_milli: int | None = None) -> bool:
        ceiling = self.max_vcpus_milli if vcpu_ceiling_milli is None else vcpu_ceiling_milli
        if self.planned_vcpus_milli + demand.vcpus_milli > ceiling:
            return False
        spec = self.spec
        if spec.max_memory_mib is not None and (
            self.planned_memory_mib + demand.memory_mib > spec.max_memory_mib
        ):
            return False
        return spec.max_gpus is None or self.planned_gpus + demand.gpus <= spec.max_gpus

    def admit(self, demand: Demand) -> None:
        self.planned_vcpus_milli += demand.vcpus_milli
        self.planned_memory_mib += demand.memory_mib
        self.planned_gpus += demand.gpus
        self.admitted_units += 1

    def describe_fullness(self, demand: Demand) -> str:
        """Name the dimension that keeps `demand` out, e.g. "14/16 vCPU in use"."""
        spec = self.spec
        vcpus_in_use = (
            f"{format_vcpus(self.planned_vcpus_milli)}/"
            f"{format_vcpus(self.max_vcpus_milli)} vCPU in use"
        )
        if self.planned_vcpus_milli + demand.vcpus_milli > self.max_vcpus_milli:
            return vcpus_in_use
        if spec.max_memory_mib is not None and (
            self.planned_memory_mib + demand.memory_mib > spec.max_memory_mib
        ):
            return f"{self.planned_memory_mib}/{spec.max_memory_mib} MiB memory in use"
        if spec.max_gpus is not None and self.planned_gpus + demand.gpus > spec.max_gpus:
            return f"{self.planned_gpus}/{spec.max_gpus} GPU in use"
        return vcpus_in_use
