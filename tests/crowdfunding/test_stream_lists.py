"""The lists of API.md §11: a user's upcoming and past streams, the caller's past streams and
the streams they are invited to, as a client sees them."""

from datetime import timedelta

import pytest
from django.utils import timezone

from livestreams.models import LiveStream, Reminder
from tests.crowdfunding.factories import MiniCrowdFundingFactory
from tests.crowdfunding.test_funded_list import STREAM_KEYS
from tests.livestreams.factories import (
    BroadcasterFactory,
    EndedStreamFactory,
    LiveStreamFactory,
    ReplayRentalFactory,
    StreamGuestFactory,
)
from tests.users.factories import UserFactory

pytestmark = pytest.mark.django_db

Status = LiveStream.Status
PAGE_KEYS = ["currentPage", "totalPages", "totalItems", "itemsPerPage", "hasNextPage",
             "hasPrevPage"]  # fmt: skip


def upcoming_url(user_id: str) -> str:
    return f"/api/v2/live-stream/user/{user_id}/upcoming-live-streams"


def past_url(user_id: str) -> str:
    return f"/api/v1/live-stream/user/{user_id}/past-streams"


GUEST_URL = "/api/v1/live-stream/guest-streams"
MY_PAST_URL = "/api/v1/live-stream/my-past-streams"


def in_minutes(minutes: int):
    return timezone.now().replace(microsecond=0) + timedelta(minutes=minutes)


def scheduled(creator, minutes: int, **fields) -> LiveStream:
    start = in_minutes(minutes)
    return LiveStreamFactory(
        creator=creator, planned_start_date=start, planned_end_date=start + timedelta(hours=1),
        **fields,
    )  # fmt: skip


def ids(body) -> list[str]:
    items = body["data"] if isinstance(body["data"], list) else body["data"]["list"]
    return [item["id"] for item in items]


def assert_error(response, status: int, *details: str):
    body = response.json()
    assert response.status_code == status, body
    assert body["isSuccess"] is False and body["data"] is None
    if details:
        assert body["errors"][1:] == list(details), body["errors"]


# --- upcoming ----------------------------------------------------------------------------


@pytest.fixture
def host():
    return UserFactory()


def test_upcoming_lists_live_then_soonest_of_every_part_the_user_takes(api_client, host):
    later = scheduled(host, 120)
    soon = scheduled(host, 30)
    preparing = scheduled(host, 60 * 30, status=Status.PREPARING)  # outside the window: shown
    active = scheduled(host, -90, status=Status.ACTIVE)
    as_guest = scheduled(UserFactory(), 45)
    StreamGuestFactory(stream=as_guest, user=host)
    as_broadcaster = scheduled(UserFactory(), 50)
    BroadcasterFactory(stream=as_broadcaster, user=host)
    just_started = scheduled(host, -20)  # planned 20 minutes ago, still scheduled: in the window
    # Left out: too late, too long ago, ended, cancelled, deleted, someone else's.
    scheduled(host, 60 * 25)
    scheduled(host, -60 * 25)
    EndedStreamFactory(creator=host)
    scheduled(host, 10, status=Status.CANCELLED_BY_HOST)
    scheduled(host, 15, deleted_at=timezone.now())
    scheduled(UserFactory(), 5)

    response = api_client.get(upcoming_url(host.pk))

    assert response.status_code == 200
    body = response.json()
    assert isinstance(body["data"], list)
    assert ids(body) == [
        active.pk, just_started.pk, soon.pk, as_guest.pk, as_broadcaster.pk, later.pk,
        preparing.pk,
    ]  # fmt: skip
    item = body["data"][0]
    assert list(item) == [*STREAM_KEYS, "isReminderActive"]
    assert item["isReminderActive"] is None
    assert item["role"] is None


def test_upcoming_window_and_limit(api_client, host):
    two_hours = scheduled(host, 120)
    hour_ago = scheduled(host, -60)
    soon = scheduled(host, 10)

    def listed(**query):
        response = api_client.get(upcoming_url(host.pk), query)
        assert response.status_code == 200
        return ids(response.json())

    assert listed(minutesAfter=60) == [hour_ago.pk, soon.pk]
    assert listed(minutesAfter=120, minutesBefore=30) == [soon.pk, two_hours.pk]
    assert listed(minutesAfter=0, minutesBefore=0) == []
    assert listed(limit=2) == [hour_ago.pk, soon.pk]
    assert listed(limit=1) == [hour_ago.pk]


def test_upcoming_shows_the_callers_own_reminders(client_for, host):
    caller = UserFactory()
    reminded, other, sent = scheduled(host, 30), scheduled(host, 40), scheduled(host, 50)
    Reminder.objects.create(user=caller, stream=reminded, status=Reminder.Status.ARMED)
    Reminder.objects.create(user=caller, stream=sent, status=Reminder.Status.SENT)
    Reminder.objects.create(user=UserFactory(), stream=other, status=Reminder.Status.ARMED)

    body = client_for(caller).get(upcoming_url(host.pk)).json()

    assert [(i["id"], i["isReminderActive"], i["role"]) for i in body["data"]] == [
        (reminded.pk, True, "audience"),
        (other.pk, False, "audience"),
        (sent.pk, False, "audience"),
    ]
    host_view = client_for(host).get(upcoming_url(host.pk)).json()["data"]
    assert [(i["isReminderActive"], i["role"]) for i in host_view] == [(False, "host")] * 3


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ({"limit": "0"}, "limit: Ensure this value is greater than or equal to 1."),
        ({"limit": "101"}, "limit: Ensure this value is less than or equal to 100."),
        ({"limit": "ten"}, "limit: A valid integer is required."),
        ({"limit": "-1"}, "limit: A valid integer is required."),
        ({"minutesBefore": "-5"}, "minutesBefore: A valid integer is required."),
        ({"minutesBefore": "1.5"}, "minutesBefore: A valid integer is required."),
        ({"minutesAfter": "x"}, "minutesAfter: A valid integer is required."),
        (
            {"minutesAfter": "99999999999"},
            "minutesAfter: Ensure this value is less than or equal to 5256000.",
        ),
    ],
)
def test_upcoming_bad_query_is_a_400_naming_the_parameter(api_client, host, query, detail):
    assert_error(api_client.get(upcoming_url(host.pk), query), 400, detail)


def test_upcoming_user_id_is_checked(api_client):
    assert_error(
        api_client.get(upcoming_url("not-an-id")),
        400,
        "userId: must be a 24-character lowercase hex id",
    )
    assert_error(api_client.get(upcoming_url("0" * 24)), 404, "User not found")


@pytest.mark.parametrize("token", ["garbage", "expired"])
def test_upcoming_with_a_bad_token_is_a_401(api_client, host, token):
    from users.services import access_token_for

    if token == "expired":
        access = access_token_for(UserFactory())
        from rest_framework_simplejwt.tokens import AccessToken

        expired = AccessToken(access)
        expired.set_exp(lifetime=-timedelta(seconds=1))
        token = str(expired)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = api_client.get(upcoming_url(host.pk))
    assert_error(response, 401)
    assert response.json()["errors"][0] == "Authentication required"


def _busy_streams(host, viewer, count: int):
    for n in range(count):
        stream = scheduled(host, 10 + n, live_stream_type=LiveStream.Type.DUO_CROWD)
        StreamGuestFactory(stream=stream)
        BroadcasterFactory(stream=stream)
        MiniCrowdFundingFactory(stream=stream)
        ReplayRentalFactory(user=viewer, stream=stream)
        Reminder.objects.create(user=viewer, stream=stream, status=Reminder.Status.ARMED)


@pytest.mark.parametrize("count", [1, 30])
def test_upcoming_query_count_is_constant(
    api_client, client_for, host, django_assert_num_queries, count
):
    viewer = UserFactory()
    _busy_streams(host, viewer, count)
    # user exists, page (creator and photo joined), guests, broadcasters, minis
    with django_assert_num_queries(5):
        response = api_client.get(upcoming_url(host.pk), {"limit": 100})
    assert len(response.json()["data"]) == count
    # + the caller, their rentals and their reminders
    signed_in = client_for(viewer)
    signed_in.get(upcoming_url(host.pk))  # warm: the first signed-in request
    with django_assert_num_queries(8):
        response = signed_in.get(upcoming_url(host.pk), {"limit": 100})
    assert [i["isReminderActive"] for i in response.json()["data"]] == [True] * count


# --- past streams ------------------------------------------------------------------------


def ended(creator, hours_ago: int, **fields) -> LiveStream:
    start = timezone.now().replace(microsecond=0) - timedelta(hours=hours_ago + 1)
    return EndedStreamFactory(
        creator=creator, planned_start_date=start, planned_end_date=start + timedelta(hours=1),
        started_at=start, ended_at=start + timedelta(hours=1), **fields,
    )  # fmt: skip


def test_past_streams_are_the_users_ended_streams_latest_first(api_client, client_for, host):
    old, recent = ended(host, 48), ended(host, 2)
    as_guest = ended(UserFactory(), 10)
    StreamGuestFactory(stream=as_guest, user=host)
    ended(host, 5, deleted_at=timezone.now())
    scheduled(host, 30)
    scheduled(host, 30, status=Status.ACTIVE)
    ended(UserFactory(), 1)

    response = api_client.get(past_url(host.pk))

    assert response.status_code == 200
    data = response.json()["data"]
    assert list(data) == ["list", "pagination"]
    assert ids(response.json()) == [recent.pk, as_guest.pk, old.pk]
    assert list(data["list"][0]) == STREAM_KEYS
    assert data["list"][0]["role"] is None
    assert data["pagination"] == {
        "currentPage": 1, "totalPages": 1, "totalItems": 3, "itemsPerPage": 10,
        "hasNextPage": False, "hasPrevPage": False,
    }  # fmt: skip
    second = api_client.get(past_url(host.pk), {"page": 2, "limit": 2}).json()["data"]
    assert [i["id"] for i in second["list"]] == [old.pk]
    assert second["pagination"]["totalItems"] == 3 and second["pagination"]["hasPrevPage"]

    mine = client_for(host).get(MY_PAST_URL).json()["data"]
    assert [(i["id"], i["role"]) for i in mine["list"]] == [
        (recent.pk, "host"), (as_guest.pk, "guest"), (old.pk, "host"),
    ]  # fmt: skip


def test_past_streams_errors(api_client, host):
    assert_error(api_client.get(MY_PAST_URL), 401)
    assert_error(
        api_client.get(past_url("X" * 24)), 400, "userId: must be a 24-character lowercase hex id"
    )
    assert_error(api_client.get(past_url("f" * 24)), 404, "User not found")
    assert_error(api_client.get(past_url(host.pk), {"limit": "0"}), 400)
    api_client.credentials(HTTP_AUTHORIZATION="Bearer nope")
    assert_error(api_client.get(past_url(host.pk)), 401)


@pytest.mark.parametrize("count", [1, 25])
def test_past_streams_query_count_is_constant(
    api_client, client_for, host, django_assert_num_queries, count
):
    viewer = UserFactory()
    for n in range(count):
        stream = ended(host, n + 1)
        StreamGuestFactory(stream=stream)
        MiniCrowdFundingFactory(stream=stream)
        ReplayRentalFactory(user=viewer, stream=stream)
    # user exists, page, guests, broadcasters, minis (the first page holds all: no count)
    with django_assert_num_queries(5):
        api_client.get(past_url(host.pk), {"limit": 100})
    # + the caller, their rentals, and the count for a full page
    signed_in = client_for(viewer)
    signed_in.get(past_url(host.pk))  # warm: the first signed-in request
    with django_assert_num_queries(8):
        response = signed_in.get(past_url(host.pk), {"limit": 1})
    assert response.json()["data"]["pagination"]["totalItems"] == count


# --- guest streams -----------------------------------------------------------------------


def test_guest_streams_are_the_callers_invitations_sorted_and_filtered(client_for):
    guest = UserFactory()
    first = scheduled(UserFactory(), 300, funding_goal=500)
    second = ended(UserFactory(), 3, funding_goal=100)
    third = scheduled(UserFactory(), 100, funding_goal=900)
    for stream in (first, second, third):
        StreamGuestFactory(stream=stream, user=guest)
    own = scheduled(guest, 10)
    BroadcasterFactory(stream=scheduled(UserFactory(), 20), user=guest)  # broadcaster only
    deleted = scheduled(UserFactory(), 30, deleted_at=timezone.now())
    StreamGuestFactory(stream=deleted, user=guest)
    client = client_for(guest)

    def listed(**query):
        response = client.get(GUEST_URL, query)
        assert response.status_code == 200, response.json()
        return ids(response.json())

    assert own.pk not in listed()
    assert listed() == [third.pk, second.pk, first.pk]  # createdAt desc (created in order)
    assert listed(sortOrder="asc") == [first.pk, second.pk, third.pk]
    assert listed(sortBy="fundingGoal") == [third.pk, first.pk, second.pk]
    assert listed(sortBy="plannedStartDate", sortOrder="asc") == [second.pk, third.pk, first.pk]
    assert listed(sortBy="endedAt") == [second.pk, third.pk, first.pk]  # no endedAt: last
    assert listed(sortBy="endedAt", sortOrder="asc")[0] == second.pk
    assert listed(status="ended") == [second.pk]
    assert listed(status="active") == []
    body = client.get(GUEST_URL, {"limit": 2, "page": 2}).json()["data"]
    assert [i["id"] for i in body["list"]] == [first.pk]
    assert body["list"][0]["role"] == "guest"
    assert body["pagination"]["totalItems"] == 3


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ({"status": "live"}, 'status: "live" is not a valid choice.'),
        ({"sortBy": "title"}, 'sortBy: "title" is not a valid choice.'),
        ({"sortOrder": "up"}, 'sortOrder: "up" is not a valid choice.'),
        ({"page": "0"}, "page: Ensure this value is greater than or equal to 1."),
        ({"limit": "x"}, "limit: A valid integer is required."),
    ],
)
def test_guest_streams_bad_query_is_a_400(auth_client, query, detail):
    assert_error(auth_client.get(GUEST_URL, query), 400, detail)


def test_guest_streams_needs_sign_in(api_client):
    assert_error(api_client.get(GUEST_URL), 401)


@pytest.mark.parametrize("count", [1, 25])
def test_guest_streams_query_count_is_constant(client_for, django_assert_num_queries, count):
    guest = UserFactory()
    for _ in range(count):
        stream = scheduled(UserFactory(), 30, live_stream_type=LiveStream.Type.DUO_CROWD)
        StreamGuestFactory(stream=stream, user=guest)
        BroadcasterFactory(stream=stream)
        MiniCrowdFundingFactory(stream=stream)
    client = client_for(guest)
    client.get(GUEST_URL)  # warm: the first signed-in request
    # caller, page, guests, broadcasters, rentals, minis
    with django_assert_num_queries(6):
        client.get(GUEST_URL, {"limit": 100, "status": "scheduled"})
    with django_assert_num_queries(7):  # + the count, the page being full
        client.get(GUEST_URL, {"limit": 1, "sortBy": "endedAt"})
