"""The client-only story: a stream's whole life through HTTP calls alone.

Accounts and credits are made the way an operator makes them (`manage.py create_user`,
`manage.py grant_credits`: the API has no sign-up and no credit purchase); from then on every
step is an HTTP request, and every fact is checked in a response. No ORM, no factories.
"""

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

PASSWORD = "story-password-2026"
API = "/api/v1"


class Person:
    """One signed-in client, talking HTTP only."""

    def __init__(self, username: str):
        call_command("create_user", username, "--password", PASSWORD, stdout=StringIO())
        self.client = APIClient()
        login = self.client.post(
            f"{API}/auth/login", {"username": username, "password": PASSWORD}, format="json"
        )
        assert login.status_code == 200, login.content
        self.id = login.json()["data"]["user"]["_id"]
        self.client.credentials(HTTP_AUTHORIZATION=f"Bearer {login.json()['data']['accessToken']}")

    def call(self, method: str, path: str, body=None, status: int = 200):
        response = getattr(self.client, method)(f"{API}{path}", body, format="json")
        assert response.status_code == status, response.content
        envelope = response.json()
        assert envelope["isSuccess"] is True and envelope["errors"] == []
        return envelope["data"]


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def test_a_duo_stream_from_schedule_to_end():
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
