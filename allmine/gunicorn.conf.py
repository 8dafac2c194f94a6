"""gunicorn settings for scripts/serve-production (override any of them by environment).

  PORT              port to listen on (default 8000)
  HOST              address to bind (default 0.0.0.0; 127.0.0.1 behind a local proxy)
  WEB_CONCURRENCY   worker processes (default 2 x CPU cores + 1)
  GUNICORN_THREADS  threads per worker (default 2): each holds its own database connection
  GUNICORN_WORKER_CLASS  gthread (default) or sync
  GUNICORN_TIMEOUT  seconds before a stuck worker is restarted (default 30)
  GUNICORN_MAX_REQUESTS  requests after which a worker is replaced (default 5000; 0: never)
  FORWARDED_ALLOW_IPS  proxies whose X-Forwarded-* headers are trusted (default 127.0.0.1)
  GUNICORN_CMD_ARGS  any other gunicorn setting (gunicorn's own variable). E.g. when a proxy
                    keeps a few long-lived connections open: each worker accepts them while it
                    has room, so one worker may hold most of them and do most of the work
                    (BENCHMARKS.md saw it with wrk); `--worker-connections=N` caps each at N
                    (gthread then keeps at most N - threads of them idle between requests:
                    keep N above the proxy's connections per worker plus the threads).

Database connections per app server = workers x threads; keep the sum over all app servers
below PostgreSQL's `max_connections` (100 by default), or put PgBouncer in front.
"""

import multiprocessing
import os

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count() * 2 + 1)
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
threads = int(os.environ.get("GUNICORN_THREADS") or 2)
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or 30)
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so a slow leak can never take a server down.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS") or 5000)
max_requests_jitter = max_requests // 10
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# Django writes one structured line per request (allmine.request), so no gunicorn access log.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
wsgi_app = "allmine.wsgi:application"
# gunicorn's control socket sits at one fixed path per user; several servers on one machine
# (blue/green, tests) would fight over it, and nothing here uses it.
control_socket_disable = True


def post_worker_init(worker):
    """The app is loaded in this worker: freeze start-up's objects out of the collector's way
    and collect young garbage less often (allmine/gc_tuning.py)."""
    from allmine.gc_tuning import tune_after_start

    tune_after_start()
