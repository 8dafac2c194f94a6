"""Request ids (X-Request-ID) and the structured request log."""

import json
import logging
import re
from logging.config import DictConfigurator

import pytest

from allmine.api.logging import JsonFormatter, RequestIdFilter
from tests.users.factories import TEST_PASSWORD, UserFactory

HEX32 = re.compile(r"^[0-9a-f]{32}$")

pytestmark = pytest.mark.django_db


def request_lines(caplog):
    return [r for r in caplog.records if r.name == "allmine.request"]


def test_a_given_request_id_is_echoed(api_client):
    response = api_client.get("/api/v1/health", HTTP_X_REQUEST_ID="lb-7f3a.42:1")

    assert response["X-Request-ID"] == "lb-7f3a.42:1"


def test_a_missing_request_id_is_made(api_client):
    first = api_client.get("/api/v1/health")
    second = api_client.get("/api/v1/health")

    assert HEX32.match(first["X-Request-ID"])
    assert first["X-Request-ID"] != second["X-Request-ID"]


@pytest.mark.parametrize(
    "bad",
    ["", "x" * 129, "two words", "line\\nbreak", 'quote"d', "é"],
)
def test_an_unsafe_request_id_is_replaced(api_client, bad):
    response = api_client.get("/api/v1/health", HTTP_X_REQUEST_ID=bad)

    assert HEX32.match(response["X-Request-ID"])


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("get", "/api/v1/live-stream/funded", 401),
        ("get", "/api/v1/no-such-thing", 404),
        ("delete", "/api/v1/health", 405),
    ],
)
def test_errors_carry_the_request_id_too(api_client, method, path, status):
    response = getattr(api_client, method)(path, HTTP_X_REQUEST_ID="abc-123")

    assert response.status_code == status
    assert response["X-Request-ID"] == "abc-123"


def test_an_unhandled_error_is_logged_with_the_request_id(api_client, caplog, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("kaboom")

    monkeypatch.setattr("allmine.api.health.HealthView.get", boom)
    with caplog.at_level(logging.INFO):
        response = api_client.get("/api/v1/health", HTTP_X_REQUEST_ID="req-500")

    assert response.status_code == 500
    assert response["X-Request-ID"] == "req-500"
    assert "kaboom" not in response.content.decode()
    errors = [r for r in caplog.records if r.name in ("allmine.errors", "django.request")]
    assert {r.name for r in errors} == {"allmine.errors", "django.request"}
    for record in errors:
        RequestIdFilter().filter(record)
        assert record.request_id == "req-500"
    assert request_lines(caplog)[-1].levelname == "ERROR"


def test_one_log_line_per_request_with_its_fields(auth_client, user, caplog):
    with caplog.at_level(logging.INFO):
        auth_client.get("/api/v1/live-stream/funded?page=1", HTTP_X_REQUEST_ID="r-1")

    (line,) = request_lines(caplog)
    assert line.request_id == "r-1"
    assert line.getMessage() == (
        f"GET /api/v1/live-stream/funded 200 {line.http['duration_ms']}ms "
        f"user={user.pk} client=127.0.0.1"
    )
    assert line.http["method"] == "GET"
    assert line.http["path"] == "/api/v1/live-stream/funded"
    assert line.http["status"] == 200
    assert line.http["user_id"] == str(user.pk)
    assert isinstance(line.http["duration_ms"], float)


def test_no_token_or_password_reaches_the_log(api_client, caplog):
    account = UserFactory()
    with caplog.at_level(logging.DEBUG):
        login = api_client.post(
            "/api/v1/auth/login",
            {"username": account.username, "password": TEST_PASSWORD},
            format="json",
        )
        token = login.json()["data"]["accessToken"]
        refresh = login.json()["data"]["refreshToken"]
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        api_client.get("/api/v1/live-stream/funded")
        api_client.post("/api/v1/auth/login", {"username": "x", "password": "wrong-pw-123"})

    assert login.status_code == 200
    formatter = JsonFormatter()
    text = "\n".join(formatter.format(r) for r in caplog.records) + caplog.text
    for secret in (TEST_PASSWORD, "wrong-pw-123", token, refresh, "Bearer"):
        assert secret not in text
    assert len(request_lines(caplog)) == 3


def test_json_formatter_writes_one_object_per_line():
    record = logging.LogRecord(
        "allmine.request", logging.INFO, __file__, 1, "GET / %s", (200,), None
    )
    record.http = {"status": 200}
    RequestIdFilter().filter(record)

    line = JsonFormatter().format(record)

    assert "\n" not in line
    entry = json.loads(line)
    assert list(entry) == ["time", "level", "logger", "message", "request_id", "http"]
    assert entry["message"] == "GET / 200"
    assert entry["request_id"] == "-"
    assert re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$", entry["time"])


def test_json_formatter_keeps_the_traceback_on_one_line():
    try:
        raise ValueError("bad\nvalue")
    except ValueError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "oops", (), sys.exc_info())

    entry = json.loads(JsonFormatter().format(record))

    assert "ValueError" in entry["exception"]


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_a_path_cannot_forge_a_log_line(api_client, caplog, settings, log_format):
    formatter = DictConfigurator(settings.LOGGING).configure_formatter(
        settings.LOGGING["formatters"][log_format]
    )
    forged = "2026-01-01 00:00:00,000 INFO allmine.request [x] POST /api/v1/admin 200"
    path = "/api/v1/nothing%0a" + forged.replace(" ", "%20") + "%0d%e2%80%a8%1b[31m"

    with caplog.at_level(logging.INFO):
        response = api_client.get(path)

    assert response.status_code == 404
    (record,) = request_lines(caplog)
    RequestIdFilter().filter(record)
    line = formatter.format(record)
    assert "\n" not in line and "\r" not in line and "\u2028" not in line and "\x1b" not in line
    if log_format == "text":
        assert re.search(
            re.escape("GET /api/v1/nothing\\x0a" + forged + "\\x0d\\u2028\\x1b[31m 404 ")
            + r"[0-9.]+ms user=- client=127\.0\.0\.1$",
            line,
        )
    else:
        assert json.loads(line)["http"]["path"] == "/api/v1/nothing\n" + forged + "\r\u2028\x1b[31m"
