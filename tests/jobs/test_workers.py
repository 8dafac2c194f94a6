"""Real `run_worker` processes on the test database (SQLite file or PostgreSQL): several
workers racing on the same due jobs run each once, and the clock's beat enqueues a periodic
job once per period however many workers tick."""

import time
from collections import Counter

import pytest
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from allmine.jobs.models import PeriodicJob
from tests.jobs import tasks
from tests.support import run_due_jobs, wait_for


def finished(count: int) -> bool:
    return DBTaskResult.objects.filter(status=TaskResultStatus.SUCCESSFUL).count() >= count


@pytest.mark.django_db
def test_run_due_jobs_runs_every_due_job_in_this_process(settings, tmp_path):
    settings.CLOCK_JOBS = {}
    log = tmp_path / "runs"
    for label in ("a", "b", "c"):
        tasks.record_run.enqueue(str(log), label)

    assert run_due_jobs() == 3
    assert sorted(label for label, _ in tasks.runs(log)) == ["a", "b", "c"]
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {"SUCCESSFUL"}
    assert run_due_jobs() == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("workers", [2, 4])
def test_workers_racing_on_the_same_due_jobs_run_each_once(job_workers, tmp_path, workers):
    log = tmp_path / "runs"
    job_workers.start(workers, clock_jobs={})
    labels = [f"job-{i}" for i in range(40)]
    for label in labels:  # all due at once, while every worker polls
        tasks.record_run.enqueue(str(log), label, sleep=0.05)

    wait_for(lambda: finished(len(labels)), timeout=60)

    runs = tasks.runs(log)
    assert Counter(label for label, _ in runs) == Counter(labels)  # each once, none twice
    assert len({worker for _, worker in runs}) > 1  # they really did race
    assert DBTaskResult.objects.exclude(status=TaskResultStatus.SUCCESSFUL).count() == 0


@pytest.mark.django_db(transaction=True)
def test_the_beat_enqueues_a_periodic_job_once_per_period_with_three_workers(job_workers):
    every = 1.0
    job = {"task": "tests.jobs.tasks.periodic_noop", "every": every}
    job_workers.start(3, clock_jobs={"noop": job}, CLOCK_TICK_SECONDS="0.1")
    window = 3.0
    time.sleep(window)

    runs = list(
        DBTaskResult.objects.filter(task_path="tests.jobs.tasks.periodic_noop")
        .order_by("enqueued_at")
        .values_list("enqueued_at", flat=True)
    )
    gaps = [
        (later - earlier).total_seconds() for earlier, later in zip(runs, runs[1:], strict=False)
    ]
    # 3 clocks ticking 10 times a second: without the schedule row's lock, ~30 per period.
    assert 3 <= len(runs) <= window / every + 2
    assert min(gaps) > every * 0.8
    schedule = PeriodicJob.objects.get(name="noop")
    assert schedule.task_path == job["task"]
    assert schedule.last_result_id == DBTaskResult.objects.order_by("enqueued_at").last().pk
