"""Writes of the livestreams app."""

import re
import secrets
import unicodedata
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from allmine.api.errors import Conflict, Forbidden, InvalidInput, NotFound
from allmine.ids import is_object_id
from livestreams.models import Broadcaster, LiveStream, StreamGuest
from users.models import User

EDITABLE_STATUSES = (LiveStream.Status.SCHEDULED, LiveStream.Status.PREPARING)
STARTABLE_STATUSES = (LiveStream.Status.SCHEDULED, LiveStream.Status.PREPARING)
# A guest joins once the creator is getting ready or live; before that there is nothing to join.
JOINABLE_STATUSES = (LiveStream.Status.PREPARING, LiveStream.Status.ACTIVE)
DUO_TYPES = (LiveStream.Type.DUO_CROWD, LiveStream.Type.DUO_SELF)
MAX_DURATION_GOAL = 24 * 60  # minutes
MAX_FUNDING_GOAL = 1_000_000_000  # credits
MAX_REPLAY_CREDIT_PRICE = 1_000_000  # credits, as one funding at most
MAX_GUESTS = 10

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
    **extra,
) -> LiveStream:
    """A new scheduled stream with its channel name and invited guests; the caller is its
    creator. The end defaults to start + duration; the start must lie in the future."""
    if creator.is_suspended:
        raise Forbidden("Account suspended")
    if not title or len(title) > 120:
        raise InvalidInput("title: must be 1 to 120 characters")
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
        **extra,
    )
    stream.full_clean(exclude=["channel_name"])
    stream.save()
    # One row at a time: invitation order is `invited_at`, then id.
    for guest in guests:
        StreamGuest.objects.create(stream=stream, user=guest)
    return stream


def check_object_id(value: object, name: str) -> str:
    """400 naming the parameter unless `value` is a 24-character lowercase hex id."""
    if not is_object_id(value):
        raise InvalidInput(f"{name}: must be a 24-character lowercase hex id")
    return value


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


def _check_status(stream: LiveStream, allowed: Sequence[str], action: str) -> None:
    if stream.status not in allowed:
        raise Conflict(f"Live stream is {stream.status}, it cannot be {action}")


@transaction.atomic
def live_stream_update(*, user: User, stream_id: str, **changes) -> LiveStream:
    """The creator changes a scheduled or preparing stream: `title`, `motivation`, `interest`,
    `thumbnail_url`, `planned_start_date`, `planned_end_date`, `duration_goal`, `funding_goal`.

    A schedule change keeps the rules of creation; without a new `planned_end_date` the end
    moves to start + duration. `funding_goal` never drops below what is already collected
    (409): the stream row is locked, so no contribution lands in between.
    """
    stream = locked_stream_of_creator(user=user, stream_id=stream_id, action="change")
    _check_status(stream, EDITABLE_STATUSES, "changed")
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
    for field, value in changes.items():
        setattr(stream, field, value)
    stream.full_clean(exclude=["channel_name"])
    stream.save(update_fields=[*changes, "updated_at"])
    return stream


@transaction.atomic
def live_stream_start(*, user: User, stream_id: str) -> LiveStream:
    """The creator goes live: `scheduled`/`preparing` → `active`, `startedAt`, a host row."""
    stream = locked_stream_of_creator(user=user, stream_id=stream_id, action="start")
    _check_status(stream, STARTABLE_STATUSES, "started")
    stream.status = LiveStream.Status.ACTIVE
    stream.started_at = timezone.now()
    stream.save(update_fields=["status", "started_at", "updated_at"])
    Broadcaster.objects.update_or_create(
        stream=stream,
        user=user,
        defaults={"role": Broadcaster.Role.HOST, "has_joined": True},
    )
    return stream


def recording_url_for(stream: LiveStream) -> str:
    """Where a recorded stream's file is published: `RECORDING_BASE_URL/<channel>.mp4`."""
    return f"{settings.RECORDING_BASE_URL.rstrip('/')}/{stream.channel_name}.mp4"


@transaction.atomic
def live_stream_end(*, user: User, stream_id: str) -> LiveStream:
    """The creator ends a live stream: `active` → `ended`, `endedAt`, and the recording URL
    when the stream was recorded."""
    stream = locked_stream_of_creator(user=user, stream_id=stream_id, action="end")
    _check_status(stream, (LiveStream.Status.ACTIVE,), "ended")
    stream.status = LiveStream.Status.ENDED
    stream.ended_at = timezone.now()
    if stream.recording:
        stream.recording_url = recording_url_for(stream)
    stream.save(update_fields=["status", "ended_at", "recording_url", "updated_at"])
    return stream


@transaction.atomic
def live_stream_join(*, user: User, stream_id: str) -> LiveStream:
    """An invited guest joins a preparing or active stream: a guest broadcaster row with
    `hasJoined: true`. Joining again changes nothing."""
    stream = _locked_stream(stream_id)
    if not StreamGuest.objects.filter(stream=stream, user=user).exists():
        raise Forbidden("Only the stream's invited guests can join it")
    _check_status(stream, JOINABLE_STATUSES, "joined")
    Broadcaster.objects.update_or_create(
        stream=stream,
        user=user,
        defaults={"role": Broadcaster.Role.GUEST, "has_joined": True},
    )
    return stream
