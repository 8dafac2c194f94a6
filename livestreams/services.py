"""Writes of the livestreams app."""

import re
import secrets
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from allmine.api.errors import Conflict, Forbidden, InvalidInput, NotFound
from allmine.events import publish_on_commit, stream_channel
from allmine.ids import check_object_id
from livestreams.clock import expiry_is_due
from livestreams.models import (
    Broadcaster,
    LiveStream,
    ReplayRental,
    ReplayRentalCharge,
    StreamGuest,
)
from livestreams.reminders import reminders_fire_on_start, reminders_rearm
from livestreams.rules import DUO_TYPES, MAX_TITLE, Action, Role, require, revenue_split
from livestreams.selectors import rental_duration, stream_is_rentable, stream_role_for
from livestreams.signals import stream_started
from notifications.services import Category, NotificationDraft, Type, notifications_create
from users.locks import wallets_lock
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


def _check_schedule(
    *, start: datetime, end: datetime | None, duration_goal: int, start_changed: bool
) -> datetime:
    """The planned end (default start + duration); a new start must lie in the future."""
    if start_changed and start <= timezone.now():
        raise InvalidInput("plannedStartDate: must be in the future")
    try:
        end = end or start + timedelta(minutes=duration_goal)
    except OverflowError:
        raise InvalidInput("plannedStartDate: too far in the future") from None
    if end < start:
        raise InvalidInput("plannedEndDate: must not be before plannedStartDate")
    return end


def _check_guests(*, creator: User, live_stream_type: str, guest_ids: Sequence[str]) -> list[User]:
    """A duo stream invites at least one existing, active user other than its creator; a solo
    stream invites none. Returned in the order given."""
    if live_stream_type not in DUO_TYPES:
        if guest_ids:
            raise InvalidInput("guests: a solo stream takes no guests")
        return []
    if not guest_ids:
        raise InvalidInput(f"guests: a {live_stream_type} stream needs at least one guest")
    if len(set(guest_ids)) != len(guest_ids):
        raise InvalidInput("guests: the same user is listed twice")
    if creator.pk in guest_ids:
        raise InvalidInput("guests: the creator cannot be their own guest")
    found = User.objects.filter(
        pk__in=guest_ids, is_active=True, account_status=User.AccountStatus.ACTIVE
    ).in_bulk()
    missing = [pk for pk in guest_ids if pk not in found]
    if missing:
        raise InvalidInput(f"guests: no active user {missing[0]}")
    return [found[pk] for pk in guest_ids]


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
    guest_ids: Sequence[str] = (),
    thumbnail_url: str = "",
    recording: bool = False,
    is_active_replay_on_creator_profile: bool | None = None,
    replay_credit_price: int | None = None,
) -> LiveStream:
    """A new scheduled stream with its channel name and invited guests; the caller is its
    creator. The end defaults to start + duration; the start must lie in the future."""
    if creator.is_suspended:
        raise Forbidden("Account suspended")
    if not title or len(title) > MAX_TITLE:
        raise InvalidInput(f"title: must be 1 to {MAX_TITLE} characters")
    planned_end_date = _check_schedule(
        start=planned_start_date,
        end=planned_end_date,
        duration_goal=duration_goal,
        start_changed=True,
    )
    guests = _check_guests(
        creator=creator, live_stream_type=live_stream_type, guest_ids=list(guest_ids)
    )
    stream = LiveStream(
        creator=creator,
        title=title,
        interest=interest,
        planned_start_date=planned_start_date,
        duration_goal=duration_goal,
        planned_end_date=planned_end_date,
        live_stream_type=live_stream_type,
        funding_goal=funding_goal,
        price=price,
        motivation=motivation,
        channel_name=unique_channel_name(title),
        thumbnail_url=thumbnail_url,
        recording=recording,
        is_active_replay_on_creator_profile=is_active_replay_on_creator_profile,
        replay_credit_price=replay_credit_price,
    )
    stream.full_clean(exclude=["channel_name"])
    stream.save()
    # One row at a time: invitation order is `invited_at`, then id.
    for guest in guests:
        StreamGuest.objects.create(stream=stream, user=guest)
    return stream


def _locked_stream(stream_id: str) -> LiveStream:
    """The stream, locked (the first lock of every write); 404 when unknown or deleted."""
    check_object_id(stream_id, "id")
    stream = LiveStream.objects.alive().select_for_update().filter(pk=stream_id).first()
    if stream is None:
        raise NotFound("Live stream not found")
    return stream


def locked_stream_of_creator(*, user: User, stream_id: str, action: str) -> LiveStream:
    """The caller's own stream, locked (the first lock of every write): 400 for a malformed id,
    404 for an unknown or deleted one, 403 when the caller is not its creator."""
    stream = _locked_stream(stream_id)
    if stream.creator_id != user.pk:
        raise Forbidden(f"Only the stream's creator can {action} it")
    return stream


def _require(action: Action, stream: LiveStream) -> str | None:
    """`rules.require` on the stream's status as the clock sees it: a stream past its start
    deadline (`livestreams.clock`) counts as expired even before the sweep has marked it."""
    status = stream.status
    if expiry_is_due(stream, now=timezone.now()):
        status = LiveStream.Status.EXPIRED
    return require(action, status)


# What the creator may change (API.md §6); status, money and ownership move only through their
# own services.
EDITABLE_FIELDS = frozenset({
    "title", "motivation", "interest", "thumbnail_url", "planned_start_date",
    "planned_end_date", "duration_goal", "funding_goal",
})  # fmt: skip


@transaction.atomic
def live_stream_update(*, user: User, stream_id: str, **changes) -> LiveStream:
    """The creator changes a scheduled or preparing stream: `title`, `motivation`, `interest`,
    `thumbnail_url`, `planned_start_date`, `planned_end_date`, `duration_goal`, `funding_goal`.

    A schedule change keeps the rules of creation; without a new `planned_end_date` the end
    moves to start + duration. `funding_goal` never drops below what is already collected
    (409): the stream row is locked, so no contribution lands in between.
    """
    unknown = changes.keys() - EDITABLE_FIELDS
    if unknown:  # a programming error, not a client's: the view passes only these
        raise TypeError(f"live_stream_update cannot change {', '.join(sorted(unknown))}")
    stream = locked_stream_of_creator(user=user, stream_id=stream_id, action="change")
    _require(Action.EDIT, stream)
    if "funding_goal" in changes and changes["funding_goal"] < stream.collected_funding:
        raise Conflict(
            f"fundingGoal: {stream.collected_funding} credits are already collected, "
            "the goal cannot be lower"
        )
    schedule = {"planned_start_date", "planned_end_date", "duration_goal"}
    if schedule & changes.keys():
        start = changes.get("planned_start_date", stream.planned_start_date)
        duration_goal = changes.get("duration_goal", stream.duration_goal)
        if "planned_end_date" in changes:
            end = changes["planned_end_date"]  # null: back to start + duration
        elif "planned_start_date" in changes or "duration_goal" in changes:
            end = None
        else:
            end = stream.planned_end_date
        changes["planned_end_date"] = _check_schedule(
            start=start,
            end=end,
            duration_goal=duration_goal,
            start_changed="planned_start_date" in changes,
        )
    moved = (
        changes.get("planned_start_date", stream.planned_start_date) != stream.planned_start_date
    )
    for field, value in changes.items():
        setattr(stream, field, value)
    stream.full_clean(exclude=["channel_name"])
    stream.save(update_fields=[*changes, "updated_at"])
    if moved:
        reminders_rearm(stream=stream, now=timezone.now())
    return stream


@transaction.atomic
def live_stream_start(*, user: User, stream_id: str) -> LiveStream:
    """The creator goes live: `scheduled`/`preparing` → `active`, `startedAt`, a host row."""
    stream = locked_stream_of_creator(user=user, stream_id=stream_id, action="start")
    stream.status = _require(Action.START, stream)
    stream.started_at = timezone.now()
    stream.save(update_fields=["status", "started_at", "updated_at"])
    Broadcaster.objects.update_or_create(
        stream=stream,
        user=user,
        defaults={"role": Broadcaster.Role.HOST, "has_joined": True},
    )
    reminders_fire_on_start(stream=stream, now=stream.started_at)
    stream_started.send(sender=LiveStream, stream=stream)  # funders are told (crowdfunding)
    stream_status_publish(stream)
    return stream


def stream_status_publish(stream: LiveStream) -> None:
    """After commit: the stream's `status` live event (API.md §10)."""
    publish_on_commit(
        stream_channel(stream.pk),
        "status",
        {"streamId": stream.pk, "status": stream.status, "isDeleted": stream.is_deleted},
    )


def recording_url_for(stream: LiveStream) -> str:
    """Where a recorded stream's file is published: `RECORDING_BASE_URL/<channel>.mp4`."""
    return f"{settings.RECORDING_BASE_URL.rstrip('/')}/{stream.channel_name}.mp4"


@transaction.atomic
def live_stream_end(*, user: User, stream_id: str) -> LiveStream:
    """The creator ends a live stream: `active` → `ended`, `endedAt`, and the recording URL
    when the stream was recorded."""
    stream = locked_stream_of_creator(user=user, stream_id=stream_id, action="end")
    stream.status = _require(Action.END, stream)
    stream.ended_at = timezone.now()
    if stream.recording:
        stream.recording_url = recording_url_for(stream)
    stream.save(update_fields=["status", "ended_at", "recording_url", "updated_at"])
    stream_status_publish(stream)
    return stream


@transaction.atomic
def live_stream_join(*, user: User, stream_id: str) -> LiveStream:
    """An invited guest joins a preparing or active stream: a guest broadcaster row with
    `hasJoined: true`. Joining again changes nothing."""
    stream = _locked_stream(stream_id)
    if not StreamGuest.objects.filter(stream=stream, user=user).exists():
        raise Forbidden("Only the stream's invited guests can join it")
    _require(Action.JOIN, stream)
    Broadcaster.objects.update_or_create(
        stream=stream,
        user=user,
        defaults={"role": Broadcaster.Role.GUEST, "has_joined": True},
    )
    return stream


# --- Replay rentals and their revenue (API.md §7) -----------------------------------------
#
# Lock order, as in crowdfunding/services.py: stream, then rental, then charge, then wallets
# (by id). The revenue job never waits for a charge (SKIP LOCKED) and locks wallets by id too.

REVENUE_BATCH = 100


@dataclass(frozen=True)
class RentalReceipt:
    rental: ReplayRental
    created: bool  # False: an active rental was returned and nothing was charged
    credit_balance: int
    now: datetime


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
    """Rent a stream's replay for `rental_duration()` at its `replayCreditPrice`.

    One row per (user, stream): while it is active a repeat charges nothing and returns it
    (`created` False); an expired or refunded row is reactivated in place with a new charge.
    """
    now = now or timezone.now()
    stream = _locked_stream(stream_id)
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
        description=f"Replay rental of “{stream.title}” ({stream.pk})",
        stream_id=stream.pk,
    )
    window = {"price": price, "rented_at": now, "expires_at": now + rental_duration()}
    if rental is None:
        rental = ReplayRental.objects.create(user=user, stream=stream, **window)
    else:
        for name, value in window.items():
            setattr(rental, name, value)
        rental.status = ReplayRental.Status.ACTIVE
        rental.save(update_fields=[*window, "status"])
    ReplayRentalCharge.objects.create(rental=rental, ledger_entry=debit, **window)
    return RentalReceipt(rental=rental, created=True, credit_balance=debit.balance_after, now=now)


@dataclass(frozen=True)
class LockedRentalRefunds:
    """The charges of a stream's rentals whose window is still open, locked for refunding."""

    charges: list[ReplayRentalCharge]

    @property
    def user_ids(self) -> set[str]:
        return {charge.rental.user_id for charge in self.charges}


def replay_rental_refunds_lock(*, stream: LiveStream, now: datetime) -> LockedRentalRefunds:
    """Lock, after the stream: its rentals whose window is open, then their charges (the order
    rent and the revenue job keep). The caller then locks the renters' wallets."""
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


def replay_rental_refunds_post(
    refunds: LockedRentalRefunds, *, stream: LiveStream, now: datetime
) -> int:
    """Refund each locked charge in full; the caller holds the renters' wallet locks. Each
    refund is a `stream_charge` credit row with status `refunded`. Returns the count."""
    for charge in sorted(refunds.charges, key=lambda charge: (charge.rental.user_id, charge.pk)):
        charge.refund_ledger_entry = ledger_post(
            user_id=charge.rental.user_id,
            amount=charge.price,
            entry_type=CreditLedgerEntry.Type.STREAM_CHARGE,
            description=(
                f"Refund of the replay rental of “{stream.title}” ({stream.pk}): stream deleted"
            ),
            stream_id=stream.pk,
            status=CreditLedgerEntry.Status.REFUNDED,
        )
        charge.status = ReplayRentalCharge.Status.REFUNDED
        charge.refunded_at = now
        charge.save(update_fields=["refund_ledger_entry", "status", "refunded_at"])
        charge.rental.status = ReplayRental.Status.REFUNDED
        charge.rental.save(update_fields=["status"])
    return len(refunds.charges)


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
    stream = _locked_stream(stream_id)
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
            # Each stream's guest is found once; the wallets locked are the ones paid.
            streams = {charge.rental.stream_id: charge.rental.stream for charge in charges}
            guests = {pk: revenue_guest_id(stream) for pk, stream in streams.items()}
            payees = {stream.creator_id for stream in streams.values()} | set(guests.values())
            wallets_lock(payees)
            for charge in charges:
                _settle(charge, guest_id=guests[charge.rental.stream_id], now=now)
            settled += len(charges)
