"""Live streams, their invited guests and broadcasters, and replay rentals."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from allmine.fields import UpdatedAtField
from allmine.ids import ObjectIdField
from livestreams.rules import (
    Action,
    StreamStatus,
    StreamType,
    access_type,
    funding_percentage,
    statuses_for,
)


class Interest(models.TextChoices):
    MUSIC = "music", "Music"
    SPORTS = "sports", "Sports"
    GAMING = "gaming", "Gaming"
    TECHNOLOGY = "technology", "Technology"
    EDUCATION = "education", "Education"
    ART = "art", "Art"
    TRAVEL = "travel", "Travel"
    FOOD = "food", "Food"
    FASHION = "fashion", "Fashion"
    LIFESTYLE = "lifestyle", "Lifestyle"
    COMEDY = "comedy", "Comedy"
    BUSINESS = "business", "Business"


class LiveStreamQuerySet(models.QuerySet):
    def alive(self):
        """Streams that are not soft-deleted: the only ones any list may show."""
        return self.filter(deleted_at__isnull=True)


class LiveStream(models.Model):
    """A live stream, planned and crowd-funded before it starts.

    `collected_funding` is kept by the crowdfunding services in the same transaction as
    each contribution or refund; it always equals the sum of completed contributions.
    """

    # Which status allows which action, and every pure rule on a stream: livestreams/rules.py.
    Type = StreamType
    Status = StreamStatus

    id = ObjectIdField(primary_key=True)
    creator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="created_streams"
    )
    title = models.CharField(max_length=120)
    live_stream_type = models.CharField(max_length=16, choices=Type.choices, default=Type.SOLO)
    channel_name = models.CharField(max_length=140, unique=True, editable=False)
    guests = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="StreamGuest", related_name="guest_streams", blank=True
    )
    thumbnail_url = models.URLField(max_length=500, blank=True)
    recording = models.BooleanField(default=False)
    recording_url = models.URLField(max_length=500, blank=True)
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.SCHEDULED)
    price = models.DecimalField(
        max_digits=10, decimal_places=2, null=True, blank=True, help_text="Empty for a free stream."
    )
    interest = models.CharField(max_length=32, choices=Interest.choices)
    duration_goal = models.PositiveIntegerField(help_text="Planned length in minutes.")
    motivation = models.TextField(blank=True)
    is_active_replay_on_creator_profile = models.BooleanField(null=True, blank=True)
    replay_credit_price = models.PositiveIntegerField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    planned_start_date = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    planned_end_date = models.DateTimeField()
    funding_goal = models.PositiveIntegerField(default=0)
    collected_funding = models.PositiveBigIntegerField(default=0, editable=False)
    deleted_at = models.DateTimeField(null=True, blank=True)
    # Who cancelled the stream and when: its creator (the API) or an operator (the admin).
    # The status is `cancelled_by_host` either way (API contract).
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # When the clock paid an ended stream's funding out (`crowdfunding.clock`, with its
    # `FundingPayout` row in the same transaction): the payout sweep's index skips these.
    funding_paid_out_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = UpdatedAtField()

    objects = LiveStreamQuerySet.as_manager()

    class Meta:
        ordering = ["planned_start_date", "id"]
        indexes = [
            models.Index(fields=["status", "planned_start_date"], name="stream_status_start_idx"),
            models.Index(fields=["creator", "status"], name="stream_creator_status_idx"),
            # The clock's sweeps (crowdfunding/clock.py): only the rows that can fall due, in
            # the order each sweep takes them, so an idle tick reads a few index pages.
            models.Index(
                fields=["planned_start_date", "id"],
                condition=Q(status__in=statuses_for(Action.EXPIRE), deleted_at__isnull=True),
                name="stream_expiry_due_idx",
            ),
            models.Index(
                fields=["ended_at", "id"],
                condition=Q(
                    status=StreamStatus.ENDED,
                    funding_paid_out_at__isnull=True,
                    deleted_at__isnull=True,
                ),
                name="stream_payout_due_idx",
            ),
        ]
        permissions = [
            ("cancel_stream_with_refunds", "Can cancel streams and refund every funder"),
        ]
        constraints = [
            # One rule for free streams: no price at all. `paid` exactly when price > 0.
            models.CheckConstraint(
                condition=Q(price__isnull=True) | Q(price__gt=0),
                name="stream_price_null_or_positive",
            ),
            models.CheckConstraint(
                condition=Q(planned_end_date__gte=models.F("planned_start_date")),
                name="stream_planned_end_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def access_type(self) -> str:
        return access_type(self.price)

    @property
    def funding_percentage(self) -> int:
        return funding_percentage(self.collected_funding, self.funding_goal)

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def invited_guests(self) -> list:
        """Guests in invitation order (reads the `guest_links` prefetch when present)."""
        return [link.user for link in self.guest_links.all()]


class StreamGuest(models.Model):
    """A user invited to a stream as its guest."""

    stream = models.ForeignKey(LiveStream, on_delete=models.CASCADE, related_name="guest_links")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="guest_links"
    )
    invited_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["invited_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["stream", "user"], name="stream_guest_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user.username} guest of “{self.stream.title}”"


class Broadcaster(models.Model):
    """Someone broadcasting in a stream: the host or a guest, with their media uid."""

    class Role(models.TextChoices):
        HOST = "host", "Host"
        GUEST = "guest", "Guest"

    stream = models.ForeignKey(LiveStream, on_delete=models.CASCADE, related_name="broadcasters")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="broadcasts"
    )
    role = models.CharField(max_length=8, choices=Role.choices)
    uid = models.PositiveIntegerField(null=True, blank=True)
    has_joined = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["stream", "user"], name="broadcaster_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user.username} ({self.get_role_display()}) in “{self.stream.title}”"


class ReplayRental(models.Model):
    """A user's access to a stream's recording: one row per (user, stream).

    Each rent (API.md §7) opens a 24-hour window, `rented_at` to `expires_at`, paid by one
    `ReplayRentalCharge`; renting again after the window closed (or after a refund) reactivates
    this row in place with a new charge. `status` is `refunded` when the current window's charge
    was given back (the stream was deleted): such a rental grants nothing.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        REFUNDED = "refunded", "Refunded"

    id = ObjectIdField(primary_key=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="replay_rentals"
    )
    stream = models.ForeignKey(LiveStream, on_delete=models.PROTECT, related_name="rentals")
    price = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    rented_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-rented_at", "-id"]
        indexes = [
            # The caller's rentals, newest first.
            models.Index(fields=["user", "rented_at"], name="rental_user_rented_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["user", "stream"], name="rental_user_stream_unique"),
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("rented_at")), name="rental_expires_after_start"
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.user.username} rents “{self.stream.title}” for {self.price} credits "
            f"until {self.expires_at:%Y-%m-%d %H:%M}"
        )


class ReplayRentalCharge(models.Model):
    """The payment for one 24-hour window of a rental: its `stream_charge` debit, then either
    its refund (a `stream_charge` credit row with status `refunded`) or, once the window has
    closed, its settlement (the `stream_revenue` rows paid to the creator and the guest).

    `active` → `refunded` or `settled`, each exactly once (the services change a charge only
    under its row lock and only from `active`).
    """

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        REFUNDED = "refunded", "Refunded"
        SETTLED = "settled", "Settled"

    id = ObjectIdField(primary_key=True)
    rental = models.ForeignKey(ReplayRental, on_delete=models.PROTECT, related_name="charges")
    price = models.PositiveIntegerField()
    rented_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    ledger_entry = models.OneToOneField(
        "users.CreditLedgerEntry", on_delete=models.PROTECT, related_name="+"
    )
    refund_ledger_entry = models.OneToOneField(
        "users.CreditLedgerEntry",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    refunded_at = models.DateTimeField(null=True, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)
    # Who received the guest's share (none for a solo stream); the shares that were paid.
    guest = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    creator_share = models.PositiveIntegerField(default=0)
    guest_share = models.PositiveIntegerField(default=0)
    creator_revenue_entry = models.OneToOneField(
        "users.CreditLedgerEntry",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    guest_revenue_entry = models.OneToOneField(
        "users.CreditLedgerEntry",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-rented_at", "-id"]
        indexes = [
            # The revenue job: active charges whose window has closed.
            models.Index(fields=["status", "expires_at"], name="rental_charge_due_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=1), name="rental_charge_price_positive"),
            models.CheckConstraint(
                condition=(
                    Q(
                        status="refunded",
                        refund_ledger_entry__isnull=False,
                        refunded_at__isnull=False,
                    )
                    | (
                        ~Q(status="refunded")
                        & Q(refund_ledger_entry__isnull=True, refunded_at__isnull=True)
                    )
                ),
                name="rental_charge_refund_consistent",
            ),
            models.CheckConstraint(
                condition=(
                    Q(status="settled", settled_at__isnull=False)
                    | (
                        ~Q(status="settled")
                        & Q(
                            settled_at__isnull=True,
                            creator_revenue_entry__isnull=True,
                            guest_revenue_entry__isnull=True,
                        )
                    )
                ),
                name="rental_charge_settlement_consistent",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.price} credits from {self.rental.user.username} for the replay of "
            f"“{self.rental.stream.title}” ({self.get_status_display()})"
        )


class Reminder(models.Model):
    """A user's one reminder for a scheduled stream (API.md §10).

    `minute` 0 (mode ON_START) fires when the creator starts the stream; n > 0 (BEFORE_START)
    fires n minutes before the stream's CURRENT `planned_start_date` (a reschedule moves it:
    nothing is stored but the lead, `lead`), by the reminder sweep job. Status `armed_on_start`
    or `armed` → `sent` once (under the row lock) or `cancelled` (the stream was cancelled,
    expired or deleted).
    """

    class Mode(models.TextChoices):
        ON_START = "ON_START", "On start"
        BEFORE_START = "BEFORE_START", "Before start"

    class Status(models.TextChoices):
        ARMED_ON_START = "ARMED_ON_START", "Armed (on start)"
        ARMED = "ARMED", "Armed"
        SENT = "SENT", "Sent"
        CANCELLED = "CANCELLED", "Cancelled"

    ARMED_STATUSES = (Status.ARMED_ON_START, Status.ARMED)

    id = ObjectIdField(primary_key=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminders"
    )
    stream = models.ForeignKey(LiveStream, on_delete=models.CASCADE, related_name="reminders")
    minute = models.PositiveSmallIntegerField(default=0)
    # `minute` as a duration, for the sweep's SQL: due when planned_start_date <= now + lead.
    lead = models.DurationField(default=timedelta)
    status = models.CharField(max_length=16, choices=Status.choices)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = UpdatedAtField()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The sweep: armed reminders; the stream's own reminders (start, cancel).
            models.Index(fields=["status", "stream"], name="reminder_status_stream_idx"),
            models.Index(fields=["user", "status"], name="reminder_user_status_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["user", "stream"], name="reminder_user_stream_unique"),
            models.CheckConstraint(condition=Q(minute__lte=1440), name="reminder_minute_max"),
        ]

    def __str__(self) -> str:
        return f"{self.user.username} reminded of “{self.stream.title}” ({self.status})"

    @property
    def mode(self) -> str:
        return self.Mode.ON_START if self.minute == 0 else self.Mode.BEFORE_START

    def scheduled_for(self, planned_start_date):
        """When a BEFORE_START reminder fires for this planned start; None for ON_START."""
        return None if self.minute == 0 else planned_start_date - self.lead


class GiftType(models.Model):
    """A gift a viewer can send during a live stream, for `credit_amount` credits (API.md §12).
    Operators manage them in the admin (permission `livestreams.manage_gift_types`)."""

    id = ObjectIdField(primary_key=True)
    name = models.CharField(max_length=60, unique=True)
    credit_amount = models.PositiveIntegerField()
    icon_url = models.URLField(max_length=500, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = UpdatedAtField()

    class Meta:
        ordering = ["credit_amount", "id"]
        permissions = [("manage_gift_types", "Can manage gift types")]
        constraints = [
            models.CheckConstraint(
                condition=Q(credit_amount__gte=1), name="gift_type_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.credit_amount} credits)"


class Gift(models.Model):
    """One gift sent on an active stream: the sender's `gift_spend` debit of `amount` and, in
    the same transaction, the shares of §7's split paid as `stream_revenue` to the creator and
    the guest; the platform keeps `amount - creator_share - guest_share`."""

    id = ObjectIdField(primary_key=True)
    gift_type = models.ForeignKey(GiftType, on_delete=models.PROTECT, related_name="gifts")
    stream = models.ForeignKey(LiveStream, on_delete=models.PROTECT, related_name="gifts")
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="gifts_sent"
    )
    amount = models.PositiveIntegerField()
    spend_entry = models.OneToOneField(
        "users.CreditLedgerEntry", on_delete=models.PROTECT, related_name="gift"
    )
    creator_share = models.PositiveIntegerField(default=0)
    creator_revenue_entry = models.OneToOneField(
        "users.CreditLedgerEntry",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="gift_creator_share",
    )
    guest = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    guest_share = models.PositiveIntegerField(default=0)
    guest_revenue_entry = models.OneToOneField(
        "users.CreditLedgerEntry",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="gift_guest_share",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # A stream's gift statistics: counts by type.
            models.Index(fields=["stream", "gift_type"], name="gift_stream_type_idx"),
            models.Index(fields=["created_at", "id"], name="gift_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=1), name="gift_amount_positive"),
            models.CheckConstraint(
                condition=Q(creator_share__lte=models.F("amount") - models.F("guest_share")),
                name="gift_shares_within_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.gift_type.name} on “{self.stream.title}” from {self.sender.username}"
