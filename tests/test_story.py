"""The client-only story: a stream's whole life through HTTP calls alone.

Accounts and credits are made the way an operator makes them (`manage.py create_user`,
`manage.py grant_credits`: the API has no sign-up and no credit purchase); from then on every
step is an HTTP request, and every fact is checked in a response. No ORM, no factories.
"""

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

PASSWORD = "story-password-2026"
API = "/api/v1"
TRANSACTION_KEYS = [
    "_id", "type", "direction", "amount", "status", "balanceAfter", "description", "occurredAt",
    "streamId",
]  # fmt: skip


class Person:
    """One signed-in client, talking HTTP only."""

    def __init__(self, username: str):
        call_command("create_user", username, "--password", PASSWORD, stdout=StringIO())
        self.username = username
        self.sign_in()

    def sign_in(self) -> None:
        self.client = APIClient()
        login = self.client.post(
            f"{API}/auth/login", {"username": self.username, "password": PASSWORD}, format="json"
        )
        assert login.status_code == 200, login.content
        self.id = login.json()["data"]["user"]["_id"]
        self.client.credentials(HTTP_AUTHORIZATION=f"Bearer {login.json()['data']['accessToken']}")

    def call(self, method: str, path: str, body=None, status: int = 200, headers=None):
        response = getattr(self.client, method)(
            f"{API}{path}", body, format="json", headers=headers
        )
        assert response.status_code == status, response.content
        envelope = response.json()
        assert envelope["isSuccess"] is True and envelope["errors"] == []
        return envelope["data"]

    def refused(self, method: str, path: str, status: int, *details: str) -> None:
        """A refusal: the envelope of an error, the standard message and then `details`."""
        response = getattr(self.client, method)(f"{API}{path}", None, format="json")
        assert response.status_code == status, response.content
        envelope = response.json()
        assert (envelope["isSuccess"], envelope["data"]) == (False, None)
        assert envelope["errors"][1:] == list(details), envelope["errors"]

    def transactions(self, query: str = "") -> list[tuple]:
        """The wallet's rows, newest first: (type, direction, amount, status, balanceAfter,
        streamId), after checking each item's keys."""
        page = self.call("get", f"/users/me/transactions{query}")
        for item in page["list"]:
            assert list(item) == TRANSACTION_KEYS
        assert page["pagination"]["totalItems"] == len(page["list"])
        return [
            (i["type"], i["direction"], i["amount"], i["status"], i["balanceAfter"], i["streamId"])
            for i in page["list"]
        ]

    def balance(self) -> int:
        return self.call("get", "/users/me")["creditBalance"]


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def command(name: str, *args: str) -> str:
    out = StringIO()
    call_command(name, *args, stdout=out)
    return out.getvalue()


def test_a_duo_stream_from_schedule_to_replay_revenue():
    creator, guest, viewer = Person("selin"), Person("deniz"), Person("mert")
    call_command("grant_credits", "mert", "1000", stdout=StringIO())
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)

    # The creator schedules a duo stream with a guest, and adds a mini crowd funding.
    stream = creator.call(
        "post",
        "/live-stream",
        {
            "title": "Akustik Gece: Şarkılar ve Sohbet",
            "liveStreamType": "duocrowd",
            "interest": "music",
            "durationGoal": 60,
            "motivation": "Yeni albümden ilk şarkılar.",
            "plannedStartDate": iso(start),
            "fundingGoal": 400,
            "recording": True,
            "isActiveReplayOnCreatorProfile": True,
            "replayCreditPrice": 30,
            "guests": [guest.id],
        },
        status=201,
    )
    stream_id = stream["id"]
    assert stream["status"] == "scheduled" and stream["role"] == "host"
    assert stream["creator"]["_id"] == creator.id
    assert [g["_id"] for g in stream["guests"]] == [guest.id]
    assert stream["plannedEndDate"] == iso(start + timedelta(minutes=60))
    mini = creator.call(
        "post",
        f"/live-stream/{stream_id}/mini-crowd-fundings",
        {"title": "Yeni mikrofon", "goal": 100},
        status=201,
    )

    # A viewer funds it and supports the mini crowd funding.
    receipt = viewer.call("post", f"/live-stream/{stream_id}/fund", {"amount": 200}, status=201)
    assert receipt["collectedFunding"] == 200 and receipt["fundingPercentage"] == 50
    assert receipt["creditBalance"] == 800
    support = viewer.call(
        "post",
        f"/live-stream/{stream_id}/mini-crowd-fundings/{mini['_id']}/support",
        {"amount": 100},
        status=201,
    )
    assert support["status"] == "completed" and support["creditBalance"] == 700

    # The viewer sees it in their funded list as audience; the guest sees it as guest.
    funded = viewer.call("get", "/live-stream/funded")
    assert [item["id"] for item in funded] == [stream_id]
    assert funded[0]["role"] == "audience"
    assert funded[0]["collectedFunding"] == 200
    assert funded[0]["miniCrowdFundings"][0]["status"] == "completed"
    assert funded[0]["replayAccess"]["status"] == "unavailable"
    as_guest = guest.call("get", f"/live-stream/{stream_id}")
    assert as_guest["role"] == "guest"
    assert as_guest["replayAccess"]["status"] == "participant"

    # The creator goes live, the guest joins, the creator ends it.
    live = creator.call("post", f"/live-stream/{stream_id}/start")
    assert live["status"] == "active" and live["startedAt"] is not None
    joined = guest.call("post", f"/live-stream/{stream_id}/join")
    assert [(b["user"], b["role"], b["hasJoined"]) for b in joined["broadcasters"]] == [
        (creator.id, "host", True),
        (guest.id, "guest", True),
    ]
    ended = creator.call("post", f"/live-stream/{stream_id}/end")
    assert ended["status"] == "ended" and ended["endedAt"] is not None
    assert ended["recordingUrl"].endswith(f"/{ended['channelName']}.mp4")

    # Ended: out of the funded list; the viewer may rent the replay, the guest watches free.
    assert viewer.call("get", "/live-stream/funded") == []
    seen = viewer.call("get", f"/live-stream/{stream_id}")
    assert seen["replayAccess"]["status"] == "available"
    assert seen["replayAccess"]["canRent"] is True and seen["replayAccess"]["price"] == 30
    assert seen["recordingUrl"] is None
    assert guest.call("get", f"/live-stream/{stream_id}")["recordingUrl"] == ended["recordingUrl"]

    # The creator sets the replay's price; the viewer may rent it.
    priced = creator.call(
        "patch", f"/live-stream/{stream_id}/replay-settings", {"replayCreditPrice": 33}
    )
    assert priced["replayAccess"]["status"] == "owner" and priced["replayAccess"]["price"] == 33
    status = viewer.call("get", f"/live-stream/{stream_id}/replay-status")
    assert status == {
        "streamId": stream_id,
        "recordingUrl": None,
        "replayAccess": {
            "status": "available",
            "canRent": True,
            "canViewRecording": False,
            "price": 33,
            "rentedAt": None,
            "expiresAt": None,
            "remainingSeconds": None,
        },
    }

    # The viewer rents it: charged once, even when the request is retried or repeated.
    key = {"Idempotency-Key": "story-rent-1"}
    rent_path = f"/live-stream/{stream_id}/replay-rentals"
    rental = viewer.call("post", rent_path, status=201, headers=key)
    assert (rental["streamId"], rental["price"], rental["status"]) == (stream_id, 33, "active")
    assert rental["creditBalance"] == 667
    rented_at = datetime.fromisoformat(rental["rentedAt"])
    assert datetime.fromisoformat(rental["expiresAt"]) == rented_at + timedelta(hours=24)
    assert 24 * 3600 - 60 < rental["remainingSeconds"] <= 24 * 3600
    assert viewer.call("post", rent_path, status=201, headers=key) == rental  # a retry
    again = viewer.call("post", rent_path, status=200)  # a repeat while active
    assert (again["rentalId"], again["creditBalance"]) == (rental["rentalId"], 667)
    status = viewer.call("get", f"/live-stream/{stream_id}/replay-status")
    assert status["recordingUrl"] == ended["recordingUrl"]
    assert status["replayAccess"]["status"] == "rented"
    assert status["replayAccess"]["canViewRecording"] is True
    assert status["replayAccess"]["expiresAt"] == rental["expiresAt"]
    mine = viewer.call("get", "/live-stream/my-replay-rentals")
    assert [(r["rentalId"], r["status"], r["stream"]["id"]) for r in mine["list"]] == [
        (rental["rentalId"], "active", stream_id)
    ]
    assert mine["pagination"]["totalItems"] == 1
    for participant in (creator, guest):  # they watch free: refused, nothing charged
        participant.refused(
            "post", rent_path, 409, "The creator and participants watch the replay free"
        )
    # Nothing is paid out while the window is open.
    assert command("settle_replay_revenue") == "Settled 0 replay rental(s).\n"

    # A day passes (the server's clock moves); everyone signs in again the next day.
    with time_machine.travel(rented_at + timedelta(hours=24, seconds=1), tick=False):
        for person in (creator, guest, viewer):
            person.sign_in()
        status = viewer.call("get", f"/live-stream/{stream_id}/replay-status")
        assert status["recordingUrl"] is None
        assert status["replayAccess"]["status"] == "expired"
        assert status["replayAccess"]["canRent"] is True
        assert status["replayAccess"]["remainingSeconds"] is None
        mine = viewer.call("get", "/live-stream/my-replay-rentals")
        assert [(r["status"], r["remainingSeconds"]) for r in mine["list"]] == [("expired", None)]

        # The cron job pays the window out, once: duo, 40 % of 33 each, floored.
        assert command("settle_replay_revenue") == "Settled 1 replay rental(s).\n"
        assert command("settle_replay_revenue") == "Settled 0 replay rental(s).\n"

        assert creator.transactions() == [
            ("stream_revenue", "credit", 13, "completed", 13, stream_id)
        ]
        assert guest.transactions() == [
            ("stream_revenue", "credit", 13, "completed", 13, stream_id)
        ]
        assert (creator.balance(), guest.balance()) == (13, 13)
        assert viewer.transactions() == [
            ("stream_charge", "debit", 33, "completed", 667, stream_id),
            ("mini_crowd_funding_support", "debit", 100, "completed", 700, stream_id),
            ("stream_funding_contribution", "debit", 200, "completed", 800, stream_id),
            ("admin_adjustment", "credit", 1000, "completed", 1000, None),
        ]
        assert viewer.transactions("?types=stream_charge&direction=debit") == [
            ("stream_charge", "debit", 33, "completed", 667, stream_id)
        ]
        assert viewer.transactions("?statuses=refunded") == []
        assert viewer.balance() == 667

    assert "Ledger audit clean" in command("audit_ledger")


def test_a_deleted_stream_refunds_funder_supporter_and_renter_and_leaves_every_list():
    creator, funder, supporter, renter = (
        Person(name) for name in ("ayla", "kerem", "zeynep", "emre")
    )
    for person in (funder, supporter, renter):
        call_command("grant_credits", person.username, "500", stdout=StringIO())
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    schedule = {
        "liveStreamType": "solo",
        "interest": "education",
        "durationGoal": 45,
        "motivation": "",
        "plannedStartDate": iso(start),
        "fundingGoal": 300,
        "recording": True,
        "isActiveReplayOnCreatorProfile": True,
        "replayCreditPrice": 25,
    }
    stream_id = creator.call(
        "post", "/live-stream", {**schedule, "title": "Python ile Veri Analizi"}, status=201
    )["id"]
    later_id = creator.call(
        "post", "/live-stream", {**schedule, "title": "Pandas: İkinci Ders"}, status=201
    )["id"]
    mini = creator.call(
        "post",
        f"/live-stream/{stream_id}/mini-crowd-fundings",
        {"title": "Yeni kamera", "goal": 500},
        status=201,
    )

    # Funded and supported while scheduled; ended with a recording; rented.
    funder.call("post", f"/live-stream/{stream_id}/fund", {"amount": 120}, status=201)
    funder.call("post", f"/live-stream/{later_id}/fund", {"amount": 30}, status=201)
    supporter.call(
        "post",
        f"/live-stream/{stream_id}/mini-crowd-fundings/{mini['_id']}/support",
        {"amount": 45},
        status=201,
    )
    creator.call("post", f"/live-stream/{stream_id}/start")
    creator.call("post", f"/live-stream/{stream_id}/end")
    rental = renter.call("post", f"/live-stream/{stream_id}/replay-rentals", status=201)
    assert rental["creditBalance"] == 475
    assert [s["id"] for s in funder.call("get", "/live-stream/funded")] == [later_id]
    rented = renter.call("get", "/live-stream/my-replay-rentals")["list"]
    assert [r["stream"]["id"] for r in rented] == [stream_id]

    # A live stream cannot be deleted; only its creator deletes it.
    other = creator.call(
        "post", "/live-stream", {**schedule, "title": "Canlı Soru Cevap"}, status=201
    )["id"]
    creator.call("post", f"/live-stream/{other}/start")
    creator.refused(
        "delete", f"/live-stream/{other}", 409, "Live stream is active, it cannot be deleted"
    )
    funder.refused(
        "delete", f"/live-stream/{stream_id}", 403, "Only the stream's creator can delete it"
    )

    # The creator deletes both: every contribution, support and open rental is refunded.
    receipt = creator.call("delete", f"/live-stream/{stream_id}")
    assert receipt["id"] == stream_id and receipt["deletedAt"] is not None
    assert (
        receipt["refundedContributions"],
        receipt["refundedSupports"],
        receipt["refundedRentals"],
        receipt["refundedCredits"],
    ) == (1, 1, 1, 120 + 45 + 25)
    assert creator.call("delete", f"/live-stream/{later_id}")["refundedCredits"] == 30

    # Each party has every credit back, as a `refunded` row at the refund's time.
    assert funder.transactions("?statuses=refunded") == [
        ("stream_funding_refund", "credit", 30, "refunded", 500, later_id),
        ("stream_funding_refund", "credit", 120, "refunded", 470, stream_id),
    ]
    assert funder.transactions("?direction=debit&sort=asc") == [
        ("stream_funding_contribution", "debit", 120, "completed", 380, stream_id),
        ("stream_funding_contribution", "debit", 30, "completed", 350, later_id),
    ]
    assert supporter.transactions() == [
        ("stream_funding_refund", "credit", 45, "refunded", 500, stream_id),
        ("mini_crowd_funding_support", "debit", 45, "completed", 455, stream_id),
        ("admin_adjustment", "credit", 500, "completed", 500, None),
    ]
    assert renter.transactions("?types=stream_charge") == [
        ("stream_charge", "credit", 25, "refunded", 500, stream_id),
        ("stream_charge", "debit", 25, "completed", 475, stream_id),
    ]
    assert [p.balance() for p in (funder, supporter, renter)] == [500, 500, 500]

    # The streams are gone from every list and every endpoint.
    assert funder.call("get", "/live-stream/funded") == []
    assert renter.call("get", "/live-stream/my-replay-rentals")["list"] == []
    for person, path in (
        (renter, f"/live-stream/{stream_id}"),
        (renter, f"/live-stream/{stream_id}/replay-status"),
        (creator, f"/live-stream/{later_id}"),
    ):
        person.refused("get", path, 404, "Live stream not found")
    renter.refused("post", f"/live-stream/{stream_id}/replay-rentals", 404, "Live stream not found")
    assert renter.balance() == 500

    # A day later the revenue job finds nothing to pay: the rental was given back.
    with time_machine.travel(datetime.now(UTC) + timedelta(hours=25), tick=False):
        assert command("settle_replay_revenue") == "Settled 0 replay rental(s).\n"
    assert "Ledger audit clean" in command("audit_ledger")


# --- the clock: nobody runs a command -------------------------------------------------------

CLOCK_SECONDS = {"STREAM_START_GRACE": 2, "FUNDING_PAYOUT_DELAY": 2, "REPLAY_RENTAL_DURATION": 3}


def eventually(check, *, timeout: float = 45):
    """Poll `check` (HTTP calls) until it returns something truthy; the worker is doing it."""
    from tests.support import wait_for

    return wait_for(check, timeout=timeout, every=0.25)


@pytest.mark.django_db(transaction=True)
def test_the_clock_refunds_pays_and_settles_with_a_worker_running(job_workers, settings):
    """Durations of seconds, a real `run_worker` process, and HTTP only: an unstarted stream
    expires and its funders get their credits back; a duo stream that happened pays its
    funding to its creator and guest; a rental's revenue settles when its window closes."""
    for name, seconds in CLOCK_SECONDS.items():  # this process serves the API with them too
        setattr(settings, name, timedelta(seconds=seconds))
    job_workers.start(1, **CLOCK_SECONDS, CLOCK_TICK_SECONDS="0.5")
    creator, guest, funder, renter = (Person(n) for n in ("cem", "ece", "ilker", "oya"))
    for name in ("ilker", "oya"):
        call_command("grant_credits", name, "1000", stdout=StringIO())
    soon = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=4)

    def schedule(title: str, **extra) -> dict:
        body = {
            "title": title, "liveStreamType": "solo", "interest": "music", "durationGoal": 30,
            "motivation": "Saat işliyor.", "plannedStartDate": iso(soon), "fundingGoal": 300,
            **extra,
        }  # fmt: skip
        return creator.call("post", "/live-stream", body, status=201)

    # 1. Funded, never started: it expires and every funder gets their credits back.
    unstarted = schedule("Hiç başlamayan yayın")["id"]
    mini = creator.call(
        "post", f"/live-stream/{unstarted}/mini-crowd-fundings", {"title": "Işık", "goal": 50},
        status=201,
    )  # fmt: skip
    funder.call("post", f"/live-stream/{unstarted}/fund", {"amount": 120}, status=201)
    funder.call(
        "post", f"/live-stream/{unstarted}/mini-crowd-fundings/{mini['_id']}/support",
        {"amount": 30}, status=201,
    )  # fmt: skip
    assert funder.balance() == 850
    assert [s["id"] for s in funder.call("get", "/live-stream/funded")] == [unstarted]

    # 2. Funded, started, ended: its funding is paid out to the creator and the guest.
    duo = schedule(
        "Saatli ikili yayın", liveStreamType="duocrowd", guests=[guest.id], recording=True,
        isActiveReplayOnCreatorProfile=True, replayCreditPrice=50,
    )["id"]  # fmt: skip
    funder.call("post", f"/live-stream/{duo}/fund", {"amount": 101}, status=201)
    assert creator.call("post", f"/live-stream/{duo}/start")["status"] == "active"
    guest.call("post", f"/live-stream/{duo}/join")
    assert creator.call("post", f"/live-stream/{duo}/end")["status"] == "ended"

    # 3. The replay is rented for REPLAY_RENTAL_DURATION (3 s).
    rental = renter.call("post", f"/live-stream/{duo}/replay-rentals", status=201)
    assert rental["remainingSeconds"] == 3

    # Funding closes at the planned start, while the stream is still scheduled.
    eventually(lambda: datetime.now(UTC) >= soon)
    response = funder.client.post(
        f"{API}/live-stream/{unstarted}/fund", {"amount": 5}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["errors"][1:] == ["Funding has closed for this stream"]

    # The worker expires it after the grace: everything given back, once.
    eventually(lambda: funder.call("get", f"/live-stream/{unstarted}")["status"] == "expired")
    assert funder.call("get", "/live-stream/funded") == []
    creator.refused("post", f"/live-stream/{unstarted}/start", 409,
                    "Live stream is expired, it cannot be started")  # fmt: skip
    refunds = funder.transactions("?types=stream_funding_refund")
    assert sorted(row[2] for row in refunds) == [30, 120]
    assert {(row[1], row[3], row[5]) for row in refunds} == {("credit", "refunded", unstarted)}

    # The creator and the guest are paid: 40 % of the funding each, floored; 40 % of the rent.
    eventually(lambda: len(guest.transactions()) == 2, timeout=60)
    eventually(lambda: len(creator.transactions()) == 2)
    for person in (creator, guest):
        rows = person.transactions()
        assert sorted(row[2] for row in rows) == [20, 40]
        assert {(row[0], row[1], row[3], row[5]) for row in rows} == {
            ("stream_revenue", "credit", "completed", duo)
        }
        assert person.balance() == 60
    descriptions = {
        item["amount"]: item["description"]
        for item in guest.call("get", "/users/me/transactions")["list"]
    }
    assert descriptions[40].startswith("Funding payout of live stream")
    assert "Replay revenue" in descriptions[20]
    assert funder.balance() == 1000 - 101
    assert renter.balance() == 1000 - 50
    assert "Ledger audit clean" in command("audit_ledger")


@pytest.mark.django_db(transaction=True)
def test_a_funder_is_reminded_once_and_watches_the_funding_bar_move_live(job_workers):
    """Over a real ASGI server (uvicorn) and a real job worker, fanned out through Redis: a
    funder arms a reminder and watches the stream's live events while funding; the worker's
    sweep fires the reminder once, the creator starts the stream, and the inbox shows both, as
    the funder's own event stream did."""
    from django.conf import global_settings
    from django.test import override_settings

    from loadtest.redis_server import RedisServer
    from tests.notifications.live import EventStream, asgi_server
    from tests.notifications.live import call as http

    # The server checks passwords with the real hashers, not the suite's fast one.
    with override_settings(PASSWORD_HASHERS=global_settings.PASSWORD_HASHERS):
        for name in ("ayla", "kerem"):
            call_command("create_user", name, "--password", PASSWORD, stdout=StringIO())
    call_command("grant_credits", "kerem", "500", stdout=StringIO())
    with (
        RedisServer(ports=range(6420, 6440)) as redis,
        asgi_server(LIVE_EVENTS_REDIS_URL=redis.url) as (port, _),
    ):

        def sign_in(name: str) -> str:
            status, login = http(
                port, "POST", f"{API}/auth/login", body={"username": name, "password": PASSWORD}
            )
            assert status == 200
            return login["data"]["accessToken"]

        def ok(method: str, path: str, token: str, body=None, status: int = 200):
            answered, envelope = http(port, method, f"{API}{path}", token=token, body=body)
            assert answered == status, envelope
            return envelope["data"]

        creator, funder = sign_in("ayla"), sign_in("kerem")
        start = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=10)
        stream = ok("post", "/live-stream", creator, status=201, body={
            "title": "Gece Caz", "liveStreamType": "solo", "interest": "music",
            "durationGoal": 60, "motivation": "Canlı caz", "plannedStartDate": iso(start),
            "fundingGoal": 400, "recording": False,
        })["id"]  # fmt: skip
        reminder = ok("post", f"/live-stream/{stream}/reminder", funder, body={"minute": 15})
        assert reminder == {
            "streamId": stream, "minute": 15, "mode": "BEFORE_START",
            "scheduledFor": iso(start - timedelta(minutes=15)), "status": "ARMED",
        }  # fmt: skip
        [armed] = ok("get", "/live-stream/my-reminders", funder)["list"]
        assert armed["stream"]["id"] == stream

        bar = EventStream(port, f"{API}/live-stream/{stream}/events", timeout=20)
        mine = EventStream(port, f"{API}/notifications/stream?access_token={funder}", timeout=20)
        ok("post", f"/live-stream/{stream}/fund", funder, body={"amount": 100}, status=201)
        ok("post", f"/live-stream/{stream}/fund", funder, body={"amount": 150}, status=201)
        moves = [bar.next().data for _ in range(2)]
        assert [(m["collectedFunding"], m["fundingPercentage"]) for m in moves] == [
            (100, 25), (250, 62),
        ]  # fmt: skip
        assert [mine.next().data for _ in range(2)] == [
            {"creditBalance": 400}, {"creditBalance": 250},
        ]  # fmt: skip

        # The reminder is due (15 minutes before a start 10 minutes away): a worker fires it.
        sweep = {"reminders_sweep": {"task": "livestreams.tasks.reminders_sweep", "every": 0.2}}
        job_workers.start(1, clock_jobs=sweep, LIVE_EVENTS_REDIS_URL=redis.url)
        reminded = mine.next()
        assert (reminded.event, reminded.data["type"]) == ("notification", "reminder")
        assert reminded.data["title"] == "“Gece Caz” starts in 15 minutes"
        assert ok("get", "/live-stream/my-reminders", funder)["list"] == []

        ok("post", f"/live-stream/{stream}/start", creator)
        assert bar.next().data["status"] == "active"
        assert mine.next().data["type"] == "stream_started"  # and no second reminder

        inbox = ok("get", "/notifications?category=live_stream&unread=true", funder)["list"]
        assert [(item["type"], item["streamId"]) for item in inbox] == [
            ("stream_started", stream), ("reminder", stream),
        ]  # fmt: skip
        assert ok("post", "/notifications/read-all", funder) == {"updatedCount": 2}
        bar.close()
        mine.close()
