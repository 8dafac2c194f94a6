"""Outages: Redis stopped, the database cut; 503 envelopes with Retry-After, then recovery."""

import random
import time
from collections import Counter
from collections.abc import Callable

from loadtest.abuse.data import PASSWORD, make_stream, make_user, tag, token_for, token_pair_for
from loadtest.abuse.harness import AdminBrowser, Harness


def run_through_a_fault(
    h: Harness,
    *,
    clients: int,
    request: Callable[[int, random.Random, int], tuple[str, int, dict]],
    fault: Callable[[], None],
    repair: Callable[[], None],
) -> dict[str, Counter]:
    """`clients` threads loop on `request(index, rng, n) -> (operation, status, headers)` for
    three phases of equal length: before the fault, during it, after the repair. Returns the
    `(operation, status)` counts by phase: "before" (answered before the fault), "during"
    (met it), "recovering" (sent in the first second after the repair), "after". Every 503
    must carry `Retry-After`."""
    phase = 3.0 if h.short else 8.0
    began = time.time()
    marks = {"down": began + phase, "up": began + 2 * phase, "end": began + 3 * phase}
    seen = {name: Counter() for name in ("before", "during", "recovering", "after")}

    def client(index: int) -> Callable[[], None]:
        def run() -> None:
            rng = random.Random(index)
            n = 0
            while (sent := time.time()) < marks["end"]:
                n += 1
                operation, status, headers = request(index, rng, n)
                if status == 503:
                    h.expect(
                        headers.get("Retry-After") == "5", f"{operation}: 503 without Retry-After"
                    )
                if time.time() < marks["down"]:
                    name = "before"  # answered before the fault
                elif sent < marks["up"]:
                    name = "during"  # met the fault, at least in part
                elif sent < marks["up"] + 1:
                    name = "recovering"
                else:
                    name = "after"
                with h.lock:
                    seen[name][(operation, status)] += 1
                time.sleep(0.02)

        return run

    def operator() -> None:
        time.sleep(max(0.0, marks["down"] - time.time()))
        fault()
        time.sleep(max(0.0, marks["up"] - time.time()))
        repair()
        marks["up"] = time.time()  # a slow repair: "after" starts when it is done

    h.parallel([client(index) for index in range(clients)] + [operator])
    return seen


def statuses_of(counts: Counter, *operations: str) -> Counter:
    return Counter(
        {status: n for (op, status), n in counts.items() if not operations or op in operations}
    )


def cache_outage(h: Harness) -> None:
    """Our Redis is stopped for a third of the run and started again: sign-in answers 503
    (fails closed), refresh and money go through (fail open), reads never needed it."""
    clients = 16
    users = [make_user(f"cache-{tag()}", credits=10_000) for _ in range(clients)]
    creator = make_user(f"creator-{tag()}")
    stream, minis = make_stream(creator, minis=1, mini_goal=10**9)
    sessions = [token_pair_for(user) for user in users]
    h.allow("login", 200, 429, 503)
    h.allow("refresh", 200)
    h.allow("fund", 201, 429)
    h.allow("support", 201, 429)
    h.allow("funded", 200)
    h.allow("health", 200, 503)
    h.allow("admin-login", 200, 429, 503)

    def request(index: int, rng: random.Random, n: int) -> tuple[str, int, dict]:
        address = f"10.2.{index}.{n % 250}"
        access, refresh = sessions[index]
        pick = rng.random()
        if pick < 0.12:
            body = {"username": users[index].username, "password": PASSWORD}
            status, _, headers = h.call(
                "login", "POST", "/api/v1/auth/login", body=body, address=address
            )
            return "login", status, headers
        if pick < 0.22:
            status, body, headers = h.call(
                "refresh",
                "POST",
                "/api/v1/auth/refresh",
                body={"refreshToken": refresh},
                address=address,
            )
            if status == 200:
                sessions[index] = (body["data"]["accessToken"], body["data"]["refreshToken"])
            return "refresh", status, headers
        if pick < 0.5:
            path = f"/api/v1/live-stream/{stream.pk}/fund"
            return h.send("fund", "POST", path, body={"amount": 1}, token=access)
        if pick < 0.6:
            path = f"/api/v1/live-stream/{stream.pk}/mini-crowd-fundings/{minis[0].pk}/support"
            return h.send("support", "POST", path, body={"amount": 1}, token=access)
        if pick < 0.8:
            path = "/api/v1/live-stream/funded?limit=5"
            return h.send("funded", "GET", path, token=access)
        if pick < 0.92:
            return h.send("health", "GET", "/api/v1/health")
        browser = AdminBrowser(h, address=address)
        status, _ = browser.open("POST", "/admin/login/", {"username": "nobody", "password": "x"})
        h.record("admin-login", status)
        return "admin-login", status, {"Retry-After": "5"} if status == 503 else {}

    seen = run_through_a_fault(
        h, clients=clients, request=request, fault=h.redis.stop, repair=h.redis.start
    )
    h.expect(seen["during"][("login", 503)] > 0, "no sign-in 503 during the outage: was it down?")
    h.expect(
        statuses_of(seen["during"], "fund", "support")[201] > 0,
        "no money request went through during the cache outage (they fail open)",
    )
    h.expect(statuses_of(seen["during"], "refresh")[200] > 0, "no refresh during the outage")
    for name in ("before", "after"):
        h.expect(statuses_of(seen[name])[503] == 0, f"503 {name} the outage: {dict(seen[name])}")


def database_outage(h: Harness) -> None:
    """The app's connections to PostgreSQL are cut (our proxy drops them and refuses new ones)
    for a third of the run: 503 envelopes with Retry-After, nothing half-written, and service
    comes back by itself."""
    clients = 16
    users = [make_user(f"db-{tag()}", credits=10_000) for _ in range(clients)]
    creator = make_user(f"creator-{tag()}")
    stream, _ = make_stream(creator, minis=0)
    tokens = [token_for(user) for user in users]
    h.allow("fund", 201, 429, 503)
    h.allow("funded", 200, 503)
    h.allow("login", 200, 429, 503)
    h.allow("health", 200, 503)

    def request(index: int, rng: random.Random, n: int) -> tuple[str, int, dict]:
        pick = rng.random()
        if pick < 0.5:
            path = f"/api/v1/live-stream/{stream.pk}/fund"
            return h.send("fund", "POST", path, body={"amount": 1}, token=tokens[index])
        if pick < 0.8:
            path = "/api/v1/live-stream/funded?limit=5"
            return h.send("funded", "GET", path, token=tokens[index])
        if pick < 0.9:
            body = {"username": users[index].username, "password": PASSWORD}
            address = f"10.3.{index}.{n % 250}"
            return h.send("login", "POST", "/api/v1/auth/login", body=body, address=address)
        return h.send("health", "GET", "/api/v1/health")

    seen = run_through_a_fault(
        h, clients=clients, request=request, fault=h.proxy.cut, repair=h.proxy.restore
    )
    h.expect(statuses_of(seen["during"])[503] > 0, "no 503 during the outage: was it cut?")
    for name in ("before", "after"):
        h.expect(statuses_of(seen[name])[503] == 0, f"503 {name} the outage: {dict(seen[name])}")
    h.expect(sum(seen["after"].values()) > 0, "no request after the outage")
