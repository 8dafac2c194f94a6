"""The caller's wallet (API.md §8): /users/me and /users/me/transactions."""

from datetime import timedelta

import pytest
from django.utils import timezone

from livestreams.services import replay_rental_create
from tests.crowdfunding.factories import ContributionFactory
from tests.livestreams.factories import EndedStreamFactory
from tests.support import rentals_refund, tampered
from tests.users.factories import UserFactory
from users.models import CreditLedgerEntry
from users.services import credits_grant, ledger_post

pytestmark = pytest.mark.django_db

ME = "/api/v1/users/me"
TRANSACTIONS = "/api/v1/users/me/transactions"
ITEM_KEYS = [
    "_id", "type", "direction", "amount", "status", "balanceAfter", "description", "occurredAt",
    "streamId",
]  # fmt: skip


def _at(entry: CreditLedgerEntry, when) -> CreditLedgerEntry:
    """Backdate a row (ledger rows are append-only: as a superuser would, `tampered`)."""
    with tampered():
        CreditLedgerEntry.objects.filter(pk=entry.pk).update(created_at=when)
    entry.refresh_from_db()
    return entry


@pytest.fixture
def history(user):
    """Five movements a day apart: grant, contribution, rent, refund of the rent, revenue."""
    day0 = timezone.now().replace(microsecond=0) - timedelta(days=10)
    grant = _at(credits_grant(user=user, amount=500), day0)
    contribution = ContributionFactory(user=user, amount=100)  # its own purchase + debit
    purchase = CreditLedgerEntry.objects.filter(user=user, type="credit_purchase").get()
    _at(purchase, day0 + timedelta(hours=1))
    debit = _at(contribution.ledger_entry, day0 + timedelta(days=1))
    stream = EndedStreamFactory(replay_credit_price=30)
    replay_rental_create(user=user, stream_id=stream.id, now=day0 + timedelta(days=2))
    rent = _at(
        CreditLedgerEntry.objects.get(user=user, type="stream_charge"), day0 + timedelta(days=2)
    )
    rentals_refund(stream=stream, now=day0 + timedelta(days=2, hours=1))
    refund = CreditLedgerEntry.objects.get(user=user, type="stream_charge", status="refunded")
    refund = _at(refund, day0 + timedelta(days=3))
    from django.db import transaction

    with transaction.atomic():
        revenue = ledger_post(
            user_id=user.pk, amount=8, entry_type="stream_revenue", stream_id=stream.id
        )
    revenue = _at(revenue, day0 + timedelta(days=4))
    return {
        "day0": day0,
        "stream": stream,
        "contribution": contribution,
        "grant": grant,
        "debit": debit,
        "rent": rent,
        "refund": refund,
        "revenue": revenue,
    }


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [item["_id"] for item in response.json()["data"]["list"]]


def test_me_is_the_summary_plus_email_balance_and_status(auth_client, user):
    credits_grant(user=user, amount=75)

    response = auth_client.get(ME)

    assert response.status_code == 200
    data = response.json()["data"]
    assert list(data) == [
        "_id", "username", "name", "surname", "profilePhoto", "availabilityStatus", "email",
        "creditBalance", "accountStatus",
    ]  # fmt: skip
    assert data["_id"] == user.pk and data["email"] == user.email
    assert data["creditBalance"] == 75 and data["accountStatus"] == "active"


def test_me_needs_a_token(api_client):
    for url in (ME, TRANSACTIONS):
        response = api_client.get(url)
        assert response.status_code == 401
        assert response.json()["errors"] == ["Authentication required"]


def test_transactions_newest_first_with_every_field(auth_client, user, history):
    UserFactory()  # other people's rows never show
    response = auth_client.get(TRANSACTIONS)

    data = response.json()["data"]
    assert list(data) == ["list", "pagination"]
    items = data["list"]
    assert [item["type"] for item in items] == [
        "stream_revenue", "stream_charge", "stream_charge", "stream_funding_contribution",
        "credit_purchase", "admin_adjustment",
    ]  # fmt: skip
    assert all(list(item) == ITEM_KEYS for item in items)
    revenue, refund, rent, debit = items[:4]
    stream_id = history["stream"].id
    assert revenue == {
        "_id": history["revenue"].pk,
        "type": "stream_revenue",
        "direction": "credit",
        "amount": 8,
        "status": "completed",
        "balanceAfter": 508,
        "description": "",
        "occurredAt": (history["day0"] + timedelta(days=4)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "streamId": stream_id,
    }
    assert (refund["direction"], refund["amount"], refund["status"], refund["streamId"]) == (
        "credit", 30, "refunded", stream_id,
    )  # fmt: skip
    assert (rent["direction"], rent["amount"], rent["status"], rent["balanceAfter"]) == (
        "debit", 30, "completed", 470,
    )  # fmt: skip
    assert debit["streamId"] == history["contribution"].stream_id
    assert items[-1]["streamId"] is None
    assert data["pagination"] == {
        "currentPage": 1,
        "totalPages": 1,
        "totalItems": 6,
        "itemsPerPage": 20,
        "hasNextPage": False,
        "hasPrevPage": False,
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"types": "stream_charge"}, ["refund", "rent"]),
        ({"types": "stream_charge,stream_revenue"}, ["revenue", "refund", "rent"]),
        ({"types": ["stream_revenue", "admin_adjustment"]}, ["revenue", "grant"]),
        ({"types": "gift_spend"}, []),  # known to the original, never written here
        ({"statuses": "refunded"}, ["refund"]),
        ({"statuses": ["refunded", "completed"], "types": "stream_charge"}, ["refund", "rent"]),
        ({"direction": "debit"}, ["rent", "debit"]),
        ({"direction": "credit", "types": "stream_charge"}, ["refund"]),
        ({"sort": "asc", "types": "stream_charge"}, ["rent", "refund"]),
    ],
)
def test_transaction_filters(auth_client, history, params, expected):
    assert _ids(auth_client.get(TRANSACTIONS, params)) == [history[name].pk for name in expected]


def test_date_range_is_inclusive(auth_client, history):
    day0 = history["day0"]
    params = {
        "dateFrom": (day0 + timedelta(days=1)).isoformat(),
        "dateTo": (day0 + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }

    assert _ids(auth_client.get(TRANSACTIONS, params)) == [
        history[name].pk for name in ("refund", "rent", "debit")
    ]


def test_transactions_page(auth_client, history):
    data = auth_client.get(TRANSACTIONS, {"page": 2, "limit": 4, "sort": "asc"}).json()["data"]

    assert [item["_id"] for item in data["list"]] == [
        history["refund"].pk,
        history["revenue"].pk,
    ]
    assert data["pagination"] == {
        "currentPage": 2,
        "totalPages": 2,
        "totalItems": 6,
        "itemsPerPage": 4,
        "hasNextPage": False,
        "hasPrevPage": True,
    }


ALLOWED_STATUSES = "pending, completed, failed, refunded"


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"types": "stream_charge,bogus"}, "types: Unknown value(s): bogus. Allowed: "),
        ({"types": ""}, "types: Must not be empty."),
        ({"types": "stream_charge,"}, "types: Must not be empty."),
        (
            {"statuses": ["refunded", "done"]},
            f"statuses: Unknown value(s): done. Allowed: {ALLOWED_STATUSES}.",
        ),  # noqa: E501
        ({"direction": "up"}, 'direction: "up" is not a valid choice.'),
        ({"sort": "newest"}, 'sort: "newest" is not a valid choice.'),
        ({"dateFrom": "yesterday"}, "dateFrom: Datetime has wrong format."),
        ({"dateTo": "2026-13-01T00:00:00Z"}, "dateTo: Datetime has wrong format."),
        (
            {"dateFrom": "2026-05-02T00:00:00Z", "dateTo": "2026-05-01T00:00:00Z"},
            "dateTo: Must not be before dateFrom.",
        ),  # noqa: E501
        ({"page": "0"}, "page: Ensure this value is greater than or equal to 1."),
        ({"limit": "101"}, "limit: Ensure this value is less than or equal to 100."),
        ({"limit": "ten"}, "limit: A valid integer is required."),
    ],
)
def test_bad_filters_are_a_400_naming_the_parameter(auth_client, params, error):
    response = auth_client.get(TRANSACTIONS, params)

    body = response.json()
    assert response.status_code == 400
    assert body["errors"][0] == "Validation failed"
    assert body["errors"][1].startswith(error), body["errors"]


@pytest.mark.parametrize("count", [2, 19])
def test_transactions_query_count_is_constant(auth_client, user, count, django_assert_num_queries):
    for _ in range(count):
        credits_grant(user=user, amount=1)

    # the caller, the page (a first page that holds everything needs no count)
    with django_assert_num_queries(2):
        response = auth_client.get(TRANSACTIONS)

    assert len(response.json()["data"]["list"]) == count

    # the caller, the page, the total
    with django_assert_num_queries(3):
        auth_client.get(TRANSACTIONS, {"page": 2, "limit": 1})
