"""GET /api/v1/live-stream/funded, as a client sees it."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from crowdfunding.models import Contribution
from livestreams.models import Broadcaster, LiveStream
from tests.crowdfunding.factories import ContributionFactory, MiniCrowdFundingFactory
from tests.livestreams.factories import (
    BroadcasterFactory,
    LiveStreamFactory,
    ReplayRentalFactory,
    StreamGuestFactory,
)
from tests.users.factories import UserFactory

URL = "/api/v1/live-stream/funded"
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
ID_RE = re.compile(r"^[0-9a-f]{24}$")

STREAM_KEYS = [
    "id", "title", "liveStreamType", "channelName", "broadcasters", "guests", "creator",
    "thumbnailUrl", "recording", "recordingUrl", "replayAccess", "status", "accessType", "price",
    "interest", "durationGoal", "motivation", "isActiveReplayOnCreatorProfile",
    "replayCreditPrice", "startedAt", "plannedStartDate", "endedAt", "plannedEndDate",
    "createdAt", "updatedAt", "fundingGoal", "collectedFunding", "fundingPercentage", "role",
    "miniCrowdFundings",
]  # fmt: skip
USER_KEYS = ["_id", "username", "name", "surname", "profilePhoto", "availabilityStatus"]
MEDIA_KEYS = ["_id", "url", "type", "variants", "createdAt", "updatedAt"]
REPLAY_KEYS = [
    "status", "canRent", "canViewRecording", "price", "rentedAt", "expiresAt", "remainingSeconds",
]  # fmt: skip
MINI_KEYS = ["_id", "title", "goal", "collected", "percentage", "status", "createdAt", "updatedAt"]

pytestmark = pytest.mark.django_db


def funded_ids(response) -> list[str]:
    return [item["id"] for item in response.json()["data"]]


def test_lists_a_funded_scheduled_stream_with_the_seed_shape(auth_client, user):
    stream = LiveStreamFactory(price=Decimal("9.99"), funding_goal=1000)
    guest = StreamGuestFactory(stream=stream).user
    BroadcasterFactory(stream=stream, user=guest, uid=77, has_joined=True)
    mini = MiniCrowdFundingFactory(stream=stream, goal=300)
    ContributionFactory(user=user, stream=stream, amount=500)

    response = auth_client.get(URL)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert list(body) == ["isSuccess", "statusCode", "data", "errors", "timestamp"]
    assert body["isSuccess"] is True
    assert body["statusCode"] == 200
    assert body["errors"] == []
    assert DATE_RE.match(body["timestamp"])
    assert response["X-Total-Count"] == "1"
    [item] = body["data"]
    assert list(item) == STREAM_KEYS
    assert item["id"] == stream.id and ID_RE.match(item["id"])
    assert item["title"] == stream.title
    assert item["liveStreamType"] == "solo"
    assert item["channelName"] == stream.channel_name
    assert item["broadcasters"] == [
        {"user": guest.id, "role": "guest", "uid": 77, "hasJoined": True}
    ]
    assert [g["_id"] for g in item["guests"]] == [guest.id]
    assert list(item["guests"][0]) == USER_KEYS
    creator = item["creator"]
    assert list(creator) == USER_KEYS
    assert creator["_id"] == stream.creator.id
    assert creator["username"] == stream.creator.username
    assert creator["name"] == stream.creator.first_name
    assert creator["surname"] == stream.creator.last_name
    assert creator["availabilityStatus"] == "available"
    photo = creator["profilePhoto"]
    assert list(photo) == MEDIA_KEYS
    assert photo["_id"] == stream.creator.profile_photo.id
    assert photo["type"] == "image"
    assert list(photo["variants"]) == ["40", "76"]
    assert DATE_RE.match(photo["createdAt"]) and DATE_RE.match(photo["updatedAt"])
    assert item["thumbnailUrl"].startswith("https://")
    assert item["recording"] is False
    assert item["recordingUrl"] is None
    assert list(item["replayAccess"]) == REPLAY_KEYS
    assert item["replayAccess"] == {
        "status": "unavailable",
        "canRent": False,
        "canViewRecording": False,
        "price": None,
        "rentedAt": None,
        "expiresAt": None,
        "remainingSeconds": None,
    }
    assert item["status"] == "scheduled"
    assert item["accessType"] == "paid"
    assert item["price"] == 9.99 and isinstance(item["price"], float)
    assert item["interest"] == "music"
    assert item["durationGoal"] == 60
    assert item["motivation"] == stream.motivation
    assert item["isActiveReplayOnCreatorProfile"] is None
    assert item["replayCreditPrice"] is None
    assert item["startedAt"] is None and item["endedAt"] is None
    for key in ("plannedStartDate", "plannedEndDate", "createdAt", "updatedAt"):
        assert DATE_RE.match(item[key]), key
    assert item["fundingGoal"] == 1000
    assert item["collectedFunding"] == 500
    assert item["fundingPercentage"] == 50
    assert item["role"] == "audience"
    [mini_item] = item["miniCrowdFundings"]
    assert list(mini_item) == MINI_KEYS
    assert mini_item["_id"] == mini.id
    assert mini_item["goal"] == 300
    assert mini_item["collected"] == 0
    assert mini_item["percentage"] == 0
    assert mini_item["status"] == "active"


def test_dates_are_utc_milliseconds_with_z(auth_client, user):
    start = timezone.now().replace(microsecond=123456) + timedelta(days=3)
    stream = LiveStreamFactory(
        planned_start_date=start, planned_end_date=start + timedelta(hours=1)
    )
    ContributionFactory(user=user, stream=stream)

    item = auth_client.get(URL).json()["data"][0]

    assert item["plannedStartDate"] == start.strftime("%Y-%m-%dT%H:%M:%S.123Z")


def test_user_who_funded_nothing_gets_an_empty_list(auth_client):
    LiveStreamFactory()
    ContributionFactory()  # someone else's

    response = auth_client.get(URL)

    assert response.status_code == 200
    assert response.json()["data"] == []
    assert response["X-Total-Count"] == "0"


def test_only_the_callers_completed_contributions_count(auth_client, user):
    mine = LiveStreamFactory()
    refunded = LiveStreamFactory()
    pending = LiveStreamFactory()
    failed = LiveStreamFactory()
    others = LiveStreamFactory()
    ContributionFactory(user=user, stream=mine)
    ContributionFactory(user=user, stream=refunded, status=Contribution.Status.REFUNDED)
    ContributionFactory(user=user, stream=pending, status=Contribution.Status.PENDING)
    ContributionFactory(user=user, stream=failed, status=Contribution.Status.FAILED)
    ContributionFactory(stream=others)

    assert funded_ids(auth_client.get(URL)) == [mine.id]


@pytest.mark.parametrize(
    "status",
    [s for s in LiveStream.Status.values if s != LiveStream.Status.SCHEDULED],
)
def test_streams_not_scheduled_are_excluded(auth_client, user, status):
    stream = LiveStreamFactory(status=status)
    ContributionFactory(user=user, stream=stream)

    assert funded_ids(auth_client.get(URL)) == []


def test_deleted_streams_are_excluded(auth_client, user):
    stream = LiveStreamFactory(deleted_at=timezone.now())
    ContributionFactory(user=user, stream=stream)

    assert funded_ids(auth_client.get(URL)) == []


def test_several_contributions_to_one_stream_list_it_once(auth_client, user):
    stream = LiveStreamFactory(funding_goal=300)
    ContributionFactory(user=user, stream=stream, amount=100)
    ContributionFactory(user=user, stream=stream, amount=250)
    ContributionFactory(stream=stream, amount=50)

    [item] = auth_client.get(URL).json()["data"]

    assert item["collectedFunding"] == 400
    assert item["fundingPercentage"] == 133  # not capped at 100


def test_funding_percentage_is_zero_without_a_goal(auth_client, user):
    stream = LiveStreamFactory(funding_goal=0)
    ContributionFactory(user=user, stream=stream, amount=10)

    [item] = auth_client.get(URL).json()["data"]

    assert item["fundingPercentage"] == 0
    assert item["collectedFunding"] == 10


def test_percentage_is_floored(auth_client, user):
    stream = LiveStreamFactory(funding_goal=3)
    ContributionFactory(user=user, stream=stream, amount=2)

    assert auth_client.get(URL).json()["data"][0]["fundingPercentage"] == 66


def test_ordered_by_planned_start_then_id(auth_client, user):
    soon = timezone.now() + timedelta(days=1)
    later = LiveStreamFactory(
        planned_start_date=soon + timedelta(days=2), planned_end_date=soon + timedelta(days=3)
    )
    first = LiveStreamFactory(planned_start_date=soon, planned_end_date=soon + timedelta(hours=1))
    tie = LiveStreamFactory(planned_start_date=soon, planned_end_date=soon + timedelta(hours=1))
    for stream in (later, first, tie):
        ContributionFactory(user=user, stream=stream)

    expected = [*sorted([first.id, tie.id]), later.id]
    assert funded_ids(auth_client.get(URL)) == expected


def test_free_stream_has_free_access_and_null_price(auth_client, user):
    stream = LiveStreamFactory(price=None)
    ContributionFactory(user=user, stream=stream)

    item = auth_client.get(URL).json()["data"][0]

    assert item["accessType"] == "free"
    assert item["price"] is None


def test_role_is_guest_for_an_invited_guest(client_for):
    guest = UserFactory()
    stream = LiveStreamFactory()
    StreamGuestFactory(stream=stream, user=guest)
    ContributionFactory(user=guest, stream=stream)

    item = client_for(guest).get(URL).json()["data"][0]

    assert item["role"] == "guest"
    assert item["replayAccess"]["status"] == "participant"


def test_role_is_guest_for_a_guest_broadcaster(client_for):
    guest = UserFactory()
    stream = LiveStreamFactory(live_stream_type=LiveStream.Type.DUO_CROWD)
    BroadcasterFactory(stream=stream, user=guest, role=Broadcaster.Role.GUEST)
    ContributionFactory(user=guest, stream=stream)

    assert client_for(guest).get(URL).json()["data"][0]["role"] == "guest"


def test_role_is_host_for_the_creator(client_for):
    stream = LiveStreamFactory()
    ContributionFactory(user=stream.creator, stream=stream)

    item = client_for(stream.creator).get(URL).json()["data"][0]

    assert item["role"] == "host"
    assert item["replayAccess"]["status"] == "owner"


def test_expired_rental_is_reported_with_its_dates(auth_client, user):
    stream = LiveStreamFactory(replay_credit_price=40)
    ContributionFactory(user=user, stream=stream)
    rented_at = timezone.now() - timedelta(days=2)
    ReplayRentalFactory(
        user=user, stream=stream, rented_at=rented_at, expires_at=rented_at + timedelta(hours=24)
    )

    access = auth_client.get(URL).json()["data"][0]["replayAccess"]

    assert access["status"] == "expired"
    assert access["price"] == 40
    assert access["canRent"] is False  # a scheduled stream has no replay to rent yet
    assert DATE_RE.match(access["rentedAt"]) and DATE_RE.match(access["expiresAt"])
    assert access["remainingSeconds"] is None


def test_another_users_rental_is_not_the_callers(auth_client, user):
    stream = LiveStreamFactory(recording=True, recording_url="https://cdn.allmine.test/r.mp4")
    ContributionFactory(user=user, stream=stream)
    ReplayRentalFactory(stream=stream)

    item = auth_client.get(URL).json()["data"][0]

    assert item["replayAccess"]["status"] == "unavailable"
    assert item["recordingUrl"] is None


def test_recording_url_shown_to_the_creator_only(client_for):
    stream = LiveStreamFactory(recording=True, recording_url="https://cdn.allmine.test/r.mp4")
    funder = UserFactory()
    ContributionFactory(user=stream.creator, stream=stream)
    ContributionFactory(user=funder, stream=stream)

    as_creator = client_for(stream.creator).get(URL).json()["data"][0]
    as_funder = client_for(funder).get(URL).json()["data"][0]

    assert as_creator["recordingUrl"] == "https://cdn.allmine.test/r.mp4"
    assert as_creator["replayAccess"]["canViewRecording"] is True
    assert as_funder["recordingUrl"] is None
    assert as_funder["replayAccess"]["canViewRecording"] is False


def test_default_thumbnail_when_none_uploaded(auth_client, user, settings):
    with_thumb = LiveStreamFactory(thumbnail_url="https://cdn.allmine.test/t.png")
    without = LiveStreamFactory(thumbnail_url="")
    ContributionFactory(user=user, stream=with_thumb)
    ContributionFactory(user=user, stream=without)

    by_id = {item["id"]: item for item in auth_client.get(URL).json()["data"]}

    assert by_id[with_thumb.id]["thumbnailUrl"] == "https://cdn.allmine.test/t.png"
    assert by_id[without.id]["thumbnailUrl"] == settings.DEFAULT_THUMBNAIL_URL


def test_creator_without_photo_has_null_profile_photo(auth_client, user):
    stream = LiveStreamFactory(creator=UserFactory(profile_photo=None))
    ContributionFactory(user=user, stream=stream)

    assert auth_client.get(URL).json()["data"][0]["creator"]["profilePhoto"] is None


class TestPaging:
    @pytest.fixture
    def five_funded(self, user):
        streams = [LiveStreamFactory() for _ in range(5)]
        for stream in streams:
            ContributionFactory(user=user, stream=stream)
        return [s.id for s in sorted(streams, key=lambda s: (s.planned_start_date, s.id))]

    def test_page_and_limit_slice_the_ordered_list(self, auth_client, five_funded):
        response = auth_client.get(URL, {"page": 2, "limit": 2})

        assert response.status_code == 200
        assert funded_ids(response) == five_funded[2:4]
        assert response["X-Total-Count"] == "5"

    def test_last_partial_page(self, auth_client, five_funded):
        response = auth_client.get(URL, {"page": 3, "limit": 2})

        assert funded_ids(response) == five_funded[4:]
        assert response["X-Total-Count"] == "5"

    def test_page_past_the_end_is_empty(self, auth_client, five_funded):
        response = auth_client.get(URL, {"page": 9, "limit": 2})

        assert response.status_code == 200
        assert response.json()["data"] == []
        assert response["X-Total-Count"] == "5"

    def test_defaults_return_everything(self, auth_client, five_funded):
        response = auth_client.get(URL)

        assert funded_ids(response) == five_funded
        assert response["X-Total-Count"] == "5"

    @pytest.mark.parametrize(
        ("params", "detail"),
        [
            ({"page": "0"}, "page: Ensure this value is greater than or equal to 1."),
            ({"page": "-1"}, "page: A valid integer is required."),
            ({"page": "abc"}, "page: A valid integer is required."),
            ({"page": "1.5"}, "page: A valid integer is required."),
            ({"page": "1.0"}, "page: A valid integer is required."),
            ({"page": ""}, "page: A valid integer is required."),
            ({"page": " 1"}, "page: A valid integer is required."),
            ({"limit": "0"}, "limit: Ensure this value is greater than or equal to 1."),
            ({"limit": "101"}, "limit: Ensure this value is less than or equal to 100."),
            ({"limit": "ten"}, "limit: A valid integer is required."),
            ({"limit": "9" * 40}, "limit: Ensure this value is less than or equal to 100."),
        ],
    )
    def test_bad_page_or_limit_is_a_400(self, auth_client, five_funded, params, detail):
        response = auth_client.get(URL, params)

        assert response.status_code == 400
        assert response.json()["isSuccess"] is False
        assert response.json()["data"] is None
        assert response.json()["errors"] == ["Validation failed", detail]


@pytest.mark.parametrize("count", [1, 50])
def test_query_count_is_constant(auth_client, user, django_assert_num_queries, count):
    for _ in range(count):
        stream = LiveStreamFactory(
            creator=UserFactory(), live_stream_type=LiveStream.Type.DUO_CROWD
        )
        StreamGuestFactory(stream=stream)
        StreamGuestFactory(stream=stream)
        BroadcasterFactory(stream=stream)
        MiniCrowdFundingFactory(stream=stream)
        ReplayRentalFactory(user=user, stream=stream)
        ContributionFactory(user=user, stream=stream)

    # user, streams (creator and photo joined), guests, broadcasters, caller's rentals, minis
    with django_assert_num_queries(6):
        response = auth_client.get(URL)

    assert response.status_code == 200
    assert len(response.json()["data"]) == count


def test_a_full_page_adds_only_the_count_query(auth_client, user, django_assert_num_queries):
    for _ in range(3):
        ContributionFactory(user=user)

    with django_assert_num_queries(7):
        response = auth_client.get(URL, {"limit": 2})

    assert response["X-Total-Count"] == "3"
