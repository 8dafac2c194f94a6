"""Reads of the livestreams app: the caller's role and replay access, and the joins they need.

The functions that take a stream work on prefetched data only (`guest_links`, `broadcasters`,
`caller_rentals`), so a list of streams costs a fixed number of queries.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from livestreams.models import Broadcaster, LiveStream, ReplayRental, StreamGuest
from users.models import User

RENTAL_DURATION = timedelta(hours=24)


class Role:
    HOST = "host"
    GUEST = "guest"
    AUDIENCE = "audience"


class ReplayStatus:
    OWNER = "owner"
    PARTICIPANT = "participant"
    RENTED = "rented"
    EXPIRED = "expired"
    AVAILABLE = "available"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class ReplayAccess:
    status: str
    can_rent: bool
    can_view_recording: bool
    price: int | None
    rented_at: datetime | None
    expires_at: datetime | None
    remaining_seconds: int | None


def stream_prefetches(*, user: User | None) -> list:
    """Prefetches that the stream serializer reads: guests, broadcasters, the caller's rentals."""
    prefetches = [
        Prefetch(
            "guest_links",
            queryset=StreamGuest.objects.select_related("user__profile_photo").order_by(
                "invited_at", "id"
            ),
        ),
        Prefetch("broadcasters", queryset=Broadcaster.objects.order_by("created_at", "id")),
    ]
    if user is not None:
        prefetches.append(
            Prefetch(
                "rentals",
                queryset=ReplayRental.objects.filter(user=user).order_by("-rented_at", "-id"),
                to_attr="caller_rentals",
            )
        )
    return prefetches


def live_streams_with_details(*, user: User | None) -> QuerySet[LiveStream]:
    """Visible streams with every join the stream object needs, soonest first."""
    return (
        LiveStream.objects.alive()
        .select_related("creator__profile_photo")
        .prefetch_related(*stream_prefetches(user=user))
        .order_by("planned_start_date", "id")
    )


def _related_rows(stream: LiveStream, name: str):
    """The rows of a to-many relation: the prefetched ones as they are (`.all()` on a prefetched
    relation still builds a new QuerySet each call, the top cost of a 100-stream list in a
    profile), or a query for a single stream that was not prefetched."""
    cached = getattr(stream, "_prefetched_objects_cache", {}).get(name)
    return cached if cached is not None else getattr(stream, name).all()


def stream_role_for(*, stream: LiveStream, user: User | None) -> str | None:
    """host (creator), guest (invited guest or guest broadcaster), audience, or None."""
    if user is None:
        return None
    if stream.creator_id == user.pk:
        return Role.HOST
    if any(link.user_id == user.pk for link in _related_rows(stream, "guest_links")):
        return Role.GUEST
    if any(
        b.user_id == user.pk and b.role == Broadcaster.Role.GUEST
        for b in _related_rows(stream, "broadcasters")
    ):
        return Role.GUEST
    return Role.AUDIENCE


def replay_is_rentable(
    *,
    status: str,
    is_deleted: bool,
    recording_url: str,
    replay_on: bool | None,
    replay_credit_price: int | None,
    live_stream_type: str,
    has_guest: bool,
) -> bool:
    """The rentable rule on plain values (for a stream not loaded yet, e.g. a seeder's plan): a
    replay can be rented only once the stream ended, not deleted, with a recording offered for
    credits, and a duo stream's replay needs its guest."""
    if status != LiveStream.Status.ENDED or is_deleted:
        return False
    if not recording_url or replay_on is not True:
        return False
    if not replay_credit_price or replay_credit_price <= 0:
        return False
    return live_stream_type == LiveStream.Type.SOLO or has_guest


def stream_is_rentable(stream: LiveStream) -> bool:
    """Whether the stream's replay can be rented now (`replay_is_rentable`)."""
    rentable_with_a_guest = replay_is_rentable(
        status=stream.status,
        is_deleted=stream.is_deleted,
        recording_url=stream.recording_url,
        replay_on=stream.is_active_replay_on_creator_profile,
        replay_credit_price=stream.replay_credit_price,
        live_stream_type=stream.live_stream_type,
        has_guest=True,
    )
    if not rentable_with_a_guest or stream.live_stream_type == LiveStream.Type.SOLO:
        return rentable_with_a_guest
    # Read last (a query when the guests were not prefetched).
    return bool(_related_rows(stream, "guest_links"))


def replay_access_for(
    *, stream: LiveStream, user: User | None, role: str | None, now: datetime | None = None
) -> ReplayAccess:
    """The caller's access to the stream's replay (API.md §3, replayAccess).

    `role` is the caller's `stream_role_for` this stream, which the caller has worked out
    already (the stream object shows it too).
    """
    now = now or timezone.now()
    rentable = stream_is_rentable(stream)
    rental = None
    if user is not None:
        rentals = getattr(stream, "caller_rentals", None)
        if rentals is None:  # not prefetched: a single stream outside a list
            rentals = list(stream.rentals.filter(user=user).order_by("-rented_at", "-id")[:1])
        rental = rentals[0] if rentals else None
        if rental is not None and rental.status == ReplayRental.Status.REFUNDED:
            rental = None  # a refunded rental grants nothing and is not "expired"

    if role == Role.HOST:
        status = ReplayStatus.OWNER
    elif role == Role.GUEST or (
        user is not None
        and any(b.user_id == user.pk for b in _related_rows(stream, "broadcasters"))
    ):
        status = ReplayStatus.PARTICIPANT
    elif rental is not None and rental.expires_at > now:
        status = ReplayStatus.RENTED
    elif rental is not None:
        status = ReplayStatus.EXPIRED
    elif rentable:
        status = ReplayStatus.AVAILABLE
    else:
        status = ReplayStatus.UNAVAILABLE

    active_rental = status == ReplayStatus.RENTED
    return ReplayAccess(
        status=status,
        can_rent=rentable and status in (ReplayStatus.AVAILABLE, ReplayStatus.EXPIRED),
        can_view_recording=bool(stream.recording_url)
        and status in (ReplayStatus.OWNER, ReplayStatus.PARTICIPANT, ReplayStatus.RENTED),
        price=stream.replay_credit_price,
        rented_at=rental.rented_at if rental else None,
        expires_at=rental.expires_at if rental else None,
        remaining_seconds=int((rental.expires_at - now).total_seconds()) if active_rental else None,
    )


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
