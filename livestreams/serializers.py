"""The live stream object of API.md §3 (without its crowdfunding parts)."""

from collections.abc import Sequence
from decimal import Decimal

from django.conf import settings
from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from allmine.api.fields import (
    ApiDateTimeField,
    StrictBooleanField,
    StrictCharField,
    StrictDecimalField,
    StrictIntegerField,
    StrictURLField,
)
from allmine.api.formats import format_datetime
from allmine.ids import OBJECT_ID_RE
from livestreams.models import (
    Broadcaster,
    Interest,
    LiveStream,
    Reminder,
    ReplayRental,
)
from livestreams.rules import (
    MAX_DURATION_GOAL,
    MAX_FUNDING_GOAL,
    MAX_GUESTS,
    MAX_REPLAY_CREDIT_PRICE,
    Role,
    access_type,
    funding_percentage,
)
from livestreams.selectors import (
    BROADCASTER_FIELDS,
    RENTAL_STATES,
    ReplayAccess,
    ReplayStatus,
    rental_remaining_seconds,
    rental_state,
)
from users.serializers import UserSummarySerializer, user_summary_from_values


class BroadcasterSerializer(serializers.ModelSerializer):
    user = serializers.CharField(source="user_id", read_only=True)
    hasJoined = serializers.BooleanField(source="has_joined", read_only=True)

    class Meta:
        model = Broadcaster
        fields = ["user", "role", "uid", "hasJoined"]

    def to_representation(self, broadcaster: dict) -> dict:
        return broadcaster_representation(broadcaster)


def broadcaster_representation(broadcaster: dict) -> dict:
    """The shape of BroadcasterSerializer from a row (`selectors.BROADCASTER_FIELDS`)."""
    return broadcaster_from_values([None, *(broadcaster[name] for name in BROADCASTER_FIELDS)])


def broadcaster_from_values(values: Sequence) -> dict:
    """The shape of BroadcasterSerializer from a query tuple (`stream_id`, then
    `selectors.BROADCASTER_FIELDS`): the one builder of the shape."""
    return {"user": values[1], "role": values[2], "uid": values[3], "hasJoined": values[4]}


class ReplayAccessSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ReplayStatus.values)
    canRent = serializers.BooleanField(source="can_rent")
    canViewRecording = serializers.BooleanField(source="can_view_recording")
    price = serializers.IntegerField(allow_null=True)
    rentedAt = ApiDateTimeField(source="rented_at", allow_null=True)
    expiresAt = ApiDateTimeField(source="expires_at", allow_null=True)
    remainingSeconds = serializers.IntegerField(source="remaining_seconds", allow_null=True)

    def to_representation(self, access: ReplayAccess) -> dict:
        return replay_access_representation(access)


class LiveStreamSerializer(serializers.ModelSerializer):
    """A stream as the caller sees it, from a row of `livestreams.selectors.live_stream_rows`.

    The declared fields document the shape (OpenAPI); `to_representation` builds it from the
    row in one go, without walking fields or copying them per request.
    """

    liveStreamType = serializers.ChoiceField(
        source="live_stream_type", choices=LiveStream.Type.choices, read_only=True
    )
    channelName = serializers.CharField(source="channel_name", read_only=True)
    broadcasters = BroadcasterSerializer(many=True, read_only=True)
    guests = UserSummarySerializer(source="invited_guests", many=True, read_only=True)
    creator = UserSummarySerializer(read_only=True)
    thumbnailUrl = serializers.CharField(read_only=True)
    recordingUrl = serializers.CharField(read_only=True, allow_null=True)
    replayAccess = ReplayAccessSerializer(read_only=True)
    accessType = serializers.ChoiceField(
        source="access_type", choices=["free", "paid"], read_only=True
    )
    price = serializers.DecimalField(
        max_digits=10,
        decimal_places=2,
        coerce_to_string=False,
        min_value=Decimal("0.01"),
        allow_null=True,
        read_only=True,
        help_text="Null for a free stream; a paid stream's price is above 0.",
    )
    durationGoal = serializers.IntegerField(source="duration_goal", read_only=True)
    isActiveReplayOnCreatorProfile = serializers.BooleanField(
        source="is_active_replay_on_creator_profile", allow_null=True, read_only=True
    )
    replayCreditPrice = serializers.IntegerField(
        source="replay_credit_price", allow_null=True, read_only=True
    )
    startedAt = ApiDateTimeField(source="started_at", allow_null=True)
    plannedStartDate = ApiDateTimeField(source="planned_start_date")
    endedAt = ApiDateTimeField(source="ended_at", allow_null=True)
    plannedEndDate = ApiDateTimeField(source="planned_end_date")
    createdAt = ApiDateTimeField(source="created_at")
    updatedAt = ApiDateTimeField(source="updated_at")
    fundingGoal = serializers.IntegerField(source="funding_goal", read_only=True)
    collectedFunding = serializers.IntegerField(source="collected_funding", read_only=True)
    fundingPercentage = serializers.IntegerField(source="funding_percentage", read_only=True)
    role = serializers.ChoiceField(choices=Role.values, allow_null=True, read_only=True)

    class Meta:
        model = LiveStream
        fields = [
            "id", "title", "liveStreamType", "channelName", "broadcasters", "guests", "creator",
            "thumbnailUrl", "recording", "recordingUrl", "replayAccess", "status", "accessType",
            "price", "interest", "durationGoal", "motivation", "isActiveReplayOnCreatorProfile",
            "replayCreditPrice", "startedAt", "plannedStartDate", "endedAt", "plannedEndDate",
            "createdAt", "updatedAt", "fundingGoal", "collectedFunding", "fundingPercentage",
            "role",
        ]  # fmt: skip

    def to_representation(self, stream: dict) -> dict:
        """A row of `livestreams.selectors.live_stream_rows` as the stream object."""
        return live_stream_representation(stream)


def replay_access_representation(access: ReplayAccess) -> dict:
    """The shape of ReplayAccessSerializer."""
    return {
        "status": access.status,
        "canRent": access.can_rent,
        "canViewRecording": access.can_view_recording,
        "price": access.price,
        "rentedAt": format_datetime(access.rented_at),
        "expiresAt": format_datetime(access.expires_at),
        "remainingSeconds": access.remaining_seconds,
    }


def live_stream_representation(stream: dict) -> dict:
    """The shape of LiveStreamSerializer from a row of `live_stream_rows`."""
    access = stream["replay_access"]
    price = stream["price"]
    recording_url = stream["recording_url"]
    collected, goal = stream["collected_funding"], stream["funding_goal"]
    return {
        "id": stream["id"],
        "title": stream["title"],
        "liveStreamType": stream["live_stream_type"],
        "channelName": stream["channel_name"],
        "broadcasters": [broadcaster_from_values(b) for b in stream["broadcasters"]],
        "guests": [user_summary_from_values(*guest) for guest in stream["guests"]],
        "creator": user_summary_from_values(*stream["creator"]),
        "thumbnailUrl": stream["thumbnail_url"] or settings.DEFAULT_THUMBNAIL_URL,
        "recording": stream["recording"],
        "recordingUrl": (recording_url or None) if access.can_view_recording else None,
        "replayAccess": replay_access_representation(access),
        "status": stream["status"],
        "accessType": access_type(price),
        "price": None if price is None else float(price),
        "interest": stream["interest"],
        "durationGoal": stream["duration_goal"],
        "motivation": stream["motivation"],
        "isActiveReplayOnCreatorProfile": stream["is_active_replay_on_creator_profile"],
        "replayCreditPrice": stream["replay_credit_price"],
        "startedAt": format_datetime(stream["started_at"]),
        "plannedStartDate": format_datetime(stream["planned_start_date"]),
        "endedAt": format_datetime(stream["ended_at"]),
        "plannedEndDate": format_datetime(stream["planned_end_date"]),
        "createdAt": format_datetime(stream["created_at"]),
        "updatedAt": format_datetime(stream["updated_at"]),
        "fundingGoal": goal,
        "collectedFunding": collected,
        "fundingPercentage": funding_percentage(collected, goal),
        "role": stream["role"],
    }


# --- Replay rentals (API.md §7) -----------------------------------------------------------


class ReplayRentalSerializer(serializers.Serializer):
    """A rental as its renter sees it; `context["now"]` is the moment it describes."""

    rentalId = serializers.CharField(source="id")
    streamId = serializers.CharField(source="stream_id")
    price = serializers.IntegerField()
    status = serializers.SerializerMethodField()
    rentedAt = ApiDateTimeField(source="rented_at")
    expiresAt = ApiDateTimeField(source="expires_at")
    remainingSeconds = serializers.SerializerMethodField()

    @extend_schema_field(
        serializers.ChoiceField(
            choices=RENTAL_STATES,
            help_text="active: window open; expired: window closed; refunded: given back.",
        )
    )
    def get_status(self, rental: ReplayRental) -> str:
        return rental_state(rental=rental, now=self.context["now"])

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_remainingSeconds(self, rental: ReplayRental) -> int | None:
        return rental_remaining_seconds(rental=rental, now=self.context["now"])


class RentalReceiptSerializer(ReplayRentalSerializer):
    creditBalance = serializers.IntegerField(help_text="The caller's balance afterwards.")

    def to_representation(self, receipt):
        rental = ReplayRentalSerializer(receipt.rental, context=self.context).data
        return {**rental, "creditBalance": receipt.credit_balance}


class ReplayStatusSerializer(serializers.Serializer):
    streamId = serializers.CharField()
    recordingUrl = serializers.CharField(allow_null=True)
    replayAccess = ReplayAccessSerializer()


class ReplaySettingsInputSerializer(serializers.Serializer):
    """Either or both; a field left out keeps its value (an empty body changes nothing)."""

    isActiveReplayOnCreatorProfile = StrictBooleanField(
        required=False, help_text="Offer the replay on the creator's profile."
    )
    replayCreditPrice = StrictIntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=MAX_REPLAY_CREDIT_PRICE,
        help_text="Credits to rent the replay for 24 hours; null: no price (not rentable).",
    )


# --- Input: scheduling and changing a stream (API.md §6) --------------------------------


class LiveStreamUpdateInputSerializer(serializers.Serializer):
    """What the creator may change while the stream is scheduled or preparing (all optional
    with `partial=True`). Unknown fields are ignored; wrong JSON types are a 400."""

    title = StrictCharField(min_length=1, max_length=120)
    motivation = StrictCharField(max_length=2000, allow_blank=True)
    interest = serializers.ChoiceField(choices=Interest.choices)
    thumbnailUrl = StrictURLField(
        source="thumbnail_url", max_length=500, allow_blank=True, help_text="Empty: the default."
    )
    plannedStartDate = serializers.DateTimeField(
        source="planned_start_date", help_text="ISO 8601, in the future."
    )
    plannedEndDate = serializers.DateTimeField(
        source="planned_end_date",
        allow_null=True,
        required=False,
        help_text="Not before the start; absent or null: start + durationGoal.",
    )
    durationGoal = StrictIntegerField(
        source="duration_goal", min_value=1, max_value=MAX_DURATION_GOAL, help_text="Minutes."
    )
    fundingGoal = StrictIntegerField(
        source="funding_goal", min_value=0, max_value=MAX_FUNDING_GOAL, help_text="Credits."
    )


class LiveStreamCreateInputSerializer(LiveStreamUpdateInputSerializer):
    """A new stream. Required: title, liveStreamType, interest, durationGoal,
    plannedStartDate, fundingGoal; for duo types also `guests`."""

    liveStreamType = serializers.ChoiceField(
        source="live_stream_type", choices=LiveStream.Type.choices
    )
    motivation = StrictCharField(max_length=2000, allow_blank=True, required=False, default="")
    thumbnailUrl = StrictURLField(
        source="thumbnail_url",
        max_length=500,
        allow_blank=True,
        required=False,
        help_text="Absent or empty: the default thumbnail.",
    )
    price = StrictDecimalField(
        max_digits=10,
        decimal_places=2,
        min_value=Decimal("0.01"),
        allow_null=True,
        required=False,
        default=None,
        coerce_to_string=False,
        error_messages={
            "min_value": "Must be greater than 0; leave it out or send null for a free stream."
        },
        help_text="A number > 0 makes the stream paid; absent or null: free.",
    )
    recording = StrictBooleanField(required=False, default=False)
    isActiveReplayOnCreatorProfile = StrictBooleanField(
        source="is_active_replay_on_creator_profile", allow_null=True, required=False, default=None
    )
    replayCreditPrice = StrictIntegerField(
        source="replay_credit_price",
        min_value=1,
        max_value=MAX_REPLAY_CREDIT_PRICE,
        allow_null=True,
        required=False,
        default=None,
    )
    guests = serializers.ListField(
        source="guest_ids",
        child=StrictCharField(
            validators=[RegexValidator(OBJECT_ID_RE, "Must be a 24-character lowercase hex id.")]
        ),
        max_length=MAX_GUESTS,
        required=False,
        default=list,
        help_text="User ids; duo types: at least one, not the creator; solo: none.",
    )


class ReminderInputSerializer(serializers.Serializer):
    minute = StrictIntegerField(
        min_value=0,
        max_value=1440,
        allow_null=True,
        help_text="Minutes before `plannedStartDate`; 0 or null: when the stream starts.",
    )


class ReminderSerializer(serializers.Serializer):
    """The caller's reminder of a stream (API.md §10); reads `stream.planned_start_date`."""

    streamId = serializers.CharField(source="stream_id")
    minute = serializers.IntegerField()
    mode = serializers.ChoiceField(choices=Reminder.Mode.choices)
    scheduledFor = ApiDateTimeField(allow_null=True)
    status = serializers.ChoiceField(choices=Reminder.Status.choices)

    def to_representation(self, reminder: Reminder) -> dict:
        return {
            "streamId": reminder.stream_id,
            "minute": reminder.minute,
            "mode": reminder.mode,
            "scheduledFor": format_datetime(
                reminder.scheduled_for(reminder.stream.planned_start_date)
            ),
            "status": reminder.status,
        }


class GiftTypeSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    creditAmount = serializers.IntegerField(source="credit_amount", min_value=1)
    iconUrl = serializers.CharField(source="icon_url", allow_null=True)

    def to_representation(self, gift_type):
        return {
            "id": gift_type.pk,
            "name": gift_type.name,
            "creditAmount": gift_type.credit_amount,
            "iconUrl": gift_type.icon_url or None,
        }


class GiftInputSerializer(serializers.Serializer):
    giftTypeId = StrictCharField(help_text="An active gift type's id.")
    liveStreamId = StrictCharField(help_text="The active stream the gift is sent on.")


class GiftReceiptSerializer(serializers.Serializer):
    giftId = serializers.CharField(source="gift.pk")
    giftTypeId = serializers.CharField(source="gift.gift_type_id")
    liveStreamId = serializers.CharField(source="gift.stream_id")
    creditAmount = serializers.IntegerField(source="gift.amount", min_value=1)
    creditBalance = serializers.IntegerField(
        source="credit_balance", help_text="The sender's balance afterwards."
    )
    createdAt = ApiDateTimeField(source="gift.created_at")


class GiftTypeCountSerializer(serializers.Serializer):
    giftTypeId = serializers.CharField()
    name = serializers.CharField()
    creditAmount = serializers.IntegerField(min_value=1)
    count = serializers.IntegerField(min_value=1)


class GiftStatisticsSerializer(serializers.Serializer):
    liveStreamId = serializers.CharField(source="stream_id")
    totalCount = serializers.IntegerField(source="total_count", min_value=0)
    giftTypeCounts = GiftTypeCountSerializer(source="type_counts", many=True)
