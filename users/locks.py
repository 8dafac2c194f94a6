"""Row locks of the users app (saleor's `order/lock_objects.py` style): wallets, and the store
purchase a refund takes back, written once.

The project's lock order, which every money transaction keeps so none deadlocks, is code in
`crowdfunding/locks.py` (`stream_refunds_lock`): stream → mini crowd fundings → contributions
and supports → open rentals → their charges → wallets. Wallets always come last, in id order.
"""

from collections.abc import Iterable

from users.models import StoreEvent, User


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


def purchase_lock(*, transaction_id: str, event_types: Iterable[str]) -> StoreEvent | None:
    """The credited store purchase of `transaction_id` (its first event of `event_types`),
    locked before its buyer's wallet, so two refunds of one purchase are serialized; None
    when there is none (an empty id names none)."""
    return (
        StoreEvent.objects.select_for_update()
        .filter(
            outcome=StoreEvent.Outcome.CREDITED,
            transaction_id=transaction_id,
            event_type__in=event_types,
        )
        .exclude(transaction_id="")
        .order_by("received_at", "id")
        .first()
    )
