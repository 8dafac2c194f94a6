"""Throttle bursts: parallel requests against the production limits, each limit exact."""

import random
import time
from collections import Counter

from loadtest.abuse.data import PASSWORD, make_stream, make_user, tag, token_for
from loadtest.abuse.harness import AdminBrowser, Harness


def wait_for_a_fresh_window(period: int = 60, needed: float = 15.0) -> None:
    """Fixed windows start on the clock's period boundaries: make sure a burst fits in one."""
    left = period - time.time() % period
    if left < needed:
        time.sleep(left + 0.2)


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
