"""Fixtures: a fresh database per test (SQLite file, or the PostgreSQL of DATABASE_URL
truncated between tests), the demo-like world, clients and helpers.

Tests never keep an app context pushed around client requests: service-level tests
use the ``ctx`` fixture, HTTP tests use ``client`` without it.
"""
from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

import pytest
from sqlalchemy import text

from app import create_app
from tests.helpers import as_user  # noqa: F401  (the API fixture, for every test module)
from workflow.db import db

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
DATABASE_URL = os.environ.get("DATABASE_URL")
_pg_schema_ready = False


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashes():
    """scrypt costs ~70 ms a hash; the suite creates hundreds of users. Production keeps scrypt."""
    import workflow.models

    workflow.models.PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
    yield


def _reset_postgres(app) -> None:
    global _pg_schema_ready
    with app.app_context():
        if not _pg_schema_ready:
            db.drop_all()
            db.create_all()
            _pg_schema_ready = True
        tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
        with db.engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        db.engine.dispose()


@pytest.fixture
def app(tmp_path):
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "INSTANCE_DIR": str(tmp_path),
        "ARCHIVE_DIR": str(tmp_path / "archive"),
        "KEYS_DIR": str(tmp_path / "keys"),
        "SQLALCHEMY_DATABASE_URI": DATABASE_URL or f"sqlite:///{tmp_path / 'test.sqlite3'}",
        "SERVER_NAME": None,
        "BABEL_DEFAULT_LOCALE": "zh_Hans_CN",
        # The tests' SMTP server, robots and webhooks listen on loopback.
        "NOTIFY_ALLOW_INTERNAL_URLS": True,
        # Login throttling counts in REDIS_URL's Redis when the suite has one: each test its own counts.
        "LOGIN_THROTTLE_PREFIX": f"chengbao-login-test-{secrets.token_hex(8)}",
    }
    application = create_app(config)
    if DATABASE_URL:
        _reset_postgres(application)
    else:
        with application.app_context():
            db.create_all()
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def ctx(app):
    """An app context for service-level tests (never around client requests)."""
    with app.app_context():
        yield app


@pytest.fixture
def world(app):
    """The demo-like world: 示范区 with 青山镇 and 溪口镇 and one account per position,
    plus a second district (东湖区, 临湖镇) for out-of-scope checks. Returns ids and names."""
    from tests.helpers import build_world

    with app.app_context():
        return build_world()


@pytest.fixture
def client(app):
    return app.test_client()


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'<meta name="csrf-token" content="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)
