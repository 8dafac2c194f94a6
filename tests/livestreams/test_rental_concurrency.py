"""Parallel rent requests in real transactions (both databases; see tests/crowdfunding/
test_concurrency.py for how each database serialises them)."""

import threading
from collections import Counter

import pytest
from django.core.management import call_command
from django.db import connections
from rest_framework.test import APIClient

from conftest import access_token_for
from livestreams.models import ReplayRental, ReplayRentalCharge
from tests.livestreams.factories import EndedStreamFactory
from tests.users.factories import UserFactory
from users.models import CreditLedgerEntry
from users.services import credits_grant

REQUESTS = 50


@pytest.mark.django_db(transaction=True)
def test_fifty_parallel_rents_of_one_user_charge_once(throttle_rates):
    throttle_rates(funding="1000/min")
    stream = EndedStreamFactory(replay_credit_price=40)
    user = UserFactory()
    credits_grant(user=user, amount=1000)
    token = access_token_for(user)
    barrier = threading.Barrier(REQUESTS)
    results: list[tuple[int, str]] = []
    lock = threading.Lock()

    def rent() -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        try:
            barrier.wait(timeout=60)
            response = client.post(f"/api/v1/live-stream/{stream.id}/replay-rentals")
            with lock:
                results.append((response.status_code, response.json()["data"]["rentalId"]))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=rent) for _ in range(REQUESTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)

    assert len(results) == REQUESTS, "some requests never finished"
    assert Counter(status for status, _ in results) == {201: 1, 200: REQUESTS - 1}
    assert len({rental_id for _, rental_id in results}) == 1
    user.refresh_from_db()
    assert user.credit_balance == 960
    charges = CreditLedgerEntry.objects.filter(user=user, type="stream_charge")
    assert list(charges.values_list("amount", flat=True)) == [-40]
    assert ReplayRental.objects.count() == 1 and ReplayRentalCharge.objects.count() == 1
    call_command("audit_ledger")
