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


def _per_worker_servers() -> None:
    """Under pytest-xdist (``-n 2``), each worker gets servers of its own, so that one worker's
    reset never empties another's rows or queue: a database ``<name>_gw<N>`` created afresh
    next to DATABASE_URL's, and Redis database number REDIS_URL's plus N (modulo 16). Set in
    the environment, so ``flask worker`` subprocesses and tests reading DATABASE_URL follow."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    # Once a worker (this file is imported twice: as pytest's conftest and as tests.conftest).
    if not worker or os.environ.get("CHENGBAO_TEST_WORKER") == worker:
        return
    os.environ["CHENGBAO_TEST_WORKER"] = worker
    index = int(worker.removeprefix("gw") or 0)
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgresql", "postgres://")):
        from sqlalchemy import create_engine
        from sqlalchemy.engine import make_url

        base = make_url(url.replace("postgres://", "postgresql://", 1))
        name = f"{base.database}_{worker}"
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        os.environ["CHENGBAO_TEST_BASE_DATABASE_URL"] = base.render_as_string(hide_password=False)
        os.environ["DATABASE_URL"] = base.set(database=name).render_as_string(hide_password=False)
    redis_url = os.environ.get("REDIS_URL")
    if redis_url:
        from urllib.parse import urlsplit, urlunsplit

        parts = urlsplit(redis_url)
        number = (int(parts.path.strip("/") or 0) + index) % 16
        os.environ["REDIS_URL"] = urlunsplit(parts._replace(path=f"/{number}"))


_per_worker_servers()
DATABASE_URL = os.environ.get("DATABASE_URL")
if DATABASE_URL and DATABASE_URL.startswith("postgres"):
    # Commits do not wait for the WAL to reach the disk (libpq reads PGOPTIONS, in subprocesses
    # too): nothing a test sees changes, only what a crash of the server would lose.
    os.environ.setdefault("PGOPTIONS", "-c synchronous_commit=off")
_pg_schema_ready = False
_pg_delete_sql: str | None = None


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashes():
    """scrypt costs ~70 ms a hash; the suite creates hundreds of users. Production keeps scrypt."""
    import workflow.models

    workflow.models.PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
    yield


@pytest.fixture(autouse=True)
def _no_list_width_from_earlier_tests():
    """Each test starts as a worker that has listed nothing yet: the width a list had in an
    earlier test (``workflow.listing._wide_lists``) changes its first list's statements."""
    from workflow import listing

    listing._wide_lists.clear()
    yield


def _reset_postgres(app) -> None:
    """Empty every table and restart every id sequence, as ``TRUNCATE … RESTART IDENTITY``
    would. DELETE is used: on tables of a few rows it takes milliseconds where TRUNCATE of
    26 tables takes a few hundred (new files for every table and index). TRUNCATE remains
    the fallback should the DELETEs ever fail (a foreign key they cannot satisfy)."""
    global _pg_schema_ready, _pg_delete_sql
    with app.app_context():
        if not _pg_schema_ready:
            db.drop_all()
            db.create_all()
            _pg_schema_ready = True
        tables = db.metadata.sorted_tables
        if _pg_delete_sql is None:
            _pg_delete_sql = "".join(f'DELETE FROM "{t.name}";' for t in reversed(tables)) + (
                "SELECT setval(c.oid, 1, false) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE c.relkind = 'S' AND n.nspname = current_schema();")
        try:
            with db.engine.begin() as conn:
                conn.exec_driver_sql(_pg_delete_sql)
        except Exception:
            names = ", ".join(f'"{t.name}"' for t in tables)
            with db.engine.begin() as conn:
                conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
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


def pytest_sessionfinish(session, exitstatus):
    """An xdist worker drops the database it made (see :func:`_per_worker_servers`)."""
    base = os.environ.get("CHENGBAO_TEST_BASE_DATABASE_URL")
    if os.environ.get("PYTEST_XDIST_WORKER") and base and DATABASE_URL and base != DATABASE_URL:
        from sqlalchemy import create_engine
        from sqlalchemy.engine import make_url

        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(DATABASE_URL).database}" WITH (FORCE)'))
        admin.dispose()


# Test modules about code that never reaches the database nor Redis: typesetting and PDF
# geometry, signatures over files (test_signed_archive and test_checks make their own SQLite app
# whatever DATABASE_URL says), .docx and text parsing, checks, catalogues, the import layering.
# With CHENGBAO_SKIP_DATABASE_INDEPENDENT=1 (.ci/run's second pass, against the PostgreSQL and
# Redis servers, which sets it) their tests that use none of the database fixtures below are
# skipped, with a reason saying so: the first pass (SQLite) has just run them, and they run the
# same code whatever DATABASE_URL is. Any test of these modules that uses the app still runs.
DATABASE_INDEPENDENT_MODULES = frozenset({
    "test_architecture.py", "test_checks.py", "test_checks_real.py", "test_diff_indicators.py",
    "test_docx_reader.py", "test_i18n.py", "test_importer.py", "test_importer_corpus.py",
    "test_importer_errors.py", "test_importer_ids.py", "test_indicators_corpus.py", "test_pdf.py",
    "test_pdf_tables.py", "test_signed_archive.py", "test_tables.py",
})
DATABASE_FIXTURES = frozenset({"app", "ctx", "client", "world", "jobs_app", "redis_url"})


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.name in DATABASE_INDEPENDENT_MODULES and not DATABASE_FIXTURES & set(
                getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.database_independent)
    if os.environ.get("CHENGBAO_SKIP_DATABASE_INDEPENDENT") == "1":
        skip = pytest.mark.skip(reason="database-independent: run by the SQLite pass, same code on any database")
        for item in items:
            if item.get_closest_marker("database_independent"):
                item.add_marker(skip)
