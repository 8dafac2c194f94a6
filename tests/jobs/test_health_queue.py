"""Health reports the job queue: `degraded` (200) when it has not moved for
QUEUE_STALL_SECONDS — a due job waiting that long, or no live worker while work is due —
and `ok` once a worker runs it."""

from datetime import timedelta
from unittest import mock

import pytest
from django.db import DatabaseError
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from allmine.jobs.clock import heartbeat
from allmine.jobs.selectors import queue_state
from tests.jobs import tasks
from tests.support import wait_for

URL = "/api/v1/health"


def queue_report(api_client) -> dict:
    response = api_client.get(URL)
    assert response.status_code == 200
    data = response.json()["data"]
    return {
        "status": data["status"],
        "queue": data["checks"]["queue"],
        "delay": data["queueDelaySeconds"],
        "workers": data["queueWorkers"],
    }


def backdate(result, seconds: float) -> None:
    DBTaskResult.objects.filter(pk=result.db_result.pk).update(
        enqueued_at=timezone.now() - timedelta(seconds=seconds)
    )


@pytest.mark.django_db
class TestQueueState:
    @pytest.fixture(autouse=True)
    def stall_after_a_minute(self, settings):
        settings.QUEUE_STALL_SECONDS = 60

    def test_no_worker_while_periodic_jobs_exist_is_stalled(self, api_client, settings):
        settings.CLOCK_JOBS = {"noop": {"task": "tests.jobs.tasks.periodic_noop", "every": 1}}

        report = queue_report(api_client)

        assert report == {"status": "degraded", "queue": "stalled", "delay": None, "workers": 0}

    def test_no_worker_and_no_work_is_ok(self, api_client, settings):
        settings.CLOCK_JOBS = {}

        assert queue_report(api_client)["queue"] == "ok"

    def test_a_worker_gone_quiet_for_the_stall_time_is_not_alive(self, api_client, settings):
        heartbeat("quiet", timezone.now() - timedelta(seconds=61))

        report = queue_report(api_client)

        assert (report["queue"], report["workers"]) == ("stalled", 0)

    def test_a_due_job_waiting_longer_than_the_stall_time_is_stalled(self, api_client, tmp_path):
        heartbeat("busy", timezone.now())
        backdate(tasks.record_run.enqueue(str(tmp_path / "runs"), "late"), 90)

        report = queue_report(api_client)

        assert report["status"] == "degraded"
        assert report["queue"] == "stalled"
        assert 90 <= report["delay"] < 100
        assert report["workers"] == 1

    def test_a_recent_due_job_with_a_live_worker_is_ok(self, api_client, tmp_path):
        heartbeat("busy", timezone.now())
        backdate(tasks.record_run.enqueue(str(tmp_path / "runs"), "soon"), 10)

        report = queue_report(api_client)

        assert (report["status"], report["queue"], report["workers"]) == ("ok", "ok", 1)
        assert 10 <= report["delay"] < 20

    def test_a_job_deferred_to_later_is_not_due(self, api_client, tmp_path):
        heartbeat("busy", timezone.now())
        later = tasks.record_run.using(run_after=timezone.now() + timedelta(hours=1))
        later.enqueue(str(tmp_path / "runs"), "later")

        assert queue_report(api_client)["delay"] is None

    def test_an_unreadable_queue_is_stalled_not_a_500(self, api_client):
        with mock.patch(
            "allmine.api.health.queue_state", side_effect=DatabaseError("no such table")
        ):
            report = queue_report(api_client)

        assert report == {"status": "degraded", "queue": "stalled", "delay": None, "workers": 0}

    @pytest.mark.parametrize("jobs", [1, 30])
    def test_costs_two_queries_however_many_jobs_wait(
        self, django_assert_num_queries, tmp_path, jobs
    ):
        for i in range(jobs):
            tasks.record_run.enqueue(str(tmp_path / "runs"), f"job-{i}")

        with django_assert_num_queries(2):
            state = queue_state()

        assert state.delay_seconds is not None


@pytest.mark.django_db(transaction=True)
def test_a_stalled_queue_is_degraded_until_a_worker_runs_it(
    api_client, job_workers, settings, tmp_path
):
    settings.QUEUE_STALL_SECONDS = 30
    job = tasks.record_run.enqueue(str(tmp_path / "runs"), "waited")
    backdate(job, 45)
    stalled = queue_report(api_client)

    (worker,) = job_workers.start(1)
    wait_for(lambda: DBTaskResult.objects.get(pk=job.db_result.pk).status == "SUCCESSFUL")
    moving = queue_report(api_client)

    settings.QUEUE_STALL_SECONDS = 2
    job_workers.kill(worker)  # its last heartbeat ages past the stall time
    wait_for(lambda: queue_report(api_client)["queue"] == "stalled", timeout=10)
    dead = queue_report(api_client)

    assert stalled["status"] == "degraded" and stalled["queue"] == "stalled"
    assert stalled["delay"] >= 45 and stalled["workers"] == 0
    assert moving["status"] == "ok" and moving["queue"] == "ok" and moving["workers"] == 1
    assert dead["status"] == "degraded" and dead["workers"] == 0
    assert not DBTaskResult.objects.filter(status=TaskResultStatus.FAILED).exists()
