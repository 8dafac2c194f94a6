from django.urls import path

from crowdfunding.replay_views import (
    MyReplayRentalsView,
    ReplayRentalCreateView,
    ReplaySettingsView,
    ReplayStatusView,
)
from crowdfunding.views import FundedLiveStreamViewSet, LiveStreamCrowdfundingViewSet

urlpatterns = [
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
