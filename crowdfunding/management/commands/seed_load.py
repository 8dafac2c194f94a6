"""`manage.py seed_load`: the data a fuzz, load or abuse run needs, made through the services.

    python manage.py seed_load --callers 64 --streams 20 --credits 1000000 > data.json

Creates (idempotently, by username) a creator with `--streams` scheduled streams, each with one
mini crowd funding, and `--callers` users with `--credits` credits who have each funded
`--prefund` of the streams (so their funded list is not empty). Prints
`{"tokens": [...], "streams": [...], "minis": [[streamId, miniId], ...], "ownStream": id,
"rentableStream": id, "ownRentableStream": id}`: access tokens valid for an hour; `ownStream`
is a scheduled stream created by the first caller (for the cancel endpoint); `rentableStream`
is an ended, recorded stream of the creator whose replay the callers can rent, and
`ownRentableStream` one of the first caller (for replay settings). Uses whatever database the
environment's settings point at.
"""

import json
from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from crowdfunding.models import MiniCrowdFunding
from crowdfunding.services import contribution_create
from livestreams.models import Interest, LiveStream
from livestreams.services import live_stream_create, live_stream_end, live_stream_start
from users.models import User
from users.services import access_token_for, credits_grant


def _account(username: str) -> User:
    user, created = User.objects.get_or_create(
        username=username, defaults={"email": f"{username}@loadtest.invalid"}
    )
    if created:
        user.set_password(f"{username}-Password-1")
        user.save(update_fields=["password"])
    return user


REPLAY_PRICE = 10


def _rentable_stream(creator: User, *, title: str, start) -> LiveStream:
    """An ended, recorded stream of `creator` whose replay is for rent (made through the
    services: scheduled, started, ended); an existing one is reused."""
    stream = (
        LiveStream.objects.alive()
        .filter(creator=creator, title=title, status=LiveStream.Status.ENDED)
        .order_by("id")
        .first()
    )
    if stream is not None:
        return stream
    stream = live_stream_create(
        creator=creator,
        title=title,
        interest=Interest.MUSIC,
        planned_start_date=start,
        duration_goal=30,
        recording=True,
        is_active_replay_on_creator_profile=True,
        replay_credit_price=REPLAY_PRICE,
    )
    live_stream_start(user=creator, stream_id=stream.pk)
    return live_stream_end(user=creator, stream_id=stream.pk)


class Command(BaseCommand):
    help = __doc__.split("\n\n")[0]

    def add_arguments(self, parser):
        parser.add_argument("--callers", type=int, default=64)
        parser.add_argument("--streams", type=int, default=20)
        parser.add_argument("--credits", type=int, default=1_000_000)
        parser.add_argument("--prefund", type=int, default=5)
        parser.add_argument("--prefix", default="load")

    def handle(self, *args, callers, streams, credits, prefund, prefix, **options):
        creator = _account(f"{prefix}-creator")
        scheduled = list(
            LiveStream.objects.filter(creator=creator, status=LiveStream.Status.SCHEDULED).order_by(
                "planned_start_date", "id"
            )[:streams]
        )
        start = timezone.now() + timedelta(days=7)
        for index in range(len(scheduled), streams):
            stream = live_stream_create(
                creator=creator,
                title=f"Load test stream {index}",
                interest=Interest.MUSIC,
                planned_start_date=start + timedelta(hours=index),
                duration_goal=60,
                funding_goal=1_000_000,
            )
            MiniCrowdFunding.objects.create(stream=stream, title=f"Lights {index}", goal=10_000)
            scheduled.append(stream)

        tokens = []
        for index in range(callers):
            user = _account(f"{prefix}-caller-{index}")
            if user.credit_balance < credits // 2:
                credits_grant(user=user, amount=credits, description="Load test credits")
            for stream in scheduled[:prefund]:
                if not stream.contributions.filter(user=user).exists():
                    contribution_create(user=user, stream_id=stream.pk, amount=1)
            tokens.append(access_token_for(user))

        own_stream = live_stream_create(
            creator=_account(f"{prefix}-caller-0"),
            title="Load test own stream",
            interest=Interest.MUSIC,
            planned_start_date=start,
            duration_goal=30,
            funding_goal=100,
        )
        rentable = _rentable_stream(creator, title="Load test replay", start=start)
        own_rentable = _rentable_stream(
            _account(f"{prefix}-caller-0"), title="Load test own replay", start=start
        )
        minis = MiniCrowdFunding.objects.filter(stream__in=scheduled).order_by("created_at", "id")
        self.stdout.write(
            json.dumps(
                {
                    "tokens": tokens,
                    "streams": [stream.pk for stream in scheduled],
                    "minis": [[mini.stream_id, mini.pk] for mini in minis],
                    "ownStream": own_stream.pk,
                    "rentableStream": rentable.pk,
                    "ownRentableStream": own_rentable.pk,
                }
            )
        )
