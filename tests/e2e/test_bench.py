"""The benchmark harness itself (bench/run.py's path for scenario A) at N = 20, on the session's cluster.

Proves the harness runs every contender to completion, repeats them in a rotating
order, measures every cluster process and the API server's requests, writes one data
file per run and generates a report from those files alone; never asserts on how fast
(DESIGN §5: numbers come from bench/, not from timed tests). The kubatch contender runs
against the session's ``operator`` fixture instead of starting a second operator, which
would fight the first one over the same jobs.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tests.e2e.kubectl import Kubectl

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench import report  # noqa: E402
from bench.scenarios import array, localcluster  # noqa: E402
from bench.scenarios.common import Api, Bench, ExternalOperator, cluster_meter, machine  # noqa: E402

N = 20
REPEAT = 2


async def test_array_burst_harness_completes_every_contender(kubectl: Kubectl, operator, uses_local_cluster: bool,
                                                             tmp_path: Path) -> None:
    process = getattr(operator, "_process", None)
    handle = ExternalOperator(pid=process.pid if process else None)
    cluster_dir = localcluster.state_dir() if uses_local_cluster else None
    api = await Api.connect(kubectl.kubeconfig)
    try:
        bench = Bench(kubeconfig=kubectl.kubeconfig, api=api, operator=handle, repeat=REPEAT,
                      meter=cluster_meter(api, cluster_dir, handle), sink=report.RunFiles(tmp_path))
        rows = await array.run_scenario(bench, [N])
    finally:
        await api.close()

    assert [(row["repeat"], row["contender"]) for row in rows] == [
        (1, "raw"), (1, "job"), (1, "kubatch"), (2, "job"), (2, "kubatch"), (2, "raw")]
    for row in rows:
        assert row["n"] == N and row["completed"] == N, row
        assert row["makespan_s"] > 0 and row["pods_per_s"] > 0, row
        assert 0 <= row["first_pod_s"] <= row["last_pod_s"] <= row["pods_done_s"], row
        assert row["created_curve"][-1][1] == N and row["succeeded_curve"][-1][1] == N, row
        cost = row["cost"]
        assert cost["cpu_s"]["harness"] >= 0 and cost["peak_rss_mib"]["harness"] > 0, cost
        # every contender made at least its N pods, and the server counted them
        assert cost["api"]["writes_by_kind"].get("POST pods", 0) >= N, cost["api"]
        assert report.classify_writes(cost["api"]["writes_by_kind"])["contender"] >= N, cost["api"]
        if uses_local_cluster:
            assert set(localcluster.COMPONENTS) <= set(cost["cpu_s"]), cost
    kubatch = [row for row in rows if row["contender"] == "kubatch"]
    if process is not None:
        for row in kubatch:
            assert row["operator_cpu_s"] >= 0 and row["operator_peak_rss_mib"] > 0, row
            assert row["cost"]["cpu_s"]["operator"] >= 0, row

    report.write_meta(tmp_path, {"command": "tests/e2e/test_bench.py", "label": "e2e", "started": "now",
                                 "machine": machine(), "repeat": REPEAT})
    assert len(list((tmp_path / "runs").glob("*.json"))) == len(rows)
    text = report.render(tmp_path)
    for contender in array.CONTENDERS:
        assert f"| {N} | {contender} | {REPEAT} | {N} |" in text, text
    assert "kubatch vs raw" in text and "## Who used the machine" in text, text
