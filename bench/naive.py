"""The naive funded list: the real serializers' declarations walked field by field by DRF,
over model instances read lazily (no joins, no prefetching, one query per relation and row).

The baseline the benchmark measures side by side with the endpoint, in the same process and on
the same data: the same declared fields (nothing copied: `walked()` rebuilds each real
serializer with DRF's generic `to_representation`), the same filter, order, paging and
renderer, and the instance-based role and replay rules the services use. The benchmark checks
its body equals the endpoint's.
"""

from django.conf import settings
from rest_framework import mixins, serializers

from crowdfunding.selectors import funded_streams_for_user
from crowdfunding.serializers import CrowdfundedLiveStreamSerializer
from crowdfunding.views import FundedLiveStreamViewSet
from livestreams.selectors import replay_access_for, stream_role_for
from livestreams.serializers import ReplayAccessSerializer


def walked(serializer_class: type[serializers.Serializer]) -> type[serializers.Serializer]:
    """`serializer_class` with its own declared fields, nested serializers included, rendered
    by DRF's generic field walk instead of its hand-built `to_representation`."""
    nested = {}
    for name, field in serializer_class._declared_fields.items():
        if isinstance(field, serializers.ListSerializer):
            kwargs = {key: value for key, value in field._kwargs.items() if key != "child"}
            nested[name] = walked(type(field.child))(many=True, **kwargs)
        elif isinstance(field, serializers.BaseSerializer):
            nested[name] = walked(type(field))(*field._args, **field._kwargs)
    return type(
        f"Walked{serializer_class.__name__}",
        (serializer_class,),
        {**nested, "to_representation": serializers.Serializer.to_representation},
    )


WalkedReplayAccessSerializer = walked(ReplayAccessSerializer)


class NaiveLiveStreamSerializer(walked(CrowdfundedLiveStreamSerializer)):
    # The four fields a stream instance has no attribute for, from the instance-based rules.
    thumbnailUrl = serializers.SerializerMethodField()
    recordingUrl = serializers.SerializerMethodField()
    replayAccess = serializers.SerializerMethodField()
    role = serializers.SerializerMethodField()

    def _access(self, stream):
        return replay_access_for(stream=stream, user=self.context["request"].user)

    def get_thumbnailUrl(self, stream):
        return stream.thumbnail_url or settings.DEFAULT_THUMBNAIL_URL

    def get_recordingUrl(self, stream):
        return (stream.recording_url or None) if self._access(stream).can_view_recording else None

    def get_replayAccess(self, stream):
        return WalkedReplayAccessSerializer(self._access(stream)).data

    def get_role(self, stream):
        return stream_role_for(stream=stream, user=self.context["request"].user)


class NaiveFundedLiveStreamViewSet(FundedLiveStreamViewSet):
    serializer_class = NaiveLiveStreamSerializer

    def get_queryset(self):
        return funded_streams_for_user(user=self.request.user).queryset

    def list(self, request, *args, **kwargs):
        return mixins.ListModelMixin.list(self, request, *args, **kwargs)
