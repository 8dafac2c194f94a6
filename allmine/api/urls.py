"""The API's URL table, written once: every path of API.md (docs/API.md), grouped by concern.

Viewsets are routed by `ApiRouter` (the stream's own actions, its funding, the funded list);
the other endpoints are single views. Route names and OpenAPI `operationId`s are part of the
contract: the names here are the ones clients and tests know, the ids are on the views.
Order matters where a fixed `live-stream/<word>` path meets `live-stream/<str:id>`: every fixed
path comes before the router's routes.
"""

from django.urls import path
from rest_framework.routers import Route, SimpleRouter

from allmine.api.health import HealthView
from crowdfunding.list_views import (
    GuestStreamsView,
    MyPastStreamsView,
    PastStreamsView,
    UpcomingLiveStreamsView,
)
from crowdfunding.reminder_views import MyRemindersView, ReminderView
from crowdfunding.replay_views import (
    MyReplayRentalsView,
    ReplayRentalCreateView,
    ReplaySettingsView,
    ReplayStatusView,
)
from crowdfunding.stream_views import LiveStreamEventsView, LiveStreamViewSet
from crowdfunding.views import FundedLiveStreamViewSet, LiveStreamCrowdfundingViewSet
from crowdfunding.wallet_views import (
    CreditPackageDetailView,
    CreditPackageListView,
    CreditTransferView,
    GiftCreateView,
    GiftStatisticsView,
    GiftTypeListView,
    RevenueCatWebhookView,
    TestPurchaseView,
)
from notifications.views import (
    DeviceTokenView,
    NotificationListView,
    NotificationReadAllView,
    NotificationReadView,
    NotificationStreamView,
)
from users.views import LoginView, LogoutView, MeView, MyTransactionsView, RefreshView


class ApiRouter(SimpleRouter):
    """DRF's router the API's way: no trailing slash, path converters (`<str:id>`), and a
    collection route named after its prefix (`live-stream`, not `live-stream-list`). One
    prefix may take several viewsets (a stream's life, its funding): their routes share the
    `live-stream-` names and differ in their actions."""

    routes = [
        route._replace(name="{basename}") if type(route) is Route and not route.detail else route
        for route in SimpleRouter.routes
    ]

    def __init__(self):
        super().__init__(trailing_slash=False, use_regex_path=False)

    def is_already_registered(self, new_basename):
        return False


router = ApiRouter()
router.register("live-stream/funded", FundedLiveStreamViewSet, basename="live-stream-funded")
router.register("live-stream", LiveStreamViewSet, basename="live-stream")
router.register("live-stream", LiveStreamCrowdfundingViewSet, basename="live-stream")

v1 = [
    path("health", HealthView.as_view(), name="health"),
    # Sign-in and the caller (API.md §2, §8).
    path("auth/login", LoginView.as_view(), name="auth-login"),
    path("auth/refresh", RefreshView.as_view(), name="auth-refresh"),
    path("auth/logout", LogoutView.as_view(), name="auth-logout"),
    path("users/me", MeView.as_view(), name="users-me"),
    path("users/me/transactions", MyTransactionsView.as_view(), name="users-me-transactions"),
    # Money in and between people (API.md §12): `purchase` before `<id>`.
    path("credit-packages", CreditPackageListView.as_view(), name="credit-packages"),
    path("credit-packages/purchase", TestPurchaseView.as_view(), name="credit-packages-purchase"),
    path(
        "credit-packages/<str:id>", CreditPackageDetailView.as_view(), name="credit-package-detail"
    ),
    path("webhooks/revenuecat", RevenueCatWebhookView.as_view(), name="webhooks-revenuecat"),
    path("messages/credit-transfer", CreditTransferView.as_view(), name="messages-credit-transfer"),
    path("gifts/gift-types", GiftTypeListView.as_view(), name="gifts-gift-types"),
    path("gifts/create", GiftCreateView.as_view(), name="gifts-create"),
    # Lists of streams (API.md §7, §10, §11): fixed paths, before any `live-stream/<str:id>`.
    path(
        "live-stream/my-replay-rentals",
        MyReplayRentalsView.as_view(),
        name="live-stream-my-replay-rentals",
    ),
    path("live-stream/my-reminders", MyRemindersView.as_view(), name="live-stream-my-reminders"),
    path("live-stream/guest-streams", GuestStreamsView.as_view(), name="live-stream-guest-streams"),
    path(
        "live-stream/my-past-streams",
        MyPastStreamsView.as_view(),
        name="live-stream-my-past-streams",
    ),
    path(
        "live-stream/user/<str:userId>/past-streams",
        PastStreamsView.as_view(),
        name="live-stream-user-past-streams",
    ),
    # One stream (API.md §3, §4, §6, §7, §10, §12), beside the router's routes: `live-stream`
    # (create), `live-stream/funded`, `live-stream/<str:id>` (read, change, delete) and its
    # `start`, `end`, `join`, `mini-crowd-fundings`, `fund`, `cancel` and
    # `mini-crowd-fundings/<str:miniId>/support`.
    path(
        "live-stream/<str:id>/replay-status",
        ReplayStatusView.as_view(),
        name="live-stream-replay-status",
    ),
    path(
        "live-stream/<str:id>/replay-rentals",
        ReplayRentalCreateView.as_view(),
        name="live-stream-replay-rentals",
    ),
    path(
        "live-stream/<str:id>/replay-settings",
        ReplaySettingsView.as_view(),
        name="live-stream-replay-settings",
    ),
    path("live-stream/<str:id>/events", LiveStreamEventsView.as_view(), name="live-stream-events"),
    path("live-stream/<str:id>/reminder", ReminderView.as_view(), name="live-stream-reminder"),
    path(
        "live-stream/<str:id>/gift-statistics",
        GiftStatisticsView.as_view(),
        name="live-stream-gift-statistics",
    ),
    *router.urls,
    # The inbox (API.md §10): fixed paths before `<str:id>`.
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

v2 = [
    path(
        "live-stream/user/<str:userId>/upcoming-live-streams",
        UpcomingLiveStreamsView.as_view(),
        name="live-stream-user-upcoming",
    ),
]
