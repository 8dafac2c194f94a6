"""Reads of the users app: who a sign-in names, and the caller's wallet transactions."""

from collections.abc import Sequence
from datetime import datetime

from django.db.models import QuerySet

from users.models import CreditLedgerEntry, User

# Types the original system knows (API.md §8); ours are a subset. Filtering by one we never
# write is valid and finds nothing.
KNOWN_TRANSACTION_TYPES = (
    *CreditLedgerEntry.Type.values,
    "credit_transfer_sent",
    "credit_transfer_received",
    "gift_spend",
    "balance_lock_hold",
    "balance_lock_refund",
)


class Direction:
    CREDIT = "credit"
    DEBIT = "debit"


def ledger_entries_for_user(
    *,
    user: User,
    types: Sequence[str] = (),
    statuses: Sequence[str] = (),
    direction: str | None = None,
    date_from: datetime | None = None,
    date_to: datetime | None = None,
    newest_first: bool = True,
) -> QuerySet[CreditLedgerEntry]:
    """The user's ledger rows, filtered (empty filters: everything), ordered by time then id.

    Served by the (user, created_at, id) index."""
    entries = CreditLedgerEntry.objects.filter(user=user)
    if types:
        entries = entries.filter(type__in=types)
    if statuses:
        entries = entries.filter(status__in=statuses)
    if direction == Direction.CREDIT:
        entries = entries.filter(amount__gt=0)
    elif direction == Direction.DEBIT:
        entries = entries.filter(amount__lt=0)
    if date_from is not None:
        entries = entries.filter(created_at__gte=date_from)
    if date_to is not None:
        entries = entries.filter(created_at__lte=date_to)
    order = ["-created_at", "-id"] if newest_first else ["created_at", "id"]
    return entries.order_by(*order)


def user_by_identifier(*, identifier: str) -> User | None:
    """The account a username or e-mail address names: the username first; an e-mail address
    names an account only when exactly one account has it (case-insensitively)."""
    user = User.objects.filter(username=identifier).first()
    if user is not None or "@" not in identifier:
        return user
    matches = list(User.objects.filter(email__iexact=identifier)[:2])
    return matches[0] if len(matches) == 1 else None
