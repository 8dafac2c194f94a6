"""What the seeder creates: the options (sizes, the demo's and the callers' specials), the
weights and words it draws from, and the plain records `Planner` draws (`UserPlan`,
`StreamPlan`, `FundingPlan`, `RentalPlan`, `LedgerEvent`...; ids included). Times are integer
microseconds from the anchor."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from decimal import Decimal

from django.utils import timezone

from crowdfunding.seeding.demo import SEED_MEDIA_PREFIX
from livestreams.models import Interest, LiveStream
from livestreams.rules import replay_is_rentable
from livestreams.selectors import rental_duration
from users.models import CreditLedgerEntry

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
    balance: int = 0  # the ledger's sum, set by money.plan_ledger


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
