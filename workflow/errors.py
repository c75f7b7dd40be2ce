"""Domain errors. Each carries the HTTP status the web layer answers with, so the
API and the UI map them in one place and bad input never becomes a 500."""
from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class BadInput(DomainError):
    status, code = 400, "bad_request"


class Forbidden(DomainError):
    status, code = 403, "forbidden"


class NotFound(DomainError):
    status, code = 404, "not_found"


class Conflict(DomainError):
    status, code = 409, "conflict"


class TooLarge(DomainError):
    status, code = 413, "too_large"


class Invalid(DomainError):
    status, code = 422, "invalid"
