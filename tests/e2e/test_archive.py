"""Finished jobs leave the cluster after their retention and keep answering from the archive.

Each test runs its own operator with ``--archive-url`` (a SQLite file, or a fresh
database on a real PostgreSQL server: ``archive_url`` in tests/conftest.py) while the
suite's operator is paused. A queue with ``finishedJobRetentionSeconds: 2`` (the
operator's default is a day) takes a single job and an array job to SUCCEEDED, while a
long job on another queue that depends on both keeps them in the cluster. The answers
of ``kubatch describe-jobs``/``list-jobs`` (CLI) and DescribeJobs/ListJobs (``kubatch
api`` through boto3) are recorded; that job is then terminated, the two jobs and their
pods disappear from the cluster, and the same questions must get the same JSON, now
from the archive.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kubatch.archive import ListQuery, open_archive
from tests.e2e.batch import (batch_job, compute_environment, job_definition, job_queue, queue_on_new_environment,
                             unique, wait_for_state)
from tests.e2e.conftest import OPERATOR_LOGS, REPO_ROOT, OperatorProcess, _free_port
from tests.e2e.kubectl import Kubectl
from tests.unit.test_service_archived import without_pod_details

boto3 = pytest.importorskip("boto3", reason="boto3 is a test dependency (.[test])")

RETENTION_SECONDS = 2
ARCHIVE_TIMEOUT = 90


@pytest.fixture
def retained_queue(kubectl: Kubectl) -> Iterator[str]:
    """A queue whose finished jobs stay 2 s, on its own compute environment."""
    environment, queue = unique("archive-ce"), unique("q-archive")
    kubectl.apply(compute_environment(environment, max_vcpus=8),
                  job_queue(queue, environment, finishedJobRetentionSeconds=RETENTION_SECONDS))
    yield queue
    for kind, name in (("jobqueue", queue), ("computeenvironment", environment)):
        kubectl.run("delete", kind, name, "--wait=false", check=False)


@pytest.fixture
def archiving_operator(kubectl: Kubectl, archive_url: str, suite_operator_paused: None,
                       tmp_path: Path) -> Iterator[OperatorProcess]:
    process = OperatorProcess(kubeconfig=kubectl.kubeconfig, log=tmp_path / "operator.log",
                              args=("--archive-url", archive_url, "--finished-job-retention", "1d"))
    OPERATOR_LOGS.append(process.log)
    process.start()
    yield process
    if process.is_running():
        process.stop()


@pytest.fixture
def cli(kubectl: Kubectl, namespace: str, archive_url: str) -> Callable[..., Any]:
    """``kubatch VERB ARGS`` in the test's namespace, reading the archive too; its parsed JSON."""

    def run(*args: str) -> Any:
        result = subprocess.run([sys.executable, "-m", "kubatch.cli.main", *args, "--kubeconfig",
                                 str(kubectl.kubeconfig), "-n", namespace], capture_output=True, text=True,
                                timeout=60, cwd=REPO_ROOT, env=os.environ | {"KUBATCH_ARCHIVE_URL": archive_url})
        assert result.returncode == 0, f"kubatch {' '.join(args)}: {result.stderr}"
        return json.loads(result.stdout)

    return run


@pytest.fixture
def batch(kubectl: Kubectl, namespace: str, archive_url: str, tmp_path: Path) -> Iterator[Any]:
    """A boto3 Batch client on ``kubatch api --no-auth --archive-url …`` in the test's namespace."""
    port, log = _free_port(), tmp_path / "api.log"
    with open(log, "ab") as sink:
        process = subprocess.Popen([sys.executable, "-m", "kubatch.cli.main", "api", "--port", str(port),
                                    "--kubeconfig", str(kubectl.kubeconfig), "--no-auth", "-n", namespace,
                                    "--archive-url", archive_url], stdout=sink, stderr=subprocess.STDOUT,
                                   cwd=REPO_ROOT)
    url = f"http://127.0.0.1:{port}"
    try:
        kubectl.wait_for("kubatch api", lambda: _healthy(url, process, log), timeout=30)
        yield boto3.client("batch", endpoint_url=url, region_name="us-east-1", aws_access_key_id="AKIAX",
                           aws_secret_access_key="x")
    finally:
        process.terminate()
        process.wait(timeout=20)


def _healthy(url: str, process: subprocess.Popen, log: Path) -> bool:
    assert process.poll() is None, f"kubatch api exited:\n{log.read_text()}"
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _without_metadata(answer: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in answer.items() if key != "ResponseMetadata"}


def answers(cli: Callable[..., Any], batch: Any, *, queue: str, single: str, array: str) -> dict[str, Any]:
    """What the CLI and the HTTP API say about the two jobs: describe (by id, name, child) and every ListJobs filter."""
    created = cli("describe-jobs", "--jobs", single)["jobs"][0]["createdAt"]
    listings = {
        "succeeded": ["--job-status", "SUCCEEDED"],
        "by name": ["--filters", "name=JOB_NAME,values=archived-*"],
        "by definition": ["--filters", "name=JOB_DEFINITION,values=archived-def"],
        "after": ["--filters", f"name=AFTER_CREATED_AT,values={created - 1}"],
        "before": ["--filters", f"name=BEFORE_CREATED_AT,values={created + 3_600_000}"],
    }
    found: dict[str, Any] = {
        "cli describe": cli("describe-jobs", "--jobs", single, "archived-single", array, f"{array}:1"),
        "http describe": _without_metadata(batch.describe_jobs(jobs=[single, "archived-single", array,
                                                                     f"{array}:1"])),
        "cli children": cli("list-jobs", "--array-job-id", array, "--job-status", "SUCCEEDED"),
        "http children": _without_metadata(batch.list_jobs(arrayJobId=array, jobStatus="SUCCEEDED")),
    }
    for what, args in listings.items():
        found[f"cli list {what}"] = cli("list-jobs", "--job-queue", queue, *args)
    found["http list succeeded"] = _without_metadata(batch.list_jobs(jobQueue=queue, jobStatus="SUCCEEDED"))
    found["http list by name"] = _without_metadata(batch.list_jobs(
        jobQueue=queue, filters=[{"name": "JOB_NAME", "values": ["archived-*"]}]))
    # paging: one job per page, across what is live and what is archived alike
    first = batch.list_jobs(jobQueue=queue, jobStatus="SUCCEEDED", maxResults=1)
    second = batch.list_jobs(jobQueue=queue, jobStatus="SUCCEEDED", maxResults=1, nextToken=first["nextToken"])
    found["http pages"] = [first["jobSummaryList"], second["jobSummaryList"], "nextToken" in second]
    return found


def hold(kubectl: Kubectl, namespace: str, queue: str, *names: str) -> None:
    """A long job on another queue that depends on ``names``: while it runs (undecided) they stay in the cluster."""
    kubectl.apply(job_definition("holder-def"), batch_job("holder", definition="holder-def", queue=queue,
                                                          dependsOn=[{"jobId": name} for name in names],
                                                          simulate={"run-seconds": "600"}), namespace=namespace)


def release(kubectl: Kubectl, namespace: str) -> None:
    """Terminate the holder: once it FAILED, the jobs it depended on are due."""
    wait_for_state(kubectl, namespace, "holder", {"RUNNING"})
    kubectl.run("patch", "batchjob", "holder", "-n", namespace, "--type", "merge", "-p",
                json.dumps({"spec": {"terminateRequest": {"reason": "released by the test"}}}))


@pytest.fixture
def holder_queue(kubectl: Kubectl) -> Iterator[str]:
    yield from queue_on_new_environment(kubectl, "holder")


def test_a_finished_job_leaves_the_cluster_and_answers_the_same_from_the_archive(
        kubectl: Kubectl, namespace: str, retained_queue: str, holder_queue: str,
        archiving_operator: OperatorProcess, cli: Callable[..., Any], batch: Any) -> None:
    kubectl.apply(job_definition("archived-def"), namespace=namespace)
    kubectl.apply(batch_job("archived-single", definition="archived-def", queue=retained_queue),
                  batch_job("archived-array", definition="archived-def", queue=retained_queue,
                            arrayProperties={"size": 3}), namespace=namespace)
    hold(kubectl, namespace, holder_queue, "archived-single", "archived-array")
    for name in ("archived-single", "archived-array"):
        wait_for_state(kubectl, namespace, name, {"SUCCEEDED"})
    single = kubectl.get("batchjob", "archived-single", namespace=namespace)["metadata"]["uid"]
    array = kubectl.get("batchjob", "archived-array", namespace=namespace)["metadata"]["uid"]
    before = answers(cli, batch, queue=retained_queue, single=single, array=array)
    assert len(before["cli describe"]["jobs"]) == 4 and len(before["cli list succeeded"]["jobSummaryList"]) == 2
    assert len(before["cli children"]["jobSummaryList"]) == 3
    assert kubectl.get("batchjob", "archived-single", namespace=namespace) is not None  # answered by the cluster

    release(kubectl, namespace)
    for name in ("archived-single", "archived-array"):
        kubectl.wait_for(f"{name} gone from the cluster",
                         lambda name=name: kubectl.get("batchjob", name, namespace=namespace) is None,
                         timeout=ARCHIVE_TIMEOUT)
    kubectl.wait_for("their pods gone too (owner references)", lambda: not [
        pod for pod in (kubectl.get("pods", namespace=namespace) or {"items": []})["items"]
        if pod["metadata"]["labels"].get("kubatch.io/job-id") in (single, array)], timeout=ARCHIVE_TIMEOUT)
    after = answers(cli, batch, queue=retained_queue, single=single, array=array)
    for what in ("cli children", "http children"):  # archived children list what their pods told (the unit twin)
        assert all("startedAt" in child for child in after[what]["jobSummaryList"]), what
        after[what], before[what] = without_pod_details(after[what]), without_pod_details(before[what])
    for what in before:
        assert after[what] == before[what], f"{what}: {json.dumps(after[what])} != {json.dumps(before[what])}"


def _rows(archive_url: str, namespace: str) -> list[str]:
    async def read() -> list[str]:
        archive = open_archive(archive_url, writer=False)
        try:
            return [record.job_id for record in await archive.list(ListQuery(namespace=namespace, limit=100))]
        finally:
            await archive.close()

    return asyncio.run(read())


def test_a_crash_between_archiving_and_deleting_loses_and_doubles_nothing(
        kubectl: Kubectl, namespace: str, retained_queue: str, holder_queue: str,
        archiving_operator: OperatorProcess, cli: Callable[..., Any], archive_url: str) -> None:
    kubectl.apply(job_definition("archived-def"), namespace=namespace)
    kubectl.apply(batch_job("archived-single", definition="archived-def", queue=retained_queue),
                  namespace=namespace)
    hold(kubectl, namespace, holder_queue, "archived-single")
    wait_for_state(kubectl, namespace, "archived-single", {"SUCCEEDED"})
    uid = kubectl.get("batchjob", "archived-single", namespace=namespace)["metadata"]["uid"]
    # restarted so that it SIGKILLs itself right after its first archive write, before the delete
    archiving_operator.stop()
    archiving_operator.extra_env["KUBATCH_FAULT_AFTER_ARCHIVE"] = "1"
    archiving_operator.start()
    release(kubectl, namespace)
    kubectl.wait_for("the operator killed after archiving", lambda: not archiving_operator.is_running(),
                     timeout=ARCHIVE_TIMEOUT)
    assert _rows(archive_url, namespace) == [uid]
    assert kubectl.get("batchjob", "archived-single", namespace=namespace) is not None  # in both places now
    listed = cli("list-jobs", "--job-queue", retained_queue, "--job-status", "SUCCEEDED")["jobSummaryList"]
    assert [job["jobId"] for job in listed] == [uid]  # ... and listed once

    archiving_operator.extra_env.clear()
    archiving_operator.start()
    kubectl.wait_for("the job deleted after the restart",
                     lambda: kubectl.get("batchjob", "archived-single", namespace=namespace) is None,
                     timeout=ARCHIVE_TIMEOUT)
    assert _rows(archive_url, namespace) == [uid]
    listed = cli("list-jobs", "--job-queue", retained_queue, "--job-status", "SUCCEEDED")["jobSummaryList"]
    assert [job["jobId"] for job in listed] == [uid]
    (described,) = cli("describe-jobs", "--jobs", uid)["jobs"]
    assert described["status"] == "SUCCEEDED" and described["jobName"] == "archived-single"
