"""The funded list compared key by key and type by type with the seed page's own examples.

`seed_funded_200.json` and `seed_funded_errors.json` are the JSON examples copied verbatim from
`shared/spec/seed-live-stream-funded.txt`.
"""

import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from livestreams.models import LiveStream
from tests.crowdfunding.factories import ContributionFactory, MiniCrowdFundingFactory
from tests.livestreams.factories import BroadcasterFactory, LiveStreamFactory, StreamGuestFactory
from tests.users.factories import UserFactory
from users.models import User

HERE = Path(__file__).parent
SEED_200 = json.loads((HERE / "seed_funded_200.json").read_text())
SEED_ERRORS = json.loads((HERE / "seed_funded_errors.json").read_text())

# Where API.md allows null and the seed example happens to show a value (or the reverse).
NULLABLE = {
    "data[].recordingUrl", "data[].price", "data[].startedAt", "data[].endedAt", "data[].role",
    "data[].isActiveReplayOnCreatorProfile", "data[].replayCreditPrice",
    "data[].replayAccess.price", "data[].replayAccess.rentedAt",
    "data[].replayAccess.expiresAt", "data[].replayAccess.remainingSeconds",
    "data[].creator.profilePhoto",
}  # fmt: skip
NUMBER = (int, float)


def json_type(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, NUMBER):
        return "number"
    return {str: "string", list: "array", dict: "object"}[type(value)]


def compare(expected, actual, path: str = "") -> list[str]:
    """Differences in keys, key order and JSON types; arrays compare their first items."""
    problems = []
    expected_type, actual_type = json_type(expected), json_type(actual)
    if expected_type != actual_type:
        if path in NULLABLE and "null" in (expected_type, actual_type):
            return []
        return [f"{path}: {expected_type} in the seed, {actual_type} here"]
    if isinstance(expected, dict):
        if list(expected) != list(actual):
            problems.append(f"{path}: keys {list(actual)} != seed {list(expected)}")
        for key in expected:
            if key in actual:
                problems += compare(expected[key], actual[key], f"{path}.{key}".lstrip("."))
    elif isinstance(expected, list) and expected and actual:
        problems += compare(expected[0], actual[0], f"{path}[]")
    return problems


@pytest.mark.django_db
def test_funded_response_matches_the_seed_key_by_key_and_type_by_type(auth_client, user):
    start = timezone.now() + timedelta(days=2)
    stream = LiveStreamFactory(
        price=Decimal("9.99"),
        recording=True,
        recording_url="https://cdn.allmine.test/archive.mp4",
        is_active_replay_on_creator_profile=True,
        replay_credit_price=50,
        planned_start_date=start,
        planned_end_date=start + timedelta(minutes=60),
        live_stream_type=LiveStream.Type.DUO_CROWD,
        creator=UserFactory(availability_status=User.AvailabilityStatus.AVAILABLE),
    )
    StreamGuestFactory(stream=stream)
    BroadcasterFactory(stream=stream)
    MiniCrowdFundingFactory(stream=stream)
    ContributionFactory(user=user, stream=stream, amount=500)

    actual = auth_client.get("/api/v1/live-stream/funded").json()

    assert len(actual["data"]) == 1  # compare() looks into the first item of every array
    for key in ("broadcasters", "guests", "miniCrowdFundings"):
        assert actual["data"][0][key], f"{key} must not be empty for the shape check to bite"
    assert compare(SEED_200, actual) == []
    assert json_type(actual["data"][0]["price"]) == "number"


@pytest.mark.django_db
@pytest.mark.parametrize("seed", SEED_ERRORS, ids=lambda seed: str(seed["statusCode"]))
def test_error_bodies_match_the_seed(api_client, client_for, monkeypatch, seed):
    status = seed["statusCode"]
    url = "/api/v1/live-stream/funded"
    if status == 400:
        response = client_for(UserFactory()).get(url, {"page": "zero"})
    elif status == 401:
        response = api_client.get(url)
    elif status == 403:
        suspended = UserFactory(account_status=User.AccountStatus.SUSPENDED)
        response = client_for(suspended).get(url)
    else:
        monkeypatch.setattr(
            "crowdfunding.views.funded_streams_for_user",
            lambda **kwargs: 1 / 0,
        )
        client = client_for(UserFactory())
        client.raise_request_exception = False
        response = client.get(url)

    actual = response.json()
    assert response.status_code == status
    assert compare(seed, actual) == []
    assert actual["errors"][0] == seed["errors"][0]
