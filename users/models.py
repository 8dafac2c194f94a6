"""Identity: users, their profile media, and the credit wallet with its ledger."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q

from allmine.ids import ObjectIdField


class Media(models.Model):
    """An uploaded image with resized copies (`variants` maps a pixel size to a URL)."""

    class Type(models.TextChoices):
        IMAGE = "image", "Image"

    id = ObjectIdField(primary_key=True)
    url = models.URLField(max_length=500)
    type = models.CharField(max_length=16, choices=Type.choices, default=Type.IMAGE)
    variants = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "media"

    def __str__(self) -> str:
        return self.url


class User(AbstractUser):
    """A person on the platform: viewer, creator or both. `credit_balance` mirrors the ledger."""

    class AvailabilityStatus(models.TextChoices):
        AVAILABLE = "available", "Available"
        BUSY = "busy", "Busy"
        OFFLINE = "offline", "Offline"

    class AccountStatus(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"

    id = ObjectIdField(primary_key=True)
    email = models.EmailField(blank=True, db_index=True)
    profile_photo = models.ForeignKey(
        Media, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    availability_status = models.CharField(
        max_length=16, choices=AvailabilityStatus.choices, default=AvailabilityStatus.OFFLINE
    )
    account_status = models.CharField(
        max_length=16, choices=AccountStatus.choices, default=AccountStatus.ACTIVE
    )
    credit_balance = models.BigIntegerField(default=0)
    # Bumped on logout: every token carrying an older version is refused.
    token_version = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(credit_balance__gte=0), name="user_credit_balance_non_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.username

    @property
    def is_suspended(self) -> bool:
        return self.account_status == self.AccountStatus.SUSPENDED


class CreditLedgerEntry(models.Model):
    """One change of one user's credit balance. The ledger is the truth about credits.

    `amount` is signed: positive adds credits, negative spends them. A user's
    `credit_balance` always equals the sum of their entries whose money moved: `completed` ones
    and `refunded` ones (a refund row, e.g. a refunded replay rental, API.md §7).
    `stream_id` names the live stream a row belongs to (no foreign key: users sits below
    livestreams), empty when none; the wallet shows it as `streamId`.
    """

    class Type(models.TextChoices):
        CREDIT_PURCHASE = "credit_purchase", "Credit purchase"
        STREAM_FUNDING_CONTRIBUTION = "stream_funding_contribution", "Stream funding contribution"
        STREAM_FUNDING_REFUND = "stream_funding_refund", "Stream funding refund"
        MINI_CROWD_FUNDING_SUPPORT = "mini_crowd_funding_support", "Mini crowd funding support"
        ADMIN_ADJUSTMENT = "admin_adjustment", "Admin adjustment"
        STREAM_CHARGE = "stream_charge", "Stream charge"
        STREAM_REVENUE = "stream_revenue", "Stream revenue"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"
        REFUNDED = "refunded", "Refunded"

    id = ObjectIdField(primary_key=True)
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="ledger_entries")
    type = models.CharField(max_length=32, choices=Type.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.COMPLETED)
    amount = models.BigIntegerField()
    balance_after = models.BigIntegerField()
    description = models.CharField(max_length=255, blank=True)
    stream_id = models.CharField(max_length=24, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "credit ledger entries"
        indexes = [
            models.Index(fields=["user", "status"], name="ledger_user_status_idx"),
            # The wallet's transactions: one user's rows by time.
            models.Index(fields=["user", "created_at", "id"], name="ledger_user_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="ledger_amount_not_zero"),
            models.CheckConstraint(
                condition=Q(balance_after__gte=0), name="ledger_balance_after_non_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.type} {self.amount:+d}"

    # Statuses whose rows moved money: the balance is their sum.
    BALANCE_STATUSES = (Status.COMPLETED, Status.REFUNDED)
