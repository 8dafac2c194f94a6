"""Live events over Server-Sent Events against a real ASGI server process (uvicorn): fan-out
through Redis from another process, nothing for a rolled-back change, Last-Event-ID resume,
heartbeats, the personal stream's tokens."""

import uuid
from datetime import timedelta

import pytest
from django.db import transaction

from allmine import events
from crowdfunding.services import contribution_create
from loadtest.redis_server import RedisServer
from tests.livestreams.factories import LiveStreamFactory
from tests.notifications.live import EventStream, asgi_server, call
from tests.users.factories import UserFactory
from users.services import access_token_for, credits_grant, refresh_token_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def redis_url():
    with RedisServer(ports=range(6395, 6420)) as redis:
        yield redis.url


@pytest.fixture
def live(redis_url, settings):
    """The server and this test process share one Redis broker (a prefix of this test's own)."""
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    settings.LIVE_EVENTS_REDIS_URL = redis_url
    settings.LIVE_EVENTS_PREFIX = prefix
    events.broker.cache_clear()
    with asgi_server(LIVE_EVENTS_REDIS_URL=redis_url, CACHE_KEY_PREFIX=prefix) as (port, logged):
        yield port, logged
    events.broker.cache_clear()


def funder(credits=1000):
    user = UserFactory()
    credits_grant(user=user, amount=credits)
    return user


def fund(port, user, stream, amount):
    status, data = call(
        port, "POST", f"/api/v1/live-stream/{stream.pk}/fund",
        token=access_token_for(user), body={"amount": amount},
    )  # fmt: skip
    assert status == 201, data


def open_stream(port, stream, **headers) -> EventStream:
    opened = EventStream(port, f"/api/v1/live-stream/{stream.pk}/events", headers)
    assert opened.status == 200
    assert opened.content_type.startswith("text/event-stream")
    return opened


def test_a_fund_sends_its_event_and_a_rolled_back_one_sends_none(live):
    port, _ = live
    stream, alice = LiveStreamFactory(funding_goal=200), funder()
    events_of_stream = open_stream(port, stream)

    with pytest.raises(RuntimeError), transaction.atomic():  # in this process, rolled back
        contribution_create(user=alice, stream_id=stream.pk, amount=10)
        raise RuntimeError("rolled back")
    fund(port, alice, stream, 30)

    received = events_of_stream.next()
    assert received.event == "funding"
    assert received.data == {
        "streamId": stream.pk,
        "collectedFunding": 30,
        "fundingGoal": 200,
        "fundingPercentage": 15,
        "miniCrowdFundings": [],
    }
    events_of_stream.close()


def test_last_event_id_resumes_with_exactly_the_missed_events(live):
    port, _ = live
    stream, alice = LiveStreamFactory(), funder()
    first_connection = open_stream(port, stream)
    fund(port, alice, stream, 1)
    seen = first_connection.next()
    first_connection.close()
    fund(port, alice, stream, 2)
    fund(port, alice, stream, 3)

    resumed = open_stream(port, stream, **{"Last-Event-ID": seen.id})
    missed = [resumed.next(), resumed.next()]
    assert [event.data["collectedFunding"] for event in missed] == [3, 6]
    assert seen.id < missed[0].id < missed[1].id
    fund(port, alice, stream, 4)
    assert resumed.next().data["collectedFunding"] == 10  # then live, nothing twice
    resumed.close()


def test_heartbeats_arrive_on_an_idle_stream(live):
    port, _ = live
    idle = open_stream(port, LiveStreamFactory())
    assert idle.next(skip_comments=False).comment == "heartbeat"
    assert idle.next(skip_comments=False).comment == "heartbeat"
    idle.close()


def test_open_streams_hold_no_thread_each(live):
    """Django gives each ASGI request a thread for its lifetime; event streams opt out
    (allmine/asgi.py), so thirty open streams cost the server no more threads than one."""
    from pathlib import Path

    port, logged = live
    stream = LiveStreamFactory()

    def threads() -> int:
        status = Path(f"/proc/{logged.pid}/status").read_text()
        return int(next(line for line in status.splitlines() if line.startswith("Threads:"))[8:])

    first = open_stream(port, stream)
    with_one = threads()
    more = [open_stream(port, stream) for _ in range(30)]
    assert threads() <= with_one + 2
    for opened in [first, *more]:
        opened.close()


def test_unknown_and_malformed_streams_are_refused(live):
    port, _ = live
    missing = EventStream(port, f"/api/v1/live-stream/{'f' * 24}/events")
    assert missing.status == 404
    assert EventStream(port, "/api/v1/live-stream/nope/events").status == 400


class TestPersonalStream:
    path = "/api/v1/notifications/stream"

    def test_wallet_and_notification_events_with_a_query_token(self, live):
        port, logged = live
        stream, alice = LiveStreamFactory(), funder(500)
        token = access_token_for(alice)
        mine = EventStream(port, f"{self.path}?access_token={token}")
        assert mine.status == 200
        fund(port, alice, stream, 120)
        received = mine.next()
        assert (received.event, received.data) == ("wallet", {"creditBalance": 380})
        call(port, "POST", f"/api/v1/live-stream/{stream.pk}/cancel",
             token=access_token_for(stream.creator))  # fmt: skip
        wallet, notification = mine.next(), mine.next()
        assert wallet.data == {"creditBalance": 500}
        assert notification.event == "notification"
        assert notification.data["type"] == "stream_cancelled"
        assert "120 credits were refunded" in notification.data["body"]
        mine.close()
        assert token not in logged()  # the query string is never logged

    def test_expired_and_revoked_tokens_are_refused(self, live):
        port, _ = live
        alice = UserFactory()
        expired = refresh_token_for(alice).access_token
        expired.set_exp(lifetime=-timedelta(seconds=1))
        refused = EventStream(port, self.path, {"Authorization": f"Bearer {expired}"})
        assert refused.status == 401
        token = access_token_for(alice)
        assert call(port, "POST", "/api/v1/auth/logout", token=token)[0] == 200
        assert EventStream(port, f"{self.path}?access_token={token}").status == 401
        assert EventStream(port, self.path).status == 401

    def test_an_open_stream_closes_when_its_token_is_revoked(self, live):
        port, _ = live
        alice = UserFactory()
        token = access_token_for(alice)
        mine = EventStream(port, self.path, {"Authorization": f"Bearer {token}"})
        assert mine.status == 200
        assert call(port, "POST", "/api/v1/auth/logout", token=token)[0] == 200
        try:
            assert mine.next() is None  # the server ended the stream
        except TimeoutError:
            pytest.fail("the stream stayed open after its token was revoked")
        mine.close()


def test_without_redis_one_process_serves_the_events(settings):
    """The embedded default (scripts/demo): no Redis, the server's own memory broker."""
    with asgi_server(LIVE_EVENTS_REDIS_URL="") as (port, _):
        stream, alice = LiveStreamFactory(), funder()
        events_of_stream = open_stream(port, stream)
        fund(port, alice, stream, 25)
        assert events_of_stream.next().data["collectedFunding"] == 25
        call(port, "POST", f"/api/v1/live-stream/{stream.pk}/start",
             token=access_token_for(stream.creator))  # fmt: skip
        received = events_of_stream.next()
        assert (received.event, received.data) == (
            "status",
            {"streamId": stream.pk, "status": "active", "isDeleted": False},
        )
        events_of_stream.close()
        resumed = open_stream(port, stream, **{"Last-Event-ID": "0-0"})
        assert [resumed.next().event, resumed.next().event] == ["funding", "status"]
        resumed.close()
