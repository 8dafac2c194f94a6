"""The job queue in the admin: read-only lists of job runs (attempt, due, error), the periodic
schedule and the workers, for operators with the view permissions `grant_operator` gives."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from allmine.jobs import clock
from tests.jobs import tasks
from tests.support import queries_for, run_due_jobs
from tests.users.factories import UserFactory

pytestmark = pytest.mark.django_db

JOBS = reverse("admin:django_tasks_database_dbtaskresult_changelist")
SCHEDULE = reverse("admin:jobs_periodicjob_changelist")
WORKERS = reverse("admin:jobs_workerheartbeat_changelist")


@pytest.fixture
def operator_client() -> Client:
    """A staff user made an operator the README's way, without money permissions."""
    UserFactory(username="operator")
    call_command("grant_operator", "operator", stdout=StringIO())
    client = Client()
    client.force_login(UserFactory._meta.model.objects.get(username="operator"))
    return client


def failures(tmp_path, count: int) -> None:
    for i in range(count):
        tasks.fail.enqueue(str(tmp_path / "runs"), f"job-{i}")
    run_due_jobs()  # each fails once; the next tick enqueues its attempt 2
    clock.retry_failed(timezone.now())


def test_an_operator_sees_failed_and_pending_attempts(operator_client, settings, tmp_path):
    settings.CLOCK_JOBS = {}
    failures(tmp_path, 1)
    failed = DBTaskResult.objects.get(status="FAILED")
    retry = DBTaskResult.objects.get(status="READY")

    listing = operator_client.get(JOBS)
    detail = operator_client.get(
        reverse("admin:django_tasks_database_dbtaskresult_change", args=[failed.pk])
    )

    assert listing.status_code == 200
    rows = {str(row.pk): row for row in listing.context["cl"].result_list}
    assert set(rows) == {str(failed.pk), str(retry.pk)}
    text = listing.content.decode()
    assert "1 of 5" in text and "2 of 5" in text and "ValueError" in text
    body = detail.content.decode()
    assert detail.status_code == 200
    assert "ValueError: job-0 cannot be done" in body  # the traceback
    assert reverse("admin:django_tasks_database_dbtaskresult_change", args=[retry.pk]) in body
    assert "Save" not in body  # read-only


def test_the_job_list_costs_the_same_queries_at_any_size(
    admin_client, django_assert_num_queries, settings, tmp_path
):
    settings.CLOCK_JOBS = {}
    failures(tmp_path, 1)
    at_one_size = queries_for(admin_client, JOBS)
    failures(tmp_path, 10)

    with django_assert_num_queries(at_one_size):
        response = admin_client.get(JOBS)

    assert response.context["cl"].result_count == 22


def test_the_schedule_and_the_workers_are_listed(operator_client, settings):
    settings.CLOCK_JOBS = {"noop": {"task": "tests.jobs.tasks.periodic_noop", "every": 30}}
    clock.tick("worker-7")

    schedule = operator_client.get(SCHEDULE).content.decode()
    workers = operator_client.get(WORKERS).content.decode()

    assert "noop" in schedule and "tests.jobs.tasks.periodic_noop" in schedule
    assert "30 s" in schedule and "ready" in schedule  # its last run, still waiting
    assert "worker-7" in workers


@pytest.mark.parametrize("url", [JOBS, SCHEDULE, WORKERS])
def test_nothing_can_be_added_changed_or_deleted(admin_client, url):
    page = admin_client.get(url)

    assert page.status_code == 200
    assert page.context["has_add_permission"] is False
    assert page.context["cl"].model_admin.has_delete_permission(page.wsgi_request) is False
    assert admin_client.get(url + "add/").status_code == 403
