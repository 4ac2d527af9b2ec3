"""Kubernetes timestamps in, AWS epoch milliseconds out.

The API server writes RFC 3339 strings (`2024-05-01T12:00:00Z`); AWS Batch prints
times as integer milliseconds since the epoch. The core never reads a clock, so these
helpers only convert values that callers pass in.
"""

from datetime import UTC, datetime, timedelta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)


def parse_time(value: str | None) -> datetime | None:
    """An aware datetime for an RFC 3339 string; None for a missing or empty field."""
    if not value:
        return None
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def epoch_millis(moment: datetime) -> int:
    """Whole milliseconds since the epoch, computed exactly (no float rounding)."""
    return (moment - _EPOCH) // _MILLISECOND
