"""The clock's writes (API.md §9): unstarted streams expire and refund their funders; ended
streams pay their funding out. The rules of when are `livestreams.clock`.

Both are sweeps run by the job queue (`crowdfunding/tasks.py`, settings `CLOCK_JOBS`). A sweep
finds due streams from their rows (so a rescheduled stream needs nothing moved, and a missed
run is made good by the next), then handles each stream in a transaction of its own: it takes
the stream's row lock with `SKIP LOCKED` (a stream another worker or a request holds is passed
over; the next run takes it) and re-checks under the lock that the stream is still due. Two
workers, a job run twice or a request racing the clock therefore never act twice.

Locks: the stream (`livestreams.locks.stream_lock_if_free`), then the rest in the project's
lock order (`crowdfunding.locks.stream_refunds_lock`, `stream_payout_lock`).
"""

from collections.abc import Callable
from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from crowdfunding.locks import stream_payout_lock, stream_refunds_lock
from crowdfunding.models import FundingPayout
from crowdfunding.moments import payout_notify, refunds_tell
from crowdfunding.services import is_paid_out, refund_funding
from livestreams.clock import (
    EXPIRABLE_STATUSES,
    expiry_cutoff,
    expiry_is_due,
    payout_cutoff,
)
from livestreams.locks import stream_lock_if_free
from livestreams.models import LiveStream
from livestreams.rules import revenue_split
from livestreams.services import revenue_guest_id
from notifications.services import Type as NotificationType
from users.models import CreditLedgerEntry
from users.services import ledger_post

SWEEP_BATCH = 100


def _sweep(due: QuerySet, act: Callable[[str], bool], batch: int) -> int:
    """Run `act` (one transaction) on each stream id `due` yields, `batch` ids at a time,
    until none is left; a stream `act` passed over (locked elsewhere, no longer due) is not
    tried again in this run. Returns how many `act` handled."""
    done, passed = 0, set()
    while True:
        ids = list(due.exclude(pk__in=passed).values_list("pk", flat=True)[:batch])
        if not ids:
            return done
        for pk in ids:
            if act(pk):
                done += 1
            else:
                passed.add(pk)


def expiry_refund_reason(*, title: str, stream_id: str) -> str:
    return f"Refund: live stream “{title}” ({stream_id}) expired, it never started"


@transaction.atomic
def live_stream_expire(*, stream_id: str, now: datetime | None = None) -> bool:
    """Expire one stream if it is still due (`livestreams.clock.expiry_is_due`): in this
    transaction every completed contribution and support is refunded exactly as on cancel
    (`crowdfunding.services.refund_funding`) and its mini crowd fundings close. Returns
    whether it expired the stream."""
    now = now or timezone.now()
    stream = stream_lock_if_free(stream_id)
    if stream is None or not expiry_is_due(stream, now=now):
        return False
    refunds = stream_refunds_lock(stream, now=now)
    reason = expiry_refund_reason(title=stream.title, stream_id=stream.pk)
    refund_funding(refunds.funding, stream=stream, now=now, reason=reason)
    stream.status = LiveStream.Status.EXPIRED
    stream.save(update_fields=["status", "collected_funding", "updated_at"])
    refunds_tell(stream, NotificationType.STREAM_EXPIRED, refunds, now=now)
    return True


def live_streams_expire_due(*, now: datetime | None = None, batch: int = SWEEP_BATCH) -> int:
    """The expiry sweep: expire every stream past its start deadline. Returns the count."""
    now = now or timezone.now()
    due = (
        LiveStream.objects.alive()
        .filter(status__in=EXPIRABLE_STATUSES, planned_start_date__lte=expiry_cutoff(now))
        .order_by("planned_start_date", "pk")
    )
    return _sweep(due, lambda pk: live_stream_expire(stream_id=pk, now=now), batch)


def payout_description(*, title: str, stream_id: str) -> str:
    return f"Funding payout of live stream “{title}” ({stream_id})"


def funding_payout_split(*, total: int, live_stream_type: str, has_guest: bool):
    """(creator's share, guest's share) of a stream's funding: the replay rule of §7 (solo:
    80 % creator; duo: 40 % creator, 40 % guest; floored; the platform keeps the rest)."""
    return revenue_split(price=total, live_stream_type=live_stream_type, has_guest=has_guest)


@transaction.atomic
def funding_payout_settle(*, stream_id: str, now: datetime | None = None) -> FundingPayout | None:
    """Pay out one ended stream's funding if it is due and not paid yet: its completed
    contributions and supports, summed and split (`funding_payout_split`), as `stream_revenue`
    rows to the creator and the guest (`revenue_guest_id`), recorded by one `FundingPayout`.
    Returns it, or None when there was nothing to do."""
    now = now or timezone.now()
    stream = stream_lock_if_free(stream_id)
    if (
        stream is None
        or stream.status != LiveStream.Status.ENDED
        or stream.ended_at > payout_cutoff(now)
        or is_paid_out(stream)
    ):
        return None
    guest_id = revenue_guest_id(stream)
    funding = stream_payout_lock(stream, guest_id=guest_id)
    total = sum(record.amount for record in funding.records)
    creator_share, guest_share = funding_payout_split(
        total=total, live_stream_type=stream.live_stream_type, has_guest=guest_id is not None
    )
    payees = {stream.creator_id: creator_share, guest_id: guest_share}
    entries = {
        user_id: ledger_post(
            user_id=user_id,
            amount=share,
            entry_type=CreditLedgerEntry.Type.STREAM_REVENUE,
            description=payout_description(title=stream.title, stream_id=stream.pk),
            stream_id=stream.pk,
        )
        for user_id, share in payees.items()
        if share
    }
    payout_notify(stream, {user_id: entry.amount for user_id, entry in entries.items()})
    stream.funding_paid_out_at = now  # out of the sweep's index from now on
    stream.save(update_fields=["funding_paid_out_at", "updated_at"])
    return FundingPayout.objects.create(
        stream=stream,
        total=total,
        creator_share=creator_share,
        creator_revenue_entry=entries.get(stream.creator_id),
        guest_id=guest_id if guest_share else None,
        guest_share=guest_share,
        guest_revenue_entry=entries.get(guest_id) if guest_share else None,
        paid_at=now,
    )


def funding_payouts_settle_due(*, now: datetime | None = None, batch: int = SWEEP_BATCH) -> int:
    """The payout sweep: pay out every ended stream whose delay has passed. Returns the count
    of payouts made."""
    now = now or timezone.now()
    due = (
        LiveStream.objects.alive()
        .filter(
            status=LiveStream.Status.ENDED,
            funding_paid_out_at__isnull=True,
            ended_at__lte=payout_cutoff(now),
        )
        .order_by("ended_at", "pk")
    )
    return _sweep(due, lambda pk: funding_payout_settle(stream_id=pk, now=now) is not None, batch)
