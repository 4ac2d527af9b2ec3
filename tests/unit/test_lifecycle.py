"""The job state machine: every (state, event) pair, AWS cancel/terminate rules, retries."""

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubatch.core.lifecycle import (
    ACTIVE_STATES,
    TERMINAL_STATES,
    Admitted,
    AttemptEnded,
    CancelRequested,
    ContainerStarted,
    DependenciesMet,
    DependenciesPending,
    DependencyFailed,
    Invalidated,
    JobState,
    PodCreated,
    RunnableTimeLimitExceeded,
    TerminateRequested,
    Transition,
    transition,
)
from kubatch.core.nodefacts import NodeFacts
from kubatch.core.outcome import SUCCESS, Outcome, classify_pod
from kubatch.core.reasons import ContainerReason, StatusReason

S = JobState
R = StatusReason
SEED_JOB_DEFINITION_RETRY = {
    "attempts": 3,
    "evaluateOnExit": [
        {"action": "RETRY", "onStatusReason": "HostUsageError"},
        {"action": "EXIT", "onStatusReason": "TaskFailed"},
    ],
}
EXIT_1 = Outcome(
    succeeded=False,
    status_reason=R.TASK_FAILED,
    container_reason=ContainerReason.NON_ZERO_EXIT_CODE,
    exit_code=1,
    status_message="Essential container in task exited",
)
LOST = Outcome(
    succeeded=False,
    status_reason=R.HOST_USAGE_ERROR,
    container_reason=ContainerReason.HOST_USAGE_ERROR,
    exit_code=None,
    status_message="Host EC2 (node spot-a) terminated.",
    pod_active=True,
)

EVENTS = {
    "DependenciesPending": DependenciesPending(),
    "DependenciesMet": DependenciesMet(),
    "DependencyFailed": DependencyFailed(dependency="prep"),
    "Admitted": Admitted(compute_environment="spot-ce"),
    "PodCreated": PodCreated(pod_name="job-a1"),
    "ContainerStarted": ContainerStarted(),
    "AttemptEnded": AttemptEnded(outcome=EXIT_1, retry_strategy={"attempts": 2}, attempts_made=1),
    "CancelRequested": CancelRequested(reason="no longer needed"),
    "TerminateRequested": TerminateRequested(reason="wrong input"),
    "RunnableTimeLimitExceeded": RunnableTimeLimitExceeded(
        reason="CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY", max_time_seconds=600
    ),
    "Invalidated": Invalidated(message="JobQueue 'gone' not found"),
}

# Expected (state, statusReason, delete_pod) for every event in every non-terminal
# state; a missing entry means the event leaves the job unchanged.
CANCELLED = (S.FAILED, R.CANCELLED, False)
INVALID = (S.FAILED, R.INVALID_JOB, False)
INVALID_WITH_POD = (S.FAILED, R.INVALID_JOB, True)
TERMINATED = (S.FAILED, R.TERMINATED, True)
RETRIED = (S.RUNNABLE, R.TASK_FAILED, False)
EXPECTED = {
    S.SUBMITTED: {
        "DependenciesPending": (S.PENDING, None, False),
        "DependenciesMet": (S.RUNNABLE, None, False),
        "DependencyFailed": (S.FAILED, R.DEPENDENCY_FAILED, False),
        "CancelRequested": CANCELLED,
        "TerminateRequested": CANCELLED,
        "Invalidated": INVALID,
    },
    S.PENDING: {
        "DependenciesMet": (S.RUNNABLE, None, False),
        "DependencyFailed": (S.FAILED, R.DEPENDENCY_FAILED, False),
        "CancelRequested": CANCELLED,
        "TerminateRequested": CANCELLED,
        "Invalidated": INVALID,
    },
    S.RUNNABLE: {
        "Admitted": (S.STARTING, None, False),
        "PodCreated": (S.STARTING, None, False),
        "ContainerStarted": (S.RUNNING, None, False),
        "CancelRequested": CANCELLED,
        "TerminateRequested": CANCELLED,
        "RunnableTimeLimitExceeded": (S.FAILED, R.JOB_STATE_TIME_LIMIT, False),
        "Invalidated": INVALID,
    },
    S.STARTING: {
        "ContainerStarted": (S.RUNNING, None, False),
        "AttemptEnded": RETRIED,
        "TerminateRequested": TERMINATED,
        "Invalidated": INVALID_WITH_POD,
    },
    S.RUNNING: {
        "AttemptEnded": RETRIED,
        "TerminateRequested": TERMINATED,
        "Invalidated": INVALID_WITH_POD,
    },
    S.SUCCEEDED: {},
    S.FAILED: {},
}


@pytest.mark.parametrize("state", list(S))
@pytest.mark.parametrize("event_name", sorted(EVENTS))
def test_every_state_and_event(state, event_name):
    result = transition(state=state, event=EVENTS[event_name])
    expected = EXPECTED[state].get(event_name)
    if expected is None:
        assert result == Transition(state=state, changed=False, note=result.note)
        assert result.note
        return
    assert result.changed
    assert (result.state, result.status_reason, result.delete_pod) == expected
    if result.state is S.FAILED:
        assert result.status_message


def test_the_matrix_covers_every_state():
    assert set(EXPECTED) == set(S)


def test_cancel_keeps_the_users_reason():
    result = transition(state=S.RUNNABLE, event=CancelRequested(reason="no longer needed"))
    assert (result.status_reason, result.status_message) == (R.CANCELLED, "no longer needed")
    assert transition(state=S.PENDING, event=CancelRequested(reason="")).status_message == "Cancelled by CancelJob"


@pytest.mark.parametrize("state", sorted(ACTIVE_STATES))
def test_cancel_does_not_stop_a_started_job(state):
    result = transition(state=state, event=CancelRequested(reason="stop"))
    assert not result.changed and result.state is state and not result.delete_pod
    assert "TerminateJob" in result.note


def test_terminate_stops_running_and_cancels_waiting_jobs():
    running = transition(state=S.RUNNING, event=TerminateRequested(reason="wrong input"))
    assert (running.state, running.status_reason, running.status_message, running.delete_pod) == (
        S.FAILED,
        R.TERMINATED,
        "wrong input",
        True,
    )
    waiting = transition(state=S.RUNNABLE, event=TerminateRequested(reason=""))
    assert (waiting.status_reason, waiting.status_message, waiting.delete_pod) == (
        R.CANCELLED,
        "Cancelled by TerminateJob",
        False,
    )
    assert transition(state=S.STARTING, event=TerminateRequested(reason="")).status_message == (
        "Terminated by TerminateJob"
    )


def test_messages_of_other_failures():
    assert transition(state=S.PENDING, event=EVENTS["DependencyFailed"]).status_message == (
        "Dependent Job failed: prep"
    )
    limit = transition(state=S.RUNNABLE, event=EVENTS["RunnableTimeLimitExceeded"])
    assert limit.status_message == "Canceled by JobStateTimeLimit action due to reason: CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY"
    assert transition(state=S.RUNNING, event=EVENTS["Invalidated"]).status_message == "JobQueue 'gone' not found"


def test_waiting_states_say_why_they_wait():
    assert transition(state=S.SUBMITTED, event=DependenciesPending()).status_message
    assert transition(state=S.PENDING, event=DependenciesMet()).status_message
    assert "spot-ce" in transition(state=S.RUNNABLE, event=EVENTS["Admitted"]).status_message


def test_states_may_be_given_as_strings():
    assert transition(state="RUNNABLE", event=EVENTS["Admitted"]).state is S.STARTING
    with pytest.raises(ValueError):
        transition(state="QUEUED", event=EVENTS["Admitted"])


# --- attempts ending --------------------------------------------------------------


def ended(outcome: Outcome, attempts_made: int, strategy=SEED_JOB_DEFINITION_RETRY) -> AttemptEnded:
    return AttemptEnded(outcome=outcome, retry_strategy=strategy, attempts_made=attempts_made)


def test_success():
    result = transition(state=S.RUNNING, event=ended(SUCCESS, 1))
    assert (result.state, result.status_reason, result.status_message) == (
        S.SUCCEEDED,
        None,
        "Essential container in task exited",
    )
    assert not result.retry and result.decision is None and not result.delete_pod


def test_retry_goes_back_to_runnable_and_stops_a_live_pod():
    result = transition(state=S.RUNNING, event=ended(LOST, 1))
    assert (result.state, result.status_reason, result.retry, result.delete_pod) == (
        S.RUNNABLE,
        R.HOST_USAGE_ERROR,
        True,
        True,
    )
    assert result.status_message.startswith("Waiting to retry: attempt 1 of 3 failed")
    assert result.status_message.endswith(LOST.status_message)
    assert result.decision.rule_index == 0


def test_exit_rule_fails_the_job_with_the_attempts_reason():
    result = transition(state=S.RUNNING, event=ended(EXIT_1, 1))
    assert (result.state, result.status_reason, result.status_message, result.retry) == (
        S.FAILED,
        R.TASK_FAILED,
        "Essential container in task exited",
        False,
    )
    assert "evaluateOnExit[1]" in result.note


def test_exhausted_attempts_fail_the_job():
    result = transition(state=S.RUNNING, event=ended(LOST, 3))
    assert (result.state, result.status_reason, result.retry, result.delete_pod) == (
        S.FAILED,
        R.HOST_USAGE_ERROR,
        False,
        True,
    )
    assert "no attempts remain" in result.note


def test_an_invalid_retry_strategy_fails_the_job_naming_the_field():
    result = transition(
        state=S.RUNNING,
        event=ended(EXIT_1, 1, strategy={"attempts": 3, "evaluateOnExit": [{"action": "RETRY"}]}),
    )
    assert (result.state, result.status_reason) == (S.FAILED, R.INVALID_JOB)
    assert result.status_message.startswith("retryStrategy.evaluateOnExit[0]:")


NOW = datetime(2024, 5, 1, 12, 10, tzinfo=UTC)


def pod(phase: str, *, code: int | None = None) -> dict:
    state = (
        {"running": {"startedAt": "2024-05-01T12:00:00Z"}}
        if code is None
        else {"terminated": {"exitCode": code, "reason": "Error" if code else "Completed"}}
    )
    return {
        "metadata": {"name": "job-a1", "creationTimestamp": "2024-05-01T11:59:58Z"},
        "spec": {"nodeName": "spot-a", "containers": [{"name": "main"}]},
        "status": {"phase": phase, "containerStatuses": [{"name": "main", "state": state}]},
    }


def run(strategy: dict, pods: list[tuple[dict, NodeFacts | None]]) -> tuple[JobState, list[Outcome]]:
    """Drive one job through its attempts, one (final pod, node facts) per attempt."""
    state = transition(state=S.SUBMITTED, event=DependenciesMet()).state
    outcomes = []
    for attempt, (final_pod, node) in enumerate(pods, start=1):
        assert state is S.RUNNABLE
        state = transition(state=state, event=Admitted(compute_environment="spot-ce")).state
        state = transition(state=state, event=ContainerStarted()).state
        outcome = classify_pod(pod=final_pod, now=NOW, node=node)
        outcomes.append(outcome)
        state = transition(state=state, event=ended(outcome, attempt, strategy)).state
    return state, outcomes


def test_issue_three_attempts_two_failures_then_success():
    state, outcomes = run(
        {"attempts": 3},
        [(pod("Failed", code=1), None), (pod("Failed", code=1), None), (pod("Succeeded", code=0), None)],
    )
    assert state is S.SUCCEEDED and len(outcomes) == 3


def test_issue_spot_node_deleted_then_success_elsewhere():
    state, outcomes = run(
        SEED_JOB_DEFINITION_RETRY,
        [(pod("Running"), NodeFacts(name="spot-a", exists=False)), (pod("Succeeded", code=0), None)],
    )
    assert state is S.SUCCEEDED
    assert outcomes[0].status_reason is R.HOST_USAGE_ERROR


def test_issue_seed_exit_rule_stops_retries_of_non_zero_exits():
    state, outcomes = run(SEED_JOB_DEFINITION_RETRY, [(pod("Failed", code=1), None)])
    assert state is S.FAILED and outcomes[0].status_reason is R.TASK_FAILED


# --- properties -------------------------------------------------------------------

TIMED_OUT = replace(
    EXIT_1,
    status_reason=R.JOB_TIMEOUT,
    container_reason=ContainerReason.JOB_TIMEOUT,
    exit_code=None,
    status_message="Job attempt duration exceeded timeout",
)
OUTCOMES = [SUCCESS, EXIT_1, LOST, TIMED_OUT]
plain_events = st.sampled_from([e for name, e in EVENTS.items() if name != "AttemptEnded"])
attempt_results = st.builds(lambda outcome: ("ended", outcome), st.sampled_from(OUTCOMES))
event_scripts = st.lists(st.one_of(plain_events, attempt_results), max_size=40)
retry_strategies = st.one_of(
    st.none(),
    st.builds(lambda n: {"attempts": n}, st.integers(1, 10)),
    st.builds(lambda n: {**SEED_JOB_DEFINITION_RETRY, "attempts": n}, st.integers(1, 10)),
)


def replay(strategy, script):
    """Apply a script of events, counting attempts as the controller would."""
    state, attempts, history = S.SUBMITTED, 0, []
    for item in script:
        if isinstance(item, tuple):
            if state not in ACTIVE_STATES:
                continue
            attempts += 1
            event = AttemptEnded(outcome=item[1], retry_strategy=strategy, attempts_made=attempts)
        else:
            event = item
        result = transition(state=state, event=event)
        history.append((state, event, result, attempts))
        state = result.state
    return history


@given(strategy=retry_strategies, script=event_scripts)
def test_terminal_states_are_absorbing(strategy, script):
    reached_terminal = False
    for before, _event, result, _attempts in replay(strategy, script):
        if reached_terminal:
            assert not result.changed and result.state is before
        reached_terminal = result.state in TERMINAL_STATES


@given(strategy=retry_strategies, script=event_scripts)
def test_attempts_never_exceed_the_limit(strategy, script):
    limit = (strategy or {}).get("attempts", 1)
    for _before, _event, result, attempts in replay(strategy, script):
        assert attempts <= limit
        if result.retry:
            assert attempts < limit


@given(strategy=retry_strategies, script=event_scripts)
def test_transitions_are_consistent(strategy, script):
    for before, event, result, _attempts in replay(strategy, script):
        assert result.changed or result.state is before
        if result.state is S.FAILED and result.changed:
            assert result.status_reason is not None and result.status_message
        if result.state is S.SUCCEEDED and result.changed:
            assert isinstance(event, AttemptEnded) and event.outcome.succeeded
        if result.delete_pod:
            assert before in ACTIVE_STATES
        if result.retry:
            assert result.state is S.RUNNABLE and before in ACTIVE_STATES
        if isinstance(event, (CancelRequested, TerminateRequested)) and result.changed:
            assert result.state is S.FAILED and not result.retry
