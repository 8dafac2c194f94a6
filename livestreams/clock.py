"""When the clock acts on a stream (API.md §9): the rules, in one place.

- Funding (and mini crowd funding support) is open while the stream is `scheduled` and its
  `plannedStartDate` has not come.
- A `scheduled` or `preparing` stream not started by `plannedStartDate + STREAM_START_GRACE`
  expires: from then on it cannot start, and the expiry sweep refunds its funders
  (`crowdfunding.clock`). The deadline is computed from the row each time, so a reschedule
  (PATCH) before it moves it with nothing else to update.
- An `ended` stream's funding is paid out `FUNDING_PAYOUT_DELAY` after its `endedAt`.

The durations are settings read from the environment in seconds (`allmine/settings.py`).
"""

from datetime import datetime

from django.conf import settings

from livestreams.models import LiveStream
from livestreams.rules import Action, statuses_for

EXPIRABLE_STATUSES = statuses_for(Action.EXPIRE)
FUNDING_CLOSED = "Funding has closed for this stream"


def funding_is_open(stream: LiveStream, *, now: datetime) -> bool:
    """Whether the stream takes funding and supports now (any status but `scheduled`, or
    its planned start reached: no)."""
    return stream.status == LiveStream.Status.SCHEDULED and now < stream.planned_start_date


def expiry_deadline(planned_start_date: datetime) -> datetime:
    """The moment an unstarted stream planned to start at `planned_start_date` expires."""
    return planned_start_date + settings.STREAM_START_GRACE


def expiry_is_due(stream: LiveStream, *, now: datetime) -> bool:
    """Whether the stream is past its start deadline without having started (the sweep
    expires it; until it does, start and changes are refused as if it had)."""
    return stream.status in EXPIRABLE_STATUSES and now >= expiry_deadline(stream.planned_start_date)


def expiry_cutoff(now: datetime) -> datetime:
    """Streams planned to start at or before this moment are past their deadline `now`."""
    return now - settings.STREAM_START_GRACE


def payout_due_at(ended_at: datetime) -> datetime:
    """When an ended stream's funding is paid out."""
    return ended_at + settings.FUNDING_PAYOUT_DELAY


def payout_cutoff(now: datetime) -> datetime:
    """Streams that ended at or before this moment are due their payout `now`."""
    return now - settings.FUNDING_PAYOUT_DELAY
