"""`Planner`: draws the demo from one `random.Random(seed)` into the plain records of
`crowdfunding.seeding.plans`: users, streams in every status and type (some deleted), guests,
broadcasters, stream details and mini crowd fundings here; contributions, supports, rentals,
payouts and the ledger in `crowdfunding.seeding.money`. Nothing is written to the database."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta

from django.contrib.auth.hashers import make_password

from allmine.ids import object_id_at
from crowdfunding.seeding import money
from crowdfunding.seeding.demo import (
    CALLER_USERNAME,
    DEMO_PASSWORD,
    DEMO_USERNAME,
    SEED_MEDIA_PREFIX,
)
from crowdfunding.seeding.plans import (
    DAY,
    FIRST_NAMES,
    HOUR,
    LAST_NAMES,
    MINI_TITLES,
    MINUTE,
    MOTIVATIONS,
    PRICES,
    SECOND,
    STARTED,
    STATUS_WEIGHTS,
    TOPICS,
    TYPE_WEIGHTS,
    BroadcasterPlan,
    MiniPlan,
    S,
    SeedOptions,
    StreamPlan,
    T,
    UserPlan,
)
from crowdfunding.seeding.writer import Progress
from livestreams.clock import expiry_deadline, payout_due_at
from livestreams.models import Broadcaster, Interest, LiveStream
from livestreams.services import channel_name_for, channel_slug
from users.models import User


class Planner:
    """`plan()` draws everything from the seed into plain records (no database writes, and
    nothing is drawn later); the money's records are drawn by `crowdfunding.seeding.money`."""

    def __init__(self, options: SeedOptions, progress: Progress | None = None):
        self.o = options
        self.rng = random.Random(options.seed)
        self.anchor = options.resolved_anchor()
        self.progress = progress or Progress(None)
        self.supports_total = (
            options.supports if options.supports is not None else options.contributions // 10
        )
        self.rentals_total = (
            options.rentals if options.rentals is not None else options.streams // 10
        )

    # time and ids

    def dt(self, offset: int) -> datetime:
        return self.anchor + timedelta(microseconds=offset)

    def new_id(self, offset: int) -> str:
        return object_id_at(self.dt(offset), self.rng)

    def between(self, low: int, high: int) -> int:
        return low + int(self.rng.random() * (high - low))

    def after(self, rule: Callable[[datetime], datetime]) -> int:
        """The clock's delay `rule` (`expiry_deadline`, `payout_due_at`) in microseconds."""
        return (rule(self.anchor) - self.anchor) // timedelta(microseconds=1)

    # planning -----------------------------------------------------------------------------

    def plan(self) -> None:
        self.progress.start("plan")
        self.users = self._plan_users()
        self.streams = self._plan_streams()
        self.funded_by = self._plan_rich_streams()
        self.broadcasters = self._plan_guests_and_broadcasters()
        self._plan_stream_details()
        self.minis = self._plan_minis()
        self.contributions, self.supports = money.plan_funding(self)
        self.rentals = money.plan_rentals(self)
        self.payouts = money.plan_payouts(self)
        self.ledger = money.plan_ledger(self)
        self.progress.end()

    def _plan_users(self) -> list[UserPlan]:
        rng = self.rng
        callers = list(self.o.callers)
        specials = [DEMO_USERNAME] + [CALLER_USERNAME.format(n=n) for n in callers]
        total = len(specials) + self.o.users
        users = []
        for i in range(total):
            join = -self.between(500 * DAY, 900 * DAY)
            uid = self.new_id(join)
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            if i == 0:
                first, last = "Demo", "Kullanıcı"
            username = (
                specials[i]
                if i < len(specials)
                else f"{channel_slug(first)}.{channel_slug(last)}{i}"
            )
            photo_id = None if i > 0 and rng.random() < 0.15 else object_id_at(self.dt(join), rng)
            users.append(
                UserPlan(
                    id=uid,
                    username=username,
                    first_name=first,
                    last_name=last,
                    joined=join,
                    photo_id=photo_id,
                    availability=(
                        User.AvailabilityStatus.AVAILABLE
                        if i == 0
                        else rng.choice(User.AvailabilityStatus.values)
                    ),
                    suspended=i >= len(specials) and rng.random() < 0.01,
                )
            )
        # Hashed once with a salt from the seed, so reruns store the same hash.
        self.password = make_password(DEMO_PASSWORD, salt=f"{rng.getrandbits(64):016x}")
        self.demo = 0
        self.caller_users = {n: 1 + k for k, n in enumerate(callers)}
        self.pool = list(range(len(specials), total))  # the crowd
        if len(self.pool) < 5:
            raise ValueError("need at least 5 users")
        self.creators = self.pool[: max(3, len(self.pool) * 3 // 10)]
        return users

    def _plan_streams(self) -> list[StreamPlan]:
        rng = self.rng
        statuses, s_weights = list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values())
        types, t_weights = list(TYPE_WEIGHTS), list(TYPE_WEIGHTS.values())
        n = self.o.streams
        # The first streams cover every status and type, whatever the size.
        drawn_status = statuses + rng.choices(statuses, s_weights, k=max(0, n - len(statuses)))
        drawn_type = (types * 3) + rng.choices(types, t_weights, k=max(0, n - 3 * len(types)))
        streams = []
        ended_streams = 0
        for i in range(n):
            status, kind = drawn_status[i], drawn_type[i]
            if status == S.CANCELLED_BY_GUEST and kind == T.SOLO:
                kind = T.DUO_CROWD
            duration = rng.choice([30, 45, 60, 90, 120])
            started = ended = refund_at = None
            if status == S.SCHEDULED:
                start = self.between(2 * DAY, 60 * DAY)
            elif status == S.PREPARING:
                start = self.between(20 * MINUTE, DAY)
            elif status == S.ACTIVE:
                start = -self.between(10 * MINUTE, 2 * HOUR)
                started = start + self.between(0, 5 * MINUTE)
            elif status == S.ENDED:
                start = -self.between(DAY, 365 * DAY)
                started = start + self.between(0, 10 * MINUTE)
                ended = started + duration * MINUTE * self.between(80, 121) // 100
            elif status == S.EXPIRED:
                # Expired by the clock at its deadline, which lies before the anchor.
                start = -self.between(DAY, 200 * DAY) - self.after(expiry_deadline)
                refund_at = start + self.after(expiry_deadline)
            else:  # cancelled by host or guest
                start = self.between(-200 * DAY, 60 * DAY)
            created = min(start, 0) - self.between(2 * DAY, 40 * DAY)
            close = min(start, 0) - MINUTE
            if status in (S.CANCELLED_BY_HOST, S.CANCELLED_BY_GUEST):
                refund_at = self.between(created + 2 * HOUR, close)
                close = refund_at - SECOND
            stream = StreamPlan(
                payout_at=None if ended is None else ended + self.after(payout_due_at),
                index=i,
                id=self.new_id(created),
                creator=rng.choice(self.creators),
                type=kind,
                status=status,
                created=created,
                start=start,
                end=start + duration * MINUTE,
                started=started,
                ended=ended,
                close=close,
                refund_at=refund_at,
                duration=duration,
            )
            # Some streams are deleted (stream 1, an ended one, always): ended or expired ones
            # hours later, scheduled ones before they start. Funding closes before deletion.
            if status in (S.ENDED, S.EXPIRED) and (i == 1 or rng.random() < 0.02):
                stream.deleted = (ended or refund_at) + self.between(HOUR, 10 * HOUR)
            elif status == S.SCHEDULED and rng.random() < 0.02:
                stream.deleted = self.between(created + 2 * HOUR, -MINUTE)
                stream.close = stream.deleted - SECOND
            # Four ended streams in ten offer their replay for credits (the first four of each
            # ten, so even a small seed has some).
            if status == S.ENDED and ended_streams % 10 < 4:
                stream.replay_offered = True
                stream.replay_price = rng.choice([10, 20, 30, 50, 100])
            streams.append(stream)
            ended_streams += status == S.ENDED
        # The demo user hosts the first replay on offer (replayAccess `owner`).
        owned = [s for s in streams if s.replay_offered and s.deleted is None]
        if owned:
            owned[0].creator = self.demo
        return streams

    def _plan_rich_streams(self) -> dict[int, list[StreamPlan]]:
        """The demo user and the benchmark callers fund scheduled streams that have guests,
        broadcasters and mini crowd fundings."""
        rng = self.rng
        scheduled = [s for s in self.streams if s.status == S.SCHEDULED and s.deleted is None]
        funded_by: dict[int, list[StreamPlan]] = {}
        wanted = [(self.demo, self.o.demo_funded)] + [
            (user, n) for n, user in self.caller_users.items()
        ]
        for user, count in wanted:
            if count > len(scheduled):
                raise ValueError(
                    f"{count} funded streams wanted but only {len(scheduled)} are scheduled; "
                    "seed more streams"
                )
            chosen = rng.sample(scheduled, count)
            funded_by[user] = chosen
            for stream in chosen:
                stream.rich = True
                if stream.type == T.SOLO:
                    stream.type = rng.choice([T.DUO_CROWD, T.DUO_SELF])
        return funded_by

    def _plan_guests_and_broadcasters(self) -> list[BroadcasterPlan]:
        rng = self.rng
        broadcasters = []
        demo_funded = self.funded_by.get(self.demo, [])
        demo_guest_stream = demo_funded[0] if demo_funded else None
        for s in self.streams:
            if s.type != T.SOLO:
                count = 1 if s.type == T.DUO_SELF else rng.choice([1, 1, 2])
                if s is demo_guest_stream:
                    s.guests.append(self.demo)
                while len(s.guests) < count:
                    guest = rng.choice(self.pool)
                    if guest != s.creator and guest not in s.guests:
                        s.guests.append(guest)
            joined = s.status in STARTED
            if joined or s.status == S.PREPARING or s.rich:
                at = (s.started or s.created + HOUR) if joined else s.created + HOUR
                uid = rng.randrange(10_000, 99_999)
                broadcasters.append(
                    BroadcasterPlan(
                        stream=s,
                        user=s.creator,
                        role=Broadcaster.Role.HOST,
                        uid=uid,
                        joined=joined,
                        at=at,
                    )
                )
                for k, guest in enumerate(s.guests):
                    uid = rng.randrange(10_000, 99_999) if joined or rng.random() < 0.5 else None
                    broadcasters.append(
                        BroadcasterPlan(
                            stream=s,
                            user=guest,
                            role=Broadcaster.Role.GUEST,
                            uid=uid,
                            joined=joined,
                            at=at + k + 1,
                        )
                    )
        return broadcasters

    def _plan_stream_details(self) -> None:
        """Titles, channel names (unique, also against streams already stored), prices and
        replay settings."""
        rng = self.rng
        taken = set(LiveStream.objects.values_list("channel_name", flat=True))

        def token_hex() -> str:
            return f"{rng.getrandbits(16):04x}"

        for s in self.streams:
            s.interest = rng.choice(Interest.values)
            title = rng.choice(TOPICS[s.interest])
            if rng.random() < 0.6:
                title = f"{title} ({rng.randrange(1, 60)}. bölüm)"
            s.title = title
            name = channel_name_for(title, token_hex=token_hex)
            while name in taken:
                name = channel_name_for(title, token_hex=token_hex)
            taken.add(name)
            s.channel_name = name
            s.price = rng.choice(PRICES) if rng.random() < 0.45 else None
            s.recorded = s.replay_offered or rng.random() < 0.6
            if s.status == S.ENDED and s.recorded:
                s.replay_on = True if s.replay_offered else rng.choice([None, False])
            if not s.replay_on:
                s.replay_price = None
            has_thumbnail = rng.random() < 0.7
            s.thumbnail_url = f"{SEED_MEDIA_PREFIX}thumbnails/{s.id}.png" if has_thumbnail else ""
            s.motivation = rng.choice(MOTIVATIONS)
            s.funding_goal = rng.choices([0, 500, 1000, 2000, 5000, 10000], [1, 6, 8, 6, 3, 1])[0]

    def _plan_minis(self) -> list[MiniPlan]:
        rng = self.rng
        minis = []
        for s in self.streams:
            if s.rich:
                count = rng.choice([1, 2, 3])
            elif rng.random() < 0.25:
                count = rng.choice([1, 1, 2])
            else:
                continue
            for k in range(count):
                created = s.created + (k + 1) * MINUTE
                minis.append(
                    MiniPlan(
                        id=self.new_id(created),
                        stream=s,
                        title=rng.choice(MINI_TITLES),
                        goal=rng.choice([50, 100, 200, 300, 500]),
                        created=created,
                    )
                )
        return minis

    def crowd_member(self, stream: StreamPlan) -> int:
        """A random user of the crowd other than the stream's creator."""
        pool, rng = self.pool, self.rng
        user = pool[int(rng.random() * len(pool))]
        while user == stream.creator:
            user = pool[int(rng.random() * len(pool))]
        return user
