"""A stream's life through the API (API.md §6): create, detail, update, mini crowd fundings,
start, end, join and delete with refunds."""

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from allmine.api.formats import format_datetime
from crowdfunding.models import Contribution, MiniCrowdFunding, MiniCrowdFundingSupport
from crowdfunding.serializers import CrowdfundedLiveStreamSerializer
from livestreams.models import Broadcaster, LiveStream, ReplayRental, StreamGuest
from livestreams.services import replay_rental_create
from tests.crowdfunding.factories import ContributionFactory, MiniCrowdFundingFactory
from tests.livestreams.factories import (
    BroadcasterFactory,
    EndedStreamFactory,
    LiveStreamFactory,
    StreamGuestFactory,
)
from tests.support import money_snapshot
from tests.users.factories import UserFactory
from users.models import CreditLedgerEntry, User
from users.services import credits_grant

pytestmark = pytest.mark.django_db

CREATE_URL = "/api/v1/live-stream"
FUNDED_URL = "/api/v1/live-stream/funded"
STREAM_KEYS = list(CrowdfundedLiveStreamSerializer.Meta.fields)
MINI_KEYS = ["_id", "title", "goal", "collected", "percentage", "status", "createdAt", "updatedAt"]


def detail_url(stream_id: str) -> str:
    return f"/api/v1/live-stream/{stream_id}"


def action_url(stream_id: str, action: str) -> str:
    return f"/api/v1/live-stream/{stream_id}/{action}"


def in_days(days: float) -> str:
    return format_datetime(timezone.now() + timedelta(days=days))


def create_body(**overrides) -> dict:
    body = {
        "title": "Yeni Ürün Tanıtımı",
        "liveStreamType": "solo",
        "interest": "music",
        "durationGoal": 90,
        "motivation": "Yeni albümümü ilk kez burada çalacağım.",
        "plannedStartDate": in_days(3),
        "fundingGoal": 500,
    }
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not ...}


def funder_with(credits: int) -> User:
    user = UserFactory()
    credits_grant(user=user, amount=credits)
    return user


def assert_error(response, status_code: int, *details: str) -> None:
    assert response.status_code == status_code, response.content
    body = response.json()
    assert body["isSuccess"] is False and body["statusCode"] == status_code
    assert body["data"] is None
    assert body["errors"][1:] == list(details), body["errors"]


# --- POST /api/v1/live-stream -------------------------------------------------------------


class TestCreate:
    def test_solo_stream_is_scheduled_and_the_caller_is_its_host(self, client_for):
        creator = UserFactory()
        body = create_body()

        response = client_for(creator).post(CREATE_URL, body, format="json")

        assert response.status_code == 201
        envelope = response.json()
        assert envelope["isSuccess"] is True and envelope["errors"] == []
        data = envelope["data"]
        assert list(data) == STREAM_KEYS
        stream = LiveStream.objects.get(pk=data["id"])
        assert stream.creator == creator
        assert data["title"] == "Yeni Ürün Tanıtımı"
        assert re.fullmatch(r"yeni-urun-tanitimi-[0-9a-f]{4}", data["channelName"])
        assert data["liveStreamType"] == "solo"
        assert data["status"] == "scheduled"
        assert data["role"] == "host"
        assert data["creator"]["_id"] == creator.pk
        assert data["guests"] == [] and data["broadcasters"] == []
        assert data["thumbnailUrl"] == settings.DEFAULT_THUMBNAIL_URL
        assert data["recording"] is False and data["recordingUrl"] is None
        assert data["accessType"] == "free" and data["price"] is None
        assert stream.price is None
        assert data["interest"] == "music" and data["durationGoal"] == 90
        assert data["motivation"] == body["motivation"]
        assert data["isActiveReplayOnCreatorProfile"] is None
        assert data["replayCreditPrice"] is None
        assert data["startedAt"] is None and data["endedAt"] is None
        assert data["plannedStartDate"] == body["plannedStartDate"]
        assert data["plannedEndDate"] == format_datetime(
            stream.planned_start_date + timedelta(minutes=90)
        )
        assert data["fundingGoal"] == 500
        assert data["collectedFunding"] == 0 and data["fundingPercentage"] == 0
        assert data["replayAccess"]["status"] == "owner"
        assert data["miniCrowdFundings"] == []

    def test_duo_stream_with_guests_and_every_optional_field(self, client_for):
        creator, first, second = UserFactory(), UserFactory(), UserFactory()
        body = create_body(
            liveStreamType="duocrowd",
            guests=[second.pk, first.pk],
            plannedEndDate=in_days(4),
            price=9.99,
            recording=True,
            isActiveReplayOnCreatorProfile=True,
            replayCreditPrice=40,
            thumbnailUrl="https://cdn.allmine.test/thumbs/a.png",
            somethingUnknown="ignored",
        )

        response = client_for(creator).post(CREATE_URL, body, format="json")

        assert response.status_code == 201
        data = response.json()["data"]
        assert [guest["_id"] for guest in data["guests"]] == [second.pk, first.pk]
        assert data["liveStreamType"] == "duocrowd"
        assert data["plannedEndDate"] == body["plannedEndDate"]
        assert data["price"] == 9.99 and data["accessType"] == "paid"
        assert data["recording"] is True
        assert data["isActiveReplayOnCreatorProfile"] is True
        assert data["replayCreditPrice"] == 40
        assert data["thumbnailUrl"] == "https://cdn.allmine.test/thumbs/a.png"
        guest_view = client_for(first).get(detail_url(data["id"])).json()["data"]
        assert guest_view["role"] == "guest"
        assert guest_view["replayAccess"]["status"] == "participant"

    def test_null_price_is_free_and_stored_as_null(self, client_for):
        response = client_for(UserFactory()).post(
            CREATE_URL, create_body(price=None), format="json"
        )

        assert response.status_code == 201
        assert response.json()["data"]["price"] is None
        assert LiveStream.objects.get().price is None

    @pytest.mark.parametrize(
        ("overrides", "detail"),
        [
            ({"title": ""}, "title: This field may not be blank."),
            ({"title": "x" * 121}, "title: Ensure this field has no more than 120 characters."),
            ({"title": 5}, "title: A valid string is required."),
            ({"title": ...}, "title: This field is required."),
            ({"liveStreamType": "trio"}, 'liveStreamType: "trio" is not a valid choice.'),
            ({"liveStreamType": ...}, "liveStreamType: This field is required."),
            ({"interest": "cooking"}, 'interest: "cooking" is not a valid choice.'),
            ({"interest": ...}, "interest: This field is required."),
            ({"durationGoal": 0}, "durationGoal: Ensure this value is greater than or equal to 1."),
            (
                {"durationGoal": 1441},
                "durationGoal: Ensure this value is less than or equal to 1440.",
            ),
            ({"durationGoal": "30"}, "durationGoal: A valid integer is required."),
            ({"durationGoal": True}, "durationGoal: A valid integer is required."),
            ({"durationGoal": 30.5}, "durationGoal: A valid integer is required."),
            ({"durationGoal": ...}, "durationGoal: This field is required."),
            (
                {"motivation": "x" * 2001},
                "motivation: Ensure this field has no more than 2000 characters.",
            ),
            ({"motivation": 7}, "motivation: A valid string is required."),
            ({"plannedStartDate": in_days(-1)}, "plannedStartDate: must be in the future"),
            ({"plannedStartDate": "tomorrow"}, None),
            (
                {"plannedStartDate": "9999-12-31T23:59:00Z"},
                "plannedStartDate: too far in the future",
            ),
            ({"plannedStartDate": ...}, "plannedStartDate: This field is required."),
            (
                {"plannedStartDate": in_days(3), "plannedEndDate": in_days(2)},
                "plannedEndDate: must not be before plannedStartDate",
            ),
            ({"plannedEndDate": 12}, None),
            ({"fundingGoal": -1}, "fundingGoal: Ensure this value is greater than or equal to 0."),
            ({"fundingGoal": "10"}, "fundingGoal: A valid integer is required."),
            ({"fundingGoal": True}, "fundingGoal: A valid integer is required."),
            ({"fundingGoal": 1.5}, "fundingGoal: A valid integer is required."),
            ({"fundingGoal": ...}, "fundingGoal: This field is required."),
            (
                {"price": 0},
                "price: Must be greater than 0; leave it out or send null for a free stream.",
            ),
            (
                {"price": -5},
                "price: Must be greater than 0; leave it out or send null for a free stream.",
            ),
            ({"price": "9.99"}, "price: A valid number is required."),
            ({"price": True}, "price: A valid number is required."),
            ({"price": 1.234}, "price: Ensure that there are no more than 2 decimal places."),
            ({"recording": "yes"}, "recording: Must be a JSON boolean."),
            ({"recording": 1}, "recording: Must be a JSON boolean."),
            (
                {"isActiveReplayOnCreatorProfile": "true"},
                "isActiveReplayOnCreatorProfile: Must be a JSON boolean.",
            ),
            (
                {"replayCreditPrice": 0},
                "replayCreditPrice: Ensure this value is greater than or equal to 1.",
            ),
            ({"replayCreditPrice": "5"}, "replayCreditPrice: A valid integer is required."),
            ({"thumbnailUrl": "not a url"}, "thumbnailUrl: Enter a valid URL."),
            ({"thumbnailUrl": 5}, "thumbnailUrl: A valid string is required."),
            ({"guests": "abc"}, 'guests: Expected a list of items but got type "str".'),
            ({"guests": [5]}, "guests.0: A valid string is required."),
            ({"guests": ["nope"]}, "guests.0: Must be a 24-character lowercase hex id."),
        ],
    )
    def test_each_field_rule_is_a_400_naming_the_field(self, client_for, overrides, detail):
        creator = UserFactory()
        before = money_snapshot()

        response = client_for(creator).post(CREATE_URL, create_body(**overrides), format="json")

        assert response.status_code == 400
        errors = response.json()["errors"]
        assert errors[0] == "Validation failed"
        if detail is None:  # DRF's long date-format sentence: the field name is what matters
            field = next(name for name in overrides if overrides[name] is not ...)
            assert errors[1].startswith(f"{field}: Datetime has wrong format.")
        else:
            assert errors[1:] == [detail]
        assert money_snapshot() == before
        assert not LiveStream.objects.exists()

    def test_guest_rules(self, client_for):
        creator, guest = UserFactory(), UserFactory()
        suspended = UserFactory(account_status=User.AccountStatus.SUSPENDED)
        client = client_for(creator)
        cases = [
            ({"guests": [guest.pk]}, "guests: a solo stream takes no guests"),
            ({"liveStreamType": "duocrowd"}, "guests: a duocrowd stream needs at least one guest"),
            (
                {"liveStreamType": "duoself", "guests": []},
                "guests: a duoself stream needs at least one guest",
            ),
            (
                {"liveStreamType": "duocrowd", "guests": [guest.pk, guest.pk]},
                "guests: the same user is listed twice",
            ),
            (
                {"liveStreamType": "duocrowd", "guests": [creator.pk]},
                "guests: the creator cannot be their own guest",
            ),
            (
                {"liveStreamType": "duocrowd", "guests": [guest.pk, "f" * 24]},
                f"guests: no active user {'f' * 24}",
            ),
            (
                {"liveStreamType": "duoself", "guests": [suspended.pk]},
                f"guests: no active user {suspended.pk}",
            ),
        ]
        for overrides, detail in cases:
            response = client.post(CREATE_URL, create_body(**overrides), format="json")
            assert_error(response, 400, detail)
        assert not LiveStream.objects.exists()
        assert not StreamGuest.objects.exists()

    @pytest.mark.parametrize("body", [[], "text", 5])
    def test_a_body_that_is_not_an_object_is_a_400(self, client_for, body):
        response = client_for(UserFactory()).post(CREATE_URL, body, format="json")

        assert response.status_code == 400
        assert not LiveStream.objects.exists()

    def test_suspended_caller_is_a_403(self, client_for):
        creator = UserFactory(account_status=User.AccountStatus.SUSPENDED)

        response = client_for(creator).post(CREATE_URL, create_body(), format="json")

        assert response.status_code == 403
        assert not LiveStream.objects.exists()

    def test_anonymous_is_a_401(self, api_client):
        assert api_client.post(CREATE_URL, create_body(), format="json").status_code == 401
        assert not LiveStream.objects.exists()


# --- GET /api/v1/live-stream/{id} ---------------------------------------------------------


class TestDetail:
    def test_anyone_signed_in_reads_the_stream_as_audience(self, client_for):
        stream = LiveStreamFactory()
        MiniCrowdFundingFactory(stream=stream)
        contribution = ContributionFactory(stream=stream, amount=250)

        response = client_for(contribution.user).get(detail_url(stream.id))

        assert response.status_code == 200
        data = response.json()["data"]
        assert list(data) == STREAM_KEYS
        assert data["id"] == stream.id
        assert data["role"] == "audience"
        assert data["collectedFunding"] == 250
        assert [list(mini) for mini in data["miniCrowdFundings"]] == [MINI_KEYS]

    def test_unknown_deleted_and_malformed_ids(self, client_for):
        deleted = LiveStreamFactory(deleted_at=timezone.now())
        client = client_for(deleted.creator)

        assert_error(client.get(detail_url("f" * 24)), 404, "Live stream not found")
        assert_error(client.get(detail_url(deleted.id)), 404, "Live stream not found")
        assert_error(
            client.get(detail_url("ABC")), 400, "id: must be a 24-character lowercase hex id"
        )

    def test_anonymous_is_a_401(self, api_client):
        assert api_client.get(detail_url(LiveStreamFactory().id)).status_code == 401

    def test_query_count_does_not_grow_with_guests_minis_and_broadcasters(
        self, client_for, django_assert_num_queries
    ):
        viewer = UserFactory()
        small = LiveStreamFactory(live_stream_type=LiveStream.Type.DUO_CROWD)
        StreamGuestFactory(stream=small)
        big = LiveStreamFactory(live_stream_type=LiveStream.Type.DUO_CROWD)
        for _ in range(4):
            guest = StreamGuestFactory(stream=big).user
            BroadcasterFactory(stream=big, user=guest)
            MiniCrowdFundingFactory(stream=big)
        client = client_for(viewer)
        client.get(detail_url(small.id))  # warm any per-process cache

        with CaptureQueriesContext(connection) as small_queries:
            assert client.get(detail_url(small.id)).status_code == 200
        assert len(small_queries) <= 6  # caller, stream, guests, broadcasters, rentals, minis
        with django_assert_num_queries(len(small_queries)):
            response = client.get(detail_url(big.id))
        assert len(response.json()["data"]["guests"]) == 4
        assert len(response.json()["data"]["miniCrowdFundings"]) == 4


# --- PATCH /api/v1/live-stream/{id} -------------------------------------------------------


class TestUpdate:
    def test_creator_changes_the_editable_fields(self, client_for):
        stream = LiveStreamFactory()
        channel = stream.channel_name
        body = {
            "title": "Akustik gece",
            "motivation": "Yeni şarkılar",
            "interest": "art",
            "thumbnailUrl": "https://cdn.allmine.test/t.png",
            "fundingGoal": 2000,
            "status": "ended",  # not editable: ignored
        }

        response = client_for(stream.creator).patch(detail_url(stream.id), body, format="json")

        assert response.status_code == 200
        data = response.json()["data"]
        assert data["title"] == "Akustik gece"
        assert data["motivation"] == "Yeni şarkılar"
        assert data["interest"] == "art"
        assert data["thumbnailUrl"] == "https://cdn.allmine.test/t.png"
        assert data["fundingGoal"] == 2000
        assert data["status"] == "scheduled"
        assert data["channelName"] == channel  # made once, at creation

    def test_a_new_start_or_duration_moves_the_end(self, client_for):
        stream = LiveStreamFactory(duration_goal=60)
        client = client_for(stream.creator)
        start = timezone.now().replace(microsecond=0) + timedelta(days=5)

        data = client.patch(
            detail_url(stream.id), {"plannedStartDate": format_datetime(start)}, format="json"
        ).json()["data"]
        assert data["plannedStartDate"] == format_datetime(start)
        assert data["plannedEndDate"] == format_datetime(start + timedelta(minutes=60))

        data = client.patch(detail_url(stream.id), {"durationGoal": 30}, format="json").json()[
            "data"
        ]
        assert data["plannedEndDate"] == format_datetime(start + timedelta(minutes=30))

        end = start + timedelta(hours=3)
        data = client.patch(
            detail_url(stream.id), {"plannedEndDate": format_datetime(end)}, format="json"
        ).json()["data"]
        assert data["plannedStartDate"] == format_datetime(start)
        assert data["plannedEndDate"] == format_datetime(end)

        data = client.patch(detail_url(stream.id), {"plannedEndDate": None}, format="json").json()[
            "data"
        ]
        assert data["plannedEndDate"] == format_datetime(start + timedelta(minutes=30))

    @pytest.mark.parametrize(
        ("body", "detail"),
        [
            (
                {"plannedStartDate": "2020-01-01T00:00:00Z"},
                "plannedStartDate: must be in the future",
            ),
            ({"plannedEndDate": "2020-01-01T00:00:00Z"}, None),
            ({"title": ""}, "title: This field may not be blank."),
            ({"title": 3}, "title: A valid string is required."),
            ({"interest": "cooking"}, 'interest: "cooking" is not a valid choice.'),
            ({"fundingGoal": "5"}, "fundingGoal: A valid integer is required."),
            ({"durationGoal": 0}, "durationGoal: Ensure this value is greater than or equal to 1."),
            ({"motivation": "x" * 2001}, None),
            ({"thumbnailUrl": "nope"}, "thumbnailUrl: Enter a valid URL."),
        ],
    )
    def test_bad_values_are_a_400_and_change_nothing(self, client_for, body, detail):
        stream = LiveStreamFactory()
        before = LiveStream.objects.values().get(pk=stream.pk)

        response = client_for(stream.creator).patch(detail_url(stream.id), body, format="json")

        assert response.status_code == 400
        errors = response.json()["errors"]
        field = next(iter(body))
        if detail is None:
            assert errors[1].startswith(f"{field}: ")
        else:
            assert errors[1:] == [detail]
        assert LiveStream.objects.values().get(pk=stream.pk) == before

    def test_end_before_the_current_start_is_a_400(self, client_for):
        stream = LiveStreamFactory()
        end = stream.planned_start_date - timedelta(minutes=1)

        response = client_for(stream.creator).patch(
            detail_url(stream.id), {"plannedEndDate": format_datetime(end)}, format="json"
        )

        assert_error(response, 400, "plannedEndDate: must not be before plannedStartDate")

    def test_funding_goal_never_below_what_is_collected(self, client_for):
        stream = ContributionFactory(amount=300, stream__funding_goal=1000).stream
        client = client_for(stream.creator)
        before = money_snapshot()

        response = client.patch(detail_url(stream.id), {"fundingGoal": 299}, format="json")

        assert_error(
            response,
            409,
            "fundingGoal: 300 credits are already collected, the goal cannot be lower",
        )
        assert money_snapshot() == before
        stream.refresh_from_db()
        assert stream.funding_goal == 1000

        response = client.patch(detail_url(stream.id), {"fundingGoal": 300}, format="json")
        assert response.status_code == 200
        assert response.json()["data"]["fundingPercentage"] == 100

    def test_preparing_stream_can_be_changed(self, client_for):
        stream = LiveStreamFactory(status=LiveStream.Status.PREPARING)

        response = client_for(stream.creator).patch(
            detail_url(stream.id), {"title": "Soon"}, format="json"
        )

        assert response.status_code == 200
        assert response.json()["data"]["title"] == "Soon"

    @pytest.mark.parametrize(
        "status", ["active", "ended", "expired", "cancelled_by_host", "cancelled_by_guest"]
    )
    def test_other_statuses_are_a_409(self, client_for, status):
        stream = LiveStreamFactory(status=status)

        response = client_for(stream.creator).patch(
            detail_url(stream.id), {"title": "Too late"}, format="json"
        )

        assert_error(response, 409, f"Live stream is {status}, it cannot be changed")
        stream.refresh_from_db()
        assert stream.title != "Too late"

    def test_only_the_creator_may_change_it(self, client_for):
        stream = LiveStreamFactory()
        guest = StreamGuestFactory(stream=stream).user

        response = client_for(guest).patch(detail_url(stream.id), {"title": "Mine"}, format="json")

        assert_error(response, 403, "Only the stream's creator can change it")
        stream.refresh_from_db()
        assert stream.title != "Mine"

    def test_unknown_deleted_and_malformed_ids(self, client_for):
        deleted = LiveStreamFactory(deleted_at=timezone.now())
        client = client_for(deleted.creator)

        assert client.patch(detail_url("f" * 24), {}, format="json").status_code == 404
        assert client.patch(detail_url(deleted.id), {}, format="json").status_code == 404
        assert client.patch(detail_url("xyz"), {}, format="json").status_code == 400


# --- POST /api/v1/live-stream/{id}/mini-crowd-fundings -------------------------------------


class TestMiniCrowdFundingCreate:
    def test_creator_adds_one_and_viewers_see_it(self, client_for):
        stream = LiveStreamFactory()
        viewer = funder_with(100)

        response = client_for(stream.creator).post(
            action_url(stream.id, "mini-crowd-fundings"),
            {"title": "Yeni mikrofon", "goal": 300},
            format="json",
        )

        assert response.status_code == 201
        data = response.json()["data"]
        assert list(data) == MINI_KEYS
        assert data["title"] == "Yeni mikrofon"
        assert (data["goal"], data["collected"], data["percentage"]) == (300, 0, 0)
        assert data["status"] == "active"
        support = client_for(viewer).post(
            f"/api/v1/live-stream/{stream.id}/mini-crowd-fundings/{data['_id']}/support",
            {"amount": 30},
            format="json",
        )
        assert support.status_code == 201
        seen = client_for(viewer).get(detail_url(stream.id)).json()["data"]
        assert seen["miniCrowdFundings"][0]["_id"] == data["_id"]
        assert seen["miniCrowdFundings"][0]["collected"] == 30

    @pytest.mark.parametrize(
        ("body", "detail"),
        [
            ({"title": "", "goal": 10}, "title: This field may not be blank."),
            ({"title": "x" * 121, "goal": 10}, None),
            ({"goal": 10}, "title: This field is required."),
            ({"title": "Mic", "goal": 0}, "goal: Ensure this value is greater than or equal to 1."),
            ({"title": "Mic", "goal": "10"}, "goal: A valid integer is required."),
            ({"title": "Mic", "goal": None}, "goal: This field may not be null."),
            ({"title": "Mic"}, "goal: This field is required."),
        ],
    )
    def test_bad_bodies_are_a_400(self, client_for, body, detail):
        stream = LiveStreamFactory()
        before = money_snapshot()

        response = client_for(stream.creator).post(
            action_url(stream.id, "mini-crowd-fundings"), body, format="json"
        )

        assert response.status_code == 400
        if detail is not None:
            assert response.json()["errors"][1:] == [detail]
        assert money_snapshot() == before

    @pytest.mark.parametrize("status", ["preparing", "active", "ended", "cancelled_by_host"])
    def test_only_while_scheduled(self, client_for, status):
        stream = LiveStreamFactory(status=status)
        before = money_snapshot()

        response = client_for(stream.creator).post(
            action_url(stream.id, "mini-crowd-fundings"), {"title": "Mic", "goal": 5}, format="json"
        )

        assert_error(
            response,
            409,
            f"Live stream is {status}, mini crowd fundings are added while scheduled",
        )
        assert money_snapshot() == before

    def test_only_the_creator_and_only_existing_streams(self, client_for):
        stream = LiveStreamFactory()
        deleted = LiveStreamFactory(deleted_at=timezone.now(), creator=stream.creator)
        body = {"title": "Mic", "goal": 5}
        stranger = UserFactory()
        before = money_snapshot()

        other = client_for(stranger).post(
            action_url(stream.id, "mini-crowd-fundings"), body, format="json"
        )
        gone = client_for(stream.creator).post(
            action_url(deleted.id, "mini-crowd-fundings"), body, format="json"
        )

        assert_error(other, 403, "Only the stream's creator can add mini crowd fundings to it")
        assert_error(gone, 404, "Live stream not found")
        assert money_snapshot() == before


# --- POST .../start, .../end, .../join ----------------------------------------------------


class TestStartEndJoin:
    def test_start_makes_it_active_with_the_host_broadcasting(self, client_for):
        stream = LiveStreamFactory()

        response = client_for(stream.creator).post(action_url(stream.id, "start"))

        assert response.status_code == 200
        data = response.json()["data"]
        assert data["status"] == "active"
        assert data["startedAt"] is not None and data["endedAt"] is None
        assert data["broadcasters"] == [
            {"user": stream.creator.pk, "role": "host", "uid": None, "hasJoined": True}
        ]

    def test_a_preparing_stream_starts_too(self, client_for):
        stream = LiveStreamFactory(status=LiveStream.Status.PREPARING)

        response = client_for(stream.creator).post(action_url(stream.id, "start"))

        assert response.json()["data"]["status"] == "active"

    @pytest.mark.parametrize(
        "status", ["active", "ended", "expired", "cancelled_by_host", "cancelled_by_guest"]
    )
    def test_start_in_another_status_is_a_409(self, client_for, status):
        stream = LiveStreamFactory(status=status)

        response = client_for(stream.creator).post(action_url(stream.id, "start"))

        assert_error(response, 409, f"Live stream is {status}, it cannot be started")
        assert not Broadcaster.objects.exists()

    @pytest.mark.parametrize("recording", [True, False])
    def test_end_sets_ended_at_and_the_recording(self, client_for, recording):
        stream = LiveStreamFactory(status=LiveStream.Status.ACTIVE, recording=recording)
        viewer = UserFactory()

        response = client_for(stream.creator).post(action_url(stream.id, "end"))

        assert response.status_code == 200
        data = response.json()["data"]
        assert data["status"] == "ended"
        assert data["endedAt"] is not None
        stream.refresh_from_db()
        expected = f"{settings.RECORDING_BASE_URL}/{stream.channel_name}.mp4" if recording else ""
        assert stream.recording_url == expected
        assert data["recordingUrl"] == (expected or None)  # the owner may watch it
        seen = client_for(viewer).get(detail_url(stream.id)).json()["data"]
        assert seen["recordingUrl"] is None  # an audience member without a rental may not

    @pytest.mark.parametrize("status", ["scheduled", "preparing", "ended", "cancelled_by_host"])
    def test_end_needs_an_active_stream(self, client_for, status):
        stream = LiveStreamFactory(status=status)

        response = client_for(stream.creator).post(action_url(stream.id, "end"))

        assert_error(response, 409, f"Live stream is {status}, it cannot be ended")

    @pytest.mark.parametrize("action", ["start", "end"])
    def test_only_the_creator_starts_and_ends(self, client_for, action):
        stream = LiveStreamFactory(status=LiveStream.Status.ACTIVE)
        guest = StreamGuestFactory(stream=stream).user

        response = client_for(guest).post(action_url(stream.id, action))

        assert_error(response, 403, f"Only the stream's creator can {action} it")
        stream.refresh_from_db()
        assert stream.status == "active"

    @pytest.mark.parametrize("action", ["start", "end", "join"])
    def test_unknown_deleted_and_malformed_ids(self, client_for, action):
        deleted = LiveStreamFactory(deleted_at=timezone.now(), status=LiveStream.Status.ACTIVE)
        client = client_for(deleted.creator)

        assert client.post(action_url("f" * 24, action)).status_code == 404
        assert client.post(action_url(deleted.id, action)).status_code == 404
        assert client.post(action_url("bad", action)).status_code == 400

    @pytest.mark.parametrize("status", ["preparing", "active"])
    def test_invited_guest_joins_once(self, client_for, status):
        stream = LiveStreamFactory(status=status, live_stream_type=LiveStream.Type.DUO_SELF)
        guest = StreamGuestFactory(stream=stream).user
        client = client_for(guest)

        first = client.post(action_url(stream.id, "join"))
        again = client.post(action_url(stream.id, "join"))

        assert first.status_code == 200 and again.status_code == 200
        data = again.json()["data"]
        assert data["role"] == "guest"
        assert data["broadcasters"] == [
            {"user": guest.pk, "role": "guest", "uid": None, "hasJoined": True}
        ]
        assert first.json()["data"]["broadcasters"] == data["broadcasters"]

    @pytest.mark.parametrize("status", ["scheduled", "ended", "cancelled_by_host"])
    def test_join_outside_preparing_or_active_is_a_409(self, client_for, status):
        stream = LiveStreamFactory(status=status)
        guest = StreamGuestFactory(stream=stream).user

        response = client_for(guest).post(action_url(stream.id, "join"))

        assert_error(response, 409, f"Live stream is {status}, it cannot be joined")
        assert not Broadcaster.objects.exists()

    def test_only_invited_guests_join(self, client_for):
        stream = LiveStreamFactory(status=LiveStream.Status.ACTIVE)
        StreamGuestFactory(stream=stream)

        for outsider in (UserFactory(), stream.creator):
            response = client_for(outsider).post(action_url(stream.id, "join"))
            assert_error(response, 403, "Only the stream's invited guests can join it")
        assert not Broadcaster.objects.exists()


# --- DELETE /api/v1/live-stream/{id} ------------------------------------------------------


def funded_stream():
    """A scheduled stream with two funders, two mini crowd fundings with supports, and one
    contribution refunded earlier (by an operator)."""
    stream = LiveStreamFactory(funding_goal=500)
    alice, bob = funder_with(1000), funder_with(1000)
    first = MiniCrowdFundingFactory(stream=stream, goal=1000)
    second = MiniCrowdFundingFactory(stream=stream, goal=10)
    from crowdfunding.services import (
        contribution_create,
        contribution_refund,
        mini_crowd_funding_support_create,
    )

    contribution_create(user=alice, stream_id=stream.pk, amount=100)
    contribution_create(user=alice, stream_id=stream.pk, amount=50)
    contribution_create(user=bob, stream_id=stream.pk, amount=200)
    early = contribution_create(user=bob, stream_id=stream.pk, amount=7).contribution
    contribution_refund(contribution_id=early.pk)
    mini_crowd_funding_support_create(
        user=bob, stream_id=stream.pk, mini_crowd_funding_id=first.pk, amount=40
    )
    mini_crowd_funding_support_create(
        user=alice, stream_id=stream.pk, mini_crowd_funding_id=second.pk, amount=15
    )  # completes the second mini
    return stream, alice, bob


class TestDelete:
    def test_delete_refunds_the_rentals_whose_window_is_open(self, client_for):
        """An ended stream's replay: the rental still running is refunded in full in the same
        transaction; the one whose 24 hours have passed was watched and stays paid."""
        stream = EndedStreamFactory(replay_credit_price=30)
        watching, watched = funder_with(100), funder_with(100)
        replay_rental_create(
            user=watched, stream_id=stream.pk, now=timezone.now() - timedelta(days=2)
        )
        replay_rental_create(user=watching, stream_id=stream.pk)

        response = client_for(stream.creator).delete(detail_url(stream.id))

        assert response.status_code == 200
        data = response.json()["data"]
        assert (data["refundedRentals"], data["refundedCredits"]) == (1, 30)
        watching.refresh_from_db()
        watched.refresh_from_db()
        assert (watching.credit_balance, watched.credit_balance) == (100, 70)
        refund = CreditLedgerEntry.objects.get(user=watching, amount=30)
        assert (refund.type, refund.status, refund.stream_id) == (
            "stream_charge", "refunded", stream.pk,
        )  # fmt: skip
        assert list(
            ReplayRental.objects.order_by("user_id").values_list("user_id", "status")
        ) == sorted([(watching.pk, "refunded"), (watched.pk, "active")])
        assert (
            client_for(watching).get(f"/api/v1/live-stream/{stream.id}/replay-status").status_code
            == 404
        )
        call_command("audit_ledger")

    def test_delete_refunds_everything_in_one_go_and_the_stream_is_gone(self, client_for):
        stream, alice, bob = funded_stream()
        refunds_before = CreditLedgerEntry.objects.filter(type="stream_funding_refund").count()

        response = client_for(stream.creator).delete(detail_url(stream.id))

        assert response.status_code == 200
        data = response.json()["data"]
        stream.refresh_from_db()
        assert data == {
            "id": stream.id,
            "deletedAt": format_datetime(stream.deleted_at),
            "refundedContributions": 3,
            "refundedSupports": 2,
            "refundedRentals": 0,
            "refundedCredits": 100 + 50 + 200 + 40 + 15,
        }
        alice.refresh_from_db()
        bob.refresh_from_db()
        assert (alice.credit_balance, bob.credit_balance) == (1000, 1000)
        assert sorted(
            (entry.user_id, entry.amount)
            for entry in CreditLedgerEntry.objects.filter(
                type="stream_funding_refund", description__endswith="deleted"
            )
        ) == sorted([(alice.pk, 100), (alice.pk, 50), (bob.pk, 200), (bob.pk, 40), (alice.pk, 15)])
        refunds = CreditLedgerEntry.objects.filter(type="stream_funding_refund")
        assert refunds.count() == refunds_before + 5  # the earlier refund is not repeated
        assert set(Contribution.objects.values_list("status", flat=True)) == {"refunded"}
        assert set(MiniCrowdFundingSupport.objects.values_list("status", flat=True)) == {"refunded"}
        assert set(MiniCrowdFunding.objects.values_list("status", "collected")) == {
            ("cancelled", 0)
        }
        assert stream.collected_funding == 0 and stream.status == "scheduled"

        alice_client = client_for(alice)
        assert alice_client.get(FUNDED_URL).json()["data"] == []
        assert alice_client.get(detail_url(stream.id)).status_code == 404
        before = money_snapshot()
        fund = alice_client.post(action_url(stream.id, "fund"), {"amount": 5}, format="json")
        assert_error(fund, 404, "Live stream not found")
        mini = MiniCrowdFunding.objects.filter(stream=stream).first()
        support = alice_client.post(
            f"{action_url(stream.id, 'mini-crowd-fundings')}/{mini.pk}/support",
            {"amount": 5},
            format="json",
        )
        assert support.status_code == 404
        assert client_for(stream.creator).delete(detail_url(stream.id)).status_code == 404
        assert money_snapshot() == before

    @pytest.mark.parametrize(
        "status", ["preparing", "ended", "expired", "cancelled_by_host", "cancelled_by_guest"]
    )
    def test_any_status_but_active_can_be_deleted(self, client_for, status):
        stream = LiveStreamFactory(status=status)

        response = client_for(stream.creator).delete(detail_url(stream.id))

        assert response.status_code == 200
        assert response.json()["data"]["refundedCredits"] == 0
        stream.refresh_from_db()
        assert stream.deleted_at is not None and stream.status == status

    def test_an_active_stream_cannot_be_deleted(self, client_for):
        stream, _, _ = funded_stream()
        LiveStream.objects.filter(pk=stream.pk).update(status=LiveStream.Status.ACTIVE)
        before = money_snapshot()

        response = client_for(stream.creator).delete(detail_url(stream.id))

        assert_error(response, 409, "Live stream is active, it cannot be deleted")
        assert money_snapshot() == before
        assert LiveStream.objects.get(pk=stream.pk).deleted_at is None

    def test_only_the_creator_may_delete(self, client_for):
        stream, alice, _ = funded_stream()
        guest = StreamGuestFactory(stream=stream).user
        before = money_snapshot()

        for someone in (alice, guest):
            response = client_for(someone).delete(detail_url(stream.id))
            assert_error(response, 403, "Only the stream's creator can delete it")
        assert money_snapshot() == before

    def test_unknown_and_malformed_ids(self, client_for):
        stream, _, _ = funded_stream()
        client = client_for(stream.creator)
        before = money_snapshot()

        assert_error(client.delete(detail_url("f" * 24)), 404, "Live stream not found")
        assert_error(
            client.delete(detail_url("nope")), 400, "id: must be a 24-character lowercase hex id"
        )
        assert money_snapshot() == before

    def test_anonymous_is_a_401(self, api_client):
        stream, _, _ = funded_stream()
        before = money_snapshot()

        assert api_client.delete(detail_url(stream.id)).status_code == 401
        assert money_snapshot() == before

    def test_a_repeat_with_the_same_idempotency_key_refunds_nothing_more(self, client_for):
        stream, _, _ = funded_stream()
        client = client_for(stream.creator)

        first = client.delete(detail_url(stream.id), HTTP_IDEMPOTENCY_KEY="del-1")
        after_first = money_snapshot()
        again = client.delete(detail_url(stream.id), HTTP_IDEMPOTENCY_KEY="del-1")

        assert first.status_code == again.status_code == 200
        assert again["Idempotent-Replayed"] == "true"
        assert again.json()["data"] == first.json()["data"]
        assert money_snapshot() == after_first

    def test_delete_is_throttled_as_a_money_endpoint(self, client_for, throttle_rates):
        throttle_rates(funding="1/min")
        first = LiveStreamFactory()
        second = LiveStreamFactory(creator=first.creator)
        client = client_for(first.creator)

        assert client.delete(detail_url(first.id)).status_code == 200
        response = client.delete(detail_url(second.id))

        assert_error(response, 429, *response.json()["errors"][1:])
        assert LiveStream.objects.get(pk=second.pk).deleted_at is None
        # Reads and the stream's other actions are not counted against the money rate.
        assert client.get(detail_url(second.id)).status_code == 200
        assert client.post(action_url(second.id, "start")).status_code == 200


@pytest.mark.parametrize(
    ("method", "action"),
    [
        ("get", None),
        ("patch", None),
        ("delete", None),
        ("post", "mini-crowd-fundings"),
        ("post", "start"),
        ("post", "end"),
        ("post", "join"),
    ],
)
def test_every_stream_operation_needs_a_signed_in_caller(api_client, method, action):
    stream, _, _ = funded_stream()
    url = action_url(stream.id, action) if action else detail_url(stream.id)
    before = money_snapshot()

    response = getattr(api_client, method)(url, {"title": "x", "goal": 1}, format="json")

    assert_error(response, 401, *response.json()["errors"][1:])
    assert response.json()["errors"][0] == "Authentication required"
    assert money_snapshot() == before
