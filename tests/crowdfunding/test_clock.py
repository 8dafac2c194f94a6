"""The clock (API.md §9): funding closes at the planned start, unstarted streams expire and
refund their funders, ended streams pay their funding out once. The sweeps are called
directly here with an explicit `now`; tests/crowdfunding/test_clock_races.py runs them against
racing requests, and tests/test_story.py through a real worker."""

from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from allmine.api.errors import Conflict
from crowdfunding.audit import ledger_mismatches
from crowdfunding.clock import (
    funding_payout_settle,
    funding_payouts_settle_due,
    live_stream_expire,
    live_streams_expire_due,
)
from crowdfunding.models import Contribution, FundingPayout, MiniCrowdFunding
from crowdfunding.services import contribution_refund
from livestreams.models import LiveStream
from tests.crowdfunding.factories import (
    ContributionFactory,
    MiniCrowdFundingFactory,
    MiniCrowdFundingSupportFactory,
)
from tests.livestreams.factories import (
    EndedStreamFactory,
    LiveStreamFactory,
    StreamGuestFactory,
)
from tests.support import money_snapshot, tampered
from tests.users.factories import UserFactory
from users.models import CreditLedgerEntry, User
from users.services import credits_grant

pytestmark = pytest.mark.django_db

CONFLICT = "Resource already exists or cannot be changed in its current state"
GRACE = timedelta(hours=1)  # the default STREAM_START_GRACE
DELAY = timedelta(days=1)  # the default FUNDING_PAYOUT_DELAY


def balance(user: User) -> int:
    return User.objects.values_list("credit_balance", flat=True).get(pk=user.pk)


def past_stream(**fields) -> LiveStream:
    """A scheduled stream whose planned start passed ten minutes ago (inside the grace)."""
    start = timezone.now() - timedelta(minutes=10)
    return LiveStreamFactory(
        planned_start_date=start, planned_end_date=start + timedelta(hours=1), **fields
    )


class TestFundingWindow:
    def test_funding_after_the_planned_start_is_a_409_and_charges_nothing(self, client_for):
        stream = past_stream()
        funder = UserFactory()
        credits_grant(user=funder, amount=100)
        mini = MiniCrowdFundingFactory(stream=stream)
        before = money_snapshot()

        fund = client_for(funder).post(
            f"/api/v1/live-stream/{stream.id}/fund", {"amount": 10}, format="json"
        )
        support = client_for(funder).post(
            f"/api/v1/live-stream/{stream.id}/mini-crowd-fundings/{mini.id}/support",
            {"amount": 10},
            format="json",
        )

        for response in (fund, support):
            assert response.status_code == 409
            assert response.json()["errors"] == [CONFLICT, "Funding has closed for this stream"]
        assert stream.status == LiveStream.Status.SCHEDULED
        assert money_snapshot() == before

    def test_funding_closes_at_the_planned_start_exactly(self, client_for):
        stream = LiveStreamFactory()
        funder = UserFactory()
        credits_grant(user=funder, amount=100)
        url = f"/api/v1/live-stream/{stream.id}/fund"

        with time_machine.travel(stream.planned_start_date - timedelta(seconds=1), tick=False):
            assert client_for(funder).post(url, {"amount": 10}, format="json").status_code == 201
        with time_machine.travel(stream.planned_start_date, tick=False):
            assert client_for(funder).post(url, {"amount": 10}, format="json").status_code == 409
        assert balance(funder) == 90

    def test_no_mini_crowd_funding_is_added_after_the_planned_start(self, client_for):
        stream = past_stream()

        response = client_for(stream.creator).post(
            f"/api/v1/live-stream/{stream.id}/mini-crowd-fundings",
            {"title": "Mikrofon", "goal": 50},
            format="json",
        )

        assert response.status_code == 409
        assert response.json()["errors"] == [CONFLICT, "Funding has closed for this stream"]
        assert not MiniCrowdFunding.objects.filter(stream=stream).exists()


def funded_stream(**fields) -> tuple[LiveStream, list[User]]:
    """A scheduled stream with two funders (one of them twice) and a supported mini."""
    stream = LiveStreamFactory(**fields)
    alice, bob = UserFactory(), UserFactory()
    ContributionFactory(stream=stream, user=alice, amount=100)
    ContributionFactory(stream=stream, user=alice, amount=50)
    ContributionFactory(stream=stream, user=bob, amount=30)
    mini = MiniCrowdFundingFactory(stream=stream, goal=500)
    MiniCrowdFundingSupportFactory(mini_crowd_funding=mini, user=bob, amount=20)
    stream.refresh_from_db()
    return stream, [alice, bob]


class TestExpiry:
    def test_an_unstarted_stream_expires_and_every_funder_is_refunded_once(self, client_for):
        stream, (alice, bob) = funded_stream()
        deadline = stream.planned_start_date + GRACE
        assert (balance(alice), balance(bob)) == (0, 0)

        assert live_streams_expire_due(now=deadline - timedelta(seconds=1)) == 0
        assert live_streams_expire_due(now=deadline) == 1
        assert live_streams_expire_due(now=deadline + timedelta(hours=5)) == 0  # once

        stream.refresh_from_db()
        assert stream.status == LiveStream.Status.EXPIRED
        assert stream.collected_funding == 0
        assert (balance(alice), balance(bob)) == (150, 50)
        refunds = CreditLedgerEntry.objects.filter(
            type="stream_funding_refund", stream_id=stream.pk
        )
        assert sorted(refunds.values_list("user_id", "amount", "status")) == sorted(
            [
                (alice.pk, 100, "refunded"),
                (alice.pk, 50, "refunded"),
                (bob.pk, 30, "refunded"),
                (bob.pk, 20, "refunded"),
            ]
        )
        assert all("expired" in description for description in refunds.values_list(
            "description", flat=True
        ))  # fmt: skip
        assert set(Contribution.objects.filter(stream=stream).values_list("status", flat=True)) == {
            "refunded"
        }
        assert MiniCrowdFunding.objects.get(stream=stream).status == "cancelled"
        assert list(ledger_mismatches()) == []
        # What the funder sees: the stream left their funded list, and it says expired.
        response = client_for(alice).get("/api/v1/live-stream/funded")
        assert response.json()["data"] == []
        shown = client_for(alice).get(f"/api/v1/live-stream/{stream.pk}").json()["data"]
        assert shown["status"] == "expired" and shown["collectedFunding"] == 0

    def test_preparing_streams_expire_too_and_started_ones_never(self):
        preparing = LiveStreamFactory(status=LiveStream.Status.PREPARING)
        active = LiveStreamFactory(status=LiveStream.Status.ACTIVE)
        later = max(preparing.planned_start_date, active.planned_start_date) + GRACE

        assert live_streams_expire_due(now=later) == 1

        preparing.refresh_from_db()
        active.refresh_from_db()
        assert preparing.status == LiveStream.Status.EXPIRED
        assert active.status == LiveStream.Status.ACTIVE

    def test_a_deleted_stream_is_left_alone(self):
        stream = LiveStreamFactory(deleted_at=timezone.now())

        assert live_streams_expire_due(now=stream.planned_start_date + GRACE) == 0
        assert not live_stream_expire(stream_id=stream.pk, now=stream.planned_start_date + GRACE)

    def test_the_grace_comes_from_the_setting(self, settings):
        settings.STREAM_START_GRACE = timedelta(seconds=5)
        stream = LiveStreamFactory()

        assert live_streams_expire_due(now=stream.planned_start_date + timedelta(seconds=4)) == 0
        assert live_streams_expire_due(now=stream.planned_start_date + timedelta(seconds=5)) == 1

    def test_start_after_the_deadline_is_a_409_before_and_after_the_sweep(self, client_for):
        stream = LiveStreamFactory()
        url = f"/api/v1/live-stream/{stream.pk}/start"
        expected = [CONFLICT, "Live stream is expired, it cannot be started"]

        with time_machine.travel(stream.planned_start_date + GRACE, tick=False):
            creator = client_for(stream.creator)
            before_sweep = creator.post(url)
            live_streams_expire_due()
            after_sweep = creator.post(url)

        assert before_sweep.status_code == after_sweep.status_code == 409
        assert before_sweep.json()["errors"] == after_sweep.json()["errors"] == expected
        stream.refresh_from_db()
        assert stream.status == LiveStream.Status.EXPIRED and stream.started_at is None

    def test_start_inside_the_grace_is_allowed_and_the_stream_never_expires(self, client_for):
        stream = LiveStreamFactory()

        with time_machine.travel(stream.planned_start_date + GRACE / 2, tick=False):
            response = client_for(stream.creator).post(f"/api/v1/live-stream/{stream.pk}/start")
        assert response.status_code == 200

        assert live_streams_expire_due(now=stream.planned_start_date + 2 * GRACE) == 0

    def test_a_reschedule_before_the_deadline_moves_it(self, client_for):
        stream, (alice, _) = funded_stream()
        old_deadline = stream.planned_start_date + GRACE
        new_start = stream.planned_start_date + timedelta(days=3)

        with time_machine.travel(stream.planned_start_date + GRACE / 2, tick=False):
            response = client_for(stream.creator).patch(
                f"/api/v1/live-stream/{stream.pk}",
                {"plannedStartDate": new_start.isoformat()},
                format="json",
            )
        assert response.status_code == 200

        assert live_streams_expire_due(now=old_deadline) == 0
        assert live_streams_expire_due(now=new_start + GRACE - timedelta(seconds=1)) == 0
        assert balance(alice) == 0
        assert live_streams_expire_due(now=new_start + GRACE) == 1
        assert balance(alice) == 150

    def test_a_change_after_the_deadline_is_a_409(self, client_for):
        stream = LiveStreamFactory()

        with time_machine.travel(stream.planned_start_date + GRACE, tick=False):
            response = client_for(stream.creator).patch(
                f"/api/v1/live-stream/{stream.pk}",
                {"plannedStartDate": (timezone.now() + timedelta(days=1)).isoformat()},
                format="json",
            )

        assert response.status_code == 409
        assert response.json()["errors"] == [
            CONFLICT,
            "Live stream is expired, it cannot be changed",
        ]


def ended_stream(*, kind=LiveStream.Type.SOLO, guest: bool = False) -> LiveStream:
    stream = EndedStreamFactory(live_stream_type=kind)
    if guest:
        StreamGuestFactory(stream=stream)
    return stream


def fund_ended(stream: LiveStream, *amounts: int) -> list[Contribution]:
    return [ContributionFactory(stream=stream, amount=amount) for amount in amounts]


class TestPayout:
    def test_a_solo_creator_gets_80_percent_once_after_the_delay(self, client_for):
        stream = ended_stream()
        fund_ended(stream, 100, 33)
        mini = MiniCrowdFundingFactory(stream=stream, goal=500)
        MiniCrowdFundingSupportFactory(mini_crowd_funding=mini, amount=20)
        due = stream.ended_at + DELAY

        assert funding_payouts_settle_due(now=due - timedelta(seconds=1)) == 0
        assert funding_payouts_settle_due(now=due) == 1
        assert funding_payouts_settle_due(now=due + DELAY) == 0

        payout = FundingPayout.objects.get(stream=stream)
        assert payout.paid_at == due
        assert LiveStream.objects.get(pk=stream.pk).funding_paid_out_at == due  # out of the index
        assert (payout.total, payout.creator_share, payout.guest_share) == (153, 122, 0)
        assert payout.platform_share == 31
        assert balance(stream.creator) == 122
        entry = payout.creator_revenue_entry
        assert (entry.user_id, entry.type, entry.amount, entry.stream_id) == (
            stream.creator_id, "stream_revenue", 122, stream.pk,
        )  # fmt: skip
        assert "Funding payout" in entry.description and "replay" not in entry.description.lower()
        assert list(ledger_mismatches()) == []
        # The stream object is unchanged; the creator sees the row in their wallet.
        stream_data = client_for(stream.creator).get(f"/api/v1/live-stream/{stream.pk}")
        assert stream_data.json()["data"]["collectedFunding"] == 133
        wallet = client_for(stream.creator).get("/api/v1/users/me/transactions").json()["data"]
        [row] = wallet["list"]
        assert (row["type"], row["direction"], row["amount"], row["streamId"]) == (
            "stream_revenue", "credit", 122, stream.pk,
        )  # fmt: skip

    @pytest.mark.parametrize("kind", [LiveStream.Type.DUO_CROWD, LiveStream.Type.DUO_SELF])
    def test_a_duo_pays_creator_and_guest_40_percent_floored(self, kind):
        stream = ended_stream(kind=kind, guest=True)
        guest = stream.guest_links.get().user
        fund_ended(stream, 99)

        payout = funding_payout_settle(stream_id=stream.pk, now=stream.ended_at + DELAY)

        assert (payout.total, payout.creator_share, payout.guest_share) == (99, 39, 39)
        assert payout.platform_share == 21 and payout.guest_id == guest.pk
        assert (balance(stream.creator), balance(guest)) == (39, 39)
        assert list(ledger_mismatches()) == []

    def test_a_stream_without_funding_gets_an_empty_payout_and_no_ledger_row(self):
        stream = ended_stream()

        payout = funding_payout_settle(stream_id=stream.pk, now=stream.ended_at + DELAY)

        assert payout.total == 0 and payout.creator_revenue_entry is None
        assert not CreditLedgerEntry.objects.filter(type="stream_revenue").exists()

    def test_only_ended_alive_streams_are_paid(self):
        for status in (LiveStream.Status.ACTIVE, LiveStream.Status.CANCELLED_BY_HOST):
            stream = EndedStreamFactory(status=status)
            fund_ended(stream, 10)
        deleted = EndedStreamFactory(deleted_at=timezone.now())

        assert funding_payouts_settle_due(now=timezone.now() + 2 * DELAY) == 0
        assert funding_payout_settle(stream_id=deleted.pk, now=timezone.now() + DELAY) is None
        assert not FundingPayout.objects.exists()

    def test_an_operator_refund_before_the_payout_is_not_paid_out(self):
        stream = ended_stream()
        kept, refunded = fund_ended(stream, 100, 40)

        contribution_refund(contribution_id=refunded.pk)
        funding_payouts_settle_due(now=stream.ended_at + DELAY)

        payout = FundingPayout.objects.get(stream=stream)
        assert (payout.total, payout.creator_share) == (100, 80)
        assert balance(refunded.user) == 40 and balance(stream.creator) == 80
        assert list(ledger_mismatches()) == []

    def test_an_operator_refund_after_the_payout_is_a_conflict(self):
        stream = ended_stream()
        [contribution] = fund_ended(stream, 100)
        funding_payouts_settle_due(now=stream.ended_at + DELAY)
        before = money_snapshot()

        with pytest.raises(Conflict, match="has been paid out"):
            contribution_refund(contribution_id=contribution.pk)
        assert money_snapshot() == before

    def test_deleting_a_paid_out_stream_refunds_no_funding(self, client_for):
        stream = ended_stream()
        [contribution] = fund_ended(stream, 100)
        funding_payouts_settle_due(now=stream.ended_at + DELAY)

        response = client_for(stream.creator).delete(f"/api/v1/live-stream/{stream.pk}")

        assert response.status_code == 200
        assert balance(contribution.user) == 0 and balance(stream.creator) == 80
        assert Contribution.objects.get(pk=contribution.pk).status == "completed"
        assert list(ledger_mismatches()) == []

    def test_deleting_before_the_payout_refunds_and_nothing_is_paid(self, client_for):
        stream = ended_stream()
        [contribution] = fund_ended(stream, 100)

        client_for(stream.creator).delete(f"/api/v1/live-stream/{stream.pk}")

        assert funding_payouts_settle_due(now=stream.ended_at + DELAY) == 0
        assert balance(contribution.user) == 100 and balance(stream.creator) == 0

    def test_the_audit_sees_a_payout_that_does_not_match_the_funding(self):
        stream = ended_stream()
        fund_ended(stream, 100)
        payout = funding_payout_settle(stream_id=stream.pk, now=stream.ended_at + DELAY)
        with tampered():  # payouts are append-only: as a superuser would (tests.support)
            FundingPayout.objects.filter(pk=payout.pk).update(total=90)

        mismatches = list(ledger_mismatches())

        assert any(f"funding payout {payout.pk}: paid out 90" in m for m in mismatches)
        assert any(f"funding payout {payout.pk}: revenue" in m for m in mismatches)
        with pytest.raises(Exception, match="mismatch"):
            call_command("audit_ledger")

    def test_the_audit_sees_a_stream_marked_paid_out_without_its_payout_and_the_reverse(self):
        paid, marked = ended_stream(), ended_stream()
        payout = funding_payout_settle(stream_id=paid.pk, now=paid.ended_at + DELAY)
        LiveStream.objects.filter(pk=paid.pk).update(funding_paid_out_at=None)
        LiveStream.objects.filter(pk=marked.pk).update(funding_paid_out_at=timezone.now())

        mismatches = list(ledger_mismatches())

        assert any(
            m.startswith(f"funding payout {payout.pk}: stream {paid.pk} says paid out at None")
            for m in mismatches
        )
        assert f"live stream {marked.pk}: marked paid out without a funding payout" in mismatches
