"""Reads of the crowdfunding app."""

from collections.abc import Sequence

from django.db.models import Prefetch, QuerySet

from allmine.api.errors import NotFound
from crowdfunding.models import Contribution, MiniCrowdFunding
from livestreams.models import LiveStream
from livestreams.selectors import live_streams_with_details
from users.models import User


def crowdfunded_streams_with_details(*, user: User | None) -> QuerySet[LiveStream]:
    """Streams with every join the full stream object needs, mini crowd fundings included."""
    return live_streams_with_details(user=user).prefetch_related(
        Prefetch(
            "mini_crowd_fundings", queryset=MiniCrowdFunding.objects.order_by("created_at", "id")
        )
    )


def funded_streams_for_user(*, user: User) -> QuerySet[LiveStream]:
    """Scheduled, not deleted streams the user has at least one completed contribution to.

    Soonest `plannedStartDate` first, then id. Every condition sits in the subquery, which the
    (user, status, stream) index serves, so the streams are then fetched by primary key and the
    cost follows the user's contributions, not the size of the platform. (With `status` on the
    outer query instead, SQLite walks the (status, planned_start_date) index through every
    scheduled stream of the platform to save a sort; see BENCHMARKS.md.)
    """
    funded_ids = Contribution.objects.filter(
        user=user,
        status=Contribution.Status.COMPLETED,
        stream__status=LiveStream.Status.SCHEDULED,
        stream__deleted_at__isnull=True,
    ).values("stream_id")
    return crowdfunded_streams_with_details(user=user).filter(pk__in=funded_ids)


def stream_objects_for(*, user: User | None, stream_ids: Sequence[str]) -> list[dict]:
    """The stream object of API.md §3 (as `user` sees it) for each id, in the given order.

    The one read path for every endpoint that returns streams. Deleted and unknown ids are
    left out. A fixed number of queries, whatever the number of ids.
    """
    from crowdfunding.serializers import CrowdfundedLiveStreamSerializer

    by_id = {
        stream.pk: stream
        for stream in crowdfunded_streams_with_details(user=user).filter(pk__in=list(stream_ids))
    }
    context = {"caller": user}
    return [
        CrowdfundedLiveStreamSerializer(by_id[pk], context=context).data
        for pk in stream_ids
        if pk in by_id
    ]


def stream_object_for(*, user: User | None, stream_id: str) -> dict:
    """One stream object (see `stream_objects_for`); `NotFound` when deleted or unknown."""
    objects = stream_objects_for(user=user, stream_ids=[stream_id])
    if not objects:
        raise NotFound("Live stream not found")
    return objects[0]
