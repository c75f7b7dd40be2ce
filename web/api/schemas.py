"""The API's shapes as marshmallow schemas: request bodies are loaded (validated) with
them, answers are dumped through them, and ``web.api.openapi`` describes the API from
them, so the document cannot drift from what the code accepts and returns.

Request bodies are strict: wrong JSON types, nulls where a value is required and unknown
fields all answer 400 (an unknown field is most often a typo, e.g. ``coment``). Query
strings are lenient about unknown parameters (cache-busters) but not about the values of
known ones. Enumerations come from ``workflow.table``, the one source of those facts.
"""
from __future__ import annotations

import datetime as dt

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, validate, validates_schema

from pdf.publications import FAILURE_REASONS
from workflow.content import MAX_TITLE_CHARS, VISIBLE_CHAR
from workflow.dates import YEAR_MAX, YEAR_MIN
from workflow.errors import BadInput, TooLarge
from workflow.models import PublicationStatus
from workflow.table import ACTIONS, COMMENT_ANSWERS, KINDS, ORG_KINDS, STATES, CommentStatus

# Ids, versions and pages are bounded well inside a signed 64-bit column.
_ID = validate.Range(min=1, max=2**53)


class UtcDateTime(fields.DateTime):
    """The database keeps naive UTC; the API says so: ``2026-01-05T08:30:00Z``."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat(timespec="seconds") + "Z"


class OutlineField(fields.Raw):
    """A report outline, passed through verbatim (the domain's importer validates it on the
    way in); described in OpenAPI as a reference to the ``Outline`` schema."""


class TitleField(fields.String):
    """A title: one line of at most ``MAX_TITLE_CHARS`` characters, a visible one among them.
    Longer, as sent, answers 413 like every text over its limit; the domain checks the rest."""

    def __init__(self, **kwargs) -> None:
        super().__init__(metadata={"description": f"one line of at most {MAX_TITLE_CHARS} characters",
                                   "maxLength": MAX_TITLE_CHARS, "pattern": VISIBLE_CHAR}, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if len(text) > MAX_TITLE_CHARS:
            raise TooLarge("too_many_characters", field="title", limit=MAX_TITLE_CHARS)
        return text


class StrictBoolean(fields.Boolean):
    """JSON ``true`` or ``false`` only: marshmallow's Boolean also takes ``0``, ``1`` and
    ``"yes"`` (and ``0 in {False}`` in Python, so ``truthy``/``falsy`` sets do not help)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class StrictSchema(Schema):
    class Meta:
        unknown = RAISE


# ---------------------------------------------------------------- requests


class TokenRequestSchema(StrictSchema):
    username = fields.String(required=True, validate=validate.Length(max=200))
    password = fields.String(required=True, validate=validate.Length(max=1024))


class CreateReportSchema(StrictSchema):
    org_unit_id = fields.Integer(required=True, strict=True, validate=_ID)
    kind = fields.String(validate=validate.OneOf(KINDS), metadata={"description": "required without cycle_id"})
    year = fields.Integer(strict=True, metadata={"description": f"{YEAR_MIN}–{YEAR_MAX}; required without cycle_id",
                                                 "minimum": YEAR_MIN, "maximum": YEAR_MAX})
    title = TitleField(required=True)
    text = fields.String(metadata={"description": "pasted plain text, imported into the outline (runs of "
                                                 "tab-separated lines become tables); give text or outline"})
    outline = OutlineField(metadata={"description": "an outline instead of text"})
    cycle_id = fields.Integer(strict=True, validate=_ID, metadata={
        "description": "the reporting cycle the report answers: kind and year come from it, and its template is "
                       "the content when neither text nor outline is given"})

    # The one-of rules above, for the OpenAPI document (``web.api.openapi``): exactly one
    # of text and outline, or neither with a cycle (its template); kind and year unless
    # a cycle gives them.
    OPENAPI_RULES = {
        "oneOf": [
            {"required": ["text"]},
            {"required": ["outline"]},
            {"required": ["cycle_id"], "not": {"anyOf": [{"required": ["text"]}, {"required": ["outline"]}]}},
        ],
        "anyOf": [{"required": ["cycle_id"]}, {"required": ["kind", "year"]}],
    }

    @validates_schema
    def _text_or_outline(self, data, **kwargs):
        if "text" in data and "outline" in data:
            raise BadInput("text_and_outline")
        if "cycle_id" not in data:
            if "text" not in data and "outline" not in data:
                raise BadInput("text_or_outline")
            missing = {"kind": ["Missing data for required field."], "year": ["Missing data for required field."]}
            missing = {k: v for k, v in missing.items() if k not in data}
            if missing:
                raise ValidationError(missing)


class UpdateReportSchema(StrictSchema):
    version = fields.Integer(required=True, strict=True, validate=_ID,
                             metadata={"description": "the report version the client saw (optimistic lock)"})
    title = TitleField()
    text = fields.String()
    outline = OutlineField()

    # At most one of text and outline (neither: only the title changes).
    OPENAPI_RULES = {"not": {"required": ["text", "outline"]}}

    @validates_schema
    def _not_both(self, data, **kwargs):
        if "text" in data and "outline" in data:
            raise BadInput("text_and_outline")


# ---- docx: the same requests as multipart/form-data, with a .docx as the content
class _DocxFile(fields.Raw):
    """The uploaded file (a werkzeug ``FileStorage``), described as binary in OpenAPI."""


_DOCX_FILE = {"type": "string", "format": "binary",
              "description": "the Word file (.docx), imported as the web form imports it"}


class CreateReportUploadSchema(StrictSchema):
    """``POST /reports`` as multipart/form-data: the fields as form fields, the content a .docx."""

    org_unit_id = fields.Integer(required=True, validate=_ID)
    kind = fields.String(validate=validate.OneOf(KINDS), metadata={"description": "required without cycle_id"})
    year = fields.Integer(metadata={"description": f"{YEAR_MIN}–{YEAR_MAX}; required without cycle_id"})
    title = fields.String(metadata={"description": "at most 200 characters; when absent or blank, the "
                                                   "paragraphs of the .docx in Word's Title style"})
    cycle_id = fields.Integer(validate=_ID, metadata={"description": "the reporting cycle the report answers"})
    file = _DocxFile(required=True, metadata=_DOCX_FILE)

    @validates_schema
    def _kind_and_year(self, data, **kwargs):
        missing = {k: ["Missing data for required field."] for k in ("kind", "year")
                   if "cycle_id" not in data and k not in data}
        if missing:
            raise ValidationError(missing)


class UpdateReportUploadSchema(StrictSchema):
    """``PUT /reports/{id}`` as multipart/form-data: the .docx replaces the content."""

    version = fields.Integer(required=True, validate=_ID,
                             metadata={"description": "the report version the client saw (optimistic lock)"})
    title = fields.String(metadata={"description": "a new title (the title is kept when absent)"})
    file = _DocxFile(required=True, metadata=_DOCX_FILE)
class CheckRequestSchema(StrictSchema):
    title = fields.String(metadata={"description": "the report title, checked too when given"})
    text = fields.String(metadata={"description": "pasted plain text, imported as on save; give text or outline"})
    outline = OutlineField(metadata={"description": "an outline instead of text"})
    report_id = fields.Integer(strict=True, validate=_ID, metadata={
        "description": "optional: a report you can see; section ids then follow its current content"})

    @validates_schema
    def _text_or_outline(self, data, **kwargs):
        if ("text" in data) == ("outline" in data):
            raise ValidationError("give exactly one of text or outline", "_schema")


class ActionRequestSchema(StrictSchema):
    action = fields.String(required=True, validate=validate.OneOf(ACTIONS))
    version = fields.Integer(required=True, strict=True, validate=_ID)
    comment = fields.String(allow_none=True, metadata={"description": "required (non-blank) for return"})


class CommentRequestSchema(StrictSchema):
    body = fields.String(required=True)
    section_id = fields.String(allow_none=True, validate=validate.Length(max=64))


class AnswerRequestSchema(StrictSchema):
    status = fields.String(required=True, validate=validate.OneOf([s.value for s in COMMENT_ANSWERS]))
    answer = fields.String(required=True)


class ReportQuerySchema(Schema):
    """The filters of ``GET /reports`` (query string)."""

    class Meta:
        unknown = EXCLUDE

    state = fields.String(validate=validate.OneOf(STATES))
    year = fields.Integer(validate=validate.Range(min=1, max=9999))
    kind = fields.String(validate=validate.OneOf(KINDS))
    org_unit_id = fields.Integer(validate=_ID, metadata={"description": "only reports at or below this unit"})
    q = fields.String(validate=validate.Length(max=100), metadata={
        "description": "full-text search of titles and content (Chinese substrings; words separated by spaces "
                       "must all occur): results best match first, each with a `snippet`"})
    page = fields.Integer(validate=validate.Range(min=1, max=100_000), metadata={
        "description": "page number (OFFSET; kept for old clients — prefer `cursor`, which costs the same on "
                       "any page). Default: the first page"})
    cursor = fields.String(validate=validate.Length(max=60), metadata={
        "description": "the `next_cursor` of the previous page: the page after it (ignored with `q` or `page`)"})
    town = fields.String(validate=validate.Length(max=100), metadata={
        "description": "only reports of towns whose name contains this text"})
    per_page = fields.Integer(validate=validate.Range(min=1, max=100))


class DiffQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    from_ = fields.Integer(data_key="from", validate=_ID, metadata={
        "description": "default: the version last returned, when the report was returned since; else to − 1 (or 1)"})
    to = fields.Integer(validate=_ID, metadata={"description": "default: the current version"})


# ---------------------------------------------------------------- answers


class ResponseSchema(Schema):
    """Answers may grow new keys (CONTRACT.md allows extensions): not closed in OpenAPI."""

    class Meta:
        unknown = EXCLUDE


class ErrorBodySchema(ResponseSchema):
    code = fields.String(required=True, metadata={"enum": [
        "bad_request", "unauthorized", "forbidden", "not_found", "method_not_allowed", "conflict",
        "too_large", "invalid", "too_many"]})
    reason = fields.String(required=True, metadata={
        "description": "what exactly went wrong within the code (e.g. `stale_version`); stable, for programs"})
    message = fields.String(required=True, metadata={
        "description": "for people, in the language of Accept-Language (Chinese by default; English when preferred)"})
    params = fields.Dict(required=True, metadata={"description": "the values the message names"})
    problems = fields.List(fields.Nested(lambda: ProblemSchema()),
                           metadata={"description": "422 on submit: the blocking problems"})
    fields_ = fields.Dict(data_key="fields", metadata={"description": "400: what is wrong with which field"})


class ErrorSchema(ResponseSchema):
    error = fields.Nested(ErrorBodySchema, required=True)


class TokenSchema(ResponseSchema):
    token = fields.String(required=True)
    expires_at = UtcDateTime(required=True)


class OrgUnitRefSchema(ResponseSchema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True)


class PositionSchema(ResponseSchema):
    org_unit = fields.Nested(OrgUnitRefSchema, required=True)
    role = fields.String(required=True)


class MeSchema(ResponseSchema):
    id = fields.Integer()
    username = fields.String(required=True)
    display_name = fields.String(required=True)
    positions = fields.List(fields.Nested(PositionSchema), required=True)


class OrgUnitNodeSchema(ResponseSchema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True)
    division_code = fields.String(allow_none=True, metadata={"description": "12-digit 统计用区划代码"})
    parent_id = fields.Integer(allow_none=True)
    children = fields.List(fields.Nested(lambda: OrgUnitNodeSchema()), required=True)


class OrgUnitQuerySchema(Schema):
    """The filters of ``GET /org-units``: with any of them the answer is a flat page, not the tree."""

    class Meta:
        unknown = EXCLUDE

    q = fields.String(validate=validate.Length(max=100), metadata={"description": "part of the unit's name"})
    parent = fields.Integer(validate=_ID, metadata={"description": "only the direct children of this unit"})
    kind = fields.String(validate=validate.OneOf(ORG_KINDS), metadata={"description": "only units of this kind"})
    limit = fields.Integer(validate=validate.Range(min=1, max=100), metadata={"description": "default 20"})
    cursor = fields.String(validate=validate.Length(max=255), metadata={
        "description": "the `next_cursor` of the previous page"})


class OrgUnitItemSchema(ResponseSchema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True)
    division_code = fields.String(allow_none=True)
    parent_id = fields.Integer(allow_none=True)
    parent_name = fields.String(allow_none=True)


class OrgUnitPageSchema(ResponseSchema):
    items = fields.List(fields.Nested(OrgUnitItemSchema), required=True,
                        metadata={"description": "matching units in the caller's scope, in tree order"})
    next_cursor = fields.String(allow_none=True, metadata={"description": "null on the last page"})


class OrgUnitTreeSchema(ResponseSchema):
    items = fields.List(fields.Nested(OrgUnitNodeSchema), required=True,
                        metadata={"description": "the roots of the caller's visible subtrees"})


class TableSchema(ResponseSchema):
    """A table among the paragraphs of a section (or of the preamble)."""

    id = fields.String(required=True, metadata={"description": "stable across versions while the table stays "
                                                              "in its section, e.g. t-3fa2c1"})
    at = fields.Integer(required=True, metadata={
        "description": "the table stands before paragraphs[at]; at == len(paragraphs): after the last one"})
    rows = fields.List(fields.List(fields.String()), required=True, metadata={
        "description": "rows of plain-text cells, every row as long as the others; at most 200 rows, "
                       "30 columns, 2,000 characters per cell, 100 tables per report"})
    header_rows = fields.Integer(required=True, metadata={"description": "the first header_rows rows are the "
                                                                        "header (0…len(rows); 1 by default)"})
    caption = fields.String(metadata={"description": "optional, e.g. 表1 2026年主要指标"})


class SectionSchema(ResponseSchema):
    id = fields.String(required=True)
    level = fields.Integer(required=True)
    number = fields.String(required=True, metadata={"description": "as written: 一、 (一) 1. (1), or empty"})
    heading = fields.String(required=True)
    paragraphs = fields.List(fields.String(), required=True)
    children = fields.List(fields.Nested(lambda: SectionSchema()), required=True)
    run_in = fields.Boolean(metadata={"description": "the heading runs into its first paragraph"})
    tables = fields.List(fields.Nested(TableSchema), metadata={
        "description": "the section's tables, sorted by `at`; absent or empty: none. A client that ignores "
                       "tables still reads every paragraph"})


class OutlineSchema(ResponseSchema):
    preamble = fields.List(fields.String(), required=True)
    sections = fields.List(fields.Nested(SectionSchema), required=True)
    closing = fields.List(fields.String(), required=True)
    annex = fields.List(fields.String(), metadata={
        "description": "optional: the annexes (附件) — the list 附件：1. … and their text after the sign-off"})
    preamble_tables = fields.List(fields.Nested(TableSchema), metadata={
        "description": "tables before the first heading (`at` indexes into preamble)"})


class ProblemSchema(ResponseSchema):
    code = fields.String(required=True, metadata={"description": "placeholder, numbering, empty_section, "
                                                                 "missing_glyph (more may be added)"})
    severity = fields.String(required=True, validate=validate.OneOf(("error", "warning")))
    reason = fields.String(metadata={"description": "which message of the code (e.g. `duplicate` for numbering)"})
    message = fields.String(required=True, metadata={"description": "in the language of Accept-Language"})
    params = fields.Dict(metadata={"description": "the values the message names (e.g. `text`: the placeholder)"})
    section_id = fields.String(allow_none=True)
    excerpt = fields.String(allow_none=True)


class HistoryEntrySchema(ResponseSchema):
    action = fields.String(required=True)
    from_ = fields.String(data_key="from", allow_none=True, required=True)
    to = fields.String(required=True)
    actor = fields.String(required=True, metadata={"description": "username"})
    at = UtcDateTime(required=True)
    version = fields.Integer(required=True, metadata={"description": "the content version acted on"})
    comment = fields.String(allow_none=True, required=True)
    content_sha256 = fields.String()


class CommentSchema(ResponseSchema):
    id = fields.Integer(required=True)
    body = fields.String(required=True)
    section_id = fields.String(allow_none=True, required=True)
    author = fields.String(required=True, metadata={"description": "username"})
    created_at = UtcDateTime(required=True)
    version = fields.Integer(required=True, metadata={"description": "the content version commented on"})
    status = fields.String(required=True, validate=validate.OneOf([s.value for s in CommentStatus]))
    answer = fields.String(allow_none=True)
    answered_by = fields.String(allow_none=True)
    answered_at = UtcDateTime(allow_none=True)


class PdfErrorSchema(ResponseSchema):
    reason = fields.String(required=True, validate=validate.OneOf(FAILURE_REASONS), metadata={
        "description": "why the last attempt failed (the details are in the server's log and on the admin's page)"})
    message = fields.String(required=True, metadata={"description": "the reason, in the language of Accept-Language"})


class PdfSchema(ResponseSchema):
    status = fields.String(required=True, validate=validate.OneOf(tuple(PublicationStatus)))
    progress = fields.Integer(required=True, metadata={"description": "0–100"})
    url = fields.String(allow_none=True, metadata={"description": "absolute URL of the PDF once ready"})
    sha256 = fields.String(allow_none=True, metadata={"description": "SHA-256 of the signed file"})
    archive_no = fields.String(allow_none=True)
    doc_number = fields.String(allow_none=True, metadata={
        "description": "the town's 发文字号 printed on the PDF (青政〔2026〕3号), once allocated"})
    stage = fields.String(allow_none=True, metadata={
        "description": "what the job is doing now; `stalled` when a running attempt stopped beating "
                       "(status is then `queued`: it is handed to a worker again)"})
    heartbeat_at = UtcDateTime(allow_none=True, metadata={
        "description": "the running attempt's last heartbeat; status is `running` only while it is fresh"})
    retry_at = UtcDateTime(allow_none=True, metadata={
        "description": "when a failed attempt will be retried automatically (status `queued`)"})
    error = fields.Nested(PdfErrorSchema, allow_none=True, metadata={
        "description": "the last failed attempt, while the PDF is failed or waiting for a retry"})


class IndicatorSchema(ResponseSchema):
    section_id = fields.String(allow_none=True, required=True)
    section_number = fields.String(allow_none=True, required=True)
    value = fields.String(required=True, metadata={"description": "the number as written, e.g. 11,000 or 三"})
    number = fields.Float(allow_none=True, required=True)
    unit = fields.String(required=True)
    context = fields.String(required=True)
    low = fields.Float(allow_none=True, metadata={"description": "a range's lower end (3 in 3-5亿元); "
                                                                 "the number itself otherwise"})
    high = fields.Float(allow_none=True, metadata={"description": "a range's upper end; the number otherwise"})
    approx = fields.Boolean(metadata={"description": "an approximation: 百余个, 5000多人, 近300户, 约5万元"})
    table_id = fields.String(metadata={"description": "set when found in a table's cell (the context is then "
                                                     "the row label and column header)"})

class KeyIndicatorSchema(ResponseSchema):
    key = fields.String(required=True, metadata={"description": "the catalogue key, e.g. gdp"})
    name = fields.String(required=True)
    unit = fields.String(required=True, metadata={"description": "the catalogue's canonical unit"})
    value = fields.Float(allow_none=True, required=True, metadata={"description": "in `unit`; null if none"})
    source = fields.String(allow_none=True, required=True, validate=validate.OneOf(("extracted", "confirmed")),
                           metadata={"description": "confirmed by the author, or extracted from the text "
                                                    "(unconfirmed); null when neither"})
    reason = fields.String(allow_none=True, metadata={"description": "why a confirmed value is blank"})
    extracted = fields.Float(allow_none=True, metadata={"description": "what the text says, converted to `unit`"})
    as_written = fields.String(allow_none=True, metadata={"description": "the figure as written, e.g. 2.4亿元"})
    context = fields.String(allow_none=True)


class CheckResultSchema(ResponseSchema):
    problems = fields.List(fields.Nested(ProblemSchema), required=True)
    sections = fields.Integer(required=True, metadata={"description": "how many sections were recognised"})


class ReportSummarySchema(ResponseSchema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    year = fields.Integer(required=True)
    state = fields.String(required=True, validate=validate.OneOf(STATES))
    version = fields.Integer(required=True, metadata={"description": "the lock version to send back with writes"})
    org_unit = fields.Nested(OrgUnitRefSchema, required=True)
    created_at = UtcDateTime()
    updated_at = UtcDateTime(required=True)
    cycle_id = fields.Integer(allow_none=True, metadata={"description": "the reporting cycle it answers, or null"})


class ReportListItemSchema(ReportSummarySchema):
    snippet = fields.String(metadata={"description": "with `q`: the text around the first match (plain text)"})
    snippet_highlights = fields.List(fields.List(fields.Integer()), metadata={
        "description": "with `q`: the matches in `snippet`, as [start, end) character offsets"})


class ReportListSchema(ResponseSchema):
    items = fields.List(fields.Nested(ReportListItemSchema), required=True)
    total = fields.Integer(required=True, metadata={
        "description": "how many reports match, counted up to 1,000 (see `total_capped`)"})
    total_capped = fields.Boolean(metadata={"description": "true: at least `total` match (the count stopped)"})
    page = fields.Integer(required=True, allow_none=True, metadata={
        "description": "the page number; null on a page reached by `cursor`"})
    per_page = fields.Integer(required=True)
    next_cursor = fields.String(allow_none=True, metadata={
        "description": "pass as `cursor` for the next page; null on the last page and with `q`"})


class ReportSchema(ReportSummarySchema):
    outline = OutlineField(required=True)
    problems = fields.List(fields.Nested(ProblemSchema), required=True)
    comments = fields.List(fields.Nested(CommentSchema), required=True)
    history = fields.List(fields.Nested(HistoryEntrySchema), required=True)
    allowed_actions = fields.List(fields.String(validate=validate.OneOf(ACTIONS)), required=True)
    pdf = fields.Nested(PdfSchema, allow_none=True, required=True)
    content_version = fields.Integer(metadata={"description": "number of the current content version"})
    content_sha256 = fields.String(metadata={"description": "the hash an approval is bound to"})
    indicators = fields.List(fields.Nested(lambda: IndicatorSchema()),
                             metadata={"description": "quantitative statements found in the text"})
    key_indicators = fields.List(fields.Nested(lambda: KeyIndicatorSchema()), metadata={
        "description": "the district catalogue's indicators for this kind, as of the current content"})
    dropped_lines = fields.List(fields.String(), metadata={
        "description": "on create and update: pasted lines the importer left out (e.g. page residue)"})
    repairs = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata={
        "description": "on create and update: what paste repair did — `joined_lines` (lines broken "
                       "mid-sentence by a PDF copy, rejoined), `loose_numbers` (headings numbered "
                       "一, 一， 一. read as 一、), `page_marks` (how many of `dropped_lines`, the last ones, are page "
                       "numbers and footers); absent when nothing was repaired, absent keys are 0"})


class VersionSchema(ResponseSchema):
    number = fields.Integer(required=True)
    sha256 = fields.String(required=True)
    title = fields.String(required=True)
    created_at = UtcDateTime(required=True)
    frozen_at = UtcDateTime(allow_none=True, required=True, metadata={"description": "null for the working draft"})
    submitted_by = fields.String(allow_none=True, required=True)
    current = fields.Boolean(required=True)


class VersionListSchema(ResponseSchema):
    items = fields.List(fields.Nested(VersionSchema), required=True)


class TextOpSchema(ResponseSchema):
    op = fields.String(required=True, validate=validate.OneOf(("equal", "insert", "delete")))
    text = fields.String(required=True)


class CellChangeSchema(ResponseSchema):
    status = fields.String(required=True, validate=validate.OneOf(("same", "changed", "added", "removed")))
    ops = fields.List(fields.Nested(TextOpSchema), required=True)


class RowChangeSchema(ResponseSchema):
    status = fields.String(required=True, validate=validate.OneOf(("same", "changed", "added", "removed")))
    cells = fields.List(fields.Nested(CellChangeSchema), required=True)


class TableChangeSchema(ResponseSchema):
    table_id = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(("same", "changed", "added", "removed")))
    header_rows = fields.Integer(required=True)
    caption_ops = fields.List(fields.Nested(TextOpSchema), required=True)
    rows = fields.List(fields.Nested(RowChangeSchema), required=True, metadata={
        "description": "rows aligned old → new: same, added, removed, or changed (then cell by cell)"})


class DiffEntrySchema(ResponseSchema):
    section_id = fields.String(required=True, metadata={"description": "a section id, or preamble / closing"})
    level = fields.Integer(required=True)
    number = fields.String(required=True)
    old_number = fields.String(allow_none=True, required=True, metadata={"description": "set when renumbered"})
    heading = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(("same", "changed", "added", "removed")))
    heading_ops = fields.List(fields.Nested(TextOpSchema), required=True)
    ops = fields.List(fields.Nested(TextOpSchema), required=True,
                      metadata={"description": "the section's own paragraphs, joined by newlines"})
    tables = fields.List(fields.Nested(TableChangeSchema), metadata={
        "description": "the section's tables, diffed cell by cell"})


class DiffStatsSchema(ResponseSchema):
    changed = fields.Integer(required=True)
    added = fields.Integer(required=True)
    removed = fields.Integer(required=True)
    chars_inserted = fields.Integer(required=True)
    chars_deleted = fields.Integer(required=True)


class DiffSchema(ResponseSchema):
    from_ = fields.Integer(data_key="from", required=True)
    to = fields.Integer(required=True)
    changes = fields.List(fields.Nested(DiffEntrySchema), required=True,
                          metadata={"description": "one entry per section, in the new version's order"})
    stats = fields.Nested(DiffStatsSchema, required=True)


class SignerSchema(ResponseSchema):
    name = fields.String(allow_none=True, metadata={"description": "who signed (the signature's name, else the "
                                                                   "certificate's)"})
    org = fields.String(allow_none=True, metadata={"description": "for whom: the certificate's organisation"})
    signed_at = UtcDateTime(allow_none=True)
    timestamped = fields.Boolean(required=True, metadata={
        "description": "signed_at comes from a time-stamp authority"})


class VerifyResultSchema(ResponseSchema):
    valid = fields.Boolean(required=True)
    verdict = fields.String(required=True, metadata={
        "description": "valid_in_archive, valid_not_ours, modified, unsigned, untrusted or malformed"})
    in_archive = fields.Boolean(required=True)
    document = fields.String(allow_none=True, metadata={
        "description": "in the archive: report (its signed PDF) or approval_form (its signed 审批单); else null"})
    timestamped = fields.Boolean(required=True, metadata={
        "description": "signed_at comes from a time-stamp authority, not the signer's clock"})
    detail = fields.String(allow_none=True, metadata={"description": "why, as a reason key (verify.<detail>)"})
    status = fields.String(required=True)
    sha256 = fields.String(required=True)
    report_id = fields.Integer(allow_none=True)
    archive_no = fields.String(allow_none=True)
    signer = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    signed_at = UtcDateTime(allow_none=True)
    message = fields.String(allow_none=True)
    signers = fields.List(fields.Nested(SignerSchema), metadata={
        "description": "every signature, first first: a town's report carries the town's, then the district's "
                       "approval"})


# Registered as OpenAPI components, each under its class name without "Schema" (apispec's
# default, and the name a nested schema registers itself under). The views' docstrings use them.
COMPONENTS: tuple[type[Schema], ...] = (
    ErrorSchema, TokenRequestSchema, TokenSchema, MeSchema, OrgUnitTreeSchema, OrgUnitNodeSchema, OutlineSchema,
    SectionSchema, TableSchema, ProblemSchema, HistoryEntrySchema, CommentSchema, PdfSchema, IndicatorSchema,
    ReportSummarySchema, ReportListSchema, ReportSchema, CreateReportSchema, UpdateReportSchema,
    CreateReportUploadSchema, UpdateReportUploadSchema,
    ActionRequestSchema, CommentRequestSchema, AnswerRequestSchema, VersionSchema, VersionListSchema,
    DiffSchema, VerifyResultSchema, SignerSchema, TableChangeSchema,
    CheckRequestSchema, CheckResultSchema,
)
