"""Wire formats shared by every response."""

from datetime import datetime
from datetime import timezone as dt_timezone

from django.utils import timezone


def format_datetime(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with millisecond precision and a `Z`: `2026-05-22T16:11:27.028Z`."""
    if value is None:
        return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value, dt_timezone.utc)
    return (
        value.astimezone(dt_timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


def now_timestamp() -> str:
    return format_datetime(timezone.now())
