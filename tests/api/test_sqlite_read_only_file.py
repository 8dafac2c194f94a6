"""A SQLite file that turns read-only for a while, against the production server (gunicorn,
gthread): every request is a 503 envelope while it lasts, health says the database is
unavailable, and writes work again the moment the file is writable (allmine/sqlite_backend).

Runs whatever the suite's own database is: the server gets a SQLite file of its own.
"""

import ctypes
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
USERNAME, PASSWORD = "reader", "a-long-enough-password-77"
PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 24, 1, 2


def _obey_file_permissions() -> None:
    """Run in the server's process before exec: root ignores file modes, so a root test run
    drops the two capabilities that let it (the server then meets a chmod like any user)."""
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _call(base: str, method: str, path: str, body: dict | None = None, token: str = ""):
    request = urllib.request.Request(
        base + path,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json"}
        | ({"Authorization": f"Bearer {token}"} if token else {}),
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


@pytest.fixture(scope="module")
def server():
    folder = Path(tempfile.mkdtemp(prefix="allmine-readonly-"))
    database = folder / "db.sqlite3"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "DJANGO_SETTINGS_MODULE": "allmine.settings",
        "DJANGO_DEBUG": "false",
        "THROTTLE_AUTH_RATE": "1000/min",
        "LOG_LEVEL": "CRITICAL",
        "PORT": str(_free_port()),
        "HOST": "127.0.0.1",
        "WEB_CONCURRENCY": "1",
        "GUNICORN_THREADS": "4",
    }
    setup = (
        "from django.core.management import call_command; call_command('migrate', verbosity=0);"
        "from users.models import User;"
        f"User.objects.create_user({USERNAME!r}, password={PASSWORD!r})"
    )
    subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", setup], cwd=ROOT, env=env, check=True
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "allmine/gunicorn.conf.py"],
        cwd=ROOT,
        env=env,
        preexec_fn=_obey_file_permissions,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{env['PORT']}"
    try:
        for _ in range(200):
            try:
                if _call(base, "GET", "/api/v1/health")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("gunicorn did not start")
        yield base, database
    finally:
        process.terminate()
        process.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)


def login(base: str):
    return _call(base, "POST", "/api/v1/auth/login", {"username": USERNAME, "password": PASSWORD})


def test_a_read_only_file_is_a_503_while_it_lasts_and_no_longer(server):
    base, database = server
    status, _, body = login(base)
    assert status == 200
    token = body["data"]["accessToken"]

    database.chmod(0o444)
    try:
        outage = [login(base), _call(base, "GET", "/api/v1/live-stream/funded", token=token)]
        health = _call(base, "GET", "/api/v1/health")
    finally:
        database.chmod(0o644)
    after = [login(base), _call(base, "GET", "/api/v1/live-stream/funded", token=token)]

    for status, headers, body in outage:
        assert status == 503
        assert headers["Retry-After"] == "5"
        assert body["errors"] == ["Service unavailable", "Database unavailable, retry shortly"]
    assert health[0] == 503
    assert health[2]["errors"] == ["Service unavailable", "database: unavailable"]
    assert [status for status, _, _ in after] == [200, 200]  # at once, no retry needed
    assert _call(base, "GET", "/api/v1/health")[0] == 200


def test_a_side_file_left_read_only_does_not_stick(server):
    # What an outage used to leave behind: a WAL index created read-only (SQLite gives it the
    # database file's mode), which every later connection mapped read-only.
    base, database = server
    shm = database.with_name(database.name + "-shm")
    shm.touch()
    shm.chmod(0o444)

    status, _, _ = login(base)

    assert status == 200
    assert _call(base, "GET", "/api/v1/health")[0] == 200
