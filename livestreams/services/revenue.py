"""A stream's revenue (API.md §7): who earns the guest's share, the `stream_revenue` rows of
a price's split (replay rentals, gifts, the funding payout) and the replay revenue job."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from livestreams.locks import revenue_batch_lock
from livestreams.models import Broadcaster, LiveStream, ReplayRentalCharge, StreamGuest
from livestreams.rules import revenue_split
from notifications.services import Category, NotificationDraft, Type, notifications_create
from users.models import CreditLedgerEntry
from users.services import ledger_post

REVENUE_BATCH = 100


def revenue_guest_id(stream: LiveStream) -> str | None:
    """The guest who earns a duo stream's guest share: the first invited guest, else the
    first guest broadcaster; none for a solo stream."""
    if stream.live_stream_type == LiveStream.Type.SOLO:
        return None
    link = StreamGuest.objects.filter(stream=stream).order_by("invited_at", "id").first()
    if link is not None:
        return link.user_id
    broadcaster = (
        Broadcaster.objects.filter(stream=stream, role=Broadcaster.Role.GUEST)
        .order_by("created_at", "id")
        .first()
    )
    return broadcaster.user_id if broadcaster is not None else None


def revenue_shares_post(
    *,
    stream: LiveStream,
    creator_share: int,
    guest_id: str | None,
    guest_share: int,
    description: str,
) -> tuple[CreditLedgerEntry | None, CreditLedgerEntry | None]:
    """Credit a stream's creator and guest their shares as `stream_revenue` rows (a zero share
    writes no row). The caller holds the locks on both wallets."""
    return tuple(
        ledger_post(
            user_id=user_id,
            amount=share,
            entry_type=CreditLedgerEntry.Type.STREAM_REVENUE,
            description=description,
            stream_id=stream.pk,
        )
        if share
        else None
        for user_id, share in ((stream.creator_id, creator_share), (guest_id, guest_share))
    )


def _settle(charge: ReplayRentalCharge, *, guest_id: str | None, now: datetime) -> None:
    """Pay out one locked, active charge whose window has closed to its stream's creator and
    `guest_id` (the guest the caller locked: their wallets are locked already)."""
    stream = charge.rental.stream
    creator_share, guest_share = revenue_split(
        price=charge.price, live_stream_type=stream.live_stream_type, has_guest=guest_id is not None
    )
    description = f"Replay revenue of “{stream.title}” ({stream.pk}), rental {charge.rental_id}"
    charge.creator_revenue_entry, charge.guest_revenue_entry = revenue_shares_post(
        stream=stream,
        creator_share=creator_share,
        guest_id=guest_id,
        guest_share=guest_share,
        description=description,
    )
    notifications_create(
        NotificationDraft(
            user_id=payee,
            category=Category.PAYMENTS,
            type=Type.REPLAY_REVENUE,
            title=f"{share} credits of replay revenue",
            body=f"Your share of a replay rental of “{stream.title}”: {share} credits.",
            stream_id=stream.pk,
        )
        for payee, share in ((stream.creator_id, creator_share), (guest_id, guest_share))
        if share
    )
    charge.guest_id = guest_id if guest_share else None
    charge.creator_share, charge.guest_share = creator_share, guest_share
    charge.status = ReplayRentalCharge.Status.SETTLED
    charge.settled_at = now
    charge.save(
        update_fields=[
            "status", "settled_at", "guest", "creator_share", "guest_share",
            "creator_revenue_entry", "guest_revenue_entry",
        ]
    )  # fmt: skip


def replay_revenue_settle(*, now: datetime | None = None, batch: int = REVENUE_BATCH) -> int:
    """Settle every active charge whose window closed by `now`: exactly once, even when runs
    overlap. Each batch is one transaction that takes its charges with `SKIP LOCKED` (a parallel
    run takes others) and re-reads them under the lock, so a charge another run settled or a
    refund gave back is never paid again (`livestreams.locks.revenue_batch_lock`). Returns how
    many charges were settled."""
    now = now or timezone.now()
    settled = 0
    while True:
        with transaction.atomic():
            locked = revenue_batch_lock(now=now, batch=batch, guest_of=revenue_guest_id)
            if not locked.charges:
                return settled
            for charge in locked.charges:
                _settle(charge, guest_id=locked.guests[charge.rental.stream_id], now=now)
            settled += len(locked.charges)
