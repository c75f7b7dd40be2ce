"""The reporting cycles' endpoints of the JSON API (CONTRACT.md: cycles, the matrix, reminders),
on the API blueprint of ``web.api.routes``. Thin, like the rest of the API: load the body
through a schema, call ``workflow.cycles``, dump the answer.
"""
from __future__ import annotations

import datetime as dt

from flask import Response, current_app, jsonify, request, url_for

from web.cycles import export
from web.errors import domain_error_response
from workflow import cycles
from workflow.cycle_models import Cycle
from workflow.errors import TooMany
from workflow.models import User, utcnow

from . import cycle_schemas as cs
from . import serialize
from .base import api_user, bp, json_body, query_args


def cycle_dict(actor: User | None, cycle: Cycle, *, expected: int | None = None, submitted: int | None = None,
               full: bool = False) -> dict:
    data = {"id": cycle.id, "title": cycle.title, "kind": cycle.kind, "year": cycle.year,
            "due_date": cycle.due_date, "state": cycle.state, "org_unit": serialize.unit_ref(cycle.district),
            "instructions": cycle.instructions, "created_at": cycle.created_at, "closed_at": cycle.closed_at}
    if full:
        visible = cycles.matrix(actor, cycle.id)
        data |= {"expected": visible.expected, "submitted": visible.actual,
                 "org_unit_ids": [r.org_unit_id for r in visible.rows], "template": cycle.template}
    else:
        data |= {"expected": expected or 0, "submitted": submitted or 0}
    return data


def _cycle_json(actor: User, cycle: Cycle) -> dict:
    return cs.CycleSchema().dump(cycle_dict(actor, cycle, full=True))


def matrix_dict(m: cycles.Matrix) -> dict:
    return {
        "cycle": cycle_dict(None, m.cycle, expected=m.expected, submitted=m.actual) | {
            "org_unit_ids": [r.org_unit_id for r in m.rows] if not m.status_filter else None},
        "expected": m.expected, "counts": m.counts, "actual": m.actual, "on_time": m.on_time,
        "overdue": m.overdue, "reporting_rate": m.reporting_rate, "on_time_rate": m.on_time_rate,
        "days_left": m.days_left,
        "rows": [{"org_unit": {"id": r.org_unit_id, "name": r.org_unit_name}, "status": r.status,
                  "report_id": r.report_id, "submitted_at": r.submitted_at, "published_at": r.published_at,
                  "on_time": r.on_time, "overdue": r.overdue, "days_in_step": r.days_in_step,
                  "last_reminded_at": r.last_reminded_at, "reminders": r.reminders} for r in m.rows],
    }


def _matrix_data(m: cycles.Matrix) -> dict:
    data = matrix_dict(m)
    if data["cycle"]["org_unit_ids"] is None:
        del data["cycle"]["org_unit_ids"]
    return cs.MatrixSchema().dump(data)


@bp.get("/cycles")
def list_cycles():
    """The reporting cycles the caller sees, open ones first.
    ---
    get:
      tags: [cycles]
      summary: List reporting cycles
      description: >
        District users see their districts' cycles; a town's users see the cycles that expect
        their town (`expected` and `submitted` then count their own towns only).
      parameters:
        - in: query
          schema: CycleQuerySchema
      responses:
        200:
          description: one page of cycles
          content:
            application/json:
              schema: CycleListSchema
        400: {$ref: '#/components/responses/BadRequest'}
        401: {$ref: '#/components/responses/Unauthorized'}
    """
    args = query_args(cs.CycleQuerySchema())
    per_page = args.pop("per_page", None) or current_app.config.get("PAGE_SIZE", 20)
    page = cycles.list_cycles(api_user(), per_page=per_page, **args)
    items = [cycle_dict(api_user(), c, expected=page.progress[c.id][0], submitted=page.progress[c.id][1])
             for c in page.items]
    return jsonify(cs.CycleListSchema().dump({"items": items, "total": page.total, "page": page.page,
                                              "per_page": page.per_page}))


@bp.post("/cycles")
def open_cycle():
    """Open a reporting cycle for a district.
    ---
    post:
      tags: [cycles]
      summary: Open a reporting cycle
      description: >
        A district reviewer or admin of the district opens it; every town-level unit under the
        district is expected unless `org_unit_ids` names them. The towns' authors are told
        (a `cycle_opened` event).
      requestBody:
        required: true
        content:
          application/json:
            schema: CreateCycleSchema
      responses:
        201:
          description: the new cycle
          headers:
            Location: {description: the cycle's URL, schema: {type: string}}
          content:
            application/json:
              schema: CycleSchema
        400: {$ref: '#/components/responses/BadRequest'}
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        404: {$ref: '#/components/responses/NotFound'}
        413: {$ref: '#/components/responses/TooLarge'}
        422: {$ref: '#/components/responses/Invalid'}
    """
    body = json_body(cs.CreateCycleSchema())
    cycle = cycles.open_cycle(api_user(), **body)
    response = jsonify(_cycle_json(api_user(), cycle))
    response.headers["Location"] = url_for("api.get_cycle", cycle_id=cycle.id, _external=True)
    return response, 201


@bp.get("/cycles/<int:cycle_id>")
def get_cycle(cycle_id: int):
    """One reporting cycle.
    ---
    get:
      tags: [cycles]
      summary: Get a reporting cycle
      responses:
        200:
          description: the cycle
          content:
            application/json:
              schema: CycleSchema
        401: {$ref: '#/components/responses/Unauthorized'}
        404: {$ref: '#/components/responses/NotFound'}
    """
    return jsonify(_cycle_json(api_user(), cycles.get_cycle(api_user(), cycle_id)))


@bp.put("/cycles/<int:cycle_id>/towns")
def set_cycle_towns(cycle_id: int):
    """Change the towns an open cycle expects.
    ---
    put:
      tags: [cycles]
      summary: Set the expected towns
      description: A town whose report already belongs to the cycle stays (409). Towns added are told.
      requestBody:
        required: true
        content:
          application/json:
            schema: TownsRequestSchema
      responses:
        200:
          description: the cycle
          content:
            application/json:
              schema: CycleSchema
        400: {$ref: '#/components/responses/BadRequest'}
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        404: {$ref: '#/components/responses/NotFound'}
        409: {$ref: '#/components/responses/Conflict'}
        422: {$ref: '#/components/responses/Invalid'}
    """
    body = json_body(cs.TownsRequestSchema())
    cycle = cycles.set_towns(api_user(), cycle_id, body["org_unit_ids"])
    return jsonify(_cycle_json(api_user(), cycle))


@bp.post("/cycles/<int:cycle_id>/close")
def close_cycle(cycle_id: int):
    """Close a cycle: no new reports join it (its reports go on through the workflow).
    ---
    post:
      tags: [cycles]
      summary: Close a reporting cycle
      responses:
        200:
          description: the cycle, closed
          content:
            application/json:
              schema: CycleSchema
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        404: {$ref: '#/components/responses/NotFound'}
        409: {$ref: '#/components/responses/Conflict'}
    """
    return jsonify(_cycle_json(api_user(), cycles.close_cycle(api_user(), cycle_id)))


@bp.post("/cycles/<int:cycle_id>/reopen")
def reopen_cycle(cycle_id: int):
    """Reopen a closed cycle.
    ---
    post:
      tags: [cycles]
      summary: Reopen a reporting cycle
      responses:
        200:
          description: the cycle, open
          content:
            application/json:
              schema: CycleSchema
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        404: {$ref: '#/components/responses/NotFound'}
        409: {$ref: '#/components/responses/Conflict'}
    """
    return jsonify(_cycle_json(api_user(), cycles.reopen_cycle(api_user(), cycle_id)))


@bp.get("/cycles/<int:cycle_id>/matrix")
def cycle_matrix(cycle_id: int):
    """The completeness matrix: one row per expected town, counts and rates.
    ---
    get:
      tags: [cycles]
      summary: The completeness matrix
      description: >
        `reporting_rate` = towns submitted now (in town_review, district_review or published) ÷
        expected; `on_time_rate` = those first submitted by the end of the due date (Beijing
        time) ÷ expected. A returned report owes a resubmission and does not count. A town's
        users get their own rows only.
      parameters:
        - in: query
          schema: MatrixQuerySchema
      responses:
        200:
          description: the matrix
          content:
            application/json:
              schema: MatrixSchema
        400: {$ref: '#/components/responses/BadRequest'}
        401: {$ref: '#/components/responses/Unauthorized'}
        404: {$ref: '#/components/responses/NotFound'}
    """
    args = query_args(cs.MatrixQuerySchema())
    return jsonify(_matrix_data(cycles.matrix(api_user(), cycle_id, **args)))


@bp.get("/cycles/<int:cycle_id>/matrix.xlsx")
def cycle_matrix_xlsx(cycle_id: int):
    """The matrix as a workbook: a sheet of towns and a sheet of figures.
    ---
    get:
      tags: [cycles]
      summary: The matrix as .xlsx
      responses:
        200:
          description: the workbook
          content:
            application/vnd.openxmlformats-officedocument.spreadsheetml.sheet:
              schema: {type: string, format: binary}
        401: {$ref: '#/components/responses/Unauthorized'}
        404: {$ref: '#/components/responses/NotFound'}
    """
    m = cycles.matrix(api_user(), cycle_id)
    return _attachment(export.to_xlsx(m), export.XLSX_MIMETYPE, export.filename(m, "xlsx"))


@bp.get("/cycles/<int:cycle_id>/matrix.csv")
def cycle_matrix_csv(cycle_id: int):
    """The matrix rows as CSV (UTF-8 with a byte-order mark, for Excel and WPS).
    ---
    get:
      tags: [cycles]
      summary: The matrix as CSV
      responses:
        200:
          description: the rows
          content:
            text/csv:
              schema: {type: string}
        401: {$ref: '#/components/responses/Unauthorized'}
        404: {$ref: '#/components/responses/NotFound'}
    """
    m = cycles.matrix(api_user(), cycle_id)
    return _attachment(export.to_csv(m), "text/csv; charset=utf-8", export.filename(m, "csv"))


def _attachment(data: bytes, mimetype: str, name: str) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@bp.post("/cycles/<int:cycle_id>/reminders")
def remind(cycle_id: int):
    """催办: remind towns that have not submitted.
    ---
    post:
      tags: [cycles]
      summary: Remind towns
      description: >
        Default: every expected town not yet submitted. A town that has submitted is never
        reminded; a town reminded by hand within the hour is skipped with `next_at`. When every
        town asked for was reminded within the hour the answer is 429 with `next_at` (and a
        Retry-After header).
      requestBody:
        required: false
        content:
          application/json:
            schema: RemindRequestSchema
      responses:
        201:
          description: who was reminded and who was skipped, and why
          content:
            application/json:
              schema: RemindResultSchema
        400: {$ref: '#/components/responses/BadRequest'}
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        404: {$ref: '#/components/responses/NotFound'}
        409: {$ref: '#/components/responses/Conflict'}
        429:
          description: every town asked for was reminded within the hour
          content:
            application/json:
              schema: ErrorSchema
    """
    body = json_body(cs.RemindRequestSchema()) if request.get_data(cache=True).strip() else {}
    try:
        result = cycles.remind(api_user(), cycle_id, org_unit_ids=body.get("org_unit_ids"), message=body.get("message"))
    except TooMany as exc:
        response, status = domain_error_response(exc)
        next_at = dt.datetime.fromisoformat(exc.details["next_at"].removesuffix("Z"))
        response.headers["Retry-After"] = str(max(1, int((next_at - utcnow()).total_seconds()) + 1))
        return response, status
    return jsonify(cs.RemindResultSchema().dump({"reminded": result.reminded, "skipped": result.skipped})), 201
