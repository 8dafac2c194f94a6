"""Writes of the notifications app: the inbox, device tokens, and push delivery.

`notification_create` / `notifications_create` are called by the service that reports a moment,
inside its transaction: the notification exists exactly when the change does. After commit it is
published on the user's live stream (`notification` event) and its push job is enqueued.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from allmine.api.errors import NotFound
from allmine.events import publish_on_commit, user_channel
from notifications.models import DeviceToken, Notification

Category = Notification.Category
Type = Notification.Type


@dataclass(frozen=True)
class NotificationDraft:
    """What to tell one user."""

    user_id: str
    category: str
    type: str
    title: str
    body: str = ""
    stream_id: str = ""


def notification_item(notification: Notification) -> dict:
    """The inbox item of API.md §10, as the live stream and the API show it."""
    from notifications.serializers import NotificationSerializer

    return NotificationSerializer(notification).data


def _after_commit(notifications: list[Notification]) -> None:
    from notifications.tasks import notification_push_deliver

    for notification in notifications:
        publish_on_commit(
            user_channel(notification.user_id), "notification", notification_item(notification)
        )
    ids = [notification.pk for notification in notifications]
    if ids:
        transaction.on_commit(
            lambda: [notification_push_deliver.enqueue(pk) for pk in ids], robust=True
        )


def notifications_create(drafts: Iterable[NotificationDraft]) -> list[Notification]:
    """Write one notification per draft (call inside the transaction of the moment)."""
    now = timezone.now()
    notifications = Notification.objects.bulk_create(
        [
            Notification(
                user_id=draft.user_id,
                category=draft.category,
                type=draft.type,
                title=draft.title[:200],
                body=draft.body[:500],
                stream_id=draft.stream_id or "",
                created_at=now,
            )
            for draft in drafts
        ]
    )
    _after_commit(notifications)
    return notifications


def notification_create(**draft) -> Notification:
    return notifications_create([NotificationDraft(**draft)])[0]


@transaction.atomic
def notification_mark_read(*, user_id: str, notification_id: str, is_read: bool) -> Notification:
    notification = (
        Notification.objects.select_for_update().filter(pk=notification_id, user_id=user_id).first()
    )
    if notification is None:
        raise NotFound("Notification not found")
    if notification.is_read != is_read:
        notification.is_read = is_read
        notification.save(update_fields=["is_read"])
    return notification


def notifications_mark_all_read(*, user_id: str) -> int:
    """Mark every unread notification of the user read; returns how many changed."""
    return Notification.objects.filter(user_id=user_id, is_read=False).update(is_read=True)


@dataclass(frozen=True)
class DeviceRegistration:
    device: DeviceToken
    created: bool


@transaction.atomic
def device_token_register(
    *, user_id: str, token: str, platform: str, device_id: str, timezone: str
) -> DeviceRegistration:
    """Store the push token of one of the user's devices (one row per device, updated in place).
    A push token is one device's: any other user's row holding it is removed (the device was
    signed in as someone else before), so pushes never reach the previous account's device."""
    DeviceToken.objects.filter(token=token).exclude(user_id=user_id).delete()
    device, created = DeviceToken.objects.select_for_update().update_or_create(
        user_id=user_id,
        device_id=device_id,
        defaults={"token": token, "platform": platform, "time_zone": timezone},
    )
    return DeviceRegistration(device=device, created=created)
