"""The lists benchmark's data and targets (bench/lists.py measures, bench/lists_wrk.py runs
wrk): which lists, called by whom, and the listers' streams it adds once to bench.funded's
databases (`listerN`, N = 1, 20, 100; smoke 1, 5, 10)."""

import random
import subprocess
import sys
from datetime import timedelta

from bench.funded import ROOT, SEED, SIZES, _django, _env


def viewer_name(size: str) -> str:
    """The viewer: the funded seed's middle caller (`caller20`; `caller5` in smoke)."""
    return f"caller{SIZES[size]['callers'][1]}"


MAX_QUERIES = 9
LISTS = {
    # name: (endpoint, floor, who calls it: "viewer" | "lister" | None (anonymous), params)
    "upcoming": (
        "/api/v2/live-stream/user/{lister}/upcoming-live-streams",
        "/bench/floor/live-stream/user/{lister}/upcoming-live-streams",
        "viewer",
    ),
    "upcoming (anonymous)": (
        "/api/v2/live-stream/user/{lister}/upcoming-live-streams",
        "/bench/floor/live-stream/user/{lister}/upcoming-live-streams",
        None,
    ),
    "past": (
        "/api/v1/live-stream/user/{lister}/past-streams",
        "/bench/floor/live-stream/user/{lister}/past-streams",
        "viewer",
    ),
    "my-past": (
        "/api/v1/live-stream/my-past-streams",
        "/bench/floor/live-stream/my-past-streams",
        "lister",
    ),
    "guest": (
        "/api/v1/live-stream/guest-streams",
        "/bench/floor/live-stream/guest-streams",
        "lister",
    ),
}
FULL_PAGE = {"limit": 100}
PAGES = (FULL_PAGE, {}, {"limit": 3}, {"page": 2, "limit": 7})


def worker_seed_lists(size: str) -> None:
    """Add the listers' streams once (bulk inserts; bench data, not a story of the API)."""
    _django()
    from django.utils import timezone

    from crowdfunding.models import MiniCrowdFunding
    from livestreams.models import Broadcaster, LiveStream, Reminder, ReplayRental, StreamGuest
    from users.models import User

    counts = SIZES[size]["callers"]
    if User.objects.filter(username=f"lister{max(counts)}").exists():
        print(f"[bench] {size}: listers found, reusing them", file=sys.stderr)
        return
    rng = random.Random(SEED)
    now = timezone.now().replace(microsecond=0)
    viewer = User.objects.get(username=viewer_name(size))
    others = list(
        User.objects.exclude(username__startswith="caller").values_list("pk", flat=True)[:500]
    )
    host = User.objects.create_user(
        username="lister-host", email="lister-host@bench.example", password=None
    )
    streams, guests, broadcasters, minis, rentals, reminders = [], [], [], [], [], []

    def stream(creator, n: int, kind: str, i: int, **fields) -> LiveStream:
        start = fields.pop("start")
        item = LiveStream(
            creator=creator,
            title=f"Lister {n} {kind} {i}",
            channel_name=f"lister-{n}-{kind}-{i}",
            live_stream_type=LiveStream.Type.SOLO,
            interest="music",
            duration_goal=60,
            motivation="Bench",
            planned_start_date=start,
            planned_end_date=start + timedelta(hours=1),
            funding_goal=1000,
            collected_funding=rng.randrange(0, 1500),
            created_at=start - timedelta(days=3),
            **fields,
        )
        streams.append(item)
        guests.append(StreamGuest(stream=item, user_id=rng.choice(others)))
        minis.append(
            MiniCrowdFunding(stream=item, title="Mic", goal=100, collected=rng.randrange(0, 100))
        )
        return item

    for n in counts:
        lister = User.objects.create_user(
            username=f"lister{n}", email=f"lister{n}@bench.example", password=None
        )
        for i in range(n):
            live = stream(
                lister,
                n,
                "live",
                i,
                start=now + timedelta(minutes=i - n),
                status=LiveStream.Status.ACTIVE if i % 5 == 0 else LiveStream.Status.PREPARING,
            )
            broadcasters.append(
                Broadcaster(
                    stream=live, user=lister, role=Broadcaster.Role.HOST, uid=i, has_joined=True
                )
            )
            if i % 2 == 0:
                reminders.append(
                    Reminder(user=viewer, stream=live, status=Reminder.Status.ARMED_ON_START)
                )
            ended = stream(
                lister,
                n,
                "ended",
                i,
                start=now - timedelta(days=2, minutes=i),
                status=LiveStream.Status.ENDED,
                recording=True,
                recording_url=f"https://cdn.allmine.example/recordings/lister-{n}-{i}.mp4",
                is_active_replay_on_creator_profile=True,
                replay_credit_price=30,
                started_at=now - timedelta(days=2, minutes=i),
                ended_at=now - timedelta(days=2, minutes=i) + timedelta(hours=1),
            )
            if i % 3 == 0:
                rentals.append(
                    ReplayRental(
                        user=viewer,
                        stream=ended,
                        price=30,
                        rented_at=now - timedelta(hours=1),
                        expires_at=now + timedelta(hours=23),
                    )
                )
            invited = stream(host, n, "invited", i, start=now + timedelta(days=3, minutes=i))
            guests.append(StreamGuest(stream=invited, user=lister))
    LiveStream.objects.bulk_create(streams, batch_size=500)
    for model, rows in (
        (StreamGuest, guests),
        (Broadcaster, broadcasters),
        (MiniCrowdFunding, minis),
        (ReplayRental, rentals),
        (Reminder, reminders),
    ):
        model.objects.bulk_create(rows, batch_size=500)
    print(f"[bench] {size}: listers added ({len(streams)} streams)", file=sys.stderr)


def run_worker(backend: str, size: str, args: list[str]) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "bench.lists", *args],
        cwd=ROOT,
        env=_env(backend, size),
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"[bench] worker {args} on {backend} failed ({result.returncode})")
    return result.stdout
