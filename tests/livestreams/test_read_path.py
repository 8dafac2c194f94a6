"""The stream object's read path: rows in, the declared shapes out, the same rules as the
instance checks services make."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework import serializers

from allmine.api.errors import NotFound
from crowdfunding.selectors import stream_object_for, stream_objects_for
from crowdfunding.serializers import CrowdfundedLiveStreamSerializer, MiniCrowdFundingSerializer
from livestreams.models import Broadcaster, LiveStream, ReplayRental
from livestreams.selectors import (
    ReplayAccess,
    live_stream_rows,
    replay_access_for,
    stream_is_rentable,
    stream_role_for,
    stream_values,
)
from livestreams.serializers import BroadcasterSerializer, ReplayAccessSerializer
from tests.crowdfunding.factories import MiniCrowdFundingFactory
from tests.livestreams.factories import (
    BroadcasterFactory,
    LiveStreamFactory,
    ReplayRentalFactory,
    StreamGuestFactory,
)
from tests.users.factories import UserFactory
from users.serializers import MediaSerializer, UserSummarySerializer

NOW = timezone.now().replace(microsecond=123456)


@pytest.mark.parametrize(
    "access",
    [
        ReplayAccess("unavailable", False, False, None, None, None, None),
        ReplayAccess("rented", False, True, 40, NOW, NOW + timedelta(hours=24), 3599),
        ReplayAccess("expired", True, False, 25, NOW - timedelta(days=2), NOW, None),
    ],
)
def test_replay_access_is_what_the_declared_fields_would_give(access):
    built = ReplayAccessSerializer().to_representation(access)

    # DRF's generic walk over the declared fields: the schema's own description.
    walked = serializers.Serializer.to_representation(ReplayAccessSerializer(), access)
    assert built == walked
    assert list(built) == list(walked)


def _ended_stream(**kwargs):
    options = {
        "status": LiveStream.Status.ENDED,
        "recording": True,
        "recording_url": "https://cdn.allmine.test/r.mp4",
        "is_active_replay_on_creator_profile": True,
        "replay_credit_price": 30,
        **kwargs,
    }
    return LiveStreamFactory(**options)


@pytest.fixture
def streams_and_callers(db):
    """Streams and callers in every role and replay state."""
    caller = UserFactory()
    solo = _ended_stream()
    duo_alone = _ended_stream(live_stream_type=LiveStream.Type.DUO_CROWD)
    duo = _ended_stream(live_stream_type=LiveStream.Type.DUO_CROWD)
    StreamGuestFactory(stream=duo)
    hosted = _ended_stream(creator=caller)
    guested = _ended_stream()
    StreamGuestFactory(stream=guested, user=caller)
    broadcast = _ended_stream(live_stream_type=LiveStream.Type.DUO_SELF)
    BroadcasterFactory(stream=broadcast, user=caller, role=Broadcaster.Role.HOST)
    guest_broadcast = _ended_stream()
    BroadcasterFactory(stream=guest_broadcast, user=caller, role=Broadcaster.Role.GUEST)
    rented = _ended_stream()
    ReplayRentalFactory(stream=rented, user=caller)
    expired = _ended_stream()
    ReplayRentalFactory(stream=expired, user=caller, rented_at=timezone.now() - timedelta(days=2),
                        expires_at=timezone.now() - timedelta(days=1))  # fmt: skip
    refunded = _ended_stream()  # a refunded rental grants nothing: the replay is available
    ReplayRentalFactory(stream=refunded, user=caller, status=ReplayRental.Status.REFUNDED)
    switched_off = _ended_stream(is_active_replay_on_creator_profile=False)
    scheduled = LiveStreamFactory(replay_credit_price=30)
    deleted = _ended_stream(deleted_at=timezone.now())
    streams = [solo, duo_alone, duo, hosted, guested, broadcast, guest_broadcast, rented, expired,
               refunded, switched_off, scheduled, deleted]  # fmt: skip
    # Rentable: ended, recording offered for credits, and a duo stream has its guest.
    rentable = [solo, duo, hosted, guested, guest_broadcast, rented, expired, refunded]
    return streams, [caller, None, solo.creator], rentable


def test_rows_and_instances_apply_the_same_rules(streams_and_callers):
    streams, callers, rentable = streams_and_callers
    now = timezone.now()
    seen = set()
    for caller in callers:
        rows = live_stream_rows(
            user=caller,
            stream_values=list(
                stream_values(LiveStream.objects.filter(pk__in=[s.pk for s in streams]))
            ),
        )
        by_id = {row["id"]: row for row in rows}
        for stream in streams:
            row = by_id[stream.pk]
            role = stream_role_for(stream=stream, user=caller)
            access = replay_access_for(stream=stream, user=caller, now=now)
            assert row["role"] == role, stream
            assert row["replay_access"].status == access.status, stream
            assert row["replay_access"].can_rent == access.can_rent, stream
            assert row["replay_access"].can_view_recording == access.can_view_recording
            assert row["replay_access"].expires_at == access.expires_at
            seen.add((role, access.status, access.can_rent))
    # The fixture really covers the cases the rules tell apart.
    assert {status for _, status, _ in seen} == {
        "owner", "participant", "rented", "expired", "available", "unavailable"
    }  # fmt: skip
    assert {role for role, _, _ in seen} == {"host", "guest", "audience", None}
    assert [s for s in streams if stream_is_rentable(s)] == rentable
    # The caller's refunded rental (the stream was deleted, then restored here) is no rental.
    refunded, renter = streams[9], callers[0]
    [row] = live_stream_rows(
        user=renter, stream_values=list(stream_values(LiveStream.objects.filter(pk=refunded.pk)))
    )
    assert row["replay_access"].status == "available"
    assert replay_access_for(stream=refunded, user=renter, now=now).status == "available"


@pytest.mark.django_db
def test_each_shape_has_exactly_its_declared_fields(user):
    stream = LiveStreamFactory()
    StreamGuestFactory(stream=stream)
    BroadcasterFactory(stream=stream)
    MiniCrowdFundingFactory(stream=stream)

    [item] = stream_objects_for(user=user, stream_ids=[stream.pk])

    shapes = [
        (CrowdfundedLiveStreamSerializer(), item),
        (UserSummarySerializer(), item["creator"]),
        (UserSummarySerializer(), item["guests"][0]),
        (MediaSerializer(), item["creator"]["profilePhoto"]),
        (BroadcasterSerializer(), item["broadcasters"][0]),
        (ReplayAccessSerializer(), item["replayAccess"]),
        (MiniCrowdFundingSerializer(), item["miniCrowdFundings"][0]),
    ]
    for serializer, output in shapes:
        assert list(output) == list(serializer.fields), type(serializer).__name__


@pytest.mark.django_db
def test_stream_objects_keep_the_given_order_and_leave_out_deleted_and_unknown(
    user, django_assert_num_queries
):
    first, second, third = (LiveStreamFactory() for _ in range(3))
    gone = LiveStreamFactory(deleted_at=timezone.now())

    # streams, guests, broadcasters, the caller's rentals, minis
    with django_assert_num_queries(5):
        objects = stream_objects_for(
            user=user, stream_ids=[third.pk, gone.pk, "0" * 24, first.pk, second.pk]
        )

    assert [o["id"] for o in objects] == [third.pk, first.pk, second.pk]
    assert stream_object_for(user=None, stream_id=first.pk)["role"] is None
    with pytest.raises(NotFound):
        stream_object_for(user=user, stream_id=gone.pk)
    with pytest.raises(NotFound):
        stream_object_for(user=user, stream_id="nope")


@pytest.mark.django_db
def test_sign_in_summary_from_a_user_instance_matches_the_row(user):
    stream = LiveStreamFactory(creator=user)

    [item] = stream_objects_for(user=None, stream_ids=[stream.pk])

    assert UserSummarySerializer(user).data == item["creator"]
