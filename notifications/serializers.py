"""Output and input shapes of the notifications app (API.md §10)."""

import zoneinfo

from rest_framework import serializers

from allmine.api.fields import ApiDateTimeField, StrictBooleanField, StrictCharField
from allmine.api.formats import format_datetime
from notifications.models import DeviceToken, Notification


class NotificationSerializer(serializers.Serializer):
    """An inbox item. The declared fields document the shape; `to_representation` builds it."""

    _id = serializers.CharField(source="id")
    category = serializers.ChoiceField(choices=Notification.Category.choices)
    type = serializers.ChoiceField(choices=Notification.Type.choices)
    title = serializers.CharField()
    body = serializers.CharField()
    streamId = serializers.CharField(source="stream_id", allow_null=True)
    isRead = serializers.BooleanField(source="is_read")
    createdAt = ApiDateTimeField(source="created_at")

    def to_representation(self, notification: Notification) -> dict:
        return {
            "_id": notification.pk,
            "category": notification.category,
            "type": notification.type,
            "title": notification.title,
            "body": notification.body,
            "streamId": notification.stream_id or None,
            "isRead": notification.is_read,
            "createdAt": format_datetime(notification.created_at),
        }


class NotificationsQuerySerializer(serializers.Serializer):
    """The filters of `GET /notifications` (page and limit are the paginator's)."""

    category = serializers.ChoiceField(choices=Notification.Category.values, required=False)
    unread = serializers.ChoiceField(choices=["true", "false"], required=False)


class NotificationReadInputSerializer(serializers.Serializer):
    isRead = StrictBooleanField(required=False, default=True)


class ReadAllSerializer(serializers.Serializer):
    updatedCount = serializers.IntegerField(help_text="Notifications that were unread.")


class DeviceTokenInputSerializer(serializers.Serializer):
    token = StrictCharField(max_length=4096)
    platform = serializers.ChoiceField(choices=DeviceToken.Platform.values)
    deviceId = StrictCharField(max_length=255)
    timezone = StrictCharField(
        max_length=64, required=False, allow_null=True, default="UTC", help_text="IANA zone name."
    )

    def validate_timezone(self, value: str | None) -> str:
        if value is None:
            return "UTC"
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise serializers.ValidationError("Unknown time zone.") from None
        return value


class DeviceTokenSerializer(serializers.Serializer):
    _id = serializers.CharField(source="id")
    deviceId = serializers.CharField(source="device_id")
    platform = serializers.ChoiceField(choices=DeviceToken.Platform.choices)
    token = serializers.CharField()
    timezone = serializers.CharField(source="time_zone")
    createdAt = ApiDateTimeField(source="created_at")
    updatedAt = ApiDateTimeField(source="updated_at")
