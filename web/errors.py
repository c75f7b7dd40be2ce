"""Error answers: JSON under /api/, a page elsewhere, the message in the reader's language.

Domain errors carry their status, category (``code``), reason and parameters; the sentence
comes from ``web.messages`` here, at the edge. The API answers
``{"error": {"code", "reason", "message", "params", …details}}``.
"""
from __future__ import annotations

from typing import Any

from flask import Flask, Response, current_app, jsonify, make_response, render_template, request
from werkzeug.exceptions import HTTPException

from web import messages
from workflow.errors import DomainError

# The API's ``code`` of an HTTP status that no domain error raised.
HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 409: "conflict", 413: "too_large", 422: "invalid", 429: "too_many"}


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def error_body(code: str, reason: str, params: dict[str, Any] | None = None, details: Any = None,
               message: str | None = None) -> dict:
    """The API's error object, its message in the current request's language."""
    body: dict[str, Any] = {"code": code, "reason": reason,
                            "message": message if message is not None else messages.render_key(code, reason, params),
                            "params": params or {}}
    if details:
        extra = dict(details) if isinstance(details, dict) else {"details": details}
        if isinstance(extra.get("problems"), list):
            extra["problems"] = messages.problems_for_reader(extra["problems"])
        body.update({k: v for k, v in extra.items() if k not in body})
    return {"error": body}


def error_response(status: int, code: str, reason: str, params: dict[str, Any] | None = None, details: Any = None,
                   message: str | None = None):
    """JSON for the API, the error page elsewhere."""
    if _wants_json():
        return jsonify(error_body(code, reason, params, details, message)), status
    text = message if message is not None else messages.render_key(code, reason, params)
    return render_template("error.html", status=status, message=text), status


def domain_error_response(exc: DomainError):
    return error_response(exc.status, exc.code, exc.reason, exc.params, exc.details)


def http_error_response(exc: HTTPException):
    """An HTTP error (404, 405, 413 …): a description given by the code that raised it is
    already in the reader's language; Werkzeug's own English default is replaced. The
    exception's own headers (``Allow`` of a 405, ``Retry-After``) are kept."""
    status = exc.code or 500
    code = HTTP_CODES.get(status, "error")
    custom = exc.description if exc.description != type(exc).description else None
    if status == 413:
        answer = error_response(status, code, "request_body",
                                {"limit": current_app.config.get("MAX_CONTENT_LENGTH")}, message=custom)
    else:
        answer = error_response(status, code, "http", message=custom)
    return _with_headers_of(exc, *answer)


def _with_headers_of(exc: HTTPException, body: Any, status: int) -> Response:
    """The error answer with the headers the exception carries, its content type excepted."""
    response = make_response(body, status)
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(DomainError, domain_error_response)
    app.register_error_handler(HTTPException, http_error_response)
