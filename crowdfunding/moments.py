"""What the crowdfunding services tell people, in their own transactions (API.md §10): the
funders' notifications (started, cancelled, expired, deleted with the refunded amounts, mini
goal reached, payout) and the stream's public `funding` live event. Published after commit."""

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from allmine.events import publish_on_commit, stream_channel
from crowdfunding.models import (
    Contribution,
    FundingStatus,
    MiniCrowdFunding,
    MiniCrowdFundingSupport,
)
from livestreams.models import LiveStream, funding_percentage
from livestreams.reminders import reminders_cancel
from livestreams.services import stream_status_publish
from notifications.services import Category, NotificationDraft, Type, notifications_create


def funding_publish(stream: LiveStream) -> None:
    """The stream's `funding` event: its collected total and each mini crowd funding's, as the
    transaction that changed them (holding the stream's lock) leaves them."""
    minis = MiniCrowdFunding.objects.filter(stream=stream).order_by("created_at", "id")
    publish_on_commit(
        stream_channel(stream.pk),
        "funding",
        {
            "streamId": stream.pk,
            "collectedFunding": stream.collected_funding,
            "fundingGoal": stream.funding_goal,
            "fundingPercentage": stream.funding_percentage,
            "miniCrowdFundings": [
                {
                    "_id": mini.pk,
                    "collected": mini.collected,
                    "goal": mini.goal,
                    "percentage": funding_percentage(mini.collected, mini.goal),
                    "status": mini.status,
                }
                for mini in minis
            ],
        },
    )


def funder_ids(stream: LiveStream) -> list[str]:
    """Users with a completed contribution to the stream or support of one of its minis."""
    contributors = Contribution.objects.filter(stream=stream, status=FundingStatus.COMPLETED)
    supporters = MiniCrowdFundingSupport.objects.filter(
        mini_crowd_funding__stream=stream, status=FundingStatus.COMPLETED
    )
    return sorted(
        set(contributors.values_list("user_id", flat=True))
        | set(supporters.values_list("user_id", flat=True))
    )


def funders_notify_started(stream: LiveStream) -> None:
    notifications_create(
        NotificationDraft(
            user_id=user_id,
            category=Category.LIVE_STREAM,
            type=Type.STREAM_STARTED,
            title=f"“{stream.title}” is live",
            body="A live stream you funded has started.",
            stream_id=stream.pk,
        )
        for user_id in funder_ids(stream)
    )


REFUND_MOMENTS = {
    Type.STREAM_CANCELLED: ("“{title}” was cancelled", "was cancelled by its host"),
    Type.STREAM_EXPIRED: ("“{title}” expired", "did not start in time"),
    Type.STREAM_DELETED: ("“{title}” was deleted", "was deleted by its host"),
}


def refunds_notify(stream: LiveStream, moment: str, refunds: Iterable[tuple[str, int]]) -> None:
    """One notification per refunded user with the credits given back: `refunds` are
    (user id, amount) pairs, one per refund ledger row written."""
    per_user: dict[str, int] = defaultdict(int)
    for user_id, amount in refunds:
        per_user[user_id] += amount
    title, what = REFUND_MOMENTS[moment]
    notifications_create(
        NotificationDraft(
            user_id=user_id,
            category=Category.LIVE_STREAM,
            type=moment,
            title=title.format(title=stream.title),
            body=(
                f"A live stream you paid for {what}: {amount} credits were refunded to your wallet."
            ),
            stream_id=stream.pk,
        )
        for user_id, amount in sorted(per_user.items())
    )


def mini_goal_notify(mini: MiniCrowdFunding, stream: LiveStream) -> None:
    """The mini crowd funding reached its goal: every supporter hears of it."""
    supporters = MiniCrowdFundingSupport.objects.filter(
        mini_crowd_funding=mini, status=FundingStatus.COMPLETED
    ).values_list("user_id", flat=True)
    notifications_create(
        NotificationDraft(
            user_id=user_id,
            category=Category.LIVE_STREAM,
            type=Type.MINI_GOAL_REACHED,
            title=f"“{mini.title}” reached its goal",
            body=f"The goal of {mini.goal} credits you supported on “{stream.title}” is reached.",
            stream_id=stream.pk,
        )
        for user_id in sorted(set(supporters))
    )


def refunds_tell(stream: LiveStream, moment: str, locked, *, now: datetime) -> None:
    """After a stream's funders (and, on deletion, renters) were refunded (cancel, expiry,
    deletion; `locked` the `crowdfunding.locks.StreamRefunds` refunded): its reminders are
    cancelled, each refunded user is told their amount, and its live events say so."""
    reminders_cancel(stream=stream, now=now)
    refunds = [(record.user_id, record.amount) for record in locked.funding.records]
    refunds += [(charge.rental.user_id, charge.price) for charge in locked.rentals.charges]
    refunds_notify(stream, moment, refunds)
    funding_publish(stream)
    stream_status_publish(stream)


def payout_notify(stream: LiveStream, shares: dict[str, int]) -> None:
    """The stream's funding was paid out: each payee is told their share."""
    notifications_create(
        NotificationDraft(
            user_id=user_id,
            category=Category.PAYMENTS,
            type=Type.FUNDING_PAYOUT,
            title=f"{share} credits of funding paid out",
            body=f"Your share of the crowd funding of “{stream.title}”: {share} credits.",
            stream_id=stream.pk,
        )
        for user_id, share in shares.items()
        if share
    )
