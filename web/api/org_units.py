"""The API's view of an org unit's issuing names (发文机关全称, 发文字号 prefix), on the ``api``
blueprint: read by anyone who sees the unit, set by its admins (``workflow.admin``, audited)."""
from __future__ import annotations

from flask import jsonify
from marshmallow import fields, validate

from workflow import admin
from workflow.errors import NotFound
from workflow.models import OrgUnit

from .base import api_user, bp, json_body
from .schemas import ResponseSchema, StrictSchema


class IssuingNamesRequestSchema(StrictSchema):
    issuing_name = fields.String(required=True, allow_none=True, validate=validate.Length(max=100), metadata={
        "description": "发文机关全称, e.g. 青山镇人民政府; null or empty: the default (name + 人民政府)"})
    doc_prefix = fields.String(required=True, allow_none=True, validate=validate.Length(max=20), metadata={
        "description": "the 发文字号's prefix, e.g. 青政; null or empty: the default (first character + 政)"})


class OrgUnitIssuingSchema(ResponseSchema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True)
    issuing_name = fields.String(allow_none=True, metadata={"description": "as configured (null: the default)"})
    doc_prefix = fields.String(allow_none=True, metadata={"description": "as configured (null: the default)"})
    printed_issuing_name = fields.String(required=True, metadata={
        "description": "what published reports print: the configured name, else the default"})
    printed_doc_prefix = fields.String(required=True, metadata={
        "description": "the prefix 发文字号 are made with (青政〔2026〕3号)"})


def _issuing(unit: OrgUnit) -> dict:
    return OrgUnitIssuingSchema().dump({
        "id": unit.id, "name": unit.name, "kind": unit.kind, "issuing_name": unit.issuing_name,
        "doc_prefix": unit.doc_prefix, "printed_issuing_name": unit.issuing_name_or_default,
        "printed_doc_prefix": unit.doc_prefix_or_default})


@bp.get("/org-units/<int:org_unit_id>")
def get_org_unit(org_unit_id: int):
    """One org unit with its issuing names.
    ---
    get:
      tags: [org]
      summary: An org unit and how its documents name it
      responses:
        200:
          description: the unit
          content:
            application/json:
              schema: OrgUnitIssuingSchema
        401: {$ref: '#/components/responses/Unauthorized'}
        404: {$ref: '#/components/responses/NotFound'}
    """
    unit = next((u for u in admin.visible_units(api_user()) if u.id == org_unit_id), None)
    if unit is None:
        raise NotFound("org_unit")
    return jsonify(_issuing(unit))


@bp.put("/org-units/<int:org_unit_id>/issuing-names")
def set_issuing_names(org_unit_id: int):
    """Set an org unit's 发文机关全称 and 发文字号 prefix (admins of the unit; audited).
    ---
    put:
      tags: [administration]
      summary: Set a unit's issuing name and document number prefix
      description: >
        What the unit's published reports print from then on: a town's report is its
        上行文 to the district, headed by the town's issuing name + 文件 and numbered with its
        prefix (青政〔2026〕3号); the district's issuing name is the addressee and on its seal.
        Null or empty restores a default. Reports published before keep what they printed.
      requestBody:
        required: true
        content:
          application/json:
            schema: IssuingNamesRequestSchema
      responses:
        200:
          description: the unit
          content:
            application/json:
              schema: OrgUnitIssuingSchema
        400: {$ref: '#/components/responses/BadRequest'}
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        404: {$ref: '#/components/responses/NotFound'}
        413: {$ref: '#/components/responses/TooLarge'}
    """
    body = json_body(IssuingNamesRequestSchema())
    unit = admin.set_issuing_names(api_user(), org_unit_id, issuing_name=body["issuing_name"],
                                   doc_prefix=body["doc_prefix"])
    return jsonify(_issuing(unit))
