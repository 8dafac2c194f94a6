"""Tests against a real PostgreSQL hot standby (`scripts/replica`), with its replay paused to
make the lag deterministic. `scripts/test` runs them on their own:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
    DATABASE_REPLICA_URL=postgres://postgres@127.0.0.1:5441/postgres pytest tests/replica

Without DATABASE_REPLICA_URL nothing here is collected, so the normal runs neither run nor skip
them. The standby is stopped and started with Debian's `pg_ctlcluster` (REPLICA_CLUSTER, default
`allmine_replica`), as root, as the postgres user, or through `sudo -n -u postgres`.
"""

import getpass
import os
import subprocess
import time

import psycopg
import pytest
from django.conf import settings
from django.core.signals import request_started
from django.db import connections

from allmine import db_router

REPLICA = db_router.REPLICA_ALIAS
SYSTEM_ID = "SELECT system_identifier FROM pg_control_system()"
REPLAYED = "SELECT pg_last_wal_replay_lsn()::text"


def pytest_ignore_collect(collection_path, config):
    return not os.environ.get("DATABASE_REPLICA_URL")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django creates this run's test database on the primary (the settings' MIRROR
    keeps it from trying to create one on the read-only standby). Replication is cluster-wide,
    so the standby replays that database: read it there, under the same name."""
    replica = settings.DATABASES[REPLICA]
    configured_name = replica["NAME"]
    with django_db_blocker.unblock():
        primary_id = _fetch("default", SYSTEM_ID)
        primary_position = _position("default", "pg_current_wal_lsn()")
    with psycopg.connect(
        host=replica["HOST"],
        port=replica["PORT"] or 5432,
        user=replica["USER"],
        password=replica["PASSWORD"],
        dbname=configured_name,
        connect_timeout=5,
    ) as standby:
        assert standby.execute(SYSTEM_ID).fetchone()[0] == primary_id, (
            "DATABASE_REPLICA_URL is not a standby of DATABASE_URL (see scripts/replica)"
        )
        deadline = time.monotonic() + 30
        while db_router.lsn_to_int(standby.execute(REPLAYED).fetchone()[0]) < primary_position:
            assert time.monotonic() < deadline, "the standby did not replay the test database"
            time.sleep(0.05)
    replica["NAME"] = connections["default"].settings_dict["NAME"]
    connections[REPLICA].close()
    connections[REPLICA].settings_dict = replica  # the MIRROR had pointed it at the primary
    yield
    connections[REPLICA].close()
    replica["NAME"] = configured_name


def _as_postgres(command: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    if getpass.getuser() == "postgres":
        return command
    return ["sudo", "-n", "-u", "postgres", *command]


def _fetch(alias: str, sql: str):
    with connections[alias].cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


def _position(alias: str, function: str) -> int:
    return db_router.lsn_to_int(_fetch(alias, f"SELECT {function}::text"))


class Standby:
    """The standby as the tests drive it: pause or resume its replay, stop or start it."""

    cluster = os.environ.get("REPLICA_CLUSTER", "allmine_replica")

    def __init__(self):
        self.version = int(_fetch("default", "SHOW server_version_num")) // 10000
        self.stopped = False

    def catch_up(self, timeout: float = 30) -> None:
        """Waits until the standby has replayed everything the primary has written so far."""
        target = db_router.lsn_to_int(_fetch("default", "SELECT pg_current_wal_lsn()::text"))
        deadline = time.monotonic() + timeout
        while (
            db_router.lsn_to_int(_fetch(REPLICA, "SELECT pg_last_wal_replay_lsn()::text")) < target
        ):
            assert time.monotonic() < deadline, "the standby did not catch up"
            time.sleep(0.05)

    def pause(self) -> None:
        self.catch_up()
        _fetch(REPLICA, "SELECT pg_wal_replay_pause()")

    def resume(self) -> None:
        _fetch(REPLICA, "SELECT pg_wal_replay_resume()")

    def stop(self) -> None:
        self._ctl("stop")
        self.stopped = True

    def start(self, timeout: float = 60) -> None:
        """Starts it and waits until it streams again."""
        self._ctl("start")
        self.stopped = False
        deadline = time.monotonic() + timeout
        while not _fetch(REPLICA, "SELECT EXISTS (SELECT 1 FROM pg_stat_wal_receiver)"):
            assert time.monotonic() < deadline, "the standby does not stream"
            time.sleep(0.1)

    def _ctl(self, action: str) -> None:
        command = ["pg_ctlcluster", str(self.version), self.cluster, action]
        subprocess.run(_as_postgres(command), check=True, capture_output=True, timeout=60)


def _new_request_checks_the_replica_connection(**kwargs):
    """What `close_old_connections` does at the start of every request in production (the
    test client turns it off): a connection the standby dropped is noticed and replaced."""
    connections[REPLICA].close_if_unusable_or_obsolete()


@pytest.fixture
def standby(transactional_db, settings):
    """A standby in step with the primary, and the router's memory of it wiped; afterwards it
    runs and replays again (before the primary's tables are emptied for the next test)."""
    settings.DATABASE_REPLICA_MAX_LAG_SECONDS = 600  # only the lag test wants a limit
    request_started.connect(_new_request_checks_the_replica_connection)
    db_router.forget_replica_state()
    replica = Standby()
    replica.catch_up()
    yield replica
    request_started.disconnect(_new_request_checks_the_replica_connection)
    if replica.stopped:
        replica.start()
    replica.resume()
    db_router.forget_replica_state()
