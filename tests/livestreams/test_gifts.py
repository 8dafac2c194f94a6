"""Gifts (API.md §12): the catalogue, sending on an active stream with §7's split paid in the
same transaction, statistics, and gifts racing the stream's end."""

import threading
from collections import Counter

import pytest
from django.core.management import call_command
from django.db import connections
from django.utils import timezone
from rest_framework.test import APIClient

from livestreams.models import Gift, GiftType, LiveStream
from tests.livestreams.factories import LiveStreamFactory, StreamGuestFactory
from tests.support import money_snapshot, queries_for
from tests.users.factories import UserFactory
from users.models import CreditLedgerEntry, User
from users.services import access_token_for, credits_grant

CREATE = "/api/v1/gifts/create"


@pytest.fixture
def gift_types(db):
    GiftType.objects.all().delete()  # the data migration's rows: each test owns its own
    return {
        "rose": GiftType.objects.create(name="Rose", credit_amount=1),
        "rocket": GiftType.objects.create(
            name="Rocket", credit_amount=100, icon_url="https://cdn.allmine.test/rocket.png"
        ),
        "star": GiftType.objects.create(name="Star", credit_amount=10),
        "retired": GiftType.objects.create(name="Old", credit_amount=5, is_active=False),
    }


def live(**kwargs) -> LiveStream:
    kwargs.setdefault("status", LiveStream.Status.ACTIVE)
    return LiveStreamFactory(started_at=timezone.now(), **kwargs)


@pytest.fixture
def sender(user):
    credits_grant(user=user, amount=1000)
    return user


def test_gift_types_are_public_active_and_cheapest_first(api_client, gift_types):
    response = api_client.get("/api/v1/gifts/gift-types")
    assert response.status_code == 200
    assert response.json()["data"] == [
        {"id": gift_types["rose"].pk, "name": "Rose", "creditAmount": 1, "iconUrl": None},
        {"id": gift_types["star"].pk, "name": "Star", "creditAmount": 10, "iconUrl": None},
        {
            "id": gift_types["rocket"].pk,
            "name": "Rocket",
            "creditAmount": 100,
            "iconUrl": "https://cdn.allmine.test/rocket.png",
        },
    ]


def test_gift_types_cost_the_same_queries_at_two_sizes(
    api_client, gift_types, django_assert_num_queries
):
    small = queries_for(api_client, "/api/v1/gifts/gift-types")
    for n in range(20):
        GiftType.objects.create(name=f"Extra {n}", credit_amount=20 + n)
    with django_assert_num_queries(small):
        api_client.get("/api/v1/gifts/gift-types")


def test_gift_on_a_solo_stream_pays_the_creator_80_percent(auth_client, sender, gift_types):
    stream = live()
    response = auth_client.post(
        CREATE, {"giftTypeId": gift_types["rocket"].pk, "liveStreamId": stream.pk}, format="json"
    )
    assert response.status_code == 201
    data = response.json()["data"]
    assert list(data) == [
        "giftId", "giftTypeId", "liveStreamId", "creditAmount", "creditBalance", "createdAt",
    ]  # fmt: skip
    assert (data["giftTypeId"], data["liveStreamId"]) == (gift_types["rocket"].pk, stream.pk)
    assert (data["creditAmount"], data["creditBalance"]) == (100, 900)
    spend = CreditLedgerEntry.objects.get(user=sender, type="gift_spend")
    assert (spend.type, spend.amount, spend.stream_id) == ("gift_spend", -100, stream.pk)
    revenue = CreditLedgerEntry.objects.get(user=stream.creator)
    assert (revenue.type, revenue.amount, revenue.stream_id) == ("stream_revenue", 80, stream.pk)
    gift = Gift.objects.get()
    assert (gift.creator_share, gift.guest_share, gift.guest) == (80, 0, None)
    call_command("audit_ledger")


def test_each_gift_is_a_live_event_after_commit(
    auth_client, sender, gift_types, monkeypatch, django_capture_on_commit_callbacks
):
    published = []
    monkeypatch.setattr(
        "allmine.events.publish",
        lambda channel, event, data: published.append((channel, event, data)),
    )
    stream = live()
    with django_capture_on_commit_callbacks(execute=True):
        response = auth_client.post(
            CREATE, {"giftTypeId": gift_types["star"].pk, "liveStreamId": stream.pk}, format="json"
        )
        refused = auth_client.post(
            CREATE,
            {"giftTypeId": gift_types["star"].pk, "liveStreamId": live(status="ended").pk},
            format="json",
        )
    assert refused.status_code == 409
    gifts = [(channel, data) for channel, event, data in published if event == "gift"]
    receipt = response.json()["data"]
    assert gifts == [
        (
            f"stream:{stream.pk}",
            {
                "streamId": stream.pk,
                "giftId": receipt["giftId"],
                "giftTypeId": gift_types["star"].pk,
                "name": "Star",
                "creditAmount": 10,
                "senderId": sender.pk,
                "senderUsername": sender.username,
                "createdAt": receipt["createdAt"],
            },
        )
    ]


def test_gift_on_a_duo_stream_pays_creator_and_guest_40_percent(auth_client, sender, gift_types):
    stream = live(live_stream_type=LiveStream.Type.DUO_CROWD)
    guest = StreamGuestFactory(stream=stream).user
    auth_client.post(
        CREATE, {"giftTypeId": gift_types["star"].pk, "liveStreamId": stream.pk}, format="json"
    )
    auth_client.post(
        CREATE, {"giftTypeId": gift_types["rose"].pk, "liveStreamId": stream.pk}, format="json"
    )
    stream.creator.refresh_from_db()
    guest.refresh_from_db()
    sender.refresh_from_db()
    assert (sender.credit_balance, stream.creator.credit_balance, guest.credit_balance) == (
        989, 4, 4,  # 10 → 4 + 4 (platform 2); 1 → 0 + 0 (platform 1)
    )  # fmt: skip
    assert Gift.objects.count() == 2
    call_command("audit_ledger")


@pytest.mark.parametrize(
    ("case", "status", "detail"),
    [
        ("scheduled", 409, "Live stream is scheduled, gifts are sent while it is active"),
        ("ended", 409, "Live stream is ended, gifts are sent while it is active"),
        ("own", 403, "You cannot send gifts on a stream you are paid for"),
        ("guest", 403, "You cannot send gifts on a stream you are paid for"),
        ("retired", 404, "Gift type not found"),
        ("unknown_stream", 404, "Live stream not found"),
        ("deleted", 404, "Live stream not found"),
        ("bad_stream_id", 400, "liveStreamId: must be a 24-character lowercase hex id"),
        ("bad_type_id", 400, "giftTypeId: must be a 24-character lowercase hex id"),
        ("poor", 409, "Insufficient credit balance"),
    ],
)
def test_refused_gifts_change_nothing(client_for, sender, gift_types, case, status, detail):
    caller, type_id = sender, gift_types["rocket"].pk
    stream = live(live_stream_type=LiveStream.Type.DUO_SELF)
    guest = StreamGuestFactory(stream=stream).user
    stream_id = stream.pk
    if case in ("scheduled", "ended"):
        LiveStream.objects.filter(pk=stream.pk).update(status=case)
    elif case == "own":
        caller = stream.creator
    elif case == "guest":
        caller = guest
    elif case == "retired":
        type_id = gift_types["retired"].pk
    elif case == "unknown_stream":
        stream_id = "64d15f9e2e6c8f4d5a123456"
    elif case == "deleted":
        LiveStream.objects.filter(pk=stream.pk).update(deleted_at=timezone.now())
    elif case == "bad_stream_id":
        stream_id = "nope"
    elif case == "bad_type_id":
        type_id = 12
    elif case == "poor":
        caller = UserFactory()
    before = money_snapshot()
    response = client_for(caller).post(
        CREATE, {"giftTypeId": type_id, "liveStreamId": stream_id}, format="json"
    )
    assert response.status_code == status
    if case != "bad_type_id":
        assert response.json()["errors"][1] == detail
    assert money_snapshot() == before


def test_suspended_sender_is_403(client_for, gift_types):
    suspended = UserFactory(account_status=User.AccountStatus.SUSPENDED)
    response = client_for(suspended).post(
        CREATE, {"giftTypeId": gift_types["rose"].pk, "liveStreamId": live().pk}, format="json"
    )
    assert response.status_code == 403


def test_gift_statistics_count_per_type(auth_client, sender, gift_types, client_for):
    stream = live()
    for name in ("rose", "star", "rose", "rocket", "rose"):
        auth_client.post(
            CREATE, {"giftTypeId": gift_types[name].pk, "liveStreamId": stream.pk}, format="json"
        )
    live_other = live()
    auth_client.post(
        CREATE, {"giftTypeId": gift_types["rose"].pk, "liveStreamId": live_other.pk}, format="json"
    )
    response = client_for(UserFactory()).get(f"/api/v1/live-stream/{stream.pk}/gift-statistics")
    assert response.status_code == 200
    assert response.json()["data"] == {
        "liveStreamId": stream.pk,
        "totalCount": 5,
        "giftTypeCounts": [
            {"giftTypeId": gift_types["rose"].pk, "name": "Rose", "creditAmount": 1, "count": 3},
            {"giftTypeId": gift_types["star"].pk, "name": "Star", "creditAmount": 10, "count": 1},
            {
                "giftTypeId": gift_types["rocket"].pk,
                "name": "Rocket",
                "creditAmount": 100,
                "count": 1,
            },
        ],
    }
    empty = auth_client.get(f"/api/v1/live-stream/{live().pk}/gift-statistics")
    assert empty.json()["data"]["totalCount"] == 0
    assert empty.json()["data"]["giftTypeCounts"] == []


def test_gift_statistics_errors(auth_client, api_client, gift_types):
    assert auth_client.get("/api/v1/live-stream/nope/gift-statistics").status_code == 400
    unknown = "/api/v1/live-stream/64d15f9e2e6c8f4d5a123456/gift-statistics"
    assert auth_client.get(unknown).status_code == 404
    assert api_client.get(f"/api/v1/live-stream/{live().pk}/gift-statistics").status_code == 401


def test_gift_statistics_cost_the_same_queries_at_two_sizes(
    auth_client, sender, gift_types, django_assert_num_queries
):
    stream = live()
    url = f"/api/v1/live-stream/{stream.pk}/gift-statistics"
    auth_client.post(
        CREATE, {"giftTypeId": gift_types["rose"].pk, "liveStreamId": stream.pk}, format="json"
    )
    small = queries_for(auth_client, url)
    for name in ("star", "rocket", "star", "rose"):
        auth_client.post(
            CREATE, {"giftTypeId": gift_types[name].pk, "liveStreamId": stream.pk}, format="json"
        )
    with django_assert_num_queries(small):
        auth_client.get(url)


@pytest.mark.django_db(transaction=True)
def test_gifts_racing_the_streams_end_never_land_after_it():
    GiftType.objects.all().delete()
    rose = GiftType.objects.create(name="Rose", credit_amount=3)
    stream = live()
    senders = [UserFactory() for _ in range(12)]
    for user in senders:
        credits_grant(user=user, amount=9)
    tokens = [access_token_for(user) for user in senders]
    creator_token = access_token_for(stream.creator)
    jobs = [("gift", token) for token in tokens for _ in range(3)] + [("end", creator_token)]
    barrier = threading.Barrier(len(jobs))
    results: list[tuple[str, int]] = []
    lock = threading.Lock()

    def call(kind: str, token: str) -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        try:
            barrier.wait(timeout=30)
            if kind == "end":
                response = client.post(f"/api/v1/live-stream/{stream.pk}/end")
            else:
                response = client.post(
                    CREATE, {"giftTypeId": rose.pk, "liveStreamId": stream.pk}, format="json"
                )
            with lock:
                results.append((kind, response.status_code))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=call, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert len(results) == len(jobs)
    statuses = Counter(results)
    assert statuses[("end", 200)] == 1
    assert statuses[("gift", 201)] + statuses[("gift", 409)] == 36
    stream.refresh_from_db()
    assert stream.status == LiveStream.Status.ENDED
    # Every gift that landed is older than the end: none after it.
    assert not Gift.objects.filter(created_at__gt=stream.ended_at).exists()
    assert Gift.objects.count() == statuses[("gift", 201)]
    stream.creator.refresh_from_db()
    assert stream.creator.credit_balance == sum(
        Gift.objects.values_list("creator_share", flat=True)
    )
    call_command("audit_ledger")
