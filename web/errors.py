"""Error answers: JSON under /api/, a page elsewhere. Domain errors carry their status."""
from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from workflow.errors import DomainError


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def error_response(status: int, code: str, message: str, details=None):
    if _wants_json():
        body = {"error": {"code": code, "message": message}}
        if details:
            body["error"].update(details if isinstance(details, dict) else {"details": details})
        return jsonify(body), status
    return render_template("error.html", status=status, message=message), status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        return error_response(exc.status, exc.code, exc.message, exc.details)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        codes = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                 405: "method_not_allowed", 409: "conflict", 413: "too_large", 422: "invalid"}
        return error_response(exc.code or 500, codes.get(exc.code or 500, "error"), exc.description or exc.name)
