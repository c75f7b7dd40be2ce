"""Demo data for ``make run`` (never for production): the district 示范区, its towns
青山镇 and 溪口镇, the accounts of CONTRACT.md and two reports written for the demo."""
from __future__ import annotations

from sqlalchemy import func, select

from . import admin, services
from .db import db
from .models import OrgUnit, User

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


def _unit(name: str, kind: str, parent: OrgUnit | None, code: str) -> OrgUnit:
    return admin.add_org_unit(None, name=name, kind=kind, parent_id=parent.id if parent else None,
                              division_code=code)


def _user(username: str, name: str, unit: OrgUnit, *roles: str) -> User:
    user = admin.create_user(None, username=username, display_name=name, password=PASSWORD)
    for role in roles:
        admin.grant_position(None, user_id=user.id, org_unit_id=unit.id, role=role)
    return user


def seed() -> str:
    """Seed an empty database; refuse to touch one that has org units already."""
    if db.session.scalar(select(func.count(OrgUnit.id))):
        return "database already has data; demo seed skipped"
    district = _unit("示范区", "district", None, "330100000000")
    qingshan = _unit("青山镇", "town", district, "330100100000")
    xikou = _unit("溪口镇", "town", district, "330100101000")
    _user("admin", "系统管理员", district, "admin")
    _user("district_reviewer", "区审核员 周敏", district, "district_reviewer")
    qs_author = _user("qs_author", "青山镇填报人 李晓", qingshan, "author")
    _user("qs_reviewer", "青山镇镇长 王建国", qingshan, "town_reviewer")
    xk_author = _user("xk_author", "溪口镇填报人 陈芳", xikou, "author")
    _user("xk_reviewer", "溪口镇镇长 赵立新", xikou, "town_reviewer")
    services.create_report(qs_author, org_unit_id=qingshan.id, kind="annual_plan", year=2027,
                           title="青山镇2027年度工作计划", text=QINGSHAN_PLAN)
    services.create_report(xk_author, org_unit_id=xikou.id, kind="annual_report", year=2026,
                           title="溪口镇2026年工作总结", text=XIKOU_REPORT)
    return "demo data created: 示范区, 青山镇, 溪口镇, 6 accounts (password chengbao-demo), 2 draft reports"
