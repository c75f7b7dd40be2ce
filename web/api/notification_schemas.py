"""The API's shapes for notifications, channels, deliveries and my settings (CONTRACT.md).
Referenced by name from the views' docstrings (apispec registers them as components)."""
from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from workflow.events import KINDS as EVENT_KINDS
from workflow.notifications import CHANNEL_KINDS, CHANNEL_URL_PATTERN, EMAIL_PATTERN, SECRET_PATTERN
from workflow.outbox import STATUSES

from .schemas import ResponseSchema, StrictBoolean, StrictSchema, UtcDateTime


class NotificationQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    unread = fields.Boolean(metadata={"description": "true: only the unread ones"})


class NotificationSchema(ResponseSchema):
    id = fields.Integer(required=True)
    event = fields.String(required=True, metadata={"enum": list(EVENT_KINDS)})
    title = fields.String(required=True)
    body = fields.String(required=True)
    url = fields.String(required=True, metadata={"description": "the deep link (a path on this site)"})
    report_id = fields.Integer(allow_none=True)
    cycle_id = fields.Integer(allow_none=True)
    created_at = UtcDateTime(required=True)
    read_at = UtcDateTime(allow_none=True)


class NotificationListSchema(ResponseSchema):
    items = fields.List(fields.Nested(NotificationSchema), required=True,
                        metadata={"description": "newest first, at most 100"})
    unread = fields.Integer(required=True,
                            metadata={"description": "how many of the caller's notifications are unread"})


class ReadAllSchema(ResponseSchema):
    marked = fields.Integer(required=True, metadata={"description": "how many were unread"})
    unread = fields.Integer(required=True)


class ChannelRequestSchema(StrictSchema):
    kind = fields.String(required=True, validate=validate.OneOf(CHANNEL_KINDS))
    url = fields.String(required=True, validate=validate.Length(min=8, max=1000),
                        metadata={"description": "the robot's webhook address, or your endpoint (http/https)",
                                  "pattern": CHANNEL_URL_PATTERN})
    secret = fields.String(allow_none=True, validate=validate.Length(max=200),
                           metadata={"description": "钉钉: the 加签 secret; "
                                                    "webhook: signs the body (X-Chengbao-Signature); no blanks",
                                     "pattern": SECRET_PATTERN})
    events = fields.List(fields.String(validate=validate.OneOf(EVENT_KINDS)), allow_none=True,
                         metadata={"description": "only these events (default: all)"})


class ChannelSchema(ResponseSchema):
    id = fields.Integer(required=True)
    org_unit_id = fields.Integer(required=True)
    kind = fields.String(required=True, metadata={"enum": list(CHANNEL_KINDS)})
    url = fields.String(required=True)
    has_secret = fields.Boolean(required=True, metadata={"description": "the secret itself is never returned"})
    events = fields.List(fields.String(), allow_none=True)
    created_at = UtcDateTime(required=True)


class DeliveryQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    status = fields.String(validate=validate.OneOf(STATUSES))
    before_id = fields.Integer(validate=validate.Range(min=1, max=2**53), metadata={"description": "the next page"})


class DeliverySchema(ResponseSchema):
    id = fields.Integer(required=True)
    event_id = fields.Integer(required=True)
    event = fields.String(required=True, metadata={"enum": list(EVENT_KINDS)})
    report_id = fields.Integer(allow_none=True)
    cycle_id = fields.Integer(allow_none=True)
    org_unit = fields.String(allow_none=True)
    channel = fields.String(required=True,
                            metadata={"description": "inapp, email, wecom, dingtalk, webhook or publication"})
    user_id = fields.Integer(allow_none=True)
    channel_id = fields.Integer(allow_none=True)
    recipient = fields.String(allow_none=True)
    key = fields.String(required=True,
                        metadata={"description": "the idempotency key: event × subscriber × channel × recipient"})
    status = fields.String(required=True, metadata={"enum": list(STATUSES)})
    attempts = fields.Integer(required=True)
    last_error = fields.String(allow_none=True)
    created_at = UtcDateTime(required=True)
    sent_at = UtcDateTime(allow_none=True)


class DeliveryListSchema(ResponseSchema):
    items = fields.List(fields.Nested(DeliverySchema), required=True,
                        metadata={"description": "newest first, 100 a page"})


class SettingsSchema(ResponseSchema):
    email = fields.String(allow_none=True)
    email_notifications = fields.Boolean(required=True)


class SettingsRequestSchema(StrictSchema):
    email = fields.String(allow_none=True, validate=validate.Length(max=254), metadata={
        "pattern": EMAIL_PATTERN, "description": "an e-mail address; blank or null: none"})
    email_notifications = StrictBoolean()
