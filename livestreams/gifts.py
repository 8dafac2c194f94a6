"""Gifts on a live stream (API.md §12): reads and the one write.

A gift is sent while the stream is `active`; its price leaves the sender (`gift_spend`) and
§7's split reaches the creator and the guest (`stream_revenue`) in the same transaction.
Locks, in the project's lock order (`crowdfunding/locks.py`): the stream first (so a gift and
the stream's end are serialized: a gift never lands on an ended stream), then every wallet
involved, once, in id order.
Each gift is a public `gift` live event on the stream's channel (API.md §10), published after
commit.
"""

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count

from allmine.api.errors import Conflict, Forbidden, NotFound
from allmine.api.formats import format_datetime
from allmine.events import publish_on_commit, stream_channel
from allmine.ids import check_object_id
from livestreams.locks import stream_lock
from livestreams.models import Gift, GiftType, LiveStream
from livestreams.rules import revenue_split
from livestreams.services import revenue_guest_id, revenue_shares_post
from users.locks import wallets_lock
from users.models import CreditLedgerEntry, User
from users.rules import ensure_not_suspended
from users.services import ledger_post


def gift_types_active():
    """The gift types on offer, cheapest first."""
    return GiftType.objects.filter(is_active=True).order_by("credit_amount", "id")


@dataclass(frozen=True)
class GiftReceipt:
    gift: Gift
    credit_balance: int


@transaction.atomic
def gift_create(*, user: User, gift_type_id: str, stream_id: str) -> GiftReceipt:
    """`user` sends a gift of an active type on an `active` stream that is not theirs."""
    check_object_id(gift_type_id, "giftTypeId")
    check_object_id(stream_id, "liveStreamId")
    stream = stream_lock(stream_id, field="liveStreamId")
    gift_type = GiftType.objects.filter(pk=gift_type_id, is_active=True).first()
    if gift_type is None:
        raise NotFound("Gift type not found")
    ensure_not_suspended(user)
    guest_id = revenue_guest_id(stream)
    if user.pk in (stream.creator_id, guest_id):
        raise Forbidden("You cannot send gifts on a stream you are paid for")
    if stream.status != LiveStream.Status.ACTIVE:
        raise Conflict(f"Live stream is {stream.status}, gifts are sent while it is active")

    amount = gift_type.credit_amount
    creator_share, guest_share = revenue_split(
        price=amount, live_stream_type=stream.live_stream_type, has_guest=guest_id is not None
    )
    wallets_lock([user.pk, stream.creator_id, guest_id])
    spend = ledger_post(
        user_id=user.pk,
        amount=-amount,
        entry_type=CreditLedgerEntry.Type.GIFT_SPEND,
        description=f"Gift “{gift_type.name}” on live stream “{stream.title}” ({stream.pk})",
        stream_id=stream.pk,
    )
    gift = Gift(
        gift_type=gift_type,
        stream=stream,
        sender_id=user.pk,
        amount=amount,
        spend_entry=spend,
        creator_share=creator_share,
        guest_id=guest_id if guest_share else None,
        guest_share=guest_share,
    )
    revenue = f"Gift “{gift_type.name}” from {user.username} on “{stream.title}” ({stream.pk})"
    gift.creator_revenue_entry, gift.guest_revenue_entry = revenue_shares_post(
        stream=stream,
        creator_share=creator_share,
        guest_id=guest_id,
        guest_share=guest_share,
        description=revenue,
    )
    gift.save(force_insert=True)
    publish_on_commit(
        stream_channel(stream.pk),
        "gift",
        {
            "streamId": stream.pk,
            "giftId": gift.pk,
            "giftTypeId": gift_type.pk,
            "name": gift_type.name,
            "creditAmount": amount,
            "senderId": user.pk,
            "senderUsername": user.username,
            "createdAt": format_datetime(gift.created_at),
        },
    )
    return GiftReceipt(gift=gift, credit_balance=spend.balance_after)


@dataclass(frozen=True)
class GiftStatistics:
    stream_id: str
    total_count: int
    type_counts: list[dict]


def gift_statistics_for_stream(*, stream_id: str) -> GiftStatistics:
    """How many gifts a (not deleted) stream received, in total and per gift type (every type
    that was sent, cheapest first)."""
    check_object_id(stream_id, "id")
    if not LiveStream.objects.alive().filter(pk=stream_id).exists():
        raise NotFound("Live stream not found")
    rows = (
        Gift.objects.filter(stream_id=stream_id)
        .values("gift_type_id", "gift_type__name", "gift_type__credit_amount")
        .annotate(count=Count("id"))
        .order_by("gift_type__credit_amount", "gift_type_id")
    )
    type_counts = [
        {
            "giftTypeId": row["gift_type_id"],
            "name": row["gift_type__name"],
            "creditAmount": row["gift_type__credit_amount"],
            "count": row["count"],
        }
        for row in rows
    ]
    return GiftStatistics(
        stream_id=stream_id,
        total_count=sum(row["count"] for row in type_counts),
        type_counts=type_counts,
    )
