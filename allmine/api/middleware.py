"""Envelope for failures that happen outside DRF's own handling, under /api/ only."""

import logging

from django.http import Http404

from allmine.api.envelope import envelope_error_response

logger = logging.getLogger("allmine.errors")


def is_api_path(path: str) -> bool:
    return path.startswith("/api/")


class ApiExceptionMiddleware:
    """Turns an unhandled exception in an API view into a 500 envelope (404 for Http404).

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
        logger.exception("Unhandled error on %s %s", request.method, request.path)
        return envelope_error_response(500)
