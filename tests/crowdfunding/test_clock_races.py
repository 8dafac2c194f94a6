"""The clock against racing requests and racing sweeps, in real transactions on both
databases (on PostgreSQL the row locks and SKIP LOCKED do the work; on SQLite `BEGIN
IMMEDIATE` serialises the writers)."""

import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone
from rest_framework.test import APIClient

from crowdfunding.audit import ledger_mismatches
from crowdfunding.clock import funding_payouts_settle_due, live_streams_expire_due
from crowdfunding.models import Contribution, FundingPayout
from livestreams.models import LiveStream
from tests.crowdfunding.factories import ContributionFactory
from tests.livestreams.factories import EndedStreamFactory, LiveStreamFactory
from tests.users.factories import UserFactory
from users.models import CreditLedgerEntry, User
from users.services import access_token_for, credits_grant

FUNDERS = 12
BALANCE = 1000


def run_threads(targets) -> None:
    threads = [threading.Thread(target=target) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread never finished"


@pytest.mark.django_db(transaction=True)
def test_funding_racing_the_expiry_is_refused_or_refunded_never_kept(settings):
    """With no grace, funding closes and the stream expires at the same instant: funders
    hammer the stream across that instant while a sweep runs in a loop. Each fund is either
    refused (409) or made and then refunded by the expiry; none stays on the expired stream."""
    settings.STREAM_START_GRACE = timedelta(0)
    stream = LiveStreamFactory()
    users = [UserFactory() for _ in range(FUNDERS)]
    for user in users:
        credits_grant(user=user, amount=BALANCE)
    tokens = [access_token_for(user) for user in users]
    # The instant comes 2 s after the set-up, however long a loaded machine took over it, so
    # that funders have time to fund before it.
    start = timezone.now() + timedelta(seconds=2)
    LiveStream.objects.filter(pk=stream.pk).update(
        planned_start_date=start, planned_end_date=start + timedelta(hours=1)
    )
    statuses: list[int] = []
    lock = threading.Lock()
    expired = threading.Event()

    def funder(token: str) -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        try:
            while not expired.is_set():
                response = client.post(
                    f"/api/v1/live-stream/{stream.pk}/fund", {"amount": 1}, format="json"
                )
                with lock:
                    statuses.append(response.status_code)
        finally:
            connections.close_all()

    def sweeper() -> None:
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                if live_streams_expire_due():
                    break
                time.sleep(0.01)
            time.sleep(0.3)  # funders keep trying on the expired stream for a moment
        finally:
            expired.set()
            connections.close_all()

    run_threads([sweeper, *[lambda token=token: funder(token) for token in tokens]])

    stream.refresh_from_db()
    assert stream.status == LiveStream.Status.EXPIRED and stream.collected_funding == 0
    counts = Counter(statuses)
    assert set(counts) <= {201, 409, 429} and counts[201] > 0 and counts[409] > 0, counts
    contributions = Contribution.objects.filter(stream=stream)
    assert contributions.count() == counts[201]
    assert not contributions.exclude(status="refunded").exists()
    refunds = CreditLedgerEntry.objects.filter(stream_id=stream.pk, type="stream_funding_refund")
    assert refunds.count() == counts[201]
    assert sorted(User.objects.filter(pk__in=[u.pk for u in users]).values_list(
        "credit_balance", flat=True
    )) == [BALANCE] * FUNDERS  # fmt: skip
    assert list(ledger_mismatches()) == []


@pytest.mark.django_db(transaction=True)
def test_sweeps_on_many_threads_pay_each_stream_once_and_expire_each_once():
    ended = [EndedStreamFactory() for _ in range(6)]
    for stream in ended:
        ContributionFactory(stream=stream, amount=50)
    unstarted = [LiveStreamFactory() for _ in range(6)]
    for stream in unstarted:
        ContributionFactory(stream=stream, amount=30)
    later = timezone.now() + timedelta(days=3)
    results: list[tuple[int, int]] = []
    barrier = threading.Barrier(4)

    def sweep() -> None:
        try:
            barrier.wait(timeout=30)
            paid = funding_payouts_settle_due(now=later, batch=2)
            expired = live_streams_expire_due(now=later, batch=2)
            results.append((paid, expired))
        finally:
            connections.close_all()

    run_threads([sweep] * 4)

    assert sum(paid for paid, _ in results) == 6
    assert sum(expired for _, expired in results) == 6
    assert FundingPayout.objects.count() == 6
    assert CreditLedgerEntry.objects.filter(type="stream_revenue").count() == 6
    for stream in ended:
        assert User.objects.get(pk=stream.creator_id).credit_balance == 40
    refunds = CreditLedgerEntry.objects.filter(type="stream_funding_refund")
    assert refunds.count() == 6
    assert list(ledger_mismatches()) == []
