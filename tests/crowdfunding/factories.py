"""Factories that keep the books straight: a contribution made here moves credits through the
ledger exactly as the services do, so `collectedFunding` and balances stay consistent."""

import factory
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from crowdfunding.models import Contribution, MiniCrowdFunding, MiniCrowdFundingSupport
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
    def _create(cls, model_class, *args, **kwargs):
        user, amount, status = kwargs["user"], kwargs["amount"], kwargs["status"]
        with transaction.atomic():
            if status in (Contribution.Status.COMPLETED, Contribution.Status.REFUNDED):
                purchase_of(user, amount)
                kwargs["ledger_entry"] = ledger_post(
                    user_id=user.pk,
                    amount=-amount,
                    entry_type=CreditLedgerEntry.Type.STREAM_FUNDING_CONTRIBUTION,
                    stream_id=kwargs["stream"].pk,
                )
            if status == Contribution.Status.REFUNDED:
                kwargs["refund_ledger_entry"] = ledger_post(
                    user_id=user.pk,
                    amount=amount,
                    entry_type=CreditLedgerEntry.Type.STREAM_FUNDING_REFUND,
                    stream_id=kwargs["stream"].pk,
                    status=CreditLedgerEntry.Status.REFUNDED,
                )
                kwargs["refunded_at"] = timezone.now()
            contribution = super()._create(model_class, *args, **kwargs)
            if status == Contribution.Status.COMPLETED:
                LiveStream.objects.filter(pk=contribution.stream_id).update(
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
    def _create(cls, model_class, *args, **kwargs):
        user, amount, mini = kwargs["user"], kwargs["amount"], kwargs["mini_crowd_funding"]
        with transaction.atomic():
            purchase_of(user, amount)
            kwargs["ledger_entry"] = ledger_post(
                user_id=user.pk,
                amount=-amount,
                entry_type=CreditLedgerEntry.Type.MINI_CROWD_FUNDING_SUPPORT,
                stream_id=mini.stream_id,
            )
            support = super()._create(model_class, *args, **kwargs)
            MiniCrowdFunding.objects.filter(pk=mini.pk).update(collected=F("collected") + amount)
        user.refresh_from_db(fields=["credit_balance"])
        return support
