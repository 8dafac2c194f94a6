"""Row locks on wallets (saleor's `order/lock_objects.py` style): the lock queries of the users
app, written once.

The project's lock order, which every money transaction keeps so none deadlocks, is code in
`crowdfunding/locks.py` (`stream_refunds_lock`): stream → mini crowd fundings → contributions
and supports → open rentals → their charges → wallets. Wallets always come last, in id order.
"""

from collections.abc import Iterable

from users.models import User


def _wallets():
    return User.objects.order_by("pk").select_for_update(of=("self",))


def wallet_lock(user_id: str) -> User:
    """Lock one wallet and read its balance (`id` and `credit_balance` only)."""
    return _wallets().only("id", "credit_balance").get(pk=user_id)


def wallets_lock(user_ids: Iterable[str | None]) -> None:
    """Lock every wallet a transaction will credit, once each, in id order (as every other
    transaction does). `None` (no guest to pay) is ignored."""
    ids = sorted({user_id for user_id in user_ids if user_id is not None})
    if ids:
        list(_wallets().filter(pk__in=ids).values_list("pk", flat=True))
