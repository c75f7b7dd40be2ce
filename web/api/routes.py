"""The JSON API under ``/api/v1`` (CONTRACT.md, "HTTP API").

Thin: each view authenticates the bearer token, loads its body through a marshmallow
schema, calls one service of ``workflow.services`` and dumps the answer. Errors answer
``{"error": {"code", "reason", "message", "params"}}`` (``web.errors`` maps domain errors and HTTP
errors; the message is in the language of the request's Accept-Language, Chinese by default).
The YAML after ``---`` in each view's docstring is that operation in ``/openapi.json``.
"""
from __future__ import annotations

import json
import logging
from typing import Any

from flask import Blueprint, current_app, g, jsonify, request, send_file, url_for
from marshmallow import Schema, ValidationError
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge
from werkzeug.wsgi import LimitedStream, get_input_stream

from pdf import service as pdf_service
from web.errors import error_response
from web.extensions import csrf
from workflow import admin, services
from workflow.errors import BadInput

from . import auth, schemas, serialize

log = logging.getLogger(__name__)

bp = Blueprint("api", __name__)
# Bearer tokens only, never the session cookie: no ambient authority, so no CSRF token.
csrf.exempt(bp)

# Endpoints that need no token.
PUBLIC_ENDPOINTS = {"api.create_token", "api.openapi"}
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
    _refuse_truncated_stream()
    if not raw.strip():
        raise BadInput("json_not_object")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise BadInput("json_invalid")
    data = _clean_json(data)
    if not isinstance(data, dict):
        raise BadInput("json_not_object")
    return _load(schema, data)


def _refuse_truncated_stream() -> None:
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
        raise BadInput("invalid_fields", names=sorted(str(k) for k in fields), details={"fields": fields})


def query_args(schema: Schema) -> dict:
    """The query string through ``schema``; empty values mean "no filter"."""
    args = {k: v.replace("\x00", "") for k, v in request.args.items() if v.strip()}
    return _load(schema, args)


def _user():
    return g.api_user


# ---------------------------------------------------------------- tokens and the caller


@bp.post("/tokens")
def create_token():
    """Exchange a username and password for a bearer token.
    ---
    post:
      tags: [auth]
      summary: Get a bearer token
      description: >
        The token is shown once; send it as `Authorization: Bearer <token>`. It expires after
        API_TOKEN_HOURS hours. Wrong username, wrong password and a disabled account all answer
        the same 401.
      security: []
      requestBody:
        required: true
        content:
          application/json:
            schema: TokenRequestSchema
      responses:
        201:
          description: the token
          content:
            application/json:
              schema: TokenSchema
        400: {$ref: '#/components/responses/BadRequest'}
        401: {$ref: '#/components/responses/Unauthorized'}
        413: {$ref: '#/components/responses/TooLarge'}
    """
    body = json_body(schemas.TokenRequestSchema())
    issued = auth.issue_token(body["username"], body["password"])
    if issued is None:
        return error_response(401, "unauthorized", "credentials")
    token, expires_at = issued
    return jsonify(schemas.TokenSchema().dump({"token": token, "expires_at": expires_at})), 201


@bp.delete("/tokens/current")
def revoke_token():
    """Revoke the token of this request.
    ---
    delete:
      tags: [auth]
      summary: Revoke the current token (log out)
      responses:
        204: {description: revoked}
        401: {$ref: '#/components/responses/Unauthorized'}
    """
    auth.revoke_token(auth.bearer_token())
    return "", 204


@bp.get("/me")
def me():
    """The caller and their positions.
    ---
    get:
      tags: [auth]
      summary: Who am I
      responses:
        200:
          description: the caller
          content:
            application/json:
              schema: MeSchema
        401: {$ref: '#/components/responses/Unauthorized'}
    """
    return jsonify(serialize.me(_user()))


@bp.get("/org-units")
def org_units():
    """The org units the caller may see, as a tree.
    ---
    get:
      tags: [org]
      summary: The caller's org tree
      description: Each of the caller's positions covers its unit's subtree; the roots are those units.
      responses:
        200:
          description: the tree
          content:
            application/json:
              schema: OrgUnitTreeSchema
        401: {$ref: '#/components/responses/Unauthorized'}
    """
    return jsonify(serialize.org_tree(admin.visible_units(_user())))


# ---------------------------------------------------------------- reports


@bp.get("/reports")
def list_reports():
    """Reports in the caller's scope, newest activity first.
    ---
    get:
      tags: [reports]
      summary: List reports
      parameters:
        - in: query
          schema: ReportQuerySchema
      responses:
        200:
          description: one page of report summaries
          content:
            application/json:
              schema: ReportListSchema
        400: {$ref: '#/components/responses/BadRequest'}
        401: {$ref: '#/components/responses/Unauthorized'}
    """
    args = query_args(schemas.ReportQuerySchema())
    per_page = args.pop("per_page", None) or current_app.config.get("PAGE_SIZE", 20)
    page = services.list_reports(_user(), per_page=per_page, **args)
    return jsonify(serialize.report_page(page))


@bp.post("/reports")
def create_report():
    """Create a draft from pasted text (or an outline).
    ---
    post:
      tags: [reports]
      summary: Create a report
      description: Only an author of the (town-level) org unit may create its reports.
      requestBody:
        required: true
        content:
          application/json:
            schema: CreateReportSchema
      responses:
        201:
          description: the new draft
          headers:
            Location: {description: the report's URL, schema: {type: string}}
          content:
            application/json:
              schema: ReportSchema
        400: {$ref: '#/components/responses/BadRequest'}
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        404: {$ref: '#/components/responses/NotFound'}
        413: {$ref: '#/components/responses/TooLarge'}
        422: {$ref: '#/components/responses/Invalid'}
    """
    body = json_body(schemas.CreateReportSchema())
    saved = services.create_report(_user(), **body)
    response = jsonify(serialize.report(_user(), saved.report, dropped_lines=saved.dropped_lines))
    response.headers["Location"] = url_for("api.get_report", report_id=saved.report.id, _external=True)
    return response, 201


@bp.get("/reports/<int:report_id>")
def get_report(report_id: int):
    """One report with its content, problems, comments, history and PDF status.
    ---
    get:
      tags: [reports]
      summary: Get a report
      responses:
        200:
          description: the report
          content:
            application/json:
              schema: ReportSchema
        401: {$ref: '#/components/responses/Unauthorized'}
        404: {$ref: '#/components/responses/NotFound'}
    """
    return jsonify(serialize.report(_user(), services.get_report(_user(), report_id)))


@bp.put("/reports/<int:report_id>")
def update_report(report_id: int):
    """Save the draft.
    ---
    put:
      tags: [reports]
      summary: Edit a draft
      description: >
        Send the `version` you loaded; a stale one answers 409 and changes nothing. Give `text`
        or `outline` to replace the content (section ids are kept where the sections match),
        `title` to rename, or both.
      requestBody:
        required: true
        content:
          application/json:
            schema: UpdateReportSchema
      responses:
        200:
          description: the report with a new version
          content:
            application/json:
              schema: ReportSchema
        400: {$ref: '#/components/responses/BadRequest'}
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        404: {$ref: '#/components/responses/NotFound'}
        409: {$ref: '#/components/responses/Conflict'}
        413: {$ref: '#/components/responses/TooLarge'}
    """
    body = json_body(schemas.UpdateReportSchema())
    saved = services.update_draft(_user(), report_id, **body)
    return jsonify(serialize.report(_user(), saved.report, dropped_lines=saved.dropped_lines))


@bp.post("/reports/<int:report_id>/actions")
def report_action(report_id: int):
    """Take a workflow action (submit, withdraw, approve, return).
    ---
    post:
      tags: [workflow]
      summary: Act on a report
      description: >
        `allowed_actions` of the report lists what the caller may do now. A return needs a
        `comment` (the reason). Send the `version` you loaded: a stale version or a state
        that no longer allows the action answers 409 and changes nothing.
      requestBody:
        required: true
        content:
          application/json:
            schema: ActionRequestSchema
      responses:
        200:
          description: the report after the action
          content:
            application/json:
              schema: ReportSchema
        400: {$ref: '#/components/responses/BadRequest'}
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        404: {$ref: '#/components/responses/NotFound'}
        409: {$ref: '#/components/responses/Conflict'}
        422: {$ref: '#/components/responses/Invalid'}
    """
    body = json_body(schemas.ActionRequestSchema())
    report = services.perform(_user(), report_id, body["action"], version=body["version"],
                              comment=body.get("comment"))
    return jsonify(serialize.report(_user(), report))


@bp.post("/reports/<int:report_id>/comments")
def add_comment(report_id: int):
    """Comment on a report or one of its sections.
    ---
    post:
      tags: [comments]
      summary: Add a comment
      description: >
        A reviewer's comment while the report waits on them is a review comment (`open`) that
        the town must answer before resubmitting; anyone else's is a `note`.
      requestBody:
        required: true
        content:
          application/json:
            schema: CommentRequestSchema
      responses:
        201:
          description: the comment
          content:
            application/json:
              schema: CommentSchema
        400: {$ref: '#/components/responses/BadRequest'}
        401: {$ref: '#/components/responses/Unauthorized'}
        404: {$ref: '#/components/responses/NotFound'}
        409: {$ref: '#/components/responses/Conflict'}
        413: {$ref: '#/components/responses/TooLarge'}
        422: {$ref: '#/components/responses/Invalid'}
    """
    body = json_body(schemas.CommentRequestSchema())
    comment = services.add_comment(_user(), report_id, **body)
    return jsonify(serialize.comment(comment)), 201


@bp.post("/reports/<int:report_id>/comments/<int:comment_id>/answer")
def answer_comment(report_id: int, comment_id: int):
    """Answer a review comment (the town, while the report is a draft).
    ---
    post:
      tags: [comments]
      summary: Answer a review comment
      requestBody:
        required: true
        content:
          application/json:
            schema: AnswerRequestSchema
      responses:
        200:
          description: the answered comment
          content:
            application/json:
              schema: CommentSchema
        400: {$ref: '#/components/responses/BadRequest'}
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        404: {$ref: '#/components/responses/NotFound'}
        409: {$ref: '#/components/responses/Conflict'}
        413: {$ref: '#/components/responses/TooLarge'}
    """
    body = json_body(schemas.AnswerRequestSchema())
    comment = services.answer_comment(_user(), report_id, comment_id, status=body["status"], answer=body["answer"])
    return jsonify(serialize.comment(comment))


@bp.get("/reports/<int:report_id>/versions")
def report_versions(report_id: int):
    """The report's content versions (frozen at each submit; the last may be the draft).
    ---
    get:
      tags: [reports]
      summary: List content versions
      responses:
        200:
          description: the versions, oldest first
          content:
            application/json:
              schema: VersionListSchema
        401: {$ref: '#/components/responses/Unauthorized'}
        404: {$ref: '#/components/responses/NotFound'}
    """
    report = services.get_report(_user(), report_id)
    items = [{"number": v.number, "sha256": v.content_sha256, "title": v.title, "created_at": v.created_at,
              "frozen_at": v.frozen_at, "submitted_by": submitter.username if submitter else None,
              "current": v.number == report.content_number}
             for v, submitter in services.versions_with_submitters(report)]
    return jsonify(schemas.VersionListSchema().dump({"items": items}))


@bp.get("/reports/<int:report_id>/diff")
def report_diff(report_id: int):
    """What changed between two content versions.
    ---
    get:
      tags: [reports]
      summary: Compare two versions
      parameters:
        - in: query
          schema: DiffQuerySchema
      responses:
        200:
          description: the differences
          content:
            application/json:
              schema: DiffSchema
        400: {$ref: '#/components/responses/BadRequest'}
        401: {$ref: '#/components/responses/Unauthorized'}
        404: {$ref: '#/components/responses/NotFound'}
    """
    from workflow.diff import diff_outlines, diff_stats

    args = query_args(schemas.DiffQuerySchema())
    report = services.get_report(_user(), report_id)
    chosen = services.diff_range(report, args.get("from_"), args.get("to"))
    old, new = chosen.old, chosen.new
    changes = diff_outlines(old.outline, new.outline)
    return jsonify(schemas.DiffSchema().dump({"from_": old.number, "to": new.number, "changes": changes,
                                              "stats": diff_stats(changes)}))


@bp.get("/reports/<int:report_id>/pdf")
def report_pdf(report_id: int):
    """The signed PDF of a published report.
    ---
    get:
      tags: [reports]
      summary: Download the signed PDF
      responses:
        200:
          description: the signed PDF
          content:
            application/pdf:
              schema: {type: string, format: binary}
        401: {$ref: '#/components/responses/Unauthorized'}
        404: {$ref: '#/components/responses/NotFound'}
        409: {$ref: '#/components/responses/Conflict'}
    """
    pdf = pdf_service.pdf_file(_user(), report_id)
    return send_file(pdf.path, mimetype="application/pdf", download_name=pdf.download_name, max_age=0)


# ---------------------------------------------------------------- verification and the document


@bp.post("/verify")
def verify():
    """Check that a PDF is an authentic, unaltered published report.
    ---
    post:
      tags: [verify]
      summary: Verify a signed PDF
      requestBody:
        required: true
        content:
          multipart/form-data:
            schema:
              type: object
              required: [file]
              properties:
                file: {type: string, format: binary, description: the PDF}
      responses:
        200:
          description: the verdict (valid or not, and why)
          content:
            application/json:
              schema: VerifyResultSchema
        400: {$ref: '#/components/responses/BadRequest'}
        401: {$ref: '#/components/responses/Unauthorized'}
        413: {$ref: '#/components/responses/TooLarge'}
    """
    upload = request.files.get("file")
    _refuse_truncated_stream()
    if upload is None:
        raise BadInput("pdf_file_missing")
    data = upload.read()
    if not data:
        raise BadInput("empty_file")
    return jsonify(serialize.verify_result(_verify_pdf(data)))


def _verify_pdf(data: bytes):
    return pdf_service.verify_upload(data)


@bp.get("/openapi.json")
def openapi():
    """This API as an OpenAPI 3 document.
    ---
    get:
      tags: [meta]
      summary: The OpenAPI document
      security: []
      responses:
        200:
          description: the OpenAPI 3 document
          content:
            application/json:
              schema: {type: object}
    """
    from .openapi import spec_for

    return jsonify(spec_for(current_app))


# The reporting cycles' endpoints live in their own module, on this blueprint.
from . import cycles as _cycles  # noqa: E402,F401
