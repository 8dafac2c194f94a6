"""Contributions to streams, mini crowd fundings and their supports, idempotency records."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from allmine.fields import UpdatedAtField
from allmine.ids import ObjectIdField
from livestreams.models import LiveStream
from livestreams.rules import MiniStatus, funding_percentage
from users.models import CreditLedgerEntry


class FundingStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    REFUNDED = "refunded", "Refunded"


def ledger_links_match_status(name: str) -> models.CheckConstraint:
    """A paid record's status and its ledger links agree: completed — its debit, no refund;
    refunded — its debit, its refund row and the refund's time; pending or failed — no refund.
    (`audit_ledger` then checks the amounts; this makes the shape impossible to get wrong.)"""
    no_refund = Q(refund_ledger_entry__isnull=True, refunded_at__isnull=True)
    return models.CheckConstraint(
        condition=(
            (Q(status=FundingStatus.COMPLETED, ledger_entry__isnull=False) & no_refund)
            | Q(
                status=FundingStatus.REFUNDED,
                ledger_entry__isnull=False,
                refund_ledger_entry__isnull=False,
                refunded_at__isnull=False,
            )
            | (Q(status__in=[FundingStatus.PENDING, FundingStatus.FAILED]) & no_refund)
        ),
        name=name,
    )


class PaidRecord(models.Model):
    """Credits a user gave, backed by its ledger rows: the debit, and the refund if any.

    Counts towards its target only while `completed`.
    """

    Status = FundingStatus

    id = ObjectIdField(primary_key=True)
    amount = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.COMPLETED)
    ledger_entry = models.OneToOneField(
        CreditLedgerEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    refund_ledger_entry = models.OneToOneField(
        CreditLedgerEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    refunded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = UpdatedAtField()

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]


class Contribution(PaidRecord):
    """Credits a user gave to a scheduled stream."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="contributions"
    )
    stream = models.ForeignKey(LiveStream, on_delete=models.PROTECT, related_name="contributions")

    class Meta(PaidRecord.Meta):
        indexes = [
            # The funded list: "streams this user has a completed contribution to".
            models.Index(fields=["user", "status", "stream"], name="contrib_user_status_stream"),
            models.Index(fields=["stream", "status"], name="contrib_stream_status_idx"),
            # The admin's contribution list (newest first) and its date filters.
            models.Index(fields=["created_at", "id"], name="contrib_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=1), name="contribution_amount_positive"),
            ledger_links_match_status("contribution_ledger_links_match_status"),
        ]
        permissions = [("refund_contribution", "Can refund contributions")]

    def __str__(self) -> str:
        return (
            f"{self.amount} credits from {self.user.username} to “{self.stream.title}” "
            f"({self.get_status_display()})"
        )


class MiniCrowdFunding(models.Model):
    """A small side goal of a stream that viewers can support with credits."""

    Status = MiniStatus

    id = ObjectIdField(primary_key=True)
    stream = models.ForeignKey(
        LiveStream, on_delete=models.PROTECT, related_name="mini_crowd_fundings"
    )
    title = models.CharField(max_length=120)
    goal = models.PositiveIntegerField()
    collected = models.PositiveBigIntegerField(default=0, editable=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = UpdatedAtField()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(goal__gte=1), name="mini_goal_positive"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def percentage(self) -> int:
        return funding_percentage(self.collected, self.goal)


class MiniCrowdFundingSupport(PaidRecord):
    """Credits a user gave to a mini crowd funding."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="mini_supports"
    )
    mini_crowd_funding = models.ForeignKey(
        MiniCrowdFunding, on_delete=models.PROTECT, related_name="supports"
    )

    class Meta(PaidRecord.Meta):
        indexes = [
            models.Index(fields=["mini_crowd_funding", "status"], name="support_mini_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=1), name="support_amount_positive"),
            ledger_links_match_status("support_ledger_links_match_status"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.amount} credits from {self.user.username} to “{self.mini_crowd_funding.title}” "
            f"({self.get_status_display()})"
        )


class IdempotencyRecord(models.Model):
    """The first successful response to a money request sent with an `Idempotency-Key`.

    A retry with the same key and body gets this response back and is charged nothing; the
    same key with another body is refused. Kept for `IDEMPOTENCY_KEY_TTL` (24 hours).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="idempotency_records"
    )
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and body.")
    response_status = models.PositiveSmallIntegerField()
    response_data = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_user_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user.username} {self.key}"


class FundingPayout(models.Model):
    """An ended stream's crowd funding, paid out once to the people who streamed (API.md §9).

    `total` is every completed contribution and mini crowd funding support of the stream at
    the payout, split as replay revenue is (`livestreams.rules.revenue_split`): the creator's
    and the guest's shares are `stream_revenue` ledger rows; the platform keeps the rest. One
    row per stream (a unique constraint), so no stream is ever paid twice.
    """

    id = ObjectIdField(primary_key=True)
    stream = models.ForeignKey(LiveStream, on_delete=models.PROTECT, related_name="funding_payouts")
    total = models.PositiveBigIntegerField(help_text="Completed contributions and supports.")
    creator_share = models.PositiveBigIntegerField(default=0)
    guest = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    guest_share = models.PositiveBigIntegerField(default=0)
    creator_revenue_entry = models.OneToOneField(
        CreditLedgerEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    guest_revenue_entry = models.OneToOneField(
        CreditLedgerEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    paid_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-paid_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["stream"], name="funding_payout_stream_unique"),
            models.CheckConstraint(
                condition=Q(total__gte=models.F("creator_share") + models.F("guest_share")),
                name="funding_payout_shares_within_total",
            ),
            models.CheckConstraint(
                condition=(
                    Q(creator_share=0, creator_revenue_entry__isnull=True)
                    | Q(creator_share__gt=0, creator_revenue_entry__isnull=False)
                )
                & (
                    Q(guest_share=0, guest_revenue_entry__isnull=True, guest__isnull=True)
                    | Q(guest_share__gt=0, guest_revenue_entry__isnull=False, guest__isnull=False)
                ),
                name="funding_payout_entries_match_shares",
            ),
        ]
        indexes = [models.Index(fields=["paid_at", "id"], name="funding_payout_paid_idx")]

    def __str__(self) -> str:
        return f"Funding payout of “{self.stream.title}”: {self.total} credits"

    @property
    def platform_share(self) -> int:
        return self.total - self.creator_share - self.guest_share
