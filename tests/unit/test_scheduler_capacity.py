"""Capacity rules: quotas, CE order and fallback, CE state, "never fits" vs "not now"."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from kubatch.core.scheduling import ComputeResourceType, Snapshot, WaitReason, schedule

from .test_scheduler_builders import ce, job, placements, queue, reasons, running, snapshot

FARGATE = ComputeResourceType.FARGATE


@dataclass
class Case:
    name: str
    snapshot: Snapshot
    placed: dict[str, str]
    waiting: dict[str, WaitReason] = field(default_factory=dict)
    message_parts: dict[str, tuple[str, ...]] = field(default_factory=dict)


CASES = [
    Case(
        "fills a CE up to maxvCpus and no further",
        snapshot(
            ces=[ce("od", 16)],
            queues=[queue("q", "od")],
            jobs=[job(f"j{i}", vcpus=4) for i in range(5)],
        ),
        placed={"j0": "od", "j1": "od", "j2": "od", "j3": "od"},
        waiting={"j4": WaitReason.CAPACITY},
        message_parts={
            "j4": ("CAPACITY: waiting for capacity, job needs 4 vCPU", "'od' has 16/16 vCPU in use")
        },
    ),
    Case(
        "counts the vCPUs of STARTING and RUNNING units",
        snapshot(
            ces=[ce("od", 16)],
            queues=[queue("q", "od")],
            jobs=[job("big", vcpus=4), job("small", vcpus=2)],
            holding=[running("r", "q", "od", 14)],
        ),
        placed={"small": "od"},
        waiting={"big": WaitReason.CAPACITY},
        message_parts={"big": ("'od' has 16/16 vCPU in use",)},
    ),
    Case(
        "fractional vCPUs add up exactly",
        snapshot(
            ces=[ce("f", 1, resource_type=FARGATE)],
            queues=[queue("q", "f")],
            jobs=[job(f"j{i}", vcpus=0.1) for i in range(11)],
        ),
        placed={f"j{i}": "f" for i in range(10)},
        waiting={"j10": WaitReason.CAPACITY},
        message_parts={"j10": ("'f' has 1/1 vCPU in use", "job needs 0.1 vCPU")},
    ),
    Case(
        "a CE over its quota (maxvCpus lowered) takes nothing",
        snapshot(
            ces=[ce("od", 8)],
            queues=[queue("q", "od")],
            jobs=[job("j", vcpus=1)],
            holding=[running("r", "q", "od", 12)],
        ),
        placed={},
        waiting={"j": WaitReason.CAPACITY},
        message_parts={"j": ("'od' has 12/8 vCPU in use",)},
    ),
    Case(
        "memory is counted when the CE declares a limit",
        snapshot(
            ces=[ce("od", 16, max_memory_mib=4096)],
            queues=[queue("q", "od")],
            jobs=[job(f"j{i}", memory_mib=2048) for i in range(3)],
        ),
        placed={"j0": "od", "j1": "od"},
        waiting={"j2": WaitReason.CAPACITY},
        message_parts={"j2": ("'od' has 4096/4096 MiB memory in use", "2048 MiB memory")},
    ),
    Case(
        "memory is not counted when the CE declares no limit",
        snapshot(
            ces=[ce("od", 16)],
            queues=[queue("q", "od")],
            jobs=[job(f"j{i}", memory_mib=1_000_000) for i in range(3)],
        ),
        placed={"j0": "od", "j1": "od", "j2": "od"},
    ),
    Case(
        "GPUs are counted when the CE declares a limit",
        snapshot(
            ces=[ce("gpu", 64, max_gpus=4)],
            queues=[queue("q", "gpu")],
            jobs=[job("a", gpus=2), job("b", gpus=2), job("c", gpus=1)],
            holding=[running("r", "q", "gpu", 1, gpus=1)],
        ),
        placed={"a": "gpu", "c": "gpu"},
        waiting={"b": WaitReason.CAPACITY},
        message_parts={"b": ("'gpu' has 4/4 GPU in use",)},
    ),
    Case(
        "a unit goes to the first CE in order with room (spot, then on-demand)",
        snapshot(
            ces=[ce("spot", 8), ce("od", 16)],
            queues=[queue("q", "spot", "od")],
            jobs=[job("a", vcpus=4), job("b", vcpus=4), job("c", vcpus=4)],
        ),
        placed={"a": "spot", "b": "spot", "c": "od"},
    ),
    Case(
        "CE order is the queue's order, not the emptiest CE",
        snapshot(
            ces=[ce("small", 4), ce("large", 64)],
            queues=[queue("q", "small", "large")],
            jobs=[job("a", vcpus=2)],
        ),
        placed={"a": "small"},
    ),
    Case(
        "a smaller later unit still fits the first CE after a larger one overflowed",
        snapshot(
            ces=[ce("spot", 8), ce("od", 16)],
            queues=[queue("q", "spot", "od")],
            jobs=[job("a", vcpus=6), job("b", vcpus=4), job("c", vcpus=2)],
        ),
        placed={"a": "spot", "b": "od", "c": "spot"},
    ),
    Case(
        "a DISABLED CE takes nothing; the next CE does",
        snapshot(
            ces=[ce("off", 16, disabled=True), ce("od", 16)],
            queues=[queue("q", "off", "od")],
            jobs=[job("a")],
        ),
        placed={"a": "od"},
    ),
    Case(
        "only DISABLED CEs: the unit waits, and could run once one is enabled",
        snapshot(
            ces=[ce("off", 16, disabled=True)],
            queues=[queue("q", "off")],
            jobs=[job("a")],
        ),
        placed={},
        waiting={"a": WaitReason.COMPUTE_ENVIRONMENT_DISABLED},
        message_parts={"a": ("'off' is DISABLED",)},
    ),
    Case(
        "an INVALID CE takes nothing",
        snapshot(
            ces=[ce("broken", 16, valid=False)],
            queues=[queue("q", "broken")],
            jobs=[job("a")],
        ),
        placed={},
        waiting={"a": WaitReason.COMPUTE_ENVIRONMENT_INVALID},
        message_parts={"a": ("'broken' is INVALID",)},
    ),
    Case(
        "a busy CE explains the wait better than a DISABLED one",
        snapshot(
            ces=[ce("off", 16, disabled=True), ce("od", 4)],
            queues=[queue("q", "off", "od")],
            jobs=[job("a", vcpus=4), job("b", vcpus=4)],
        ),
        placed={"a": "od"},
        waiting={"b": WaitReason.CAPACITY},
        message_parts={"b": ("'off' is DISABLED; 'od' has 4/4 vCPU in use",)},
    ),
    Case(
        "a CE missing from the snapshot is skipped",
        snapshot(
            ces=[ce("od", 16)],
            queues=[queue("q", "gone", "od")],
            jobs=[job("a")],
        ),
        placed={"a": "od"},
    ),
    Case(
        "no existing CE: waits, not failed (the CE may be created)",
        snapshot(ces=[], queues=[queue("q", "gone")], jobs=[job("a")]),
        placed={},
        waiting={"a": WaitReason.COMPUTE_ENVIRONMENT_NOT_FOUND},
        message_parts={"a": ("'gone' does not exist",)},
    ),
    Case(
        "a queue that lists no CE",
        snapshot(ces=[ce("od")], queues=[queue("q")], jobs=[job("a")]),
        placed={},
        waiting={"a": WaitReason.COMPUTE_ENVIRONMENT_NOT_FOUND},
        message_parts={"a": ("queue 'q' lists no compute environment",)},
    ),
    Case(
        "larger than every CE's maxvCpus: can never run",
        snapshot(
            ces=[ce("a", 16), ce("b", 8)],
            queues=[queue("q", "a", "b")],
            jobs=[job("huge", vcpus=32)],
        ),
        placed={},
        waiting={"huge": WaitReason.COMPUTE_ENVIRONMENT_MAX_RESOURCE},
        message_parts={
            "huge": (
                "MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE: job needs 32 vCPU, "
                "more than any compute environment of queue 'q' allows",
                "'a' allows 16 vCPU (maxvCpus); 'b' allows 8 vCPU (maxvCpus)",
            )
        },
    ),
    Case(
        "larger than a Fargate job may be: can never run",
        snapshot(
            ces=[ce("f", 256, resource_type=FARGATE)],
            queues=[queue("q", "f")],
            jobs=[job("wide", vcpus=32), job("fat", memory_mib=200_000), job("gpu", gpus=1)],
        ),
        placed={},
        waiting={
            "wide": WaitReason.JOB_RESOURCE_REQUIREMENT,
            "fat": WaitReason.JOB_RESOURCE_REQUIREMENT,
            "gpu": WaitReason.JOB_RESOURCE_REQUIREMENT,
        },
        message_parts={
            "wide": ("'f' allows 16 vCPU (per FARGATE job)",),
            "fat": ("'f' allows 122880 MiB memory (per FARGATE job)",),
            "gpu": ("'f' allows 0 GPU (FARGATE has no GPUs)",),
        },
    ),
    Case(
        "larger than a declared memory or GPU limit: can never run",
        snapshot(
            ces=[ce("od", 64, max_memory_mib=1024, max_gpus=2)],
            queues=[queue("q", "od")],
            jobs=[job("mem", memory_mib=2048), job("gpu", gpus=4)],
        ),
        placed={},
        waiting={
            "mem": WaitReason.COMPUTE_ENVIRONMENT_MAX_RESOURCE,
            "gpu": WaitReason.COMPUTE_ENVIRONMENT_MAX_RESOURCE,
        },
        message_parts={
            "mem": ("'od' allows 1024 MiB memory (memory limit)",),
            "gpu": ("'od' allows 2 GPU (GPU limit)",),
        },
    ),
    Case(
        "too big for one CE, fits another that is full: not now, not never",
        snapshot(
            ces=[ce("small", 4), ce("large", 16)],
            queues=[queue("q", "small", "large")],
            jobs=[job("a", vcpus=8)],
            holding=[running("r", "q", "large", 16)],
        ),
        placed={},
        waiting={"a": WaitReason.CAPACITY},
        message_parts={"a": ("'small' allows 4 vCPU (maxvCpus); 'large' has 16/16 vCPU in use",)},
    ),
    Case(
        "fits only a DISABLED CE: not never",
        snapshot(
            ces=[ce("small", 4), ce("off", 64, disabled=True)],
            queues=[queue("q", "small", "off")],
            jobs=[job("a", vcpus=8)],
        ),
        placed={},
        waiting={"a": WaitReason.COMPUTE_ENVIRONMENT_DISABLED},
    ),
    Case(
        "a CE whose pods the cluster cannot place for too long overflows to the next",
        snapshot(
            ces=[ce("spot", 64), ce("od", 64)],
            queues=[queue("q", "spot", "od")],
            jobs=[job("a")],
            holding=[running("stuck", "q", "spot", 4, unschedulable_for=300)],
            grace=120,
        ),
        placed={"a": "od"},
    ),
    Case(
        "within the grace period the scheduler still counts on the CE's quota",
        snapshot(
            ces=[ce("spot", 64), ce("od", 64)],
            queues=[queue("q", "spot", "od")],
            jobs=[job("a")],
            holding=[running("stuck", "q", "spot", 4, unschedulable_for=60)],
            grace=120,
        ),
        placed={"a": "spot"},
    ),
    Case(
        "a stalled CE explains the wait",
        snapshot(
            ces=[ce("spot", 64)],
            queues=[queue("q", "spot")],
            jobs=[job("a")],
            holding=[running("stuck", "q", "spot", 4, unschedulable_for=300)],
        ),
        placed={},
        waiting={"a": WaitReason.INSUFFICIENT_INSTANCE_CAPACITY},
        message_parts={
            "a": ("'spot' takes no new jobs: a pod of job 'stuck' waits for a node",)
        },
    ),
    Case(
        "a unit of an unknown queue can never run",
        snapshot(ces=[ce("od")], queues=[queue("q", "od")], jobs=[job("a", "nope")]),
        placed={},
        waiting={"a": WaitReason.JOB_QUEUE_NOT_FOUND},
        message_parts={
            "a": ("MISCONFIGURATION:JOB_QUEUE_NOT_FOUND: job queue 'nope' does not exist",)
        },
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_scheduler_capacity_rule(case: Case) -> None:
    decisions = schedule(case.snapshot)
    assert placements(decisions) == case.placed
    assert reasons(decisions) == case.waiting
    for unit_id, parts in case.message_parts.items():
        message = decisions.waits[unit_id].message
        for part in parts:
            assert part in message, message


PERMANENT = {
    WaitReason.COMPUTE_ENVIRONMENT_MAX_RESOURCE,
    WaitReason.JOB_RESOURCE_REQUIREMENT,
    WaitReason.JOB_QUEUE_NOT_FOUND,
    WaitReason.SHARE_IDENTIFIER_MISSING,
}


@pytest.mark.parametrize("reason", list(WaitReason), ids=lambda reason: reason.name)
def test_only_configuration_errors_mean_never(reason: WaitReason) -> None:
    assert reason.cannot_ever_run is (reason in PERMANENT)


def test_plan_reports_usage_before_and_after_the_cycle() -> None:
    decisions = schedule(
        snapshot(
            ces=[ce("od", 16, max_memory_mib=8192, max_gpus=2), ce("idle", 4)],
            queues=[queue("q", "od")],
            jobs=[job("a", vcpus=2.5, memory_mib=1024, gpus=1)],
            holding=[running("r", "q", "od", 4, memory_mib=2048)],
        )
    )
    plan = decisions.compute_environments["od"]
    assert (plan.used_vcpus, plan.planned_vcpus) == (4, 6.5)
    assert (plan.used_memory_mib, plan.planned_memory_mib) == (2048, 3072)
    assert (plan.used_gpus, plan.planned_gpus) == (0, 1)
    assert plan.admitted_units == 1
    assert plan.held_for is None
    assert decisions.compute_environments["idle"].planned_vcpus == 0
    assert list(decisions.compute_environments) == ["idle", "od"]


def test_duplicate_unit_ids_are_refused() -> None:
    with pytest.raises(ValueError, match="appears twice"):
        schedule(snapshot(ces=[ce("od")], queues=[queue("q", "od")], jobs=[job("a"), job("a")]))
