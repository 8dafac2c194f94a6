"""Reminders under /api/v1/live-stream/ (API.md §10). They live here, not in livestreams,
because `my-reminders` answers with stream objects, which only `crowdfunding.selectors`
builds."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from allmine.api.conditional import (
    IF_NONE_MATCH_PARAMETER,
    conditional_response,
    conditional_responses,
)
from allmine.api.pagination import ListPagination, paged_serializer
from allmine.api.schema import envelope_responses
from crowdfunding.selectors import stream_objects_for
from crowdfunding.serializers import MyReminderSerializer
from crowdfunding.views import STREAM_ID_PARAMETER
from livestreams.reminders import reminder_delete, reminder_set, reminders_for_user
from livestreams.serializers import ReminderInputSerializer, ReminderSerializer

TAGS = ["Reminders"]
MY_REMINDERS_PAGINATION = ListPagination(default_limit=10)


class ReminderView(APIView):
    @extend_schema(
        operation_id="live_stream_reminder_set",
        summary="Be reminded of a scheduled stream",
        description=(
            "Creates or changes the caller's one reminder of the stream. `minute` 0 or null: "
            "when the stream starts (`mode: ON_START`, `status: ARMED_ON_START`, "
            "`scheduledFor: null`); 1–1440: that many minutes before `plannedStartDate` "
            "(`BEFORE_START`, `ARMED`; a new planned start moves it). Setting it again arms "
            "it again. Only on a `scheduled` stream (409 otherwise)."
        ),
        request=ReminderInputSerializer,
        parameters=[STREAM_ID_PARAMETER],
        responses=envelope_responses(200, ReminderSerializer, errors=(400, 401, 403, 404, 409)),
        tags=TAGS,
    )
    def post(self, request, id: str):
        body = ReminderInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        reminder = reminder_set(
            user=request.user, stream_id=id, minute=body.validated_data["minute"]
        )
        return Response(ReminderSerializer(reminder).data)

    @extend_schema(
        operation_id="live_stream_reminder_delete",
        summary="Remove your reminder of a stream",
        description="`data` is null; 404 when you have no reminder of this stream.",
        request=None,
        parameters=[STREAM_ID_PARAMETER],
        responses=envelope_responses(200, None, errors=(400, 401, 403, 404)),
        tags=TAGS,
    )
    def delete(self, request, id: str):
        reminder_delete(user=request.user, stream_id=id)
        return Response(None)


class MyRemindersView(APIView):
    @extend_schema(
        operation_id="live_stream_my_reminders",
        summary="Your armed reminders, soonest stream first",
        description="Paged as API.md §5; each item carries its stream object.",
        parameters=[*MY_REMINDERS_PAGINATION.schema_parameters(), IF_NONE_MATCH_PARAMETER],
        responses=conditional_responses(
            envelope_responses(200, paged_serializer(MyReminderSerializer), errors=(400, 401, 403))
        ),
        tags=TAGS,
    )
    def get(self, request):
        page = MY_REMINDERS_PAGINATION.paginate(reminders_for_user(user=request.user), request)
        streams = stream_objects_for(
            user=request.user, stream_ids=[reminder.stream_id for reminder in page.items]
        )
        by_id = {stream["id"]: stream for stream in streams}
        # A stream deleted between the two reads is left out, like every deleted one.
        reminders = [reminder for reminder in page.items if reminder.stream_id in by_id]
        items = MyReminderSerializer(reminders, many=True, context={"streams": by_id}).data
        return conditional_response(request, page.response_data(items))
