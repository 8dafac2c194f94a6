"""Replay rentals (API.md §7): status, rent, my rentals, settings. Every refused money request
asserts that no money row changed."""

from datetime import timedelta

import pytest
from django.utils import timezone

from livestreams.models import LiveStream, ReplayRental, ReplayRentalCharge
from tests.livestreams.factories import (
    BroadcasterFactory,
    EndedStreamFactory,
    StreamGuestFactory,
)
from tests.support import money_snapshot, rentals_refund
from tests.users.factories import UserFactory
from users.models import CreditLedgerEntry
from users.services import credits_grant

pytestmark = pytest.mark.django_db

RECEIPT_KEYS = [
    "rentalId", "streamId", "price", "status", "rentedAt", "expiresAt", "remainingSeconds",
    "creditBalance",
]  # fmt: skip


def rent_url(stream_id: str) -> str:
    return f"/api/v1/live-stream/{stream_id}/replay-rentals"


def status_url(stream_id: str) -> str:
    return f"/api/v1/live-stream/{stream_id}/replay-status"


def settings_url(stream_id: str) -> str:
    return f"/api/v1/live-stream/{stream_id}/replay-settings"


MY_RENTALS = "/api/v1/live-stream/my-replay-rentals"


class Clock:
    def __init__(self):
        self.now = timezone.now().replace(microsecond=250_000)

    def advance(self, **delta):
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch):
    """`timezone.now()` frozen at `clock.now` (JWTs keep their own clock)."""
    frozen = Clock()
    monkeypatch.setattr(timezone, "now", lambda: frozen.now)
    return frozen


@pytest.fixture
def viewer(user):
    credits_grant(user=user, amount=200)
    return user


@pytest.fixture
def stream():
    return EndedStreamFactory(replay_credit_price=50)


def assert_refused(response, status: int, *errors: str) -> None:
    body = response.json()
    assert response.status_code == status, body
    assert body["isSuccess"] is False and body["data"] is None
    assert body["errors"][1:] == list(errors)


# --- rent --------------------------------------------------------------------------------


def test_rent_charges_the_price_once_for_24_hours(auth_client, viewer, stream, clock):
    response = auth_client.post(rent_url(stream.id))

    assert response.status_code == 201
    data = response.json()["data"]
    assert list(data) == RECEIPT_KEYS
    rental = ReplayRental.objects.get()
    assert data == {
        "rentalId": rental.id,
        "streamId": stream.id,
        "price": 50,
        "status": "active",
        "rentedAt": clock.now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "expiresAt": (clock.now + timedelta(hours=24))
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z"),
        "remainingSeconds": 86400,
        "creditBalance": 150,
    }
    charge = ReplayRentalCharge.objects.get()
    assert charge.rental == rental and charge.status == "active" and charge.price == 50
    assert charge.ledger_entry.amount == -50
    assert charge.ledger_entry.type == CreditLedgerEntry.Type.STREAM_CHARGE
    assert charge.ledger_entry.status == CreditLedgerEntry.Status.COMPLETED
    assert charge.ledger_entry.stream_id == stream.id
    viewer.refresh_from_db()
    assert viewer.credit_balance == 150


def test_the_rental_lasts_replay_rental_duration(auth_client, viewer, stream, clock, settings):
    settings.REPLAY_RENTAL_DURATION = timedelta(seconds=90)

    data = auth_client.post(rent_url(stream.id)).json()["data"]

    assert data["expiresAt"] == (clock.now + timedelta(seconds=90)).isoformat(
        timespec="milliseconds"
    ).replace("+00:00", "Z")
    assert data["remainingSeconds"] == 90
    assert ReplayRental.objects.get().expires_at == clock.now + timedelta(seconds=90)


def test_replay_status_follows_the_rental(auth_client, viewer, stream, clock):
    before = auth_client.get(status_url(stream.id)).json()["data"]
    assert before["streamId"] == stream.id and before["recordingUrl"] is None
    assert before["replayAccess"]["status"] == "available"
    assert before["replayAccess"]["canRent"] is True

    auth_client.post(rent_url(stream.id))
    clock.advance(hours=1)
    rented = auth_client.get(status_url(stream.id)).json()["data"]

    assert rented["recordingUrl"] == stream.recording_url
    assert rented["replayAccess"]["status"] == "rented"
    assert rented["replayAccess"]["canViewRecording"] is True
    assert rented["replayAccess"]["remainingSeconds"] == 23 * 3600

    clock.advance(hours=23)
    expired = auth_client.get(status_url(stream.id)).json()["data"]
    assert expired["recordingUrl"] is None
    assert expired["replayAccess"]["status"] == "expired"
    assert expired["replayAccess"]["canRent"] is True
    assert expired["replayAccess"]["remainingSeconds"] is None


def test_repeat_while_active_charges_nothing_and_returns_it(auth_client, viewer, stream, clock):
    first = auth_client.post(rent_url(stream.id)).json()["data"]
    clock.advance(minutes=10)

    response = auth_client.post(rent_url(stream.id))

    assert response.status_code == 200
    data = response.json()["data"]
    assert data["rentalId"] == first["rentalId"]
    assert data["expiresAt"] == first["expiresAt"]
    assert data["remainingSeconds"] == 86400 - 600
    assert data["creditBalance"] == 150
    assert ReplayRentalCharge.objects.count() == 1
    assert CreditLedgerEntry.objects.filter(type="stream_charge").count() == 1


def test_expired_rental_is_reactivated_in_place(auth_client, viewer, stream, clock):
    first = auth_client.post(rent_url(stream.id)).json()["data"]
    clock.advance(hours=25)

    response = auth_client.post(rent_url(stream.id))

    assert response.status_code == 201
    data = response.json()["data"]
    assert data["rentalId"] == first["rentalId"]
    assert data["status"] == "active" and data["remainingSeconds"] == 86400
    assert data["creditBalance"] == 100
    assert ReplayRental.objects.count() == 1
    assert ReplayRentalCharge.objects.count() == 2


def test_refunded_rental_is_reactivated_in_place(auth_client, viewer, stream, clock):
    first = auth_client.post(rent_url(stream.id)).json()["data"]
    rentals_refund(stream=stream, now=clock.now)
    assert auth_client.get(status_url(stream.id)).json()["data"]["replayAccess"]["status"] == (
        "available"
    )

    response = auth_client.post(rent_url(stream.id))

    assert response.status_code == 201
    assert response.json()["data"]["rentalId"] == first["rentalId"]
    assert response.json()["data"]["creditBalance"] == 150
    rental = ReplayRental.objects.get()
    assert rental.status == "active"
    assert sorted(rental.charges.values_list("status", flat=True)) == ["active", "refunded"]


def test_refund_for_stream_gives_back_open_windows_only(stream, clock):
    renters = [UserFactory(), UserFactory()]
    for renter in renters:
        credits_grant(user=renter, amount=100)
    from livestreams.services import replay_rental_create

    replay_rental_create(user=renters[0], stream_id=stream.id, now=clock.now - timedelta(hours=30))
    replay_rental_create(user=renters[1], stream_id=stream.id, now=clock.now - timedelta(hours=1))

    assert rentals_refund(stream=stream, now=clock.now) == 1

    closed, open_ = (ReplayRentalCharge.objects.get(rental__user=renter) for renter in renters)
    assert closed.status == "active" and closed.refund_ledger_entry is None
    assert open_.status == "refunded" and open_.refunded_at == clock.now
    refund = open_.refund_ledger_entry
    assert (refund.type, refund.status, refund.amount, refund.stream_id) == (
        "stream_charge",
        "refunded",
        50,
        stream.id,
    )
    renters[1].refresh_from_db()
    assert renters[1].credit_balance == 100 == refund.balance_after


def test_insufficient_balance_is_a_409_and_charges_nothing(client_for, stream):
    poor = UserFactory()
    credits_grant(user=poor, amount=49)
    before = money_snapshot()

    response = client_for(poor).post(rent_url(stream.id))

    assert_refused(response, 409, "Insufficient credit balance")
    assert money_snapshot() == before


@pytest.mark.parametrize(
    "change",
    [
        {"status": LiveStream.Status.ACTIVE},
        {"status": LiveStream.Status.SCHEDULED},
        {"recording_url": ""},
        {"is_active_replay_on_creator_profile": False},
        {"is_active_replay_on_creator_profile": None},
        {"replay_credit_price": None},
        {"replay_credit_price": 0},
        {"live_stream_type": LiveStream.Type.DUO_CROWD},  # a duo stream without its guest
    ],
)
def test_not_rentable_is_a_409_and_charges_nothing(auth_client, viewer, change):
    stream = EndedStreamFactory(**change)
    before = money_snapshot()

    response = auth_client.post(rent_url(stream.id))

    assert_refused(response, 409, "The replay of this live stream is not available for rent")
    assert money_snapshot() == before


@pytest.mark.parametrize("who", ["creator", "guest", "broadcaster"])
def test_owner_and_participants_watch_free(client_for, who):
    stream = EndedStreamFactory(live_stream_type=LiveStream.Type.DUO_SELF)
    guest = StreamGuestFactory(stream=stream).user
    broadcaster = BroadcasterFactory(stream=stream, role="host").user
    caller = {"creator": stream.creator, "guest": guest, "broadcaster": broadcaster}[who]
    credits_grant(user=caller, amount=500)
    before = money_snapshot()

    response = client_for(caller).post(rent_url(stream.id))

    assert_refused(response, 409, "The creator and participants watch the replay free")
    assert money_snapshot() == before


def test_deleted_or_unknown_stream_is_a_404(auth_client, viewer, stream):
    LiveStream.objects.filter(pk=stream.pk).update(deleted_at=timezone.now())
    before = money_snapshot()

    for stream_id in (stream.id, "0" * 24):
        assert_refused(auth_client.post(rent_url(stream_id)), 404, "Live stream not found")
        assert_refused(auth_client.get(status_url(stream_id)), 404, "Live stream not found")
    assert money_snapshot() == before


@pytest.mark.parametrize("bad_id", ["nope", "A" * 24, "0" * 23])
def test_malformed_id_is_a_400(auth_client, viewer, bad_id):
    before = money_snapshot()

    for response in (
        auth_client.post(rent_url(bad_id)),
        auth_client.get(status_url(bad_id)),
        auth_client.patch(settings_url(bad_id), {"replayCreditPrice": 5}, format="json"),
    ):
        assert_refused(response, 400, "id: must be a 24-character lowercase hex id")
    assert money_snapshot() == before


def test_suspended_user_cannot_rent(client_for, stream):
    suspended = UserFactory(account_status="suspended")
    before = money_snapshot()

    assert client_for(suspended).post(rent_url(stream.id)).status_code == 403
    assert money_snapshot() == before


def test_unauthenticated_is_a_401(api_client, stream):
    for response in (
        api_client.post(rent_url(stream.id)),
        api_client.get(status_url(stream.id)),
        api_client.get(MY_RENTALS),
        api_client.patch(settings_url(stream.id), {"replayCreditPrice": 5}, format="json"),
    ):
        assert response.status_code == 401
        assert response.json()["errors"] == ["Authentication required"]


def test_idempotency_key_replays_the_first_response(auth_client, viewer, stream, clock):
    first = auth_client.post(rent_url(stream.id), HTTP_IDEMPOTENCY_KEY="rent-1")
    clock.advance(hours=1)  # without the key a repeat would be a 200 with less time left

    again = auth_client.post(rent_url(stream.id), HTTP_IDEMPOTENCY_KEY="rent-1")

    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json()["data"] == first.json()["data"]
    assert ReplayRentalCharge.objects.count() == 1


def test_rent_is_throttled(auth_client, viewer, stream, throttle_rates):
    throttle_rates(funding="2/min")

    statuses = [auth_client.post(rent_url(stream.id)).status_code for _ in range(3)]

    assert statuses == [201, 200, 429]
    assert ReplayRentalCharge.objects.count() == 1


# --- my rentals --------------------------------------------------------------------------


def test_my_rentals_newest_first_with_stream_objects(auth_client, viewer, clock):
    credits_grant(user=viewer, amount=1000)
    streams = [EndedStreamFactory() for _ in range(3)]
    for stream in streams:
        auth_client.post(rent_url(stream.id))
        clock.advance(hours=10)
    LiveStream.objects.filter(pk=streams[1].pk).update(deleted_at=clock.now)
    UserFactory()  # someone else's rentals never show
    other = UserFactory()
    credits_grant(user=other, amount=100)
    from livestreams.services import replay_rental_create

    replay_rental_create(user=other, stream_id=streams[0].id)

    response = auth_client.get(MY_RENTALS)

    assert response.status_code == 200
    data = response.json()["data"]
    assert list(data) == ["list", "pagination"]
    assert [item["streamId"] for item in data["list"]] == [streams[2].id, streams[0].id]
    newest, oldest = data["list"]
    assert list(newest) == [*RECEIPT_KEYS[:-1], "stream"]
    assert newest["status"] == "active" and newest["remainingSeconds"] == 14 * 3600
    assert oldest["status"] == "expired" and oldest["remainingSeconds"] is None
    assert newest["stream"]["id"] == streams[2].id
    assert newest["stream"]["replayAccess"]["status"] == "rented"
    assert oldest["stream"]["replayAccess"]["status"] == "expired"
    assert data["pagination"] == {
        "currentPage": 1,
        "totalPages": 1,
        "totalItems": 2,
        "itemsPerPage": 10,
        "hasNextPage": False,
        "hasPrevPage": False,
    }


def test_my_rentals_pages(auth_client, viewer):
    credits_grant(user=viewer, amount=1000)
    for _ in range(5):
        auth_client.post(rent_url(EndedStreamFactory().id))

    data = auth_client.get(MY_RENTALS, {"page": 2, "limit": 2}).json()["data"]

    assert len(data["list"]) == 2
    assert data["pagination"] == {
        "currentPage": 2,
        "totalPages": 3,
        "totalItems": 5,
        "itemsPerPage": 2,
        "hasNextPage": True,
        "hasPrevPage": True,
    }
    past = auth_client.get(MY_RENTALS, {"page": 4, "limit": 2}).json()["data"]
    assert past["list"] == [] and past["pagination"]["hasNextPage"] is False


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"page": "0"}, "page: Ensure this value is greater than or equal to 1."),
        ({"page": "x"}, "page: A valid integer is required."),
        ({"limit": "101"}, "limit: Ensure this value is less than or equal to 100."),
        ({"limit": "-1"}, "limit: A valid integer is required."),
    ],
)
def test_my_rentals_bad_paging_is_a_400(auth_client, params, error):
    assert_refused(auth_client.get(MY_RENTALS, params), 400, error)


def test_my_rentals_leave_out_a_stream_deleted_between_the_two_reads(
    auth_client, viewer, monkeypatch
):
    """The rentals page and its stream objects are two reads: a stream deleted in between is
    left out of the page (it used to be a KeyError, a 500)."""
    from crowdfunding import replay_views

    credits_grant(user=viewer, amount=1000)
    kept, deleted = EndedStreamFactory(), EndedStreamFactory()
    for stream in (kept, deleted):
        auth_client.post(rent_url(stream.id))
    read_stream_objects = replay_views.stream_objects_for

    def delete_first(**kwargs):
        LiveStream.objects.filter(pk=deleted.pk).update(deleted_at=timezone.now())
        return read_stream_objects(**kwargs)

    monkeypatch.setattr(replay_views, "stream_objects_for", delete_first)

    response = auth_client.get(MY_RENTALS)

    assert response.status_code == 200
    assert [item["streamId"] for item in response.json()["data"]["list"]] == [kept.id]


@pytest.mark.parametrize("count", [1, 8])
def test_my_rentals_query_count_is_constant(auth_client, viewer, count, django_assert_num_queries):
    credits_grant(user=viewer, amount=10_000)
    for _ in range(count):
        stream = EndedStreamFactory(live_stream_type=LiveStream.Type.DUO_CROWD)
        StreamGuestFactory(stream=stream)
        auth_client.post(rent_url(stream.id))

    # auth user, rentals page, then the stream objects' fixed set of queries
    with django_assert_num_queries(QUERIES_MY_RENTALS):
        response = auth_client.get(MY_RENTALS)

    assert len(response.json()["data"]["list"]) == count


QUERIES_MY_RENTALS = 7


# --- replay settings ---------------------------------------------------------------------


def test_creator_changes_replay_settings(client_for, clock):
    stream = EndedStreamFactory(is_active_replay_on_creator_profile=False, replay_credit_price=None)

    response = client_for(stream.creator).patch(
        settings_url(stream.id),
        {"isActiveReplayOnCreatorProfile": True, "replayCreditPrice": 30},
        format="json",
    )

    assert response.status_code == 200
    data = response.json()["data"]
    assert data["id"] == stream.id
    assert data["isActiveReplayOnCreatorProfile"] is True and data["replayCreditPrice"] == 30
    assert data["replayAccess"]["status"] == "owner" and data["replayAccess"]["price"] == 30
    assert "miniCrowdFundings" in data
    stream.refresh_from_db()
    assert (stream.is_active_replay_on_creator_profile, stream.replay_credit_price) == (True, 30)


def test_replay_settings_leave_out_fields_keep_their_value(client_for):
    stream = EndedStreamFactory(replay_credit_price=40)
    client = client_for(stream.creator)

    response = client.patch(
        settings_url(stream.id), {"isActiveReplayOnCreatorProfile": False}, format="json"
    )

    assert response.status_code == 200
    stream.refresh_from_db()
    assert (stream.is_active_replay_on_creator_profile, stream.replay_credit_price) == (False, 40)
    unchanged = client.patch(settings_url(stream.id), {}, format="json")
    assert unchanged.status_code == 200
    assert unchanged.json()["data"]["replayCreditPrice"] == 40


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (
            {"replayCreditPrice": 0},
            "replayCreditPrice: Ensure this value is greater than or equal to 1.",
        ),  # noqa: E501
        ({"replayCreditPrice": "5"}, "replayCreditPrice: A valid integer is required."),
        ({"replayCreditPrice": 2.5}, "replayCreditPrice: A valid integer is required."),
        (
            {"isActiveReplayOnCreatorProfile": "yes"},
            "isActiveReplayOnCreatorProfile: Must be a JSON boolean.",
        ),  # noqa: E501
        (
            {"isActiveReplayOnCreatorProfile": None},
            "isActiveReplayOnCreatorProfile: This field may not be null.",
        ),  # noqa: E501
    ],
)
def test_bad_replay_settings_are_a_400(client_for, body, error):
    stream = EndedStreamFactory()
    before = money_snapshot()

    response = client_for(stream.creator).patch(settings_url(stream.id), body, format="json")

    assert_refused(response, 400, error)
    assert money_snapshot() == before


def test_only_the_creator_changes_replay_settings(auth_client, stream):
    before = money_snapshot()

    response = auth_client.patch(settings_url(stream.id), {"replayCreditPrice": 1}, format="json")

    assert_refused(response, 403, "Only the stream's creator can change its replay settings")
    assert money_snapshot() == before


def test_replay_settings_of_a_deleted_stream_is_a_404(client_for, stream):
    LiveStream.objects.filter(pk=stream.pk).update(deleted_at=timezone.now())
    before = money_snapshot()

    response = client_for(stream.creator).patch(
        settings_url(stream.id), {"replayCreditPrice": 1}, format="json"
    )

    assert_refused(response, 404, "Live stream not found")
    assert money_snapshot() == before
