"""Domain errors: a category (the HTTP status and the API's ``code``), a reason and parameters.

The domain never writes a sentence for a person. It raises, for example,
``NotFound("report")`` or ``Invalid("blocking_problems", count=3)``; the edge (``web/messages.py``)
turns ``(code, reason, params)`` into a message in the reader's language through the gettext
catalog. So API clients get one language, a reworded message breaks nothing, and tests pin codes.

- ``code``: the category, one per HTTP status (``not_found``, ``conflict``, …): stable, in the API.
- ``reason``: what exactly went wrong within the category (``report``, ``stale_version``, …).
- ``params``: the values the message names (``count``, ``field``, ``limit`` …): plain JSON values.
- ``details``: extra JSON the API adds to the error object (``problems``, ``current_version``, …).
"""
from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, reason: str, /, *, details: dict[str, Any] | None = None, **params: Any) -> None:
        super().__init__(f"{self.code}.{reason}" + (f" {params}" if params else ""))
        self.reason = reason
        self.params = params
        self.details = details

    @property
    def key(self) -> str:
        """``code.reason``: the key of the message in ``web/messages.py``."""
        return f"{self.code}.{self.reason}"


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


class TooMany(DomainError):
    status, code = 429, "too_many"
