"""Every moment of API.md §10 writes its notifications through the API, in the same
transaction; refund notifications carry the amounts the ledger shows. Push delivery."""

from datetime import timedelta

import pytest
from django.db.models import Sum
from django.test import override_settings
from django.utils import timezone

from livestreams.services import replay_revenue_settle
from notifications.models import Notification, RecordedPush
from notifications.push import PushSender, _sender_class
from notifications.services import notification_create
from notifications.tasks import notification_push_deliver
from tests.crowdfunding.factories import MiniCrowdFundingFactory
from tests.livestreams.factories import EndedStreamFactory, LiveStreamFactory
from tests.users.factories import UserFactory
from users.models import CreditLedgerEntry
from users.services import credits_grant

pytestmark = pytest.mark.django_db


def funder(credits=1000):
    user = UserFactory()
    credits_grant(user=user, amount=credits)
    return user


def fund(client_for, user, stream, amount):
    response = client_for(user).post(
        f"/api/v1/live-stream/{stream.pk}/fund", {"amount": amount}, format="json"
    )
    assert response.status_code == 201


def inbox(client_for, user) -> list[dict]:
    return client_for(user).get("/api/v1/notifications").json()["data"]["list"]


def refunded_by_ledger(user, stream) -> int:
    rows = CreditLedgerEntry.objects.filter(
        user=user, stream_id=stream.pk, status=CreditLedgerEntry.Status.REFUNDED
    )
    return rows.aggregate(total=Sum("amount"))["total"]


def test_funders_are_told_when_the_stream_starts(client_for):
    stream = LiveStreamFactory()
    alice, bob, bystander = funder(), funder(), funder()
    fund(client_for, alice, stream, 10)
    fund(client_for, alice, stream, 20)
    fund(client_for, bob, stream, 5)
    client_for(stream.creator).post(f"/api/v1/live-stream/{stream.pk}/start")
    for user in (alice, bob):
        [item] = inbox(client_for, user)
        assert (item["type"], item["streamId"]) == ("stream_started", stream.pk)
        assert item["title"] == f"“{stream.title}” is live"
    assert inbox(client_for, bystander) == []


@pytest.mark.parametrize("how", ["cancel", "delete"])
def test_refunded_funders_are_told_the_amount_the_ledger_shows(client_for, how):
    stream = LiveStreamFactory()
    mini = MiniCrowdFundingFactory(stream=stream, goal=1000)
    alice, bob = funder(), funder()
    fund(client_for, alice, stream, 70)
    fund(client_for, alice, stream, 30)
    fund(client_for, bob, stream, 25)
    client_for(bob).post(
        f"/api/v1/live-stream/{stream.pk}/mini-crowd-fundings/{mini.pk}/support",
        {"amount": 12},
        format="json",
    )
    creator = client_for(stream.creator)
    if how == "cancel":
        assert creator.post(f"/api/v1/live-stream/{stream.pk}/cancel").status_code == 200
    else:
        assert creator.delete(f"/api/v1/live-stream/{stream.pk}").status_code == 200

    word = {"cancel": "cancelled", "delete": "deleted"}[how]
    for user, amount in ((alice, 100), (bob, 37)):
        assert refunded_by_ledger(user, stream) == amount
        [item] = inbox(client_for, user)
        assert item["type"] == f"stream_{word}"
        assert f"{amount} credits were refunded" in item["body"]


def test_deletion_tells_renters_of_their_refund(client_for):
    stream = EndedStreamFactory(replay_credit_price=40)
    renter = funder()
    assert (
        client_for(renter).post(f"/api/v1/live-stream/{stream.pk}/replay-rentals").status_code
        == 201
    )
    client_for(stream.creator).delete(f"/api/v1/live-stream/{stream.pk}")
    [item] = inbox(client_for, renter)
    assert item["type"] == "stream_deleted"
    assert "40 credits were refunded" in item["body"]
    assert refunded_by_ledger(renter, stream) == 40


def test_supporters_are_told_when_a_mini_goal_is_reached(client_for):
    stream = LiveStreamFactory()
    mini = MiniCrowdFundingFactory(stream=stream, goal=50)
    alice, bob = funder(), funder()
    url = f"/api/v1/live-stream/{stream.pk}/mini-crowd-fundings/{mini.pk}/support"
    client_for(alice).post(url, {"amount": 30}, format="json")
    assert inbox(client_for, alice) == []
    client_for(bob).post(url, {"amount": 20}, format="json")
    for user in (alice, bob):
        [item] = inbox(client_for, user)
        assert item["type"] == "mini_goal_reached"


def test_replay_revenue_reaches_the_creator(client_for):
    stream = EndedStreamFactory(replay_credit_price=50)
    renter = funder()
    client_for(renter).post(f"/api/v1/live-stream/{stream.pk}/replay-rentals")
    replay_revenue_settle(now=timezone.now() + timedelta(days=2))
    [item] = inbox(client_for, stream.creator)
    assert (item["category"], item["type"]) == ("payments", "replay_revenue")
    assert item["title"] == "40 credits of replay revenue"


def test_a_rolled_back_moment_leaves_no_notification(client_for):
    stream = LiveStreamFactory()
    poor = UserFactory()
    response = client_for(poor).post(
        f"/api/v1/live-stream/{stream.pk}/fund", {"amount": 10}, format="json"
    )
    assert response.status_code == 409
    response = client_for(stream.creator).post(f"/api/v1/live-stream/{stream.pk}/end")
    assert response.status_code == 409
    assert not Notification.objects.exists()


class TestPush:
    def devices(self, client_for, user, count=2):
        for n in range(count):
            client_for(user).post(
                "/api/v1/notifications/device-token",
                {"token": f"tok-{user.pk}-{n}", "platform": "android", "deviceId": f"d{n}"},
                format="json",
            )

    def test_each_device_gets_it_once(self, client_for):
        user = UserFactory()
        self.devices(client_for, user)
        notification = notification_create(
            user_id=user.pk, category="announcement", type="reminder", title="Hi"
        )
        assert notification_push_deliver.call(notification.pk) == 2
        assert notification_push_deliver.call(notification.pk) == 0
        pushes = RecordedPush.objects.filter(notification=notification)
        assert sorted(pushes.values_list("token", flat=True)) == [
            f"tok-{user.pk}-0",
            f"tok-{user.pk}-1",
        ]
        assert pushes.first().data["notificationId"] == notification.pk

    def test_a_failing_sender_never_blocks_the_inbox_and_is_retried(self, client_for):
        user = UserFactory()
        self.devices(client_for, user, count=1)
        _sender_class.cache_clear()
        with override_settings(PUSH_SENDER="tests.notifications.test_moments.FailingSender"):
            notification = notification_create(
                user_id=user.pk, category="announcement", type="reminder", title="Hi"
            )
            with pytest.raises(ConnectionError):
                notification_push_deliver.call(notification.pk)
        _sender_class.cache_clear()
        assert [item["_id"] for item in inbox(client_for, user)] == [notification.pk]
        assert Notification.objects.get().pushed_at is None
        assert notification_push_deliver.call(notification.pk) == 1
        assert RecordedPush.objects.count() == 1


class FailingSender(PushSender):
    def send(self, message):
        raise ConnectionError("push service unreachable")


def test_expiry_tells_funders_their_refund_and_cancels_reminders(client_for):
    from crowdfunding.clock import live_streams_expire_due
    from livestreams.models import Reminder

    stream = LiveStreamFactory()
    alice = funder()
    fund(client_for, alice, stream, 45)
    client_for(alice).post(
        f"/api/v1/live-stream/{stream.pk}/reminder", {"minute": 0}, format="json"
    )
    assert live_streams_expire_due(now=stream.planned_start_date + timedelta(days=1)) == 1
    [item] = inbox(client_for, alice)
    assert item["type"] == "stream_expired"
    assert "45 credits were refunded" in item["body"]
    assert refunded_by_ledger(alice, stream) == 45
    assert Reminder.objects.get().status == Reminder.Status.CANCELLED


def test_a_payout_reaches_the_creator(client_for):
    from crowdfunding.clock import funding_payouts_settle_due

    stream = LiveStreamFactory()
    fund(client_for, funder(), stream, 100)
    creator = client_for(stream.creator)
    creator.post(f"/api/v1/live-stream/{stream.pk}/start")
    creator.post(f"/api/v1/live-stream/{stream.pk}/end")
    assert funding_payouts_settle_due(now=timezone.now() + timedelta(days=2)) == 1
    [item] = [i for i in inbox(client_for, stream.creator) if i["type"] == "funding_payout"]
    assert item["category"] == "payments"
    assert item["title"] == "80 credits of funding paid out"
