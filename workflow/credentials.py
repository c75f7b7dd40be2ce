"""The one check of a username and password, for the login page and the API's tokens, with
the lockout of a name after repeated failures and a record of every attempt.

Both front doors get the same answer for the same input: the username is trimmed, and an
unknown username, a wrong password and a disabled account all answer None after the same
work (a password hash is always checked, a dummy one when there is no user or the name is
locked), so neither the answer nor its timing tells which usernames exist.

Lockout falls on the name as typed, whether or not an account has it (so that it tells
nothing either): after ``failures`` failed attempts since the name's last success, lockout or
unlock, the name is locked for ``minutes`` minutes; an admin may lift it earlier. All of it is
read from ``login_event`` rows, which are also the record an admin reads.
"""
from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import func, or_, select
from werkzeug.security import check_password_hash, generate_password_hash

from . import models
from .dates import to_local
from .db import db
from .errors import TooMany
from .models import LoginEvent, User, utcnow

# Outcomes recorded in ``login_event.outcome``.
SUCCESS = "success"          # logged in on the page
TOKEN = "token"              # an API token issued
FAILURE = "failure"          # wrong name or password, or a disabled account
REFUSED = "refused"          # an attempt while the name is locked (its password is not checked)
LOCKOUT = "lockout"          # the name locked, after too many failures
UNLOCK = "unlock"            # an admin lifted the lockout
# The events after which failures are counted afresh.
RESETS = (SUCCESS, TOKEN, LOCKOUT, UNLOCK)
USERNAME_CHARS, ADDRESS_CHARS = 64, 64


@dataclass(frozen=True)
class LockoutPolicy:
    """``failures`` failed attempts lock a name for ``minutes`` minutes."""

    failures: int = 20
    minutes: int = 15


@lru_cache(maxsize=4)
def _dummy_hash(method: str) -> str:
    return generate_password_hash(secrets.token_hex(16), method=method)


def spend_a_hash(password: str) -> None:
    """Check ``password`` against a throwaway hash: the time a real check takes, for the
    answers that have no real hash to check (unknown user, locked name)."""
    check_password_hash(_dummy_hash(models.PASSWORD_HASH_METHOD), password)


def check_credentials(username: object, password: object) -> User | None:
    """The active user these credentials belong to, else None (no lockout, no record: the
    front doors call :func:`attempt_login`)."""
    name = username.strip() if isinstance(username, str) else ""
    secret = password if isinstance(password, str) else ""
    user = db.session.scalar(select(User).where(User.username == name)) if name else None
    if user is None:
        spend_a_hash(secret)
        return None
    if not user.check_password(secret) or not user.active:
        return None
    return user


def attempt_login(username: object, password: object, *, address: str, channel: str,
                  policy: LockoutPolicy) -> User | None:
    """One attempt at a front door (``channel`` ``web`` or ``api``), recorded: the user, or None
    for wrong credentials. TooMany ``account_locked`` while the name is locked, and on the
    failure that locks it."""
    name = (username.strip() if isinstance(username, str) else "")[:USERNAME_CHARS]
    secret = password if isinstance(password, str) else ""
    until = locked_until(name, policy)
    if until is not None:
        spend_a_hash(secret)
        _record(name, None, address, channel, REFUSED)
        db.session.commit()
        raise locked_error(until)
    user = check_credentials(name, secret)
    if user is not None:
        _record(name, user.id, address, channel, TOKEN if channel == "api" else SUCCESS)
        db.session.commit()
        return user
    known = db.session.scalar(select(User.id).where(User.username == name)) if name else None
    _record(name, known, address, channel, FAILURE)
    if _failures_since_reset(name) >= policy.failures:
        _record(name, known, address, channel, LOCKOUT)
        db.session.commit()
        raise locked_error(utcnow() + dt.timedelta(minutes=policy.minutes))
    db.session.commit()
    return None


def locked_until(username: str, policy: LockoutPolicy) -> dt.datetime | None:
    """When the name's lockout ends, or None when it is not locked."""
    last = _last_reset(username)
    if last is None or last.outcome != LOCKOUT:
        return None
    until = last.created_at + dt.timedelta(minutes=policy.minutes)
    return until if until > utcnow() else None


def unlock(user: User, *, address: str) -> None:
    """Lift the lockout of the user's name (and start counting failures afresh); the caller
    commits, with its audit record."""
    _record(user.username, user.id, address, "admin", UNLOCK)


def recent_events(user: User, limit: int = 20) -> list[LoginEvent]:
    """The user's latest login events, newest first (attempts with the name, recorded
    whether or not it was right)."""
    return list(db.session.scalars(
        select(LoginEvent).where(or_(LoginEvent.username == user.username, LoginEvent.user_id == user.id))
        .order_by(LoginEvent.id.desc()).limit(limit)))


def locked_error(until: dt.datetime) -> TooMany:
    """The error of a locked name: until when (UTC, and local time ``at``), for how long."""
    seconds = max(1, int((until - utcnow()).total_seconds()) + 1)
    return TooMany("account_locked", until=until.isoformat(timespec="seconds") + "Z",
                   at=to_local(until).strftime("%H:%M"), minutes=-(-seconds // 60), retry_after=seconds)


def _last_reset(username: str) -> LoginEvent | None:
    return db.session.scalar(select(LoginEvent).where(LoginEvent.username == username,
                                                      LoginEvent.outcome.in_(RESETS))
                             .order_by(LoginEvent.id.desc()).limit(1))


def _failures_since_reset(username: str) -> int:
    last = _last_reset(username)
    query = select(func.count()).select_from(LoginEvent).where(LoginEvent.username == username,
                                                              LoginEvent.outcome == FAILURE)
    if last is not None:
        query = query.where(LoginEvent.id > last.id)
    return db.session.scalar(query) or 0


def _record(username: str, user_id: int | None, address: str, channel: str, outcome: str) -> None:
    db.session.add(LoginEvent(user_id=user_id, username=username[:USERNAME_CHARS], address=address[:ADDRESS_CHARS],
                              channel=channel, outcome=outcome))
