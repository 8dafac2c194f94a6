"""A stream's life through the API (API.md §6): schedule, read, change, add mini crowd
fundings, start, join, end, delete. Every response that shows a stream builds it with
`stream_read_for` (and `written_stream_response`), the one read path of the stream object."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from allmine.api.conditional import (
    IF_NONE_MATCH_PARAMETER,
    conditional_read,
    conditional_responses,
)
from allmine.api.errors import NotFound
from allmine.api.renderers import EnvelopeJSONRenderer
from allmine.api.schema import envelope_responses
from allmine.api.sse import EVENT_STREAM, EnvelopeErrorsNegotiation, event_stream_response
from allmine.events import stream_channel
from crowdfunding import services as funding_services
from crowdfunding.idempotency import idempotent_response
from crowdfunding.selectors import mini_crowd_funding_row, stream_read_for
from crowdfunding.serializers import (
    CrowdfundedLiveStreamSerializer,
    MiniCrowdFundingInputSerializer,
    MiniCrowdFundingSerializer,
    StreamDeletionReceiptSerializer,
)
from crowdfunding.views import (
    IDEMPOTENCY_PARAMETER,
    STREAM_ID_PARAMETER,
    written_stream_response,
)
from livestreams import services as stream_services
from livestreams.models import LiveStream
from livestreams.serializers import (
    LiveStreamCreateInputSerializer,
    LiveStreamUpdateInputSerializer,
)
from notifications.views import LAST_EVENT_ID_PARAMETER, event_stream_schema

TAGS = ["Live Streams"]


def _stream_responses(success: int, *errors: int, description: str = "") -> dict:
    return envelope_responses(
        success, CrowdfundedLiveStreamSerializer, errors=errors, description=description
    )


class LiveStreamViewSet(viewsets.GenericViewSet):
    """One stream: its creator runs it, invited guests join it, anyone signed in reads it."""

    lookup_url_kwarg = "id"  # the router's `live-stream/<str:id>`

    @property
    def throttle_scope(self) -> str | None:
        # Deleting refunds every funder: throttled like the other money endpoints.
        return "funding" if self.action == "destroy" else None

    @extend_schema(
        operation_id="live_stream_create",
        summary="Schedule a stream; the caller becomes its creator",
        request=LiveStreamCreateInputSerializer,
        responses=_stream_responses(
            201,
            400,
            401,
            403,
            description="The new stream, `status: scheduled`, as its creator sees it.",
        ),
        tags=TAGS,
    )
    def create(self, request):
        body = LiveStreamCreateInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return written_stream_response(
            request,
            lambda: stream_services.live_stream_create(creator=request.user, **body.validated_data),
            status.HTTP_201_CREATED,
        )

    @extend_schema(
        operation_id="live_stream_retrieve",
        summary="One stream, as the caller sees it",
        parameters=[STREAM_ID_PARAMETER, IF_NONE_MATCH_PARAMETER],
        responses=conditional_responses(_stream_responses(200, 400, 401, 403, 404)),
        tags=TAGS,
    )
    def retrieve(self, request, id: str):
        stream_services.check_object_id(id, "id")
        reads, now = stream_read_for(user=request.user, stream_id=id), timezone.now()
        return conditional_read(
            request, reads.tag_source(now), lambda: _STREAM.to_representation(reads.rows(now)[0])
        )

    @extend_schema(
        operation_id="live_stream_update",
        summary="Change your scheduled or preparing stream",
        description=(
            "Any of the fields; unknown ones are ignored. A new `plannedStartDate` must lie in "
            "the future; without `plannedEndDate` a new start or duration moves the end to "
            "start + `durationGoal`. `fundingGoal` below `collectedFunding` is a 409, and so is "
            "any change once the stream is past its start deadline (`plannedStartDate` + "
            "STREAM_START_GRACE): it has expired."
        ),
        request=LiveStreamUpdateInputSerializer(partial=True),
        parameters=[STREAM_ID_PARAMETER],
        responses=_stream_responses(200, 400, 401, 403, 404, 409),
        tags=TAGS,
    )
    def partial_update(self, request, id: str):
        body = LiveStreamUpdateInputSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        return written_stream_response(
            request,
            lambda: stream_services.live_stream_update(
                user=request.user, stream_id=id, **body.validated_data
            ),
        )

    @extend_schema(
        operation_id="live_stream_delete",
        summary="Delete your stream; every contribution and support is refunded",
        description=(
            "Soft delete by the creator, refused while the stream is `active` (409). In the "
            "same transaction every completed contribution and mini crowd funding support is "
            "refunded and the mini crowd fundings close; afterwards the stream is a 404 "
            "everywhere and in no list."
        ),
        request=None,
        parameters=[STREAM_ID_PARAMETER, IDEMPOTENCY_PARAMETER],
        responses=envelope_responses(
            200, StreamDeletionReceiptSerializer, errors=(400, 401, 403, 404, 409, 429)
        ),
        tags=TAGS,
    )
    def destroy(self, request, id: str):
        def perform():
            receipt = funding_services.live_stream_delete(user=request.user, stream_id=id)
            return status.HTTP_200_OK, StreamDeletionReceiptSerializer(receipt).data

        return idempotent_response(request, perform)

    @extend_schema(
        operation_id="live_stream_mini_crowd_funding_create",
        summary="Add a mini crowd funding to your scheduled stream",
        request=MiniCrowdFundingInputSerializer,
        parameters=[STREAM_ID_PARAMETER],
        responses=envelope_responses(
            201, MiniCrowdFundingSerializer, errors=(400, 401, 403, 404, 409)
        ),
        tags=["Crowdfunding"],
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="mini-crowd-fundings",
        url_name="mini-crowd-fundings",
    )
    def add_mini_crowd_funding(self, request, id: str):
        body = MiniCrowdFundingInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        mini = funding_services.mini_crowd_funding_create(
            user=request.user, stream_id=id, **body.validated_data
        )
        return Response(
            MiniCrowdFundingSerializer(mini_crowd_funding_row(mini)).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        operation_id="live_stream_start",
        summary="Go live: a scheduled or preparing stream becomes active",
        description=(
            "Sets `startedAt` and adds the creator as the host broadcaster. Past the start "
            "deadline (`plannedStartDate` + STREAM_START_GRACE) the stream has expired: 409."
        ),
        request=None,
        parameters=[STREAM_ID_PARAMETER],
        responses=_stream_responses(200, 400, 401, 403, 404, 409),
        tags=TAGS,
    )
    @action(detail=True, methods=["post"])
    def start(self, request, id: str):
        return written_stream_response(
            request, lambda: stream_services.live_stream_start(user=request.user, stream_id=id)
        )

    @extend_schema(
        operation_id="live_stream_end",
        summary="End your active stream",
        description=(
            "Sets `endedAt`; a recorded stream gets its recording URL (shown in `recordingUrl` "
            "to those who may watch it)."
        ),
        request=None,
        parameters=[STREAM_ID_PARAMETER],
        responses=_stream_responses(200, 400, 401, 403, 404, 409),
        tags=TAGS,
    )
    @action(detail=True, methods=["post"])
    def end(self, request, id: str):
        return written_stream_response(
            request, lambda: stream_services.live_stream_end(user=request.user, stream_id=id)
        )

    @extend_schema(
        operation_id="live_stream_join",
        summary="Join a preparing or active stream as its invited guest",
        description=(
            "Adds the caller as a guest broadcaster with `hasJoined: true`; joining again "
            "changes nothing. Only invited guests (403 for anyone else); only while the stream "
            "is `preparing` or `active` (409 otherwise)."
        ),
        request=None,
        parameters=[STREAM_ID_PARAMETER],
        responses=_stream_responses(
            200,
            400,
            401,
            403,
            404,
            409,
            description="The stream, with the caller among its broadcasters.",
        ),
        tags=TAGS,
    )
    @action(detail=True, methods=["post"])
    def join(self, request, id: str):
        return written_stream_response(
            request, lambda: stream_services.live_stream_join(user=request.user, stream_id=id)
        )


class LiveStreamEventsView(APIView):
    """A stream's public live events (API.md §10), for anyone: no token needed."""

    authentication_classes = []
    permission_classes = [AllowAny]
    renderer_classes = [EnvelopeJSONRenderer]
    content_negotiation_class = EnvelopeErrorsNegotiation

    @extend_schema(
        operation_id="live_stream_events",
        summary="A stream's live events (Server-Sent Events)",
        description=(
            '`text/event-stream`, public. Events: `funding` `{"streamId", '
            '"collectedFunding", "fundingGoal", "fundingPercentage", '
            '"miniCrowdFundings": [{"_id", "collected", "goal", "percentage", '
            '"status"}]}` after every fund, support and refund; `status` `{"streamId", '
            '"status", "isDeleted"}` on start, end, cancel, expiry and deletion; `gift` '
            '`{"streamId", "giftId", "giftTypeId", "name", "creditAmount", "senderId", '
            '"senderUsername", "createdAt"}` for every gift sent. Each '
            "has an `id` for `Last-Event-ID`; a `: heartbeat` comment comes every 15 s."
        ),
        parameters=[STREAM_ID_PARAMETER, LAST_EVENT_ID_PARAMETER],
        responses={
            (200, EVENT_STREAM): event_stream_schema(
                "An open event stream of `funding`, `status` and `gift` events."
            ),
        },
        tags=TAGS,
    )
    def get(self, request, id: str):
        stream_services.check_object_id(id, "id")
        if not LiveStream.objects.alive().filter(pk=id).exists():
            raise NotFound("Live stream not found")
        return event_stream_response(request, stream_channel(id))


_STREAM = CrowdfundedLiveStreamSerializer()
