"""Finding streams (API.md §11): a user's upcoming and past streams, the caller's past streams
and the streams they are invited to. Every list reads its page through one compiled query and
`StreamReads`, the one read path of the stream object, whose raw rows give the `ETag` before
anything is built (a 304 costs the queries and a hash)."""

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from allmine.api.conditional import (
    IF_NONE_MATCH_PARAMETER,
    conditional_read,
    conditional_responses,
)
from allmine.api.errors import NotFound
from allmine.api.pagination import ListPagination, paged_serializer
from allmine.api.query import Choice, Integer, read_query
from allmine.api.schema import envelope_responses
from allmine.ids import check_object_id
from crowdfunding.selectors import (
    as_read,
    guest_streams_for,
    past_streams_for,
    upcoming_streams_for,
)
from crowdfunding.serializers import (
    CrowdfundedLiveStreamSerializer,
    UpcomingLiveStreamSerializer,
)
from crowdfunding.views import OBJECT_ID_SCHEMA
from livestreams.models import LiveStream
from livestreams.selectors import GUEST_STREAM_SORTS
from users.permissions import IsNotSuspended
from users.selectors import user_exists

TAGS = ["Live Streams"]
PAGINATION = ListPagination(default_limit=10)
MAX_MINUTES = 10 * 365 * 24 * 60  # ten years either way
STREAM = CrowdfundedLiveStreamSerializer()
UPCOMING_STREAM = UpcomingLiveStreamSerializer()
USER_ID_PARAMETER = OpenApiParameter(
    name="userId", location=OpenApiParameter.PATH, type=OBJECT_ID_SCHEMA, description="User id."
)


def _checked_user_id(user_id: str) -> str:
    check_object_id(user_id, "userId")
    if not user_exists(user_id=user_id):
        raise NotFound("User not found")
    return user_id


UPCOMING_QUERY = {
    "limit": Integer(minimum=1, maximum=100, default=10),
    "minutesBefore": Integer(minimum=0, maximum=MAX_MINUTES, default=1440),
    "minutesAfter": Integer(minimum=0, maximum=MAX_MINUTES, default=1440),
}
GUEST_STREAMS_QUERY = {
    "status": Choice(frozenset(LiveStream.Status.values)),
    "sortBy": Choice(frozenset(GUEST_STREAM_SORTS), default="createdAt"),
    "sortOrder": Choice(frozenset({"asc", "desc"}), default="desc"),
}


def _parameter(name: str, schema: dict, description: str) -> OpenApiParameter:
    return OpenApiParameter(
        name=name,
        location=OpenApiParameter.QUERY,
        required=False,
        type=schema,
        description=description,
    )


def _minutes(name: str, description: str) -> OpenApiParameter:
    schema = {"type": "integer", "minimum": 0, "maximum": MAX_MINUTES, "default": 1440}
    return _parameter(name, schema, description)


UPCOMING_PARAMETERS = [
    _parameter(
        "limit",
        {"type": "integer", "minimum": 1, "maximum": 100, "default": 10},
        "At most this many streams, 1 to 100.",
    ),
    _minutes("minutesBefore", "Scheduled streams planned to start up to this many minutes ago."),
    _minutes("minutesAfter", "Scheduled streams planned to start within this many minutes."),
]
GUEST_STREAMS_PARAMETERS = [
    _parameter("status", {"type": "string", "enum": LiveStream.Status.values}, "Only this status."),
    _parameter(
        "sortBy",
        {"type": "string", "enum": list(GUEST_STREAM_SORTS), "default": "createdAt"},
        "The field to sort by.",
    ),
    _parameter(
        "sortOrder", {"type": "string", "enum": ["asc", "desc"], "default": "desc"}, "Direction."
    ),
]


class UpcomingLiveStreamsView(APIView):
    permission_classes = [AllowAny, IsNotSuspended]

    @extend_schema(
        operation_id="live_stream_user_upcoming",
        summary="A user's live and upcoming streams",
        description=(
            "Streams where `userId` is creator, invited guest or broadcaster: every `active` "
            "and `preparing` one, and the `scheduled` ones planned to start between "
            "`minutesBefore` minutes ago and `minutesAfter` minutes from now; active first, "
            "then soonest `plannedStartDate`, at most `limit`. `data` is a plain array. "
            "Sign-in is optional (an invalid or expired token is a 401); `isReminderActive` "
            "is null for an anonymous caller."
        ),
        parameters=[USER_ID_PARAMETER, *UPCOMING_PARAMETERS, IF_NONE_MATCH_PARAMETER],
        responses=conditional_responses(
            envelope_responses(
                200, UpcomingLiveStreamSerializer, many=True, errors=(400, 401, 403, 404)
            )
        ),
        tags=TAGS,
    )
    def get(self, request, userId: str):  # noqa: N803  (the documented name)
        query = read_query(request.query_params, UPCOMING_QUERY)
        _checked_user_id(userId)
        now = timezone.now()
        reads = upcoming_streams_for(
            user=request.user,
            user_id=userId,
            since=now - timedelta(minutes=query["minutesBefore"]),
            until=now + timedelta(minutes=query["minutesAfter"]),
            limit=query["limit"],
        )
        return conditional_read(
            request,
            reads.tag_source(now),
            lambda: [UPCOMING_STREAM.to_representation(row) for row in reads.rows(now)],
        )


def _page_response(streams, request):
    page = PAGINATION.paginate(streams, request, rows=as_read)
    reads, now = page.items, timezone.now()
    return conditional_read(
        request,
        reads.tag_source(now, page.number, page.limit, page.total),
        lambda: page.response_data([STREAM.to_representation(row) for row in reads.rows(now)]),
    )


PAGED_STREAMS = paged_serializer(CrowdfundedLiveStreamSerializer)


class GuestStreamsView(APIView):
    @extend_schema(
        operation_id="live_stream_guest_streams",
        summary="Streams you are invited to as a guest",
        description=(
            "Optionally of one `status`; sorted by `sortBy` (default `createdAt`) in "
            "`sortOrder` (default `desc`), then id; streams without the sort value last. "
            "Paged as API.md §5."
        ),
        parameters=[
            *GUEST_STREAMS_PARAMETERS,
            *PAGINATION.schema_parameters(),
            IF_NONE_MATCH_PARAMETER,
        ],
        responses=conditional_responses(
            envelope_responses(200, PAGED_STREAMS, errors=(400, 401, 403))
        ),
        tags=TAGS,
    )
    def get(self, request):
        query = read_query(request.query_params, GUEST_STREAMS_QUERY)
        streams = guest_streams_for(
            user=request.user,
            status=query.get("status"),
            sort_by=query["sortBy"],
            descending=query["sortOrder"] == "desc",
        )
        return _page_response(streams, request)


class PastStreamsView(APIView):
    permission_classes = [AllowAny, IsNotSuspended]

    @extend_schema(
        operation_id="live_stream_user_past_streams",
        summary="A user's ended streams, latest first",
        description=(
            "`ended` streams where `userId` is creator, invited guest or broadcaster, latest "
            "`endedAt` first. Sign-in is optional (an invalid or expired token is a 401). "
            "Paged as API.md §5."
        ),
        parameters=[USER_ID_PARAMETER, *PAGINATION.schema_parameters(), IF_NONE_MATCH_PARAMETER],
        responses=conditional_responses(
            envelope_responses(200, PAGED_STREAMS, errors=(400, 401, 403, 404))
        ),
        tags=TAGS,
    )
    def get(self, request, userId: str):  # noqa: N803  (the documented name)
        _checked_user_id(userId)
        return _page_response(past_streams_for(user=request.user, user_id=userId), request)


class MyPastStreamsView(APIView):
    @extend_schema(
        operation_id="live_stream_my_past_streams",
        summary="Your ended streams, latest first",
        description=(
            "`ended` streams you created, were invited to or broadcast in, latest `endedAt` "
            "first. Paged as API.md §5."
        ),
        parameters=[*PAGINATION.schema_parameters(), IF_NONE_MATCH_PARAMETER],
        responses=conditional_responses(
            envelope_responses(200, PAGED_STREAMS, errors=(400, 401, 403))
        ),
        tags=TAGS,
    )
    def get(self, request):
        streams = past_streams_for(user=request.user, user_id=request.user.pk)
        return _page_response(streams, request)
