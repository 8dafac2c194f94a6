"""Contributions and mini crowd funding supports, built in one place.

A paid record's rules live here once: which ledger row pays for it (its type, its signed
amount, its stream and its description) and how its status follows from its ledger links
(completed: its debit, no refund; refunded: its debit, its refund row and the refund's time;
pending or failed: no refund; the database's `ledger_links_match_status` constraint says the
same); and the refund's own ledger row (`refund_post`). The fund and support services, the demo
seeder (`crowdfunding.seeding.rows`, in bulk) and the test factories
(`tests/crowdfunding/factories.py`) all ask here.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from crowdfunding.models import Contribution, FundingStatus, MiniCrowdFundingSupport
from users.models import CreditLedgerEntry
from users.services import ledger_post

if TYPE_CHECKING:
    from crowdfunding.models import MiniCrowdFunding
    from livestreams.models import LiveStream

CONTRIBUTION_DEBIT = CreditLedgerEntry.Type.STREAM_FUNDING_CONTRIBUTION
SUPPORT_DEBIT = CreditLedgerEntry.Type.MINI_CROWD_FUNDING_SUPPORT
REFUND = CreditLedgerEntry.Type.STREAM_FUNDING_REFUND


def contribution_debit_post(*, user_id: str, stream: LiveStream, amount: int) -> CreditLedgerEntry:
    """The ledger row that pays for a contribution of `amount` credits to `stream` (the caller
    holds the stream's lock and runs in a transaction, as `ledger_post` asks)."""
    return ledger_post(
        user_id=user_id,
        amount=-amount,
        entry_type=CONTRIBUTION_DEBIT,
        description=f"Funding of live stream “{stream.title}” ({stream.pk})",
        stream_id=stream.pk,
    )


def support_debit_post(
    *, user_id: str, mini: MiniCrowdFunding, stream: LiveStream, amount: int
) -> CreditLedgerEntry:
    """The ledger row that pays for a support of `amount` credits to `mini` of `stream`."""
    return ledger_post(
        user_id=user_id,
        amount=-amount,
        entry_type=SUPPORT_DEBIT,
        description=f"Support of “{mini.title}” on live stream “{stream.title}” ({stream.pk})",
        stream_id=stream.pk,
    )


def refund_post(*, user_id: str, amount: int, stream_id: str, reason: str) -> CreditLedgerEntry:
    """The ledger row that gives a paid record's `amount` credits back to its payer (the
    caller holds the locks and runs in a transaction, as `ledger_post` asks)."""
    return ledger_post(
        user_id=user_id,
        amount=amount,
        entry_type=REFUND,
        description=reason,
        stream_id=stream_id,
        status=CreditLedgerEntry.Status.REFUNDED,
    )


def _paid_record_fields(
    *,
    user_id: str,
    amount: int,
    ledger_entry_id: str | None,
    refund_ledger_entry_id: str | None,
    refunded_at: datetime | None,
    status: str | None,
) -> dict:
    """The fields every paid record has; `status` defaults to what its ledger links say."""
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 1:
        raise ValueError(f"a paid record's amount is a positive integer, not {amount!r}")
    refunded = refund_ledger_entry_id is not None
    if refunded != (refunded_at is not None):
        raise ValueError("a refund needs both its ledger row and its time")
    if status is None:
        status = FundingStatus.REFUNDED if refunded else FundingStatus.COMPLETED
    paid = status in (FundingStatus.COMPLETED, FundingStatus.REFUNDED)
    if paid and ledger_entry_id is None:
        raise ValueError(f"a {status} record needs the ledger row that paid for it")
    if refunded != (status == FundingStatus.REFUNDED):
        raise ValueError(f"a {status} record {'has no' if refunded else 'needs a'} refund")
    return {
        "user_id": user_id,
        "amount": amount,
        "status": status,
        "ledger_entry_id": ledger_entry_id,
        "refund_ledger_entry_id": refund_ledger_entry_id,
        "refunded_at": refunded_at,
    }


def _stamps(**given) -> dict:
    """The id and times given; those not given keep the model's defaults (a new id, now)."""
    return {name: value for name, value in given.items() if value is not None}


def contribution_row(
    *,
    user_id: str,
    stream_id: str,
    amount: int,
    ledger_entry_id: str | None,
    refund_ledger_entry_id: str | None = None,
    refunded_at: datetime | None = None,
    status: str | None = None,
    id: str | None = None,
    created_at: datetime | None = None,
    updated_at: datetime | None = None,
) -> Contribution:
    """An unsaved contribution; `id` and the times where the caller plans them (the seeder),
    else the model's defaults."""
    fields = _paid_record_fields(
        user_id=user_id,
        amount=amount,
        ledger_entry_id=ledger_entry_id,
        refund_ledger_entry_id=refund_ledger_entry_id,
        refunded_at=refunded_at,
        status=status,
    )
    stamps = _stamps(id=id, created_at=created_at, updated_at=updated_at)
    return Contribution(stream_id=stream_id, **fields, **stamps)


def support_row(
    *,
    user_id: str,
    mini_crowd_funding_id: str,
    amount: int,
    ledger_entry_id: str | None,
    refund_ledger_entry_id: str | None = None,
    refunded_at: datetime | None = None,
    status: str | None = None,
    id: str | None = None,
    created_at: datetime | None = None,
    updated_at: datetime | None = None,
) -> MiniCrowdFundingSupport:
    """An unsaved mini crowd funding support (`id` and times as for `contribution_row`)."""
    fields = _paid_record_fields(
        user_id=user_id,
        amount=amount,
        ledger_entry_id=ledger_entry_id,
        refund_ledger_entry_id=refund_ledger_entry_id,
        refunded_at=refunded_at,
        status=status,
    )
    stamps = _stamps(id=id, created_at=created_at, updated_at=updated_at)
    return MiniCrowdFundingSupport(mini_crowd_funding_id=mini_crowd_funding_id, **fields, **stamps)
