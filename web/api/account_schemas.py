"""The API's shapes for one's own password and for admins' account actions (CONTRACT.md).
Referenced by name from the views' docstrings (apispec registers them as components)."""
from __future__ import annotations

from marshmallow import fields, validate

from workflow.passwords import MAX_LENGTH, MIN_LENGTH

from .schemas import ResponseSchema, StrictSchema, UtcDateTime

_RULES = (f"at least {MIN_LENGTH} characters, not containing the username, not one of the 10,000 most "
          "common passwords")


class PasswordChangeRequestSchema(StrictSchema):
    current_password = fields.String(required=True, validate=validate.Length(max=1024))
    new_password = fields.String(required=True, validate=validate.Length(max=MAX_LENGTH),
                                 metadata={"description": _RULES})


class PasswordResetRequestSchema(StrictSchema):
    new_password = fields.String(required=True, validate=validate.Length(max=MAX_LENGTH),
                                 metadata={"description": _RULES})


class ActiveRequestSchema(StrictSchema):
    active = fields.Boolean(required=True, truthy={True}, falsy={False},
                            metadata={"description": "false: deactivate (every session and token ends)"})


class AccountSchema(ResponseSchema):
    id = fields.Integer(required=True)
    username = fields.String(required=True)
    display_name = fields.String(required=True)
    active = fields.Boolean(required=True)
    locked_until = UtcDateTime(allow_none=True, metadata={"description": "set while the username is locked"})


class LoginEventSchema(ResponseSchema):
    id = fields.Integer(required=True)
    username = fields.String(required=True, metadata={"description": "the name as typed"})
    address = fields.String(required=True, metadata={"description": "the client address"})
    channel = fields.String(required=True, metadata={"enum": ["web", "api", "admin"]})
    outcome = fields.String(required=True, metadata={"enum": [
        "success", "token", "failure", "refused", "lockout", "unlock"]})
    created_at = UtcDateTime(required=True)


class LoginEventListSchema(ResponseSchema):
    items = fields.List(fields.Nested(LoginEventSchema), required=True, metadata={"description": "newest first, 50"})
