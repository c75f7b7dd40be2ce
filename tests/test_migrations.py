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
