"""Crowdfunding endpoints under /api/v1/live-stream/."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets

from allmine.api.pagination import HeaderTotalPagination
from allmine.api.schema import envelope_responses
from crowdfunding.selectors import funded_streams_for_user
from crowdfunding.serializers import CrowdfundedLiveStreamSerializer


class FundedLiveStreamViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The scheduled streams the caller has crowd-funded."""

    serializer_class = CrowdfundedLiveStreamSerializer
    pagination_class = HeaderTotalPagination

    def get_queryset(self):
        return funded_streams_for_user(user=self.request.user)

    @extend_schema(
        operation_id="live_stream_funded_list",
        summary="Scheduled streams the caller has crowd-funded",
        description=(
            "Streams with status `scheduled` where the caller has at least one completed, "
            "not refunded contribution; soonest `plannedStartDate` first, then `id`. "
            "The total is in the `X-Total-Count` header."
        ),
        responses=envelope_responses(
            200, CrowdfundedLiveStreamSerializer, many=True, errors=(400, 401, 403, 429)
        ),
        tags=["Live Streams"],
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)
