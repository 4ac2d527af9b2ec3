"""retryStrategy validation and decisions, table-driven and property-based.

The strategies quoted from the seed (`../shared/seeds/000_32be1cf4a02dd42c.txt`) and
from AWS's documentation are kept verbatim as JSON text: they must work unchanged.
"""

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubatch.core.outcome import CONTAINER_EXITED_MESSAGE, OOM_MESSAGE, TIMEOUT_MESSAGE, Outcome
from kubatch.core.reasons import ContainerReason, StatusReason
from kubatch.core.retry import (
    MAX_PATTERN_LENGTH,
    ExitRule,
    RetryAction,
    RetryStrategy,
    RetryStrategyError,
    decide_retry,
    parse_retry_strategy,
    pattern_matches,
)

# --- verbatim examples ------------------------------------------------------------

SEED_JOB_DEFINITION = json.loads(
    """
  {
    "attempts": 3,
    "evaluateOnExit": [
      {"action": "RETRY", "onStatusReason": "HostUsageError"},
      {"action": "EXIT", "onStatusReason": "TaskFailed"}
    ]
  }
"""
)
SEED_RETRY_STRATEGY = json.loads(
    """
  {
    "retryStrategy": {
      "attempts": 3,
      "evaluateOnExit": [
        {"action": "RETRY", "onReason": "HostUsageError"},
        {"action": "RETRY", "onReason": "NonZeroExitCode"},
        {"action": "EXIT", "onReason": "TaskFailed"}
      ]
    }
  }
"""
)["retryStrategy"]
# The seed's "Common onStatusReason values": HostUsageError retry, TaskFailed don't
# retry, JobTimeout retry.
SEED_COMMON_VALUES = {
    "attempts": 3,
    "evaluateOnExit": [
        {"action": "RETRY", "onStatusReason": "HostUsageError"},
        {"action": "EXIT", "onStatusReason": "TaskFailed"},
        {"action": "RETRY", "onStatusReason": "JobTimeout"},
    ],
}
# AWS docs: "retry on Host EC2*, exit on everything else".
AWS_HOST_EC2 = json.loads(
    """
{
  "attempts": 5,
  "evaluateOnExit": [
    {"onStatusReason": "Host EC2*", "action": "RETRY"},
    {"onReason": "*", "action": "EXIT"}
  ]
}
"""
)
# AWS user guide ("Automated job retries") with the CloudFormation example's attempts.
AWS_USER_GUIDE = {
    "attempts": 3,
    "evaluateOnExit": json.loads(
        """
[
  {"action": "RETRY", "onReason": "AGENT"},
  {"action": "RETRY", "onStatusReason": "Task failed to start"},
  {"action": "EXIT", "onReason": "*"}
]
"""
    ),
}

# --- attempt outcomes as the classifier reports them --------------------------------


def failure(reason: StatusReason, container: ContainerReason, message: str, exit_code: int | None) -> Outcome:
    return Outcome(
        succeeded=False,
        status_reason=reason,
        container_reason=container,
        exit_code=exit_code,
        status_message=message,
    )


def exited(code: int) -> Outcome:
    return failure(
        StatusReason.TASK_FAILED, ContainerReason.NON_ZERO_EXIT_CODE, CONTAINER_EXITED_MESSAGE, code
    )


EXIT_1 = exited(1)
HOST = failure(
    StatusReason.HOST_USAGE_ERROR,
    ContainerReason.HOST_USAGE_ERROR,
    "Host EC2 (node spot-a) terminated: interruption notice (aws-node-termination-handler/spot-itn).",
    None,
)
TIMEOUT = failure(StatusReason.JOB_TIMEOUT, ContainerReason.JOB_TIMEOUT, TIMEOUT_MESSAGE, None)
OOM = failure(StatusReason.OUT_OF_MEMORY_ERROR, ContainerReason.OOM_KILLED, OOM_MESSAGE, 137)
PULL = failure(
    StatusReason.CANNOT_PULL_CONTAINER_ERROR,
    ContainerReason.CANNOT_PULL_CONTAINER_ERROR,
    'CannotPullContainerError: Back-off pulling image "nope/nope:1"',
    None,
)
CANCELLED = failure(StatusReason.CANCELLED, ContainerReason.HOST_USAGE_ERROR, "stop", None)
TERMINATED = failure(StatusReason.TERMINATED, ContainerReason.HOST_USAGE_ERROR, "stop", 143)


def rules(*entries: dict, attempts: int = 3) -> dict:
    return {"attempts": attempts, "evaluateOnExit": list(entries)}


RETRY, EXIT = RetryAction.RETRY, RetryAction.EXIT

# (id, retryStrategy, attempts made, outcome, expected action, expected rule index)
CASES = [
    # the seed's job definition
    ("seed-def/exit-1", SEED_JOB_DEFINITION, 1, EXIT_1, EXIT, 1),
    ("seed-def/host-1", SEED_JOB_DEFINITION, 1, HOST, RETRY, 0),
    ("seed-def/host-2", SEED_JOB_DEFINITION, 2, HOST, RETRY, 0),
    ("seed-def/host-exhausted", SEED_JOB_DEFINITION, 3, HOST, EXIT, None),
    ("seed-def/oom-no-match", SEED_JOB_DEFINITION, 1, OOM, RETRY, None),
    ("seed-def/pull-no-match", SEED_JOB_DEFINITION, 1, PULL, RETRY, None),
    ("seed-def/timeout-not-named", SEED_JOB_DEFINITION, 1, TIMEOUT, EXIT, None),
    # the seed's retry strategy section (onReason)
    ("seed-onreason/host", SEED_RETRY_STRATEGY, 1, HOST, RETRY, 0),
    ("seed-onreason/exit-1", SEED_RETRY_STRATEGY, 1, EXIT_1, RETRY, 1),
    ("seed-onreason/exit-1-again", SEED_RETRY_STRATEGY, 2, EXIT_1, RETRY, 1),
    ("seed-onreason/exit-1-exhausted", SEED_RETRY_STRATEGY, 3, EXIT_1, EXIT, None),
    ("seed-onreason/oom-no-match", SEED_RETRY_STRATEGY, 1, OOM, RETRY, None),
    ("seed-onreason/pull-no-match", SEED_RETRY_STRATEGY, 1, PULL, RETRY, None),
    ("seed-onreason/timeout", SEED_RETRY_STRATEGY, 1, TIMEOUT, EXIT, None),
    # the seed's common onStatusReason values
    ("seed-common/host", SEED_COMMON_VALUES, 1, HOST, RETRY, 0),
    ("seed-common/task-failed", SEED_COMMON_VALUES, 1, EXIT_1, EXIT, 1),
    ("seed-common/timeout", SEED_COMMON_VALUES, 1, TIMEOUT, RETRY, 2),
    ("seed-common/timeout-exhausted", SEED_COMMON_VALUES, 3, TIMEOUT, EXIT, None),
    # AWS docs: retry on Host EC2*, exit on everything else
    ("host-ec2/host", AWS_HOST_EC2, 1, HOST, RETRY, 0),
    ("host-ec2/host-4", AWS_HOST_EC2, 4, HOST, RETRY, 0),
    ("host-ec2/host-exhausted", AWS_HOST_EC2, 5, HOST, EXIT, None),
    ("host-ec2/exit-1", AWS_HOST_EC2, 1, EXIT_1, EXIT, 1),
    ("host-ec2/oom", AWS_HOST_EC2, 1, OOM, EXIT, 1),
    ("host-ec2/timeout", AWS_HOST_EC2, 1, TIMEOUT, EXIT, 1),
    ("host-ec2/pull", AWS_HOST_EC2, 1, PULL, EXIT, 1),
    # AWS user guide
    ("guide/exit-1", AWS_USER_GUIDE, 1, EXIT_1, EXIT, 2),
    ("guide/host", AWS_USER_GUIDE, 1, HOST, EXIT, 2),
    # first match wins
    ("order/exit-first", rules({"action": "EXIT", "onExitCode": "1"}, {"action": "RETRY", "onExitCode": "1"}), 1, EXIT_1, EXIT, 0),
    ("order/retry-first", rules({"action": "RETRY", "onExitCode": "1"}, {"action": "EXIT", "onExitCode": "1"}), 1, EXIT_1, RETRY, 0),
    ("order/skip-non-matching", rules({"action": "RETRY", "onExitCode": "2"}, {"action": "EXIT", "onExitCode": "1"}), 1, EXIT_1, EXIT, 1),
    # every condition of a rule must match
    ("and/exit-code-differs", rules({"action": "EXIT", "onStatusReason": "TaskFailed", "onExitCode": "2"}), 1, EXIT_1, RETRY, None),
    ("and/all-match", rules({"action": "EXIT", "onStatusReason": "TaskFailed", "onExitCode": "1"}), 1, EXIT_1, EXIT, 0),
    ("and/status-differs", rules({"action": "EXIT", "onReason": "NonZeroExitCode", "onStatusReason": "HostUsageError"}), 1, EXIT_1, RETRY, None),
    ("and/three-conditions", rules({"action": "EXIT", "onStatusReason": "Essential container*", "onReason": "NonZero*", "onExitCode": "1*"}), 1, exited(13), EXIT, 0),
    ("and/three-conditions-miss", rules({"action": "EXIT", "onStatusReason": "Essential container*", "onReason": "NonZero*", "onExitCode": "1*"}), 1, exited(37), RETRY, None),
    # exact and wildcard patterns
    ("pattern/exit-star-no-code", rules({"action": "EXIT", "onExitCode": "*"}), 1, HOST, RETRY, None),
    ("pattern/exit-star", rules({"action": "EXIT", "onExitCode": "*"}), 1, EXIT_1, EXIT, 0),
    ("pattern/exit-prefix", rules({"action": "EXIT", "onExitCode": "1*"}), 1, exited(137), EXIT, 0),
    ("pattern/exit-prefix-miss", rules({"action": "EXIT", "onExitCode": "1*"}), 1, exited(2), RETRY, None),
    ("pattern/exit-exact-not-prefix", rules({"action": "EXIT", "onExitCode": "1"}), 1, exited(137), RETRY, None),
    ("pattern/exit-zero-prefix", rules({"action": "EXIT", "onExitCode": "0*"}), 1, exited(1), RETRY, None),
    ("pattern/status-prefix", rules({"action": "EXIT", "onStatusReason": "Task*"}), 1, EXIT_1, EXIT, 0),
    ("pattern/case-sensitive", rules({"action": "EXIT", "onStatusReason": "task*"}), 1, EXIT_1, RETRY, None),
    ("pattern/status-message", rules({"action": "EXIT", "onStatusReason": "Essential container in task exited"}), 1, EXIT_1, EXIT, 0),
    ("pattern/whole-string", rules({"action": "EXIT", "onStatusReason": "Essential container"}), 1, EXIT_1, RETRY, None),
    ("pattern/status-star", rules({"action": "EXIT", "onStatusReason": "*"}), 1, HOST, EXIT, 0),
    ("pattern/on-reason-oom", rules({"action": "EXIT", "onReason": "OOMKilled"}), 1, OOM, EXIT, 0),
    # onReason matches AWS's container reason (AWS CDK's Reason.CANNOT_PULL_CONTAINER, the user guide's OOM rule)
    ("aws-reason/cdk-pull", rules({"action": "RETRY", "onReason": "CannotPullContainerError:*"}), 1, PULL, RETRY, 0),
    ("aws-reason/cdk-pull-not-exit", rules({"action": "EXIT", "onReason": "CannotPullContainerError:*"}), 1, EXIT_1, RETRY, None),
    ("aws-reason/oom-text", rules({"action": "EXIT", "onReason": "OutOfMemoryError: Container killed due to memory usage"}), 1, OOM, EXIT, 0),
    ("aws-reason/oom-prefix", rules({"action": "EXIT", "onReason": "OutOfMemoryError*"}), 1, OOM, EXIT, 0),
    ("aws-reason/pull-code-alone-is-kubatch-code", rules({"action": "EXIT", "onReason": "CannotPullContainerError"}), 1, PULL, EXIT, 0),
    ("aws-reason/plain-exit-old-code", rules({"action": "EXIT", "onReason": "NonZeroExitCode"}), 1, EXIT_1, EXIT, 0),
    ("pattern/oom-message", rules({"action": "EXIT", "onStatusReason": "OutOfMemoryError: Container*"}), 1, OOM, EXIT, 0),
    ("pattern/oom-exit-code", rules({"action": "EXIT", "onExitCode": "137"}), 1, OOM, EXIT, 0),
    ("pattern/pull-message", rules({"action": "EXIT", "onStatusReason": "CannotPullContainerError:*"}), 1, PULL, EXIT, 0),
    ("pattern/on-reason-is-not-status", rules({"action": "EXIT", "onReason": "TaskFailed"}), 1, EXIT_1, RETRY, None),
    ("pattern/host-message-exact", rules({"action": "EXIT", "onStatusReason": HOST.status_message}), 1, HOST, EXIT, 0),
    # action is case-insensitive
    ("action/lower-retry", rules({"action": "retry", "onExitCode": "1"}, {"action": "EXIT", "onExitCode": "*"}), 1, EXIT_1, RETRY, 0),
    ("action/mixed-exit", rules({"action": "Exit", "onExitCode": "1"}), 1, EXIT_1, EXIT, 0),
    # timeouts: retried only by a rule that names JobTimeout
    ("timeout/no-rules", {"attempts": 3}, 1, TIMEOUT, EXIT, None),
    ("timeout/catch-all-reason", rules({"action": "RETRY", "onReason": "*"}), 1, TIMEOUT, EXIT, 0),
    ("timeout/catch-all-status", rules({"action": "RETRY", "onStatusReason": "*"}), 1, TIMEOUT, EXIT, 0),
    ("timeout/exit-code-star", rules({"action": "RETRY", "onExitCode": "*"}), 1, TIMEOUT, EXIT, None),
    ("timeout/named-status", rules({"action": "RETRY", "onStatusReason": "JobTimeout"}), 1, TIMEOUT, RETRY, 0),
    ("timeout/named-reason", rules({"action": "RETRY", "onReason": "JobTimeout"}), 1, TIMEOUT, RETRY, 0),
    ("timeout/named-message", rules({"action": "RETRY", "onStatusReason": "Job attempt duration*"}), 1, TIMEOUT, RETRY, 0),
    ("timeout/named-prefix", rules({"action": "RETRY", "onStatusReason": "Job*"}), 1, TIMEOUT, RETRY, 0),
    ("timeout/named-exit", rules({"action": "EXIT", "onStatusReason": "JobTimeout"}), 1, TIMEOUT, EXIT, 0),
    ("timeout/named-with-exit-code", rules({"action": "RETRY", "onStatusReason": "JobTimeout", "onExitCode": "137"}), 1, TIMEOUT, EXIT, None),
    ("timeout/catch-all-retries-others", rules({"action": "RETRY", "onReason": "*"}), 1, EXIT_1, RETRY, 0),
    ("timeout/named-exhausted", rules({"action": "RETRY", "onStatusReason": "JobTimeout"}), 3, TIMEOUT, EXIT, None),
    # attempts
    ("attempts/no-strategy", None, 1, EXIT_1, EXIT, None),
    ("attempts/empty-strategy", {}, 1, HOST, EXIT, None),
    ("attempts/one-with-retry-rule", rules({"action": "RETRY", "onExitCode": "1"}, attempts=1), 1, EXIT_1, EXIT, None),
    ("attempts/ten-ninth", {"attempts": 10}, 9, EXIT_1, RETRY, None),
    ("attempts/ten-tenth", {"attempts": 10}, 10, EXIT_1, EXIT, None),
    ("attempts/beyond-limit", {"attempts": 3}, 4, EXIT_1, EXIT, None),
    ("attempts/no-rules-retry", {"attempts": 2}, 1, OOM, RETRY, None),
    # cancelled and terminated attempts are never retried
    ("never/cancelled", rules({"action": "RETRY", "onStatusReason": "*"}), 1, CANCELLED, EXIT, None),
    ("never/terminated", rules({"action": "RETRY", "onExitCode": "143"}), 1, TERMINATED, EXIT, None),
    ("never/terminated-no-rules", {"attempts": 5}, 1, TERMINATED, EXIT, None),
]


@pytest.mark.parametrize(
    ("strategy", "attempts_made", "outcome", "action", "rule_index"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_decision_table(strategy, attempts_made, outcome, action, rule_index):
    decision = decide_retry(retry_strategy=strategy, attempts_made=attempts_made, outcome=outcome)
    assert (decision.action, decision.rule_index) == (action, rule_index)
    assert decision.retry is (action is RETRY)
    assert decision.explanation


def test_table_is_large_enough():
    assert len(CASES) >= 40


def test_explanations_say_what_happened():
    exhausted = decide_retry(retry_strategy=SEED_JOB_DEFINITION, attempts_made=3, outcome=HOST)
    assert "attempt 3 of 3" in exhausted.explanation and "no attempts remain" in exhausted.explanation
    by_rule = decide_retry(retry_strategy=SEED_JOB_DEFINITION, attempts_made=1, outcome=EXIT_1)
    assert "evaluateOnExit[1]" in by_rule.explanation and "EXIT" in by_rule.explanation
    timeout = decide_retry(retry_strategy=rules({"action": "RETRY", "onReason": "*"}), attempts_made=1, outcome=TIMEOUT)
    assert "JobTimeout" in timeout.explanation
    assert "never retried" in decide_retry(retry_strategy=None, attempts_made=1, outcome=CANCELLED).explanation


def test_success_and_bad_counts_are_programming_errors():
    success = Outcome(
        succeeded=True, status_reason=None, container_reason=None, exit_code=0, status_message="ok"
    )
    with pytest.raises(ValueError, match="failed attempts"):
        decide_retry(retry_strategy=None, attempts_made=1, outcome=success)
    with pytest.raises(ValueError, match="at least 1"):
        decide_retry(retry_strategy=None, attempts_made=0, outcome=EXIT_1)


# --- validation -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "field", "problem"),
    [
        ([], "retryStrategy", "object"),
        ({"attempts": 0}, "retryStrategy.attempts", "1 to 10"),
        ({"attempts": 11}, "retryStrategy.attempts", "1 to 10"),
        ({"attempts": "3"}, "retryStrategy.attempts", "integer"),
        ({"attempts": True}, "retryStrategy.attempts", "integer"),
        ({"attempts": 2.0}, "retryStrategy.attempts", "integer"),
        ({"attempts": 3, "retries": 2}, "retryStrategy.retries", "unknown field"),
        ({"attempts": 3, "evaluateOnExit": {}}, "retryStrategy.evaluateOnExit", "list"),
        (rules(*[{"action": "EXIT", "onExitCode": "1"}] * 6), "retryStrategy.evaluateOnExit", "at most 5"),
        (rules("EXIT"), "retryStrategy.evaluateOnExit[0]", "object"),
        (rules({"action": "RETRY"}), "retryStrategy.evaluateOnExit[0]", "at least one of"),
        (rules({"action": "EXIT", "onExitCode": "1"}, {"action": "RETRY", "onReason": None}), "retryStrategy.evaluateOnExit[1]", "at least one of"),
        (rules({"onExitCode": "1"}), "retryStrategy.evaluateOnExit[0].action", "RETRY or EXIT"),
        (rules({"action": "MAYBE", "onExitCode": "1"}), "retryStrategy.evaluateOnExit[0].action", "RETRY or EXIT"),
        (rules({"action": 1, "onExitCode": "1"}), "retryStrategy.evaluateOnExit[0].action", "RETRY or EXIT"),
        (rules({"action": "EXIT", "onExitCode": "1a"}), "retryStrategy.evaluateOnExit[0].onExitCode", "digits"),
        (rules({"action": "EXIT", "onExitCode": 1}), "retryStrategy.evaluateOnExit[0].onExitCode", "string"),
        (rules({"action": "EXIT", "onExitCode": "*1"}), "retryStrategy.evaluateOnExit[0].onExitCode", "last character"),
        (rules({"action": "EXIT", "onStatusReason": "Host*EC2"}), "retryStrategy.evaluateOnExit[0].onStatusReason", "last character"),
        (rules({"action": "EXIT", "onStatusReason": "**"}), "retryStrategy.evaluateOnExit[0].onStatusReason", "last character"),
        (rules({"action": "EXIT", "onReason": ""}), "retryStrategy.evaluateOnExit[0].onReason", "1 to 512"),
        (rules({"action": "EXIT", "onReason": "x" * 513}), "retryStrategy.evaluateOnExit[0].onReason", "1 to 512"),
        (rules({"action": "EXIT", "onExitcode": "1"}), "retryStrategy.evaluateOnExit[0].onExitcode", "unknown field"),
    ],
)
def test_invalid_strategies_name_the_field(raw, field, problem):
    with pytest.raises(RetryStrategyError, match=re.escape(problem)) as caught:
        parse_retry_strategy(raw)
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: ")


def test_decide_rejects_a_rule_without_conditions():
    with pytest.raises(RetryStrategyError) as caught:
        decide_retry(retry_strategy=rules({"action": "RETRY"}), attempts_made=1, outcome=EXIT_1)
    assert caught.value.field == "retryStrategy.evaluateOnExit[0]"


@pytest.mark.parametrize(
    "raw",
    [None, {}, {"attempts": 1}, {"attempts": 10}, {"attempts": 2, "evaluateOnExit": []},
     {"evaluateOnExit": [{"action": "exit", "onExitCode": "*"}]},
     rules({"action": "EXIT", "onReason": "x" * MAX_PATTERN_LENGTH}),
     SEED_JOB_DEFINITION, SEED_RETRY_STRATEGY, SEED_COMMON_VALUES, AWS_HOST_EC2, AWS_USER_GUIDE],
)
def test_valid_strategies_parse(raw):
    parse_retry_strategy(raw)


def test_parsed_form_of_the_seed():
    assert parse_retry_strategy(SEED_JOB_DEFINITION) == RetryStrategy(
        attempts=3,
        rules=(
            ExitRule(action=RETRY, on_status_reason="HostUsageError"),
            ExitRule(action=EXIT, on_status_reason="TaskFailed"),
        ),
    )
    assert parse_retry_strategy(None) == RetryStrategy(attempts=1, rules=())
    assert parse_retry_strategy({"evaluateOnExit": None}).attempts == 1


# --- properties -------------------------------------------------------------------

ALPHABET = st.characters(codec="utf-8", exclude_characters="*")
pattern_bodies = st.text(ALPHABET, max_size=6)


def reference_match(pattern: str, value: str) -> bool:
    """The glob as a regular expression: literal text, then `.*` for a trailing `*`."""
    regex = re.escape(pattern.removesuffix("*")) + (".*" if pattern.endswith("*") else "")
    return re.fullmatch(regex, value, flags=re.DOTALL) is not None


@given(body=pattern_bodies, star=st.booleans(), value=st.text(max_size=8))
def test_pattern_matching_equals_regex(body, star, value):
    pattern = body + ("*" if star else "")
    assert pattern_matches(pattern=pattern, value=value) == reference_match(pattern, value)


@given(body=pattern_bodies, suffix=st.text(max_size=4), star=st.booleans())
def test_pattern_matching_on_related_values(body, suffix, star):
    pattern = body + ("*" if star else "")
    value = body + suffix
    assert pattern_matches(pattern=pattern, value=value) == reference_match(pattern, value)
    assert pattern_matches(pattern=pattern, value=value) == (star or suffix == "")


VOCABULARY = {
    "onStatusReason": [
        "TaskFailed", "HostUsageError", "JobTimeout", "OutOfMemoryError", "CannotPullContainerError",
        "Host EC2*", "Job*", "Task*", "*", "Essential container in task exited", "OutOfMemoryError*",
    ],
    "onReason": [*[reason.value for reason in ContainerReason], "*", "NonZero*", "OOM*", "TaskFailed"],
    "onExitCode": ["*", "1", "1*", "137", "0", "2"],
}
OUTCOMES = [EXIT_1, exited(2), exited(137), exited(13), HOST, TIMEOUT, OOM, PULL]

rule_dicts = st.builds(
    lambda action, conditions: {"action": action, **conditions},
    st.sampled_from(["RETRY", "EXIT", "retry", "Exit"]),
    st.sets(st.sampled_from(sorted(VOCABULARY)), min_size=1).flatmap(
        lambda keys: st.fixed_dictionaries({key: st.sampled_from(VOCABULARY[key]) for key in keys})
    ),
)
strategies = st.builds(
    lambda attempts, entries: {"attempts": attempts, "evaluateOnExit": entries},
    st.integers(1, 10),
    st.lists(rule_dicts, max_size=5),
)


def reference_decision(strategy: dict, attempts_made: int, outcome: Outcome) -> tuple[RetryAction, int | None]:
    """An independent statement of the rules, using the regex form of the patterns."""
    if attempts_made >= strategy["attempts"]:
        return EXIT, None
    values = {
        "onStatusReason": [outcome.status_reason, outcome.status_message],
        "onReason": [outcome.container_reason],
        "onExitCode": [None if outcome.exit_code is None else str(outcome.exit_code)],
    }
    timed_out = outcome.status_reason == "JobTimeout"
    for index, rule in enumerate(strategy["evaluateOnExit"]):
        conditions = {key: value for key, value in rule.items() if key != "action"}
        if all(
            any(v is not None and reference_match(pattern, v) for v in values[key])
            for key, pattern in conditions.items()
        ):
            action = RetryAction(rule["action"].upper())
            names_timeout = any(
                conditions.get(key) not in (None, "*") for key in ("onStatusReason", "onReason")
            )
            if action is RETRY and timed_out and not names_timeout:
                return EXIT, index
            return action, index
    return (EXIT if timed_out else RETRY), None


@given(strategy=strategies, attempts_made=st.integers(1, 11), outcome=st.sampled_from(OUTCOMES))
def test_decision_equals_reference(strategy, attempts_made, outcome):
    decision = decide_retry(retry_strategy=strategy, attempts_made=attempts_made, outcome=outcome)
    assert (decision.action, decision.rule_index) == reference_decision(strategy, attempts_made, outcome)


@given(strategy=strategies, attempts_made=st.integers(1, 11), outcome=st.sampled_from(OUTCOMES))
def test_never_retries_beyond_the_limit(strategy, attempts_made, outcome):
    decision = decide_retry(retry_strategy=strategy, attempts_made=attempts_made, outcome=outcome)
    if attempts_made >= strategy["attempts"]:
        assert decision.action is EXIT


@given(strategy=strategies, extra=rule_dicts, outcome=st.sampled_from(OUTCOMES))
def test_a_later_rule_never_overrides_an_earlier_match(strategy, extra, outcome):
    before = decide_retry(retry_strategy=strategy, attempts_made=1, outcome=outcome)
    if before.rule_index is None or len(strategy["evaluateOnExit"]) == 5:
        return
    longer = {**strategy, "evaluateOnExit": [*strategy["evaluateOnExit"], extra]}
    assert decide_retry(retry_strategy=longer, attempts_made=1, outcome=outcome) == before


@given(strategy=strategies, outcome=st.sampled_from(OUTCOMES))
def test_timeouts_retry_only_through_a_rule_naming_them(strategy, outcome):
    decision = decide_retry(retry_strategy=strategy, attempts_made=1, outcome=outcome)
    if outcome is TIMEOUT and decision.retry:
        rule = strategy["evaluateOnExit"][decision.rule_index]
        assert rule.get("onStatusReason", "*") != "*" or rule.get("onReason", "*") != "*"
