"""Envelope for failures that happen outside DRF's own handling, under /api/ only."""

import logging

from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.db import InterfaceError, OperationalError
from django.http import Http404

from allmine.api.envelope import envelope_error_response

logger = logging.getLogger("allmine.errors")
RETRY_AFTER_SECONDS = 5


def is_api_path(path: str) -> bool:
    return path.startswith("/api/")


class ApiExceptionMiddleware:
    """Turns an exception escaping an API view into an envelope: Django's own 404, 403 and
    400 exceptions keep their status; a database that cannot be reached is a 503 with
    `Retry-After` (the transaction was rolled back, nothing was written); anything else is a
    500. Both are logged.

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
        if isinstance(exception, OperationalError | InterfaceError):
            logger.exception("Database unavailable on %s %s", request.method, request.path)
            response = envelope_error_response(503, "Database unavailable, retry shortly")
            response["Retry-After"] = str(RETRY_AFTER_SECONDS)
            return response
        logger.exception("Unhandled error on %s %s", request.method, request.path)
        return envelope_error_response(500)
