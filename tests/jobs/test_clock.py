"""The clock's steps one by one, in this process (tests/jobs/test_workers.py and
test_failures.py prove them with real worker processes)."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from allmine.jobs import clock
from allmine.jobs.apps import clock_jobs_check
from allmine.jobs.models import JobAttempt, PeriodicJob
from tests.jobs import tasks

pytestmark = pytest.mark.django_db

NOOP = {"task": "tests.jobs.tasks.periodic_noop", "every": 60}


def running_since(result, started_at, worker_id: str) -> None:
    DBTaskResult.objects.filter(pk=result.db_result.pk).update(
        status=TaskResultStatus.RUNNING, started_at=started_at, worker_ids=[worker_id]
    )


def fail(result, finished_at) -> None:
    DBTaskResult.objects.filter(pk=result.db_result.pk).update(
        status=TaskResultStatus.FAILED, finished_at=finished_at, traceback="ValueError: no\n"
    )


def test_the_beat_skips_a_period_while_the_last_run_still_waits(settings):
    settings.CLOCK_JOBS = {"noop": NOOP}
    now = timezone.now()

    first = clock.beat(now)
    too_soon = clock.beat(now + timedelta(seconds=59))
    still_waiting = clock.beat(now + timedelta(seconds=61))
    DBTaskResult.objects.update(status=TaskResultStatus.SUCCESSFUL)
    next_period = clock.beat(now + timedelta(seconds=122))

    assert (first, too_soon, still_waiting, next_period) == (["noop"], [], [], ["noop"])
    assert DBTaskResult.objects.count() == 2
    schedule = PeriodicJob.objects.get()
    assert schedule.next_run_at == now + timedelta(seconds=182)
    assert schedule.last_enqueued_at == now + timedelta(seconds=122)


def test_a_job_of_a_live_worker_is_left_running_however_long_it_takes(settings, tmp_path):
    settings.JOB_STALE_SECONDS = 60
    now = timezone.now()
    job = tasks.record_run.enqueue(str(tmp_path / "runs"), "long")
    running_since(job, now - timedelta(hours=2), "alive")
    clock.heartbeat("alive", now - timedelta(seconds=5))

    assert clock.requeue_stale(now) == 0
    assert DBTaskResult.objects.get().status == TaskResultStatus.RUNNING


def test_a_job_of_a_silent_worker_fails_as_worker_lost_and_is_retried(settings, tmp_path):
    settings.JOB_STALE_SECONDS = 60
    settings.JOB_RETRY_BASE_SECONDS = 10
    now = timezone.now()
    recent, old = (
        tasks.record_run.enqueue(str(tmp_path / "runs"), label) for label in ("recent", "old")
    )
    running_since(recent, now - timedelta(seconds=30), "silent")  # not yet stale
    running_since(old, now - timedelta(seconds=90), "silent")
    clock.heartbeat("silent", now - timedelta(seconds=90))

    assert clock.requeue_stale(now) == 1
    assert clock.retry_failed(now) == 1

    lost = DBTaskResult.objects.get(pk=old.db_result.pk)
    assert lost.status == TaskResultStatus.FAILED
    assert lost.exception_class_path == clock.WORKER_LOST
    assert "worker silent sent no heartbeat for 60 s" in lost.traceback
    retry = JobAttempt.objects.get(previous=lost).result
    assert retry.status == TaskResultStatus.READY
    assert retry.run_after == now + timedelta(seconds=10)
    assert retry.args_kwargs == lost.args_kwargs
    assert DBTaskResult.objects.get(pk=recent.db_result.pk).status == TaskResultStatus.RUNNING


def test_retries_back_off_and_stop_after_the_last_attempt(settings, tmp_path):
    settings.JOB_MAX_ATTEMPTS = 3
    settings.JOB_RETRY_BASE_SECONDS = 10
    failed_at = timezone.now()
    job = tasks.fail.enqueue(str(tmp_path / "runs"), "x")
    fail(job, failed_at)

    clock.retry_failed(failed_at)
    second = DBTaskResult.objects.get(attempt__number=2)
    fail(second.task_result, failed_at)
    clock.retry_failed(failed_at)
    third = DBTaskResult.objects.get(attempt__number=3)
    fail(third.task_result, failed_at)

    assert clock.retry_failed(failed_at + timedelta(hours=1)) == 0  # attempt 3 of 3 was the last
    assert second.run_after == failed_at + timedelta(seconds=10)
    assert third.run_after == failed_at + timedelta(seconds=20)
    assert DBTaskResult.objects.count() == 3


def test_a_failure_is_retried_once_however_often_the_clock_looks(tmp_path):
    now = timezone.now()
    fail(tasks.fail.enqueue(str(tmp_path / "runs"), "x"), now)

    retried = [clock.retry_failed(now) for _ in range(3)]

    assert retried == [1, 0, 0]
    first = DBTaskResult.objects.get(attempt__isnull=True)
    # and the database refuses a second retry anyway
    with pytest.raises(IntegrityError), transaction.atomic():
        JobAttempt.objects.create(
            result=DBTaskResult.objects.create(task_path="x", args_kwargs={}, run_after=now),
            number=2,
            previous=first,
        )


@pytest.mark.parametrize(
    ("job", "message"),
    [
        ({"task": "tests.jobs.tasks.nowhere", "every": 5}, "nowhere"),
        ({"task": "tests.jobs.tasks.runs", "every": 5}, "is not a task"),
        ({"task": "tests.jobs.tasks.periodic_noop", "every": 0}, "positive number"),
        ({"every": 5}, "task"),
    ],
)
def test_a_clock_job_that_cannot_run_fails_the_system_check(settings, job, message):
    settings.CLOCK_JOBS = {"broken": job}

    errors = clock_jobs_check()

    assert [error.id for error in errors] == ["jobs.E001"]
    assert message in errors[0].msg


def test_the_settings_clock_jobs_pass_the_system_check():
    assert clock_jobs_check() == []
