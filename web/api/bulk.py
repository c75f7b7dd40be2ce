"""``POST /reports/bulk-actions`` (CONTRACT.md): approve several reports in one request, each
item its own transition (``workflow.bulk``); the answer lists each item's outcome with the
status and error the single action would have answered. On the API blueprint of ``base``.
"""
from __future__ import annotations

from flask import jsonify
from marshmallow import fields, pre_load

from web.errors import error_body
from workflow import bulk

from . import serialize
from .base import api_user, bp, json_body
from .schemas import _ID, ErrorBodySchema, ReportSummarySchema, ResponseSchema, StrictSchema


class BulkItemSchema(StrictSchema):
    id = fields.Integer(required=True, strict=True, validate=_ID)
    version = fields.Integer(required=True, strict=True, validate=_ID,
                             metadata={"description": "the report version the client saw (optimistic lock)"})


class BulkActionRequestSchema(StrictSchema):
    action = fields.String(required=True, metadata={
        "enum": list(bulk.BULK_ACTIONS), "description": "only `approve`: a return needs its own reason (400)"})
    items = fields.List(fields.Nested(BulkItemSchema), required=True, metadata={
        "minItems": 1, "description": f"1 to {bulk.MAX_ITEMS} reports, acted on in this order (more: 413)"})
    comment = fields.String(allow_none=True, metadata={"description": "a common opinion, recorded with each approval"})

    @pre_load
    def _bounded(self, data, **kwargs):
        """Refuse too many items before validating each of them."""
        items = data.get("items") if isinstance(data, dict) else None
        if isinstance(items, list) and len(items) > bulk.MAX_ITEMS:
            bulk.check_request(data.get("action"), len(items))
        return data


class BulkItemResultSchema(ResponseSchema):
    id = fields.Integer(required=True)
    status = fields.Integer(required=True, metadata={
        "description": "what the single action would have answered: 200, or 400, 403, 404, 409, 422 …"})
    report = fields.Nested(ReportSummarySchema, metadata={"description": "on success: the report after the action"})
    error = fields.Nested(ErrorBodySchema, metadata={"description": "on failure: the single action's error"})


class BulkActionResultSchema(ResponseSchema):
    results = fields.List(fields.Nested(BulkItemResultSchema), required=True,
                          metadata={"description": "one per item, in request order"})


@bp.post("/reports/bulk-actions")
def bulk_actions():
    """Approve several reports at once, each its own transition.
    ---
    post:
      tags: [workflow]
      summary: Approve several reports
      description: >
        Each item is approved exactly as `POST /reports/{id}/actions` would: its own version
        check, guards, audit event and transaction. One stale, changed or out-of-scope item
        fails alone; the others are approved. The answer is 200 with one result per item, in
        request order: `status` is what the single action would have answered (200, 404,
        409, …), with the `report` on success or the `error` on failure. Only `approve` is
        offered (a return needs its own reason: 400); at most 100 items (413).
      requestBody:
        required: true
        content:
          application/json:
            schema: BulkActionRequestSchema
      responses:
        200:
          description: one result per item
          content:
            application/json:
              schema: BulkActionResultSchema
        400: {$ref: '#/components/responses/BadRequest'}
        401: {$ref: '#/components/responses/Unauthorized'}
        413: {$ref: '#/components/responses/TooLarge'}
    """
    body = json_body(BulkActionRequestSchema())
    actor = api_user()
    results = bulk.perform_each(actor, body["action"], [(i["id"], i["version"]) for i in body["items"]],
                                comment=body.get("comment"))
    answer = []
    for result in results:  # the report summary and the error object as the single action answers them
        item: dict = {"id": result.report_id, "status": result.status}
        if result.report is not None:
            item["report"] = serialize.summary(result.report)
        if result.error is not None:
            exc = result.error
            item["error"] = error_body(exc.code, exc.reason, exc.params, exc.details)["error"]
        answer.append(item)
    return jsonify({"results": answer})
