"""Cancelling a stream with refunds, supporting mini crowd fundings, operator refunds."""

import pytest
from django.utils import timezone

from allmine.api.errors import Conflict
from crowdfunding.models import Contribution, MiniCrowdFunding, MiniCrowdFundingSupport
from crowdfunding.services import contribution_refund
from livestreams.models import LiveStream
from tests.crowdfunding.factories import ContributionFactory, MiniCrowdFundingFactory
from tests.livestreams.factories import LiveStreamFactory
from tests.support import money_snapshot
from tests.users.factories import UserFactory
from users.models import CreditLedgerEntry, User
from users.services import credits_grant

pytestmark = pytest.mark.django_db

FUNDED_URL = "/api/v1/live-stream/funded"


def cancel_url(stream_id: str) -> str:
    return f"/api/v1/live-stream/{stream_id}/cancel"


def support_url(stream_id: str, mini_id: str) -> str:
    return f"/api/v1/live-stream/{stream_id}/mini-crowd-fundings/{mini_id}/support"


def funder_with(credits: int):
    user = UserFactory()
    credits_grant(user=user, amount=credits)
    return user


class TestCancel:
    def test_creator_cancels_and_every_funder_is_refunded(self, client_for):
        stream = LiveStreamFactory(funding_goal=500)
        alice, bob = funder_with(300), funder_with(300)
        mini = MiniCrowdFundingFactory(stream=stream, goal=1000)
        for user, amount in ((alice, 100), (alice, 50), (bob, 200)):
            client_for(user).post(
                f"/api/v1/live-stream/{stream.id}/fund", {"amount": amount}, format="json"
            )
        client_for(bob).post(support_url(stream.id, mini.id), {"amount": 40}, format="json")
        earlier_refund = ContributionFactory(stream=stream, status=Contribution.Status.REFUNDED)

        response = client_for(stream.creator).post(cancel_url(stream.id))

        assert response.status_code == 200
        data = response.json()["data"]
        assert data["id"] == stream.id
        assert data["status"] == "cancelled_by_host"
        assert data["collectedFunding"] == 0
        assert data["role"] == "host"
        assert data["miniCrowdFundings"][0]["status"] == "cancelled"
        assert data["miniCrowdFundings"][0]["collected"] == 0
        alice.refresh_from_db()
        bob.refresh_from_db()
        assert (alice.credit_balance, bob.credit_balance) == (300, 300)
        assert set(Contribution.objects.filter(stream=stream).values_list("status", flat=True)) == {
            "refunded"
        }
        assert MiniCrowdFundingSupport.objects.get().status == "refunded"
        refunds = CreditLedgerEntry.objects.filter(type="stream_funding_refund")
        assert sorted(refunds.values_list("amount", flat=True)) == sorted(
            [40, 50, 100, 200, earlier_refund.amount]
        )  # one row per contribution or support; the earlier refund is not refunded twice
        assert set(refunds.values_list("status", flat=True)) == {"refunded"}  # API.md §8
        assert client_for(alice).get(FUNDED_URL).json()["data"] == []
        assert client_for(bob).get(FUNDED_URL).json()["data"] == []

    def test_preparing_stream_can_be_cancelled(self, client_for):
        stream = LiveStreamFactory(status=LiveStream.Status.PREPARING)

        response = client_for(stream.creator).post(cancel_url(stream.id))

        assert response.status_code == 200
        assert response.json()["data"]["status"] == "cancelled_by_host"

    def test_only_the_creator_may_cancel(self, client_for):
        stream = LiveStreamFactory()
        contribution = ContributionFactory(stream=stream)
        before = money_snapshot()

        response = client_for(contribution.user).post(cancel_url(stream.id))

        assert response.status_code == 403
        assert response.json()["errors"] == [
            "Insufficient permissions",
            "Only the stream's creator can cancel it",
        ]
        assert money_snapshot() == before

    @pytest.mark.parametrize(
        "status",
        ["active", "ended", "expired", "cancelled_by_host", "cancelled_by_guest"],
    )
    def test_other_statuses_are_a_409(self, client_for, status):
        stream = ContributionFactory(stream__status=status).stream
        before = money_snapshot()

        response = client_for(stream.creator).post(cancel_url(stream.id))

        assert response.status_code == 409
        assert response.json()["errors"][1] == f"Live stream is {status}, it cannot be cancelled"
        assert money_snapshot() == before

    def test_malformed_and_unknown_ids(self, client_for):
        deleted = ContributionFactory(stream__deleted_at=timezone.now()).stream
        client = client_for(deleted.creator)
        before = money_snapshot()

        assert client.post(cancel_url("nope")).status_code == 400
        assert client.post(cancel_url("f" * 24)).status_code == 404
        assert client.post(cancel_url(deleted.id)).status_code == 404
        assert money_snapshot() == before

    def test_unauthenticated_is_a_401(self, api_client):
        stream = ContributionFactory().stream
        before = money_snapshot()

        assert api_client.post(cancel_url(stream.id)).status_code == 401
        assert money_snapshot() == before


class TestMiniCrowdFundingSupport:
    def test_support_charges_and_completes_the_goal(self, client_for):
        mini = MiniCrowdFundingFactory(goal=100)
        supporter = funder_with(500)

        first = client_for(supporter).post(
            support_url(mini.stream_id, mini.id), {"amount": 60}, format="json"
        )
        second = client_for(supporter).post(
            support_url(mini.stream_id, mini.id), {"amount": 60}, format="json"
        )

        assert first.status_code == 201
        assert first.json()["data"]["status"] == "active"
        assert first.json()["data"]["percentage"] == 60
        data = second.json()["data"]
        assert list(data) == [
            "supportId", "miniCrowdFundingId", "streamId", "amount", "myTotalSupport",
            "collected", "goal", "percentage", "status", "creditBalance", "createdAt",
        ]  # fmt: skip
        assert data["collected"] == 120 and data["percentage"] == 120
        assert data["status"] == "completed"
        assert data["myTotalSupport"] == 120
        assert data["creditBalance"] == 380
        entry = MiniCrowdFundingSupport.objects.get(pk=data["supportId"]).ledger_entry
        assert entry.type == "mini_crowd_funding_support" and entry.amount == -60

    @pytest.mark.parametrize(
        "status", [MiniCrowdFunding.Status.COMPLETED, MiniCrowdFunding.Status.CANCELLED]
    )
    def test_closed_mini_takes_no_more(self, client_for, status):
        mini = MiniCrowdFundingFactory(status=status)
        supporter = funder_with(100)
        before = money_snapshot()

        response = client_for(supporter).post(
            support_url(mini.stream_id, mini.id), {"amount": 5}, format="json"
        )

        assert response.status_code == 409
        assert response.json()["errors"][1] == f"Mini crowd funding is {status}"
        assert money_snapshot() == before

    def test_deleted_stream_is_a_404(self, client_for):
        mini = MiniCrowdFundingFactory(stream=LiveStreamFactory(deleted_at=timezone.now()))
        supporter = funder_with(100)
        before = money_snapshot()

        response = client_for(supporter).post(
            support_url(mini.stream_id, mini.id), {"amount": 5}, format="json"
        )

        assert response.status_code == 404
        assert money_snapshot() == before

    def test_suspended_caller_is_a_403(self, client_for):
        mini = MiniCrowdFundingFactory()
        supporter = funder_with(100)
        User.objects.filter(pk=supporter.pk).update(account_status=User.AccountStatus.SUSPENDED)
        before = money_snapshot()

        response = client_for(supporter).post(
            support_url(mini.stream_id, mini.id), {"amount": 5}, format="json"
        )

        assert response.status_code == 403
        assert money_snapshot() == before

    def test_mini_of_another_stream_is_a_404(self, client_for):
        mini = MiniCrowdFundingFactory()
        other = LiveStreamFactory()
        supporter = funder_with(100)
        before = money_snapshot()

        response = client_for(supporter).post(
            support_url(other.id, mini.id), {"amount": 5}, format="json"
        )

        assert response.status_code == 404
        assert response.json()["errors"] == ["Resource not found", "Mini crowd funding not found"]
        assert money_snapshot() == before

    def test_insufficient_balance(self, client_for):
        mini = MiniCrowdFundingFactory()
        supporter = funder_with(10)
        before = money_snapshot()

        response = client_for(supporter).post(
            support_url(mini.stream_id, mini.id), {"amount": 11}, format="json"
        )

        assert response.status_code == 409
        assert response.json()["errors"][1] == "Insufficient credit balance"
        assert money_snapshot() == before

    def test_creator_cannot_support_own_stream(self, client_for):
        mini = MiniCrowdFundingFactory()
        credits_grant(user=mini.stream.creator, amount=100)
        before = money_snapshot()

        response = client_for(mini.stream.creator).post(
            support_url(mini.stream_id, mini.id), {"amount": 5}, format="json"
        )

        assert response.status_code == 403
        assert money_snapshot() == before

    def test_stream_not_scheduled_is_a_409(self, client_for):
        mini = MiniCrowdFundingFactory(stream=LiveStreamFactory(status="ended"))
        supporter = funder_with(100)
        before = money_snapshot()

        response = client_for(supporter).post(
            support_url(mini.stream_id, mini.id), {"amount": 5}, format="json"
        )

        assert response.status_code == 409
        assert money_snapshot() == before

    @pytest.mark.parametrize("payload", [{}, {"amount": "5"}, {"amount": 0}, {"amount": 2.5}])
    def test_bad_amount_is_a_400(self, client_for, payload):
        mini = MiniCrowdFundingFactory()
        supporter = funder_with(100)
        before = money_snapshot()

        response = client_for(supporter).post(
            support_url(mini.stream_id, mini.id), payload, format="json"
        )

        assert response.status_code == 400
        assert money_snapshot() == before

    def test_malformed_mini_id_is_a_400(self, client_for):
        mini = MiniCrowdFundingFactory()
        supporter = funder_with(100)
        before = money_snapshot()

        response = client_for(supporter).post(
            support_url(mini.stream_id, "xyz"), {"amount": 5}, format="json"
        )

        assert response.status_code == 400
        assert money_snapshot() == before
        assert response.json()["errors"][1] == "miniId: must be a 24-character lowercase hex id"

    def test_idempotency_key_applies(self, client_for):
        mini = MiniCrowdFundingFactory(goal=1000)
        client = client_for(funder_with(100))
        headers = {"Idempotency-Key": "mini-1"}

        first = client.post(
            support_url(mini.stream_id, mini.id), {"amount": 5}, format="json", headers=headers
        )
        again = client.post(
            support_url(mini.stream_id, mini.id), {"amount": 5}, format="json", headers=headers
        )

        assert first.status_code == again.status_code == 201
        assert again.json()["data"] == first.json()["data"]
        assert MiniCrowdFundingSupport.objects.count() == 1


class TestOperatorRefund:
    def test_refunds_one_contribution(self):
        contribution = ContributionFactory(amount=70)
        stream, funder = contribution.stream, contribution.user

        contribution_refund(contribution_id=contribution.pk)

        contribution.refresh_from_db()
        stream.refresh_from_db()
        funder.refresh_from_db()
        assert contribution.status == "refunded"
        assert contribution.refund_ledger_entry.amount == 70
        assert stream.collected_funding == 0
        assert funder.credit_balance == 70

    def test_refunding_twice_is_a_conflict(self):
        contribution = ContributionFactory(amount=70)
        contribution_refund(contribution_id=contribution.pk)

        with pytest.raises(Conflict):
            contribution_refund(contribution_id=contribution.pk)

        contribution.user.refresh_from_db()
        assert contribution.user.credit_balance == 70
