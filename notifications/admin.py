"""Admin for the inbox, devices and the pushes the recording sender kept (read-only: the
system writes them)."""

from django.contrib import admin

from allmine.admin_mixins import ReadOnlyAdminMixin
from notifications.models import DeviceToken, Notification, RecordedPush


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["title", "user", "category", "type", "is_read", "pushed_at", "created_at"]
    list_filter = ["category", "type", "is_read"]
    search_fields = ["id", "title", "user__username", "stream_id"]
    list_select_related = ["user"]
    ordering = ["-created_at", "-id"]


@admin.register(DeviceToken)
class DeviceTokenAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["user", "platform", "device_id", "time_zone", "updated_at"]
    list_filter = ["platform"]
    search_fields = ["user__username", "device_id"]
    list_select_related = ["user"]


@admin.register(RecordedPush)
class RecordedPushAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["title", "platform", "notification", "created_at"]
    list_filter = ["platform"]
    search_fields = ["title", "notification__id", "notification__user__username"]
    list_select_related = ["notification__user"]
