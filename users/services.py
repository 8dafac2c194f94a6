"""Writes of the users app: sign-in tokens and the credit wallet."""

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.db.models import F
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from allmine.api.errors import Conflict, InsufficientBalance, InvalidInput, NotFound
from allmine.db_router import wrote_for
from allmine.events import REVOKED_EVENT, publish_on_commit, user_channel
from allmine.ids import is_object_id
from notifications.services import Category, NotificationDraft, Type, notifications_create
from users.authentication import TOKEN_VERSION_CLAIM, RefreshToken
from users.locks import wallet_lock, wallets_lock
from users.models import CreditLedgerEntry, CreditTransfer, User, ledger_applied_by_database
from users.rules import check_amount, ensure_not_suspended
from users.selectors import user_by_identifier


class InvalidCredentials(Exception):
    """Wrong username/e-mail or password, or a refresh token that is no longer valid."""


def refresh_token_for(user: User) -> RefreshToken:
    """A new refresh token carrying the user's token version; its access token inherits it."""
    refresh = RefreshToken.for_user(user)
    refresh[TOKEN_VERSION_CLAIM] = user.token_version
    return refresh


def access_token_for(user: User) -> str:
    """A signed access token for `user` (1 hour): for seeding, tests, benchmarks, load runs."""
    return str(refresh_token_for(user).access_token)


def _token_pair(user: User) -> dict:
    refresh = refresh_token_for(user)
    return {
        "accessToken": str(refresh.access_token),
        "refreshToken": str(refresh),
        "expiresIn": int(settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds()),
        "refreshExpiresIn": int(settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"].total_seconds()),
        "user": user,
    }


def _username_for(identifier: str) -> str:
    """The username to check the password against: the account the identifier names
    (`user_by_identifier`), or the identifier itself. Never hashes: the caller hashes exactly
    once whatever this returns."""
    user = user_by_identifier(identifier=identifier)
    return user.username if user is not None else identifier


def user_login(*, username: str, password: str) -> dict:
    """Token pair for a username (or e-mail) and password.

    Every failure looks and costs the same: exactly one password hash whatever the identifier
    (Django's `ModelBackend` hashes the password once for an unknown username too), and the
    same 401 for an unknown account, a wrong password, an inactive or a suspended account —
    right password or not, so a suspended account is no oracle for its password.
    """
    user = authenticate(username=_username_for(username), password=password)
    if user is None or user.is_suspended:
        raise InvalidCredentials("Invalid username or password")
    return _token_pair(user)


def token_refresh(*, refresh_token: str) -> dict:
    """Rotate: retire the given refresh token and return a new pair. Each token works once."""
    try:
        refresh = RefreshToken(refresh_token)
    except TokenError as error:
        raise InvalidCredentials(str(error)) from error
    user = User.objects.filter(pk=refresh.get(jwt_settings.USER_ID_CLAIM)).first()
    if user is None or not user.is_active or refresh.get(TOKEN_VERSION_CLAIM) != user.token_version:
        raise InvalidCredentials("Token has been revoked")
    ensure_not_suspended(user)
    _, newly_retired = refresh.blacklist()
    if not newly_retired:  # a parallel refresh with the same token won the race
        raise InvalidCredentials("Token has been revoked")
    return _token_pair(user)


@transaction.atomic
def user_tokens_revoke(*, user_id: str) -> int:
    """Revoke every token of the user and return the new `token_version`: the only writer of
    that column. Refresh tokens are blacklisted; access tokens die with the bumped version.

    Used by logout and by every saved password change (`tokens_revoke_on_password_change`).
    On PostgreSQL the database lets `token_version` only go up by one (users migration 0009).
    """
    User.objects.filter(pk=user_id).update(token_version=F("token_version") + 1)
    outstanding = OutstandingToken.objects.filter(user_id=user_id, blacklistedtoken__isnull=True)
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in outstanding], ignore_conflicts=True
    )
    version = User.objects.filter(pk=user_id).values_list("token_version", flat=True).get()
    # Open personal event streams opened with an older token close (allmine/api/sse.py).
    publish_on_commit(user_channel(user_id), REVOKED_EVENT, {"tokenVersion": version})
    return version


def tokens_revoke_on_password_change(sender, *, user: User, **kwargs) -> None:
    """Receiver of `users.signals.password_changed` (connected in `UsersConfig.ready`): a saved
    password change revokes every token of the user, in the transaction that saved it."""
    user.token_version = user_tokens_revoke(user_id=user.pk)


def user_logout(*, user: User) -> None:
    """Revoke every token of the caller, access tokens included."""
    user_tokens_revoke(user_id=user.pk)


def ledger_post(
    *,
    user_id: str,
    amount: int,
    entry_type: str,
    description: str = "",
    stream_id: str | None = None,
    status: str = CreditLedgerEntry.Status.COMPLETED,
) -> CreditLedgerEntry:
    """Move `amount` credits (signed) in or out of a wallet: the only way a balance changes.

    Locks the user's row, refuses to go below zero, and writes the ledger row in the same
    transaction as the new balance. Call it inside `transaction.atomic`. `stream_id` is the
    live stream the movement belongs to, if any; `status` is `completed`, or `refunded` for a
    refund row (both move money, see `CreditLedgerEntry`).

    On PostgreSQL the row's insert applies it to the balance (and the database refuses a wrong
    `balance_after` or a balance below zero, users migration 0009); elsewhere the balance is
    updated here, beside the row.
    """
    if status not in CreditLedgerEntry.BALANCE_STATUSES:
        raise ValueError(f"a ledger row that moves money cannot be {status}")
    locked = wallet_lock(user_id)
    new_balance = locked.credit_balance + amount
    if new_balance < 0:
        raise InsufficientBalance()
    entry = CreditLedgerEntry.objects.create(
        user_id=user_id,
        type=entry_type,
        amount=amount,
        balance_after=new_balance,
        description=description[:255],
        stream_id=stream_id or "",
        status=status,
    )
    if not ledger_applied_by_database():
        User.objects.filter(pk=user_id).update(credit_balance=new_balance)
    wrote_for(user_id)  # the owner reads the new balance and what it paid for at once
    publish_on_commit(user_channel(user_id), "wallet", {"creditBalance": new_balance})
    return entry


@transaction.atomic
def credits_grant(*, user: User, amount: int, description: str = "") -> CreditLedgerEntry:
    """An operator's top-up of a user's wallet (ledger type `admin_adjustment`)."""
    if not isinstance(amount, int) or isinstance(amount, bool) or not 1 <= amount <= 1_000_000_000:
        raise InvalidInput("amount: must be an integer from 1 to 1000000000")
    entry = ledger_post(
        user_id=user.pk,
        amount=amount,
        entry_type=CreditLedgerEntry.Type.ADMIN_ADJUSTMENT,
        description=description or "Operator top-up",
    )
    user.credit_balance = entry.balance_after
    return entry


@dataclass(frozen=True)
class TransferReceipt:
    transfer: CreditTransfer
    sender_balance: int
    recipient_balance: int


@transaction.atomic
def credit_transfer_create(
    *, sender: User, recipient_id: object, amount: object
) -> TransferReceipt:
    """`sender` gives `amount` credits to another active user: a `credit_transfer_sent` debit
    and a `credit_transfer_received` credit in one transaction, both wallets locked in id
    order first (two transfers between the same people in opposite directions never
    deadlock). Not to oneself (400), not to an unknown (404) or suspended (409) user; a
    balance below `amount` is a 409 and moves nothing."""
    if not is_object_id(recipient_id):
        raise InvalidInput("recipientId: must be a 24-character lowercase hex id")
    check_amount(amount)
    if recipient_id == sender.pk:
        raise InvalidInput("recipientId: you cannot transfer credits to yourself")
    ensure_not_suspended(sender)
    wallets_lock([sender.pk, recipient_id])
    recipient = (
        User.objects.filter(pk=recipient_id)
        .only("id", "username", "account_status", "is_active")
        .first()
    )
    if recipient is None:
        raise NotFound("Recipient not found")
    if recipient.is_suspended or not recipient.is_active:
        raise Conflict("Recipient account is suspended")
    sent = ledger_post(
        user_id=sender.pk,
        amount=-amount,
        entry_type=CreditLedgerEntry.Type.CREDIT_TRANSFER_SENT,
        description=f"Credits sent to {recipient.username}",
    )
    received = ledger_post(
        user_id=recipient.pk,
        amount=amount,
        entry_type=CreditLedgerEntry.Type.CREDIT_TRANSFER_RECEIVED,
        description=f"Credits received from {sender.username}",
    )
    transfer = CreditTransfer.objects.create(
        sender_id=sender.pk,
        recipient_id=recipient.pk,
        amount=amount,
        sent_entry=sent,
        received_entry=received,
    )
    notifications_create(
        [
            NotificationDraft(
                user_id=sender.pk,
                category=Category.PAYMENTS,
                type=Type.CREDIT_TRANSFER_SENT,
                title=f"You sent {amount} credits to {recipient.username}",
                body=f"Your balance is now {sent.balance_after} credits.",
            ),
            NotificationDraft(
                user_id=recipient.pk,
                category=Category.PAYMENTS,
                type=Type.CREDIT_TRANSFER_RECEIVED,
                title=f"{sender.username} sent you {amount} credits",
                body=f"Your balance is now {received.balance_after} credits.",
            ),
        ]
    )
    return TransferReceipt(
        transfer=transfer,
        sender_balance=sent.balance_after,
        recipient_balance=received.balance_after,
    )
