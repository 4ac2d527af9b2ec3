"""The kinds registry and the job states are the one source the other layers derive from."""

from kubatch.api import BatchJob, BatchJobStatus, StatusSummary
from kubatch.api.crdgen import RESOURCES
from kubatch.core.lifecycle import JobState as MachineState
from kubatch.kinds import API_VERSION, KINDS, owner_reference
from kubatch.states import JOB_STATES, JobState


def test_every_resource_model_is_registered_under_its_kind():
    assert [resource.model_fields["kind"].default for resource in RESOURCES] == list(KINDS)
    for resource in RESOURCES:
        assert resource.crd.kind is KINDS[resource.model_fields["kind"].default]


def test_cluster_scoped_kinds_are_the_three_admin_kinds():
    assert {name for name, kind in KINDS.items() if kind.scope == "Cluster"} == {
        "ComputeEnvironment", "JobQueue", "SchedulingPolicy"}


def test_owner_reference_names_the_job_and_lets_the_garbage_collector_delete_its_pods():
    job = {"metadata": {"name": "j", "uid": "u-1", "namespace": "ns"}}
    assert owner_reference(job) == {"apiVersion": API_VERSION, "kind": "BatchJob", "name": "j", "uid": "u-1",
                                    "controller": True, "blockOwnerDeletion": False}


def test_the_state_machine_the_schema_and_the_summary_share_one_list_of_states():
    assert MachineState is JobState
    assert JOB_STATES == ("SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED", "FAILED")
    assert tuple(StatusSummary.model_fields) == JOB_STATES
    schema = BatchJobStatus.model_json_schema()["properties"]["status"]["anyOf"][0]
    assert tuple(schema["enum"]) == JOB_STATES
    assert BatchJob.model_validate({"spec": {"jobDefinition": "d", "jobQueue": "q"},
                                    "status": {"status": "RUNNING"}}).status.status == "RUNNING"
