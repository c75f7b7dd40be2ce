"""The API's accounts (CONTRACT.md): one's own password, and for admins a user's password
reset, deactivation, lockout and login record, on the ``api`` blueprint. Scope, the rules
and the audit are ``workflow.accounts``'s."""
from __future__ import annotations

from flask import jsonify

from web.throttle import client_address, lockout_policy, throttle
from workflow import accounts, credentials
from workflow.admin import user_in_scope
from workflow.models import User

from . import account_schemas as acs
from .auth import bearer_token, token_digest
from .base import api_user, bp, json_body

_account = acs.AccountSchema()
_event = acs.LoginEventSchema()


def _account_dict(user: User) -> dict:
    locked = credentials.locked_until(user.username, lockout_policy())
    return _account.dump({"id": user.id, "username": user.username, "display_name": user.display_name,
                          "active": user.active, "locked_until": locked})


@bp.post("/me/password")
def change_my_password():
    """Change the caller's password.
    ---
    post:
      tags: [auth]
      summary: Change my password
      description: >
        Needs the current password. Every other session and API token of the caller ends; the
        token of this request stays valid. The new password: at least 10 characters, not
        containing the username, not a commonly used one (400 `password_too_short`,
        `password_contains_username`, `password_too_common`; a wrong current password is 400
        `current_password_wrong`).
      requestBody:
        required: true
        content:
          application/json:
            schema: PasswordChangeRequestSchema
      responses:
        204: {description: changed}
        400: {$ref: '#/components/responses/BadRequest'}
        401: {$ref: '#/components/responses/Unauthorized'}
    """
    body = json_body(acs.PasswordChangeRequestSchema())
    accounts.change_password(api_user(), current=body["current_password"], new=body["new_password"],
                             keep_token_sha256=token_digest(bearer_token()))
    return "", 204


@bp.get("/users/<int:user_id>")
def get_account(user_id: int):
    """A user the admin manages: active or not, locked or not.
    ---
    get:
      tags: [admin]
      summary: A user's account
      responses:
        200:
          description: the account
          content:
            application/json:
              schema: AccountSchema
        401: {$ref: '#/components/responses/Unauthorized'}
        404: {$ref: '#/components/responses/NotFound'}
    """
    return jsonify(_account_dict(user_in_scope(api_user(), user_id)))


@bp.post("/users/<int:user_id>/password")
def reset_password(user_id: int):
    """An admin sets a user's password.
    ---
    post:
      tags: [admin]
      summary: Reset a user's password
      description: >
        For a user in the admin's scope, not the admin themself (403 `own_account`: use
        /me/password). Every session and API token of the user ends. Audited.
      requestBody:
        required: true
        content:
          application/json:
            schema: PasswordResetRequestSchema
      responses:
        204: {description: reset}
        400: {$ref: '#/components/responses/BadRequest'}
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        404: {$ref: '#/components/responses/NotFound'}
    """
    body = json_body(acs.PasswordResetRequestSchema())
    accounts.reset_password(api_user(), user_id, new=body["new_password"])
    return "", 204


@bp.put("/users/<int:user_id>/active")
def set_active(user_id: int):
    """An admin deactivates or reactivates a user.
    ---
    put:
      tags: [admin]
      summary: Deactivate or reactivate a user
      description: >
        Deactivating ends every session and API token of the user, and no login or token works
        until reactivated. Not oneself (403 `own_account`). Audited.
      requestBody:
        required: true
        content:
          application/json:
            schema: ActiveRequestSchema
      responses:
        200:
          description: the account
          content:
            application/json:
              schema: AccountSchema
        400: {$ref: '#/components/responses/BadRequest'}
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        404: {$ref: '#/components/responses/NotFound'}
    """
    body = json_body(acs.ActiveRequestSchema())
    return jsonify(_account_dict(accounts.set_active(api_user(), user_id, active=body["active"])))


@bp.delete("/users/<int:user_id>/lockout")
def lift_lockout(user_id: int):
    """An admin lifts the lockout of a user's name after too many failed logins.
    ---
    delete:
      tags: [admin]
      summary: Lift a login lockout
      responses:
        200:
          description: the account
          content:
            application/json:
              schema: AccountSchema
        401: {$ref: '#/components/responses/Unauthorized'}
        404: {$ref: '#/components/responses/NotFound'}
    """
    target = accounts.unlock(api_user(), user_id, address=client_address())
    throttle().forget(target.username)
    return jsonify(_account_dict(target))


@bp.get("/users/<int:user_id>/login-events")
def login_events(user_id: int):
    """A user's latest logins, failures, lockouts and token issues.
    ---
    get:
      tags: [admin]
      summary: A user's login record
      responses:
        200:
          description: newest first
          content:
            application/json:
              schema: LoginEventListSchema
        401: {$ref: '#/components/responses/Unauthorized'}
        404: {$ref: '#/components/responses/NotFound'}
    """
    target = user_in_scope(api_user(), user_id)
    events = credentials.recent_events(target, limit=50)
    return jsonify({"items": [_event.dump(e) for e in events]})
