"""Reads of the notifications app."""

from django.db.models import QuerySet

from notifications.models import Notification


def notifications_for_user(
    *, user_id: str, category: str | None = None, unread_only: bool = False
) -> QuerySet[Notification]:
    """The user's inbox, newest first; only its unread notifications with `unread_only`."""
    notifications = Notification.objects.filter(user_id=user_id)
    if category:
        notifications = notifications.filter(category=category)
    if unread_only:
        notifications = notifications.filter(is_read=False)
    return notifications.order_by("-created_at", "-id")
