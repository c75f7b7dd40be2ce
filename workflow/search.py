"""Full-text search of reports, titles and content, in Chinese: one service, two databases.

The searchable text of a report is one row of ``report_search``: its title and its current
content version's outline as plain text (for a published report, the published version).
The services write it when the content changes (``index_report``: create, save a draft); a
transition never changes the text (a return or a withdrawal copies it into the new draft).

- **SQLite**: an FTS5 index with the ``trigram`` tokenizer over that table (external content,
  kept in step by triggers). Trigrams find any Chinese substring of three characters or more
  without word segmentation; results are ranked by ``bm25``.
- **PostgreSQL**: ``pg_trgm``'s GIN index on the text serves ``ILIKE '%…%'``; results are
  ranked by how densely the words occur (``_density``; ``similarity()`` was measured too slow
  to rank thousands of matches). Without the extension (not installed, or no right to create
  it) the same ``ILIKE`` runs unindexed, and a warning says so.
- Words of one or two characters are below a trigram: they are matched with ``LIKE`` on both
  databases.

Every search is scope-filtered by its caller (``services.list_reports`` joins ``hits`` to the
reports the actor sees, with the other filters). Snippets are built here as plain text with
the offsets of the matches: the template marks them up, so user text is never raw HTML.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    JSON,
    Connection,
    Float,
    ForeignKey,
    Select,
    Subquery,
    Text,
    and_,
    bindparam,
    case,
    cast,
    column,
    event,
    func,
    insert,
    literal,
    literal_column,
    select,
    table,
    text,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from .db import Model, db, rowcount
from .importer import outline_to_text
from .models import Report

log = logging.getLogger(__name__)

# A query is at most this long, and at most this many words (more are ignored).
MAX_QUERY_CHARS, MAX_TERMS = 100, 5
# A trigram index can only look up words of at least this many characters.
TRIGRAM = 3
# A snippet: this many characters, starting this many before the first match.
SNIPPET_CHARS, SNIPPET_LEAD = 90, 24

FTS_TABLE = "report_fts"
TRGM_INDEX = "ix_report_search_body_trgm"
# Objects the migrations and the search make that the models do not describe (the FTS5 table
# and its shadow tables, the trigram index): Alembic's comparison leaves them alone.
UNMANAGED = frozenset({FTS_TABLE, TRGM_INDEX} | {f"{FTS_TABLE}_{s}" for s in ("data", "idx", "docsize", "config")})


def include_name(name: str | None, type_: str, parent_names: Mapping[str, Any]) -> bool:
    """Alembic's ``include_name``: leave the objects of ``UNMANAGED`` out of comparisons."""
    return name not in UNMANAGED


class ReportSearch(Model):
    """The searchable text of one report: title, a line break, the outline as text."""

    __tablename__ = "report_search"

    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"), primary_key=True,
                                           autoincrement=False)
    body: Mapped[str] = mapped_column(Text, default="")


# ---------------------------------------------------------------- the index


def searchable_text(title: str, outline: Mapping[str, Any] | None) -> str:
    """What a search looks in: the title on the first line, then the outline as text."""
    return f"{title}\n{outline_to_text(dict(outline or {}))}"  # type: ignore[arg-type]


# The text goes in as a parameter, never as a value inside the statement: SQLAlchemy's compiled
# cache keeps the first statement of each shape, with its values, for the process's life (a
# 200,000-character report would stay in every web worker that saved it first).
_UPDATE_BODY = (update(ReportSearch.__table__).where(ReportSearch.__table__.c.report_id == bindparam("search_id"))
                .values(body=bindparam("search_body")))
_INSERT_BODY = insert(ReportSearch.__table__).values(report_id=bindparam("search_id"), body=bindparam("search_body"))


def index_report(report_id: int, title: str, outline: Mapping[str, Any] | None) -> None:
    """Write the report's searchable text, in the caller's transaction."""
    params = {"search_id": report_id, "search_body": searchable_text(title, outline)}
    if rowcount(db.session.execute(_UPDATE_BODY, params)) == 0:
        db.session.execute(_INSERT_BODY, params)


_SQLITE_DDL = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
    "body, content='report_search', content_rowid='report_id', tokenize='trigram')",
    # The external-content pattern of the SQLite documentation: the index follows the table.
    f"""CREATE TRIGGER IF NOT EXISTS report_search_ai AFTER INSERT ON report_search BEGIN
  INSERT INTO {FTS_TABLE}(rowid, body) VALUES (new.report_id, new.body);
END""",
    f"""CREATE TRIGGER IF NOT EXISTS report_search_ad AFTER DELETE ON report_search BEGIN
  INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, body) VALUES ('delete', old.report_id, old.body);
END""",
    f"""CREATE TRIGGER IF NOT EXISTS report_search_au AFTER UPDATE ON report_search BEGIN
  INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, body) VALUES ('delete', old.report_id, old.body);
  INSERT INTO {FTS_TABLE}(rowid, body) VALUES (new.report_id, new.body);
END""",
)


def install(connection: Connection) -> str:
    """Create the index over ``report_search`` (the table exists): the FTS5 table and its
    triggers on SQLite, ``pg_trgm`` and a GIN index on PostgreSQL. Answers the way searches
    will run: ``fts5``, ``pg_trgm``, or ``ilike`` when PostgreSQL has no ``pg_trgm``."""
    dialect = connection.dialect.name
    if dialect == "sqlite":
        for statement in _SQLITE_DDL:
            connection.exec_driver_sql(statement)
        # Rows written before the index existed (a backfill, a restore): index them all.
        connection.exec_driver_sql(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")
        return "fts5"
    if dialect == "postgresql":
        try:
            with connection.begin_nested():  # a failure must not abort the surrounding transaction
                connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
                connection.exec_driver_sql(
                    f"CREATE INDEX IF NOT EXISTS {TRGM_INDEX} ON report_search USING gin (body gin_trgm_ops)")
        except Exception as exc:  # no extension, or no right to create it: searches still work
            log.warning("pg_trgm is not available (%s): report search falls back to unindexed ILIKE; "
                        "ask the database administrator to run CREATE EXTENSION pg_trgm", exc)
            _trgm_cache.clear()
            return "ilike"
        _trgm_cache.clear()
        return "pg_trgm"
    return "like"


def uninstall(connection: Connection) -> None:
    """Drop what ``install`` made (the table itself is the caller's)."""
    if connection.dialect.name == "sqlite":
        for trigger in ("report_search_ai", "report_search_ad", "report_search_au"):
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger}")
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {FTS_TABLE}")
    elif connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"DROP INDEX IF EXISTS {TRGM_INDEX}")


@event.listens_for(ReportSearch.__table__, "after_create")
def _after_create(target: Any, connection: Connection, **kw: Any) -> None:
    """Tests and benchmarks build the schema with ``create_all``: the index comes with the table."""
    install(connection)


@event.listens_for(ReportSearch.__table__, "before_drop")
def _before_drop(target: Any, connection: Connection, **kw: Any) -> None:
    uninstall(connection)


def backfill(connection: Connection) -> int:
    """Write the searchable text of every report (the migration's backfill). Returns the count."""
    report = table("report", column("id"), column("content_number"))
    version = table("report_version", column("report_id"), column("number"), column("title"),
                    column("outline", JSON))
    rows = connection.execute(
        select(report.c.id, version.c.title, version.c.outline)
        .join(version, and_(version.c.report_id == report.c.id, version.c.number == report.c.content_number))
    ).all()
    search = table("report_search", column("report_id"), column("body"))
    values = [{"report_id": rid, "body": searchable_text(title, outline)} for rid, title, outline in rows]
    for start in range(0, len(values), 1000):
        connection.execute(insert(search), values[start:start + 1000])
    return len(values)


_trgm_cache: dict[str, bool] = {}


def _has_trgm() -> bool:
    """Whether PostgreSQL has the trigram index (cached per database URL); says so when not."""
    key = str(db.engine.url)
    if key not in _trgm_cache:
        _trgm_cache[key] = bool(db.session.scalar(text(f"SELECT to_regclass('{TRGM_INDEX}') IS NOT NULL")))
        if not _trgm_cache[key]:
            log.warning("the trigram index %s is missing (no pg_trgm?): report search runs unindexed ILIKE",
                        TRGM_INDEX)
    return _trgm_cache[key]


# ---------------------------------------------------------------- searching


def terms_of(q: str | None) -> list[str]:
    """The words of a query (split on spaces, each once, at most MAX_TERMS)."""
    words = (q or "")[:MAX_QUERY_CHARS].split()
    return list(dict.fromkeys(w for w in words if w))[:MAX_TERMS]


@dataclass
class Match:
    """The reports a query matches, to join to a list query: ``hits`` has the columns
    ``report_id`` and ``rank`` (lower ranks first); ``order_by`` puts the best first."""

    terms: list[str]
    hits: Subquery
    order_by: list[ColumnElement[Any]]


def _like_pattern(term: str) -> str:
    """``%term%`` for LIKE … ESCAPE '/' (the escape character SQLAlchemy's autoescape uses)."""
    return "%" + term.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%"


def _density(body: Any, terms: Sequence[str]) -> ColumnElement[Any]:
    """How densely the words occur in ``body``: occurrences per thousand characters, smoothed
    for short texts (portable SQL: the length each word's removal saves). A cheap stand-in for
    bm25 where FTS5 is not there: pg_trgm's ``similarity()`` costs about 0.17 ms per matched
    text of 650 characters, over half a second for a word found in thousands of reports."""
    found = sum((cast(func.length(body) - func.length(func.replace(body, literal(t), literal(""))), Float) / len(t)
                 for t in terms), literal(0.0))
    return found * 1000 / (func.length(body) + 500)


def match(q: str | None) -> Match | None:
    """The reports whose title or text contain every word of ``q`` (None for an empty query)."""
    terms = terms_of(q)
    if not terms:
        return None
    dialect = db.session.get_bind().dialect.name
    long_terms = [t for t in terms if len(t) >= TRIGRAM]
    short_terms = [t for t in terms if len(t) < TRIGRAM]
    body = ReportSearch.body
    hits: Select[Any]
    if dialect == "sqlite" and long_terms:
        # Each word a quoted FTS5 phrase (quotes doubled): the user's text is never query syntax.
        fts_query = " AND ".join('"' + t.replace('"', '""') + '"' for t in long_terms)
        fts = table(FTS_TABLE, column("rowid"))
        hits = (select(fts.c.rowid.label("report_id"), literal_column(f"bm25({FTS_TABLE})").label("rank"))
                .select_from(fts).where(literal_column(FTS_TABLE).op("MATCH")(fts_query)))
        if short_terms:
            hits = hits.join(ReportSearch, ReportSearch.report_id == fts.c.rowid).where(
                *[body.like(_like_pattern(t), escape="/") for t in short_terms])
    else:
        # LIKE (SQLite: short words only; its LIKE ignores ASCII case) or ILIKE (PostgreSQL,
        # served by the trigram index for words of three characters or more).
        like = body.ilike if dialect == "postgresql" else body.like
        if dialect == "postgresql":
            _has_trgm()  # says so in the log once when the index is not there
        hits = select(ReportSearch.report_id.label("report_id"), (-_density(body, terms)).label("rank")).where(
            *[like(_like_pattern(t), escape="/") for t in terms])
    subquery = hits.subquery("hits")
    in_title = and_(*[func.lower(Report.title).like(_like_pattern(t.lower()), escape="/") for t in terms])
    return Match(terms, subquery, [case((in_title, 0), else_=1), subquery.c.rank])


# ---------------------------------------------------------------- snippets


@dataclass(frozen=True)
class Snippet:
    """A piece of a report's text around the first match, with the matches' offsets
    (``[start, end)`` in characters of ``text``). Plain text: the page escapes it."""

    text: str
    highlights: tuple[tuple[int, int], ...]

    def parts(self) -> list[tuple[str, bool]]:
        """The text cut at the highlights: ``(piece, is_match)``, for the template."""
        out, at = [], 0
        for start, end in self.highlights:
            if start > at:
                out.append((self.text[at:start], False))
            out.append((self.text[start:end], True))
            at = end
        if at < len(self.text):
            out.append((self.text[at:], False))
        return out


def snippet_of(body: str, terms: Sequence[str], width: int = SNIPPET_CHARS, lead: int = SNIPPET_LEAD) -> Snippet:
    """The snippet of ``body`` (the title line, then the text) for ``terms``: a piece of the
    text around its first match, or the text's beginning when only the title matches (the
    list shows the title anyway)."""
    text_start = body.find("\n") + 1
    pattern = (re.compile("|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)), re.IGNORECASE)
               if terms else None)
    found = pattern.search(body, text_start) if pattern else None
    start = max(found.start() - lead, text_start) if found else text_start
    end = min(start + width, len(body))
    start = max(min(start, end - width), text_start)
    piece = " ".join(body[start:end].split("\n"))
    prefix = "…" if start > text_start else ""
    suffix = "…" if end < len(body) else ""
    shift = len(prefix)
    highlights = tuple((m.start() + shift, m.end() + shift) for m in pattern.finditer(piece)) if pattern else ()
    return Snippet(prefix + piece + suffix, highlights)


def snippets(terms: Sequence[str], report_ids: Iterable[int]) -> dict[int, Snippet]:
    """The snippets of a page of results: one query."""
    ids = list(report_ids)
    if not ids or not terms:
        return {}
    rows = db.session.execute(select(ReportSearch.report_id, ReportSearch.body)
                              .where(ReportSearch.report_id.in_(ids))).all()
    return {rid: snippet_of(body, terms) for rid, body in rows}
