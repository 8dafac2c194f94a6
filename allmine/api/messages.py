"""The standard first entry of `errors` for each HTTP status (API.md §1)."""

from http import HTTPStatus

STANDARD_MESSAGES = {
    400: "Validation failed",
    401: "Authentication required",
    403: "Insufficient permissions",
    404: "Resource not found",
    405: "Method not allowed",
    409: "Resource already exists or cannot be changed in its current state",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


def standard_message(status_code: int) -> str:
    if status_code in STANDARD_MESSAGES:
        return STANDARD_MESSAGES[status_code]
    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return STANDARD_MESSAGES[500] if status_code >= 500 else STANDARD_MESSAGES[400]
