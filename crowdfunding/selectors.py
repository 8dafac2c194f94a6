"""Reads of the crowdfunding app: the funded list and the stream object's rows."""

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from django.db.models import QuerySet

from allmine.api.errors import NotFound
from allmine.compiled import CompiledQuery
from crowdfunding.models import Contribution, MiniCrowdFunding
from livestreams.models import LiveStream
from livestreams.selectors import (
    GUEST_STREAM_SORTS,
    guest_streams_of,
    live_stream_rows,
    past_streams_of,
    stream_values,
    upcoming_streams_of,
)
from users.models import User

MINI_CROWD_FUNDING_FIELDS = ("id", "title", "goal", "collected", "status", "created_at",
                             "updated_at")  # fmt: skip


def _funded_streams(user_id: str) -> QuerySet[LiveStream]:
    """The funded list as a QuerySet (see `funded_streams_for_user`)."""
    funded_ids = Contribution.objects.filter(
        user_id=user_id,
        status=Contribution.Status.COMPLETED,
        stream__status=LiveStream.Status.SCHEDULED,
        stream__deleted_at__isnull=True,
    ).values("stream_id")
    return LiveStream.objects.alive().filter(pk__in=funded_ids).order_by("planned_start_date", "id")


class FundedStreams:
    """The streams a user has funded (see `funded_streams_for_user`), read lazily and as rows.

    A slice is that page of `crowdfunded_stream_rows` (five queries), `count()` one query:
    what the paginator and the funded list's serializer read, with no QuerySet built or
    compiled per request. `queryset` is the same list as a QuerySet of `LiveStream`.
    """

    def __init__(self, user: User):
        self.user = user

    def __getitem__(self, page: slice) -> list[dict]:
        offset = page.start or 0
        rows = _FUNDED_PAGE.rows(user_id=self.user.pk, offset=offset, limit=page.stop - offset)
        return crowdfunded_stream_rows(user=self.user, stream_values=rows)

    def count(self) -> int:
        return _FUNDED_IDS.count(user_id=self.user.pk)

    @property
    def queryset(self) -> QuerySet[LiveStream]:
        return _funded_streams(self.user.pk)


def funded_streams_for_user(*, user: User) -> FundedStreams:
    """Scheduled, not deleted streams the user has at least one completed contribution to,
    soonest `plannedStartDate` first, then id.

    Every condition sits in the subquery, which the (user, status, stream) index serves, so
    the streams are then fetched by primary key and the cost follows the user's contributions,
    not the size of the platform. (With `status` on the outer query instead, SQLite walks the
    (status, planned_start_date) index through every scheduled stream of the platform to save
    a sort; see BENCHMARKS.md.)
    """
    return FundedStreams(user)


_FUNDED_PAGE = CompiledQuery(
    lambda user_id: stream_values(_funded_streams(user_id)), model=LiveStream, convert=False
)
_FUNDED_IDS = CompiledQuery(
    lambda user_id: _funded_streams(user_id).order_by().values_list("pk"), model=LiveStream
)
_STREAMS_BY_ID = CompiledQuery(
    lambda ids: stream_values(LiveStream.objects.alive().filter(pk__in=ids)),
    model=LiveStream,
    convert=False,
)
_MINIS = CompiledQuery(
    lambda ids: (
        MiniCrowdFunding.objects.filter(stream_id__in=ids)
        .order_by("created_at", "id")
        .values_list("stream_id", *MINI_CROWD_FUNDING_FIELDS)
    ),
    model=MiniCrowdFunding,
    convert=False,
)


class StreamRows:
    """A list of streams read lazily as rows, like `FundedStreams`: a slice is that page of
    `crowdfunded_stream_rows` (five queries, four without a caller), `count()` one query.
    `page` and `ids` are the list's compiled page and id queries; `params` their parameters."""

    def __init__(self, *, user: User | None, page: CompiledQuery, ids: CompiledQuery, **params):
        self.user = user
        self._page, self._ids, self._params = page, ids, params

    def __getitem__(self, page: slice) -> list[dict]:
        offset = page.start or 0
        rows = self._page.rows(offset=offset, limit=page.stop - offset, **self._params)
        return crowdfunded_stream_rows(user=self.user, stream_values=rows)

    def count(self) -> int:
        return self._ids.count(**self._params)


def _compiled_list(build) -> tuple[CompiledQuery, CompiledQuery]:
    """The page query (`stream_values`) and the id query (for counting) of a list."""
    page = CompiledQuery(lambda **p: stream_values(build(**p)), model=LiveStream, convert=False)
    ids = CompiledQuery(
        lambda **p: build(**p).order_by().values_list("pk"), model=LiveStream, convert=False
    )
    return page, ids


_UPCOMING = CompiledQuery(
    lambda **p: stream_values(upcoming_streams_of(**p)), model=LiveStream, convert=False
)
_PAST = _compiled_list(past_streams_of)


def _guest_list(sort_by: str, descending: bool) -> tuple[CompiledQuery, CompiledQuery]:
    def build(user_id, status=None):
        return guest_streams_of(
            user_id=user_id, status=status, sort_by=sort_by, descending=descending
        )

    return _compiled_list(build)


_GUEST = {
    (sort_by, descending): _guest_list(sort_by, descending)
    for sort_by in GUEST_STREAM_SORTS
    for descending in (False, True)
}


def upcoming_streams_for(
    *, user: User | None, user_id: str, since: datetime, until: datetime, limit: int
) -> list[dict]:
    """`upcoming_streams_of` that user, at most `limit`, as stream rows `user` sees."""
    rows = _UPCOMING.rows(user_id=user_id, since=since, until=until, limit=limit)
    return crowdfunded_stream_rows(user=user, stream_values=rows)


def past_streams_for(*, user: User | None, user_id: str) -> StreamRows:
    """`past_streams_of` that user, as stream rows `user` sees (sliced into pages)."""
    page, ids = _PAST
    return StreamRows(user=user, page=page, ids=ids, user_id=user_id)


def guest_streams_for(
    *, user: User, status: str | None, sort_by: str, descending: bool
) -> StreamRows:
    """`guest_streams_of` the caller, as stream rows they see (sliced into pages)."""
    page, ids = _GUEST[sort_by, descending]
    params = {"user_id": user.pk} if status is None else {"user_id": user.pk, "status": status}
    return StreamRows(user=user, page=page, ids=ids, **params)


def mini_crowd_funding_row(mini: MiniCrowdFunding) -> dict:
    """A mini crowd funding just written, as the row its serializer reads."""
    return {name: getattr(mini, name) for name in MINI_CROWD_FUNDING_FIELDS}


def crowdfunded_stream_rows(*, user: User | None, stream_values: Sequence[Sequence]) -> list[dict]:
    """`live_stream_rows` with each stream's `mini_crowd_fundings` rows, oldest first:
    everything the whole stream object of API.md §3 shows, as `user` sees it. Four queries
    (three without a caller), whatever the number of streams."""
    rows = live_stream_rows(user=user, stream_values=stream_values)
    minis = defaultdict(list)
    for stream_id, *values in _MINIS.rows(ids=[row["id"] for row in rows]):
        minis[stream_id].append(dict(zip(MINI_CROWD_FUNDING_FIELDS, values, strict=True)))
    for row in rows:
        row["mini_crowd_fundings"] = minis.get(row["id"], [])
    return rows


def stream_objects_for(*, user: User | None, stream_ids: Sequence[str]) -> list[dict]:
    """The stream object of API.md §3 (as `user` sees it) for each id, in the given order.

    The one read path for every endpoint that returns streams. Deleted and unknown ids are
    left out. A fixed number of queries, whatever the number of ids.
    """
    from crowdfunding.serializers import CrowdfundedLiveStreamSerializer

    stream_ids = list(stream_ids)
    rows = crowdfunded_stream_rows(
        user=user, stream_values=_STREAMS_BY_ID.rows(ids=list(dict.fromkeys(stream_ids)))
    )
    by_id = {row["id"]: row for row in rows}
    serializer = CrowdfundedLiveStreamSerializer()
    return [serializer.to_representation(by_id[pk]) for pk in stream_ids if pk in by_id]


def stream_object_for(*, user: User | None, stream_id: str) -> dict:
    """One stream object (see `stream_objects_for`); `NotFound` when deleted or unknown."""
    objects = stream_objects_for(user=user, stream_ids=[stream_id])
    if not objects:
        raise NotFound("Live stream not found")
    return objects[0]
