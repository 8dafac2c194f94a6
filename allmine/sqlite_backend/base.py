"""Django's SQLite backend, for a database file that may turn read-only for a while (an
operator's chmod, a restore, a read-only remount) and must work again the moment it is not.

SQLite opens a write-protected file read-only without a word, and creates the WAL side files
(`-wal`, `-shm`) with the database file's permissions. A connection opened during such an
outage leaves a read-only `-shm` behind; read-only connections never remove it, so it outlives
every connection, and every later connection maps it read-only: all writes keep failing
("attempt to write a readonly database") long after the file is writable again. Connections
are not leaking (`CONN_MAX_AGE` is 0; each request closes its own): the side file is what
sticks. So, before each connection:

- a database file this process cannot write refuses the connection (an `OperationalError`:
  the API answers 503, health says `database: unavailable`) instead of opening read-only;
- a side file left read-only (by an earlier outage or another process) gets the database
  file's permissions back, so the first request after the outage works.

Also: Django's cursor rewrites each query's `%s` marks as `?` with a regular expression (a
look-behind, about 10 µs per KB of SQL) on every execute. A stream list's page query is 3 KB
(the ORM's quoted, aliased columns), so that rewrite cost more than SQLite's run of the query
on a one-stream page. The rewrite is a function of the query text alone: it is kept per text
(`qmark_query`, a bounded cache; a compiled query's text is the same string object each time,
so finding it again is a dictionary lookup).
"""

import contextlib
import os
import stat
from functools import lru_cache

from django.db.backends.sqlite3 import base

SIDE_FILE_SUFFIXES = ("-wal", "-shm")


def ensure_writable(path: str) -> None:
    """Raise unless the database file can be written; repair read-only WAL side files."""
    if not os.path.exists(path):
        return  # SQLite creates it (and fails by itself if the folder is read-only)
    if not os.access(path, os.W_OK):
        raise base.Database.OperationalError("attempt to write a readonly database")
    mode = stat.S_IMODE(os.stat(path).st_mode)
    for suffix in SIDE_FILE_SUFFIXES:
        side_file = path + suffix
        if os.path.exists(side_file) and not os.access(side_file, os.W_OK):
            # Not ours to change (another user's file): the connection reports what fails.
            with contextlib.suppress(OSError):
                os.chmod(side_file, mode)


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params):
        database = str(conn_params["database"])
        if not self.is_in_memory_db() and not database.startswith("file:"):
            ensure_writable(database)
        return super().get_new_connection(conn_params)

    def create_cursor(self, name=None):
        return self.connection.cursor(factory=SQLiteCursorWrapper)


# Texts kept, and the longest kept: 1,024 of up to 8,192 characters, each with its rewrite
# (16 MB at worst for ASCII). Longer texts (bulk inserts of hundreds of rows) are converted
# each time, as Django does; each is written once anyway.
QMARK_CACHE_SIZE = 1024
QMARK_CACHE_MAX_LENGTH = 8192


def _qmark(query: str) -> str:
    # Django's own rewrite (it reads nothing of the cursor for positional marks).
    return base.SQLiteCursorWrapper.convert_query(None, query)


_cached_qmark = lru_cache(maxsize=QMARK_CACHE_SIZE)(_qmark)


def qmark_query(query: str) -> str:
    """`query` with its `%s` marks as SQLite's `?` (and `%%` as `%`), as Django converts it."""
    if len(query) > QMARK_CACHE_MAX_LENGTH:
        return _qmark(query)
    return _cached_qmark(query)


class SQLiteCursorWrapper(base.SQLiteCursorWrapper):
    """Django's cursor, the `format` → `qmark` rewrite kept per query text."""

    def convert_query(self, query, *, param_names=None):
        if param_names is None:
            return qmark_query(query)
        return super().convert_query(query, param_names=param_names)
