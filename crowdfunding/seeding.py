"""Deterministic demo data: users, streams in every status and type, guests, broadcasters,
replay rentals, contributions, mini crowd fundings with supports, and a balanced credit ledger.

Used by `manage.py seed_demo` and by the benchmark in `bench/`. Everything is planned in memory
first from one `random.Random(seed)` (ids included, via `object_id_at`), then written phase by
phase with `bulk_create` in batches, one transaction per phase. Times are offsets from an anchor
(default: today 00:00 UTC), so the same seed and anchor give the same rows.

The books are kept the way the services keep them: each user first buys credits
(`credit_purchase`, enough for everything they later spend plus a spare), every completed
contribution or mini support has its debit row, every refunded one also its refund row, and
`balance_after` is the running balance in ledger order (`created_at`, `id`). Stored totals
(`User.credit_balance`, `LiveStream.collected_funding`, `MiniCrowdFunding.collected`) are the
sums the ledger and the completed rows give.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from allmine.ids import object_id_at
from crowdfunding.models import (
    Contribution,
    FundingStatus,
    MiniCrowdFunding,
    MiniCrowdFundingSupport,
)
from livestreams.models import (
    Broadcaster,
    Interest,
    LiveStream,
    ReplayRental,
    ReplayRentalCharge,
    StreamGuest,
)
from livestreams.services import (
    channel_name_for,
    channel_slug,
    revenue_split,
)
from users.models import CreditLedgerEntry, Media, User

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "allmine-demo-2026"
SEED_EMAIL_DOMAIN = "seed.allmine.test"
SEED_MEDIA_PREFIX = "https://cdn.allmine.example/seed/"
CALLER_USERNAME = "caller{n}"  # benchmark callers: `caller20` funds exactly 20 streams

# Times are integer microseconds from the anchor.
SECOND = 1_000_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR

S = LiveStream.Status
T = LiveStream.Type
STATUS_WEIGHTS = {
    S.SCHEDULED: 35,
    S.ENDED: 30,
    S.ACTIVE: 4,
    S.PREPARING: 4,
    S.EXPIRED: 9,
    S.CANCELLED_BY_HOST: 11,
    S.CANCELLED_BY_GUEST: 7,
}
TYPE_WEIGHTS = {T.SOLO: 50, T.DUO_CROWD: 25, T.DUO_SELF: 25}
REFUNDING = {S.EXPIRED, S.CANCELLED_BY_HOST, S.CANCELLED_BY_GUEST}
STARTED = {S.ACTIVE, S.ENDED}

FIRST_NAMES = [
    "Ayşe", "Mehmet", "Zeynep", "Can", "Elif", "Burak", "Selin", "Emre", "Deniz", "Ece",
    "Oğuz", "Gül", "Cem", "Şule", "Kaan", "İrem", "Murat", "Ebru", "John", "Maria", "Lucas",
    "Sofia", "Noah", "Emma", "Yusuf", "Nil", "Arda", "Defne", "Barış", "Çağla",
]  # fmt: skip
LAST_NAMES = [
    "Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Yıldız", "Öztürk", "Aydın", "Arslan",
    "Doğan", "Kılıç", "Koç", "Kurt", "Özdemir", "Smith", "García", "Rossi", "Müller", "Doe",
]  # fmt: skip
TOPICS = {
    Interest.MUSIC: ["Canlı müzik gecesi", "Akustik gitar dersi", "Yeni şarkı ilk kez"],
    Interest.SPORTS: ["Maç sonu analizi", "Evde antrenman", "Koşu hazırlığı"],
    Interest.GAMING: ["Oyun turnuvası", "Speedrun denemesi", "Yeni oyun ilk bakış"],
    Interest.TECHNOLOGY: ["Yeni ürün tanıtımı", "Python ile web", "Yapay zekâ sohbeti"],
    Interest.EDUCATION: ["Sınav taktikleri", "Matematik soru çözümü", "İngilizce pratik"],
    Interest.ART: ["Resim atölyesi", "Seramik yapımı", "Çizim maratonu"],
    Interest.TRAVEL: ["İstanbul sokak turu", "Kapadokya'dan canlı", "Ege kıyıları"],
    Interest.FOOD: ["Ev yapımı mantı", "Sokak lezzetleri", "Tatlı atölyesi"],
    Interest.FASHION: ["Sonbahar trendleri", "Kombin önerileri", "Vintage alışveriş"],
    Interest.LIFESTYLE: ["Sabah rutini", "Minimalist yaşam", "Sabah yogası"],
    Interest.COMEDY: ["Stand-up denemeleri", "Doğaçlama gecesi", "Skeç provası"],
    Interest.BUSINESS: ["Girişimcilik soru-cevap", "Yatırım sohbeti", "Kariyer tavsiyeleri"],
}
MOTIVATIONS = [
    "Bu yayında deneyimlerimi paylaşacağım ve sorularınızı yanıtlayacağım.",
    "Destek olursanız daha iyi ekipmanla daha uzun bir yayın yapacağım.",
    "Hep birlikte öğrenelim, eğlenelim.",
    "I will share what I learned this year and answer your questions live.",
    "",
]
MINI_TITLES = ["Yeni mikrofon", "Işık seti", "Kamera lensi", "Stüdyo kirası", "Konuk ücreti"]
AMOUNTS = [10, 20, 25, 50, 100, 150, 200, 250, 500]
AMOUNT_WEIGHTS = [10, 14, 10, 24, 20, 8, 7, 4, 3]
# Ticket prices of paid streams; a free stream has no price (None), never 0.
PRICES = [Decimal("4.99"), Decimal("9.99"), Decimal("19.99"), Decimal("29.99")]


@dataclass
class SeedOptions:
    seed: int = 1
    users: int = 200
    streams: int = 1000
    contributions: int = 5000
    supports: int | None = None  # default: contributions // 10
    rentals: int | None = None  # default: streams // 10
    demo_funded: int = 8
    callers: tuple[int, ...] = ()
    anchor: datetime | None = None  # default: today 00:00 UTC
    batch_size: int = 2000

    def resolved_anchor(self) -> datetime:
        if self.anchor is not None:
            return self.anchor.astimezone(dt_timezone.utc)
        now = timezone.now()
        return datetime(now.year, now.month, now.day, tzinfo=dt_timezone.utc)


@dataclass
class SeedSummary:
    counts: dict[str, int]
    seconds: dict[str, float] = field(default_factory=dict)


class StreamPlan:
    __slots__ = (
        "index", "id", "creator", "type", "status", "created", "start", "end", "started",
        "ended", "close", "refund_at", "duration", "rich", "guests", "deleted", "collected",
        "minis",
    )  # fmt: skip

    def __init__(self, **kwargs):
        self.guests: list[int] = []
        self.minis: list[int] = []
        self.collected = 0
        self.rich = False
        for key, value in kwargs.items():
            setattr(self, key, value)

    @property
    def open(self) -> int:
        return self.created + MINUTE


class MiniPlan:
    __slots__ = ("id", "stream", "title", "goal", "collected", "created")

    def __init__(self, **kwargs):
        self.collected = 0
        for key, value in kwargs.items():
            setattr(self, key, value)


# --- helpers -------------------------------------------------------------------------------


def seed_users() -> Q:
    """Every user the seeder made (demo user, benchmark callers and the crowd)."""
    return Q(email__endswith=f"@{SEED_EMAIL_DOMAIN}")


def seed_data_present() -> bool:
    return User.objects.filter(seed_users()).exists()


def demo_user() -> User | None:
    return User.objects.filter(seed_users(), username=DEMO_USERNAME).first()


def stream_to_fund(user: User) -> LiveStream | None:
    """A scheduled stream `user` has not funded yet, by an active creator: for the demo's
    ready-to-paste fund and cancel commands."""
    return (
        LiveStream.objects.alive()
        .filter(
            status=LiveStream.Status.SCHEDULED, creator__account_status=User.AccountStatus.ACTIVE
        )
        .exclude(creator=user)
        .exclude(contributions__user=user)
        .select_related("creator")
        .order_by("planned_start_date", "id")
        .first()
    )


@contextmanager
def explicit_timestamps(*models):
    """Let bulk_create keep the planned `created_at`/`updated_at` instead of `now()`."""
    saved = []
    for model in models:
        for f in model._meta.concrete_fields:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                saved.append((f, f.auto_now, f.auto_now_add))
                f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


def _batched(items: Iterable, size: int) -> Iterator[list]:
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class Progress:
    """Per-phase and per-batch progress lines on stderr (silent when `write` is None)."""

    def __init__(self, write: Callable[[str], None] | None, every_seconds: float = 1.0):
        self.write = write
        self.every = every_seconds
        self.phase = ""
        self.started = 0.0
        self.last = 0.0
        self.seconds: dict[str, float] = {}

    def start(self, phase: str, total: int | None = None) -> None:
        self.phase = phase
        self.started = self.last = time.monotonic()
        if self.write:
            self.write(
                f"[seed] {phase}: {total:,} rows" if total is not None else f"[seed] {phase}"
            )

    def batch(self, done: int, total: int) -> None:
        now = time.monotonic()
        if self.write and (now - self.last >= self.every) and done < total:
            self.last = now
            self.write(f"[seed]   {self.phase}: {done:,}/{total:,} ({done * 100 // total}%)")

    def end(self) -> None:
        took = time.monotonic() - self.started
        self.seconds[self.phase] = self.seconds.get(self.phase, 0.0) + took
        if self.write:
            self.write(f"[seed]   {self.phase}: done in {took:.1f}s")


# --- deletion ------------------------------------------------------------------------------


def delete_seed_data(progress: Progress | None = None) -> dict[str, int]:
    """Delete everything the seeder made, children before parents (money rows are PROTECTed).

    Also removes rows other users attached to seeded streams (their contributions, supports,
    rentals), since those streams go away. Large tables are deleted with one SQL statement each.
    """
    progress = progress or Progress(None)
    progress.start("delete previous seed data")
    users = User.objects.filter(seed_users()).values("id")
    streams = LiveStream.objects.filter(creator__in=users).values("id")
    minis = MiniCrowdFunding.objects.filter(stream__in=streams).values("id")
    deleted: dict[str, int] = {}

    def raw(label: str, queryset) -> None:
        # `_raw_delete`: one DELETE, no collector loading millions of rows to check PROTECT
        # relations that the previous steps have already emptied.
        deleted[label] = queryset._raw_delete(queryset.db)

    with transaction.atomic():
        raw(
            "supports",
            MiniCrowdFundingSupport.objects.filter(
                Q(user__in=users) | Q(mini_crowd_funding__in=minis)
            ),
        )
        raw("contributions", Contribution.objects.filter(Q(user__in=users) | Q(stream__in=streams)))
        raw("minis", MiniCrowdFunding.objects.filter(stream__in=streams))
        raw(
            "rental charges",
            ReplayRentalCharge.objects.filter(
                Q(rental__user__in=users) | Q(rental__stream__in=streams)
            ),
        )
        raw("rentals", ReplayRental.objects.filter(Q(user__in=users) | Q(stream__in=streams)))
        raw("ledger", CreditLedgerEntry.objects.filter(user__in=users))
        raw("guests", StreamGuest.objects.filter(Q(user__in=users) | Q(stream__in=streams)))
        raw("broadcasters", Broadcaster.objects.filter(Q(user__in=users) | Q(stream__in=streams)))
        raw("streams", LiveStream.objects.filter(creator__in=users))
        deleted["users"], _ = User.objects.filter(seed_users()).delete()
        raw("media", Media.objects.filter(url__startswith=SEED_MEDIA_PREFIX))
    progress.end()
    return deleted


# --- the seeder ----------------------------------------------------------------------------


class DemoSeeder:
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

    # planning -----------------------------------------------------------------------------

    def plan(self) -> None:
        self.progress.start("plan")
        self._plan_users()
        self._plan_streams()
        self._plan_rich_streams()
        self._plan_guests_and_broadcasters()
        self._plan_minis()
        self._plan_funding()
        self._plan_rentals()
        self._plan_ledger()
        self.progress.end()

    def _plan_users(self) -> None:
        rng = self.rng
        callers = list(self.o.callers)
        specials = [DEMO_USERNAME] + [CALLER_USERNAME.format(n=n) for n in callers]
        total = len(specials) + self.o.users
        self.user_ids: list[str] = []
        self.user_join: list[int] = []
        self.user_names: list[tuple[str, str, str]] = []
        for i in range(total):
            join = -self.between(500 * DAY, 900 * DAY)
            self.user_join.append(join)
            self.user_ids.append(self.new_id(join))
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            if i < len(specials):
                username = specials[i]
                if i == 0:
                    first, last = "Demo", "Kullanıcı"
            else:
                username = f"{channel_slug(first)}.{channel_slug(last)}{i}"
            self.user_names.append((username, first, last))
        self.demo = 0
        self.caller_users = {n: 1 + k for k, n in enumerate(callers)}
        self.pool = list(range(len(specials), total))  # the crowd
        if len(self.pool) < 5:
            raise ValueError("need at least 5 users")
        creators = max(3, len(self.pool) * 3 // 10)
        self.creators = self.pool[:creators]

    def _plan_streams(self) -> None:
        rng = self.rng
        statuses, s_weights = list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values())
        types, t_weights = list(TYPE_WEIGHTS), list(TYPE_WEIGHTS.values())
        n = self.o.streams
        # The first streams cover every status and type, whatever the size.
        drawn_status = statuses + rng.choices(statuses, s_weights, k=max(0, n - len(statuses)))
        drawn_type = (types * 3) + rng.choices(types, t_weights, k=max(0, n - 3 * len(types)))
        self.streams: list[StreamPlan] = []
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
                start = -self.between(DAY, 200 * DAY)
                refund_at = start + HOUR
            else:  # cancelled by host or guest
                start = self.between(-200 * DAY, 60 * DAY)
            created = min(start, 0) - self.between(2 * DAY, 40 * DAY)
            close = min(start, 0) - MINUTE
            if status in (S.CANCELLED_BY_HOST, S.CANCELLED_BY_GUEST):
                refund_at = self.between(created + 2 * HOUR, close)
                close = refund_at - SECOND
            stream = StreamPlan(
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
                deleted=None,
            )
            if status in (S.ENDED, S.EXPIRED) and (i == 1 or rng.random() < 0.02):
                stream.deleted = (ended or refund_at) + self.between(HOUR, 10 * HOUR)
            self.streams.append(stream)
        self.scheduled = [s for s in self.streams if s.status == S.SCHEDULED and s.deleted is None]
        # Replays on offer (see _stream_row) and their prices; the demo user hosts the first one
        # (replayAccess `owner`).
        self.replay_prices: dict[int, int] = {}
        for s in self.streams:
            if s.status == S.ENDED and s.index % 10 < 4:
                self.replay_prices[s.index] = rng.choice([10, 20, 30, 50, 100])
        owned = [s for s in self.streams if s.index in self.replay_prices and s.deleted is None]
        if owned:
            owned[0].creator = self.demo

    def _plan_rich_streams(self) -> None:
        """The demo user and the benchmark callers fund scheduled streams that have guests,
        broadcasters and mini crowd fundings."""
        rng = self.rng
        self.funded_by: dict[int, list[StreamPlan]] = {}
        wanted = [(self.demo, self.o.demo_funded)] + [
            (user, n) for n, user in self.caller_users.items()
        ]
        for user, count in wanted:
            if count > len(self.scheduled):
                raise ValueError(
                    f"{count} funded streams wanted but only {len(self.scheduled)} are scheduled; "
                    "seed more streams"
                )
            chosen = rng.sample(self.scheduled, count)
            self.funded_by[user] = chosen
            for stream in chosen:
                stream.rich = True
                if stream.type == T.SOLO:
                    stream.type = rng.choice([T.DUO_CROWD, T.DUO_SELF])

    def _plan_guests_and_broadcasters(self) -> None:
        rng = self.rng
        self.broadcasters: list[tuple[int, int, str, int | None, bool, int]] = []
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
                self.broadcasters.append((s.index, s.creator, "host", uid, joined, at))
                for k, guest in enumerate(s.guests):
                    uid = rng.randrange(10_000, 99_999) if joined or rng.random() < 0.5 else None
                    self.broadcasters.append((s.index, guest, "guest", uid, joined, at + k + 1))

    def _plan_minis(self) -> None:
        rng = self.rng
        self.minis: list[MiniPlan] = []
        for s in self.streams:
            if s.rich:
                count = rng.choice([1, 2, 3])
            elif rng.random() < 0.25:
                count = rng.choice([1, 1, 2])
            else:
                continue
            for k in range(count):
                created = s.created + (k + 1) * MINUTE
                mini = MiniPlan(
                    id=self.new_id(created),
                    stream=s,
                    title=rng.choice(MINI_TITLES),
                    goal=rng.choice([50, 100, 200, 300, 500]),
                    created=created,
                )
                s.minis.append(len(self.minis))
                self.minis.append(mini)

    def _plan_funding(self) -> None:
        """Contributions and supports as tuples; ids and ledger ids drawn here, in order.

        A funding tuple: (id, user, target index, amount, time, debit id, refund time, refund id).
        """
        rng = self.rng
        streams = self.streams
        refund_seq: dict[int, int] = {}

        def refund_for(stream: StreamPlan) -> tuple[int | None, str | None]:
            if stream.refund_at is None:
                return None, None
            k = refund_seq[stream.index] = refund_seq.get(stream.index, 0) + 1
            at = stream.refund_at + k  # one microsecond apart, in contribution order
            return at, self.new_id(at)

        def one(user: int, stream: StreamPlan, amount: int) -> tuple:
            at = self.between(stream.open, stream.close)
            debit_id = self.new_id(at)
            refund_at, refund_id = refund_for(stream)
            return (self.new_id(at), user, stream.index, amount, at, debit_id, refund_at, refund_id)

        self.contributions: list[tuple] = []
        for user, funded in self.funded_by.items():
            for stream in funded:
                for _ in range(rng.choice([1, 1, 2])):
                    self.contributions.append(one(user, stream, rng.choice(AMOUNTS[:6])))

        n = self.o.contributions
        weights = [rng.choice([1, 1, 1, 2, 3, 8]) for _ in streams]
        picks = rng.choices(streams, weights=weights, k=n)
        amounts = rng.choices(AMOUNTS, AMOUNT_WEIGHTS, k=n)
        pool = self.pool
        for i in range(n):
            stream = picks[i]
            user = pool[int(rng.random() * len(pool))]
            while user == stream.creator:
                user = pool[int(rng.random() * len(pool))]
            self.contributions.append(one(user, stream, amounts[i]))
        self.contributions.sort(key=lambda row: (row[4], row[0]))  # insert in id/time order
        for c in self.contributions:
            if c[6] is None:
                streams[c[2]].collected += c[3]

        self.supports: list[tuple] = []
        if self.minis:
            mini_picks = rng.choices(range(len(self.minis)), k=self.supports_total)
            for m in mini_picks:
                mini = self.minis[m]
                stream = mini.stream
                user = pool[int(rng.random() * len(pool))]
                while user == stream.creator:
                    user = pool[int(rng.random() * len(pool))]
                at = self.between(max(stream.open, mini.created + SECOND), stream.close)
                amount = rng.choice([5, 10, 20, 25, 50])
                debit_id = self.new_id(at)
                refund_at, refund_id = refund_for(stream)
                support = (self.new_id(at), user, m, amount, at, debit_id, refund_at, refund_id)
                self.supports.append(support)
                if refund_at is None:
                    mini.collected += amount
            self.supports.sort(key=lambda row: (row[4], row[0]))

    def _plan_rentals(self) -> None:
        rng = self.rng
        self.rentable = [
            s
            for s in self.streams
            if s.status == S.ENDED
            and s.deleted is None
            and s.index % 10 < 4  # see _stream_row
            and (s.type == T.SOLO or s.guests)
        ]
        # A rental: (id, user, stream index, rented, charge id, debit id, settlement), where a
        # settlement is (settled, creator entry id, guest entry id, creator share, guest share,
        # guest) for a window that closed before the anchor, paid as the revenue job pays it.
        self.rentals: list[tuple] = []
        seen: set[tuple[int, int]] = set()
        if not self.rentable:
            return
        # The demo user holds an active rental (rented an hour before the anchor) and an
        # expired one (its window closed six hours before the anchor, and was settled).
        for_demo = [s for s in self.rentable if s.creator != self.demo]
        wanted = []
        if for_demo:
            active = rng.choice(for_demo)
            wanted.append((self.demo, active, -HOUR))
            ended_earlier = [s for s in for_demo if s is not active and s.ended < -31 * HOUR]
            if ended_earlier:
                wanted.append((self.demo, rng.choice(ended_earlier), -30 * HOUR))
        for _ in range(self.rentals_total):
            wanted.append((rng.choice(self.pool), rng.choice(self.rentable), None))
        for user, stream, rented in wanted:
            # One rental per (user, stream); the creator and guests watch free.
            if user == stream.creator or user in stream.guests or (user, stream.index) in seen:
                continue
            seen.add((user, stream.index))
            if rented is None:
                rented = self.between(stream.ended + MINUTE, -MINUTE)
            rental_id, charge_id, debit_id = (self.new_id(rented) for _ in range(3))
            settled = rented + 24 * HOUR + 10 * MINUTE
            settlement = None
            if settled <= 0:
                guest = stream.guests[0] if stream.type != T.SOLO and stream.guests else None
                creator_share, guest_share = revenue_split(
                    price=self.replay_prices[stream.index],
                    live_stream_type=stream.type,
                    has_guest=guest is not None,
                )
                settlement = (
                    settled,
                    self.new_id(settled) if creator_share else None,
                    self.new_id(settled) if guest_share else None,
                    creator_share,
                    guest_share,
                    guest if guest_share else None,
                )
            self.rentals.append(
                (rental_id, user, stream.index, rented, charge_id, debit_id, settlement)
            )

    def _plan_ledger(self) -> None:
        """Purchases first, then every debit and refund, in ledger order (created_at, id)."""
        rng = self.rng
        spent = [0] * len(self.user_ids)
        for c in self.contributions:
            spent[c[1]] += c[3]
        for s in self.supports:
            spent[s[1]] += s[3]
        for r in self.rentals:
            spent[r[1]] += self.replay_prices[r[2]]
        # events: (time, ledger id, user, amount, type, stream id)
        events: list[tuple[int, str, int, int, str, str]] = []
        for user, total in enumerate(spent):
            spare = 5000 if user == self.demo else rng.choice([0, 0, 50, 100, 250, 500, 1000])
            if total + spare:
                at = self.user_join[user] + HOUR
                events.append((at, self.new_id(at), user, total + spare, "credit_purchase", ""))
        for kind, rows, stream_of in (
            ("stream_funding_contribution", self.contributions, lambda k: self.streams[k]),
            ("mini_crowd_funding_support", self.supports, lambda k: self.minis[k].stream),
        ):
            for row in rows:
                stream_id = stream_of(row[2]).id
                events.append((row[4], row[5], row[1], -row[3], kind, stream_id))
                if row[6] is not None:
                    refund = (row[6], row[7], row[1], row[3], "stream_funding_refund", stream_id)
                    events.append(refund)
        for _, user, k, rented, _, debit_id, settlement in self.rentals:
            stream, price = self.streams[k], self.replay_prices[k]
            events.append((rented, debit_id, user, -price, "stream_charge", stream.id))
            if settlement is not None:
                settled, creator_entry, guest_entry, creator_share, guest_share, guest = settlement
                if creator_entry:
                    revenue = (settled, creator_entry, stream.creator, creator_share)
                    events.append((*revenue, "stream_revenue", stream.id))
                if guest_entry:
                    revenue = (settled, guest_entry, guest, guest_share)
                    events.append((*revenue, "stream_revenue", stream.id))
        events.sort()
        self.ledger = events
        self.balances = [0] * len(self.user_ids)  # final balances, stored on the users
        for _, _, user, amount, _, _ in events:
            self.balances[user] += amount

    # writing ------------------------------------------------------------------------------

    def _write(self, label: str, model, rows: Iterable, total: int) -> None:
        self.progress.start(label, total)
        size = self.o.batch_size
        if connection.vendor == "sqlite":  # 999 parameters per statement
            size = max(1, 999 // len(model._meta.concrete_fields))
        done = 0
        with transaction.atomic():
            for batch in _batched(rows, size):
                model.objects.bulk_create(batch, batch_size=size)
                done += len(batch)
                self.progress.batch(done, total)
        self.progress.end()

    def write(self) -> SeedSummary:
        if connection.vendor == "sqlite":
            # This connection only: a 1 GiB page cache, so index pages of million-row tables
            # stay in memory during the bulk inserts instead of being spilled and re-read.
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA cache_size = -1048576")
        with explicit_timestamps(
            Media, User, LiveStream, StreamGuest, Broadcaster, MiniCrowdFunding,
            CreditLedgerEntry, Contribution, MiniCrowdFundingSupport,
        ):  # fmt: skip
            self._write("media", Media, self._media_rows(), len(self.user_ids))
            self._write("users", User, self._user_rows(), len(self.user_ids))
            self._write("streams", LiveStream, self._stream_rows(), len(self.streams))
            guests = sum(len(s.guests) for s in self.streams)
            self._write("guests", StreamGuest, self._guest_rows(), guests)
            self._write(
                "broadcasters", Broadcaster, self._broadcaster_rows(), len(self.broadcasters)
            )
            self._write("mini crowd fundings", MiniCrowdFunding, self._mini_rows(), len(self.minis))
            self._write("credit ledger", CreditLedgerEntry, self._ledger_rows(), len(self.ledger))
            self._write(
                "contributions", Contribution, self._contribution_rows(), len(self.contributions)
            )
            self._write(
                "mini supports", MiniCrowdFundingSupport, self._support_rows(), len(self.supports)
            )
            self._write("replay rentals", ReplayRental, self._rental_rows(), len(self.rentals))
            self._write(
                "replay rental charges", ReplayRentalCharge, self._charge_rows(), len(self.rentals)
            )
        if connection.vendor == "postgresql":
            # Fresh statistics, as autovacuum would give a while later: without them the
            # planner guesses one row per table and picks scans sized for empty tables.
            self.progress.start("analyze")
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
            self.progress.end()
        counts = {
            "users": len(self.user_ids),
            "streams": len(self.streams),
            "contributions": len(self.contributions),
            "mini_crowd_fundings": len(self.minis),
            "mini_supports": len(self.supports),
            "ledger_entries": len(self.ledger),
            "rentals": len(self.rentals),
            "rental_charges": len(self.rentals),
        }
        return SeedSummary(counts=counts, seconds=dict(self.progress.seconds))

    def run(self) -> SeedSummary:
        self.plan()
        return self.write()

    def _media_rows(self) -> Iterator[Media]:
        rng = self.rng
        self.photo_ids: list[str | None] = []
        for i, uid in enumerate(self.user_ids):
            if i > 0 and rng.random() < 0.15:
                self.photo_ids.append(None)
                continue
            at = self.dt(self.user_join[i])
            media_id = object_id_at(at, rng)
            self.photo_ids.append(media_id)
            base = f"{SEED_MEDIA_PREFIX}profiles/{uid}"
            yield Media(
                id=media_id,
                url=f"{base}.jpg",
                variants={"40": f"{base}/40.webp", "76": f"{base}/76.webp"},
                created_at=at,
                updated_at=at,
            )

    def _user_rows(self) -> Iterator[User]:
        rng = self.rng
        # Hashed once with a salt from the seed, so reruns store the same hash.
        salt = f"{rng.getrandbits(64):016x}"
        password = make_password(DEMO_PASSWORD, salt=salt)
        availability = list(User.AvailabilityStatus.values)
        balances = self.balances
        specials = len(self.caller_users) + 1
        for i, uid in enumerate(self.user_ids):
            username, first, last = self.user_names[i]
            joined = self.dt(self.user_join[i])
            suspended = i >= specials and rng.random() < 0.01
            yield User(
                id=uid,
                username=username,
                email=f"{username}@{SEED_EMAIL_DOMAIN}",
                first_name=first,
                last_name=last,
                password=password,
                date_joined=joined,
                updated_at=joined,
                profile_photo_id=self.photo_ids[i],
                availability_status=(
                    User.AvailabilityStatus.AVAILABLE if i == 0 else rng.choice(availability)
                ),
                account_status=(
                    User.AccountStatus.SUSPENDED if suspended else User.AccountStatus.ACTIVE
                ),
                credit_balance=balances[i],
            )

    def _stream_row(self, s: StreamPlan, taken: set[str]) -> LiveStream:
        rng = self.rng
        interest = rng.choice(Interest.values)
        title = rng.choice(TOPICS[interest])
        if rng.random() < 0.6:
            title = f"{title} ({rng.randrange(1, 60)}. bölüm)"
        name = channel_name_for(title, token_hex=lambda: f"{rng.getrandbits(16):04x}")
        while name in taken:
            name = channel_name_for(title, token_hex=lambda: f"{rng.getrandbits(16):04x}")
        taken.add(name)
        price = rng.choice(PRICES) if rng.random() < 0.45 else None
        # Every fourth-ish ended stream offers its replay for credits (see _plan_rentals).
        offered = s.status == S.ENDED and s.index % 10 < 4
        recorded = offered or rng.random() < 0.6
        recording_url = ""
        replay_on = replay_price = None
        if s.status == S.ENDED and recorded:
            recording_url = f"{SEED_MEDIA_PREFIX}recordings/{s.id}.mp4"
            replay_on = True if offered else rng.choice([None, False])
        if replay_on:
            replay_price = self.replay_prices[s.index]
        updated = max(x for x in (s.created, s.started, s.ended, s.refund_at, s.deleted) if x)
        return LiveStream(
            id=s.id,
            creator_id=self.user_ids[s.creator],
            title=title,
            live_stream_type=s.type,
            channel_name=name,
            thumbnail_url=(
                f"{SEED_MEDIA_PREFIX}thumbnails/{s.id}.png" if rng.random() < 0.7 else ""
            ),
            recording=recorded,
            recording_url=recording_url,
            status=s.status,
            price=price,
            interest=interest,
            duration_goal=s.duration,
            motivation=rng.choice(MOTIVATIONS),
            is_active_replay_on_creator_profile=replay_on,
            replay_credit_price=replay_price,
            started_at=self.dt(s.started) if s.started is not None else None,
            planned_start_date=self.dt(s.start),
            ended_at=self.dt(s.ended) if s.ended is not None else None,
            planned_end_date=self.dt(s.end),
            funding_goal=rng.choices([0, 500, 1000, 2000, 5000, 10000], [1, 6, 8, 6, 3, 1])[0],
            collected_funding=s.collected,
            deleted_at=self.dt(s.deleted) if s.deleted is not None else None,
            # The demo's host cancellations were made by their creators.
            cancelled_by_id=self.user_ids[s.creator] if s.status == S.CANCELLED_BY_HOST else None,
            cancelled_at=self.dt(s.refund_at) if s.status == S.CANCELLED_BY_HOST else None,
            created_at=self.dt(s.created),
            updated_at=self.dt(updated),
        )

    def _stream_rows(self) -> Iterator[LiveStream]:
        taken = set(LiveStream.objects.values_list("channel_name", flat=True))
        for s in self.streams:
            yield self._stream_row(s, taken)

    def _guest_rows(self) -> Iterator[StreamGuest]:
        ids = self.user_ids
        for s in self.streams:
            for k, guest in enumerate(s.guests):
                yield StreamGuest(
                    stream_id=s.id, user_id=ids[guest], invited_at=self.dt(s.created + k + 1)
                )

    def _broadcaster_rows(self) -> Iterator[Broadcaster]:
        ids, streams = self.user_ids, self.streams
        for stream, user, role, uid, joined, at in self.broadcasters:
            yield Broadcaster(
                stream_id=streams[stream].id,
                user_id=ids[user],
                role=role,
                uid=uid,
                has_joined=joined,
                created_at=self.dt(at),
            )

    def _mini_rows(self) -> Iterator[MiniCrowdFunding]:
        for m in self.minis:
            if m.stream.refund_at is not None:
                status = MiniCrowdFunding.Status.CANCELLED
            elif m.collected >= m.goal:
                status = MiniCrowdFunding.Status.COMPLETED
            else:
                status = MiniCrowdFunding.Status.ACTIVE
            updated = m.stream.refund_at or m.created
            yield MiniCrowdFunding(
                id=m.id,
                stream_id=m.stream.id,
                title=m.title,
                goal=m.goal,
                collected=m.collected,
                status=status,
                created_at=self.dt(m.created),
                updated_at=self.dt(max(updated, m.created)),
            )

    def _ledger_rows(self) -> Iterator[CreditLedgerEntry]:
        ids, balances = self.user_ids, [0] * len(self.user_ids)
        descriptions = {
            "credit_purchase": "Demo credit purchase",
            "stream_charge": "Demo replay rental of live stream {stream_id}",
            "stream_revenue": "Demo replay revenue of live stream {stream_id}",
        }
        for at, entry_id, user, amount, kind, stream_id in self.ledger:
            balance = balances[user] + amount
            if balance < 0:  # cannot happen: purchases come first and cover every debit
                raise AssertionError(f"negative balance for user {ids[user]}")
            balances[user] = balance
            yield CreditLedgerEntry(
                id=entry_id,
                user_id=ids[user],
                type=kind,
                status=CreditLedgerEntry.Status.COMPLETED,
                amount=amount,
                balance_after=balance,
                description=descriptions.get(
                    kind, f"Demo {CreditLedgerEntry.Type(kind).label.lower()}"
                ).format(stream_id=stream_id),
                stream_id=stream_id,
                created_at=self.dt(at),
            )

    def _funding_fields(self, row: tuple) -> dict:
        cid, user, _, amount, at, debit_id, refund_at, refund_id = row
        refunded = refund_at is not None
        return {
            "id": cid,
            "user_id": self.user_ids[user],
            "amount": amount,
            "status": FundingStatus.REFUNDED if refunded else FundingStatus.COMPLETED,
            "ledger_entry_id": debit_id,
            "refund_ledger_entry_id": refund_id,
            "refunded_at": self.dt(refund_at) if refunded else None,
            "created_at": self.dt(at),
            "updated_at": self.dt(refund_at if refunded else at),
        }

    def _contribution_rows(self) -> Iterator[Contribution]:
        streams = self.streams
        for row in self.contributions:
            yield Contribution(stream_id=streams[row[2]].id, **self._funding_fields(row))

    def _support_rows(self) -> Iterator[MiniCrowdFundingSupport]:
        minis = self.minis
        for row in self.supports:
            yield MiniCrowdFundingSupport(
                mini_crowd_funding_id=minis[row[2]].id, **self._funding_fields(row)
            )

    def _rental_rows(self) -> Iterator[ReplayRental]:
        ids, streams = self.user_ids, self.streams
        for rid, user, stream, rented, *_ in self.rentals:
            yield ReplayRental(
                id=rid,
                user_id=ids[user],
                stream_id=streams[stream].id,
                price=self.replay_prices[stream],
                rented_at=self.dt(rented),
                expires_at=self.dt(rented + 24 * HOUR),
            )

    def _charge_rows(self) -> Iterator[ReplayRentalCharge]:
        ids = self.user_ids
        for rid, _, stream, rented, charge_id, debit_id, settlement in self.rentals:
            charge = ReplayRentalCharge(
                id=charge_id,
                rental_id=rid,
                price=self.replay_prices[stream],
                rented_at=self.dt(rented),
                expires_at=self.dt(rented + 24 * HOUR),
                ledger_entry_id=debit_id,
                created_at=self.dt(rented),
            )
            if settlement is not None:
                settled, creator_entry, guest_entry, creator_share, guest_share, guest = settlement
                charge.status = ReplayRentalCharge.Status.SETTLED
                charge.settled_at = self.dt(settled)
                charge.creator_revenue_entry_id = creator_entry
                charge.guest_revenue_entry_id = guest_entry
                charge.creator_share, charge.guest_share = creator_share, guest_share
                charge.guest_id = ids[guest] if guest is not None else None
            yield charge
