"""The stream's life in one place: its statuses, which action each status allows, and the pure
rules every layer asks (access type, rentable replay, the caller's role, the revenue split, the
limits, a mini crowd funding's status).

Nothing here reads the database: each rule takes plain values, so services (on one locked row),
the read path (on rows), the admin, the seeder and `audit_ledger` all ask the same function.
"""

from collections.abc import Collection
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple

from django.db import models

from allmine.api.errors import Conflict


class StreamStatus(models.TextChoices):
    """A stream's status (API.md §3). `LiveStream.Status` is this class."""

    ACTIVE = "active", "Active"
    ENDED = "ended", "Ended"
    SCHEDULED = "scheduled", "Scheduled"
    PREPARING = "preparing", "Preparing"
    EXPIRED = "expired", "Expired"
    CANCELLED_BY_HOST = "cancelled_by_host", "Cancelled by host"
    CANCELLED_BY_GUEST = "cancelled_by_guest", "Cancelled by guest"


class StreamType(models.TextChoices):
    """`LiveStream.Type` is this class."""

    SOLO = "solo", "Solo"
    DUO_CROWD = "duocrowd", "Duo crowd"
    DUO_SELF = "duoself", "Duo self"


DUO_TYPES = frozenset({StreamType.DUO_CROWD, StreamType.DUO_SELF})


class Action(StrEnum):
    """What someone (or the clock) does to a stream."""

    EDIT = "edit"  # the creator changes its fields or its replay settings' schedule
    START = "start"
    END = "end"
    JOIN = "join"  # an invited guest joins
    FUND = "fund"  # a viewer contributes
    SUPPORT = "support"  # a viewer supports a mini crowd funding
    ADD_MINI = "add_mini"  # the creator adds a mini crowd funding
    CANCEL = "cancel"  # the creator or an operator cancels, funders refunded
    DELETE = "delete"  # the creator deletes (soft), funders and open rentals refunded
    EXPIRE = "expire"  # the clock: not started in time, funders refunded
    REMIND = "remind"  # a viewer arms a reminder


class Transition(NamedTuple):
    allowed: frozenset[str]  # the statuses the action is allowed in
    to: str | None  # the status it leads to (None: the status stays)
    refused: str  # the end of the 409 message, after "Live stream is <status>, "


S = StreamStatus
_NOT_STARTED = frozenset({S.SCHEDULED, S.PREPARING})

# The one transition table: which action is allowed in which status, and where it leads.
TRANSITIONS: dict[Action, Transition] = {
    Action.EDIT: Transition(_NOT_STARTED, None, "it cannot be changed"),
    Action.START: Transition(_NOT_STARTED, S.ACTIVE, "it cannot be started"),
    Action.END: Transition(frozenset({S.ACTIVE}), S.ENDED, "it cannot be ended"),
    # A guest joins once the creator is getting ready or live; before that there is nothing.
    Action.JOIN: Transition(frozenset({S.PREPARING, S.ACTIVE}), None, "it cannot be joined"),
    Action.FUND: Transition(frozenset({S.SCHEDULED}), None, "only scheduled streams can be funded"),
    Action.SUPPORT: Transition(
        frozenset({S.SCHEDULED}), None, "only scheduled streams can be funded"
    ),
    Action.ADD_MINI: Transition(
        frozenset({S.SCHEDULED}), None, "mini crowd fundings are added while scheduled"
    ),
    Action.CANCEL: Transition(_NOT_STARTED, S.CANCELLED_BY_HOST, "it cannot be cancelled"),
    Action.DELETE: Transition(frozenset(S) - {S.ACTIVE}, None, "it cannot be deleted"),
    Action.EXPIRE: Transition(_NOT_STARTED, S.EXPIRED, "it cannot expire"),
    Action.REMIND: Transition(frozenset({S.SCHEDULED}), None, "reminders are set while scheduled"),
}


def allows(action: Action, status: str) -> bool:
    """Whether `action` is allowed on a stream in `status`."""
    return status in TRANSITIONS[action].allowed


def statuses_for(action: Action) -> tuple[str, ...]:
    """The statuses `action` is allowed in, sorted (for `status__in` filters)."""
    return tuple(sorted(TRANSITIONS[action].allowed))


def require(action: Action, status: str) -> str | None:
    """409 unless `action` is allowed in `status`; else the status it leads to (or None)."""
    transition = TRANSITIONS[action]
    if status not in transition.allowed:
        raise Conflict(f"Live stream is {status}, {transition.refused}")
    return transition.to


# --- limits ------------------------------------------------------------------------------

MAX_TITLE = 120
MAX_DURATION_GOAL = 24 * 60  # minutes
MAX_FUNDING_GOAL = 1_000_000_000  # credits
MAX_REPLAY_CREDIT_PRICE = 1_000_000  # credits, as one funding at most
MAX_GUESTS = 10
MAX_MINI_GOAL = 1_000_000_000
# One contribution's or support's amount is a credit amount: `users.rules.check_amount`.


# --- pure rules -----------------------------------------------------------------------------


def access_type(price) -> str:
    """`paid` when the stream has a price above zero, else `free`."""
    return "paid" if price and price > 0 else "free"


def funding_percentage(collected: int, goal: int) -> int:
    """Collected funding in whole percent of the goal, floored, not capped; 0 without a goal."""
    return collected * 100 // goal if goal else 0


def replay_is_rentable(
    *,
    status: str,
    deleted_at: datetime | None,
    recording_url: str,
    is_active_replay_on_creator_profile: bool | None,
    replay_credit_price: int | None,
    live_stream_type: str,
    has_guest: bool,
) -> bool:
    """A replay can be rented only once the stream ended with a recording offered for credits;
    a duo stream's replay also needs its guest."""
    return (
        status == S.ENDED
        and deleted_at is None
        and bool(recording_url)
        and is_active_replay_on_creator_profile is True
        and bool(replay_credit_price)
        and replay_credit_price > 0
        and (live_stream_type == StreamType.SOLO or has_guest)
    )


class Role(models.TextChoices):
    """The caller's part in a stream."""

    HOST = "host", "Host"
    GUEST = "guest", "Guest"
    AUDIENCE = "audience", "Audience"


def caller_role(
    *,
    user_id: str | None,
    creator_id: str,
    guest_ids: Collection[str],
    guest_broadcaster_ids: Collection[str],
) -> Role | None:
    """host (creator), guest (invited guest or guest broadcaster), audience; None signed out."""
    if user_id is None:
        return None
    if creator_id == user_id:
        return Role.HOST
    if user_id in guest_ids or user_id in guest_broadcaster_ids:
        return Role.GUEST
    return Role.AUDIENCE


# Shares of a price, in percent, floored to whole credits; the platform keeps the rest (§7).
SOLO_CREATOR_SHARE = 80
DUO_CREATOR_SHARE = 40
DUO_GUEST_SHARE = 40


def revenue_split(*, price: int, live_stream_type: str, has_guest: bool) -> tuple[int, int]:
    """(creator's share, guest's share) of a price, floored; the platform keeps the rest.
    Solo: 80 % creator. Duo: 40 % creator, 40 % guest (kept by the platform when the stream
    has no guest to pay)."""
    if live_stream_type == StreamType.SOLO:
        return price * SOLO_CREATOR_SHARE // 100, 0
    guest_share = price * DUO_GUEST_SHARE // 100 if has_guest else 0
    return price * DUO_CREATOR_SHARE // 100, guest_share


class MiniStatus(models.TextChoices):
    """`MiniCrowdFunding.Status` is this class."""

    ACTIVE = "active", "Active"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


def mini_status(*, status: str, collected: int, goal: int) -> str:
    """A mini crowd funding's status after its collected total changed: an active one
    completes when its goal is reached; a completed or cancelled one stays as it is."""
    if status == MiniStatus.ACTIVE and collected >= goal:
        return MiniStatus.COMPLETED
    return status
