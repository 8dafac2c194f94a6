from datetime import timedelta

import factory
from django.utils import timezone

from livestreams.models import Broadcaster, LiveStream, ReplayRental, StreamGuest
from livestreams.services import channel_name_for
from tests.users.factories import UserFactory


class LiveStreamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LiveStream

    creator = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"Yeni ürün tanıtımı {n}")
    channel_name = factory.LazyAttribute(lambda stream: channel_name_for(stream.title))
    live_stream_type = LiveStream.Type.SOLO
    status = LiveStream.Status.SCHEDULED
    interest = "music"
    duration_goal = 60
    motivation = "Bu yayında müzik hakkında konuşacağım."
    planned_start_date = factory.Sequence(
        lambda n: timezone.now().replace(microsecond=0) + timedelta(days=1, minutes=n)
    )
    planned_end_date = factory.LazyAttribute(
        lambda stream: stream.planned_start_date + timedelta(minutes=stream.duration_goal)
    )
    funding_goal = 1000


class EndedStreamFactory(LiveStreamFactory):
    """A solo stream that ended with a recording offered for rent (its replay is rentable)."""

    status = LiveStream.Status.ENDED
    planned_start_date = factory.LazyFunction(
        lambda: timezone.now().replace(microsecond=0) - timedelta(days=2)
    )
    started_at = factory.LazyAttribute(lambda stream: stream.planned_start_date)
    ended_at = factory.LazyAttribute(lambda stream: stream.planned_start_date + timedelta(hours=1))
    recording = True
    recording_url = factory.Sequence(lambda n: f"https://cdn.allmine.test/recordings/{n}.mp4")
    is_active_replay_on_creator_profile = True
    replay_credit_price = 50


class StreamGuestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StreamGuest

    stream = factory.SubFactory(LiveStreamFactory)
    user = factory.SubFactory(UserFactory)


class BroadcasterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Broadcaster

    stream = factory.SubFactory(LiveStreamFactory)
    user = factory.SubFactory(UserFactory)
    role = Broadcaster.Role.GUEST
    uid = factory.Sequence(lambda n: 1000 + n)
    has_joined = False


class ReplayRentalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReplayRental

    user = factory.SubFactory(UserFactory)
    stream = factory.SubFactory(LiveStreamFactory)
    price = 50
    rented_at = factory.LazyFunction(timezone.now)
    expires_at = factory.LazyAttribute(lambda rental: rental.rented_at + timedelta(hours=24))
