"""Fixtures shared by the whole suite."""

import os
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test.client import Client
from django.test.utils import override_settings
from rest_framework.test import APIClient

from users.services import access_token_for


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """A test database of this run's own, so two runs on one machine or one PostgreSQL server
    never collide. SQLite tests use a file database, not shared-cache memory, so tests with
    threads get the real locking (busy timeout, BEGIN IMMEDIATE) that production has."""
    database = settings.DATABASES["default"]
    test_settings = database.setdefault("TEST", {})
    if database["ENGINE"] == "allmine.sqlite_backend":
        path = Path(tempfile.gettempdir()) / f"allmine-test-{os.getpid()}.sqlite3"
        test_settings["NAME"] = str(path)
    elif not test_settings.get("NAME"):
        test_settings["NAME"] = f"test_allmine_{os.getpid()}"


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hashing():
    """Real hashing is slow on purpose; tests only need hashes that verify."""
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(autouse=True)
def _throttle_windows_start_with_the_test(monkeypatch):
    """Rate limits count in fixed windows of the clock (a minute, say). A test's burst that
    straddled a window's end would count in two windows and let up to twice the limit through,
    so the throttle's clock starts each test at the start of a window (then runs on)."""
    import allmine.api.throttling

    started = time.time()
    window_start = (started // 3600 + 1) * 3600  # a window start for every period up to 1 hour
    clock = SimpleNamespace(time=lambda: window_start + (time.time() - started))
    monkeypatch.setattr(allmine.api.throttling, "time", clock)


@pytest.fixture(autouse=True)
def _isolated_cache():
    """Throttle counters live in the cache; each test starts with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _responses_match_the_openapi_document(request, monkeypatch):
    """Every /api/ response a test receives is validated against the live /api/schema/
    (tests/schema_check.py): an undocumented status, body or header fails the test."""
    from tests.schema_check import check_response, document

    document()  # fetched (once) before the test can mock what serving it goes through
    custom_urlconf = request.node.get_closest_marker("urls") is not None
    original = Client.request

    def checked_request(self, **request_meta):
        response = original(self, **request_meta)
        check_response(response.request, response, custom_urlconf=custom_urlconf)
        return response

    monkeypatch.setattr(Client, "request", checked_request)


@pytest.fixture
def throttle_rates(settings):
    """`throttle_rates(auth="3/min")`: change rates for one test (read at each request)."""

    def set_rates(**rates: str) -> None:
        current = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {**current, **rates},
        }

    return set_rates


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def user(db):
    from tests.users.factories import UserFactory

    return UserFactory()


@pytest.fixture
def auth_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token_for(user)}")
    return client


@pytest.fixture
def client_for():
    """`client_for(user)`: an API client signed in as that user."""

    def make(some_user) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token_for(some_user)}")
        return client

    return make


@pytest.fixture
def job_workers(transactional_db):
    """`job_workers.start(n)`: n real `manage.py run_worker` processes on the test database,
    stopped at teardown (tests/support.py `WorkerPool`)."""
    from tests.support import WorkerPool

    pool = WorkerPool()
    yield pool
    pool.stop_all()
