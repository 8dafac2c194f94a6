"""DRF exception handler: every error becomes a list of messages for the envelope renderer.

The project's `DomainError`s and Django's `ValidationError`, `ProtectedError` and
`RestrictedError` are mapped first; everything else goes to DRF's default handler (which sets
`WWW-Authenticate`, `Retry-After` and `Allow`), whose answer is then reworded for the envelope.
No rollback is needed here: services are `transaction.atomic` and an error leaving them has
already rolled their writes back (requests are not wrapped in one transaction).
"""

import logging

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from allmine.api.envelope import error_messages
from allmine.api.errors import DomainError
from allmine.api.throttling import rate_limit_headers

logger = logging.getLogger(__name__)


def flatten_errors(detail, prefix: str = "") -> list[str]:
    """Turn DRF's nested error detail into one readable string per problem."""
    if isinstance(detail, dict):
        messages = []
        for field, value in detail.items():
            name = "" if field in ("non_field_errors", "detail") else str(field)
            key = f"{prefix}.{name}" if prefix and name else (prefix or name)
            messages.extend(flatten_errors(value, key))
        return messages
    if isinstance(detail, list):
        messages = []
        for index, value in enumerate(detail):
            if isinstance(value, dict | list):
                messages.extend(flatten_errors(value, f"{prefix}[{index}]"))
            else:
                messages.extend(flatten_errors(value, prefix))
        return messages
    text = str(detail)
    return [f"{prefix}: {text}" if prefix else text]


def _is_token_error(detail) -> bool:
    return isinstance(detail, dict) and "detail" in detail and "code" in detail


def envelope_exception_handler(exc, context):
    if isinstance(exc, DomainError):
        return Response(error_messages(exc.status_code, exc.detail or ""), status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        details = flatten_errors(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
        return Response(error_messages(400, *details), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, ProtectedError | RestrictedError):
        return Response(
            error_messages(409, "Other records depend on this resource"),
            status=status.HTTP_409_CONFLICT,
        )

    response = exception_handler(exc, context)
    if response is None:
        return None  # a real fault: ApiExceptionMiddleware answers 500 and logs it

    if isinstance(exc, exceptions.ValidationError):
        details = flatten_errors(exc.detail)
    elif isinstance(exc, Http404):
        details = []
    elif isinstance(exc, exceptions.APIException) and _is_token_error(exc.detail):
        # simplejwt's `{"detail", "code", "messages": [{"message", ...}]}`: keep the sentences.
        messages = [str(m["message"]) for m in exc.detail.get("messages", []) if "message" in m]
        details = [str(exc.detail["detail"]), *messages]
    elif isinstance(exc, exceptions.APIException):
        details = flatten_errors(exc.detail)
        # DRF's generic defaults say the same as the standard message; keep only specifics.
        if details and details[0] == str(type(exc).default_detail):
            details = []
    else:
        details = []
    response.data = error_messages(response.status_code, *details)
    if isinstance(exc, exceptions.Throttled) and context.get("request") is not None:
        for name, value in rate_limit_headers(context["request"]).items():
            response[name] = value
    return response
