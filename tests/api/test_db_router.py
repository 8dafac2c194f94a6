"""Read replicas: which database each read goes to (the replica's state stubbed; the real
standby is exercised in tests/replica/)."""

from unittest import mock

import pytest
from django.core.cache import cache
from django.db import OperationalError, connections
from django.http import HttpResponse
from django.test import RequestFactory

from allmine import db_router
from allmine.db_router import (
    LAGGING,
    OK,
    UNAVAILABLE,
    PrimaryReplicaRouter,
    ReplicaReadsMiddleware,
    ReplicaState,
)
from tests.api.test_settings import settings_of
from users.models import User

router = PrimaryReplicaRouter()
connected_to_replica = db_router._connected_to_replica  # stubbed by `with_replica`
REPLAYED = 1000  # the stubbed replica's replay position


@pytest.fixture
def with_replica():
    replica = {**connections.settings["default"], "TEST": {"MIRROR": "default"}}
    with (
        mock.patch.dict(connections.settings, {"replica": replica}),
        mock.patch.object(db_router, "_connected_to_replica", return_value=True),
    ):
        db_router.forget_replica_state()
        yield
    db_router.forget_replica_state()


def stub_state(state=OK, lag=0.0, replay_lsn=REPLAYED):
    return mock.patch.object(
        db_router, "probe_replica", return_value=ReplicaState(state, lag, replay_lsn, 0.0)
    )


def read_db_during(method: str = "GET", path: str = "/api/v1/x", user_id=None) -> str:
    seen = []

    def view(request):
        if user_id is not None:
            db_router.reading_as(user_id)  # what authentication does
        seen.append(router.db_for_read(User))
        return HttpResponse()

    request = getattr(RequestFactory(), method.lower())(path)
    with mock.patch.object(db_router, "remember_writes"):
        ReplicaReadsMiddleware(view)(request)
    return seen[0]


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS"])
def test_safe_requests_read_from_the_replica(with_replica, method):
    with stub_state():
        assert read_db_during(method) == "replica"


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_unsafe_requests_read_from_the_primary(with_replica, method):
    with stub_state():
        assert read_db_during(method) == "default"


def test_the_admin_reads_from_the_primary(with_replica):
    with stub_state():
        assert read_db_during("GET", "/admin/users/user/") == "default"


def test_outside_a_request_reads_from_the_primary(with_replica):
    assert router.db_for_read(User) == "default"


def test_inside_a_transaction_reads_from_the_primary(with_replica):
    seen = []

    def view(request):
        with mock.patch.object(connections["default"], "in_atomic_block", True):
            seen.append(router.db_for_read(User))
        seen.append(router.db_for_read(User))
        return HttpResponse()

    with stub_state():
        ReplicaReadsMiddleware(view)(RequestFactory().get("/"))

    assert seen == ["default", "replica"]


def test_reads_from_primary_block(with_replica):
    seen = []

    def view(request):
        with db_router.reads_from_primary():
            seen.append(router.db_for_read(User))
        seen.append(router.db_for_read(User))
        return HttpResponse()

    with stub_state():
        ReplicaReadsMiddleware(view)(RequestFactory().get("/"))

    assert seen == ["default", "replica"]


def test_without_a_replica_everything_is_the_primary():
    assert read_db_during("GET") == "default"


@pytest.mark.parametrize("state", [LAGGING, UNAVAILABLE])
def test_a_lagging_or_unreachable_replica_is_not_read(with_replica, state):
    with stub_state(state, lag=None, replay_lsn=None):
        assert read_db_during("GET") == "default"


def test_a_replica_connection_that_fails_sends_reads_to_the_primary_for_a_while(with_replica):
    with (
        stub_state(),
        mock.patch.object(
            connections["replica"], "ensure_connection", side_effect=OperationalError("refused")
        ),
        mock.patch.object(db_router, "_connected_to_replica", connected_to_replica),
    ):
        assert read_db_during("GET") == "default"
        assert db_router.replica_state().state == UNAVAILABLE  # remembered, not probed again


class TestReadYourWrites:
    def pin(self, user_id, position):
        cache.set(db_router.PIN_KEY.format(user_id=user_id), position)

    def test_a_writer_reads_the_primary_until_the_replica_has_their_write(self, with_replica):
        self.pin("alice", REPLAYED + 1)
        with stub_state():
            assert read_db_during("GET", user_id="alice") == "default"
            assert read_db_during("GET", user_id="bob") == "replica"

    def test_once_replayed_the_writer_reads_the_replica(self, with_replica):
        self.pin("alice", REPLAYED)
        with stub_state():
            assert read_db_during("GET", user_id="alice") == "replica"

    def test_a_write_without_a_known_position_pins_until_it_expires(self, with_replica):
        self.pin("alice", None)
        with stub_state():
            assert read_db_during("GET", user_id="alice") == "default"

    def test_an_unreachable_cache_means_the_primary(self, with_replica):
        with stub_state(), mock.patch.object(db_router.cache, "get", side_effect=OSError):
            assert read_db_during("GET", user_id="alice") == "default"

    def test_an_unsafe_request_remembers_the_caller_and_everyone_it_wrote_for(self):
        def view(request):
            db_router.reading_as("alice")
            db_router.wrote_for("bob")
            return HttpResponse()

        with mock.patch.object(db_router, "remember_writes") as remember:
            ReplicaReadsMiddleware(view)(RequestFactory().post("/"))

        remember.assert_called_once_with({"alice", "bob"})

    def test_a_safe_request_that_wrote_nothing_remembers_nothing(self):
        def view(request):
            db_router.reading_as("alice")
            return HttpResponse()

        with mock.patch.object(db_router, "remember_writes") as remember:
            ReplicaReadsMiddleware(view)(RequestFactory().get("/"))

        remember.assert_not_called()

    @pytest.mark.django_db
    def test_remember_writes_stores_the_primarys_position_for_the_pin_window(self):
        with mock.patch.object(db_router.cache, "set_many") as set_many:
            db_router.remember_writes({"alice"})

        [(pins,), kwargs] = set_many.call_args
        [(key, position)] = pins.items()
        assert key == "replica:written:alice"
        if connections["default"].vendor == "postgresql":
            assert isinstance(position, int) and position > 0
        else:  # no WAL position: pinned for the whole window
            assert position is None
        assert kwargs == {"timeout": db_router.pin_seconds()}

    @pytest.mark.django_db
    def test_a_failing_cache_does_not_fail_the_write(self):
        with mock.patch.object(db_router.cache, "set_many", side_effect=OSError("redis down")):
            db_router.remember_writes({"alice"})

    def test_the_pin_window_outlasts_the_lag_limit_and_one_check(self, settings):
        settings.DATABASE_REPLICA_MAX_LAG_SECONDS = 5
        settings.DATABASE_REPLICA_CHECK_SECONDS = 1
        assert db_router.pin_seconds() == 7


class TestReplicaState:
    def probe_returning(self, row):
        cursor = mock.MagicMock()
        cursor.__enter__.return_value.fetchone.return_value = row
        return mock.patch.object(connections["replica"], "cursor", return_value=cursor)

    @pytest.mark.parametrize(
        ("row", "expected"),
        [
            (("0/1761AB58", True, 0.0), ReplicaState(OK, 0.0, 0x1761AB58, 50.0)),
            (("0/10", True, 4.5), ReplicaState(OK, 4.5, 0x10, 50.0)),
            (("0/10", True, 5.5), ReplicaState(LAGGING, 5.5, 0x10, 50.0)),
            (("0/10", True, None), ReplicaState(LAGGING, None, 0x10, 50.0)),
            (("0/10", False, 0.0), ReplicaState(LAGGING, 0.0, 0x10, 50.0)),  # not streaming
            ((None, False, None), ReplicaState(UNAVAILABLE, None, None, 50.0)),  # not a standby
        ],
    )
    def test_probe(self, with_replica, settings, row, expected):
        settings.DATABASE_REPLICA_MAX_LAG_SECONDS = 5
        with (
            mock.patch.object(db_router, "sample_primary_position"),
            self.probe_returning(row),
            mock.patch.object(connections["replica"], "close_if_health_check_failed"),
            mock.patch.object(db_router.time, "monotonic", return_value=50.0),
        ):
            assert db_router.probe_replica() == expected

    def test_probe_of_an_unreachable_replica(self, with_replica):
        with (
            mock.patch.object(db_router, "sample_primary_position"),
            mock.patch.object(
                connections["replica"], "cursor", side_effect=OperationalError("refused")
            ),
        ):
            assert db_router.probe_replica().state == UNAVAILABLE

    def test_the_primarys_positions_bound_the_lag_of_a_replica_behind_on_commits(
        self, with_replica, settings
    ):
        """The primary wrote WAL without a commit for long (a bulk load): the age of the last
        replayed commit is large, but the replica has what the primary had 1.5 s ago."""
        settings.DATABASE_REPLICA_MAX_LAG_SECONDS = 5
        db_router._primary_positions.extend([(40.0, 0x10), (48.5, 0x20), (49.9, 0x30)])
        with (
            self.probe_returning(("0/28", True, 30.0)),
            mock.patch.object(connections["replica"], "close_if_health_check_failed"),
            mock.patch.object(db_router, "sample_primary_position"),
            mock.patch.object(db_router.time, "monotonic", return_value=50.0),
        ):
            assert db_router.probe_replica() == ReplicaState(OK, 1.5, 0x28, 50.0)

    def test_a_replica_behind_every_sampled_position_falls_back_on_its_commit_age(
        self, with_replica, settings
    ):
        settings.DATABASE_REPLICA_MAX_LAG_SECONDS = 5
        db_router._primary_positions.append((49.0, 0x30))
        with (
            self.probe_returning(("0/28", True, 30.0)),
            mock.patch.object(connections["replica"], "close_if_health_check_failed"),
            mock.patch.object(db_router, "sample_primary_position"),
            mock.patch.object(db_router.time, "monotonic", return_value=50.0),
        ):
            assert db_router.probe_replica() == ReplicaState(LAGGING, 30.0, 0x28, 50.0)

    @pytest.mark.django_db
    def test_a_probe_samples_the_primarys_position(self, with_replica):
        db_router.sample_primary_position(7.0)

        if connections["default"].vendor == "postgresql":
            [(at, position)] = db_router._primary_positions
            assert at == 7.0 and position > 0
        else:  # no WAL: nothing to bound the lag with
            assert not db_router._primary_positions

    def test_a_probe_is_reused_for_the_check_interval_a_failure_for_the_retry_interval(
        self, with_replica, settings
    ):
        settings.DATABASE_REPLICA_CHECK_SECONDS = 1
        settings.DATABASE_REPLICA_RETRY_SECONDS = 5
        clock = mock.patch.object(db_router.time, "monotonic")
        with clock as now, stub_state() as probe:
            for t in (100.0, 100.9, 101.0):
                now.return_value = t
                probe.return_value = ReplicaState(OK, 0.0, REPLAYED, t)
                db_router.replica_state()
            assert probe.call_count == 2  # at 100.0 and 101.0

            probe.return_value = ReplicaState(UNAVAILABLE, checked_at=102.0)
            now.return_value = 102.0
            db_router.replica_state()
            for t in (103.0, 106.9):
                now.return_value = t
                assert db_router.replica_state().state == UNAVAILABLE
            assert probe.call_count == 3
            now.return_value = 107.0
            probe.return_value = ReplicaState(OK, 0.0, REPLAYED, 107.0)
            assert db_router.replica_state().state == OK
            assert probe.call_count == 4


def test_lsn_to_int():
    assert db_router.lsn_to_int("16/B374D848") == 0x16B374D848
    assert db_router.lsn_to_int("0/0") == 0


def test_writes_and_migrations_go_to_the_primary(with_replica):
    assert router.db_for_write(User) == "default"
    assert router.allow_migrate("default", "users") is True
    assert router.allow_migrate("replica", "users") is False


def test_settings_add_the_replica_router_and_middleware():
    values = settings_of(
        [
            "DATABASES",
            "DATABASE_ROUTERS",
            "MIDDLEWARE",
            "DATABASE_REPLICA_MAX_LAG_SECONDS",
            "DATABASE_REPLICA_CHECK_SECONDS",
            "DATABASE_REPLICA_RETRY_SECONDS",
        ],
        DATABASE_URL="postgres://app:pw@primary.internal:5432/allmine",
        DATABASE_REPLICA_URL="postgres://app:pw@replica.internal:5432/allmine",
        DATABASE_REPLICA_MAX_LAG_SECONDS="10",
    )

    assert values["DATABASES"]["replica"]["HOST"] == "replica.internal"
    assert values["DATABASES"]["replica"]["TEST"]["MIRROR"] == "default"
    assert values["DATABASES"]["replica"]["CONN_HEALTH_CHECKS"] is True
    assert values["DATABASES"]["replica"]["OPTIONS"]["connect_timeout"] == 2
    assert values["DATABASE_ROUTERS"] == ["allmine.db_router.PrimaryReplicaRouter"]
    assert values["MIDDLEWARE"][1] == "allmine.db_router.ReplicaReadsMiddleware"
    assert values["DATABASE_REPLICA_MAX_LAG_SECONDS"] == 10
    assert values["DATABASE_REPLICA_CHECK_SECONDS"] == 1
    assert values["DATABASE_REPLICA_RETRY_SECONDS"] == 5


def test_without_redis_the_pins_live_in_a_cache_every_local_worker_shares():
    values = settings_of(
        ["CACHES"],
        DATABASE_REPLICA_URL="postgres://app:pw@replica.internal:5432/allmine",
        REDIS_URL="",
        CACHE_DIR="/var/tmp/allmine-pins",
    )

    assert values["CACHES"]["default"] == {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": "/var/tmp/allmine-pins",
    }
