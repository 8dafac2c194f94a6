"""The notification inbox, the devices that receive push messages, and the pushes the shipped
sender recorded (API.md §10).

This app sits between `livestreams` and `users`: every app that reports a moment writes here
(`notifications.services`), none below it imports it. A notification names its stream by its
24-hex id (no foreign key: a deleted stream's notifications stay readable).
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from allmine.fields import UpdatedAtField
from allmine.ids import ObjectIdField


class Notification(models.Model):
    """One message in a user's inbox, written in the transaction of the change it reports."""

    class Category(models.TextChoices):
        LIVE_STREAM = "live_stream", "Live stream"
        PAYMENTS = "payments", "Payments"
        FOLLOWS = "follows", "Follows"
        MESSAGES = "messages", "Messages"
        FOLLOWING_ACTIVITY = "following_activity", "Following activity"
        ANNOUNCEMENT = "announcement", "Announcement"

    class Type(models.TextChoices):
        REMINDER = "reminder", "Reminder"
        STREAM_STARTED = "stream_started", "Funded stream started"
        STREAM_CANCELLED = "stream_cancelled", "Funded stream cancelled"
        STREAM_EXPIRED = "stream_expired", "Funded stream expired"
        STREAM_DELETED = "stream_deleted", "Funded stream deleted"
        MINI_GOAL_REACHED = "mini_goal_reached", "Mini goal reached"
        FUNDING_PAYOUT = "funding_payout", "Funding payout"
        REPLAY_REVENUE = "replay_revenue", "Replay revenue"
        CREDIT_TRANSFER_SENT = "credit_transfer_sent", "Credits sent"
        CREDIT_TRANSFER_RECEIVED = "credit_transfer_received", "Credits received"

    id = ObjectIdField(primary_key=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    category = models.CharField(max_length=24, choices=Category.choices)
    type = models.CharField(max_length=32, choices=Type.choices)
    title = models.CharField(max_length=200)
    body = models.CharField(max_length=500, blank=True)
    stream_id = models.CharField(max_length=24, blank=True, default="")
    is_read = models.BooleanField(default=False)
    # When the push job handed it to the sender for every device (null: not yet).
    pushed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The inbox, newest first, with or without its category and unread filters.
            models.Index(fields=["user", "created_at", "id"], name="notification_user_idx"),
            models.Index(fields=["user", "is_read"], name="notification_user_unread_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user.username}: {self.title}"


class DeviceToken(models.Model):
    """A device of a user that receives push messages: one row per (user, device)."""

    class Platform(models.TextChoices):
        IOS = "ios", "iOS"
        ANDROID = "android", "Android"
        WEB = "web", "Web"

    id = ObjectIdField(primary_key=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="device_tokens"
    )
    device_id = models.CharField(max_length=255)
    token = models.CharField(max_length=4096)
    platform = models.CharField(max_length=8, choices=Platform.choices)
    time_zone = models.CharField("timezone", max_length=64, default="UTC")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = UpdatedAtField()

    class Meta:
        ordering = ["user", "device_id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "device_id"], name="device_token_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user.username} on {self.get_platform_display()} ({self.device_id})"


class RecordedPush(models.Model):
    """A push message the shipped sender (`notifications.push.RecordingPushSender`) would have
    sent: no external push service is reachable, so it records it for operators to see."""

    id = ObjectIdField(primary_key=True)
    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="recorded_pushes"
    )
    device = models.ForeignKey(DeviceToken, on_delete=models.SET_NULL, null=True, blank=True)
    platform = models.CharField(max_length=8)
    token = models.CharField(max_length=4096)
    title = models.CharField(max_length=200)
    body = models.CharField(max_length=500, blank=True)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "recorded pushes"

    def __str__(self) -> str:
        return f"{self.platform} push “{self.title}”"
