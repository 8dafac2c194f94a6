"""Conditional GET on every stream list and the stream detail (API.md §11): a strong ETag of
the data; If-None-Match naming it → 304 without a body; any change the caller would see changes
the tag, so a 304 never hides one."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from livestreams.models import LiveStream
from tests.livestreams.factories import (
    EndedStreamFactory,
    LiveStreamFactory,
    ReplayRentalFactory,
    StreamGuestFactory,
)
from tests.users.factories import UserFactory
from users.services import credits_grant

pytestmark = pytest.mark.django_db

ETAG_RE = re.compile(r'^"[0-9a-f]{32}"$')


@pytest.fixture
def world(client_for):
    """A creator with a scheduled stream (a viewer funded it and set a reminder), an ended one
    the viewer rented, the viewer invited as a guest to a third."""
    creator = UserFactory()
    viewer = UserFactory()
    credits_grant(user=viewer, amount=1000)  # credits come with ledger rows
    start = timezone.now() + timedelta(hours=2)
    upcoming = LiveStreamFactory(creator=creator, planned_start_date=start,
                                 planned_end_date=start + timedelta(hours=1))  # fmt: skip
    ended = EndedStreamFactory(creator=creator)
    invited = LiveStreamFactory(creator=UserFactory())
    StreamGuestFactory(stream=invited, user=viewer)
    client = client_for(viewer)
    assert client.post(f"/api/v1/live-stream/{upcoming.pk}/fund", {"amount": 10},
                       format="json").status_code == 201  # fmt: skip
    return {"creator": creator, "viewer": viewer, "client": client, "upcoming": upcoming,
            "ended": ended, "invited": invited}  # fmt: skip


def urls(world) -> dict[str, str]:
    creator = world["creator"].pk
    return {
        "funded": "/api/v1/live-stream/funded",
        "detail": f"/api/v1/live-stream/{world['upcoming'].pk}",
        "upcoming": f"/api/v2/live-stream/user/{creator}/upcoming-live-streams",
        "past": f"/api/v1/live-stream/user/{creator}/past-streams",
        "my-past": "/api/v1/live-stream/my-past-streams",
        "guest": "/api/v1/live-stream/guest-streams",
        "rentals": "/api/v1/live-stream/my-replay-rentals",
        "reminders": "/api/v1/live-stream/my-reminders",
    }


LISTS = ["funded", "detail", "upcoming", "past", "my-past", "guest", "rentals", "reminders"]


@pytest.mark.parametrize("name", LISTS)
def test_a_matching_tag_is_a_304_without_a_body(world, name):
    client, url = world["client"], urls(world)[name]
    first = client.get(url)
    assert first.status_code == 200
    etag = first["ETag"]
    assert ETAG_RE.match(etag)

    again = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag
    # a list of tags, a weak form of it, `*`
    for header in (f'"0", {etag}', f"W/{etag}", "*"):
        assert client.get(url, HTTP_IF_NONE_MATCH=header).status_code == 304, header
    # another tag, garbage: the full answer, with the same tag
    for header in ('"00000000000000000000000000000000"', "garbage", ""):
        response = client.get(url, HTTP_IF_NONE_MATCH=header)
        assert response.status_code == 200, header
        assert response["ETag"] == etag
        assert response.json()["data"] == first.json()["data"]


def test_the_tag_covers_the_query_and_the_total(world, client_for):
    client, url = world["client"], urls(world)["funded"]
    other = LiveStreamFactory()
    client.post(f"/api/v1/live-stream/{other.pk}/fund", {"amount": 5}, format="json")
    page = client.get(url, {"limit": 1})
    assert page["X-Total-Count"] == "2"
    assert client.get(url, {"limit": 2})["ETag"] != page["ETag"]
    # Funding a third stream planned later leaves page 1 (limit 1) as it was, but not its total.
    later = LiveStreamFactory(planned_start_date=timezone.now() + timedelta(days=30),
                              planned_end_date=timezone.now() + timedelta(days=31))  # fmt: skip
    client.post(f"/api/v1/live-stream/{later.pk}/fund", {"amount": 5}, format="json")
    fresh = client.get(url, {"limit": 1}, HTTP_IF_NONE_MATCH=page["ETag"])
    assert fresh.status_code == 200
    assert fresh.json()["data"] == page.json()["data"]
    assert fresh["X-Total-Count"] == "3"


def _tags(client, url_by_name) -> dict[str, str]:
    tags = {}
    for name, url in url_by_name.items():
        response = client.get(url)
        assert response.status_code == 200
        tags[name] = response["ETag"]
    return tags


def _changed(client, url_by_name, before: dict[str, str]) -> set[str]:
    """The lists whose held tag no longer gets a 304."""
    changed = set()
    for name, url in url_by_name.items():
        response = client.get(url, HTTP_IF_NONE_MATCH=before[name])
        if response.status_code == 200:
            assert response["ETag"] != before[name]
            changed.add(name)
        else:
            assert response.status_code == 304
    return changed


def test_funding_changes_every_tag_that_shows_the_stream(world, client_for):
    client, by_name = world["client"], urls(world)
    before = _tags(client, by_name)
    someone = UserFactory()
    credits_grant(user=someone, amount=100)
    someone = client_for(someone)
    fund = someone.post(f"/api/v1/live-stream/{world['upcoming'].pk}/fund", {"amount": 7},
                        format="json")  # fmt: skip
    assert fund.status_code == 201
    assert _changed(client, by_name, before) == {"funded", "detail", "upcoming"}


def test_a_status_change_changes_the_tags(world, client_for):
    client, by_name = world["client"], urls(world)
    before = _tags(client, by_name)
    creator = client_for(world["creator"])
    assert creator.post(f"/api/v1/live-stream/{world['upcoming'].pk}/start").status_code == 200
    # It left the funded list (scheduled only); the others show it active.
    assert _changed(client, by_name, before) == {"funded", "detail", "upcoming"}
    assert client.get(by_name["funded"]).json()["data"] == []


def test_the_callers_own_rental_and_reminder_change_their_tags(world):
    # The clock stands still: a rental's remainingSeconds must not move the tags meanwhile.
    with time_machine.travel(timezone.now(), tick=False):
        client, by_name = world["client"], urls(world)
        before = _tags(client, by_name)
        rent = client.post(f"/api/v1/live-stream/{world['ended'].pk}/replay-rentals")
        assert rent.status_code == 201
        assert _changed(client, by_name, before) == {"past", "rentals"}

        before = _tags(client, by_name)
        remind = client.post(f"/api/v1/live-stream/{world['upcoming'].pk}/reminder", {"minute": 10},
                             format="json")  # fmt: skip
        assert remind.status_code == 200
        assert _changed(client, by_name, before) == {"upcoming", "reminders"}
        assert client.get(by_name["upcoming"]).json()["data"][0]["isReminderActive"] is True


def test_a_rentals_remaining_time_is_part_of_the_data(world, client_for):
    """`remainingSeconds` counts down: the tag moves with it, never a stale 304."""
    viewer = UserFactory()
    rental = ReplayRentalFactory(user=viewer, stream=world["ended"])
    client = client_for(viewer)
    url = f"/api/v1/live-stream/{world['ended'].pk}"
    first = client.get(url)
    rental.expires_at -= timedelta(seconds=5)
    rental.save()
    response = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert response.status_code == 200
    assert (
        response.json()["data"]["replayAccess"]["remainingSeconds"]
        < (first.json()["data"]["replayAccess"]["remainingSeconds"])
    )


def test_callers_who_see_different_data_get_different_tags(world, api_client, client_for):
    url = urls(world)["upcoming"]
    anonymous = api_client.get(url)
    viewer = world["client"].get(url)
    creator = client_for(world["creator"]).get(url)
    assert len({anonymous["ETag"], viewer["ETag"], creator["ETag"]}) == 3
    assert api_client.get(url, HTTP_IF_NONE_MATCH=viewer["ETag"]).status_code == 200


def test_errors_carry_no_tag(world, api_client):
    response = api_client.get("/api/v1/live-stream/" + "0" * 24, HTTP_IF_NONE_MATCH="*")
    assert response.status_code == 401
    assert not response.has_header("ETag")
    response = world["client"].get("/api/v1/live-stream/" + "0" * 24, HTTP_IF_NONE_MATCH="*")
    assert response.status_code == 404
    assert not response.has_header("ETag")


def test_a_deleted_stream_is_a_404_not_a_304(world, client_for):
    client, url = world["client"], urls(world)["detail"]
    etag = client.get(url)["ETag"]
    creator = client_for(world["creator"])
    assert creator.delete(url).status_code == 200
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 404
    assert LiveStream.objects.get(pk=world["upcoming"].pk).deleted_at is not None
