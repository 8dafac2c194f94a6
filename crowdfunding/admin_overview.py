"""The admin's funds overview: how scheduled streams are funded, money in and out per day,
and the ledger audit's latest result. Each part is a fixed number of queries."""

import contextlib
from datetime import timedelta

from django.core.cache import cache
from django.core.paginator import Paginator
from django.db.models import Case, Count, F, IntegerField, Q, Sum, Value, When
from django.db.models.functions import TruncDate
from django.utils import timezone

from allmine.admin_mixins import start_of_day
from crowdfunding.audit import ledger_mismatches
from crowdfunding.models import FundingStatus
from crowdfunding.services import FUNDABLE_STATUSES
from livestreams.models import LiveStream
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
    """Streams that take funding, with goal, collected, percentage and distinct funders.
    `order` is a key of `STREAM_ORDERINGS`, "-" first for descending."""
    key = order.removeprefix("-")
    if key not in STREAM_ORDERINGS:
        order, key = "start", "start"
    field = STREAM_ORDERINGS[key]
    ordering = [f"-{field}" if order.startswith("-") else field, "pk"]
    return (
        LiveStream.objects.alive()
        .filter(status__in=FUNDABLE_STATUSES)
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
# is credits given back to users from those payments.
DAY_COLUMNS = [
    ("bought", "Bought or granted", "credits added to wallets: purchases and admin grants"),
    ("funded", "In: funding", "credits given to streams and their mini crowd fundings"),
    ("rented", "In: rentals", "credits paid for replay rentals (stream charges)"),
    ("refunded", "Out: refunds", "funding, supports and rentals given back to their payers"),
    ("paid_out", "Out: revenue", "replay revenue paid to creators and guests"),
    ("net", "Net in", "in minus out: what the day's payments left with streams and the platform"),
]
DAY_KEYS = [key for key, _, _ in DAY_COLUMNS]


def money_per_day(*, days: int = DAYS, today=None) -> list[dict]:
    """For each of the last `days` days (oldest first, today included, in the site's time
    zone), the sums `DAY_COLUMNS` describe, over the ledger rows whose money moved. One
    query."""
    today = today or timezone.localdate()
    first = today - timedelta(days=days - 1)
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
                filter=Q(type=T.STREAM_FUNDING_REFUND) | Q(type=T.STREAM_CHARGE, amount__gt=0),
            ),
            paid_out=Sum("amount", filter=Q(type=T.STREAM_REVENUE)),
        )
        .order_by("day")
    )
    by_day = {row["day"]: row for row in rows}
    result = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        row = {key: by_day.get(day, {}).get(key) or 0 for key in DAY_KEYS if key != "net"}
        row["net"] = row["funded"] + row["rented"] - row["refunded"] - row["paid_out"]
        result.append({"day": day, **row})
    return result


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
        "day_totals": {key: sum(day[key] for day in days) for key in DAY_KEYS},
        "audit": audit_result(refresh=request.method == "POST" and "rerun_audit" in request.POST),
    }
