"""The stream lists' and the detail's `ETag` comes from the rows the queries return, before the
body is built (crowdfunding.selectors.StreamReads.tag_source). Whatever the caller would see
must be in it: one test per family of visible fields (the stream's own, its creator and their
photo, its guests and broadcasters, its mini crowd fundings, the caller's rental and reminder,
the clock, the paging and sorting parameters, the totals, the build's settings). Each change
must move the tags of exactly the lists whose body it changes; a held tag never gets a 304
once the body differs, and keeps getting one while it does not."""

from datetime import timedelta

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone

from crowdfunding.models import MiniCrowdFunding
from livestreams.models import Broadcaster, LiveStream, Reminder, ReplayRental, StreamGuest
from tests.crowdfunding.factories import MiniCrowdFundingFactory
from tests.livestreams.factories import (
    BroadcasterFactory,
    EndedStreamFactory,
    LiveStreamFactory,
    ReplayRentalFactory,
    StreamGuestFactory,
)
from tests.users.factories import MediaFactory, UserFactory
from users.models import Media, User
from users.services import credits_grant

pytestmark = pytest.mark.django_db

ALL = {"funded", "detail", "upcoming", "past", "my-past", "guest", "rented"}
UPCOMING = {"funded", "detail", "upcoming"}  # the lists that show the upcoming stream
RENTED = {"past", "rented"}  # the lists that show the stream the viewer rented


@pytest.fixture
def clock():
    """The clock stands still unless a test moves it: only what a test does changes a tag."""
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


@pytest.fixture
def scene(clock, client_for):
    """A creator's upcoming stream (a guest who also broadcasts, a mini crowd funding; the
    viewer funded it and holds a reminder), an ended one the viewer rented, an ended one the
    viewer was a guest of, and another creator's stream the viewer is invited to."""
    creator, viewer, guest = UserFactory(), UserFactory(), UserFactory()
    credits_grant(user=viewer, amount=1000)  # credits come with ledger rows
    start = timezone.now().replace(microsecond=0) + timedelta(hours=2)
    upcoming = LiveStreamFactory(creator=creator, planned_start_date=start,
                                 planned_end_date=start + timedelta(hours=1))  # fmt: skip
    StreamGuestFactory(stream=upcoming, user=guest)
    BroadcasterFactory(stream=upcoming, user=guest)
    mini = MiniCrowdFundingFactory(stream=upcoming)
    rented = EndedStreamFactory(creator=creator)
    # Half a second into a whole second left: a shift of a few milliseconds keeps it.
    rented_at = timezone.now() - timedelta(milliseconds=500)
    rental = ReplayRentalFactory(user=viewer, stream=rented, rented_at=rented_at)
    together = EndedStreamFactory(creator=creator)
    StreamGuestFactory(stream=together, user=viewer)
    invited = LiveStreamFactory(creator=UserFactory())
    invitation = StreamGuestFactory(stream=invited, user=viewer)
    client = client_for(viewer)
    assert client.post(f"/api/v1/live-stream/{upcoming.pk}/fund", {"amount": 10},
                       format="json").status_code == 201  # fmt: skip
    assert client.post(f"/api/v1/live-stream/{upcoming.pk}/reminder", {"minute": 10},
                       format="json").status_code == 200  # fmt: skip
    urls = {
        "funded": "/api/v1/live-stream/funded",
        "detail": f"/api/v1/live-stream/{upcoming.pk}",
        "upcoming": f"/api/v2/live-stream/user/{creator.pk}/upcoming-live-streams",
        "past": f"/api/v1/live-stream/user/{creator.pk}/past-streams",
        "my-past": "/api/v1/live-stream/my-past-streams",
        "guest": "/api/v1/live-stream/guest-streams",
        "rented": f"/api/v1/live-stream/{rented.pk}",
    }
    return {"client": client, "urls": urls, "creator": creator, "viewer": viewer,
            "guest": guest, "upcoming": upcoming, "mini": mini, "rental": rental,
            "invitation": invitation, "clock": clock}  # fmt: skip


def _read(client, url, params=None) -> dict:
    response = client.get(url, params or {})
    assert response.status_code == 200, response.content[:300]
    return {
        "etag": response["ETag"],
        "data": response.json()["data"],
        "total": response.headers.get("X-Total-Count"),
    }


def _moved(scene, change) -> set[str]:
    """Reads every list, makes `change`, and returns the lists whose body changed, checking
    that those (and only those) refuse the held tag, and that a 304 never hides a change."""
    client, urls = scene["client"], scene["urls"]
    before = {name: _read(client, url) for name, url in urls.items()}
    change()
    moved = set()
    for name, url in urls.items():
        held = before[name]
        after = _read(client, url)
        answer = client.get(url, HTTP_IF_NONE_MATCH=held["etag"])
        if (after["data"], after["total"]) != (held["data"], held["total"]):
            moved.add(name)
            assert answer.status_code == 200, f"{name}: a 304 hides a change"
            assert after["etag"] != held["etag"], name
        else:
            assert answer.status_code == 304, f"{name}: the body is unchanged, the tag is not"
            assert after["etag"] == held["etag"], name
    return moved


def _update(model, pk, **fields):
    def change():
        assert model.objects.filter(pk=pk).update(**fields) == 1

    return change


def test_the_streams_own_fields(scene):
    stream = scene["upcoming"].pk
    assert _moved(scene, _update(LiveStream, stream, title="Another title")) == UPCOMING
    assert _moved(scene, _update(LiveStream, stream, collected_funding=999)) == UPCOMING
    assert _moved(scene, _update(LiveStream, stream, thumbnail_url="https://cdn.test/t.jpg")) == (
        UPCOMING
    )
    # Preparing: no longer in the funded list (scheduled only), shown so by the others.
    assert _moved(scene, _update(LiveStream, stream, status="preparing")) == UPCOMING


def test_the_creator_and_their_photo(scene):
    creator = scene["creator"]
    assert _moved(scene, _update(User, creator.pk, first_name="Zeynep")) == ALL
    assert _moved(scene, _update(User, creator.pk, availability_status="busy")) == ALL
    photo = creator.profile_photo_id
    assert _moved(scene, _update(Media, photo, url="https://cdn.test/new.jpg")) == ALL
    assert _moved(scene, _update(Media, photo, variants={"40": "https://cdn.test/40.webp"})) == (
        ALL
    )
    assert _moved(scene, _update(User, creator.pk, profile_photo=MediaFactory())) == ALL
    assert _moved(scene, _update(User, creator.pk, profile_photo=None)) == ALL


def test_the_guests_and_broadcasters(scene):
    guest, stream = scene["guest"], scene["upcoming"]
    assert _moved(scene, _update(User, guest.pk, username="renamed")) == UPCOMING
    photo = _update(Media, guest.profile_photo_id, url="https://cdn.test/g.jpg")
    assert _moved(scene, photo) == UPCOMING
    assert _moved(scene, lambda: StreamGuestFactory(stream=stream)) == UPCOMING
    broadcaster = Broadcaster.objects.get(stream=stream).pk
    assert _moved(scene, _update(Broadcaster, broadcaster, has_joined=True)) == UPCOMING
    assert _moved(scene, _update(Broadcaster, broadcaster, role="host")) == UPCOMING


def test_the_mini_crowd_fundings(scene):
    mini, stream = scene["mini"], scene["upcoming"]
    assert _moved(scene, _update(MiniCrowdFunding, mini.pk, collected=42)) == UPCOMING
    assert _moved(scene, lambda: MiniCrowdFundingFactory(stream=stream)) == UPCOMING


def test_the_callers_rental_and_reminder(scene):
    rental = scene["rental"]
    later = rental.expires_at + timedelta(hours=1)
    assert _moved(scene, _update(ReplayRental, rental.pk, expires_at=later)) == RENTED
    assert _moved(scene, _update(ReplayRental, rental.pk, status="refunded")) == RENTED
    reminder = Reminder.objects.get(user=scene["viewer"]).pk
    assert _moved(scene, _update(Reminder, reminder, status="CANCELLED")) == {"upcoming"}
    assert _moved(scene, lambda: scene["invitation"].delete()) == {"guest"}


def test_the_clock(scene):
    """A rental's remaining seconds count down and its window closes: the clock alone
    changes those bodies (and no other)."""
    clock = scene["clock"]
    assert _moved(scene, lambda: clock.shift(timedelta(seconds=1))) == RENTED
    assert _moved(scene, lambda: clock.shift(timedelta(milliseconds=10))) == set()
    soon = timezone.now() + timedelta(minutes=5, milliseconds=500)
    ReplayRental.objects.filter(pk=scene["rental"].pk).update(expires_at=soon)
    assert _moved(scene, lambda: clock.shift(timedelta(minutes=6))) == RENTED
    access = scene["client"].get(scene["urls"]["rented"]).json()["data"]["replayAccess"]
    assert (access["status"], access["remainingSeconds"]) == ("expired", None)


def test_the_paging_sorting_and_totals(scene):
    client, urls = scene["client"], scene["urls"]
    EndedStreamFactory(creator=scene["creator"])
    tags = {}
    for params in ({}, {"limit": 1}, {"limit": 2}, {"page": 2, "limit": 1}, {"page": 9}):
        tags[str(params)] = _read(client, urls["past"], params)["etag"]
    assert len(set(tags.values())) == len(tags)  # every page a different body, a different tag
    sorts = [{"sortBy": "createdAt", "sortOrder": "asc"}, {"sortBy": "createdAt"},
             {"sortBy": "plannedStartDate"}]  # fmt: skip
    reads = [_read(client, urls["guest"], params) for params in sorts]
    assert reads[0]["data"] != reads[1]["data"] and reads[0]["etag"] != reads[1]["etag"]
    assert [r["etag"] == reads[1]["etag"] for r in reads] == [
        r["data"] == reads[1]["data"] for r in reads
    ]
    # Page 1 of 1 item stays the same while the total grows: the total is in the tag.
    page = _read(client, urls["past"], {"limit": 1})
    EndedStreamFactory(creator=scene["creator"], ended_at=timezone.now() - timedelta(days=9))
    again = client.get(urls["past"], {"limit": 1}, HTTP_IF_NONE_MATCH=page["etag"])
    assert again.status_code == 200
    assert again.json()["data"]["list"] == page["data"]["list"]
    assert again.json()["data"]["pagination"]["totalItems"] == (
        page["data"]["pagination"]["totalItems"] + 1
    )


def test_the_setting_the_body_shows(scene):
    """A stream without a thumbnail shows the configured default: a new default (a deploy)
    changes the tags."""
    with override_settings(DEFAULT_THUMBNAIL_URL="https://cdn.allmine.test/other.png"):
        moved = _moved(scene, lambda: None)
    assert moved == set()  # read and compared under the same setting
    client, url = scene["client"], scene["urls"]["detail"]
    held = _read(client, url)
    with override_settings(DEFAULT_THUMBNAIL_URL="https://cdn.allmine.test/other.png"):
        answer = client.get(url, HTTP_IF_NONE_MATCH=held["etag"])
        assert answer.status_code == 200
        assert answer.json()["data"]["thumbnailUrl"] == "https://cdn.allmine.test/other.png"
    assert StreamGuest.objects.filter(user=scene["viewer"]).count() == 2
