"""Output and input shapes of the crowdfunding app."""

from collections.abc import Sequence

from rest_framework import serializers

from allmine.api.fields import ApiDateTimeField, StrictCharField, StrictIntegerField
from allmine.api.formats import format_datetime
from crowdfunding.models import MiniCrowdFunding
from crowdfunding.selectors import MINI_CROWD_FUNDING_FIELDS
from livestreams.rules import MAX_MINI_GOAL, funding_percentage
from livestreams.serializers import (
    LiveStreamSerializer,
    ReminderSerializer,
    ReplayRentalSerializer,
    live_stream_representation,
)
from users.rules import AMOUNT_MESSAGE, MAX_AMOUNT, MIN_AMOUNT


class MiniCrowdFundingSerializer(serializers.ModelSerializer):
    # Reads a row of `crowdfunding.selectors.MINI_CROWD_FUNDING_FIELDS`.

    _id = serializers.CharField(source="id", read_only=True)
    collected = serializers.IntegerField(read_only=True)
    percentage = serializers.IntegerField(read_only=True)
    createdAt = ApiDateTimeField(source="created_at")
    updatedAt = ApiDateTimeField(source="updated_at")

    class Meta:
        model = MiniCrowdFunding
        fields = [
            "_id",
            "title",
            "goal",
            "collected",
            "percentage",
            "status",
            "createdAt",
            "updatedAt",
        ]

    def to_representation(self, mini: dict) -> dict:
        return mini_crowd_funding_representation(mini)


def mini_crowd_funding_representation(mini: dict) -> dict:
    """The shape of MiniCrowdFundingSerializer from a row."""
    return mini_from_values([None, *(mini[name] for name in MINI_CROWD_FUNDING_FIELDS)])


def mini_from_values(values: Sequence) -> dict:
    """The shape of MiniCrowdFundingSerializer from a query tuple (`stream_id`, then
    MINI_CROWD_FUNDING_FIELDS): the one builder of the shape."""
    collected, goal = values[4], values[3]
    return {
        "_id": values[1],
        "title": values[2],
        "goal": goal,
        "collected": collected,
        "percentage": funding_percentage(collected, goal),
        "status": values[5],
        "createdAt": format_datetime(values[6]),
        "updatedAt": format_datetime(values[7]),
    }


class CrowdfundedLiveStreamSerializer(LiveStreamSerializer):
    """The whole live stream object of API.md §3, mini crowd fundings last."""

    # Reads a row of `crowdfunding.selectors.crowdfunded_stream_rows` (docstrings here become
    # the OpenAPI description, so notes for developers are comments).

    miniCrowdFundings = MiniCrowdFundingSerializer(
        source="mini_crowd_fundings", many=True, read_only=True
    )

    class Meta(LiveStreamSerializer.Meta):
        fields = [*LiveStreamSerializer.Meta.fields, "miniCrowdFundings"]

    def to_representation(self, stream: dict) -> dict:
        data = live_stream_representation(stream)
        data["miniCrowdFundings"] = [
            mini_from_values(mini) for mini in stream["mini_crowd_fundings"]
        ]
        return data


class UpcomingLiveStreamSerializer(CrowdfundedLiveStreamSerializer):
    """The stream object plus the caller's reminder state (API.md §11)."""

    # Reads a stream row with `is_reminder_active` (None for an anonymous caller).

    isReminderActive = serializers.BooleanField(
        source="is_reminder_active",
        allow_null=True,
        read_only=True,
        help_text="Whether the caller has an armed reminder of it; null when signed out.",
    )

    class Meta(CrowdfundedLiveStreamSerializer.Meta):
        fields = [*CrowdfundedLiveStreamSerializer.Meta.fields, "isReminderActive"]

    def to_representation(self, stream: dict) -> dict:
        data = super().to_representation(stream)
        data["isReminderActive"] = stream["is_reminder_active"]
        return data


# --- Money endpoints: input and output --------------------------------------------------


class AmountInputSerializer(serializers.Serializer):
    amount = StrictIntegerField(
        min_value=MIN_AMOUNT,
        max_value=MAX_AMOUNT,
        help_text="Credits, a JSON integer.",
        # The service's message (users.rules.check_amount): one rule, one message.
        error_messages={
            "min_value": AMOUNT_MESSAGE.removeprefix("amount: "),
            "max_value": AMOUNT_MESSAGE.removeprefix("amount: "),
        },
    )


class FundingReceiptSerializer(serializers.Serializer):
    contributionId = serializers.CharField(source="contribution.id")
    streamId = serializers.CharField(source="stream.id")
    amount = serializers.IntegerField(source="contribution.amount")
    myTotalContribution = serializers.IntegerField(source="my_total_contribution")
    collectedFunding = serializers.IntegerField(source="stream.collected_funding")
    fundingGoal = serializers.IntegerField(source="stream.funding_goal")
    fundingPercentage = serializers.IntegerField(source="stream.funding_percentage")
    creditBalance = serializers.IntegerField(source="credit_balance")
    createdAt = ApiDateTimeField(source="contribution.created_at")


class SupportReceiptSerializer(serializers.Serializer):
    supportId = serializers.CharField(source="support.id")
    miniCrowdFundingId = serializers.CharField(source="mini_crowd_funding.id")
    streamId = serializers.CharField(source="mini_crowd_funding.stream_id")
    amount = serializers.IntegerField(source="support.amount")
    myTotalSupport = serializers.IntegerField(source="my_total_support")
    collected = serializers.IntegerField(source="mini_crowd_funding.collected")
    goal = serializers.IntegerField(source="mini_crowd_funding.goal")
    percentage = serializers.IntegerField(source="mini_crowd_funding.percentage")
    status = serializers.ChoiceField(
        source="mini_crowd_funding.status", choices=MiniCrowdFunding.Status.choices
    )
    creditBalance = serializers.IntegerField(source="credit_balance")
    createdAt = ApiDateTimeField(source="support.created_at")


class MyReplayRentalSerializer(ReplayRentalSerializer):
    """An item of `my-replay-rentals`: the rental and its stream object
    (`context["streams"]` maps stream ids to stream objects)."""

    stream = CrowdfundedLiveStreamSerializer(read_only=True)

    def to_representation(self, rental):
        data = ReplayRentalSerializer(rental, context=self.context).data
        return {**data, "stream": self.context["streams"][rental.stream_id]}


class MiniCrowdFundingInputSerializer(serializers.Serializer):
    title = StrictCharField(min_length=1, max_length=120)
    goal = StrictIntegerField(min_value=1, max_value=MAX_MINI_GOAL, help_text="Credits.")


class StreamDeletionReceiptSerializer(serializers.Serializer):
    """What a deletion did: the stream is gone, its funders have their credits back."""

    id = serializers.CharField(source="stream.id")
    deletedAt = ApiDateTimeField(source="stream.deleted_at")
    refundedContributions = serializers.IntegerField(source="refunded_contributions")
    refundedSupports = serializers.IntegerField(source="refunded_supports")
    refundedRentals = serializers.IntegerField(source="refunded_rentals")
    refundedCredits = serializers.IntegerField(source="refunded_credits")


class MyReminderSerializer(ReminderSerializer):
    """An item of `my-reminders`: the reminder and its stream object
    (`context["streams"]` maps stream ids to stream objects)."""

    stream = CrowdfundedLiveStreamSerializer(read_only=True)

    def to_representation(self, reminder):
        data = ReminderSerializer(reminder).data
        return {**data, "stream": self.context["streams"][reminder.stream_id]}
