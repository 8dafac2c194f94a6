"""The store webhook (API.md §12): RevenueCat's sample events from tests/users/revenuecat/,
applied once per event id, refunds with and without the credits, and what is ignored."""

import copy
import json
import threading
from collections import Counter
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connections
from rest_framework.test import APIClient

from tests.support import money_snapshot
from tests.users.factories import UserFactory
from users.models import CreditLedgerEntry, CreditPackage, StoreEvent
from users.services import credits_grant

SAMPLES = Path(__file__).parent / "revenuecat"
SECRET = "whsec-test-0123456789"
URL = "/api/v1/webhooks/revenuecat"
RECEIPT_KEYS = ["eventId", "type", "outcome", "detail", "credits", "redelivered"]


def sample(name: str, user=None, **changes) -> dict:
    payload = json.loads((SAMPLES / f"{name}.json").read_text())
    event = payload["event"]
    if user is not None:
        for key in ("app_user_id", "original_app_user_id"):
            event[key] = user.pk
        event["aliases"] = [user.pk]
    event.update(changes)
    return payload


@pytest.fixture(autouse=True)
def _secret(settings):
    settings.REVENUECAT_WEBHOOK_SECRET = SECRET


@pytest.fixture
def packages(db):
    CreditPackage.objects.all().delete()
    return {
        "allmine.credits.100": CreditPackage.objects.create(
            credit_amount=100,
            revenuecat_product_id="allmine.credits.100",
            store_identifier="allmine.credits.100",
            store_type="apple",
        ),
        "allmine_credits_250": CreditPackage.objects.create(
            credit_amount=250,
            revenuecat_product_id="allmine_credits_250",
            store_identifier="allmine_credits_250",
            store_type="google",
            is_active=False,  # retired since: a paid purchase is still credited
        ),
    }


def post(payload, authorization: str | None = SECRET, client=None):
    client = client or APIClient()
    headers = {} if authorization is None else {"HTTP_AUTHORIZATION": authorization}
    return client.post(URL, payload, format="json", **headers)


@pytest.mark.parametrize(
    "authorization", [None, "", "wrong", f"{SECRET}x", f"Bearer {SECRET[:-1]}"]
)
def test_missing_or_wrong_secret_is_401_and_changes_nothing(packages, authorization):
    buyer = UserFactory()
    before = money_snapshot()
    response = post(sample("non_renewing_purchase", buyer), authorization)
    assert response.status_code == 401
    assert response.json()["errors"][0] == "Authentication required"
    assert money_snapshot() == before


def test_no_secret_configured_refuses_everything(packages, settings):
    settings.REVENUECAT_WEBHOOK_SECRET = ""
    assert post(sample("non_renewing_purchase", UserFactory()), "").status_code == 401


@pytest.mark.parametrize("authorization", [SECRET, f"Bearer {SECRET}"])
def test_purchase_credits_the_package_once(packages, authorization):
    buyer = UserFactory()
    payload = sample("non_renewing_purchase", buyer)
    response = post(payload, authorization)
    assert response.status_code == 200
    data = response.json()["data"]
    assert list(data) == RECEIPT_KEYS
    assert data == {
        "eventId": payload["event"]["id"],
        "type": "NON_RENEWING_PURCHASE",
        "outcome": "credited",
        "detail": "100 credits",
        "credits": 100,
        "redelivered": False,
    }
    buyer.refresh_from_db()
    assert buyer.credit_balance == 100
    row = CreditLedgerEntry.objects.get(user=buyer)
    assert (row.type, row.amount, row.status) == ("credit_purchase", 100, "completed")
    event = StoreEvent.objects.get()
    assert event.ledger_entry == row and event.payload == payload

    again = post(payload)  # the store retries the same delivery
    assert again.status_code == 200
    assert again.json()["data"] == {**data, "redelivered": True}
    buyer.refresh_from_db()
    assert buyer.credit_balance == 100
    assert StoreEvent.objects.count() == 1
    call_command("audit_ledger")


def test_initial_purchase_of_a_retired_package_is_credited(packages):
    buyer = UserFactory()
    response = post(sample("initial_purchase", buyer))
    assert response.json()["data"]["outcome"] == "credited"
    buyer.refresh_from_db()
    assert buyer.credit_balance == 250


@pytest.mark.parametrize(
    ("changes", "detail"),
    [
        ({"product_id": "com.other.product"}, "unknown product 'com.other.product'"),
        ({"app_user_id": "64d15f9e2e6c8f4d5a123456"}, "unknown user '64d15f9e2e6c8f4d5a123456'"),
        ({"app_user_id": "$RCAnonymousID:8069238d"}, "unknown user '$RCAnonymousID:8069238d'"),
    ],
)
def test_unknown_product_or_user_is_200_recorded_as_ignored(packages, changes, detail):
    buyer = UserFactory()
    before = money_snapshot()
    payload = sample("non_renewing_purchase", buyer, **changes)
    response = post(payload)
    assert response.status_code == 200
    assert response.json()["data"]["outcome"] == "ignored"
    assert response.json()["data"]["detail"] == detail
    event = StoreEvent.objects.get()
    assert (event.outcome, event.ledger_entry, event.credits) == ("ignored", None, 0)
    after = money_snapshot()
    assert after.pop("store_events") != before.pop("store_events")
    assert after == before


def test_other_event_types_are_ignored(packages):
    buyer = UserFactory()
    response = post(sample("renewal", buyer))
    assert response.status_code == 200
    assert response.json()["data"]["outcome"] == "ignored"
    assert response.json()["data"]["detail"] == "event type RENEWAL moves no credits"
    not_refund = sample("cancellation_refund", buyer, cancel_reason="UNSUBSCRIBE")
    assert post(not_refund).json()["data"]["outcome"] == "ignored"
    buyer.refresh_from_db()
    assert buyer.credit_balance == 0


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"event": "x"},
        {"event": {"type": "INITIAL_PURCHASE"}},
        {"event": {"id": 12, "type": "INITIAL_PURCHASE"}},
        {"event": {"id": "e1", "type": "INITIAL_PURCHASE", "app_user_id": 5}},
        {"event": {"id": "e\u0000", "type": "INITIAL_PURCHASE"}},
        {"event": {"id": "e2", "type": "RENEWAL", "note": "nul \u0000 inside"}},
        [],
    ],
)
def test_malformed_bodies_are_a_400(packages, payload):
    response = post(payload)
    assert response.status_code == 400
    assert StoreEvent.objects.count() == 0


def test_refund_takes_the_credits_back_when_the_balance_allows(packages):
    buyer = UserFactory()
    post(sample("non_renewing_purchase", buyer))
    credits_grant(user=buyer, amount=5)
    response = post(sample("cancellation_refund", buyer))
    assert response.status_code == 200
    data = response.json()["data"]
    assert (data["outcome"], data["credits"]) == ("refunded", 100)
    buyer.refresh_from_db()
    assert buyer.credit_balance == 5
    refund = StoreEvent.objects.get(outcome="refunded")
    assert refund.refund_of.outcome == "credited"
    row = refund.ledger_entry
    assert (row.type, row.amount, row.status) == ("credit_purchase", -100, "refunded")
    # A second refund event of the same purchase takes nothing more.
    second = post(sample("cancellation_refund", buyer, id="another-refund-event"))
    assert second.json()["data"]["outcome"] == "ignored"
    buyer.refresh_from_db()
    assert buyer.credit_balance == 5
    call_command("audit_ledger")


def test_refund_after_the_credits_were_spent_records_a_case_for_operators(packages):
    buyer, friend = UserFactory(), UserFactory()
    post(sample("non_renewing_purchase", buyer))
    client = APIClient()
    from users.services import access_token_for

    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token_for(buyer)}")
    spent = client.post(
        "/api/v1/messages/credit-transfer",
        {"recipientId": friend.pk, "amount": 60},
        format="json",
    )
    assert spent.status_code == 201
    response = post(sample("cancellation_refund", buyer))
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["outcome"] == "refund_short"
    assert data["detail"] == "refund of 100 credits not recovered: the balance is 40"
    buyer.refresh_from_db()
    assert buyer.credit_balance == 40  # nothing taken, never below zero
    case = StoreEvent.objects.get(outcome="refund_short")
    assert case.ledger_entry is None and case.user == buyer and case.credits == 100
    call_command("audit_ledger")


def test_refund_of_an_unknown_purchase_is_ignored(packages):
    buyer = UserFactory()
    credits_grant(user=buyer, amount=500)
    response = post(sample("cancellation_refund", buyer))
    assert response.json()["data"]["outcome"] == "ignored"
    buyer.refresh_from_db()
    assert buyer.credit_balance == 500


def _deliver_at_once(payloads: list[dict]) -> list[int]:
    barrier = threading.Barrier(len(payloads))
    statuses: list[int] = []
    lock = threading.Lock()

    def deliver(payload):
        try:
            barrier.wait(timeout=30)
            response = post(payload)
            with lock:
                statuses.append(response.status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver, args=(payload,)) for payload in payloads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return statuses


@pytest.mark.django_db(transaction=True)
def test_concurrent_deliveries_of_one_event_credit_it_once(settings):
    settings.REVENUECAT_WEBHOOK_SECRET = SECRET
    CreditPackage.objects.all().delete()
    CreditPackage.objects.create(
        credit_amount=100,
        revenuecat_product_id="allmine.credits.100",
        store_identifier="allmine.credits.100",
        store_type="apple",
    )
    buyer = UserFactory()
    payload = sample("non_renewing_purchase", buyer)
    statuses = _deliver_at_once([copy.deepcopy(payload) for _ in range(8)])
    assert statuses == [200] * 8
    buyer.refresh_from_db()
    assert buyer.credit_balance == 100
    assert CreditLedgerEntry.objects.filter(user=buyer).count() == 1
    assert StoreEvent.objects.count() == 1

    refunds = [sample("cancellation_refund", buyer, id=f"refund-{n}") for n in range(6)]
    refunds += [copy.deepcopy(refunds[0]) for _ in range(2)]
    assert _deliver_at_once(refunds) == [200] * 8
    buyer.refresh_from_db()
    assert buyer.credit_balance == 0
    outcomes = Counter(StoreEvent.objects.values_list("outcome", flat=True))
    assert outcomes == {"credited": 1, "refunded": 1, "ignored": 5}
    call_command("audit_ledger")


def test_test_purchase_is_a_404_unless_allowed(packages, auth_client, user, settings):
    settings.ALLOW_TEST_PURCHASES = False
    package = packages["allmine.credits.100"]
    response = auth_client.post(
        "/api/v1/credit-packages/purchase", {"packageId": package.pk}, format="json"
    )
    assert response.status_code == 404
    user.refresh_from_db()
    assert user.credit_balance == 0


def test_test_purchase_credits_like_a_store_purchase(packages, auth_client, user, settings):
    settings.ALLOW_TEST_PURCHASES = True
    package = packages["allmine.credits.100"]
    response = auth_client.post(
        "/api/v1/credit-packages/purchase",
        {"packageId": package.pk},
        format="json",
        HTTP_IDEMPOTENCY_KEY="buy-1",
    )
    assert response.status_code == 201
    data = response.json()["data"]
    assert list(data) == ["eventId", "packageId", "creditAmount", "creditBalance"]
    assert data["eventId"].startswith("test-")
    assert (data["packageId"], data["creditAmount"], data["creditBalance"]) == (
        package.pk,
        100,
        100,
    )
    replay = auth_client.post(
        "/api/v1/credit-packages/purchase",
        {"packageId": package.pk},
        format="json",
        HTTP_IDEMPOTENCY_KEY="buy-1",
    )
    assert replay.status_code == 201 and replay.json()["data"] == data
    user.refresh_from_db()
    assert user.credit_balance == 100
    event = StoreEvent.objects.get()
    assert (event.event_type, event.outcome, event.user) == ("TEST_PURCHASE", "credited", user)
    call_command("audit_ledger")


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"packageId": "nope"}, 400),
        ({}, 400),
        ({"packageId": 5}, 400),
        ({"packageId": "64d15f9e2e6c8f4d5a123456"}, 404),
        ("retired", 409),
    ],
)
def test_test_purchase_errors(packages, auth_client, user, settings, body, status):
    settings.ALLOW_TEST_PURCHASES = True
    if body == "retired":
        body = {"packageId": packages["allmine_credits_250"].pk}
    before = money_snapshot()
    response = auth_client.post("/api/v1/credit-packages/purchase", body, format="json")
    assert response.status_code == status
    assert money_snapshot() == before
