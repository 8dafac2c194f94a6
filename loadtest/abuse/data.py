"""Data, made through the services in this process (direct to the database)."""

import os
import uuid
from datetime import timedelta

PASSWORD = "Abuse-Password-2026"
WEBHOOK_SECRET = f"abuse-webhook-{uuid.uuid4().hex}"


def django_setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "allmine.settings")
    import django

    django.setup()


PASSWORD_HASHES: dict[str, str] = {}


def make_user(username: str, credits: int = 0, **extra):
    from django.contrib.auth.hashers import make_password

    from users.models import User
    from users.services import credits_grant

    if PASSWORD not in PASSWORD_HASHES:  # one slow hash for every user of the run
        PASSWORD_HASHES[PASSWORD] = make_password(PASSWORD)
    user = User(username=username, email=f"{username}@abuse.invalid", **extra)
    user.password = PASSWORD_HASHES[PASSWORD]
    user.save()
    if credits:
        credits_grant(user=user, amount=credits, description="abuse suite")
    return user


def token_for(user) -> str:
    return token_pair_for(user)[0]


def token_pair_for(user) -> tuple[str, str]:
    """(access, refresh) as `POST /auth/login` would give them."""
    from users.services import refresh_token_for

    user.refresh_from_db(fields=["token_version"])
    refresh = refresh_token_for(user)
    return str(refresh.access_token), str(refresh)


def make_stream(creator, *, minis: int = 1, goal: int = 1_000_000, mini_goal: int = 500):
    from django.utils import timezone

    from crowdfunding.models import MiniCrowdFunding
    from livestreams.services import live_stream_create

    stream = live_stream_create(
        creator=creator,
        title=f"Abuse stream {uuid.uuid4().hex[:6]}",
        interest="music",
        planned_start_date=timezone.now() + timedelta(days=7),
        duration_goal=60,
        funding_goal=goal,
    )
    made = [
        MiniCrowdFunding.objects.create(stream=stream, title=f"Goal {n}", goal=mini_goal)
        for n in range(minis)
    ]
    return stream, made


def tag() -> str:
    return uuid.uuid4().hex[:8]
