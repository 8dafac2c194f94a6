"""What the run starts: gunicorn (`scripts/serve-production`) and clock workers."""

import http.client
import os
import subprocess
import sys
import time
from pathlib import Path

from loadtest.abuse.data import WEBHOOK_SECRET, tag

ROOT = Path(__file__).resolve().parent.parent.parent


def start_server(*, port: int, database_url: str, redis_url: str, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_ENV": "production",
        "DJANGO_SECURE_PROXY_SSL_HEADER": "true",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_NUM_PROXIES": "1",
        "DATABASE_URL": database_url,
        "DATABASE_CONNECT_TIMEOUT": "2",
        "REDIS_URL": redis_url,
        "CACHE_KEY_PREFIX": "allmine-abuse",
        "THROTTLE_AUTH_RATE": "20/min",
        "THROTTLE_AUTH_ACCOUNT_RATE": "20/min",
        "THROTTLE_FUNDING_RATE": "60/min",
        "REVENUECAT_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_CONCURRENCY": os.environ.get("ABUSE_WORKERS", "3"),
        "GUNICORN_THREADS": os.environ.get("ABUSE_THREADS", "4"),
        "LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen(
        [str(ROOT / "scripts" / "serve-production")],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    for _ in range(240):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/v1/health")
            if conn.getresponse().status == 200:
                return server
        except OSError:
            pass
        if server.poll() is not None:
            break
        time.sleep(0.5)
    raise RuntimeError(f"the server did not come up; see {log}")


def start_worker(log: Path, **env: str) -> subprocess.Popen:
    """A `manage.py run_worker` process on the suite's database (directly, not through the
    fault proxy), with a fast clock; `env` overrides settings such as the clock's durations."""
    environment = {
        **os.environ,
        "CLOCK_TICK_SECONDS": "0.2",
        "JOB_STALE_SECONDS": "2",
        "LOG_LEVEL": "WARNING",
        **env,
    }
    environment.pop("DJANGO_ENV", None)
    return subprocess.Popen(
        [sys.executable, "manage.py", "run_worker", "--worker-id", f"abuse-{tag()}",
         "--interval", "0.1", "--no-startup-delay"],
        cwd=ROOT, env=environment, stdout=log.open("a"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
