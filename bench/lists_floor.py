"""The floors of the lists of API.md §11: the same bodies written the fastest straightforward
way (hand-written SQL, plain dicts, orjson; the stream objects by `bench.floor.stream_objects`),
behind the same middleware and JWT authentication as the endpoints. Benchmark only: they answer
what the benchmark sends (valid ids, tokens and paging), not every error the endpoints report."""

from datetime import timedelta

import orjson
from django.db import connection
from django.http import HttpResponse
from django.utils import timezone

from bench.floor import AUTH, STREAMS_SQL, _date, stream_objects

_SELECT = STREAMS_SQL.split(" WHERE ")[0]  # the stream, creator and photo columns and joins


def _taking_part(own: str, joined: str | None = None) -> str:
    """`s` is a stream the user (three `%s`: creator, guest, broadcaster) takes part in that
    meets the condition on the alias `x` (`own` in the creator's branch, `joined` in the guest's
    and broadcaster's; the same by default): the union of three branches, the condition in each,
    as the endpoint's query has it (each branch served by its own index, so the cost follows
    the user's streams, not the platform's; `creator = … OR id IN (…)` scans on a large set)."""
    joined = joined or own
    alive = "x.deleted_at IS NULL"
    return (
        "s.deleted_at IS NULL AND s.id IN ("
        f"SELECT x.id FROM livestreams_livestream x WHERE {alive} AND x.creator_id = %s"
        f" AND {own}"
        " UNION SELECT g.stream_id FROM livestreams_streamguest g"
        f" JOIN livestreams_livestream x ON x.id = g.stream_id WHERE {alive} AND g.user_id = %s"
        f" AND {joined}"
        " UNION SELECT b.stream_id FROM livestreams_broadcaster b"
        f" JOIN livestreams_livestream x ON x.id = b.stream_id WHERE {alive} AND b.user_id = %s"
        f" AND {joined})"
    )


# The window's two bounds are marks of their own in each branch: UPCOMING_SQL takes, per
# branch, the user and then since/until (see upcoming_floor).
_UPCOMING = (
    "(x.status IN ('active', 'preparing')"
    " OR (x.status = 'scheduled' AND x.planned_start_date >= %s AND x.planned_start_date <= %s))"
)
UPCOMING_SQL = (
    f"{_SELECT} WHERE {_taking_part(_UPCOMING)}"
    " ORDER BY CASE WHEN s.status = 'active' THEN 0 ELSE 1 END, s.planned_start_date, s.id"
    " LIMIT %s"
)
# The status compared as text in the joined branches, as the endpoint does (livestreams.
# selectors._status_is): otherwise SQLite walks the status index through every ended stream.
PAST = _taking_part("x.status = 'ended'", "CAST(x.status AS TEXT) = 'ended'")
PAST_SQL = (
    f"{_SELECT} WHERE {PAST} ORDER BY s.ended_at DESC NULLS LAST, s.id DESC LIMIT %s OFFSET %s"
)
PAST_COUNT_SQL = f"SELECT COUNT(*) FROM livestreams_livestream s WHERE {PAST}"
GUEST = (
    "s.deleted_at IS NULL"
    " AND s.id IN (SELECT stream_id FROM livestreams_streamguest WHERE user_id = %s)"
)
GUEST_SQL = (
    f"{_SELECT} WHERE {GUEST} ORDER BY s.created_at DESC NULLS LAST, s.id DESC LIMIT %s OFFSET %s"
)
GUEST_COUNT_SQL = f"SELECT COUNT(*) FROM livestreams_livestream s WHERE {GUEST}"
REMINDERS_SQL = (
    "SELECT stream_id FROM livestreams_reminder WHERE user_id = %s AND stream_id IN ({ids})"
    " AND status IN ('ARMED_ON_START', 'ARMED')"
)


def _caller(request):
    if "HTTP_AUTHORIZATION" not in request.META:
        return None
    user, _ = AUTH.authenticate(request)
    return user.pk


def _respond(data) -> HttpResponse:
    envelope = {
        "isSuccess": True,
        "statusCode": 200,
        "data": data,
        "errors": [],
        "timestamp": _date(timezone.now()),
    }
    return HttpResponse(orjson.dumps(envelope), content_type="application/json")


def bare_floor(request) -> HttpResponse:
    """The least any answer costs here: the same middleware and JWT check, no query, an empty
    304. A 304 of a list can cost no less than this, whatever computes its tag."""
    _caller(request)
    return HttpResponse(status=304)


def _user_exists(cursor, user_id: str) -> None:
    cursor.execute("SELECT 1 FROM users_user WHERE id = %s", [user_id])
    assert cursor.fetchone(), user_id


def upcoming_floor(request, user_id: str) -> HttpResponse:
    uid = _caller(request)
    limit = int(request.GET.get("limit", 10))
    now = timezone.now()
    adapt = connection.ops.adapt_datetimefield_value
    since = adapt(now - timedelta(minutes=int(request.GET.get("minutesBefore", 1440))))
    until = adapt(now + timedelta(minutes=int(request.GET.get("minutesAfter", 1440))))
    with connection.cursor() as cursor:
        _user_exists(cursor, user_id)
        branch = [user_id, since, until]
        cursor.execute(UPCOMING_SQL, [*branch, *branch, *branch, limit])
        streams = cursor.fetchall()
        data = stream_objects(cursor, streams, uid, now)
        reminded = set()
        if uid is not None and streams:
            ids = [r[0] for r in streams]
            marks = ", ".join(["%s"] * len(ids))
            cursor.execute(REMINDERS_SQL.format(ids=marks), [uid, *ids])
            reminded = {r[0] for r in cursor.fetchall()}
    for item in data:
        item["isReminderActive"] = None if uid is None else item["id"] in reminded
    return _respond(data)


def _page(cursor, sql: str, count_sql: str, params: list, request, uid) -> dict:
    page = int(request.GET.get("page", 1))
    limit = int(request.GET.get("limit", 10))
    cursor.execute(sql, [*params, limit, (page - 1) * limit])
    streams = cursor.fetchall()
    if page == 1 and len(streams) < limit:
        total = len(streams)
    else:
        cursor.execute(count_sql, params)
        total = cursor.fetchone()[0]
    total_pages = -(-total // limit)
    return {
        "list": stream_objects(cursor, streams, uid, timezone.now()),
        "pagination": {
            "currentPage": page,
            "totalPages": total_pages,
            "totalItems": total,
            "itemsPerPage": limit,
            "hasNextPage": page < total_pages,
            "hasPrevPage": page > 1,
        },
    }


def past_floor(request, user_id: str) -> HttpResponse:
    uid = _caller(request)
    with connection.cursor() as cursor:
        _user_exists(cursor, user_id)
        params = [user_id, user_id, user_id]
        return _respond(_page(cursor, PAST_SQL, PAST_COUNT_SQL, params, request, uid))


def my_past_floor(request) -> HttpResponse:
    uid = _caller(request)
    with connection.cursor() as cursor:
        return _respond(_page(cursor, PAST_SQL, PAST_COUNT_SQL, [uid, uid, uid], request, uid))


def guest_floor(request) -> HttpResponse:
    uid = _caller(request)
    with connection.cursor() as cursor:
        return _respond(_page(cursor, GUEST_SQL, GUEST_COUNT_SQL, [uid], request, uid))
