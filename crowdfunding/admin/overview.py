"""The admin's funds overview: how scheduled streams are funded, money in and out per day,
and the ledger audit's latest result. Each part is a fixed number of queries."""

import contextlib
from datetime import timedelta

from django.core.cache import cache
from django.core.paginator import Paginator
from django.db.models import Case, Count, Exists, F, IntegerField, OuterRef, Q, Sum, Value, When
from django.db.models.functions import TruncDate
from django.utils import timezone

from allmine.admin_mixins import start_of_day
from crowdfunding.audit import ledger_mismatches
from crowdfunding.models import FundingPayout, FundingStatus, MiniCrowdFunding
from livestreams.models import LiveStream
from livestreams.rules import Action, statuses_for
from users.models import CreditLedgerEntry

STREAMS_PER_PAGE = 50
DAYS = 30
AUDIT_CACHE_KEY = "admin:funds-overview:audit"
AUDIT_TTL_SECONDS = 300
AUDIT_SHOWN = 200  # mismatches listed on the page; the count is always complete

# Sortable columns of the streams table: query parameter -> ordering expression.
STREAM_ORDERINGS = {
    "start": "planned_start_date",
    "title": "title",
    "goal": "funding_goal",
    "collected": "collected_funding",
    "percentage": "percentage",
    "funders": "funders",
}
STREAM_COLUMNS = [
    ("Stream", "title"),
    ("Planned start", "start"),
    ("Goal", "goal"),
    ("Collected", "collected"),
    ("Funding %", "percentage"),
    ("Funders", "funders"),
]
T = CreditLedgerEntry.Type


def scheduled_streams(order: str):
    """Streams that take funding (scheduled, planned start still ahead: `funding_is_open`),
    with goal, collected, percentage and distinct funders. `order` is a key of
    `STREAM_ORDERINGS`, "-" first for descending."""
    key = order.removeprefix("-")
    if key not in STREAM_ORDERINGS:
        order, key = "start", "start"
    field = STREAM_ORDERINGS[key]
    ordering = [f"-{field}" if order.startswith("-") else field, "pk"]
    return (
        LiveStream.objects.alive()
        .filter(status__in=statuses_for(Action.FUND), planned_start_date__gt=timezone.now())
        .select_related("creator")
        .annotate(
            percentage=Case(
                When(funding_goal__gt=0, then=F("collected_funding") * 100 / F("funding_goal")),
                default=Value(0),
                output_field=IntegerField(),
            ),
            funders=Count(
                "contributions__user",
                filter=Q(contributions__status=FundingStatus.COMPLETED),
                distinct=True,
            ),
        )
        .order_by(*ordering)
    )


# The columns of "money in and out per day": (key, heading, what it counts). "In" is credits
# users paid to streams (held for the stream, or the platform's until revenue is paid); "out"
# is credits given back to users from those payments, or paid to the people who streamed.
DAY_COLUMNS = [
    ("bought", "Bought or granted", "credits added to wallets: purchases and admin grants"),
    ("funded", "In: funding", "credits given to streams and their mini crowd fundings"),
    ("rented", "In: rentals", "credits paid for replay rentals (stream charges)"),
    (
        "refunded",
        "Out: refunds",
        "funding, supports and rentals given back to their payers (cancelled, deleted, operator)",
    ),
    ("expired", "Out: expired", "funding and supports given back when their stream expired"),
    ("paid_out", "Out: revenue", "replay revenue paid to creators and guests"),
    ("funding_paid", "Out: funding paid out", "funding paid to creators and guests after streams"),
    ("held", "Funding held", "funding and supports held for streams at the day's end"),
    ("net", "Net in", "in minus out: what the day's payments left with streams and the platform"),
]
DAY_KEYS = [key for key, _, _ in DAY_COLUMNS]
SUMMED_KEYS = [key for key in DAY_KEYS if key not in ("held", "net")]


def funding_held_now() -> int:
    """Credits of completed contributions and supports still held: on streams not paid out.
    Two queries."""
    unpaid = ~Q(Exists(FundingPayout.objects.filter(stream=OuterRef("pk"))))
    streams = LiveStream.objects.filter(unpaid).aggregate(s=Sum("collected_funding"))["s"]
    minis = MiniCrowdFunding.objects.exclude(
        Exists(FundingPayout.objects.filter(stream=OuterRef("stream_id")))
    ).aggregate(s=Sum("collected"))["s"]
    return (streams or 0) + (minis or 0)


def money_per_day(*, days: int = DAYS, today=None) -> list[dict]:
    """For each of the last `days` days (oldest first, today included, in the site's time
    zone), the sums `DAY_COLUMNS` describe, over the ledger rows whose money moved; "held" is
    walked back from what is held now through each day's funding in and out (the platform's
    share of a payout leaves the streams too). Four queries."""
    today = today or timezone.localdate()
    first = today - timedelta(days=days - 1)
    expired = Q(
        stream_id__in=LiveStream.objects.filter(status=LiveStream.Status.EXPIRED).values("pk")
    )
    payout_share = Q(
        Exists(
            FundingPayout.objects.filter(
                Q(creator_revenue_entry=OuterRef("pk")) | Q(guest_revenue_entry=OuterRef("pk"))
            )
        )
    )
    rows = (
        CreditLedgerEntry.objects.filter(
            created_at__gte=start_of_day(first),
            status__in=CreditLedgerEntry.BALANCE_STATUSES,
        )
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(
            bought=Sum("amount", filter=Q(type__in=[T.CREDIT_PURCHASE, T.ADMIN_ADJUSTMENT])),
            funded=Sum(
                -F("amount"),
                filter=Q(type__in=[T.STREAM_FUNDING_CONTRIBUTION, T.MINI_CROWD_FUNDING_SUPPORT]),
            ),
            rented=Sum(-F("amount"), filter=Q(type=T.STREAM_CHARGE, amount__lt=0)),
            refunded=Sum(
                "amount",
                filter=(Q(type=T.STREAM_FUNDING_REFUND) & ~expired)
                | Q(type=T.STREAM_CHARGE, amount__gt=0),
            ),
            expired=Sum("amount", filter=Q(type=T.STREAM_FUNDING_REFUND) & expired),
            funding_refunded=Sum("amount", filter=Q(type=T.STREAM_FUNDING_REFUND)),
            paid_out=Sum("amount", filter=Q(type=T.STREAM_REVENUE) & ~payout_share),
            funding_paid=Sum("amount", filter=Q(type=T.STREAM_REVENUE) & payout_share),
        )
        .order_by("day")
    )
    by_day = {row["day"]: row for row in rows}
    kept = (
        FundingPayout.objects.filter(paid_at__gte=start_of_day(first))
        .annotate(day=TruncDate("paid_at"))
        .values("day")
        .annotate(kept=Sum(F("total") - F("creator_share") - F("guest_share")))
        .order_by("day")
    )
    platform = {row["day"]: row["kept"] or 0 for row in kept}
    result = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        sums = by_day.get(day, {})
        row = {key: sums.get(key) or 0 for key in SUMMED_KEYS}
        row["net"] = (
            row["funded"] + row["rented"] - row["refunded"] - row["expired"] - row["paid_out"]
        ) - row["funding_paid"]
        # What the day changed in the funding held: in, minus refunds, payouts and their
        # platform share.
        row["held_change"] = row["funded"] - (sums.get("funding_refunded") or 0)
        row["held_change"] -= row["funding_paid"] + platform.get(day, 0)
        result.append({"day": day, **row})
    held = funding_held_now()
    for row in reversed(result):
        row["held"] = held
        held -= row.pop("held_change")
    return [{"day": row["day"], **{key: row[key] for key in DAY_KEYS}} for row in result]


def audit_result(*, refresh: bool = False) -> dict:
    """The ledger audit (`manage.py audit_ledger`): its mismatches and when it ran. Kept for
    `AUDIT_TTL_SECONDS` in the cache, so opening the page does not rerun it each time;
    `refresh` reruns it now. Without a cache (Redis down) it runs each time."""
    if not refresh:
        try:
            cached = cache.get(AUDIT_CACHE_KEY)
        except Exception:  # a cache outage must not hide the audit
            cached = None
        if cached is not None:
            return cached
    mismatches = list(ledger_mismatches())
    result = {
        "computed_at": timezone.now(),
        "count": len(mismatches),
        "mismatches": mismatches[:AUDIT_SHOWN],
    }
    with contextlib.suppress(Exception):
        cache.set(AUDIT_CACHE_KEY, result, AUDIT_TTL_SECONDS)
    return result


def overview_context(request) -> dict:
    order = request.GET.get("o", "start")
    page = Paginator(scheduled_streams(order), STREAMS_PER_PAGE).get_page(request.GET.get("p"))
    days = money_per_day()
    return {
        "streams": page,
        "order": order,
        "columns": [
            # (label, sort key, query string that sorts by it: descending if already ascending)
            (label, key, f"?o=-{key}" if order == key else f"?o={key}")
            for label, key in STREAM_COLUMNS
        ],
        "days": days,
        "day_columns": DAY_COLUMNS,
        "day_totals": {
            **{key: sum(day[key] for day in days) for key in DAY_KEYS},
            "held": days[-1]["held"] if days else 0,
        },
        "audit": audit_result(refresh=request.method == "POST" and "rerun_audit" in request.POST),
    }
