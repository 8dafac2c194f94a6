"""The caller's notification inbox, device tokens and personal event stream (API.md §10)."""

from functools import partial

from asgiref.sync import sync_to_async
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from allmine.api.pagination import ListPagination, paged_serializer
from allmine.api.renderers import EnvelopeJSONRenderer
from allmine.api.schema import envelope_responses
from allmine.api.sse import EVENT_STREAM, EnvelopeErrorsNegotiation, event_stream_response
from allmine.events import user_channel
from allmine.ids import check_object_id
from notifications import services
from notifications.models import Notification
from notifications.selectors import notifications_for_user, user_token_is_current
from notifications.serializers import (
    DeviceTokenInputSerializer,
    DeviceTokenSerializer,
    NotificationReadInputSerializer,
    NotificationSerializer,
    NotificationsQuerySerializer,
    ReadAllSerializer,
)
from users.authentication import TOKEN_VERSION_CLAIM, EventStreamAuthentication

TAGS = ["Notifications"]
OBJECT_ID_SCHEMA = {"type": "string", "pattern": "^[0-9a-f]{24}$"}
INBOX_PAGINATION = ListPagination(default_limit=10)

LAST_EVENT_ID_PARAMETER = OpenApiParameter(
    name="Last-Event-ID",
    location=OpenApiParameter.HEADER,
    required=False,
    type=str,
    description=(
        "The `id` of the last event received: the events after it that are still in the "
        "channel's backlog are sent first (EventSource sends it when it reconnects)."
    ),
)


def event_stream_schema(description: str) -> OpenApiResponse:
    return OpenApiResponse(response=OpenApiTypes.STR, description=description)


class NotificationListView(APIView):
    @extend_schema(
        operation_id="notifications_list",
        summary="The caller's notifications, newest first",
        description="Paged as API.md §5; `category` and `unread=true` filter.",
        parameters=[
            OpenApiParameter(
                name="category",
                location=OpenApiParameter.QUERY,
                required=False,
                enum=Notification.Category.values,
            ),
            OpenApiParameter(
                name="unread",
                location=OpenApiParameter.QUERY,
                required=False,
                enum=["true", "false"],
                description="`true`: unread ones only.",
            ),
            *INBOX_PAGINATION.schema_parameters(),
        ],
        responses=envelope_responses(
            200, paged_serializer(NotificationSerializer), errors=(400, 401, 403)
        ),
        tags=TAGS,
    )
    def get(self, request):
        query = NotificationsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        notifications = notifications_for_user(
            user_id=request.user.pk,
            category=query.validated_data.get("category"),
            unread_only=query.validated_data.get("unread") == "true",
        )
        page = INBOX_PAGINATION.paginate(notifications, request)
        return Response(page.response_data(NotificationSerializer(page.items, many=True).data))


class NotificationReadView(APIView):
    @extend_schema(
        operation_id="notification_read",
        summary="Mark one of your notifications read (or unread)",
        description="`isRead` defaults to true.",
        request=NotificationReadInputSerializer,
        parameters=[
            OpenApiParameter(
                name="id",
                location=OpenApiParameter.PATH,
                type=OBJECT_ID_SCHEMA,
                description="Notification id.",
            )
        ],
        responses=envelope_responses(200, NotificationSerializer, errors=(400, 401, 403, 404)),
        tags=TAGS,
    )
    def patch(self, request, id: str):
        check_object_id(id, "id")
        body = NotificationReadInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        notification = services.notification_mark_read(
            user_id=request.user.pk, notification_id=id, is_read=body.validated_data["isRead"]
        )
        return Response(NotificationSerializer(notification).data)


class NotificationReadAllView(APIView):
    @extend_schema(
        operation_id="notifications_read_all",
        summary="Mark all your notifications read",
        request=None,
        responses=envelope_responses(200, ReadAllSerializer, errors=(401, 403)),
        tags=TAGS,
    )
    def post(self, request):
        updated = services.notifications_mark_all_read(user_id=request.user.pk)
        return Response({"updatedCount": updated})


class DeviceTokenView(APIView):
    @extend_schema(
        operation_id="notifications_device_token",
        summary="Register the push token of one of your devices",
        description=(
            "One row per device (`deviceId`): registering again updates it in place (200); "
            "a new device is a 201. A token held by another account's device moves to yours."
        ),
        request=DeviceTokenInputSerializer,
        responses={
            **envelope_responses(201, DeviceTokenSerializer, errors=(400, 401, 403)),
            200: envelope_responses(
                200, DeviceTokenSerializer, description="The device's row, updated."
            )[200],
        },
        tags=TAGS,
    )
    def post(self, request):
        body = DeviceTokenInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        registration = services.device_token_register(
            user_id=request.user.pk,
            token=data["token"],
            platform=data["platform"],
            device_id=data["deviceId"],
            timezone=data["timezone"],
        )
        return Response(
            DeviceTokenSerializer(registration.device).data,
            status=status.HTTP_201_CREATED if registration.created else status.HTTP_200_OK,
        )


class NotificationStreamView(APIView):
    authentication_classes = [EventStreamAuthentication]
    renderer_classes = [EnvelopeJSONRenderer]
    content_negotiation_class = EnvelopeErrorsNegotiation

    @extend_schema(
        operation_id="notifications_stream",
        summary="Your live events (Server-Sent Events)",
        description=(
            "`text/event-stream`. Events: `notification` (an inbox item, as in the list) when "
            'one is written for you, and `wallet` `{"creditBalance"}` after every change of '
            "your balance. Each has an `id` for `Last-Event-ID`; a `: heartbeat` comment comes "
            "every 15 s. EventSource clients, which cannot send headers, may pass the access "
            "token as `?access_token=`. The stream ends when the token expires or is revoked "
            "(logout, password change): reconnect with a fresh token."
        ),
        parameters=[
            LAST_EVENT_ID_PARAMETER,
            OpenApiParameter(
                name="access_token",
                location=OpenApiParameter.QUERY,
                required=False,
                type=str,
                description="The access token, for clients that cannot send `Authorization`.",
            ),
        ],
        responses={
            (200, EVENT_STREAM): event_stream_schema(
                "An open event stream of `notification` and `wallet` events."
            ),
        },
        tags=TAGS,
    )
    def get(self, request):
        token = request.auth
        version = token.get(TOKEN_VERSION_CLAIM)
        return event_stream_response(
            request,
            user_channel(request.user.pk),
            closes_at=float(token["exp"]),
            token_version=version,
            still_valid=sync_to_async(
                partial(user_token_is_current, user_id=request.user.pk, version=version),
                thread_sensitive=False,
            ),
        )
