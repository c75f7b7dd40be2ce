"""Key indicators in the JSON API (CONTRACT.md): the district's catalogue, a report's
confirmed values, the roll-up of a cycle and the plan check. Thin: schema in, service, dump."""
from __future__ import annotations

from flask import Response, jsonify

from web.rollup import export
from workflow import key_indicators, plan_check, rollup, services

from . import indicator_schemas as ks
from . import serialize
from .base import api_user, bp, json_body, query_args


def _catalogue_json(district, kind: str, entries) -> dict:
    return ks.CatalogueSchema().dump({
        "district": serialize.unit_ref(district), "kind": kind,
        "default": not key_indicators.has_own_catalogue(district.id, kind),
        "items": [{"key": e.key, "name": e.name, "unit": e.unit, "synonyms": list(e.synonyms)} for e in entries]})


@bp.get("/indicator-catalogue")
def get_catalogue():
    """The key indicators a district asks for in reports of one kind.
    ---
    get:
      tags: [indicators]
      summary: Get the indicator catalogue
      description: >
        Each entry has a canonical unit; figures in other units of the same kind (万元, 亿元, 元)
        are converted to it. A district that has not set its own uses the default catalogue.
      parameters:
        - in: query
          schema: CatalogueQuerySchema
      responses:
        200:
          description: the catalogue
          content:
            application/json:
              schema: CatalogueSchema
        400: {$ref: '#/components/responses/BadRequest'}
        401: {$ref: '#/components/responses/Unauthorized'}
        404: {$ref: '#/components/responses/NotFound'}
    """
    args = query_args(ks.CatalogueQuerySchema())
    district, kind, entries = key_indicators.catalogue_for(api_user(), **args)
    return jsonify(_catalogue_json(district, kind, entries))


@bp.put("/indicator-catalogue")
def set_catalogue():
    """Replace a district's catalogue for one report kind (district reviewers and admins).
    ---
    put:
      tags: [indicators]
      summary: Set the indicator catalogue
      requestBody:
        required: true
        content:
          application/json:
            schema: SetCatalogueSchema
      responses:
        200:
          description: the catalogue
          content:
            application/json:
              schema: CatalogueSchema
        400: {$ref: '#/components/responses/BadRequest'}
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        404: {$ref: '#/components/responses/NotFound'}
    """
    body = json_body(ks.SetCatalogueSchema())
    key_indicators.set_catalogue(api_user(), kind=body["kind"], entries=body["items"],
                                 district_id=body.get("district_id"))
    district, kind, entries = key_indicators.catalogue_for(api_user(), kind=body["kind"],
                                                           district_id=body.get("district_id"))
    return jsonify(_catalogue_json(district, kind, entries))


@bp.put("/reports/<int:report_id>/key-indicators")
def confirm_key_indicators(report_id: int):
    """The author confirms or corrects the draft's key indicators before submit.
    ---
    put:
      tags: [indicators]
      summary: Confirm key indicators
      description: >
        Values are numbers in the catalogue's unit; null leaves one blank and needs a reason.
        Keys not given keep what they had. Only in draft: the values are frozen with the
        submitted content and published with it (409 afterwards).
      requestBody:
        required: true
        content:
          application/json:
            schema: KeyIndicatorsRequestSchema
      responses:
        200:
          description: the report, with its `key_indicators` and a new lock version
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
    body = json_body(ks.KeyIndicatorsRequestSchema())
    report = services.get_report(api_user(), report_id)
    key_indicators.confirm(api_user(), report, version=body["version"], values=body["values"],
                           reasons=body.get("reasons"))
    return jsonify(serialize.report(api_user(), services.get_report(api_user(), report_id)))


def rollup_dict(r: rollup.RollUp) -> dict:
    keys = [e.key for e in r.indicators]

    def per_key(row: rollup.Row, attr: str) -> dict:
        return {k: getattr(row.cells[k], attr) for k in keys}

    names = {row.org_unit_id: row.org_unit_name for row in r.rows}

    return {
        "cycle": {"id": r.cycle.id, "title": r.cycle.title, "kind": r.cycle.kind, "year": r.cycle.year},
        "previous_cycle_id": r.previous_cycle.id if r.previous_cycle else None,
        "indicators": [{"key": e.key, "name": e.name, "unit": e.unit} for e in r.indicators],
        "rows": [{"org_unit": {"id": row.org_unit_id, "name": row.org_unit_name}, "report_id": row.report_id,
                  "values": per_key(row, "value"), "sources": per_key(row, "source"),
                  "shares": per_key(row, "share"), "previous": per_key(row, "previous"),
                  "growth": per_key(row, "growth"), "outliers": per_key(row, "outlier")} for row in r.rows],
        "totals": {k: vars(s) for k, s in r.totals.items()},
        "history": {"cycles": [{"id": c.id, "year": c.year, "title": c.title} for c in r.history.cycles],
                    "sums": r.history_sums,
                    "towns": [{"org_unit": {"id": uid, "name": names.get(uid, "")}, "values": values}
                              for uid, values in r.history.values.items()]},
    }


@bp.get("/cycles/<int:cycle_id>/rollup")
def cycle_rollup(cycle_id: int):
    """The key indicators of every town of a cycle side by side (汇总).
    ---
    get:
      tags: [indicators]
      summary: Roll-up of a cycle
      description: >
        Published reports only; a town's unconfirmed figures come from its text (`sources`:
        `extracted`). Sums, means and medians over the towns the caller sees; each town's share,
        growth against the same town in last year's cycle of the same kind, outliers; and the
        towns across the district's cycles of this kind (`history`).
      parameters:
        - in: query
          schema: RollupQuerySchema
      responses:
        200:
          description: the roll-up
          content:
            application/json:
              schema: RollupSchema
        400: {$ref: '#/components/responses/BadRequest'}
        401: {$ref: '#/components/responses/Unauthorized'}
        404: {$ref: '#/components/responses/NotFound'}
    """
    args = query_args(ks.RollupQuerySchema())
    r = rollup.rollup(api_user(), cycle_id, sort=args.get("sort"), q=args.get("q"),
                      flagged_only=bool(args.get("flagged")))
    return jsonify(ks.RollupSchema().dump(rollup_dict(r)))


@bp.get("/cycles/<int:cycle_id>/rollup.xlsx")
def cycle_rollup_xlsx(cycle_id: int):
    """The roll-up as a workbook: the figures and a sheet of bar charts.
    ---
    get:
      tags: [indicators]
      summary: Roll-up of a cycle as .xlsx
      responses:
        200:
          description: the workbook
          content:
            application/vnd.openxmlformats-officedocument.spreadsheetml.sheet:
              schema: {type: string, format: binary}
        401: {$ref: '#/components/responses/Unauthorized'}
        404: {$ref: '#/components/responses/NotFound'}
    """
    r = rollup.rollup(api_user(), cycle_id)
    response = Response(export.to_xlsx(r), mimetype=export.XLSX_MIMETYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{export.filename(r)}"'
    return response


def plan_check_dict(c: plan_check.PlanCheck) -> dict:
    return {"plan_report_id": c.plan.id if c.plan else None, "plan_title": c.plan.title if c.plan else None,
            "tasks": [vars(t) for t in c.tasks], "unmentioned": c.unmentioned,
            "targets": [vars(t) for t in c.targets],
            "five_year_plan_report_id": c.five_year_plan.id if c.five_year_plan else None,
            "five_year_targets": [vars(t) for t in c.five_year_targets or []]}


@bp.get("/reports/<int:report_id>/plan-check")
def get_plan_check(report_id: int):
    """An annual report beside the town's published annual plan of the year.
    ---
    get:
      tags: [indicators]
      summary: Plan check of an annual report
      description: >
        Every task of the plan (its leaf sections) with the status the author gave it, whether
        the report mentions it (character-bigram overlap of the heading with the report's text,
        at least one half), and the plan's targets against the reported key indicators (完成率).
      responses:
        200:
          description: the check (no tasks when the town has no published plan of the year)
          content:
            application/json:
              schema: PlanCheckSchema
        401: {$ref: '#/components/responses/Unauthorized'}
        404: {$ref: '#/components/responses/NotFound'}
    """
    report = services.get_report(api_user(), report_id)
    return jsonify(ks.PlanCheckSchema().dump(plan_check_dict(plan_check.check(report))))


@bp.put("/reports/<int:report_id>/plan-tasks")
def set_plan_tasks(report_id: int):
    """The author says how far each plan task got (while the report is a draft).
    ---
    put:
      tags: [indicators]
      summary: Set plan task statuses
      requestBody:
        required: true
        content:
          application/json:
            schema: PlanTasksRequestSchema
      responses:
        200:
          description: the plan check
          content:
            application/json:
              schema: PlanCheckSchema
        400: {$ref: '#/components/responses/BadRequest'}
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        404: {$ref: '#/components/responses/NotFound'}
        409: {$ref: '#/components/responses/Conflict'}
    """
    body = json_body(ks.PlanTasksRequestSchema())
    report = services.get_report(api_user(), report_id)
    plan_check.set_statuses(api_user(), report, body["tasks"])
    report = services.get_report(api_user(), report_id)
    return jsonify(ks.PlanCheckSchema().dump(plan_check_dict(plan_check.check(report))))
