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
- **The town picker** answers at most ``UNIT_LIMIT`` units matching a name, in the actor's scope.

With a search query the order is the match's rank: such a list pages by number only.
"""
from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, func, or_, select, tuple_

from . import search
from .db import db
from .errors import BadInput
from .models import OrgUnit, Report, User
from .scope import path_within, positions, report_filter, unit_filter
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


def after(cursor: str) -> ColumnElement[bool]:
    """The rows that come after the cursor's row in (updated_at desc, id desc) order (a row
    comparison: both databases read it as one index range)."""
    stamp, rid = decode_cursor(cursor)
    return tuple_(Report.updated_at, Report.id) < tuple_(stamp, rid)


# ---------------------------------------------------------------- the list


def _conditions(actor: User, state: str | None, year: Any, kind: str | None, org_unit_id: Any,
                town: str | None, by_path_index: bool = True) -> list[ColumnElement[bool]] | None:
    """The filters as SQL conditions (None: an unknown unit, nothing can match)."""
    if state and state not in STATES:
        raise BadInput("unknown_state", state=str(state)[:40])
    if kind and kind not in KINDS:
        raise BadInput("unknown_kind", kind=str(kind)[:40], expected=list(KINDS))
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


# What a list row shows (``summary=True``): plain rows, no ORM objects (the API's list).
SUMMARY_COLUMNS = (Report.id, Report.title, Report.kind, Report.year, Report.state, Report.version,
                   Report.created_at, Report.updated_at, Report.cycle_id, Report.org_unit_id,
                   OrgUnit.name.label("unit_name"), OrgUnit.kind.label("unit_kind"))


def list_reports(actor: User, *, state: str | None = None, year: Any = None, kind: str | None = None,
                 org_unit_id: Any = None, town: str | None = None, q: str | None = None, page: Any = None,
                 cursor: str | None = None, per_page: int = 20, summary: bool = False) -> Page:
    """The reports in the actor's scope, newest activity first, one page after ``cursor`` (or
    page number ``page``); with ``q``, those whose title or text contain its words
    (``workflow.search``), best match first, each with a snippet. ``town``: part of a town's
    name. Two queries whatever the page size and the province (three with ``q``).
    ``summary``: the items are rows of ``SUMMARY_COLUMNS`` (``unit_name``, ``unit_kind``: the
    town's), not ``Report`` objects — what a list shows, without building the objects."""
    page_i = _int_filter(page, "page")
    if page_i is not None and not 1 <= page_i <= MAX_PAGE:
        raise BadInput("page_out_of_range")
    filters = (actor, state, year, kind, org_unit_id, town)
    conditions = _conditions(*filters)
    found = search.match(q)
    keyset = bool(cursor) and not found and page_i is None
    number = None if keyset else page_i or 1
    if conditions is None:
        return Page([], 0, number, per_page)

    def matching(query: Select, where: list[ColumnElement[bool]]) -> Select:
        """The matches of ``q`` (if any) joined to the reports in scope."""
        query = query.join(found.hits, found.hits.c.report_id == Report.id) if found else query
        return query.where(*where)

    total, capped = capped_count(matching(select(Report.id), conditions))
    if capped and not found:  # a wide list: walk the newest activity, filter, stop after a page
        conditions = _conditions(*filters, by_path_index=False) or []
    columns = select(*SUMMARY_COLUMNS).join(OrgUnit, OrgUnit.id == Report.org_unit_id) if summary else select(Report)
    query = matching(columns, conditions).order_by(
        *(found.order_by if found else []), Report.updated_at.desc(), Report.id.desc()).limit(per_page + 1)
    if keyset:
        query = query.where(after(str(cursor)))
    else:
        query = query.offset(((number or 1) - 1) * per_page)
    rows: Sequence[Any] = db.session.execute(query).all() if summary else db.session.scalars(query).all()
    items = rows[:per_page]
    next_cursor = encode_cursor(items[-1]) if len(rows) > per_page and not found else None
    snippets = search.snippets(found.terms, [r.id for r in items]) if found else {}
    return Page(items, total, number, per_page, snippets, next_cursor, capped)


# ---------------------------------------------------------------- the town picker


def sees_many_towns(actor: User, kinds: Sequence[str]) -> bool:
    """Whether the actor's scope holds more than one unit of ``kinds`` (a town author of one
    town does without the town filter). Every list page asks: one small statement, built once
    per number of positions."""
    prefixes = sorted({p.org_unit.path for p in positions(actor)})
    if not prefixes:
        return False
    found = db.session.execute(_units_probe(len(prefixes), tuple(kinds)),
                               {f"p{i}": prefix + "%" for i, prefix in enumerate(prefixes)}).all()
    return len(found) > 1


@functools.cache
def _units_probe(prefixes: int, kinds: tuple[str, ...]) -> Select:
    return (select(OrgUnit.id).where(or_(*[OrgUnit.path.like(bindparam(f"p{i}")) for i in range(prefixes)]),
                                     OrgUnit.kind.in_(kinds)).limit(2))



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
