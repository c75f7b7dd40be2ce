"""Administration services: the org tree, users and positions. Admin scope is the
admin's subtree, checked here (not only in templates): for units, and for users (an admin
changes the positions only of users whose every position lies in their subtree). Nobody
grants themselves a role. Every grant and revoke, and every refused one, is a link of the
admin audit chain (``workflow.audit.append_admin``)."""
from __future__ import annotations

import csv
import io
import re
from typing import Any

from sqlalchemy import ColumnElement, false, or_, select
from sqlalchemy.exc import IntegrityError

from . import audit
from .content import clean_line
from .db import db
from .errors import BadInput, Conflict, DomainError, Forbidden, Invalid, NotFound
from .models import AdminAudit, OrgUnit, Position, User
from .passwords import check_new_password
from .scope import can_see_unit, is_admin_for, positions, unit_filter
from .table import ADMIN, ORG_KINDS, ROLE_UNIT_KINDS, ROLES, child_kinds

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.-]{2,64}$")
DIVISION_RE = re.compile(r"^\d{12}$")


def visible_units(actor: User) -> list[OrgUnit]:
    """The org units the actor sees, in tree order (one query)."""
    return list(db.session.scalars(select(OrgUnit).where(unit_filter(actor)).order_by(OrgUnit.path)))


def _require_admin(actor: User | None, unit: OrgUnit) -> None:
    if actor is not None and not is_admin_for(actor, unit):
        raise Forbidden("not_unit_admin")


def add_org_unit(actor: User | None, *, name: Any, kind: Any, parent_id: Any = None,
                 division_code: Any = None) -> OrgUnit:
    """A new unit under ``parent_id`` (``actor`` None: the CLI, which may create roots)."""
    name_s = clean_line(name, field="name", max_chars=100)
    if kind not in ORG_KINDS:
        raise BadInput("unknown_org_kind", kind=str(kind)[:20])
    code = None
    if division_code not in (None, ""):
        code = str(division_code).strip()
        if not DIVISION_RE.match(code):
            raise BadInput("division_code_format")
        if db.session.scalar(select(OrgUnit.id).where(OrgUnit.division_code == code)):
            raise Conflict("division_code_taken", code=code)
    parent = None
    if parent_id not in (None, ""):
        parent = db.session.get(OrgUnit, int(parent_id))
        if parent is None or (actor is not None and not can_see_unit(actor, parent)):
            raise NotFound("parent_unit")
        _require_admin(actor, parent)
    elif actor is not None:
        raise Forbidden("unit_outside_tree")
    if parent is not None and kind not in child_kinds(parent.kind):
        raise Invalid("org_kind_under_parent", parent=parent.name)
    if name_taken(parent.id if parent else None, name_s):
        raise Conflict("org_unit_name_taken", name=name_s, parent=parent.name if parent else "")
    unit = OrgUnit(name=name_s, kind=kind, division_code=code, parent_id=parent.id if parent else None)
    db.session.add(unit)
    try:
        db.session.flush()
    except IntegrityError:  # the same name added at the same moment (the unique index)
        db.session.rollback()
        raise Conflict("org_unit_name_taken", name=name_s, parent=parent.name if parent else "") from None
    unit.path = f"{parent.path if parent else '/'}{unit.id}/"
    db.session.commit()
    return unit


def set_issuing_names(actor: User | None, org_unit_id: Any, *, issuing_name: Any, doc_prefix: Any) -> OrgUnit:
    """Set a unit's 发文机关全称 (``issuing_name``, e.g. 青山镇人民政府) and the prefix of its
    发文字号 (``doc_prefix``, e.g. 青政), printed on its published reports; empty restores the
    default (``OrgUnit.issuing_name_or_default``, ``doc_prefix_or_default``). An admin of
    the unit only; audited (old and new values). Reports published before keep what they printed."""
    uid = _existing_unit_id(org_unit_id)
    unit = db.session.get(OrgUnit, uid) if uid is not None else None
    if unit is None or (actor is not None and not can_see_unit(actor, unit)):
        raise NotFound("org_unit")
    _require_admin(actor, unit)
    name = clean_line(issuing_name if issuing_name is not None else "", field="issuing_name", max_chars=100,
                      required=False) or None
    prefix = clean_line(doc_prefix if doc_prefix is not None else "", field="doc_prefix", max_chars=20,
                        required=False) or None
    before = {"issuing_name": unit.issuing_name, "doc_prefix": unit.doc_prefix}
    unit.issuing_name, unit.doc_prefix = name, prefix
    audit.append_admin(actor, "unit_issuing_names_set", f"org_unit:{unit.id}", org_unit_id=unit.id, before=before,
                       after={"issuing_name": name, "doc_prefix": prefix})
    db.session.commit()
    return unit


def name_taken(parent_id: int | None, name: str) -> bool:
    """Whether ``parent_id`` (None: the roots) already has a unit called ``name``."""
    parent = OrgUnit.parent_id.is_(None) if parent_id is None else OrgUnit.parent_id == parent_id
    return db.session.scalar(select(OrgUnit.id).where(parent, OrgUnit.name == name).limit(1)) is not None


def import_org_units_csv(data: str) -> tuple[int, int]:
    """CSV with header ``name,kind,division_code,parent_code`` (parent by division code,
    empty for a root). Rows whose division code exists are skipped. Returns (added, skipped)."""
    reader = csv.DictReader(io.StringIO(data))
    missing = {"name", "kind", "division_code", "parent_code"} - set(reader.fieldnames or [])
    if missing:
        raise BadInput("csv_missing_columns", columns=sorted(missing))
    added = skipped = 0
    for lineno, row in enumerate(reader, start=2):
        code = (row["division_code"] or "").strip()
        if code and db.session.scalar(select(OrgUnit.id).where(OrgUnit.division_code == code)):
            skipped += 1
            continue
        parent_id = None
        if (row["parent_code"] or "").strip():
            parent_id = db.session.scalar(select(OrgUnit.id).where(OrgUnit.division_code == row["parent_code"].strip()))
            if parent_id is None:
                raise BadInput("csv_unknown_parent", line=lineno, parent_code=row["parent_code"].strip())
        try:
            add_org_unit(None, name=row["name"], kind=(row["kind"] or "").strip(), parent_id=parent_id,
                         division_code=code or None)
        except BadInput as exc:
            raise BadInput("csv_line", line=lineno,
                           error={"code": exc.code, "reason": exc.reason, "params": exc.params}) from exc
        added += 1
    return added, skipped


def create_user(actor: User | None, *, username: Any, display_name: Any, password: Any,
                password_hash: str | None = None) -> User:
    """A new account. ``password_hash``: the hash of ``password``, computed already by the caller
    (the demo's accounts share one password: one scrypt instead of six at ``make run``'s first
    start); never from a request."""
    if not isinstance(username, str) or not USERNAME_RE.match(username):
        raise BadInput("username_format")
    check_new_password(password, username=username)
    if actor is not None and not is_admin(actor):
        raise Forbidden("admins_only")
    if db.session.scalar(select(User.id).where(User.username == username)):
        raise Conflict("username_taken", username=username)
    user = User(username=username, display_name=clean_line(display_name or username, field="display_name",
                                                           max_chars=100))
    if password_hash is not None:
        user.password_hash = password_hash
    else:
        user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


def position_unit(actor: User | None, *, org_unit_id: Any, role: Any) -> OrgUnit:
    """The unit a position would be held at, once the role fits it and the actor may grant it."""
    if role not in ROLES:
        raise BadInput("unknown_role", role=str(role)[:20])
    unit = db.session.get(OrgUnit, int(org_unit_id))
    if unit is None or (actor is not None and not can_see_unit(actor, unit)):
        raise NotFound("org_unit")
    _require_admin(actor, unit)
    if unit.kind not in ROLE_UNIT_KINDS[role]:
        raise BadInput("role_not_at_unit", role=role, unit=unit.name, kind=unit.kind)
    return unit


def grant_position(actor: User | None, *, user_id: Any, org_unit_id: Any, role: Any) -> Position:
    """Give ``user_id`` the role at the unit (``actor`` None: the command line). Audited,
    and so is a refusal on scope or separation of duties."""
    try:
        unit = position_unit(actor, org_unit_id=org_unit_id, role=role)
        if actor is not None and str(user_id).strip() == str(actor.id):
            raise Forbidden("self_grant")
        user = _manageable_user(actor, user_id)
    except (Forbidden, NotFound) as exc:
        _refused(actor, "grant_refused", exc, user_id=user_id, org_unit_id=org_unit_id, role=str(role)[:20])
        raise
    if db.session.scalar(select(Position.id).where(Position.user_id == user.id, Position.org_unit_id == unit.id,
                                                   Position.role == role)):
        raise Conflict("position_exists")
    position = Position(user_id=user.id, org_unit_id=unit.id, role=role)
    db.session.add(position)
    db.session.flush()
    audit.append_admin(actor, "position_granted", f"user:{user.id}", org_unit_id=unit.id, role=role,
                       position_id=position.id)
    db.session.commit()
    return position


def revoke_position(actor: User, position_id: Any, *, user_id: Any = None) -> None:
    """End a position (of ``user_id``, when given: a position of someone else answers NotFound).
    Audited, and so is a refusal on scope."""
    pid = int(position_id)
    position = db.session.get(Position, pid) if 0 < pid < 2**62 else None
    if position is None or not can_see_unit(actor, position.org_unit) \
            or (user_id is not None and position.user_id != int(user_id)):
        raise NotFound("position")
    try:
        _require_admin(actor, position.org_unit)
        _manageable_user(actor, position.user_id)
    except (Forbidden, NotFound) as exc:
        _refused(actor, "revoke_refused", exc, user_id=position.user_id, org_unit_id=position.org_unit_id,
                 role=position.role)
        raise
    audit.append_admin(actor, "position_revoked", f"user:{position.user_id}", org_unit_id=position.org_unit_id,
                       role=position.role, position_id=position.id)
    db.session.delete(position)
    db.session.commit()


def _manageable_user(actor: User | None, user_id: Any) -> User:
    """The user whose positions the actor may change: in the admin's scope (else NotFound, as
    for a missing one) and holding no position outside the admin's subtree (else Forbidden)."""
    if actor is None:
        user = db.session.get(User, int(user_id))
        if user is None:
            raise NotFound("user")
        return user
    user = user_in_scope(actor, user_id)
    if not all(is_admin_for(actor, p.org_unit) for p in user.positions):
        raise Forbidden("user_outside_subtree")
    return user


def _refused(actor: User | None, action: str, exc: DomainError, *, user_id: Any, org_unit_id: Any,
             role: str) -> None:
    """Record a refused grant or revoke (its own transaction: the refusal raises next)."""
    if actor is None:
        return
    db.session.rollback()
    unit = _existing_unit_id(org_unit_id)
    audit.append_admin(actor, action, f"user:{str(user_id)[:40]}", org_unit_id=unit, role=role,
                       reason=exc.reason, requested_unit=str(org_unit_id)[:20])
    db.session.commit()


def _existing_unit_id(org_unit_id: Any) -> int | None:
    try:
        uid = int(org_unit_id)
    except (TypeError, ValueError):
        return None
    return uid if 0 < uid < 2**62 and db.session.get(OrgUnit, uid) is not None else None


def record_of(actor: User, user: User, limit: int = 20) -> list[AdminAudit]:
    """The admin audit lines about ``user`` (grants, revokes, refusals, account changes),
    newest first: those at units of the actor's admin subtree, and those of no unit."""
    in_scope = AdminAudit.org_unit_id.in_(select(OrgUnit.id).where(unit_filter(actor, {ADMIN})))
    return list(db.session.scalars(
        select(AdminAudit).where(AdminAudit.target == f"user:{user.id}",
                                 or_(in_scope, AdminAudit.org_unit_id.is_(None)))
        .order_by(AdminAudit.seq.desc()).limit(limit)))


# ---------------------------------------------------------------- an admin's scope


def is_admin(actor: User | None) -> bool:
    """True when the actor holds an admin position somewhere (the administration pages are theirs)."""
    return actor is not None and any(p.role == ADMIN for p in positions(actor))


def manageable_units(actor: User) -> list[OrgUnit]:
    """The units where the actor may add units and grant positions, in tree order."""
    return [u for u in visible_units(actor) if is_admin_for(actor, u)]


def _users_in_scope(actor: User) -> ColumnElement[bool]:
    """Users holding a position in the admin's subtree, plus users with no position yet
    (just created, not yet placed). Nobody for someone who is not an admin."""
    if not is_admin(actor):
        return false()
    held = select(Position.user_id).join(Position.org_unit).where(unit_filter(actor, {ADMIN}))
    anyone = select(Position.user_id)
    return or_(User.id.in_(held), User.id.not_in(anyone))


def users_in_scope(actor: User) -> list[User]:
    """The users an admin sees and manages, by username."""
    return list(db.session.scalars(select(User).where(_users_in_scope(actor)).order_by(User.username)))


def user_in_scope(actor: User, user_id: Any) -> User:
    """One user the admin manages, or NotFound (absent and out of scope answer alike)."""
    try:
        uid = int(user_id)
    except (TypeError, ValueError):
        raise NotFound("user") from None
    user = db.session.scalar(select(User).where(User.id == uid, _users_in_scope(actor))) if 0 < uid < 2**62 else None
    if user is None:
        raise NotFound("user")
    return user
