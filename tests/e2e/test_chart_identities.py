"""The chart's ServiceAccounts do the real work: the operator and ``kubatch api`` run with their tokens.

``kubectl auth can-i`` (test_chart.py) shows what the RBAC grants; this shows it is
enough. The chart is installed (its pods kept Pending by a node selector nothing
matches), tokens are minted for its two ServiceAccounts, and the operator and the API
run here as those identities: an AWS client creates an environment and a queue,
registers a definition, submits a job, tags it, reads the queue's snapshot and sees the
job succeed, run by the operator on a kwok node. The suite's own admin operator is
stopped meanwhile, so the chart's identity is the only one acting.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

from tests.e2e.conftest import _free_port
from tests.e2e.kubectl import Kubectl
from tests.e2e.test_aws_api import _start, _wait_healthy
from tests.e2e.test_chart import CHART, Helm, crds_installed, extra_namespace, helm  # noqa: F401 (fixtures)

boto3 = pytest.importorskip("boto3", reason="boto3 is a test dependency (.[test])")
from botocore.config import Config  # noqa: E402

SECRET = "chart-" + uuid.uuid4().hex


def token_kubeconfig(kubectl: Kubectl, *, namespace: str, account: str, path: Path) -> Path:
    """A kubeconfig for the cluster ``kubectl`` uses, authenticated as the ServiceAccount."""
    token = kubectl.run("create", "token", account, "-n", namespace, "--duration", "1h").stdout.strip()
    admin = yaml.safe_load(kubectl.kubeconfig.read_text())
    current = next(c["context"] for c in admin["contexts"] if c["name"] == admin["current-context"])
    cluster = next(c for c in admin["clusters"] if c["name"] == current["cluster"])
    path.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "clusters": [cluster],
        "users": [{"name": account, "user": {"token": token}}],
        "contexts": [{"name": account, "context": {"cluster": cluster["name"], "user": account}}],
        "current-context": account}))
    return path


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture
def release(helm: Helm, kubectl: Kubectl, crds_installed: None, namespace: str,  # noqa: F811
            extra_namespace: str) -> Iterator[str]:  # noqa: F811
    """The chart with the API enabled, installed in ``namespace``, serving ``extra_namespace``."""
    name = f"kb-{uuid.uuid4().hex[:6]}"
    kube = ["--kubeconfig", str(kubectl.kubeconfig)]
    kubectl.run("create", "secret", "generic", "api-keys", "-n", namespace,
                "--from-literal=credentials.yaml=accessKeys: []")
    helm.run("install", name, str(CHART), *kube, "--namespace", namespace,
             "--set", f"watchNamespaces={{{extra_namespace}}}", "--set", "api.enabled=true",
             "--set", "api.credentialsSecret=api-keys", "--set", "archive.type=none", "--set", "rbac.userRoles.create=false",
             "--set", "nodeSelector.kubatch\\.io/chart-test=unschedulable")
    try:
        yield f"{name}-kubatch"
    finally:
        helm.run("uninstall", name, *kube, "--namespace", namespace, check=False)


def test_the_charts_identities_run_a_job_from_an_aws_client(
        kubectl: Kubectl, suite_operator_paused: None, release: str, namespace: str, extra_namespace: str,
        tmp_path: Path) -> None:
    operator_config = token_kubeconfig(kubectl, namespace=namespace, account=release, path=tmp_path / "operator")
    api_config = token_kubeconfig(kubectl, namespace=namespace, account=f"{release}-api", path=tmp_path / "api")
    keys = tmp_path / "credentials.yaml"
    keys.write_text(json.dumps({"accessKeys": [{"accessKeyId": "AKIACHART", "secretAccessKey": SECRET,
                                                "namespace": extra_namespace, "admin": True}]}))
    operator_log, api_log = tmp_path / "operator.log", tmp_path / "api.log"
    port = _free_port()
    operator = _start([sys.executable, "-m", "kubatch.cli.main", "operator", "--namespace", extra_namespace,
                       "--metrics-port", "0", "--health-port", "0", "--leader-election-namespace", namespace],
                      log=operator_log, env=os.environ | {"KUBECONFIG": str(operator_config)})
    api = _start([sys.executable, "-m", "kubatch.cli.main", "api", "--port", str(port),
                  "--credentials-file", str(keys)], log=api_log, env=os.environ | {"KUBECONFIG": str(api_config)})
    suffix = uuid.uuid4().hex[:6]
    environment, queue = f"chart-ce-{suffix}", f"chart-jq-{suffix}"
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_healthy(url, api, api_log)
        batch: Any = boto3.client("batch", endpoint_url=url, region_name="us-east-1", aws_access_key_id="AKIACHART",
                                  aws_secret_access_key=SECRET, config=Config(retries={"total_max_attempts": 1}))
        batch.create_compute_environment(computeEnvironmentName=environment, type="MANAGED",
                                         computeResources={"type": "EC2", "maxvCpus": 4,
                                                           "instanceRole": "ecsInstanceRole"})
        batch.create_job_queue(jobQueueName=queue, priority=1,
                               computeEnvironmentOrder=[{"order": 1, "computeEnvironment": environment}])
        batch.register_job_definition(jobDefinitionName="chart-job", type="container", containerProperties={
            "image": "busybox", "command": ["true"], "resourceRequirements": [
                {"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "128"}]})
        job = batch.submit_job(jobName="as-the-chart", jobQueue=queue, jobDefinition="chart-job",
                               propagateTags=True, tags={"kubatch.io/sim-run-seconds": "1"})
        batch.tag_resource(resourceArn=job["jobArn"], tags={"checked-by": "chart-test"})
        assert batch.list_tags_for_resource(resourceArn=job["jobArn"])["tags"] == {
            "kubatch.io/sim-run-seconds": "1", "checked-by": "chart-test"}

        deadline, status = time.monotonic() + 120, None
        while time.monotonic() < deadline and status not in ("SUCCEEDED", "FAILED"):
            time.sleep(1)
            (described,) = batch.describe_jobs(jobs=[job["jobId"]])["jobs"]
            status = described["status"]
        assert status == "SUCCEEDED", f"{described}\noperator log:\n{operator_log.read_text()[-3000:]}"
        assert [attempt["container"]["exitCode"] for attempt in described["attempts"]] == [0]
        pods = kubectl.get("pods", namespace=extra_namespace, selector=f"kubatch.io/job-id={job['jobId']}")
        assert [pod["status"]["phase"] for pod in pods["items"]] == ["Succeeded"]  # created by the chart's identity
        snapshot = batch.get_job_queue_snapshot(jobQueue=queue)
        assert snapshot["queueUtilization"]["totalCapacityUsage"][0]["capacityUnit"] == "VCPU"
        for log in (operator_log, api_log):
            text = log.read_text()
            assert "Forbidden" not in text and " 403" not in text, text[-3000:]
    finally:
        stop(operator)
        stop(api)
        for kind, name in (("jobqueue", queue), ("computeenvironment", environment)):
            kubectl.run("delete", kind, name, "--ignore-not-found", "--wait=false", check=False)
