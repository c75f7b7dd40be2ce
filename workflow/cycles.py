"""Reporting cycles (报送任务): opening and closing them, the towns they expect, the
completeness matrix, reminders (催办) and the automatic reminders of the tick.

A district reviewer or admin opens a cycle for their district: "every town submits its 2027
annual plan by 15 January". Each expected town has at most one report in it. The matrix is the
district's view of the cycle, with the reporting rate as DHIS2 computes it:

- **expected**: the towns the cycle expects (its rows);
- **actual**: towns whose report is submitted now, i.e. in ``town_review``, ``district_review``
  or ``published``. A returned report is back in the town's hands and owes a resubmission: it
  is not counted, and its town can be reminded;
- **on time**: towns counted as actual whose *first* submission came before the end of the due
  date (Beijing time);
- ``reporting_rate = actual ÷ expected``, ``on_time_rate = on time ÷ expected`` (fractions 0–1).

Scope: district-level users (positions at the district or above) see the district's cycles and
every row; a town's users see the cycles that expect their town, and only their own rows.
Out of scope answers like missing (NotFound). Every privileged action writes a line of the
cycle's audit log and, where someone must be told, a domain event (``workflow.events``) that
names the towns concerned; the notification layer computes the recipients.
"""
from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.orm import aliased

from . import events
from .content import MAX_TITLE_CHARS, clean_line, clean_text, outline_from
from .cycle_models import (
    CLOSED,
    CYCLE_STATES,
    DUE_SOON,
    ESCALATION,
    MANUAL,
    OPEN,
    OVERDUE,
    Cycle,
    CycleAuditEvent,
    CycleTown,
    Reminder,
)
from .dates import from_local, to_local
from .db import db, rowcount
from .errors import BadInput, Conflict, Forbidden, Invalid, NotFound, TooMany
from .models import AuditEvent, OrgUnit, Report, User, utcnow
from .outline import Outline
from .scope import can_see_unit, roles_for, unit_filter
from .table import (
    ADMIN,
    AUTHOR,
    DISTRICT_KINDS,
    DISTRICT_REVIEW,
    DISTRICT_REVIEWER,
    DRAFT,
    KINDS,
    PUBLISHED,
    TOWN_KINDS,
    TOWN_REVIEW,
)

# The statuses of a matrix row, in the order a report moves through them.
NOT_STARTED, RETURNED = "not_started", "returned"
STATUSES: tuple[str, ...] = (NOT_STARTED, DRAFT, RETURNED, TOWN_REVIEW, DISTRICT_REVIEW, PUBLISHED)
# "Actual" in the reporting rate: the report is submitted now (see the module docstring).
SUBMITTED_STATUSES = frozenset({TOWN_REVIEW, DISTRICT_REVIEW, PUBLISHED})
# Who opens, closes and reminds: a district reviewer or admin of the cycle's district (or above).
MANAGER_ROLES = frozenset({DISTRICT_REVIEWER, ADMIN})
# Where a cycle is opened: a district or county, or a city (a city's admin may ask every town
# of the city at once).
CYCLE_UNIT_KINDS: tuple[str, ...] = DISTRICT_KINDS + ("city",)

MANUAL_REMINDER_INTERVAL = dt.timedelta(hours=1)
MAX_INSTRUCTIONS_CHARS = 10_000
MAX_MESSAGE_CHARS = 500
SORTS: tuple[str, ...] = ("town", "status", "submitted_at", "published_at", "days_in_step", "last_reminded_at")

def local_date(now: dt.datetime) -> dt.date:
    """The local calendar day (due dates are local days) of a naive-UTC time."""
    return to_local(now).date()


def deadline_of(due_date: dt.date) -> dt.datetime:
    """The end of the due date in Beijing, as naive UTC: a submission before it is on time."""
    return from_local(dt.datetime.combine(due_date + dt.timedelta(days=1), dt.time()))


# ---------------------------------------------------------------- reading and scope


def can_manage(actor: User, cycle_or_district: Cycle | OrgUnit) -> bool:
    district = cycle_or_district.district if isinstance(cycle_or_district, Cycle) else cycle_or_district
    return bool(roles_for(actor, district) & MANAGER_ROLES)


def managed_districts(actor: User) -> list[OrgUnit]:
    """The units (districts, counties, cities) where the actor may open cycles (one query)."""
    return list(db.session.scalars(
        select(OrgUnit).where(unit_filter(actor, set(MANAGER_ROLES)), OrgUnit.kind.in_(CYCLE_UNIT_KINDS))
        .order_by(OrgUnit.path)))


def _visible(actor: User):
    """SQL condition on ``Cycle``: its district is in the actor's scope, or one of its towns is."""
    districts = select(OrgUnit.id).where(unit_filter(actor))
    towns = (select(CycleTown.cycle_id).join(OrgUnit, OrgUnit.id == CycleTown.org_unit_id)
             .where(unit_filter(actor)))
    return or_(Cycle.district_id.in_(districts), Cycle.id.in_(towns))


def _int(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise BadInput("cycle_bad_number", field=name)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise BadInput("cycle_bad_number", field=name) from None
    if not 0 < number < 2**62:
        raise NotFound("cycle" if name == "cycle_id" else "cycle_unit")
    return number


def get_cycle(actor: User, cycle_id: Any) -> Cycle:
    """The cycle, or NotFound when it is absent or outside the actor's scope (the same answer)."""
    try:
        cid = _int(cycle_id, "cycle_id")
    except (BadInput, NotFound):
        raise NotFound("cycle") from None
    cycle = db.session.scalar(select(Cycle).where(Cycle.id == cid, _visible(actor)))
    if cycle is None:
        raise NotFound("cycle")
    return cycle


def _get_managed(actor: User, cycle_id: Any) -> Cycle:
    cycle = get_cycle(actor, cycle_id)
    if not can_manage(actor, cycle):
        raise Forbidden("cycle_manage")
    return cycle


@dataclass
class CyclePage:
    items: Sequence[Cycle]
    total: int
    page: int
    per_page: int
    # cycle id → (expected towns, towns submitted now), for the towns the actor sees
    progress: dict[int, tuple[int, int]] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def list_cycles(actor: User, *, year: Any = None, kind: Any = None, state: Any = None, district_id: Any = None,
                page: Any = 1, per_page: int = 50) -> CyclePage:
    """The cycles the actor sees, open ones first, then by due date (latest first). Three
    queries whatever the number of cycles or towns."""
    conditions = [_visible(actor)]
    if year not in (None, ""):
        conditions.append(Cycle.year == _year(year))
    if kind not in (None, ""):
        if kind not in KINDS:
            raise BadInput("cycle_unknown_kind", kind=str(kind)[:40])
        conditions.append(Cycle.kind == kind)
    if state not in (None, ""):
        if state not in CYCLE_STATES:
            raise BadInput("cycle_unknown_state", state=str(state)[:20])
        conditions.append(Cycle.state == state)
    if district_id not in (None, ""):
        conditions.append(Cycle.district_id == _int(district_id, "district_id"))
    try:
        page_i = int(page or 1)
    except (TypeError, ValueError):
        raise BadInput("cycle_bad_number", field="page") from None
    if not 1 <= page_i <= 100_000:
        raise BadInput("cycle_page_out_of_range")
    where = and_(*conditions)
    total = db.session.scalar(select(func.count(Cycle.id)).where(where)) or 0
    items = db.session.scalars(
        select(Cycle).where(where)
        .order_by(case((Cycle.state == OPEN, 0), else_=1), Cycle.due_date.desc(), Cycle.id.desc())
        .limit(per_page).offset((page_i - 1) * per_page)).all()
    return CyclePage(items, total, page_i, per_page, progress_of(actor, [c.id for c in items]))


def progress_of(actor: User, cycle_ids: list[int]) -> dict[int, tuple[int, int]]:
    """(expected, submitted now) per cycle, counting only the towns the actor sees. One query."""
    if not cycle_ids:
        return {}
    rows = db.session.execute(
        select(CycleTown.cycle_id, func.count(CycleTown.org_unit_id),
               func.count(Report.id).filter(Report.state.in_(SUBMITTED_STATUSES)))
        .join(OrgUnit, OrgUnit.id == CycleTown.org_unit_id)
        .outerjoin(Report, and_(Report.cycle_id == CycleTown.cycle_id, Report.org_unit_id == CycleTown.org_unit_id))
        .where(CycleTown.cycle_id.in_(cycle_ids), unit_filter(actor))
        .group_by(CycleTown.cycle_id)).all()
    found = {cid: (expected, actual) for cid, expected, actual in rows}
    return {cid: found.get(cid, (0, 0)) for cid in cycle_ids}


def expected_towns(cycle: Cycle) -> list[OrgUnit]:
    """The towns the cycle expects, in tree order (one query)."""
    return list(db.session.scalars(
        select(OrgUnit).join(CycleTown, CycleTown.org_unit_id == OrgUnit.id)
        .where(CycleTown.cycle_id == cycle.id).order_by(OrgUnit.path)))


def expected_count(cycle: Cycle) -> int:
    return db.session.scalar(select(func.count()).where(CycleTown.cycle_id == cycle.id)) or 0


def towns_under(district: OrgUnit) -> list[OrgUnit]:
    """Every town-level unit below the district, in tree order (the default expected towns)."""
    return list(db.session.scalars(
        select(OrgUnit).where(OrgUnit.path.like(district.path + "%"), OrgUnit.id != district.id,
                              OrgUnit.kind.in_(TOWN_KINDS)).order_by(OrgUnit.path)))


def audit_log(cycle: Cycle) -> list[CycleAuditEvent]:
    return list(db.session.scalars(
        select(CycleAuditEvent).where(CycleAuditEvent.cycle_id == cycle.id).order_by(CycleAuditEvent.id)))


# ---------------------------------------------------------------- opening, closing, towns


def _year(value: Any) -> int:
    if isinstance(value, bool):
        raise BadInput("cycle_bad_number", field="year")
    try:
        year = int(value)
    except (TypeError, ValueError):
        raise BadInput("cycle_bad_number", field="year") from None
    if not 2000 <= year <= 2100:
        raise BadInput("cycle_year_out_of_range", min=2000, max=2100)
    return year


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            parsed = dt.date.fromisoformat(value.strip())
        except ValueError:
            raise BadInput("cycle_bad_due_date") from None
        if 2000 <= parsed.year <= 2100:
            return parsed
    raise BadInput("cycle_bad_due_date")


def _template(template: Any) -> Outline | None:
    """An outline template from pasted text (headings to fill) or an outline object."""
    if template in (None, ""):
        return None
    if isinstance(template, str):
        if not template.strip():
            return None
        outline, _dropped = outline_from(text=template)
    elif isinstance(template, dict):
        outline, _dropped = outline_from(outline=template)
    else:
        raise BadInput("cycle_bad_template")
    return outline


def _towns_for(district: OrgUnit, org_unit_ids: Any) -> list[OrgUnit]:
    """The expected towns: every town under the district by default, else the ones named
    (each a town-level unit under the district)."""
    if org_unit_ids is None:
        towns = towns_under(district)
    else:
        if not isinstance(org_unit_ids, (list, tuple, set)):
            raise BadInput("cycle_bad_towns")
        ids = list(dict.fromkeys(_int(i, "org_unit_id") for i in org_unit_ids))
        towns = list(db.session.scalars(
            select(OrgUnit).where(OrgUnit.id.in_(ids), OrgUnit.path.like(district.path + "%"),
                                  OrgUnit.kind.in_(TOWN_KINDS)).order_by(OrgUnit.path))) if ids else []
        outside = sorted(set(ids) - {t.id for t in towns})
        if outside:
            raise Invalid("cycle_towns_outside", ids=", ".join(map(str, outside)),
                          details={"org_unit_ids": outside})
    if not towns:
        raise Invalid("cycle_no_towns")
    return towns


def _audit(cycle: Cycle, actor: User | None, action: str, now: dt.datetime, **detail: Any) -> None:
    db.session.add(CycleAuditEvent(cycle_id=cycle.id, actor_id=actor.id if actor else None, action=action,
                                   detail=detail, created_at=now))


def open_cycle(actor: User, *, org_unit_id: Any, kind: Any, year: Any, title: Any, due_date: Any,
               instructions: Any = None, org_unit_ids: Any = None, template: Any = None,
               now: dt.datetime | None = None) -> Cycle:
    """Open a cycle for a district: checks scope (404), the district (422), the actor's role
    (403) and the input; records the cycle, its towns, an audit line and a ``cycle_opened``
    event naming the towns, in one transaction."""
    now = now or utcnow()
    district_id = _int(org_unit_id, "org_unit_id")
    district = db.session.get(OrgUnit, district_id)
    if district is None or not can_see_unit(actor, district):
        raise NotFound("cycle_unit")
    if district.kind not in CYCLE_UNIT_KINDS:
        raise Invalid("cycle_not_a_district")
    if not can_manage(actor, district):
        raise Forbidden("cycle_manage")
    if kind not in KINDS:
        raise BadInput("cycle_unknown_kind", kind=str(kind)[:40])
    year_i = _year(year)
    title_s = clean_line(title, field="title", max_chars=MAX_TITLE_CHARS)
    due = _date(due_date)
    if due < local_date(now):
        raise Invalid("cycle_due_in_past")
    text = clean_text(instructions, field="instructions", max_chars=MAX_INSTRUCTIONS_CHARS, required=False) \
        if instructions not in (None, "") else ""
    outline = _template(template)
    towns = _towns_for(district, org_unit_ids)
    cycle = Cycle(district_id=district.id, kind=kind, year=year_i, title=title_s, instructions=text, due_date=due,
                  state=OPEN, template=outline, created_by_id=actor.id, created_at=now, updated_at=now)
    db.session.add(cycle)
    db.session.flush()
    db.session.add_all([CycleTown(cycle_id=cycle.id, org_unit_id=t.id, added_at=now) for t in towns])
    _audit(cycle, actor, "open", now, title=title_s, due_date=due.isoformat(), towns=len(towns))
    _emit_opened(cycle, actor, [t.id for t in towns])
    db.session.commit()
    return cycle


def _emit_opened(cycle: Cycle, actor: User | None, town_ids: list[int]) -> None:
    events.emit(events.CYCLE_OPENED, cycle_id=cycle.id, org_unit_id=cycle.district_id,
                actor_id=actor.id if actor else None, org_unit_ids=town_ids,
                message=cycle.instructions[:MAX_MESSAGE_CHARS],  # the notice: what the notifications say
                title=cycle.title, cycle_kind=cycle.kind, year=cycle.year, due_date=cycle.due_date.isoformat(),
                instructions=cycle.instructions[:MAX_MESSAGE_CHARS])


def close_cycle(actor: User, cycle_id: Any, *, now: dt.datetime | None = None) -> Cycle:
    """Close a cycle: no new reports join it. Its reports go on through the workflow."""
    return _set_state(actor, cycle_id, OPEN, CLOSED, "close", now or utcnow())


def reopen_cycle(actor: User, cycle_id: Any, *, now: dt.datetime | None = None) -> Cycle:
    return _set_state(actor, cycle_id, CLOSED, OPEN, "reopen", now or utcnow())


def _set_state(actor: User, cycle_id: Any, source: str, target: str, action: str, now: dt.datetime) -> Cycle:
    cycle = _get_managed(actor, cycle_id)
    db.session.commit()  # the conditional UPDATE below is the write lock (see services.perform)
    result = db.session.execute(
        update(Cycle).where(Cycle.id == cycle.id, Cycle.state == source)
        .values(state=target, updated_at=now, closed_at=now if target == CLOSED else None)
        .execution_options(synchronize_session=False))
    if rowcount(result) != 1:
        db.session.rollback()
        if source == OPEN:
            raise Conflict("cycle_closed", details={"state": target})
        raise Conflict("cycle_open", details={"state": target})
    _audit(cycle, actor, action, now)
    db.session.commit()
    db.session.expire_all()
    return get_cycle(actor, cycle.id)


def set_towns(actor: User, cycle_id: Any, org_unit_ids: Any, *, now: dt.datetime | None = None) -> Cycle:
    """Change the towns an open cycle expects. A town whose report already belongs to the
    cycle stays (409). Towns added are told of the cycle (a ``cycle_opened`` event for them)."""
    now = now or utcnow()
    cycle = _get_managed(actor, cycle_id)
    if cycle.state != OPEN:
        raise Conflict("cycle_closed", details={"state": cycle.state})
    wanted = {t.id: t for t in _towns_for(cycle.district, org_unit_ids)}
    current = set(db.session.scalars(select(CycleTown.org_unit_id).where(CycleTown.cycle_id == cycle.id)))
    removed, added = current - set(wanted), [tid for tid in wanted if tid not in current]
    if removed:
        holding = db.session.execute(
            select(OrgUnit.id, OrgUnit.name).join(Report, Report.org_unit_id == OrgUnit.id)
            .where(Report.cycle_id == cycle.id, OrgUnit.id.in_(removed)).order_by(OrgUnit.path)).all()
        if holding:
            raise Conflict("cycle_town_has_report", town=holding[0].name,
                           details={"org_unit_ids": [row.id for row in holding]})
        db.session.execute(CycleTown.__table__.delete().where(CycleTown.cycle_id == cycle.id,
                                                              CycleTown.org_unit_id.in_(removed)))
    db.session.add_all([CycleTown(cycle_id=cycle.id, org_unit_id=tid, added_at=now) for tid in added])
    if removed or added:
        _audit(cycle, actor, "set_towns", now, added=sorted(added), removed=sorted(removed))
        if added:
            _emit_opened(cycle, actor, added)
    db.session.commit()
    return cycle


def cycle_for_new_report(actor: User, cycle_id: Any, *, org_unit_id: Any, kind: Any = None,
                         year: Any = None) -> Cycle:
    """The cycle a new report joins, once it may: the cycle is visible (404) and open (409),
    expects the town (422), agrees with a kind and year given (422), and the town has no
    report in it yet (409). ``services.create_report`` calls this."""
    cycle = get_cycle(actor, cycle_id)
    if cycle.state != OPEN:
        raise Conflict("cycle_closed", details={"state": cycle.state})
    try:
        unit_id = int(org_unit_id)
    except (TypeError, ValueError):
        raise BadInput("cycle_bad_number", field="org_unit_id") from None
    if not db.session.scalar(select(CycleTown.org_unit_id).where(CycleTown.cycle_id == cycle.id,
                                                                CycleTown.org_unit_id == unit_id)):
        raise Invalid("cycle_town_not_expected")
    if (kind not in (None, "") and kind != cycle.kind) or (year not in (None, "") and str(year) != str(cycle.year)):
        raise Invalid("cycle_mismatch", kind=cycle.kind, year=cycle.year)
    existing = db.session.scalar(select(Report.id).where(Report.cycle_id == cycle.id, Report.org_unit_id == unit_id))
    if existing is not None:
        raise Conflict("cycle_report_exists", report_id=existing, details={"report_id": existing})
    return cycle


def default_report_title(cycle: Cycle, town: OrgUnit) -> str:
    """"青山镇" + "2027年度工作计划", unless the cycle's title names the town already."""
    return cycle.title if cycle.title.startswith(town.name) else (town.name + cycle.title)[:MAX_TITLE_CHARS]


# ---------------------------------------------------------------- the matrix


@dataclass
class Row:
    """One expected town of a cycle, as the matrix shows it."""

    cycle_id: int
    org_unit_id: int
    org_unit_name: str
    path: str
    status: str
    report_id: int | None
    report_title: str | None
    submitted_at: dt.datetime | None  # the first submission
    published_at: dt.datetime | None
    on_time: bool | None  # None: not submitted and not due yet
    overdue: bool
    since: dt.datetime  # when the row entered its status
    days_in_step: int
    last_reminded_at: dt.datetime | None
    reminders: int
    last_submitted_at: dt.datetime | None = None

    @property
    def submitted(self) -> bool:
        return self.status in SUBMITTED_STATUSES


def _status(state: str | None, last_action: str | None) -> str:
    if state is None:
        return NOT_STARTED
    if state == DRAFT and last_action == "return":
        return RETURNED
    return state


def _rows(cycles: Sequence[Cycle], actor: User | None, now: dt.datetime) -> list[Row]:
    """Every expected town of the cycles (those in the actor's scope; all of them for the tick)
    with its report's status, times and reminders: one query, whatever the number of towns."""
    if not cycles:
        return []
    ids = [c.id for c in cycles]
    by_id = {c.id: c for c in cycles}
    in_cycles = Report.cycle_id.in_(ids)
    agg = (select(AuditEvent.report_id.label("report_id"), func.max(AuditEvent.seq).label("last_seq"),
                  func.min(case((AuditEvent.action == "submit", AuditEvent.created_at))).label("first_submit"),
                  func.max(case((AuditEvent.action == "submit", AuditEvent.created_at))).label("last_submit"),
                  func.max(case((AuditEvent.to_state == PUBLISHED, AuditEvent.created_at))).label("published"))
           .join(Report, Report.id == AuditEvent.report_id).where(in_cycles)
           .group_by(AuditEvent.report_id).subquery())
    last = aliased(AuditEvent)
    rem = (select(Reminder.cycle_id.label("cycle_id"), Reminder.org_unit_id.label("org_unit_id"),
                  func.max(Reminder.sent_at).label("at"), func.count(Reminder.id).label("n"))
           .where(Reminder.cycle_id.in_(ids)).group_by(Reminder.cycle_id, Reminder.org_unit_id).subquery())
    query = (
        select(CycleTown.cycle_id, CycleTown.added_at, OrgUnit.id, OrgUnit.name, OrgUnit.path, Report.id,
               Report.title, Report.state, agg.c.first_submit, agg.c.last_submit, agg.c.published, last.action,
               last.created_at, rem.c.at, rem.c.n)
        .select_from(CycleTown)
        .join(OrgUnit, OrgUnit.id == CycleTown.org_unit_id)
        .outerjoin(Report, and_(Report.cycle_id == CycleTown.cycle_id, Report.org_unit_id == CycleTown.org_unit_id))
        .outerjoin(agg, agg.c.report_id == Report.id)
        .outerjoin(last, and_(last.report_id == Report.id, last.seq == agg.c.last_seq))
        .outerjoin(rem, and_(rem.c.cycle_id == CycleTown.cycle_id, rem.c.org_unit_id == CycleTown.org_unit_id))
        .where(CycleTown.cycle_id.in_(ids))
        .order_by(OrgUnit.path, CycleTown.cycle_id))
    if actor is not None:
        query = query.where(unit_filter(actor))
    rows = []
    for (cid, added_at, uid, name, path, rid, title, state, first_submit, last_submit, published, last_action,
         last_at, reminded_at, reminders) in db.session.execute(query):
        cycle = by_id[cid]
        deadline = deadline_of(cycle.due_date)
        status = _status(state, last_action)
        submitted = status in SUBMITTED_STATUSES
        if first_submit is not None:
            on_time: bool | None = first_submit < deadline
        else:
            on_time = False if now >= deadline else None
        since = last_at if rid is not None and last_at is not None else max(added_at, cycle.created_at)
        rows.append(Row(
            cycle_id=cid, org_unit_id=uid, org_unit_name=name, path=path, status=status, report_id=rid,
            report_title=title, submitted_at=first_submit, published_at=published, on_time=on_time,
            overdue=not submitted and now >= deadline, since=since,
            days_in_step=max(0, (now - since).days), last_reminded_at=reminded_at, reminders=reminders or 0,
            last_submitted_at=last_submit))
    return rows


@dataclass
class Matrix:
    cycle: Cycle
    rows: list[Row]  # filtered and sorted as asked
    expected: int  # the towns the actor sees (every expected town for district users)
    counts: dict[str, int]
    actual: int
    on_time: int
    overdue: int
    reporting_rate: float
    on_time_rate: float
    days_left: int  # until the due date (negative: days overdue)
    status_filter: str | None
    sort: str


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _sort_key(sort: str):
    order = {s: i for i, s in enumerate(STATUSES)}
    far = dt.datetime.max
    return {
        "town": lambda r: r.path,
        "status": lambda r: (order.get(r.status, 99), r.path),
        "submitted_at": lambda r: (r.submitted_at or far, r.path),
        "published_at": lambda r: (r.published_at or far, r.path),
        "days_in_step": lambda r: (r.days_in_step, r.path),
        "last_reminded_at": lambda r: (r.last_reminded_at or dt.datetime.min, r.path),
    }[sort]


# Filters beyond the statuses themselves.
FILTERS: tuple[str, ...] = STATUSES + ("not_submitted", "overdue")


def _keep(status_filter: str | None):
    if not status_filter:
        return lambda r: True
    if status_filter == "not_submitted":
        return lambda r: not r.submitted
    if status_filter == "overdue":
        return lambda r: r.overdue
    return lambda r: r.status == status_filter


def matrix(actor: User, cycle_id: Any, *, status: Any = None, sort: Any = None,
           now: dt.datetime | None = None) -> Matrix:
    """The completeness matrix of a cycle (see the module docstring for the figures). Counts
    and rates cover every row the actor sees; ``status`` (a status, ``not_submitted`` or
    ``overdue``) and ``sort`` (a column of ``SORTS``, ``-`` in front for descending) shape
    only the rows listed. Two queries, whatever the number of towns."""
    now = now or utcnow()
    if status not in (None, "") and status not in FILTERS:
        raise BadInput("cycle_unknown_status", status=str(status)[:40])
    sort_s = str(sort or "town")
    descending = sort_s.startswith("-")
    if sort_s.lstrip("-") not in SORTS:
        raise BadInput("cycle_unknown_sort", sort=sort_s[:40])
    cycle = get_cycle(actor, cycle_id)
    rows = _rows([cycle], actor, now)
    counts = {s: 0 for s in STATUSES}
    for r in rows:
        counts[r.status] = counts.get(r.status, 0) + 1
    actual = sum(1 for r in rows if r.submitted)
    on_time = sum(1 for r in rows if r.submitted and r.on_time)
    shown = sorted(filter(_keep(status or None), rows), key=_sort_key(sort_s.lstrip("-")), reverse=descending)
    return Matrix(cycle=cycle, rows=shown, expected=len(rows), counts=counts, actual=actual, on_time=on_time,
                  overdue=sum(1 for r in rows if r.overdue), reporting_rate=_rate(actual, len(rows)),
                  on_time_rate=_rate(on_time, len(rows)), days_left=(cycle.due_date - local_date(now)).days,
                  status_filter=status or None, sort=sort_s)


@dataclass
class YearView:
    year: int
    district: OrgUnit | None
    districts: list[OrgUnit]  # the districts the actor could look at
    cycles: list[Cycle]
    towns: list[tuple[int, str]]  # (id, name) in tree order
    cells: dict[tuple[int, int], Row]  # (town id, cycle id) → row; absent: not expected


def year_view(actor: User, *, year: Any, district_id: Any = None, now: dt.datetime | None = None) -> YearView:
    """Towns × the district's cycles of a year, one cell per expected town: three queries."""
    now = now or utcnow()
    year_i = _year(year)
    districts = list(db.session.scalars(
        select(OrgUnit).where(OrgUnit.id.in_(select(Cycle.district_id).where(_visible(actor))))
        .order_by(OrgUnit.path)))
    district = None
    if district_id not in (None, ""):
        wanted = _int(district_id, "district_id")
        district = next((d for d in districts if d.id == wanted), None)
        if district is None:
            raise NotFound("cycle_unit")
    elif districts:
        district = districts[0]
    if district is None:
        return YearView(year_i, None, districts, [], [], {})
    cycles = list(db.session.scalars(
        select(Cycle).where(_visible(actor), Cycle.district_id == district.id, Cycle.year == year_i)
        .order_by(Cycle.due_date, Cycle.id)))
    rows = _rows(cycles, actor, now)
    towns = list(dict.fromkeys((r.org_unit_id, r.org_unit_name) for r in rows))
    return YearView(year_i, district, districts, cycles, towns, {(r.org_unit_id, r.cycle_id): r for r in rows})


# ---------------------------------------------------------------- the towns' side


@dataclass
class OpenTask:
    """An open cycle an author's town has not started yet (on the author's to-do)."""

    cycle: Cycle
    town: OrgUnit
    days_left: int


def open_tasks_for_author(actor: User, *, now: dt.datetime | None = None, limit: int = 20) -> list[OpenTask]:
    """Open cycles that expect one of the actor's author towns and have no report of it yet,
    soonest due first. One query."""
    now = now or utcnow()
    found = db.session.execute(
        select(Cycle, OrgUnit).join(CycleTown, CycleTown.cycle_id == Cycle.id)
        .join(OrgUnit, OrgUnit.id == CycleTown.org_unit_id)
        .outerjoin(Report, and_(Report.cycle_id == Cycle.id, Report.org_unit_id == CycleTown.org_unit_id))
        .where(Cycle.state == OPEN, Report.id.is_(None), unit_filter(actor, {AUTHOR}))
        .order_by(Cycle.due_date, Cycle.id, OrgUnit.path).limit(limit)).all()
    today = local_date(now)
    return [OpenTask(cycle, unit, (cycle.due_date - today).days) for cycle, unit in found]


def last_actions(report_ids: Iterable[int]) -> dict[int, str]:
    """The last audited action of each report (one query)."""
    ids = list(report_ids)
    if not ids:
        return {}
    latest = (select(AuditEvent.report_id, func.max(AuditEvent.seq).label("seq"))
              .where(AuditEvent.report_id.in_(ids)).group_by(AuditEvent.report_id).subquery())
    return dict(db.session.execute(
        select(AuditEvent.report_id, AuditEvent.action)
        .join(latest, and_(latest.c.report_id == AuditEvent.report_id, latest.c.seq == AuditEvent.seq))).all())


def returned_ids(reports: Iterable[Report]) -> set[int]:
    """The drafts among ``reports`` whose last transition was a return (已退回)."""
    drafts = [r.id for r in reports if r.state == DRAFT]
    return {rid for rid, action in last_actions(drafts).items() if action == "return"}


# ---------------------------------------------------------------- reminders (催办)


@dataclass
class RemindResult:
    reminded: list[int]
    # {"org_unit_id", "reason": "submitted" | "reminded_recently" | "not_expected", "next_at"?}
    skipped: list[dict[str, Any]]


def _lock(cycle: Cycle, now: dt.datetime) -> None:
    """Serialise the writers of one cycle: end the read transaction, then UPDATE the cycle's
    row (SQLite takes its write lock there, PostgreSQL the row lock); what is read after this
    is what the previous writer committed."""
    db.session.commit()
    db.session.execute(update(Cycle).where(Cycle.id == cycle.id).values(updated_at=now)
                       .execution_options(synchronize_session=False))


def remind(actor: User, cycle_id: Any, *, org_unit_ids: Any = None, message: Any = None,
           now: dt.datetime | None = None) -> RemindResult:
    """催办: remind the towns named, or by default every expected town that has not submitted.
    A town that has submitted is never reminded; one reminded by hand within the hour is
    skipped (with the time the next is allowed). When every town asked for was reminded
    within the hour nothing is sent: TooMany with the earliest time allowed."""
    now = now or utcnow()
    cycle = _get_managed(actor, cycle_id)
    if cycle.state != OPEN:
        raise Conflict("cycle_closed", details={"state": cycle.state})
    asked = _asked_towns(org_unit_ids)
    text = clean_text(message, field="message", max_chars=MAX_MESSAGE_CHARS, required=False) \
        if message not in (None, "") else None
    _lock(cycle, now)
    try:
        rows = {r.org_unit_id: r for r in _rows([cycle], actor, now)}
        last_manual = dict(db.session.execute(
            select(Reminder.org_unit_id, func.max(Reminder.sent_at))
            .where(Reminder.cycle_id == cycle.id, Reminder.kind == MANUAL).group_by(Reminder.org_unit_id)).all())
        reminded, skipped, limited = _sort_towns(asked if asked is not None else list(rows), rows, last_manual, now)
        candidates = [s for s in skipped if s["reason"] != "submitted"] if asked is None else skipped
        if not reminded and limited and len(limited) == len(candidates):
            next_at = min(limited)
            db.session.rollback()
            raise TooMany("reminder_too_soon", next_at=next_at.isoformat(timespec="seconds") + "Z",
                          details={"next_at": next_at.isoformat(timespec="seconds") + "Z"})
        if reminded:
            db.session.add_all([Reminder(cycle_id=cycle.id, org_unit_id=uid, kind=MANUAL, message=text,
                                         by_id=actor.id, sent_at=now) for uid in reminded])
            events.emit(events.REMINDER, cycle_id=cycle.id, org_unit_id=cycle.district_id, actor_id=actor.id,
                        org_unit_ids=reminded, escalate=False, message=text, reminder_kind=MANUAL,
                        title=cycle.title, due_date=cycle.due_date.isoformat())
        _audit(cycle, actor, "remind", now, reminded=reminded,
               skipped=[{"org_unit_id": s["org_unit_id"], "reason": s["reason"]} for s in skipped])
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return RemindResult(reminded, skipped)


def _asked_towns(org_unit_ids: Any) -> list[int] | None:
    """The towns a reminder names (None: every town not yet submitted)."""
    if org_unit_ids is None:
        return None
    if not isinstance(org_unit_ids, (list, tuple, set)) or not org_unit_ids:
        raise BadInput("cycle_bad_towns")
    return list(dict.fromkeys(_int(i, "org_unit_id") for i in org_unit_ids))


def _sort_towns(town_ids: list[int], rows: dict[int, Any], last_manual: dict[int, dt.datetime],
                now: dt.datetime) -> tuple[list[int], list[dict[str, Any]], list[dt.datetime]]:
    """(to remind, skipped with the reason, the times the rate-limited ones may be reminded
    again): never a town not expected or already submitted; a town reminded by hand within the
    hour waits."""
    reminded: list[int] = []
    skipped: list[dict[str, Any]] = []
    limited: list[dt.datetime] = []
    for uid in town_ids:
        row = rows.get(uid)
        if row is None:
            skipped.append({"org_unit_id": uid, "reason": "not_expected"})
        elif row.submitted:
            skipped.append({"org_unit_id": uid, "reason": "submitted"})
        elif last_manual.get(uid) is not None and now < last_manual[uid] + MANUAL_REMINDER_INTERVAL:
            next_at = last_manual[uid] + MANUAL_REMINDER_INTERVAL
            skipped.append({"org_unit_id": uid, "reason": "reminded_recently", "next_at": next_at})
            limited.append(next_at)
        else:
            reminded.append(uid)
    return reminded, skipped, limited


def reminders_of(cycle: Cycle, org_unit_id: int | None = None, limit: int = 200) -> list[Reminder]:
    query = select(Reminder).where(Reminder.cycle_id == cycle.id)
    if org_unit_id is not None:
        query = query.where(Reminder.org_unit_id == org_unit_id)
    return list(db.session.scalars(query.order_by(Reminder.sent_at.desc(), Reminder.id.desc()).limit(limit)))


@dataclass
class TickResult:
    cycles: int = 0
    due_soon: int = 0
    overdue: int = 0
    escalations: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"cycles": self.cycles, "due_soon": self.due_soon, "overdue": self.overdue,
                "escalations": self.escalations}


def tick(*, now: dt.datetime | None = None, remind_days_before: int = 3, escalate_after_days: int = 2) -> TickResult:
    """The automatic reminders, for every open cycle: ``remind_days_before`` days before the
    due date (towns that learnt of the cycle inside that window were just told the date and
    are spared), on the first overdue day (or the first tick after it), and an escalation
    (``escalate``: the town reviewers are added) for a town still not submitted
    ``escalate_after_days`` after any other reminder. Each is recorded once under a unique
    key, so the tick may run as often as anyone likes, from any number of processes."""
    now = now or utcnow()
    result = TickResult()
    today = local_date(now)
    cycle_ids = list(db.session.scalars(select(Cycle.id).where(Cycle.state == OPEN).order_by(Cycle.id)))
    for cid in cycle_ids:
        cycle = db.session.get(Cycle, cid)
        if cycle is None or cycle.state != OPEN:
            continue
        result.cycles += 1
        _lock(cycle, now)
        try:
            _tick_cycle(cycle, now, today, remind_days_before, escalate_after_days, result)
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
    return result


def _tick_cycle(cycle: Cycle, now: dt.datetime, today: dt.date, days_before: int, escalate_after: int,
                result: TickResult) -> None:
    db.session.refresh(cycle)
    if cycle.state != OPEN:
        return
    rows = [r for r in _rows([cycle], None, now) if not r.submitted]
    if not rows:
        return
    keys = set(db.session.scalars(select(Reminder.dedupe_key).where(Reminder.cycle_id == cycle.id,
                                                                    Reminder.dedupe_key.is_not(None))))
    history = db.session.execute(
        select(Reminder.id, Reminder.org_unit_id, Reminder.sent_at).where(
            Reminder.cycle_id == cycle.id, Reminder.kind != ESCALATION)
        .order_by(Reminder.sent_at, Reminder.id)).all()
    latest: dict[int, tuple[int, dt.datetime]] = {}
    for rid, uid, sent_at in history:
        latest[uid] = (rid, sent_at)
    added = dict(db.session.execute(select(CycleTown.org_unit_id, CycleTown.added_at)
                                    .where(CycleTown.cycle_id == cycle.id)).all())
    window = cycle.due_date - dt.timedelta(days=days_before)
    sent: dict[str, list[int]] = {DUE_SOON: [], OVERDUE: [], ESCALATION: []}
    new: list[Reminder] = []

    def record(kind: str, uid: int, key: str, escalate: bool = False) -> None:
        if key in keys:
            return
        keys.add(key)
        new.append(Reminder(cycle_id=cycle.id, org_unit_id=uid, kind=kind, escalate=escalate, sent_at=now,
                            dedupe_key=key))
        sent[kind].append(uid)

    for row in rows:
        uid = row.org_unit_id
        before = len(new)
        if today > cycle.due_date:
            record(OVERDUE, uid, f"overdue:{cycle.id}:{uid}")
        elif today >= window and local_date(added.get(uid, cycle.created_at)) < window:
            record(DUE_SOON, uid, f"due_soon:{cycle.id}:{uid}")
        previous = latest.get(uid)
        # At most one reminder per town per tick: an escalation waits for the next tick,
        # and is then counted from the reminder just sent.
        if previous is not None and len(new) == before:
            rid, sent_at = previous
            silent = row.last_submitted_at is None or row.last_submitted_at < sent_at
            if silent and now >= sent_at + dt.timedelta(days=escalate_after):
                record(ESCALATION, uid, f"escalation:{rid}", escalate=True)
    if not new:
        return
    db.session.add_all(new)
    common: dict[str, Any] = dict(cycle_id=cycle.id, org_unit_id=cycle.district_id, actor_id=None,
                                  title=cycle.title, due_date=cycle.due_date.isoformat(), message=None)
    if sent[DUE_SOON]:
        events.emit(events.CYCLE_DUE_SOON, org_unit_ids=sent[DUE_SOON], escalate=False,
                    days_left=(cycle.due_date - today).days, **common)
    if sent[OVERDUE]:
        events.emit(events.CYCLE_OVERDUE, org_unit_ids=sent[OVERDUE], escalate=False,
                    days_overdue=(today - cycle.due_date).days, **common)
    if sent[ESCALATION]:
        events.emit(events.REMINDER, org_unit_ids=sent[ESCALATION], escalate=True, reminder_kind=ESCALATION,
                    **common)
    _audit(cycle, None, "auto_remind", now, due_soon=sent[DUE_SOON], overdue=sent[OVERDUE],
           escalation=sent[ESCALATION])
    result.due_soon += len(sent[DUE_SOON])
    result.overdue += len(sent[OVERDUE])
    result.escalations += len(sent[ESCALATION])
