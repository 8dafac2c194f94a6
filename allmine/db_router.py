"""Read replicas (opt-in: `DATABASE_REPLICA_URL`): reads of safe requests go to a replica.

- Every write goes to the primary (`default`).
- A request with an unsafe method (POST, PUT, PATCH, DELETE) reads from the primary too, so a
  service reads what it locks and writes, and the response shows the write. So does the admin.
- Inside `transaction.atomic` on the primary, reads stay on the primary (row locks, consistency).
- Management commands and anything outside a request read from the primary.
- Authentication (the token's user: its token version and account status) is always read from
  the primary (`reads_from_primary`, used by users/authentication.py), so sign-out and
  suspension take effect at once whatever the replica's lag.
- Read-your-writes: after a signed-in caller's unsafe request, the primary's WAL position is
  stored in the shared cache for the caller and for every user whose credits the request moved
  (`wrote_for`, called by the ledger: e.g. the funders a cancellation refunds). Their GETs read
  from the primary until the replica has replayed up to it (at most `pin_seconds()`, after
  which the lag limit below guarantees the replica has it). Other users' GETs keep reading
  from the replica.
- Replica health: a probe (replay position, lag) on the request's replica connection, reused by
  the process for DATABASE_REPLICA_CHECK_SECONDS. A replica that cannot be reached, is not
  streaming, or lags more than DATABASE_REPLICA_MAX_LAG_SECONDS is not read from: GETs use the
  primary, and after a connection failure the process does not try the replica again for
  DATABASE_REPLICA_RETRY_SECONDS (so not every request pays the connect timeout).

So only GET/HEAD/OPTIONS requests read from the replica, and what they read is at most
DATABASE_REPLICA_MAX_LAG_SECONDS (+ the check interval) old, and never older than the caller's
own last write.
"""

import logging
import math
import threading
import time
from collections import deque
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, Error, connections

logger = logging.getLogger(__name__)

REPLICA_ALIAS = "replica"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PRIMARY_ONLY_PATH_PREFIXES = ("/admin/",)
PIN_KEY = "replica:written:{user_id}"  # the primary's WAL position after the user's last write


def max_lag_seconds() -> float:
    return float(getattr(settings, "DATABASE_REPLICA_MAX_LAG_SECONDS", 5))


def check_seconds() -> float:
    return float(getattr(settings, "DATABASE_REPLICA_CHECK_SECONDS", 1))


def retry_seconds() -> float:
    return float(getattr(settings, "DATABASE_REPLICA_RETRY_SECONDS", 5))


def pin_seconds() -> int:
    """How long a writer's reads may stay on the primary: past it, a replica that is usable
    (lag under the limit, measured at most one check interval ago) has replayed the write."""
    return math.ceil(max_lag_seconds() + check_seconds()) + 1


def replica_configured() -> bool:
    return REPLICA_ALIAS in connections.settings


# --- The replica's state, per process --------------------------------------------------------

OK = "ok"
LAGGING = "lagging"
UNAVAILABLE = "unavailable"

# Replay position; whether a WAL receiver runs (else the standby is not streaming); lag in
# seconds: 0 when everything received is replayed, else the age of the last replayed commit
# (an upper bound of how old its data is, but a large one while the primary writes WAL without
# commits, e.g. a bulk load: hence also the bound from the primary's positions, below).
PROBE_SQL = """
SELECT pg_last_wal_replay_lsn()::text,
       EXISTS (SELECT 1 FROM pg_stat_wal_receiver),
       CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
            ELSE EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp())
       END::float
"""


@dataclass(frozen=True)
class ReplicaState:
    state: str  # OK, LAGGING or UNAVAILABLE
    lag_seconds: float | None = None
    replay_lsn: int | None = None
    checked_at: float = 0.0  # time.monotonic()

    @property
    def usable(self) -> bool:
        return self.state == OK


_state: ReplicaState | None = None
_state_lock = threading.Lock()
# (time.monotonic(), the primary's WAL position then), one per probe: once the replica has
# replayed a position, its data is at most as old as that sample.
_primary_positions: deque[tuple[float, int]] = deque(maxlen=64)


def lsn_to_int(lsn: str) -> int:
    high, low = lsn.split("/")
    return (int(high, 16) << 32) | int(low, 16)


def sample_primary_position(now: float) -> None:
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT pg_current_wal_lsn()::text")
            _primary_positions.append((now, lsn_to_int(cursor.fetchone()[0])))
    except Error:
        logger.warning("Could not read the primary's WAL position", exc_info=True)


def age_bound(replay_lsn: int, now: float) -> float | None:
    """How old the replica's data is at most, from the primary positions sampled so far."""
    replayed = [at for at, position in list(_primary_positions) if position <= replay_lsn]
    return now - max(replayed) if replayed else None


def probe_replica() -> ReplicaState:
    """Asks the replica, on this thread's connection, how far it has replayed."""
    now = time.monotonic()
    sample_primary_position(now)
    connection = connections[REPLICA_ALIAS]
    try:
        connection.close_if_health_check_failed()
        with connection.cursor() as cursor:
            cursor.execute(PROBE_SQL)
            replay_lsn, receiving, lag = cursor.fetchone()
    except Error:
        logger.warning("Replica unreachable: reading from the primary", exc_info=True)
        connection.close()
        return ReplicaState(UNAVAILABLE, checked_at=now)
    if replay_lsn is None:  # not a standby (or not started): its data cannot be compared
        return ReplicaState(UNAVAILABLE, checked_at=now)
    replay_lsn = lsn_to_int(replay_lsn)
    if lag != 0:
        bounds = [b for b in (lag, age_bound(replay_lsn, now)) if b is not None]
        lag = min(bounds) if bounds else None
    usable = receiving and lag is not None and lag <= max_lag_seconds()
    if not usable:
        logger.warning(
            "Replica lags (%s s, streaming: %s): reading from the primary", lag, receiving
        )
    return ReplicaState(OK if usable else LAGGING, lag, replay_lsn, now)


def replica_state() -> ReplicaState:
    """The last probe if recent enough (an unreachable replica is retried less often)."""
    global _state
    state = _state
    now = time.monotonic()
    if state is not None:
        ttl = retry_seconds() if state.state == UNAVAILABLE else check_seconds()
        if now - state.checked_at < ttl:
            return state
    state = probe_replica()
    with _state_lock:
        _state = state
    return state


def forget_replica_state() -> None:
    """The next read probes the replica again, from scratch (tests, and after a failover)."""
    global _state
    with _state_lock:
        _state = None
        _primary_positions.clear()


# --- Read-your-writes --------------------------------------------------------------------------


def remember_writes(user_ids) -> None:
    """After a request that wrote for these users: their reads stay on the primary until the
    replica has what the primary had at this point. Without the position, until the pin expires."""
    position = None
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT pg_current_wal_lsn()::text")
            position = lsn_to_int(cursor.fetchone()[0])
    except Error:
        logger.warning("Could not read the primary's WAL position", exc_info=True)
    pins = {PIN_KEY.format(user_id=user_id): position for user_id in user_ids}
    try:
        cache.set_many(pins, timeout=pin_seconds())
    except Exception:
        # The write itself succeeded; only the routing hint is lost (reads may lag briefly).
        logger.warning("Could not record a write for read-your-writes", exc_info=True)


def must_read_own_writes(user_id, replica: ReplicaState) -> bool:
    try:
        written = cache.get(PIN_KEY.format(user_id=user_id), default=False)
    except Exception:
        logger.warning("Cache unreachable: reading from the primary", exc_info=True)
        return True
    if written is False:  # no recent write
        return False
    return written is None or replica.replay_lsn is None or replica.replay_lsn < written


# --- Per request -------------------------------------------------------------------------------


@dataclass
class _Reads:
    replica_allowed: bool  # a safe request (GET, HEAD, OPTIONS) outside the admin
    user_id: object = None  # set by authentication
    primary_only: bool = False  # inside reads_from_primary()
    choice: str | None = None  # decided at the first read (again once the user is known)
    written_for: set = field(default_factory=set)  # users whose data this request changed


_reads: ContextVar[_Reads | None] = ContextVar("replica_reads", default=None)


def reading_as(user_id) -> None:
    """Authentication names the caller: their own recent writes decide where they read."""
    reads = _reads.get()
    if reads is not None:
        reads.user_id = user_id
        reads.choice = None


def wrote_for(user_id) -> None:
    """This request changed `user_id`'s data (their credits): they read their writes too."""
    reads = _reads.get()
    if reads is not None:
        reads.written_for.add(user_id)


@contextmanager
def reads_from_primary():
    """Reads inside the block use the primary (authentication: token version, account state)."""
    reads = _reads.get()
    if reads is None:
        yield
        return
    previous = reads.primary_only
    reads.primary_only = True
    try:
        yield
    finally:
        reads.primary_only = previous


def _connected_to_replica() -> bool:
    """This thread's replica connection works (Django's once-a-request health check, or a new
    connection); if not, the process stops trying the replica for a while."""
    global _state
    connection = connections[REPLICA_ALIAS]
    try:
        connection.close_if_health_check_failed()
        connection.ensure_connection()
        return True
    except Error:
        logger.warning("Replica unreachable: reading from the primary", exc_info=True)
        connection.close()
        with _state_lock:
            _state = ReplicaState(UNAVAILABLE, checked_at=time.monotonic())
        return False


def _choose(reads: _Reads) -> str:
    replica = replica_state()
    if not replica.usable:
        return DEFAULT_DB_ALIAS
    if reads.user_id is not None and must_read_own_writes(reads.user_id, replica):
        return DEFAULT_DB_ALIAS
    return REPLICA_ALIAS if _connected_to_replica() else DEFAULT_DB_ALIAS


class ReplicaReadsMiddleware:
    """Lets the router send this request's reads to the replica when its method is safe, and
    remembers a signed-in caller's unsafe request for read-your-writes."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        reads = _Reads(
            replica_allowed=request.method in SAFE_METHODS
            and not request.path.startswith(PRIMARY_ONLY_PATH_PREFIXES)
        )
        token = _reads.set(reads)
        try:
            response = self.get_response(request)
            if request.method not in SAFE_METHODS and reads.user_id is not None:
                reads.written_for.add(reads.user_id)
            if reads.written_for:
                remember_writes(reads.written_for)
            return response
        finally:
            _reads.reset(token)


class PrimaryReplicaRouter:
    def db_for_read(self, model, **hints):
        reads = _reads.get()
        if (
            reads is None
            or not reads.replica_allowed
            or reads.primary_only
            or not replica_configured()
            or connections[DEFAULT_DB_ALIAS].in_atomic_block
        ):
            return DEFAULT_DB_ALIAS
        if reads.choice is None:
            reads.choice = _choose(reads)
        return reads.choice

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the replica holds the same rows as the primary

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS
