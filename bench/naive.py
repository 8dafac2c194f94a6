"""The naive funded list: plain nested ModelSerializers, no joins, no prefetching.

The baseline the benchmark measures side by side with the real endpoint, in the same process
and on the same data. Same filter, order, paging, renderer and output (the benchmark checks the
payloads are equal); every relation is read lazily, one query at a time.
"""

from django.conf import settings
from rest_framework import serializers

from allmine.api.fields import ApiDateTimeField
from crowdfunding.models import MiniCrowdFunding
from crowdfunding.selectors import funded_streams_for_user
from crowdfunding.serializers import CrowdfundedLiveStreamSerializer
from crowdfunding.views import FundedLiveStreamViewSet
from livestreams.models import Broadcaster, LiveStream
from livestreams.selectors import replay_access_for, stream_role_for
from livestreams.serializers import ReplayAccessSerializer
from users.models import Media, User


class NaiveMediaSerializer(serializers.ModelSerializer):
    _id = serializers.CharField(source="id")
    variants = serializers.SerializerMethodField()
    createdAt = ApiDateTimeField(source="created_at")
    updatedAt = ApiDateTimeField(source="updated_at")

    class Meta:
        model = Media
        fields = ["_id", "url", "type", "variants", "createdAt", "updatedAt"]

    def get_variants(self, media):
        return dict(sorted(media.variants.items(), key=lambda kv: int(kv[0])))


class NaiveUserSerializer(serializers.ModelSerializer):
    _id = serializers.CharField(source="id")
    name = serializers.CharField(source="first_name")
    surname = serializers.CharField(source="last_name")
    profilePhoto = NaiveMediaSerializer(source="profile_photo", allow_null=True)
    availabilityStatus = serializers.CharField(source="availability_status")

    class Meta:
        model = User
        fields = ["_id", "username", "name", "surname", "profilePhoto", "availabilityStatus"]


class NaiveBroadcasterSerializer(serializers.ModelSerializer):
    user = serializers.CharField(source="user_id")
    hasJoined = serializers.BooleanField(source="has_joined")

    class Meta:
        model = Broadcaster
        fields = ["user", "role", "uid", "hasJoined"]


class NaiveMiniSerializer(serializers.ModelSerializer):
    _id = serializers.CharField(source="id")
    percentage = serializers.IntegerField()
    createdAt = ApiDateTimeField(source="created_at")
    updatedAt = ApiDateTimeField(source="updated_at")

    class Meta:
        model = MiniCrowdFunding
        fields = ["_id", "title", "goal", "collected", "percentage", "status", "createdAt",
                  "updatedAt"]  # fmt: skip


class NaiveLiveStreamSerializer(serializers.ModelSerializer):
    liveStreamType = serializers.CharField(source="live_stream_type")
    channelName = serializers.CharField(source="channel_name")
    broadcasters = NaiveBroadcasterSerializer(many=True)
    guests = NaiveUserSerializer(source="invited_guests", many=True)
    creator = NaiveUserSerializer()
    thumbnailUrl = serializers.SerializerMethodField()
    recordingUrl = serializers.SerializerMethodField()
    replayAccess = serializers.SerializerMethodField()
    accessType = serializers.CharField(source="access_type")
    price = serializers.DecimalField(
        max_digits=10, decimal_places=2, coerce_to_string=False, allow_null=True
    )
    durationGoal = serializers.IntegerField(source="duration_goal")
    isActiveReplayOnCreatorProfile = serializers.BooleanField(
        source="is_active_replay_on_creator_profile", allow_null=True
    )
    replayCreditPrice = serializers.IntegerField(source="replay_credit_price", allow_null=True)
    startedAt = ApiDateTimeField(source="started_at", allow_null=True)
    plannedStartDate = ApiDateTimeField(source="planned_start_date")
    endedAt = ApiDateTimeField(source="ended_at", allow_null=True)
    plannedEndDate = ApiDateTimeField(source="planned_end_date")
    createdAt = ApiDateTimeField(source="created_at")
    updatedAt = ApiDateTimeField(source="updated_at")
    fundingGoal = serializers.IntegerField(source="funding_goal")
    collectedFunding = serializers.IntegerField(source="collected_funding")
    fundingPercentage = serializers.IntegerField(source="funding_percentage")
    role = serializers.SerializerMethodField()
    miniCrowdFundings = NaiveMiniSerializer(source="mini_crowd_fundings", many=True)

    class Meta:
        model = LiveStream
        fields = CrowdfundedLiveStreamSerializer.Meta.fields  # the same keys, in order

    def _caller(self):
        return self.context["request"].user

    def get_thumbnailUrl(self, stream):
        return stream.thumbnail_url or settings.DEFAULT_THUMBNAIL_URL

    def get_recordingUrl(self, stream):
        access = replay_access_for(
            stream=stream,
            user=self._caller(),
            role=stream_role_for(stream=stream, user=self._caller()),
        )
        return stream.recording_url or None if access.can_view_recording else None

    def get_replayAccess(self, stream):
        access = replay_access_for(
            stream=stream,
            user=self._caller(),
            role=stream_role_for(stream=stream, user=self._caller()),
        )
        return ReplayAccessSerializer(access).data

    def get_role(self, stream):
        return stream_role_for(stream=stream, user=self._caller())


class NaiveFundedLiveStreamViewSet(FundedLiveStreamViewSet):
    serializer_class = NaiveLiveStreamSerializer

    def get_queryset(self):
        # The same filter and order as the endpoint, with its joins and prefetches dropped.
        return (
            funded_streams_for_user(user=self.request.user)
            .select_related(None)
            .prefetch_related(None)
        )
