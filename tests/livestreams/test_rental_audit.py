"""`audit_ledger` checks rentals: charged once, refunds and revenue match the ledger."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from livestreams.models import LiveStream, ReplayRental, ReplayRentalCharge
from livestreams.services import (
    replay_rental_create,
    replay_revenue_settle,
)
from tests.crowdfunding.test_ledger_commands import audit
from tests.livestreams.factories import EndedStreamFactory, StreamGuestFactory
from tests.support import rentals_refund, tamper_balance, tampered
from tests.users.factories import UserFactory
from users.models import CreditLedgerEntry
from users.services import credits_grant, ledger_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def books():
    """A settled duo rental, a refunded rental and an active one, all through the services."""
    now = timezone.now()
    duo = EndedStreamFactory(live_stream_type=LiveStream.Type.DUO_CROWD, replay_credit_price=50)
    StreamGuestFactory(stream=duo)
    solo = EndedStreamFactory(replay_credit_price=30)
    renters = [UserFactory() for _ in range(3)]
    for renter in renters:
        credits_grant(user=renter, amount=100)
    replay_rental_create(user=renters[0], stream_id=duo.id, now=now - timedelta(days=2))
    replay_rental_create(user=renters[1], stream_id=solo.id, now=now - timedelta(hours=2))
    rentals_refund(stream=solo, now=now - timedelta(hours=1))
    replay_rental_create(user=renters[2], stream_id=solo.id, now=now)
    replay_revenue_settle(now=now)
    return {
        "settled": ReplayRentalCharge.objects.get(status="settled"),
        "refunded": ReplayRentalCharge.objects.get(status="refunded"),
        "active": ReplayRentalCharge.objects.get(status="active"),
    }


def test_clean_books(books, capsys):
    clean, output = audit(capsys)

    assert clean and "Ledger audit clean" in output


def test_a_revenue_row_that_differs_from_the_split(books, capsys):
    entry = books["settled"].creator_revenue_entry
    with tampered():  # behind the database's back, as a superuser would (tests.support)
        CreditLedgerEntry.objects.filter(pk=entry.pk).update(amount=25)
    tamper_balance(entry.user_id, 25)

    clean, output = audit(capsys)

    assert not clean
    assert f"rental charge {books['settled'].pk}: revenue" in output


def test_a_second_payout_is_an_orphan_revenue_row(books, capsys):
    charge = books["settled"]
    with transaction.atomic():
        extra = ledger_post(
            user_id=charge.rental.stream.creator_id, amount=20, entry_type="stream_revenue"
        )

    clean, output = audit(capsys)

    assert not clean
    assert f"ledger entry {extra.pk}: stream_revenue row without its rental charge" in output


def test_a_charge_whose_debit_differs(books, capsys):
    charge = books["active"]
    with tampered():  # behind the database's back, as a superuser would (tests.support)
        ReplayRentalCharge.objects.filter(pk=charge.pk).update(price=31)

    clean, output = audit(capsys)

    assert not clean
    assert f"rental charge {charge.pk}: no matching stream_charge debit" in output


def test_a_refund_row_of_the_wrong_amount(books, capsys):
    refund = books["refunded"].refund_ledger_entry
    with tampered():  # behind the database's back, as a superuser would (tests.support)
        CreditLedgerEntry.objects.filter(pk=refund.pk).update(amount=29)
    tamper_balance(refund.user_id, 99)

    clean, output = audit(capsys)

    assert not clean
    assert f"rental charge {books['refunded'].pk}: refunded without a matching refund" in output


def test_an_active_rental_without_a_charge(books, capsys):
    rental = ReplayRental.objects.create(
        user=UserFactory(),
        stream=books["active"].rental.stream,
        price=30,
        rented_at=timezone.now(),
        expires_at=timezone.now() + timedelta(hours=24),
    )

    clean, output = audit(capsys)

    assert not clean
    assert f"replay rental {rental.pk}: active without a charge for its window" in output
