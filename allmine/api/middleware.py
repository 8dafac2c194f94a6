"""Envelope for failures that happen outside DRF's own handling, under /api/ only."""

import logging

from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import Http404

from allmine.api.envelope import envelope_error_response

logger = logging.getLogger("allmine.errors")
RETRY_AFTER_SECONDS = 5
# PostgreSQL errors that say "this server cannot serve you now", not "this query is wrong":
# a role that lost a privilege (42501) and a primary that became a read-only standby (25006).
OUTAGE_SQLSTATES = frozenset({"42501", "25006"})


def is_database_outage(exception: BaseException) -> bool:
    """A database that cannot be reached or cannot serve this request now: a 503, not a 500."""
    if isinstance(exception, OperationalError | InterfaceError):
        return True  # includes SQLite's "attempt to write a readonly database"
    return (
        isinstance(exception, DatabaseError)
        and getattr(exception.__cause__, "sqlstate", None) in OUTAGE_SQLSTATES
    )


def is_api_path(path: str) -> bool:
    return path.startswith("/api/")


class ApiRequestGuardMiddleware:
    """Refuses an /api/ request whose `Host` is not allowed or whose query string has more
    than `DATA_UPLOAD_MAX_NUMBER_FIELDS` parameters with a 400 envelope, before any other
    middleware or DRF reads them.

    Production already answers these through `handler400`; with DEBUG on, Django would show
    its HTML debug page for the host and DRF would fail (500) on the parameters. Checking
    here makes both modes answer alike. Logged like Django does (`django.security.*`).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if is_api_path(request.path):
            try:
                request.get_host()
                request.GET  # noqa: B018 - parsing it is the check
            except SuspiciousOperation as error:
                security_logger = logging.getLogger(f"django.security.{type(error).__name__}")
                security_logger.error(str(error), extra={"request": request, "status_code": 400})
                return envelope_error_response(400)
        return self.get_response(request)


class ApiExceptionMiddleware:
    """Turns an exception escaping an API view into an envelope: Django's own 404, 403 and
    400 exceptions keep their status; a database that cannot be reached or refuses to serve
    (lost privilege, read-only) is a 503 with `Retry-After` (the transaction was rolled back,
    nothing was written); anything else is a 500. Both are logged.

    Works with DEBUG on too, so a client never sees a stack trace or an HTML page.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not is_api_path(request.path):
            return None
        if isinstance(exception, Http404):
            return envelope_error_response(404)
        if isinstance(exception, PermissionDenied):
            return envelope_error_response(403)
        if isinstance(exception, BadRequest | SuspiciousOperation):
            return envelope_error_response(400)
        if is_database_outage(exception):
            logger.exception("Database unavailable on %s %s", request.method, request.path)
            response = envelope_error_response(503, "Database unavailable, retry shortly")
            response["Retry-After"] = str(RETRY_AFTER_SECONDS)
            return response
        logger.exception("Unhandled error on %s %s", request.method, request.path)
        return envelope_error_response(500)
