"""Production settings: refuse to start without secrets, pass `check --deploy`, read the env.

Each case starts a fresh interpreter, because settings are read once at start-up.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = "x7!Qm2#vP9zL4@rT8wK1$yN6^bH3&cJ5*dF0(gS2)eA9-uV4+iO7=pX1_lZ8~qR3"
PRODUCTION = {
    "DJANGO_ENV": "production",
    "DJANGO_SECRET_KEY": GOOD_KEY,
    "DJANGO_ALLOWED_HOSTS": "api.allmine.example",
}
CLEARED = (
    "DJANGO_ENV",
    "DJANGO_SECRET_KEY",
    "DJANGO_ALLOWED_HOSTS",
    "DJANGO_DEBUG",
    "DATABASE_URL",
    "DATABASE_POOL",
    "REDIS_URL",
    "CORS_ALLOWED_ORIGINS",
    "DJANGO_SECURE_SSL_REDIRECT",
    "DJANGO_SECURE_HSTS_SECONDS",
)


def run(args: list[str], **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in CLEARED}
    environment.update(env)
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def settings_of(names: list[str], **env: str) -> dict:
    code = (
        "import json, django; from django.conf import settings; django.setup(); "
        f"print(json.dumps({{n: getattr(settings, n, None) for n in {names!r}}}, default=str))"
    )
    result = run(["-c", code], DJANGO_SETTINGS_MODULE="allmine.settings", **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS"])
def test_production_refuses_to_start_without(missing):
    env = {k: v for k, v in PRODUCTION.items() if k != missing}

    result = run(["manage.py", "check"], **env)

    assert result.returncode != 0
    assert f"{missing} must be set when DJANGO_ENV=production" in result.stderr
    assert "ImproperlyConfigured" in result.stderr


def test_production_passes_check_deploy():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **PRODUCTION)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_hardening():
    values = settings_of(
        [
            "DEBUG",
            "SECURE_SSL_REDIRECT",
            "SECURE_HSTS_SECONDS",
            "SESSION_COOKIE_SECURE",
            "CSRF_COOKIE_SECURE",
            "ALLOWED_HOSTS",
            "STORAGES",
            "LOG_FORMAT",
        ],
        **PRODUCTION,
    )

    assert values["DEBUG"] is False
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_HSTS_SECONDS"] == 31_536_000
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["ALLOWED_HOSTS"] == ["api.allmine.example"]
    assert values["STORAGES"]["staticfiles"]["BACKEND"] == (
        "whitenoise.storage.CompressedManifestStaticFilesStorage"
    )
    assert values["LOG_FORMAT"] == "json"


def test_local_defaults_need_nothing():
    values = settings_of(["DEBUG", "DATABASES", "CACHES", "SECURE_SSL_REDIRECT"])

    assert values["DEBUG"] is True
    assert values["DATABASES"]["default"]["ENGINE"] == "allmine.sqlite_backend"
    assert values["CACHES"]["default"]["BACKEND"].endswith("LocMemCache")
    assert values["SECURE_SSL_REDIRECT"] is False


def test_postgres_from_database_url_with_persistent_checked_connections():
    values = settings_of(["DATABASES"], DATABASE_URL="postgres://app:pw@db.internal:5432/allmine")

    db = values["DATABASES"]["default"]
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["HOST"], db["NAME"], db["USER"]) == ("db.internal", "allmine", "app")
    assert db["CONN_MAX_AGE"] == 60
    assert db["CONN_HEALTH_CHECKS"] is True
    assert db["OPTIONS"]["connect_timeout"] == 3


def test_postgres_with_psycopg_pool():
    values = settings_of(
        ["DATABASES"],
        DATABASE_URL="postgres://app:pw@db.internal:5432/allmine",
        DATABASE_POOL="true",
        DATABASE_POOL_MAX_SIZE="8",
    )

    db = values["DATABASES"]["default"]
    assert db["CONN_MAX_AGE"] == 0
    assert db["OPTIONS"]["pool"]["max_size"] == 8
    assert "check_connection" in db["OPTIONS"]["pool"]["check"]


def test_redis_cache_and_cors_from_env():
    values = settings_of(
        ["CACHES", "CORS_ALLOWED_ORIGINS", "REST_FRAMEWORK"],
        REDIS_URL="redis://127.0.0.1:6379/3",
        CORS_ALLOWED_ORIGINS="https://app.allmine.example, https://admin.allmine.example",
        THROTTLE_AUTH_RATE="5/min",
        THROTTLE_FUNDING_RATE="7/min",
    )

    cache = values["CACHES"]["default"]
    assert cache["BACKEND"] == "django_redis.cache.RedisCache"
    assert cache["LOCATION"] == "redis://127.0.0.1:6379/3"
    assert values["CORS_ALLOWED_ORIGINS"] == [
        "https://app.allmine.example",
        "https://admin.allmine.example",
    ]
    rates = values["REST_FRAMEWORK"]["DEFAULT_THROTTLE_RATES"]
    assert (rates["auth"], rates["funding"]) == ("5/min", "7/min")


@pytest.mark.django_db
def test_cors_preflight_for_the_web_client(api_client, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.allmine.example"]

    allowed = api_client.options(
        "/api/v1/live-stream/funded",
        HTTP_ORIGIN="https://app.allmine.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization",
    )
    other = api_client.options(
        "/api/v1/live-stream/funded",
        HTTP_ORIGIN="https://evil.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
    )

    assert allowed["Access-Control-Allow-Origin"] == "https://app.allmine.example"
    assert "authorization" in allowed["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Origin" not in other


@pytest.mark.django_db
def test_cors_exposes_total_and_request_id(auth_client, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.allmine.example"]

    response = auth_client.get(
        "/api/v1/live-stream/funded", HTTP_ORIGIN="https://app.allmine.example"
    )

    exposed = response["Access-Control-Expose-Headers"]
    assert "X-Total-Count" in exposed
    assert "X-Request-ID" in exposed


@pytest.mark.django_db
@pytest.mark.parametrize("signed_in", [True, False])
def test_cors_exposes_every_header_a_browser_client_reads(
    auth_client, api_client, settings, signed_in
):
    """Success and error alike: the total, the request id, the replay flag, Retry-After and
    the rate-limit headers of a 429."""
    settings.CORS_ALLOWED_ORIGINS = ["https://app.allmine.example"]
    client = auth_client if signed_in else api_client

    response = client.get("/api/v1/live-stream/funded", HTTP_ORIGIN="https://app.allmine.example")

    assert response.status_code == (200 if signed_in else 401)
    exposed = {name.strip() for name in response["Access-Control-Expose-Headers"].split(",")}
    assert exposed == {
        "X-Total-Count", "Idempotent-Replayed", "Retry-After", "X-Request-ID",
        "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset",
    }  # fmt: skip
    assert response["Access-Control-Allow-Origin"] == "https://app.allmine.example"


@pytest.mark.django_db
def test_cors_preflight_allows_the_idempotency_key(api_client, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.allmine.example"]

    response = api_client.options(
        "/api/v1/live-stream/64d15f9e2e6c8f4d5a123456/fund",
        HTTP_ORIGIN="https://app.allmine.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization,content-type,idempotency-key",
    )

    assert response.status_code == 200
    allowed = response["Access-Control-Allow-Headers"]
    assert {"authorization", "content-type", "idempotency-key"} <= set(allowed.split(", "))


def test_gunicorn_config_loads_the_production_app():
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    environment = {k: v for k, v in os.environ.items() if k not in CLEARED}
    environment.update(PRODUCTION, PORT="8199", WEB_CONCURRENCY="3", GUNICORN_THREADS="4")

    result = subprocess.run(
        [gunicorn, "--config", "allmine/gunicorn.conf.py", "--check-config", "--print-config"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    config = dict(
        line.split("=", 1)
        for line in (raw.replace(" ", "") for raw in result.stdout.splitlines())
        if "=" in line
    )
    assert config["bind"] == "['0.0.0.0:8199']"
    assert config["workers"] == "3"
    assert config["threads"] == "4"
    assert config["worker_class"] == "gthread"
    assert config["control_socket_disable"] == "True"


def test_gunicorn_refuses_to_start_without_the_secret_key():
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    environment = {k: v for k, v in os.environ.items() if k not in CLEARED}
    environment.update(DJANGO_ENV="production", DJANGO_ALLOWED_HOSTS="api.allmine.example")

    result = subprocess.run(
        [gunicorn, "--config", "allmine/gunicorn.conf.py", "--check-config"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set when DJANGO_ENV=production" in result.stderr
