"""Fuzzing the pod builder: any container definition the schema accepts gives a well-formed, safe pod.

hypothesis writes containerProperties (resources, environment, secrets, user, volumes,
mounts, shared memory, privileged, service account); only those pydantic's model (the
CRD's source) accepts go on, exactly as only those reach the operator. For each one, the
attempt's pod must build without an exception and keep the rules every pod has: a valid
name, requests equal to what the quota counts, unique environment names with the AWS
variables last, the restricted security defaults unless privileged, an API token only
with a named service account, mounts only of declared volumes, and plain JSON.
"""

from __future__ import annotations

import json
import re

from hypothesis import assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from kubatch.api.container import ContainerProperties
from kubatch.core.pods import RESTRICTED_CONTAINER, ComputePlacement
from kubatch.core.reconcile.podspec import attempt_pod, cpu_quantity, memory_mib_quantity, pod_demand

from .builders import definition_spec, runnable_job

DNS_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
ENV_NAMES = st.from_regex(r"\A[A-Z_][A-Z0-9_]{0,12}\Z")
VOLUME_NAMES = st.sampled_from(["data", "scratch", "cache"])
PLACEMENTS = st.sampled_from([ComputePlacement(name="od", type="EC2"), ComputePlacement(name="sp", type="SPOT"),
                              ComputePlacement(name="fg", type="FARGATE")])


@st.composite
def containers(draw) -> dict:
    volumes = draw(st.lists(st.builds(lambda name, host: {"name": name, **({"host": {"sourcePath": host}} if host
                                                                              else {})},
                                      VOLUME_NAMES, st.none() | st.sampled_from(["/data", "/tmp/x"])),
                            max_size=3, unique_by=lambda v: v["name"]))
    mounts = draw(st.lists(st.builds(lambda volume, path, ro: {"sourceVolume": volume["name"], "containerPath": path,
                                                               "readOnly": ro},
                                     st.sampled_from(volumes) if volumes else st.nothing(),
                                     st.sampled_from(["/mnt/a", "/mnt/b", "/work"]), st.booleans()),
                           max_size=len(volumes)))
    fields = {
        "image": draw(st.sampled_from(["busybox", "registry.local/team/tool:1.2", "python@sha256:" + "a" * 64])),
        "command": draw(st.none() | st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=4)),
        "environment": draw(st.none() | st.lists(st.builds(lambda n, v: {"name": n, "value": v}, ENV_NAMES,
                                                           st.text(max_size=10)), max_size=4,
                                                 unique_by=lambda e: e["name"])),
        "resourceRequirements": [
            {"type": "VCPU", "value": draw(st.sampled_from(["0.25", "0.5", "1", "2", "16"]))},
            {"type": "MEMORY", "value": str(draw(st.integers(min_value=4, max_value=65536)))},
            *draw(st.sampled_from([[], [{"type": "GPU", "value": "1"}]])),
        ],
        "user": draw(st.none() | st.sampled_from(["0", "1000", "65534:65534", "nobody"])),
        "privileged": draw(st.none() | st.booleans()),
        "readonlyRootFilesystem": draw(st.none() | st.booleans()),
        "volumes": volumes or None,
        "mountPoints": mounts or None,
        "secrets": draw(st.none() | st.lists(st.builds(lambda n, s: {"name": f"S_{n}", "valueFrom": s}, ENV_NAMES,
                                                       st.sampled_from(["db:password", "token"])),
                                             max_size=2, unique_by=lambda e: e["name"])),
        "linuxParameters": draw(st.none() | st.builds(lambda shm: {"sharedMemorySize": shm}, st.integers(1, 4096))),
        "serviceAccountName": draw(st.none() | st.sampled_from(["reader", "batch-runner"])),
    }
    return {key: value for key, value in fields.items() if value is not None}


@settings(max_examples=300, deadline=None)
@given(container=containers(), placement=PLACEMENTS, attempt=st.integers(1, 10),
       index=st.none() | st.integers(0, 9999))
def test_every_accepted_container_definition_gives_a_well_formed_safe_pod(container: dict, placement, attempt: int,
                                                                          index: int | None) -> None:
    try:
        accepted = ContainerProperties.model_validate(container).model_dump(exclude_none=True)
    except ValidationError:
        assume(False)
    frozen = definition_spec(containerProperties=accepted)
    job = runnable_job("fuzzed", frozen=frozen, **({"arrayProperties": {"size": 10000}} if index is not None else {}))
    pod = attempt_pod(job, placement, attempt=attempt, array_index=index)

    assert json.loads(json.dumps(pod)) == pod
    assert DNS_NAME.match(pod["metadata"]["name"]) and len(pod["metadata"]["name"]) <= 253
    (main,) = pod["spec"]["containers"]
    demand = pod_demand(frozen)
    requests = main["resources"]["requests"]
    assert abs(cpu_quantity(requests["cpu"]) - demand.vcpus) < 1e-9
    assert memory_mib_quantity(requests["memory"]) == demand.memory_mib
    names = [entry["name"] for entry in main["env"]]
    assert len(names) == len(set(names))
    aws = ["AWS_BATCH_JOB_ID", "AWS_BATCH_JOB_ATTEMPT", "AWS_BATCH_JQ_NAME", "AWS_BATCH_CE_NAME",
           *(["AWS_BATCH_JOB_ARRAY_INDEX", "AWS_BATCH_JOB_ARRAY_SIZE"] if index is not None else [])]
    assert names[-len(aws):] == aws  # the job's own variables first, AWS's last (they win)
    values = {entry["name"]: entry.get("value") for entry in main["env"]}
    assert values["AWS_BATCH_JOB_ATTEMPT"] == str(attempt)
    job_id = values["AWS_BATCH_JOB_ID"]
    assert job_id == (job["metadata"]["uid"] if index is None else f"{job['metadata']['uid']}:{index}")
    security = main["securityContext"]
    if accepted.get("privileged"):
        assert security.get("privileged") is True
    else:
        assert security.items() >= RESTRICTED_CONTAINER.items()
    assert pod["spec"]["automountServiceAccountToken"] is bool(accepted.get("serviceAccountName"))
    declared = {volume["name"] for volume in pod["spec"].get("volumes") or []}
    assert {mount["name"] for mount in main.get("volumeMounts") or []} <= declared
    assert pod["spec"]["restartPolicy"] == "Never"
