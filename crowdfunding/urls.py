from django.urls import path

from crowdfunding.list_views import (
    GuestStreamsView,
    MyPastStreamsView,
    PastStreamsView,
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

urlpatterns = [
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
    # Fixed paths first: no `live-stream/<id>` route may swallow them.
    path(
        "live-stream/funded",
        FundedLiveStreamViewSet.as_view({"get": "list"}),
        name="live-stream-funded",
    ),
    path(
        "live-stream/my-replay-rentals",
        MyReplayRentalsView.as_view(),
        name="live-stream-my-replay-rentals",
    ),
    path(
        "live-stream/my-reminders",
        MyRemindersView.as_view(),
        name="live-stream-my-reminders",
    ),
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
    # After every fixed `live-stream/<word>` path, so `<id>` never swallows one.
    path("live-stream", LiveStreamViewSet.as_view({"post": "create"}), name="live-stream"),
    path(
        "live-stream/<str:id>",
        LiveStreamViewSet.as_view(
            {"get": "retrieve", "patch": "partial_update", "delete": "destroy"}
        ),
        name="live-stream-detail",
    ),
    path(
        "live-stream/<str:id>/mini-crowd-fundings",
        LiveStreamViewSet.as_view({"post": "add_mini_crowd_funding"}),
        name="live-stream-mini-crowd-fundings",
    ),
    path(
        "live-stream/<str:id>/start",
        LiveStreamViewSet.as_view({"post": "start"}),
        name="live-stream-start",
    ),
    path(
        "live-stream/<str:id>/end",
        LiveStreamViewSet.as_view({"post": "end"}),
        name="live-stream-end",
    ),
    path(
        "live-stream/<str:id>/join",
        LiveStreamViewSet.as_view({"post": "join"}),
        name="live-stream-join",
    ),
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
    path(
        "live-stream/<str:id>/events",
        LiveStreamEventsView.as_view(),
        name="live-stream-events",
    ),
    path(
        "live-stream/<str:id>/reminder",
        ReminderView.as_view(),
        name="live-stream-reminder",
    ),
    path(
        "live-stream/<str:id>/gift-statistics",
        GiftStatisticsView.as_view(),
        name="live-stream-gift-statistics",
    ),
    path(
        "live-stream/<str:id>/fund",
        LiveStreamCrowdfundingViewSet.as_view({"post": "fund"}),
        name="live-stream-fund",
    ),
    path(
        "live-stream/<str:id>/cancel",
        LiveStreamCrowdfundingViewSet.as_view({"post": "cancel"}),
        name="live-stream-cancel",
    ),
    path(
        "live-stream/<str:id>/mini-crowd-fundings/<str:miniId>/support",
        LiveStreamCrowdfundingViewSet.as_view({"post": "support"}),
        name="live-stream-mini-crowd-funding-support",
    ),
]
