"""Admin for the money-in catalogue and records: packages and gift types need their named
permission to change; store events, transfers and gifts are read-only lists."""

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from livestreams.models import GiftType
from tests.support import queries_for
from tests.users.factories import UserFactory
from users.models import CreditPackage, StoreEvent
from users.purchases import StoreEventFields, store_event_receive

pytestmark = pytest.mark.django_db


def staff_with(*permissions: str) -> Client:
    user = UserFactory(is_staff=True)
    for name in permissions:
        app_label, codename = name.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    ("model", "permission", "data"),
    [
        (
            "users_creditpackage",
            "users.manage_credit_packages",
            {"credit_amount": 42, "revenuecat_product_id": "x.42", "store_identifier": "x.42",
             "store_type": "web", "is_active": "on"},
        ),
        (
            "livestreams_gifttype",
            "livestreams.manage_gift_types",
            {"name": "Comet", "credit_amount": 42, "icon_url": "", "is_active": "on"},
        ),
    ],
)  # fmt: skip
def test_catalogues_change_only_with_their_named_permission(model, permission, data):
    add = reverse(f"admin:{model}_add")
    reader = staff_with(permission.split(".")[0] + ".view_" + model.split("_", 1)[1])
    assert reader.get(reverse(f"admin:{model}_changelist")).status_code == 200
    assert reader.post(add, data).status_code == 403
    manager = staff_with(permission)
    assert manager.get(reverse(f"admin:{model}_changelist")).status_code == 200
    assert manager.post(add, data).status_code == 302
    found = (CreditPackage if model.startswith("users") else GiftType).objects.filter(
        credit_amount=42
    )
    assert found.count() == 1


def test_grant_operator_money_may_manage_both_catalogues():
    user = UserFactory(username="ops", is_staff=True)
    call_command("grant_operator", "ops", "--money", stdout=None)
    user = type(user).objects.get(pk=user.pk)
    assert user.has_perm("users.manage_credit_packages")
    assert user.has_perm("livestreams.manage_gift_types")
    assert user.has_perm("users.view_storeevent")


def _event(n: int, user) -> None:
    store_event_receive(
        fields=StoreEventFields(
            event_id=f"evt-{n}", event_type="NON_RENEWING_PURCHASE", app_user_id=user.pk,
            product_id="allmine.credits.10", transaction_id=f"tx-{n}",
        ),
        payload={"event": {"id": f"evt-{n}"}},
    )  # fmt: skip


def test_store_events_are_listed_read_only_with_constant_queries(
    admin_client, django_assert_num_queries
):
    CreditPackage.objects.get_or_create(
        revenuecat_product_id="allmine.credits.10",
        defaults={"credit_amount": 10, "store_identifier": "x", "store_type": "apple"},
    )
    buyer = UserFactory(username="buyer")
    _event(0, buyer)
    url = reverse("admin:users_storeevent_changelist")
    small = queries_for(admin_client, url)
    for n in range(1, 15):
        _event(n, UserFactory())
    with django_assert_num_queries(small):
        response = admin_client.get(url)
    assert response.context["cl"].result_count == 15
    credited = admin_client.get(url, {"outcome__exact": "credited"}).context["cl"].result_count
    assert credited == StoreEvent.objects.filter(outcome="credited").count() == 15
    event = StoreEvent.objects.get(event_id="evt-0")
    change = admin_client.get(reverse("admin:users_storeevent_change", args=[event.pk]))
    assert change.status_code == 200 and "buyer" in change.content.decode()
    assert admin_client.post(reverse("admin:users_storeevent_add"), {}).status_code == 403
