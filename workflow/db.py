"""The database handle shared by the domain and the web layer.

A naming convention on the metadata gives every constraint a name, which Alembic's
batch mode on SQLite needs to alter tables. SQLite connections get foreign keys,
WAL and a busy timeout, so that concurrent writers wait instead of failing.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, cast

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData, Table, event
from sqlalchemy.engine import CursorResult, Engine, Result
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)

# The models' base class. ``db.Model`` is made at run time, which mypy cannot subclass; it
# sees what that class is: the declarative ``Base`` with Flask-SQLAlchemy's ``Model`` mixed in.
# Every model maps one plain table (declarative types ``__table__`` as any FROM clause).
if TYPE_CHECKING:
    from flask_sqlalchemy.model import Model as _FlaskModel

    class Model(_FlaskModel, Base):
        __abstract__ = True
        __table__: ClassVar[Table]
else:
    Model = db.Model


def rowcount(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE run through ``db.session.execute`` matched.

    The session is typed to return a ``Result``; for a statement without RETURNING it is a
    ``CursorResult``, which has the count (the cast is SQLAlchemy's advice)."""
    return cast("CursorResult[Any]", result).rowcount


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:  # pragma: no cover - trivial
    import sqlite3

    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
