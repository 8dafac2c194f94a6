"""The clock every `run_worker` process runs beside django-tasks-db's worker loop, once per
CLOCK_TICK_SECONDS (see `tick`):

1. heartbeat: this worker is alive (also while it runs a long job);
2. requeue: a RUNNING job whose worker sent no heartbeat for JOB_STALE_SECONDS (killed, host
   lost) is marked FAILED (`WorkerLost`), so step 3 runs it again;
3. retry: a FAILED attempt n < JOB_MAX_ATTEMPTS gets attempt n + 1, due
   JOB_RETRY_BASE_SECONDS * 2**(n-1) after the failure; the failed rows stay for operators;
4. beat: each CLOCK_JOBS entry whose period has come is enqueued.

Each step is safe with any number of workers ticking at once: a row lock taken with
SKIP LOCKED and a re-check under it on PostgreSQL, the single writer (BEGIN IMMEDIATE) on
SQLite, and a unique constraint behind the retry. Every step reads first and writes only when
there is something to do, in short transactions, so idle workers hardly touch SQLite's lock.
"""

import logging
import os
import socket
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks import TaskResultStatus
from django_tasks.base import Task
from django_tasks_db.models import DBTaskResult

from allmine.jobs.models import JobAttempt, PeriodicJob, WorkerHeartbeat

logger = logging.getLogger(__name__)

BATCH = 100
HEARTBEATS_KEPT = timedelta(days=1)  # a dead worker's row is shown this long, then deleted


class WorkerLost(Exception):
    """Recorded on a RUNNING job whose worker stopped sending heartbeats."""


WORKER_LOST = f"{WorkerLost.__module__}.{WorkerLost.__qualname__}"


def periodic_task(path: str) -> Task:
    task = import_string(path)
    if not isinstance(task, Task):
        raise TypeError(f"{path} is not a task (decorate it with django_tasks.task)")
    return task


def check_clock_jobs() -> None:
    """Fail at start-up, not at each tick, on a CLOCK_JOBS entry that names no task."""
    for name, spec in settings.CLOCK_JOBS.items():
        periodic_task(spec["task"])
        if float(spec["every"]) <= 0:
            raise ValueError(f"CLOCK_JOBS[{name!r}]['every'] must be a positive number of seconds")


def heartbeat(worker_id: str, now: datetime) -> None:
    if not WorkerHeartbeat.objects.filter(pk=worker_id).update(last_seen_at=now):
        WorkerHeartbeat.objects.bulk_create(
            [
                WorkerHeartbeat(
                    worker_id=worker_id,
                    hostname=socket.gethostname()[:255],
                    pid=os.getpid(),
                    started_at=now,
                    last_seen_at=now,
                )
            ],
            ignore_conflicts=True,
        )


def worker_stopped(worker_id: str) -> None:
    """A worker that exits cleanly says so: its jobs are requeued without waiting."""
    WorkerHeartbeat.objects.filter(pk=worker_id).delete()


def requeue_stale(now: datetime) -> int:
    """Fail every RUNNING job started over JOB_STALE_SECONDS ago whose worker is not alive."""
    cutoff = now - timedelta(seconds=settings.JOB_STALE_SECONDS)
    running = list(
        DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING, started_at__lte=cutoff)
        .order_by("started_at")
        .values("pk", "started_at", "worker_ids")[:BATCH]
    )
    if not running:
        return 0
    alive = set(
        WorkerHeartbeat.objects.filter(last_seen_at__gt=cutoff).values_list("worker_id", flat=True)
    )
    lost = 0
    for job in running:
        worker = job["worker_ids"][-1] if job["worker_ids"] else "?"
        if worker in alive:
            continue
        # Conditional on the row being as read: if the worker finished it meanwhile, no change.
        lost += DBTaskResult.objects.filter(
            pk=job["pk"], status=TaskResultStatus.RUNNING, started_at=job["started_at"]
        ).update(
            status=TaskResultStatus.FAILED,
            finished_at=now,
            return_value=None,
            exception_class_path=WORKER_LOST,
            traceback=(
                f"{WORKER_LOST}: worker {worker} sent no heartbeat for "
                f"{settings.JOB_STALE_SECONDS:g} s while running this job (killed or lost); "
                "it is retried like a failure.\n"
            ),
        )
    if lost:
        logger.warning("Requeued %d job(s) of stopped workers", lost)
    stale_rows = WorkerHeartbeat.objects.filter(last_seen_at__lt=now - HEARTBEATS_KEPT)
    if stale_rows.exists():
        stale_rows.delete()
    return lost


def retry_delay(failed_attempt: int) -> timedelta:
    return timedelta(seconds=settings.JOB_RETRY_BASE_SECONDS * 2 ** (failed_attempt - 1))


def retryable_failures():
    """FAILED attempts with attempts left and no retry yet (attempt 1 has no JobAttempt row)."""
    return (
        DBTaskResult.objects.filter(status=TaskResultStatus.FAILED, next_attempt__isnull=True)
        .annotate(attempt_number=Coalesce("attempt__number", 1))
        .filter(attempt_number__lt=settings.JOB_MAX_ATTEMPTS)
    )


def retry_failed(now: datetime) -> int:
    """Enqueue the next attempt of each retryable failure: the same task, arguments and queue,
    due after the back-off. The new row is made as the backend makes it (not through
    `Task.enqueue`), so a job whose task cannot even be imported also ends after the last try."""
    candidates = list(retryable_failures().order_by("finished_at").values_list("pk", flat=True))
    retried = 0
    for pk in candidates[:BATCH]:
        try:
            with transaction.atomic():
                failed = (
                    retryable_failures()
                    .select_for_update(skip_locked=True, of=("self",))
                    .filter(pk=pk)
                    .first()
                )
                if failed is None:
                    continue  # another worker's clock is retrying it, or has done so
                number = failed.attempt_number + 1
                retry = DBTaskResult.objects.create(
                    args_kwargs=failed.args_kwargs,
                    priority=failed.priority,
                    task_path=failed.task_path,
                    queue_name=failed.queue_name,
                    backend_name=failed.backend_name,
                    run_after=(failed.finished_at or now) + retry_delay(failed.attempt_number),
                )
                JobAttempt.objects.create(result=retry, number=number, previous=failed)
        except IntegrityError:
            continue  # the unique `previous`: retried meanwhile
        retried += 1
        logger.info("Job %s (%s) failed; attempt %d enqueued", pk, failed.task_path, number)
    return retried


def beat(now: datetime) -> list[str]:
    """Enqueue every CLOCK_JOBS entry whose `next_run_at` has come, and move it on by its period;
    skip the run (not the period) while the previous run is still waiting or running."""
    jobs = settings.CLOCK_JOBS
    if not jobs:
        return []
    next_runs = dict(PeriodicJob.objects.filter(name__in=jobs).values_list("name", "next_run_at"))
    missing = [name for name in jobs if name not in next_runs]
    if missing:
        PeriodicJob.objects.bulk_create(
            [
                PeriodicJob(
                    name=name,
                    task_path=jobs[name]["task"],
                    every_seconds=jobs[name]["every"],
                    next_run_at=now,
                )
                for name in missing
            ],
            ignore_conflicts=True,
        )
    enqueued = []
    for name in jobs:
        if name not in missing and next_runs[name] > now:
            continue
        with transaction.atomic():
            job = (
                PeriodicJob.objects.select_for_update(skip_locked=True)
                .filter(name=name, next_run_at__lte=now)
                .first()
            )
            if job is None:
                continue  # another worker took this period
            spec = jobs[name]
            job.task_path, job.every_seconds = spec["task"], spec["every"]
            job.next_run_at = now + timedelta(seconds=spec["every"])
            pending = (
                job.last_result_id is not None
                and DBTaskResult.objects.filter(
                    pk=job.last_result_id,
                    status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING],
                ).exists()
            )
            if not pending:
                job.last_result = periodic_task(spec["task"]).enqueue().db_result
                job.last_enqueued_at = now
                enqueued.append(name)
            job.save()
    return enqueued


def tick(worker_id: str, now: datetime | None = None) -> None:
    now = now or timezone.now()
    heartbeat(worker_id, now)
    requeue_stale(now)
    retry_failed(now)
    beat(now)
