"""Replay revenue (API.md §7): the split, exactly once, even with overlapping runs."""

import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.utils import timezone

from livestreams.locks import rental_refunds_lock
from livestreams.models import LiveStream, ReplayRentalCharge
from livestreams.services import (
    replay_rental_create,
    replay_revenue_settle,
)
from tests.livestreams.factories import BroadcasterFactory, EndedStreamFactory, StreamGuestFactory
from tests.support import rentals_refund
from tests.users.factories import UserFactory
from users.models import CreditLedgerEntry
from users.services import credits_grant


def _renter(amount=1000):
    renter = UserFactory()
    credits_grant(user=renter, amount=amount)
    return renter


def _revenue(user) -> list[int]:
    rows = CreditLedgerEntry.objects.filter(user=user, type="stream_revenue")
    return sorted(rows.values_list("amount", flat=True))


@pytest.mark.django_db
def test_closed_windows_are_settled_once_and_open_ones_wait():
    now = timezone.now()
    solo = EndedStreamFactory(replay_credit_price=99)
    duo = EndedStreamFactory(live_stream_type=LiveStream.Type.DUO_CROWD, replay_credit_price=99)
    first_guest = StreamGuestFactory(stream=duo).user
    StreamGuestFactory(stream=duo)  # a second invited guest earns nothing
    replay_rental_create(user=_renter(), stream_id=solo.id, now=now - timedelta(hours=25))
    replay_rental_create(user=_renter(), stream_id=duo.id, now=now - timedelta(hours=24))
    replay_rental_create(user=_renter(), stream_id=solo.id, now=now - timedelta(hours=1))

    assert replay_revenue_settle(now=now) == 2
    assert replay_revenue_settle(now=now) == 0

    assert _revenue(solo.creator) == [79]
    assert _revenue(duo.creator) == [39]
    assert _revenue(first_guest) == [39]
    settled = ReplayRentalCharge.objects.get(rental__stream=duo)
    assert (settled.status, settled.settled_at, settled.guest_id) == (
        "settled",
        now,
        first_guest.pk,
    )
    assert (settled.creator_share, settled.guest_share) == (39, 39)
    assert settled.creator_revenue_entry.stream_id == duo.id
    assert ReplayRentalCharge.objects.filter(status="active").count() == 1
    call_command("audit_ledger")


@pytest.mark.django_db
def test_the_guest_is_found_once_per_stream_and_the_wallet_locked_is_the_one_paid(monkeypatch):
    """The job finds each stream's guest once per batch: the guest whose wallet it locked is
    the guest it pays, even if the guest it would find changes in between."""
    from livestreams.services import revenue

    now = timezone.now()
    duo = EndedStreamFactory(live_stream_type=LiveStream.Type.DUO_CROWD, replay_credit_price=50)
    first_guest = StreamGuestFactory(stream=duo).user
    later_guest = UserFactory()
    for hours in (30, 29, 28):
        replay_rental_create(user=_renter(), stream_id=duo.id, now=now - timedelta(hours=hours))
    found = []

    def guest_changing_after_the_first_look(stream):
        found.append(stream.pk)
        return first_guest.pk if len(found) == 1 else later_guest.pk

    monkeypatch.setattr(revenue, "revenue_guest_id", guest_changing_after_the_first_look)

    assert replay_revenue_settle(now=now) == 3

    assert found == [duo.pk]
    assert _revenue(first_guest) == [20, 20, 20] and _revenue(later_guest) == []
    call_command("audit_ledger")


@pytest.mark.django_db
def test_guest_broadcaster_earns_when_no_guest_was_invited():
    now = timezone.now()
    duo = EndedStreamFactory(live_stream_type=LiveStream.Type.DUO_SELF)
    StreamGuestFactory(stream=duo)  # rentable needs a guest...
    duo.guest_links.all().delete()  # ...that later left; a guest broadcaster remains
    broadcaster = BroadcasterFactory(stream=duo, role="guest").user
    LiveStream.objects.filter(pk=duo.pk).update(live_stream_type=LiveStream.Type.SOLO)
    replay_rental_create(user=_renter(), stream_id=duo.id, now=now - timedelta(days=2))
    LiveStream.objects.filter(pk=duo.pk).update(live_stream_type=LiveStream.Type.DUO_SELF)

    replay_revenue_settle(now=now)

    assert _revenue(broadcaster) == [20] and _revenue(duo.creator) == [20]


@pytest.mark.django_db
def test_refunded_charges_are_never_settled():
    now = timezone.now()
    stream = EndedStreamFactory()
    replay_rental_create(user=_renter(), stream_id=stream.id, now=now - timedelta(hours=2))
    rentals_refund(stream=stream, now=now - timedelta(hours=1))

    assert replay_revenue_settle(now=now + timedelta(days=2)) == 0
    assert _revenue(stream.creator) == []


@pytest.mark.django_db
def test_command_reports_what_it_settled(capsys):
    stream = EndedStreamFactory()
    replay_rental_create(
        user=_renter(), stream_id=stream.id, now=timezone.now() - timedelta(days=3)
    )

    call_command("settle_replay_revenue")

    assert capsys.readouterr().out == "Settled 1 replay rental(s).\n"
    assert _revenue(stream.creator) == [40]


@pytest.mark.django_db(transaction=True)
def test_two_overlapping_runs_pay_each_party_exactly_once():
    """Two runs at once over many closed windows (small batches, so they interleave): each
    charge is settled by exactly one of them and every party is paid once per charge."""
    now = timezone.now()
    streams = [EndedStreamFactory(replay_credit_price=50) for _ in range(3)]
    duo = EndedStreamFactory(live_stream_type=LiveStream.Type.DUO_CROWD, replay_credit_price=50)
    guest = StreamGuestFactory(stream=duo).user
    streams.append(duo)
    renters = [_renter() for _ in range(15)]
    for renter in renters:
        for stream in streams:
            replay_rental_create(user=renter, stream_id=stream.id, now=now - timedelta(days=2))
    total = len(renters) * len(streams)
    barrier = threading.Barrier(2)
    counts: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            connection.ensure_connection()  # this thread's own connection, before the start
            barrier.wait(timeout=30)
            counts.append(replay_revenue_settle(now=now, batch=5))
        except BaseException as error:  # noqa: BLE001  (reported by the assertion below)
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert sum(counts) == total
    if connection.vendor == "postgresql":
        assert all(count > 0 for count in counts), counts  # SKIP LOCKED: both did work
    for stream in streams[:3]:
        assert _revenue(stream.creator) == [40] * len(renters)
    assert _revenue(duo.creator) == [20] * len(renters)
    assert _revenue(guest) == [20] * len(renters)
    assert ReplayRentalCharge.objects.filter(status="settled").count() == total
    call_command("audit_ledger")


@pytest.mark.django_db
def test_refunds_lock_only_the_rentals_with_open_windows():
    now = timezone.now()
    stream = EndedStreamFactory()
    closed, open_ = _renter(), _renter()
    replay_rental_create(user=closed, stream_id=stream.id, now=now - timedelta(days=2))
    replay_rental_create(user=open_, stream_id=stream.id, now=now - timedelta(hours=2))

    with transaction.atomic():
        refunds = rental_refunds_lock(stream=stream, now=now)

    assert refunds.user_ids == {open_.pk}
