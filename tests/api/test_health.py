"""GET /api/v1/health: dependency reachability in the envelope, for load balancers; the job
queue's progress (tests/jobs/test_health_queue.py has the stalled queue)."""

import re
from unittest import mock

import pytest
from django.db import OperationalError, connection, connections
from django.test.utils import override_settings
from django.utils import timezone

from allmine.db_router import ReplicaState
from allmine.jobs.clock import heartbeat

URL = "/api/v1/health"
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def a_worker_is_running():
    heartbeat("worker-1", timezone.now())


def test_all_up_is_200_envelope(api_client):
    response = api_client.get(URL)

    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["isSuccess", "statusCode", "data", "errors", "timestamp"]
    assert body["isSuccess"] is True
    assert body["statusCode"] == 200
    assert body["data"] == {
        "status": "ok",
        "checks": {"database": "ok", "cache": "ok", "queue": "ok"},
        "queueDelaySeconds": None,
        "queueWorkers": 1,
    }
    assert body["errors"] == []
    assert DATE_RE.match(body["timestamp"])
    assert response["Cache-Control"] == "no-store"


def test_needs_no_token_and_ignores_a_bad_one(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-jwt")

    response = api_client.get(URL)

    assert response.status_code == 200


def test_database_down_is_503(api_client):
    with mock.patch(
        "django.db.backends.base.base.BaseDatabaseWrapper.cursor",
        side_effect=OperationalError("connection refused"),
    ):
        response = api_client.get(URL)

    assert response.status_code == 503
    body = response.json()
    assert body["isSuccess"] is False
    assert body["statusCode"] == 503
    assert body["data"] is None
    assert body["errors"] == ["Service unavailable", "database: unavailable"]
    assert response["Retry-After"] == "5"
    assert "connection refused" not in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_database_that_refuses_writes_is_503_read_only(api_client):
    # A real read-only connection on either engine: reads work, any write fails.
    read_only, read_write = {
        "sqlite": ("PRAGMA query_only = ON", "PRAGMA query_only = OFF"),
        "postgresql": (
            "SET default_transaction_read_only = on",
            "SET default_transaction_read_only = off",
        ),
    }[connection.vendor]
    with connection.cursor() as cursor:
        cursor.execute(read_only)
    try:
        refused = api_client.get(URL)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(read_write)
    restored = api_client.get(URL)

    assert refused.status_code == 503
    assert refused.json()["errors"] == ["Service unavailable", "database: read_only"]
    assert refused["Retry-After"] == "5"
    assert restored.status_code == 200
    assert restored.json()["data"]["checks"]["database"] == "ok"


def test_cache_down_is_503(api_client):
    with mock.patch("allmine.api.health.cache.set", side_effect=ConnectionError("redis down")):
        response = api_client.get(URL)

    assert response.status_code == 503
    assert response.json()["errors"] == ["Service unavailable", "cache: unavailable"]


def test_both_down_names_both(api_client):
    with (
        mock.patch("allmine.api.health.database_is_up", return_value=False),
        mock.patch("allmine.api.health.cache_is_up", return_value=False),
    ):
        response = api_client.get(URL)

    assert response.status_code == 503
    assert response.json()["errors"] == [
        "Service unavailable",
        "database: unavailable",
        "cache: unavailable",
    ]


def test_is_never_throttled(api_client):
    # Every rate-limited view answers 429 while throttles refuse everything; health does not.
    throttle = "allmine.api.throttling.FixedWindowThrottle"
    with (
        mock.patch(f"{throttle}.allow_request", return_value=False),
        mock.patch(f"{throttle}.wait", return_value=60),
    ):
        login = api_client.post("/api/v1/auth/login", {}, format="json")
        statuses = {api_client.get(URL).status_code for _ in range(5)}

    assert login.status_code == 429
    assert statuses == {200}


def test_only_get(api_client):
    response = api_client.post(URL, {}, format="json")

    assert response.status_code == 405
    assert response.json()["errors"][0] == "Method not allowed"


def test_exempt_from_https_redirect(api_client):
    with override_settings(SECURE_SSL_REDIRECT=True):
        health = api_client.get(URL)
        other = api_client.get("/api/v1/live-stream/funded")

    assert health.status_code == 200
    assert other.status_code == 301


def test_in_the_openapi_schema(api_client):
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    operation = response.json()["paths"]["/api/v1/health"]["get"]
    assert operation["operationId"] == "health"
    assert set(operation["responses"]) == {"200", "400", "405", "406", "500", "503"}
    assert operation.get("security") in ([], [{}], None)


class TestWithAReadReplica:
    """The replica is not needed to serve (reads fall back to the primary): 200, degraded."""

    @pytest.fixture(autouse=True)
    def replica(self):
        replica = {**connections.settings["default"], "TEST": {"MIRROR": "default"}}
        with mock.patch.dict(connections.settings, {"replica": replica}):
            yield

    def state(self, state, lag):
        return mock.patch(
            "allmine.api.health.replica_state", return_value=ReplicaState(state, lag, 1, 0.0)
        )

    def test_a_streaming_replica_is_ok(self, api_client):
        with self.state("ok", 0.0):
            response = api_client.get(URL)

        assert response.status_code == 200
        assert response.json()["data"] == {
            "status": "ok",
            "checks": {"database": "ok", "replica": "ok", "cache": "ok", "queue": "ok"},
            "queueDelaySeconds": None,
            "queueWorkers": 1,
            "replicaLagSeconds": 0.0,
        }

    @pytest.mark.parametrize(("state", "lag"), [("lagging", 12.5), ("unavailable", None)])
    def test_a_lagging_or_unreachable_replica_is_degraded_not_down(self, api_client, state, lag):
        with self.state(state, lag):
            response = api_client.get(URL)

        assert response.status_code == 200
        assert response.json()["data"] == {
            "status": "degraded",
            "checks": {"database": "ok", "replica": state, "cache": "ok", "queue": "ok"},
            "queueDelaySeconds": None,
            "queueWorkers": 1,
            "replicaLagSeconds": lag,
        }

    def test_the_primary_down_is_still_503(self, api_client):
        with (
            self.state("unavailable", None),
            mock.patch("allmine.api.health.database_is_up", return_value=False),
        ):
            response = api_client.get(URL)

        assert response.status_code == 503
        assert response.json()["errors"] == ["Service unavailable", "database: unavailable"]
