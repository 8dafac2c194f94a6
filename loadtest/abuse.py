"""Fault-and-abuse suite: races, faults and bursts against a live gunicorn, then the books.

    python -m loadtest.abuse            # full run (a few minutes)
    python -m loadtest.abuse --short    # what CI runs (about a minute)
    python -m loadtest.abuse --only money_race,cache_outage

Run through `scripts/abuse`, which sets up the environment. The suite starts, on this machine:
a redis-server of its own (ports 6395-6399, stopped on purpose in `cache_outage`), a TCP proxy
in front of PostgreSQL (`ABUSE_DB_PROXY_PORT`, cut on purpose in `database_outage`; the shared
server is never touched) and gunicorn (`scripts/serve-production`, `ABUSE_PORT`) on a fresh
database (`ABUSE_DATABASE_URL`, dropped and recreated) behind that proxy. The app trusts one
proxy (`DJANGO_NUM_PROXIES=1`), so clients can stand for many addresses with
`X-Forwarded-For`.

Each scenario is one function registered with `@scenario`; a new one (renting a replay,
deleting a stream...) is one more function: make its data with the services (`setup`
helpers below), send requests with `h.call(...)` from as many threads as it likes (`h.parallel`)
and say which statuses each operation may answer. After every scenario the suite checks:

- no 500 (or any status the scenario did not allow), every body the envelope;
- `manage.py audit_ledger` clean;
- conservation: balances + credits held by streams and mini crowd fundings = credits granted
  (`admin_adjustment` + `credit_purchase` ledger rows); the difference is credits invented (> 0)
  or lost (< 0), and must be 0.

Prints the figures per scenario and in total; exits 1 on any violation.
"""

import argparse
import contextlib
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from http.cookies import SimpleCookie
from pathlib import Path

from loadtest.envelope import envelope_problem
from loadtest.redis_server import RedisServer

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Abuse-Password-2026"
WEBHOOK_SECRET = f"abuse-webhook-{uuid.uuid4().hex}"
SCENARIOS: list[tuple[str, Callable]] = []


def scenario(function: Callable) -> Callable:
    """Register a scenario: `function(h: Harness) -> None`, run in the order defined."""
    SCENARIOS.append((function.__name__, function))
    return function


# --- the database proxy (a database outage without touching the shared server) ------------


class TcpProxy:
    """Forwards 127.0.0.1:`port` to the database. `cut()` closes every connection and refuses
    new ones (clients see the server vanish mid-query); `restore()` lets them through again."""

    def __init__(self, port: int, target: tuple[str, int]):
        self.port, self.target = port, target
        self.open = True
        self.lock = threading.Lock()
        self.sockets: set[socket.socket] = set()
        self.listener = socket.create_server(("127.0.0.1", port), reuse_port=False)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.open:
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.sockets.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                self._close(sock)

    def _close(self, sock: socket.socket) -> None:
        with self.lock:
            self.sockets.discard(sock)
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()

    def cut(self) -> None:
        self.open = False
        with self.lock:
            live = list(self.sockets)
        for sock in live:
            self._close(sock)

    def restore(self) -> None:
        self.open = True

    def close(self) -> None:
        self.cut()
        self.listener.close()


# --- the harness ------------------------------------------------------------------------------


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


# --- data, made through the services in this process (direct to the database) ---------------


def django_setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "allmine.settings")
    import django

    django.setup()


PASSWORD_HASHES: dict[str, str] = {}


def make_user(username: str, credits: int = 0, **extra):
    from django.contrib.auth.hashers import make_password

    from users.models import User
    from users.services import credits_grant

    if PASSWORD not in PASSWORD_HASHES:  # one slow hash for every user of the run
        PASSWORD_HASHES[PASSWORD] = make_password(PASSWORD)
    user = User(username=username, email=f"{username}@abuse.invalid", **extra)
    user.password = PASSWORD_HASHES[PASSWORD]
    user.save()
    if credits:
        credits_grant(user=user, amount=credits, description="abuse suite")
    return user


def token_for(user) -> str:
    return token_pair_for(user)[0]


def token_pair_for(user) -> tuple[str, str]:
    """(access, refresh) as `POST /auth/login` would give them."""
    from users.services import refresh_token_for

    user.refresh_from_db(fields=["token_version"])
    refresh = refresh_token_for(user)
    return str(refresh.access_token), str(refresh)


def make_stream(creator, *, minis: int = 1, goal: int = 1_000_000, mini_goal: int = 500):
    from django.utils import timezone

    from crowdfunding.models import MiniCrowdFunding
    from livestreams.services import live_stream_create

    stream = live_stream_create(
        creator=creator,
        title=f"Abuse stream {uuid.uuid4().hex[:6]}",
        interest="music",
        planned_start_date=timezone.now() + timedelta(days=7),
        duration_goal=60,
        funding_goal=goal,
    )
    made = [
        MiniCrowdFunding.objects.create(stream=stream, title=f"Goal {n}", goal=mini_goal)
        for n in range(minis)
    ]
    return stream, made


def tag() -> str:
    return uuid.uuid4().hex[:8]


def books() -> dict:
    """The audit (what `manage.py audit_ledger` checks) and the conservation of credits:
    granted (admin adjustments) + purchased (store purchases) − refunded purchases = balances +
    held by streams and mini crowd fundings not paid out + replay rental charges not yet settled
    + the platform's share of settled ones, of funding payouts and of gifts (the creator's and
    guest's shares are in balances; transfers move credits between balances)."""
    from django.db import connections
    from django.db.models import Exists, F, OuterRef, Sum

    from crowdfunding.audit import ledger_mismatches
    from crowdfunding.models import FundingPayout, MiniCrowdFunding
    from livestreams.models import Gift, LiveStream, ReplayRentalCharge
    from users.models import CreditLedgerEntry, User

    def total(queryset, expression) -> int:
        return queryset.aggregate(s=Sum(expression))["s"] or 0

    connections.close_all()  # a fresh connection: the proxy is not in the way of this process
    mismatches = list(ledger_mismatches())
    Type = CreditLedgerEntry.Type
    granted = total(CreditLedgerEntry.objects.filter(type=Type.ADMIN_ADJUSTMENT), "amount")
    purchases = CreditLedgerEntry.objects.filter(type=Type.CREDIT_PURCHASE)
    purchased = total(purchases.filter(status=CreditLedgerEntry.Status.COMPLETED), "amount")
    refunded = -total(purchases.filter(status=CreditLedgerEntry.Status.REFUNDED), "amount")
    into = granted + purchased - refunded
    balances = total(User.objects.all(), "credit_balance")
    charges = ReplayRentalCharge.objects.all()
    payouts = FundingPayout.objects.all()
    held = (
        total(
            LiveStream.objects.exclude(Exists(payouts.filter(stream=OuterRef("pk")))),
            "collected_funding",
        )
        + total(
            MiniCrowdFunding.objects.exclude(Exists(payouts.filter(stream=OuterRef("stream_id")))),
            "collected",
        )
        + total(charges.filter(status=ReplayRentalCharge.Status.ACTIVE), "price")
    )
    platform = total(
        charges.filter(status=ReplayRentalCharge.Status.SETTLED),
        F("price") - F("creator_share") - F("guest_share"),
    ) + total(payouts, F("total") - F("creator_share") - F("guest_share"))
    platform += total(Gift.objects.all(), F("amount") - F("creator_share") - F("guest_share"))
    return {
        "mismatches": mismatches,
        "granted": into,
        "purchased": purchased,
        "refunded_purchases": refunded,
        "balances": balances,
        "held": held + platform,
        "invented": balances + held + platform - into,
    }


# --- scenarios ----------------------------------------------------------------------------

MONEY_STATUSES = (200, 201, 400, 409, 429)


@scenario
def money_race(h: Harness) -> None:
    """64 clients fund and support in parallel (overdrafts, idempotent retries, bad amounts)
    while the creators cancel streams under them, each cancel sent twice at once."""
    from crowdfunding.models import Contribution, MiniCrowdFundingSupport
    from livestreams.models import LiveStream

    clients = 64
    rounds = 6 if h.short else 30
    creator = make_user(f"creator-{tag()}")
    canceller = make_user(f"canceller-{tag()}")
    kept = [make_stream(creator, minis=2) for _ in range(3)]
    doomed = [make_stream(canceller, minis=1) for _ in range(2)]
    targets = [(stream.pk, [mini.pk for mini in minis]) for stream, minis in kept + doomed]
    # Balances of 100: the clients try to spend more and must be refused, never overdrawn.
    funders = [make_user(f"funder-{tag()}", credits=100) for _ in range(clients)]
    tokens = [token_for(user) for user in funders]
    canceller_token = token_for(canceller)
    for operation in ("fund", "support", "fund-retry", "bad-amount"):
        h.allow(operation, *MONEY_STATUSES)
    h.allow("cancel", 200, 409)

    def client(index: int) -> Callable[[], None]:
        def run() -> None:
            rng = random.Random(index)
            for _ in range(rounds):
                stream_id, mini_ids = rng.choice(targets)
                action = rng.random()
                amount = rng.randint(1, 30)
                if action < 0.45:
                    h.call(
                        "fund",
                        "POST",
                        f"/api/v1/live-stream/{stream_id}/fund",
                        body={"amount": amount},
                        token=tokens[index],
                    )
                elif action < 0.8:
                    h.call(
                        "support",
                        "POST",
                        f"/api/v1/live-stream/{stream_id}/mini-crowd-fundings/"
                        f"{rng.choice(mini_ids)}/support",
                        body={"amount": amount},
                        token=tokens[index],
                    )
                elif action < 0.95:
                    key = {"Idempotency-Key": uuid.uuid4().hex}
                    first = h.call(
                        "fund-retry",
                        "POST",
                        f"/api/v1/live-stream/{stream_id}/fund",
                        body={"amount": amount},
                        token=tokens[index],
                        headers=key,
                    )
                    again = h.call(
                        "fund-retry",
                        "POST",
                        f"/api/v1/live-stream/{stream_id}/fund",
                        body={"amount": amount},
                        token=tokens[index],
                        headers=key,
                    )
                    if first[0] == 201:
                        h.expect(
                            again[0] == 201 and again[2].get("Idempotent-Replayed") == "true",
                            f"idempotent retry answered {again[0]} instead of the replay",
                        )
                else:
                    h.call(
                        "bad-amount",
                        "POST",
                        f"/api/v1/live-stream/{stream_id}/fund",
                        body={"amount": rng.choice([0, -5, "ten", 10**12, None])},
                        token=tokens[index],
                    )

        return run

    def cancel(stream_id: str) -> Callable[[], None]:
        def run() -> None:
            time.sleep(0.5)
            h.call(
                "cancel", "POST", f"/api/v1/live-stream/{stream_id}/cancel", token=canceller_token
            )

        return run

    jobs = [client(index) for index in range(clients)]
    jobs += [cancel(stream.pk) for stream, _ in doomed for _ in range(2)]
    h.parallel(jobs)

    for stream, _ in doomed:
        stream.refresh_from_db()
        h.expect(stream.status == LiveStream.Status.CANCELLED_BY_HOST, f"{stream.pk} not cancelled")
        h.expect(stream.collected_funding == 0, f"cancelled {stream.pk} still holds credits")
        live = Contribution.objects.filter(stream=stream, status="completed").count()
        live += MiniCrowdFundingSupport.objects.filter(
            mini_crowd_funding__stream=stream, status="completed"
        ).count()
        h.expect(live == 0, f"cancelled {stream.pk} has {live} unrefunded payments")
    cancels = Counter(status for op, status, _ in h.records if op == "cancel")
    h.expect(cancels == {200: 2, 409: 2}, f"each stream cancelled exactly once: {dict(cancels)}")
    for user in funders:
        user.refresh_from_db(fields=["credit_balance"])
        h.expect(user.credit_balance >= 0, f"{user.username} overdrawn: {user.credit_balance}")


@scenario
def replay_rental_race(h: Harness) -> None:
    """32 viewers rent one replay, each twice at once (one charge each, the repeat is a free
    200), while 16 viewers who cannot afford it try too."""
    from livestreams.models import LiveStream, ReplayRentalCharge

    price = 7
    creator = make_user(f"creator-{tag()}")
    stream, _ = make_stream(creator, minis=0)
    LiveStream.objects.filter(pk=stream.pk).update(
        status=LiveStream.Status.ENDED,
        recording_url="https://cdn.allmine.example/replay.m3u8",
        is_active_replay_on_creator_profile=True,
        replay_credit_price=price,
    )
    renters = [make_user(f"renter-{tag()}", credits=20) for _ in range(32)]
    poor = [make_user(f"poor-{tag()}", credits=price - 1) for _ in range(16)]
    path = f"/api/v1/live-stream/{stream.pk}/replay-rentals"
    h.allow("rent", 200, 201, 429)
    h.allow("rent-unaffordable", 409, 429)
    rich_tokens = [token_for(user) for user in renters]
    poor_tokens = [token_for(user) for user in poor]
    jobs = [lambda t=t: h.call("rent", "POST", path, token=t) for t in rich_tokens * 2]
    jobs += [lambda t=t: h.call("rent-unaffordable", "POST", path, token=t) for t in poor_tokens]
    h.parallel(jobs)

    rents = Counter(status for op, status, _ in h.records if op == "rent")
    h.expect(rents == {201: 32, 200: 32}, f"one charge and one free repeat each: {dict(rents)}")
    charges = ReplayRentalCharge.objects.filter(rental__stream=stream)
    h.expect(charges.count() == 32, f"{charges.count()} charges for 32 renters")
    for user in renters:
        user.refresh_from_db(fields=["credit_balance"])
        h.expect(user.credit_balance == 20 - price, f"{user.username} charged wrongly")


@scenario
def purchase_race(h: Harness) -> None:
    """The store webhook under fire: 16 purchases each delivered 4 times at once, deliveries
    with a wrong or no secret, unknown products and users, and refunds (sent twice at once)
    of purchases half of whose buyers have already given the credits away."""
    from users.models import CreditPackage, StoreEvent

    product = f"abuse.credits.{tag()}"
    CreditPackage.objects.create(
        credit_amount=50, revenuecat_product_id=product, store_identifier=product, store_type="web"
    )
    buyers = [make_user(f"buyer-{tag()}") for _ in range(16)]
    friend = make_user(f"friend-{tag()}")
    path = "/api/v1/webhooks/revenuecat"
    auth = {"Authorization": WEBHOOK_SECRET}

    def event(kind: str, user_id: str, transaction: str, **extra) -> dict:
        body = {"id": f"{kind}-{transaction}", "type": kind, "app_user_id": user_id}
        return {"api_version": "1.0", "event": {**body, "product_id": product,
                "transaction_id": transaction, "store": "APP_STORE", **extra}}  # fmt: skip

    h.allow("webhook-purchase", 200)
    h.allow("webhook-bad-secret", 401)
    h.allow("webhook-ignored", 200)
    purchases = {user.pk: event("NON_RENEWING_PURCHASE", user.pk, tag()) for user in buyers}
    jobs = [
        lambda body=body: h.call("webhook-purchase", "POST", path, body=body, headers=auth)
        for body in purchases.values()
        for _ in range(4)
    ]
    jobs += [
        lambda body=body, secret=secret: h.call(
            "webhook-bad-secret", "POST", path, body=body, headers=secret
        )
        for body in list(purchases.values())[:4]
        for secret in ({"Authorization": "wrong"}, {})
    ]
    jobs += [
        lambda body=body: h.call("webhook-ignored", "POST", path, body=body, headers=auth)
        for body in (
            event("NON_RENEWING_PURCHASE", "64d15f9e2e6c8f4d5a123456", tag()),
            {**event("INITIAL_PURCHASE", buyers[0].pk, tag(), product_id="com.unknown")},
            event("RENEWAL", buyers[1].pk, tag()),
        )
    ]
    h.parallel(jobs)
    credited = StoreEvent.objects.filter(user__in=buyers, outcome="credited").count()
    h.expect(credited == 16, f"{credited} purchases credited for 16 events sent 4 times each")
    for user in buyers:
        user.refresh_from_db(fields=["credit_balance"])
        h.expect(user.credit_balance == 50, f"{user.username} has {user.credit_balance}, not 50")

    # Half the buyers give 30 credits away, then every purchase is refunded (twice at once).
    h.allow("give-away", 201)
    h.parallel(
        [
            lambda user=user: h.call(
                "give-away", "POST", "/api/v1/messages/credit-transfer",
                body={"recipientId": friend.pk, "amount": 30}, token=token_for(user),
            )
            for user in buyers[:8]
        ]
    )  # fmt: skip
    h.allow("webhook-refund", 200)
    refunds = [
        event("CANCELLATION", user.pk, purchases[user.pk]["event"]["transaction_id"],
              cancel_reason="CUSTOMER_SUPPORT")
        for user in buyers
    ]  # fmt: skip
    h.parallel(
        [
            lambda body=body: h.call("webhook-refund", "POST", path, body=body, headers=auth)
            for body in refunds * 2
        ]
    )
    outcomes = Counter(
        StoreEvent.objects.filter(user__in=buyers, event_type="CANCELLATION").values_list(
            "outcome", flat=True
        )
    )
    h.expect(outcomes == {"refunded": 8, "refund_short": 8}, f"refund outcomes {dict(outcomes)}")
    for user in buyers:
        user.refresh_from_db(fields=["credit_balance"])
        expected = 20 if user in buyers[:8] else 0
        h.expect(user.credit_balance == expected, f"{user.username}: {user.credit_balance}")


@scenario
def transfer_race(h: Harness) -> None:
    """64 transfers at once between two users both ways, 32 clients sending around a ring
    (overdrafts, idempotent retries, transfers to oneself, to a suspended user)."""
    from users.models import CreditTransfer, User

    alice, bob = make_user(f"alice-{tag()}", credits=40), make_user(f"bob-{tag()}", credits=40)
    ring = [make_user(f"ring-{tag()}", credits=25) for _ in range(32)]
    banned = make_user(f"banned-{tag()}", account_status=User.AccountStatus.SUSPENDED)
    url = "/api/v1/messages/credit-transfer"
    h.allow("transfer", 201, 409, 429)
    h.allow("transfer-retry", 201, 409, 429)
    h.allow("transfer-refused", 400, 409, 429)
    tokens = {user.pk: token_for(user) for user in (alice, bob)}
    pair = [(alice, bob, 3), (bob, alice, 2)] * 32
    jobs = [
        lambda a=a, b=b, n=n: h.call(
            "transfer", "POST", url, body={"recipientId": b.pk, "amount": n}, token=tokens[a.pk]
        )
        for a, b, n in pair
    ]
    for index, user in enumerate(ring):
        token, after = token_for(user), ring[(index + 1) % len(ring)]
        key = {"Idempotency-Key": uuid.uuid4().hex}
        body = {"recipientId": after.pk, "amount": 10}
        jobs += [
            lambda token=token, body=body, key=key: h.call(
                "transfer-retry", "POST", url, body=body, token=token, headers=key
            )
        ] * 2
        jobs.append(
            lambda token=token, who=(user if index % 2 else banned): h.call(
                "transfer-refused", "POST", url, body={"recipientId": who.pk, "amount": 1},
                token=token,
            )
        )  # fmt: skip
    h.parallel(jobs)
    for user in (alice, bob):
        user.refresh_from_db(fields=["credit_balance"])
    h.expect(alice.credit_balance + bob.credit_balance == 80, "alice and bob's 80 credits")
    ring_total = 0
    for user in ring:
        user.refresh_from_db(fields=["credit_balance"])
        ring_total += user.credit_balance
    h.expect(ring_total == 32 * 25, f"the ring holds {ring_total}, not {32 * 25}")
    sent = CreditTransfer.objects.filter(sender__in=ring).count()
    h.expect(sent == 32, f"{sent} ring transfers for 32 keys sent twice each")


@scenario
def gift_race(h: Harness) -> None:
    """32 viewers send gifts on a live duo stream while its creator ends it (twice at once):
    every gift lands before the end or is refused, each paid out by the split."""
    from django.utils import timezone

    from livestreams.models import Gift, GiftType, LiveStream, StreamGuest

    creator, guest = make_user(f"creator-{tag()}"), make_user(f"guest-{tag()}")
    stream, _ = make_stream(creator, minis=0)
    LiveStream.objects.filter(pk=stream.pk).update(
        status=LiveStream.Status.ACTIVE, live_stream_type="duocrowd", started_at=timezone.now()
    )
    StreamGuest.objects.create(stream=stream, user=guest)
    gift_type = GiftType.objects.create(name=f"Abuse {tag()}", credit_amount=7)
    viewers = [make_user(f"viewer-{tag()}", credits=30) for _ in range(32)]
    h.allow("gift", 201, 409, 429)
    h.allow("gift-refused", 400, 403, 404, 429)
    h.allow("end", 200, 409)
    body = {"giftTypeId": gift_type.pk, "liveStreamId": stream.pk}
    tokens = [token_for(viewer) for viewer in viewers]
    guest_token, creator_token = token_for(guest), token_for(creator)
    jobs = [
        lambda t=t: h.call("gift", "POST", "/api/v1/gifts/create", body=body, token=t)
        for t in tokens
        for _ in range(5)
    ]
    jobs += [
        lambda: h.call(
            "gift-refused", "POST", "/api/v1/gifts/create", body=body, token=guest_token
        ),
        lambda: h.call(
            "gift-refused", "POST", "/api/v1/gifts/create",
            body={"giftTypeId": "nope", "liveStreamId": stream.pk}, token=tokens[0],
        ),
    ]  # fmt: skip
    jobs += [
        lambda: h.call("end", "POST", f"/api/v1/live-stream/{stream.pk}/end", token=creator_token)
    ] * 2
    h.parallel(jobs)
    stream.refresh_from_db()
    h.expect(stream.status == LiveStream.Status.ENDED, f"stream is {stream.status}")
    late = Gift.objects.filter(stream=stream, created_at__gt=stream.ended_at).count()
    h.expect(late == 0, f"{late} gifts after the stream ended")
    gifts = Gift.objects.filter(stream=stream)
    accepted = sum(1 for op, status, _ in h.records if op == "gift" and status == 201)
    h.expect(gifts.count() == accepted, f"{gifts.count()} gifts for {accepted} 201s")
    for user, share in ((creator, 2), (guest, 2)):  # 7 credits: 40 % floored each
        user.refresh_from_db(fields=["credit_balance"])
        h.expect(user.credit_balance == share * accepted, f"{user.username} paid wrongly")


@scenario
def delete_race(h: Harness) -> None:
    """The creator deletes two streams (each delete sent twice at once) while 24 clients fund
    and support the scheduled one and 16 rent the ended one's replay: everything paid is
    refunded in the deleting transaction, whatever slipped in before it."""
    from crowdfunding.models import Contribution, MiniCrowdFundingSupport
    from livestreams.models import LiveStream, ReplayRentalCharge

    creator = make_user(f"creator-{tag()}")
    scheduled, minis = make_stream(creator, minis=1, mini_goal=10**6)
    ended, _ = make_stream(creator, minis=0)
    LiveStream.objects.filter(pk=ended.pk).update(
        status=LiveStream.Status.ENDED,
        recording_url="https://cdn.allmine.example/replay.m3u8",
        is_active_replay_on_creator_profile=True,
        replay_credit_price=5,
    )
    funders = [token_for(make_user(f"funder-{tag()}", credits=1000)) for _ in range(24)]
    renters = [token_for(make_user(f"renter-{tag()}", credits=100)) for _ in range(16)]
    creator_token = token_for(creator)
    for operation in ("fund", "support", "rent"):
        h.allow(operation, 200, 201, 404, 409, 429)
    h.allow("delete", 200, 404)
    fund_path = f"/api/v1/live-stream/{scheduled.pk}/fund"
    support_path = f"/api/v1/live-stream/{scheduled.pk}/mini-crowd-fundings/{minis[0].pk}/support"
    rent_path = f"/api/v1/live-stream/{ended.pk}/replay-rentals"

    def funder(token: str) -> None:
        for n in range(8):
            if n % 2:
                h.call("support", "POST", support_path, body={"amount": 3}, token=token)
            else:
                h.call("fund", "POST", fund_path, body={"amount": 5}, token=token)

    def renter(token: str) -> None:
        for _ in range(3):
            h.call("rent", "POST", rent_path, token=token)
            time.sleep(0.1)

    def delete(stream_id: str) -> None:
        time.sleep(1.0)
        h.call("delete", "DELETE", f"/api/v1/live-stream/{stream_id}", token=creator_token)

    jobs = [lambda t=t: funder(t) for t in funders] + [lambda t=t: renter(t) for t in renters]
    jobs += [lambda s=s: delete(s) for s in (scheduled.pk, ended.pk) for _ in range(2)]
    h.parallel(jobs)

    deletes = Counter(status for op, status, _ in h.records if op == "delete")
    h.expect(deletes[200] == 2, f"each stream deleted exactly once: {dict(deletes)}")
    for stream in (scheduled, ended):
        stream.refresh_from_db()
        h.expect(stream.deleted_at is not None, f"{stream.pk} not deleted")
        h.expect(stream.collected_funding == 0, f"deleted {stream.pk} still holds credits")
    paid = Contribution.objects.filter(stream=scheduled, status="completed").count()
    paid += MiniCrowdFundingSupport.objects.filter(
        mini_crowd_funding__stream=scheduled, status="completed"
    ).count()
    h.expect(paid == 0, f"{paid} payments to the deleted stream not refunded")
    open_charges = ReplayRentalCharge.objects.filter(
        rental__stream=ended, status=ReplayRentalCharge.Status.ACTIVE
    ).count()
    h.expect(open_charges == 0, f"{open_charges} rentals of the deleted stream not refunded")


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


@scenario
def clock_race(h: Harness) -> None:
    """The clock under load, run by real workers (`run_worker`, no command): 32 clients fund
    and support three streams whose planned start passes during the run (no grace: funding
    closes and expiry falls due at the same instant) while two workers sweep, and four ended
    streams fall due for their payout; one worker is SIGKILLed just after the deadline and
    another started. Each fund is refused or refunded, never kept on an expired stream; each
    ended stream is paid exactly once, 80 % to its creator."""
    from django.utils import timezone

    from crowdfunding.models import Contribution, FundingPayout, MiniCrowdFundingSupport
    from livestreams.models import LiveStream

    clients = 32
    creator = make_user(f"clock-creator-{tag()}")
    expiring = [make_stream(creator, minis=1, mini_goal=10**6) for _ in range(3)]
    ended = [make_stream(creator, minis=0)[0] for _ in range(4)]
    funders = [make_user(f"clock-funder-{tag()}", credits=1000) for _ in range(clients)]
    tokens = [token_for(user) for user in funders]
    # The ended streams: funded while scheduled (through the API), then ended two days ago.
    for stream in ended:
        for token in tokens[:4]:
            h.call("fund-ended", "POST", f"/api/v1/live-stream/{stream.pk}/fund",
                   body={"amount": 25}, token=token)  # fmt: skip
    ended_at = timezone.now() - timedelta(days=2)
    LiveStream.objects.filter(pk__in=[s.pk for s in ended]).update(
        status=LiveStream.Status.ENDED, started_at=ended_at - timedelta(hours=1), ended_at=ended_at
    )
    start = timezone.now() + timedelta(seconds=2 if h.short else 5)
    LiveStream.objects.filter(pk__in=[s.pk for s, _ in expiring]).update(
        planned_start_date=start, planned_end_date=start + timedelta(hours=1)
    )
    for operation in ("fund", "support"):
        h.allow(operation, 201, 409, 429)
    h.allow("fund-ended", 201)
    log = Path(os.environ.get("ABUSE_OUT", "/tmp/allmine-abuse")) / "workers.log"
    # The payouts fall due at the deadline too: both sweeps run while the clients hammer.
    delay = round((start - ended_at).total_seconds())
    clock = {"STREAM_START_GRACE": "0", "FUNDING_PAYOUT_DELAY": str(delay)}
    workers = [start_worker(log, **clock) for _ in range(2)]
    stop = threading.Event()

    def funder(index: int) -> None:
        rng = random.Random(index)
        while not stop.is_set():
            stream, minis = rng.choice(expiring)
            if rng.random() < 0.6:
                h.call("fund", "POST", f"/api/v1/live-stream/{stream.pk}/fund",
                       body={"amount": rng.randint(1, 9)}, token=tokens[index])  # fmt: skip
            else:
                h.call("support", "POST",
                       f"/api/v1/live-stream/{stream.pk}/mini-crowd-fundings/{minis[0].pk}/support",
                       body={"amount": rng.randint(1, 9)}, token=tokens[index])  # fmt: skip

    def clock_keeper() -> None:
        """Kill a worker just after the deadline, start another, and stop the clients once
        every stream has expired and every payout is made (or after a minute)."""
        time.sleep(max(0.0, (start - timezone.now()).total_seconds()) + 0.2)
        workers[0].kill()
        workers[0].wait(timeout=10)
        workers.append(start_worker(log, **clock))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            expired = LiveStream.objects.filter(
                pk__in=[s.pk for s, _ in expiring], status=LiveStream.Status.EXPIRED
            ).count()
            paid = FundingPayout.objects.filter(stream__in=ended).count()
            if expired == len(expiring) and paid == len(ended):
                break
            time.sleep(0.1)
        time.sleep(0.5)  # the clients keep trying on the expired streams a moment
        stop.set()

    try:
        h.parallel([lambda i=i: funder(i) for i in range(clients)] + [clock_keeper])
    finally:
        stop.set()
        for worker in workers:
            if worker.poll() is None:
                worker.terminate()
                try:
                    worker.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    worker.kill()

    for stream, _ in expiring:
        stream.refresh_from_db()
        h.expect(stream.status == LiveStream.Status.EXPIRED, f"{stream.pk} is {stream.status}")
        h.expect(stream.collected_funding == 0, f"expired {stream.pk} still holds credits")
        kept = Contribution.objects.filter(stream=stream, status="completed").count()
        kept += MiniCrowdFundingSupport.objects.filter(
            mini_crowd_funding__stream=stream, status="completed"
        ).count()
        h.expect(kept == 0, f"expired {stream.pk} kept {kept} payments")
    made = Counter(status for op, status, _ in h.records if op in ("fund", "support"))
    h.expect(made[201] > 0 and made[409] > 0, f"funding never crossed the deadline: {made}")
    for stream in ended:
        payouts = list(FundingPayout.objects.filter(stream=stream))
        h.expect(len(payouts) == 1 and payouts[0].total == 100, f"{stream.pk}: {payouts}")
    creator.refresh_from_db(fields=["credit_balance"])
    h.expect(creator.credit_balance == 4 * 80, f"creator got {creator.credit_balance}, not 320")


@scenario
def admin_password_race(h: Harness) -> None:
    """An operator changes users' passwords in /admin/ (a slow hash, then a save) while each
    user funds in parallel, and once while the user logs out. Nothing may be invented, and the
    token revoked by the logout must stay revoked."""
    changes = 2 if h.short else 8
    funders = 8
    creator = make_user(f"creator-{tag()}")
    stream, _ = make_stream(creator, minis=0)
    admin_name = f"admin-{tag()}"
    make_user(admin_name, is_staff=True, is_superuser=True)
    browser = AdminBrowser(h, address="10.250.0.1")
    h.expect(browser.login(admin_name, PASSWORD) == 302, "the operator could not sign in")
    h.allow("fund", 201, 401, 429)
    h.allow("logout", 200)
    h.allow("admin-password", 302)
    h.allow("revoked-token", 401)

    def change_password(user, n: int) -> None:
        new = f"{PASSWORD}-{n}"
        status, _ = browser.open(
            "POST",
            f"/admin/users/user/{user.pk}/password/",
            {"password1": new, "password2": new, "usable_password": "true"},
        )
        h.record("admin-password", status)

    # A fresh victim per change (each has its own 60/min money allowance).
    for n in range(changes):
        victim = make_user(f"victim-{tag()}", credits=10_000)
        tokens = [token_for(victim) for _ in range(funders)]
        stop = threading.Event()

        def fund(token: str, stop: threading.Event = stop) -> None:
            while not stop.is_set():
                h.call(
                    "fund",
                    "POST",
                    f"/api/v1/live-stream/{stream.pk}/fund",
                    body={"amount": 1},
                    token=token,
                )

        def operator(victim=victim, stop: threading.Event = stop, n: int = n) -> None:
            time.sleep(0.1)
            change_password(victim, n)
            time.sleep(0.1)
            stop.set()

        h.parallel([lambda t=t: fund(t) for t in tokens] + [operator])

    # Logout while the operator's change is between its read and its save.
    leaver = make_user(f"leaver-{tag()}")
    revoked = token_for(leaver)

    def logout() -> None:
        time.sleep(0.15)
        h.call("logout", "POST", "/api/v1/auth/logout", token=revoked)

    h.parallel([lambda: change_password(leaver, 99), logout])
    status, _, _ = h.call("revoked-token", "GET", "/api/v1/live-stream/funded", token=revoked)
    h.expect(status == 401, f"a token revoked by logout works again ({status})")


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


@scenario
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


@scenario
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


def wait_for_a_fresh_window(period: int = 60, needed: float = 15.0) -> None:
    """Fixed windows start on the clock's period boundaries: make sure a burst fits in one."""
    left = period - time.time() % period
    if left < needed:
        time.sleep(left + 0.2)


@scenario
def throttle_bursts(h: Harness) -> None:
    """Parallel bursts against the production limits (sign-in 20/min per address and per
    account, money 60/min per user); each limit must hold exactly."""
    from users.models import User

    auth_limit, funding_limit = 20, 60
    net = f"10.{random.randint(100, 199)}.{random.randint(0, 250)}"
    funder = make_user(f"burst-{tag()}", credits=10_000)
    target = make_user(f"target-{tag()}")
    admin_name = f"burst-admin-{tag()}"
    make_user(admin_name, is_staff=True, is_superuser=True)
    stream, _ = make_stream(make_user(f"creator-{tag()}"), minis=0)
    funder_token = token_for(funder)
    for operation in ("login-one-address", "login-one-account", "login-with-bearer"):
        h.allow(operation, 401, 429)
    h.allow("fund-burst", 201, 429)
    h.allow("admin-burst", 200, 429)
    h.allow("admin-right-password", 429)

    # 64 logins at once from one address, each at another (unknown) account.
    wait_for_a_fresh_window()
    h.parallel(
        [
            lambda n=n: h.call(
                "login-one-address",
                "POST",
                "/api/v1/auth/login",
                body={"username": f"nobody-{n}", "password": "x"},
                address=f"{net}.1",
            )
            for n in range(64)
        ]
    )
    # A valid Bearer token does not open a fresh bucket for the spent address.
    h.call(
        "login-with-bearer",
        "POST",
        "/api/v1/auth/login",
        body={"username": funder.username, "password": PASSWORD},
        address=f"{net}.1",
        token=funder_token,
    )
    # 5 addresses x 20 guesses at one account.
    wait_for_a_fresh_window()
    h.parallel(
        [
            lambda a=a: h.call(
                "login-one-account",
                "POST",
                "/api/v1/auth/login",
                body={"username": target.username, "password": "guess"},
                address=f"{net}.{10 + a}",
            )
            for a in range(5)
            for _ in range(auth_limit)
        ]
    )
    # 64 funds at once by one user.
    wait_for_a_fresh_window()
    h.parallel(
        [
            lambda: h.call(
                "fund-burst",
                "POST",
                f"/api/v1/live-stream/{stream.pk}/fund",
                body={"amount": 1},
                token=funder_token,
            )
            for _ in range(64)
        ]
    )
    # /admin/login/: 25 wrong passwords from 25 addresses at once, then the right one.
    csrf_source = AdminBrowser(h, address=f"{net}.200")

    def admin_attempt(n: int) -> None:
        browser = AdminBrowser(h, address=f"{net}.{100 + n}", cookies=dict(csrf_source.cookies))
        status, _ = browser.open(
            "POST", "/admin/login/", {"username": admin_name, "password": "wrong"}
        )
        h.record("admin-burst", status)

    csrf_source.csrf()
    wait_for_a_fresh_window()
    h.parallel([lambda n=n: admin_attempt(n) for n in range(25)])
    right = AdminBrowser(h, address=f"{net}.250")
    h.record("admin-right-password", right.login(admin_name, PASSWORD))

    def outcome(operation: str) -> dict:
        return dict(Counter(status for op, status, _ in h.records if op == operation))

    expected = {
        "login-one-address": {401: auth_limit, 429: 64 - auth_limit},
        "login-one-account": {401: auth_limit, 429: 5 * auth_limit - auth_limit},
        "login-with-bearer": {429: 1},
        "fund-burst": {201: funding_limit, 429: 64 - funding_limit},
        "admin-burst": {200: auth_limit, 429: 25 - auth_limit},
        "admin-right-password": {429: 1},
    }
    for operation, counts in expected.items():
        h.expect(outcome(operation) == counts, f"{operation}: {outcome(operation)} != {counts}")
    funder.refresh_from_db(fields=["credit_balance"])
    h.expect(funder.credit_balance == 10_000 - funding_limit, "fund burst charged wrongly")
    h.expect(not User.objects.get(username=admin_name).last_login, "admin signed in past the limit")


# --- the run ----------------------------------------------------------------------------------


def recreate_database(url: str) -> None:
    import psycopg

    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    admin_url = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--short", action="store_true", help="CI's quick run")
    parser.add_argument("--only", default="", help="comma-separated scenario names")
    args = parser.parse_args()

    port = int(os.environ.get("ABUSE_PORT", "8120"))
    proxy_port = int(os.environ.get("ABUSE_DB_PROXY_PORT", "8128"))
    database_url = os.environ.get(
        "ABUSE_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/allmine_abuse"
    )
    out = Path(os.environ.get("ABUSE_OUT", "/tmp/allmine-abuse"))
    out.mkdir(parents=True, exist_ok=True)
    parts = urllib.parse.urlsplit(database_url)
    credentials = parts.netloc.rpartition("@")[0]
    proxy_netloc = f"127.0.0.1:{proxy_port}"
    proxied = urllib.parse.urlunsplit(
        parts._replace(netloc=f"{credentials}@{proxy_netloc}" if credentials else proxy_netloc)
    )
    os.environ["DATABASE_URL"] = database_url  # this process reads and checks directly
    # One key for the server and this process, which signs the clients' tokens.
    os.environ["DJANGO_SECRET_KEY"] = os.environ["JWT_SIGNING_KEY"] = uuid.uuid4().hex * 2
    os.environ.pop("REDIS_URL", None)

    # Stopped from outside: still stop the server, Redis and proxy (the `finally` below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    recreate_database(database_url)
    wanted = [name for name in args.only.split(",") if name]
    chosen = [(name, f) for name, f in SCENARIOS if not wanted or name in wanted]
    proxy = TcpProxy(proxy_port, (parts.hostname, parts.port or 5432))
    redis = RedisServer(ports=range(6395, 6400)).start()
    server = None
    results = []
    try:
        server = start_server(
            port=port, database_url=proxied, redis_url=redis.url, log=out / "server.log"
        )
        django_setup()
        harness = Harness(
            base=f"http://127.0.0.1:{port}", short=args.short, redis=redis, proxy=proxy
        )
        for name, function in chosen:
            harness.reset()
            before = books()
            started = time.time()
            try:
                function(harness)
            except Exception as error:
                harness.fail(f"scenario crashed: {type(error).__name__}: {error}")
            if not redis.ping():  # a scenario that stops Redis brings it back; make sure
                redis.start()
            proxy.restore()
            results.append(report(name, harness, before, books(), time.time() - started))
    finally:
        if server is not None:
            os.killpg(server.pid, 15)
            server.wait(timeout=30)
        redis.stop()
        proxy.close()

    log_text = (out / "server.log").read_text(errors="replace")
    # Answers of 500 in the request log (503s log their database error on purpose).
    logged_500s = log_text.count('"status": 500')
    total = Counter()
    for result in results:
        total.update({k: result[k] for k in ("requests", "500s", "unexpected")})
    failed = [r["scenario"] for r in results if not r["ok"]]
    print(
        f"\n== total: {total['requests']} requests, {total['500s']} answered 500, "
        f"{total['unexpected']} unexpected; 500s in the server log: {logged_500s}; "
        f"scenarios failed: {', '.join(failed) or 'none'}"
    )
    (out / "report.json").write_text(json.dumps(results, indent=2) + "\n")
    return 1 if failed or logged_500s or len(results) != len(chosen) else 0


def report(name: str, h: Harness, before: dict, ledger: dict, seconds: float) -> dict:
    """Figures of one scenario; its violations are what it changed (an earlier scenario's
    mismatch is reported there, not again)."""
    by_operation: dict[str, Counter] = {}
    for operation, status, _ in h.records:
        by_operation.setdefault(operation, Counter())[status] += 1
    unexpected = [
        (op, status, problem)
        for op, status, problem in h.records
        if problem or status not in h.allowed.get(op, set())
    ]
    errors_500 = sum(1 for _, status, _ in h.records if status >= 500 and status != 503)
    violations = list(h.failures)
    if unexpected:
        sample = Counter(
            f"{op} {status} {problem or ''}".strip() for op, status, problem in unexpected
        )
        violations.append(f"unexpected answers: {dict(sample.most_common(6))}")
    new_mismatches = [m for m in ledger["mismatches"] if m not in before["mismatches"]]
    for mismatch in new_mismatches[:10]:
        violations.append(f"audit_ledger: {mismatch}")
    invented = ledger["invented"] - before["invented"]
    if invented:
        violations.append(f"{abs(invented)} credits {'invented' if invented > 0 else 'lost'}")
    result = {
        "scenario": name,
        "seconds": round(seconds, 1),
        "requests": len(h.records),
        "outcomes": {op: dict(sorted(c.items())) for op, c in sorted(by_operation.items())},
        "500s": errors_500,
        "unexpected": len(unexpected),
        "audit_ledger": "clean" if not new_mismatches else f"{len(new_mismatches)} mismatches",
        "credits_granted": ledger["granted"],
        "credits_in_balances": ledger["balances"],
        "credits_held_by_streams": ledger["held"],
        "credits_invented_or_lost": invented,
        "violations": violations,
        "ok": not violations,
    }
    print(f"\n== {name}: {'ok' if result['ok'] else 'FAILED'} ({result['seconds']} s)")
    print(
        f"   requests {result['requests']}, 500s {errors_500}, unexpected {len(unexpected)}; "
        f"audit_ledger {result['audit_ledger']}; credits granted {ledger['granted']}, "
        f"in balances {ledger['balances']}, held by streams {ledger['held']}; "
        f"invented (+) or lost (-) here: {invented}"
    )
    for operation, counts in result["outcomes"].items():
        print(f"   {operation:24} {counts}")
    for violation in violations:
        print(f"   VIOLATION: {violation}")
    return result


if __name__ == "__main__":
    sys.exit(main())
