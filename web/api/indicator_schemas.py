"""The API's shapes for key indicators: the catalogue, confirmations, the roll-up and the
plan check (CONTRACT.md). Registered with apispec by name from the views' docstrings."""
from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from workflow.table import KINDS

from .schemas import _ID, OrgUnitRefSchema, ResponseSchema, StrictSchema

# ---------------------------------------------------------------- the catalogue


class CatalogueQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    kind = fields.String(validate=validate.OneOf(KINDS), metadata={"description": "default annual_report"})
    district_id = fields.Integer(validate=_ID, metadata={"description": "default: the caller's district"})


class CatalogueEntrySchema(StrictSchema):
    key = fields.String(required=True, metadata={"description": "a-z, 0-9 and _, starting with a letter"})
    name = fields.String(required=True, metadata={"description": "e.g. 地区生产总值"})
    unit = fields.String(required=True, metadata={"description": "canonical unit, e.g. 亿元, 万元, 元, %, 家"})
    synonyms = fields.List(fields.String(), load_default=list, metadata={
        "description": "other names towns write it under, e.g. GDP"})


class CatalogueSchema(ResponseSchema):
    district = fields.Nested(OrgUnitRefSchema, required=True)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    default = fields.Boolean(required=True, metadata={"description": "true: the district has none of its own"})
    items = fields.List(fields.Nested(CatalogueEntrySchema), required=True)


class SetCatalogueSchema(StrictSchema):
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    district_id = fields.Integer(strict=True, validate=_ID, metadata={"description": "default: the caller's"})
    items = fields.List(fields.Dict(), required=True, metadata={"description": "catalogue entries, in order"})


class KeyIndicatorsRequestSchema(StrictSchema):
    version = fields.Integer(required=True, strict=True, metadata={"description": "the lock version seen"})
    values = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True), required=True, metadata={
        "description": "catalogue key → number in the catalogue's unit, or null (then a reason is required)"})
    reasons = fields.Dict(keys=fields.String(), values=fields.String(), metadata={
        "description": "catalogue key → why the value is blank"})


COMPONENTS = (CatalogueEntrySchema, CatalogueSchema, SetCatalogueSchema, KeyIndicatorsRequestSchema)
