"""Accounts: an operator changes passwords in /admin/ while their users fund and log out."""

import threading
import time

from loadtest.abuse.data import PASSWORD, make_stream, make_user, tag, token_for
from loadtest.abuse.harness import AdminBrowser, Harness


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
