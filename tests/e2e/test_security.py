"""Job pods are safe by default: they run where Pod Security ``restricted`` is enforced.

Every unprivileged job container gets ``allowPrivilegeEscalation: false``, all
capabilities dropped and the ``RuntimeDefault`` seccomp profile, and no API token unless
its definition names a service account. A definition naming a non-root ``user`` is then
accepted by the real apiserver's Pod Security admission in a ``restricted`` namespace;
one running as root is refused there, and the job fails with the admission's words
instead of waiting forever. Host paths need the compute environment's consent.
"""

from __future__ import annotations

from typing import Iterator

import pytest

from tests.e2e.batch import batch_job, definition_with, job_definition, queue_on_new_environment, wait_for_state
from tests.e2e.kubectl import Kubectl

pytestmark = pytest.mark.usefixtures("operator")


@pytest.fixture(scope="module")
def queue(kubectl: Kubectl) -> Iterator[str]:
    yield from queue_on_new_environment(kubectl, "sec", max_vcpus=8)


@pytest.fixture
def restricted(kubectl: Kubectl, namespace: str) -> str:
    kubectl.run("label", "namespace", namespace, "pod-security.kubernetes.io/enforce=restricted")
    return namespace


def test_a_non_root_job_runs_under_restricted_pod_security(kubectl: Kubectl, restricted: str, queue: str) -> None:
    kubectl.apply(definition_with("as-nobody", user="65534"),
                  batch_job("nobody", definition="as-nobody", queue=queue, simulate={"run-seconds": "1"}),
                  namespace=restricted)
    status = wait_for_state(kubectl, restricted, "nobody", {"SUCCEEDED", "FAILED"})
    assert status["status"] == "SUCCEEDED", status
    (pod,) = (kubectl.get("pods", namespace=restricted, selector="kubatch.io/job-name=nobody") or {})["items"]
    (container,) = pod["spec"]["containers"]
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"}, "runAsUser": 65534, "runAsNonRoot": True}
    assert pod["spec"]["automountServiceAccountToken"] is False
    assert not any("kube-api-access" in volume["name"] for volume in pod["spec"].get("volumes") or [])


def test_a_root_job_in_a_restricted_namespace_fails_with_the_admissions_reason(
        kubectl: Kubectl, restricted: str, queue: str) -> None:
    kubectl.apply(job_definition("as-root"), batch_job("root", definition="as-root", queue=queue),
                  namespace=restricted)
    status = wait_for_state(kubectl, restricted, "root", {"SUCCEEDED", "FAILED"})
    assert status["status"] == "FAILED", status
    assert "violates PodSecurity" in status["statusMessage"] and "runAsNonRoot" in status["statusMessage"], status


def test_a_host_path_needs_the_compute_environments_consent(kubectl: Kubectl, namespace: str, queue: str) -> None:
    kubectl.apply(definition_with("host", volumes=[{"name": "etc", "host": {"sourcePath": "/etc"}}],
                             mountPoints=[{"sourceVolume": "etc", "containerPath": "/host-etc"}]),
                  batch_job("host", definition="host", queue=queue), namespace=namespace)
    status = wait_for_state(kubectl, namespace, "host", {"SUCCEEDED", "FAILED"})
    assert status["statusReason"] == "InvalidJob", status
    assert "volumes[].host.sourcePath" in status["statusMessage"] and "allowHostPath" in status["statusMessage"]
