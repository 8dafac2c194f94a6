"""Reminders (API.md §10): services and selectors.

A reminder fires exactly once: its row is locked and its status re-read before it becomes
`SENT`, in the transaction that writes its notification. BEFORE_START reminders fire by the
sweep job (`livestreams.tasks.reminders_sweep`, in CLOCK_JOBS) once the stream's current
`planned_start_date - minute` has passed; every armed reminder of a stream fires when its
creator starts it (ON_START ones only then). Cancel, expiry and deletion cancel them.
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import DateTimeField, ExpressionWrapper, F, QuerySet, Value
from django.utils import timezone

from allmine.api.errors import NotFound
from allmine.compiled import CompiledQuery
from allmine.ids import check_object_id
from livestreams.locks import armed_reminders_lock, due_reminders_lock, reminder_lock, stream_lock
from livestreams.models import LiveStream, Reminder
from livestreams.rules import Action, require, statuses_for
from notifications.services import Category, NotificationDraft, Type, notifications_create
from users.models import User

MAX_MINUTE = 1440
SWEEP_BATCH = 100
# A reminder fires only while its stream has not started yet (it could still start).
WAITING_STATUSES = statuses_for(Action.START)


@transaction.atomic
def reminder_set(*, user: User, stream_id: str, minute: int | None) -> Reminder:
    """Create or change the caller's one reminder of a scheduled stream (409 otherwise);
    `minute` None or 0: when it starts, else that many minutes before its planned start.
    Setting it again arms it again."""
    stream = stream_lock(stream_id)
    require(Action.REMIND, stream.status)
    minute = minute or 0
    reminder = reminder_lock(user=user, stream=stream)
    if reminder is None:
        reminder = Reminder(user=user, stream=stream)
    reminder.minute = minute
    reminder.lead = timedelta(minutes=minute)
    reminder.status = Reminder.Status.ARMED if minute else Reminder.Status.ARMED_ON_START
    reminder.sent_at = None
    reminder.save()
    reminder.stream = stream
    return reminder


@transaction.atomic
def reminder_delete(*, user: User, stream_id: str) -> None:
    """Remove the caller's reminder of a stream (404 when there is none)."""
    check_object_id(stream_id, "id")
    deleted, _ = Reminder.objects.filter(
        user=user, stream_id=stream_id, stream__deleted_at__isnull=True
    ).delete()
    if not deleted:
        raise NotFound("Reminder not found")


def reminders_for_user(*, user: User) -> QuerySet[Reminder]:
    """The caller's armed reminders of streams not deleted, soonest planned start first."""
    return (
        Reminder.objects.filter(
            user=user, status__in=Reminder.ARMED_STATUSES, stream__deleted_at__isnull=True
        )
        .select_related("stream")
        .order_by("stream__planned_start_date", "stream_id")
    )


def reminder_ids_armed(*, user: User | None, stream_ids) -> set[str]:
    """Which of these streams the user has an armed reminder for (`isReminderActive`)."""
    if user is None:
        return set()
    return {row[0] for row in _ARMED_STREAM_IDS.rows(user_id=user.pk, ids=list(stream_ids))}


# Compiled once (allmine/compiled.py): the upcoming list asks on every request.
_ARMED_STREAM_IDS = CompiledQuery(
    lambda user_id, ids: Reminder.objects.filter(
        user_id=user_id, stream_id__in=ids, status__in=Reminder.ARMED_STATUSES
    ).values_list("stream_id"),
    model=Reminder,
    convert=False,
)


def _drafts(reminders: list[Reminder], stream: LiveStream, *, started: bool) -> list:
    drafts = []
    for reminder in reminders:
        if started:
            title = f"“{stream.title}” is live now"
            body = "The live stream you asked to be reminded of has started."
        else:
            title = f"“{stream.title}” starts in {reminder.minute} minutes"
            body = "The live stream you asked to be reminded of is about to start."
        drafts.append(
            NotificationDraft(
                user_id=reminder.user_id,
                category=Category.LIVE_STREAM,
                type=Type.REMINDER,
                title=title,
                body=body,
                stream_id=stream.pk,
            )
        )
    return drafts


def _mark_sent(reminders: list[Reminder], now: datetime) -> None:
    Reminder.objects.filter(pk__in=[r.pk for r in reminders]).update(
        status=Reminder.Status.SENT, sent_at=now, updated_at=now
    )


def reminders_fire_on_start(*, stream: LiveStream, now: datetime) -> int:
    """The stream (locked by the caller) has started: every reminder still armed fires now,
    in the caller's transaction. Returns how many."""
    reminders = armed_reminders_lock(stream)
    if reminders:
        _mark_sent(reminders, now)
        notifications_create(_drafts(reminders, stream, started=True))
    return len(reminders)


def reminders_cancel(*, stream: LiveStream, now: datetime) -> int:
    """The stream was cancelled, expired or deleted: its armed reminders will never fire."""
    return Reminder.objects.filter(stream=stream, status__in=Reminder.ARMED_STATUSES).update(
        status=Reminder.Status.CANCELLED, updated_at=now
    )


def reminders_rearm(*, stream: LiveStream, now: datetime) -> int:
    """The stream's planned start moved: a BEFORE_START reminder already sent whose new moment
    is still ahead is armed again (each one reminds once per planned start)."""
    sent = Reminder.objects.filter(stream=stream, status=Reminder.Status.SENT, minute__gt=0)
    return sent.filter(lead__lt=Value(stream.planned_start_date - now)).update(
        status=Reminder.Status.ARMED, sent_at=None, updated_at=now
    )


def reminders_fire_due(*, now: datetime | None = None, batch: int = SWEEP_BATCH) -> int:
    """Fire every BEFORE_START reminder whose moment (`planned_start_date - minute` of its
    stream, read now) has come, while the stream has not started: exactly once, also with
    runs in parallel. Each batch is one transaction taking its reminders with `SKIP LOCKED`
    and re-reading their status under the lock. Returns how many fired."""
    now = now or timezone.now()
    due_before = ExpressionWrapper(Value(now) + F("lead"), output_field=DateTimeField())
    fired = 0
    while True:
        with transaction.atomic():
            reminders = due_reminders_lock(
                due={
                    "status": Reminder.Status.ARMED,
                    "stream__status__in": WAITING_STATUSES,
                    "stream__deleted_at__isnull": True,
                    "stream__planned_start_date__lte": due_before,
                },
                batch=batch,
            )
            if not reminders:
                return fired
            _mark_sent(reminders, now)
            drafts = []
            for reminder in reminders:
                drafts += _drafts([reminder], reminder.stream, started=False)
            notifications_create(drafts)
            fired += len(reminders)
