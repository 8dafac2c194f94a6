"""Push delivery through one small interface (API.md §10).

A sender sends one message to one device and raises when it could not; the delivery job
(`notifications.tasks.notification_push_deliver`) calls it and the job queue retries a failure.
`PUSH_SENDER` names the sender class. The shipped one records what it would send (no external
push service is reachable from here); a real one (APNs, FCM) implements the same `send`.
"""

from dataclasses import dataclass, field
from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from notifications.models import DeviceToken, Notification, RecordedPush


@dataclass(frozen=True)
class PushMessage:
    notification: Notification
    device: DeviceToken
    title: str
    body: str
    data: dict = field(default_factory=dict)


class PushSender:
    """The interface: deliver `message` to `message.device` or raise."""

    def send(self, message: PushMessage) -> None:
        raise NotImplementedError


class RecordingPushSender(PushSender):
    """Records each message as a `RecordedPush` row (shown in the admin)."""

    def send(self, message: PushMessage) -> None:
        RecordedPush.objects.create(
            notification=message.notification,
            device=message.device,
            platform=message.device.platform,
            token=message.device.token,
            title=message.title,
            body=message.body,
            data=message.data,
        )


@cache
def _sender_class(path: str) -> type[PushSender]:
    return import_string(path)


def push_sender() -> PushSender:
    return _sender_class(settings.PUSH_SENDER)()
