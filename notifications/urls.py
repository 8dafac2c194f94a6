from django.urls import path

from notifications.views import (
    DeviceTokenView,
    NotificationListView,
    NotificationReadAllView,
    NotificationReadView,
    NotificationStreamView,
)

urlpatterns = [
    path("notifications", NotificationListView.as_view(), name="notifications"),
    path(
        "notifications/read-all", NotificationReadAllView.as_view(), name="notifications-read-all"
    ),
    path(
        "notifications/device-token", DeviceTokenView.as_view(), name="notifications-device-token"
    ),
    path("notifications/stream", NotificationStreamView.as_view(), name="notifications-stream"),
    path("notifications/<str:id>/read", NotificationReadView.as_view(), name="notification-read"),
]
