"""Story helpers for the roll-up: annual-report cycles of 示范区 whose towns publish reports
with known figures (needs an app context)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from tests.cycles_support import today_local
from tests.helpers import act, get_user
from workflow import cycles, key_indicators, services
from workflow.cycle_models import Cycle
from workflow.db import db
from workflow.models import OrgUnit, Report


def district_id() -> int:
    return db.session.scalar(select(OrgUnit.id).where(OrgUnit.name == "示范区"))


def report_cycle(year: int, *, org_unit_ids=None) -> Cycle:
    """The district reviewer opens "every town submits its ``year`` work report"."""
    return cycles.open_cycle(get_user("district_reviewer"), org_unit_id=district_id(), kind="annual_report",
                             year=year, title=f"{year}年工作总结", due_date=today_local() + dt.timedelta(days=7),
                             org_unit_ids=org_unit_ids)


def summary_text(year: int, gdp: str, revenue: str) -> str:
    return (f"{year}年，全镇各项工作稳步推进。\n一、经济发展\n全年实现地区生产总值{gdp}，"
            f"一般公共预算收入{revenue}。\n二、民生保障\n新建村级养老服务站2个。\n")


def publish_summary(cycle: Cycle, town_key: str, world, gdp: str, revenue: str, *,
                    confirm: dict | None = None, publish: bool = True) -> int:
    """The town's author writes its summary in ``cycle`` (optionally confirms figures) and it is published."""
    author = get_user(f"{town_key}_author")
    report = services.create_report(author, org_unit_id=world[town_key], cycle_id=cycle.id,
                                    title=f"{town_key} {cycle.year}年工作总结",
                                    text=summary_text(cycle.year, gdp, revenue)).report
    if confirm:
        key_indicators.confirm(author, db.session.get(Report, report.id), version=report.version, values=confirm)
    if publish:
        for username, action in ((f"{town_key}_author", "submit"), (f"{town_key}_reviewer", "approve"),
                                 ("district_reviewer", "approve")):
            act(report.id, username, action)
    return report.id


def close_as_last_year(cycle: Cycle) -> None:
    db.session.execute(update(Cycle).where(Cycle.id == cycle.id).values(state=cycles.CLOSED))
    db.session.commit()
