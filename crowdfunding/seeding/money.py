"""The money of the demo, drawn by the `Planner` after its streams and minis: contributions and
supports, replay rentals, payouts and the credit ledger, as the services would have left them.

Each user first buys credits (`credit_purchase`, enough for everything they later spend plus a
spare); every contribution, support and rental has its debit row; a stream that expired, was
cancelled or was deleted has refunded every contribution and support (and a deleted one every
rental whose window was still open, as `crowdfunding.services.live_stream_delete` does); a
rental whose window closed before the anchor is settled as
`livestreams.services.replay_revenue_settle` settles it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from crowdfunding.clock import expiry_refund_reason, funding_payout_split, payout_description
from crowdfunding.records import CONTRIBUTION_DEBIT, REFUND, SUPPORT_DEBIT
from crowdfunding.seeding.plans import (
    AMOUNT_WEIGHTS,
    AMOUNTS,
    HOUR,
    MINUTE,
    SECOND,
    FundingPlan,
    LedgerEvent,
    MiniPlan,
    Payout,
    RentalPlan,
    S,
    Settlement,
    StreamPlan,
    T,
)
from livestreams.rules import revenue_split
from users.models import CreditLedgerEntry

if TYPE_CHECKING:
    from crowdfunding.seeding.planner import Planner


def plan_funding(planner: Planner) -> tuple[list[FundingPlan], list[FundingPlan]]:
    """Contributions and supports, in time order; a stream that expired, was cancelled or
    was deleted has refunded every one of them."""
    rng = planner.rng
    refunds_per_stream: dict[int, int] = {}

    def one(user: int, target: StreamPlan | MiniPlan, amount: int, at: int) -> FundingPlan:
        stream = target if isinstance(target, StreamPlan) else target.stream
        debit_id = planner.new_id(at)
        funding = FundingPlan(
            id=planner.new_id(at),
            user=user,
            target=target,
            stream=stream,
            amount=amount,
            at=at,
            debit_id=debit_id,
        )
        if stream.funding_refunded_at is not None:
            k = refunds_per_stream[stream.index] = refunds_per_stream.get(stream.index, 0) + 1
            funding.refund_at = stream.funding_refunded_at + k  # 1 µs apart, in order
            funding.refund_id = planner.new_id(funding.refund_at)
        else:
            target.collected += amount
        return funding

    contributions = []
    for user, funded in planner.funded_by.items():
        for stream in funded:
            for _ in range(rng.choice([1, 1, 2])):
                at = planner.between(stream.open, stream.close)
                contributions.append(one(user, stream, rng.choice(AMOUNTS[:6]), at))

    n = planner.o.contributions
    weights = [rng.choice([1, 1, 1, 2, 3, 8]) for _ in planner.streams]
    picks = rng.choices(planner.streams, weights=weights, k=n)
    amounts = rng.choices(AMOUNTS, AMOUNT_WEIGHTS, k=n)
    for stream, amount in zip(picks, amounts, strict=True):
        user = planner.crowd_member(stream)
        contributions.append(one(user, stream, amount, planner.between(stream.open, stream.close)))
    contributions.sort(key=lambda c: (c.at, c.id))  # inserted in id/time order

    supports = []
    if planner.minis:
        for mini in rng.choices(planner.minis, k=planner.supports_total):
            stream = mini.stream
            user = planner.crowd_member(stream)
            at = planner.between(max(stream.open, mini.created + SECOND), stream.close)
            supports.append(one(user, mini, rng.choice([5, 10, 20, 25, 50]), at))
        supports.sort(key=lambda s: (s.at, s.id))
    return contributions, supports


def plan_rentals(planner: Planner) -> list[RentalPlan]:
    """Rentals of replays that were rentable when rented: settled once their window closed
    before the anchor, refunded when the stream was deleted inside the window."""
    rng = planner.rng
    rentable = [s for s in planner.streams if s.rentable(deleted=s.deleted is not None)]
    if not rentable:
        return []
    deleted = [s for s in planner.streams if s.deleted is not None and s.rentable(deleted=False)]
    wanted: list[tuple[int, StreamPlan, int | None]] = []
    # The demo user holds an active rental (rented an hour before the anchor) and an
    # expired one (its window closed six hours before the anchor, and was settled).
    # The first replay the demo user does not host stays `available` to them.
    for_demo = [s for s in rentable if s.creator != planner.demo][1:]
    if for_demo:
        active = rng.choice(for_demo)
        wanted.append((planner.demo, active, -HOUR))
        ended_earlier = [s for s in for_demo if s is not active and s.ended < -31 * HOUR]
        if ended_earlier:
            wanted.append((planner.demo, rng.choice(ended_earlier), -30 * HOUR))
    # Every deleted stream that offered its replay had a renter or two, refunded.
    for stream in deleted:
        for _ in range(rng.choice([1, 2])):
            wanted.append((rng.choice(planner.pool), stream, None))
    for _ in range(planner.rentals_total):
        wanted.append((rng.choice(planner.pool), rng.choice(rentable), None))

    rentals = []
    seen: set[tuple[int, int]] = set()
    for user, stream, rented in wanted:
        # One rental per (user, stream); the creator and guests watch free.
        if user == stream.creator or user in stream.guests or (user, stream.index) in seen:
            continue
        seen.add((user, stream.index))
        if rented is None:
            last = stream.deleted if stream.deleted is not None else 0
            rented = planner.between(stream.ended + MINUTE, last - MINUTE)
        rental = RentalPlan(
            id=planner.new_id(rented),
            user=user,
            stream=stream,
            rented=rented,
            charge_id=planner.new_id(rented),
            debit_id=planner.new_id(rented),
        )
        if stream.deleted is not None and stream.deleted < rental.expires:
            rental.refund_at = stream.deleted
            rental.refund_id = planner.new_id(stream.deleted)
        elif rental.expires + 10 * MINUTE <= 0:
            rental.settlement = _settlement(planner, stream, at=rental.expires + 10 * MINUTE)
        rentals.append(rental)
    return rentals


def _settlement(planner: Planner, stream: StreamPlan, *, at: int) -> Settlement:
    # The first invited guest earns the guest share (`revenue_guest_id`).
    guest = stream.guests[0] if stream.type != T.SOLO and stream.guests else None
    creator_share, guest_share = revenue_split(
        price=stream.replay_price, live_stream_type=stream.type, has_guest=guest is not None
    )
    return Settlement(
        at=at,
        creator_entry_id=planner.new_id(at) if creator_share else None,
        guest_entry_id=planner.new_id(at) if guest_share else None,
        creator_share=creator_share,
        guest_share=guest_share,
        guest=guest if guest_share else None,
    )


def plan_payouts(planner: Planner) -> list[StreamPlan]:
    """Ended streams whose payout fell due before the anchor and before any deletion are
    paid out as `crowdfunding.clock.funding_payout_settle` pays them: every completed
    contribution and support, split by `funding_payout_split` (the first invited guest
    earns the guest's share, `revenue_guest_id`)."""
    held: dict[int, int] = {}
    for mini in planner.minis:
        held[mini.stream.index] = held.get(mini.stream.index, 0) + mini.collected
    paid = []
    for s in planner.streams:
        if s.payout_at is None or s.payout_at > 0:
            continue
        if s.deleted is not None and s.deleted < s.payout_at:
            continue  # deleted first: `live_stream_delete` refunded every funder
        total = s.collected + held.get(s.index, 0)
        guest = s.guests[0] if s.type != T.SOLO and s.guests else None
        creator_share, guest_share = funding_payout_split(
            total=total, live_stream_type=s.type, has_guest=guest is not None
        )
        s.payout = Payout(
            id=planner.new_id(s.payout_at),
            at=s.payout_at,
            total=total,
            creator_share=creator_share,
            guest_share=guest_share,
            guest=guest if guest_share else None,
            creator_entry_id=planner.new_id(s.payout_at) if creator_share else None,
            guest_entry_id=planner.new_id(s.payout_at) if guest_share else None,
        )
        paid.append(s)
    return paid


def plan_ledger(planner: Planner) -> list[LedgerEvent]:
    """Purchases first, then every debit, refund and revenue row, in ledger order
    (`created_at`, `id`); each user's balance is the sum of their rows."""
    rng = planner.rng
    L = CreditLedgerEntry.Type
    spent = [0] * len(planner.users)
    for funding in (*planner.contributions, *planner.supports):
        spent[funding.user] += funding.amount
    for rental in planner.rentals:
        spent[rental.user] += rental.price
    events = []
    for user, total in enumerate(spent):
        spare = 5000 if user == planner.demo else rng.choice([0, 0, 50, 100, 250, 500, 1000])
        if total + spare:
            at = planner.users[user].joined + HOUR
            events.append(
                LedgerEvent(
                    at=at, id=planner.new_id(at), user=user, amount=total + spare,
                    type=L.CREDIT_PURCHASE, stream_id="",
                )
            )  # fmt: skip
    for debit_type, rows in (
        (CONTRIBUTION_DEBIT, planner.contributions),
        (SUPPORT_DEBIT, planner.supports),
    ):
        for f in rows:
            events.append(
                LedgerEvent(
                    at=f.at, id=f.debit_id, user=f.user, amount=-f.amount, type=debit_type,
                    stream_id=f.stream.id,
                )
            )  # fmt: skip
            if f.refund_at is not None:  # as `crowdfunding.records.refund_post` writes it
                expired = f.stream.status == S.EXPIRED  # as `live_stream_expire` says it
                events.append(
                    LedgerEvent(
                        at=f.refund_at, id=f.refund_id, user=f.user, amount=f.amount,
                        type=REFUND, stream_id=f.stream.id,
                        status=CreditLedgerEntry.Status.REFUNDED,
                        description=expiry_refund_reason(
                            title=f.stream.title, stream_id=f.stream.id
                        ) if expired else "",
                    )
                )  # fmt: skip
    for r in planner.rentals:
        stream = r.stream
        events.append(
            LedgerEvent(
                at=r.rented, id=r.debit_id, user=r.user, amount=-r.price,
                type=L.STREAM_CHARGE, stream_id=stream.id,
            )
        )  # fmt: skip
        if r.refund_at is not None:  # as `replay_rental_refunds_post` writes it
            events.append(
                LedgerEvent(
                    at=r.refund_at, id=r.refund_id, user=r.user, amount=r.price,
                    type=L.STREAM_CHARGE, stream_id=stream.id,
                    status=CreditLedgerEntry.Status.REFUNDED,
                )
            )  # fmt: skip
        settlement = r.settlement
        if settlement is not None:  # as `replay_revenue_settle` pays it
            for entry_id, user, share in (
                (settlement.creator_entry_id, stream.creator, settlement.creator_share),
                (settlement.guest_entry_id, settlement.guest, settlement.guest_share),
            ):
                if entry_id:
                    events.append(
                        LedgerEvent(
                            at=settlement.at, id=entry_id, user=user, amount=share,
                            type=L.STREAM_REVENUE, stream_id=stream.id,
                        )
                    )  # fmt: skip
    for s in planner.payouts:  # as `funding_payout_settle` pays them
        p = s.payout
        for entry_id, user, share in (
            (p.creator_entry_id, s.creator, p.creator_share),
            (p.guest_entry_id, p.guest, p.guest_share),
        ):
            if entry_id:
                events.append(
                    LedgerEvent(
                        at=p.at, id=entry_id, user=user, amount=share,
                        type=L.STREAM_REVENUE, stream_id=s.id,
                        description=payout_description(title=s.title, stream_id=s.id),
                    )
                )  # fmt: skip
    events.sort(key=lambda e: (e.at, e.id))
    for event in events:
        planner.users[event.user].balance += event.amount
    return events
