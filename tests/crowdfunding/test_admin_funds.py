"""The operator's money views in the admin: totals, date filters, the ledger's links and
stream search, confirmation pages, the funds overview; each at a constant number of queries."""

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from crowdfunding.admin.overview import money_per_day
from crowdfunding.models import Contribution, MiniCrowdFundingSupport
from crowdfunding.services import (
    live_stream_cancel_by_operator,
    mini_crowd_funding_support_create,
)
from livestreams.models import LiveStream
from tests.crowdfunding.factories import ContributionFactory, MiniCrowdFundingFactory
from tests.crowdfunding.test_seed_demo import seed
from tests.livestreams.factories import (
    BroadcasterFactory,
    LiveStreamFactory,
    ReplayRentalFactory,
    StreamGuestFactory,
)
from tests.support import money_snapshot, queries_for, tampered
from tests.users.factories import UserFactory
from users.models import CreditLedgerEntry, User
from users.services import credits_grant

pytestmark = pytest.mark.django_db

CONTRIBUTIONS = reverse("admin:crowdfunding_contribution_changelist")
SUPPORTS = reverse("admin:crowdfunding_minicrowdfundingsupport_changelist")
LEDGER = reverse("admin:users_creditledgerentry_changelist")
RENTALS = reverse("admin:livestreams_replayrental_changelist")
STREAMS = reverse("admin:livestreams_livestream_changelist")
OVERVIEW = reverse("admin:crowdfunding_funds_overview")


def _totals(response) -> dict:
    return dict(response.context["money_totals"])


def _ids(response) -> list[str]:
    return [row.pk for row in response.context["cl"].result_list]


def _support(user, mini, amount: int) -> MiniCrowdFundingSupport:
    credits_grant(user=user, amount=amount)
    return mini_crowd_funding_support_create(
        user=user, stream_id=mini.stream_id, mini_crowd_funding_id=mini.pk, amount=amount
    ).support


def _age(model, pk, days: int) -> None:
    """Backdate a row (money records are append-only: as a superuser would, `tampered`)."""
    with tampered():
        model.objects.filter(pk=pk).update(created_at=timezone.now() - timedelta(days=days))


# --- totals -----------------------------------------------------------------------------


def test_contribution_totals_cover_exactly_the_filtered_set_across_pages(admin_client):
    concert = LiveStreamFactory(title="Canlı konser")
    ContributionFactory.create_batch(55, stream=concert, amount=10)  # two pages of 50
    ContributionFactory(stream=concert, amount=7, status=Contribution.Status.REFUNDED)
    ContributionFactory(user=UserFactory(username="ayse"), amount=120)

    everything = admin_client.get(CONTRIBUTIONS)
    concert_only = admin_client.get(CONTRIBUTIONS, {"q": "konser"})
    refunded = admin_client.get(CONTRIBUTIONS, {"status__exact": "refunded"})
    ayse = admin_client.get(CONTRIBUTIONS, {"q": "ayse"})

    assert _totals(everything) == {"Rows": 57, "Amount": 677, "Completed": 670, "Refunded": 7}
    assert _totals(concert_only) == {"Rows": 56, "Amount": 557, "Completed": 550, "Refunded": 7}
    assert _totals(refunded) == {"Rows": 1, "Amount": 7, "Completed": 0, "Refunded": 7}
    assert _totals(ayse) == {"Rows": 1, "Amount": 120, "Completed": 120, "Refunded": 0}
    body = everything.content.decode()
    assert 'id="money-totals"' in body
    assert 'data-total="Amount">Amount: <b>677</b>' in body


def test_contribution_totals_cost_one_query_at_any_size(admin_client, django_assert_num_queries):
    ContributionFactory()
    at_one_size = queries_for(admin_client, CONTRIBUTIONS, method="get")
    ContributionFactory.create_batch(19)

    with django_assert_num_queries(at_one_size):
        response = admin_client.get(CONTRIBUTIONS)

    assert _totals(response)["Rows"] == 20


def test_ledger_totals_keep_credits_and_debits_apart(admin_client):
    ayse = UserFactory(username="ayse")
    ContributionFactory(user=ayse, amount=120)  # +120 purchase, -120 funding
    credits_grant(user=ayse, amount=30)

    response = admin_client.get(LEDGER, {"q": "ayse"})
    debits = admin_client.get(LEDGER, {"q": "ayse", "direction": "debit"})
    credits = admin_client.get(LEDGER, {"q": "ayse", "direction": "credit"})

    assert _totals(response) == {
        "Rows": 3,
        "Credits in": 150,
        "Credit rows": 2,
        "Debits out": -120,
        "Debit rows": 1,
        "Net": 30,
    }
    assert [entry.amount for entry in debits.context["cl"].result_list] == [-120]
    assert sorted(entry.amount for entry in credits.context["cl"].result_list) == [30, 120]
    assert _totals(debits)["Net"] == -120


def test_support_and_rental_totals(admin_client):
    mini = MiniCrowdFundingFactory(title="Yeni mikrofon", goal=1000)
    _support(UserFactory(username="ayse"), mini, 30)
    _support(UserFactory(username="mehmet"), mini, 45)
    ReplayRentalFactory(price=50, user=UserFactory(username="ali"))
    ReplayRentalFactory(price=75)

    supports = admin_client.get(SUPPORTS, {"q": "mikrofon"})
    rentals = admin_client.get(RENTALS)
    ali = admin_client.get(RENTALS, {"q": "ali"})

    assert _totals(supports) == {"Rows": 2, "Amount": 75, "Completed": 75, "Refunded": 0}
    assert _totals(rentals) == {"Rentals": 2, "Credits": 125}
    assert _totals(ali) == {"Rentals": 1, "Credits": 50}


# --- dates ----------------------------------------------------------------------------------


def test_date_range_and_drill_down_on_every_money_list(admin_client):
    old = ContributionFactory(amount=10)
    new = ContributionFactory(amount=20)
    _age(Contribution, old.pk, days=40)
    since = (timezone.localdate() - timedelta(days=10)).isoformat()
    until = (timezone.localdate() - timedelta(days=30)).isoformat()
    today = timezone.localdate()

    recent = admin_client.get(CONTRIBUTIONS, {"created_at__date__gte": since})
    older = admin_client.get(CONTRIBUTIONS, {"created_at__date__lte": until})
    drilled = admin_client.get(
        CONTRIBUTIONS,
        {
            "created_at__year": today.year,
            "created_at__month": today.month,
            "created_at__day": today.day,
        },
    )

    assert _ids(recent) == [new.pk]
    assert _totals(recent)["Amount"] == 20
    assert _ids(older) == [old.pk]
    assert _ids(drilled) == [new.pk]
    body = recent.content.decode()
    assert f'name="created_at__date__gte" value="{since}"' in body
    for url in (SUPPORTS, LEDGER, RENTALS):
        page = admin_client.get(url)
        assert page.context["cl"].date_hierarchy
        assert any(
            type(spec).__name__ == "DateRangeFilter" for spec in page.context["cl"].filter_specs
        )
    ledger_recent = admin_client.get(
        LEDGER, {"created_at__date__gte": since, "q": new.user.username}
    )
    assert _totals(ledger_recent)["Rows"] == 2  # the new contribution's purchase and debit


def test_a_bad_date_is_the_admins_error_page_not_a_500(admin_client):
    ContributionFactory()

    response = admin_client.get(CONTRIBUTIONS, {"created_at__date__gte": "yesterday"})

    assert response.status_code == 302
    assert response.url.endswith("?e=1")


# --- ledger links and search ----------------------------------------------------------------


def test_ledger_rows_link_to_their_contribution_support_and_stream_and_back(admin_client):
    concert = LiveStreamFactory(title="Canlı konser")
    contribution = ContributionFactory(user=UserFactory(username="ayse"), stream=concert)
    support = _support(UserFactory(username="mehmet"), MiniCrowdFundingFactory(stream=concert), 25)

    response = admin_client.get(LEDGER, {"type__exact": "stream_funding_contribution"})
    body = response.content.decode()
    contribution_url = reverse("admin:crowdfunding_contribution_change", args=[contribution.pk])
    support_url = reverse("admin:crowdfunding_minicrowdfundingsupport_change", args=[support.pk])
    stream_url = reverse("admin:livestreams_livestream_change", args=[concert.pk])
    assert f'<a href="{contribution_url}">contribution</a>' in body
    assert f'<a href="{stream_url}">Canlı konser</a>' in body
    supports = admin_client.get(LEDGER, {"type__exact": "mini_crowd_funding_support"})
    assert f'<a href="{support_url}">support</a>' in supports.content.decode()

    debit_url = reverse("admin:users_creditledgerentry_change", args=[contribution.ledger_entry_id])
    page = admin_client.get(contribution_url).content.decode()
    assert debit_url in page  # back: the contribution links its ledger row
    listed = admin_client.get(CONTRIBUTIONS).content.decode()
    assert f'<a href="{debit_url}">debit</a>' in listed
    entry = admin_client.get(debit_url).content.decode()
    assert contribution_url in entry and stream_url in entry
    stream_page = admin_client.get(stream_url).content.decode()
    assert f"{LEDGER}?stream_id={concert.pk}" in stream_page


def test_ledger_search_by_stream_id_and_title(admin_client):
    concert = LiveStreamFactory(title="Canlı konser")
    refunded = ContributionFactory(stream=concert, status=Contribution.Status.REFUNDED)
    support = _support(UserFactory(), MiniCrowdFundingFactory(stream=concert), 25)
    ContributionFactory(stream=LiveStreamFactory(title="Başka yayın"))
    expected = {
        refunded.ledger_entry_id,
        refunded.refund_ledger_entry_id,
        support.ledger_entry_id,
    }

    by_title = set(_ids(admin_client.get(LEDGER, {"q": "konser"})))
    by_id = set(_ids(admin_client.get(LEDGER, {"q": concert.pk})))
    refunds_only = _ids(
        admin_client.get(LEDGER, {"q": concert.pk, "type__exact": "stream_funding_refund"})
    )

    assert by_title == expected
    assert by_id == expected
    assert refunds_only == [refunded.refund_ledger_entry_id]


def test_ledger_changelist_with_links_has_constant_queries(admin_client, django_assert_num_queries):
    ContributionFactory(user=UserFactory(username="ayse"))
    at_one_size = queries_for(admin_client, LEDGER, method="get", data={"q": "Yeni"})
    mini = MiniCrowdFundingFactory(goal=10_000)
    for _ in range(9):
        ContributionFactory(status=Contribution.Status.REFUNDED)
        _support(UserFactory(), mini, 5)

    with django_assert_num_queries(at_one_size):
        response = admin_client.get(LEDGER, {"q": "Yeni"})

    assert len(response.context["cl"].result_list) > 20


# --- readable captions --------------------------------------------------------------------


def test_captions_name_users_streams_amounts_and_statuses(admin_client):
    concert = LiveStreamFactory(title="Canlı konser")
    contribution = ContributionFactory(user=UserFactory(username="ayse"), stream=concert, amount=50)
    support = _support(
        UserFactory(username="mehmet"),
        MiniCrowdFundingFactory(stream=concert, title="Işık seti"),
        20,
    )
    guest = StreamGuestFactory(stream=concert, user=UserFactory(username="guest_can"))
    rental = ReplayRentalFactory(stream=concert, user=UserFactory(username="ali"), price=75)

    assert str(contribution) == "50 credits from ayse to “Canlı konser” (Completed)"
    assert str(support) == "20 credits from mehmet to “Işık seti” (Completed)"
    assert str(guest) == "guest_can guest of “Canlı konser”"
    assert str(rental).startswith("ali rents “Canlı konser” for 75 credits until ")
    entry = CreditLedgerEntry.objects.get(pk=contribution.ledger_entry_id)
    assert str(entry) == "Stream funding contribution -50 credits, ayse"
    page = admin_client.get(reverse("admin:livestreams_livestream_change", args=[concert.pk]))
    body = page.content.decode()
    assert "50 credits from ayse to “Canlı konser” (Completed)" in body  # inline row caption
    assert "guest_can guest of “Canlı konser”" in body  # the guests inline's row caption


def test_stream_change_page_with_guests_and_broadcasters_has_constant_queries(
    admin_client, django_assert_num_queries
):
    stream = LiveStreamFactory()
    StreamGuestFactory(stream=stream)
    BroadcasterFactory(stream=stream)
    url = reverse("admin:livestreams_livestream_change", args=[stream.pk])
    at_one_size = queries_for(admin_client, url, method="get")
    for _ in range(9):
        StreamGuestFactory(stream=stream)
        BroadcasterFactory(stream=stream)

    with django_assert_num_queries(at_one_size):
        admin_client.get(url)


def test_money_moved_by_the_services_is_described(db):
    concert = LiveStreamFactory(title="Canlı konser")
    contribution = ContributionFactory(stream=concert)
    mini = MiniCrowdFundingFactory(stream=concert, title="Işık seti", goal=1000)
    support = _support(UserFactory(), mini, 20)

    live_stream_cancel_by_operator(stream_id=concert.pk, operator=UserFactory())

    support.refresh_from_db()
    contribution.refresh_from_db()
    descriptions = {
        entry.pk: entry.description
        for entry in CreditLedgerEntry.objects.filter(
            pk__in=[
                support.ledger_entry_id,
                support.refund_ledger_entry_id,
                contribution.refund_ledger_entry_id,
            ]
        )
    }
    cancelled = f"Refund: live stream “Canlı konser” ({concert.pk}) cancelled"
    assert descriptions == {
        support.ledger_entry_id: (
            f"Support of “Işık seti” on live stream “Canlı konser” ({concert.pk})"
        ),
        support.refund_ledger_entry_id: cancelled,
        contribution.refund_ledger_entry_id: cancelled,
    }


# --- confirmation pages ---------------------------------------------------------------------


def test_refund_confirmation_page_has_constant_queries(admin_client, django_assert_num_queries):
    first = ContributionFactory()
    data = {"action": "refund_selected", "_selected_action": [first.pk]}
    at_one_size = queries_for(admin_client, CONTRIBUTIONS, method="post", data=data)
    data["_selected_action"] += [c.pk for c in ContributionFactory.create_batch(19)]

    with django_assert_num_queries(at_one_size):
        response = admin_client.post(CONTRIBUTIONS, data)

    assert len(response.context["lines"]) == 20


def test_cancel_confirmation_lists_every_refund_changes_nothing_constant_queries(
    admin_client, django_assert_num_queries
):
    concert = LiveStreamFactory(title="Canlı konser")
    ended = LiveStreamFactory(title="Bitti", status=LiveStream.Status.ENDED)
    ContributionFactory(stream=concert, user=UserFactory(username="ayse"), amount=40)
    data = {"action": "cancel_and_refund", "_selected_action": [concert.pk, ended.pk]}
    at_one_size = queries_for(admin_client, STREAMS, method="post", data=data)
    mini = MiniCrowdFundingFactory(stream=concert, title="Işık seti", goal=10_000)
    for _ in range(9):
        ContributionFactory(stream=concert, amount=10)
        _support(UserFactory(), mini, 5)
    before = money_snapshot()

    with django_assert_num_queries(at_one_size):
        response = admin_client.post(STREAMS, data)

    assert money_snapshot() == before
    lines = response.context["lines"]
    assert (lines[0].user.username, lines[0].amount, lines[0].skipped) == ("ayse", 40, "")
    assert lines[-1].stream == ended and "cannot be cancelled" in lines[-1].skipped
    assert response.context["total"] == 40 + 9 * 10 + 9 * 5
    assert response.context["refund_count"] == 19
    body = response.content.decode()
    assert "support of “Işık seti”" in body
    assert f'id="money-plan-total">{40 + 90 + 45}<' in body


def test_cancel_needs_its_own_permission_not_just_change(client):
    operator = UserFactory(username="operator", is_staff=True)
    operator.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_livestream", "change_livestream"])
    )
    client.force_login(operator)
    stream = ContributionFactory().stream
    before = money_snapshot()

    listing = client.get(STREAMS)
    client.post(
        STREAMS, {"action": "cancel_and_refund", "_selected_action": [stream.pk], "post": "yes"}
    )

    assert 'value="cancel_and_refund"' not in listing.content.decode()
    assert money_snapshot() == before
    operator.user_permissions.add(Permission.objects.get(codename="cancel_stream_with_refunds"))
    operator = User.objects.get(pk=operator.pk)  # drop the permission cache
    client.force_login(operator)
    client.post(
        STREAMS, {"action": "cancel_and_refund", "_selected_action": [stream.pk], "post": "yes"}
    )
    stream.refresh_from_db()
    assert stream.status == LiveStream.Status.CANCELLED_BY_HOST


# --- funds overview -------------------------------------------------------------------------


def test_index_links_the_overview_and_every_page_has_a_favicon(admin_client, client):
    body = admin_client.get(reverse("admin:index")).content.decode()
    favicon = client.get("/favicon.ico")

    assert f'<a href="{OVERVIEW}">Funds overview</a>' in body
    assert '<link rel="icon" type="image/svg+xml" href="/static/allmine/favicon.svg">' in body
    assert (favicon.status_code, favicon.url) == (301, "/static/allmine/favicon.svg")


def test_overview_streams_sortable_with_goal_collected_percentage_funders(admin_client):
    big = LiveStreamFactory(title="Büyük", funding_goal=1000)
    small = LiveStreamFactory(title="Küçük", funding_goal=100)
    LiveStreamFactory(title="Bitti", status=LiveStream.Status.ENDED)
    closed = timezone.now() - timedelta(minutes=5)  # still scheduled, but funding has closed
    LiveStreamFactory(
        title="Kapandı", planned_start_date=closed, planned_end_date=closed + timedelta(hours=1)
    )
    ayse = UserFactory(username="ayse")
    ContributionFactory(stream=big, user=ayse, amount=100)
    ContributionFactory(stream=big, user=ayse, amount=50)
    ContributionFactory(stream=big, amount=50)
    ContributionFactory(stream=small, amount=80)
    ContributionFactory(stream=small, amount=5, status=Contribution.Status.REFUNDED)

    def rows(order):
        page = admin_client.get(OVERVIEW, {"o": order})
        return [
            (s.title, s.funding_goal, s.collected_funding, s.percentage, s.funders)
            for s in page.context["streams"]
        ]

    assert rows("start") == [("Büyük", 1000, 200, 20, 2), ("Küçük", 100, 80, 80, 1)]
    assert [row[0] for row in rows("-percentage")] == ["Küçük", "Büyük"]
    assert [row[0] for row in rows("-funders")] == ["Büyük", "Küçük"]
    assert [row[0] for row in rows("collected")] == ["Küçük", "Büyük"]
    assert [row[0] for row in rows("no-such-column")] == ["Büyük", "Küçük"]
    body = admin_client.get(OVERVIEW, {"o": "goal"}).content.decode()
    assert 'href="?o=-goal"' in body  # clicking again sorts descending


def test_overview_money_per_day_for_30_days(admin_client):
    ayse = UserFactory(username="ayse")
    old = ContributionFactory(user=ayse, amount=40)  # purchase +40, funding -40
    for entry_id in (
        old.ledger_entry_id,
        CreditLedgerEntry.objects.filter(user=ayse, type="credit_purchase").get().pk,
    ):
        _age(CreditLedgerEntry, entry_id, 3)
    refunded = ContributionFactory(amount=25, status=Contribution.Status.REFUNDED)
    _age(CreditLedgerEntry, refunded.ledger_entry_id, 45)  # before the window: only its
    # purchase and refund count

    days = money_per_day()
    today = timezone.localdate()

    assert len(days) == 30
    assert days[-1]["day"] == today and days[0]["day"] == today - timedelta(days=29)
    by_day = {day["day"]: day for day in days}
    nothing = {"rented": 0, "paid_out": 0, "expired": 0, "funding_paid": 0}
    # Held: the 25 given 45 days ago until today's refund, the 40 from three days ago on.
    assert by_day[today - timedelta(days=4)]["held"] == 25
    assert by_day[today - timedelta(days=3)] == {
        "day": today - timedelta(days=3),
        "bought": 40,
        "funded": 40,
        "refunded": 0,
        "held": 65,
        "net": 40,
        **nothing,
    }
    assert by_day[today - timedelta(days=1)]["held"] == 65
    assert by_day[today] == {
        "day": today,
        "bought": 25,
        "funded": 0,
        "refunded": 25,
        "held": 40,
        "net": -25,
        **nothing,
    }
    page = admin_client.get(OVERVIEW)
    assert page.context["day_totals"] == {
        "bought": 65,
        "funded": 40,
        "refunded": 25,
        "held": 40,
        "net": 15,
        **nothing,
    }


def test_overview_money_per_day_counts_rentals_their_refunds_and_revenue(admin_client):
    from livestreams.models import ReplayRentalCharge
    from livestreams.services import (
        replay_rental_create,
        replay_revenue_settle,
    )
    from tests.livestreams.factories import EndedStreamFactory
    from tests.support import rentals_refund

    replay = EndedStreamFactory(replay_credit_price=50)  # solo: 80 % to the creator
    renters = UserFactory.create_batch(3)
    for renter in renters:
        credits_grant(user=renter, amount=100)
    replay_rental_create(user=renters[0], stream_id=replay.pk)
    replay_revenue_settle(now=timezone.now() + timedelta(days=2))  # pays the creator 40
    for renter in renters[1:]:
        replay_rental_create(user=renter, stream_id=replay.pk)
    with transaction.atomic():  # the stream is deleted: the open windows are refunded
        locked = LiveStream.objects.select_for_update().get(pk=replay.pk)
        rentals_refund(stream=locked, now=timezone.now())
    assert ReplayRentalCharge.objects.filter(status="refunded").count() == 2

    today = money_per_day()[-1]
    page = admin_client.get(OVERVIEW)

    assert today == {
        "day": today["day"],
        "bought": 300,
        "funded": 0,
        "rented": 150,
        "refunded": 100,
        "expired": 0,
        "paid_out": 40,
        "funding_paid": 0,
        "held": 0,
        "net": 150 - 100 - 40,
    }
    assert page.context["day_totals"]["rented"] == 150
    body = page.content.decode()
    assert "<dt>In: rentals</dt><dd>credits paid for replay rentals (stream charges)</dd>" in body
    assert "<dt>Out: revenue</dt><dd>replay revenue paid to creators and guests</dd>" in body
    last_row = body.split("<tbody>")[-1].split("</tr>")[0]
    assert (
        '<td class="num">150</td><td class="num">100</td><td class="num">0</td>'
        '<td class="num">40</td><td class="num">0</td>'
    ) in last_row


def test_overview_shows_the_audit_clean_or_its_mismatches_with_the_time(admin_client):
    contribution = ContributionFactory(amount=40)

    clean = admin_client.get(OVERVIEW)
    assert clean.context["audit"]["count"] == 0
    assert "Clean: every balance" in clean.content.decode()
    computed_at = clean.context["audit"]["computed_at"]
    assert 'id="audit-computed-at"' in clean.content.decode()

    LiveStream.objects.filter(pk=contribution.stream_id).update(collected_funding=999)
    cached = admin_client.get(OVERVIEW)
    assert cached.context["audit"]["computed_at"] == computed_at  # cached, not rerun
    rerun = admin_client.post(OVERVIEW, {"rerun_audit": "1"})
    assert rerun.context["audit"]["count"] == 1
    body = rerun.content.decode()
    assert "1 mismatch between stored totals and the ledger" in body
    assert f"live stream {contribution.stream_id}: collected_funding 999" in body
    assert rerun.context["audit"]["computed_at"] > computed_at


@pytest.mark.parametrize(
    ("method", "data"), [("get", None), ("post", {"rerun_audit": "1"})], ids=["cached", "rerun"]
)
def test_overview_has_constant_queries(admin_client, django_assert_num_queries, method, data):
    ContributionFactory()
    at_one_size = queries_for(admin_client, OVERVIEW, method=method, data=data)
    for _ in range(19):
        ContributionFactory(stream=LiveStreamFactory())
        credits_grant(user=UserFactory(), amount=5)

    with django_assert_num_queries(at_one_size):
        response = getattr(admin_client, method)(OVERVIEW, data)

    assert response.context["streams"].paginator.count == 20


def test_overview_needs_the_view_contribution_permission(client):
    staff = UserFactory(username="staff", is_staff=True)
    client.force_login(staff)

    assert client.get(OVERVIEW).status_code == 403
    assert "Funds overview" not in client.get(reverse("admin:index")).content.decode()


def test_seeded_ledger_rows_are_described():
    seed(supports=20, rentals=5)

    described = {
        ("credit_purchase", "completed"): "Demo credit purchase",
        ("stream_funding_contribution", "completed"): "Demo stream funding contribution",
        ("stream_funding_refund", "refunded"): "Demo stream funding refund",
        ("mini_crowd_funding_support", "completed"): "Demo mini crowd funding support",
        ("stream_charge", "completed"): "Demo replay rental of live stream {stream_id}",
        ("stream_charge", "refunded"): (
            "Demo refund of the replay rental of live stream {stream_id}"
        ),
        ("stream_revenue", "completed"): "Demo replay revenue of live stream {stream_id}",
    }
    rows = CreditLedgerEntry.objects.values_list("pk", "type", "status", "description", "stream_id")
    # The clock's rows say what the clock says: expiry refunds and funding payouts.
    from crowdfunding.clock import expiry_refund_reason, payout_description
    from crowdfunding.models import FundingPayout

    payout_rows = {
        pk
        for pair in FundingPayout.objects.values_list(
            "creator_revenue_entry_id", "guest_revenue_entry_id"
        )
        for pk in pair
    }
    streams = LiveStream.objects.in_bulk()
    assert payout_rows - {None}

    assert {(kind, status) for _, kind, status, _, _ in rows} == set(described)
    for pk, kind, status, description, stream_id in rows:
        stream = streams.get(stream_id)
        if pk in payout_rows:
            expected = payout_description(title=stream.title, stream_id=stream_id)
        elif kind == "stream_funding_refund" and stream.status == LiveStream.Status.EXPIRED:
            expected = expiry_refund_reason(title=stream.title, stream_id=stream_id)
        else:
            expected = described[kind, status].format(stream_id=stream_id)
        assert description == expected


@pytest.mark.parametrize(("money", "can_refund"), [(False, False), (True, True)])
def test_grant_operator_makes_a_staff_reader_or_a_money_operator(money, can_refund):
    UserFactory(username="ops")
    out = StringIO()

    call_command("grant_operator", "ops", *(["--money"] if money else []), stdout=out)

    ops = User.objects.get(username="ops")
    assert ops.is_staff
    assert ops.has_perm("crowdfunding.view_contribution")
    assert ops.has_perm("users.view_creditledgerentry")
    assert ops.has_perm("crowdfunding.refund_contribution") is can_refund
    assert ops.has_perm("livestreams.cancel_stream_with_refunds") is can_refund
    assert not ops.has_perm("crowdfunding.change_contribution")
    group = "Funds operators" if money else "Funds viewers"
    assert out.getvalue() == f"ops is staff in '{group}'.\n"


def test_grant_operator_refuses_an_unknown_user():
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        call_command("grant_operator", "nobody")


def test_ledger_type_column_names_a_status_other_than_completed(admin_client):
    user = UserFactory(username="ayse")
    CreditLedgerEntry.objects.create(
        user=user, type="credit_purchase", status="pending", amount=10, balance_after=0
    )
    credits_grant(user=user, amount=5)

    body = admin_client.get(LEDGER, {"q": "ayse"}).content.decode()

    assert '<td class="field-kind">Credit purchase (pending)</td>' in body
    assert '<td class="field-kind">Admin adjustment</td>' in body


def test_overview_money_per_day_shows_expired_and_paid_out_funding(admin_client):
    from crowdfunding.clock import funding_payouts_settle_due, live_streams_expire_due
    from tests.livestreams.factories import EndedStreamFactory

    unstarted = LiveStreamFactory()
    ContributionFactory(stream=unstarted, amount=30)
    ended = EndedStreamFactory()
    ContributionFactory(stream=ended, amount=100)
    held_before = money_per_day()[-1]["held"]
    live_streams_expire_due(now=unstarted.planned_start_date + timedelta(hours=1))
    funding_payouts_settle_due(now=ended.ended_at + timedelta(days=1))

    today = money_per_day()[-1]
    page = admin_client.get(OVERVIEW)

    assert held_before == 130
    assert today == {
        "day": today["day"],
        "bought": 130,
        "funded": 130,
        "rented": 0,
        "refunded": 0,
        "expired": 30,
        "paid_out": 0,
        "funding_paid": 80,  # the creator's 80 %; the platform keeps 20
        "held": 0,
        "net": 130 - 30 - 80,
    }
    body = page.content.decode()
    assert "<dt>Out: funding paid out</dt>" in body and "<dt>Out: expired</dt>" in body
