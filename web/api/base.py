"""The API blueprint and its request hygiene: token authentication before every view,
no caching, JSON bodies and query strings through marshmallow schemas (strict, bounded depth,
no NUL characters), and a 413 that the client actually receives. The views live in
``routes.py``, ``cycles.py`` and ``notifications.py``, all on this one blueprint.
"""
from __future__ import annotations

import json
import logging
from typing import Any

from flask import Blueprint, current_app, g, request
from marshmallow import Schema, ValidationError
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge
from werkzeug.wsgi import LimitedStream, get_input_stream

from web.errors import error_response
from web.extensions import csrf
from workflow.errors import BadInput

from . import auth

log = logging.getLogger(__name__)

bp = Blueprint("api", __name__)
# Bearer tokens only, never the session cookie: no ambient authority, so no CSRF token.
csrf.exempt(bp)

# Endpoints that need no token (verification, like the page: anyone holding a PDF may check it).
PUBLIC_ENDPOINTS = {"api.create_token", "api.openapi", "api.verify"}
MAX_JSON_DEPTH = 64
# How much of an over-large body is read and thrown away so that the client sees the 413.
DRAIN_LIMIT = 64 * 1024 * 1024


@bp.before_request
def authenticate():
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    user = auth.user_for_token(auth.bearer_token())
    if user is None:
        _drain_input(DRAIN_LIMIT)  # so that a client still sending its body reads this answer
        response, status = error_response(401, "unauthorized", "token")
        response.headers["WWW-Authenticate"] = 'Bearer realm="chengbao"'
        return response, status
    g.api_user = user
    return None


@bp.after_request
def no_store(response):
    response.headers.setdefault("Cache-Control", "no-store")
    return response


@bp.errorhandler(RequestEntityTooLarge)
def too_large(exc):
    """A body over MAX_CONTENT_LENGTH answers 413 JSON. The unread body is drained first
    (up to a bound): a server that closes a socket with unread input resets the connection,
    and a client still sending would see that reset instead of this answer."""
    _drain_input(DRAIN_LIMIT)
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    return error_response(413, "too_large", "request_body", {"limit": limit})


def _drain_input(limit: int) -> None:
    length = request.content_length
    if length is not None and length > limit:
        return  # absurd: not worth a worker's time; the client gets a reset
    # Werkzeug's safe wrapper: bounded by Content-Length, or the server's own end of a
    # chunked body, else empty (a raw socket without a length would block).
    stream = get_input_stream(request.environ, safe_fallback=True)
    remaining = limit
    try:
        while remaining > 0:
            chunk = stream.read(min(64 * 1024, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
    except (OSError, ValueError, ClientDisconnected):  # the client went away: nobody is left to answer
        pass


# ---------------------------------------------------------------- input


def _clean_json(value: Any) -> Any:
    """Drop NUL and lone surrogates from every string (they are never text, and some
    databases refuse them), and refuse absurd nesting. Iterative: no recursion on input."""
    def clean(s: str) -> str:
        if "\x00" in s or any("\ud800" <= ch <= "\udfff" for ch in s):
            s = "".join(ch for ch in s if ch != "\x00" and not "\ud800" <= ch <= "\udfff")
        return s

    root = [value]
    stack: list[tuple[Any, int]] = [(root, 0)]
    while stack:
        container, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise BadInput("json_too_deep", limit=MAX_JSON_DEPTH)
        if isinstance(container, list):
            items = enumerate(container)
        else:
            cleaned = {clean(k): v for k, v in container.items()}
            container.clear()
            container.update(cleaned)
            items = container.items()
        for key, item in list(items):
            if isinstance(item, str):
                container[key] = clean(item)
            elif isinstance(item, (list, dict)):
                stack.append((item, depth + 1))
    return root[0]


def json_body(schema: Schema) -> dict:
    """The request's JSON object, validated by ``schema`` (BadInput naming the fields otherwise)."""
    raw = request.get_data(cache=True)  # over MAX_CONTENT_LENGTH: 413 before anything is read
    refuse_truncated_stream()
    if not raw.strip():
        raise BadInput("json_not_object")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise BadInput("json_invalid") from None
    data = _clean_json(data)
    if not isinstance(data, dict):
        raise BadInput("json_not_object")
    return _load(schema, data)


def is_multipart() -> bool:
    return request.mimetype == "multipart/form-data"


def docx_upload(schema: Schema) -> dict:
    """A multipart/form-data request: its form fields (strings, NUL removed) and its
    ``file`` through ``schema``; the file's bytes as ``docx`` (BadInput when empty)."""
    form: dict[str, Any] = {k: v.replace("\x00", "") for k, v in request.form.items() if k != "file"}
    refuse_truncated_stream()
    if "file" in request.files:  # a "file" that is a text field, not a file, is no file
        form["file"] = request.files["file"]
    body = _load(schema, form)
    data = body.pop("file").read()
    if not data:
        raise BadInput("empty_file")
    return {**body, "docx": data}


def refuse_truncated_stream() -> None:
    """A streamed (chunked) body has no Content-Length to check up front, and Werkzeug
    quietly stops reading it at MAX_CONTENT_LENGTH: refuse it as too large rather than
    parse the truncated part."""
    limit, stream = request.max_content_length, request.stream
    if (request.content_length is None and limit is not None and isinstance(stream, LimitedStream)
            and stream.tell() >= limit):
        raise RequestEntityTooLarge()


def _load(schema: Schema, data: dict) -> dict:
    try:
        return schema.load(data)
    except ValidationError as exc:
        fields = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        raise BadInput("invalid_fields", names=sorted(str(k) for k in fields), details={"fields": fields}) from exc


def query_args(schema: Schema) -> dict:
    """The query string through ``schema``; an empty value means "no filter" (the OpenAPI
    says ``allowEmptyValue``), a blank one is a value like any other."""
    args = {k: v.replace("\x00", "") for k, v in request.args.items() if v != ""}
    return _load(schema, args)


def api_user():
    """The caller the bearer token named (``authenticate`` set it)."""
    return g.api_user
