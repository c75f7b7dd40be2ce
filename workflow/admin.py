"""Administration services: the org tree, users and positions. Admin scope is the
admin's subtree, checked here (not only in templates)."""
from __future__ import annotations

import csv
import io
import re
from typing import Any

from sqlalchemy import select

from .content import clean_line
from .db import db
from .errors import BadInput, Conflict, Forbidden, NotFound
from .models import OrgUnit, Position, User
from .scope import can_see_unit, is_admin_for, unit_filter
from .table import ADMIN, ORG_KINDS, ROLE_UNIT_KINDS, ROLES

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.-]{2,64}$")
DIVISION_RE = re.compile(r"^\d{12}$")
MIN_PASSWORD = 8


def visible_units(actor: User) -> list[OrgUnit]:
    """The org units the actor sees, in tree order (one query)."""
    return list(db.session.scalars(select(OrgUnit).where(unit_filter(actor)).order_by(OrgUnit.path)))


def _require_admin(actor: User | None, unit: OrgUnit) -> None:
    if actor is not None and not is_admin_for(actor, unit):
        raise Forbidden("需要该单位的管理员权限 / you are not an admin of this unit")


def add_org_unit(actor: User | None, *, name: Any, kind: Any, parent_id: Any = None,
                 division_code: Any = None) -> OrgUnit:
    """A new unit under ``parent_id`` (``actor`` None: the CLI, which may create roots)."""
    name_s = clean_line(name, field="name", max_chars=100)
    if kind not in ORG_KINDS:
        raise BadInput(f"未知单位类型 / unknown kind: {str(kind)[:20]}")
    code = None
    if division_code not in (None, ""):
        code = str(division_code).strip()
        if not DIVISION_RE.match(code):
            raise BadInput("统计用区划代码应为 12 位数字 / the division code has 12 digits")
        if db.session.scalar(select(OrgUnit.id).where(OrgUnit.division_code == code)):
            raise Conflict(f"区划代码已存在 / division code {code} exists already")
    parent = None
    if parent_id not in (None, ""):
        parent = db.session.get(OrgUnit, int(parent_id))
        if parent is None or (actor is not None and not can_see_unit(actor, parent)):
            raise NotFound("上级单位不存在 / parent not found")
        _require_admin(actor, parent)
    elif actor is not None:
        raise Forbidden("只能在本辖区内新增单位 / units are added inside your own tree")
    unit = OrgUnit(name=name_s, kind=kind, division_code=code, parent_id=parent.id if parent else None)
    db.session.add(unit)
    db.session.flush()
    unit.path = f"{parent.path if parent else '/'}{unit.id}/"
    db.session.commit()
    return unit


def import_org_units_csv(data: str) -> tuple[int, int]:
    """CSV with header ``name,kind,division_code,parent_code`` (parent by division code,
    empty for a root). Rows whose division code exists are skipped. Returns (added, skipped)."""
    reader = csv.DictReader(io.StringIO(data))
    missing = {"name", "kind", "division_code", "parent_code"} - set(reader.fieldnames or [])
    if missing:
        raise BadInput(f"CSV 缺少列 / CSV misses columns: {', '.join(sorted(missing))}")
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
                raise BadInput(f"第 {lineno} 行：上级区划代码 {row['parent_code']} 不存在 / line {lineno}: unknown parent_code")
        try:
            add_org_unit(None, name=row["name"], kind=(row["kind"] or "").strip(), parent_id=parent_id,
                         division_code=code or None)
        except BadInput as exc:
            raise BadInput(f"第 {lineno} 行 / line {lineno}: {exc.message}")
        added += 1
    return added, skipped


def create_user(actor: User | None, *, username: Any, display_name: Any, password: Any) -> User:
    if not isinstance(username, str) or not USERNAME_RE.match(username):
        raise BadInput("用户名须为 2–64 位字母、数字、._- / username: 2–64 letters, digits or ._-")
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise BadInput(f"密码至少 {MIN_PASSWORD} 位 / password needs at least {MIN_PASSWORD} characters")
    if actor is not None and not any(p.role == ADMIN for p in actor.positions):
        raise Forbidden("需要管理员权限 / admins only")
    if db.session.scalar(select(User.id).where(User.username == username)):
        raise Conflict(f"用户名已存在 / username {username} is taken")
    user = User(username=username, display_name=clean_line(display_name or username, field="display_name",
                                                           max_chars=100))
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


def position_unit(actor: User | None, *, org_unit_id: Any, role: Any) -> OrgUnit:
    """The unit a position would be held at, once the role fits it and the actor may grant it."""
    if role not in ROLES:
        raise BadInput(f"未知角色 / unknown role: {str(role)[:20]}")
    unit = db.session.get(OrgUnit, int(org_unit_id))
    if unit is None or (actor is not None and not can_see_unit(actor, unit)):
        raise NotFound("单位不存在 / org unit not found")
    _require_admin(actor, unit)
    if unit.kind not in ROLE_UNIT_KINDS[role]:
        raise BadInput(f"角色 {role} 不能设在{unit.name} / role {role} cannot be held at a {unit.kind}")
    return unit


def grant_position(actor: User | None, *, user_id: Any, org_unit_id: Any, role: Any) -> Position:
    unit = position_unit(actor, org_unit_id=org_unit_id, role=role)
    user = db.session.get(User, int(user_id))
    if user is None:
        raise NotFound("用户不存在 / user not found")
    if db.session.scalar(select(Position.id).where(Position.user_id == user.id, Position.org_unit_id == unit.id,
                                                   Position.role == role)):
        raise Conflict("该岗位已存在 / this position exists already")
    position = Position(user_id=user.id, org_unit_id=unit.id, role=role)
    db.session.add(position)
    db.session.commit()
    return position


def revoke_position(actor: User, position_id: Any) -> None:
    position = db.session.get(Position, int(position_id))
    if position is None or not can_see_unit(actor, position.org_unit):
        raise NotFound("岗位不存在 / position not found")
    _require_admin(actor, position.org_unit)
    db.session.delete(position)
    db.session.commit()


def users_in_scope(actor: User) -> list[User]:
    """Users holding a position in the admin's subtree, plus users with no position yet."""
    from sqlalchemy import or_

    held = select(Position.user_id).join(Position.org_unit).where(unit_filter(actor, {ADMIN}))
    anyone = select(Position.user_id)
    return list(db.session.scalars(
        select(User).where(or_(User.id.in_(held), User.id.not_in(anyone))).order_by(User.username)
    ))
