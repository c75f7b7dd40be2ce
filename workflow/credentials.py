"""The one check of a username and password, for the login page and the API's tokens.

Both front doors get the same answer for the same input: the username is trimmed, and an
unknown username, a wrong password and a disabled account all answer None after the same
work (a password hash is always checked), so neither the answer nor its timing tells
which usernames exist.
"""
from __future__ import annotations

import secrets
from functools import lru_cache

from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from . import models
from .db import db
from .models import User


@lru_cache(maxsize=4)
def _dummy_hash(method: str) -> str:
    return generate_password_hash(secrets.token_hex(16), method=method)


def check_credentials(username: object, password: object) -> User | None:
    """The active user these credentials belong to, else None."""
    name = username.strip() if isinstance(username, str) else ""
    secret = password if isinstance(password, str) else ""
    user = db.session.scalar(select(User).where(User.username == name)) if name else None
    if user is None:
        # Spend the same time as a real check, so timing does not tell which usernames exist.
        check_password_hash(_dummy_hash(models.PASSWORD_HASH_METHOD), secret)
        return None
    if not user.check_password(secret) or not user.active:
        return None
    return user
