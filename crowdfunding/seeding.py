"""Deterministic demo data: users, streams in every status and type (some deleted), guests,
broadcasters, replay rentals, contributions, mini crowd fundings with supports, and a balanced
credit ledger.

Used by `manage.py seed_demo` and by the benchmark in `bench/`. `DemoSeeder.plan()` draws
everything from one `random.Random(seed)` into plain records (`UserPlan`, `StreamPlan`,
`FundingPlan`, `RentalPlan`, `LedgerEvent`...; ids included, via `object_id_at`); `write()`
turns them into rows, drawing nothing, and inserts them phase by phase with `bulk_create` in
batches, one transaction per phase. Times are integer microseconds from an anchor (default:
today 00:00 UTC), so the same seed and anchor give the same rows.

The rows are those the services would leave: each user first buys credits (`credit_purchase`,
enough for everything they later spend plus a spare); every contribution, support and rental has
its debit row; a stream that expired, was cancelled or was deleted has refunded every
contribution and support (and a deleted one every rental whose window was still open, as
`crowdfunding.services.live_stream_delete` does); a rental whose window closed before the anchor
is settled as `livestreams.services.replay_revenue_settle` settles it. `balance_after` is the
running balance in ledger order (`created_at`, `id`), and the stored totals
(`User.credit_balance`, `LiveStream.collected_funding`, `MiniCrowdFunding.collected`) are the sums
the ledger and the completed rows give: `crowdfunding.audit.ledger_mismatches()` finds nothing.
Which replays can be rented, for how long and how revenue splits are asked of `livestreams`.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from allmine.ids import object_id_at
from crowdfunding.clock import expiry_refund_reason, funding_payout_split, payout_description
from crowdfunding.models import (
    Contribution,
    FundingPayout,
    FundingStatus,
    MiniCrowdFunding,
    MiniCrowdFundingSupport,
)
from livestreams.clock import expiry_deadline, payout_due_at
from livestreams.models import (
    Broadcaster,
    Gift,
    Interest,
    LiveStream,
    ReplayRental,
    ReplayRentalCharge,
    StreamGuest,
)
from livestreams.rules import mini_status, replay_is_rentable, revenue_split
from livestreams.selectors import rental_duration
from livestreams.services import channel_name_for, channel_slug
from users.models import CreditLedgerEntry, CreditTransfer, Media, StoreEvent, User

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


@dataclass(slots=True)
class UserPlan:
    id: str
    username: str
    first_name: str
    last_name: str
    joined: int
    photo_id: str | None
    availability: str
    suspended: bool
    balance: int = 0  # the ledger's sum, set by _plan_ledger


@dataclass(slots=True, eq=False)
class StreamPlan:
    index: int
    id: str
    creator: int
    type: str
    status: str
    created: int
    start: int
    end: int
    started: int | None
    ended: int | None
    close: int  # funding closes
    refund_at: int | None  # expired or cancelled: every funder refunded then
    duration: int
    deleted: int | None = None  # soft-deleted then, refunding as `live_stream_delete` does
    payout_at: int | None = None  # an ended stream's payout is due (`payout_due_at`)
    payout: Payout | None = None  # made when due before the anchor, as the clock makes it
    replay_offered: bool = False
    replay_price: int | None = None
    rich: bool = False
    guests: list[int] = field(default_factory=list)
    collected: int = 0
    # Drawn by _plan_stream_details.
    title: str = ""
    channel_name: str = ""
    interest: str = ""
    motivation: str = ""
    thumbnail_url: str = ""
    price: Decimal | None = None
    funding_goal: int = 0
    recorded: bool = False
    replay_on: bool | None = None

    @property
    def open(self) -> int:
        return self.created + MINUTE

    @property
    def funding_refunded_at(self) -> int | None:
        """When every completed contribution and support was refunded: on expiry or
        cancellation, else on deletion unless the funding was paid out before."""
        if self.refund_at is not None:
            return self.refund_at
        if self.payout is not None and self.deleted is not None and self.payout.at <= self.deleted:
            return None
        return self.deleted

    @property
    def recording_url(self) -> str:
        if self.status == S.ENDED and self.recorded:
            return f"{SEED_MEDIA_PREFIX}recordings/{self.id}.mp4"
        return ""

    def rentable(self, *, deleted: bool) -> bool:
        """`livestreams`' rule: rentable now (`deleted`: as it is), or before its deletion."""
        return replay_is_rentable(
            status=self.status,
            # A plan's times are offsets; the rule only asks whether the stream is deleted.
            deleted_at=self.deleted if deleted else None,
            recording_url=self.recording_url,
            is_active_replay_on_creator_profile=self.replay_on,
            replay_credit_price=self.replay_price,
            live_stream_type=self.type,
            has_guest=bool(self.guests),
        )


@dataclass(slots=True, eq=False)
class MiniPlan:
    id: str
    stream: StreamPlan
    title: str
    goal: int
    created: int
    collected: int = 0


@dataclass(slots=True)
class BroadcasterPlan:
    stream: StreamPlan
    user: int
    role: str
    uid: int | None
    joined: bool
    at: int


@dataclass(slots=True)
class FundingPlan:
    """A contribution (`target` a stream) or a mini crowd funding support (`target` a mini)."""

    id: str
    user: int
    target: StreamPlan | MiniPlan
    stream: StreamPlan
    amount: int
    at: int
    debit_id: str
    refund_at: int | None = None
    refund_id: str | None = None


@dataclass(slots=True)
class Settlement:
    """A rental's revenue, paid as `replay_revenue_settle` pays it once the window closed."""

    at: int
    creator_entry_id: str | None
    guest_entry_id: str | None
    creator_share: int
    guest_share: int
    guest: int | None


@dataclass(slots=True)
class Payout:
    """An ended stream's funding as the clock's `funding_payout_settle` pays it."""

    id: str
    at: int
    total: int
    creator_share: int
    guest_share: int
    guest: int | None
    creator_entry_id: str | None
    guest_entry_id: str | None


@dataclass(slots=True)
class RentalPlan:
    id: str
    user: int
    stream: StreamPlan
    rented: int
    charge_id: str
    debit_id: str
    settlement: Settlement | None = None
    refund_at: int | None = None  # the stream was deleted inside the window
    refund_id: str | None = None

    @property
    def price(self) -> int:
        return self.stream.replay_price

    @property
    def expires(self) -> int:
        return self.rented + rental_duration() // timedelta(microseconds=1)


@dataclass(slots=True)
class LedgerEvent:
    at: int
    id: str
    user: int
    amount: int
    type: str
    stream_id: str
    status: str = CreditLedgerEntry.Status.COMPLETED
    description: str = ""  # the service's description, where the demo does not say "Demo"


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
    """Delete everything the seeder made, children before parents (money rows are PROTECTed),
    and say how many rows of each kind went.

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
            "funding payouts",
            FundingPayout.objects.filter(Q(stream__in=streams) | Q(guest__in=users)),
        )
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
        gifts = Gift.objects.filter(Q(sender__in=users) | Q(stream__in=streams))
        raw("gifts", gifts)
        raw("store events", StoreEvent.objects.filter(user__in=users))
        raw(
            "credit transfers",
            CreditTransfer.objects.filter(Q(sender__in=users) | Q(recipient__in=users)),
        )
        raw("ledger", CreditLedgerEntry.objects.filter(user__in=users))
        raw("guests", StreamGuest.objects.filter(Q(user__in=users) | Q(stream__in=streams)))
        raw("broadcasters", Broadcaster.objects.filter(Q(user__in=users) | Q(stream__in=streams)))
        raw("streams", LiveStream.objects.filter(creator__in=users))
        # `delete()`'s total also counts the rows it cascaded to (idempotency records,
        # tokens, admin log entries...): users are counted alone, the rest under their names.
        _, by_model = User.objects.filter(seed_users()).delete()
        deleted["users"] = by_model.pop(User._meta.label, 0)
        for label, count in by_model.items():
            if count:
                deleted[label] = count
        raw("media", Media.objects.filter(url__startswith=SEED_MEDIA_PREFIX))
    progress.end()
    return deleted


# --- the seeder ----------------------------------------------------------------------------


class DemoSeeder:
    """`plan()` draws everything from the seed into plain records (no database writes, and
    nothing is drawn later); `write()` turns the records into rows and inserts them."""

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
        self.contributions, self.supports = self._plan_funding()
        self.rentals = self._plan_rentals()
        self.payouts = self._plan_payouts()
        self.ledger = self._plan_ledger()
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

    def _crowd_member(self, stream: StreamPlan) -> int:
        """A random user of the crowd other than the stream's creator."""
        pool, rng = self.pool, self.rng
        user = pool[int(rng.random() * len(pool))]
        while user == stream.creator:
            user = pool[int(rng.random() * len(pool))]
        return user

    def _plan_funding(self) -> tuple[list[FundingPlan], list[FundingPlan]]:
        """Contributions and supports, in time order; a stream that expired, was cancelled or
        was deleted has refunded every one of them."""
        rng = self.rng
        refunds_per_stream: dict[int, int] = {}

        def one(user: int, target: StreamPlan | MiniPlan, amount: int, at: int) -> FundingPlan:
            stream = target if isinstance(target, StreamPlan) else target.stream
            debit_id = self.new_id(at)
            funding = FundingPlan(
                id=self.new_id(at),
                user=user,
                target=target,
                stream=stream,
                amount=amount,
                at=at,
                debit_id=debit_id,
            )
            if stream.funding_refunded_at is not None:
                k = refunds_per_stream[stream.index] = refunds_per_stream.get(stream.index, 0) + 1
                funding.refund_at = stream.funding_refunded_at + k  # 1 µs apart, in order
                funding.refund_id = self.new_id(funding.refund_at)
            else:
                target.collected += amount
            return funding

        contributions = []
        for user, funded in self.funded_by.items():
            for stream in funded:
                for _ in range(rng.choice([1, 1, 2])):
                    at = self.between(stream.open, stream.close)
                    contributions.append(one(user, stream, rng.choice(AMOUNTS[:6]), at))

        n = self.o.contributions
        weights = [rng.choice([1, 1, 1, 2, 3, 8]) for _ in self.streams]
        picks = rng.choices(self.streams, weights=weights, k=n)
        amounts = rng.choices(AMOUNTS, AMOUNT_WEIGHTS, k=n)
        for stream, amount in zip(picks, amounts, strict=True):
            user = self._crowd_member(stream)
            contributions.append(one(user, stream, amount, self.between(stream.open, stream.close)))
        contributions.sort(key=lambda c: (c.at, c.id))  # inserted in id/time order

        supports = []
        if self.minis:
            for mini in rng.choices(self.minis, k=self.supports_total):
                stream = mini.stream
                user = self._crowd_member(stream)
                at = self.between(max(stream.open, mini.created + SECOND), stream.close)
                supports.append(one(user, mini, rng.choice([5, 10, 20, 25, 50]), at))
            supports.sort(key=lambda s: (s.at, s.id))
        return contributions, supports

    def _plan_rentals(self) -> list[RentalPlan]:
        """Rentals of replays that were rentable when rented: settled once their window closed
        before the anchor, refunded when the stream was deleted inside the window."""
        rng = self.rng
        rentable = [s for s in self.streams if s.rentable(deleted=s.deleted is not None)]
        if not rentable:
            return []
        deleted = [s for s in self.streams if s.deleted is not None and s.rentable(deleted=False)]
        wanted: list[tuple[int, StreamPlan, int | None]] = []
        # The demo user holds an active rental (rented an hour before the anchor) and an
        # expired one (its window closed six hours before the anchor, and was settled).
        # The first replay the demo user does not host stays `available` to them.
        for_demo = [s for s in rentable if s.creator != self.demo][1:]
        if for_demo:
            active = rng.choice(for_demo)
            wanted.append((self.demo, active, -HOUR))
            ended_earlier = [s for s in for_demo if s is not active and s.ended < -31 * HOUR]
            if ended_earlier:
                wanted.append((self.demo, rng.choice(ended_earlier), -30 * HOUR))
        # Every deleted stream that offered its replay had a renter or two, refunded.
        for stream in deleted:
            for _ in range(rng.choice([1, 2])):
                wanted.append((rng.choice(self.pool), stream, None))
        for _ in range(self.rentals_total):
            wanted.append((rng.choice(self.pool), rng.choice(rentable), None))

        rentals = []
        seen: set[tuple[int, int]] = set()
        for user, stream, rented in wanted:
            # One rental per (user, stream); the creator and guests watch free.
            if user == stream.creator or user in stream.guests or (user, stream.index) in seen:
                continue
            seen.add((user, stream.index))
            if rented is None:
                last = stream.deleted if stream.deleted is not None else 0
                rented = self.between(stream.ended + MINUTE, last - MINUTE)
            rental = RentalPlan(
                id=self.new_id(rented),
                user=user,
                stream=stream,
                rented=rented,
                charge_id=self.new_id(rented),
                debit_id=self.new_id(rented),
            )
            if stream.deleted is not None and stream.deleted < rental.expires:
                rental.refund_at = stream.deleted
                rental.refund_id = self.new_id(stream.deleted)
            elif rental.expires + 10 * MINUTE <= 0:
                rental.settlement = self._settlement(stream, at=rental.expires + 10 * MINUTE)
            rentals.append(rental)
        return rentals

    def _settlement(self, stream: StreamPlan, *, at: int) -> Settlement:
        # The first invited guest earns the guest share (`revenue_guest_id`).
        guest = stream.guests[0] if stream.type != T.SOLO and stream.guests else None
        creator_share, guest_share = revenue_split(
            price=stream.replay_price, live_stream_type=stream.type, has_guest=guest is not None
        )
        return Settlement(
            at=at,
            creator_entry_id=self.new_id(at) if creator_share else None,
            guest_entry_id=self.new_id(at) if guest_share else None,
            creator_share=creator_share,
            guest_share=guest_share,
            guest=guest if guest_share else None,
        )

    def _plan_payouts(self) -> list[StreamPlan]:
        """Ended streams whose payout fell due before the anchor and before any deletion are
        paid out as `crowdfunding.clock.funding_payout_settle` pays them: every completed
        contribution and support, split by `funding_payout_split` (the first invited guest
        earns the guest's share, `revenue_guest_id`)."""
        held: dict[int, int] = {}
        for mini in self.minis:
            held[mini.stream.index] = held.get(mini.stream.index, 0) + mini.collected
        paid = []
        for s in self.streams:
            if s.payout_at is None or s.payout_at > 0:
                continue
            if s.deleted is not None and s.deleted < s.payout_at:
                continue  # deleted first: `live_stream_delete` refunded every funder
            total = s.collected + held.get(s.index, 0)
            guest = s.guests[0] if s.type != T.SOLO and s.guests else None
            creator_share, guest_share = funding_payout_split(
                total=total, live_stream_type=s.type, has_guest=guest is not None
            )
            s.payout = Payout(
                id=self.new_id(s.payout_at),
                at=s.payout_at,
                total=total,
                creator_share=creator_share,
                guest_share=guest_share,
                guest=guest if guest_share else None,
                creator_entry_id=self.new_id(s.payout_at) if creator_share else None,
                guest_entry_id=self.new_id(s.payout_at) if guest_share else None,
            )
            paid.append(s)
        return paid

    def _plan_ledger(self) -> list[LedgerEvent]:
        """Purchases first, then every debit, refund and revenue row, in ledger order
        (`created_at`, `id`); each user's balance is the sum of their rows."""
        rng = self.rng
        L = CreditLedgerEntry.Type
        spent = [0] * len(self.users)
        for funding in (*self.contributions, *self.supports):
            spent[funding.user] += funding.amount
        for rental in self.rentals:
            spent[rental.user] += rental.price
        events = []
        for user, total in enumerate(spent):
            spare = 5000 if user == self.demo else rng.choice([0, 0, 50, 100, 250, 500, 1000])
            if total + spare:
                at = self.users[user].joined + HOUR
                events.append(
                    LedgerEvent(
                        at=at, id=self.new_id(at), user=user, amount=total + spare,
                        type=L.CREDIT_PURCHASE, stream_id="",
                    )
                )  # fmt: skip
        for debit_type, rows in (
            (L.STREAM_FUNDING_CONTRIBUTION, self.contributions),
            (L.MINI_CROWD_FUNDING_SUPPORT, self.supports),
        ):
            for f in rows:
                events.append(
                    LedgerEvent(
                        at=f.at, id=f.debit_id, user=f.user, amount=-f.amount, type=debit_type,
                        stream_id=f.stream.id,
                    )
                )  # fmt: skip
                if f.refund_at is not None:  # as `crowdfunding.services._refund` writes it
                    expired = f.stream.status == S.EXPIRED  # as `live_stream_expire` says it
                    events.append(
                        LedgerEvent(
                            at=f.refund_at, id=f.refund_id, user=f.user, amount=f.amount,
                            type=L.STREAM_FUNDING_REFUND, stream_id=f.stream.id,
                            status=CreditLedgerEntry.Status.REFUNDED,
                            description=expiry_refund_reason(
                                title=f.stream.title, stream_id=f.stream.id
                            ) if expired else "",
                        )
                    )  # fmt: skip
        for r in self.rentals:
            stream = r.stream
            events.append(
                LedgerEvent(
                    at=r.rented, id=r.debit_id, user=r.user, amount=-r.price,
                    type=L.STREAM_CHARGE, stream_id=stream.id,
                )
            )  # fmt: skip
            if r.refund_at is not None:  # as `replay_rental_refunds_post` writes it
                events.append(
                    LedgerEvent(
                        at=r.refund_at, id=r.refund_id, user=r.user, amount=r.price,
                        type=L.STREAM_CHARGE, stream_id=stream.id,
                        status=CreditLedgerEntry.Status.REFUNDED,
                    )
                )  # fmt: skip
            settlement = r.settlement
            if settlement is not None:  # as `replay_revenue_settle` pays it
                for entry_id, user, share in (
                    (settlement.creator_entry_id, stream.creator, settlement.creator_share),
                    (settlement.guest_entry_id, settlement.guest, settlement.guest_share),
                ):
                    if entry_id:
                        events.append(
                            LedgerEvent(
                                at=settlement.at, id=entry_id, user=user, amount=share,
                                type=L.STREAM_REVENUE, stream_id=stream.id,
                            )
                        )  # fmt: skip
        for s in self.payouts:  # as `funding_payout_settle` pays them
            p = s.payout
            for entry_id, user, share in (
                (p.creator_entry_id, s.creator, p.creator_share),
                (p.guest_entry_id, p.guest, p.guest_share),
            ):
                if entry_id:
                    events.append(
                        LedgerEvent(
                            at=p.at, id=entry_id, user=user, amount=share,
                            type=L.STREAM_REVENUE, stream_id=s.id,
                            description=payout_description(title=s.title, stream_id=s.id),
                        )
                    )  # fmt: skip
        events.sort(key=lambda e: (e.at, e.id))
        for event in events:
            self.users[event.user].balance += event.amount
        return events

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
        photos = sum(user.photo_id is not None for user in self.users)
        guests = sum(len(s.guests) for s in self.streams)
        for label, model, rows, total in (
            ("media", Media, self._media_rows(), photos),
            ("users", User, self._user_rows(), len(self.users)),
            ("streams", LiveStream, self._stream_rows(), len(self.streams)),
            ("guests", StreamGuest, self._guest_rows(), guests),
            ("broadcasters", Broadcaster, self._broadcaster_rows(), len(self.broadcasters)),
            ("mini crowd fundings", MiniCrowdFunding, self._mini_rows(), len(self.minis)),
            ("credit ledger", CreditLedgerEntry, self._ledger_rows(), len(self.ledger)),
            ("store events", StoreEvent, self._store_event_rows(), self._purchase_count()),
            ("contributions", Contribution, self._contribution_rows(), len(self.contributions)),
            ("mini supports", MiniCrowdFundingSupport, self._support_rows(), len(self.supports)),
            ("replay rentals", ReplayRental, self._rental_rows(), len(self.rentals)),
            ("replay rental charges", ReplayRentalCharge, self._charge_rows(), len(self.rentals)),
            ("funding payouts", FundingPayout, self._payout_rows(), len(self.payouts)),
        ):
            self._write(label, model, rows, total)
        if connection.vendor == "postgresql":
            # Fresh statistics, as autovacuum would give a while later: without them the
            # planner guesses one row per table and picks scans sized for empty tables.
            self.progress.start("analyze")
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
            self.progress.end()
        counts = {
            "users": len(self.users),
            "streams": len(self.streams),
            "deleted_streams": sum(s.deleted is not None for s in self.streams),
            "contributions": len(self.contributions),
            "mini_crowd_fundings": len(self.minis),
            "mini_supports": len(self.supports),
            "ledger_entries": len(self.ledger),
            "rentals": len(self.rentals),
            "rental_charges": len(self.rentals),
            "funding_payouts": len(self.payouts),
        }
        return SeedSummary(counts=counts, seconds=dict(self.progress.seconds))

    def run(self) -> SeedSummary:
        self.plan()
        return self.write()

    # Each row builder reads the plan only: no random draws, no state.

    def _media_rows(self) -> Iterator[Media]:
        for user in self.users:
            if user.photo_id is None:
                continue
            at = self.dt(user.joined)
            base = f"{SEED_MEDIA_PREFIX}profiles/{user.id}"
            yield Media(
                id=user.photo_id,
                url=f"{base}.jpg",
                variants={"40": f"{base}/40.webp", "76": f"{base}/76.webp"},
                created_at=at,
                updated_at=at,
            )

    def _user_rows(self) -> Iterator[User]:
        for user in self.users:
            joined = self.dt(user.joined)
            yield User(
                id=user.id,
                username=user.username,
                email=f"{user.username}@{SEED_EMAIL_DOMAIN}",
                first_name=user.first_name,
                last_name=user.last_name,
                password=self.password,
                date_joined=joined,
                updated_at=joined,
                profile_photo_id=user.photo_id,
                availability_status=user.availability,
                account_status=(
                    User.AccountStatus.SUSPENDED if user.suspended else User.AccountStatus.ACTIVE
                ),
                credit_balance=user.balance,
            )

    def _stream_rows(self) -> Iterator[LiveStream]:
        ids = [user.id for user in self.users]
        for s in self.streams:
            paid = s.payout.at if s.payout is not None else None
            updated = max(
                x for x in (s.created, s.started, s.ended, s.refund_at, s.deleted, paid) if x
            )
            yield LiveStream(
                id=s.id,
                creator_id=ids[s.creator],
                title=s.title,
                live_stream_type=s.type,
                channel_name=s.channel_name,
                thumbnail_url=s.thumbnail_url,
                recording=s.recorded,
                recording_url=s.recording_url,
                status=s.status,
                price=s.price,
                interest=s.interest,
                duration_goal=s.duration,
                motivation=s.motivation,
                is_active_replay_on_creator_profile=s.replay_on,
                replay_credit_price=s.replay_price,
                started_at=self.dt(s.started) if s.started is not None else None,
                planned_start_date=self.dt(s.start),
                ended_at=self.dt(s.ended) if s.ended is not None else None,
                planned_end_date=self.dt(s.end),
                funding_goal=s.funding_goal,
                collected_funding=s.collected,
                deleted_at=self.dt(s.deleted) if s.deleted is not None else None,
                # The demo's host cancellations were made by their creators.
                cancelled_by_id=ids[s.creator] if s.status == S.CANCELLED_BY_HOST else None,
                cancelled_at=self.dt(s.refund_at) if s.status == S.CANCELLED_BY_HOST else None,
                funding_paid_out_at=self.dt(s.payout.at) if s.payout is not None else None,
                created_at=self.dt(s.created),
                updated_at=self.dt(updated),
            )

    def _guest_rows(self) -> Iterator[StreamGuest]:
        ids = [user.id for user in self.users]
        for s in self.streams:
            for k, guest in enumerate(s.guests):
                yield StreamGuest(
                    stream_id=s.id, user_id=ids[guest], invited_at=self.dt(s.created + k + 1)
                )

    def _broadcaster_rows(self) -> Iterator[Broadcaster]:
        ids = [user.id for user in self.users]
        for b in self.broadcasters:
            yield Broadcaster(
                stream_id=b.stream.id,
                user_id=ids[b.user],
                role=b.role,
                uid=b.uid,
                has_joined=b.joined,
                created_at=self.dt(b.at),
            )

    def _mini_rows(self) -> Iterator[MiniCrowdFunding]:
        for m in self.minis:
            closed = m.stream.funding_refunded_at
            if closed is not None:
                status = MiniCrowdFunding.Status.CANCELLED
            else:
                status = mini_status(
                    status=MiniCrowdFunding.Status.ACTIVE, collected=m.collected, goal=m.goal
                )
            yield MiniCrowdFunding(
                id=m.id,
                stream_id=m.stream.id,
                title=m.title,
                goal=m.goal,
                collected=m.collected,
                status=status,
                created_at=self.dt(m.created),
                updated_at=self.dt(max(closed or m.created, m.created)),
            )

    def _ledger_rows(self) -> Iterator[CreditLedgerEntry]:
        ids, balances = [user.id for user in self.users], [0] * len(self.users)
        L = CreditLedgerEntry.Type
        descriptions = {
            L.CREDIT_PURCHASE: "Demo credit purchase",
            L.STREAM_CHARGE: "Demo replay rental of live stream {stream_id}",
            L.STREAM_REVENUE: "Demo replay revenue of live stream {stream_id}",
        }
        for e in self.ledger:
            balance = balances[e.user] + e.amount
            if balance < 0:  # cannot happen: purchases come first and cover every debit
                raise AssertionError(f"negative balance for user {ids[e.user]}")
            balances[e.user] = balance
            if e.description:
                description = e.description
            elif e.type == L.STREAM_CHARGE and e.status == CreditLedgerEntry.Status.REFUNDED:
                description = "Demo refund of the replay rental of live stream {stream_id}"
            else:
                description = descriptions.get(e.type, f"Demo {L(e.type).label.lower()}")
            yield CreditLedgerEntry(
                id=e.id,
                user_id=ids[e.user],
                type=e.type,
                status=e.status,
                amount=e.amount,
                balance_after=balance,
                description=description.format(stream_id=e.stream_id),
                stream_id=e.stream_id,
                created_at=self.dt(e.at),
            )

    def _purchases(self) -> Iterator[LedgerEvent]:
        return (e for e in self.ledger if e.type == CreditLedgerEntry.Type.CREDIT_PURCHASE)

    def _purchase_count(self) -> int:
        return sum(1 for _ in self._purchases())

    def _store_event_rows(self) -> Iterator[StoreEvent]:
        """Each purchase as the store event that credited it (a test-store purchase, as
        `users.purchases.credit_package_test_purchase` records one)."""
        for e in self._purchases():
            yield StoreEvent(
                event_id=f"seed-{e.id}",
                event_type="TEST_PURCHASE",
                app_user_id=self.users[e.user].id,
                transaction_id=f"seed-{e.id}",
                user_id=self.users[e.user].id,
                outcome=StoreEvent.Outcome.CREDITED,
                detail=f"{e.amount} credits",
                credits=e.amount,
                ledger_entry_id=e.id,
                payload={"store": "TEST", "seeded": True},
                received_at=self.dt(e.at),
            )

    def _funding_fields(self, f: FundingPlan) -> dict:
        refunded = f.refund_at is not None
        return {
            "id": f.id,
            "user_id": self.users[f.user].id,
            "amount": f.amount,
            "status": FundingStatus.REFUNDED if refunded else FundingStatus.COMPLETED,
            "ledger_entry_id": f.debit_id,
            "refund_ledger_entry_id": f.refund_id,
            "refunded_at": self.dt(f.refund_at) if refunded else None,
            "created_at": self.dt(f.at),
            "updated_at": self.dt(f.refund_at if refunded else f.at),
        }

    def _contribution_rows(self) -> Iterator[Contribution]:
        for f in self.contributions:
            yield Contribution(stream_id=f.target.id, **self._funding_fields(f))

    def _support_rows(self) -> Iterator[MiniCrowdFundingSupport]:
        for f in self.supports:
            yield MiniCrowdFundingSupport(
                mini_crowd_funding_id=f.target.id, **self._funding_fields(f)
            )

    def _payout_rows(self) -> Iterator[FundingPayout]:
        ids = [user.id for user in self.users]
        for s in self.payouts:
            p = s.payout
            yield FundingPayout(
                id=p.id,
                stream_id=s.id,
                total=p.total,
                creator_share=p.creator_share,
                guest_id=ids[p.guest] if p.guest is not None else None,
                guest_share=p.guest_share,
                creator_revenue_entry_id=p.creator_entry_id,
                guest_revenue_entry_id=p.guest_entry_id,
                paid_at=self.dt(p.at),
            )

    def _rental_rows(self) -> Iterator[ReplayRental]:
        for r in self.rentals:
            yield ReplayRental(
                id=r.id,
                user_id=self.users[r.user].id,
                stream_id=r.stream.id,
                price=r.price,
                status=(
                    ReplayRental.Status.REFUNDED
                    if r.refund_at is not None
                    else ReplayRental.Status.ACTIVE
                ),
                rented_at=self.dt(r.rented),
                expires_at=self.dt(r.expires),
            )

    def _charge_rows(self) -> Iterator[ReplayRentalCharge]:
        for r in self.rentals:
            charge = ReplayRentalCharge(
                id=r.charge_id,
                rental_id=r.id,
                price=r.price,
                rented_at=self.dt(r.rented),
                expires_at=self.dt(r.expires),
                ledger_entry_id=r.debit_id,
                created_at=self.dt(r.rented),
            )
            if r.refund_at is not None:
                charge.status = ReplayRentalCharge.Status.REFUNDED
                charge.refunded_at = self.dt(r.refund_at)
                charge.refund_ledger_entry_id = r.refund_id
            elif (settlement := r.settlement) is not None:
                charge.status = ReplayRentalCharge.Status.SETTLED
                charge.settled_at = self.dt(settlement.at)
                charge.creator_revenue_entry_id = settlement.creator_entry_id
                charge.guest_revenue_entry_id = settlement.guest_entry_id
                charge.creator_share = settlement.creator_share
                charge.guest_share = settlement.guest_share
                if settlement.guest is not None:
                    charge.guest_id = self.users[settlement.guest].id
            yield charge
