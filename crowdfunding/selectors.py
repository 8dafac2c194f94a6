"""Reads of the crowdfunding app: the funded list and the stream object's rows."""

from collections import defaultdict
from collections.abc import Sequence

from django.db.models import QuerySet

from allmine.api.errors import NotFound
from crowdfunding.models import Contribution, MiniCrowdFunding
from livestreams.models import LiveStream
from livestreams.selectors import live_stream_rows
from users.models import User

MINI_CROWD_FUNDING_FIELDS = ("id", "title", "goal", "collected", "status", "created_at",
                             "updated_at")  # fmt: skip


def funded_streams_for_user(*, user: User) -> QuerySet[LiveStream]:
    """Scheduled, not deleted streams the user has at least one completed contribution to.

    Soonest `plannedStartDate` first, then id; no joins (`crowdfunded_stream_rows` reads a page
    of it). Every condition sits in the subquery, which the (user, status, stream) index serves,
    so the streams are then fetched by primary key and the cost follows the user's
    contributions, not the size of the platform. (With `status` on the outer query instead,
    SQLite walks the (status, planned_start_date) index through every scheduled stream of the
    platform to save a sort; see BENCHMARKS.md.)
    """
    funded_ids = Contribution.objects.filter(
        user=user,
        status=Contribution.Status.COMPLETED,
        stream__status=LiveStream.Status.SCHEDULED,
        stream__deleted_at__isnull=True,
    ).values("stream_id")
    return LiveStream.objects.alive().filter(pk__in=funded_ids).order_by("planned_start_date", "id")


def crowdfunded_stream_rows(*, user: User | None, streams: QuerySet[LiveStream]) -> list[dict]:
    """`live_stream_rows` of `streams` (in its order, may be sliced) with each stream's
    `mini_crowd_fundings` rows, oldest first: everything the whole stream object of API.md §3
    shows, as `user` sees it. Five queries (four without a caller), whatever the number."""
    rows = live_stream_rows(user=user, streams=streams)
    if not rows:
        return rows
    minis = defaultdict(list)
    for mini in (
        MiniCrowdFunding.objects.filter(stream_id__in=[row["id"] for row in rows])
        .order_by("created_at", "id")
        .values("stream_id", *MINI_CROWD_FUNDING_FIELDS)
    ):
        minis[mini.pop("stream_id")].append(mini)
    for row in rows:
        row["mini_crowd_fundings"] = minis.get(row["id"], [])
    return rows


def stream_objects_for(*, user: User | None, stream_ids: Sequence[str]) -> list[dict]:
    """The stream object of API.md §3 (as `user` sees it) for each id, in the given order.

    The one read path for every endpoint that returns streams. Deleted and unknown ids are
    left out. A fixed number of queries, whatever the number of ids.
    """
    from crowdfunding.serializers import CrowdfundedLiveStreamSerializer

    streams = LiveStream.objects.alive().filter(pk__in=list(stream_ids))
    by_id = {row["id"]: row for row in crowdfunded_stream_rows(user=user, streams=streams)}
    serializer = CrowdfundedLiveStreamSerializer()
    return [serializer.to_representation(by_id[pk]) for pk in stream_ids if pk in by_id]


def stream_object_for(*, user: User | None, stream_id: str) -> dict:
    """One stream object (see `stream_objects_for`); `NotFound` when deleted or unknown."""
    objects = stream_objects_for(user=user, stream_ids=[stream_id])
    if not objects:
        raise NotFound("Live stream not found")
    return objects[0]
