"""Reads of the job queue: its state for the health endpoint."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS
from django.db.models import Min, Q
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult, get_date_max

from allmine.jobs.models import WorkerHeartbeat

OK = "ok"
STALLED = "stalled"


@dataclass(frozen=True)
class QueueState:
    state: str  # OK or STALLED
    delay_seconds: float | None  # how long the oldest due READY job has waited; None: none due
    workers: int  # workers that sent a heartbeat within QUEUE_STALL_SECONDS


def queue_state(now: datetime | None = None) -> QueueState:
    """STALLED when the oldest due job has waited over QUEUE_STALL_SECONDS, or when no worker
    has sent a heartbeat for that long while there is work: a due job, or any CLOCK_JOBS entry
    (the clock runs in the workers, so without one nothing expires, pays out or settles).
    Two queries (the READY rows are the partial index's on PostgreSQL), on the primary: a
    read replica's lag must not make a moving queue look stalled, or the reverse."""
    now = now or timezone.now()
    stall = settings.QUEUE_STALL_SECONDS
    jobs = DBTaskResult.objects.using(DEFAULT_DB_ALIAS)
    due = jobs.filter(status=TaskResultStatus.READY).aggregate(
        at_once=Min("enqueued_at", filter=Q(run_after=get_date_max())),
        deferred=Min("run_after", filter=Q(run_after__lte=now)),
    )
    since = [moment for moment in due.values() if moment is not None]
    delay = max(0.0, (now - min(since)).total_seconds()) if since else None
    workers = WorkerHeartbeat.objects.using(DEFAULT_DB_ALIAS).filter(
        last_seen_at__gt=now - timedelta(seconds=stall)
    )
    alive = workers.count()
    stalled = (delay is not None and delay > stall) or (
        not alive and (delay is not None or bool(settings.CLOCK_JOBS))
    )
    return QueueState(STALLED if stalled else OK, delay, alive)
