"""The CLI on the nodes of a multi-node job, with the operator running: AWS's ``<job>#<node>`` form.

A 3-node job (main node 0, workers 1-2) runs on the suite's operator; once it has
SUCCEEDED and the workers' pods are gone, each node is read back through ``kubatch``
the way AWS users read them with ``aws batch describe-jobs --jobs <id>#<n>`` and
``aws batch list-jobs --multi-node-job-id <id>``.
"""

from __future__ import annotations

import json

import pytest

from tests.e2e.kubectl import Kubectl
from tests.e2e.test_cli import Run, crds, kubatch, names, output  # noqa: F401 (fixtures)
from tests.e2e.test_cli_arrays import queue  # noqa: F401 (fixture: an EC2 environment of 8 vCPU and its queue)

from tests.unit.test_http_server import shape_problems

pytestmark = pytest.mark.usefixtures("operator")


def test_nodes_of_a_multinode_job_are_described_and_listed(kubatch: Run, kubectl: Kubectl, namespace: str,
                                                           queue: str) -> None:
    node = {"image": "busybox", "command": ["mpirun"], "resourceRequirements": [
        {"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "256"}]}
    kubatch("register-job-definition", "--job-definition-name", "mpi", "--type", "multinode",
            "--node-properties", json.dumps({"numNodes": 3, "mainNode": 0, "nodeRangeProperties": [
                {"targetNodes": "0", "container": node}, {"targetNodes": "1:", "container": node}]}))
    uid = output(kubatch("submit-job", "--job-name", "mpi-run", "--job-definition", "mpi", "--job-queue", queue,
                         "--propagate-tags", "--tags", json.dumps({"kubatch.io/sim-run-seconds": "3"})))["jobId"]
    (job,) = output(kubatch("wait", "mpi-run", "--for", "SUCCEEDED", "--timeout", "60"))["jobs"]
    assert job["nodeProperties"]["numNodes"] == 3 and job["nodeProperties"]["mainNode"] == 0

    workers = f"kubatch.io/job-id={uid},kubatch.io/node-index!=0"
    kubectl.wait_for("the workers' pods deleted",
                     lambda: not (kubectl.get("pods", namespace=namespace, selector=workers) or {}).get("items"))
    every = output(kubatch("describe-jobs", "--jobs", *[f"mpi-run#{index}" for index in range(3)]))
    assert not shape_problems("DescribeJobs", every)
    for index, described in enumerate(every["jobs"]):
        assert described["status"] == "SUCCEEDED", described
        (attempt,) = described["attempts"]
        assert attempt["container"]["podName"] == f"mpi-run-n{index}-a1"
        assert attempt["container"]["nodeName"] and attempt["stoppedAt"] >= attempt.get("startedAt", 0) > 0
        assert described["stoppedAt"] == attempt["stoppedAt"] and described["startedAt"] == attempt["startedAt"]
        assert described["container"]["image"] == "busybox"
    assert every["jobs"][0]["container"]["exitCode"] == 0

    (main,) = output(kubatch("describe-jobs", "--jobs", "mpi-run#0"))["jobs"]
    assert main["jobId"] == f"{uid}#0" and main["jobArn"].endswith(f":job/{uid}#0")
    assert main["nodeDetails"] == {"nodeIndex": 0, "isMainNode": True}
    assert main["status"] == "SUCCEEDED"
    assert main["container"]["exitCode"] == 0 and main["container"]["podName"].startswith("mpi-run-")
    (same,) = output(kubatch("describe-jobs", "--jobs", f"{uid}#0"))["jobs"]
    assert same == main
    (worker,) = output(kubatch("describe-jobs", "--jobs", f"{uid}#2"))["jobs"]
    assert worker["nodeDetails"] == {"nodeIndex": 2, "isMainNode": False}
    assert worker["jobId"] == f"{uid}#2"
    assert output(kubatch("describe-jobs", "--jobs", f"{uid}#3")) == {"jobs": []}

    listed = output(kubatch("list-jobs", "--multi-node-job-id", "mpi-run", "--filters",
                            "name=JOB_NAME,values=mpi-run"))["jobSummaryList"]
    assert [summary["jobId"] for summary in listed] == [f"{uid}#{index}" for index in range(3)]
    assert all(summary["nodeProperties"]["nodeIndex"] == index and summary["jobName"] == "mpi-run"
               for index, summary in enumerate(listed))
    succeeded = output(kubatch("list-jobs", "--multi-node-job-id", uid, "--job-status", "SUCCEEDED"))
    assert f"{uid}#0" in [summary["jobId"] for summary in succeeded["jobSummaryList"]]
