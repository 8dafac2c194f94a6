"""Helpers the whole suite shares: a snapshot of every money-bearing row (to assert that a
refused request changed nothing), tampering with a balance behind the services' back,
refunding a stream's open rentals at a chosen moment (`rentals_refund`),
counting the queries a page costs, and running jobs: real `run_worker` processes against the
test database (`WorkerPool`, the `job_workers` fixture) or every due job in this process
(`run_due_jobs`)."""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from unittest import mock
from urllib.parse import quote

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tasks_db.management.commands import db_worker

from allmine.jobs import clock
from allmine.jobs.models import WorkerHeartbeat
from crowdfunding.models import (
    Contribution,
    IdempotencyRecord,
    MiniCrowdFunding,
    MiniCrowdFundingSupport,
)
from livestreams.models import Gift, LiveStream, ReplayRental, ReplayRentalCharge
from users.models import CreditLedgerEntry, CreditTransfer, StoreEvent, User


def money_snapshot() -> dict:
    return {
        "balances": sorted(User.objects.values_list("pk", "credit_balance")),
        "ledger": sorted(CreditLedgerEntry.objects.values_list("pk", "amount", "status")),
        "contributions": sorted(Contribution.objects.values_list("pk", "amount", "status")),
        "supports": sorted(MiniCrowdFundingSupport.objects.values_list("pk", "amount", "status")),
        "streams": sorted(LiveStream.objects.values_list("pk", "status", "collected_funding")),
        "minis": sorted(MiniCrowdFunding.objects.values_list("pk", "status", "collected")),
        "idempotency": sorted(IdempotencyRecord.objects.values_list("pk", flat=True)),
        "rentals": sorted(
            ReplayRental.objects.values_list("pk", "status", "price", "rented_at", "expires_at")
        ),
        "rental_charges": sorted(ReplayRentalCharge.objects.values_list("pk", "status", "price")),
        "store_events": sorted(StoreEvent.objects.values_list("event_id", "outcome", "credits")),
        "transfers": sorted(CreditTransfer.objects.values_list("pk", "amount")),
        "gifts": sorted(Gift.objects.values_list("pk", "amount")),
        "replay_settings": sorted(
            LiveStream.objects.values_list(
                "pk", "is_active_replay_on_creator_profile", "replay_credit_price"
            )
        ),
    }


@contextmanager
def tampered():
    """Writes made behind the services' back, as a hand-made SQL fix would make them: to prove
    that `audit_ledger` finds what they break. On PostgreSQL the database refuses them (users
    migration 0009), so they are made as a DBA would bypass it: as a superuser (the test
    database's role is one) with `session_replication_role = replica`, which disables the
    triggers for this session. SQLite has no such triggers (the services keep its rules)."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = DEFAULT")


def tamper_balance(user_id: str, balance: int) -> None:
    """Change a balance behind the ledger's back (`tampered`)."""
    with tampered():
        User.objects.filter(pk=user_id).update(credit_balance=balance)


def queries_for(client, url: str, *, method: str = "get", data=None) -> int:
    """The queries one request costs, once caches (content types, session) are warm; the
    request must succeed. Compare at two sizes with `django_assert_num_queries`."""
    getattr(client, method)(url, data)
    with CaptureQueriesContext(connection) as context:
        response = getattr(client, method)(url, data)
    assert response.status_code == 200
    return len(context.captured_queries)


def wait_for(condition: Callable[[], object], *, timeout: float = 20, every: float = 0.1):
    """Poll `condition` until it returns something truthy (returned); fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"Not true after {timeout} s: {condition}")
        time.sleep(every)


def run_due_jobs() -> int:
    """One clock tick (periodic jobs, retries, requeue) and then every due job, run here in the
    test's own transaction, as a worker would: how many jobs ran. For fast tests; the proof that
    it works across processes is tests/jobs/ with real workers."""
    clock.tick("in-process")
    worker = db_worker.Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="in-process",
        excluded_queue_names=[],
    )
    # A worker closes connections between jobs; here that would end the test's transaction.
    with mock.patch.object(db_worker, "close_old_connections", lambda: None):
        worker.run()
    return worker._run_tasks


def database_url() -> str:
    """The URL of the database this test process uses (the test database)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
    user = quote(db.get("USER") or "", safe="")
    return (
        f"postgres://{user}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )


class WorkerPool:
    """Real `manage.py run_worker` processes on the test database (the test must use
    `@pytest.mark.django_db(transaction=True)` so they see its rows). `start` returns once each
    has sent its first heartbeat; every process is stopped at teardown (`job_workers`)."""

    # Fast clocks for tests; `start(..., **env)` overrides any of these.
    ENV = {
        "CLOCK_TICK_SECONDS": "0.5",
        "JOB_MAX_ATTEMPTS": "3",
        "JOB_RETRY_BASE_SECONDS": "1",
        "JOB_STALE_SECONDS": "3",
    }
    ROOT = Path(__file__).resolve().parent.parent

    def __init__(self):
        self.processes: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, Path] = {}

    def start(self, count: int = 1, *, clock_jobs: dict | None = None, **env) -> list[str]:
        """Start `count` workers; returns their worker ids."""
        environment = {
            **os.environ,
            **self.ENV,
            **{name: str(value) for name, value in env.items()},
            "DATABASE_URL": database_url(),
            "DJANGO_SETTINGS_MODULE": "tests.worker_settings",
            "LOG_FORMAT": "text",
            "PYTHONUNBUFFERED": "1",
        }
        environment.pop("DATABASE_REPLICA_URL", None)
        if clock_jobs is not None:
            environment["TEST_CLOCK_JOBS"] = json.dumps(clock_jobs)
        started = []
        for _ in range(count):
            worker_id = f"test-{uuid.uuid4().hex[:12]}"
            log = Path(tempfile.gettempdir()) / f"allmine-{worker_id}.log"
            with log.open("wb") as output:
                self.processes[worker_id] = subprocess.Popen(
                    [sys.executable, "manage.py", "run_worker", "--worker-id", worker_id,
                     "--interval", "0.2", "--no-startup-delay"],
                    cwd=self.ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT,
                )  # fmt: skip
            self.logs[worker_id] = log
            started.append(worker_id)
        wait_for(
            lambda: (
                self._check_running(started)
                and WorkerHeartbeat.objects.filter(pk__in=started).count() == len(started)
            ),
            timeout=60,
        )
        return started

    def _check_running(self, worker_ids: list[str]) -> bool:
        for worker_id in worker_ids:
            if self.processes[worker_id].poll() is not None:
                raise AssertionError(f"worker {worker_id} exited:\n{self.log(worker_id)}")
        return True

    def log(self, worker_id: str) -> str:
        return self.logs[worker_id].read_text(errors="replace")

    def kill(self, worker_id: str) -> None:
        """SIGKILL: no clean-up at all, as when a host dies."""
        process = self.processes[worker_id]
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def stop(self, worker_id: str, *, timeout: float = 20) -> int:
        """SIGTERM, as a service manager stops it: the job in hand finishes first."""
        process = self.processes[worker_id]
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        return process.returncode

    def stop_all(self) -> None:
        for process in self.processes.values():  # all at once, then wait for each
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for worker_id in self.processes:
            self.stop(worker_id, timeout=10)
        for worker_id, log in self.logs.items():
            print(f"--- worker {worker_id}\n{log.read_text(errors='replace')[-4000:]}")
            log.unlink(missing_ok=True)


def rentals_refund(*, stream, now) -> int:
    """Refund every rental of `stream` whose window is open at `now`, as deleting the stream
    does (the same two steps: lock the rentals and charges, then the renters' wallets, then
    post the refunds). The caller holds the stream's row lock. Returns the count."""
    from livestreams.locks import rental_refunds_lock
    from livestreams.services import replay_rental_refunds_post
    from users.locks import wallets_lock

    refunds = rental_refunds_lock(stream=stream, now=now)
    wallets_lock(refunds.user_ids)
    return replay_rental_refunds_post(refunds, stream=stream, now=now)
