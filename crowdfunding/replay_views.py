"""Replay rentals under /api/v1/live-stream/ (API.md §7). They live here, not in livestreams,
because they answer with stream objects, which only `crowdfunding.selectors` builds."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from allmine.api.conditional import (
    IF_NONE_MATCH_PARAMETER,
    conditional_response,
    conditional_responses,
)
from allmine.api.pagination import ListPagination, paged_serializer
from allmine.api.schema import envelope_responses
from allmine.ids import check_object_id
from crowdfunding.idempotency import idempotent_response
from crowdfunding.selectors import stream_object_for, stream_objects_for
from crowdfunding.serializers import CrowdfundedLiveStreamSerializer, MyReplayRentalSerializer
from crowdfunding.views import IDEMPOTENCY_PARAMETER, STREAM_ID_PARAMETER
from livestreams import services
from livestreams.selectors import replay_rentals_for_user
from livestreams.serializers import (
    RentalReceiptSerializer,
    ReplaySettingsInputSerializer,
    ReplayStatusSerializer,
)

MY_RENTALS_PAGINATION = ListPagination(default_limit=10)


def _checked_stream_object(request, id: str) -> dict:
    check_object_id(id, "id")
    return stream_object_for(user=request.user, stream_id=id)


class ReplayStatusView(APIView):
    @extend_schema(
        operation_id="live_stream_replay_status",
        summary="The caller's access to a stream's replay",
        description="`recordingUrl` is null unless the caller may watch the recording.",
        parameters=[STREAM_ID_PARAMETER],
        responses=envelope_responses(200, ReplayStatusSerializer, errors=(400, 401, 403, 404)),
        tags=["Replay Rentals"],
    )
    def get(self, request, id: str):
        stream = _checked_stream_object(request, id)
        return Response(
            {
                "streamId": stream["id"],
                "recordingUrl": stream["recordingUrl"],
                "replayAccess": stream["replayAccess"],
            }
        )


class ReplayRentalCreateView(APIView):
    throttle_scope = "funding"

    @extend_schema(
        operation_id="live_stream_replay_rental_create",
        summary="Rent a stream's replay for 24 hours",
        description=(
            "Charges `replayCreditPrice` credits (ledger type `stream_charge`). One rental per "
            "caller and stream: while it is active a repeat charges nothing and returns it "
            "(200); an expired or refunded rental is reactivated in place (201). 409 when the "
            "replay is not rentable, for the creator and participants (they watch free) and "
            "with `Insufficient credit balance`."
        ),
        request=None,
        parameters=[STREAM_ID_PARAMETER, IDEMPOTENCY_PARAMETER],
        responses={
            **envelope_responses(
                201,
                RentalReceiptSerializer,
                errors=(400, 401, 403, 404, 409, 429),
                description="Charged; the rental is active for 24 hours.",
            ),
            **{
                200: envelope_responses(
                    200,
                    RentalReceiptSerializer,
                    description="Already rented and active: nothing was charged.",
                )[200]
            },
        },
        tags=["Replay Rentals"],
    )
    def post(self, request, id: str):
        def perform():
            receipt = services.replay_rental_create(user=request.user, stream_id=id)
            data = RentalReceiptSerializer(receipt, context={"now": receipt.now}).data
            return (status.HTTP_201_CREATED if receipt.created else status.HTTP_200_OK), data

        return idempotent_response(request, perform)


class MyReplayRentalsView(APIView):
    @extend_schema(
        operation_id="live_stream_my_replay_rentals",
        summary="The caller's replay rentals, most recently rented first",
        description="Paged as API.md §5; rentals of deleted streams are left out.",
        parameters=[*MY_RENTALS_PAGINATION.schema_parameters(), IF_NONE_MATCH_PARAMETER],
        responses=conditional_responses(
            envelope_responses(
                200, paged_serializer(MyReplayRentalSerializer), errors=(400, 401, 403)
            )
        ),
        tags=["Replay Rentals"],
    )
    def get(self, request):
        page = MY_RENTALS_PAGINATION.paginate(replay_rentals_for_user(user=request.user), request)
        stream_ids = [rental.stream_id for rental in page.items]
        streams = stream_objects_for(user=request.user, stream_ids=stream_ids)
        by_id = {stream["id"]: stream for stream in streams}
        # A stream deleted between the two reads is left out, like every deleted one.
        rentals = [rental for rental in page.items if rental.stream_id in by_id]
        context = {"now": timezone.now(), "streams": by_id}
        items = MyReplayRentalSerializer(rentals, many=True, context=context).data
        return conditional_response(request, page.response_data(items))


class ReplaySettingsView(APIView):
    @extend_schema(
        operation_id="live_stream_replay_settings_update",
        summary="Switch your stream's replay on or off and set its price",
        request=ReplaySettingsInputSerializer,
        parameters=[STREAM_ID_PARAMETER],
        responses=envelope_responses(
            200, CrowdfundedLiveStreamSerializer, errors=(400, 401, 403, 404)
        ),
        tags=["Replay Rentals"],
    )
    def patch(self, request, id: str):
        check_object_id(id, "id")
        body = ReplaySettingsInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        names = {
            "isActiveReplayOnCreatorProfile": "is_active_replay_on_creator_profile",
            "replayCreditPrice": "replay_credit_price",
        }
        changes = {names[key]: value for key, value in body.validated_data.items()}
        stream = services.replay_settings_update(user=request.user, stream_id=id, **changes)
        return Response(stream_object_for(user=request.user, stream_id=stream.pk))
