"""Writes of the crowdfunding app: money moves here and nowhere else.

Every function runs in one transaction and takes its row locks through `crowdfunding/locks.py`,
in the project's one lock order written there (stream, its minis, contributions and supports,
rentals and charges, wallets last), so parallel requests can neither overdraw a balance nor
lose an increment, and never deadlock.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from allmine.api.errors import Conflict, Forbidden
from allmine.ids import check_object_id
from crowdfunding.locks import (
    LockedFunding,
    StreamRefunds,
    contribution_lock,
    mini_lock,
    stream_refunds_lock,
)
from crowdfunding.models import (
    Contribution,
    FundingPayout,
    FundingStatus,
    MiniCrowdFunding,
    MiniCrowdFundingSupport,
    PaidRecord,
)
from crowdfunding.moments import funding_publish, mini_goal_notify, refunds_tell
from crowdfunding.records import (
    contribution_debit_post,
    contribution_row,
    refund_post,
    support_debit_post,
    support_row,
)
from livestreams.clock import FUNDING_CLOSED, funding_is_open
from livestreams.locks import stream_lock, stream_of_creator_lock
from livestreams.models import LiveStream
from livestreams.rules import Action, mini_status, require
from livestreams.services import replay_rental_refunds_post
from notifications.services import Type as NotificationType
from users.models import User
from users.rules import check_amount, ensure_not_suspended


@dataclass(frozen=True)
class FundingReceipt:
    contribution: Contribution
    stream: LiveStream
    my_total_contribution: int
    credit_balance: int


@dataclass(frozen=True)
class SupportReceipt:
    support: MiniCrowdFundingSupport
    mini_crowd_funding: MiniCrowdFunding
    my_total_support: int
    credit_balance: int


_check_id = check_object_id


def _completed_total(model: type[PaidRecord], **filters) -> int:
    completed = model.objects.filter(status=FundingStatus.COMPLETED, **filters)
    return completed.aggregate(total=Sum("amount"))["total"] or 0


def _check_can_fund(stream: LiveStream, user: User, action: Action) -> None:
    ensure_not_suspended(user)
    if stream.creator_id == user.pk:
        raise Forbidden("You cannot fund your own stream")
    require(action, stream.status)
    if not funding_is_open(stream, now=timezone.now()):
        raise Conflict(FUNDING_CLOSED)


@transaction.atomic
def contribution_create(*, user: User, stream_id: str, amount: int) -> FundingReceipt:
    """`user` gives `amount` credits to a scheduled stream: one debit in the ledger, one
    completed contribution, the stream's collected total raised. All or nothing."""
    _check_id(stream_id, "id")
    amount = check_amount(amount)
    stream = stream_lock(stream_id)
    _check_can_fund(stream, user, Action.FUND)

    debit = contribution_debit_post(user_id=user.pk, stream=stream, amount=amount)
    contribution = contribution_row(
        user_id=user.pk, stream_id=stream.pk, amount=amount, ledger_entry_id=debit.pk
    )
    contribution.save(force_insert=True)
    stream.collected_funding += amount  # the row is locked: no increment can be lost
    stream.save(update_fields=["collected_funding", "updated_at"])
    funding_publish(stream)
    return FundingReceipt(
        contribution=contribution,
        stream=stream,
        my_total_contribution=_completed_total(Contribution, user_id=user.pk, stream=stream),
        credit_balance=debit.balance_after,
    )


@transaction.atomic
def mini_crowd_funding_support_create(
    *, user: User, stream_id: str, mini_crowd_funding_id: str, amount: int
) -> SupportReceipt:
    """`user` gives `amount` credits to an active mini crowd funding of a scheduled stream.
    The mini crowd funding becomes `completed` when its goal is reached."""
    _check_id(stream_id, "id")
    _check_id(mini_crowd_funding_id, "miniId")
    amount = check_amount(amount)
    stream = stream_lock(stream_id)
    mini = mini_lock(stream=stream, mini_id=mini_crowd_funding_id)
    _check_can_fund(stream, user, Action.SUPPORT)
    if mini.status != MiniCrowdFunding.Status.ACTIVE:
        raise Conflict(f"Mini crowd funding is {mini.status}")

    debit = support_debit_post(user_id=user.pk, mini=mini, stream=stream, amount=amount)
    support = support_row(
        user_id=user.pk, mini_crowd_funding_id=mini.pk, amount=amount, ledger_entry_id=debit.pk
    )
    support.save(force_insert=True)
    mini.collected += amount
    mini.status = mini_status(status=mini.status, collected=mini.collected, goal=mini.goal)
    mini.save(update_fields=["collected", "status", "updated_at"])
    if mini.status == MiniCrowdFunding.Status.COMPLETED:
        mini_goal_notify(mini, stream)
    funding_publish(stream)
    return SupportReceipt(
        support=support,
        mini_crowd_funding=mini,
        my_total_support=_completed_total(
            MiniCrowdFundingSupport, user_id=user.pk, mini_crowd_funding=mini
        ),
        credit_balance=debit.balance_after,
    )


def _refund(record: PaidRecord, *, stream_id: str, now: datetime, reason: str) -> None:
    """Give a completed contribution's or support's credits back (caller holds the locks)."""
    record.refund_ledger_entry = refund_post(
        user_id=record.user_id, amount=record.amount, stream_id=stream_id, reason=reason
    )
    record.status = FundingStatus.REFUNDED
    record.refunded_at = now
    record.save(update_fields=["status", "refund_ledger_entry", "refunded_at", "updated_at"])


@transaction.atomic
def contribution_refund(*, contribution_id: str) -> Contribution:
    """Refund one completed contribution (an operator's decision, from the admin)."""
    _check_id(contribution_id, "contributionId")
    stream, contribution = contribution_lock(contribution_id)
    if contribution.status != Contribution.Status.COMPLETED:
        raise Conflict(f"Contribution is {contribution.status}, only completed ones are refunded")
    if is_paid_out(stream):
        raise Conflict(PAID_OUT)
    _refund(
        contribution,
        stream_id=stream.pk,
        now=timezone.now(),
        reason=f"Operator refund of a contribution to “{stream.title}” ({stream.pk})",
    )
    stream.collected_funding -= contribution.amount
    stream.save(update_fields=["collected_funding", "updated_at"])
    funding_publish(stream)
    return contribution


@dataclass(frozen=True)
class RefundReceipt:
    """What a cancellation or a deletion gave back, counted from the rows it refunded."""

    stream: LiveStream
    refunded_contributions: int
    refunded_supports: int
    refunded_rentals: int
    refunded_credits: int
    refunded_user_ids: frozenset[str]  # the funders and renters credited


def _refund_receipt(stream: LiveStream, refunds: StreamRefunds) -> RefundReceipt:
    funding, charges = refunds.funding, refunds.rentals.charges
    return RefundReceipt(
        stream=stream,
        refunded_contributions=sum(isinstance(r, Contribution) for r in funding.records),
        refunded_supports=sum(isinstance(r, MiniCrowdFundingSupport) for r in funding.records),
        refunded_rentals=len(charges),
        refunded_credits=sum(record.amount for record in funding.records)
        + sum(charge.price for charge in charges),
        refunded_user_ids=frozenset(funding.user_ids | {c.rental.user_id for c in charges}),
    )


@transaction.atomic
def live_stream_cancel(*, user: User, stream_id: str) -> RefundReceipt:
    """The creator cancels a scheduled or preparing stream; every funder is refunded."""
    _check_id(stream_id, "id")
    stream = stream_lock(stream_id)
    if stream.creator_id != user.pk:
        raise Forbidden("Only the stream's creator can cancel it")
    return _cancel_with_refunds(stream, cancelled_by=user)


@transaction.atomic
def live_stream_cancel_by_operator(*, stream_id: str, operator: User) -> RefundReceipt:
    """An operator cancels a stream on its creator's behalf (from the admin), same refunds;
    the stream records the operator as who cancelled it."""
    _check_id(stream_id, "id")
    return _cancel_with_refunds(stream_lock(stream_id), cancelled_by=operator)


def _cancel_with_refunds(stream: LiveStream, *, cancelled_by: User) -> RefundReceipt:
    """Cancel a locked stream. In the same transaction every completed contribution and mini
    crowd funding support is refunded through the ledger and its mini crowd fundings close.
    `cancelled_by` (the creator or an operator) and the time are recorded on the stream."""
    status = require(Action.CANCEL, stream.status)

    now = timezone.now()
    refunds = stream_refunds_lock(stream, now=now)
    refund_funding(
        refunds.funding,
        stream=stream,
        now=now,
        reason=f"Refund: live stream “{stream.title}” ({stream.pk}) cancelled",
    )
    stream.status = status
    stream.cancelled_by = cancelled_by
    stream.cancelled_at = now
    stream.save(
        update_fields=["status", "cancelled_by", "cancelled_at", "collected_funding", "updated_at"]
    )
    refunds_tell(stream, NotificationType.STREAM_CANCELLED, refunds, now=now)
    return _refund_receipt(stream, refunds)


PAID_OUT = "The funding of this live stream has been paid out"


def is_paid_out(stream: LiveStream) -> bool:
    """Whether the stream's funding went to its creator and guest (`crowdfunding.clock`): its
    contributions and supports stay `completed` and are never refunded again. Read under the
    stream's row lock, which the payout holds too."""
    return FundingPayout.objects.filter(stream=stream).exists()


def refund_funding(funding: LockedFunding, *, stream: LiveStream, now: datetime, reason: str):
    """Refund every locked record (wallets locked already), close the mini crowd fundings and
    zero the stream's collected total; the caller saves the stream."""
    for record in sorted(funding.records, key=lambda record: (record.user_id, record.pk)):
        _refund(record, stream_id=stream.pk, now=now, reason=reason)
    for mini in funding.minis:
        if mini.status != MiniCrowdFunding.Status.CANCELLED or mini.collected:
            mini.status = MiniCrowdFunding.Status.CANCELLED
            mini.collected = 0
            mini.save(update_fields=["status", "collected", "updated_at"])
    stream.collected_funding = 0


@transaction.atomic
def live_stream_delete(*, user: User, stream_id: str) -> RefundReceipt:
    """The creator deletes a stream that is not live (soft delete). In the same transaction
    every completed contribution and support is refunded as on cancel, and its mini crowd
    fundings close. The stream then leaves every list and endpoint (404).

    Every replay rental whose window is still open is refunded in full too. Funding already
    paid out (`is_paid_out`) belongs to the creator and guest: it is not refunded.

    Locks: the stream, then `stream_refunds_lock` (the whole lock order).
    """
    stream = stream_of_creator_lock(user=user, stream_id=stream_id, action="delete")
    require(Action.DELETE, stream.status)

    now = timezone.now()
    paid_out = is_paid_out(stream)
    refunds = stream_refunds_lock(stream, now=now, funding=not paid_out, rentals=True)
    if not paid_out:
        refund_funding(
            refunds.funding,
            stream=stream,
            now=now,
            reason=f"Refund: live stream “{stream.title}” ({stream.pk}) deleted",
        )
    replay_rental_refunds_post(refunds.rentals, stream=stream, now=now)
    stream.deleted_at = now
    stream.save(update_fields=["deleted_at", "collected_funding", "updated_at"])
    refunds_tell(stream, NotificationType.STREAM_DELETED, refunds, now=now)
    return _refund_receipt(stream, refunds)


@transaction.atomic
def mini_crowd_funding_create(
    *, user: User, stream_id: str, title: str, goal: int
) -> MiniCrowdFunding:
    """The creator adds a mini crowd funding (a side goal) to their scheduled stream.
    `title` (1–120 characters) and `goal` (1–MAX_MINI_GOAL) are checked by the input serializer."""
    stream = stream_of_creator_lock(
        user=user, stream_id=stream_id, action="add mini crowd fundings to"
    )
    require(Action.ADD_MINI, stream.status)
    if not funding_is_open(stream, now=timezone.now()):
        raise Conflict(FUNDING_CLOSED)
    return MiniCrowdFunding.objects.create(stream=stream, title=title, goal=goal)
