"""Money in: credit packages bought in a store, credited by the store's webhook (API.md §12).

RevenueCat posts one JSON event per delivery, `{"event": {"id", "type", "app_user_id",
"product_id", "transaction_id", "cancel_reason", "store", ...}, "api_version"}`, and retries a
delivery (same `id`) until it gets a 2xx. So every event is stored once with its outcome
(`StoreEvent`, unique `event_id`) in the same transaction as the money it moved: a redelivery,
even one racing the first, finds that row and moves nothing.

- `INITIAL_PURCHASE` / `NON_RENEWING_PURCHASE` of a known package for a known user: the
  package's `credit_amount` as a `credit_purchase` ledger row.
- `CANCELLATION` with a refund reason (`CUSTOMER_SUPPORT`: the store refunded the buyer) of a
  credited purchase (same `transaction_id`): the credits taken back as a `credit_purchase` row
  with status `refunded`, when the balance allows; else outcome `refund_short`, a
  negative-balance case for operators, and nothing moves.
- Anything else (unknown user or product, other event types, a cancellation that is not a
  refund): stored as `ignored`, answered 200, so the store does not retry forever.

Locks: the refunded purchase's event row, then the wallet (`ledger_post`).
"""

import hmac
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction

from allmine.api.errors import Conflict, InvalidInput, NotFound
from allmine.ids import is_object_id, new_object_id
from users.locks import purchase_lock, wallet_lock
from users.models import CreditLedgerEntry, CreditPackage, StoreEvent, User
from users.services import ledger_post

PURCHASE_TYPES = frozenset({"INITIAL_PURCHASE", "NON_RENEWING_PURCHASE"})
REFUND_TYPE = "CANCELLATION"
# RevenueCat's cancel reason when the store refunded the purchase (its docs: "Customer
# received a refund from Apple support, a Play Store subscription was refunded...").
REFUND_REASONS = frozenset({"CUSTOMER_SUPPORT"})
TEST_PURCHASE_TYPE = "TEST_PURCHASE"

# The original's catalogue: one package per amount and store.
SEEDED_AMOUNTS = (10, 100, 250, 500, 1000, 10000)


def credit_packages_seed(package_model=CreditPackage) -> int:
    """Create the original's packages that do not exist yet (by product id): an Apple and a
    Google product per amount of `SEEDED_AMOUNTS`. Returns how many were created. The data
    migration users 0008 passes its historical model."""
    created = 0
    for amount in SEEDED_AMOUNTS:
        for store, product_id in (
            (CreditPackage.StoreType.APPLE, f"allmine.credits.{amount}"),
            (CreditPackage.StoreType.GOOGLE, f"allmine_credits_{amount}"),
        ):
            _, made = package_model.objects.get_or_create(
                revenuecat_product_id=product_id,
                defaults={
                    "credit_amount": amount,
                    "store_identifier": product_id,
                    "store_type": store,
                },
            )
            created += made
    return created


def webhook_secret_matches(authorization: str | None) -> bool:
    """The `Authorization` header carries `REVENUECAT_WEBHOOK_SECRET` (as is, or after
    `Bearer `), compared in constant time. No secret configured: nothing matches."""
    secret = settings.REVENUECAT_WEBHOOK_SECRET
    if not secret or authorization is None:
        return False
    given = authorization.encode()
    as_is = hmac.compare_digest(given, secret.encode())
    bearer = hmac.compare_digest(given, f"Bearer {secret}".encode())
    return as_is | bearer  # both compared, whichever matches


@dataclass(frozen=True)
class StoreEventFields:
    """What the webhook reads from RevenueCat's `event` object (the rest is kept as payload)."""

    event_id: str
    event_type: str
    app_user_id: str = ""
    product_id: str = ""
    transaction_id: str = ""
    cancel_reason: str = ""


@dataclass(frozen=True)
class StoreEventReceipt:
    event: StoreEvent
    redelivered: bool


def store_event_receive(*, fields: StoreEventFields, payload: dict) -> StoreEventReceipt:
    """Apply one store event exactly once per event id; a redelivery returns the stored one."""
    stored = StoreEvent.objects.filter(event_id=fields.event_id).first()
    if stored is not None:
        return StoreEventReceipt(event=stored, redelivered=True)
    try:
        with transaction.atomic():
            event = _apply(fields, payload)
    except IntegrityError:
        # A parallel delivery of the same event committed first; ours was rolled back whole
        # (its ledger row included).
        stored = StoreEvent.objects.filter(event_id=fields.event_id).first()
        if stored is None:
            raise
        return StoreEventReceipt(event=stored, redelivered=True)
    return StoreEventReceipt(event=event, redelivered=False)


def _apply(fields: StoreEventFields, payload: dict) -> StoreEvent:
    event = StoreEvent(
        event_id=fields.event_id,
        event_type=fields.event_type,
        app_user_id=fields.app_user_id,
        product_id=fields.product_id,
        transaction_id=fields.transaction_id,
        payload=payload,
    )
    if fields.event_type in PURCHASE_TYPES:
        _purchase(event)
    elif fields.event_type == REFUND_TYPE and fields.cancel_reason in REFUND_REASONS:
        _refund(event)
    elif fields.event_type == REFUND_TYPE:
        _ignore(event, f"cancellation without a refund (cancel_reason {fields.cancel_reason!r})")
    else:
        _ignore(event, f"event type {fields.event_type} moves no credits")
    event.save(force_insert=True)
    return event


def _ignore(event: StoreEvent, detail: str) -> None:
    event.outcome = StoreEvent.Outcome.IGNORED
    event.detail = detail[:255]


def _purchase(event: StoreEvent) -> None:
    user = (
        User.objects.filter(pk=event.app_user_id).only("id").first()
        if is_object_id(event.app_user_id)
        else None
    )
    if user is None:
        return _ignore(event, f"unknown user {event.app_user_id!r}")
    package = CreditPackage.objects.filter(revenuecat_product_id=event.product_id).first()
    if package is None:
        return _ignore(event, f"unknown product {event.product_id!r}")
    _credit(event, user=user, package=package)


def _credit(event: StoreEvent, *, user: User, package: CreditPackage) -> None:
    """A paid purchase: credited even if the package was retired since (the buyer paid)."""
    event.user, event.package = user, package
    event.credits = package.credit_amount
    event.ledger_entry = ledger_post(
        user_id=user.pk,
        amount=package.credit_amount,
        entry_type=CreditLedgerEntry.Type.CREDIT_PURCHASE,
        description=(
            f"Purchase of {package.credit_amount} credits ({package.revenuecat_product_id})"
        ),
    )
    event.outcome = StoreEvent.Outcome.CREDITED
    event.detail = f"{package.credit_amount} credits"


def _refund(event: StoreEvent) -> None:
    purchase = purchase_lock(transaction_id=event.transaction_id, event_types=PURCHASE_TYPES)
    if purchase is None:
        return _ignore(event, f"no credited purchase with transaction {event.transaction_id!r}")
    earlier = StoreEvent.objects.filter(refund_of=purchase).values_list("event_id", flat=True)
    if earlier:
        return _ignore(event, f"purchase already refunded by event {earlier[0]}")
    event.refund_of, event.user, event.package = purchase, purchase.user, purchase.package
    event.credits = purchase.credits
    balance = wallet_lock(purchase.user_id).credit_balance
    if balance < purchase.credits:
        event.outcome = StoreEvent.Outcome.REFUND_SHORT
        event.detail = (
            f"refund of {purchase.credits} credits not recovered: the balance is {balance}"
        )
        return None
    event.ledger_entry = ledger_post(
        user_id=purchase.user_id,
        amount=-purchase.credits,
        entry_type=CreditLedgerEntry.Type.CREDIT_PURCHASE,
        description=f"Store refund of {purchase.credits} credits ({purchase.product_id})",
        status=CreditLedgerEntry.Status.REFUNDED,
    )
    event.outcome = StoreEvent.Outcome.REFUNDED
    event.detail = f"{purchase.credits} credits taken back"
    return None


@transaction.atomic
def credit_package_test_purchase(*, user: User, package_id: str) -> StoreEvent:
    """A purchase without a store (`ALLOW_TEST_PURCHASES`, dev and demo only): recorded and
    credited exactly as a webhook's purchase, as a `TEST_PURCHASE` event of its own id."""
    if not is_object_id(package_id):
        raise InvalidInput("packageId: must be a 24-character lowercase hex id")
    package = CreditPackage.objects.filter(pk=package_id).first()
    if package is None:
        raise NotFound("Credit package not found")
    if not package.is_active:
        raise Conflict("Credit package is not on sale")
    event_id = f"test-{new_object_id()}"
    event = StoreEvent(
        event_id=event_id,
        event_type=TEST_PURCHASE_TYPE,
        app_user_id=user.pk,
        product_id=package.revenuecat_product_id,
        transaction_id=event_id,
        payload={"store": "TEST", "package_id": package.pk},
    )
    _credit(event, user=user, package=package)
    event.save(force_insert=True)
    return event
