"""Jobs of the notifications app (the job-queue contract: enqueued after commit)."""

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from notifications.models import DeviceToken, Notification
from notifications.push import PushMessage, push_sender


@task()
def notification_push_deliver(notification_id: str) -> int:
    """Hand one notification to the push sender for each of its user's devices; returns how
    many messages were sent. Once per notification, also when the job runs twice: the row is
    locked and `pushed_at` re-read. A sender that raises fails the job (rolled back, nothing
    marked), and the queue retries it; the inbox never waits for it."""
    with transaction.atomic():
        notification = Notification.objects.select_for_update().filter(pk=notification_id).first()
        if notification is None or notification.pushed_at is not None:
            return 0
        sender = push_sender()
        devices = list(DeviceToken.objects.filter(user_id=notification.user_id).order_by("pk"))
        for device in devices:
            sender.send(
                PushMessage(
                    notification=notification,
                    device=device,
                    title=notification.title,
                    body=notification.body,
                    data={
                        "notificationId": notification.pk,
                        "category": notification.category,
                        "type": notification.type,
                        "streamId": notification.stream_id or None,
                    },
                )
            )
        notification.pushed_at = timezone.now()
        notification.save(update_fields=["pushed_at"])
        return len(devices)
