"""Key indicators in the JSON API (CONTRACT.md): the district's catalogue, a report's
confirmed values, the roll-up of a cycle and the plan check. Thin: schema in, service, dump."""
from __future__ import annotations

from flask import jsonify

from workflow import key_indicators, services

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
