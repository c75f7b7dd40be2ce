"""Bulk approval: a reviewer approves many reports in one request, each its own transition.

Every item goes through ``services.perform`` exactly as a single approval does: its own
scope check, version check, guards, conditional UPDATE, audit event and domain event, in its
own transaction. So an item either happened completely or not at all, and one stale,
changed or out-of-scope item fails alone — the answer says, item by item, what the single
action would have answered. Only approval is offered in bulk: a return needs its own reason.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, select

from . import services
from .content import MAX_COMMENT_CHARS, blocking, clean_text
from .db import db
from .errors import BadInput, DomainError, TooLarge
from .models import Comment, OrgUnit, Report, ReportVersion, User
from .scope import positions, report_filter, roles_for
from .table import TRANSITIONS, CommentStatus, transition_for

# The actions offered in bulk, and how many items one request may carry.
BULK_ACTIONS: tuple[str, ...] = ("approve",)
MAX_ITEMS = 100


@dataclass
class ItemResult:
    """One item's outcome: the report after the action, or the error the single action raised."""

    report_id: Any
    report: Report | None = None
    error: DomainError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def status(self) -> int:
        """The HTTP status the single action would have answered."""
        return 200 if self.error is None else self.error.status


def check_request(action: Any, count: int) -> None:
    """Refuse the whole request (changing nothing) for an action not offered in bulk, no
    items, or too many."""
    if action not in BULK_ACTIONS:
        raise BadInput("bulk_action_not_offered", action=str(action)[:40], offered=list(BULK_ACTIONS))
    if count < 1:
        raise BadInput("bulk_no_items")
    if count > MAX_ITEMS:
        raise TooLarge("bulk_too_many_items", count=count, limit=MAX_ITEMS)


def perform_each(actor: User, action: Any, items: Sequence[tuple[Any, Any]], *,
                 comment: Any = None) -> list[ItemResult]:
    """Take ``action`` on each ``(report_id, version)`` in order, each in its own transaction,
    with the same optional ``comment`` (the common opinion). Domain errors are the items'
    answers; anything else (the database gone) stops the run, the items before it standing."""
    check_request(action, len(items))
    if comment not in (None, ""):  # judged once: a comment too long fails the request, not every item
        comment = clean_text(comment, field="comment", max_chars=MAX_COMMENT_CHARS, required=False) or None
    results: list[ItemResult] = []
    for report_id, version in items:
        try:
            report = services.perform(actor, report_id, action, version=version, comment=comment)
        except DomainError as exc:
            db.session.rollback()
            results.append(ItemResult(report_id, error=exc))
        else:
            results.append(ItemResult(report_id, report=report))
    return results


# ---------------------------------------------------------------- what a list may offer


@dataclass(frozen=True)
class Approvable:
    """A report the actor may approve now, and whether it is clean: no open problem of
    severity error and no review comment still open ("select all clean" picks those)."""

    report_id: int
    version: int
    blocking_problems: int
    open_comments: int

    @property
    def clean(self) -> bool:
        return self.blocking_problems == 0 and self.open_comments == 0


def approvable(actor: User, reports: Iterable[Report]) -> dict[int, Approvable]:
    """Of the listed reports, those the actor may approve now (the workflow table and its
    guards decide, as on the report page), keyed by id. One query (none when there is
    nothing to approve), whatever the number of rows."""
    candidates = [r for r in reports if _may_now(actor, r)]
    if not candidates:
        return {}
    ids = [r.id for r in candidates]
    open_comments = (select(func.count(Comment.id))
                     .where(Comment.report_id == ReportVersion.report_id, Comment.status == CommentStatus.OPEN.value)
                     .correlate(ReportVersion).scalar_subquery())
    rows = db.session.execute(
        select(ReportVersion.report_id, ReportVersion.problems, open_comments)
        .join(Report, and_(Report.id == ReportVersion.report_id, Report.content_number == ReportVersion.number))
        .where(ReportVersion.report_id.in_(ids))).all()
    found = {rid: (len(blocking(problems or [])), comments or 0) for rid, problems, comments in rows}
    return {r.id: Approvable(r.id, r.version, *found.get(r.id, (0, 0))) for r in candidates}


def approvable_rows(actor: User, rows: Sequence[Any]) -> dict[int, Approvable]:
    """``approvable`` for the rows of a list (``listing.list_reports(summary=True)``: ids and
    states, not objects): the reports are loaded only for the rows in a state from which one
    of the actor's roles (anywhere) has a bulk action — none for an actor who approves
    nothing (an admin), one query otherwise, plus ``approvable``'s."""
    held = {p.role for p in positions(actor)}
    states = {t.source for t in TRANSITIONS if t.action in BULK_ACTIONS and t.role in held}
    wanted = [r.id for r in rows if r.state in states]
    if not wanted:
        return {}
    reports = db.session.scalars(select(Report).where(Report.id.in_(wanted))).all()
    return approvable(actor, sorted(reports, key=lambda r: wanted.index(r.id)))


def _may_now(actor: User, report: Report) -> bool:
    """Whether a bulk action is the actor's to take on the report now. The table is asked
    first, so that the guards (some of which query) run only where the actor holds the role."""
    roles = roles_for(actor, report.org_unit)
    reachable = {a for a in BULK_ACTIONS if (t := transition_for(report.state, a)) is not None and t.role in roles}
    return bool(reachable) and any(o.action in reachable and o.allowed for o in services.action_options(actor, report))


def reports_by_id(actor: User, ids: Iterable[Any]) -> dict[int, Report]:
    """The reports of ``ids`` that the actor sees (to name the items of a result), one query."""
    wanted = {i for i in ids if isinstance(i, int) and 0 < i < 2**62}
    if not wanted:
        return {}
    rows = db.session.scalars(select(Report).join(OrgUnit, Report.org_unit_id == OrgUnit.id)
                              .where(Report.id.in_(wanted), report_filter(actor))).all()
    return {r.id: r for r in rows}
