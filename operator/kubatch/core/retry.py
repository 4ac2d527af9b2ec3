"""`retryStrategy` as AWS Batch evaluates it: validate the rules, then decide.

People move job definitions from AWS Batch to kubatch unchanged, so the rules must
mean exactly what they mean on AWS (DESIGN §2):

- `attempts` is 1–10 (default 1); `evaluateOnExit` holds at most 5 rules.
- Rules are tried in order and the first whose every given condition matches decides.
  A rule must give at least one of `onStatusReason`, `onReason`, `onExitCode`.
- A pattern matches the whole string, or, when it ends in `*`, any string starting with
  the text before the `*`. Matching is case-sensitive; `action` is not.
- `onStatusReason` matches the attempt's reason code (`HostUsageError`) or its message
  (`Host EC2 (node n1) terminated.`); `onReason` matches the container's reason as AWS
  writes it (`CannotPullContainerError: …`, `OutOfMemoryError: Container killed due to
  memory usage`; AWS CDK's `CannotPullContainerError:*` rule works unchanged) or
  kubatch's short code for it (`NonZeroExitCode`, `OOMKilled`, …, which earlier rules
  name); `onExitCode` matches the decimal exit code. A condition on a value the attempt
  does not have (no exit code after a host failure) does not match.
- No rule matches: retry while attempts remain. Attempts exhausted: exit, always.

kubatch's own rules on top (DESIGN §2):
- A timed-out attempt (`JobTimeout`) is not retried unless the first matching rule is
  a RETRY rule that names the timeout: its `onStatusReason` or `onReason` is a pattern
  other than a bare `*` (e.g. `JobTimeout`, `Job*`, `Job attempt duration*`). A
  catch-all such as `{"onReason": "*", "action": "RETRY"}` or an `onExitCode` alone
  does not retry timeouts, matching AWS, where timed-out jobs are never retried.
- Cancelled and Terminated attempts are never retried.

`parse_retry_strategy` checks what matching relies on (limits, types, `*` only at
the end, digits in `onExitCode`, at least one condition per rule, as AWS requires) and
names the offending field. The pattern alphabet is left to the API schema
(`kubatch.api.retry`): matching works for any characters.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from kubatch.core.outcome import Outcome
from kubatch.core.reasons import StatusReason

MAX_RULES = 5
MAX_ATTEMPTS = 10
MAX_PATTERN_LENGTH = 512

_EXIT_CODE_PATTERN = re.compile(r"[0-9]*\*?")
_CONDITIONS = ("onStatusReason", "onReason", "onExitCode")
_NEVER_RETRIED = frozenset({StatusReason.CANCELLED, StatusReason.TERMINATED})


class RetryAction(StrEnum):
    RETRY = "RETRY"
    EXIT = "EXIT"


class RetryStrategyError(ValueError):
    """An invalid `retryStrategy`; `field` is the JSON path of the offending field."""

    def __init__(self, *, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field


@dataclass(frozen=True, kw_only=True)
class ExitRule:
    """One `evaluateOnExit` entry; a condition left out is None."""

    action: RetryAction
    on_status_reason: str | None = None
    on_reason: str | None = None
    on_exit_code: str | None = None


@dataclass(frozen=True, kw_only=True)
class RetryStrategy:
    attempts: int = 1
    rules: tuple[ExitRule, ...] = ()


@dataclass(frozen=True, kw_only=True)
class RetryDecision:
    """RETRY or EXIT, which rule decided (index into `evaluateOnExit`), and why."""

    action: RetryAction
    rule_index: int | None
    explanation: str

    @property
    def retry(self) -> bool:
        return self.action is RetryAction.RETRY


def pattern_matches(*, pattern: str, value: str) -> bool:
    """AWS glob: the whole string, or a prefix when the pattern ends in `*`."""
    if pattern.endswith("*"):
        return value.startswith(pattern[:-1])
    return value == pattern


def parse_retry_strategy(raw: Mapping[str, Any] | None) -> RetryStrategy:
    """Validate AWS `retryStrategy` JSON; raise RetryStrategyError naming the field."""
    if raw is None:
        return RetryStrategy()
    if not isinstance(raw, Mapping):
        raise RetryStrategyError(field="retryStrategy", problem="must be an object")
    _reject_unknown(raw, allowed=("attempts", "evaluateOnExit"), field="retryStrategy")
    attempts = 1 if raw.get("attempts") is None else raw["attempts"]
    if not _is_int(attempts) or not 1 <= attempts <= MAX_ATTEMPTS:
        raise RetryStrategyError(
            field="retryStrategy.attempts",
            problem=f"must be an integer from 1 to {MAX_ATTEMPTS}, got {attempts!r}",
        )
    rules = [] if raw.get("evaluateOnExit") is None else raw["evaluateOnExit"]
    if not isinstance(rules, list) or len(rules) > MAX_RULES:
        raise RetryStrategyError(
            field="retryStrategy.evaluateOnExit",
            problem=f"must be a list of at most {MAX_RULES} rules",
        )
    return RetryStrategy(
        attempts=attempts,
        rules=tuple(
            _parse_rule(rule, field=f"retryStrategy.evaluateOnExit[{index}]")
            for index, rule in enumerate(rules)
        ),
    )


def decide_retry(
    *, retry_strategy: Mapping[str, Any] | None, attempts_made: int, outcome: Outcome
) -> RetryDecision:
    """Whether the job gets another attempt after the failed attempt `outcome`.

    `attempts_made` counts the attempts that have ended, this one included (so it is
    `AWS_BATCH_JOB_ATTEMPT` of the attempt that just ended).
    """
    if outcome.succeeded:
        raise ValueError("retry rules apply to failed attempts only")
    if attempts_made < 1:
        raise ValueError(f"attempts_made must be at least 1, got {attempts_made}")
    strategy = parse_retry_strategy(retry_strategy)
    tally = f"attempt {attempts_made} of {strategy.attempts}"
    if outcome.status_reason in _NEVER_RETRIED:
        return _exit(None, f"{outcome.status_reason} jobs are never retried")
    if attempts_made >= strategy.attempts:
        return _exit(None, f"{tally} failed and no attempts remain")
    timed_out = outcome.status_reason == StatusReason.JOB_TIMEOUT
    for index, rule in enumerate(strategy.rules):
        if not _rule_matches(rule, outcome):
            continue
        where = f"evaluateOnExit[{index}]"
        if rule.action is RetryAction.EXIT:
            return _exit(index, f"{tally} failed; {where} matched with action EXIT")
        if timed_out and not _names_timeout(rule):
            return _exit(
                index,
                f"{tally} timed out; {where} matched but does not name JobTimeout, "
                "and timed-out attempts are retried only by a rule that does",
            )
        return RetryDecision(
            action=RetryAction.RETRY,
            rule_index=index,
            explanation=f"{tally} failed; {where} matched with action RETRY",
        )
    if timed_out:
        return _exit(None, f"{tally} timed out; no rule names JobTimeout, so it is not retried")
    return RetryDecision(
        action=RetryAction.RETRY,
        rule_index=None,
        explanation=f"{tally} failed; no evaluateOnExit rule matched, so it is retried",
    )


def _rule_matches(rule: ExitRule, outcome: Outcome) -> bool:
    exit_code = None if outcome.exit_code is None else str(outcome.exit_code)
    candidates = (
        (rule.on_status_reason, (outcome.status_reason, outcome.status_message)),
        (rule.on_reason, (outcome.aws_container_reason, outcome.container_reason)),
        (rule.on_exit_code, (exit_code,)),
    )
    return all(
        any(value is not None and pattern_matches(pattern=pattern, value=value) for value in values)
        for pattern, values in candidates
        if pattern is not None
    )


def _names_timeout(rule: ExitRule) -> bool:
    return any(pattern not in (None, "*") for pattern in (rule.on_status_reason, rule.on_reason))


def _exit(rule_index: int | None, explanation: str) -> RetryDecision:
    return RetryDecision(action=RetryAction.EXIT, rule_index=rule_index, explanation=explanation)


def _parse_rule(raw: Any, *, field: str) -> ExitRule:
    if not isinstance(raw, Mapping):
        raise RetryStrategyError(field=field, problem="must be an object")
    _reject_unknown(raw, allowed=("action", *_CONDITIONS), field=field)
    action = raw.get("action")
    if not isinstance(action, str) or action.upper() not in RetryAction.__members__:
        raise RetryStrategyError(
            field=f"{field}.action", problem=f"must be RETRY or EXIT, got {action!r}"
        )
    conditions = {name: raw.get(name) for name in _CONDITIONS if raw.get(name) is not None}
    if not conditions:
        raise RetryStrategyError(
            field=field, problem="needs at least one of onStatusReason, onReason, onExitCode"
        )
    for name, pattern in conditions.items():
        _check_pattern(pattern, field=f"{field}.{name}", digits=name == "onExitCode")
    return ExitRule(
        action=RetryAction(action.upper()),
        on_status_reason=conditions.get("onStatusReason"),
        on_reason=conditions.get("onReason"),
        on_exit_code=conditions.get("onExitCode"),
    )


def _check_pattern(pattern: Any, *, field: str, digits: bool) -> None:
    if not isinstance(pattern, str) or not 1 <= len(pattern) <= MAX_PATTERN_LENGTH:
        raise RetryStrategyError(
            field=field, problem=f"must be a string of 1 to {MAX_PATTERN_LENGTH} characters"
        )
    if "*" in pattern[:-1]:
        raise RetryStrategyError(field=field, problem="may contain `*` only as its last character")
    if digits and not _EXIT_CODE_PATTERN.fullmatch(pattern):
        raise RetryStrategyError(
            field=field, problem=f"must be digits, optionally ending in `*`, got {pattern!r}"
        )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _reject_unknown(raw: Mapping[str, Any], *, allowed: tuple[str, ...], field: str) -> None:
    unknown = sorted(set(raw) - set(allowed))
    if unknown:
        raise RetryStrategyError(
            field=f"{field}.{unknown[0]}", problem=f"unknown field; allowed: {', '.join(allowed)}"
        )
