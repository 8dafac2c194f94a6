"""The project's own error types. Services raise these; the API layer maps them to HTTP.

Each carries an optional `detail`: a specific message shown as the second entry of
`errors` after the standard message for its status.
"""


class DomainError(Exception):
    """Base of every error a service raises on purpose."""

    status_code = 400

    def __init__(self, detail: str | None = None):
        super().__init__(detail or self.__class__.__name__)
        self.detail = detail


class InvalidInput(DomainError):
    status_code = 400


class NotFound(DomainError):
    status_code = 404


class Forbidden(DomainError):
    status_code = 403


class Conflict(DomainError):
    """The resource cannot be changed in its current state."""

    status_code = 409


class InsufficientBalance(Conflict):
    def __init__(self, detail: str | None = "Insufficient credit balance"):
        super().__init__(detail)
