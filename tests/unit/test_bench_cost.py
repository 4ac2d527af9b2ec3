"""The benchmark's cost meter: /proc readings of processes and the API server's request counts."""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.scenarios.cost import Meter, classify_writes, request_counts, summarise_requests  # noqa: E402
from bench.scenarios.localcluster import _with_limits  # noqa: E402

METRICS_BEFORE = """\
# HELP apiserver_request_total [STABLE] Counter of apiserver requests
# TYPE apiserver_request_total counter
apiserver_request_total{code="201",component="apiserver",dry_run="",group="",resource="pods",scope="resource",subresource="",verb="POST",version="v1"} 10
apiserver_request_total{code="409",component="apiserver",dry_run="",group="",resource="pods",scope="resource",subresource="",verb="POST",version="v1"} 2
apiserver_request_total{code="200",component="apiserver",dry_run="",group="",resource="pods",scope="namespace",subresource="",verb="LIST",version="v1"} 5
apiserver_request_total_other{verb="POST"} 99
"""
METRICS_AFTER = """\
apiserver_request_total{code="201",component="apiserver",dry_run="",group="",resource="pods",scope="resource",subresource="",verb="POST",version="v1"} 110
apiserver_request_total{code="409",component="apiserver",dry_run="",group="",resource="pods",scope="resource",subresource="",verb="POST",version="v1"} 2
apiserver_request_total{code="201",component="apiserver",dry_run="",group="",resource="pods",scope="resource",subresource="binding",verb="POST",version="v1"} 100
apiserver_request_total{code="200",component="apiserver",dry_run="",group="",resource="pods",scope="resource",subresource="status",verb="PATCH",version="v1"} 300
apiserver_request_total{code="200",component="apiserver",dry_run="",group="kubatch.io",resource="batchjobs",scope="resource",subresource="status",verb="PATCH",version="v1alpha1"} 7
apiserver_request_total{code="200",component="apiserver",dry_run="",group="",resource="pods",scope="namespace",subresource="",verb="LIST",version="v1"} 6
"""


def test_request_counts_sum_codes_by_verb_resource_and_subresource() -> None:
    counts = request_counts(METRICS_BEFORE)
    assert counts == {("POST", "pods", ""): 12, ("LIST", "pods", ""): 5}


def test_requests_between_readings_separate_the_contenders_writes_from_the_common_ones() -> None:
    summary = summarise_requests(request_counts(METRICS_BEFORE), request_counts(METRICS_AFTER))
    assert summary["requests"] == 100 + 100 + 300 + 7 + 1
    assert summary["writes"] == 100 + 100 + 300 + 7
    assert summary["writes_by_kind"] == {"PATCH batchjobs/status": 7, "PATCH pods/status": 300,
                                         "POST pods": 100, "POST pods/binding": 100}


def test_writes_are_split_into_the_contenders_events_and_those_the_same_for_every_contender() -> None:
    split = classify_writes({"PATCH batchjobs/status": 7, "PATCH pods/status": 300, "POST pods": 100,
                             "POST pods/binding": 100, "POST events": 200, "PATCH events": 4, "PUT leases": 1,
                             "PATCH nodes/status": 10, "PATCH pods": 100})
    # not the scheduler's bindings, kwok's pod status, heartbeats; events counted apart
    assert split == {"contender": 7 + 100 + 100, "events": 204, "common": 300 + 100 + 1 + 10}


async def test_meter_reads_cpu_and_peak_rss_of_each_process_and_the_api_counts() -> None:
    readings = iter([METRICS_BEFORE, METRICS_AFTER])

    async def metrics() -> str:
        return next(readings)

    meter = Meter(processes=lambda: {"harness": os.getpid(), "operator": None}, metrics=metrics)
    reading = await meter.begin()
    sum(i * i for i in range(200_000))  # some CPU in between
    cost = await meter.end(reading)
    assert set(cost["cpu_s"]) == {"harness"} and cost["cpu_s"]["harness"] >= 0
    assert cost["peak_rss_mib"]["harness"] > 0
    assert cost["peak_rss_scope"] in ("run", "lifetime")
    assert cost["api"]["writes"] == 507 and cost["api"]["writes_by_kind"]["POST pods"] == 100


async def test_meter_leaves_out_a_process_it_cannot_read_rather_than_guess() -> None:
    meter = Meter(processes=lambda: {"gone": 2**22 + 12345})
    cost = await meter.end(await meter.begin())
    assert cost["cpu_s"] == {} and "api" not in cost


def test_controller_manager_limits_are_replaced_or_added_in_its_command_line() -> None:
    argv = ["kube-controller-manager", "--kube-api-qps", "500", "--kube-api-burst", "1000", "--v", "2"]
    assert _with_limits(argv, 50, 100) == ["kube-controller-manager", "--kube-api-qps", "50", "--kube-api-burst",
                                           "100", "--v", "2"]
    assert _with_limits(["kcm"], 50.5, 100) == ["kcm", "--kube-api-qps", "50.5", "--kube-api-burst", "100"]
