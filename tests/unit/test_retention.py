"""Retention: which finished jobs are due to be archived and deleted (kubatch.core.retention)."""

from __future__ import annotations

from typing import Any

import pytest

from kubatch.core.retention import DueJob, due_for_archiving, retention_seconds

NOW = 1_700_000_000_000
HOUR = 3600


def job(name: str, status: str = "SUCCEEDED", *, stopped_s_ago: int | None = 2 * HOUR, queue: str = "q",
        namespace: str = "ns", depends_on: list[str] = (), resolved: list[str] = ()) -> dict[str, Any]:
    job_status: dict[str, Any] = {"status": status}
    if stopped_s_ago is not None:
        job_status["stoppedAt"] = NOW - stopped_s_ago * 1000
    if resolved:
        job_status["dependsOn"] = [{"jobId": target} for target in resolved]
    return {"metadata": {"name": name, "namespace": namespace, "uid": f"uid-{name}"},
            "spec": {"jobQueue": queue, "dependsOn": [{"jobId": target} for target in depends_on]},
            "status": job_status}


def queue(override: int | None = None) -> dict[str, Any]:
    return {"metadata": {"name": "q"}, "spec": {} if override is None else {"finishedJobRetentionSeconds": override}}


def due(jobs: list[dict[str, Any]], *, queues: dict[str, Any] | None = None, default: int = HOUR,
        limit: int = 100) -> list[str]:
    return [item.name for item in due_for_archiving(jobs, queues if queues is not None else {"q": queue()},
                                                     now_ms=NOW, default_seconds=default, limit=limit)]


@pytest.mark.parametrize(("case", "jobs", "default", "expected"), [
    ("succeeded past retention", [job("a")], HOUR, ["a"]),
    ("failed past retention", [job("a", "FAILED")], HOUR, ["a"]),
    ("exactly at retention", [job("a", stopped_s_ago=HOUR)], HOUR, ["a"]),
    ("one second short", [job("a", stopped_s_ago=HOUR - 1)], HOUR, []),
    ("0 keeps for ever", [job("a", stopped_s_ago=10**6)], 0, []),
    ("unfinished jobs stay", [job(s.lower(), s) for s in ("SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING")],
     HOUR, []),
    ("no stop time: never", [job("a", stopped_s_ago=None)], HOUR, []),
    ("oldest first", [job("new", stopped_s_ago=2 * HOUR), job("old", stopped_s_ago=5 * HOUR)], HOUR,
     ["old", "new"]),
])
def test_finished_jobs_are_due_once_their_retention_has_passed(case: str, jobs: list, default: int,
                                                                expected: list[str]) -> None:
    assert due(jobs, default=default) == expected, case


@pytest.mark.parametrize(("case", "override", "default", "expected"), [
    ("queue shorter than default", 60, 10 * HOUR, ["a"]),
    ("queue longer than default", 10 * HOUR, 60, []),
    ("queue 0: for ever", 0, 60, []),
    ("queue sets nothing: default", None, 60, ["a"]),
])
def test_a_queue_overrides_the_default(case: str, override: int | None, default: int, expected: list[str]) -> None:
    assert due([job("a")], queues={"q": queue(override)}, default=default) == expected, case


def test_a_job_of_a_queue_that_no_longer_exists_follows_the_default() -> None:
    assert due([job("a")], queues={}, default=HOUR) == ["a"]
    assert retention_seconds(None, 42) == 42


@pytest.mark.parametrize(("case", "dependent", "expected"), [
    ("undecided dependent by name holds it", job("b", "PENDING", depends_on=["a"]), ["x"]),
    ("undecided dependent by uid holds it", job("b", "RUNNABLE", resolved=["uid-a"]), ["x"]),
    ("a dependent on one child holds the array", job("b", "PENDING", resolved=["uid-a:3"]), ["x"]),
    ("a submitted dependent holds it", job("b", "SUBMITTED", depends_on=["uid-a"]), ["x"]),
    ("a decided dependent does not", job("b", "FAILED", stopped_s_ago=0, resolved=["uid-a"]), ["a", "x"]),
    ("a dependent in another namespace is another job", job("b", "PENDING", namespace="other", depends_on=["a"]),
     ["a", "x"]),
])
def test_a_job_stays_while_an_undecided_job_depends_on_it(case: str, dependent: dict, expected: list[str]) -> None:
    assert sorted(due([job("a"), job("x"), dependent])) == expected, case


def test_at_most_limit_jobs_per_call_and_each_names_its_object() -> None:
    jobs = [job(f"j{i}", stopped_s_ago=2 * HOUR + i) for i in range(5)]
    assert due(jobs, limit=2) == ["j4", "j3"]
    first = due_for_archiving(jobs, {}, now_ms=NOW, default_seconds=HOUR, limit=1)[0]
    assert first == DueJob(stopped_at=NOW - (2 * HOUR + 4) * 1000, namespace="ns", name="j4", uid="uid-j4")
