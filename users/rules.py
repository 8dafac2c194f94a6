"""Rules about users and their credits that every app asks, each written once. The users app
is the lowest: nothing here imports another app, and nothing here reads the database.
"""

from allmine.api.errors import Forbidden, InvalidInput

SUSPENDED = "Account suspended"


def ensure_not_suspended(user) -> None:
    """403 `Account suspended` when the account is suspended: a suspended user writes nothing
    (funding, support, gifts, rentals, streams, transfers, token refresh)."""
    if user.is_suspended:
        raise Forbidden(SUSPENDED)


# The credits one user moves in one go: a contribution, a support, a transfer.
MIN_AMOUNT = 1
MAX_AMOUNT = 1_000_000
AMOUNT_MESSAGE = f"amount: must be an integer from {MIN_AMOUNT} to {MAX_AMOUNT}"


def check_amount(amount: object) -> int:
    """A credit amount: a JSON integer from MIN_AMOUNT to MAX_AMOUNT, else 400 with
    `AMOUNT_MESSAGE` (the input serializers use the same message)."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise InvalidInput("amount: A valid integer is required.")
    if not MIN_AMOUNT <= amount <= MAX_AMOUNT:
        raise InvalidInput(AMOUNT_MESSAGE)
    return amount
