"""The planner's memo of demands answers exactly what ``pod_demand`` would, by definition object."""

from kubatch.core.reconcile.podspec import DemandMemo, job_demand, pod_demand


def definition(vcpus: int) -> dict:
    return {"containerProperties": {"image": "busybox", "vcpus": vcpus, "memory": 64}}


def test_one_entry_per_definition_object_shared_by_the_jobs_that_hold_it():
    memo = DemandMemo(limit=10)
    first, second = definition(1), definition(2)
    answer = memo(first)
    assert answer == pod_demand(first) and memo(first) is answer
    assert memo(second).vcpus == 2
    assert len(memo) == 2


def test_a_reused_id_is_never_trusted_alone():
    memo = DemandMemo(limit=10)
    for vcpus in range(1, 50):  # dropped dicts' ids are reused by CPython; each answer must still be right
        assert memo(definition(vcpus)).vcpus == vcpus


def test_past_its_limit_the_memo_starts_afresh_and_still_answers_right():
    memo = DemandMemo(limit=3)
    definitions = [definition(vcpus) for vcpus in range(1, 8)]
    assert [memo(each).vcpus for each in definitions] == [1, 2, 3, 4, 5, 6, 7]
    assert len(memo) <= 3


def test_a_job_reads_its_frozen_definition_through_the_memo_it_is_given():
    memo = DemandMemo(limit=10)
    job = {"metadata": {"uid": "u"}, "status": {"resolvedDefinition": definition(4)}}
    assert job_demand(job, memo=memo).vcpus == 4
    assert job_demand({"metadata": {"uid": "v"}, "status": {}}, memo=memo) == pod_demand({})
    assert len(memo) == 1
