"""The report list and the town picker at a province's scale.

- **Keyset pages**: newest activity first (``updated_at`` desc, ``id`` desc); the next page
  starts after the last row shown (its ``cursor``), so page 500 costs what page 1 costs. The
  ``page`` number (OFFSET) still works for old links and API clients.
- **A capped count**: at most ``COUNT_CAP`` rows are counted ("1,000+"), not every row in scope.
- **Scope as an index range**: a report carries its town's path (``Report.org_path``), so a
  district's list reads the district's rows through ``ix_report_org_path_updated`` and sorts
  them (at most COUNT_CAP: the count says so). A wider list (more than COUNT_CAP rows, e.g. a
  province) walks the newest-activity index instead and stops after a page: reading the
  province's rows to sort them is what made the province's list slow.
- **One statement a page**: the page and its capped count together, built once per shape of
  list (``_page_statement``). Whether a list is wider than COUNT_CAP decides only the plan; a
  worker remembers it from the list's last count (``_wide_lists``), and counts first only the
  first time it lists a scope.
- **The town picker** answers at most ``UNIT_LIMIT`` units matching a name, in the actor's scope.

With a search query the order is the match's rank: such a list pages by number only.
"""
from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Select, and_, bindparam, func, or_, select, tuple_

from . import search
from .db import db
from .errors import BadInput
from .models import OrgUnit, Report, User, subtree_range
from .scope import path_within, positions, report_filter, report_prefixes, unit_filter
from .table import KINDS, STATES

# The count of a list stops here: past it the list says "1,000+".
COUNT_CAP = 1000
# The town picker answers at most this many units at once.
UNIT_LIMIT = 20
MAX_PAGE = 100_000


@dataclass
class Page:
    items: Sequence[Any]  # Report objects, or rows of SUMMARY_COLUMNS (``summary=True``)
    total: int
    page: int | None  # None on a keyset page (reached by a cursor)
    per_page: int
    # With a search query: report id → the snippet of its text around the match.
    snippets: dict[int, search.Snippet] = field(default_factory=dict)
    # Where the next page starts (None: this is the last page, or the list is a search).
    next_cursor: str | None = None
    # ``total`` is COUNT_CAP and there are more.
    capped: bool = False

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def _int_filter(value: Any, name: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise BadInput("not_an_integer", field=name) from None


# ---------------------------------------------------------------- cursors


def encode_cursor(report: Any) -> str:
    """The position of a row in the list: its ``updated_at`` and id (opaque to clients)."""
    return f"{report.updated_at.isoformat()}_{report.id}"


def decode_cursor(cursor: str) -> tuple[dt.datetime, int]:
    stamp, _, rid = str(cursor).rpartition("_")
    try:
        return dt.datetime.fromisoformat(stamp), int(rid)
    except ValueError:
        raise BadInput("bad_cursor") from None


# ---------------------------------------------------------------- the list


def _conditions(actor: User, state: str | None, year: Any, kind: str | None, org_unit_id: Any,
                town: str | None, by_path_index: bool = True) -> list[ColumnElement[bool]] | None:
    """The filters as SQL conditions (None: an unknown unit, nothing can match)."""
    _check_codes(state, kind)
    year_i, unit_i = _int_filter(year, "year"), _int_filter(org_unit_id, "org_unit_id")
    conditions = [report_filter(actor, by_path_index=by_path_index)]
    if state:
        conditions.append(Report.state == state)
    if year_i is not None:
        conditions.append(Report.year == year_i)
    if kind:
        conditions.append(Report.kind == kind)
    if unit_i is not None:
        unit = db.session.get(OrgUnit, unit_i) if 0 < unit_i < 2**62 else None
        if unit is None:
            return None
        conditions.append(path_within(Report.org_path, unit.path))
    if town:
        named = select(OrgUnit.id).where(OrgUnit.name.contains(town[:100], autoescape=True))
        conditions.append(Report.org_unit_id.in_(named))
    return conditions


def capped_count(query: Select) -> tuple[int, bool]:
    """How many rows ``query`` has, counting at most COUNT_CAP + 1 of them."""
    n = db.session.scalar(select(func.count()).select_from(query.limit(COUNT_CAP + 1).subquery())) or 0
    return min(n, COUNT_CAP), n > COUNT_CAP


# What a list row shows (``summary=True``): plain rows, no ORM objects (the API's list). The
# tables' own columns: a statement of them alone runs without the ORM's layer.
_R, _U = Report.__table__.c, OrgUnit.__table__.c
SUMMARY_COLUMNS = (_R.id, _R.title, _R.kind, _R.year, _R.state, _R.version, _R.created_at, _R.updated_at,
                   _R.cycle_id, _R.org_unit_id, _U.name.label("unit_name"), _U.kind.label("unit_kind"))


def list_reports(actor: User, *, state: str | None = None, year: Any = None, kind: str | None = None,
                 org_unit_id: Any = None, town: str | None = None, q: str | None = None, page: Any = None,
                 cursor: str | None = None, per_page: int = 20, summary: bool = False) -> Page:
    """The reports in the actor's scope, newest activity first, one page after ``cursor`` (or
    page number ``page``); with ``q``, those whose title or text contain its words
    (``workflow.search``), best match first, each with a snippet. ``town``: part of a town's
    name. One statement for the page and its capped count (``_page_statement``), whatever the
    page size and the province; two the first time a worker lists a scope, three with ``q``.
    ``summary``: the items are rows of ``SUMMARY_COLUMNS`` (``unit_name``, ``unit_kind``: the
    town's), not ``Report`` objects — what a list shows, without building the objects."""
    page_i = _int_filter(page, "page")
    if page_i is not None and not 1 <= page_i <= MAX_PAGE:
        raise BadInput("page_out_of_range")
    found = search.match(q)
    if found:
        return _search_page(actor, found, (state, year, kind, org_unit_id, town), page_i or 1, per_page, summary)
    keyset = bool(cursor) and page_i is None
    number = None if keyset else page_i or 1
    _check_codes(state, kind)
    year_i, unit_i = _int_filter(year, "year"), _int_filter(org_unit_id, "org_unit_id")
    prefixes = report_prefixes(actor)
    params: dict[str, Any] = {"cap": COUNT_CAP + 1, "limit": per_page + 1}
    for i, prefix in enumerate(prefixes):
        params[f"lo{i}"], params[f"hi{i}"] = subtree_range(prefix)
    if unit_i is not None:
        unit = db.session.get(OrgUnit, unit_i) if 0 < unit_i < 2**62 else None
        if unit is None:
            return Page([], 0, number, per_page)
        params["unit_lo"], params["unit_hi"] = subtree_range(unit.path)
    if not prefixes:
        return Page([], 0, number, per_page)
    if state:
        params["state"] = state
    if year_i is not None:
        params["year"] = year_i
    if kind:
        params["kind"] = kind
    if town:
        params["town"] = "%" + _like_escape(town[:100]) + "%"
    if keyset:
        params["after_at"], params["after_id"] = decode_cursor(str(cursor))
    else:
        params["offset"] = ((number or 1) - 1) * per_page
    shape = _Shape(len(prefixes), walk=False, state=bool(state), year=year_i is not None, kind=bool(kind),
                   unit=unit_i is not None, town=bool(town), keyset=keyset, summary=summary, counted=True)
    # Whether this list is wider than COUNT_CAP decides how the page is read (through the path
    # index, or walking the newest activity): what this worker saw last time, else a count first.
    # Only the plan depends on it, never the rows.
    hint_key = (tuple(prefixes), state, year_i, kind, unit_i, town[:100] if town else None)
    wide = _wide_lists.get(hint_key)
    if wide is None:
        total = db.session.scalar(_count_statement(shape._replace(keyset=False)), params) or 0
        rows = _page_rows(shape._replace(walk=total > COUNT_CAP, counted=False), params)
    else:
        rows = _page_rows(shape._replace(walk=wide), params)
        if rows:
            total = rows[0].total
        elif number == 1:
            total = 0
        else:  # past the last page: count on its own
            total = db.session.scalar(_count_statement(shape._replace(keyset=False)), params) or 0
    _remember_width(hint_key, total > COUNT_CAP)
    items = [row if summary else row[0] for row in rows[:per_page]]
    next_cursor = encode_cursor(items[-1]) if len(rows) > per_page else None
    return Page(items, min(total, COUNT_CAP), number, per_page, {}, next_cursor, total > COUNT_CAP)


class _Shape(NamedTuple):
    """What a list statement is made of (its values are bound parameters)."""

    prefixes: int  # index ranges of the scope (``report_prefixes``): lo0/hi0, lo1/hi1…
    walk: bool  # read in activity order, not through the path index (a list wider than COUNT_CAP)
    state: bool
    year: bool
    kind: bool
    unit: bool  # unit_lo/unit_hi: within an org unit
    town: bool  # a town whose name is LIKE ``town``
    keyset: bool  # after the row (after_at, after_id); else from ``offset``
    summary: bool  # rows of SUMMARY_COLUMNS, else Report objects
    counted: bool  # each row carries ``total``: the capped count of the whole list


_wide_lists: dict[tuple, bool] = {}
_WIDE_LISTS_KEPT = 10_000


def _remember_width(key: tuple, wide: bool) -> None:
    if _wide_lists.get(key) is not wide:
        if len(_wide_lists) >= _WIDE_LISTS_KEPT:
            _wide_lists.clear()
        _wide_lists[key] = wide


def _page_rows(shape: _Shape, params: dict[str, Any]) -> Sequence[Any]:
    return db.session.execute(_page_statement(shape), params).all()


def _where(shape: _Shape, path: Any) -> list[ColumnElement[bool]]:
    """The scope (on ``path``: the report's path column, or an expression of it that no index
    serves) and the filters, as bound parameters (on the tables' columns: see SUMMARY_COLUMNS)."""
    where = [or_(*[and_(path >= bindparam(f"lo{i}"), path < bindparam(f"hi{i}")) for i in range(shape.prefixes)])]
    if shape.state:
        where.append(_R.state == bindparam("state"))
    if shape.year:
        where.append(_R.year == bindparam("year"))
    if shape.kind:
        where.append(_R.kind == bindparam("kind"))
    if shape.unit:
        where.append(and_(_R.org_path >= bindparam("unit_lo"), _R.org_path < bindparam("unit_hi")))
    if shape.town:
        named = select(_U.id).where(_U.name.like(bindparam("town"), escape="\\"))
        where.append(_R.org_unit_id.in_(named))
    return where


def _count_column(shape: _Shape) -> Any:
    """The list's row count, at most COUNT_CAP + 1 (``cap``), always through the path index."""
    counted = select(_R.id).where(*_where(shape, _R.org_path)).limit(bindparam("cap")).subquery()
    return select(func.count()).select_from(counted).scalar_subquery()


@functools.lru_cache(maxsize=512)
def _count_statement(shape: _Shape) -> Select:
    return select(_count_column(shape))


@functools.lru_cache(maxsize=512)
def _page_statement(shape: _Shape) -> Select:
    """One page of the list (``limit`` rows from ``offset``, or after the cursor's row), each row
    with the capped count when ``counted``. Built once per shape: building it took SQLAlchemy
    longer than SQLite took to run it."""
    columns: tuple[Any, ...] = SUMMARY_COLUMNS if shape.summary else (Report,)
    if shape.counted:
        columns = (*columns, _count_column(shape).label("total"))
    query = select(*columns)
    if shape.summary:
        query = query.join_from(Report.__table__, OrgUnit.__table__, _U.id == _R.org_unit_id)
    query = query.where(*_where(shape, _R.org_path.concat("") if shape.walk else _R.org_path))
    if shape.keyset:
        query = query.where(tuple_(_R.updated_at, _R.id) < tuple_(
            bindparam("after_at", type_=_R.updated_at.type), bindparam("after_id", type_=_R.id.type)))
    query = query.order_by(_R.updated_at.desc(), _R.id.desc()).limit(bindparam("limit"))
    return query if shape.keyset else query.offset(bindparam("offset"))


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _check_codes(state: str | None, kind: str | None) -> None:
    if state and state not in STATES:
        raise BadInput("unknown_state", state=str(state)[:40])
    if kind and kind not in KINDS:
        raise BadInput("unknown_kind", kind=str(kind)[:40], expected=list(KINDS))


def _search_page(actor: User, found: search.Match, filters: tuple, number: int, per_page: int,
                 summary: bool) -> Page:
    """A search's list: best match first, by page number, each item with its snippet."""
    conditions = _conditions(actor, *filters)
    if conditions is None:
        return Page([], 0, number, per_page)

    def matching(query: Select, where: list[ColumnElement[bool]]) -> Select:
        return query.join(found.hits, found.hits.c.report_id == Report.id).where(*where)

    total, capped = capped_count(matching(select(Report.id), conditions))
    columns = (select(*SUMMARY_COLUMNS).join_from(Report.__table__, OrgUnit.__table__, _U.id == _R.org_unit_id)
               if summary else select(Report))
    query = matching(columns, conditions).order_by(*found.order_by, Report.updated_at.desc(), Report.id.desc())
    query = query.limit(per_page).offset((number - 1) * per_page)
    rows: Sequence[Any] = db.session.execute(query).all() if summary else db.session.scalars(query).all()
    return Page(rows, total, number, per_page, search.snippets(found.terms, [r.id for r in rows]), None, capped)


# ---------------------------------------------------------------- the town picker


def sees_many_towns(actor: User, kinds: Sequence[str]) -> bool:
    """Whether the actor's scope holds more than one unit of ``kinds`` (a town author of one
    town does without the town filter). Every list page asks: one small statement, built once
    per number of positions."""
    prefixes = sorted({p.org_unit.path for p in positions(actor)})
    if not prefixes:
        return False
    params = {}
    for i, prefix in enumerate(prefixes):
        params[f"lo{i}"], params[f"hi{i}"] = subtree_range(prefix)
    return len(db.session.execute(_units_probe(len(prefixes), tuple(kinds)), params).all()) > 1


@functools.cache
def _units_probe(prefixes: int, kinds: tuple[str, ...]) -> Select:
    """Up to two units of ``kinds`` within the subtrees (each an index range of the path)."""
    within = [and_(_U.path >= bindparam(f"lo{i}"), _U.path < bindparam(f"hi{i}")) for i in range(prefixes)]
    return select(_U.id).where(or_(*within), _U.kind.in_(kinds)).limit(2)



@dataclass
class UnitPage:
    items: Sequence[Any]  # rows (id, name, kind, division_code, parent_id, path, parent_name)
    next_cursor: str | None


def find_units(actor: User, *, q: str | None = None, parent_id: Any = None, kinds: Sequence[str] = (),
               limit: Any = UNIT_LIMIT, cursor: str | None = None) -> UnitPage:
    """The org units in the actor's scope whose name contains ``q`` (and under ``parent_id``,
    of one of ``kinds``), in tree order, at most ``limit``; ``cursor`` continues after the
    last one answered. One query."""
    limit_i = _int_filter(limit, "limit") or UNIT_LIMIT
    if not 1 <= limit_i <= 100:
        raise BadInput("limit_out_of_range", max=100)
    parent = OrgUnit.__table__.alias("parent")
    query = (select(OrgUnit.id, OrgUnit.name, OrgUnit.kind, OrgUnit.division_code, OrgUnit.parent_id,
                    OrgUnit.path, parent.c.name.label("parent_name"))
             .outerjoin(parent, parent.c.id == OrgUnit.parent_id)
             .where(unit_filter(actor)))
    if q and q.strip():
        query = query.where(OrgUnit.name.contains(q.strip()[:100], autoescape=True))
    parent_i = _int_filter(parent_id, "parent")
    if parent_i is not None:
        query = query.where(OrgUnit.parent_id == parent_i)
    if kinds:
        query = query.where(OrgUnit.kind.in_(list(kinds)))
    if cursor:
        query = query.where(OrgUnit.path > str(cursor))
    rows = db.session.execute(query.order_by(OrgUnit.path).limit(limit_i + 1)).all()
    more = len(rows) > limit_i
    return UnitPage(rows[:limit_i], rows[limit_i - 1].path if more else None)
