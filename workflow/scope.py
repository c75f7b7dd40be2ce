"""Scope: a position covers its org unit's subtree. Every service asks here, so that
an out-of-scope id answers exactly like a missing one (NotFound), in the UI and the API."""
from __future__ import annotations

from sqlalchemy import ColumnElement, and_, false, or_

from .models import OrgUnit, Position, Report, User, subtree_range
from .table import ADMIN


def positions(user: User) -> list[Position]:
    return list(user.positions) if user is not None and user.active else []


def roles_for(user: User, unit: OrgUnit) -> set[str]:
    """The roles the user holds at ``unit`` or above it."""
    return {p.role for p in positions(user) if p.org_unit.contains(unit)}


def can_see_unit(user: User, unit: OrgUnit) -> bool:
    return any(p.org_unit.contains(unit) for p in positions(user))


def is_admin_for(user: User, unit: OrgUnit) -> bool:
    return ADMIN in roles_for(user, unit)


def unit_filter(user: User, roles: set[str] | None = None) -> ColumnElement[bool]:
    """SQL condition on ``OrgUnit.path``: the units the user sees (optionally through some roles only)."""
    prefixes = {p.org_unit.path for p in positions(user) if roles is None or p.role in roles}
    if not prefixes:
        return false()
    # A range of the path per subtree: an index serves it (a LIKE only in SQLite's
    # case-sensitive mode, and in PostgreSQL only with a pattern operator class).
    return or_(*[path_within(OrgUnit.path, prefix) for prefix in sorted(prefixes)])


def report_filter(user: User, *, by_path_index: bool = True, roles: set[str] | None = None) -> ColumnElement[bool]:
    """SQL condition on ``Report`` alone for the reports a user sees (optionally through some
    roles only): one index range of ``Report.org_path`` per position, so a district's list
    reads the district's rows only. ``by_path_index=False``: the same condition, written so
    that no database reads it through the path index (for a scope so wide that walking the
    newest-activity index is cheaper)."""
    prefixes = report_prefixes(user, roles)
    if not prefixes:
        return false()
    column = Report.org_path if by_path_index else Report.org_path.concat("")
    return or_(*[path_within(column, prefix) for prefix in prefixes])


def report_prefixes(user: User, roles: set[str] | None = None) -> list[str]:
    """The paths of the subtrees whose reports the user sees (through ``roles`` only, if given),
    none inside another, sorted: what ``report_filter`` turns into index ranges."""
    return _outermost({p.org_unit.path for p in positions(user) if roles is None or p.role in roles})


def path_within(column, prefix: str) -> ColumnElement[bool]:
    """``column`` (a path) is ``prefix`` or below it, as a range an index serves."""
    low, high = subtree_range(prefix)
    return and_(column >= low, column < high)


def _outermost(prefixes: set[str]) -> list[str]:
    """The prefixes not inside another one (a position below another adds nothing)."""
    return [p for p in sorted(prefixes) if not any(p != q and p.startswith(q) for q in prefixes)]


def can_see_report(user: User, report: Report) -> bool:
    return can_see_unit(user, report.org_unit)
