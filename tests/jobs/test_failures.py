"""Failures with real `run_worker` processes: a failing job is retried with growing delays,
then stays FAILED where operators see it; a worker killed mid-job (SIGKILL) loses nothing;
a worker stopped with SIGTERM finishes the job in hand first."""

import signal
import time

import pytest
from django.test import Client
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from allmine.jobs.clock import WORKER_LOST
from allmine.jobs.models import WorkerHeartbeat
from tests.jobs import tasks
from tests.support import wait_for
from tests.users.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

FAILED, RUNNING, SUCCESSFUL = (
    TaskResultStatus.FAILED,
    TaskResultStatus.RUNNING,
    TaskResultStatus.SUCCESSFUL,
)


def attempts(task_path: str) -> list[DBTaskResult]:
    return list(
        DBTaskResult.objects.filter(task_path=task_path)
        .select_related("attempt")
        .order_by("enqueued_at")
    )


def test_a_failing_job_is_retried_with_growing_delays_then_stays_failed(
    job_workers, tmp_path, settings
):
    log = tmp_path / "runs"
    settings.JOB_MAX_ATTEMPTS = 3  # as the workers have it (the admin shows "n of 3")
    job_workers.start(2, clock_jobs={}, JOB_MAX_ATTEMPTS="3", JOB_RETRY_BASE_SECONDS="0.5")
    first = tasks.fail.enqueue(str(log), "doomed")

    wait_for(
        lambda: (
            DBTaskResult.objects.filter(status=FAILED).count() == 3
            and not DBTaskResult.objects.exclude(status=FAILED).exists()
        ),
        timeout=30,
    )

    results = attempts("tests.jobs.tasks.fail")
    assert [r.pk for r in results][0] == first.db_result.pk
    assert [getattr(r, "attempt", None) and r.attempt.number for r in results] == [None, 2, 3]
    assert results[1].attempt.previous_id == results[0].pk
    assert results[2].attempt.previous_id == results[1].pk
    waits = [
        (later.started_at - earlier.finished_at).total_seconds()
        for earlier, later in zip(results, results[1:], strict=False)
    ]
    assert waits[0] >= 0.5 and waits[1] >= 1.0  # base * 2**(n-1) after attempt n failed
    assert all(r.args_kwargs == first.db_result.args_kwargs for r in results)
    assert all("ValueError: doomed cannot be done" in r.traceback for r in results)
    assert [label for label, _ in tasks.runs(log)] == ["doomed"] * 3
    time.sleep(1.5)  # the last attempt failed: no fourth, however long the clocks tick
    assert DBTaskResult.objects.count() == 3

    # An operator sees the failed attempts, their number and traceback in the admin.
    operator = UserFactory(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(operator)
    page = client.get("/admin/django_tasks_database/dbtaskresult/?status__exact=FAILED")
    assert page.status_code == 200
    text = page.content.decode()
    assert all(f"{n} of 3" in text for n in (1, 2, 3))
    assert text.count("ValueError") == 3
    detail = client.get(f"/admin/django_tasks_database/dbtaskresult/{results[2].pk}/change/")
    assert detail.status_code == 200
    assert "ValueError: doomed cannot be done" in detail.content.decode()
    assert f"{results[1].pk}/change/" in detail.content.decode()  # the previous attempt


def test_a_job_whose_worker_is_killed_runs_again_on_another_once(job_workers, tmp_path):
    log = tmp_path / "runs"
    settings = {"JOB_STALE_SECONDS": "2", "JOB_RETRY_BASE_SECONDS": "0.5"}
    (doomed,) = job_workers.start(1, clock_jobs={}, **settings)
    first = tasks.slow_first_time.enqueue(str(log), "survivor")
    wait_for(lambda: DBTaskResult.objects.filter(pk=first.db_result.pk, status=RUNNING).exists())

    job_workers.kill(doomed)  # mid-job: the row stays RUNNING, nothing recorded
    job_workers.start(1, clock_jobs={}, **settings)

    wait_for(lambda: DBTaskResult.objects.filter(status=SUCCESSFUL).exists(), timeout=30)
    lost, retry = attempts("tests.jobs.tasks.slow_first_time")
    assert lost.pk == first.db_result.pk
    assert lost.status == FAILED
    assert lost.exception_class_path == WORKER_LOST
    assert lost.worker_ids == [doomed]
    assert retry.status == SUCCESSFUL
    assert retry.attempt.number == 2
    assert [label for label, _ in tasks.runs(log)] == ["survivor"]  # its effect, once


def test_sigterm_lets_the_job_in_hand_finish_then_the_worker_exits(job_workers, tmp_path):
    log = tmp_path / "runs"
    (worker,) = job_workers.start(1, clock_jobs={})
    job = tasks.record_run.enqueue(str(log), "finished", sleep=2)
    wait_for(lambda: DBTaskResult.objects.filter(pk=job.db_result.pk, status=RUNNING).exists())

    job_workers.processes[worker].send_signal(signal.SIGTERM)

    assert job_workers.stop(worker) == 0
    assert DBTaskResult.objects.get(pk=job.db_result.pk).status == SUCCESSFUL
    assert [label for label, _ in tasks.runs(log)] == ["finished"]
    assert not WorkerHeartbeat.objects.filter(pk=worker).exists()  # said goodbye
