"""The admin never undoes or bypasses money moved by the services."""

from types import SimpleNamespace

import pytest
from django.contrib.admin.sites import site
from django.test import RequestFactory
from django.urls import reverse

from crowdfunding.models import Contribution, MiniCrowdFunding
from crowdfunding.services import mini_crowd_funding_support_create
from livestreams.models import LiveStream
from tests.crowdfunding.factories import ContributionFactory, MiniCrowdFundingFactory
from tests.users.factories import UserFactory
from users.models import User
from users.services import credits_grant, user_logout

pytestmark = pytest.mark.django_db


def save_through_admin(model, obj, changes: dict, admin_user) -> None:
    """What the change view does once its form is valid: the changes applied to the row as it
    was loaded, then `save_model` with a form that reports which fields changed."""
    for name, value in changes.items():
        setattr(obj, name, value)
    request = RequestFactory().post("/")
    request.user = admin_user
    form = SimpleNamespace(changed_data=list(changes))
    site._registry[model].save_model(request, obj, form, change=True)


@pytest.fixture
def operator(db):
    return User.objects.create_superuser("operator", "ops@allmine.test", "x")


def test_editing_a_mini_keeps_a_support_made_after_the_page_was_loaded(operator):
    mini = MiniCrowdFundingFactory(goal=1000)
    loaded = MiniCrowdFunding.objects.get(pk=mini.pk)
    supporter = UserFactory()
    credits_grant(user=supporter, amount=100)
    mini_crowd_funding_support_create(
        user=supporter, stream_id=mini.stream_id, mini_crowd_funding_id=mini.pk, amount=40
    )

    save_through_admin(MiniCrowdFunding, loaded, {"title": "renamed"}, operator)

    mini.refresh_from_db()
    assert (mini.title, mini.collected) == ("renamed", 40)


def test_editing_a_user_keeps_a_balance_and_a_logout_made_meanwhile(operator):
    user = UserFactory()
    loaded = User.objects.get(pk=user.pk)
    credits_grant(user=user, amount=75)
    user_logout(user=user)

    save_through_admin(User, loaded, {"first_name": "Renamed"}, operator)

    user.refresh_from_db()
    assert (user.first_name, user.credit_balance, user.token_version) == ("Renamed", 75, 1)


def test_editing_a_stream_keeps_funding_made_meanwhile(operator):
    contribution = ContributionFactory(amount=30)
    loaded = LiveStream.objects.get(pk=contribution.stream_id)
    ContributionFactory(stream=contribution.stream, amount=20)

    save_through_admin(LiveStream, loaded, {"title": "New title"}, operator)

    stream = LiveStream.objects.get(pk=contribution.stream_id)
    assert (stream.title, stream.collected_funding) == ("New title", 50)


def test_status_deletion_and_creator_of_a_stream_are_read_only(admin_client):
    stream = ContributionFactory().stream

    page = admin_client.get(reverse("admin:livestreams_livestream_change", args=[stream.pk]))

    assert {"status", "deleted_at", "creator", "collected_funding"} <= set(
        page.context["adminform"].readonly_fields
    )


def test_cancel_action_refunds_every_funder(admin_client):
    contribution = ContributionFactory(amount=60)
    funder, stream = contribution.user, contribution.stream
    ended = ContributionFactory(stream__status=LiveStream.Status.ENDED).stream

    response = admin_client.post(
        reverse("admin:livestreams_livestream_changelist"),
        {"action": "cancel_and_refund", "_selected_action": [stream.pk, ended.pk], "post": "yes"},
        follow=True,
    )

    stream.refresh_from_db()
    funder.refresh_from_db()
    contribution.refresh_from_db()
    assert stream.status == LiveStream.Status.CANCELLED_BY_HOST
    assert stream.collected_funding == 0
    assert contribution.status == Contribution.Status.REFUNDED
    assert funder.credit_balance == 60
    messages = [str(m) for m in response.context["messages"]]
    assert (
        "Cancelled 1 stream(s) and refunded 60 credits in 1 refund(s) to 1 funder(s)." in messages
    )
    assert any(f"{ended.pk} (Live stream is ended, it cannot be cancelled)" in m for m in messages)
    ended.refresh_from_db()
    assert ended.status == LiveStream.Status.ENDED


def test_cancel_report_counts_only_what_the_cancel_refunded(admin_client, monkeypatch):
    """A refund someone else makes while the action runs is not reported as the action's."""
    from crowdfunding.admin import streams as funding_admin
    from crowdfunding.services import contribution_refund

    mine = ContributionFactory(amount=60)
    stream = mine.stream
    meanwhile = ContributionFactory(stream=stream, amount=25)
    cancel = funding_admin.live_stream_cancel_by_operator

    def refund_meanwhile_then_cancel(**kwargs):
        contribution_refund(contribution_id=meanwhile.pk)  # another operator, same moment
        return cancel(**kwargs)

    monkeypatch.setattr(
        funding_admin, "live_stream_cancel_by_operator", refund_meanwhile_then_cancel
    )

    response = admin_client.post(
        reverse("admin:livestreams_livestream_changelist"),
        {"action": "cancel_and_refund", "_selected_action": [stream.pk], "post": "yes"},
        follow=True,
    )

    messages = [str(m) for m in response.context["messages"]]
    assert messages == [
        "Cancelled 1 stream(s) and refunded 60 credits in 1 refund(s) to 1 funder(s)."
    ]


def test_new_minis_only_on_streams_that_take_funding(admin_client):
    open_stream = ContributionFactory().stream
    ended = ContributionFactory(stream__status=LiveStream.Status.ENDED).stream

    page = admin_client.get(reverse("admin:crowdfunding_minicrowdfunding_add"))
    choices = page.context["adminform"].form.fields["stream"].queryset

    assert open_stream in choices
    assert ended not in choices


def stream_change_data(page, stream, **changes) -> dict:
    """What the stream's change form posts: its editable fields as they are, with `changes`."""
    data = {
        "title": stream.title,
        "interest": stream.interest,
        "motivation": stream.motivation,
        "thumbnail_url": stream.thumbnail_url,
        "duration_goal": stream.duration_goal,
        "funding_goal": stream.funding_goal,
        "planned_start_date_0": stream.planned_start_date.strftime("%Y-%m-%d"),
        "planned_start_date_1": stream.planned_start_date.strftime("%H:%M:%S"),
        "planned_end_date_0": stream.planned_end_date.strftime("%Y-%m-%d"),
        "planned_end_date_1": stream.planned_end_date.strftime("%H:%M:%S"),
        "replay_credit_price": "",
        "is_active_replay_on_creator_profile": "unknown",
        **changes,
    }
    for formset in page.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        for name in ("TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS", "MAX_NUM_FORMS"):
            data[f"{management.prefix}-{name}"] = management[name].value()
    return data


def test_stream_admin_changes_go_through_the_service_and_its_checks(admin_client):
    """The admin cannot set the goal below what is collected (the service's 409), nor change
    the type, price, status or creator: only what the creator may change."""
    stream = ContributionFactory(amount=300).stream
    url = reverse("admin:livestreams_livestream_change", args=[stream.pk])
    page = admin_client.get(url)
    assert {"live_stream_type", "price", "status", "creator", "recording"} <= set(
        page.context["adminform"].readonly_fields
    )

    data = stream_change_data(page, stream, funding_goal=100, live_stream_type="duocrowd")
    response = admin_client.post(url, data, follow=True)

    messages = [str(m) for m in response.context["messages"]]
    assert messages == [
        "Not saved: fundingGoal: 300 credits are already collected, the goal cannot be lower"
    ]
    unchanged = LiveStream.objects.get(pk=stream.pk)
    assert (unchanged.funding_goal, unchanged.live_stream_type) == (
        stream.funding_goal,
        "solo",
    )


def test_the_stream_add_form_has_no_status_to_pick(admin_client):
    page = admin_client.get(reverse("admin:livestreams_livestream_add"))

    assert "status" not in page.context["adminform"].form.fields


def test_a_mini_added_in_the_admin_goes_through_the_service(admin_client):
    """Funding closed at the planned start: the service refuses a new mini, the admin too."""
    from datetime import timedelta

    from django.utils import timezone

    stream = ContributionFactory().stream
    LiveStream.objects.filter(pk=stream.pk).update(
        planned_start_date=timezone.now() - timedelta(minutes=1)
    )
    url = reverse("admin:crowdfunding_minicrowdfunding_add")

    response = admin_client.post(
        url, {"stream": stream.pk, "title": "Late", "goal": 100}, follow=True
    )

    assert [str(m) for m in response.context["messages"]] == [
        "Not saved: Funding has closed for this stream"
    ]
    assert not MiniCrowdFunding.objects.exists()
    open_stream = ContributionFactory().stream
    response = admin_client.post(url, {"stream": open_stream.pk, "title": "Mic", "goal": 100})
    assert response.status_code == 302
    assert MiniCrowdFunding.objects.get().stream_id == open_stream.pk
