"""Parallel fund requests in real transactions: no overdraft, no lost increment.

Runs on both databases. On PostgreSQL the requests really overlap and the row locks
(SELECT ... FOR UPDATE) do the work; on SQLite (a file database in tests, see conftest.py)
`BEGIN IMMEDIATE` serialises the writers.
"""

import threading
from collections import Counter

import pytest
from django.core.management import call_command
from django.db import connections
from rest_framework.test import APIClient

from crowdfunding.models import Contribution
from tests.livestreams.factories import LiveStreamFactory
from tests.users.factories import UserFactory
from users.models import CreditLedgerEntry
from users.services import access_token_for, credits_grant

USERS = 20
REQUESTS_PER_USER = 3
AMOUNT = 40
BALANCE = 100  # enough for exactly two requests of 40


@pytest.mark.django_db(transaction=True)
def test_parallel_funding_neither_overdraws_nor_loses_an_increment():
    stream = LiveStreamFactory(funding_goal=10_000)
    users = [UserFactory() for _ in range(USERS)]
    for user in users:
        credits_grant(user=user, amount=BALANCE)
    tokens = {user.pk: access_token_for(user) for user in users}
    jobs = [user.pk for user in users for _ in range(REQUESTS_PER_USER)]  # 60 requests
    barrier = threading.Barrier(len(jobs))
    results: list[tuple[str, int]] = []
    lock = threading.Lock()

    def fund(user_id: str) -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens[user_id]}")
        try:
            barrier.wait(timeout=30)
            response = client.post(
                f"/api/v1/live-stream/{stream.id}/fund", {"amount": AMOUNT}, format="json"
            )
            with lock:
                results.append((user_id, response.status_code))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=fund, args=(user_id,)) for user_id in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert len(results) == len(jobs), "some requests never finished"
    assert Counter(status for _, status in results) == {201: USERS * 2, 409: USERS}
    accepted = Counter(user_id for user_id, status in results if status == 201)
    assert set(accepted.values()) == {2}
    for user in users:
        user.refresh_from_db()
        assert user.credit_balance == BALANCE - 2 * AMOUNT >= 0
        debits = CreditLedgerEntry.objects.filter(user=user, type="stream_funding_contribution")
        assert sorted(debits.values_list("amount", flat=True)) == [-AMOUNT, -AMOUNT]
        assert Contribution.objects.filter(user=user).count() == 2
    stream.refresh_from_db()
    assert stream.collected_funding == USERS * 2 * AMOUNT
    call_command("audit_ledger")  # raises CommandError on any mismatch


@pytest.mark.django_db(transaction=True)
def test_parallel_retries_with_one_idempotency_key_charge_once():
    stream = LiveStreamFactory()
    user = UserFactory()
    credits_grant(user=user, amount=1000)
    token = access_token_for(user)
    attempts = 12
    barrier = threading.Barrier(attempts)
    responses = []
    lock = threading.Lock()

    def fund() -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        try:
            barrier.wait(timeout=30)
            response = client.post(
                f"/api/v1/live-stream/{stream.id}/fund",
                {"amount": 70},
                format="json",
                headers={"Idempotency-Key": "double-tap"},
            )
            with lock:
                responses.append(response)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=fund) for _ in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert [r.status_code for r in responses] == [201] * attempts
    assert len({r.json()["data"]["contributionId"] for r in responses}) == 1
    user.refresh_from_db()
    assert user.credit_balance == 930
    assert Contribution.objects.filter(user=user).count() == 1
    call_command("audit_ledger")
