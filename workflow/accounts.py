"""Sessions that can be ended, and an account's password and state.

Every browser session carries the user's ``session_epoch`` it was opened with, and every
API token is a row: raising the epoch ends the browser sessions, deleting the rows ends the
tokens. Logging out raises the epoch (the cookie, replayed, no longer works); a password change
ends everything but the session or token it was made from; an admin's password reset and a
deactivation end everything. The admin's actions are checked against their scope here and
audited (``notifications.audit``).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import delete

from . import credentials
from .admin import user_in_scope
from .db import db
from .errors import BadInput, Forbidden
from .models import ApiToken, User
from .notifications import audit
from .passwords import check_new_password
from .scope import is_admin_for


def end_sessions(user: User, *, keep_token_sha256: str | None = None) -> None:
    """End every browser session of the user and every API token but ``keep_token_sha256``
    (the caller commits; a session to keep takes the new epoch, see ``User.get_id``)."""
    user.session_epoch += 1
    tokens = delete(ApiToken).where(ApiToken.user_id == user.id)
    if keep_token_sha256 is not None:
        tokens = tokens.where(ApiToken.token_sha256 != keep_token_sha256)
    db.session.execute(tokens)


def log_out(user: User) -> None:
    """End the user's browser sessions (this one, and a copy of its cookie anywhere); API
    tokens are ended one by one (``DELETE /api/v1/tokens/current``)."""
    user.session_epoch += 1
    db.session.commit()


def change_password(user: User, *, current: Any, new: Any, keep_token_sha256: str | None = None) -> None:
    """The user's own change: the current password, then a new one that follows the rules.
    Every other session and token ends; the caller keeps its own (the page renews its session,
    the API keeps ``keep_token_sha256``)."""
    if not isinstance(current, str) or not user.check_password(current):
        raise BadInput("current_password_wrong")
    password = check_new_password(new, username=user.username)
    if user.check_password(password):
        raise BadInput("password_unchanged")
    user.set_password(password)
    end_sessions(user, keep_token_sha256=keep_token_sha256)
    db.session.commit()


def reset_password(actor: User, user_id: Any, *, new: Any) -> User:
    """An admin sets a user's password (a user who forgot theirs): every session and token
    of the user ends. Not one's own (that is a password change, which asks the current one)."""
    target = _managed_other(actor, user_id)
    target.set_password(check_new_password(new, username=target.username))
    end_sessions(target)
    audit(actor, "password_reset", f"user:{target.id}", org_unit_id=_audit_unit(actor, target))
    db.session.commit()
    return target


def set_active(actor: User, user_id: Any, *, active: Any) -> User:
    """An admin deactivates a user (every session and token ends, no login works) or
    reactivates one. Not oneself."""
    if not isinstance(active, bool):
        raise BadInput("active_not_boolean")
    target = _managed_other(actor, user_id)
    if target.active != active:
        target.active = active
        if not active:
            end_sessions(target)
        audit(actor, "user_reactivated" if active else "user_deactivated", f"user:{target.id}",
              org_unit_id=_audit_unit(actor, target))
    db.session.commit()
    return target


def unlock(actor: User, user_id: Any, *, address: str) -> User:
    """An admin lifts the lockout of a user's name after too many failed logins."""
    target = user_in_scope(actor, user_id)
    credentials.unlock(target, address=address)
    audit(actor, "user_unlocked", f"user:{target.id}", org_unit_id=_audit_unit(actor, target))
    db.session.commit()
    return target


def _managed_other(actor: User, user_id: Any) -> User:
    target = user_in_scope(actor, user_id)
    if target.id == actor.id:
        raise Forbidden("own_account")
    return target


def _audit_unit(actor: User, target: User) -> int | None:
    """The unit the action is filed under: the first of the target's units the actor administers."""
    return next((p.org_unit_id for p in target.positions if is_admin_for(actor, p.org_unit)), None)
