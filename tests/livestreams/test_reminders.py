"""Reminders (API.md §10): set, change, delete, list; fired once by the sweep or the start;
moved by a reschedule; cancelled by cancel and delete."""

from datetime import timedelta

import pytest
from django.utils import timezone

from allmine.api.formats import format_datetime
from livestreams.models import LiveStream, Reminder
from livestreams.reminders import reminders_fire_due
from livestreams.tasks import reminders_sweep
from notifications.models import Notification
from tests.livestreams.factories import LiveStreamFactory
from tests.support import queries_for
from tests.users.factories import UserFactory

pytestmark = pytest.mark.django_db

MY_REMINDERS = "/api/v1/live-stream/my-reminders"


def reminder_url(stream_id: str) -> str:
    return f"/api/v1/live-stream/{stream_id}/reminder"


def reminders_of(user) -> list[Notification]:
    return list(Notification.objects.filter(user=user, type="reminder"))


class TestSet:
    def test_before_start_reminder(self, auth_client, user):
        stream = LiveStreamFactory()
        response = auth_client.post(reminder_url(stream.pk), {"minute": 15}, format="json")
        assert response.status_code == 200
        assert response.json()["data"] == {
            "streamId": stream.pk,
            "minute": 15,
            "mode": "BEFORE_START",
            "scheduledFor": format_datetime(stream.planned_start_date - timedelta(minutes=15)),
            "status": "ARMED",
        }

    @pytest.mark.parametrize("minute", [0, None])
    def test_on_start_reminder(self, auth_client, minute):
        stream = LiveStreamFactory()
        response = auth_client.post(reminder_url(stream.pk), {"minute": minute}, format="json")
        assert response.status_code == 200
        assert response.json()["data"] == {
            "streamId": stream.pk,
            "minute": 0,
            "mode": "ON_START",
            "scheduledFor": None,
            "status": "ARMED_ON_START",
        }

    def test_setting_again_changes_the_one_reminder(self, auth_client, user):
        stream = LiveStreamFactory()
        auth_client.post(reminder_url(stream.pk), {"minute": 15}, format="json")
        response = auth_client.post(reminder_url(stream.pk), {"minute": 0}, format="json")
        assert response.json()["data"]["mode"] == "ON_START"
        assert Reminder.objects.filter(user=user).count() == 1

    @pytest.mark.parametrize(
        "body, message",
        [
            ({}, "minute: This field is required."),
            ({"minute": -1}, "minute: Ensure this value is greater than or equal to 0."),
            ({"minute": 1441}, "minute: Ensure this value is less than or equal to 1440."),
            ({"minute": "5"}, "minute: A valid integer is required."),
            ({"minute": 2.5}, "minute: A valid integer is required."),
            ({"minute": True}, "minute: A valid integer is required."),
        ],
    )
    def test_bad_minute_is_a_400_naming_it(self, auth_client, body, message):
        stream = LiveStreamFactory()
        response = auth_client.post(reminder_url(stream.pk), body, format="json")
        assert response.status_code == 400
        assert response.json()["errors"] == ["Validation failed", message]
        assert not Reminder.objects.exists()

    @pytest.mark.parametrize(
        "status", [LiveStream.Status.ACTIVE, LiveStream.Status.ENDED, LiveStream.Status.EXPIRED]
    )
    def test_only_on_a_scheduled_stream(self, auth_client, status):
        stream = LiveStreamFactory(status=status)
        response = auth_client.post(reminder_url(stream.pk), {"minute": 5}, format="json")
        assert response.status_code == 409
        assert not Reminder.objects.exists()

    def test_unknown_deleted_and_malformed_streams(self, auth_client):
        deleted = LiveStreamFactory(deleted_at=timezone.now())
        assert (
            auth_client.post(reminder_url(deleted.pk), {"minute": 5}, format="json").status_code
            == 404
        )
        assert (
            auth_client.post(reminder_url("f" * 24), {"minute": 5}, format="json").status_code
            == 404
        )
        response = auth_client.post(reminder_url("nope"), {"minute": 5}, format="json")
        assert response.status_code == 400
        assert response.json()["errors"][1].startswith("id: ")

    def test_anonymous_is_a_401(self, api_client):
        stream = LiveStreamFactory()
        assert (
            api_client.post(reminder_url(stream.pk), {"minute": 5}, format="json").status_code
            == 401
        )


class TestDeleteAndList:
    def test_delete_removes_it(self, auth_client, user):
        stream = LiveStreamFactory()
        auth_client.post(reminder_url(stream.pk), {"minute": 5}, format="json")
        response = auth_client.delete(reminder_url(stream.pk))
        assert response.status_code == 200
        assert response.json()["data"] is None
        assert not Reminder.objects.exists()
        assert auth_client.delete(reminder_url(stream.pk)).status_code == 404

    def test_my_reminders_lists_armed_ones_soonest_first_with_streams(self, auth_client, user):
        later, sooner, fired = LiveStreamFactory(), LiveStreamFactory(), LiveStreamFactory()
        later.planned_start_date = sooner.planned_start_date + timedelta(days=1)
        later.planned_end_date = later.planned_start_date + timedelta(hours=1)
        later.save()
        for stream in (later, sooner, fired):
            auth_client.post(reminder_url(stream.pk), {"minute": 10}, format="json")
        Reminder.objects.filter(stream=fired).update(status=Reminder.Status.SENT)
        LiveStreamFactory()  # someone else's business

        data = auth_client.get(MY_REMINDERS).json()["data"]

        assert [item["streamId"] for item in data["list"]] == [sooner.pk, later.pk]
        assert data["list"][0]["stream"]["id"] == sooner.pk
        assert data["list"][0]["status"] == "ARMED"
        assert data["pagination"]["totalItems"] == 2
        page = auth_client.get(MY_REMINDERS, {"page": 2, "limit": 1}).json()["data"]
        assert [item["streamId"] for item in page["list"]] == [later.pk]
        assert auth_client.get(MY_REMINDERS, {"limit": 0}).status_code == 400

    def test_my_reminders_leave_out_a_stream_deleted_between_the_two_reads(
        self, auth_client, user, monkeypatch
    ):
        """The reminders page and its stream objects are two reads: a stream deleted in
        between is left out (it used to be a KeyError, a 500)."""
        from crowdfunding import reminder_views

        kept, deleted = LiveStreamFactory(), LiveStreamFactory()
        for stream in (kept, deleted):
            auth_client.post(reminder_url(stream.pk), {"minute": 10}, format="json")
        read_stream_objects = reminder_views.stream_objects_for

        def delete_first(**kwargs):
            LiveStream.objects.filter(pk=deleted.pk).update(deleted_at=timezone.now())
            return read_stream_objects(**kwargs)

        monkeypatch.setattr(reminder_views, "stream_objects_for", delete_first)

        response = auth_client.get(MY_REMINDERS)

        assert response.status_code == 200
        assert [item["streamId"] for item in response.json()["data"]["list"]] == [kept.pk]

    def test_my_reminders_query_count_does_not_grow(
        self, auth_client, user, django_assert_num_queries
    ):
        def arm(count):
            for stream in LiveStreamFactory.create_batch(count):
                auth_client.post(reminder_url(stream.pk), {"minute": 10}, format="json")

        arm(2)
        small = queries_for(auth_client, MY_REMINDERS)
        arm(6)
        with django_assert_num_queries(small):
            auth_client.get(MY_REMINDERS)


class TestFiring:
    def arm(self, client_for, user, stream, minute):
        client_for(user).post(reminder_url(stream.pk), {"minute": minute}, format="json")

    def test_before_start_fires_once_at_its_moment(self, client_for):
        user, stream = UserFactory(), LiveStreamFactory()
        self.arm(client_for, user, stream, 30)
        moment = stream.planned_start_date - timedelta(minutes=30)

        assert reminders_fire_due(now=moment - timedelta(seconds=1)) == 0
        assert reminders_fire_due(now=moment) == 1
        assert reminders_fire_due(now=moment + timedelta(minutes=1)) == 0

        [notification] = reminders_of(user)
        assert notification.title == f"“{stream.title}” starts in 30 minutes"
        assert notification.stream_id == stream.pk
        assert notification.category == "live_stream"
        reminder = Reminder.objects.get()
        assert (reminder.status, reminder.sent_at) == (Reminder.Status.SENT, moment)

    def test_the_sweep_job_fires_due_reminders(self, client_for):
        user = UserFactory()
        stream = LiveStreamFactory(planned_start_date=timezone.now() + timedelta(minutes=5))
        stream.planned_end_date = stream.planned_start_date + timedelta(hours=1)
        stream.save()
        self.arm(client_for, user, stream, 10)
        assert reminders_sweep.call() == 1
        assert reminders_sweep.call() == 0
        assert len(reminders_of(user)) == 1

    def test_a_reschedule_moves_it(self, client_for):
        user, stream = UserFactory(), LiveStreamFactory()
        self.arm(client_for, user, stream, 10)
        new_start = stream.planned_start_date + timedelta(hours=2)
        response = client_for(stream.creator).patch(
            f"/api/v1/live-stream/{stream.pk}",
            {"plannedStartDate": format_datetime(new_start)},
            format="json",
        )
        assert response.status_code == 200
        data = client_for(user).get(MY_REMINDERS).json()["data"]["list"][0]
        assert data["scheduledFor"] == format_datetime(new_start - timedelta(minutes=10))
        assert reminders_fire_due(now=stream.planned_start_date) == 0
        assert reminders_fire_due(now=new_start - timedelta(minutes=10)) == 1

    def test_a_sent_reminder_is_armed_again_when_the_start_moves_later(self, client_for):
        user, stream = UserFactory(), LiveStreamFactory()
        self.arm(client_for, user, stream, 10)
        assert reminders_fire_due(now=stream.planned_start_date) == 1
        new_start = stream.planned_start_date + timedelta(days=1)
        client_for(stream.creator).patch(
            f"/api/v1/live-stream/{stream.pk}",
            {"plannedStartDate": format_datetime(new_start)},
            format="json",
        )
        assert Reminder.objects.get().status == Reminder.Status.ARMED
        assert reminders_fire_due(now=new_start) == 1
        assert len(reminders_of(user)) == 2

    def test_start_fires_every_armed_reminder_once(self, client_for):
        stream = LiveStreamFactory()
        on_start, before, other = UserFactory(), UserFactory(), UserFactory()
        self.arm(client_for, on_start, stream, 0)
        self.arm(client_for, before, stream, 60)
        self.arm(client_for, other, LiveStreamFactory(), 0)

        response = client_for(stream.creator).post(f"/api/v1/live-stream/{stream.pk}/start")

        assert response.status_code == 200
        for user in (on_start, before):
            [notification] = reminders_of(user)
            assert notification.title == f"“{stream.title}” is live now"
        assert reminders_of(other) == []
        assert set(Reminder.objects.filter(stream=stream).values_list("status", flat=True)) == {
            "SENT"
        }
        assert reminders_fire_due(now=stream.planned_start_date) == 0

    @pytest.mark.parametrize("how", ["cancel", "delete"])
    def test_cancel_and_delete_cancel_reminders(self, client_for, how):
        user, stream = UserFactory(), LiveStreamFactory()
        self.arm(client_for, user, stream, 10)
        creator = client_for(stream.creator)
        if how == "cancel":
            assert creator.post(f"/api/v1/live-stream/{stream.pk}/cancel").status_code == 200
        else:
            assert creator.delete(f"/api/v1/live-stream/{stream.pk}").status_code == 200
        assert Reminder.objects.get().status == Reminder.Status.CANCELLED
        assert reminders_fire_due(now=stream.planned_start_date) == 0
        assert reminders_of(user) == []
        assert client_for(user).get(MY_REMINDERS).json()["data"]["list"] == []


@pytest.mark.django_db(transaction=True)
def test_two_overlapping_sweeps_fire_each_reminder_exactly_once():
    """Two sweeps at once over many due reminders (small batches, so they interleave): each
    reminder fires in exactly one of them, with exactly one notification."""
    import threading

    from django.db import connection, connections

    stream = LiveStreamFactory()
    users = UserFactory.create_batch(24)
    Reminder.objects.bulk_create(
        Reminder(user=user, stream=stream, minute=5, lead=timedelta(minutes=5), status="ARMED")
        for user in users
    )
    barrier = threading.Barrier(2)
    counts: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            connection.ensure_connection()
            barrier.wait(timeout=30)
            counts.append(reminders_fire_due(now=stream.planned_start_date, batch=3))
        except BaseException as error:  # noqa: BLE001  (reported by the assertion below)
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert sum(counts) == len(users)
    if connection.vendor == "postgresql":
        assert all(count > 0 for count in counts), counts  # SKIP LOCKED: both did work
    assert sorted(Notification.objects.values_list("user_id", flat=True)) == sorted(
        user.pk for user in users
    )
    assert set(Reminder.objects.values_list("status", flat=True)) == {"SENT"}
