"""Helpers the whole suite shares: a snapshot of every money-bearing row (to assert that a
refused request changed nothing), tampering with a balance behind the services' back, and
counting the queries a page costs."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from crowdfunding.models import (
    Contribution,
    IdempotencyRecord,
    MiniCrowdFunding,
    MiniCrowdFundingSupport,
)
from livestreams.models import LiveStream, ReplayRental, ReplayRentalCharge
from users.models import CreditLedgerEntry, User


def money_snapshot() -> dict:
    return {
        "balances": sorted(User.objects.values_list("pk", "credit_balance")),
        "ledger": sorted(CreditLedgerEntry.objects.values_list("pk", "amount", "status")),
        "contributions": sorted(Contribution.objects.values_list("pk", "amount", "status")),
        "supports": sorted(MiniCrowdFundingSupport.objects.values_list("pk", "amount", "status")),
        "streams": sorted(LiveStream.objects.values_list("pk", "status", "collected_funding")),
        "minis": sorted(MiniCrowdFunding.objects.values_list("pk", "status", "collected")),
        "idempotency": sorted(IdempotencyRecord.objects.values_list("pk", flat=True)),
        "rentals": sorted(
            ReplayRental.objects.values_list("pk", "status", "price", "rented_at", "expires_at")
        ),
        "rental_charges": sorted(ReplayRentalCharge.objects.values_list("pk", "status", "price")),
        "replay_settings": sorted(
            LiveStream.objects.values_list(
                "pk", "is_active_replay_on_creator_profile", "replay_credit_price"
            )
        ),
    }


def tamper_balance(user_id: str, balance: int) -> None:
    """Change a balance behind the services' back, as a hand-made SQL fix would: on
    PostgreSQL only by posing as `ledger_post` to the writers' trigger (users migration 0003)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('allmine.ledger_post', %s, true)", [user_id])
    User.objects.filter(pk=user_id).update(credit_balance=balance)


def queries_for(client, url: str, *, method: str = "get", data=None) -> int:
    """The queries one request costs, once caches (content types, session) are warm; the
    request must succeed. Compare at two sizes with `django_assert_num_queries`."""
    getattr(client, method)(url, data)
    with CaptureQueriesContext(connection) as context:
        response = getattr(client, method)(url, data)
    assert response.status_code == 200
    return len(context.captured_queries)
