"""Output and input shapes of the crowdfunding app."""

from rest_framework import serializers

from allmine.api.fields import ApiDateTimeField
from crowdfunding.models import MiniCrowdFunding
from livestreams.serializers import LiveStreamSerializer


class MiniCrowdFundingSerializer(serializers.ModelSerializer):
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


class CrowdfundedLiveStreamSerializer(LiveStreamSerializer):
    """The whole live stream object of API.md §3, mini crowd fundings last."""

    miniCrowdFundings = MiniCrowdFundingSerializer(
        source="mini_crowd_fundings", many=True, read_only=True
    )

    class Meta(LiveStreamSerializer.Meta):
        fields = [*LiveStreamSerializer.Meta.fields, "miniCrowdFundings"]
