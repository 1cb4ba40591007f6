"""Domain errors: expected failures of a business rule.

Services raise them and know nothing of HTTP; main.py maps each kind to a status code and
a JSON body `{"detail": ..., "code": ...}`.
"""


class DomainError(Exception):
    """Base of every domain error (answered with 400 unless a subclass says otherwise)."""

    code = "domain_error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFoundError(DomainError):
    """The requested entity does not exist (404)."""

    code = "not_found"


class ConflictError(DomainError):
    """The request conflicts with the current state, e.g. a duplicate (409)."""

    code = "conflict"


class UnavailableError(DomainError):
    """A service this one depends on cannot be reached, e.g. the job queue (503)."""

    code = "unavailable"
