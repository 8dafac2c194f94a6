"""The books kept honest by the database (users migration 0009).

On PostgreSQL the database refuses every write that would make the books disagree: a balance
changed other than by a ledger row, a ledger row updated or deleted, a row whose `balance_after`
does not follow, a balance below zero, a user born with credits, a paid record's amount changed.
SQLite keeps the application-level path (`ledger_post` writes the balance beside its row): the
same stray writes land there, and what the operator sees is `audit_ledger` naming them. Each
test below asserts both: refused with nothing changed, or (SQLite) named by the audit.
"""

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from crowdfunding.audit import ledger_mismatches
from crowdfunding.clock import funding_payouts_settle_due
from crowdfunding.models import Contribution, FundingPayout
from crowdfunding.services import contribution_refund
from livestreams.gifts import gift_create
from livestreams.models import Gift, GiftType, LiveStream, ReplayRentalCharge
from livestreams.services import replay_rental_create
from tests.crowdfunding.factories import (
    ContributionFactory,
    MiniCrowdFundingSupportFactory,
    purchase_of,
)
from tests.livestreams.factories import EndedStreamFactory, LiveStreamFactory
from tests.support import money_snapshot
from tests.users.factories import UserFactory
from users.models import CreditLedgerEntry, CreditTransfer, StoreEvent, User
from users.services import credit_transfer_create, credits_grant

pytestmark = pytest.mark.django_db

SECOND = timedelta(seconds=1)

ENFORCED = connection.vendor == "postgresql"


def refused_or_audited(write: Callable[[], object], refusal: str) -> None:
    """PostgreSQL refuses `write` (the database's message matches `refusal`) and nothing
    changes; SQLite lets it land and `audit_ledger` names what it broke."""
    before = money_snapshot()
    if ENFORCED:
        with pytest.raises(IntegrityError, match=refusal), transaction.atomic():
            write()
            with connection.cursor() as cursor:  # deferred checks (deletes) fire now
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        assert money_snapshot() == before
        assert list(ledger_mismatches()) == []
    else:
        write()
        assert list(ledger_mismatches()) != []


@pytest.fixture
def wallet():
    """A user who bought 30 credits and gave them to a stream, then bought 70: the services'
    rows only."""
    user = UserFactory()
    ContributionFactory(user=user, amount=30)
    purchase_of(user, 70)
    user.refresh_from_db()
    assert user.credit_balance == 70
    return user


def test_ledger_rows_bring_the_balance_and_each_row_carries_it(wallet):
    rows = list(wallet.ledger_entries.order_by("created_at", "id"))

    assert [(r.amount, r.balance_after) for r in rows] == [(30, 30), (-30, 0), (70, 70)]
    assert list(ledger_mismatches()) == []


@pytest.mark.parametrize("how", ["queryset", "sql"])
def test_a_balance_changes_only_with_a_ledger_row(wallet, how):
    def stray_update():
        if how == "queryset":
            User.objects.filter(pk=wallet.pk).update(credit_balance=1_000)
        else:
            with connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE users_user SET credit_balance = credit_balance + 1 WHERE id = %s",
                    [wallet.pk],
                )

    refused_or_audited(stray_update, "credit_balance changes only by inserting ledger rows")


@pytest.mark.parametrize("change", [{"amount": 71}, {"status": "failed"}])
def test_a_ledger_row_is_never_updated(wallet, change):
    entry = wallet.ledger_entries.get(amount=70)

    refused_or_audited(
        lambda: CreditLedgerEntry.objects.filter(pk=entry.pk).update(**change),
        "append-only",
    )


def test_a_ledger_row_is_never_deleted_while_its_user_exists(wallet):
    entry = credits_grant(user=wallet, amount=9)  # a row no record links

    refused_or_audited(
        lambda: CreditLedgerEntry.objects.filter(pk=entry.pk)._raw_delete(connection.alias),
        "deleted only with their user",
    )


def insert(user, amount: int, balance_after: int) -> None:
    CreditLedgerEntry.objects.create(
        user=user, type="admin_adjustment", amount=amount, balance_after=balance_after
    )


def test_a_row_whose_balance_after_does_not_follow_is_refused(wallet):
    refused_or_audited(lambda: insert(wallet, 5, 80), "balance_after 80 but the balance of user")


def test_a_row_that_would_take_the_balance_below_zero_is_refused(wallet):
    refused_or_audited(lambda: insert(wallet, -100, 0), "would be -30 \\(below zero\\)")


def test_a_row_inserted_with_the_right_balance_after_is_applied_or_audited(wallet):
    """The database does the balance's half of `ledger_post` for any correct insert; SQLite
    leaves it undone, and the audit says so."""
    insert(wallet, 5, 75)

    wallet.refresh_from_db()
    assert wallet.credit_balance == (75 if ENFORCED else 70)
    assert (list(ledger_mismatches()) == []) is ENFORCED


def test_many_rows_in_one_statement_follow_each_other_in_ledger_order(wallet):
    """The seeder's bulk inserts: several rows of one user in one INSERT, checked in
    (`created_at`, `id`) order whatever order they are sent in."""
    now = timezone.now()
    rows = [
        CreditLedgerEntry(
            user=wallet, type="admin_adjustment", amount=a, balance_after=b, created_at=now + d
        )
        for a, b, d in [(-20, 60, 2 * SECOND), (10, 80, 1 * SECOND), (-60, 0, 3 * SECOND)]
    ]
    CreditLedgerEntry.objects.bulk_create(rows)
    if not ENFORCED:  # the application-level path: the writer sets the balance (the seeder)
        User.objects.filter(pk=wallet.pk).update(credit_balance=0)

    wallet.refresh_from_db()
    assert wallet.credit_balance == 0
    assert list(ledger_mismatches()) == []


def test_rows_of_one_statement_must_follow_in_ledger_order_not_in_the_order_sent(wallet):
    now = timezone.now()
    rows = [
        CreditLedgerEntry(
            user=wallet, type="admin_adjustment", amount=a, balance_after=b, created_at=now + d
        )
        for a, b, d in [(10, 80, 2 * SECOND), (-20, 60, 1 * SECOND)]  # 70 -20 = 50, +10 = 60
    ]

    refused_or_audited(
        lambda: CreditLedgerEntry.objects.bulk_create(rows), "balance_after (60|80) but the balance"
    )


def test_a_row_comes_after_its_user_not_before(wallet):
    """The foreign key is checked at commit: without the trigger's own check a row could be
    inserted before its user and skip the balance."""
    newcomer = "6b1400000000000000000001"

    def row_then_user():
        CreditLedgerEntry.objects.create(
            user_id=newcomer, type="admin_adjustment", amount=5, balance_after=5
        )
        User.objects.create(id=newcomer, username="newcomer")

    refused_or_audited(row_then_user, f"user {newcomer} does not exist")


def test_a_user_is_born_without_credits():
    refused_or_audited(
        lambda: User.objects.create(username="rich", credit_balance=500),
        "starts at credit_balance 0",
    )


def test_token_version_only_goes_up_by_one():
    """A stale save writing back an older version would revive revoked tokens: PostgreSQL
    lets the version only go up by one, as `user_tokens_revoke` moves it. (SQLite: `User.save`
    never writes it, tests/users/test_password_change.py.)"""
    user = UserFactory()
    User.objects.filter(pk=user.pk).update(token_version=F("token_version") + 1)
    for stray in (0, 3):  # back to a revoked version; a jump
        if ENFORCED:
            refusal = pytest.raises(IntegrityError, match="token_version only goes up by one")
            with refusal, transaction.atomic():
                User.objects.filter(pk=user.pk).update(token_version=stray)
        else:
            User.objects.filter(pk=user.pk).update(token_version=stray)
    user.refresh_from_db()
    assert user.token_version == (1 if ENFORCED else 3)


@pytest.fixture
def records(wallet):
    """One paid record of each kind, through the services."""
    now = timezone.now()
    creator_stream = EndedStreamFactory(replay_credit_price=20)
    replay_rental_create(user=wallet, stream_id=creator_stream.pk, now=now)
    payout_stream = EndedStreamFactory(ended_at=now - timedelta(days=3))
    ContributionFactory(stream=payout_stream, amount=10)
    funding_payouts_settle_due(now=now)
    credit_transfer_create(sender=wallet, recipient_id=UserFactory().pk, amount=5)
    gift_type = GiftType.objects.create(name="Test rose", credit_amount=3)
    live = LiveStreamFactory(status=LiveStream.Status.ACTIVE, started_at=now)
    gift_create(user=wallet, gift_type_id=gift_type.pk, stream_id=live.pk)
    support = MiniCrowdFundingSupportFactory(amount=4)
    return {
        "contribution": Contribution.objects.filter(user=wallet).get(),
        "support": support,
        "charge": ReplayRentalCharge.objects.get(),
        "payout": FundingPayout.objects.get(stream=payout_stream),
        "transfer": CreditTransfer.objects.get(),
        "gift": Gift.objects.get(),
        "store event": StoreEvent.objects.filter(user=wallet).first(),
    }


@pytest.mark.parametrize(
    ("record", "change"),
    [
        ("contribution", {"amount": 31}),
        ("contribution", {"status": "pending"}),
        ("support", {"amount": 5}),
        ("charge", {"price": 21}),
        ("payout", {"total": 9}),
        ("transfer", {"amount": 6}),
        ("gift", {"amount": 4}),
        ("store event", {"credits": 71}),
    ],
)
def test_a_paid_records_amount_never_changes(records, record, change):
    row = records[record]

    refused_or_audited(
        lambda: type(row).objects.filter(pk=row.pk).update(**change),
        "append-only|amount and links never change",
    )


@pytest.mark.parametrize("record", ["contribution", "charge", "transfer", "gift", "payout"])
def test_a_paid_record_is_never_deleted_while_its_ledger_rows_exist(records, record):
    row = records[record]

    refused_or_audited(
        lambda: type(row).objects.filter(pk=row.pk)._raw_delete(connection.alias),
        "deleted only with its ledger rows",
    )


def test_the_refund_transition_is_let_through_once(records):
    """What `_refund` does: completed -> refunded, setting only the refund columns. A refunded
    contribution is then frozen (PostgreSQL; on SQLite the audit names the reversal)."""
    contribution = records["contribution"]
    contribution_refund(contribution_id=contribution.pk)
    contribution.refresh_from_db()
    assert contribution.status == "refunded"
    assert list(ledger_mismatches()) == []

    refused_or_audited(
        lambda: Contribution.objects.filter(pk=contribution.pk).update(
            status="completed", refund_ledger_entry=None, refunded_at=None
        ),
        "refunded -> completed is no allowed transition",
    )
