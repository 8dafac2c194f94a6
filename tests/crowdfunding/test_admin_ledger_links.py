"""The admin's links between ledger rows and what they record (contributions, supports, rental
charges and their refunds and revenue payouts, streams), the ledger's search by stream, and
who cancelled a stream; each page at a constant number of queries."""

import re
from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from crowdfunding.services import live_stream_cancel, mini_crowd_funding_support_create
from livestreams.models import LiveStream, ReplayRentalCharge
from livestreams.services import (
    replay_rental_create,
    replay_revenue_settle,
)
from tests.crowdfunding.factories import ContributionFactory, MiniCrowdFundingFactory
from tests.livestreams.factories import EndedStreamFactory, LiveStreamFactory, StreamGuestFactory
from tests.support import money_snapshot, queries_for, rentals_refund
from tests.users.factories import UserFactory
from users.models import CreditLedgerEntry
from users.services import credits_grant

pytestmark = pytest.mark.django_db

LEDGER = reverse("admin:users_creditledgerentry_changelist")
RENTALS = reverse("admin:livestreams_replayrental_changelist")
CHARGES = reverse("admin:livestreams_replayrentalcharge_changelist")
STREAMS = reverse("admin:livestreams_livestream_changelist")


def _url(obj) -> str:
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])


def _entry_url(entry_id: str) -> str:
    return reverse("admin:users_creditledgerentry_change", args=[entry_id])


def _row(body: str, href: str) -> str:
    """The changelist row (`<tr>…</tr>`) that links `href`."""
    rows = [row for row in re.findall(r"<tr[^>]*>.*?</tr>", body, re.S) if f'"{href}"' in row]
    assert len(rows) == 1, f"{len(rows)} rows link {href}"
    return rows[0]


def _records_cell(body: str, entry_id: str) -> str:
    cell = re.search(r'<td class="field-record_link">(.*?)</td>', _row(body, _entry_url(entry_id)))
    return cell.group(1)


def _rent(stream, username: str | None = None, *, now=None) -> ReplayRentalCharge:
    renter = UserFactory(**({"username": username} if username else {}))
    credits_grant(user=renter, amount=100)
    replay_rental_create(user=renter, stream_id=stream.pk, now=now)
    return ReplayRentalCharge.objects.filter(rental__user=renter).latest("rented_at")


def _refund_open_rentals(stream) -> None:
    with transaction.atomic():
        locked = LiveStream.objects.select_for_update().get(pk=stream.pk)
        rentals_refund(stream=locked, now=timezone.now())


def _settle_closed_windows() -> None:
    replay_revenue_settle(now=timezone.now() + timedelta(days=2))


def _support(user, mini, amount: int):
    credits_grant(user=user, amount=amount)
    return mini_crowd_funding_support_create(
        user=user, stream_id=mini.stream_id, mini_crowd_funding_id=mini.pk, amount=amount
    ).support


def _duo_replay(title: str):
    """An ended duo stream rented at 50 credits, with a guest who earns a share."""
    replay = EndedStreamFactory(title=title, live_stream_type=LiveStream.Type.DUO_CROWD)
    StreamGuestFactory(stream=replay, user=UserFactory(username=f"guest_{replay.pk[-6:]}"))
    return replay


def _every_kind_of_row(*, named: bool = True):
    """A contribution (one refunded), a support, a settled rental charge (creator and guest
    revenue) and a refunded one, on two streams."""
    concert = LiveStreamFactory(title="Canlı konser")
    ayse, mehmet = (UserFactory(**({"username": n} if named else {})) for n in ("ayse", "mehmet"))
    contribution = ContributionFactory(stream=concert, user=ayse)
    refunded = ContributionFactory(stream=concert, status="refunded")
    support = _support(mehmet, MiniCrowdFundingFactory(stream=concert), 25)
    replay = _duo_replay("Eski kayıt")
    settled = _rent(replay, "ali" if named else None)
    _settle_closed_windows()
    given_back = _rent(replay, "veli" if named else None)
    _refund_open_rentals(replay)
    settled.refresh_from_db()
    given_back.refresh_from_db()
    return concert, contribution, refunded, support, replay, settled, given_back


def test_every_ledger_row_links_to_what_it_records_and_its_stream(admin_client):
    concert, contribution, refunded, support, replay, settled, given_back = _every_kind_of_row()
    assert settled.status == "settled" and settled.guest_revenue_entry_id
    assert given_back.status == "refunded"

    body = admin_client.get(LEDGER).content.decode()

    expected = {
        contribution.ledger_entry_id: ("contribution", contribution, concert),
        refunded.ledger_entry_id: ("contribution", refunded, concert),
        refunded.refund_ledger_entry_id: ("contribution refund", refunded, concert),
        support.ledger_entry_id: ("support", support, concert),
        settled.ledger_entry_id: ("rental charge", settled, replay),
        settled.creator_revenue_entry_id: ("creator revenue", settled, replay),
        settled.guest_revenue_entry_id: ("guest revenue", settled, replay),
        given_back.ledger_entry_id: ("rental charge", given_back, replay),
        given_back.refund_ledger_entry_id: ("rental refund", given_back, replay),
    }
    for entry_id, (caption, record, stream) in expected.items():
        assert _records_cell(body, entry_id) == (
            f'<a href="{_url(record)}">{caption}</a> · <a href="{_url(stream)}">{stream.title}</a>'
        )
    purchase = CreditLedgerEntry.objects.filter(user=contribution.user, type="credit_purchase")
    assert _records_cell(body, purchase.get().pk) == "-"  # a purchase records nothing
    entry = admin_client.get(_entry_url(settled.guest_revenue_entry_id)).content.decode()
    assert f'<a href="{_url(settled)}">guest revenue</a>' in entry
    assert f'<a href="{_url(replay)}">Eski kayıt</a>' in entry


def test_rentals_and_charges_link_back_to_their_ledger_rows(admin_client):
    *_, replay, settled, given_back = _every_kind_of_row()

    charges = admin_client.get(CHARGES).content.decode()
    rentals = admin_client.get(RENTALS).content.decode()
    rental_page = admin_client.get(_url(given_back.rental)).content.decode()
    charge_page = admin_client.get(_url(settled)).content.decode()

    def link(caption, entry_id):
        return f'<a href="{_entry_url(entry_id)}">{caption}</a>'

    settled_links = " · ".join(
        [
            link("debit", settled.ledger_entry_id),
            link("creator revenue", settled.creator_revenue_entry_id),
            link("guest revenue", settled.guest_revenue_entry_id),
        ]
    )
    refunded_links = " · ".join(
        [
            link("debit", given_back.ledger_entry_id),
            link("refund", given_back.refund_ledger_entry_id),
        ]
    )
    assert f'<td class="field-ledger">{settled_links}</td>' in _row(charges, _url(settled))
    assert f'<td class="field-ledger">{refunded_links}</td>' in _row(charges, _url(given_back))
    assert (
        f'<td class="field-ledger">{refunded_links} · '
        f'<a href="{CHARGES}?rental={given_back.rental_id}">1 charge</a></td>'
    ) in _row(rentals, _url(given_back.rental))
    assert refunded_links in rental_page  # the charges inline
    assert f"50 credits from veli for the replay of “{replay.title}” (Refunded)" in rental_page
    assert f"50 credits from ali for the replay of “{replay.title}” (Settled)" in charge_page
    # The charge's page captions its rental and each ledger row: user, amount, stream.
    assert f"ali rents “{replay.title}” for 50 credits until" in charge_page
    assert "Stream charge -50 credits, ali" in charge_page
    assert f"Stream revenue +{settled.creator_share} credits, {replay.creator.username}" in (
        charge_page
    )
    follow = admin_client.get(f"{CHARGES}?rental={given_back.rental_id}")
    assert [charge.pk for charge in follow.context["cl"].result_list] == [given_back.pk]


def test_a_streams_page_links_exactly_its_ledger_rows_and_rentals(admin_client):
    concert, contribution, refunded, support, replay, settled, given_back = _every_kind_of_row()

    page = admin_client.get(_url(replay)).content.decode()
    ledger_url = f"{LEDGER}?stream_id={replay.pk}"
    assert ledger_url in page
    assert f"{RENTALS}?stream={replay.pk}" in page
    rows = admin_client.get(ledger_url).context["cl"].result_list
    rentals = admin_client.get(RENTALS, {"stream": replay.pk}).context["cl"].result_list

    assert {entry.pk for entry in rows} == {
        settled.ledger_entry_id,
        settled.creator_revenue_entry_id,
        settled.guest_revenue_entry_id,
        given_back.ledger_entry_id,
        given_back.refund_ledger_entry_id,
    }
    assert {rental.pk for rental in rentals} == {settled.rental_id, given_back.rental_id}


def test_ledger_search_by_exact_stream_id_and_by_title_through_stream_ids(admin_client):
    concert = LiveStreamFactory(title="Canlı konser")
    # Its debit is described as the fund service describes it (title and id); its refund row
    # has no description, so only the stream id links that row to the stream.
    refunded = ContributionFactory(stream=concert, status="refunded")
    charge = _rent(_duo_replay("Konser kaydı"))
    other = ContributionFactory(stream=LiveStreamFactory(title="Başka yayın"))
    ours = {refunded.ledger_entry_id, refunded.refund_ledger_entry_id}

    def found(term) -> set[str]:
        return {
            entry.pk for entry in admin_client.get(LEDGER, {"q": term}).context["cl"].result_list
        }

    assert found(concert.pk) == ours
    # The id is matched exactly: a fragment finds the debit by its description only.
    assert found(concert.pk[2:]) == {refunded.ledger_entry_id}
    # An id also finds the entry with that id, or the rows of the user with that id.
    assert found(refunded.ledger_entry_id) == {refunded.ledger_entry_id}
    purchase = CreditLedgerEntry.objects.get(user=refunded.user, type="credit_purchase")
    assert found(refunded.user_id) == ours | {purchase.pk}
    LiveStream.objects.filter(pk=concert.pk).update(title="Yeni başlık")  # not in descriptions
    assert found("başlık") == ours
    assert found("kaydı") == {charge.ledger_entry_id}
    assert found("Başka") == {other.ledger_entry_id}
    refunds_only = admin_client.get(
        LEDGER, {"q": concert.pk, "type__exact": "stream_funding_refund"}
    ).context["cl"]
    assert [entry.pk for entry in refunds_only.result_list] == [refunded.refund_ledger_entry_id]


# --- query counts at two sizes ------------------------------------------------------------


def test_ledger_with_every_kind_of_row_has_constant_queries(
    admin_client, django_assert_num_queries
):
    _every_kind_of_row()
    at_one_size = {url: queries_for(admin_client, url) for url in (LEDGER, f"{LEDGER}?q=konser")}
    for _ in range(3):
        _every_kind_of_row(named=False)

    for url, count in at_one_size.items():
        with django_assert_num_queries(count):
            response = admin_client.get(url)
        assert response.status_code == 200
    assert len(admin_client.get(LEDGER).context["cl"].result_list) == 50  # a full page


def test_rental_and_charge_pages_have_constant_queries(admin_client, django_assert_num_queries):
    replay = _duo_replay("Eski kayıt")
    start = timezone.now() - timedelta(days=30)
    first = _rent(replay, "ali", now=start)
    rental = first.rental
    _rent(replay)
    _settle_closed_windows()
    pages = (RENTALS, CHARGES, _url(rental), _url(first))
    at_one_size = {url: queries_for(admin_client, url) for url in pages}
    credits_grant(user=rental.user, amount=500)
    for day in range(1, 10):  # nine more windows of the same rental, settled
        replay_rental_create(user=rental.user, stream_id=replay.pk, now=start + timedelta(days=day))
        _rent(replay)
    _settle_closed_windows()
    _refund_open_rentals(_rent(replay).rental.stream)

    for url, count in at_one_size.items():
        with django_assert_num_queries(count):
            response = admin_client.get(url)
        assert response.status_code == 200
    assert rental.charges.count() == 10
    assert ReplayRentalCharge.objects.filter(status="settled").count() == 20
    assert ReplayRentalCharge.objects.filter(status="refunded").count() == 1
    inline = admin_client.get(_url(rental)).content.decode()
    assert inline.count(">debit</a>") == 10


# --- who cancelled ------------------------------------------------------------------------


def test_a_cancellation_records_whether_the_creator_or_an_operator_cancelled(
    admin_client, admin_user
):
    by_creator = ContributionFactory().stream
    by_operator = ContributionFactory().stream
    before = timezone.now()

    live_stream_cancel(user=by_creator.creator, stream_id=by_creator.pk)
    admin_client.post(
        STREAMS,
        {"action": "cancel_and_refund", "_selected_action": [by_operator.pk], "post": "yes"},
    )

    by_creator.refresh_from_db()
    by_operator.refresh_from_db()
    assert (by_creator.status, by_creator.cancelled_by) == ("cancelled_by_host", by_creator.creator)
    assert (by_operator.status, by_operator.cancelled_by) == ("cancelled_by_host", admin_user)
    assert by_creator.cancelled_at >= before and by_operator.cancelled_at >= before
    creator_page = admin_client.get(_url(by_creator)).content.decode()
    operator_page = admin_client.get(_url(by_operator)).content.decode()
    assert '<div class="readonly">creator</div>' in creator_page
    assert '<div class="readonly">operator</div>' in operator_page
    assert f'<a href="{_url(admin_user)}">{admin_user.username}</a>' in operator_page
    assert 'name="cancelled_by"' not in operator_page  # read-only
    assert 'name="cancelled_at"' not in operator_page

    def listed(who) -> list[str]:
        return [
            s.pk for s in admin_client.get(STREAMS, {"cancelled_by": who}).context["cl"].result_list
        ]

    assert listed("creator") == [by_creator.pk]
    assert listed("operator") == [by_operator.pk]


def test_a_refused_operator_cancel_records_nobody(admin_client):
    ended = LiveStreamFactory(status=LiveStream.Status.ENDED)
    before = money_snapshot()

    admin_client.post(
        STREAMS, {"action": "cancel_and_refund", "_selected_action": [ended.pk], "post": "yes"}
    )

    ended.refresh_from_db()
    assert (ended.status, ended.cancelled_by, ended.cancelled_at) == ("ended", None, None)
    assert money_snapshot() == before


def _paid_out_duo(title: str):
    """An ended duo stream with 100 credits of funding, paid out: 40 creator, 40 guest."""
    from crowdfunding.clock import funding_payouts_settle_due

    stream = _duo_replay(title)
    ContributionFactory(stream=stream, amount=100)
    funding_payouts_settle_due(now=stream.ended_at + timedelta(days=1))
    return stream, stream.funding_payouts.get()


def test_funding_payout_rows_link_their_payout_and_stream_and_show_on_its_page(admin_client):
    stream, payout = _paid_out_duo("Akustik gece")

    body = admin_client.get(LEDGER).content.decode()
    stream_page = admin_client.get(_url(stream)).content.decode()
    payout_page = admin_client.get(_url(payout)).content.decode()

    for entry_id in (payout.creator_revenue_entry_id, payout.guest_revenue_entry_id):
        assert _records_cell(body, entry_id) == (
            f'<a href="{_url(payout)}">funding payout</a> · '
            f'<a href="{_url(stream)}">{stream.title}</a>'
        )
    links = (
        f'<a href="{_entry_url(payout.creator_revenue_entry_id)}">creator&#x27;s share</a> · '
        f'<a href="{_entry_url(payout.guest_revenue_entry_id)}">guest&#x27;s share</a>'
    )
    assert links in stream_page and links in payout_page  # the inline, and its own page
    inline = re.sub(r"\s+", "", stream_page.split('id="funding_payouts-heading"')[1])
    assert '<tdclass="field-total"><p>100</p></td>' in inline
    assert '<tdclass="field-platform_share"><p>20</p></td>' in inline


def test_funding_payout_list_has_constant_queries(admin_client, django_assert_num_queries):
    payouts = reverse("admin:crowdfunding_fundingpayout_changelist")
    _paid_out_duo("Bir")
    count = queries_for(admin_client, payouts)
    for n in range(3):
        _paid_out_duo(f"Yayın {n}")

    with django_assert_num_queries(count):
        response = admin_client.get(payouts)
    assert len(response.context["cl"].result_list) == 4
