"""Read replicas: only reads of safe requests go to the replica; writes, unsafe requests and
transactions stay on the primary."""

from unittest import mock

import pytest
from django.db import connections
from django.test import RequestFactory

from allmine.db_router import PrimaryReplicaRouter, ReplicaReadsMiddleware
from tests.api.test_settings import settings_of
from users.models import User

router = PrimaryReplicaRouter()


@pytest.fixture
def with_replica():
    replica = {**connections.settings["default"], "TEST": {"MIRROR": "default"}}
    with mock.patch.dict(connections.settings, {"replica": replica}):
        yield


def read_db_during(method: str) -> str:
    seen = []

    def view(request):
        seen.append(router.db_for_read(User))
        return mock.Mock()

    ReplicaReadsMiddleware(view)(getattr(RequestFactory(), method.lower())("/api/v1/x"))
    return seen[0]


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS"])
def test_safe_requests_read_from_the_replica(with_replica, method):
    assert read_db_during(method) == "replica"


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_unsafe_requests_read_from_the_primary(with_replica, method):
    assert read_db_during(method) == "default"


def test_outside_a_request_reads_from_the_primary(with_replica):
    assert router.db_for_read(User) == "default"


def test_inside_a_transaction_reads_from_the_primary(with_replica):
    seen = []

    def view(request):
        with mock.patch.object(connections["default"], "in_atomic_block", True):
            seen.append(router.db_for_read(User))
        seen.append(router.db_for_read(User))
        return mock.Mock()

    ReplicaReadsMiddleware(view)(RequestFactory().get("/"))

    assert seen == ["default", "replica"]


def test_without_a_replica_everything_is_the_primary():
    assert read_db_during("GET") == "default"


def test_writes_and_migrations_go_to_the_primary(with_replica):
    assert router.db_for_write(User) == "default"
    assert router.allow_migrate("default", "users") is True
    assert router.allow_migrate("replica", "users") is False


def test_settings_add_the_replica_router_and_middleware():
    values = settings_of(
        ["DATABASES", "DATABASE_ROUTERS", "MIDDLEWARE"],
        DATABASE_URL="postgres://app:pw@primary.internal:5432/allmine",
        DATABASE_REPLICA_URL="postgres://app:pw@replica.internal:5432/allmine",
    )

    assert values["DATABASES"]["replica"]["HOST"] == "replica.internal"
    assert values["DATABASES"]["replica"]["TEST"]["MIRROR"] == "default"
    assert values["DATABASES"]["replica"]["CONN_HEALTH_CHECKS"] is True
    assert values["DATABASE_ROUTERS"] == ["allmine.db_router.PrimaryReplicaRouter"]
    assert values["MIDDLEWARE"][1] == "allmine.db_router.ReplicaReadsMiddleware"
