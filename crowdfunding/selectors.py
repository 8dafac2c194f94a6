"""Reads of the crowdfunding app: the funded list and the stream object's rows."""

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from hashlib import blake2b
from importlib.util import find_spec
from pathlib import Path

import orjson
from django.conf import settings
from django.core.signals import setting_changed
from django.db.models import QuerySet
from django.dispatch import receiver
from django.utils import timezone

from allmine.api.errors import NotFound
from allmine.compiled import CompiledQuery
from crowdfunding.models import Contribution, MiniCrowdFunding
from livestreams.models import LiveStream
from livestreams.reminders import reminder_ids_armed
from livestreams.selectors import (
    GUEST_STREAM_SORTS,
    guest_streams_of,
    live_stream_rows,
    past_streams_of,
    rentals_clock,
    stream_parts,
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

    A slice is that page's `StreamReads` (five queries), `count()` one query:
    what the paginator and the funded list's serializer read, with no QuerySet built or
    compiled per request. `queryset` is the same list as a QuerySet of `LiveStream`.
    """

    def __init__(self, user: User):
        self.user = user

    def __getitem__(self, page: slice) -> "StreamReads":
        offset = page.start or 0
        rows = _FUNDED_PAGE.rows(user_id=self.user.pk, offset=offset, limit=page.stop - offset)
        return StreamReads(user=self.user, streams=rows)

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
    """A list of streams read lazily as rows, like `FundedStreams`: a slice is that page's
    `StreamReads` (five queries, four without a caller), `count()` one query.
    `page` and `ids` are the list's compiled page and id queries; `params` their parameters."""

    def __init__(self, *, user: User | None, page: CompiledQuery, ids: CompiledQuery, **params):
        self.user = user
        self._page, self._ids, self._params = page, ids, params

    def __getitem__(self, page: slice) -> "StreamReads":
        offset = page.start or 0
        rows = self._page.rows(offset=offset, limit=page.stop - offset, **self._params)
        return StreamReads(user=self.user, streams=rows)

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
) -> "StreamReads":
    """`upcoming_streams_of` that user, at most `limit`, as `user` sees them, with the
    caller's reminder state (six queries, four without a caller)."""
    rows = _UPCOMING.rows(user_id=user_id, since=since, until=until, limit=limit)
    return StreamReads(user=user, streams=rows, reminders=True)


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


# The modules that turn a page's rows into its body, and the setting the body shows: a deploy
# that changes any of them changes every tag (a client's held tag must not survive a new shape).
_BODY_MODULES = (
    "allmine.api.formats", "allmine.api.pagination", "crowdfunding.selectors",
    "crowdfunding.serializers", "livestreams.rules", "livestreams.selectors",
    "livestreams.serializers", "users.selectors", "users.serializers",
)  # fmt: skip


@cache
def _body_code() -> bytes:
    digest = blake2b(settings.DEFAULT_THUMBNAIL_URL.encode(), digest_size=16)
    for name in _BODY_MODULES:
        digest.update(Path(find_spec(name).origin).read_bytes())
    return digest.digest()


@receiver(setting_changed)
def _forget_body_code(*, setting: str, **kwargs) -> None:
    if setting == "DEFAULT_THUMBNAIL_URL":  # tests override it
        _body_code.cache_clear()


def _plain(value) -> str:
    """orjson's fallback for driver values it does not know (PostgreSQL's Decimal)."""
    return str(value)


class StreamReads:
    """What the read path's queries return for a page of streams, as the database driver
    returns it: the streams' tuples (`stream_values()`), their guests, broadcasters and the
    caller's rentals (`StreamParts`), their mini crowd fundings and, for the upcoming list,
    the caller's armed reminders. Four queries, five with a caller, six with reminders too;
    none but the streams' own when there are none.

    The body is a function of these values, the caller, the code that builds it and the clock
    (only through each rental's `seconds_left`), so `tag_source(now)` (all of them as bytes)
    identifies it exactly before anything is built: a conditional GET answers its 304 from
    the queries and a hash, and the 200 builds `rows(now)` from the same values."""

    def __init__(self, *, user: User | None, streams: list, reminders: bool = False):
        self.user = user
        self.streams = streams
        user_id = user.pk if user is not None else None
        ids = [values[0] for values in streams]
        self.parts = stream_parts(user_id=user_id, ids=ids) if ids else None
        self.minis = _MINIS.rows(ids=ids)
        self.reminded = (
            sorted(reminder_ids_armed(user=user, stream_ids=ids))
            if reminders and user is not None and ids
            else None
        )
        self._reminders = reminders

    def __len__(self) -> int:
        return len(self.streams)

    def tag_source(self, now: datetime, *extra) -> bytes:
        """The bytes that decide the body at `now` (plus `extra`: paging, totals)."""
        parts = self.parts
        values = [
            self.user.pk if self.user is not None else None,
            self._reminders,
            self.streams,
            self.minis,
            self.reminded,
            extra,
        ]
        if parts is not None:
            values += [parts.guests, parts.broadcasters, parts.rentals]
            values.append(rentals_clock(parts.rentals, now))
        return _body_code() + orjson.dumps(values, default=_plain)

    def rows(self, now: datetime) -> list[dict]:
        """The stream rows at `now`: `live_stream_rows` with each stream's
        `mini_crowd_fundings` (query tuples, oldest first) and, for the upcoming list,
        `is_reminder_active` (None for an anonymous caller)."""
        rows = live_stream_rows(
            user=self.user, stream_values=self.streams, parts=self.parts, now=now
        )
        minis = defaultdict(list)
        for values in self.minis:  # query tuples: `stream_id`, MINI_CROWD_FUNDING_FIELDS
            minis[values[0]].append(values)
        reminded = set(self.reminded or ())
        for row in rows:
            row["mini_crowd_fundings"] = minis.get(row["id"], [])
            if self._reminders:
                row["is_reminder_active"] = None if self.user is None else row["id"] in reminded
        return rows


def as_read(reads: StreamReads) -> StreamReads:
    """A page's slice as it is (`rows=` of the paginators: the slice is read already)."""
    return reads


def crowdfunded_stream_rows(*, user: User | None, stream_values: Sequence[Sequence]) -> list[dict]:
    """`StreamReads(...).rows(now)`: everything the whole stream object of API.md §3 shows,
    as `user` sees it. Four queries (three without a caller), whatever the number of streams."""
    return StreamReads(user=user, streams=stream_values).rows(timezone.now())


def stream_reads_for(*, user: User | None, stream_ids: Sequence[str]) -> StreamReads:
    """The `StreamReads` of these streams (deleted and unknown ids left out), in no order."""
    ids = list(dict.fromkeys(stream_ids))
    return StreamReads(user=user, streams=_STREAMS_BY_ID.rows(ids=ids))


def stream_objects_for(*, user: User | None, stream_ids: Sequence[str]) -> list[dict]:
    """The stream object of API.md §3 (as `user` sees it) for each id, in the given order.

    The one read path for every endpoint that returns streams. Deleted and unknown ids are
    left out. A fixed number of queries, whatever the number of ids.
    """
    from crowdfunding.serializers import CrowdfundedLiveStreamSerializer

    stream_ids = list(stream_ids)
    rows = stream_reads_for(user=user, stream_ids=stream_ids).rows(timezone.now())
    by_id = {row["id"]: row for row in rows}
    serializer = CrowdfundedLiveStreamSerializer()
    return [serializer.to_representation(by_id[pk]) for pk in stream_ids if pk in by_id]


def stream_read_for(*, user: User | None, stream_id: str) -> StreamReads:
    """The `StreamReads` of one stream; `NotFound` when deleted or unknown."""
    reads = stream_reads_for(user=user, stream_ids=[stream_id])
    if not reads:
        raise NotFound("Live stream not found")
    return reads


def stream_object_for(*, user: User | None, stream_id: str) -> dict:
    """One stream object (see `stream_objects_for`); `NotFound` when deleted or unknown."""
    objects = stream_objects_for(user=user, stream_ids=[stream_id])
    if not objects:
        raise NotFound("Live stream not found")
    return objects[0]
