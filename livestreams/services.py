"""Writes of the livestreams app."""

import re
import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from allmine.api.errors import Conflict, Forbidden, InvalidInput, NotFound
from allmine.ids import is_object_id
from livestreams.models import (
    Broadcaster,
    LiveStream,
    ReplayRental,
    ReplayRentalCharge,
    StreamGuest,
)
from livestreams.selectors import RENTAL_DURATION, Role, stream_is_rentable, stream_role_for
from users.models import CreditLedgerEntry, User
from users.services import ledger_post

_TURKISH_FOLD = str.maketrans(
    {"ç": "c", "ğ": "g", "ı": "i", "ö": "o", "ş": "s", "ü": "u",
     "Ç": "c", "Ğ": "g", "İ": "i", "I": "i", "Ö": "o", "Ş": "s", "Ü": "u"}
)  # fmt: skip
_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def channel_slug(title: str) -> str:
    """`Yeni Ürün Tanıtımı` → `yeni-urun-tanitimi`: Turkish letters folded, the rest ASCII."""
    folded = title.translate(_TURKISH_FOLD)
    ascii_text = unicodedata.normalize("NFKD", folded).encode("ascii", "ignore").decode()
    return _NON_ALNUM.sub("-", ascii_text.lower()).strip("-") or "stream"


def channel_name_for(title: str, *, token_hex: Callable[[], str] | None = None) -> str:
    """The slug plus `-` and 4 random hex characters: `yeni-urun-tanitimi-1a2b`."""
    suffix = token_hex() if token_hex else secrets.token_hex(2)
    return f"{channel_slug(title)[:120].rstrip('-')}-{suffix}"


def unique_channel_name(title: str) -> str:
    for _ in range(20):
        name = channel_name_for(title)
        if not LiveStream.objects.filter(channel_name=name).exists():
            return name
    raise RuntimeError("Could not find a free channel name")


@transaction.atomic
def live_stream_create(
    *,
    creator: User,
    title: str,
    interest: str,
    planned_start_date: datetime,
    duration_goal: int,
    live_stream_type: str = LiveStream.Type.SOLO,
    funding_goal: int = 0,
    price: Decimal | None = None,
    motivation: str = "",
    planned_end_date: datetime | None = None,
    **extra,
) -> LiveStream:
    """A new scheduled stream with its channel name; the end defaults to start + duration."""
    if not title or len(title) > 120:
        raise InvalidInput("title: must be 1 to 120 characters")
    stream = LiveStream(
        creator=creator,
        title=title,
        interest=interest,
        planned_start_date=planned_start_date,
        duration_goal=duration_goal,
        planned_end_date=planned_end_date or planned_start_date + timedelta(minutes=duration_goal),
        live_stream_type=live_stream_type,
        funding_goal=funding_goal,
        price=price,
        motivation=motivation,
        channel_name=unique_channel_name(title),
        **extra,
    )
    stream.full_clean(exclude=["channel_name"])
    stream.save()
    return stream


# --- Replay rentals and their revenue (API.md §7) -----------------------------------------
#
# Lock order, as in crowdfunding/services.py: stream, then rental, then charge, then wallets
# (by id). The revenue job never waits for a charge (SKIP LOCKED) and locks wallets by id too.

RENTAL_DESCRIPTION = "Replay rental of live stream {stream_id}"
REVENUE_BATCH = 100
# Shares of a rental's price, in percent, floored to whole credits; the platform keeps the rest.
SOLO_CREATOR_SHARE = 80
DUO_CREATOR_SHARE = 40
DUO_GUEST_SHARE = 40


@dataclass(frozen=True)
class RentalReceipt:
    rental: ReplayRental
    created: bool  # False: an active rental was returned and nothing was charged
    credit_balance: int
    now: datetime


def check_stream_id(stream_id: object) -> str:
    """A stream id from a URL: 400 unless shaped like an ObjectId."""
    if not is_object_id(stream_id):
        raise InvalidInput("id: must be a 24-character lowercase hex id")
    return stream_id


def _locked_alive_stream(stream_id: str) -> LiveStream:
    check_stream_id(stream_id)
    stream = LiveStream.objects.alive().select_for_update().filter(pk=stream_id).first()
    if stream is None:
        raise NotFound("Live stream not found")
    return stream


def _watches_free(stream: LiveStream, user: User) -> bool:
    """The creator, invited guests and broadcasters (API.md §3: owner and participants)."""
    return (
        stream_role_for(stream=stream, user=user) in (Role.HOST, Role.GUEST)
        or stream.broadcasters.filter(user=user).exists()
    )


@transaction.atomic
def replay_rental_create(
    *, user: User, stream_id: str, now: datetime | None = None
) -> RentalReceipt:
    """Rent a stream's replay for `RENTAL_DURATION` at its `replayCreditPrice`.

    One row per (user, stream): while it is active a repeat charges nothing and returns it
    (`created` False); an expired or refunded row is reactivated in place with a new charge.
    """
    now = now or timezone.now()
    stream = _locked_alive_stream(stream_id)
    if user.is_suspended:
        raise Forbidden("Account suspended")
    if _watches_free(stream, user):
        raise Conflict("The creator and participants watch the replay free")
    if not stream_is_rentable(stream):
        raise Conflict("The replay of this live stream is not available for rent")

    rental = ReplayRental.objects.select_for_update().filter(user=user, stream=stream).first()
    active = rental is not None and rental.status == ReplayRental.Status.ACTIVE
    if active and rental.expires_at > now:
        balance = User.objects.values_list("credit_balance", flat=True).get(pk=user.pk)
        return RentalReceipt(rental=rental, created=False, credit_balance=balance, now=now)

    price = stream.replay_credit_price
    debit = ledger_post(
        user_id=user.pk,
        amount=-price,
        entry_type=CreditLedgerEntry.Type.STREAM_CHARGE,
        description=RENTAL_DESCRIPTION.format(stream_id=stream.pk),
        stream_id=stream.pk,
    )
    window = {"price": price, "rented_at": now, "expires_at": now + RENTAL_DURATION}
    if rental is None:
        rental = ReplayRental.objects.create(user=user, stream=stream, **window)
    else:
        for name, value in window.items():
            setattr(rental, name, value)
        rental.status = ReplayRental.Status.ACTIVE
        rental.save(update_fields=[*window, "status"])
    ReplayRentalCharge.objects.create(rental=rental, ledger_entry=debit, **window)
    return RentalReceipt(rental=rental, created=True, credit_balance=debit.balance_after, now=now)


def replay_rental_refund_user_ids(*, stream: LiveStream, now: datetime) -> list[str]:
    """The renters `replay_rentals_refund_for_stream` would pay back, so a caller that also
    refunds other records can lock all wallets at once, in id order."""
    rentals = ReplayRental.objects.filter(
        stream=stream, status=ReplayRental.Status.ACTIVE, expires_at__gt=now
    )
    return sorted(set(rentals.values_list("user_id", flat=True)))


def replay_rentals_refund_for_stream(*, stream: LiveStream, now: datetime) -> int:
    """Refund in full every rental of `stream` whose window is still open (the stream is being
    deleted; API.md §6). The caller holds the stream's row lock inside its transaction.

    A window that has already closed was watched: it is not refunded and is settled as usual.
    Each refund is a `stream_charge` credit row with status `refunded`. Returns the count.
    """
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
    # Wallets in id order, as every other transaction locks them, so none deadlocks.
    payees = sorted({charge.rental.user_id for charge in charges})
    list(User.objects.select_for_update().filter(pk__in=payees).order_by("pk").values("pk"))
    for charge in sorted(charges, key=lambda charge: (charge.rental.user_id, charge.pk)):
        charge.refund_ledger_entry = ledger_post(
            user_id=charge.rental.user_id,
            amount=charge.price,
            entry_type=CreditLedgerEntry.Type.STREAM_CHARGE,
            description=f"Refund: replay rental of live stream {stream.pk}",
            stream_id=stream.pk,
            status=CreditLedgerEntry.Status.REFUNDED,
        )
        charge.status = ReplayRentalCharge.Status.REFUNDED
        charge.refunded_at = now
        charge.save(update_fields=["refund_ledger_entry", "status", "refunded_at"])
        charge.rental.status = ReplayRental.Status.REFUNDED
        charge.rental.save(update_fields=["status"])
    return len(charges)


_UNSET = object()


@transaction.atomic
def replay_settings_update(
    *,
    user: User,
    stream_id: str,
    is_active_replay_on_creator_profile: bool | None | object = _UNSET,
    replay_credit_price: int | None | object = _UNSET,
) -> LiveStream:
    """The creator switches the replay on or off and sets its price (API.md §7). Rentals
    already paid keep their price and window."""
    stream = _locked_alive_stream(stream_id)
    if stream.creator_id != user.pk:
        raise Forbidden("Only the stream's creator can change its replay settings")
    changed = []
    if is_active_replay_on_creator_profile is not _UNSET:
        stream.is_active_replay_on_creator_profile = is_active_replay_on_creator_profile
        changed.append("is_active_replay_on_creator_profile")
    if replay_credit_price is not _UNSET:
        stream.replay_credit_price = replay_credit_price
        changed.append("replay_credit_price")
    if changed:
        stream.save(update_fields=[*changed, "updated_at"])
    return stream


def revenue_split(*, price: int, live_stream_type: str, has_guest: bool) -> tuple[int, int]:
    """(creator's share, guest's share) of a rental's price, floored; the platform keeps the
    rest. Solo: 80 % creator. Duo: 40 % creator, 40 % guest (kept by the platform when the
    stream has no guest to pay)."""
    if live_stream_type == LiveStream.Type.SOLO:
        return price * SOLO_CREATOR_SHARE // 100, 0
    guest_share = price * DUO_GUEST_SHARE // 100 if has_guest else 0
    return price * DUO_CREATOR_SHARE // 100, guest_share


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


def _settle(charge: ReplayRentalCharge, *, now: datetime) -> None:
    """Pay out one locked, active charge whose window has closed (wallets already locked)."""
    stream = charge.rental.stream
    guest_id = revenue_guest_id(stream)
    creator_share, guest_share = revenue_split(
        price=charge.price, live_stream_type=stream.live_stream_type, has_guest=guest_id is not None
    )
    description = f"Replay revenue: rental {charge.rental_id} of live stream {stream.pk}"
    if creator_share:
        charge.creator_revenue_entry = ledger_post(
            user_id=stream.creator_id,
            amount=creator_share,
            entry_type=CreditLedgerEntry.Type.STREAM_REVENUE,
            description=description,
            stream_id=stream.pk,
        )
    if guest_share:
        charge.guest_revenue_entry = ledger_post(
            user_id=guest_id,
            amount=guest_share,
            entry_type=CreditLedgerEntry.Type.STREAM_REVENUE,
            description=description,
            stream_id=stream.pk,
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
    refund gave back is never paid again. Returns how many charges were settled."""
    now = now or timezone.now()
    settled = 0
    while True:
        with transaction.atomic():
            charges = list(
                ReplayRentalCharge.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(status=ReplayRentalCharge.Status.ACTIVE, expires_at__lte=now)
                .select_related("rental__stream")
                .order_by("expires_at", "id")[:batch]
            )
            if not charges:
                return settled
            payees = set()
            for charge in charges:
                payees.add(charge.rental.stream.creator_id)
                payees.add(revenue_guest_id(charge.rental.stream))
            payees.discard(None)
            list(User.objects.select_for_update().filter(pk__in=payees).order_by("pk").values("pk"))
            for charge in charges:
                _settle(charge, now=now)
            settled += len(charges)
