"""`audit_ledger` and `grant_credits`."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from crowdfunding.models import Contribution
from livestreams.models import LiveStream
from tests.crowdfunding.factories import ContributionFactory, MiniCrowdFundingFactory
from tests.support import tamper_balance, tampered
from tests.users.factories import UserFactory
from users.models import CreditLedgerEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def consistent_books(client_for):
    """Money moved only through the API: grants, funding, support, a cancel, a refund."""
    funder = UserFactory()
    call_command("grant_credits", funder.username, "1000")
    contribution = ContributionFactory(amount=30)
    cancelled = ContributionFactory(amount=40).stream
    client_for(cancelled.creator).post(f"/api/v1/live-stream/{cancelled.id}/cancel")
    mini = MiniCrowdFundingFactory()
    client = client_for(funder)
    client.post(f"/api/v1/live-stream/{contribution.stream_id}/fund", {"amount": 25}, format="json")
    client.post(
        f"/api/v1/live-stream/{mini.stream_id}/mini-crowd-fundings/{mini.id}/support",
        {"amount": 15},
        format="json",
    )
    return funder, contribution


def audit(capsys) -> tuple[bool, str]:
    try:
        call_command("audit_ledger")
    except CommandError:
        return False, capsys.readouterr().err
    return True, capsys.readouterr().out


def test_audit_is_clean_when_money_moved_through_the_services(consistent_books, capsys):
    clean, output = audit(capsys)

    assert clean, output
    assert "Ledger audit clean" in output


def test_audit_names_a_tampered_balance(consistent_books, capsys):
    funder, _ = consistent_books
    tamper_balance(funder.pk, 5)

    clean, output = audit(capsys)

    assert not clean
    assert f"user {funder.pk} ({funder.username}): credit_balance 5 != ledger sum 960" in output


def test_audit_names_a_tampered_collected_total(consistent_books, capsys):
    _, contribution = consistent_books
    LiveStream.objects.filter(pk=contribution.stream_id).update(collected_funding=1)

    clean, output = audit(capsys)

    assert not clean
    assert (
        f"live stream {contribution.stream_id}: collected_funding 1 != completed contributions 55"
        in output
    )


def test_audit_names_a_contribution_whose_amount_differs_from_its_debit(consistent_books, capsys):
    _, contribution = consistent_books
    with tampered():  # behind the database's back, as a superuser would (tests.support)
        Contribution.objects.filter(pk=contribution.pk).update(amount=31)
    LiveStream.objects.filter(pk=contribution.stream_id).update(collected_funding=56)

    clean, output = audit(capsys)

    assert not clean
    assert (
        f"contribution {contribution.pk}: no matching stream_funding_contribution ledger row"
        in output
    )


def test_audit_names_a_refund_row_not_marked_refunded(consistent_books, capsys):
    refunded = Contribution.objects.get(status="refunded")
    with tampered():  # behind the database's back, as a superuser would (tests.support)
        CreditLedgerEntry.objects.filter(pk=refunded.refund_ledger_entry_id).update(
            status="completed"
        )

    clean, output = audit(capsys)

    assert not clean
    assert f"contribution {refunded.pk}: refunded without a matching refund ledger row" in output


def test_audit_names_an_orphan_ledger_row(consistent_books, capsys):
    funder, _ = consistent_books
    orphan = CreditLedgerEntry.objects.create(
        user=funder, type="stream_funding_refund", amount=1, balance_after=961
    )
    tamper_balance(funder.pk, 961)

    clean, output = audit(capsys)

    assert not clean
    assert f"ledger entry {orphan.pk}: stream_funding_refund row without its contribution" in output


@pytest.mark.parametrize(
    ("entry_type", "amount", "record"),
    [
        ("credit_purchase", 1, "store event"),
        ("credit_transfer_sent", -1, "transfer"),
        ("credit_transfer_received", 1, "transfer"),
        ("gift_spend", -1, "gift"),
    ],
)
def test_audit_names_a_money_row_without_its_record(
    consistent_books, capsys, entry_type, amount, record
):
    funder, _ = consistent_books
    orphan = CreditLedgerEntry.objects.create(
        user=funder, type=entry_type, amount=amount, balance_after=960 + amount
    )
    tamper_balance(funder.pk, 960 + amount)

    clean, output = audit(capsys)

    assert not clean
    assert f"ledger entry {orphan.pk}: {entry_type} row without its {record}" in output


def test_grant_credits_writes_an_admin_adjustment(capsys):
    user = UserFactory(email="ops@allmine.test")

    call_command("grant_credits", "ops@allmine.test", "250", "--reason", "goodwill")

    user.refresh_from_db()
    assert user.credit_balance == 250
    entry = CreditLedgerEntry.objects.get(user=user)
    assert (entry.type, entry.amount, entry.balance_after, entry.description) == (
        "admin_adjustment", 250, 250, "goodwill",
    )  # fmt: skip
    assert "balance 250" in capsys.readouterr().out


@pytest.mark.parametrize("amount", ["0", "-5"])
def test_grant_credits_refuses_non_positive_amounts(amount):
    user = UserFactory()

    with pytest.raises(CommandError):
        call_command("grant_credits", user.username, amount)

    assert CreditLedgerEntry.objects.count() == 0


def test_grant_credits_unknown_user():
    with pytest.raises(CommandError, match="No user 'ghost'"):
        call_command("grant_credits", "ghost", "5")


def test_grant_credits_refuses_an_e_mail_shared_by_two_accounts():
    """The same rule as sign-in: an e-mail address names an account only when it is unique."""
    UserFactory(email="shared@allmine.test")
    UserFactory(email="Shared@allmine.test")

    with pytest.raises(CommandError, match="exactly one account"):
        call_command("grant_credits", "shared@allmine.test", "5")

    assert CreditLedgerEntry.objects.count() == 0


def test_audit_names_a_pending_contribution_that_took_credits(consistent_books, capsys):
    _, contribution = consistent_books
    with tampered():  # behind the database's back, as a superuser would (tests.support)
        Contribution.objects.filter(pk=contribution.pk).update(status=Contribution.Status.PENDING)
    LiveStream.objects.filter(pk=contribution.stream_id).update(collected_funding=25)

    clean, output = audit(capsys)

    assert not clean
    assert f"contribution {contribution.pk}: pending but a ledger row took its credits" in output


def test_purge_idempotency_keys_deletes_only_expired_records(settings, capsys):
    from datetime import timedelta

    from django.utils import timezone

    from crowdfunding.models import IdempotencyRecord

    user = UserFactory()
    fresh = IdempotencyRecord.objects.create(
        user=user, key="fresh", fingerprint="f", response_status=201, response_data={}
    )
    old = IdempotencyRecord.objects.create(
        user=user, key="old", fingerprint="f", response_status=201, response_data={}
    )
    IdempotencyRecord.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - settings.IDEMPOTENCY_KEY_TTL - timedelta(minutes=1)
    )

    call_command("purge_idempotency_keys")

    assert list(IdempotencyRecord.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert "Deleted 1 idempotency record(s)" in capsys.readouterr().out
