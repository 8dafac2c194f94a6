"""Identity: users, their profile media, and the credit wallet with its ledger."""

from django.contrib.auth.models import AbstractUser
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.db.models import Q
from django.utils import timezone

from allmine.fields import UpdatedAtField
from allmine.ids import ObjectIdField
from users.signals import password_changed


class Media(models.Model):
    """An uploaded image with resized copies (`variants` maps a pixel size to a URL)."""

    class Type(models.TextChoices):
        IMAGE = "image", "Image"

    id = ObjectIdField(primary_key=True)
    url = models.URLField(max_length=500)
    type = models.CharField(max_length=16, choices=Type.choices, default=Type.IMAGE)
    variants = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = UpdatedAtField()

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "media"

    def __str__(self) -> str:
        return self.url


# Columns that `save()` never writes on an existing row: each has one writer of its own.
LEDGER_COLUMN = "credit_balance"  # the ledger: users.services.ledger_post
REVOCATION_COLUMN = "token_version"  # users.services.user_tokens_revoke
GUARDED_COLUMNS = frozenset({LEDGER_COLUMN, REVOCATION_COLUMN})


def ledger_applied_by_database(using: str = DEFAULT_DB_ALIAS) -> bool:
    """Whether the database applies each inserted ledger row to its user's `credit_balance`
    itself (PostgreSQL, users migration 0009: the balance then changes in no other way).
    Elsewhere (SQLite) the writer updates the balance beside the row: `ledger_post`, the
    seeder."""
    return connections[using].vendor == "postgresql"


class User(AbstractUser):
    """A person on the platform: viewer, creator or both. `credit_balance` mirrors the ledger.

    Two columns have a single writer each, and `save()` never writes them on an existing row:

    - `credit_balance` changes only with a ledger row (`users.services.ledger_post`; on
      PostgreSQL the row's insert applies it and the database refuses any other change,
      users migration 0009);
    - `token_version` changes only in `users.services.user_tokens_revoke` (`F() + 1`; on
      PostgreSQL the database lets it only go up by one).

    So a save of an existing row writes every other column (or the `update_fields` it was
    given, which may not name these two). Without this, any code that loads a user, works
    for a while and saves — the admin's password form after its slow hash, `changepassword`,
    `set_password()` + `save()` — would write back the balance and version it read, undoing
    the funds, refunds and logouts committed meanwhile. A user is created at balance 0: their
    credits come with their ledger rows.

    A saved password change sends `users.signals.password_changed` in the same transaction,
    and the services revoke every token of the user (the refresh tokens are blacklisted and
    `token_version` is bumped): admin, the `changepassword` command and any future API all
    end in this `save()`.
    """

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
    updated_at = UpdatedAtField()

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

    def save(self, *, update_fields=None, **kwargs) -> None:
        if self._state.adding:
            return super().save(update_fields=update_fields, **kwargs)
        if update_fields is None:
            deferred = self.get_deferred_fields()  # Django saves only loaded fields too
            update_fields = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key
                and field.name not in GUARDED_COLUMNS
                and field.attname not in deferred
            ]
        elif GUARDED_COLUMNS.intersection(update_fields):
            raise ValueError(
                "credit_balance changes only through users.services.ledger_post and "
                "token_version only through users.services.user_tokens_revoke"
            )
        if self._password is None:  # set by set_password() until the next save
            return super().save(update_fields=update_fields, **kwargs)
        with transaction.atomic(using=kwargs.get("using")):
            super().save(update_fields=update_fields, **kwargs)
            password_changed.send(sender=User, user=self)


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
        CREDIT_TRANSFER_SENT = "credit_transfer_sent", "Credit transfer sent"
        CREDIT_TRANSFER_RECEIVED = "credit_transfer_received", "Credit transfer received"
        GIFT_SPEND = "gift_spend", "Gift spend"

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
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "credit ledger entries"
        indexes = [
            models.Index(fields=["user", "status"], name="ledger_user_status_idx"),
            # The wallet's transactions: one user's rows by time.
            models.Index(fields=["user", "created_at", "id"], name="ledger_user_created_idx"),
            # The admin's ledger list (newest first), its date filters and the overview's days.
            models.Index(fields=["created_at", "id"], name="ledger_created_idx"),
            # The admin's ledger rows of a stream (search by its id or title, its page's link).
            models.Index(fields=["stream_id"], name="ledger_stream_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="ledger_amount_not_zero"),
            models.CheckConstraint(
                condition=Q(balance_after__gte=0), name="ledger_balance_after_non_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()} {self.amount:+d} credits, {self.user.username}"

    # Statuses whose rows moved money: the balance is their sum.
    BALANCE_STATUSES = (Status.COMPLETED, Status.REFUNDED)


class CreditPackage(models.Model):
    """A pack of credits sold in a store (API.md §12). Operators manage the catalogue in the
    admin (permission `users.manage_credit_packages`); the store webhook credits
    `credit_amount` when it reports a purchase of `revenuecat_product_id`."""

    class StoreType(models.TextChoices):
        APPLE = "apple", "Apple App Store"
        GOOGLE = "google", "Google Play"
        TEST = "test", "Test store"
        WEB = "web", "Web"

    id = ObjectIdField(primary_key=True)
    credit_amount = models.PositiveIntegerField()
    revenuecat_product_id = models.CharField(max_length=255, unique=True)
    store_identifier = models.CharField(max_length=255)
    store_type = models.CharField(max_length=16, choices=StoreType.choices)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = UpdatedAtField()

    class Meta:
        ordering = ["credit_amount", "id"]
        permissions = [("manage_credit_packages", "Can manage credit packages")]
        constraints = [
            models.CheckConstraint(
                condition=Q(credit_amount__gte=1), name="credit_package_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.credit_amount} credits ({self.store_type}: {self.revenuecat_product_id})"


class StoreEvent(models.Model):
    """One event the store (RevenueCat) sent, stored with what it did: received once per
    event id (a redelivery finds this row and changes nothing).

    A credited purchase links its `credit_purchase` ledger row; a refund (a `CANCELLATION`
    with a refund reason) links the purchase it reverses and either its refund row (a
    `credit_purchase` row, status `refunded`, amount negative) or, when the buyer no longer
    holds the credits, nothing: outcome `refund_short`, a negative-balance case for operators.
    """

    class Outcome(models.TextChoices):
        CREDITED = "credited", "Credited"
        REFUNDED = "refunded", "Refunded"
        REFUND_SHORT = "refund_short", "Refund not recovered (balance too low)"
        IGNORED = "ignored", "Ignored"

    id = ObjectIdField(primary_key=True)
    event_id = models.CharField(max_length=255, unique=True)
    event_type = models.CharField(max_length=64)
    app_user_id = models.CharField(max_length=255, blank=True)
    product_id = models.CharField(max_length=255, blank=True)
    transaction_id = models.CharField(max_length=255, blank=True)
    user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="store_events"
    )
    package = models.ForeignKey(
        CreditPackage, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    detail = models.CharField(max_length=255, blank=True)
    credits = models.BigIntegerField(default=0)
    ledger_entry = models.OneToOneField(
        CreditLedgerEntry,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="store_event",
    )
    # A refund: the purchase it reverses (at most one refund per purchase).
    refund_of = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="refund"
    )
    payload = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["received_at", "id"], name="store_event_received_idx"),
            models.Index(fields=["transaction_id"], name="store_event_transaction_idx"),
            models.Index(fields=["outcome"], name="store_event_outcome_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome__in=["credited", "refunded"], ledger_entry__isnull=False)
                | Q(outcome__in=["refund_short", "ignored"], ledger_entry__isnull=True),
                name="store_event_ledger_row_matches_outcome",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}: {self.outcome}"


class CreditTransfer(models.Model):
    """Credits one user sent another (API.md §12): the sender's `credit_transfer_sent` row
    and the recipient's `credit_transfer_received` row, written in one transaction."""

    id = ObjectIdField(primary_key=True)
    sender = models.ForeignKey(User, on_delete=models.PROTECT, related_name="transfers_sent")
    recipient = models.ForeignKey(User, on_delete=models.PROTECT, related_name="transfers_received")
    amount = models.BigIntegerField()
    sent_entry = models.OneToOneField(
        CreditLedgerEntry, on_delete=models.PROTECT, related_name="transfer_sent"
    )
    received_entry = models.OneToOneField(
        CreditLedgerEntry, on_delete=models.PROTECT, related_name="transfer_received"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["created_at", "id"], name="transfer_created_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=1), name="transfer_amount_positive"),
            models.CheckConstraint(
                condition=~Q(sender=models.F("recipient")), name="transfer_not_to_oneself"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount} credits from {self.sender_id} to {self.recipient_id}"
