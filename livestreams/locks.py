"""Row locks of the livestreams app (saleor's `order/lock_objects.py` style): every
`select_for_update` on a stream, a rental, a charge or a reminder is written here, once.

The order in which a transaction takes them is the project's one lock order, written once in
`crowdfunding/locks.py`: the stream first, then what hangs off it (mini crowd fundings,
contributions and supports, open rentals, their charges; reminders), wallets last
(`users/locks.py`).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from allmine.api.errors import Forbidden, NotFound
from allmine.ids import check_object_id
from livestreams.models import LiveStream, Reminder, ReplayRental, ReplayRentalCharge
from users.locks import wallets_lock
from users.models import User

# --- the stream: the first lock of every write on it ---------------------------------------


def stream_lock(stream_id: str, *, field: str = "id") -> LiveStream:
    """The stream, locked: 400 for a malformed id (named `field`), 404 when unknown or
    deleted."""
    check_object_id(stream_id, field)
    stream = LiveStream.objects.alive().select_for_update().filter(pk=stream_id).first()
    if stream is None:
        raise NotFound("Live stream not found")
    return stream


def stream_of_creator_lock(*, user: User, stream_id: str, action: str) -> LiveStream:
    """The caller's own stream, locked: as `stream_lock`, and 403 when the caller is not its
    creator (`action` names what they tried: "Only the stream's creator can <action> it")."""
    stream = stream_lock(stream_id)
    if stream.creator_id != user.pk:
        raise Forbidden(f"Only the stream's creator can {action} it")
    return stream


def stream_lock_if_free(stream_id: str) -> LiveStream | None:
    """The clock's lock: the stream, locked, unless another transaction holds it (`SKIP
    LOCKED`: the next sweep takes it) or it is deleted."""
    return (
        LiveStream.objects.alive().select_for_update(skip_locked=True).filter(pk=stream_id).first()
    )


def stream_lock_any(stream_id: str) -> LiveStream:
    """The stream, locked, deleted or not (an operator's refund of one contribution)."""
    return LiveStream.objects.select_for_update().get(pk=stream_id)


# --- replay rentals and their charges (after the stream) -----------------------------------


def rental_lock(*, user: User, stream: LiveStream) -> ReplayRental | None:
    """The caller's one rental of a locked stream, locked (None when they never rented it)."""
    return ReplayRental.objects.select_for_update().filter(user=user, stream=stream).first()


@dataclass(frozen=True)
class LockedRentalRefunds:
    """The charges of a stream's rentals whose window is still open, locked for refunding."""

    charges: list[ReplayRentalCharge]

    @property
    def user_ids(self) -> set[str]:
        return {charge.rental.user_id for charge in self.charges}


def rental_refunds_lock(*, stream: LiveStream, now: datetime) -> LockedRentalRefunds:
    """Lock, after the stream: its rentals whose window is open at `now`, then their charges,
    each by id. The caller then locks the renters' wallets."""
    rentals = list(
        ReplayRental.objects.select_for_update()
        .filter(stream=stream, status=ReplayRental.Status.ACTIVE, expires_at__gt=now)
        .order_by("pk")
    )
    charges = list(
        ReplayRentalCharge.objects.select_for_update()
        .filter(rental__in=rentals, status=ReplayRentalCharge.Status.ACTIVE, expires_at__gt=now)
        .select_related("rental")
        .order_by("pk")
    )
    return LockedRentalRefunds(charges=charges)


@dataclass(frozen=True)
class RevenueBatch:
    """Charges due for settlement, locked, with the guest each of their streams pays."""

    charges: list[ReplayRentalCharge]
    guests: dict[str, str | None]  # stream id → the guest paid (None: no guest)


def revenue_batch_lock(
    *, now: datetime, batch: int, guest_of: Callable[[LiveStream], str | None]
) -> RevenueBatch:
    """The revenue job's locks: up to `batch` active charges whose window closed by `now`,
    taken with `SKIP LOCKED` (a parallel run or a refund holding one is passed over), then
    every wallet the batch pays, in id order. Each stream's guest is asked once (`guest_of`),
    so the guest wallet locked is the one paid. The job never waits for a stream or a charge,
    so it cannot close a cycle with a refund (stream → charges → wallets)."""
    charges = list(
        ReplayRentalCharge.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(status=ReplayRentalCharge.Status.ACTIVE, expires_at__lte=now)
        .select_related("rental__stream")
        .order_by("expires_at", "id")[:batch]
    )
    streams = {charge.rental.stream_id: charge.rental.stream for charge in charges}
    guests = {pk: guest_of(stream) for pk, stream in streams.items()}
    wallets_lock({stream.creator_id for stream in streams.values()} | set(guests.values()))
    return RevenueBatch(charges=charges, guests=guests)


# --- reminders (after the stream; no money) ------------------------------------------------


def reminder_lock(*, user: User, stream: LiveStream) -> Reminder | None:
    """The caller's one reminder of a locked stream, locked (None when there is none)."""
    return Reminder.objects.select_for_update().filter(user=user, stream=stream).first()


def armed_reminders_lock(stream: LiveStream) -> list[Reminder]:
    """A locked stream's armed reminders, locked, by id (the stream starts: they fire)."""
    return list(
        Reminder.objects.select_for_update()
        .filter(stream=stream, status__in=Reminder.ARMED_STATUSES)
        .order_by("pk")
    )


def due_reminders_lock(*, due: dict, batch: int) -> list[Reminder]:
    """The sweep's lock: up to `batch` reminders matching `due` (filters), by id, with `SKIP
    LOCKED` (a parallel sweep takes others); their streams are read, not locked."""
    return list(
        Reminder.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(**due)
        .select_related("stream")
        .order_by("pk")[:batch]
    )
