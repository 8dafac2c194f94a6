from django.urls import path

from crowdfunding.views import FundedLiveStreamViewSet

urlpatterns = [
    path(
        "live-stream/funded",
        FundedLiveStreamViewSet.as_view({"get": "list"}),
        name="live-stream-funded",
    ),
]
