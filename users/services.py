"""Writes of the users app: sign-in tokens and the credit wallet."""

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.db.models import F
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from allmine.api.errors import Forbidden, InsufficientBalance, InvalidInput
from users.authentication import TOKEN_VERSION_CLAIM
from users.models import CreditLedgerEntry, User


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


def _ensure_not_suspended(user: User) -> None:
    if user.is_suspended:
        raise Forbidden("Account suspended")


def user_login(*, username: str, password: str) -> dict:
    """Token pair for a username (or e-mail) and password."""
    user = authenticate(username=username, password=password)
    if user is None and "@" in username:
        # An e-mail address signs in only when it belongs to exactly one account.
        matches = list(User.objects.filter(email__iexact=username).values_list("username")[:2])
        if len(matches) == 1:
            user = authenticate(username=matches[0][0], password=password)
    if user is None:
        raise InvalidCredentials("Invalid username or password")
    _ensure_not_suspended(user)
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
    _ensure_not_suspended(user)
    _, newly_retired = refresh.blacklist()
    if not newly_retired:  # a parallel refresh with the same token won the race
        raise InvalidCredentials("Token has been revoked")
    return _token_pair(user)


@transaction.atomic
def user_logout(*, user: User) -> None:
    """Revoke every token of the user: refresh tokens are blacklisted, access tokens die
    with the bumped `token_version`."""
    User.objects.filter(pk=user.pk).update(token_version=F("token_version") + 1)
    outstanding = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in outstanding], ignore_conflicts=True
    )


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
    """
    if status not in CreditLedgerEntry.BALANCE_STATUSES:
        raise ValueError(f"a ledger row that moves money cannot be {status}")
    locked = User.objects.select_for_update().only("id", "credit_balance").get(pk=user_id)
    new_balance = locked.credit_balance + amount
    if new_balance < 0:
        raise InsufficientBalance()
    User.objects.filter(pk=user_id).update(credit_balance=new_balance)
    return CreditLedgerEntry.objects.create(
        user_id=user_id,
        type=entry_type,
        amount=amount,
        balance_after=new_balance,
        description=description[:255],
        stream_id=stream_id or "",
        status=status,
    )


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
