"""One error vocabulary for the whole service.

Every error the service reports is a :class:`SuspectsError` with an HTTP status, a stable machine
code, a message, and optionally the field at fault. The API turns it into one JSON shape
(``{"error": {"code", "message", "field", "details"}}``); the CLI prints the message and exits 2.
"""

from __future__ import annotations

from typing import Any


class SuspectsError(Exception):
    """Base error: ``status`` for HTTP, ``code`` for machines, ``message`` for people."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, field: str | None = None, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details or []

    def body(self) -> dict[str, Any]:
        """The JSON error body."""
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field is not None:
            error["field"] = self.field
        if self.details:
            error["details"] = self.details
        return {"error": error}


class InvalidInput(SuspectsError):
    """A request or file value is malformed or out of range."""

    status = 422
    code = "invalid_input"


class NotFound(SuspectsError):
    """The named record, job or key does not exist."""

    status = 404
    code = "not_found"


class Unauthorized(SuspectsError):
    """No API key, or an unknown, revoked or expired one."""

    status = 401
    code = "unauthorized"


class Forbidden(SuspectsError):
    """The key's role or office may not do this."""

    status = 403
    code = "forbidden"


class PayloadTooLarge(SuspectsError):
    """The request body or batch exceeds a configured limit."""

    status = 413
    code = "payload_too_large"


class RateLimited(SuspectsError):
    """Too many requests for this key; retry after ``retry_after`` seconds."""

    status = 429
    code = "rate_limited"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class StoreUnavailable(SuspectsError):
    """The storage backend cannot answer now; retry later."""

    status = 503
    code = "store_unavailable"
    retry_after = 5


class NoRecords(SuspectsError):
    """A reading command or the server pointed at a store that does not exist or holds nothing:
    answering "not seen" from it would be a false negative, not an answer."""

    status = 503
    code = "no_records"


class StaleKeys(SuspectsError):
    """The store's records were keyed by another version of the normalizer: queries keyed by this
    one can miss them, so answering from it could say "not seen" wrongly."""

    status = 503
    code = "stale_keys"


class Busy(SuspectsError):
    """Another load or reindex holds the store's write lock."""

    status = 409
    code = "busy"


class Conflict(SuspectsError):
    """The resource is not in a state that allows this (e.g. cancelling a finished job)."""

    status = 409
    code = "conflict"
