"""The API's grants and revocations of positions (admins), on the ``api`` blueprint. Scope,
separation of duties and the audit trail are ``workflow.admin``'s: an admin changes only
units and users of their subtree, never their own positions, and every attempt is audited."""
from __future__ import annotations

from flask import jsonify
from marshmallow import fields, validate

from workflow import admin
from workflow.table import ROLES

from .base import api_user, bp, json_body
from .schemas import _ID, OrgUnitRefSchema, ResponseSchema, StrictSchema
from .serialize import unit_ref


class GrantRequestSchema(StrictSchema):
    org_unit_id = fields.Integer(required=True, strict=True, validate=_ID,
                                 metadata={"description": "the unit the role is held at (in the caller's subtree)"})
    role = fields.String(required=True, validate=validate.OneOf(ROLES))


class GrantedPositionSchema(ResponseSchema):
    id = fields.Integer(required=True)
    user_id = fields.Integer(required=True)
    org_unit = fields.Nested(OrgUnitRefSchema, required=True)
    role = fields.String(required=True)


@bp.post("/users/<int:user_id>/positions")
def grant_position(user_id: int):
    """Grant a user a role at an org unit (admins of that unit; audited, refusals too).
    ---
    post:
      tags: [administration]
      summary: Grant a position
      description: >
        Refused (403) for oneself (`self_grant`), at a unit the caller does not administer
        (`not_unit_admin`), and for a user who holds a position outside the caller's subtree
        (`user_outside_subtree`); a unit or user the caller does not see answers 404.
      requestBody:
        required: true
        content:
          application/json:
            schema: GrantRequestSchema
      responses:
        201:
          description: the position
          content:
            application/json:
              schema: GrantedPositionSchema
        400: {$ref: '#/components/responses/BadRequest'}
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        404: {$ref: '#/components/responses/NotFound'}
        409: {$ref: '#/components/responses/Conflict'}
    """
    body = json_body(GrantRequestSchema())
    position = admin.grant_position(api_user(), user_id=user_id, **body)
    return jsonify(GrantedPositionSchema().dump({"id": position.id, "user_id": position.user_id,
                                                 "org_unit": unit_ref(position.org_unit), "role": position.role})), 201


@bp.delete("/users/<int:user_id>/positions/<int:position_id>")
def revoke_position(user_id: int, position_id: int):
    """End a user's position (admins of its unit; audited, refusals too).
    ---
    delete:
      tags: [administration]
      summary: Revoke a position
      responses:
        204: {description: revoked}
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        404: {$ref: '#/components/responses/NotFound'}
    """
    admin.revoke_position(api_user(), position_id, user_id=user_id)
    return "", 204
