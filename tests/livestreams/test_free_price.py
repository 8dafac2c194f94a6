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
