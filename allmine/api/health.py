"""`GET /api/v1/health`: can this app server reach its database and cache?

For load balancers and uptime checks: no authentication, no throttle, a cheap query, a write
that changes nothing and is rolled back, and a cache round trip. 200 with each dependency's
state when all are up; 503 naming the ones down (`database: read_only` when it answers but
refuses writes). A read replica is not a dependency the service needs: when it is unreachable
or lags, reads use the primary (allmine/db_router.py), so health stays 200 and reports
`"status": "degraded"`. So does a job queue that has not moved for QUEUE_STALL_SECONDS (no
live worker, or a due job waiting that long; allmine/jobs/selectors.py): requests are served,
but the clock (expiry, payouts, settlement, reminders) is late.
"""

import logging
import uuid

from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import DatabaseError, connections, transaction
from django.db.models import F
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from allmine.api.envelope import error_messages
from allmine.api.middleware import RETRY_AFTER_SECONDS
from allmine.api.schema import envelope_responses
from allmine.db_router import LAGGING, replica_configured, replica_state
from allmine.jobs.selectors import STALLED, QueueState, queue_state

logger = logging.getLogger(__name__)

OK = "ok"
UNAVAILABLE = "unavailable"
READ_ONLY = "read_only"  # only in 503 answers: reachable, but a write fails
# Named once in SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"] as `DependencyStateEnum`.
DEPENDENCY_STATES = [(OK, OK), (UNAVAILABLE, UNAVAILABLE)]
# `ReplicaStateEnum`: a lagging replica is not read from either.
REPLICA_STATES = [(OK, OK), (LAGGING, LAGGING), (UNAVAILABLE, UNAVAILABLE)]
# `QueueStateEnum`.
QUEUE_STATES = [(OK, OK), (STALLED, STALLED)]
DEGRADED = "degraded"


class HealthChecksSerializer(serializers.Serializer):
    database = serializers.ChoiceField(choices=DEPENDENCY_STATES)
    replica = serializers.ChoiceField(
        choices=REPLICA_STATES,
        required=False,
        help_text=(
            "Only with a read replica. `lagging`: behind the primary by more than the allowed "
            "lag, or not streaming; reads then use the primary, as when `unavailable`."
        ),
    )
    cache = serializers.ChoiceField(choices=DEPENDENCY_STATES)
    queue = serializers.ChoiceField(
        choices=QUEUE_STATES,
        help_text=(
            "The job queue: `stalled` when the oldest due job has waited longer than "
            "QUEUE_STALL_SECONDS, or no worker has sent a heartbeat for that long while work is "
            "due (periodic jobs always are)."
        ),
    )


class HealthSerializer(serializers.Serializer):
    status = serializers.CharField(
        help_text=(
            '"ok", or "degraded" when the read replica is lagging or unavailable (the service '
            "works, reading from the primary) or the job queue is stalled (the service works, "
            "its clock is late). A failing database or cache answers 503."
        )
    )
    checks = HealthChecksSerializer()
    queueDelaySeconds = serializers.FloatField(
        allow_null=True,
        help_text="How long the oldest due job has waited to be run; null when none is due.",
    )
    queueWorkers = serializers.IntegerField(
        help_text="Job workers that sent a heartbeat within QUEUE_STALL_SECONDS."
    )
    replicaLagSeconds = serializers.FloatField(
        required=False,
        allow_null=True,
        help_text="Only with a read replica: its replay lag; null when it cannot be measured.",
    )


def database_is_up(alias: str = "default") -> bool:
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        logger.warning("Health check: database %s unreachable", alias, exc_info=True)
        return False


def database_is_writable(alias: str = "default") -> bool:
    """A write that changes nothing, rolled back: fails on a read-only SQLite file, a
    PostgreSQL standby or read-only transaction, or a role that lost its write privileges.
    (Sessions: a table the app writes on every engine; the UPDATE matches no row.)"""
    try:
        with transaction.atomic(using=alias):
            Session.objects.using(alias).filter(session_key="").update(expire_date=F("expire_date"))
            transaction.set_rollback(True, using=alias)
        return True
    except Exception:
        logger.warning("Health check: database %s cannot be written", alias, exc_info=True)
        return False


def database_state(alias: str = "default", *, writable: bool = True) -> str:
    if not database_is_up(alias):
        return UNAVAILABLE
    if writable and not database_is_writable(alias):
        return READ_ONLY
    return OK


def cache_is_up() -> bool:
    key = f"health:{uuid.uuid4().hex}"
    try:
        cache.set(key, OK, timeout=10)
        ok = cache.get(key) == OK
        cache.delete(key)
        return ok
    except Exception:
        logger.warning("Health check: cache unreachable", exc_info=True)
        return False


class HealthView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []

    @extend_schema(
        operation_id="health",
        summary="Database and cache reachability, job queue progress",
        description=(
            "No authentication and no throttle. 200 when the database answers and takes "
            "writes and the cache answers; 503 otherwise, with one entry in `errors` per "
            'dependency that is down (`"database: unavailable"`, `"database: read_only"`, '
            '`"cache: unavailable"`). A lagging or unavailable read replica, or a stalled job '
            'queue, is not an outage: 200 with `"status": "degraded"`.'
        ),
        responses=envelope_responses(200, HealthSerializer, errors=(503,)),
        auth=[],
        tags=["Health"],
    )
    def get(self, request):
        checks = {"database": database_state()}
        replica = replica_state() if replica_configured() else None  # the router's view
        if replica is not None:
            checks["replica"] = replica.state
        checks["cache"] = OK if cache_is_up() else UNAVAILABLE
        down = [name for name in ("database", "cache") if checks[name] != OK]
        if down:
            details = [f"{name}: {checks[name]}" for name in down]
            return Response(
                error_messages(503, *details),
                status=status.HTTP_503_SERVICE_UNAVAILABLE,
                headers={"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"},
            )
        try:
            queue = queue_state()
        except DatabaseError:  # e.g. the job tables not migrated yet: not known to be moving
            logger.warning("Health check: job queue unreadable", exc_info=True)
            queue = QueueState(STALLED, None, 0)
        checks["queue"] = queue.state
        degraded = queue.state != OK or (replica is not None and not replica.usable)
        data = {
            "status": DEGRADED if degraded else OK,
            "checks": checks,
            "queueDelaySeconds": queue.delay_seconds,
            "queueWorkers": queue.workers,
        }
        if replica is not None:
            data["replicaLagSeconds"] = replica.lag_seconds
        return Response(data, headers={"Cache-Control": "no-store"})
