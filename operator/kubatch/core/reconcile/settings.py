"""Operator settings the planner needs, as one value (defaults match AWS where AWS has one).

Why a value: the planner stays a function of its inputs; the CLI builds this from flags.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class PodRetention(StrEnum):
    """Which finished attempt pods are kept (their records are kept in the job's status either way)."""

    ALL = "all"     # every attempt's pod stays until the job is deleted
    LAST = "last"   # only the last attempt's pod stays, for its logs (default)
    NONE = "none"   # pods are deleted as soon as their attempt is recorded


@dataclass(frozen=True)
class Settings:
    image_pull_grace_seconds: float = 120.0
    pod_retention: PodRetention = PodRetention.LAST
