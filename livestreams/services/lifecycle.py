"""A stream's life: create, edit, start, end, join (API.md §6). Cancel and delete refund
funders, so they are money writes: `crowdfunding.services`."""

import re
import secrets
import unicodedata
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from allmine.api.errors import Conflict, Forbidden, InvalidInput
from allmine.events import publish_on_commit, stream_channel
from livestreams.clock import expiry_is_due
from livestreams.locks import stream_lock, stream_of_creator_lock
from livestreams.models import Broadcaster, LiveStream, StreamGuest
from livestreams.reminders import reminders_fire_on_start, reminders_rearm
from livestreams.rules import DUO_TYPES, MAX_TITLE, Action, require
from livestreams.signals import stream_started
from users.models import User
from users.rules import ensure_not_suspended

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
    ensure_not_suspended(creator)
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
    stream = stream_of_creator_lock(user=user, stream_id=stream_id, action="change")
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
    stream = stream_of_creator_lock(user=user, stream_id=stream_id, action="start")
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
    stream = stream_of_creator_lock(user=user, stream_id=stream_id, action="end")
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
    stream = stream_lock(stream_id)
    if not StreamGuest.objects.filter(stream=stream, user=user).exists():
        raise Forbidden("Only the stream's invited guests can join it")
    _require(Action.JOIN, stream)
    Broadcaster.objects.update_or_create(
        stream=stream,
        user=user,
        defaults={"role": Broadcaster.Role.GUEST, "has_joined": True},
    )
    return stream
