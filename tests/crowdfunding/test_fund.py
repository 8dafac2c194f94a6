"""POST /api/v1/live-stream/{id}/fund."""

import pytest
from django.db.models import Sum

from crowdfunding.models import Contribution, IdempotencyRecord
from livestreams.models import LiveStream
from tests.crowdfunding.factories import ContributionFactory
from tests.livestreams.factories import LiveStreamFactory
from tests.support import money_snapshot
from tests.users.factories import UserFactory
from users.models import CreditLedgerEntry, User
from users.services import credits_grant

pytestmark = pytest.mark.django_db

FUNDED_URL = "/api/v1/live-stream/funded"


def fund_url(stream_id: str) -> str:
    return f"/api/v1/live-stream/{stream_id}/fund"


@pytest.fixture
def funder(user):
    credits_grant(user=user, amount=1000)
    return user


@pytest.fixture
def stream():
    return LiveStreamFactory(funding_goal=1000)


def test_funding_charges_once_and_reports_the_new_totals(auth_client, funder, stream):
    ContributionFactory(stream=stream, amount=200)  # someone else's

    response = auth_client.post(fund_url(stream.id), {"amount": 300}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["isSuccess"] is True and body["statusCode"] == 201 and body["errors"] == []
    data = body["data"]
    assert list(data) == [
        "contributionId", "streamId", "amount", "myTotalContribution", "collectedFunding",
        "fundingGoal", "fundingPercentage", "creditBalance", "createdAt",
    ]  # fmt: skip
    contribution = Contribution.objects.get(pk=data["contributionId"])
    assert contribution.user == funder and contribution.amount == 300
    assert contribution.status == Contribution.Status.COMPLETED
    assert data["streamId"] == stream.id
    assert data["amount"] == 300
    assert data["myTotalContribution"] == 300
    assert data["collectedFunding"] == 500
    assert data["fundingGoal"] == 1000
    assert data["fundingPercentage"] == 50
    assert data["creditBalance"] == 700
    funder.refresh_from_db()
    assert funder.credit_balance == 700
    debit = contribution.ledger_entry
    assert debit.type == "stream_funding_contribution"
    assert debit.amount == -300 and debit.balance_after == 700 and debit.user == funder


def test_funded_stream_shows_in_the_funded_list_at_once(auth_client, funder, stream):
    assert auth_client.get(FUNDED_URL).json()["data"] == []

    auth_client.post(fund_url(stream.id), {"amount": 10}, format="json")

    [item] = auth_client.get(FUNDED_URL).json()["data"]
    assert item["id"] == stream.id
    assert item["collectedFunding"] == 10


def test_repeat_funding_adds_up(auth_client, funder, stream):
    auth_client.post(fund_url(stream.id), {"amount": 100}, format="json")
    data = auth_client.post(fund_url(stream.id), {"amount": 150}, format="json").json()["data"]

    assert data["myTotalContribution"] == 250
    assert data["creditBalance"] == 750


def test_funding_past_the_goal_is_allowed(auth_client, funder):
    stream = LiveStreamFactory(funding_goal=100)

    data = auth_client.post(fund_url(stream.id), {"amount": 250}, format="json").json()["data"]

    assert data["collectedFunding"] == 250
    assert data["fundingPercentage"] == 250


def test_spending_the_whole_balance_is_allowed(auth_client, funder, stream):
    response = auth_client.post(fund_url(stream.id), {"amount": 1000}, format="json")

    assert response.status_code == 201
    assert response.json()["data"]["creditBalance"] == 0


@pytest.mark.parametrize(
    ("payload", "detail"),
    [
        ({}, "amount: This field is required."),
        ({"amount": None}, "amount: This field may not be null."),
        ({"amount": "10"}, "amount: A valid integer is required."),
        ({"amount": 10.5}, "amount: A valid integer is required."),
        ({"amount": 10.0}, "amount: A valid integer is required."),
        ({"amount": True}, "amount: A valid integer is required."),
        ({"amount": [10]}, "amount: A valid integer is required."),
        ({"amount": {"value": 10}}, "amount: A valid integer is required."),
        ({"amount": 0}, "amount: must be an integer from 1 to 1000000"),
        ({"amount": -5}, "amount: must be an integer from 1 to 1000000"),
        ({"amount": 1_000_001}, "amount: must be an integer from 1 to 1000000"),
        ({"amount": 10**30}, "amount: must be an integer from 1 to 1000000"),
    ],
)
def test_bad_amount_is_a_400_and_charges_nothing(auth_client, funder, stream, payload, detail):
    before = money_snapshot()

    response = auth_client.post(fund_url(stream.id), payload, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == ["Validation failed", detail]
    assert response.json()["data"] is None
    assert money_snapshot() == before


def test_unknown_fields_are_ignored(auth_client, funder, stream):
    response = auth_client.post(
        fund_url(stream.id), {"amount": 5, "currency": "USD"}, format="json"
    )

    assert response.status_code == 201


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"[1, 2]", b'"amount"', b"null"],
)
def test_malformed_body_is_a_400(auth_client, funder, stream, body):
    before = money_snapshot()

    response = auth_client.post(fund_url(stream.id), body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["errors"][0] == "Validation failed"
    assert money_snapshot() == before


def test_non_json_content_type_is_refused(auth_client, funder, stream):
    before = money_snapshot()

    response = auth_client.post(fund_url(stream.id), "amount=5", content_type="text/plain")

    assert response.status_code == 415
    assert response.json()["isSuccess"] is False
    assert money_snapshot() == before


@pytest.mark.parametrize(
    "bad_id", ["123", "64D15F9E2E6C8F4D5A123456", "zzzzzzzzzzzzzzzzzzzzzzzz", "funded1", "a" * 25]
)
def test_malformed_id_is_a_400(auth_client, funder, stream, bad_id):
    before = money_snapshot()

    response = auth_client.post(fund_url(bad_id), {"amount": 5}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == [
        "Validation failed",
        "id: must be a 24-character lowercase hex id",
    ]
    assert money_snapshot() == before


def test_unknown_stream_is_a_404(auth_client, funder, stream):
    before = money_snapshot()

    response = auth_client.post(fund_url("0" * 24), {"amount": 5}, format="json")

    assert response.status_code == 404
    assert response.json()["errors"] == ["Resource not found", "Live stream not found"]
    assert money_snapshot() == before


def test_deleted_stream_is_a_404(auth_client, funder):
    from django.utils import timezone

    stream = LiveStreamFactory(deleted_at=timezone.now())
    before = money_snapshot()

    response = auth_client.post(fund_url(stream.id), {"amount": 5}, format="json")

    assert response.status_code == 404
    assert money_snapshot() == before


def test_creator_cannot_fund_own_stream(client_for):
    creator = UserFactory()
    credits_grant(user=creator, amount=100)
    stream = LiveStreamFactory(creator=creator)
    before = money_snapshot()

    response = client_for(creator).post(fund_url(stream.id), {"amount": 5}, format="json")

    assert response.status_code == 403
    assert response.json()["errors"] == [
        "Insufficient permissions",
        "You cannot fund your own stream",
    ]
    assert money_snapshot() == before


def test_suspended_user_cannot_fund(client_for, stream):
    suspended = UserFactory(account_status=User.AccountStatus.SUSPENDED)
    credits_grant(user=suspended, amount=100)
    before = money_snapshot()

    response = client_for(suspended).post(fund_url(stream.id), {"amount": 5}, format="json")

    assert response.status_code == 403
    assert response.json()["errors"] == ["Insufficient permissions", "Account suspended"]
    assert money_snapshot() == before


@pytest.mark.parametrize(
    "status", [s for s in LiveStream.Status.values if s != LiveStream.Status.SCHEDULED]
)
def test_stream_not_scheduled_is_a_409(auth_client, funder, status):
    stream = LiveStreamFactory(status=status)
    before = money_snapshot()

    response = auth_client.post(fund_url(stream.id), {"amount": 5}, format="json")

    assert response.status_code == 409
    assert response.json()["errors"] == [
        "Resource already exists or cannot be changed in its current state",
        f"Live stream is {status}, only scheduled streams can be funded",
    ]
    assert money_snapshot() == before


def test_insufficient_balance_is_a_409(auth_client, funder, stream):
    before = money_snapshot()

    response = auth_client.post(fund_url(stream.id), {"amount": 1001}, format="json")

    assert response.status_code == 409
    assert response.json()["errors"] == [
        "Resource already exists or cannot be changed in its current state",
        "Insufficient credit balance",
    ]
    assert money_snapshot() == before


def test_unauthenticated_is_a_401(api_client, stream):
    response = api_client.post(fund_url(stream.id), {"amount": 5}, format="json")

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert Contribution.objects.count() == 0


def test_get_is_a_405(auth_client, stream):
    response = auth_client.get(fund_url(stream.id))

    assert response.status_code == 405
    assert response.json()["errors"][0] == "Method not allowed"


class TestIdempotencyKey:
    def test_retry_with_same_key_and_body_returns_first_response_and_charges_once(
        self, auth_client, funder, stream
    ):
        headers = {"Idempotency-Key": "order-42"}
        first = auth_client.post(
            fund_url(stream.id), {"amount": 100}, format="json", headers=headers
        )
        second = auth_client.post(
            fund_url(stream.id), {"amount": 100}, format="json", headers=headers
        )

        assert first.status_code == second.status_code == 201
        assert second.json()["data"] == first.json()["data"]
        assert second["Idempotent-Replayed"] == "true"
        assert Contribution.objects.count() == 1
        funder.refresh_from_db()
        assert funder.credit_balance == 900
        assert CreditLedgerEntry.objects.filter(user=funder).aggregate(s=Sum("amount"))["s"] == 900

    def test_same_key_other_body_is_a_409(self, auth_client, funder, stream):
        headers = {"Idempotency-Key": "order-43"}
        auth_client.post(fund_url(stream.id), {"amount": 100}, format="json", headers=headers)
        before = money_snapshot()

        response = auth_client.post(
            fund_url(stream.id), {"amount": 200}, format="json", headers=headers
        )

        assert response.status_code == 409
        assert response.json()["errors"][1] == (
            "Idempotency-Key was already used for a different request"
        )
        assert money_snapshot() == before

    def test_same_key_on_another_stream_is_a_409(self, auth_client, funder, stream):
        headers = {"Idempotency-Key": "order-44"}
        auth_client.post(fund_url(stream.id), {"amount": 100}, format="json", headers=headers)
        other = LiveStreamFactory()

        response = auth_client.post(
            fund_url(other.id), {"amount": 100}, format="json", headers=headers
        )

        assert response.status_code == 409
        assert not Contribution.objects.filter(stream=other).exists()

    def test_keys_are_per_user(self, auth_client, funder, stream, client_for):
        other = UserFactory()
        credits_grant(user=other, amount=100)
        headers = {"Idempotency-Key": "shared-key"}
        auth_client.post(fund_url(stream.id), {"amount": 100}, format="json", headers=headers)

        response = client_for(other).post(
            fund_url(stream.id), {"amount": 100}, format="json", headers=headers
        )

        assert response.status_code == 201
        assert Contribution.objects.count() == 2

    def test_a_failed_request_is_not_remembered(self, auth_client, funder, stream):
        headers = {"Idempotency-Key": "retry-after-topup"}
        refused = auth_client.post(
            fund_url(stream.id), {"amount": 1500}, format="json", headers=headers
        )
        credits_grant(user=funder, amount=1000)
        accepted = auth_client.post(
            fund_url(stream.id), {"amount": 1500}, format="json", headers=headers
        )

        assert refused.status_code == 409
        assert accepted.status_code == 201

    def test_expired_key_can_be_used_again(self, auth_client, funder, stream, settings):
        from datetime import timedelta

        headers = {"Idempotency-Key": "old-key"}
        auth_client.post(fund_url(stream.id), {"amount": 100}, format="json", headers=headers)
        IdempotencyRecord.objects.update(
            created_at=IdempotencyRecord.objects.get().created_at
            - settings.IDEMPOTENCY_KEY_TTL
            - timedelta(seconds=1)
        )

        response = auth_client.post(
            fund_url(stream.id), {"amount": 100}, format="json", headers=headers
        )

        assert response.status_code == 201
        assert "Idempotent-Replayed" not in response
        assert Contribution.objects.count() == 2

    @pytest.mark.parametrize("key", ["", "x" * 256, "ключ"])
    def test_bad_key_is_a_400(self, auth_client, funder, stream, key):
        before = money_snapshot()

        response = auth_client.post(
            fund_url(stream.id), {"amount": 100}, format="json", headers={"Idempotency-Key": key}
        )

        assert response.status_code == 400
        assert money_snapshot() == before


def test_money_endpoints_are_throttled(auth_client, funder, stream, throttle_rates):
    throttle_rates(funding="2/min")

    statuses = [
        auth_client.post(fund_url(stream.id), {"amount": 1}, format="json").status_code
        for _ in range(3)
    ]
    response = auth_client.post(fund_url(stream.id), {"amount": 1}, format="json")

    assert statuses == [201, 201, 429]
    assert response.status_code == 429
    assert response.json()["errors"][0] == "Too many requests"
    assert int(response["Retry-After"]) > 0
    assert Contribution.objects.count() == 2
