"""The schema comes from the Alembic migrations, on SQLite (batch mode) and PostgreSQL,
and the migrations produce exactly what the models describe."""
from __future__ import annotations

import os
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text

from app import create_app
from workflow.db import db
from workflow.search import include_name


def _migrated_app(url: str, tmp_path):
    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "INSTANCE_DIR": str(tmp_path),
                       "SECRET_KEY": "x"})


def _assert_models_match(app) -> None:
    with app.app_context():
        with db.engine.connect() as conn:
            # The search index (FTS5 table, trigram index) is made by workflow/search.py, not the models.
            diff = compare_metadata(MigrationContext.configure(conn, opts={"include_name": include_name}), db.metadata)
        assert diff == [], f"models and migrations differ: {diff}"


def test_migrations_build_the_model_schema_on_sqlite(tmp_path):
    app = _migrated_app(f"sqlite:///{tmp_path / 'm.sqlite3'}", tmp_path)
    with app.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert {"report", "report_version", "audit_event", "publication", "org_unit", "user"} <= tables
        with db.engine.connect() as conn:
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    _assert_models_match(app)
    with app.app_context():
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()


@pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgresql"),
                    reason="needs DATABASE_URL on PostgreSQL")
def test_migrations_build_the_model_schema_on_postgresql(tmp_path):
    schema = f"mig_{uuid.uuid4().hex[:8]}"
    base = os.environ["DATABASE_URL"]
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        sep = "&" if "?" in base else "?"
        app = _migrated_app(f"{base}{sep}options=-csearch_path%3D{schema}", tmp_path)
        with app.app_context():
            upgrade()
        _assert_models_match(app)
        with app.app_context():
            db.engine.dispose()
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_upgrading_a_sqlite_database_with_history_from_the_first_schema_keeps_every_row(tmp_path):
    """Batch mode recreates tables on SQLite (0002 adds a foreign key to ``report``): dropping
    the old table must not cascade through the rows that point at it."""
    app = _migrated_app(f"sqlite:///{tmp_path / 'old.sqlite3'}", tmp_path)
    now = "2025-01-02 03:04:05.000000"
    with app.app_context():
        upgrade(revision="0001")
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO org_unit (id, name, kind, path) VALUES (1, '示范区', 'district', '/1/'),"
                              " (2, '青山镇', 'town', '/1/2/')"))
            conn.execute(text("INSERT INTO user (id, username, display_name, password_hash, active, created_at)"
                              " VALUES (1, 'a', 'A', 'x', 1, :now)"), {"now": now})
            conn.execute(text("INSERT INTO report (id, org_unit_id, kind, year, title, state, version, content_number,"
                              " created_by_id, created_at, updated_at) VALUES (1, 2, 'annual_plan', 2025, 't', 'draft',"
                              " 1, 1, 1, :now, :now)"), {"now": now})
            conn.execute(text("INSERT INTO report_version (id, report_id, number, title, outline, content_sha256,"
                              " problems, created_at, updated_at, created_by_id) VALUES (1, 1, 1, 't', :outline, :h,"
                              " '[]', :now, :now, 1)"),
                         {"now": now, "h": "0" * 64, "outline": '{"preamble": ["x"], "sections": [], "closing": []}'})
            conn.execute(text("INSERT INTO audit_event (id, report_id, seq, actor_id, action, to_state, version_number,"
                              " content_sha256, created_at, prev_hash, hash) VALUES (1, 1, 1, 1, 'create', 'draft', 1,"
                              " :h, :now, :h, :h)"), {"now": now, "h": "0" * 64})
        upgrade()
        with db.engine.connect() as conn:
            counts = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar()
                      for t in ("report", "report_version", "audit_event", "user", "org_unit")}
    assert counts == {"report": 1, "report_version": 1, "audit_event": 1, "user": 1, "org_unit": 2}
