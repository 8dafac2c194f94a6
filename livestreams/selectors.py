"""Reads of the livestreams app: the caller's role and replay access, and stream rows.

The rules (is a replay rentable and the caller's role in livestreams/rules.py, the caller's
replay access here) are written once, on plain values, and used two ways: by the instance
checks a service makes on one `LiveStream` (`stream_is_rentable`, `stream_role_for`,
`replay_access_for`), and by the row-based read path (`live_stream_rows`) that builds the
stream object for any number of streams in a fixed number of queries, without model instances.
"""

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import NamedTuple

from django.conf import settings
from django.db import models
from django.db.models import Case, F, Q, QuerySet, Value, When
from django.db.models.functions import Cast
from django.db.models.lookups import Exact
from django.utils import timezone

from allmine.api.formats import as_utc
from allmine.compiled import CompiledQuery
from livestreams.models import Broadcaster, LiveStream, ReplayRental, StreamGuest
from livestreams.rules import Role, caller_role, replay_is_rentable
from users.models import User
from users.selectors import USER_SUMMARY_FIELDS


def rental_duration() -> timedelta:
    """How long a replay rental lasts: `REPLAY_RENTAL_DURATION` (default 24 hours)."""
    return settings.REPLAY_RENTAL_DURATION


class ReplayStatus(models.TextChoices):
    """What the caller can do with a stream's replay."""

    OWNER = "owner", "Owner"
    PARTICIPANT = "participant", "Participant"
    RENTED = "rented", "Rented"
    EXPIRED = "expired", "Expired"
    AVAILABLE = "available", "Available"
    UNAVAILABLE = "unavailable", "Unavailable"


class ReplayAccess(NamedTuple):
    """The caller's access to a stream's replay (a NamedTuple: one per stream on every list)."""

    status: str
    can_rent: bool
    can_view_recording: bool
    price: int | None
    rented_at: datetime | None
    expires_at: datetime | None
    remaining_seconds: int | None


# --- the rules, on plain values ------------------------------------------------------------

_SOLO = LiveStream.Type.SOLO.value
_GUEST_BROADCASTER = Broadcaster.Role.GUEST.value
_HOST, _GUEST, _AUDIENCE = Role.HOST, Role.GUEST, Role.AUDIENCE
_VIEWING = frozenset({ReplayStatus.OWNER, ReplayStatus.PARTICIPANT, ReplayStatus.RENTED})
_RENTING = frozenset({ReplayStatus.AVAILABLE, ReplayStatus.EXPIRED})


def caller_replay_access(
    *,
    role: Role | None,
    is_broadcaster: bool,
    rentable: bool,
    recording_url: str,
    price: int | None,
    rental: tuple[datetime, datetime] | None,
    now: datetime,
) -> ReplayAccess:
    """The caller's access to a replay (API.md §3, replayAccess). `rental` is the caller's latest
    rental of this stream as (rented_at, expires_at), if any."""
    if role == _HOST:
        status = ReplayStatus.OWNER
    elif role == _GUEST or is_broadcaster:
        status = ReplayStatus.PARTICIPANT
    elif rental is not None:
        status = ReplayStatus.RENTED if rental[1] > now else ReplayStatus.EXPIRED
    elif rentable:
        status = ReplayStatus.AVAILABLE
    else:
        status = ReplayStatus.UNAVAILABLE
    # Positional (the fields' order): half the cost of keywords, once per stream on every list.
    return ReplayAccess(
        status,
        rentable and status in _RENTING,
        bool(recording_url) and status in _VIEWING,
        price,
        rental[0] if rental else None,
        rental[1] if rental else None,
        seconds_left(rental[1], now) if status == ReplayStatus.RENTED else None,
    )


def caller_rentals(*, user_id: str) -> QuerySet[ReplayRental]:
    """The user's rentals that count for replay access, latest first: the one place that says
    which rentals count (the list's read path and the instance checks both start here)."""
    rentals = ReplayRental.objects.filter(user_id=user_id)
    # A refunded rental (its stream was deleted) grants nothing and is not "expired".
    return rentals.exclude(status=ReplayRental.Status.REFUNDED).order_by("-rented_at", "-id")


# --- the rules applied to one model instance (service checks) -------------------------------


def stream_is_rentable(stream: LiveStream) -> bool:
    """Whether the stream's replay can be rented now (one query for a duo stream's guest)."""
    return replay_is_rentable(
        status=stream.status,
        deleted_at=stream.deleted_at,
        recording_url=stream.recording_url,
        is_active_replay_on_creator_profile=stream.is_active_replay_on_creator_profile,
        replay_credit_price=stream.replay_credit_price,
        live_stream_type=stream.live_stream_type,
        has_guest=stream.live_stream_type == _SOLO or stream.guest_links.exists(),
    )


def _broadcaster_ids(stream: LiveStream) -> tuple[set[str], set[str]]:
    """(every broadcaster's user id, guest broadcasters' user ids) of one stream."""
    everyone, guests = set(), set()
    for user_id, role in Broadcaster.objects.filter(stream=stream).values_list("user_id", "role"):
        everyone.add(user_id)
        if role == _GUEST_BROADCASTER:
            guests.add(user_id)
    return everyone, guests


def stream_role_for(*, stream: LiveStream, user: User | None) -> Role | None:
    """The caller's role in one stream, read from the database."""
    return _role_and_broadcasters(stream, user)[0]


def _role_and_broadcasters(stream: LiveStream, user: User | None) -> tuple[Role | None, set]:
    if user is None:
        return None, set()
    everyone, guest_broadcasters = _broadcaster_ids(stream)
    role = caller_role(
        user_id=user.pk,
        creator_id=stream.creator_id,
        guest_ids=set(StreamGuest.objects.filter(stream=stream).values_list("user_id", flat=True)),
        guest_broadcaster_ids=guest_broadcasters,
    )
    return role, everyone


def replay_access_for(
    *,
    stream: LiveStream,
    user: User | None,
    role: Role | None = None,
    now: datetime | None = None,
) -> ReplayAccess:
    """The caller's access to one stream's replay, read from the database (`role`, when the
    caller has it already, is the caller's `stream_role_for` this stream)."""
    computed_role, broadcasters = _role_and_broadcasters(stream, user)
    role = role if role is not None else computed_role
    rental = None
    if user is not None:
        rental = (
            caller_rentals(user_id=user.pk)
            .filter(stream=stream)
            .values_list("rented_at", "expires_at")
            .first()
        )
    return caller_replay_access(
        role=role,
        is_broadcaster=user is not None and user.pk in broadcasters,
        rentable=stream_is_rentable(stream),
        recording_url=stream.recording_url,
        price=stream.replay_credit_price,
        rental=rental,
        now=now or timezone.now(),
    )


# --- the row-based read path ---------------------------------------------------------------

STREAM_FIELDS = (
    "id", "title", "live_stream_type", "channel_name", "thumbnail_url", "recording",
    "recording_url", "status", "price", "interest", "duration_goal", "motivation",
    "is_active_replay_on_creator_profile", "replay_credit_price", "started_at",
    "planned_start_date", "ended_at", "planned_end_date", "created_at", "updated_at",
    "funding_goal", "collected_funding", "deleted_at",
)  # fmt: skip
BROADCASTER_FIELDS = ("user_id", "role", "uid", "has_joined")


def stream_values(streams: QuerySet[LiveStream]) -> QuerySet:
    """`streams` as the tuples `live_stream_rows` reads: STREAM_FIELDS, then the creator's
    USER_SUMMARY_FIELDS (joined)."""
    return streams.values_list(
        *STREAM_FIELDS, *(f"creator__{name}" for name in USER_SUMMARY_FIELDS)
    )


_GUESTS = CompiledQuery(
    lambda ids: (
        StreamGuest.objects.filter(stream_id__in=ids)
        .order_by("invited_at", "id")
        .values_list("stream_id", *(f"user__{name}" for name in USER_SUMMARY_FIELDS))
    ),
    model=StreamGuest,
    convert=False,
)
_BROADCASTERS = CompiledQuery(
    lambda ids: (
        Broadcaster.objects.filter(stream_id__in=ids)
        .order_by("created_at", "id")
        .values_list("stream_id", *BROADCASTER_FIELDS)
    ),
    model=Broadcaster,
    convert=False,
)
_CALLER_RENTALS = CompiledQuery(
    lambda user_id, ids: (
        caller_rentals(user_id=user_id)
        .filter(stream_id__in=ids)
        .values_list("stream_id", "rented_at", "expires_at")
    ),
    model=ReplayRental,
    convert=False,
)
_STREAM_COUNT = len(STREAM_FIELDS)


class StreamParts(NamedTuple):
    """What the read path's queries return for some streams besides the streams' own tuples,
    as the database driver returns them: guests (`stream_id`, user summary values),
    broadcasters (`stream_id`, BROADCASTER_FIELDS) and the caller's rentals (`stream_id`,
    `rented_at`, `expires_at`; latest first)."""

    guests: list
    broadcasters: list
    rentals: list


def stream_parts(*, user_id: str | None, ids: list[str]) -> StreamParts:
    """The guests, broadcasters and the caller's rentals of these streams: two queries, three
    with a caller, none without ids."""
    return StreamParts(
        guests=_GUESTS.rows(ids=ids),
        broadcasters=_BROADCASTERS.rows(ids=ids),
        rentals=_CALLER_RENTALS.rows(user_id=user_id, ids=ids) if user_id is not None else [],
    )


def seconds_left(expires_at: datetime, now: datetime) -> int | None:
    """Whole seconds left of a rental window at `now`, None once it has closed: the one value
    of the stream object that moves with the clock alone (its `replayAccess` is `rented` with
    `remainingSeconds` while this is a number, `expired` once it is None)."""
    return int((expires_at - now).total_seconds()) if expires_at > now else None


def rentals_clock(rentals: Sequence[Sequence], now: datetime) -> list[int | None]:
    """`seconds_left` at `now` of each rental row of `StreamParts.rentals`."""
    return [seconds_left(as_utc(rental[2]), now) for rental in rentals]


def live_stream_rows(
    *,
    user: User | None,
    stream_values: Sequence[Sequence],
    parts: StreamParts | None = None,
    now: datetime | None = None,
) -> list[dict]:
    """One row (a dict of model field names) per tuple of `stream_values` (see
    `stream_values()`), in that order, with what the stream object shows: `creator` and
    `guests` (each user as (query values, index of their USER_SUMMARY_FIELDS), which
    `users.serializers.user_summary_from_values` shapes with no row in between),
    `broadcasters` (query tuples: `stream_id`, BROADCASTER_FIELDS), and the caller's `role`
    and `replay_access` at `now`, each computed once. Three queries (two without a caller),
    whatever the number of streams, unless `parts` (`stream_parts` of them) were read already.

    Values are as the database driver returns them (see `CompiledQuery`): datetimes naive UTC
    on SQLite, `price` a float there; the serializers take either.
    """
    if not stream_values:
        return []
    user_id = user.pk if user is not None else None
    if parts is None:
        parts = stream_parts(user_id=user_id, ids=[values[0] for values in stream_values])

    guests = defaultdict(list)
    for values in parts.guests:
        guests[values[0]].append((values, 1))
    broadcasters = defaultdict(list)
    for values in parts.broadcasters:
        broadcasters[values[0]].append(values)
    rentals = {}
    # Latest first, so the first row seen per stream is the caller's latest rental.
    for stream_id, rented_at, expires_at in parts.rentals:
        if stream_id not in rentals:
            rentals[stream_id] = (as_utc(rented_at), as_utc(expires_at))

    now = now or timezone.now()
    rows = []
    for values in stream_values:
        row = dict(zip(STREAM_FIELDS, values, strict=False))  # the stream's part of the tuple
        row["creator"] = (values, _STREAM_COUNT)  # the creator's id is values[_STREAM_COUNT]
        rows.append(row)
        stream_id = row["id"]
        row["guests"] = stream_guests = guests.get(stream_id, [])
        row["broadcasters"] = stream_broadcasters = broadcasters.get(stream_id, [])
        role = caller_role(
            user_id=user_id,
            creator_id=values[_STREAM_COUNT],
            guest_ids=[guest_values[1] for guest_values, _ in stream_guests],
            guest_broadcaster_ids=[b[1] for b in stream_broadcasters if b[2] == _GUEST_BROADCASTER],
        )
        row["role"] = role
        row["replay_access"] = caller_replay_access(
            role=role,
            is_broadcaster=any(b[1] == user_id for b in stream_broadcasters),
            rentable=replay_is_rentable(
                status=row["status"],
                deleted_at=row["deleted_at"],
                recording_url=row["recording_url"],
                is_active_replay_on_creator_profile=row["is_active_replay_on_creator_profile"],
                replay_credit_price=row["replay_credit_price"],
                live_stream_type=row["live_stream_type"],
                has_guest=bool(stream_guests),
            ),
            recording_url=row["recording_url"],
            price=row["replay_credit_price"],
            rental=rentals.get(stream_id),
            now=now,
        )
    return rows


# --- a rental as its renter sees it ---------------------------------------------------------


class RentalState:
    """What a rental row means at a moment (`status` of the rental in responses)."""

    ACTIVE = "active"  # paid, window open: the replay can be watched
    EXPIRED = "expired"  # the window closed
    REFUNDED = "refunded"  # given back (the stream was deleted)


RENTAL_STATES = [RentalState.ACTIVE, RentalState.EXPIRED, RentalState.REFUNDED]


def rental_state(*, rental: ReplayRental, now: datetime) -> str:
    if rental.status == ReplayRental.Status.REFUNDED:
        return RentalState.REFUNDED
    return RentalState.ACTIVE if rental.expires_at > now else RentalState.EXPIRED


def rental_remaining_seconds(*, rental: ReplayRental, now: datetime) -> int | None:
    """Whole seconds left of an active rental, else None."""
    if rental_state(rental=rental, now=now) != RentalState.ACTIVE:
        return None
    return int((rental.expires_at - now).total_seconds())


def replay_rentals_for_user(*, user: User) -> QuerySet[ReplayRental]:
    """The user's rentals of streams that are not deleted, most recently rented first."""
    return ReplayRental.objects.filter(user=user, stream__deleted_at__isnull=True).order_by(
        "-rented_at", "-id"
    )


# --- the lists of API.md §11, as querysets ---------------------------------------------------

GUEST_STREAM_SORTS = {
    "createdAt": "created_at",
    "updatedAt": "updated_at",
    "startedAt": "started_at",
    "plannedStartDate": "planned_start_date",
    "endedAt": "ended_at",
    "durationGoal": "duration_goal",
    "fundingGoal": "funding_goal",
}
_WAITING_OR_LIVE = (LiveStream.Status.ACTIVE, LiveStream.Status.PREPARING)


def _status_is(prefix: str, status: str) -> Q:
    """`status` equals this, on the stream itself (no prefix) or on a joined one (`stream__`),
    where it goes through a cast, which no index serves: SQLite (without statistics) would
    otherwise walk the status index through every stream of that status on the platform
    instead of the user's guest or broadcaster rows."""
    if not prefix:
        return Q(status=status)
    return Q(Exact(Cast(f"{prefix}status", models.CharField()), status))


def _taking_part(user_id: str, condition) -> QuerySet:
    """The ids of the streams meeting `condition(prefix)` (a Q on the stream's fields, named
    from the row the branch starts at) that the user created, is invited to as a guest, or
    broadcasts in. Every condition sits in each branch, which its own index serves (creator and
    status; the guest and broadcaster rows' user), so the cost follows the user's streams, not
    the platform's: with `status` on the outer query instead, SQLite walks the status index
    through every stream of that status (as BENCHMARKS.md found for the funded list)."""
    alive = Q(deleted_at__isnull=True)
    joined_alive = Q(stream__deleted_at__isnull=True)
    created = LiveStream.objects.filter(alive, condition(""), creator_id=user_id)
    invited = StreamGuest.objects.filter(joined_alive, condition("stream__"), user_id=user_id)
    broadcast = Broadcaster.objects.filter(joined_alive, condition("stream__"), user_id=user_id)
    return (
        created.order_by()
        .values("id")
        .union(invited.order_by().values("stream_id"), broadcast.order_by().values("stream_id"))
    )


def upcoming_streams_of(*, user_id: str, since, until) -> QuerySet[LiveStream]:
    """The user's `active` and `preparing` streams, and their `scheduled` ones planned to start
    between `since` and `until`; active first, then soonest `plannedStartDate`, then id.

    `since` and `until` are datetimes, or a `CompiledQuery`'s marks (hence `Value`)."""

    def upcoming(prefix: str) -> Q:
        return Q(**{f"{prefix}status__in": _WAITING_OR_LIVE}) | Q(
            **{
                f"{prefix}status": LiveStream.Status.SCHEDULED,
                f"{prefix}planned_start_date__gte": Value(since),
                f"{prefix}planned_start_date__lte": Value(until),
            }
        )

    return (
        LiveStream.objects.alive()
        .filter(pk__in=_taking_part(user_id, upcoming))
        .order_by(
            Case(When(status=LiveStream.Status.ACTIVE, then=Value(0)), default=Value(1)),
            "planned_start_date",
            "id",
        )
    )


def past_streams_of(*, user_id: str) -> QuerySet[LiveStream]:
    """The user's `ended` streams (created, guest or broadcaster), latest `endedAt` first."""

    def ended(prefix: str) -> Q:
        return _status_is(prefix, LiveStream.Status.ENDED)

    return (
        LiveStream.objects.alive()
        .filter(pk__in=_taking_part(user_id, ended))
        .order_by(F("ended_at").desc(nulls_last=True), "-id")
    )


def guest_streams_of(
    *, user_id: str, status: str | None, sort_by: str, descending: bool
) -> QuerySet[LiveStream]:
    """Streams the user is invited to as a guest, optionally of one `status`, by the API field
    `sort_by` (a key of GUEST_STREAM_SORTS), then id; streams without the value last."""
    invited = StreamGuest.objects.filter(user_id=user_id, stream__deleted_at__isnull=True)
    if status is not None:
        invited = invited.filter(_status_is("stream__", status))
    streams = LiveStream.objects.alive().filter(pk__in=invited.values("stream_id"))
    field = F(GUEST_STREAM_SORTS[sort_by])
    if descending:
        return streams.order_by(field.desc(nulls_last=True), "-id")
    return streams.order_by(field.asc(nulls_last=True), "id")
