"""The domain's rules about publishing: which unit signs, and who may retry a failed PDF.

The PDF layer (``pdf/``) asks these questions; it does not answer them itself. So the
district that signs a report is the one whose key ``flask dev-keys`` creates, and the
button the report page shows is the permission the retry service checks.
"""
from __future__ import annotations

from sqlalchemy import or_, select

from .db import db
from .models import OrgUnit, Report, User
from .scope import is_admin_for
from .table import DISTRICT_KINDS


def signs(unit: OrgUnit) -> bool:
    """True for a unit that signs and numbers publications: a district-level unit, or the
    root of a tree (a town with no district above it is signed for by its root)."""
    return unit.kind in DISTRICT_KINDS or unit.parent_id is None


def district_of(unit: OrgUnit) -> OrgUnit:
    """The unit that signs the reports of ``unit``: the nearest district-level unit at or
    above it, else the root of its tree."""
    ids = [int(x) for x in unit.path.strip("/").split("/") if x]
    units = {u.id: u for u in db.session.scalars(select(OrgUnit).where(OrgUnit.id.in_(ids)))}
    return next(units[uid] for uid in reversed(ids) if signs(units[uid]))  # the root always signs


def signing_units() -> list[OrgUnit]:
    """Every unit that signs (see :func:`signs`), by id: the ones that need a signing key."""
    condition = or_(OrgUnit.kind.in_(DISTRICT_KINDS), OrgUnit.parent_id.is_(None))  # signs(), in SQL
    return list(db.session.scalars(select(OrgUnit).where(condition).order_by(OrgUnit.id)))


def may_retry_publication(user: User, report: Report) -> bool:
    """Whether ``user`` may start a failed publication of ``report`` again: an administrator
    whose scope covers the report's unit (the district's admin installs missing keys)."""
    return bool(getattr(user, "is_authenticated", False)) and is_admin_for(user, report.org_unit)
