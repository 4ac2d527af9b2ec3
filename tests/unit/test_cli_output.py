"""What the CLI prints (JSON, tables, progress lines) and the namespace it picks."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from kubatch.cli.job_verbs import progress_line
from kubatch.cli.kubeconfig import default_namespace
from kubatch.cli.output import render


def test_json_is_printed_as_the_aws_cli_prints_it() -> None:
    response = {"jobName": "j", "jobId": "1"}
    assert render(response, output="json") == json.dumps(response, indent=4)
    assert render({}, output="json") == ""


def test_tables_show_the_main_list_with_readable_cells() -> None:
    response = {"jobQueues": [
        {"jobQueueName": "q", "priority": 10, "state": "ENABLED", "status": "VALID",
         "computeEnvironmentOrder": [{"order": 1, "computeEnvironment": "arn:aws:batch:r:a:compute-environment/ce"}]},
    ], "nextToken": "abc"}
    assert render(response, output="table").splitlines() == [
        "jobQueueName  priority  state    status  computeEnvironmentOrder        schedulingPolicyArn",
        "q             10        ENABLED  VALID   order=1,computeEnvironment=ce",
        "nextToken  abc",
    ]


def test_tables_of_single_answers_and_unknown_lists() -> None:
    assert render({"jobName": "j", "jobId": "1"}, output="table").splitlines() == ["jobName  j", "jobId    1"]
    assert render({"things": [{"a": 1, "b": True}]}, output="table").splitlines() == ["a  b", "1  true"]


def test_progress_lines_say_what_the_job_waits_for() -> None:
    now = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
    detail = {"jobName": "j", "jobId": "u-1", "status": "RUNNABLE", "statusMessage": "ce is full (8/8 vCPU)"}
    assert progress_line(detail, now=now) == "12:00:00 j u-1: RUNNABLE: ce is full (8/8 vCPU)"
    array = {"jobName": "a", "jobId": "u-2", "status": "RUNNING",
             "arrayProperties": {"statusSummary": {"RUNNING": 3, "SUCCEEDED": 7, "FAILED": 0}}}
    assert progress_line(array, now=now) == "12:00:00 a u-2: RUNNING [RUNNING 3, SUCCEEDED 7]"
    failed = {"jobName": "f", "jobId": "u-3", "status": "FAILED", "statusReason": "TaskFailed"}
    assert progress_line(failed, now=now) == "12:00:00 f u-3: FAILED TaskFailed"


def write_kubeconfig(path: Path, *, current: str, namespaces: dict[str, str | None]) -> Path:
    contexts = [{"name": name, "context": {"cluster": "c", **({"namespace": ns} if ns else {})}}
                for name, ns in namespaces.items()]
    path.write_text(yaml.safe_dump({"current-context": current, "contexts": contexts}))
    return path


def test_namespace_of_the_current_or_chosen_context(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = write_kubeconfig(tmp_path / "config", current="dev", namespaces={"dev": "team-a", "prod": None})
    assert default_namespace(kubeconfig=str(config), context=None) == "team-a"
    assert default_namespace(kubeconfig=str(config), context="prod") == "default"
    other = write_kubeconfig(tmp_path / "other", current="x", namespaces={"x": "team-x"})
    monkeypatch.setenv("KUBECONFIG", f"{tmp_path / 'missing'}:{other}:{config}")
    assert default_namespace(kubeconfig=None, context=None) == "team-x"
    assert default_namespace(kubeconfig=None, context="dev") == "team-a"
