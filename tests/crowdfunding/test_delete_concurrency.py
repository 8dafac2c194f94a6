"""Funding, supporting and renting racing the stream's deletion, in real parallel transactions.

Whatever the interleaving, no completed contribution, support or rental charge is left on a
deleted stream: a request that locked the stream first is refunded by the deletion, one that
came after finds no stream (404). Runs on both databases (see test_concurrency.py for how each
one serialises).
"""

import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connections
from django.utils import timezone
from rest_framework.test import APIClient

from conftest import access_token_for
from crowdfunding.models import Contribution, MiniCrowdFunding, MiniCrowdFundingSupport
from livestreams.models import LiveStream, ReplayRental, ReplayRentalCharge
from livestreams.services import replay_revenue_settle
from tests.crowdfunding.factories import MiniCrowdFundingFactory
from tests.livestreams.factories import EndedStreamFactory, LiveStreamFactory
from tests.users.factories import UserFactory
from users.models import CreditLedgerEntry
from users.services import credits_grant

FUNDERS = 12
BALANCE = 100


@pytest.mark.django_db(transaction=True)
def test_fund_and_support_racing_delete_leave_nothing_charged_on_the_deleted_stream():
    stream = LiveStreamFactory(funding_goal=10_000)
    mini = MiniCrowdFundingFactory(stream=stream, goal=10_000)
    funders = [UserFactory() for _ in range(FUNDERS)]
    for funder in funders:
        credits_grant(user=funder, amount=BALANCE)
    base = f"/api/v1/live-stream/{stream.id}"
    jobs = [(access_token_for(f), "post", f"{base}/fund", {"amount": 30}) for f in funders]
    jobs += [
        (
            access_token_for(f),
            "post",
            f"{base}/mini-crowd-fundings/{mini.id}/support",
            {"amount": 20},
        )
        for f in funders
    ]
    creator_token = access_token_for(stream.creator)
    jobs.insert(len(jobs) // 2, (creator_token, "delete", base, None))
    jobs.append((creator_token, "delete", base, None))  # a second delete: exactly one wins
    barrier = threading.Barrier(len(jobs))
    results: list[tuple[str, str, int]] = []
    lock = threading.Lock()

    def run(token: str, method: str, url: str, body) -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        try:
            barrier.wait(timeout=30)
            response = getattr(client, method)(url, body, format="json")
            with lock:
                results.append((method, url.rsplit("/", 1)[-1], response.status_code))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert len(results) == len(jobs), "some requests never finished"
    deletes = Counter(status for method, _, status in results if method == "delete")
    assert deletes == {200: 1, 404: 1}
    money = Counter(status for method, _, status in results if method == "post")
    assert set(money) <= {201, 404} and sum(money.values()) == 2 * FUNDERS
    stream.refresh_from_db()
    assert stream.deleted_at is not None and stream.collected_funding == 0
    assert not Contribution.objects.filter(stream=stream, status="completed").exists()
    assert not MiniCrowdFundingSupport.objects.filter(status="completed").exists()
    accepted = money[201]
    assert Contribution.objects.count() + MiniCrowdFundingSupport.objects.count() == accepted
    assert MiniCrowdFunding.objects.get().status == "cancelled"
    for funder in funders:
        funder.refresh_from_db()
        assert funder.credit_balance == BALANCE
    assert LiveStream.objects.alive().count() == 0
    call_command("audit_ledger")  # raises CommandError on any mismatch


RENTERS = 12
RENT_PRICE = 40


@pytest.mark.django_db(transaction=True)
def test_rent_racing_delete_leaves_no_charged_rental_on_the_deleted_stream():
    """Each rent either locked the stream before the deletion (charged, then refunded in full by
    it) or after (404, nothing charged); whatever the order, every renter ends where they began."""
    stream = EndedStreamFactory(replay_credit_price=RENT_PRICE)
    renters = [UserFactory() for _ in range(RENTERS)]
    for renter in renters:
        credits_grant(user=renter, amount=BALANCE)
    base = f"/api/v1/live-stream/{stream.id}"
    jobs = [(access_token_for(r), "post", f"{base}/replay-rentals", None) for r in renters]
    creator_token = access_token_for(stream.creator)
    jobs.insert(len(jobs) // 2, (creator_token, "delete", base, None))
    jobs.append((creator_token, "delete", base, None))
    barrier = threading.Barrier(len(jobs))
    results: list[tuple[str, int, dict]] = []
    lock = threading.Lock()

    def run(token: str, method: str, url: str, body) -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        try:
            barrier.wait(timeout=30)
            response = getattr(client, method)(url, body, format="json")
            with lock:
                results.append((method, response.status_code, response.json()))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert len(results) == len(jobs), "some requests never finished"
    deletes = Counter(status for method, status, _ in results if method == "delete")
    assert deletes == {200: 1, 404: 1}
    rents = [(status, body) for method, status, body in results if method == "post"]
    assert {status for status, _ in rents} <= {201, 404} and len(rents) == RENTERS
    for status, body in rents:
        if status == 404:
            assert body["errors"][1:] == ["Live stream not found"]
        else:
            assert body["data"]["price"] == RENT_PRICE
            assert body["data"]["creditBalance"] == BALANCE - RENT_PRICE
    charged = sum(status == 201 for status, _ in rents)
    (deleted,) = [body for method, status, body in results if method == "delete" and status == 200]
    assert deleted["data"]["refundedRentals"] == charged
    stream.refresh_from_db()
    assert stream.deleted_at is not None
    # Every charge that was taken was given back; none is left to be settled as revenue.
    assert ReplayRentalCharge.objects.count() == charged
    assert set(ReplayRentalCharge.objects.values_list("status", flat=True)) <= {"refunded"}
    assert set(ReplayRental.objects.values_list("status", flat=True)) <= {"refunded"}
    refunds = CreditLedgerEntry.objects.filter(type="stream_charge", amount=RENT_PRICE)
    assert refunds.count() == charged
    assert set(refunds.values_list("status", flat=True)) <= {"refunded"}
    for renter in renters:
        renter.refresh_from_db()
        assert renter.credit_balance == BALANCE
    assert replay_revenue_settle(now=timezone.now() + timedelta(days=2)) == 0
    call_command("audit_ledger")
