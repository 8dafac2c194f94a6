"""Request ids and structured request logs.

`RequestIdMiddleware` takes the caller's `X-Request-ID` (when it is a sane token) or makes one,
echoes it in the response and puts it on every log record written while the request runs.
It then logs one line per request: method, path, status, duration, user id, request id.

Never logged: headers (so no `Authorization`), query strings, bodies (so no passwords).
Nothing a client sends can forge a line: the text format escapes control characters in
messages (a path with `%0a` decodes to a newline), the JSON format escapes them by itself.
"""

import json
import logging
import re
import time
import uuid
from contextvars import ContextVar
from datetime import datetime
from datetime import timezone as dt_timezone

from django.utils.functional import SimpleLazyObject, empty

from allmine.api.formats import format_datetime

REQUEST_ID_HEADER = "X-Request-ID"
# Letters, digits and `-._:`, up to 128 characters: anything else could forge log lines.
VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")
request_logger = logging.getLogger("allmine.request")


def current_request_id() -> str:
    return request_id_var.get()


class RequestIdMiddleware:
    """Outermost middleware: every response, error or redirect, carries the request id."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = incoming if VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            self._log(request, response.status_code, started)
            return response
        finally:
            request_id_var.reset(token)

    @staticmethod
    def _log(request, status_code: int, started: float) -> None:
        user_id = _user_id(request)
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        remote_addr = request.META.get("REMOTE_ADDR")
        level = logging.ERROR if status_code >= 500 else logging.INFO
        # The text line says what the JSON fields say: `GET /path 200 12.3ms user=… client=…`.
        request_logger.log(
            level,
            "%s %s %s %sms user=%s client=%s",
            request.method,
            request.path,
            status_code,
            duration_ms,
            user_id or "-",
            remote_addr or "-",
            extra={
                "http": {
                    "method": request.method,
                    "path": request.path,
                    "status": status_code,
                    "duration_ms": duration_ms,
                    "user_id": user_id,
                    "remote_addr": remote_addr,
                }
            },
        )


def _user_id(request) -> str | None:
    """The id of the user DRF authenticated, without loading a session user from the DB."""
    user = getattr(request, "user", None)
    if user is None or (isinstance(user, SimpleLazyObject) and user._wrapped is empty):
        return None
    if not getattr(user, "is_authenticated", False):
        return None
    return str(user.pk)


class RequestIdFilter(logging.Filter):
    """Puts the current request id on every record (`-` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            # django.request logs a 5xx after the middleware has returned; it passes the request.
            request = getattr(record, "request", None)
            record.request_id = getattr(request, "request_id", None) or request_id_var.get()
        return True


# C0 and C1 control characters and the Unicode line/paragraph separators.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _escaped(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_control_characters(text: str) -> str:
    return CONTROL_CHARACTERS.sub(_escaped, text)


class TextFormatter(logging.Formatter):
    """The text format with every record's message on one line: control characters in it
    (from a request path, say) are written as `\\xNN`. Tracebacks stay multi-line."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = escape_control_characters(record.message)
        return super().formatMessage(record)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, and the `http`
    fields of request lines or the traceback of errors."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": format_datetime(datetime.fromtimestamp(record.created, tz=dt_timezone.utc)),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", request_id_var.get()),
        }
        http = getattr(record, "http", None)
        if http is not None:
            entry["http"] = http
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)
