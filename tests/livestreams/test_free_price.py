"""A free stream has no price: NULL, never 0 (API.md §3: `paid` exactly when price > 0)."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from livestreams.models import LiveStream
from tests.livestreams.factories import LiveStreamFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("price", [Decimal("0"), Decimal("0.00"), Decimal("-1")])
def test_the_database_refuses_a_zero_or_negative_price(price):
    stream = LiveStreamFactory(price=None)

    with pytest.raises(IntegrityError), transaction.atomic():
        LiveStream.objects.filter(pk=stream.pk).update(price=price)


@pytest.mark.parametrize(("price", "access"), [(None, "free"), (Decimal("0.01"), "paid")])
def test_null_is_free_and_positive_is_paid(price, access):
    assert LiveStreamFactory(price=price).access_type == access


@pytest.mark.django_db(transaction=True)
def test_the_migration_turns_a_zero_price_into_null():
    """Rows written before the constraint: 0 becomes NULL (free), a real price stays."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    # Made with today's model before migrating back (later migrations may add columns).
    free, paid = LiveStreamFactory(price=None), LiveStreamFactory(price=Decimal("9.99"))
    before = [("livestreams", "0004_cancel_stream_with_refunds_permission")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        old_apps = executor.loader.project_state(before).apps
        OldStream = old_apps.get_model("livestreams", "LiveStream")
        OldStream.objects.filter(pk=free.pk).update(price=Decimal("0"))
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())  # back to the latest state

    free.refresh_from_db()
    paid.refresh_from_db()
    assert free.price is None and free.access_type == "free"
    assert paid.price == Decimal("9.99")
