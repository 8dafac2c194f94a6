"""Row builders: each turns the `Planner`'s records into model instances, reading the plan only
(no random draws, no state), for `crowdfunding.seeding.writer` to insert. `balance_after` is
the running balance in ledger order (`created_at`, `id`), and the stored totals
(`User.credit_balance`, `LiveStream.collected_funding`, `MiniCrowdFunding.collected`) are the
sums the ledger and the completed rows give. Users are inserted before their ledger rows, at
balance 0 where the database applies each ledger row to its user's balance (PostgreSQL, users
migration 0009, which refuses a user born with credits); elsewhere (SQLite, the
application-level path) with the balance their rows add up to."""

from __future__ import annotations

from collections.abc import Iterator
from operator import attrgetter
from typing import TYPE_CHECKING

from crowdfunding.models import (
    Contribution,
    FundingPayout,
    MiniCrowdFunding,
    MiniCrowdFundingSupport,
)
from crowdfunding.records import contribution_row, support_row
from crowdfunding.seeding.demo import SEED_EMAIL_DOMAIN, SEED_MEDIA_PREFIX
from crowdfunding.seeding.plans import FundingPlan, LedgerEvent, S
from livestreams.models import (
    Broadcaster,
    LiveStream,
    ReplayRental,
    ReplayRentalCharge,
    StreamGuest,
)
from livestreams.rules import mini_status
from users.models import CreditLedgerEntry, Media, StoreEvent, User, ledger_applied_by_database

if TYPE_CHECKING:
    from crowdfunding.seeding.planner import Planner


def media_rows(planner: Planner) -> Iterator[Media]:
    for user in planner.users:
        if user.photo_id is None:
            continue
        at = planner.dt(user.joined)
        base = f"{SEED_MEDIA_PREFIX}profiles/{user.id}"
        yield Media(
            id=user.photo_id,
            url=f"{base}.jpg",
            variants={"40": f"{base}/40.webp", "76": f"{base}/76.webp"},
            created_at=at,
            updated_at=at,
        )


def user_rows(planner: Planner) -> Iterator[User]:
    balance_from_rows = ledger_applied_by_database()
    for user in planner.users:
        joined = planner.dt(user.joined)
        yield User(
            id=user.id,
            username=user.username,
            email=f"{user.username}@{SEED_EMAIL_DOMAIN}",
            first_name=user.first_name,
            last_name=user.last_name,
            password=planner.password,
            date_joined=joined,
            updated_at=joined,
            profile_photo_id=user.photo_id,
            availability_status=user.availability,
            account_status=(
                User.AccountStatus.SUSPENDED if user.suspended else User.AccountStatus.ACTIVE
            ),
            credit_balance=0 if balance_from_rows else user.balance,
        )


def stream_rows(planner: Planner) -> Iterator[LiveStream]:
    ids = [user.id for user in planner.users]
    for s in planner.streams:
        paid = s.payout.at if s.payout is not None else None
        updated = max(x for x in (s.created, s.started, s.ended, s.refund_at, s.deleted, paid) if x)
        yield LiveStream(
            id=s.id,
            creator_id=ids[s.creator],
            title=s.title,
            live_stream_type=s.type,
            channel_name=s.channel_name,
            thumbnail_url=s.thumbnail_url,
            recording=s.recorded,
            recording_url=s.recording_url,
            status=s.status,
            price=s.price,
            interest=s.interest,
            duration_goal=s.duration,
            motivation=s.motivation,
            is_active_replay_on_creator_profile=s.replay_on,
            replay_credit_price=s.replay_price,
            started_at=planner.dt(s.started) if s.started is not None else None,
            planned_start_date=planner.dt(s.start),
            ended_at=planner.dt(s.ended) if s.ended is not None else None,
            planned_end_date=planner.dt(s.end),
            funding_goal=s.funding_goal,
            collected_funding=s.collected,
            deleted_at=planner.dt(s.deleted) if s.deleted is not None else None,
            # The demo's host cancellations were made by their creators.
            cancelled_by_id=ids[s.creator] if s.status == S.CANCELLED_BY_HOST else None,
            cancelled_at=planner.dt(s.refund_at) if s.status == S.CANCELLED_BY_HOST else None,
            funding_paid_out_at=planner.dt(s.payout.at) if s.payout is not None else None,
            created_at=planner.dt(s.created),
            updated_at=planner.dt(updated),
        )


def guest_rows(planner: Planner) -> Iterator[StreamGuest]:
    ids = [user.id for user in planner.users]
    for s in planner.streams:
        for k, guest in enumerate(s.guests):
            yield StreamGuest(
                stream_id=s.id, user_id=ids[guest], invited_at=planner.dt(s.created + k + 1)
            )


def broadcaster_rows(planner: Planner) -> Iterator[Broadcaster]:
    ids = [user.id for user in planner.users]
    for b in planner.broadcasters:
        yield Broadcaster(
            stream_id=b.stream.id,
            user_id=ids[b.user],
            role=b.role,
            uid=b.uid,
            has_joined=b.joined,
            created_at=planner.dt(b.at),
        )


def mini_rows(planner: Planner) -> Iterator[MiniCrowdFunding]:
    for m in planner.minis:
        closed = m.stream.funding_refunded_at
        if closed is not None:
            status = MiniCrowdFunding.Status.CANCELLED
        else:
            status = mini_status(
                status=MiniCrowdFunding.Status.ACTIVE, collected=m.collected, goal=m.goal
            )
        yield MiniCrowdFunding(
            id=m.id,
            stream_id=m.stream.id,
            title=m.title,
            goal=m.goal,
            collected=m.collected,
            status=status,
            created_at=planner.dt(m.created),
            updated_at=planner.dt(max(closed or m.created, m.created)),
        )


def ledger_rows(planner: Planner) -> Iterator[CreditLedgerEntry]:
    ids, balances = [user.id for user in planner.users], [0] * len(planner.users)
    L = CreditLedgerEntry.Type
    descriptions = {
        L.CREDIT_PURCHASE: "Demo credit purchase",
        L.STREAM_CHARGE: "Demo replay rental of live stream {stream_id}",
        L.STREAM_REVENUE: "Demo replay revenue of live stream {stream_id}",
    }
    # Inserted wallet by wallet (each wallet's rows in ledger order, which is all a running
    # balance needs): a batch then touches few wallets, and on PostgreSQL, where each INSERT
    # updates the balances of the wallets it names (users migration 0009), that keeps the
    # updates to about one per wallet instead of one per row.
    for e in sorted(planner.ledger, key=attrgetter("user")):  # stable: (at, id) within one
        balance = balances[e.user] + e.amount
        if balance < 0:  # cannot happen: purchases come first and cover every debit
            raise AssertionError(f"negative balance for user {ids[e.user]}")
        balances[e.user] = balance
        if e.description:
            description = e.description
        elif e.type == L.STREAM_CHARGE and e.status == CreditLedgerEntry.Status.REFUNDED:
            description = "Demo refund of the replay rental of live stream {stream_id}"
        else:
            description = descriptions.get(e.type, f"Demo {L(e.type).label.lower()}")
        yield CreditLedgerEntry(
            id=e.id,
            user_id=ids[e.user],
            type=e.type,
            status=e.status,
            amount=e.amount,
            balance_after=balance,
            description=description.format(stream_id=e.stream_id),
            stream_id=e.stream_id,
            created_at=planner.dt(e.at),
        )


def purchases(planner: Planner) -> Iterator[LedgerEvent]:
    return (e for e in planner.ledger if e.type == CreditLedgerEntry.Type.CREDIT_PURCHASE)


def purchase_count(planner: Planner) -> int:
    return sum(1 for _ in purchases(planner))


def store_event_rows(planner: Planner) -> Iterator[StoreEvent]:
    """Each purchase as the store event that credited it (a test-store purchase, as
    `users.purchases.credit_package_test_purchase` records one)."""
    for e in purchases(planner):
        yield StoreEvent(
            event_id=f"seed-{e.id}",
            event_type="TEST_PURCHASE",
            app_user_id=planner.users[e.user].id,
            transaction_id=f"seed-{e.id}",
            user_id=planner.users[e.user].id,
            outcome=StoreEvent.Outcome.CREDITED,
            detail=f"{e.amount} credits",
            credits=e.amount,
            ledger_entry_id=e.id,
            payload={"store": "TEST", "seeded": True},
            received_at=planner.dt(e.at),
        )


def _funding_fields(planner: Planner, f: FundingPlan) -> dict:
    """A planned contribution's or support's fields, for `crowdfunding.records`' builders
    (which say its status from its ledger links)."""
    refunded = f.refund_at is not None
    return {
        "id": f.id,
        "user_id": planner.users[f.user].id,
        "amount": f.amount,
        "ledger_entry_id": f.debit_id,
        "refund_ledger_entry_id": f.refund_id,
        "refunded_at": planner.dt(f.refund_at) if refunded else None,
        "created_at": planner.dt(f.at),
        "updated_at": planner.dt(f.refund_at if refunded else f.at),
    }


def contribution_rows(planner: Planner) -> Iterator[Contribution]:
    for f in planner.contributions:
        yield contribution_row(stream_id=f.target.id, **_funding_fields(planner, f))


def support_rows(planner: Planner) -> Iterator[MiniCrowdFundingSupport]:
    for f in planner.supports:
        yield support_row(mini_crowd_funding_id=f.target.id, **_funding_fields(planner, f))


def payout_rows(planner: Planner) -> Iterator[FundingPayout]:
    ids = [user.id for user in planner.users]
    for s in planner.payouts:
        p = s.payout
        yield FundingPayout(
            id=p.id,
            stream_id=s.id,
            total=p.total,
            creator_share=p.creator_share,
            guest_id=ids[p.guest] if p.guest is not None else None,
            guest_share=p.guest_share,
            creator_revenue_entry_id=p.creator_entry_id,
            guest_revenue_entry_id=p.guest_entry_id,
            paid_at=planner.dt(p.at),
        )


def rental_rows(planner: Planner) -> Iterator[ReplayRental]:
    for r in planner.rentals:
        yield ReplayRental(
            id=r.id,
            user_id=planner.users[r.user].id,
            stream_id=r.stream.id,
            price=r.price,
            status=(
                ReplayRental.Status.REFUNDED
                if r.refund_at is not None
                else ReplayRental.Status.ACTIVE
            ),
            rented_at=planner.dt(r.rented),
            expires_at=planner.dt(r.expires),
        )


def charge_rows(planner: Planner) -> Iterator[ReplayRentalCharge]:
    for r in planner.rentals:
        charge = ReplayRentalCharge(
            id=r.charge_id,
            rental_id=r.id,
            price=r.price,
            rented_at=planner.dt(r.rented),
            expires_at=planner.dt(r.expires),
            ledger_entry_id=r.debit_id,
            created_at=planner.dt(r.rented),
        )
        if r.refund_at is not None:
            charge.status = ReplayRentalCharge.Status.REFUNDED
            charge.refunded_at = planner.dt(r.refund_at)
            charge.refund_ledger_entry_id = r.refund_id
        elif (settlement := r.settlement) is not None:
            charge.status = ReplayRentalCharge.Status.SETTLED
            charge.settled_at = planner.dt(settlement.at)
            charge.creator_revenue_entry_id = settlement.creator_entry_id
            charge.guest_revenue_entry_id = settlement.guest_entry_id
            charge.creator_share = settlement.creator_share
            charge.guest_share = settlement.guest_share
            if settlement.guest is not None:
                charge.guest_id = planner.users[settlement.guest].id
        yield charge
