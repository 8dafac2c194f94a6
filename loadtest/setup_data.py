"""Make the data a fuzz or load run needs, through the services, and print it as JSON.

    python -m loadtest.setup_data --callers 64 --streams 20 --credits 1000000 > data.json

Creates (idempotently, by username) a creator with `--streams` scheduled streams, each with
one mini crowd funding, and `--callers` users with `--credits` credits who have each funded
`--prefund` of the streams (so their funded list is not empty). Prints
`{"tokens": [...], "streams": [...], "minis": [[streamId, miniId], ...], "ownStream": id}`:
access tokens valid for an hour; `ownStream` is a scheduled stream created by the first caller
(for the cancel endpoint). Uses whatever database the environment's settings point at.
"""

import argparse
import json
import os
import sys
from datetime import timedelta


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--callers", type=int, default=64)
    parser.add_argument("--streams", type=int, default=20)
    parser.add_argument("--credits", type=int, default=1_000_000)
    parser.add_argument("--prefund", type=int, default=5)
    parser.add_argument("--prefix", default="load")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "allmine.settings")
    import django

    django.setup()

    from django.utils import timezone
    from rest_framework_simplejwt.tokens import RefreshToken

    from crowdfunding.models import MiniCrowdFunding
    from crowdfunding.services import contribution_create
    from livestreams.models import LiveStream
    from livestreams.services import live_stream_create
    from users.authentication import TOKEN_VERSION_CLAIM
    from users.models import User
    from users.services import credits_grant

    def account(username: str) -> User:
        user, created = User.objects.get_or_create(
            username=username, defaults={"email": f"{username}@loadtest.invalid"}
        )
        if created:
            user.set_password(f"{username}-Password-1")
            user.save(update_fields=["password"])
        return user

    creator = account(f"{args.prefix}-creator")
    streams = list(
        LiveStream.objects.filter(creator=creator, status=LiveStream.Status.SCHEDULED).order_by(
            "planned_start_date", "id"
        )[: args.streams]
    )
    start = timezone.now() + timedelta(days=7)
    for index in range(len(streams), args.streams):
        stream = live_stream_create(
            creator=creator,
            title=f"Load test stream {index}",
            interest="music",
            planned_start_date=start + timedelta(hours=index),
            duration_goal=60,
            funding_goal=1_000_000,
        )
        MiniCrowdFunding.objects.create(stream=stream, title=f"Lights {index}", goal=10_000)
        streams.append(stream)

    tokens = []
    for index in range(args.callers):
        user = account(f"{args.prefix}-caller-{index}")
        if user.credit_balance < args.credits // 2:
            credits_grant(user=user, amount=args.credits, description="load test")
        for stream in streams[: args.prefund]:
            if not stream.contributions.filter(user=user).exists():
                contribution_create(user=user, stream_id=stream.pk, amount=1)
        refresh = RefreshToken.for_user(user)
        refresh[TOKEN_VERSION_CLAIM] = user.token_version
        tokens.append(str(refresh.access_token))

    own_stream = live_stream_create(
        creator=account(f"{args.prefix}-caller-0"),
        title="Load test own stream",
        interest="music",
        planned_start_date=start,
        duration_goal=30,
        funding_goal=100,
    )

    minis = MiniCrowdFunding.objects.filter(stream__in=streams).order_by("created_at", "id")
    json.dump(
        {
            "tokens": tokens,
            "streams": [stream.pk for stream in streams],
            "minis": [[mini.stream_id, mini.pk] for mini in minis],
            "ownStream": own_stream.pk,
        },
        sys.stdout,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
