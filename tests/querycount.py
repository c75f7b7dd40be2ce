"""Count the SQL statements a block of code issues (a page must not query once per row)."""
from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event

from workflow.db import db


@contextmanager
def count_queries(engine=None):
    """The statements issued inside the block, on ``engine`` (default: the current app's,
    which needs an app context; pass the engine to count around client requests instead)."""
    statements: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(("PRAGMA", "SAVEPOINT", "RELEASE")):
            statements.append(statement)

    engine = engine if engine is not None else db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)
