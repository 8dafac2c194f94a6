"""`replayAccess` is built as a plain dict for speed; it keeps ReplayAccessSerializer's shape."""

from datetime import timedelta

import pytest
from django.utils import timezone

from livestreams.models import LiveStream
from livestreams.selectors import ReplayAccess
from livestreams.serializers import LiveStreamSerializer, ReplayAccessSerializer

NOW = timezone.now().replace(microsecond=123456)


@pytest.mark.parametrize(
    "access",
    [
        ReplayAccess("unavailable", False, False, None, None, None, None),
        ReplayAccess("rented", False, True, 40, NOW, NOW + timedelta(hours=24), 3599),
        ReplayAccess("expired", True, False, 25, NOW - timedelta(days=2), NOW, None),
    ],
)
def test_replay_access_dict_matches_the_serializer(access):
    stream = LiveStream()
    stream._caller_replay_access = access

    built = LiveStreamSerializer().get_replayAccess(stream)

    assert built == ReplayAccessSerializer(access).data
    assert list(built) == list(ReplayAccessSerializer(access).data)
