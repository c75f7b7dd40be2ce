"""Bearer tokens of the JSON API.

A token is ``secrets.token_urlsafe(32)`` handed out once; the database keeps only its
SHA-256 (``ApiToken.token_sha256``), so a leaked database does not leak usable tokens.
The API never looks at the session cookie: a browser session without a token gets 401,
which is also why the API needs no CSRF token.
"""
from __future__ import annotations

import datetime as dt
import secrets

from flask import current_app, request
from sqlalchemy import Select, bindparam, delete, select
from sqlalchemy.orm import joinedload

from web.throttle import guarded_login
from workflow.db import db
from workflow.models import ApiToken, User, utcnow

_MAX_TOKEN_CHARS = 200


def issue_token(username: str, password: str) -> tuple[str, dt.datetime] | None:
    """A new token for valid credentials of an active user, else None (the caller answers 401
    with one message for an unknown user, a wrong password and an inactive account). Throttled
    and locked out like the login page (``web.throttle``): TooMany then."""
    user = guarded_login(username, password, channel="api")
    if user is None:
        return None
    now = utcnow()
    token = secrets.token_urlsafe(32)
    expires_at = now + dt.timedelta(hours=current_app.config["API_TOKEN_HOURS"])
    # Expired tokens of this user are of no use to anyone: tidy them while we are here.
    db.session.execute(delete(ApiToken).where(ApiToken.user_id == user.id, ApiToken.expires_at <= now))
    db.session.add(ApiToken(user_id=user.id, token_sha256=ApiToken.digest(token), created_at=now,
                            expires_at=expires_at))
    db.session.commit()
    return token, expires_at


def bearer_token() -> str | None:
    """The token of the ``Authorization: Bearer …`` header, or None."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > _MAX_TOKEN_CHARS:
        return None
    return token


def user_for_token(token: str | None) -> User | None:
    """The active user the token belongs to, or None when the token is absent, unknown or expired."""
    if token is None:
        return None
    global _token_user
    if _token_user is None:
        _token_user = _token_user_statement()
    return db.session.scalars(_token_user, {"digest": ApiToken.digest(token), "now": utcnow()}).unique().first()


_token_user: Select | None = None


def _token_user_statement() -> Select:
    """The user of a current token with the positions (and their units) every scope check
    reads: one statement instead of the user and then its positions (their ``selectin``),
    built once (building it took as long as running it)."""
    return (select(User).join(ApiToken, ApiToken.user_id == User.id)
            .where(ApiToken.token_sha256 == bindparam("digest"), ApiToken.expires_at > bindparam("now"), User.active)
            .options(joinedload(User.positions)))


def token_digest(token: str | None) -> str | None:
    """What the database keeps of a token (to keep it when the others are ended)."""
    return ApiToken.digest(token) if token else None


def revoke_token(token: str) -> None:
    db.session.execute(delete(ApiToken).where(ApiToken.token_sha256 == ApiToken.digest(token)))
    db.session.commit()
