"""Read replicas (opt-in: `DATABASE_REPLICA_URL`): reads of safe requests go to a replica.

- Every write goes to the primary (`default`).
- A request with an unsafe method (POST, PUT, PATCH, DELETE) reads from the primary too, so a
  service reads what it locks and writes, and the response shows the write.
- Inside `transaction.atomic` on the primary, reads stay on the primary (row locks, consistency).
- Management commands and anything outside a request read from the primary.

So only GET/HEAD/OPTIONS requests (the funded list, health...) read from the replica, and may
lag behind the primary by the replication delay (milliseconds on a healthy stream).
"""

from contextvars import ContextVar

from django.db import DEFAULT_DB_ALIAS, connections

REPLICA_ALIAS = "replica"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_read_from_replica: ContextVar[bool] = ContextVar("read_from_replica", default=False)


class ReplicaReadsMiddleware:
    """Lets the router send this request's reads to the replica when its method is safe."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _read_from_replica.set(request.method in SAFE_METHODS)
        try:
            return self.get_response(request)
        finally:
            _read_from_replica.reset(token)


class PrimaryReplicaRouter:
    def db_for_read(self, model, **hints):
        if (
            _read_from_replica.get()
            and REPLICA_ALIAS in connections.settings
            and not connections[DEFAULT_DB_ALIAS].in_atomic_block
        ):
            return REPLICA_ALIAS
        return DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the replica holds the same rows as the primary

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS
