"""The ledger audit: does every stored total agree with the ledger and the money records?

Each check is one aggregate query that returns only the rows that disagree, so it runs over
the whole database in seconds and names each mismatch.

On PostgreSQL the database refuses the writes that would make the books disagree (users
migration 0009), so there the audit finds what a superuser's repair with the triggers off
(`session_replication_role = replica`) broke; on SQLite, what any stray write broke.
"""

from collections.abc import Iterator

from django.db.models import Exists, F, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from crowdfunding.models import (
    Contribution,
    FundingPayout,
    FundingStatus,
    MiniCrowdFunding,
    MiniCrowdFundingSupport,
)
from livestreams.models import Gift, LiveStream, ReplayRental, ReplayRentalCharge
from livestreams.rules import revenue_split
from users.models import CreditLedgerEntry, CreditTransfer, StoreEvent, User

DEBIT_TYPES = {
    Contribution: CreditLedgerEntry.Type.STREAM_FUNDING_CONTRIBUTION,
    MiniCrowdFundingSupport: CreditLedgerEntry.Type.MINI_CROWD_FUNDING_SUPPORT,
}


def _total(model, *, owner: str, field: str, outer: str = "pk", **filters) -> Coalesce:
    """A correlated `SUM(field)` over `model` rows whose `owner` is the outer row's `outer`
    (its own id by default), 0 when there are none."""
    rows = model.objects.filter(**{owner: OuterRef(outer)}, **filters).order_by()
    total = rows.values(owner).annotate(total=Sum(field)).values("total")
    return Coalesce(Subquery(total[:1]), Value(0), output_field=IntegerField())


def _balances() -> Iterator[str]:
    users = User.objects.annotate(
        ledger_total=_total(
            CreditLedgerEntry,
            owner="user",
            field="amount",
            status__in=CreditLedgerEntry.BALANCE_STATUSES,
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
            | ~Q(refund_ledger_entry__status=CreditLedgerEntry.Status.REFUNDED)
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


def _rental_records() -> Iterator[str]:
    """Each rental window is charged once, refunded or settled at most once, and its ledger
    rows say so: the debit, the refund, the revenue shares of the split; no stray rows."""
    charge_type = CreditLedgerEntry.Type.STREAM_CHARGE
    revenue_type = CreditLedgerEntry.Type.STREAM_REVENUE
    charges = ReplayRentalCharge.objects.all()
    bad_debits = charges.filter(
        ~Q(ledger_entry__user=F("rental__user"))
        | ~Q(ledger_entry__amount=-F("price"))
        | ~Q(ledger_entry__type=charge_type)
        | ~Q(ledger_entry__status=CreditLedgerEntry.Status.COMPLETED)
        | ~Q(ledger_entry__stream_id=F("rental__stream_id"))
    )
    for pk in bad_debits.order_by("pk").values_list("pk", flat=True):
        yield f"rental charge {pk}: no matching {charge_type} debit"
    bad_refunds = charges.filter(status=ReplayRentalCharge.Status.REFUNDED).filter(
        ~Q(refund_ledger_entry__user=F("rental__user"))
        | ~Q(refund_ledger_entry__amount=F("price"))
        | ~Q(refund_ledger_entry__type=charge_type)
        | ~Q(refund_ledger_entry__status=CreditLedgerEntry.Status.REFUNDED)
    )
    for pk in bad_refunds.order_by("pk").values_list("pk", flat=True):
        yield f"rental charge {pk}: refunded without a matching refund row"
    early = charges.filter(status=ReplayRentalCharge.Status.SETTLED, settled_at__lt=F("expires_at"))
    for pk in early.order_by("pk").values_list("pk", flat=True):
        yield f"rental charge {pk}: settled before its window closed"

    settled = charges.filter(status=ReplayRentalCharge.Status.SETTLED).values_list(
        "pk", "price", "rental__stream__live_stream_type", "rental__stream__creator_id",
        "guest_id", "creator_share", "guest_share",
        "creator_revenue_entry__user_id", "creator_revenue_entry__amount",
        "creator_revenue_entry__type", "guest_revenue_entry__user_id",
        "guest_revenue_entry__amount", "guest_revenue_entry__type",
    )  # fmt: skip
    for row in settled.order_by("pk").iterator(chunk_size=2000):
        pk, price, kind, creator_id, guest_id, creator_share, guest_share, *entries = row
        expected = revenue_split(price=price, live_stream_type=kind, has_guest=guest_id is not None)
        paid = [
            (entries[0], entries[1], entries[2]) if entries[1] is not None else None,
            (entries[3], entries[4], entries[5]) if entries[4] is not None else None,
        ]
        wanted = [
            (creator_id, expected[0], revenue_type) if expected[0] else None,
            (guest_id, expected[1], revenue_type) if expected[1] else None,
        ]
        if (creator_share, guest_share) != expected or paid != wanted:
            yield (
                f"rental charge {pk}: revenue {paid} does not match the split {wanted} "
                f"of {price} credits"
            )

    linked = {
        charge_type: ("ledger_entry", "refund_ledger_entry"),
        revenue_type: ("creator_revenue_entry", "guest_revenue_entry"),
    }
    for entry_type, fields in linked.items():
        orphans = CreditLedgerEntry.objects.filter(type=entry_type)
        for name in fields:
            orphans = orphans.exclude(
                Exists(ReplayRentalCharge.objects.filter(**{name: OuterRef("pk")}))
            )
            if entry_type == revenue_type:  # or a funding payout's or a gift's share
                for payer in (FundingPayout, Gift):
                    orphans = orphans.exclude(
                        Exists(payer.objects.filter(**{name: OuterRef("pk")}))
                    )
        for pk in orphans.order_by("pk").values_list("pk", flat=True):
            yield f"ledger entry {pk}: {entry_type} row without its rental charge, payout or gift"

    current = ReplayRentalCharge.objects.filter(
        rental=OuterRef("pk"), rented_at=OuterRef("rented_at"), expires_at=OuterRef("expires_at")
    )
    unpaid = ReplayRental.objects.filter(status=ReplayRental.Status.ACTIVE).exclude(
        Exists(current.exclude(status=ReplayRentalCharge.Status.REFUNDED))
    )
    for pk in unpaid.order_by("pk").values_list("pk", flat=True):
        yield f"replay rental {pk}: active without a charge for its window"
    unrefunded = ReplayRental.objects.filter(status=ReplayRental.Status.REFUNDED).exclude(
        Exists(current.filter(status=ReplayRentalCharge.Status.REFUNDED))
    )
    for pk in unrefunded.order_by("pk").values_list("pk", flat=True):
        yield f"replay rental {pk}: refunded but its charge was not"


def _funding_payouts() -> Iterator[str]:
    """Per stream, collected = paid out + still held: a paid-out stream's completed
    contributions and supports sum to its payout's total (none was refunded or added after),
    the total splits by the replay rule into the creator's and guest's `stream_revenue` rows
    (the platform keeps the rest), and only an ended stream is paid out. A stream without a
    payout still holds its funding (`_collected_totals`)."""
    completed = FundingStatus.COMPLETED
    payouts = FundingPayout.objects.annotate(
        contributed=_total(
            Contribution, owner="stream", outer="stream_id", field="amount", status=completed
        ),
        supported=_total(
            MiniCrowdFundingSupport,
            owner="mini_crowd_funding__stream",
            outer="stream_id",
            field="amount",
            status=completed,
        ),
    ).values_list(
        "pk", "paid_at", "stream__funding_paid_out_at", "total", "contributed", "supported",
        "stream_id", "stream__status",
        "stream__live_stream_type", "stream__creator_id", "guest_id", "creator_share",
        "guest_share", "creator_revenue_entry__user_id", "creator_revenue_entry__amount",
        "creator_revenue_entry__type", "creator_revenue_entry__stream_id",
        "guest_revenue_entry__user_id", "guest_revenue_entry__amount",
        "guest_revenue_entry__type", "guest_revenue_entry__stream_id",
    )  # fmt: skip
    revenue = CreditLedgerEntry.Type.STREAM_REVENUE
    for row in payouts.order_by("pk").iterator(chunk_size=2000):
        pk, paid_at, stream_paid_at, total, contributed, supported, stream_id, status = row[:8]
        kind, creator_id, guest_id, creator_share, guest_share, *entries = row[8:]
        if total != contributed + supported:
            yield (
                f"funding payout {pk}: paid out {total} credits but stream {stream_id} holds "
                f"{contributed} in contributions and {supported} in supports"
            )
        if status != LiveStream.Status.ENDED:
            yield f"funding payout {pk}: stream {stream_id} is {status}, not ended"
        if paid_at != stream_paid_at:
            yield f"funding payout {pk}: stream {stream_id} says paid out at {stream_paid_at}"
        expected = revenue_split(price=total, live_stream_type=kind, has_guest=guest_id is not None)
        paid = [tuple(entries[:4]) if entries[1] is not None else None]
        paid.append(tuple(entries[4:]) if entries[5] is not None else None)
        wanted = [
            (creator_id, expected[0], revenue, stream_id) if expected[0] else None,
            (guest_id, expected[1], revenue, stream_id) if expected[1] else None,
        ]
        if (creator_share, guest_share) != expected or paid != wanted:
            yield (
                f"funding payout {pk}: revenue {paid} does not match the split {wanted} "
                f"of {total} credits"
            )
    marked = LiveStream.objects.filter(funding_paid_out_at__isnull=False).exclude(
        Exists(FundingPayout.objects.filter(stream=OuterRef("pk")))
    )
    for pk in marked.order_by("pk").values_list("pk", flat=True):
        yield f"live stream {pk}: marked paid out without a funding payout"


def _purchase_records() -> Iterator[str]:
    """Every purchased credit comes from one store event, every store refund takes back that
    purchase's credits, and no `credit_purchase` row exists without its event."""
    purchase_type = CreditLedgerEntry.Type.CREDIT_PURCHASE
    credited = StoreEvent.objects.filter(outcome=StoreEvent.Outcome.CREDITED).filter(
        ~Q(ledger_entry__user=F("user"))
        | ~Q(ledger_entry__amount=F("credits"))
        | ~Q(ledger_entry__type=purchase_type)
        | ~Q(ledger_entry__status=CreditLedgerEntry.Status.COMPLETED)
    )
    for event_id in credited.order_by("pk").values_list("event_id", flat=True):
        yield f"store event {event_id}: credited without a matching {purchase_type} row"
    refunded = StoreEvent.objects.filter(outcome=StoreEvent.Outcome.REFUNDED).filter(
        Q(refund_of__isnull=True)
        | ~Q(refund_of__outcome=StoreEvent.Outcome.CREDITED)
        | ~Q(refund_of__user=F("user"))
        | ~Q(credits=F("refund_of__credits"))
        | ~Q(ledger_entry__user=F("user"))
        | ~Q(ledger_entry__amount=-F("credits"))
        | ~Q(ledger_entry__type=purchase_type)
        | ~Q(ledger_entry__status=CreditLedgerEntry.Status.REFUNDED)
    )
    for event_id in refunded.order_by("pk").values_list("event_id", flat=True):
        yield f"store event {event_id}: refunded without a matching refund row"
    for pk in _unlinked_entries(purchase_type, StoreEvent, "ledger_entry"):
        yield f"ledger entry {pk}: {purchase_type} row without its store event"


def _unlinked_entries(entry_type: str, record, field: str) -> Iterator[str]:
    """The ids of `entry_type` ledger rows that no `record` row links through `field`."""
    orphans = CreditLedgerEntry.objects.filter(type=entry_type).exclude(
        Exists(record.objects.filter(**{field: OuterRef("pk")}))
    )
    return iter(orphans.order_by("pk").values_list("pk", flat=True))


def _transfer_records() -> Iterator[str]:
    """Each transfer is one debit of the sender and one credit of the recipient, equal."""
    sent_type = CreditLedgerEntry.Type.CREDIT_TRANSFER_SENT
    received_type = CreditLedgerEntry.Type.CREDIT_TRANSFER_RECEIVED
    bad = CreditTransfer.objects.filter(
        ~Q(sent_entry__user=F("sender"))
        | ~Q(sent_entry__amount=-F("amount"))
        | ~Q(sent_entry__type=sent_type)
        | ~Q(received_entry__user=F("recipient"))
        | ~Q(received_entry__amount=F("amount"))
        | ~Q(received_entry__type=received_type)
    )
    for pk in bad.order_by("pk").values_list("pk", flat=True):
        yield f"credit transfer {pk}: its two ledger rows do not match it"
    for entry_type, name in ((sent_type, "sent_entry"), (received_type, "received_entry")):
        for pk in _unlinked_entries(entry_type, CreditTransfer, name):
            yield f"ledger entry {pk}: {entry_type} row without its transfer"


def _gift_records() -> Iterator[str]:
    """Each gift is its sender's `gift_spend` debit and §7's split of it paid as revenue."""
    spend_type = CreditLedgerEntry.Type.GIFT_SPEND
    revenue_type = CreditLedgerEntry.Type.STREAM_REVENUE
    bad_debits = Gift.objects.filter(
        ~Q(spend_entry__user=F("sender"))
        | ~Q(spend_entry__amount=-F("amount"))
        | ~Q(spend_entry__type=spend_type)
        | ~Q(spend_entry__stream_id=F("stream_id"))
    )
    for pk in bad_debits.order_by("pk").values_list("pk", flat=True):
        yield f"gift {pk}: no matching {spend_type} debit"
    gifts = Gift.objects.values_list(
        "pk", "amount", "stream__live_stream_type", "stream__creator_id", "guest_id",
        "creator_share", "guest_share",
        "creator_revenue_entry__user_id", "creator_revenue_entry__amount",
        "creator_revenue_entry__type", "guest_revenue_entry__user_id",
        "guest_revenue_entry__amount", "guest_revenue_entry__type",
    )  # fmt: skip
    for row in gifts.order_by("pk").iterator(chunk_size=2000):
        pk, amount, kind, creator_id, guest_id, creator_share, guest_share, *entries = row
        expected = revenue_split(
            price=amount, live_stream_type=kind, has_guest=guest_id is not None
        )
        paid = [
            (entries[0], entries[1], entries[2]) if entries[1] is not None else None,
            (entries[3], entries[4], entries[5]) if entries[4] is not None else None,
        ]
        wanted = [
            (creator_id, expected[0], revenue_type) if expected[0] else None,
            (guest_id, expected[1], revenue_type) if expected[1] else None,
        ]
        if (creator_share, guest_share) != expected or paid != wanted:
            yield f"gift {pk}: revenue {paid} does not match the split {wanted} of {amount}"
    for pk in _unlinked_entries(spend_type, Gift, "spend_entry"):
        yield f"ledger entry {pk}: {spend_type} row without its gift"


def ledger_mismatches() -> Iterator[str]:
    """Every disagreement between stored totals, money records and the ledger."""
    yield from _balances()
    yield from _collected_totals()
    yield from _money_records()
    yield from _rental_records()
    yield from _funding_payouts()
    yield from _purchase_records()
    yield from _transfer_records()
    yield from _gift_records()
