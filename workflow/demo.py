"""Demo data for ``make run`` (never for production): the district 示范区 with six towns
(青山镇 and 溪口镇 with the accounts of CONTRACT.md, four more without accounts), reports
written for the demo, an open reporting cycle due in a week and a closed one of last year, and
last year's work reports of 青山镇 and 溪口镇 with their key indicators (``workflow.demo_rollup``)."""
from __future__ import annotations

import datetime as dt
from functools import cache

from sqlalchemy import func, select, update

from . import admin, audit, cycles, demo_rollup, key_indicators, services
from .cycle_models import Cycle, CycleAuditEvent, CycleTown
from .dates import from_local
from .db import db
from .models import AuditEvent, OrgUnit, Publication, Report, ReportVersion, User, utcnow

PASSWORD = "chengbao-demo"

QINGSHAN_PLAN = """\
为做好2027年各项工作，结合青山镇实际，现将年度工作计划报告如下。
一、稳住产业基本盘，推动镇域经济提质增效
（一）抓好项目建设
围绕茶叶精深加工和山地旅游两条主线，全年计划实施重点项目6个，完成固定资产投资2.4亿元。落实“一个项目、一名领导、一套班子”推进机制，每月调度一次进度。
（二）做强特色农业
新建高标准茶园800亩，改造老茶园1200亩，培育家庭农场15家。推广“合作社+农户”模式，带动茶农户均增收3000元。
二、办好民生实事，提升群众获得感
（一）补齐公共服务短板
完成青山中心小学运动场改造，新增养老床位40张，实现村卫生室标准化建设全覆盖。
（二）守牢安全底线
开展汛期地质灾害隐患排查，对12处隐患点落实“一点一策”，全年组织应急演练不少于4次。
三、加强自身建设，转变干部作风
严格落实“三重一大”集体决策制度，推行镇村干部“周例会、月通报”工作机制，确保各项任务按期完成。
"""

XIKOU_REPORT = """\
2026年，溪口镇在区委、区政府的坚强领导下，团结带领全镇干部群众，较好完成了年初确定的目标任务。现将全年工作总结如下。
一、主要工作成效
（一）经济运行稳中有进
全年完成规模以上工业产值5.6亿元，同比增长7.2%；新签约招商项目x个，协议引资x万元。
（二）乡村振兴扎实推进
建成美丽乡村示范村3个，农村生活污水治理覆盖率达到92%，新增就业岗位460个。
二、存在的问题
一是项目储备不足，二是村级集体经济收入来源单一。
三、2027年工作打算
持续优化营商环境，全年计划引进亿元以上项目2个，力争财政收入增长6%。
"""


XIKOU_PLAN = """\
为做好{year}年各项工作，结合溪口镇实际，现将年度工作计划报告如下。
一、{year}年主要目标
地区生产总值增长6%，规模以上工业产值达到6亿元，农村居民人均可支配收入增长7%。
二、重点工作任务
（一）抓好招商引资
全年计划引进亿元以上项目2个，新签约项目8个，协议引资5亿元。
（二）推进乡村振兴
建成美丽乡村示范村2个，农村生活污水治理覆盖率达到95%。
三、保障措施
建立重点项目月调度制度，每季度通报一次进展。
"""

# The headings every town fills in the demo's open cycle.
PLAN_TEMPLATE = """\
一、{year}年主要目标
二、重点工作任务
三、保障措施
"""

PLAN_NOTICE = """\
各镇（乡、街道）：
请于截止日期前通过呈报系统报送本单位{year}年度工作计划，内容包括主要目标、重点工作任务和保障措施。报告须经本单位主要负责同志审核后提交。
示范区人民政府办公室
"""


def _unit(name: str, kind: str, parent: OrgUnit | None, code: str) -> OrgUnit:
    return admin.add_org_unit(None, name=name, kind=kind, parent_id=parent.id if parent else None,
                              division_code=code)


@cache
def _demo_hash() -> str:
    """The demo password's hash, shared by the demo accounts (a scrypt takes 0.1–0.6 s)."""
    user = User(username="demo")
    user.set_password(PASSWORD)
    return user.password_hash


def _user(username: str, name: str, unit: OrgUnit, *roles: str) -> User:
    user = admin.create_user(None, username=username, display_name=name, password=PASSWORD,
                             password_hash=_demo_hash())
    for role in roles:
        admin.grant_position(None, user_id=user.id, org_unit_id=unit.id, role=role)
    return user


def _at(day: dt.date, hour: int) -> dt.datetime:
    """A Beijing wall-clock time as the naive UTC the database keeps."""
    return from_local(dt.datetime.combine(day, dt.time(hour)))


def _act(username: str, report_id: int, action: str, comment: str | None = None) -> None:
    db.session.expire_all()
    user = db.session.scalars(select(User).where(User.username == username)).one()
    services.perform(user, report_id, action, version=db.session.get_one(Report, report_id).version, comment=comment)


def _backdate(report_id: int, times: list[dt.datetime]) -> None:
    """Move a report's history (made just now) to the times it happened in the story: each
    audit event gets its time and the hash chains (the report's, the global one) are
    recomputed, so ``flask verify-audit`` still holds; the report, its versions and its publication follow."""
    events = list(db.session.scalars(select(AuditEvent).where(AuditEvent.report_id == report_id)
                                     .order_by(AuditEvent.seq)))
    previous = audit.GENESIS
    for event, when in zip(events, times, strict=True):
        event.created_at, event.prev_hash = when, previous
        event.hash = previous = audit.event_hash(event)
    audit.rechain_global()
    db.session.execute(update(Report).where(Report.id == report_id).values(created_at=times[0], updated_at=times[-1]))
    submits = iter([t for e, t in zip(events, times) if e.action == "submit"])
    for version in db.session.scalars(select(ReportVersion).where(ReportVersion.report_id == report_id)
                                      .order_by(ReportVersion.number)):
        version.created_at = version.updated_at = times[0]
        if version.frozen_at is not None:
            version.frozen_at = next(submits, times[-1])
    db.session.execute(update(Publication).where(Publication.report_id == report_id)
                       .values(created_at=times[-1], updated_at=times[-1]))
    db.session.commit()


def _last_years_cycle(district: OrgUnit, reviewer: User, year: int, today: dt.date) -> Cycle:
    """The closed cycle of last year: this year's plans, due in December. 青山镇 published on
    time, 溪口镇's plan was returned by the district and never resubmitted, the others never came."""
    from .events import OutboxEvent

    first_event = db.session.scalar(select(func.max(OutboxEvent.id))) or 0
    opened = dt.date(today.year - 1, 11, 20)
    due = dt.date(today.year - 1, 12, 20)
    cycle = cycles.open_cycle(reviewer, org_unit_id=district.id, kind="annual_plan", year=year,
                              title=f"{year}年度工作计划", due_date=due, instructions=PLAN_NOTICE.format(year=year),
                              now=_at(opened, 9))
    qs = db.session.scalars(select(OrgUnit).where(OrgUnit.name == "青山镇")).one()
    xk = db.session.scalars(select(OrgUnit).where(OrgUnit.name == "溪口镇")).one()
    qs_author = db.session.scalars(select(User).where(User.username == "qs_author")).one()
    xk_author = db.session.scalars(select(User).where(User.username == "xk_author")).one()
    plan = services.create_report(qs_author, org_unit_id=qs.id, cycle_id=cycle.id, title=f"青山镇{year}年度工作计划",
                                  text=QINGSHAN_PLAN.replace("2027", str(year))).report.id
    for username, action in (("qs_author", "submit"), ("qs_reviewer", "approve"), ("district_reviewer", "approve")):
        _act(username, plan, action)
    _backdate(plan, [_at(dt.date(today.year - 1, 12, d), h) for d, h in ((1, 10), (12, 16), (15, 9), (18, 15))])
    returned = services.create_report(xk_author, org_unit_id=xk.id, cycle_id=cycle.id,
                                      title=f"溪口镇{year}年度工作计划", text=XIKOU_PLAN.format(year=year)).report.id
    _act("xk_author", returned, "submit")
    _act("xk_reviewer", returned, "approve")
    _act("district_reviewer", returned, "return",
         "“协议引资5亿元”与项目储备不符，请补充具体项目清单，并细化保障措施的责任分工。")
    _backdate(returned, [_at(dt.date(today.year - 1, 12, d), h) for d, h in ((5, 10), (16, 17), (17, 10), (22, 11))])
    closed = _at(dt.date(today.year - 1, 12, 31), 17)
    cycles.close_cycle(reviewer, cycle.id, now=closed)
    db.session.execute(update(CycleTown).where(CycleTown.cycle_id == cycle.id).values(added_at=_at(opened, 9)))
    db.session.execute(update(Cycle).where(Cycle.id == cycle.id).values(updated_at=closed))
    db.session.execute(update(CycleAuditEvent).where(CycleAuditEvent.cycle_id == cycle.id,
                                                     CycleAuditEvent.action == "close").values(created_at=closed))
    # Last year is history: nobody is notified today of a cycle closed a year ago (its events
    # count as taken; the worker's start-up sweep of pending publications builds its PDF).
    db.session.execute(update(OutboxEvent).where(OutboxEvent.id > first_event).values(dispatched_at=closed))
    db.session.commit()
    return cycle


def seed() -> str:
    """Seed an empty database; refuse to touch one that has org units already."""
    if db.session.scalar(select(func.count(OrgUnit.id))):
        return "database already has data; demo seed skipped"
    today = cycles.local_date(utcnow())
    next_year = today.year + 1
    district = _unit("示范区", "district", None, "330100000000")
    qingshan = _unit("青山镇", "town", district, "330100100000")
    xikou = _unit("溪口镇", "town", district, "330100101000")
    # Four more towns without accounts: the matrix is about many towns.
    for name, kind, code in (("石桥镇", "town", "330100102000"), ("东岭乡", "township", "330100200000"),
                             ("南塘镇", "town", "330100103000"), ("柳湾街道", "subdistrict", "330100001000")):
        _unit(name, kind, district, code)
    _user("admin", "系统管理员", district, "admin")
    reviewer = _user("district_reviewer", "区审核员 周敏", district, "district_reviewer")
    qs_author = _user("qs_author", "青山镇填报人 李晓", qingshan, "author")
    _user("qs_reviewer", "青山镇镇长 王建国", qingshan, "town_reviewer")
    xk_author = _user("xk_author", "溪口镇填报人 陈芳", xikou, "author")
    _user("xk_reviewer", "溪口镇镇长 赵立新", xikou, "town_reviewer")

    for kind in ("annual_report", "annual_plan"):  # the district's own catalogue, editable on its page
        key_indicators.set_catalogue(reviewer, kind=kind, entries=key_indicators.default_entries(),
                                     district_id=district.id)
    _last_years_cycle(district, reviewer, today.year, today)
    demo_rollup.seed_last_years_reports(district, reviewer, today)  # last year's work reports, rolled up

    # This year's cycle: next year's plans, opened three days ago, due in a week.
    opened = utcnow() - dt.timedelta(days=3)
    cycle = cycles.open_cycle(reviewer, org_unit_id=district.id, kind="annual_plan", year=next_year,
                              title=f"{next_year}年度工作计划", due_date=today + dt.timedelta(days=7),
                              instructions=PLAN_NOTICE.format(year=next_year),
                              template=PLAN_TEMPLATE.format(year=next_year), now=opened)
    services.create_report(qs_author, org_unit_id=qingshan.id, cycle_id=cycle.id,
                           title=f"青山镇{next_year}年度工作计划", text=QINGSHAN_PLAN.replace("2027", str(next_year)))
    plan = services.create_report(xk_author, org_unit_id=xikou.id, cycle_id=cycle.id,
                                  title=f"溪口镇{next_year}年度工作计划", text=XIKOU_PLAN.format(year=next_year))
    _act("xk_author", plan.report.id, "submit")
    stone, south = (db.session.scalar(select(OrgUnit.id).where(OrgUnit.name == n)) for n in ("石桥镇", "南塘镇"))
    cycles.remind(reviewer, cycle.id, org_unit_ids=[stone, south], message="请抓紧报送年度工作计划。",
                  now=utcnow() - dt.timedelta(hours=2))

    services.create_report(xk_author, org_unit_id=xikou.id, kind="annual_report", year=today.year,
                           title=f"溪口镇{today.year}年工作总结", text=XIKOU_REPORT.replace("2026", str(today.year))
                           .replace("2027", str(next_year)))
    return ("demo data created: 示范区 with 6 towns, 6 accounts (password chengbao-demo), "
            f"an open cycle ({next_year}年度工作计划, due in 7 days) and a closed one of last year, "
            f"last year's work reports rolled up, 8 reports")
