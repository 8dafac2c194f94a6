"""`GET /api/v1/health`: can this app server reach its database and cache?

For load balancers and uptime checks: no authentication, no throttle, a cheap query and a
cache round trip. 200 with each dependency's state when all are up; 503 naming the ones down.
"""

import logging
import uuid

from django.core.cache import cache
from django.db import connections
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from allmine.api.envelope import error_messages
from allmine.api.middleware import RETRY_AFTER_SECONDS
from allmine.api.schema import envelope_responses

logger = logging.getLogger(__name__)

OK = "ok"
UNAVAILABLE = "unavailable"
# Named once in SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"] as `DependencyStateEnum`.
DEPENDENCY_STATES = [(OK, OK), (UNAVAILABLE, UNAVAILABLE)]


class HealthChecksSerializer(serializers.Serializer):
    database = serializers.ChoiceField(choices=DEPENDENCY_STATES)
    replica = serializers.ChoiceField(
        choices=DEPENDENCY_STATES, required=False, help_text="Only with a read replica."
    )
    cache = serializers.ChoiceField(choices=DEPENDENCY_STATES)


class HealthSerializer(serializers.Serializer):
    status = serializers.CharField(help_text='Always "ok" (a failing check answers 503).')
    checks = HealthChecksSerializer()


def database_is_up(alias: str = "default") -> bool:
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        logger.warning("Health check: database %s unreachable", alias, exc_info=True)
        return False


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
        summary="Database and cache reachability",
        description=(
            "No authentication and no throttle. 200 when the database and the cache answer; "
            "503 otherwise, with one entry in `errors` per dependency that is down "
            '(e.g. `"database: unavailable"`).'
        ),
        responses=envelope_responses(200, HealthSerializer, errors=(503,)),
        auth=[],
        tags=["Health"],
    )
    def get(self, request):
        checks = {"database": OK if database_is_up() else UNAVAILABLE}
        if "replica" in connections.settings:
            checks["replica"] = OK if database_is_up("replica") else UNAVAILABLE
        checks["cache"] = OK if cache_is_up() else UNAVAILABLE
        down = [name for name, state in checks.items() if state != OK]
        if down:
            details = [f"{name}: {UNAVAILABLE}" for name in down]
            return Response(
                error_messages(503, *details),
                status=status.HTTP_503_SERVICE_UNAVAILABLE,
                headers={"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"},
            )
        return Response({"status": OK, "checks": checks}, headers={"Cache-Control": "no-store"})
