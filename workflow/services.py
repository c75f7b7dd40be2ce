"""The services: every read and write of reports goes through here.

Each service takes the acting user, checks scope and the workflow table, and either
changes the database in one transaction or raises a ``DomainError`` having changed
nothing. The web UI and the API are thin callers; tests call these directly.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, bindparam, case, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from . import audit, events, search
from .content import (
    MAX_COMMENT_CHARS,
    MAX_TITLE_CHARS,
    clean_line,
    clean_text,
    content_sha256,
    imported_from,
    is_unchanged_text,
    problems_for,
)
from .dates import YEAR_MAX, YEAR_MIN, year_in_range
from .db import db, rowcount
from .errors import BadInput, Conflict, DomainError, Forbidden, Invalid, NotFound
from .guards import DUTY_GUARDS, GUARDS, INPUT_GUARDS, GuardContext
from .listing import Page as Page  # the report list (keyset pages, workflow.listing), re-exported
from .listing import list_reports as list_reports
from .models import AuditEvent, Comment, OrgUnit, Publication, PublicationStatus, Report, ReportVersion, User, utcnow
from .plan_check import scaffold as plan_scaffold
from .publishing import district_of
from .scope import can_see_report, can_see_unit, report_filter, roles_for, unit_filter
from .scope import positions as scope_positions
from .table import (
    AUTHOR,
    COMMENT_ANSWERS,
    DISTRICT_REVIEW,
    DRAFT,
    EDIT_ROLE,
    EDITABLE_STATES,
    KINDS,
    PUBLISHED,
    TOWN_KINDS,
    TOWN_REVIEW,
    TRANSITIONS,
    CommentStatus,
    Transition,
    transition_for,
    transitions_from,
)

# ---------------------------------------------------------------- reading


def get_report(actor: User, report_id: Any) -> Report:
    """The report, or NotFound when it is absent or outside the actor's scope (the same answer)."""
    try:
        rid = int(report_id)
    except (TypeError, ValueError):
        raise NotFound("report") from None
    report = db.session.get(Report, rid, options=[selectinload(Report.versions)]) if 0 < rid < 2**62 else None
    if report is None or not can_see_report(actor, report):
        raise NotFound("report")
    return report


def _int_filter(value: Any, name: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise BadInput("not_an_integer", field=name) from None


def inbox(actor: User, limit: int = 50) -> list[Report]:
    """What waits for the actor (我的待办): reports in a state where the table gives one of
    the actor's roles a duty, within that role's scope. Derived from the table, one query."""
    clauses = []
    held = {p.role for p in scope_positions(actor)}
    for t in TRANSITIONS:
        if not t.waits_on_role or t.role not in held:  # (a constant false term makes SQLite scan)
            continue
        # The report's own copy of its town's path: an index range per position, no join.
        clauses.append(and_(Report.state == t.source, report_filter(actor, roles={t.role})))
    if not clauses:
        return []
    # A returned draft (its last audited action a return) comes first: it is the town's most urgent work.
    last_action = (select(AuditEvent.action).where(AuditEvent.report_id == Report.id)
                   .order_by(AuditEvent.seq.desc()).limit(1).correlate(Report).scalar_subquery())
    returned_first = case((and_(Report.state == DRAFT, last_action == "return"), 0), else_=1)
    reports = db.session.scalars(
        select(Report).where(or_(*clauses))
        .order_by(returned_first, Report.updated_at.asc()).limit(limit)
    ).all()
    # What one submitted or wrote waits on someone else (separation of duties).
    return [r for r in reports if not (r.state in (TOWN_REVIEW, DISTRICT_REVIEW) and _wrote_or_submitted(actor, r))]


def _wrote_or_submitted(actor: User, report: Report) -> bool:
    return report.submitted_by_id == actor.id or actor.id in (report.editor_ids or [])


def history(report: Report) -> list[AuditEvent]:
    return list(db.session.scalars(
        select(AuditEvent).where(AuditEvent.report_id == report.id).order_by(AuditEvent.seq)
    ))


def comments_of(report: Report) -> list[Comment]:
    return list(db.session.scalars(
        select(Comment).where(Comment.report_id == report.id).order_by(Comment.created_at, Comment.id)
    ))


def publication_of(report: Report) -> Publication | None:
    return db.session.scalar(
        select(Publication).where(Publication.report_id == report.id).order_by(Publication.id.desc()).limit(1)
    )


@dataclass
class ArchivePage:
    rows: Sequence[Any]
    total: int
    page: int
    pages: int
    years: Sequence[int]
    towns: Sequence[Any]


def search_archive(actor: User, *, year: int | None = None, kind: str | None = None, town_id: int | None = None,
                   q: str = "", page: int = 1, per_page: int = 20) -> ArchivePage:
    """Published reports in the actor's scope with their publication, newest archive number
    first, plus the years and towns to filter by. Four queries whatever the page size."""
    scope = report_filter(actor)
    conditions = [scope, Report.state == PUBLISHED]
    if year is not None:
        conditions.append(Report.year == year)
    if kind:
        conditions.append(Report.kind == kind)
    if town_id is not None:
        unit = db.session.get(OrgUnit, town_id)
        conditions.append(OrgUnit.path.like(unit.path + "%") if unit is not None else Report.id.is_(None))
    if q:
        conditions.append(or_(Report.title.contains(q, autoescape=True),
                              Publication.archive_no.contains(q, autoescape=True)))
    where = and_(*conditions)
    joined = select(Report.id).join(Report.org_unit).join(Publication, Publication.report_id == Report.id)
    total = db.session.scalar(select(func.count()).select_from(joined.where(where).subquery())) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    rows = db.session.execute(
        select(Report.id, Report.title, Report.kind, Report.year, OrgUnit.name.label("town"),
               Publication.status, Publication.progress, Publication.archive_no, Publication.file_sha256,
               Publication.file_size, Publication.signed_at, Publication.created_at.label("approved_at"))
        .join(Report.org_unit).join(Publication, Publication.report_id == Report.id)
        .where(where)
        .order_by(Publication.archive_year.desc().nulls_last(), Publication.archive_seq.desc().nulls_last(),
                  Publication.id.desc())
        .limit(per_page).offset((page - 1) * per_page)
    ).all()
    years = db.session.scalars(
        select(Report.year).distinct().join(Report.org_unit)
        .where(scope, Report.state == PUBLISHED).order_by(Report.year.desc())
    ).all()
    towns = db.session.execute(
        select(OrgUnit.id, OrgUnit.name).where(unit_filter(actor), OrgUnit.kind.in_(TOWN_KINDS))
        .order_by(OrgUnit.path)
    ).all()
    return ArchivePage(rows, total, page, pages, years, towns)


def version_of(report: Report, number: Any) -> ReportVersion:
    n = _int_filter(number, "version")
    for v in report.versions:
        if v.number == n:
            return v
    raise NotFound("version")


# ---------------------------------------------------------------- actions


@dataclass
class ActionOption:
    action: str
    target: str
    allowed: bool
    blocked_by: DomainError | None  # why not now (the edge renders it in the reader's language)
    needs_comment: bool


def action_options(actor: User, report: Report) -> list[ActionOption]:
    """The transitions from the report's state that the actor's roles reach, each with
    whether the guards let it through now (guards on the actor's input are not judged)."""
    roles = roles_for(actor, report.org_unit)
    options = []
    for t in transitions_from(report.state):
        if t.role not in roles:
            continue
        ctx = GuardContext(actor, report, None)
        error = next((e for g in t.guards if g not in INPUT_GUARDS for e in [GUARDS[g](ctx)] if e), None)
        if isinstance(error, Forbidden):
            continue  # not this actor's action at all (e.g. withdraw by someone else)
        options.append(ActionOption(t.action, t.target, error is None, error, t.needs_comment))
    return options


def allowed_actions(actor: User, report: Report) -> list[str]:
    return [o.action for o in action_options(actor, report) if o.allowed]


def _check_version(report: Report, version: Any) -> int:
    if isinstance(version, bool) or not isinstance(version, (int, str)):
        raise BadInput("not_an_integer", field="version")
    try:
        seen = int(version)
    except ValueError:
        raise BadInput("not_an_integer", field="version") from None
    if seen != report.version:
        raise Conflict("stale_version", seen=seen, current=report.version,
                       details={"current_version": report.version, "state": report.state})
    return seen


def _locked_update(report: Report, seen_version: int, expected_state: str, **values: Any) -> None:
    """The one write that decides a race: UPDATE … WHERE version = seen AND state = expected.
    Exactly one concurrent caller matches; the others get Conflict and their transaction is rolled back."""
    result = db.session.execute(
        update(Report)
        .where(Report.id == report.id, Report.version == seen_version, Report.state == expected_state)
        .values(version=Report.version + 1, updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    if rowcount(result) != 1:
        db.session.rollback()
        raise Conflict("acted_meanwhile")


def perform(actor: User, report_id: Any, action: Any, *, version: Any, comment: Any = None) -> Report:
    """Take a workflow action. Checks, in order: scope (404), a known action (400), the
    version the actor saw (409), the state (409), the role (403), the guards (403/422);
    then one conditional UPDATE plus the audit event, in one transaction."""
    report = get_report(actor, report_id)
    if not isinstance(action, str) or action not in {t.action for t in TRANSITIONS}:
        raise BadInput("unknown_action", action=str(action)[:40])
    comment_text = None
    if comment not in (None, ""):
        comment_text = clean_text(comment, field="comment", max_chars=MAX_COMMENT_CHARS, required=False) or None
    seen = _check_version(report, version)
    t = transition_for(report.state, action)
    if t is None:
        raise Conflict("action_not_possible", action=action, state=report.state, details={"state": report.state})
    if t.role not in roles_for(actor, report.org_unit):
        raise Forbidden("action_not_allowed")
    ctx = GuardContext(actor, report, comment_text)
    for name in t.guards:
        error = GUARDS[name](ctx)
        if error:
            if name in DUTY_GUARDS:
                _record_refusal(actor, report, action, error)
            raise error
    current = report.current
    from_state = report.state
    values: dict[str, Any] = {"state": t.target}
    if action == "submit":
        values["submitted_by_id"] = actor.id
    if t.target == DRAFT:
        values["content_number"] = current.number + 1
    # End the read-only part: SQLite then takes its write lock at the UPDATE (waiting on a
    # busy timeout), and PostgreSQL row-locks the report there; the WHERE re-checks all we read.
    db.session.commit()
    try:
        _locked_update(report, seen, from_state, **values)
        _apply_effects(actor, report, t, current)
        audit.append(report, actor, action, from_state, t.target, current.number, current.content_sha256, comment_text)
        _emit_transition(actor, report, t, from_state, current, comment_text)
        db.session.commit()
    except DomainError:
        raise
    except Exception:
        db.session.rollback()
        raise
    db.session.expire_all()
    return get_report(actor, report.id)


def _record_refusal(actor: User, report: Report, action: str, error: DomainError) -> None:
    """A refusal on separation of duties is itself audited (in the admin audit trail, which
    the report's district admins read): someone tried to approve their own work."""
    audit.append_admin(actor, f"{action}_refused", f"report:{report.id}", org_unit_id=report.org_unit_id,
                       reason=error.reason, state=report.state, version=report.content_number)
    db.session.commit()


# The event each transition writes (withdraw writes none: nobody waits on it).
_TRANSITION_EVENTS = {
    ("submit", TOWN_REVIEW): events.REPORT_SUBMITTED,
    ("approve", DISTRICT_REVIEW): events.REPORT_APPROVED,
    ("return", DRAFT): events.REPORT_RETURNED,
    ("approve", PUBLISHED): events.REPORT_PUBLISHED,
}


def _emit_transition(actor: User, report: Report, t: Transition, from_state: str, current: ReportVersion,
                     comment: str | None) -> None:
    """The domain event of a transition, in its transaction. Subscribers run after commit:
    notifications, and for a publication the signed-PDF job."""
    kind = _TRANSITION_EVENTS.get((t.action, t.target))
    if kind is None:
        return
    payload: dict[str, Any] = {"from_state": from_state, "to_state": t.target, "version": current.number,
                               "title": current.title}
    if kind == events.REPORT_RETURNED:
        payload.update(reason=comment, submitter_id=report.submitted_by_id)
    if kind == events.REPORT_PUBLISHED:
        payload["publication_id"] = db.session.scalar(
            select(Publication.id).where(Publication.report_version_id == current.id))
    events.emit(kind, report_id=report.id, org_unit_id=report.org_unit_id, actor_id=actor.id, **payload)


def _apply_effects(actor: User, report: Report, t: Transition, current: ReportVersion) -> None:
    """What a transition does besides the state: freeze, open a new draft, or queue the PDF."""
    now = utcnow()
    if t.action == "submit":
        db.session.execute(update(ReportVersion).where(ReportVersion.id == current.id)
                           .values(frozen_at=now, submitted_by_id=actor.id))
    elif t.target == DRAFT:
        db.session.add(ReportVersion(
            report_id=report.id, number=current.number + 1, title=current.title, outline=current.outline,
            content_sha256=current.content_sha256, problems=current.problems, created_by_id=actor.id,
        ))
    elif t.target == PUBLISHED:
        district = district_of(report.org_unit)
        db.session.add(Publication(
            report_id=report.id, report_version_id=current.id, district_id=district.id,
            content_sha256=current.content_sha256, status=PublicationStatus.QUEUED,
        ))


# ---------------------------------------------------------------- content


def _validate_meta(org_unit_id: Any, kind: Any, year: Any) -> tuple[int, str, int]:
    if kind not in KINDS:
        raise BadInput("unknown_kind", kind=str(kind)[:40], expected=list(KINDS))
    if isinstance(year, bool):
        raise BadInput("not_an_integer", field="year")
    try:
        year_i = int(year)
    except (TypeError, ValueError):
        raise BadInput("not_an_integer", field="year") from None
    if not year_in_range(year_i):
        raise BadInput("year_out_of_range", min=YEAR_MIN, max=YEAR_MAX)
    if isinstance(org_unit_id, bool):
        raise BadInput("not_an_integer", field="org_unit_id")
    try:
        unit_i = int(org_unit_id)
    except (TypeError, ValueError):
        raise BadInput("not_an_integer", field="org_unit_id") from None
    return unit_i, kind, year_i


@dataclass
class Saved:
    report: Report
    dropped_lines: list[str]
    repairs: dict[str, int] = field(default_factory=dict)  # see workflow.importer.Imported


def create_report(actor: User, *, org_unit_id: Any, kind: Any = None, year: Any = None, title: Any = None,
                  text: Any = None, outline: Any = None, docx: bytes | None = None, cycle_id: Any = None) -> Saved:
    """A new draft for a town, by an author of that town. With ``cycle_id`` the report joins
    that cycle: kind and year come from it, and its template (for an annual report: the town's
    published plan of the year, ``workflow.plan_check.scaffold``) is the content unless text,
    an outline or a .docx is given (``workflow.cycles.cycle_for_new_report`` checks the rest)."""
    cycle = None
    if cycle_id is not None:
        from .cycles import cycle_for_new_report

        cycle = cycle_for_new_report(actor, cycle_id, org_unit_id=org_unit_id, kind=kind, year=year)
        kind, year = cycle.kind, cycle.year
    unit_i, kind_s, year_i = _validate_meta(org_unit_id, kind, year)
    unit = db.session.get(OrgUnit, unit_i) if 0 < unit_i < 2**62 else None
    if unit is None or not can_see_unit(actor, unit):
        raise NotFound("org_unit")
    if unit.kind not in TOWN_KINDS:
        raise Invalid("not_a_town")
    if AUTHOR not in roles_for(actor, unit):
        raise Forbidden("create_not_author")
    if cycle is not None and text is None and outline is None and docx is None:
        # An annual report starts from the town's published plan of the year, else the cycle's template.
        outline = plan_scaffold(unit, kind_s, year_i) or cycle.template
    imported = imported_from(text=text, outline=outline, docx=docx)
    content = imported.outline
    title_s = _new_title(title, imported.title, from_docx=docx is not None)
    report = Report(org_unit_id=unit.id, org_path=unit.path, kind=kind_s, year=year_i, title=title_s, state=DRAFT,
                    version=1, content_number=1, created_by_id=actor.id, cycle_id=cycle.id if cycle else None,
                    editor_ids=[actor.id])
    db.session.add(report)
    try:
        db.session.flush()
    except IntegrityError:  # the town's report in this cycle was created meanwhile
        db.session.rollback()
        raise Conflict("cycle_report_exists") from None
    sha = content_sha256(title_s, content)
    db.session.add(ReportVersion(report_id=report.id, number=1, title=title_s, outline=content,
                                 content_sha256=sha, problems=problems_for(title_s, content),
                                 created_by_id=actor.id))
    search.index_report(report.id, title_s, content)
    audit.append(report, actor, "create", None, DRAFT, 1, sha, None)
    db.session.commit()
    return Saved(get_report(actor, report.id), imported.dropped, imported.repairs)


@dataclass
class Checked:
    """The problems of content that is not saved, and the outline they were found in."""

    problems: list[dict]
    outline: Mapping[str, Any]


def check_content(actor: User, *, title: Any = None, text: Any = None, outline: Any = None,
                  report_id: Any = None) -> Checked:
    """Check content without saving it: the editor re-checks the text as the author types.

    Nothing is stored or audited (nothing changes); the caller is a signed-in user. With
    ``report_id`` (a report the actor may see, else NotFound) the section ids follow that
    report's current content, so that problems point at the sections the author knows;
    blank text has no problems.
    """
    previous = get_report(actor, report_id).current.outline if report_id is not None else None
    title_s = clean_line(title, field="title", max_chars=MAX_TITLE_CHARS, required=False) if title is not None else ""
    if isinstance(text, str) and not text.strip() and outline is None:
        return Checked(problems_for(title_s, {"preamble": [], "sections": [], "closing": []}),
                       {"preamble": [], "sections": [], "closing": []})
    content = imported_from(text=text, outline=outline, previous=previous).outline
    return Checked(problems_for(title_s, content), content)


def _new_title(title: Any, docx_title: str | None, *, from_docx: bool) -> str:
    """The title given, else (for a .docx) its paragraphs in Word's Title style."""
    if from_docx and (title is None or (isinstance(title, str) and not title.strip())):
        if docx_title is None:
            raise BadInput("docx_no_title")
        title = docx_title[:MAX_TITLE_CHARS]
    return clean_line(title, field="title", max_chars=MAX_TITLE_CHARS)


# The draft's new content goes in as parameters, not as values inside the statement: SQLAlchemy's
# compiled cache keeps the first statement of each shape, with its values, for the process's life
# (here a whole report's outline and problems). On the table, not the entity: nothing in the
# session is synchronised (the caller expires it after the commit).
_versions = ReportVersion.__table__
_SAVE_DRAFT = (update(_versions).where(_versions.c.id == bindparam("draft_id"), _versions.c.frozen_at.is_(None))
               .values(title=bindparam("draft_title"), outline=bindparam("draft_outline"),
                       content_sha256=bindparam("draft_sha256"), problems=bindparam("draft_problems"),
                       updated_at=bindparam("draft_updated_at")))


def update_draft(actor: User, report_id: Any, *, version: Any, title: Any = None, text: Any = None,
                 outline: Any = None, docx: bytes | None = None) -> Saved:
    """Save the working draft (a new lock version; section ids kept from the previous content)."""
    report = get_report(actor, report_id)
    seen = _check_version(report, version)
    if report.state not in EDITABLE_STATES:
        raise Conflict("not_a_draft", details={"state": report.state})
    if EDIT_ROLE not in roles_for(actor, report.org_unit):
        raise Forbidden("edit_not_author")
    draft = report.current
    title_s = clean_line(title, field="title", max_chars=MAX_TITLE_CHARS) if title is not None else draft.title
    content: Mapping[str, Any]
    imported = None
    if (text is None or is_unchanged_text(text, draft.outline)) and outline is None and docx is None:
        content = draft.outline
    else:
        imported = imported_from(text=text, outline=outline, docx=docx, previous=draft.outline)
        content = imported.outline
    problems = problems_for(title_s, content)
    editors = list(report.editor_ids or [])
    if actor.id not in editors:
        editors.append(actor.id)  # read before the lock; the conditional UPDATE re-checks the version
    db.session.commit()
    _locked_update(report, seen, DRAFT, title=title_s, editor_ids=editors)
    db.session.execute(_SAVE_DRAFT, {"draft_id": draft.id, "draft_title": title_s, "draft_outline": content,
                                     "draft_sha256": content_sha256(title_s, content), "draft_problems": problems,
                                     "draft_updated_at": utcnow()})
    search.index_report(report.id, title_s, content)
    db.session.commit()
    db.session.expire_all()
    if imported is None:
        return Saved(get_report(actor, report.id), [])
    return Saved(get_report(actor, report.id), imported.dropped, imported.repairs)


# ---------------------------------------------------------------- comments


def add_comment(actor: User, report_id: Any, *, body: Any, section_id: Any = None) -> Comment:
    """A comment on the report or one of its sections. A reviewer's comment while the report
    is under review is a review comment the town must answer; anyone else's is a note."""
    report = get_report(actor, report_id)
    if report.state == PUBLISHED:
        raise Conflict("published_no_comments")
    text = clean_text(body, field="body", max_chars=MAX_COMMENT_CHARS)
    sid = None
    if section_id not in (None, ""):
        if not isinstance(section_id, str) or len(section_id) > 64:
            raise BadInput("invalid_section_id")
        if section_id not in _section_ids(report.current.outline):
            raise Invalid("no_such_section", details={"section_id": section_id})
        sid = section_id
    roles = roles_for(actor, report.org_unit)
    reviewer_roles = {t.role for t in transitions_from(report.state) if t.action == "return"}
    status = (CommentStatus.OPEN if roles & reviewer_roles else CommentStatus.NOTE).value
    comment = Comment(report_id=report.id, version_number=report.content_number, section_id=sid,
                      author_id=actor.id, body=text, status=status)
    db.session.add(comment)
    db.session.flush()
    events.emit(events.COMMENT_ADDED, report_id=report.id, org_unit_id=report.org_unit_id, actor_id=actor.id,
                comment_id=comment.id, by_reviewer=bool(roles & {t.role for t in TRANSITIONS if t.needs_comment}),
                state=report.state, title=report.title)
    db.session.commit()
    return comment


def answer_comment(actor: User, report_id: Any, comment_id: Any, *, status: Any, answer: Any) -> Comment:
    """The town's answer to a review comment: adopted (采纳) or explained (说明), with text."""
    report = get_report(actor, report_id)
    cid = _int_filter(comment_id, "comment_id")
    comment = db.session.get(Comment, cid) if cid and 0 < cid < 2**62 else None
    if comment is None or comment.report_id != report.id:
        raise NotFound("comment")
    if status not in COMMENT_ANSWERS:
        raise BadInput("unknown_answer_status")
    if AUTHOR not in roles_for(actor, report.org_unit):
        raise Forbidden("answer_not_author")
    if report.state != DRAFT:
        raise Conflict("answer_not_draft")
    text = clean_text(answer, field="answer", max_chars=MAX_COMMENT_CHARS)
    result = db.session.execute(
        update(Comment).where(Comment.id == comment.id, Comment.status == CommentStatus.OPEN.value)
        .values(status=status, answer=text, answered_by_id=actor.id, answered_at=utcnow(),
                answer_version_number=report.content_number)
    )
    if rowcount(result) != 1:
        db.session.rollback()
        raise Conflict("comment_answered")
    db.session.commit()
    db.session.refresh(comment)
    return comment


def _section_ids(outline: dict) -> set[str]:
    ids: set[str] = set()
    stack = list(outline.get("sections", []))
    while stack:
        s = stack.pop()
        ids.add(s.get("id"))
        stack.extend(s.get("children", []))
    return ids


# ---------------------------------------------------------------- versions and differences


def versions_with_submitters(report: Report) -> list[tuple[ReportVersion, User | None]]:
    """The report's content versions, oldest first, each with whoever submitted it (None
    for the working draft). One query whatever the number of versions."""
    versions = sorted(report.versions, key=lambda v: v.number)
    ids = {v.submitted_by_id for v in versions if v.submitted_by_id is not None}
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}
    return [(v, users.get(v.submitted_by_id) if v.submitted_by_id is not None else None) for v in versions]


def last_returned_version(events: Sequence[AuditEvent]) -> int | None:
    """The version the last return sent back (a reviewer's point of comparison), from the history."""
    for event in reversed(events):
        if event.action == "return":
            return event.version_number
    return None


@dataclass
class DiffRange:
    old: ReportVersion
    new: ReportVersion
    since_return: bool  # old is the version last returned and new the current one


def diff_range(report: Report, from_number: Any = None, to_number: Any = None,
               events: Sequence[AuditEvent] | None = None) -> DiffRange:
    """The two versions to compare. By default ``to`` is the current version and ``from`` the
    version last returned (what changed since the return), else the one before ``to``.
    ``events`` is the report's history when the caller has it already (saves a query)."""
    returned = last_returned_version(history(report) if events is None else events)
    to_n = _int_filter(to_number, "to") or report.content_number
    from_n = _int_filter(from_number, "from")
    if from_n is None:
        if returned is not None and returned < to_n:
            from_n, since_return = returned, True
        else:
            from_n, since_return = max(to_n - 1, 1), False
    else:
        since_return = from_n == returned and to_n == report.content_number
    return DiffRange(version_of(report, from_n), version_of(report, to_n), since_return)
