"""A real ASGI server process (uvicorn on a free port) against the test database, and a small
Server-Sent Events reader, for the live event tests."""

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support import database_url

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def asgi_server(**env: str):
    """uvicorn serving allmine.asgi on a free port, without its access log (as in production);
    yields (port, a function returning what it has logged so far)."""
    port = free_port()
    log = open(Path(os.environ.get("TMPDIR", "/tmp")) / f"allmine-asgi-{port}.log", "w+b")  # noqa: SIM115
    environment = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_SETTINGS_MODULE": "allmine.settings",
        "LIVE_EVENTS_HEARTBEAT_SECONDS": "0.5",
        "REDIS_URL": "",
        **env,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "allmine.asgi:application", "--host", "127.0.0.1",
         "--port", str(port), "--no-access-log"],
        cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise RuntimeError(f"uvicorn did not start: {log.read().decode()}") from None
                time.sleep(0.1)

        def logged() -> str:
            log.flush()
            log.seek(0)
            return log.read().decode()

        logged.pid = process.pid
        yield port, logged
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def call(port: int, method: str, path: str, *, token: str | None = None, body=None):
    """One JSON request to the server: (status, parsed envelope)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    response = conn.getresponse()
    data = json.loads(response.read() or b"null")
    conn.close()
    return response.status, data


@dataclass
class Received:
    id: str | None = None
    event: str | None = None
    data: dict | None = None
    comment: str | None = None


class EventStream:
    """An open `text/event-stream` response, read event by event (comments included)."""

    def __init__(self, port: int, path: str, headers: dict | None = None, timeout: float = 5):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        self.conn.request("GET", path, headers={"Accept": "text/event-stream", **(headers or {})})
        self.response = self.conn.getresponse()
        self.status = self.response.status
        self.content_type = self.response.getheader("Content-Type")
        if self.status == 200:  # the server has subscribed once it says so
            assert self.next(skip_comments=False).comment == "connected"

    def next(self, *, skip_comments: bool = True) -> Received | None:
        """The next event (None at the end of the stream); socket timeout if none comes."""
        received = Received()
        while True:
            line = self.response.fp.readline()
            if not line:
                return None
            line = line.decode().rstrip("\n")
            if line == "":
                if received.comment is not None and skip_comments:
                    received = Received()
                    continue
                if received == Received():
                    continue
                return received
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "":
                received.comment = value
            elif field == "data":
                received.data = json.loads(value)
            else:
                setattr(received, field, value)

    def close(self) -> None:
        self.conn.close()
