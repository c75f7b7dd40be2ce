"""The API's shapes for reporting cycles (CONTRACT.md: a cycle, a matrix row, reminders).

Registered with apispec by name from the views' docstrings (marshmallow's class registry),
like the schemas of ``web.api.schemas``.
"""
from __future__ import annotations

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from workflow.cycle_models import CYCLE_STATES
from workflow.cycles import FILTERS, SORTS, STATUSES
from workflow.dates import YEAR_MAX, YEAR_MIN
from workflow.table import KINDS

from .schemas import _ID, OrgUnitRefSchema, OutlineField, ResponseSchema, StrictSchema, TitleField, UtcDateTime


class TemplateField(fields.Raw):
    """Pasted text (headings to fill, numbered 一、 (一) 1.) or an outline object."""

    def _deserialize(self, value, attr, data, **kwargs):
        if value is None or isinstance(value, (str, dict)):
            return value
        raise ValidationError("give the template as text or as an outline object")


# ---------------------------------------------------------------- requests


class CreateCycleSchema(StrictSchema):
    org_unit_id = fields.Integer(required=True, strict=True, validate=_ID, metadata={"description": "the district"})
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    year = fields.Integer(required=True, strict=True, metadata={"description": f"{YEAR_MIN}–{YEAR_MAX}",
                                                                "minimum": YEAR_MIN, "maximum": YEAR_MAX})
    title = TitleField(required=True)
    due_date = fields.Date(required=True, metadata={"description": "YYYY-MM-DD, a Beijing calendar day, not past"})
    instructions = fields.String(allow_none=True, metadata={"description": "the notice (通知) to the towns"})
    org_unit_ids = fields.List(fields.Integer(strict=True, validate=_ID), allow_none=True, metadata={
        "description": "the towns expected; default: every town-level unit under the district"})
    template = TemplateField(allow_none=True, metadata={
        "description": "optional outline every town starts from: pasted text (headings) or an outline object"})


class TownsRequestSchema(StrictSchema):
    org_unit_ids = fields.List(fields.Integer(strict=True, validate=_ID), required=True,
                               validate=validate.Length(min=1))


class RemindRequestSchema(StrictSchema):
    org_unit_ids = fields.List(fields.Integer(strict=True, validate=_ID), allow_none=True,
                               validate=validate.Length(min=1), metadata={
                                   "description": "the towns to remind; default: every town not yet submitted"})
    message = fields.String(allow_none=True, validate=validate.Length(max=500))


class CycleQuerySchema(Schema):
    """The filters of ``GET /cycles`` (query string)."""

    class Meta:
        unknown = EXCLUDE

    year = fields.Integer(validate=validate.Range(min=2000, max=2100))
    kind = fields.String(validate=validate.OneOf(KINDS))
    state = fields.String(validate=validate.OneOf(CYCLE_STATES))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(validate=validate.Range(min=1, max=100))


class MatrixQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    status = fields.String(validate=validate.OneOf(FILTERS), metadata={
        "description": "only rows of this status (or `not_submitted`, `overdue`); the figures cover every row"})
    sort = fields.String(validate=validate.OneOf(SORTS + tuple("-" + s for s in SORTS)), metadata={
        "description": "a column; `-` in front for descending. Default: town (tree order)"})


# ---------------------------------------------------------------- answers


class CycleSchema(ResponseSchema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    year = fields.Integer(required=True)
    due_date = fields.Date(required=True)
    state = fields.String(required=True, validate=validate.OneOf(CYCLE_STATES))
    org_unit = fields.Nested(OrgUnitRefSchema, required=True, metadata={"description": "the district"})
    expected = fields.Integer(required=True, metadata={"description": "the expected towns the caller sees"})
    submitted = fields.Integer(metadata={"description": "of those, the towns submitted now"})
    instructions = fields.String(required=True)
    org_unit_ids = fields.List(fields.Integer(), metadata={"description": "the expected towns the caller sees"})
    template = OutlineField(allow_none=True, metadata={"description": "the outline towns start from, or null"})
    created_at = UtcDateTime()
    closed_at = UtcDateTime(allow_none=True)


class CycleListSchema(ResponseSchema):
    items = fields.List(fields.Nested(CycleSchema), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


class UnitNameSchema(ResponseSchema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)


class MatrixRowSchema(ResponseSchema):
    org_unit = fields.Nested(UnitNameSchema, required=True)
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    report_id = fields.Integer(allow_none=True, required=True)
    submitted_at = UtcDateTime(allow_none=True, required=True, metadata={"description": "the first submission"})
    published_at = UtcDateTime(allow_none=True, required=True)
    on_time = fields.Boolean(allow_none=True, required=True, metadata={
        "description": "first submitted by the end of the due date; null while not submitted and not due"})
    overdue = fields.Boolean(required=True, metadata={"description": "past the due date and not submitted"})
    days_in_step = fields.Integer(required=True)
    last_reminded_at = UtcDateTime(allow_none=True, required=True)
    reminders = fields.Integer(metadata={"description": "reminders sent to this town in this cycle"})


class MatrixSchema(ResponseSchema):
    cycle = fields.Nested(CycleSchema, required=True)
    expected = fields.Integer(required=True)
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True,
                         metadata={"description": "rows per status (every status, zeros included)"})
    actual = fields.Integer(metadata={"description": "towns submitted now: town_review, district_review, published"})
    on_time = fields.Integer(metadata={"description": "of those, first submitted by the due date"})
    overdue = fields.Integer()
    reporting_rate = fields.Float(required=True, metadata={"description": "actual ÷ expected, 0–1"})
    on_time_rate = fields.Float(required=True, metadata={"description": "on time ÷ expected, 0–1"})
    days_left = fields.Integer(metadata={"description": "until the due date; negative once past"})
    rows = fields.List(fields.Nested(MatrixRowSchema), required=True)


class SkippedTownSchema(ResponseSchema):
    org_unit_id = fields.Integer(required=True)
    reason = fields.String(required=True, validate=validate.OneOf(("submitted", "reminded_recently", "not_expected")))
    next_at = UtcDateTime(allow_none=True, metadata={"description": "reminded_recently: the next reminder from"})


class RemindResultSchema(ResponseSchema):
    reminded = fields.List(fields.Integer(), required=True)
    skipped = fields.List(fields.Nested(SkippedTownSchema), required=True)


COMPONENTS = (CreateCycleSchema, TownsRequestSchema, RemindRequestSchema, CycleSchema, CycleListSchema,
              MatrixRowSchema, MatrixSchema, RemindResultSchema)
