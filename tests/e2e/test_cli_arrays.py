"""The CLI on array children, with the operator running: describe, list and log one child.

A size-5 array is submitted with ``kubatch submit-job --array-properties size=5``; its odd
children fail their first attempt (kwok's ``sim-exit-codes-odd-index``) and succeed on
the retry, so child 3 has two attempts, of which the operator keeps only the last pod
(``--pod-retention last``). Everything is read back through ``kubatch``, as AWS users
would read it with ``aws batch``.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from tests.e2e.test_cli import CLIENT_ERROR, Run, crds, kubatch, names, output  # noqa: F401 (fixtures)

pytestmark = pytest.mark.usefixtures("operator")
STATES = ("SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED", "FAILED")


@pytest.fixture
def queue(kubatch: Run, names: Callable[[str], str]) -> str:
    """An on-demand (EC2) environment of 8 vCPU and a queue on it, made with the CLI."""
    environment, queue_name = names("ce"), names("jq")
    kubatch("create-compute-environment", "--compute-environment-name", environment, "--type", "MANAGED",
            "--compute-resources", "type=EC2,minvCpus=0,maxvCpus=8,instanceRole=ecsInstanceRole")
    kubatch("create-job-queue", "--job-queue-name", queue_name, "--priority", "1",
            "--compute-environment-order", f"order=1,computeEnvironment={environment}")
    return queue_name


def test_children_of_an_array_are_described_listed_and_logged(kubatch: Run, queue: str) -> None:
    kubatch("register-job-definition", "--job-definition-name", "indexed", "--type", "container",
            "--container-properties", json.dumps({"image": "busybox", "command": ["sh", "-c", "echo hi"],
                                                  "resourceRequirements": [{"type": "VCPU", "value": "1"},
                                                                           {"type": "MEMORY", "value": "256"}]}),
            "--retry-strategy", "attempts=2")
    submitted = output(kubatch("submit-job", "--job-name", "arr", "--job-definition", "indexed", "--job-queue", queue,
                               "--array-properties", "size=5", "--propagate-tags",
                               "--tags", json.dumps({"kubatch.io/sim-exit-codes-odd-index": "1,0"})))
    uid = submitted["jobId"]
    (parent,) = output(kubatch("wait", "arr", "--for", "SUCCEEDED", "--timeout", "50"))["jobs"]
    assert parent["arrayProperties"] == {"size": 5, "statusSummary": dict.fromkeys(STATES, 0) | {"SUCCEEDED": 5}}

    (child,) = output(kubatch("describe-jobs", "--jobs", "arr:3"))["jobs"]
    assert child["jobId"] == f"{uid}:3" and child["jobArn"].endswith(f":job/{uid}:3")
    assert child["jobName"] == "arr"
    assert child["status"] == "SUCCEEDED"
    assert child["arrayProperties"] == {"index": 3}
    first, last = child["attempts"]
    assert first == {"container": {"podName": "arr-i3-a1"}}  # retried: its pod is gone, its number stays
    assert last["container"]["exitCode"] == 0 and last["container"]["podName"] == "arr-i3-a2"
    assert last["container"]["nodeName"]  # from the kept pod
    assert child["container"]["exitCode"] == 0 and child["container"]["podName"] == "arr-i3-a2"
    assert child["container"]["image"] == "busybox"
    assert parent["createdAt"] == child["createdAt"] <= child["startedAt"] <= child["stoppedAt"]
    (same,) = output(kubatch("describe-jobs", "--jobs", f"{uid}:3"))["jobs"]
    assert same == child

    listed = output(kubatch("list-jobs", "--array-job-id", "arr", "--job-status", "SUCCEEDED"))["jobSummaryList"]
    assert [summary["jobId"] for summary in listed] == [f"{uid}:{index}" for index in range(5)]
    assert all(summary["jobName"] == "arr" and summary["container"] == {"exitCode": 0}
               and summary["arrayProperties"] == {"index": index} for index, summary in enumerate(listed))
    page = output(kubatch("list-jobs", "--array-job-id", uid, "--job-status", "SUCCEEDED", "--max-results", "2"))
    rest = output(kubatch("list-jobs", "--array-job-id", uid, "--job-status", "SUCCEEDED",
                          "--next-token", page["nextToken"]))
    assert [s["jobId"] for s in page["jobSummaryList"] + rest["jobSummaryList"]] == [s["jobId"] for s in listed]
    assert output(kubatch("list-jobs", "--array-job-id", "arr"))["jobSummaryList"] == []  # none RUNNING

    gone = kubatch("logs", "arr:3", "--attempt", "1", check=False)
    assert (gone.returncode, gone.stdout) == (CLIENT_ERROR, "")
    assert gone.stderr.startswith("kubatch: ClientException: job: the pod of attempt 1 of arr:3, arr-i3-a1, is gone")
    missing = kubatch("describe-jobs", "--jobs", "arr:5")
    assert output(missing) == {"jobs": []}
