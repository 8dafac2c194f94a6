"""An operator's walk through the funds admin in headless Chromium at 1366 px: sign in, find a
contribution, read the totals, refund it through the confirmation page, follow the refund's
ledger row back, cancel a stream with refunds, open the funds overview. A staff user without
the money permissions can do neither."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from selenium.webdriver.support.ui import Select

from crowdfunding.models import Contribution, MiniCrowdFundingSupport
from crowdfunding.services import mini_crowd_funding_support_create
from livestreams.models import LiveStream
from livestreams.services import replay_rental_create, replay_revenue_settle
from tests.crowdfunding.factories import ContributionFactory, MiniCrowdFundingFactory
from tests.livestreams.factories import (
    EndedStreamFactory,
    LiveStreamFactory,
    ReplayRentalFactory,
)
from tests.support import money_snapshot
from tests.users.factories import UserFactory
from users.models import CreditLedgerEntry, User
from users.services import credits_grant

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "operator-pass-2026"


def staff(username: str, *, money: bool) -> User:
    """A staff user made an operator the way the README says (`manage.py grant_operator`)."""
    User.objects.create_user(username, password=PASSWORD)
    call_command("grant_operator", username, *(["--money"] if money else []), stdout=StringIO())
    return User.objects.get(username=username)


@pytest.fixture
def funds():
    """Two scheduled streams: a concert funded by ayse (120) and mehmet (30); a night show
    funded by zeynep (50) with a mini crowd funding ayse supports (20)."""
    concert = LiveStreamFactory(title="Canlı konser", funding_goal=400)
    night = LiveStreamFactory(title="Gece yayını", funding_goal=200)
    ayse, mehmet, zeynep = (UserFactory(username=name) for name in ("ayse", "mehmet", "zeynep"))
    refundable = ContributionFactory(user=ayse, stream=concert, amount=120)
    ContributionFactory(user=mehmet, stream=concert, amount=30)
    ContributionFactory(user=zeynep, stream=night, amount=50)
    mini = MiniCrowdFundingFactory(stream=night, title="Yeni mikrofon", goal=100)
    credits_grant(user=ayse, amount=20)
    mini_crowd_funding_support_create(
        user=ayse, stream_id=night.pk, mini_crowd_funding_id=mini.pk, amount=20
    )
    return {"concert": concert, "night": night, "ayse": ayse, "refundable": refundable}


def run_action(browser, action: str, row_text: str) -> None:
    """Tick the changelist row containing `row_text`, choose `action`, press Go."""
    row = next(row for row in browser.find_all("#result_list tbody tr") if row_text in row.text)
    row.find_element("css selector", "input.action-select").click()
    Select(browser.find("select[name=action]")).select_by_value(action)
    browser.click_and_wait(browser.find("button[name=index]"))


def test_operator_refunds_a_contribution_cancels_a_stream_and_reads_the_overview(browser, funds):
    staff("operator", money=True)

    browser.sign_in("operator", PASSWORD)
    assert "Funds overview" in browser.text("#content")
    browser.screenshot("signed-in")

    # Find ayse's contribution by search; the totals cover exactly what is listed.
    browser.open("/admin/crowdfunding/contribution/")
    assert "Rows: 3" in browser.text("#money-totals")
    assert "Amount: 200" in browser.text("#money-totals")
    assert browser.horizontal_overflow() == 0
    browser.search("ayse")
    totals = browser.text("#money-totals")
    assert "Rows: 1" in totals
    assert "Amount: 120" in totals
    assert "Completed: 120" in totals
    rows = browser.find_all("#result_list tbody tr")
    assert len(rows) == 1
    assert "ayse" in rows[0].text
    assert "Canlı konser" in rows[0].text
    browser.screenshot("contribution-found-with-totals")

    # Refund it: first the confirmation page, and nothing moves before "Yes".
    before = money_snapshot()
    run_action(browser, "refund_selected", "ayse")
    plan = browser.text("#money-plan")
    assert "ayse" in plan
    assert "Canlı konser" in plan
    assert browser.text("#money-plan-total") == "120"
    assert money_snapshot() == before
    browser.screenshot("refund-confirmation")
    browser.click_and_wait(browser.find("#confirm-money-action"))
    assert "Refunded 1 contribution(s): 120 credits to 1 funder(s)." in browser.text(
        "ul.messagelist"
    )
    browser.screenshot("refund-done")
    refund = CreditLedgerEntry.objects.get(
        pk=Contribution.objects.get(pk=funds["refundable"].pk).refund_ledger_entry_id
    )
    assert refund.amount == 120

    # The refund row in the ledger (found by the stream's title), with its link back.
    browser.open("/admin/users/creditledgerentry/?type__exact=stream_funding_refund")
    browser.search("Canlı konser")
    rows = browser.find_all("#result_list tbody tr")
    assert len(rows) == 1
    assert "ayse" in rows[0].text
    assert "+120" in rows[0].text
    assert "Operator refund of a contribution to “Canlı konser”" in rows[0].text
    assert "Credits in: 120" in browser.text("#money-totals")
    browser.screenshot("ledger-refund-row")
    assert browser.horizontal_overflow() == 0
    browser.click_and_wait(rows[0].find_element("link text", "contribution refund"))
    assert "Refunded" in browser.text("#content")
    assert "ayse" in browser.text("#content")
    browser.screenshot("contribution-from-ledger-link")

    # Cancel the night show: every funder (a contribution and a support) on one page first.
    browser.open("/admin/livestreams/livestream/")
    browser.screenshot("streams")
    assert browser.horizontal_overflow() == 0
    run_action(browser, "cancel_and_refund", "Gece yayını")
    plan = browser.text("#money-plan")
    assert "zeynep" in plan
    assert "support of “Yeni mikrofon”" in plan
    assert browser.text("#money-plan-total") == "70"
    browser.screenshot("cancel-confirmation")
    browser.click_and_wait(browser.find("#confirm-money-action"))
    assert (
        "Cancelled 1 stream(s) and refunded 70 credits in 2 refund(s) to 2 funder(s)."
        in browser.text("ul.messagelist")
    )
    browser.screenshot("cancel-done")
    night = LiveStream.objects.get(pk=funds["night"].pk)
    assert (night.status, night.collected_funding) == (LiveStream.Status.CANCELLED_BY_HOST, 0)
    assert night.cancelled_by.username == "operator"
    assert MiniCrowdFundingSupport.objects.get().status == "refunded"

    # The overview, from the index: the concert still scheduled, the audit clean.
    browser.open("/admin/")
    browser.click_link("Funds overview")
    streams = browser.text("#funds-streams")
    assert "Canlı konser" in streams
    assert "Gece yayını" not in streams  # cancelled: no longer takes funding
    concert_row = next(
        row.text for row in browser.find_all("#funds-streams tbody tr") if "Canlı" in row.text
    )
    assert concert_row.split()[-4:] == ["400", "30", "7", "1"]  # goal collected % funders
    assert "Clean" in browser.text("#audit-status")
    assert browser.find("#audit-computed-at").get_attribute("datetime")
    assert len(browser.find_all("#funds-days tbody tr")) == 30
    browser.screenshot("funds-overview")
    assert browser.horizontal_overflow() == 0
    assert browser.failed_requests() == []  # no 404 (favicon included) on any page


def test_staff_without_the_money_permissions_can_neither_refund_nor_cancel(browser, funds):
    staff("viewer", money=False)
    before = money_snapshot()

    browser.sign_in("viewer", PASSWORD)
    browser.open("/admin/crowdfunding/contribution/")
    actions = [
        option.get_attribute("value") for option in browser.find_all("select[name=action] option")
    ]
    assert "refund_selected" not in actions
    browser.screenshot("no-refund-action")
    # Even a forged post of the action (with its confirmation) is refused.
    browser.run_and_wait_for_next_page(
        "const form = document.getElementById('changelist-form');"
        "for (const [name, value] of Object.entries(arguments[0])) {"
        "  const input = document.createElement('input');"
        "  input.type = 'hidden'; input.name = name; input.value = value;"
        "  form.appendChild(input);"
        "}"
        "form.submit();",
        {
            "action": "refund_selected",
            "_selected_action": funds["refundable"].pk,
            "index": "0",
            "post": "yes",
        },
    )
    assert "Select contribution to view" in browser.text("#content")
    assert browser.find_all("#money-plan") == []
    browser.screenshot("forged-refund-refused")

    browser.open("/admin/livestreams/livestream/")
    actions = [
        option.get_attribute("value") for option in browser.find_all("select[name=action] option")
    ]
    assert "cancel_and_refund" not in actions
    browser.screenshot("no-cancel-action")
    assert money_snapshot() == before


def test_money_lists_fit_at_1366_px_for_a_superuser(browser, funds):
    """A superuser's sidebar lists every app; long names and titles still fit without a
    horizontal scroll."""
    User.objects.create_superuser("root", "root@allmine.test", PASSWORD)
    long_title = LiveStreamFactory(title="Matematik soru çözümü ve sınav taktikleri (37. bölüm)")
    ContributionFactory(user=UserFactory(username="zeynep.ozdemir.1900"), stream=long_title)
    mini = MiniCrowdFundingFactory(stream=long_title, title="Stüdyo kirası ve ışık seti", goal=900)
    supporter = UserFactory(username="ebru.sahin.garcia1707")
    credits_grant(user=supporter, amount=40)
    mini_crowd_funding_support_create(
        user=supporter, stream_id=long_title.pk, mini_crowd_funding_id=mini.pk, amount=40
    )
    ReplayRentalFactory(user=supporter, stream=long_title)

    browser.sign_in("root", PASSWORD)
    for name, path in [
        ("contributions", "/admin/crowdfunding/contribution/"),
        ("supports", "/admin/crowdfunding/minicrowdfundingsupport/"),
        ("rentals", "/admin/livestreams/replayrental/"),
        ("ledger", "/admin/users/creditledgerentry/"),
        ("streams", "/admin/livestreams/livestream/"),
        ("overview", "/admin/crowdfunding/contribution/funds-overview/"),
    ]:
        browser.open(path)
        assert browser.find_all(".errornote") == []
        browser.screenshot(name)
        assert browser.horizontal_overflow() == 0, name
    assert browser.failed_requests() == []


def test_operator_follows_a_rental_charge_to_its_ledger_rows_and_back(browser):
    """A settled replay rental: the charge links its debit and the creator's revenue; each
    ledger row links back to the charge and to its stream."""
    staff("operator", money=False)
    replay = EndedStreamFactory(title="Eski konser kaydı", creator=UserFactory(username="sanatci"))
    renter = UserFactory(username="ali")
    credits_grant(user=renter, amount=100)
    replay_rental_create(user=renter, stream_id=replay.pk)
    replay_revenue_settle(now=timezone.now() + timedelta(days=2))

    browser.sign_in("operator", PASSWORD)
    browser.open("/admin/livestreams/replayrentalcharge/")
    row = browser.find_all("#result_list tbody tr")[0]
    assert "ali rents “Eski konser kaydı” for 50 credits" in row.text
    assert "debit · creator revenue" in row.text
    assert "Paid to creators: 40" in browser.text("#money-totals")
    browser.screenshot("rental-charges")
    assert browser.horizontal_overflow() == 0
    browser.click_and_wait(row.find_element("link text", "creator revenue"))
    assert "Stream revenue +40 credits, sanatci" in browser.text("#content")
    browser.screenshot("revenue-ledger-row")
    browser.click_and_wait(browser.find("#content").find_element("link text", "creator revenue"))
    assert "View replay rental charge" in browser.text("#content")
    browser.screenshot("rental-charge")
    browser.click_and_wait(
        browser.find("#content").find_element("link text", "Stream charge -50 credits, ali")
    )
    assert "Eski konser kaydı" in browser.text("#content")  # the debit's stream link
    browser.screenshot("rental-debit-ledger-row")
    assert browser.failed_requests() == []
