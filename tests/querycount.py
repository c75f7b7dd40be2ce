"""Count the SQL statements a block of code issues (a page must not query once per row)."""
from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event

from workflow.db import db


@contextmanager
def count_queries():
    statements: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(("PRAGMA", "SAVEPOINT", "RELEASE")):
            statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)
