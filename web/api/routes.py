"""The JSON API under ``/api/v1`` (CONTRACT.md, "HTTP API").

Thin: each view authenticates the bearer token, loads its body through a marshmallow
schema, calls one service of ``workflow.services`` and dumps the answer. Errors answer
``{"error": {"code", "reason", "message", "params"}}`` (``web.errors`` maps domain errors and HTTP
errors; the message is in the language of the request's Accept-Language, Chinese by default).
The YAML after ``---`` in each view's docstring is that operation in ``/openapi.json``.
"""
from __future__ import annotations

import logging

from flask import current_app, jsonify, request, send_file, url_for

from pdf import service as pdf_service
from web.errors import domain_error_response, error_response
from web.throttle import retry_after_header
from workflow import admin, listing, services
from workflow.errors import BadInput, TooMany

from . import auth, schemas, serialize
from .base import api_user, bp, docx_upload, is_multipart, json_body, query_args, refuse_truncated_stream

log = logging.getLogger(__name__)


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
        the same 401. Failed attempts are limited per client address and per username
        (LOGIN_LIMIT_PER_ADDRESS, LOGIN_LIMIT_PER_ACCOUNT): over a limit the answer is 429
        `login_attempts`; after LOGIN_LOCKOUT_FAILURES failures the username is locked for
        LOGIN_LOCKOUT_MINUTES minutes, 429 `account_locked`. Both carry `Retry-After` and, in
        `params`, `retry_after` (seconds) and `retry_at` or `until` (UTC).
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
        429: {$ref: '#/components/responses/TooMany'}
    """
    body = json_body(schemas.TokenRequestSchema())
    try:
        issued = auth.issue_token(body["username"], body["password"])
    except TooMany as exc:
        response, status = domain_error_response(exc)
        return retry_after_header(response, exc), status
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
    return jsonify(serialize.me(api_user()))


@bp.get("/org-units")
def org_units():
    """The org units the caller may see: the whole tree, or a page of matching units.
    ---
    get:
      tags: [org]
      summary: The caller's org tree, or a search of it
      description: >
        Without parameters: the tree (each of the caller's positions covers its unit's subtree;
        the roots are those units). With `q`, `parent`, `kind`, `limit` or `cursor`: a flat page
        of at most `limit` (default 20) matching units in tree order, and the cursor of the next
        page — what a picker needs at a province's scale (1,500 towns).
      parameters:
        - in: query
          schema: OrgUnitQuerySchema
      responses:
        200:
          description: the tree (no parameters) or a page (OrgUnitPageSchema)
          content:
            application/json:
              schema:
                anyOf: [OrgUnitTreeSchema, OrgUnitPageSchema]
        400: {$ref: '#/components/responses/BadRequest'}
        401: {$ref: '#/components/responses/Unauthorized'}
    """
    args = query_args(schemas.OrgUnitQuerySchema())
    if not args:
        return jsonify(serialize.org_tree(admin.visible_units(api_user())))
    kind = args.pop("kind", None)
    page = listing.find_units(api_user(), kinds=[kind] if kind else (), parent_id=args.pop("parent", None), **args)
    return jsonify(serialize.org_unit_page(page))


# ---------------------------------------------------------------- reports


_REPORT_QUERY = schemas.ReportQuerySchema()


@bp.get("/reports")
def list_reports():
    """Reports in the caller's scope, newest activity first, a page at a time (``next_cursor``).
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
    args = query_args(_REPORT_QUERY)
    per_page = args.pop("per_page", None) or current_app.config.get("PAGE_SIZE", 20)
    # Reached by ``cursor``: keyset order (page null); else page ``page`` (default 1).
    page = services.list_reports(api_user(), per_page=per_page, summary=True, **args)
    return jsonify(serialize.report_page(page))


@bp.post("/reports")
def create_report():
    """Create a draft from pasted text, an outline or a .docx.
    ---
    post:
      tags: [reports]
      summary: Create a report
      description: >
        Only an author of the (town-level) org unit may create its reports. Give exactly one of
        `text` and `outline`, or neither with `cycle_id` (the cycle's template is the content);
        both answer 400 `text_and_outline`, neither without a cycle 400 `text_or_outline`. Or
        send multipart/form-data with the .docx as `file` and the other fields as form fields
        (as the web form does); without a `title`, the .docx's paragraphs in Word's Title style
        are the title.
      requestBody:
        required: true
        content:
          application/json:
            schema: CreateReportSchema
          multipart/form-data:
            schema: CreateReportUploadSchema
      responses:
        201:
          description: the new draft
          headers:
            Location: {description: the report's URL, schema: {type: string}}
          links:
            GetReport: {operationId: get_report, parameters: {report_id: '$response.body#/id'}}
            EditReport: {operationId: update_report, parameters: {report_id: '$response.body#/id'}}
            ActOnReport: {operationId: report_action, parameters: {report_id: '$response.body#/id'}}
            CommentOnReport: {operationId: add_comment, parameters: {report_id: '$response.body#/id'}}
            ReportVersions: {operationId: report_versions, parameters: {report_id: '$response.body#/id'}}
            ReportDiff: {operationId: report_diff, parameters: {report_id: '$response.body#/id'}}
            ReportPdf: {operationId: report_pdf, parameters: {report_id: '$response.body#/id'}}
          content:
            application/json:
              schema: ReportSchema
        400: {$ref: '#/components/responses/BadRequest'}
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        404: {$ref: '#/components/responses/NotFound'}
        409: {$ref: '#/components/responses/Conflict'}
        413: {$ref: '#/components/responses/TooLarge'}
        422: {$ref: '#/components/responses/Invalid'}
    """
    if is_multipart():
        body = docx_upload(schemas.CreateReportUploadSchema())
    else:
        body = json_body(schemas.CreateReportSchema())
    saved = services.create_report(api_user(), **body)
    response = jsonify(serialize.report(api_user(), saved.report, dropped_lines=saved.dropped_lines,
                                     repairs=saved.repairs))
    response.headers["Location"] = url_for("api.get_report", report_id=saved.report.id, _external=True)
    return response, 201


@bp.post("/checks")
def check_content():
    """Check content without saving it.
    ---
    post:
      tags: [reports]
      summary: Check text or an outline for problems
      description: >
        The problems a save would find (placeholders, numbering, empty sections, no headings,
        half-width punctuation, glyphs the PDF cannot draw), with their messages, and how many
        sections were recognised. Nothing is stored. The report editor calls its own page's
        twin of this as the author types. With `report_id`, section ids follow that report.
      requestBody:
        required: true
        content:
          application/json:
            schema: CheckRequestSchema
      responses:
        200:
          description: the problems
          content:
            application/json:
              schema: CheckResultSchema
        400: {$ref: '#/components/responses/BadRequest'}
        401: {$ref: '#/components/responses/Unauthorized'}
        404: {$ref: '#/components/responses/NotFound'}
        413: {$ref: '#/components/responses/TooLarge'}
    """
    body = json_body(schemas.CheckRequestSchema())
    checked = services.check_content(api_user(), **body)
    return jsonify(serialize.checked(checked))


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
    return jsonify(serialize.report(api_user(), services.get_report(api_user(), report_id)))


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
        `title` to rename, or both. `text` and `outline` together answer 400 `text_and_outline`.
        Or send multipart/form-data with a .docx as `file` (and `version`, optionally `title`, as
        form fields) to replace the content with the file's.
      requestBody:
        required: true
        content:
          application/json:
            schema: UpdateReportSchema
          multipart/form-data:
            schema: UpdateReportUploadSchema
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
    if is_multipart():
        body = docx_upload(schemas.UpdateReportUploadSchema())
    else:
        body = json_body(schemas.UpdateReportSchema())
    saved = services.update_draft(api_user(), report_id, **body)
    return jsonify(serialize.report(api_user(), saved.report, dropped_lines=saved.dropped_lines,
                                     repairs=saved.repairs))


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
    report = services.perform(api_user(), report_id, body["action"], version=body["version"],
                              comment=body.get("comment"))
    return jsonify(serialize.report(api_user(), report))


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
    comment = services.add_comment(api_user(), report_id, **body)
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
    comment = services.answer_comment(api_user(), report_id, comment_id, status=body["status"], answer=body["answer"])
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
    report = services.get_report(api_user(), report_id)
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
    report = services.get_report(api_user(), report_id)
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
    pdf = pdf_service.pdf_file(api_user(), report_id)
    return send_file(pdf.path, mimetype="application/pdf", download_name=pdf.download_name, max_age=0)


@bp.get("/reports/<int:report_id>/approval-form")
def report_approval_form(report_id: int):
    """The signed approval form (审批单) of a published report.
    ---
    get:
      tags: [reports]
      summary: Download the signed approval form
      description: >
        A PDF beside the report's: title, town, district, archive number, every step of the
        report's history up to the district's approval (actor, role, action, opinion, time),
        the approved content's SHA-256 and the signed PDF's, signed with the district's
        certificate (PAdES B-LTA) and verifiable at POST /verify. 409 while the report's PDF
        or the form is being made (a form missing for an older publication is queued then).
      responses:
        200:
          description: the signed approval form
          content:
            application/pdf:
              schema: {type: string, format: binary}
        401: {$ref: '#/components/responses/Unauthorized'}
        404: {$ref: '#/components/responses/NotFound'}
        409: {$ref: '#/components/responses/Conflict'}
    """
    form = pdf_service.approval_form_file(api_user(), report_id)
    return send_file(form.path, mimetype="application/pdf", download_name=form.download_name, max_age=0)


# ---------------------------------------------------------------- verification and the document


@bp.post("/verify")
def verify():
    """Check that a PDF is an authentic, unaltered published report. No token needed.
    ---
    post:
      tags: [verify]
      summary: Verify a signed PDF
      description: >
        Public, like the verification page: no token. The answer's `verdict` is one of
        valid_in_archive, valid_not_ours, modified, unsigned, untrusted, malformed;
        `message` explains it in the caller's language. Nothing is stored and no session
        is made, so a proxy may rate-limit the endpoint per client address; the upload is
        bounded by MAX_UPLOAD_BYTES (413 beyond).
      security: []
      requestBody:
        required: true
        content:
          multipart/form-data:
            schema:
              type: object
              required: [file]
              properties:
                file: {type: string, format: binary, minLength: 1, description: the PDF (not empty)}
      responses:
        200:
          description: the verdict (valid or not, and why)
          content:
            application/json:
              schema: VerifyResultSchema
        400: {$ref: '#/components/responses/BadRequest'}
        413: {$ref: '#/components/responses/TooLarge'}
    """
    upload = request.files.get("file")
    refuse_truncated_stream()
    if upload is None:
        raise BadInput("pdf_file_missing")
    data = upload.read()
    if not data:
        raise BadInput("empty_file")
    return jsonify(serialize.verdict(pdf_service.verdict_on(data)))


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

