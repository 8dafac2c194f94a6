"""The ledger audit: does every stored total agree with the ledger and the money records?

Each check is one aggregate query that returns only the rows that disagree, so it runs over
the whole database in seconds and names each mismatch.
"""

from collections.abc import Iterator

from django.db.models import Exists, F, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from crowdfunding.models import (
    Contribution,
    FundingStatus,
    MiniCrowdFunding,
    MiniCrowdFundingSupport,
)
from livestreams.models import LiveStream
from users.models import CreditLedgerEntry, User

DEBIT_TYPES = {
    Contribution: CreditLedgerEntry.Type.STREAM_FUNDING_CONTRIBUTION,
    MiniCrowdFundingSupport: CreditLedgerEntry.Type.MINI_CROWD_FUNDING_SUPPORT,
}


def _total(model, *, owner: str, field: str, **filters) -> Coalesce:
    """A correlated `SUM(field)` over `model` rows of the outer row, 0 when there are none."""
    rows = model.objects.filter(**{owner: OuterRef("pk")}, **filters).order_by()
    total = rows.values(owner).annotate(total=Sum(field)).values("total")
    return Coalesce(Subquery(total[:1]), Value(0), output_field=IntegerField())


def _balances() -> Iterator[str]:
    users = User.objects.annotate(
        ledger_total=_total(
            CreditLedgerEntry,
            owner="user",
            field="amount",
            status=CreditLedgerEntry.Status.COMPLETED,
        )
    ).exclude(credit_balance=F("ledger_total"))
    for user in users.order_by("pk"):
        yield (
            f"user {user.pk} ({user.username}): credit_balance {user.credit_balance} "
            f"!= ledger sum {user.ledger_total}"
        )


def _collected_totals() -> Iterator[str]:
    completed = FundingStatus.COMPLETED
    streams = LiveStream.objects.annotate(
        contributed=_total(Contribution, owner="stream", field="amount", status=completed)
    ).exclude(collected_funding=F("contributed"))
    for stream in streams.order_by("pk"):
        yield (
            f"live stream {stream.pk}: collected_funding {stream.collected_funding} "
            f"!= completed contributions {stream.contributed}"
        )
    minis = MiniCrowdFunding.objects.annotate(
        supported=_total(
            MiniCrowdFundingSupport, owner="mini_crowd_funding", field="amount", status=completed
        )
    ).exclude(collected=F("supported"))
    for mini in minis.order_by("pk"):
        yield (
            f"mini crowd funding {mini.pk}: collected {mini.collected} "
            f"!= completed supports {mini.supported}"
        )


def _money_records() -> Iterator[str]:
    """Each contribution/support is backed by its own ledger rows, of the right sign and owner."""
    for model, debit_type in DEBIT_TYPES.items():
        label = model._meta.verbose_name
        paid = model.objects.filter(status__in=[FundingStatus.COMPLETED, FundingStatus.REFUNDED])
        bad_debits = paid.filter(
            Q(ledger_entry__isnull=True)
            | ~Q(ledger_entry__user=F("user"))
            | ~Q(ledger_entry__amount=-F("amount"))
            | ~Q(ledger_entry__type=debit_type)
            | ~Q(ledger_entry__status=CreditLedgerEntry.Status.COMPLETED)
        )
        for record in bad_debits.order_by("pk"):
            yield f"{label} {record.pk}: no matching {debit_type} ledger row"
        bad_refunds = model.objects.filter(status=FundingStatus.REFUNDED).filter(
            Q(refund_ledger_entry__isnull=True)
            | ~Q(refund_ledger_entry__user=F("user"))
            | ~Q(refund_ledger_entry__amount=F("amount"))
            | ~Q(refund_ledger_entry__type=CreditLedgerEntry.Type.STREAM_FUNDING_REFUND)
        )
        for record in bad_refunds.order_by("pk"):
            yield f"{label} {record.pk}: refunded without a matching refund ledger row"
        unpaid_with_debit = model.objects.filter(
            status__in=[FundingStatus.PENDING, FundingStatus.FAILED], ledger_entry__isnull=False
        )
        for record in unpaid_with_debit.order_by("pk"):
            yield f"{label} {record.pk}: {record.status} but a ledger row took its credits"
        unexpected_refunds = model.objects.exclude(status=FundingStatus.REFUNDED).filter(
            refund_ledger_entry__isnull=False
        )
        for record in unexpected_refunds.order_by("pk"):
            yield f"{label} {record.pk}: has a refund ledger row but is {record.status}"

    # Every spending or refund row belongs to a contribution or a support.
    linked_types = [*DEBIT_TYPES.values(), CreditLedgerEntry.Type.STREAM_FUNDING_REFUND]
    orphans = CreditLedgerEntry.objects.filter(type__in=linked_types)
    for model in DEBIT_TYPES:
        orphans = orphans.exclude(Exists(model.objects.filter(ledger_entry=OuterRef("pk"))))
        orphans = orphans.exclude(Exists(model.objects.filter(refund_ledger_entry=OuterRef("pk"))))
    for pk, entry_type in orphans.order_by("pk").values_list("pk", "type"):
        yield f"ledger entry {pk}: {entry_type} row without its contribution or support"


def ledger_mismatches() -> Iterator[str]:
    """Every disagreement between stored totals, money records and the ledger."""
    yield from _balances()
    yield from _collected_totals()
    yield from _money_records()
