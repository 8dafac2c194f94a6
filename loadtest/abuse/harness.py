"""The HTTP clients of the suite: every answer recorded and its envelope checked."""

import http.client
import json
import threading
import urllib.parse
from collections.abc import Callable
from http.cookies import SimpleCookie

from loadtest.abuse.proxy import TcpProxy
from loadtest.envelope import envelope_problem
from loadtest.redis_server import RedisServer


class Harness:
    def __init__(self, *, base: str, short: bool, redis: RedisServer, proxy: TcpProxy):
        self.base = urllib.parse.urlsplit(base)
        self.short = short
        self.redis = redis
        self.proxy = proxy
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.records: list[tuple[str, int, str | None]] = []  # (operation, status, problem)
        self.allowed: dict[str, set[int]] = {}
        self.failures: list[str] = []

    def allow(self, operation: str, *statuses: int) -> None:
        self.allowed.setdefault(operation, set()).update(statuses)

    def fail(self, message: str) -> None:
        with self.lock:
            self.failures.append(message)

    def expect(self, condition: bool, message: str) -> None:
        if not condition:
            self.fail(message)

    def call(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        body=None,
        token: str | None = None,
        address: str | None = None,
        headers: dict | None = None,
    ) -> tuple[int, dict | None, dict]:
        """One API request: (status, parsed envelope or None, headers), recorded."""
        request_headers = {"Content-Type": "application/json", **(headers or {})}
        if token:
            request_headers["Authorization"] = f"Bearer {token}"
        if address:
            request_headers["X-Forwarded-For"] = address
        payload = None if body is None else json.dumps(body).encode()
        # A connection per request: a kept-alive one the server has closed meanwhile would
        # turn into a failure (or a retried POST) that is the client's, not the server's.
        conn = http.client.HTTPConnection(self.base.hostname, self.base.port, timeout=60)
        try:
            conn.request(method, path, body=payload, headers=request_headers)
            response = conn.getresponse()
            raw = response.read()
            status, response_headers = response.status, dict(response.getheaders())
        except (OSError, http.client.HTTPException) as error:
            with self.lock:
                self.records.append((operation, 0, f"connection: {type(error).__name__}"))
            return 0, None, {}
        finally:
            conn.close()
        problem = envelope_problem(status, raw)
        with self.lock:
            self.records.append((operation, status, problem))
        return status, (None if problem else json.loads(raw)), response_headers

    def send(self, operation: str, method: str, path: str, **options) -> tuple[str, int, dict]:
        """`call`, answering (operation, status, headers)."""
        status, _, headers = self.call(operation, method, path, **options)
        return operation, status, headers

    def record(self, operation: str, status: int, problem: str | None = None) -> None:
        with self.lock:
            self.records.append((operation, status, problem))

    def parallel(self, jobs: list[Callable[[], None]], timeout: float = 300) -> None:
        """Run every job at once (a barrier lines them up), one thread each."""
        barrier = threading.Barrier(len(jobs))
        errors: list[BaseException] = []

        def run(job: Callable[[], None]) -> None:
            try:
                barrier.wait(timeout=60)
                job()
            except BaseException as error:  # reported, never silently lost
                errors.append(error)

        threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=timeout)
        if any(thread.is_alive() for thread in threads):
            self.fail("a client thread never finished")
        for error in errors[:5]:
            self.fail(f"client error: {type(error).__name__}: {error}")

    def url(self, path: str) -> str:
        return f"http://{self.base.hostname}:{self.base.port}{path}"


class AdminBrowser:
    """An admin session: cookies, CSRF tokens and the admin's own forms, as a browser behind a
    TLS-terminating proxy sends them (`X-Forwarded-Proto: https`, an https `Referer`), since
    production cookies are `Secure`."""

    def __init__(self, h: Harness, address: str = "127.0.0.1", cookies: dict | None = None):
        self.h = h
        self.address = address
        self.cookies: dict[str, str] = {} if cookies is None else cookies

    def csrf(self) -> str:
        if "csrftoken" not in self.cookies:
            self.open("GET", "/admin/login/")
        return self.cookies["csrftoken"]

    def open(self, method: str, path: str, form: dict | None = None) -> tuple[int, bytes]:
        body = None
        origin = f"https://{self.h.base.hostname}:{self.h.base.port}"
        headers = {
            "X-Forwarded-For": self.address,
            "X-Forwarded-Proto": "https",
            "Referer": f"{origin}{path}",
        }
        if form is not None:
            body = urllib.parse.urlencode({**form, "csrfmiddlewaretoken": self.csrf()})
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        conn = http.client.HTTPConnection(self.h.base.hostname, self.h.base.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            content = response.read()
            for header in response.msg.get_all("Set-Cookie") or []:
                jar = SimpleCookie()
                jar.load(header)
                self.cookies.update({name: morsel.value for name, morsel in jar.items()})
            return response.status, content
        except (OSError, http.client.HTTPException):
            return 0, b""
        finally:
            conn.close()

    def login(self, username: str, password: str) -> int:
        status, _ = self.open(
            "POST", "/admin/login/", {"username": username, "password": password, "next": "/admin/"}
        )
        return status
