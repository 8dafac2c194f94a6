"""Wire formats shared by every response."""

from datetime import datetime
from datetime import timezone as dt_timezone

from django.utils import timezone

_UTC = dt_timezone.utc


def format_datetime(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with millisecond precision and a `Z`: `2026-05-22T16:11:27.028Z`.

    Naive values are taken as UTC. On every hot list, so written for speed (the usual
    `astimezone().isoformat().replace()` took three times as long).
    """
    if value is None:
        return None
    tzinfo = value.tzinfo
    if tzinfo is None:
        return value.isoformat(timespec="milliseconds") + "Z"
    if tzinfo is not _UTC:
        value = value.astimezone(_UTC)
    return value.isoformat(timespec="milliseconds")[:-6] + "Z"


def as_utc(value: datetime | None) -> datetime | None:
    """An aware datetime; naive ones (SQLite's, read without Django's converters) are UTC."""
    return value.replace(tzinfo=_UTC) if value is not None and value.tzinfo is None else value


def now_timestamp() -> str:
    return format_datetime(timezone.now())
