"""`crowdfunding.records`: the one builder of contributions and supports, which the fund and
support services, the seeder and the factories ask."""

from datetime import UTC, datetime

import pytest

from crowdfunding.models import Contribution, FundingStatus, MiniCrowdFundingSupport
from crowdfunding.records import contribution_row, support_row
from tests.crowdfunding.factories import (
    ContributionFactory,
    MiniCrowdFundingFactory,
    MiniCrowdFundingSupportFactory,
)
from tests.livestreams.factories import LiveStreamFactory
from users.models import CreditLedgerEntry
from users.services import credits_grant

AT = datetime(2026, 1, 1, tzinfo=UTC)


def test_a_row_is_completed_by_its_debit_and_refunded_by_its_refund():
    completed = contribution_row(user_id="u", stream_id="s", amount=5, ledger_entry_id="d")
    refunded = support_row(
        user_id="u",
        mini_crowd_funding_id="m",
        amount=5,
        ledger_entry_id="d",
        refund_ledger_entry_id="r",
        refunded_at=AT,
    )

    assert (completed.status, completed.refunded_at) == (FundingStatus.COMPLETED, None)
    assert (refunded.status, refunded.refund_ledger_entry_id) == (FundingStatus.REFUNDED, "r")
    assert isinstance(refunded, MiniCrowdFundingSupport)


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"amount": 0, "ledger_entry_id": "d"}, "positive integer"),
        ({"amount": True, "ledger_entry_id": "d"}, "positive integer"),
        ({"amount": 5, "ledger_entry_id": None}, "needs the ledger row that paid"),
        ({"amount": 5, "ledger_entry_id": "d", "refund_ledger_entry_id": "r"}, "both"),
        (
            {"amount": 5, "ledger_entry_id": "d", "status": FundingStatus.REFUNDED},
            "needs a refund",
        ),
        (
            {
                "amount": 5,
                "ledger_entry_id": "d",
                "refund_ledger_entry_id": "r",
                "refunded_at": AT,
                "status": FundingStatus.COMPLETED,
            },
            "has no refund",
        ),
        (
            {"amount": 5, "ledger_entry_id": None, "refund_ledger_entry_id": "r"},
            "both",
        ),
    ],
)
def test_a_row_whose_status_and_ledger_links_disagree_is_refused(fields, message):
    with pytest.raises(ValueError, match=message):
        contribution_row(user_id="u", stream_id="s", **fields)


def test_an_unpaid_row_has_no_ledger_links():
    pending = contribution_row(
        user_id="u", stream_id="s", amount=5, ledger_entry_id=None, status=FundingStatus.PENDING
    )
    assert (pending.status, pending.ledger_entry_id) == (FundingStatus.PENDING, None)


@pytest.mark.django_db
def test_the_fund_service_and_the_factory_leave_the_same_debit(auth_client, user):
    stream = LiveStreamFactory(title="Gece konseri")
    credits_grant(user=user, amount=100)
    response = auth_client.post(
        f"/api/v1/live-stream/{stream.pk}/fund", {"amount": 30}, format="json"
    )
    assert response.status_code == 201
    served = Contribution.objects.get(pk=response.json()["data"]["contributionId"])
    made = ContributionFactory(stream=stream, amount=30)

    def shape(contribution):
        debit = CreditLedgerEntry.objects.get(pk=contribution.ledger_entry_id)
        return (contribution.status, debit.type, debit.amount, debit.stream_id, debit.description)

    assert (
        shape(served)
        == shape(made)
        == (
            FundingStatus.COMPLETED,
            CreditLedgerEntry.Type.STREAM_FUNDING_CONTRIBUTION,
            -30,
            stream.pk,
            f"Funding of live stream “Gece konseri” ({stream.pk})",
        )
    )


@pytest.mark.django_db
def test_the_support_service_and_the_factory_leave_the_same_debit(auth_client, user):
    mini = MiniCrowdFundingFactory(title="Yeni mikrofon", stream__title="Gece konseri")
    stream = mini.stream
    credits_grant(user=user, amount=100)
    url = f"/api/v1/live-stream/{stream.pk}/mini-crowd-fundings/{mini.pk}/support"
    response = auth_client.post(url, {"amount": 20}, format="json")
    assert response.status_code == 201, response.json()
    served = MiniCrowdFundingSupport.objects.get(pk=response.json()["data"]["supportId"])
    made = MiniCrowdFundingSupportFactory(mini_crowd_funding=mini, amount=20)

    def shape(support):
        debit = CreditLedgerEntry.objects.get(pk=support.ledger_entry_id)
        return (support.status, debit.type, debit.amount, debit.stream_id, debit.description)

    assert (
        shape(served)
        == shape(made)
        == (
            FundingStatus.COMPLETED,
            CreditLedgerEntry.Type.MINI_CROWD_FUNDING_SUPPORT,
            -20,
            stream.pk,
            f"Support of “Yeni mikrofon” on live stream “Gece konseri” ({stream.pk})",
        )
    )
