"""Writes of the livestreams app, by concern:

- `lifecycle`: a stream's life — create, edit, start, end, join (`channel_name_for` too);
- `rentals`: replay rentals — rent, refund when the stream goes, the replay settings;
- `revenue`: a stream's revenue — the guest paid, the `stream_revenue` rows, the replay job.

Their row locks are `livestreams/locks.py`. Callers import from here.
"""

from allmine.ids import check_object_id  # callers' views check ids through this module too
from livestreams.services.lifecycle import (
    EDITABLE_FIELDS,
    channel_name_for,
    channel_slug,
    live_stream_create,
    live_stream_end,
    live_stream_join,
    live_stream_start,
    live_stream_update,
    stream_status_publish,
)
from livestreams.services.rentals import (
    replay_rental_create,
    replay_rental_refunds_post,
    replay_settings_update,
)
from livestreams.services.revenue import (
    replay_revenue_settle,
    revenue_guest_id,
    revenue_shares_post,
)

__all__ = [
    "EDITABLE_FIELDS",
    "channel_name_for",
    "check_object_id",
    "channel_slug",
    "live_stream_create",
    "live_stream_end",
    "live_stream_join",
    "live_stream_start",
    "live_stream_update",
    "replay_rental_create",
    "replay_rental_refunds_post",
    "replay_revenue_settle",
    "replay_settings_update",
    "revenue_guest_id",
    "revenue_shares_post",
    "stream_status_publish",
]
