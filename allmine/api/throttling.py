"""Rate limits that hold under parallel bursts: an atomic fixed-window counter in the cache.

Each bucket (a scope and an identity: an address, a user, an account name) counts requests in
fixed windows of the rate's period. The first request of a window creates the counter with
`cache.add` (Redis `SET NX EX`; under the lock of the local-memory cache) and every other one
increments it with `cache.incr` (an atomic `INCRBY` in django-redis; locked in LocMemCache), so
N parallel requests against a limit of L see the counts 1…N and exactly L of them pass —
there is no read-then-write for two requests to interleave in.

Rates come from `REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]` (read at each request, so
`override_settings` works in tests): `auth` per address on sign-in and refresh, `auth_account`
per account name sent to sign-in, `funding` per user on the money endpoints.

When the cache cannot be reached, a throttle fails closed (`CacheUnavailable` → 503 envelope
with `Retry-After`) or open (the request goes through uncounted and the fault is logged),
depending on its `fails_open`; README, "Rate limits", says which and why.
"""

import hashlib
import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass

from django.core.cache import cache
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from allmine.api.middleware import RETRY_AFTER_SECONDS

logger = logging.getLogger(__name__)

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
REFUSALS_ATTRIBUTE = "_throttle_refusals"


class CacheUnavailable(APIException):
    """The throttle's counter cannot be reached and the endpoint fails closed."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "Service unavailable"
    default_code = "cache_unavailable"
    # DRF's exception handler turns `wait` into the `Retry-After` header.
    wait = RETRY_AFTER_SECONDS

    def __init__(self):
        super().__init__("Rate limiter unavailable, retry shortly")


def parse_rate(rate: str) -> tuple[int, int]:
    """`"20/min"` → (20, 60): requests allowed per window, window length in seconds."""
    count, _, period = rate.partition("/")
    return int(count), PERIODS[period.strip()[0]]


def rate_for(scope: str) -> tuple[int, int] | None:
    rate = api_settings.DEFAULT_THROTTLE_RATES.get(scope)
    return parse_rate(rate) if rate else None


@dataclass(frozen=True)
class Hit:
    """One request counted in a bucket: its place in the window and when the window ends."""

    count: int
    limit: int
    reset_at: float

    @property
    def allowed(self) -> bool:
        return self.count <= self.limit

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.count)

    def wait(self, now: float | None = None) -> float:
        return max(0.0, self.reset_at - (time.time() if now is None else now))


def count_hit(*, scope: str, identity: str, limit: int, period: int) -> Hit:
    """Count one request in the bucket (scope, identity) and return where it stands.

    Raises `ConnectionError`-like exceptions of the cache backend when the cache is down; the
    callers decide whether that fails open or closed.
    """
    now = time.time()
    window = int(now // period)
    key = f"throttle:{scope}:{identity}:{period}:{window}"
    reset_at = (window + 1) * period
    # A little longer than the window, so the key cannot expire between `add` and `incr`
    # of a request that started at the window's very end.
    timeout = period + 5
    for _ in range(3):
        if cache.add(key, 1, timeout=timeout):
            return Hit(count=1, limit=limit, reset_at=reset_at)
        try:
            return Hit(count=cache.incr(key), limit=limit, reset_at=reset_at)
        except ValueError:  # evicted between add and incr: create it again
            continue
    raise RuntimeError(f"throttle counter {key} keeps vanishing")


def identity_hash(value: str) -> str:
    """A fixed-length cache-safe name for a value a client chose (an account name)."""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def account_identity(identifier) -> str | None:
    """The bucket of an account name sent to a sign-in form: case and surrounding blanks do not
    make a new bucket (`Alice`, ` alice ` and `ALICE` are one). None when it is not a string."""
    if not isinstance(identifier, str) or not identifier.strip():
        return None
    return identity_hash(identifier.strip().casefold())


def log_cache_fault(scope: str, error: Exception) -> None:
    # One line per request, no traceback: an outage would otherwise flood the log.
    logger.warning(
        "Throttle cache unavailable (scope %s): %s: %s", scope, type(error).__name__, error
    )


class FixedWindowThrottle(BaseThrottle):
    """Base: subclasses say which scope (rate) and which identity a request counts against,
    and whether the request goes through uncounted when the cache is down."""

    def fails_open(self, scope: str) -> bool:
        return False

    def get_scope(self, request, view) -> str | None:
        raise NotImplementedError

    def get_identity(self, request, view) -> str | None:
        raise NotImplementedError

    def allow_request(self, request, view) -> bool:
        self.hit = None
        scope = self.get_scope(request, view)
        rate = rate_for(scope) if scope else None
        identity = self.get_identity(request, view) if rate else None
        if rate is None or identity is None:
            return True
        limit, period = rate
        try:
            self.hit = count_hit(scope=scope, identity=identity, limit=limit, period=period)
        except Exception as error:
            # The cache backend's own error types differ (redis ConnectionError, django-redis
            # ConnectionInterrupted, socket timeouts); any of them means "cannot count".
            log_cache_fault(scope, error)
            if self.fails_open(scope):
                return True
            raise CacheUnavailable() from None
        if not self.hit.allowed:
            refusals = getattr(request, REFUSALS_ATTRIBUTE, [])
            refusals.append(self.hit)
            setattr(request, REFUSALS_ATTRIBUTE, refusals)
        return self.hit.allowed

    def wait(self) -> float | None:
        # At least a second: DRF leaves `Retry-After` out for a wait of 0.
        return max(1.0, self.hit.wait()) if self.hit is not None else None


class ScopedThrottle(FixedWindowThrottle):
    """The view's `throttle_scope`, counted per user when signed in, else per address.

    Sign-in views have no authentication classes, so a Bearer token sent to them cannot move
    the caller out of their address's bucket. The money endpoints (`funding`) fail open: row
    locks, the balance check and idempotency keys protect the money; the limit protects
    capacity. Sign-in (`auth`) fails closed: without a counter, passwords could be guessed
    without limit.
    """

    fail_open_scopes = frozenset({"funding"})

    def fails_open(self, scope: str) -> bool:
        return scope in self.fail_open_scopes

    def get_scope(self, request, view):
        return getattr(view, "throttle_scope", None)

    def get_identity(self, request, view):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return f"user:{user.pk}"
        return f"addr:{self.get_ident(request)}"


class AddressFailOpenThrottle(ScopedThrottle):
    """Like ScopedThrottle, but lets requests through uncounted while the cache is down (for
    the refresh endpoint: refresh tokens are signed and cannot be guessed, so its limit protects
    capacity, and failing closed would sign every client out during a cache outage)."""

    def fails_open(self, scope: str) -> bool:
        return True


class SignInAccountThrottle(FixedWindowThrottle):
    """Per account name sent to sign-in (`username`, which may be an e-mail), whatever the
    address: five addresses guessing at one account share one allowance. Fails closed."""

    scope = "auth_account"

    def get_scope(self, request, view):
        return self.scope

    def get_identity(self, request, view):
        data = request.data
        identity = account_identity(data.get("username") if isinstance(data, Mapping) else None)
        return f"acct:{identity}" if identity else None


def sign_in_hits(*, address: str, username) -> list[Hit]:
    """Count one sign-in attempt outside DRF (the admin's login form) in the same buckets as
    `POST /api/v1/auth/login`: per address and per account name. Raises `CacheUnavailable`
    when the cache is down (sign-in fails closed)."""
    buckets = [("auth", f"addr:{address}")]
    account = account_identity(username)
    if account:
        buckets.append(("auth_account", f"acct:{account}"))
    hits = []
    for scope, identity in buckets:
        rate = rate_for(scope)
        if rate is None:
            continue
        limit, period = rate
        try:
            hits.append(count_hit(scope=scope, identity=identity, limit=limit, period=period))
        except Exception as error:
            log_cache_fault(scope, error)
            raise CacheUnavailable() from None
    return hits


def rate_limit_headers(request) -> dict[str, str]:
    """`RateLimit-Limit/Remaining/Reset` of the bucket that refused the request the longest."""
    refusals = getattr(request, REFUSALS_ATTRIBUTE, None)
    if not refusals:
        return {}
    worst = max(refusals, key=lambda hit: hit.reset_at)
    return {
        "RateLimit-Limit": str(worst.limit),
        "RateLimit-Remaining": "0",
        "RateLimit-Reset": str(max(1, math.ceil(worst.wait()))),
    }
