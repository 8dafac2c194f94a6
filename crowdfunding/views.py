"""Crowdfunding endpoints under /api/v1/live-stream/."""

from django.db import transaction
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from allmine.api.conditional import (
    IF_NONE_MATCH_PARAMETER,
    conditional_read,
    conditional_responses,
)
from allmine.api.pagination import HeaderTotalPagination
from allmine.api.schema import IDEMPOTENCY_PARAMETER, envelope_responses
from crowdfunding import services
from crowdfunding.idempotency import idempotent_response
from crowdfunding.selectors import as_read, funded_streams_for_user, stream_object_for
from crowdfunding.serializers import (
    AmountInputSerializer,
    CrowdfundedLiveStreamSerializer,
    FundingReceiptSerializer,
    SupportReceiptSerializer,
)


def written_stream_response(request, write, status_code: int = status.HTTP_200_OK) -> Response:
    """Answer a write with the stream object as the write left it: read in the write's own
    transaction, under its row lock, so a delete committed right after it cannot turn the
    success into a 404. `write` returns the stream."""
    with transaction.atomic():
        stream = write()
        data = stream_object_for(user=request.user, stream_id=stream.pk)
    return Response(data, status=status_code)


class FundedLiveStreamViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The scheduled streams the caller has crowd-funded."""

    serializer_class = CrowdfundedLiveStreamSerializer
    pagination_class = HeaderTotalPagination

    def get_queryset(self):
        # Not a QuerySet: `FundedStreams`, whose pages are stream rows (see its docstring).
        return funded_streams_for_user(user=self.request.user)

    @extend_schema(
        operation_id="live_stream_funded_list",
        summary="Scheduled streams the caller has crowd-funded",
        description=(
            "Streams with status `scheduled` where the caller has at least one completed, "
            "not refunded contribution; soonest `plannedStartDate` first, then `id`. "
            "The total is in the `X-Total-Count` header."
        ),
        parameters=[IF_NONE_MATCH_PARAMETER],
        responses=conditional_responses(
            envelope_responses(
                200, CrowdfundedLiveStreamSerializer, many=True, errors=(400, 401, 403, 429)
            )
        ),
        tags=["Live Streams"],
    )
    def list(self, request, *args, **kwargs):
        reads = self.paginator.paginate_queryset(self.get_queryset(), request, rows=as_read)
        now = timezone.now()
        total = {self.paginator.total_header: str(self.paginator.total)}
        return conditional_read(
            request,
            reads.tag_source(now),
            lambda: [_STREAM.to_representation(row) for row in reads.rows(now)],
            headers=total,
        )


_STREAM = CrowdfundedLiveStreamSerializer()


OBJECT_ID_SCHEMA = {"type": "string", "pattern": "^[0-9a-f]{24}$"}
STREAM_ID_PARAMETER = OpenApiParameter(
    name="id", location=OpenApiParameter.PATH, type=OBJECT_ID_SCHEMA, description="Stream id."
)


class LiveStreamCrowdfundingViewSet(viewsets.GenericViewSet):
    """Funding a stream, supporting its mini crowd fundings, and cancelling it with refunds."""

    throttle_scope = "funding"
    lookup_url_kwarg = "id"  # the router's `live-stream/<str:id>`

    @extend_schema(
        operation_id="live_stream_fund",
        summary="Fund a scheduled stream with credits",
        description=(
            "Moves `amount` credits from the caller's balance to the stream's `collectedFunding` "
            "in one transaction (a `stream_funding_contribution` ledger row). The stream must be "
            "`scheduled` (else 409), its `plannedStartDate` still ahead (else 409 `Funding has "
            "closed for this stream`) and not the caller's own (403); a balance below `amount` "
            "is a 409 with `Insufficient credit balance`. Nothing is charged on any error."
        ),
        request=AmountInputSerializer,
        parameters=[STREAM_ID_PARAMETER, IDEMPOTENCY_PARAMETER],
        responses=envelope_responses(
            201,
            FundingReceiptSerializer,
            errors=(400, 401, 403, 404, 409, 429),
            description="Charged once; the stream is in the caller's funded list at once.",
        ),
        tags=["Crowdfunding"],
    )
    @action(detail=True, methods=["post"])
    def fund(self, request, id: str):
        body = AmountInputSerializer(data=request.data)

        def perform():
            body.is_valid(raise_exception=True)
            receipt = services.contribution_create(
                user=request.user, stream_id=id, amount=body.validated_data["amount"]
            )
            return status.HTTP_201_CREATED, FundingReceiptSerializer(receipt).data

        return idempotent_response(request, perform)

    @extend_schema(
        operation_id="live_stream_mini_crowd_funding_support",
        summary="Support a mini crowd funding of a scheduled stream",
        description=(
            "Moves `amount` credits to one of the stream's side goals (a "
            "`mini_crowd_funding_support` ledger row); the mini crowd funding becomes "
            "`completed` when its goal is reached. Same rules as funding the stream: "
            "`scheduled` stream, not your own, enough credits; nothing is charged on any error."
        ),
        request=AmountInputSerializer,
        parameters=[
            STREAM_ID_PARAMETER,
            OpenApiParameter(
                name="miniId",
                location=OpenApiParameter.PATH,
                type=OBJECT_ID_SCHEMA,
                description="Mini crowd funding id.",
            ),
            IDEMPOTENCY_PARAMETER,
        ],
        responses=envelope_responses(
            201, SupportReceiptSerializer, errors=(400, 401, 403, 404, 409, 429)
        ),
        tags=["Crowdfunding"],
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="mini-crowd-fundings/<str:miniId>/support",
        url_name="mini-crowd-funding-support",
    )
    def support(self, request, id: str, miniId: str):  # noqa: N803  (the documented name)
        body = AmountInputSerializer(data=request.data)

        def perform():
            body.is_valid(raise_exception=True)
            receipt = services.mini_crowd_funding_support_create(
                user=request.user,
                stream_id=id,
                mini_crowd_funding_id=miniId,
                amount=body.validated_data["amount"],
            )
            return status.HTTP_201_CREATED, SupportReceiptSerializer(receipt).data

        return idempotent_response(request, perform)

    @extend_schema(
        operation_id="live_stream_cancel",
        summary="Cancel your scheduled stream; every contribution is refunded",
        description=(
            "Creator only (403 otherwise). A `scheduled` or `preparing` stream becomes "
            "`cancelled_by_host`; every completed contribution and mini crowd funding support "
            "is refunded (`stream_funding_refund` ledger rows, status `refunded`) in the same "
            "transaction. "
            "Any other status is a 409. Returns the stream object."
        ),
        request=None,
        parameters=[STREAM_ID_PARAMETER],
        responses=envelope_responses(
            200, CrowdfundedLiveStreamSerializer, errors=(400, 401, 403, 404, 409, 429)
        ),
        tags=["Crowdfunding"],
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, id: str):
        return written_stream_response(
            request, lambda: services.live_stream_cancel(user=request.user, stream_id=id).stream
        )
