"""The response envelope: `{isSuccess, statusCode, data, errors, timestamp}`, in that order."""

import json
from typing import Any

from django.http import HttpResponse
from rest_framework.utils.encoders import JSONEncoder

from allmine.api.formats import now_timestamp
from allmine.api.messages import standard_message


def envelope(status_code: int, data: Any = None, errors: list[str] | None = None) -> dict:
    success = status_code < 400
    return {
        "isSuccess": success,
        "statusCode": status_code,
        "data": data if success else None,
        "errors": [] if success else (errors or [standard_message(status_code)]),
        "timestamp": now_timestamp(),
    }


def error_messages(status_code: int, *details: str) -> list[str]:
    """The standard message for the status, then each distinct specific detail."""
    first = standard_message(status_code)
    messages = [first]
    for detail in details:
        if detail and detail not in messages:
            messages.append(detail)
    return messages


def envelope_error_response(status_code: int, *details: str) -> HttpResponse:
    """An error envelope for code outside DRF (URL fallbacks, middleware, handler views)."""
    body = envelope(status_code, errors=error_messages(status_code, *details))
    return HttpResponse(
        json.dumps(body, cls=JSONEncoder, separators=(",", ":")),
        status=status_code,
        content_type="application/json",
    )
