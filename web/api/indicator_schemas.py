"""The API's shapes for key indicators: the catalogue, confirmations, the roll-up and the
plan check (CONTRACT.md). Registered with apispec by name from the views' docstrings."""
from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from workflow.plan_check import TASK_STATUSES
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
    items = fields.List(fields.Dict(), required=True, validate=validate.Length(min=1, max=40),
                        metadata={"description": "catalogue entries, in order (1–40)"})


class KeyIndicatorsRequestSchema(StrictSchema):
    version = fields.Integer(required=True, strict=True, metadata={"description": "the lock version seen"})
    values = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True), required=True, metadata={
        "description": "catalogue key → number in the catalogue's unit, or null (then a reason is required)"})
    reasons = fields.Dict(keys=fields.String(), values=fields.String(), metadata={
        "description": "catalogue key → why the value is blank"})


COMPONENTS = (CatalogueEntrySchema, CatalogueSchema, SetCatalogueSchema, KeyIndicatorsRequestSchema)


# ---------------------------------------------------------------- the roll-up


class RollupQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    sort = fields.String(metadata={"description": "`town` (default), or an indicator key (largest first), "
                                                  "or `-key` (smallest first)"})
    q = fields.String(validate=validate.Length(max=50), metadata={"description": "part of a town's name"})
    flagged = fields.Boolean(metadata={"description": "only towns with a flagged figure"})


class RollupIndicatorSchema(ResponseSchema):
    key = fields.String(required=True)
    name = fields.String(required=True)
    unit = fields.String(required=True)


class RollupStatsSchema(ResponseSchema):
    count = fields.Integer(required=True, metadata={"description": "towns with a value"})
    sum = fields.Float(allow_none=True, required=True)
    mean = fields.Float(allow_none=True, required=True)
    median = fields.Float(allow_none=True, required=True)


class RollupTownSchema(ResponseSchema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)


class RollupRowSchema(ResponseSchema):
    org_unit = fields.Nested(RollupTownSchema, required=True)
    report_id = fields.Integer(allow_none=True, required=True, metadata={"description": "the published report"})
    values = fields.Dict(keys=fields.String(), values=fields.Float(allow_none=True), required=True)
    sources = fields.Dict(keys=fields.String(), values=fields.String(allow_none=True), metadata={
        "description": "key → `confirmed` or `extracted` (from the text, not confirmed), null without a value"})
    shares = fields.Dict(keys=fields.String(), values=fields.Float(allow_none=True), metadata={
        "description": "key → this town's share of the sum, 0–1"})
    previous = fields.Dict(keys=fields.String(), values=fields.Float(allow_none=True), metadata={
        "description": "key → the same town's value in last year's cycle of the same kind"})
    growth = fields.Dict(keys=fields.String(), values=fields.Float(allow_none=True), metadata={
        "description": "key → (value − previous) ÷ previous"})
    outliers = fields.Dict(keys=fields.String(), values=fields.String(allow_none=True), metadata={
        "description": "key → `high` (≥ 10 × the median) or `unit` (1000 × off: a unit that looks wrong)"})


class RollupHistorySchema(ResponseSchema):
    cycles = fields.List(fields.Dict(), required=True, metadata={"description": "[{id, year, title}] in year order"})
    towns = fields.List(fields.Dict(), required=True, metadata={
        "description": "[{org_unit, values: {key: [value per cycle]}}]"})
    sums = fields.Dict(keys=fields.String(), values=fields.List(fields.Float(allow_none=True)), metadata={
        "description": "key → the sum over the towns in each cycle (null: no town reported it)"})


class RollupSchema(ResponseSchema):
    cycle = fields.Dict(required=True, metadata={"description": "{id, title, kind, year}"})
    previous_cycle_id = fields.Integer(allow_none=True, required=True)
    indicators = fields.List(fields.Nested(RollupIndicatorSchema), required=True)
    rows = fields.List(fields.Nested(RollupRowSchema), required=True)
    totals = fields.Dict(keys=fields.String(), values=fields.Nested(RollupStatsSchema), required=True)
    history = fields.Nested(RollupHistorySchema, required=True)


# ---------------------------------------------------------------- plan ↔ report


class PlanTaskSchema(ResponseSchema):
    section_id = fields.String(required=True, metadata={"description": "the plan's section"})
    number = fields.String(required=True)
    heading = fields.String(required=True)
    parent = fields.String(allow_none=True, metadata={"description": "the heading the task is under"})
    status = fields.String(allow_none=True, required=True, validate=validate.OneOf(TASK_STATUSES), metadata={
        "description": "done 已完成, ongoing 推进中, not_done 未完成, adjusted 调整; null until the author says"})
    note = fields.String(required=True)
    mentioned = fields.Boolean(required=True, metadata={
        "description": "at least half of the heading's character bigrams occur in the report's text"})
    overlap = fields.Float(metadata={"description": "that share, 0–1"})


class PlanTargetSchema(ResponseSchema):
    key = fields.String(required=True)
    name = fields.String()
    unit = fields.String()
    planned = fields.Float(allow_none=True, required=True)
    reported = fields.Float(allow_none=True, required=True)
    rate = fields.Float(allow_none=True, required=True, metadata={"description": "完成率: reported ÷ planned"})


class PlanCheckSchema(ResponseSchema):
    plan_report_id = fields.Integer(allow_none=True, required=True, metadata={
        "description": "the town's published annual plan of the year; null without one (then no tasks)"})
    plan_title = fields.String(allow_none=True)
    tasks = fields.List(fields.Nested(PlanTaskSchema), required=True)
    unmentioned = fields.Integer(metadata={"description": "tasks the report never mentions"})
    targets = fields.List(fields.Nested(PlanTargetSchema), required=True)
    five_year_plan_report_id = fields.Integer(allow_none=True, metadata={
        "description": "the town's published five-year plan covering the report's year, if any"})
    five_year_targets = fields.List(fields.Nested(PlanTargetSchema), metadata={
        "description": "the five-year plan's targets against this year's values (`rate`: 年度进度)"})


class PlanTaskInputSchema(StrictSchema):
    section_id = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(TASK_STATUSES))
    note = fields.String(load_default="", validate=validate.Length(max=1000))


class PlanTasksRequestSchema(StrictSchema):
    tasks = fields.List(fields.Nested(PlanTaskInputSchema), required=True, validate=validate.Length(min=1, max=500))
