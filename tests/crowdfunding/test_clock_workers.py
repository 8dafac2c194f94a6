"""The clock's jobs on real `run_worker` processes, on SQLite and PostgreSQL: sweeps racing
on several workers expire and pay each stream once; a worker killed (SIGKILL) in the middle
of an expiry sweep loses nothing and refunds nobody twice."""

from datetime import timedelta

import pytest
from django.utils import timezone

from crowdfunding.audit import ledger_mismatches
from crowdfunding.models import Contribution, FundingPayout
from crowdfunding.tasks import funding_payouts_settle_job, live_streams_expire_job
from livestreams.models import LiveStream
from tests.crowdfunding.factories import ContributionFactory
from tests.livestreams.factories import EndedStreamFactory, LiveStreamFactory
from tests.support import wait_for
from users.models import CreditLedgerEntry, User

pytestmark = pytest.mark.django_db(transaction=True)


def overdue_streams(count: int, *, amount: int = 30) -> list[LiveStream]:
    """Scheduled streams two hours past their planned start (the grace is one hour), each
    with one funder who has nothing left."""
    start = timezone.now() - timedelta(hours=2)
    streams = [
        LiveStreamFactory(planned_start_date=start, planned_end_date=start + timedelta(hours=1))
        for _ in range(count)
    ]
    for stream in streams:
        ContributionFactory(stream=stream, amount=amount)
    return streams


def expired_count(streams) -> int:
    return LiveStream.objects.filter(
        pk__in=[s.pk for s in streams], status=LiveStream.Status.EXPIRED
    ).count()


def assert_refunded_once(streams, amount: int) -> None:
    contributions = Contribution.objects.filter(stream__in=streams)
    assert set(contributions.values_list("status", flat=True)) == {"refunded"}
    refunds = CreditLedgerEntry.objects.filter(
        type="stream_funding_refund", stream_id__in=[s.pk for s in streams]
    )
    assert refunds.count() == contributions.count() == len(streams)
    funders = User.objects.filter(pk__in=contributions.values("user_id"))
    assert set(funders.values_list("credit_balance", flat=True)) == {amount}
    assert list(ledger_mismatches()) == []


@pytest.mark.parametrize("workers", [2, 4])
def test_sweeps_racing_on_several_workers_expire_and_pay_each_stream_once(job_workers, workers):
    unstarted = overdue_streams(12)
    ended = [EndedStreamFactory() for _ in range(12)]
    for stream in ended:
        ContributionFactory(stream=stream, amount=50)
    job_workers.start(workers, clock_jobs={})
    for _ in range(3 * workers):  # more sweeps than workers, all due at once
        live_streams_expire_job.enqueue()
        funding_payouts_settle_job.enqueue()

    wait_for(lambda: expired_count(unstarted) == 12 and FundingPayout.objects.count() == 12)

    assert_refunded_once(unstarted, 30)
    assert sorted(FundingPayout.objects.values_list("stream_id", flat=True)) == sorted(
        s.pk for s in ended
    )
    revenue = CreditLedgerEntry.objects.filter(type="stream_revenue")
    assert revenue.count() == 12 and set(revenue.values_list("amount", flat=True)) == {40}
    creators = User.objects.filter(pk__in=[s.creator_id for s in ended])
    assert set(creators.values_list("credit_balance", flat=True)) == {40}


def test_a_worker_killed_in_the_middle_of_an_expiry_sweep_loses_nothing(job_workers):
    streams = overdue_streams(150)
    [first] = job_workers.start(1, clock_jobs={})
    live_streams_expire_job.enqueue()

    wait_for(lambda: expired_count(streams) >= 3, timeout=60, every=0.01)
    job_workers.kill(first)  # SIGKILL: its transaction in flight is rolled back
    done_when_killed = expired_count(streams)
    # A new worker finds the killed one's job stale (no heartbeat) and runs it again; the
    # beat's sweep would take the rest too.
    job_workers.start(1, clock_jobs={}, JOB_STALE_SECONDS="2")
    wait_for(lambda: expired_count(streams) == len(streams), timeout=90)

    assert 3 <= done_when_killed < len(streams)  # it really died mid-batch
    assert_refunded_once(streams, 30)
