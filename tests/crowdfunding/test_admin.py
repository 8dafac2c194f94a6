"""Admin for contributions, mini crowd fundings and supports, and the stream's money inlines."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.urls import reverse

from crowdfunding.admin import INLINE_LIMIT
from crowdfunding.models import (
    Contribution,
    IdempotencyRecord,
    MiniCrowdFunding,
    MiniCrowdFundingSupport,
)
from crowdfunding.services import mini_crowd_funding_support_create
from livestreams.models import LiveStream
from tests.crowdfunding.factories import ContributionFactory, MiniCrowdFundingFactory
from tests.livestreams.factories import LiveStreamFactory
from tests.support import money_snapshot, queries_for
from tests.users.factories import UserFactory
from users.models import CreditLedgerEntry
from users.services import credits_grant

pytestmark = pytest.mark.django_db

CONTRIBUTIONS = reverse("admin:crowdfunding_contribution_changelist")


def _support(mini=None, user=None, amount: int = 30) -> MiniCrowdFundingSupport:
    """A paid support, made as the API makes it (its ledger debit included)."""
    user = user or UserFactory()
    mini = mini or MiniCrowdFundingFactory(goal=1_000_000)
    credits_grant(user=user, amount=amount)
    return mini_crowd_funding_support_create(
        user=user, stream_id=mini.stream_id, mini_crowd_funding_id=mini.pk, amount=amount
    ).support


def _ids(response) -> list[str]:
    return [row.pk for row in response.context["cl"].result_list]


def test_contribution_changelist_shows_rows_with_constant_queries(
    admin_client, django_assert_num_queries
):
    ContributionFactory(
        user=UserFactory(username="ayse"), stream=LiveStreamFactory(title="Canlı konser")
    )
    at_one_size = queries_for(admin_client, CONTRIBUTIONS)
    ContributionFactory.create_batch(19)  # each with its own user and stream

    with django_assert_num_queries(at_one_size):
        response = admin_client.get(CONTRIBUTIONS)

    assert response.status_code == 200
    assert response.context["cl"].result_count == 20
    body = response.content.decode()
    assert "ayse" in body
    assert "Canlı konser" in body


def test_contribution_changelist_filters_by_status_stream_and_searches(admin_client):
    concert = LiveStreamFactory(title="Canlı konser")
    mine = ContributionFactory(user=UserFactory(username="ayse"), stream=concert)
    refunded = ContributionFactory(stream=concert, status=Contribution.Status.REFUNDED)
    elsewhere = ContributionFactory(user=UserFactory(username="mehmet"))

    assert _ids(admin_client.get(CONTRIBUTIONS, {"q": "ayse"})) == [mine.pk]
    assert set(_ids(admin_client.get(CONTRIBUTIONS, {"q": "konser"}))) == {mine.pk, refunded.pk}
    assert set(_ids(admin_client.get(CONTRIBUTIONS, {"q": concert.pk}))) == {
        mine.pk,
        refunded.pk,
    }
    assert set(_ids(admin_client.get(CONTRIBUTIONS, {"stream": concert.pk}))) == {
        mine.pk,
        refunded.pk,
    }
    assert _ids(admin_client.get(CONTRIBUTIONS, {"status__exact": "refunded"})) == [refunded.pk]
    assert elsewhere.pk in _ids(admin_client.get(CONTRIBUTIONS, {"status__exact": "completed"}))


def test_contribution_change_page_is_read_only(admin_client):
    contribution = ContributionFactory(user=UserFactory(username="ayse"), amount=120)

    response = admin_client.get(
        reverse("admin:crowdfunding_contribution_change", args=[contribution.pk])
    )

    assert response.status_code == 200
    body = response.content.decode()
    assert "ayse" in body
    assert "120" in body
    assert 'name="amount"' not in body
    assert response.context["has_change_permission"] is False


def test_contribution_amount_cannot_be_changed_added_or_deleted(admin_client):
    contribution = ContributionFactory(amount=120)
    change_url = reverse("admin:crowdfunding_contribution_change", args=[contribution.pk])

    change = admin_client.post(change_url, {"amount": 1, "status": "completed"})
    add = admin_client.post(
        reverse("admin:crowdfunding_contribution_add"),
        {"user": contribution.user_id, "stream": contribution.stream_id, "amount": 5},
    )
    delete = admin_client.post(
        reverse("admin:crowdfunding_contribution_delete", args=[contribution.pk]), {"post": "yes"}
    )

    assert (change.status_code, add.status_code, delete.status_code) == (403, 403, 403)
    contribution.refresh_from_db()
    assert (contribution.amount, contribution.status) == (120, Contribution.Status.COMPLETED)
    assert Contribution.objects.count() == 1


def test_refund_action_asks_first_lists_each_refund_and_changes_nothing(admin_client):
    stream = LiveStreamFactory(title="Canlı konser")
    completed = ContributionFactory(user=UserFactory(username="ayse"), stream=stream, amount=120)
    other = ContributionFactory(user=UserFactory(username="mehmet"), stream=stream, amount=30)
    already = ContributionFactory(
        user=UserFactory(username="zeynep"), stream=stream, status="refunded", amount=40
    )
    before = money_snapshot()

    response = admin_client.post(
        CONTRIBUTIONS,
        {"action": "refund_selected", "_selected_action": [completed.pk, other.pk, already.pk]},
    )

    assert response.status_code == 200
    assert response.templates[0].name == "admin/confirm_money_action.html"
    lines = [
        (line.user.username, line.stream.title, line.amount, line.skipped)
        for line in response.context["lines"]
    ]
    assert lines == [
        ("ayse", "Canlı konser", 120, ""),
        ("mehmet", "Canlı konser", 30, ""),
        ("zeynep", "Canlı konser", 40, "contribution is refunded"),
    ]
    assert (response.context["total"], response.context["refund_count"]) == (150, 2)
    body = response.content.decode()
    assert 'id="money-plan-total">150<' in body
    assert 'name="post" value="yes"' in body
    assert body.count('name="_selected_action"') == 3
    assert money_snapshot() == before


def test_refund_action_runs_once_confirmed_and_reports_the_result(admin_client):
    stream = LiveStreamFactory(title="Canlı konser")
    funder = UserFactory(username="ayse")
    completed = ContributionFactory(user=funder, stream=stream, amount=120)
    already = ContributionFactory(stream=stream, status=Contribution.Status.REFUNDED, amount=40)
    funder.refresh_from_db()
    assert funder.credit_balance == 0
    assert LiveStream.objects.get(pk=stream.pk).collected_funding == 120

    response = admin_client.post(
        CONTRIBUTIONS,
        {
            "action": "refund_selected",
            "_selected_action": [completed.pk, already.pk],
            "post": "yes",
        },
        follow=True,
    )

    assert response.status_code == 200
    completed.refresh_from_db()
    funder.refresh_from_db()
    assert completed.status == Contribution.Status.REFUNDED
    assert completed.refunded_at is not None
    assert funder.credit_balance == 120
    refund = CreditLedgerEntry.objects.get(pk=completed.refund_ledger_entry_id)
    assert (refund.user_id, refund.type, refund.amount, refund.balance_after) == (
        funder.pk,
        CreditLedgerEntry.Type.STREAM_FUNDING_REFUND,
        120,
        120,
    )
    assert (
        refund.description == f"Operator refund of a contribution to “Canlı konser” ({stream.pk})"
    )
    assert LiveStream.objects.get(pk=stream.pk).collected_funding == 0
    already_refunds = CreditLedgerEntry.objects.filter(
        user_id=already.user_id, type=CreditLedgerEntry.Type.STREAM_FUNDING_REFUND
    )
    assert already_refunds.count() == 1  # the factory's, not a second one
    texts = [str(message) for message in get_messages(response.wsgi_request)]
    assert "Refunded 1 contribution(s): 120 credits to 1 funder(s)." in texts
    skipped = next(text for text in texts if text.startswith("Skipped 1 contribution(s):"))
    assert already.pk in skipped
    assert "refunded" in skipped


def test_refund_action_skips_contributions_whose_funding_was_paid_out(admin_client):
    from crowdfunding.clock import funding_payouts_settle_due
    from tests.livestreams.factories import EndedStreamFactory

    ended = EndedStreamFactory(title="Bitti")
    paid = ContributionFactory(user=UserFactory(username="ayse"), stream=ended, amount=50)
    funding_payouts_settle_due(now=ended.ended_at + timedelta(days=1))
    selected = {"action": "refund_selected", "_selected_action": [paid.pk]}
    before = money_snapshot()

    plan = admin_client.post(CONTRIBUTIONS, selected)
    done = admin_client.post(CONTRIBUTIONS, {**selected, "post": "yes"}, follow=True)

    [line] = plan.context["lines"]
    assert line.skipped == "its stream's funding has been paid out"
    assert plan.context["refund_count"] == 0
    texts = [str(message) for message in get_messages(done.wsgi_request)]
    assert texts == [
        f"Skipped 1 contribution(s): {paid.pk} (The funding of this live stream has been paid out)."
    ]
    assert money_snapshot() == before


@pytest.mark.parametrize("granted", [[], ["view_contribution", "change_contribution"]])
def test_refund_action_needs_the_refund_permission(client, granted):
    viewer = UserFactory(username="operator", is_staff=True)
    viewer.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_contribution", *granted])
    )
    client.force_login(viewer)
    contribution = ContributionFactory()
    before = money_snapshot()

    listing = client.get(CONTRIBUTIONS)
    asked = client.post(
        CONTRIBUTIONS, {"action": "refund_selected", "_selected_action": [contribution.pk]}
    )
    confirmed = client.post(
        CONTRIBUTIONS,
        {"action": "refund_selected", "_selected_action": [contribution.pk], "post": "yes"},
    )

    assert listing.status_code == 200
    assert 'value="refund_selected"' not in listing.content.decode()
    for response in (asked, confirmed):  # shown again with "no action selected"
        assert response.status_code == 200
        assert "admin/confirm_money_action.html" not in [t.name for t in response.templates]
    assert money_snapshot() == before


def test_refund_permission_alone_lets_a_staff_user_refund(client):
    operator = UserFactory(username="operator", is_staff=True)
    operator.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_contribution", "refund_contribution"])
    )
    client.force_login(operator)
    contribution = ContributionFactory(amount=70)

    client.post(
        CONTRIBUTIONS,
        {"action": "refund_selected", "_selected_action": [contribution.pk], "post": "yes"},
    )

    contribution.refresh_from_db()
    assert contribution.status == Contribution.Status.REFUNDED


def test_stream_change_page_has_read_only_money_inlines_with_constant_queries(
    admin_client, django_assert_num_queries
):
    stream = LiveStreamFactory(title="Canlı konser")
    ContributionFactory(user=UserFactory(username="ayse"), stream=stream, amount=77)
    MiniCrowdFundingFactory(stream=stream, title="New microphone", goal=200)
    url = reverse("admin:livestreams_livestream_change", args=[stream.pk])
    at_one_size = queries_for(admin_client, url)
    ContributionFactory.create_batch(19, stream=stream)

    with django_assert_num_queries(at_one_size):
        response = admin_client.get(url)

    assert response.status_code == 200
    body = response.content.decode()
    assert "ayse" in body
    assert "New microphone" in body
    assert f"?stream={stream.pk}" in body
    assert "20 contributions" in body
    inlines = {
        formset.formset.prefix: formset for formset in response.context["inline_admin_formsets"]
    }
    contributions = inlines["contributions"]
    assert len(contributions.formset.forms) == 20
    assert not contributions.has_add_permission
    assert not contributions.has_change_permission
    assert not contributions.has_delete_permission
    assert not inlines["mini_crowd_fundings"].has_change_permission


def test_stream_change_page_shows_only_the_latest_contributions(admin_client):
    stream = LiveStreamFactory()
    ContributionFactory.create_batch(INLINE_LIMIT + 1, stream=stream)

    response = admin_client.get(reverse("admin:livestreams_livestream_change", args=[stream.pk]))

    inlines = {
        formset.formset.prefix: formset for formset in response.context["inline_admin_formsets"]
    }
    assert len(inlines["contributions"].formset.forms) == INLINE_LIMIT
    assert f"{INLINE_LIMIT + 1} contributions" in response.content.decode()


def test_stream_with_contributions_can_be_edited_but_not_deleted(admin_client):
    stream = LiveStreamFactory(title="Canlı konser", funding_goal=1000)
    ContributionFactory.create_batch(2, stream=stream, amount=100)
    change_url = reverse("admin:livestreams_livestream_change", args=[stream.pk])
    delete_url = reverse("admin:livestreams_livestream_delete", args=[stream.pk])

    page = admin_client.get(change_url)
    assert page.context["has_delete_permission"] is False
    assert delete_url not in page.content.decode()
    assert admin_client.get(delete_url).status_code == 403
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 403

    data = {
        "creator": stream.creator_id,
        "title": "Canlı konser (yeni saat)",
        "live_stream_type": stream.live_stream_type,
        "status": stream.status,
        "interest": stream.interest,
        "duration_goal": stream.duration_goal,
        "funding_goal": 1500,
        "collected_funding": 1,
        "planned_start_date_0": stream.planned_start_date.strftime("%Y-%m-%d"),
        "planned_start_date_1": stream.planned_start_date.strftime("%H:%M:%S"),
        "planned_end_date_0": stream.planned_end_date.strftime("%Y-%m-%d"),
        "planned_end_date_1": stream.planned_end_date.strftime("%H:%M:%S"),
    }
    for formset in page.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        for name in ("TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS", "MAX_NUM_FORMS"):
            data[f"{management.prefix}-{name}"] = management[name].value()
    response = admin_client.post(change_url, data)

    assert response.status_code == 302
    stream.refresh_from_db()
    assert (stream.title, stream.funding_goal, stream.collected_funding) == (
        "Canlı konser (yeni saat)",
        1500,
        200,
    )
    assert Contribution.objects.filter(stream=stream, amount=100).count() == 2


def test_mini_crowd_funding_changelist_and_change_page(admin_client, django_assert_num_queries):
    url = reverse("admin:crowdfunding_minicrowdfunding_changelist")
    mini = MiniCrowdFundingFactory(
        title="New microphone", goal=200, stream=LiveStreamFactory(title="Canlı konser")
    )
    MiniCrowdFunding.objects.filter(pk=mini.pk).update(collected=50)
    at_one_size = queries_for(admin_client, url)
    MiniCrowdFundingFactory.create_batch(19)

    with django_assert_num_queries(at_one_size):
        response = admin_client.get(url)

    assert response.context["cl"].result_count == 20
    body = response.content.decode()
    row = next(line for line in body.splitlines() if "New microphone" in line)
    assert "Canlı konser" in row
    assert '<td class="field-goal">200</td>' in row
    assert '<td class="field-collected">50</td>' in row
    assert '<td class="field-percentage">25</td>' in row
    assert _ids(admin_client.get(url, {"status__exact": "active", "q": "microphone"}))
    change = admin_client.get(reverse("admin:crowdfunding_minicrowdfunding_change", args=[mini.pk]))
    assert change.status_code == 200
    assert {"collected", "percentage", "status"} <= set(change.context["adminform"].readonly_fields)


def test_only_the_title_of_a_mini_crowd_funding_is_editable(admin_client):
    mini = MiniCrowdFundingFactory(goal=200)
    MiniCrowdFunding.objects.filter(pk=mini.pk).update(collected=50)

    response = admin_client.post(
        reverse("admin:crowdfunding_minicrowdfunding_change", args=[mini.pk]),
        {"title": "Bigger microphone", "goal": 400, "collected": 9999, "status": "completed"},
    )

    assert response.status_code == 302
    mini.refresh_from_db()
    assert (mini.title, mini.goal, mini.collected, mini.status) == (
        "Bigger microphone",
        200,
        50,
        MiniCrowdFunding.Status.ACTIVE,
    )


def test_support_changelist_and_read_only_change_page(admin_client, django_assert_num_queries):
    url = reverse("admin:crowdfunding_minicrowdfundingsupport_changelist")
    support = _support(
        mini=MiniCrowdFundingFactory(title="New microphone"),
        user=UserFactory(username="ayse"),
        amount=30,
    )
    at_one_size = queries_for(admin_client, url)
    for _ in range(19):
        _support()

    with django_assert_num_queries(at_one_size):
        response = admin_client.get(url)

    assert response.context["cl"].result_count == 20
    body = response.content.decode()
    assert "ayse" in body
    assert "New microphone" in body
    assert _ids(admin_client.get(url, {"q": "ayse", "status__exact": "completed"})) == [support.pk]
    change_url = reverse("admin:crowdfunding_minicrowdfundingsupport_change", args=[support.pk])
    change = admin_client.get(change_url)
    assert change.status_code == 200
    assert 'name="amount"' not in change.content.decode()
    assert admin_client.post(change_url, {"amount": 1}).status_code == 403
    assert (
        admin_client.get(reverse("admin:crowdfunding_minicrowdfundingsupport_add")).status_code
        == 403
    )
    support.refresh_from_db()
    assert support.amount == 30


def test_idempotency_record_changelist_and_read_only_change_page(
    admin_client, django_assert_num_queries
):
    url = reverse("admin:crowdfunding_idempotencyrecord_changelist")

    def record(user=None, key=None) -> IdempotencyRecord:
        user = user or UserFactory()
        return IdempotencyRecord.objects.create(
            user=user,
            key=key or f"key-{user.username}",
            fingerprint="0" * 64,
            response_status=201,
            response_data={"amount": 100},
        )

    first = record(UserFactory(username="ayse"), "retry-me-7")
    at_one_size = queries_for(admin_client, url)
    for _ in range(19):
        record()

    with django_assert_num_queries(at_one_size):
        response = admin_client.get(url)

    assert response.context["cl"].result_count == 20
    assert "retry-me-7" in response.content.decode()
    assert _ids(admin_client.get(url, {"q": "ayse"})) == [first.pk]
    change_url = reverse("admin:crowdfunding_idempotencyrecord_change", args=[first.pk])
    assert admin_client.get(change_url).status_code == 200
    assert admin_client.post(change_url, {"key": "other"}).status_code == 403
    delete_url = reverse("admin:crowdfunding_idempotencyrecord_delete", args=[first.pk])
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 403
    assert IdempotencyRecord.objects.filter(pk=first.pk, key="retry-me-7").exists()
