"""Demo data of the roll-up (``make run`` only): last year's plan of 青山镇 and last year's
closed cycle of work reports (工作总结) in which 青山镇 and 溪口镇 published, with confirmed
key indicators and plan task statuses — what a district opens in January."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, update

from . import cycles, key_indicators, plan_check, services
from .cycle_models import Cycle
from .db import db
from .models import OrgUnit, Report, User, utcnow

PLAN = """\
为做好{year}年各项工作，现将年度工作计划报告如下。
一、稳住经济基本盘
（一）抓好项目建设
全年完成固定资产投资2.4亿元，一般公共预算收入达到3200万元。
（二）做强特色农业
新建高标准茶园800亩，农村居民人均可支配收入达到26000元。
二、办好民生实事
（一）补齐公共服务短板
新增养老床位40张。
（二）守牢安全底线
开展汛期地质灾害隐患排查，全年组织应急演练不少于4次。
三、加强自身建设
推行镇村干部“周例会、月通报”工作机制。
"""

QINGSHAN_SUMMARY = """\
{year}年，青山镇在区委、区政府的领导下，较好完成了年度目标任务。现将全年工作总结如下。
一、经济运行稳中有进
（一）项目建设扎实推进
全年实施重点项目6个，完成固定资产投资2.2亿元；实现地区生产总值18.6亿元，一般公共预算收入3350万元。
（二）特色农业提质增效
新建高标准茶园820亩，农村居民人均可支配收入26800元，新增规上企业2家。
二、民生实事落地见效
（一）公共服务短板加快补齐
新增养老床位42张，森林覆盖率达到72.5%。
（二）安全底线守牢守稳
完成汛期地质灾害隐患排查12处，组织应急演练5次。
"""

XIKOU_SUMMARY = """\
{year}年，溪口镇团结带领全镇干部群众，较好完成了年初确定的目标任务。现将全年工作总结如下。
一、主要经济指标
全年实现地区生产总值12.3亿元，一般公共预算收入2680万元，完成固定资产投资1.6亿元。
二、乡村振兴
农民人均可支配收入2.41万元，招商引资到位资金0.9亿元，新增规上企业1家，城镇新增就业460人。
"""


def _user(username: str) -> User:
    return db.session.scalars(select(User).where(User.username == username)).one()


def _walk(report_id: int, town: str) -> None:
    for username, action in ((f"{town}_author", "submit"), (f"{town}_reviewer", "approve"),
                             ("district_reviewer", "approve")):
        db.session.expire_all()
        services.perform(_user(username), report_id, action, version=db.session.get_one(Report, report_id).version)


def seed_last_years_reports(district: OrgUnit, reviewer: User, today: dt.date) -> Cycle:
    """Last year's plan of 青山镇 (published), then last year's work-report cycle, closed, where
    青山镇 (scaffolded from its plan, figures confirmed, tasks given statuses) and 溪口镇 published.
    The events are marked delivered: nobody is told today of last year."""
    from .events import OutboxEvent

    year = today.year - 1
    first_event = db.session.scalar(select(func.max(OutboxEvent.id))) or 0
    qs, xk = (db.session.scalars(select(OrgUnit).where(OrgUnit.name == n)).one() for n in ("青山镇", "溪口镇"))
    plan = services.create_report(_user("qs_author"), org_unit_id=qs.id, kind="annual_plan", year=year,
                                  title=f"青山镇{year}年度工作计划", text=PLAN.format(year=year)).report
    _walk(plan.id, "qs")
    cycle = cycles.open_cycle(reviewer, org_unit_id=district.id, kind="annual_report", year=year,
                              title=f"{year}年工作总结", due_date=today, instructions="请各镇报送年度工作总结。",
                              org_unit_ids=None)
    for town, unit, text in (("qs", qs, QINGSHAN_SUMMARY), ("xk", xk, XIKOU_SUMMARY)):
        author = _user(f"{town}_author")
        # 青山镇 starts from its plan's headings, then writes; 溪口镇 (no plan) pastes its text.
        report = services.create_report(author, org_unit_id=unit.id, cycle_id=cycle.id,
                                        title=f"{unit.name}{year}年工作总结",
                                        text=None if town == "qs" else text.format(year=year)).report
        if town == "qs":
            report = services.update_draft(author, report.id, version=report.version,
                                           text=text.format(year=year)).report
        if town == "qs":
            key_indicators.confirm(author, report, version=report.version, values={"gdp": 18.6, "new_jobs": None},
                                   reasons={"new_jobs": "统计部门尚未反馈"})
            db.session.expire_all()
            report = db.session.get_one(Report, report.id)
            tasks = {s["heading"]: s["id"] for s, _ in plan_check.leaf_tasks(db.session.get_one(Report, plan.id)
                                                                             .current.outline)}
            plan_check.set_statuses(author, report, [
                {"section_id": tasks["抓好项目建设"], "status": "ongoing", "note": "两个项目受用地指标影响顺延"},
                {"section_id": tasks["做强特色农业"], "status": "done", "note": ""},
                {"section_id": tasks["补齐公共服务短板"], "status": "done", "note": ""},
                {"section_id": tasks["守牢安全底线"], "status": "done", "note": ""}])
        _walk(report.id, town)
    cycles.close_cycle(reviewer, cycle.id)
    db.session.execute(update(OutboxEvent).where(OutboxEvent.id > first_event).values(dispatched_at=utcnow()))
    db.session.commit()
    return cycle
