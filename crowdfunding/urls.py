from django.urls import path

from crowdfunding.views import FundedLiveStreamViewSet, LiveStreamCrowdfundingViewSet

urlpatterns = [
    path(
        "live-stream/funded",
        FundedLiveStreamViewSet.as_view({"get": "list"}),
        name="live-stream-funded",
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
