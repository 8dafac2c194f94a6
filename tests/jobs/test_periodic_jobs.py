"""The project's periodic jobs (settings CLOCK_JOBS) run on real workers with nobody running
a command: replay revenue is settled, old idempotency keys and job rows are purged."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from allmine.jobs.models import PeriodicJob
from crowdfunding.models import IdempotencyRecord
from livestreams.models import ReplayRentalCharge
from livestreams.services import replay_rental_create
from tests.jobs import tasks
from tests.livestreams.factories import EndedStreamFactory
from tests.support import run_due_jobs, wait_for
from tests.users.factories import UserFactory
from users.models import CreditLedgerEntry
from users.services import credits_grant


@pytest.mark.django_db(transaction=True)
def test_replay_revenue_settles_with_nobody_running_a_command(job_workers, settings):
    stream = EndedStreamFactory(replay_credit_price=50)
    renter = UserFactory()
    credits_grant(user=renter, amount=100)
    closed = timezone.now() - settings.REPLAY_RENTAL_DURATION - timedelta(minutes=1)
    replay_rental_create(user=renter, stream_id=stream.id, now=closed)
    charge = ReplayRentalCharge.objects.get()

    job_workers.start(2)  # the settings' own CLOCK_JOBS
    settled_by_a_job = DBTaskResult.objects.filter(
        task_path="livestreams.tasks.replay_revenue_settle_job",
        status=TaskResultStatus.SUCCESSFUL,
        return_value=1,  # how many it settled
    )
    wait_for(settled_by_a_job.exists)

    assert ReplayRentalCharge.objects.get(pk=charge.pk).status == ReplayRentalCharge.Status.SETTLED
    revenue = CreditLedgerEntry.objects.filter(user=stream.creator, type="stream_revenue")
    assert list(revenue.values_list("amount", flat=True)) == [40]  # solo: 80 %, once
    assert settled_by_a_job.count() == 1
    schedule = PeriodicJob.objects.get(name="replay_revenue_settle")
    assert schedule.task_path == "livestreams.tasks.replay_revenue_settle_job"


@pytest.mark.django_db
def test_old_idempotency_keys_and_job_rows_are_purged(settings, tmp_path):
    settings.CLOCK_JOBS = {
        name: settings.CLOCK_JOBS[name] for name in ("idempotency_keys_purge", "job_results_prune")
    }
    user = UserFactory()
    old, fresh = (
        IdempotencyRecord.objects.create(
            user=user, key=key, fingerprint="f", response_status=201, response_data={}
        )
        for key in ("old", "fresh")
    )
    IdempotencyRecord.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - settings.IDEMPOTENCY_KEY_TTL - timedelta(minutes=1)
    )
    done_long_ago = tasks.record_run.enqueue(str(tmp_path / "runs"), "old")
    run_due_jobs()
    DBTaskResult.objects.filter(pk=done_long_ago.db_result.pk).update(
        finished_at=timezone.now() - timedelta(days=settings.JOB_RESULTS_KEPT_DAYS, minutes=1)
    )
    PeriodicJob.objects.update(next_run_at=timezone.now())  # their hour has come again

    run_due_jobs()

    assert list(IdempotencyRecord.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert not DBTaskResult.objects.filter(pk=done_long_ago.db_result.pk).exists()
    assert DBTaskResult.objects.filter(status=TaskResultStatus.SUCCESSFUL).count() == 4
