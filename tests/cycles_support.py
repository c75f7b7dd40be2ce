"""Story helpers for reporting cycles: more towns with their own accounts, a cycle opened by
the district reviewer, and towns walked to each status of the matrix."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from tests.helpers import CLEAN_TEXT, act, get_user
from workflow import admin, cycles, services
from workflow.db import db
from workflow.events import OutboxEvent
from workflow.models import OrgUnit, Report, utcnow

# Four more towns of 示范区 (besides 青山镇 qs and 溪口镇 xk), each with an author and a reviewer.
EXTRA_TOWNS = {"sq": "石桥镇", "dl": "东岭乡", "nt": "南塘镇", "lw": "柳湾街道"}


def add_town(world, key: str, name: str, *, kind: str = "town", parent: str = "district",
             accounts: bool = True) -> int:
    """A town under ``parent`` with ``<key>_author`` and ``<key>_reviewer`` (needs an app context)."""
    from tests.helpers import PASSWORD

    unit = admin.add_org_unit(None, name=name, kind=kind, parent_id=world[parent])
    world.ids[key] = unit.id
    if accounts:
        for role, suffix in (("author", "author"), ("town_reviewer", "reviewer")):
            user = admin.create_user(None, username=f"{key}_{suffix}", display_name=f"{name}{suffix}",
                                     password=PASSWORD)
            admin.grant_position(None, user_id=user.id, org_unit_id=unit.id, role=role)
            world.ids[f"{key}_{suffix}"] = user.id
    return unit.id


def add_six_towns(world) -> None:
    """示范区 with six towns: 青山镇, 溪口镇 and the four of EXTRA_TOWNS."""
    for key, name in EXTRA_TOWNS.items():
        add_town(world, key, name, kind="subdistrict" if name.endswith("街道") else
                 "township" if name.endswith("乡") else "town")


def today_local() -> dt.date:
    return cycles.local_date(utcnow())


def open_plan_cycle(*, days: int = 7, username: str = "district_reviewer", district: int | None = None,
                    org_unit_ids=None, template=None, title: str = "2027年度工作计划", year: int = 2027):
    """The district reviewer opens "every town submits its 2027 annual plan in ``days`` days"."""
    if district is None:
        district = db.session.scalar(select(OrgUnit.id).where(OrgUnit.name == "示范区"))
    return cycles.open_cycle(get_user(username), org_unit_id=district, kind="annual_plan", year=year, title=title,
                             due_date=today_local() + dt.timedelta(days=days), instructions="请各镇按时报送。",
                             org_unit_ids=org_unit_ids, template=template)


def start(cycle_id: int, town_key: str, world, text: str = CLEAN_TEXT) -> Report:
    """The town's author starts its report from the cycle."""
    author = get_user(f"{town_key}_author")
    return services.create_report(author, org_unit_id=world[town_key], cycle_id=cycle_id,
                                  title=f"{town_key} 2027年度工作计划", text=text).report


def bring_to(cycle_id: int, town_key: str, world, status: str, *,
             district_reviewer: str = "district_reviewer") -> int | None:
    """Walk the town's report in the cycle to a matrix status; returns the report id."""
    if status == "not_started":
        return None
    report = start(cycle_id, town_key, world)
    author, reviewer = f"{town_key}_author", f"{town_key}_reviewer"
    steps = {
        "draft": [],
        "returned": [(author, "submit", None), (reviewer, "return", "请补充资金来源")],
        "town_review": [(author, "submit", None)],
        "district_review": [(author, "submit", None), (reviewer, "approve", None)],
        "published": [(author, "submit", None), (reviewer, "approve", None), (district_reviewer, "approve", None)],
    }[status]
    for username, action, comment in steps:
        act(report.id, username, action, comment)
    return report.id


def events_of(kind: str, cycle_id: int | None = None) -> list[OutboxEvent]:
    query = select(OutboxEvent).where(OutboxEvent.kind == kind)
    if cycle_id is not None:
        query = query.where(OutboxEvent.cycle_id == cycle_id)
    return list(db.session.scalars(query.order_by(OutboxEvent.id)))
