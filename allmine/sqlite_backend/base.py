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
"""

import contextlib
import os
import stat

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
