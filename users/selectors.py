"""Reads of the users app: the user summary as a row, who a sign-in names, and the caller's
wallet transactions."""

from collections.abc import Sequence
from datetime import datetime

import orjson
from django.db.models import QuerySet

from allmine.compiled import CompiledQuery
from users.models import CreditLedgerEntry, CreditPackage, User

MEDIA_FIELDS = ("id", "url", "type", "variants", "created_at", "updated_at")
USER_SUMMARY_FIELDS = (
    "id", "username", "first_name", "last_name", "availability_status",
    *(f"profile_photo__{name}" for name in MEDIA_FIELDS),
)  # fmt: skip


def user_summary_row(values: Sequence, start: int = 0) -> dict:
    """A user summary row from the values of `USER_SUMMARY_FIELDS` found in `values` from
    index `start` on, in that order, as a query reads them (`.values_list(...)`, with a
    prefix through a join): `profile_photo` is a media row, or None when the user has none.
    Indexed rather than sliced: it runs for every user of every list."""
    photo = None
    if values[start + 5] is not None:
        variants = values[start + 8]
        photo = {
            "id": values[start + 5],
            "url": values[start + 6],
            "type": values[start + 7],
            # JSON as the database driver reads it (text), or already decoded
            "variants": orjson.loads(variants) if isinstance(variants, str) else variants,
            "created_at": values[start + 9],
            "updated_at": values[start + 10],
        }
    return {
        "id": values[start],
        "username": values[start + 1],
        "first_name": values[start + 2],
        "last_name": values[start + 3],
        "availability_status": values[start + 4],
        "profile_photo": photo,
    }


def user_summary_row_of(user) -> dict:
    """The same row for a `User` instance (the sign-in response)."""
    photo = user.profile_photo
    return user_summary_row(
        [
            user.pk, user.username, user.first_name, user.last_name, user.availability_status,
            *((getattr(photo, name) for name in MEDIA_FIELDS) if photo else [None] * 6),
        ]
    )  # fmt: skip


# Types the original system knows (API.md §8); ours are a subset. Filtering by one we never
# write is valid and finds nothing.
KNOWN_TRANSACTION_TYPES = (
    *CreditLedgerEntry.Type.values,
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


_USER_IDS = CompiledQuery(lambda user_id: User.objects.filter(pk=user_id).values_list("pk"),
                          model=User, convert=False)  # fmt: skip


def user_exists(*, user_id: str) -> bool:
    return bool(_USER_IDS.rows(user_id=user_id))


def credit_packages_list(*, store_type: str | None = None, active_only: bool = True):
    """Credit packages, smallest first; `store_type` and `active_only` narrow them."""
    packages = CreditPackage.objects.order_by("credit_amount", "id")
    if store_type:
        packages = packages.filter(store_type=store_type)
    if active_only:
        packages = packages.filter(is_active=True)
    return packages
