"""The benchmark harness itself (bench/run.py, scenario A) at N = 20, on the session's cluster.

Proves the harness runs every contender to completion and reports sane numbers; never
asserts on how fast (DESIGN §5: numbers come from bench/, not from timed tests). The
kubatch contender runs against the session's ``operator`` fixture instead of starting a
second operator, which would fight the first one over the same jobs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.e2e.kubectl import Kubectl

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.scenarios import array  # noqa: E402
from bench.scenarios.common import Api, Bench, ExternalOperator  # noqa: E402

N = 20


async def test_array_burst_harness_completes_every_contender(kubectl: Kubectl, operator) -> None:
    process = getattr(operator, "_process", None)
    api = await Api.connect(kubectl.kubeconfig)
    try:
        bench = Bench(kubeconfig=kubectl.kubeconfig, api=api,
                      operator=ExternalOperator(pid=process.pid if process else None))
        rows = await array.run_scenario(bench, [N])
    finally:
        await api.close()

    assert [row["contender"] for row in rows] == ["raw", "job", "kubatch"]
    for row in rows:
        assert row["n"] == N and row["completed"] == N, row
        assert row["makespan_s"] > 0 and row["pods_per_s"] > 0, row
        assert 0 <= row["first_pod_s"] <= row["last_pod_s"] <= row["pods_done_s"], row
        assert row["created_curve"][-1][1] == N and row["succeeded_curve"][-1][1] == N, row
    kubatch = rows[-1]
    if process is not None:
        assert kubatch["operator_cpu_s"] >= 0 and kubatch["operator_peak_rss_mib"] > 0, kubatch
