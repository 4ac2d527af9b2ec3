"""The scheduler on the real control plane: priority, CE fallback, misfits, fair share, metrics."""

from __future__ import annotations

import time
import urllib.request
from typing import Iterator

import pytest

from tests.e2e.batch import batch_job, compute_environment, job_definition, job_queue, job_status, job_statuses, unique
from tests.e2e.kubectl import Kubectl

pytestmark = pytest.mark.usefixtures("operator")


@pytest.fixture
def cluster_objects(kubectl: Kubectl) -> Iterator[list[dict]]:
    """Cluster-scoped objects a test creates; deleted afterwards."""
    created: list[dict] = []
    yield created
    for manifest in reversed(created):
        kubectl.run("delete", manifest["kind"].lower(), manifest["metadata"]["name"], "--wait=false", check=False)


def create(kubectl: Kubectl, created: list[dict], *manifests: dict) -> None:
    kubectl.apply(*manifests)
    created.extend(manifests)


def wait_all_succeeded(kubectl: Kubectl, namespace: str, names: list[str], *, timeout: float = 120) -> dict[str, dict]:
    return kubectl.wait_for(
        f"{len(names)} jobs to succeed",
        lambda: (found := job_statuses(kubectl, namespace, names))
        and all(s.get("status") == "SUCCEEDED" for s in found.values()) and found,
        timeout=timeout, interval=0.5)


def test_higher_priority_queue_is_served_first(kubectl: Kubectl, namespace: str, cluster_objects: list) -> None:
    ce, high, low = unique("prio-ce"), unique("q-high"), unique("q-low")
    create(kubectl, cluster_objects, compute_environment(ce, max_vcpus=1),
           job_queue(high, ce, priority=10), job_queue(low, ce, priority=1))
    kubectl.apply(job_definition("one"), namespace=namespace)
    kubectl.apply(batch_job("blocker", definition="one", queue=low, simulate={"run-seconds": "4"}), namespace=namespace)
    kubectl.wait_for("the blocker to hold the CE", lambda: job_status(kubectl, namespace, "blocker")
                     .get("status") in ("STARTING", "RUNNING"))
    lows = [f"low-{i}" for i in range(3)]
    highs = [f"high-{i}" for i in range(3)]
    kubectl.apply(*(batch_job(n, definition="one", queue=low, simulate={"run-seconds": "0.5"}) for n in lows),
                  namespace=namespace)
    kubectl.apply(*(batch_job(n, definition="one", queue=high, simulate={"run-seconds": "0.5"}) for n in highs),
                  namespace=namespace)

    done = wait_all_succeeded(kubectl, namespace, lows + highs)
    last_high_start = max(done[n]["startedAt"] for n in highs)
    first_low_start = min(done[n]["startedAt"] for n in lows)
    assert last_high_start <= first_low_start, {n: done[n]["startedAt"] for n in lows + highs}


def test_queue_overflows_from_spot_to_on_demand(kubectl: Kubectl, namespace: str, cluster_objects: list) -> None:
    spot, ondemand, queue = unique("spot-ce"), unique("od-ce"), unique("q-overflow")
    create(kubectl, cluster_objects, compute_environment(spot, type_="SPOT", max_vcpus=2),
           compute_environment(ondemand, max_vcpus=16), job_queue(queue, spot, ondemand))
    kubectl.apply(job_definition("one"), namespace=namespace)
    names = [f"burst-{i}" for i in range(4)]
    kubectl.apply(*(batch_job(n, definition="one", queue=queue, simulate={"run-seconds": "4"}) for n in names),
                  namespace=namespace)
    done = wait_all_succeeded(kubectl, namespace, names)
    placed = sorted(s["computeEnvironment"] for s in done.values())
    assert placed == sorted([spot, spot, ondemand, ondemand])


def test_job_too_big_for_every_ce_says_so_and_stays_runnable(kubectl: Kubectl, namespace: str,
                                                              cluster_objects: list) -> None:
    ce, queue = unique("small-ce"), unique("q-small")
    create(kubectl, cluster_objects, compute_environment(ce, max_vcpus=16), job_queue(queue, ce))
    kubectl.apply(job_definition("huge", vcpus="32"), batch_job("huge-1", definition="huge", queue=queue),
                  namespace=namespace)
    status = kubectl.wait_for("the misfit's reason", lambda: (s := job_status(kubectl, namespace, "huge-1"))
                              .get("statusReason", "").startswith("MISCONFIGURATION") and s)
    assert status["status"] == "RUNNABLE"
    assert status["statusReason"] == "MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE"
    assert "32 vCPU" in status["statusMessage"] and ce in status["statusMessage"]
    events = kubectl.run("get", "events", "-n", namespace, "--field-selector", "reason=CannotRun").stdout
    assert "huge-1" in events


def test_time_limit_action_cancels_a_misfit(kubectl: Kubectl, namespace: str, cluster_objects: list) -> None:
    ce, queue = unique("tl-ce"), unique("q-tl")
    limit = [{"reason": "MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE", "state": "RUNNABLE", "maxTimeSeconds": 600,
              "action": "CANCEL"}]
    create(kubectl, cluster_objects, compute_environment(ce, max_vcpus=4),
           job_queue(queue, ce, jobStateTimeLimitActions=limit))
    kubectl.apply(job_definition("big", vcpus="8"), batch_job("big-1", definition="big", queue=queue),
                  namespace=namespace)
    waiting = kubectl.wait_for("the misfit to wait", lambda: (s := job_status(kubectl, namespace, "big-1"))
                               .get("statusReason", "").startswith("MISCONFIGURATION") and s)
    assert waiting["status"] == "RUNNABLE"
    # maxTimeSeconds is at least 600 s, too long for a test: age the job instead of waiting.
    aged = waiting["runnableAt"] - 601_000
    kubectl.run("patch", "bj", "big-1", "-n", namespace, "--subresource=status", "--type=merge",
                "-p", f'{{"status": {{"runnableAt": {aged}}}}}')
    status = kubectl.wait_for("the time limit to cancel it", lambda: (s := job_status(kubectl, namespace, "big-1"))
                              .get("status") == "FAILED" and s, timeout=30)
    assert status["statusReason"] == "JobStateTimeLimit"


def test_fair_share_splits_capacity_by_weight(kubectl: Kubectl, namespace: str, cluster_objects: list) -> None:
    ce, queue, policy = unique("fs-ce"), unique("q-fs"), unique("sp")
    sp = {"apiVersion": "kubatch.io/v1alpha1", "kind": "SchedulingPolicy", "metadata": {"name": policy},
          "spec": {"fairsharePolicy": {"shareDecaySeconds": 60, "shareDistribution": [
              {"shareIdentifier": "blue", "weightFactor": 1.0}, {"shareIdentifier": "green", "weightFactor": 0.5}]}}}
    # The CE opens only once both shares wait: otherwise whichever share's jobs reach the
    # operator first would fill the first wave and the samples would measure arrival order.
    create(kubectl, cluster_objects, sp, compute_environment(ce, max_vcpus=3, state="DISABLED"),
           job_queue(queue, ce, schedulingPolicy=policy))
    kubectl.apply(job_definition("one"), namespace=namespace)
    names = {share: [f"{share}-{i}" for i in range(8)] for share in ("blue", "green")}
    kubectl.apply(*(batch_job(n, definition="one", queue=queue, shareIdentifier=share,
                              simulate={"run-seconds": "3"})
                    for share, jobs in names.items() for n in jobs), namespace=namespace)
    everyone = names["blue"] + names["green"]
    kubectl.wait_for("every job to wait", lambda: all(
        s.get("status") == "RUNNABLE" for s in job_statuses(kubectl, namespace, everyone).values()))
    kubectl.run("patch", "ce", ce, "--type=merge", "-p", '{"spec": {"state": "ENABLED"}}')

    samples = {"blue": 0, "green": 0}
    deadline = time.monotonic() + 12  # two or three waves of 3 s jobs
    while time.monotonic() < deadline:
        for share, jobs in names.items():
            samples[share] += sum(s.get("status") in ("STARTING", "RUNNING")
                                  for s in job_statuses(kubectl, namespace, jobs).values())
        time.sleep(0.5)
    assert samples["green"] > samples["blue"] > 0, samples
    wait_all_succeeded(kubectl, namespace, names["blue"] + names["green"], timeout=180)


def test_metrics_endpoint_serves_the_scheduler_metrics(operator) -> None:
    body = urllib.request.urlopen(operator.metrics_url, timeout=5).read().decode()
    for name in ("kubatch_jobs", "kubatch_compute_environment_used_vcpus", "kubatch_compute_environment_max_vcpus",
                 "kubatch_scheduling_cycle_duration_seconds_bucket", "kubatch_job_submit_to_starting_seconds_bucket",
                 "kubatch_dispatch_errors_total"):
        assert name in body, name
