"""Pod → attempt outcome classification (DESIGN §2's table), node facts, timestamps."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubatch.core.nodefacts import INTERRUPTION_TAINT_KEYS, NodeFacts
from kubatch.core.outcome import (
    CONTAINER_EXITED_MESSAGE,
    OOM_MESSAGE,
    SUCCESS,
    TIMEOUT_MESSAGE,
    AttemptTimes,
    Outcome,
    attempt_times,
    classify_pod,
)
from kubatch.core.reasons import ContainerReason, StatusReason

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
T0_MS = 1714564800000


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def ts(seconds: float) -> str:
    return at(seconds).isoformat().replace("+00:00", "Z")


def running(name: str = "main", *, started: float = 10) -> dict:
    return {"name": name, "state": {"running": {"startedAt": ts(started)}}}


def terminated(
    name: str = "main",
    *,
    code: int = 0,
    reason: str | None = None,
    started: float = 10,
    finished: float | None = 20,
) -> dict:
    state = {"exitCode": code, "reason": reason or ("Completed" if code == 0 else "Error")}
    state["startedAt"] = ts(started)
    if finished is not None:
        state["finishedAt"] = ts(finished)
    return {"name": name, "state": {"terminated": state}}


def waiting(name: str = "main", *, reason: str = "ContainerCreating", message: str | None = None) -> dict:
    state = {"reason": reason} | ({"message": message} if message else {})
    return {"name": name, "state": {"waiting": state}}


def make_pod(
    *,
    phase: str = "Running",
    containers: tuple[dict, ...] = (),
    init: tuple[dict, ...] = (),
    sidecars: tuple[str, ...] = (),
    reason: str | None = None,
    message: str | None = None,
    conditions: tuple[dict, ...] = (),
    node: str | None = "node-a",
    start: float | None = 0,
    deleted: float | None = None,
    deletion_grace: int = 30,
) -> dict:
    metadata: dict = {"name": "job-a1", "creationTimestamp": ts(-5)}
    if deleted is not None:
        metadata["deletionTimestamp"] = ts(deleted + deletion_grace)
        metadata["deletionGracePeriodSeconds"] = deletion_grace
    spec: dict = {
        "restartPolicy": "Never",
        "containers": [{"name": c["name"], "image": "busybox"} for c in containers],
        "initContainers": [
            {"name": c["name"], "image": "busybox"}
            | ({"restartPolicy": "Always"} if c["name"] in sidecars else {})
            for c in init
        ],
    }
    if node:
        spec["nodeName"] = node
    status: dict = {
        "phase": phase,
        "conditions": list(conditions),
        "containerStatuses": list(containers),
        "initContainerStatuses": list(init),
    }
    if start is not None:
        status["startTime"] = ts(start)
    if reason:
        status["reason"] = reason
    if message:
        status["message"] = message
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec, "status": status}


def disruption(*, since: float, reason: str = "DeletionByTaintManager", status: str = "True") -> dict:
    return {
        "type": "DisruptionTarget",
        "status": status,
        "reason": reason,
        "message": "Taint manager: deleting due to NoExecute taint",
        "lastTransitionTime": ts(since),
    }


GONE = NodeFacts(name="node-a", exists=False)
SPOT = NodeFacts(name="node-a", interruption_taint="aws-node-termination-handler/spot-itn")
NOT_READY_30S = NodeFacts(name="node-a", ready=False, not_ready_since=at(70))
NOT_READY_UNKNOWN = NodeFacts(name="node-a", ready=False)
HEALTHY = NodeFacts(name="node-a")
NOW = at(100)

TF, HOST, TIMEOUT, OOM, PULL = (
    StatusReason.TASK_FAILED,
    StatusReason.HOST_USAGE_ERROR,
    StatusReason.JOB_TIMEOUT,
    StatusReason.OUT_OF_MEMORY_ERROR,
    StatusReason.CANNOT_PULL_CONTAINER_ERROR,
)

# (id, pod, keyword arguments, expected (reason, exit code, pod_active) | "success" | None,
#  text the message contains)
CASES = [
    # no outcome yet
    ("pending-unscheduled", make_pod(phase="Pending", node=None, start=None), {}, None, None),
    ("pending-creating", make_pod(phase="Pending", containers=(waiting(),)), {}, None, None),
    ("running", make_pod(containers=(running(),)), {"node": HEALTHY}, None, None),
    ("running-cordoned-node", make_pod(containers=(running(),)), {"node": NodeFacts(name="node-a")}, None, None),
    ("running-all-exited-zero-phase-lags", make_pod(containers=(terminated(),)), {}, None, None),
    ("init-running", make_pod(phase="Pending", init=(running("setup"),), containers=(waiting(reason="PodInitializing"),)), {}, None, None),
    # success
    ("succeeded", make_pod(phase="Succeeded", containers=(terminated(),)), {}, "success", None),
    ("succeeded-node-gone-later", make_pod(phase="Succeeded", containers=(terminated(),)), {"node": GONE}, "success", None),
    ("succeeded-sidecar-failed", make_pod(phase="Succeeded", init=(terminated("proxy", code=1),), sidecars=("proxy",), containers=(terminated(),)), {}, "success", None),
    # non-zero exit
    ("exit-1", make_pod(phase="Failed", containers=(terminated(code=1),)), {}, (TF, 1, False), CONTAINER_EXITED_MESSAGE),
    ("exit-137-not-oom", make_pod(phase="Failed", containers=(terminated(code=137),)), {}, (TF, 137, False), CONTAINER_EXITED_MESSAGE),
    ("start-error", make_pod(phase="Failed", containers=(terminated(code=128, reason="StartError"),)), {}, (TF, 128, False), CONTAINER_EXITED_MESSAGE),
    ("exit-1-node-gone-later", make_pod(phase="Failed", containers=(terminated(code=1),)), {"node": GONE}, (TF, 1, False), CONTAINER_EXITED_MESSAGE),
    ("second-container-fails", make_pod(phase="Failed", containers=(terminated("a"), terminated("b", code=5))), {}, (TF, 5, False), CONTAINER_EXITED_MESSAGE),
    ("init-fails", make_pod(phase="Failed", init=(terminated("setup", code=3),), containers=(waiting(reason="PodInitializing"),)), {}, (TF, 3, False), CONTAINER_EXITED_MESSAGE),
    ("init-oom", make_pod(phase="Failed", init=(terminated("setup", code=137, reason="OOMKilled"),), containers=(waiting(reason="PodInitializing"),)), {}, (OOM, 137, False), OOM_MESSAGE),
    # the first failing essential container decides, even while others run
    ("failed-while-other-runs", make_pod(containers=(terminated("a", code=2), running("b"))), {}, (TF, 2, True), CONTAINER_EXITED_MESSAGE),
    # a real kubelet reports the final phase a little after the last exit: wait for it, keep the pod
    ("failed-phase-lags", make_pod(containers=(terminated(code=3),)), {}, None, None),
    ("all-failed-phase-lags", make_pod(containers=(terminated("a", code=2), terminated("b", code=1))), {}, None, None),
    ("earliest-failure-decides", make_pod(phase="Failed", containers=(terminated("a", code=1, finished=30), terminated("b", code=137, reason="OOMKilled", finished=25))), {}, (OOM, 137, False), OOM_MESSAGE),
    ("tie-spec-order-decides", make_pod(phase="Failed", containers=(terminated("a", code=4, finished=30), terminated("b", code=9, finished=30))), {}, (TF, 4, False), None),
    ("unknown-finish-comes-last", make_pod(phase="Failed", containers=(terminated("a", code=4, finished=None), terminated("b", code=9, finished=30))), {}, (TF, 9, False), None),
    ("sidecar-failure-ignored", make_pod(init=(terminated("proxy", code=1),), sidecars=("proxy",), containers=(running(),)), {}, None, None),
    # OOM
    ("oom", make_pod(phase="Failed", containers=(terminated(code=137, reason="OOMKilled"),)), {}, (OOM, 137, False), OOM_MESSAGE),
    ("oom-while-running", make_pod(containers=(terminated(code=137, reason="OOMKilled"), running("b"))), {}, (OOM, 137, True), OOM_MESSAGE),
    ("oom-phase-lags", make_pod(containers=(terminated(code=137, reason="OOMKilled"),)), {}, None, None),
    # timeout
    ("deadline-exceeded", make_pod(phase="Failed", reason="DeadlineExceeded", message="Pod was active on the node longer than the specified deadline", containers=(terminated(code=137),)), {}, (TIMEOUT, None, False), TIMEOUT_MESSAGE),
    ("operator-timeout", make_pod(containers=(running(started=10),)), {"attempt_duration_seconds": 90}, (TIMEOUT, None, True), TIMEOUT_MESSAGE),
    ("operator-timeout-not-yet", make_pod(containers=(running(started=10),)), {"attempt_duration_seconds": 91}, None, None),
    ("operator-timeout-not-started", make_pod(phase="Pending", containers=(waiting(),)), {"attempt_duration_seconds": 60}, None, None),
    # host failures reported by the pod
    ("evicted", make_pod(phase="Failed", reason="Evicted", message="The node was low on resource: memory.", containers=(terminated(code=137),)), {}, (HOST, None, False), "Host EC2 (node node-a) stopped the pod: Evicted: The node was low on resource: memory."),
    ("node-shutdown", make_pod(phase="Failed", reason="Terminated", message="Pod was terminated in response to imminent node shutdown.", containers=(terminated(code=143),)), {}, (HOST, None, False), "imminent node shutdown"),
    ("admission-rejected", make_pod(phase="Failed", reason="UnexpectedAdmissionError", node="node-b", start=None), {}, (HOST, None, False), "Host EC2 (node node-b) stopped the pod: UnexpectedAdmissionError"),
    ("disruption-kills-container", make_pod(phase="Failed", conditions=(disruption(since=50),), containers=(terminated(code=143, finished=50),)), {}, (HOST, None, False), "DeletionByTaintManager"),
    ("disruption-unknown-time", make_pod(phase="Failed", conditions=({"type": "DisruptionTarget", "status": "True", "reason": "PreemptionByScheduler"},), containers=(terminated(code=1, finished=20),)), {}, (HOST, None, False), "PreemptionByScheduler"),
    ("failed-before-disruption", make_pod(phase="Failed", conditions=(disruption(since=50),), containers=(terminated(code=1, finished=40),)), {}, (TF, 1, False), CONTAINER_EXITED_MESSAGE),
    ("disruption-false", make_pod(phase="Failed", conditions=(disruption(since=10, status="False"),), containers=(terminated(code=1, finished=40),)), {}, (TF, 1, False), None),
    ("deleted-kills-container", make_pod(phase="Failed", deleted=50, containers=(terminated(code=143, finished=51),)), {}, (HOST, None, False), "the pod was deleted"),
    ("failed-before-deletion", make_pod(phase="Failed", deleted=50, containers=(terminated(code=1, finished=45),)), {}, (TF, 1, False), None),
    ("failed-without-container-failure", make_pod(phase="Failed", containers=(terminated(),)), {}, (HOST, None, False), "no container did"),
    ("being-deleted-still-running", make_pod(deleted=50, containers=(running(),)), {}, None, None),
    ("being-disrupted-still-running", make_pod(conditions=(disruption(since=50),), containers=(running(),)), {}, None, None),
    ("vanished", None, {}, (HOST, None, False), "Host EC2 (node unknown) lost the pod"),
    ("vanished-known-node", None, {"node": GONE}, (HOST, None, False), "Host EC2 (node node-a) lost the pod"),
    # host failures reported by the node (spot interruption, node loss)
    ("node-gone", make_pod(containers=(running(),)), {"node": GONE}, (HOST, None, True), "Host EC2 (node node-a) terminated."),
    ("spot-interruption", make_pod(containers=(running(),)), {"node": SPOT}, (HOST, None, True), "aws-node-termination-handler/spot-itn"),
    ("spot-interruption-pending", make_pod(phase="Pending", containers=(waiting(),)), {"node": SPOT}, (HOST, None, True), "interruption notice"),
    ("node-not-ready-in-grace", make_pod(containers=(running(),)), {"node": NOT_READY_30S}, None, None),
    ("node-not-ready-past-grace", make_pod(containers=(running(),)), {"node": NOT_READY_30S, "node_not_ready_grace_seconds": 30}, (HOST, None, True), "is not ready"),
    ("node-not-ready-since-unknown", make_pod(containers=(running(),)), {"node": NOT_READY_UNKNOWN}, (HOST, None, True), "unknown time"),
    ("phase-unknown-node-lost", make_pod(phase="Unknown", containers=(running(),)), {"node": GONE}, (HOST, None, True), None),
    ("node-loss-beats-disruption", make_pod(conditions=(disruption(since=50),), containers=(running(),)), {"node": GONE}, (HOST, None, True), None),
    # image pulls
    ("pull-backoff-in-grace", make_pod(phase="Pending", start=0, containers=(waiting(reason="ImagePullBackOff"),)), {}, None, None),
    ("pull-backoff-past-grace", make_pod(phase="Pending", start=-30, containers=(waiting(reason="ImagePullBackOff", message='Back-off pulling image "nope/nope:1"'),)), {}, (PULL, None, True), 'CannotPullContainerError: Back-off pulling image "nope/nope:1"'),
    ("err-image-pull-past-grace", make_pod(phase="Pending", start=-30, containers=(waiting(reason="ErrImagePull"),)), {}, (PULL, None, True), "CannotPullContainerError: ErrImagePull"),
    ("pull-custom-grace", make_pod(phase="Pending", start=80, containers=(waiting(reason="ErrImagePull"),)), {"image_pull_grace_seconds": 20}, (PULL, None, True), None),
    ("pull-grace-from-creation", make_pod(phase="Pending", start=None, containers=(waiting(reason="ErrImagePull"),)), {"image_pull_grace_seconds": 105}, (PULL, None, True), None),
    ("invalid-image-name", make_pod(phase="Pending", start=99, containers=(waiting(reason="InvalidImageName", message='Failed to apply default image tag "Bad:Name"'),)), {}, (PULL, None, True), "Bad:Name"),
    ("never-pull", make_pod(phase="Pending", start=99, containers=(waiting(reason="ErrImageNeverPull"),)), {}, (PULL, None, True), None),
    ("init-pull-backoff", make_pod(phase="Pending", start=-30, init=(waiting("setup", reason="ImagePullBackOff"),), containers=(waiting(reason="PodInitializing"),)), {}, (PULL, None, True), None),
    ("sidecar-pull-backoff", make_pod(phase="Pending", start=-30, init=(waiting("proxy", reason="ImagePullBackOff"),), sidecars=("proxy",), containers=(waiting(reason="PodInitializing"),)), {}, (PULL, None, True), None),
    ("config-error-is-not-pull", make_pod(phase="Pending", start=-30, containers=(waiting(reason="CreateContainerConfigError"),)), {}, None, None),
]


@pytest.mark.parametrize(
    ("pod", "kwargs", "expected", "message"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_classification_table(pod, kwargs, expected, message):
    outcome = classify_pod(pod=pod, now=NOW, **kwargs)
    if expected is None:
        assert outcome is None
        return
    if expected == "success":
        assert outcome == SUCCESS
        return
    reason, exit_code, pod_active = expected
    assert outcome is not None and not outcome.succeeded
    assert (outcome.status_reason, outcome.exit_code, outcome.pod_active) == (reason, exit_code, pod_active)
    if message is not None:
        assert message in outcome.status_message
    if reason is HOST:
        assert outcome.status_message.startswith("Host EC2 (node ")


def test_success_is_exit_zero_with_the_aws_message():
    assert SUCCESS.succeeded and SUCCESS.exit_code == 0 and SUCCESS.status_reason is None
    assert SUCCESS.status_message == "Essential container in task exited"


def test_aws_messages():
    assert CONTAINER_EXITED_MESSAGE == "Essential container in task exited"
    assert TIMEOUT_MESSAGE == "Job attempt duration exceeded timeout"
    assert OOM_MESSAGE == "OutOfMemoryError: Container killed due to memory usage"


@pytest.mark.parametrize(
    ("pod", "aws_reason"),
    [
        (make_pod(phase="Failed", containers=(terminated(code=3),)), None),  # AWS: the exit code says it
        (make_pod(phase="Failed", containers=(terminated(code=137, reason="OOMKilled"),)),
         "OutOfMemoryError: Container killed due to memory usage"),
        (make_pod(phase="Pending", containers=(waiting(reason="ErrImageNeverPull", message="never pull x:1"),)),
         "CannotPullContainerError: never pull x:1"),
        (make_pod(phase="Failed", reason="DeadlineExceeded"), "JobTimeout"),
    ],
    ids=["plain-exit", "oom", "pull", "timeout"],
)
def test_the_container_reason_is_written_as_aws_writes_it(pod, aws_reason):
    outcome = classify_pod(pod=pod, now=at(1))
    assert outcome is not None and outcome.aws_container_reason == aws_reason
    assert SUCCESS.aws_container_reason is None


def test_default_grace_periods_are_bounded():
    stuck = make_pod(phase="Pending", start=0, containers=(waiting(reason="ImagePullBackOff"),))
    assert classify_pod(pod=stuck, now=at(119)) is None
    assert classify_pod(pod=stuck, now=at(120)).status_reason is PULL
    node = NodeFacts(name="node-a", ready=False, not_ready_since=at(0))
    pod = make_pod(containers=(running(),))
    assert classify_pod(pod=pod, now=at(59), node=node) is None
    assert classify_pod(pod=pod, now=at(60), node=node).status_reason is HOST


# --- node facts -------------------------------------------------------------------


def node_object(*, ready: str | None = "True", since: float = 0, taints: tuple[str, ...] = ()) -> dict:
    conditions = [{"type": "MemoryPressure", "status": "False"}]
    if ready is not None:
        conditions.append({"type": "Ready", "status": ready, "lastTransitionTime": ts(since)})
    return {
        "metadata": {"name": "node-a"},
        "spec": {"taints": [{"key": key, "effect": "NoSchedule"} for key in taints]},
        "status": {"conditions": conditions},
    }


@pytest.mark.parametrize(
    ("node", "expected"),
    [
        (None, NodeFacts(name="node-a", exists=False)),
        (node_object(), NodeFacts(name="node-a")),
        (node_object(ready=None), NodeFacts(name="node-a")),
        (node_object(ready="False", since=70), NodeFacts(name="node-a", ready=False, not_ready_since=at(70))),
        (node_object(ready="Unknown", since=5), NodeFacts(name="node-a", ready=False, not_ready_since=at(5))),
        (node_object(taints=("node.kubernetes.io/unschedulable",)), NodeFacts(name="node-a")),
        (
            node_object(taints=("node.kubernetes.io/unschedulable", "karpenter.sh/disrupted")),
            NodeFacts(name="node-a", interruption_taint="karpenter.sh/disrupted"),
        ),
        ({"metadata": {"name": "node-a"}}, NodeFacts(name="node-a")),
    ],
)
def test_node_facts_from_node(node, expected):
    assert NodeFacts.from_node(name="node-a", node=node) == expected


@pytest.mark.parametrize("key", sorted(INTERRUPTION_TAINT_KEYS))
def test_every_interruption_taint_fails_the_attempt(key):
    facts = NodeFacts.from_node(name="node-a", node=node_object(taints=(key,)))
    outcome = classify_pod(pod=make_pod(containers=(running(),)), now=NOW, node=facts)
    assert outcome.status_reason is HOST and key in outcome.status_message


# --- attempt timestamps -----------------------------------------------------------


@pytest.mark.parametrize(
    ("pod", "expected"),
    [
        (None, (None, None)),
        (make_pod(phase="Pending", containers=(waiting(),)), (None, None)),
        (make_pod(containers=(running(started=10),)), (10, None)),
        (make_pod(phase="Succeeded", containers=(terminated(started=10, finished=20),)), (10, 20)),
        (make_pod(containers=(terminated(started=10, finished=20),)), (10, 20)),
        (make_pod(phase="Failed", containers=(terminated("a", started=12, finished=40), terminated("b", started=11, finished=30))), (11, 40)),
        (make_pod(containers=(terminated("a", code=1, started=12, finished=40), running("b", started=11))), (11, None)),
        (make_pod(phase="Failed", init=(terminated("setup", code=1, started=1, finished=3),), containers=(waiting(reason="PodInitializing"),)), (None, 3)),
        (make_pod(phase="Failed", reason="Evicted", containers=(running(started=10),)), (10, None)),
    ],
)
def test_attempt_times(pod, expected):
    def millis(seconds):
        return None if seconds is None else T0_MS + int(seconds * 1000)

    started, stopped = expected
    assert attempt_times(pod=pod) == AttemptTimes(started_at=millis(started), stopped_at=millis(stopped))


def test_attempt_times_keep_milliseconds():
    pod = make_pod(containers=({"name": "main", "state": {"running": {"startedAt": "2024-05-01T12:00:00.123Z"}}},))
    assert attempt_times(pod=pod).started_at == T0_MS + 123


# --- properties -------------------------------------------------------------------

TABLE = {
    StatusReason.TASK_FAILED: ContainerReason.NON_ZERO_EXIT_CODE,
    StatusReason.HOST_USAGE_ERROR: ContainerReason.HOST_USAGE_ERROR,
    StatusReason.JOB_TIMEOUT: ContainerReason.JOB_TIMEOUT,
    StatusReason.OUT_OF_MEMORY_ERROR: ContainerReason.OOM_KILLED,
    StatusReason.CANNOT_PULL_CONTAINER_ERROR: ContainerReason.CANNOT_PULL_CONTAINER_ERROR,
}

container_states = st.one_of(
    st.builds(lambda s: running(started=s), st.integers(0, 100)),
    st.builds(
        lambda code, reason, s, d: terminated(code=code, reason=reason, started=s, finished=s + d),
        st.sampled_from([0, 1, 2, 137, 143]),
        st.sampled_from([None, "OOMKilled", "Error", "StartError"]),
        st.integers(0, 100),
        st.integers(0, 100),
    ),
    st.builds(
        lambda reason: waiting(reason=reason),
        st.sampled_from(["ContainerCreating", "PodInitializing", "ErrImagePull", "ImagePullBackOff", "InvalidImageName"]),
    ),
)
pods = st.builds(
    lambda phase, states, init, reason, conditions, deleted, start: make_pod(
        phase=phase,
        containers=tuple({**s, "name": f"c{i}"} for i, s in enumerate(states)),
        init=tuple({**s, "name": f"i{i}"} for i, s in enumerate(init)),
        reason=reason,
        conditions=conditions,
        deleted=deleted,
        start=start,
    ),
    st.sampled_from(["Pending", "Running", "Succeeded", "Failed", "Unknown"]),
    st.lists(container_states, min_size=1, max_size=3),
    st.lists(container_states, max_size=2),
    st.sampled_from([None, "Evicted", "DeadlineExceeded", "Shutdown"]),
    st.lists(st.builds(lambda s, v: disruption(since=s, status=v), st.integers(0, 100), st.sampled_from(["True", "False"])), max_size=1).map(tuple),
    st.one_of(st.none(), st.integers(0, 100)),
    st.one_of(st.none(), st.integers(-200, 100)),
)
node_facts = st.one_of(
    st.none(),
    st.builds(
        lambda exists, ready, since, taint: NodeFacts(
            name="node-a", exists=exists, ready=ready, not_ready_since=None if ready or since is None else at(since), interruption_taint=taint
        ),
        st.booleans(),
        st.booleans(),
        st.one_of(st.none(), st.integers(0, 100)),
        st.one_of(st.none(), st.sampled_from(sorted(INTERRUPTION_TAINT_KEYS))),
    ),
)


def check_well_formed(outcome: Outcome | None) -> None:
    if outcome is None or outcome.succeeded:
        assert outcome in (None, SUCCESS)
        return
    assert TABLE[outcome.status_reason] is outcome.container_reason
    if outcome.status_reason in (StatusReason.TASK_FAILED, StatusReason.OUT_OF_MEMORY_ERROR):
        assert isinstance(outcome.exit_code, int) and outcome.exit_code != 0
    else:
        assert outcome.exit_code is None
    if outcome.status_reason is StatusReason.HOST_USAGE_ERROR:
        assert outcome.status_message.startswith("Host EC2 (node ")


@given(pod=pods, node=node_facts, now=st.integers(0, 400), duration=st.one_of(st.none(), st.integers(60, 200)))
def test_every_pod_gets_a_well_formed_answer(pod, node, now, duration):
    outcome = classify_pod(pod=pod, now=at(now), node=node, attempt_duration_seconds=duration)
    check_well_formed(outcome)
    phase = pod["status"]["phase"]
    if phase in ("Succeeded", "Failed"):
        assert outcome is not None and not outcome.pod_active
        assert outcome.succeeded is (phase == "Succeeded")
    elif outcome is not None:
        assert outcome.pod_active and not outcome.succeeded


@given(pod=pods, node=node_facts, now=st.integers(0, 300), later=st.integers(0, 300))
def test_an_outcome_once_reached_stays_reached(pod, node, now, later):
    if classify_pod(pod=pod, now=at(now), node=node, attempt_duration_seconds=60) is not None:
        assert classify_pod(pod=pod, now=at(now + later), node=node, attempt_duration_seconds=60) is not None


@given(node=node_facts)
def test_a_vanished_pod_is_always_a_host_failure(node):
    outcome = classify_pod(pod=None, now=NOW, node=node)
    assert outcome.status_reason is HOST and not outcome.pod_active
