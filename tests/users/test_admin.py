"""Admin for users, media and the credit ledger."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.support import queries_for
from tests.users.factories import MediaFactory, UserFactory
from users.models import CreditLedgerEntry, User
from users.services import credits_grant

pytestmark = pytest.mark.django_db


def _ledger_entry(user=None, amount: int = 250) -> CreditLedgerEntry:
    return credits_grant(user=user or UserFactory(), amount=amount, description="welcome bonus")


def test_user_changelist_shows_users_with_constant_queries(admin_client, django_assert_num_queries):
    url = reverse("admin:users_user_changelist")
    UserFactory(username="ayse")
    at_one_size = queries_for(admin_client, url)
    UserFactory.create_batch(19)

    with django_assert_num_queries(at_one_size):
        response = admin_client.get(url)

    assert response.status_code == 200
    assert "ayse" in response.content.decode()
    assert response.context["cl"].result_count == User.objects.count()


def test_user_change_page_shows_extra_fields_and_ledger_link(admin_client):
    user = UserFactory(username="ayse")
    _ledger_entry(user, 300)

    response = admin_client.get(reverse("admin:users_user_change", args=[user.pk]))

    assert response.status_code == 200
    body = response.content.decode()
    for field in ("profile_photo", "availability_status", "account_status"):
        assert f'name="{field}"' in body
    assert f"?user={user.pk}" in body
    assert "1 ledger entries" in body
    admin_form = response.context["adminform"]
    assert {"credit_balance", "token_version"} <= set(admin_form.readonly_fields)


def test_user_credit_balance_and_token_version_cannot_be_changed_by_post(admin_client):
    user = UserFactory(username="ayse")
    _ledger_entry(user, 300)
    long_ago = timezone.now() - timedelta(days=30)
    User.objects.filter(pk=user.pk).update(updated_at=long_ago)
    url = reverse("admin:users_user_change", args=[user.pk])
    response = admin_client.get(url)
    data = {
        key: value
        for key, value in response.context["adminform"].form.initial.items()
        if value is not None and key not in ("groups", "user_permissions", "password")
    }
    data.update(
        {
            "profile_photo": user.profile_photo_id,
            "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
            "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
            "account_status": User.AccountStatus.SUSPENDED,
            "credit_balance": 999999,
            "token_version": 42,
        }
    )
    data.pop("date_joined", None)
    data.pop("last_login", None)

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    user.refresh_from_db()
    assert user.account_status == User.AccountStatus.SUSPENDED
    assert user.credit_balance == 300
    assert user.token_version == 0
    assert user.updated_at > long_ago  # the change is stamped


def test_user_add_page_and_add(admin_client):
    url = reverse("admin:users_user_add")
    assert admin_client.get(url).status_code == 200

    response = admin_client.post(
        url,
        {
            "username": "newcomer",
            "usable_password": "true",
            "password1": "a-long-enough-password-77",
            "password2": "a-long-enough-password-77",
        },
    )

    assert response.status_code == 302
    created = User.objects.get(username="newcomer")
    assert created.credit_balance == 0
    assert len(created.pk) == 24


def test_media_changelist_and_change_page(admin_client, django_assert_num_queries):
    url = reverse("admin:users_media_changelist")
    media = MediaFactory()
    at_one_size = queries_for(admin_client, url)
    MediaFactory.create_batch(19)

    with django_assert_num_queries(at_one_size):
        response = admin_client.get(url)

    assert response.status_code == 200
    assert media.url in response.content.decode()
    response = admin_client.get(reverse("admin:users_media_change", args=[media.pk]))
    assert response.status_code == 200
    assert media.url in response.content.decode()


def test_ledger_changelist_shows_entries_with_constant_queries(
    admin_client, django_assert_num_queries
):
    url = reverse("admin:users_creditledgerentry_changelist")
    _ledger_entry(UserFactory(username="ayse"))
    at_one_size = queries_for(admin_client, url)
    for _ in range(19):
        _ledger_entry()  # each entry belongs to a different user

    with django_assert_num_queries(at_one_size):
        response = admin_client.get(url)

    assert response.status_code == 200
    assert response.context["cl"].result_count == 20
    assert "ayse" in response.content.decode()


def test_ledger_changelist_filters_and_searches(admin_client):
    url = reverse("admin:users_creditledgerentry_changelist")
    mine = _ledger_entry(UserFactory(username="ayse"))
    other = _ledger_entry(UserFactory(username="mehmet"))

    by_search = admin_client.get(url, {"q": "ayse"}).context["cl"].result_list
    by_user = admin_client.get(url, {"user": mine.user_id}).context["cl"].result_list
    by_type = admin_client.get(url, {"type__exact": "credit_purchase"}).context["cl"].result_list
    by_status = admin_client.get(url, {"status__exact": "completed"}).context["cl"].result_list

    assert [entry.pk for entry in by_search] == [mine.pk]
    assert [entry.pk for entry in by_user] == [mine.pk]
    assert list(by_type) == []
    assert {entry.pk for entry in by_status} == {mine.pk, other.pk}


def test_ledger_change_page_is_read_only(admin_client):
    entry = _ledger_entry(UserFactory(username="ayse"))

    response = admin_client.get(reverse("admin:users_creditledgerentry_change", args=[entry.pk]))

    assert response.status_code == 200
    assert "welcome bonus" in response.content.decode()
    assert response.context["has_change_permission"] is False
    assert response.context["has_delete_permission"] is False
    assert 'name="amount"' not in response.content.decode()


def test_ledger_entries_cannot_be_added_changed_or_deleted(admin_client):
    entry = _ledger_entry(UserFactory(username="ayse"), 250)
    change_url = reverse("admin:users_creditledgerentry_change", args=[entry.pk])
    changelist_url = reverse("admin:users_creditledgerentry_changelist")

    add = admin_client.post(
        reverse("admin:users_creditledgerentry_add"),
        {"user": entry.user_id, "type": "admin_adjustment", "amount": 5, "balance_after": 5},
    )
    change = admin_client.post(change_url, {"amount": 1_000_000, "balance_after": 1_000_000})
    delete = admin_client.post(
        reverse("admin:users_creditledgerentry_delete", args=[entry.pk]), {"post": "yes"}
    )
    bulk_delete = admin_client.post(
        changelist_url, {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"}
    )

    assert add.status_code == 403
    assert change.status_code == 403
    assert delete.status_code == 403
    assert bulk_delete.status_code == 200  # no delete action: the list is shown again
    assert 'value="delete_selected"' not in admin_client.get(changelist_url).content.decode()
    assert CreditLedgerEntry.objects.count() == 1
    entry.refresh_from_db()
    assert (entry.amount, entry.balance_after) == (250, 250)
