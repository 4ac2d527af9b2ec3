"""The kubatch CLI end to end on the in-memory cluster: the seeds' `aws batch` lines with `kubatch` instead."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from kubatch.cli.main import main
from kubatch.kube.client import ApiError
from tests.unit.fake_kube import CREATED_MS, SEED_DEFINITION, FakeKube, make_runtime

PREFIX = "arn:aws:batch:us-east-1:000000000000:"

@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def json(self) -> dict:
        return json.loads(self.out)


Kubatch = Callable[..., Result]


@pytest.fixture
def kube() -> FakeKube:
    return FakeKube()


@pytest.fixture
def kubatch(kube: FakeKube, capsys: pytest.CaptureFixture[str]) -> Kubatch:
    def run(*args: str) -> Result:
        capsys.readouterr()
        try:
            main(list(args), obj=make_runtime(kube))
            code = 0
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


@pytest.fixture
def seeded(kubatch: Kubatch, tmp_path: Path) -> Kubatch:
    """The seed's Fargate environment, queue and job definition, created with the seed's own command lines."""
    assert kubatch("create-compute-environment", "--compute-environment-name", "my-fargate-env", "--type", "MANAGED",
                   "--service-role", "arn:aws:iam::123456789012:role/AWSBatchServiceRole",
                   "--compute-resources", '{"type": "FARGATE", "maxvCpus": 256, "subnets": ["subnet-xxxxx"], '
                   '"securityGroupIds": ["sg-xxxxx"]}', "--state", "ENABLED").code == 0
    assert kubatch("create-job-queue", "--job-queue-name", "my-queue", "--priority", "1",
                   "--compute-environment-order", '[{"computeEnvironment": "my-fargate-env", "order": 1}]',
                   "--state", "ENABLED").code == 0
    path = tmp_path / "definition.json"
    path.write_text(json.dumps(SEED_DEFINITION))
    assert kubatch("register-job-definition", "--cli-input-json", f"file://{path}").code == 0
    return kubatch


def test_seed_compute_environment_warns_about_aws_only_settings(kubatch: Kubatch, kube: FakeKube) -> None:
    result = kubatch("create-compute-environment", "--compute-environment-name", "my-spot-env", "--type", "MANAGED",
                     "--service-role", "arn:aws:iam::123456789012:role/AWSBatchServiceRole",
                     "--compute-resources", '{"type": "SPOT", "allocationStrategy": "BEST_FIT_PROGRESSIVE", '
                     '"minvCpus": 0, "maxvCpus": 256, "instanceTypes": ["m5", "c5"], "bidPercentage": 50, '
                     '"subnets": ["subnet-xxxxx"], "securityGroupIds": ["sg-xxxxx"], '
                     '"instanceRole": "arn:aws:iam::123456789012:instance-profile/batch-instance-role"}',
                     "--state", "ENABLED")
    assert result.code == 0
    assert result.json == {"computeEnvironmentName": "my-spot-env",
                           "computeEnvironmentArn": PREFIX + "compute-environment/my-spot-env"}
    assert result.err.splitlines() == [
        "kubatch: warning: computeResources.instanceRole is ignored: IAM has no meaning on Kubernetes (use RBAC and "
        "serviceAccountName)",
        "kubatch: warning: computeResources.subnets is ignored: networking is the cluster's own",
        "kubatch: warning: computeResources.securityGroupIds is ignored: networking is the cluster's own",
    ]
    assert kube.stored("ComputeEnvironment", "my-spot-env", None)["spec"]["computeResources"] == {
        "type": "SPOT", "allocationStrategy": "BEST_FIT_PROGRESSIVE", "minvCpus": 0, "maxvCpus": 256,
        "instanceTypes": ["m5", "c5"], "bidPercentage": 50}
    # AWS returns the service role: kept, unused
    assert kube.stored("ComputeEnvironment", "my-spot-env", None)["spec"]["serviceRole"] == (
        "arn:aws:iam::123456789012:role/AWSBatchServiceRole")


def test_seed_submit_job_line(seeded: Kubatch, kube: FakeKube) -> None:
    result = seeded("submit-job", "--job-name", "my-run", "--job-definition", "my-batch-job", "--job-queue",
                    "my-queue", "--parameters", "input_file=s3://my-bucket/data/new-input.csv")
    assert result.code == 0, result.err
    uid = kube.stored("BatchJob", "my-run")["metadata"]["uid"]
    assert result.json == {"jobArn": PREFIX + "job/" + uid, "jobName": "my-run", "jobId": uid}
    assert kube.stored("BatchJob", "my-run")["spec"] == {
        "jobDefinition": "my-batch-job:1", "jobQueue": "my-queue",  # the revision, frozen at submission
        "parameters": {"input_file": "s3://my-bucket/data/new-input.csv"}}


def test_structured_flags_in_shorthand_and_json(seeded: Kubatch, kube: FakeKube) -> None:
    first = seeded("submit-job", "--job-name", "first", "--job-definition", "my-batch-job", "--job-queue", "my-queue")
    assert seeded("create-scheduling-policy", "--name", "fair", "--fairshare-policy",
                  "shareDistribution=[{shareIdentifier=teamA}]").code == 0
    assert seeded("create-job-queue", "--job-queue-name", "fair-queue", "--priority", "1",
                  "--scheduling-policy-arn", PREFIX + "scheduling-policy/fair",
                  "--compute-environment-order", '[{"computeEnvironment": "my-fargate-env", "order": 1}]').code == 0
    result = seeded("submit-job", "--job-name", "my-array", "--job-definition", "my-batch-job:1",
                    "--job-queue", PREFIX + "job-queue/fair-queue", "--array-properties", "size=100",
                    "--depends-on", f"jobId={first.json['jobId']},type=N_TO_N", "jobId=first",
                    "--timeout", "attemptDurationSeconds=120", "--retry-strategy", "attempts=3",
                    "--container-overrides", '{"command": ["x"]}', "--scheduling-priority-override", "5",
                    "--share-identifier", "teamA", "--propagate-tags", "--tags", "team=data")
    assert result.code == 0, result.err
    assert kube.stored("BatchJob", "my-array")["spec"] == {
        "jobDefinition": "my-batch-job:1", "jobQueue": "fair-queue", "arrayProperties": {"size": 100},
        "dependsOn": [{"jobId": first.json["jobId"], "type": "N_TO_N"}, {"jobId": "first"}],
        "timeout": {"attemptDurationSeconds": 120}, "retryStrategy": {"attempts": 3},
        "containerOverrides": {"command": ["x"]}, "schedulingPriorityOverride": 5, "shareIdentifier": "teamA",
        "propagateTags": True, "tags": {"team": "data"}}


def test_shorthand_becomes_one_element_lists_where_the_model_wants_lists(seeded: Kubatch, kube: FakeKube) -> None:
    result = seeded("submit-job", "--job-name", "j", "--job-definition", "my-batch-job", "--job-queue", "my-queue",
                    "--container-overrides", "command=echo,environment=[{name=A,value=1}]")
    assert result.code == 0, result.err
    assert kube.stored("BatchJob", "j")["spec"]["containerOverrides"] == {
        "command": ["echo"], "environment": [{"name": "A", "value": "1"}]}


def test_client_errors_are_one_line_and_exit_254(seeded: Kubatch, kube: FakeKube) -> None:
    result = seeded("submit-job", "--job-name", "bad", "--job-definition", "my-batch-job", "--job-queue",
                    "my-queue", "--array-properties", "size=1")
    assert (result.code, result.out, result.err) == (
        254, "", "kubatch: ClientException: arrayProperties.size: must be at least 2\n")
    missing = seeded("submit-job", "--job-name", "x", "--job-definition", "nope", "--job-queue", "my-queue")
    assert missing.err == ("kubatch: ClientException: jobDefinition: JobDefinition 'nope' does not exist in "
                           "namespace 'default'\n")
    assert ("create", "BatchJob") not in kube.calls


def test_usage_errors_are_one_line(kubatch: Kubatch) -> None:
    result = kubatch("submit-job", "--job-nme", "x")
    assert result.code == 2
    assert result.err.startswith("kubatch: No such option '--job-nme'. (Did you mean one of: '--job-name'")
    assert len(result.err.splitlines()) == 1
    bad = kubatch("submit-job", "--array-properties", "size={")
    assert bad.code == 2 and bad.err.startswith("kubatch: Invalid value for --array-properties: invalid shorthand")


def test_server_errors_exit_255(kubatch: Kubatch, kube: FakeKube) -> None:
    kube.fail("list", "JobQueue", ApiError(500, "etcdserver: request timed out"))
    result = kubatch("describe-job-queues")
    assert (result.code, result.err) == (255, "kubatch: ServerException: Kubernetes API: etcdserver: request "
                                              "timed out\n")


def test_cli_input_json_with_flags_over_it(seeded: Kubatch, kube: FakeKube) -> None:
    request = json.dumps({"jobName": "from-json", "jobQueue": "my-queue", "jobDefinition": "my-batch-job",
                          "parameters": {"a": "1"}})
    result = seeded("submit-job", "--cli-input-json", request, "--parameters", "a=2")
    assert result.code == 0, result.err
    assert kube.stored("BatchJob", "from-json")["spec"]["parameters"] == {"a": "2"}
    broken = seeded("submit-job", "--cli-input-json", "[1]")
    assert broken.code == 2 and "--cli-input-json" in broken.err


def test_describe_and_list_jobs(seeded: Kubatch, kube: FakeKube) -> None:
    ids = [seeded("submit-job", "--job-name", name, "--job-definition", "my-batch-job", "--job-queue",
                  "my-queue").json["jobId"] for name in ("a", "b")]
    described = seeded("describe-jobs", "--jobs", ids[0], "b")
    assert [job["jobName"] for job in described.json["jobs"]] == ["a", "b"]
    assert described.json["jobs"][0]["status"] == "SUBMITTED"
    assert described.json["jobs"][0]["createdAt"] == CREATED_MS
    kube.stored("BatchJob", "b")["status"] = {"status": "RUNNING", "createdAt": CREATED_MS + 1000}
    listed = seeded("list-jobs", "--job-queue", "my-queue")
    assert [job["jobName"] for job in listed.json["jobSummaryList"]] == ["b"]
    paged = seeded("list-jobs", "--job-queue", "my-queue", "--job-status", "SUBMITTED", "--max-items", "1")
    assert [job["jobName"] for job in paged.json["jobSummaryList"]] == ["a"] and "nextToken" not in paged.json
    table = seeded("list-jobs", "--filters", "name=JOB_NAME,values=*", "--output", "table")
    lines = table.out.splitlines()
    assert lines[0].split() == ["jobName", "jobId", "status", "statusReason", "createdAt", "startedAt", "stoppedAt"]
    assert lines[1].split()[:3] == ["b", ids[1], "RUNNING"]
    assert lines[2].split() == ["a", ids[0], "SUBMITTED", "2024-05-01T12:00:00Z"]


def test_lists_are_fetched_page_by_page_unless_one_page_is_asked_for(kubatch: Kubatch, kube: FakeKube) -> None:
    for index in range(105):
        kube.put("JobDefinition", {"metadata": {"name": f"d{index:03}"}, "spec": {"type": "container"}})
    everything = kubatch("describe-job-definitions")
    assert len(everything.json["jobDefinitions"]) == 105 and "nextToken" not in everything.json
    first = kubatch("describe-job-definitions", "--max-results", "100")
    assert len(first.json["jobDefinitions"]) == 100
    rest = kubatch("describe-job-definitions", "--starting-token", first.json["nextToken"])
    assert [d["jobDefinitionName"] for d in rest.json["jobDefinitions"]] == [f"d{i}" for i in range(100, 105)]


def test_cancel_and_terminate_print_nothing(seeded: Kubatch, kube: FakeKube) -> None:
    job_id = seeded("submit-job", "--job-name", "j", "--job-definition", "my-batch-job",
                    "--job-queue", "my-queue").json["jobId"]
    assert seeded("cancel-job", "--job-id", job_id, "--reason", "not needed") == Result(0, "", "")
    assert seeded("terminate-job", "--job-id", "j", "--reason", "stop").code == 0
    spec = kube.stored("BatchJob", "j")["spec"]
    assert (spec["cancelRequest"], spec["terminateRequest"]) == ({"reason": "not needed"}, {"reason": "stop"})


def test_definitions_queues_and_policies(seeded: Kubatch, kube: FakeKube) -> None:
    described = seeded("describe-job-definitions", "--job-definitions", "my-batch-job:1")
    assert described.json["jobDefinitions"][0]["jobDefinitionArn"] == PREFIX + "job-definition/my-batch-job:1"
    assert seeded("update-job-queue", "--job-queue", "my-queue", "--priority", "5").code == 0
    assert kube.stored("JobQueue", "my-queue", None)["spec"]["priority"] == 5
    assert seeded("create-scheduling-policy", "--name", "fair", "--fairshare-policy",
                  "shareDecaySeconds=3600,shareDistribution=[{shareIdentifier=teamA,weightFactor=0.5}]").code == 0
    assert kube.stored("SchedulingPolicy", "fair", None)["spec"] == {"fairsharePolicy": {
        "shareDecaySeconds": 3600, "shareDistribution": [{"shareIdentifier": "teamA", "weightFactor": 0.5}]}}
    assert seeded("list-scheduling-policies").json == {"schedulingPolicies": [
        {"arn": PREFIX + "scheduling-policy/fair"}]}
    assert seeded("describe-scheduling-policies", "--arns", "fair").json["schedulingPolicies"][0]["name"] == "fair"
    assert seeded("update-compute-environment", "--compute-environment", "my-fargate-env", "--state",
                  "DISABLED").code == 0
    table = seeded("describe-compute-environments", "-o", "table").out.splitlines()
    assert table[1].split() == ["my-fargate-env", "MANAGED", "DISABLED", "CREATING", "FARGATE", "256"]
    assert seeded("deregister-job-definition", "--job-definition", "my-batch-job").code == 0
    assert seeded("delete-job-queue", "--job-queue", "my-queue").code == 0
    assert seeded("delete-compute-environment", "--compute-environment", "my-fargate-env").code == 0
    assert seeded("delete-scheduling-policy", "--arn", "fair").code == 0
    (kept,) = kube.objects.values()  # a deregistered definition stays, INACTIVE, as on AWS
    assert kept["kind"] == "JobDefinition" and kept["status"]["status"] == "INACTIVE"


def test_namespace_flag(seeded: Kubatch, kube: FakeKube) -> None:
    seeded("register-job-definition", "-n", "team", "--job-definition-name", "d", "--type", "container",
           "--container-properties", "image=busybox")
    result = seeded("submit-job", "--job-name", "j", "--job-definition", "d", "--job-queue", "my-queue",
                    "--namespace", "team")
    assert result.code == 0, result.err
    assert kube.stored("BatchJob", "j", "team")["spec"]["jobDefinition"] == "d:1"
    assert seeded("describe-jobs", "--jobs", "j").json == {"jobs": []}


def test_aws_global_flags_are_ignored_with_a_warning(kubatch: Kubatch) -> None:
    result = kubatch("describe-job-queues", "--region", "us-east-1")
    assert result.code == 0
    assert result.err == "kubatch: warning: --region is ignored: kubatch talks to the cluster of the kubeconfig\n"


def test_logs(seeded: Kubatch, kube: FakeKube) -> None:
    job_id = seeded("submit-job", "--job-name", "j", "--job-definition", "my-batch-job",
                    "--job-queue", "my-queue").json["jobId"]
    kube.put_pod(name="j-a1", labels={"kubatch.io/job-id": job_id, "kubatch.io/attempt": "1"}, log="hello\n")
    assert seeded("logs", "j") == Result(0, "hello\n", "")
    assert seeded("logs", "nope").err == ("kubatch: ClientException: job: BatchJob 'nope' does not exist in namespace "
                                          "'default'\n")


def test_wait_exit_codes_and_progress(seeded: Kubatch, kube: FakeKube) -> None:
    seeded("submit-job", "--job-name", "j", "--job-definition", "my-batch-job", "--job-queue", "my-queue")
    kube.stored("BatchJob", "j")["status"] = {"status": "SUCCEEDED"}
    done = seeded("wait", "j", "--for", "SUCCEEDED")
    assert done.code == 0 and done.json["jobs"][0]["status"] == "SUCCEEDED"
    assert done.err.rstrip().endswith(": SUCCEEDED")
    kube.stored("BatchJob", "j")["status"] = {"status": "FAILED", "statusReason": "TaskFailed",
                                              "statusMessage": "exit code 1"}
    failed = seeded("wait", "j", "--for", "SUCCEEDED")
    assert failed.code == 1
    assert failed.err.splitlines()[-1].startswith("kubatch: job j (")
    assert failed.err.splitlines()[-1].endswith(") is FAILED (TaskFailed: exit code 1)")
    kube.stored("BatchJob", "j")["status"] = {"status": "RUNNABLE", "statusMessage": "my-fargate-env is full"}
    waiting = seeded("wait", "j", "--timeout", "0")
    assert waiting.code == 124
    assert "RUNNABLE: my-fargate-env is full" in waiting.err
    assert "timed out after 0s waiting for job j" in waiting.err


def test_submit_and_wait(seeded: Kubatch) -> None:
    result = seeded("submit-job", "--job-name", "j", "--job-definition", "my-batch-job", "--job-queue", "my-queue",
                    "--wait", "--wait-timeout", "0")
    assert result.code == 124
    assert result.json["jobName"] == "j"
    assert ": SUBMITTED" in result.err
