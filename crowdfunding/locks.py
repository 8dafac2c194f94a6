"""Row locks of the crowdfunding app, and the project's one lock order as code (saleor's
`order/lock_objects.py` style).

The lock order. Every transaction that moves credits takes its row locks in this order; it
skips what it does not need but never goes back to an earlier step:

1. the stream — `livestreams.locks.stream_lock` (`stream_of_creator_lock`; the clock's
   `stream_lock_if_free`; `stream_lock_any` for an operator's refund);
2. its mini crowd fundings, by id — `mini_lock`, `funding_lock`;
3. its completed contributions, then its completed supports — `funding_lock`,
   `contribution_lock`;
4. its open replay rentals, by id, then their charges, by id —
   `livestreams.locks.rental_lock`, `rental_refunds_lock`;
5. wallets, last, once each, in id order — `users.locks.wallets_lock` (`ledger_post` locks
   one wallet with `wallet_lock`, after the caller locked every wallet it credits).

A stream's reminders are locked after the stream too (they move no money). A job that starts
below the stream (the replay revenue job: charges, then wallets) takes its first rows with
`SKIP LOCKED`, so it never waits for a lock held by a transaction that waits for it. Two
transactions keeping this order never deadlock: each waits only for rows later in the order
than every row it holds.

The functions below whose names end in `_lock` and take a stream are that order written as
code: a service calls one of them after locking the stream and gets every row it will write
locked, wallets included.
"""

from dataclasses import dataclass, field
from datetime import datetime

from allmine.api.errors import NotFound
from crowdfunding.models import (
    Contribution,
    FundingStatus,
    MiniCrowdFunding,
    MiniCrowdFundingSupport,
    PaidRecord,
)
from livestreams.locks import LockedRentalRefunds, rental_refunds_lock, stream_lock_any
from livestreams.models import LiveStream
from users.locks import wallets_lock


def mini_lock(*, stream: LiveStream, mini_id: str) -> MiniCrowdFunding:
    """One mini crowd funding of a locked stream, locked; 404 when the stream has no such."""
    mini = MiniCrowdFunding.objects.select_for_update().filter(pk=mini_id, stream=stream).first()
    if mini is None:
        raise NotFound("Mini crowd funding not found")
    return mini


@dataclass(frozen=True)
class LockedFunding:
    """A locked stream's mini crowd fundings and its completed contributions and supports."""

    minis: list[MiniCrowdFunding] = field(default_factory=list)
    records: list[PaidRecord] = field(default_factory=list)

    @property
    def user_ids(self) -> set[str]:
        return {record.user_id for record in self.records}


def funding_lock(stream: LiveStream) -> LockedFunding:
    """Steps 2 and 3 for a locked stream: its mini crowd fundings, then its completed
    contributions and supports."""
    minis = list(MiniCrowdFunding.objects.select_for_update().filter(stream=stream).order_by("id"))
    records: list[PaidRecord] = [
        *Contribution.objects.select_for_update().filter(
            stream=stream, status=FundingStatus.COMPLETED
        ),
        *MiniCrowdFundingSupport.objects.select_for_update().filter(
            mini_crowd_funding__in=minis, status=FundingStatus.COMPLETED
        ),
    ]
    return LockedFunding(minis=minis, records=records)


@dataclass(frozen=True)
class StreamRefunds:
    """What a cancellation, an expiry or a deletion refunds, locked (wallets included)."""

    funding: LockedFunding
    rentals: LockedRentalRefunds

    @property
    def user_ids(self) -> set[str]:
        return self.funding.user_ids | self.rentals.user_ids


def stream_refunds_lock(
    stream: LiveStream, *, now: datetime, funding: bool = True, rentals: bool = False
) -> StreamRefunds:
    """The lock order for refunding a locked stream's funders (`funding`: its minis, then its
    completed contributions and supports) and its renters (`rentals`: its rentals open at
    `now`, then their charges), then the wallet of everyone to be credited, in id order.
    Cancel and expiry refund the funding; delete refunds both (the funding unless paid out)."""
    locked = StreamRefunds(
        funding=funding_lock(stream) if funding else LockedFunding(),
        rentals=(
            rental_refunds_lock(stream=stream, now=now) if rentals else LockedRentalRefunds([])
        ),
    )
    wallets_lock(locked.user_ids)
    return locked


def stream_payout_lock(stream: LiveStream, *, guest_id: str | None) -> LockedFunding:
    """The lock order for paying a locked stream's funding out: its minis, its completed
    contributions and supports, then the wallets of its creator and `guest_id` (the guest the
    payout pays), in id order. Nothing to pay out locks no wallet."""
    funding = funding_lock(stream)
    if funding.records:
        wallets_lock([stream.creator_id, guest_id])
    return funding


def contribution_lock(contribution_id: str) -> tuple[LiveStream, Contribution]:
    """The lock order for refunding one contribution: its stream (deleted or not), then the
    contribution (the caller's `ledger_post` locks the wallet); 404 when unknown."""
    stream_id = (
        Contribution.objects.filter(pk=contribution_id).values_list("stream_id", flat=True).first()
    )
    if stream_id is None:
        raise NotFound("Contribution not found")
    stream = stream_lock_any(stream_id)
    return stream, Contribution.objects.select_for_update().get(pk=contribution_id)
