"""Credit transfers (API.md §12): one debit and one credit, never to oneself or a suspended
user, idempotent, and 64 parallel transfers both ways that neither deadlock nor lose a credit."""

import threading
from collections import Counter

import pytest
from django.core.management import call_command
from django.db import connections
from rest_framework.test import APIClient

from tests.support import money_snapshot
from tests.users.factories import UserFactory
from users.models import CreditLedgerEntry, CreditTransfer, User
from users.services import access_token_for, credits_grant

URL = "/api/v1/messages/credit-transfer"
SELF = "you cannot transfer credits to yourself"
HEX = "must be a 24-character lowercase hex id"
RANGE = "must be an integer from 1 to 1000000"


@pytest.fixture
def sender(user):
    credits_grant(user=user, amount=100)
    return user


def test_transfer_moves_credits_in_one_debit_and_one_credit(auth_client, sender):
    recipient = UserFactory()
    response = auth_client.post(URL, {"recipientId": recipient.pk, "amount": 30}, format="json")
    assert response.status_code == 201
    data = response.json()["data"]
    assert list(data) == [
        "senderId", "recipientId", "transferredAmount", "senderBalance", "recipientBalance",
    ]  # fmt: skip
    assert data == {
        "senderId": sender.pk,
        "recipientId": recipient.pk,
        "transferredAmount": 30,
        "senderBalance": 70,
        "recipientBalance": 30,
    }
    sent = CreditLedgerEntry.objects.get(user=sender, type="credit_transfer_sent")
    received = CreditLedgerEntry.objects.get(user=recipient, type="credit_transfer_received")
    assert (sent.amount, received.amount) == (-30, 30)
    transfer = CreditTransfer.objects.get()
    assert (transfer.sent_entry, transfer.received_entry) == (sent, received)
    call_command("audit_ledger")


def test_both_sides_see_the_rows_in_their_transactions(auth_client, sender, client_for):
    recipient = UserFactory()
    auth_client.post(URL, {"recipientId": recipient.pk, "amount": 30}, format="json")
    mine = auth_client.get("/api/v1/users/me/transactions?types=credit_transfer_sent")
    assert [(i["type"], i["direction"], i["amount"]) for i in mine.json()["data"]["list"]] == [
        ("credit_transfer_sent", "debit", 30)
    ]
    theirs = client_for(recipient).get("/api/v1/users/me/transactions?direction=credit")
    assert [(i["type"], i["amount"], i["balanceAfter"]) for i in theirs.json()["data"]["list"]] == [
        ("credit_transfer_received", 30, 30)
    ]


@pytest.mark.parametrize(
    ("body", "status", "detail"),
    [
        ({"recipientId": "RECIPIENT", "amount": 101}, 409, "Insufficient credit balance"),
        ({"recipientId": "SELF", "amount": 1}, 400, f"recipientId: {SELF}"),
        ({"recipientId": "SUSPENDED", "amount": 1}, 409, "Recipient account is suspended"),
        ({"recipientId": "64d15f9e2e6c8f4d5a123456", "amount": 1}, 404, "Recipient not found"),
        ({"recipientId": "nope", "amount": 1}, 400, f"recipientId: {HEX}"),
        ({"recipientId": "RECIPIENT", "amount": 0}, 400, f"amount: {RANGE}"),
        ({"recipientId": "RECIPIENT", "amount": "5"}, 400, "amount: A valid integer is required."),
        ({"recipientId": "RECIPIENT", "amount": 1.5}, 400, "amount: A valid integer is required."),
        ({"recipientId": "RECIPIENT"}, 400, "amount: This field is required."),
        ({"amount": 1}, 400, "recipientId: This field is required."),
    ],
)  # fmt: skip
def test_refused_transfers_change_nothing(auth_client, sender, body, status, detail):
    recipient = UserFactory()
    suspended = UserFactory(account_status=User.AccountStatus.SUSPENDED)
    names = {"RECIPIENT": recipient.pk, "SELF": sender.pk, "SUSPENDED": suspended.pk}
    if "recipientId" in body:
        body = {**body, "recipientId": names.get(body["recipientId"], body["recipientId"])}
    before = money_snapshot()
    response = auth_client.post(URL, body, format="json")
    assert response.status_code == status
    assert response.json()["errors"][1] == detail
    assert money_snapshot() == before


def test_suspended_sender_is_403(client_for, db):
    suspended = UserFactory(account_status=User.AccountStatus.SUSPENDED)
    response = client_for(suspended).post(
        URL, {"recipientId": UserFactory().pk, "amount": 1}, format="json"
    )
    assert response.status_code == 403


def test_anonymous_is_401(api_client, db):
    assert api_client.post(URL, {"recipientId": "x", "amount": 1}, format="json").status_code == 401


def test_idempotency_key_sends_once(auth_client, sender):
    recipient = UserFactory()
    body = {"recipientId": recipient.pk, "amount": 10}
    first = auth_client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="t-1")
    again = auth_client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="t-1")
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["data"] == first.json()["data"]
    other = auth_client.post(URL, {**body, "amount": 11}, format="json", HTTP_IDEMPOTENCY_KEY="t-1")
    assert other.status_code == 409
    assert CreditTransfer.objects.count() == 1


def test_transfers_share_the_money_endpoints_throttle(auth_client, sender, throttle_rates):
    throttle_rates(funding="3/min")
    recipient = UserFactory()
    statuses = [
        auth_client.post(URL, {"recipientId": recipient.pk, "amount": 1}, format="json").status_code
        for _ in range(4)
    ]
    assert statuses == [201, 201, 201, 429]


@pytest.mark.django_db(transaction=True)
def test_64_parallel_transfers_both_ways_neither_deadlock_nor_lose_a_credit():
    alice, bob = UserFactory(), UserFactory()
    credits_grant(user=alice, amount=40)
    credits_grant(user=bob, amount=40)
    tokens = {alice.pk: access_token_for(alice), bob.pk: access_token_for(bob)}
    jobs = [(alice.pk, bob.pk, 3), (bob.pk, alice.pk, 2)] * 32  # 64 transfers, both ways
    barrier = threading.Barrier(len(jobs))
    results: list[tuple[str, int]] = []
    lock = threading.Lock()

    def transfer(sender_id: str, recipient_id: str, amount: int) -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens[sender_id]}")
        try:
            barrier.wait(timeout=30)
            response = client.post(
                URL, {"recipientId": recipient_id, "amount": amount}, format="json"
            )
            with lock:
                results.append((sender_id, response.status_code))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=transfer, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert len(results) == len(jobs), "some transfers never finished (a deadlock?)"
    assert set(Counter(status for _, status in results)) <= {201, 409}
    alice.refresh_from_db()
    bob.refresh_from_db()
    assert alice.credit_balance + bob.credit_balance == 80  # nothing invented or lost
    sent = {
        user.pk: sum(CreditTransfer.objects.filter(sender=user).values_list("amount", flat=True))
        for user in (alice, bob)
    }
    accepted = Counter(sender_id for sender_id, status in results if status == 201)
    assert CreditTransfer.objects.filter(sender=alice).count() == accepted[alice.pk]
    assert CreditTransfer.objects.filter(sender=bob).count() == accepted[bob.pk]
    assert alice.credit_balance == 40 - sent[alice.pk] + sent[bob.pk]
    assert min(alice.credit_balance, bob.credit_balance) >= 0
    call_command("audit_ledger")


def test_both_sides_are_notified_in_their_inbox(auth_client, sender, client_for):
    recipient = UserFactory()
    auth_client.post(URL, {"recipientId": recipient.pk, "amount": 30}, format="json")
    mine = auth_client.get("/api/v1/notifications?category=payments").json()["data"]["list"]
    theirs = client_for(recipient).get("/api/v1/notifications").json()["data"]["list"]
    assert [(n["type"], n["title"], n["body"]) for n in mine] == [
        (
            "credit_transfer_sent",
            f"You sent 30 credits to {recipient.username}",
            "Your balance is now 70 credits.",
        )
    ]
    assert [(n["category"], n["type"], n["title"]) for n in theirs] == [
        ("payments", "credit_transfer_received", f"{sender.username} sent you 30 credits")
    ]


def test_a_refused_transfer_notifies_nobody(auth_client, sender, client_for):
    recipient = UserFactory()
    response = auth_client.post(URL, {"recipientId": recipient.pk, "amount": 500}, format="json")
    assert response.status_code == 409
    assert client_for(recipient).get("/api/v1/notifications").json()["data"]["list"] == []
