"""Rate limits that hold: exact under parallel bursts (local-memory cache and a real Redis we
start), per address and per account on sign-in, buckets a Bearer token cannot switch, headers
on every 429, and a cache outage that answers 503 or goes through, never 500."""

import threading
from collections import Counter
from unittest import mock

import pytest
from django.db import connections
from rest_framework.test import APIClient

from crowdfunding.models import Contribution
from loadtest.redis_server import RedisServer
from tests.livestreams.factories import LiveStreamFactory
from tests.support import money_snapshot
from tests.users.factories import TEST_PASSWORD, UserFactory
from users.services import access_token_for, credits_grant

LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
FUNDED = "/api/v1/live-stream/funded"
HEALTH = "/api/v1/health"
LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Test runs use ports 6390-6394 of the range; scripts/abuse uses 6395-6399.
TEST_REDIS_PORTS = range(6390, 6395)


def redis_caches(url: str) -> dict:
    return {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "allmine-test",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
        }
    }


@pytest.fixture(scope="module")
def redis_server():
    with RedisServer(ports=TEST_REDIS_PORTS) as server:
        yield server


@pytest.fixture(params=["locmem", "redis"])
def cache_backend(request, settings):
    """Each test twice: on the local-memory cache and on a real Redis of our own."""
    if request.param == "redis":
        server = request.getfixturevalue("redis_server")
        settings.CACHES = redis_caches(server.url)
    else:
        settings.CACHES = LOCMEM
    from django.core.cache import cache

    cache.clear()
    yield request.param
    cache.clear()


def login_body(username: str, password: str = "wrong-password") -> dict:
    return {"username": username, "password": password}


def burst(requests: list) -> list:
    """Run every `(method, path, body, extra)` at once, one thread and client each; the
    responses in order."""
    barrier = threading.Barrier(len(requests))
    responses: list = [None] * len(requests)

    def run(index: int, method: str, path: str, body: dict | None, extra: dict) -> None:
        client = APIClient()
        try:
            barrier.wait(timeout=30)
            responses[index] = getattr(client, method)(path, body, format="json", **extra)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=run, args=(index, *request))
        for index, request in enumerate(requests)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert all(response is not None for response in responses), "a request never finished"
    return responses


def statuses(responses) -> Counter:
    return Counter(response.status_code for response in responses)


def assert_429_envelope(response, limit: int) -> None:
    assert response.status_code == 429
    body = response.json()
    assert body["isSuccess"] is False and body["data"] is None
    assert body["errors"][0] == "Too many requests"
    assert body["errors"][1].startswith("Request was throttled.")
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response["RateLimit-Limit"] == str(limit)
    assert response["RateLimit-Remaining"] == "0"
    assert 1 <= int(response["RateLimit-Reset"]) <= 60


@pytest.mark.django_db(transaction=True)
def test_parallel_logins_from_one_address_get_exactly_the_limit(cache_backend, throttle_rates):
    throttle_rates(auth="20/min", auth_account="1000/min")
    user = UserFactory()

    responses = burst([("post", LOGIN, login_body(user.username), {}) for _ in range(64)])

    assert statuses(responses) == {401: 20, 429: 44}
    assert_429_envelope(next(r for r in responses if r.status_code == 429), limit=20)


@pytest.mark.django_db(transaction=True)
def test_many_addresses_guessing_at_one_account_share_its_limit(cache_backend, throttle_rates):
    throttle_rates(auth="20/min", auth_account="20/min")
    user = UserFactory()
    # 5 addresses x 20 guesses: each address is within its own limit, the account is not.
    requests = [
        ("post", LOGIN, login_body(user.username), {"REMOTE_ADDR": f"10.0.0.{address}"})
        for address in range(5)
        for _ in range(20)
    ]

    responses = burst(requests)

    assert statuses(responses) == {401: 20, 429: 80}
    # Even the right password is refused now, from a new address.
    late = APIClient().post(
        LOGIN, login_body(user.username, TEST_PASSWORD), format="json", REMOTE_ADDR="10.0.1.1"
    )
    assert_429_envelope(late, limit=20)


@pytest.mark.django_db(transaction=True)
def test_parallel_funds_by_one_user_get_exactly_the_limit(cache_backend, throttle_rates):
    throttle_rates(funding="20/min")
    stream = LiveStreamFactory(funding_goal=10_000)
    funder = UserFactory()
    credits_grant(user=funder, amount=1000)
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {access_token_for(funder)}"}
    path = f"/api/v1/live-stream/{stream.id}/fund"

    responses = burst([("post", path, {"amount": 1}, bearer) for _ in range(40)])

    assert statuses(responses) == {201: 20, 429: 20}
    assert Contribution.objects.filter(user=funder).count() == 20
    funder.refresh_from_db()
    assert funder.credit_balance == 1000 - 20
    # Another user has an allowance of their own.
    other = UserFactory()
    credits_grant(user=other, amount=10)
    response = APIClient().post(
        path,
        {"amount": 1},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {access_token_for(other)}",
    )
    assert response.status_code == 201


@pytest.mark.django_db
def test_a_valid_bearer_token_does_not_open_a_fresh_sign_in_bucket(api_client, throttle_rates):
    throttle_rates(auth="3/min", auth_account="100/min")
    user = UserFactory()
    for _ in range(3):
        assert api_client.post(LOGIN, login_body("someone"), format="json").status_code == 401

    with_token = api_client.post(
        LOGIN,
        login_body(user.username, TEST_PASSWORD),
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {access_token_for(user)}",
    )
    refresh_with_token = api_client.post(
        REFRESH,
        {"refreshToken": "x"},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {access_token_for(user)}",
    )

    assert_429_envelope(with_token, limit=3)
    assert_429_envelope(refresh_with_token, limit=3)


@pytest.mark.django_db
def test_sign_in_views_ignore_a_broken_authorization_header(api_client):
    user = UserFactory()

    response = api_client.post(
        LOGIN,
        login_body(user.username, TEST_PASSWORD),
        format="json",
        HTTP_AUTHORIZATION="Bearer not-a-token",
    )

    assert response.status_code == 200


@pytest.mark.django_db
def test_wrong_credentials_stay_a_401_with_www_authenticate(api_client):
    response = api_client.post(LOGIN, login_body("nobody"), format="json")

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.django_db
def test_the_account_bucket_ignores_case_and_blanks(throttle_rates):
    throttle_rates(auth="100/min", auth_account="3/min")
    names = ["Alice", " alice ", "ALICE"]
    for index, name in enumerate(names):
        response = APIClient().post(
            LOGIN, login_body(name), format="json", REMOTE_ADDR=f"10.0.0.{index}"
        )
        assert response.status_code == 401

    fourth = APIClient().post(LOGIN, login_body("alicE"), format="json", REMOTE_ADDR="10.0.0.9")
    other_account = APIClient().post(LOGIN, login_body("bob"), format="json")

    assert_429_envelope(fourth, limit=3)
    assert other_account.status_code == 401


@pytest.mark.django_db
@pytest.mark.parametrize("body", [[1, 2], {"username": ["a"], "password": "x"}, {}])
def test_odd_bodies_are_counted_per_address_and_answered_400(api_client, throttle_rates, body):
    throttle_rates(auth="2/min")

    responses = [api_client.post(LOGIN, body, format="json") for _ in range(3)]

    assert [r.status_code for r in responses] == [400, 400, 429]


@pytest.mark.django_db
def test_refresh_is_limited_per_address(api_client, throttle_rates):
    throttle_rates(auth="2/min")

    responses = [api_client.post(REFRESH, {"refreshToken": "x"}, format="json") for _ in range(3)]
    elsewhere = APIClient().post(
        REFRESH, {"refreshToken": "x"}, format="json", REMOTE_ADDR="10.9.9.9"
    )

    assert [r.status_code for r in responses] == [401, 401, 429]
    assert_429_envelope(responses[2], limit=2)
    assert elsewhere.status_code == 401


@pytest.mark.django_db
def test_the_window_passes(api_client, throttle_rates):
    throttle_rates(auth="2/min", auth_account="100/min")
    user = UserFactory()
    clock = mock.patch("allmine.api.throttling.time.time", return_value=1_800_000_000.0)

    with clock as now:
        refused = [api_client.post(LOGIN, login_body("x"), format="json") for _ in range(3)][-1]
        now.return_value += 60
        later = api_client.post(LOGIN, login_body(user.username, TEST_PASSWORD), format="json")

    assert_429_envelope(refused, limit=2)
    assert refused["Retry-After"] == "60"
    assert later.status_code == 200


# --- /admin/login/ -------------------------------------------------------------------------

ADMIN_LOGIN = "/admin/login/"


def admin_post(client, username: str, password: str, address: str = "127.0.0.1"):
    return client.post(
        ADMIN_LOGIN,
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=address,
    )


@pytest.mark.django_db
def test_admin_login_refuses_even_the_right_password_past_the_limit(client, throttle_rates):
    throttle_rates(auth="100/min", auth_account="3/min")
    admin = UserFactory(is_staff=True, is_superuser=True)
    wrong = [admin_post(client, admin.username, "wrong", f"10.0.0.{n}") for n in range(3)]

    right = admin_post(client, admin.username, TEST_PASSWORD, "10.0.0.99")

    assert [r.status_code for r in wrong] == [200, 200, 200]  # the form again, with its error
    assert all(b"Please enter the correct" in r.content for r in wrong)
    assert right.status_code == 429
    assert 1 <= int(right["Retry-After"]) <= 60
    assert b"Too many sign-in attempts" in right.content
    assert b'name="password"' in right.content  # the admin's own login page
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_admin_login_is_limited_per_address(client, throttle_rates):
    throttle_rates(auth="2/min", auth_account="100/min")
    for name in ["a", "b"]:
        assert admin_post(client, name, "wrong").status_code == 200

    third = admin_post(client, "c", "wrong")

    assert third.status_code == 429


@pytest.mark.django_db
def test_admin_login_shares_the_api_sign_in_buckets(client, api_client, throttle_rates):
    throttle_rates(auth="100/min", auth_account="2/min")
    admin = UserFactory(is_staff=True, is_superuser=True)
    for _ in range(2):
        assert api_client.post(LOGIN, login_body(admin.username), format="json").status_code == 401

    response = admin_post(client, admin.username, TEST_PASSWORD)

    assert response.status_code == 429


@pytest.mark.django_db
def test_admin_login_works_within_the_limit(client):
    admin = UserFactory(is_staff=True, is_superuser=True)

    response = admin_post(client, admin.username, TEST_PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.session["_auth_user_id"] == str(admin.pk)


# --- cache outage ------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_cache_outage_answers_503_or_goes_through_never_500(settings, client):
    """A Redis of our own, stopped in the middle: sign-in fails closed (503 + Retry-After),
    refresh and money fail open, reads never needed the cache; health says so."""
    stream = LiveStreamFactory(funding_goal=10_000)
    user = UserFactory()
    credits_grant(user=user, amount=100)
    admin = UserFactory(is_staff=True, is_superuser=True)
    with RedisServer(ports=TEST_REDIS_PORTS) as server:
        settings.CACHES = redis_caches(server.url)
        api = APIClient()
        before = api.post(LOGIN, login_body(user.username, TEST_PASSWORD), format="json")
        assert before.status_code == 200
        tokens = before.json()["data"]
        signed_in = APIClient()
        signed_in.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['accessToken']}")

        server.stop()  # the outage
        login = api.post(LOGIN, login_body(user.username, TEST_PASSWORD), format="json")
        refresh = api.post(REFRESH, {"refreshToken": tokens["refreshToken"]}, format="json")
        money_before = money_snapshot()
        fund = signed_in.post(f"/api/v1/live-stream/{stream.id}/fund", {"amount": 5}, format="json")
        funded = signed_in.get(FUNDED)
        health = api.get(HEALTH)
        admin_page = admin_post(client, admin.username, TEST_PASSWORD)

        server.start()  # back (empty): counting resumes
        after = api.post(LOGIN, login_body(user.username, TEST_PASSWORD), format="json")

    assert login.status_code == 503
    assert login.json()["errors"] == [
        "Service unavailable",
        "Rate limiter unavailable, retry shortly",
    ]
    assert login["Retry-After"] == "5"
    assert refresh.status_code == 200
    assert fund.status_code == 201
    assert money_snapshot() != money_before  # the fund went through, charged once
    assert Contribution.objects.filter(user=user, amount=5).count() == 1
    assert funded.status_code == 200
    assert [s["id"] for s in funded.json()["data"]] == [stream.id]
    assert health.status_code == 503
    assert health.json()["errors"] == ["Service unavailable", "cache: unavailable"]
    assert admin_page.status_code == 503
    assert admin_page["Retry-After"] == "5"
    assert b"Sign-in is temporarily unavailable" in admin_page.content
    assert "_auth_user_id" not in client.session
    assert after.status_code == 200
