"""Time partitions: granularity, normalization to UTC, and the ISO text used in keys."""

from __future__ import annotations

import enum
from datetime import date, datetime, timezone

from chalicelib.errors import TimePartitionError


# The reserved name of the time partition, in annotations, queries, key layouts and aligned triggers.
TIME_PARTITION = "time_partition"


class Granularity(str, enum.Enum):
    MINUTE = "MINUTE"
    HOUR = "HOUR"
    DAY = "DAY"
    MONTH = "MONTH"


def to_utc(value: datetime | date | str) -> datetime:
    """A timezone-aware UTC datetime. Naive datetimes are read as local time, as `datetime.now()` makes them."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise TimePartitionError(
                f"time partition {value!r} is not ISO 8601; use e.g. 2026-11-25 or 2026-11-25T13:00:00Z"
            ) from exc
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
    if not isinstance(value, datetime):
        raise TimePartitionError(f"time partition must be a datetime, date or ISO string; got {value!r}")
    return value.astimezone(timezone.utc)


def normalize(value: datetime | date | str, granularity: Granularity) -> datetime:
    """Truncate to the start of the granularity's period, in UTC."""
    dt = to_utc(value)
    if granularity is Granularity.MINUTE:
        return dt.replace(second=0, microsecond=0)
    if granularity is Granularity.HOUR:
        return dt.replace(minute=0, second=0, microsecond=0)
    if granularity is Granularity.DAY:
        return dt.replace(hour=0, minute=0, second=0, microsecond=0)
    return dt.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def iso(dt: datetime) -> str:
    """The canonical text of a UTC time partition, e.g. 2026-11-25T00:00:00Z."""
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
