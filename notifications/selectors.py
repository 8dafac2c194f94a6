"""Reads of the notifications app."""

from django.db import connections
from django.db.models import QuerySet

from notifications.models import Notification
from users.models import User


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


def user_token_is_current(*, user_id: str, version: int | None) -> bool:
    """Whether a token of `version` still works for the user (not revoked since, user active).
    Run from an event stream in a worker thread: that thread's connection is closed after."""
    try:
        return User.objects.filter(pk=user_id, token_version=version, is_active=True).exists()
    finally:
        connections.close_all()
