"""The inbox (API.md §10): list with paging and filters, mark read, read all; device tokens."""

import pytest

from notifications.models import DeviceToken, Notification
from notifications.services import notification_create
from tests.support import queries_for
from tests.users.factories import UserFactory

pytestmark = pytest.mark.django_db

INBOX = "/api/v1/notifications"
ITEM_KEYS = ["_id", "category", "type", "title", "body", "streamId", "isRead", "createdAt"]


def notify(user, *, category="live_stream", stream_id="", title="Hello"):
    return notification_create(
        user_id=user.pk,
        category=category,
        type="reminder" if category == "live_stream" else "replay_revenue",
        title=title,
        body="Body",
        stream_id=stream_id,
    )


class TestList:
    def test_newest_first_with_exact_keys(self, auth_client, user):
        first = notify(user, title="first", stream_id="a" * 24)
        second = notify(user, category="payments", title="second")
        notify(UserFactory(), title="someone else's")

        data = auth_client.get(INBOX).json()["data"]

        assert [item["_id"] for item in data["list"]] == [second.pk, first.pk]
        assert list(data["list"][0]) == ITEM_KEYS
        assert data["list"][0]["streamId"] is None
        assert data["list"][1] | {"createdAt": None} == {
            "_id": first.pk,
            "category": "live_stream",
            "type": "reminder",
            "title": "first",
            "body": "Body",
            "streamId": "a" * 24,
            "isRead": False,
            "createdAt": None,
        }
        assert data["pagination"] == {
            "currentPage": 1,
            "totalPages": 1,
            "totalItems": 2,
            "itemsPerPage": 10,
            "hasNextPage": False,
            "hasPrevPage": False,
        }

    def test_category_and_unread_filters_and_paging(self, auth_client, user):
        stream_ones = [notify(user, title=f"s{n}") for n in range(3)]
        payment = notify(user, category="payments")
        stream_ones[0].is_read = True
        stream_ones[0].save()

        def ids(**params):
            return [i["_id"] for i in auth_client.get(INBOX, params).json()["data"]["list"]]

        assert ids(category="payments") == [payment.pk]
        assert ids(unread="true") == [payment.pk, stream_ones[2].pk, stream_ones[1].pk]
        assert ids(category="live_stream", unread="true") == [stream_ones[2].pk, stream_ones[1].pk]
        assert len(ids(unread="false")) == 4
        assert ids(page=2, limit=3) == [stream_ones[0].pk]

    @pytest.mark.parametrize(
        "params, name",
        [({"category": "nope"}, "category"), ({"unread": "yes"}, "unread"), ({"page": 0}, "page")],
    )
    def test_bad_filters_are_a_400_naming_them(self, auth_client, params, name):
        response = auth_client.get(INBOX, params)
        assert response.status_code == 400
        assert response.json()["errors"][1].startswith(f"{name}: ")

    def test_anonymous_is_a_401(self, api_client):
        assert api_client.get(INBOX).status_code == 401

    def test_query_count_does_not_grow(self, auth_client, user, django_assert_num_queries):
        for _ in range(3):
            notify(user)
        url = f"{INBOX}?limit=2"  # a count query on both sizes
        small = queries_for(auth_client, url)
        for _ in range(8):
            notify(user)
        with django_assert_num_queries(small):
            auth_client.get(url)


class TestRead:
    def test_mark_read_and_unread(self, auth_client, user):
        notification = notify(user)
        url = f"{INBOX}/{notification.pk}/read"
        response = auth_client.patch(url, {"isRead": True}, format="json")
        assert response.status_code == 200
        assert response.json()["data"]["isRead"] is True
        assert (
            auth_client.patch(url, {"isRead": False}, format="json").json()["data"]["isRead"]
            is False
        )
        assert auth_client.patch(url, {}, format="json").json()["data"]["isRead"] is True

    def test_someone_elses_or_unknown_is_a_404_and_bad_input_a_400(self, auth_client):
        other = notify(UserFactory())
        assert auth_client.patch(f"{INBOX}/{other.pk}/read", {}, format="json").status_code == 404
        assert auth_client.patch(f"{INBOX}/{'f' * 24}/read", {}, format="json").status_code == 404
        response = auth_client.patch(f"{INBOX}/bad/read", {}, format="json")
        assert response.status_code == 400
        assert response.json()["errors"][1].startswith("id: ")
        response = auth_client.patch(f"{INBOX}/{other.pk}/read", {"isRead": "yes"}, format="json")
        assert response.status_code == 400
        assert response.json()["errors"][1] == "isRead: Must be a JSON boolean."
        assert Notification.objects.get().is_read is False

    def test_read_all(self, auth_client, user):
        mine = [notify(user) for _ in range(3)]
        other = notify(UserFactory())
        response = auth_client.post(f"{INBOX}/read-all")
        assert response.status_code == 200
        assert response.json()["data"] == {"updatedCount": 3}
        assert all(Notification.objects.get(pk=n.pk).is_read for n in mine)
        assert Notification.objects.get(pk=other.pk).is_read is False
        assert auth_client.post(f"{INBOX}/read-all").json()["data"] == {"updatedCount": 0}


DEVICE = "/api/v1/notifications/device-token"


class TestDeviceToken:
    body = {"token": "tok-1", "platform": "ios", "deviceId": "dev-1", "timezone": "Europe/Istanbul"}

    def test_register_then_update_in_place(self, auth_client, user):
        response = auth_client.post(DEVICE, self.body, format="json")
        assert response.status_code == 201
        data = response.json()["data"]
        assert {k: data[k] for k in ("deviceId", "platform", "token", "timezone")} == {
            "deviceId": "dev-1",
            "platform": "ios",
            "token": "tok-1",
            "timezone": "Europe/Istanbul",
        }
        response = auth_client.post(DEVICE, {**self.body, "token": "tok-2"}, format="json")
        assert response.status_code == 200
        assert response.json()["data"]["_id"] == data["_id"]
        assert list(DeviceToken.objects.values_list("token", flat=True)) == ["tok-2"]

    def test_a_token_moves_to_the_account_now_on_the_device(self, auth_client, user, client_for):
        client_for(UserFactory()).post(DEVICE, {**self.body, "deviceId": "old"}, format="json")
        auth_client.post(DEVICE, self.body, format="json")
        assert list(DeviceToken.objects.values_list("user_id", flat=True)) == [user.pk]

    @pytest.mark.parametrize(
        "change, name",
        [
            ({"token": ""}, "token"),
            ({"token": 5}, "token"),
            ({"platform": "symbian"}, "platform"),
            ({"deviceId": None}, "deviceId"),
            ({"timezone": "Mars/Olympus"}, "timezone"),
        ],
    )
    def test_bad_input_is_a_400_naming_the_field(self, auth_client, change, name):
        response = auth_client.post(DEVICE, {**self.body, **change}, format="json")
        assert response.status_code == 400
        assert response.json()["errors"][1].startswith(f"{name}: ")
        assert not DeviceToken.objects.exists()

    def test_timezone_defaults_to_utc(self, auth_client):
        body = {k: v for k, v in self.body.items() if k != "timezone"}
        assert auth_client.post(DEVICE, body, format="json").json()["data"]["timezone"] == "UTC"


class TestEventStreamsUnderWsgi:
    """A WSGI worker never holds an event stream (it would hold its thread): 503."""

    def test_the_personal_stream(self, auth_client):
        response = auth_client.get("/api/v1/notifications/stream")
        assert response.status_code == 503
        assert response["Retry-After"] == "60"
        assert response.json()["errors"] == ["Service unavailable"]

    def test_a_streams_events_and_its_errors(self, api_client):
        from tests.livestreams.factories import LiveStreamFactory

        stream = LiveStreamFactory()
        assert api_client.get(f"/api/v1/live-stream/{stream.pk}/events").status_code == 503
        assert api_client.get(f"/api/v1/live-stream/{'f' * 24}/events").status_code == 404
        assert api_client.get("/api/v1/live-stream/nope/events").status_code == 400
        assert api_client.get("/api/v1/notifications/stream").status_code == 401
