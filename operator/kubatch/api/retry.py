"""Retries and timeouts, with AWS Batch's limits.

The pattern alphabets and lengths are AWS's, so a `retryStrategy` written for AWS
Batch is accepted unchanged and one AWS would refuse is refused here too.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from kubatch.api.base import KubeModel, Rule

REASON_PATTERN = r"^[A-Za-z0-9 \t.:_-]*\*?$"
EXIT_CODE_PATTERN = r"^[0-9]*\*?$"
PATTERN_MAX = 512

ReasonPattern = Annotated[str, Field(min_length=1, max_length=PATTERN_MAX, pattern=REASON_PATTERN)]


class EvaluateOnExit(KubeModel):
    """A retry rule: when all its given conditions match a failed attempt, take its action."""

    onStatusReason: ReasonPattern | None = Field(
        default=None,
        description=(
            "Pattern matched against the attempt's statusReason code or statusMessage, e.g. HostUsageError. "
            "Letters, digits, spaces, '.', ':', '_' and '-', up to 512 characters; may end in '*' to match a prefix."
        ),
    )
    onReason: ReasonPattern | None = Field(
        default=None,
        description=(
            "Pattern matched against the container's reason as AWS writes it (e.g. "
            "'CannotPullContainerError:*') or kubatch's short code for it (NonZeroExitCode, OOMKilled). "
            "Same alphabet as onStatusReason; may end in '*'."
        ),
    )
    onExitCode: str | None = Field(
        default=None,
        min_length=1,
        max_length=PATTERN_MAX,
        pattern=EXIT_CODE_PATTERN,
        description=(
            "Pattern matched against the container's exit code: digits, optionally ending in '*' (e.g. 1 or 13*)."
        ),
    )
    action: Annotated[str, Field(pattern=r"(?i)^(RETRY|EXIT)$"), AfterValidator(str.upper)] = Field(
        description="RETRY (try again while attempts remain) or EXIT (fail now); case-insensitive."
    )


class RetryStrategy(KubeModel):
    """How often a failed job is tried again, and on which failures."""

    rules = (Rule("!has(self.evaluateOnExit) || has(self.attempts)",
                  "attempts is required when evaluateOnExit is given (as AWS requires)",
                  lambda strategy: strategy.evaluateOnExit is None or strategy.attempts is not None,
                  field_path=".attempts", reason="FieldValueRequired"),)

    attempts: int | None = Field(
        default=None,
        ge=1,
        le=10,
        description="Number of attempts, 1 to 10; a failed attempt is retried while attempts remain.",
    )
    evaluateOnExit: list[EvaluateOnExit] | None = Field(
        default=None,
        max_length=5,
        description="Up to 5 rules; the first that matches decides. No match: retry while attempts remain.",
    )


class JobTimeout(KubeModel):
    """The time limit of each attempt."""

    attemptDurationSeconds: int = Field(
        ge=60,
        description=(
            "Seconds an attempt may run, measured from its startedAt, before it is stopped and fails with "
            "JobTimeout; at least 60. Applies to each child of an array job and to a multi-node job as a whole."
        ),
    )
