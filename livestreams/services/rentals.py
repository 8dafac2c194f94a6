"""Replay rentals (API.md §7): rent a replay, refund open rentals when their stream goes, the
creator's replay settings. Their revenue is paid out by `livestreams.services.revenue`."""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from allmine.api.errors import Conflict, Forbidden
from livestreams.locks import LockedRentalRefunds, rental_lock, stream_lock
from livestreams.models import LiveStream, ReplayRental, ReplayRentalCharge
from livestreams.rules import Role
from livestreams.selectors import rental_duration, stream_is_rentable, stream_role_for
from users.models import CreditLedgerEntry, User
from users.rules import ensure_not_suspended
from users.services import ledger_post


@dataclass(frozen=True)
class RentalReceipt:
    rental: ReplayRental
    created: bool  # False: an active rental was returned and nothing was charged
    credit_balance: int
    now: datetime


def _watches_free(stream: LiveStream, user: User) -> bool:
    """The creator, invited guests and broadcasters (API.md §3: owner and participants)."""
    return (
        stream_role_for(stream=stream, user=user) in (Role.HOST, Role.GUEST)
        or stream.broadcasters.filter(user=user).exists()
    )


@transaction.atomic
def replay_rental_create(
    *, user: User, stream_id: str, now: datetime | None = None
) -> RentalReceipt:
    """Rent a stream's replay for `rental_duration()` at its `replayCreditPrice`.

    One row per (user, stream): while it is active a repeat charges nothing and returns it
    (`created` False); an expired or refunded row is reactivated in place with a new charge.
    Locks: the stream, the rental, the renter's wallet (`ledger_post`).
    """
    now = now or timezone.now()
    stream = stream_lock(stream_id)
    ensure_not_suspended(user)
    if _watches_free(stream, user):
        raise Conflict("The creator and participants watch the replay free")
    if not stream_is_rentable(stream):
        raise Conflict("The replay of this live stream is not available for rent")

    rental = rental_lock(user=user, stream=stream)
    active = rental is not None and rental.status == ReplayRental.Status.ACTIVE
    if active and rental.expires_at > now:
        balance = User.objects.values_list("credit_balance", flat=True).get(pk=user.pk)
        return RentalReceipt(rental=rental, created=False, credit_balance=balance, now=now)

    price = stream.replay_credit_price
    debit = ledger_post(
        user_id=user.pk,
        amount=-price,
        entry_type=CreditLedgerEntry.Type.STREAM_CHARGE,
        description=f"Replay rental of “{stream.title}” ({stream.pk})",
        stream_id=stream.pk,
    )
    window = {"price": price, "rented_at": now, "expires_at": now + rental_duration()}
    if rental is None:
        rental = ReplayRental.objects.create(user=user, stream=stream, **window)
    else:
        for name, value in window.items():
            setattr(rental, name, value)
        rental.status = ReplayRental.Status.ACTIVE
        rental.save(update_fields=[*window, "status"])
    ReplayRentalCharge.objects.create(rental=rental, ledger_entry=debit, **window)
    return RentalReceipt(rental=rental, created=True, credit_balance=debit.balance_after, now=now)


def replay_rental_refunds_post(
    refunds: LockedRentalRefunds, *, stream: LiveStream, now: datetime
) -> int:
    """Refund each locked charge in full (`livestreams.locks.rental_refunds_lock`); the caller
    holds the renters' wallet locks. Each refund is a `stream_charge` credit row with status
    `refunded`. Returns the count."""
    for charge in sorted(refunds.charges, key=lambda charge: (charge.rental.user_id, charge.pk)):
        charge.refund_ledger_entry = ledger_post(
            user_id=charge.rental.user_id,
            amount=charge.price,
            entry_type=CreditLedgerEntry.Type.STREAM_CHARGE,
            description=(
                f"Refund of the replay rental of “{stream.title}” ({stream.pk}): stream deleted"
            ),
            stream_id=stream.pk,
            status=CreditLedgerEntry.Status.REFUNDED,
        )
        charge.status = ReplayRentalCharge.Status.REFUNDED
        charge.refunded_at = now
        charge.save(update_fields=["refund_ledger_entry", "status", "refunded_at"])
        charge.rental.status = ReplayRental.Status.REFUNDED
        charge.rental.save(update_fields=["status"])
    return len(refunds.charges)


_UNSET = object()


@transaction.atomic
def replay_settings_update(
    *,
    user: User,
    stream_id: str,
    is_active_replay_on_creator_profile: bool | None | object = _UNSET,
    replay_credit_price: int | None | object = _UNSET,
) -> LiveStream:
    """The creator switches the replay on or off and sets its price (API.md §7). Rentals
    already paid keep their price and window."""
    stream = stream_lock(stream_id)
    if stream.creator_id != user.pk:
        raise Forbidden("Only the stream's creator can change its replay settings")
    changed = []
    if is_active_replay_on_creator_profile is not _UNSET:
        stream.is_active_replay_on_creator_profile = is_active_replay_on_creator_profile
        changed.append("is_active_replay_on_creator_profile")
    if replay_credit_price is not _UNSET:
        stream.replay_credit_price = replay_credit_price
        changed.append("replay_credit_price")
    if changed:
        stream.save(update_fields=[*changed, "updated_at"])
    return stream
