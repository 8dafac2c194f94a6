"""Factories that keep the books straight: a contribution made here moves credits through the
ledger exactly as the services do, so `collectedFunding` and balances stay consistent. The
debit and the row are built by `crowdfunding.records`, as the fund service builds them."""

import factory
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from crowdfunding.models import Contribution, MiniCrowdFunding, MiniCrowdFundingSupport
from crowdfunding.records import (
    contribution_debit_post,
    contribution_row,
    refund_post,
    support_debit_post,
    support_row,
)
from livestreams.models import LiveStream
from tests.livestreams.factories import LiveStreamFactory
from tests.users.factories import UserFactory
from users.models import CreditLedgerEntry, StoreEvent
from users.services import ledger_post


def purchase_of(user, amount: int) -> CreditLedgerEntry:
    """Credits bought as a store purchase leaves them: the `credit_purchase` row and the store
    event that credited it (what `audit_ledger` expects of every purchased credit)."""
    entry = ledger_post(
        user_id=user.pk,
        amount=amount,
        entry_type=CreditLedgerEntry.Type.CREDIT_PURCHASE,
        description="test purchase",
    )
    StoreEvent.objects.create(
        event_id=f"test-{entry.pk}",
        event_type="TEST_PURCHASE",
        app_user_id=user.pk,
        user_id=user.pk,
        outcome=StoreEvent.Outcome.CREDITED,
        credits=amount,
        ledger_entry=entry,
    )
    return entry


class ContributionFactory(factory.django.DjangoModelFactory):
    """A completed contribution, paid for: the contributor is granted the credits first."""

    class Meta:
        model = Contribution

    user = factory.SubFactory(UserFactory)
    stream = factory.SubFactory(LiveStreamFactory)
    amount = 100
    status = Contribution.Status.COMPLETED

    @classmethod
    def _create(cls, model_class, *args, user, stream, amount, status, **stamps):
        debit_id = refund_id = refunded_at = None
        with transaction.atomic():
            if status in (Contribution.Status.COMPLETED, Contribution.Status.REFUNDED):
                purchase_of(user, amount)
                debit_id = contribution_debit_post(user_id=user.pk, stream=stream, amount=amount).pk
            if status == Contribution.Status.REFUNDED:
                refund_id = refund_post(
                    user_id=user.pk, amount=amount, stream_id=stream.pk, reason="test refund"
                ).pk
                refunded_at = timezone.now()
            contribution = contribution_row(
                user_id=user.pk,
                stream_id=stream.pk,
                amount=amount,
                ledger_entry_id=debit_id,
                refund_ledger_entry_id=refund_id,
                refunded_at=refunded_at,
                status=status,
                **stamps,
            )
            contribution.save(force_insert=True)
            if status == Contribution.Status.COMPLETED:
                LiveStream.objects.filter(pk=stream.pk).update(
                    collected_funding=F("collected_funding") + amount
                )
        user.refresh_from_db(fields=["credit_balance"])
        return contribution


class MiniCrowdFundingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MiniCrowdFunding

    stream = factory.SubFactory(LiveStreamFactory)
    title = factory.Sequence(lambda n: f"New microphone {n}")
    goal = 200


class MiniCrowdFundingSupportFactory(factory.django.DjangoModelFactory):
    """A completed support, paid for through the ledger like `ContributionFactory` (the
    service refuses supports once funding has closed; this makes the rows the service made
    before that)."""

    class Meta:
        model = MiniCrowdFundingSupport

    user = factory.SubFactory(UserFactory)
    mini_crowd_funding = factory.SubFactory(MiniCrowdFundingFactory)
    amount = 20
    status = MiniCrowdFundingSupport.Status.COMPLETED

    @classmethod
    def _create(cls, model_class, *args, user, mini_crowd_funding, amount, status, **stamps):
        mini = mini_crowd_funding
        if status != MiniCrowdFundingSupport.Status.COMPLETED:
            raise ValueError("MiniCrowdFundingSupportFactory makes completed supports")
        with transaction.atomic():
            purchase_of(user, amount)
            debit = support_debit_post(
                user_id=user.pk, mini=mini, stream=mini.stream, amount=amount
            )
            support = support_row(
                user_id=user.pk,
                mini_crowd_funding_id=mini.pk,
                amount=amount,
                ledger_entry_id=debit.pk,
                **stamps,
            )
            support.save(force_insert=True)
            MiniCrowdFunding.objects.filter(pk=mini.pk).update(collected=F("collected") + amount)
        user.refresh_from_db(fields=["credit_balance"])
        return support
