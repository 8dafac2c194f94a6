"""Every /api/ response, success or failure, is the envelope with API.md's messages."""

import re

import pytest

pytestmark = pytest.mark.django_db

KEYS = ["isSuccess", "statusCode", "data", "errors", "timestamp"]
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def assert_error_envelope(response, status: int, first_message: str) -> dict:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert list(body) == KEYS
    assert body["isSuccess"] is False
    assert body["statusCode"] == status
    assert body["data"] is None
    assert body["errors"][0] == first_message
    assert all(isinstance(message, str) for message in body["errors"])
    assert TIMESTAMP.match(body["timestamp"])
    return body


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize(
    "url", ["/api/v1/nothing-here", "/api/", "/api/v1/live-stream/funded/", "/api/v2/x"]
)
def test_unknown_api_urls_are_a_404_envelope(auth_client, settings, debug, url):
    settings.DEBUG = debug

    assert_error_envelope(auth_client.get(url), 404, "Resource not found")


TOO_MANY_PARAMETERS = "&".join(f"p{n}=1" for n in range(1001))


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("url", ["/api/v1/live-stream/funded", "/api/v1/health", "/api/schema/"])
def test_too_many_query_parameters_and_a_bad_host_are_a_400_envelope(
    auth_client, settings, debug, url
):
    settings.DEBUG = debug
    auth_client.raise_request_exception = False

    too_many = auth_client.get(f"{url}?{TOO_MANY_PARAMETERS}")
    bad_host = auth_client.get(url, HTTP_HOST="attacker.example")

    assert assert_error_envelope(too_many, 400, "Validation failed")["errors"] == [
        "Validation failed"
    ]
    assert assert_error_envelope(bad_host, 400, "Validation failed")["errors"] == [
        "Validation failed"
    ]
    assert auth_client.get(f"{url}?p=1").status_code == 200  # a few parameters are fine


def test_unknown_url_without_a_token_is_still_a_404(api_client):
    assert_error_envelope(api_client.get("/api/v1/nothing"), 404, "Resource not found")


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_wrong_method_is_a_405_envelope(auth_client, method):
    response = getattr(auth_client, method)("/api/v1/live-stream/funded")

    assert_error_envelope(response, 405, "Method not allowed")
    assert "GET" in response["Allow"]


@pytest.mark.urls("tests.api.error_urls")
@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("url", ["/api/test/plain-crash", "/api/test/drf-crash"])
def test_unhandled_exceptions_are_a_500_envelope_without_internals(
    api_client, settings, debug, url
):
    settings.DEBUG = debug
    api_client.raise_request_exception = False

    response = api_client.get(url)

    body = assert_error_envelope(response, 500, "Internal server error")
    assert body["errors"] == ["Internal server error"]
    assert b"secret" not in response.content and b"SELECT" not in response.content


@pytest.mark.urls("tests.api.error_urls")
def test_django_permission_denied_is_a_403_envelope(api_client):
    response = api_client.get("/api/test/plain-denied")

    assert_error_envelope(response, 403, "Insufficient permissions")


def test_crash_inside_the_funded_list_is_a_500_envelope(auth_client, monkeypatch):
    def explode(**kwargs):
        raise RuntimeError("database password leaked here")

    monkeypatch.setattr("crowdfunding.views.funded_streams_for_user", explode)
    auth_client.raise_request_exception = False

    response = auth_client.get("/api/v1/live-stream/funded")

    assert_error_envelope(response, 500, "Internal server error")
    assert b"password" not in response.content


def test_success_envelope_shape(auth_client):
    response = auth_client.get("/api/v1/live-stream/funded")

    body = response.json()
    assert list(body) == KEYS
    assert body["isSuccess"] is True and body["statusCode"] == 200
    assert body["data"] == [] and body["errors"] == []
    assert TIMESTAMP.match(body["timestamp"])


def test_non_api_urls_keep_django_pages(client):
    response = client.get("/not-the-api")

    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


def test_openapi_schema_and_docs_are_served_offline(client):
    schema = client.get("/api/schema/", {"format": "json"})
    docs = client.get("/api/docs/")

    assert schema.status_code == 200
    spec = schema.json()
    assert "/api/v1/live-stream/funded" in spec["paths"]
    assert spec["components"]["securitySchemes"]["jwtAuth"]["scheme"] == "bearer"
    funded_200 = spec["paths"]["/api/v1/live-stream/funded"]["get"]["responses"]["200"]
    envelope = funded_200["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
    assert list(spec["components"]["schemas"][envelope]["properties"]) == KEYS
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "swagger-ui" in html
    assert "cdn.jsdelivr" not in html and "unpkg.com" not in html


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_writes_to_unknown_api_urls_are_a_404_not_a_csrf_page(method):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)

    response = getattr(client, method)("/api/v1/live-stream/a/b", content_type="application/json")

    assert_error_envelope(response, 404, "Resource not found")


def test_database_outage_is_a_503_envelope_with_retry_after(auth_client, monkeypatch):
    from django.db import OperationalError

    def unreachable(**kwargs):
        raise OperationalError("connection to server at 127.0.0.1 failed: Connection refused")

    monkeypatch.setattr("crowdfunding.views.funded_streams_for_user", unreachable)
    auth_client.raise_request_exception = False

    response = auth_client.get("/api/v1/live-stream/funded")

    body = assert_error_envelope(response, 503, "Service unavailable")
    assert body["errors"] == ["Service unavailable", "Database unavailable, retry shortly"]
    assert response["Retry-After"] == "5"
    assert b"127.0.0.1" not in response.content


def _database_error(django_error: str, psycopg_error: str | None):
    """The exception Django raises for a psycopg error: its own class, psycopg's as cause."""
    import psycopg.errors
    from django import db

    def fail(**kwargs):
        if psycopg_error is None:
            raise getattr(db, django_error)("server closed the connection unexpectedly")
        cause = getattr(psycopg.errors, psycopg_error)("permission denied for table users_user")
        raise getattr(db, django_error)(str(cause)) from cause

    return fail


@pytest.mark.parametrize(
    ("django_error", "psycopg_error", "status"),
    [
        ("OperationalError", None, 503),
        ("InterfaceError", None, 503),
        ("ProgrammingError", "InsufficientPrivilege", 503),
        ("InternalError", "ReadOnlySqlTransaction", 503),
        ("ProgrammingError", "UndefinedColumn", 500),  # a bug, not an outage
    ],
)
def test_operational_and_privilege_errors_are_a_503(
    auth_client, monkeypatch, django_error, psycopg_error, status
):
    fail = _database_error(django_error, psycopg_error)
    monkeypatch.setattr("crowdfunding.views.funded_streams_for_user", fail)
    auth_client.raise_request_exception = False

    response = auth_client.get("/api/v1/live-stream/funded")

    if status == 503:
        body = assert_error_envelope(response, 503, "Service unavailable")
        assert body["errors"] == ["Service unavailable", "Database unavailable, retry shortly"]
        assert response["Retry-After"] == "5"
    else:
        body = assert_error_envelope(response, 500, "Internal server error")
        assert "Retry-After" not in response
    assert b"permission denied" not in response.content


def test_json_nested_too_deep_is_a_400(auth_client):
    body = "[" * 100_000 + "]" * 100_000

    response = auth_client.post(
        "/api/v1/live-stream/" + "a" * 24 + "/fund", body, content_type="application/json"
    )

    assert_error_envelope(response, 400, "Validation failed")
