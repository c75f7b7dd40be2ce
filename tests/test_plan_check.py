"""Plan ↔ report: a town's 2026 work report answers its published 2026 plan — started from the
cycle it is scaffolded from the plan's headings; every plan task (leaf section) carries the
author's status; tasks the report never mentions are flagged; targets against results (完成率)."""
from __future__ import annotations

import pytest

from tests.conftest import csrf_from
from tests.helpers import act, ensure_translations_compiled, error_of, get_html, get_user, login
from tests.rollup_support import report_cycle
from workflow import plan_check, services
from workflow.db import db
from workflow.importer import import_text
from workflow.models import Report

ensure_translations_compiled()

PLAN = """为做好2026年各项工作，现将年度工作计划报告如下。
一、经济发展
（一）抓好项目建设
全年完成固定资产投资3亿元。
（二）做强特色农业
新建高标准茶园800亩。
二、民生实事
（一）补齐公共服务短板
新增养老床位40张。
（二）守牢安全底线
开展地质灾害隐患排查。
三、加强自身建设
严格落实集体决策制度。
"""

SUMMARY = """2026年工作总结如下。
一、经济发展
（一）项目建设成效明显
完成固定资产投资2.7亿元。
（二）特色农业稳步发展
新建茶园850亩。
二、民生保障
公共服务短板加快补齐，新增养老床位42张。
"""


@pytest.fixture
def planned(app, world):
    """青山镇's 2026 plan is published; an annual-report cycle for 2026 is open; the author has
    started the report from it (no text of its own)."""
    with app.app_context():
        author = get_user("qs_author")
        plan = services.create_report(author, org_unit_id=world["qs"], kind="annual_plan", year=2026,
                                      title="青山镇2026年度工作计划", text=PLAN).report
        for username, action in (("qs_author", "submit"), ("qs_reviewer", "approve"), ("district_reviewer", "approve")):
            act(plan.id, username, action)
        cycle = report_cycle(2026)
        report = services.create_report(author, org_unit_id=world["qs"], cycle_id=cycle.id,
                                        title="青山镇2026年工作总结").report
        world.ids.update(plan=plan.id, report=report.id, cycle=cycle.id)
    return world


def test_the_report_started_from_the_cycle_is_scaffolded_from_the_plan(app, planned):
    with app.app_context():
        report = db.session.get(Report, planned["report"])
        headings = [s["heading"] for s in report.current.outline["sections"]]
        assert headings == ["经济发展", "民生实事", "加强自身建设"]
        first = report.current.outline["sections"][0]
        assert [c["heading"] for c in first["children"]] == ["抓好项目建设", "做强特色农业"]
        assert first["children"][0]["paragraphs"] == []


def test_tasks_are_the_plans_leaf_sections():
    tasks = [s["heading"] for s, _ in plan_check.leaf_tasks(import_text(PLAN))]
    assert tasks == ["抓好项目建设", "做强特色农业", "补齐公共服务短板", "守牢安全底线", "加强自身建设"]


def test_character_bigram_overlap_decides_what_is_mentioned():
    grams = plan_check._bigrams("公共服务短板加快补齐，项目建设成效明显")
    assert plan_check.overlap("（一）补齐公共服务短板", grams) >= 0.5
    assert plan_check.overlap("（二）守牢安全底线", grams) == 0
    assert plan_check.overlap("三、加强自身建设", grams) < 0.5


def _write_summary(as_user, planned) -> dict:
    api = as_user("qs_author")
    report = api.report(planned["report"])
    r = api.put(f"/reports/{planned['report']}", json={"version": report["version"], "text": SUMMARY})
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def test_the_reviewer_sees_every_task_with_its_status_the_unmentioned_flagged_and_the_targets(as_user, planned):
    _write_summary(as_user, planned)
    author = as_user("qs_author")
    check = author.get(f"/reports/{planned['report']}/plan-check").get_json()
    assert check["plan_report_id"] == planned["plan"]
    ids = {t["heading"]: t["section_id"] for t in check["tasks"]}
    r = author.put(f"/reports/{planned['report']}/plan-tasks", json={"tasks": [
        {"section_id": ids["抓好项目建设"], "status": "done", "note": "完成2.7亿元，受用地指标影响略低于目标"},
        {"section_id": ids["守牢安全底线"], "status": "ongoing"}]})
    assert r.status_code == 200, r.get_json()
    author.act(planned["report"], "submit")

    seen = as_user("district_reviewer").get(f"/reports/{planned['report']}/plan-check").get_json()
    tasks = {t["heading"]: t for t in seen["tasks"]}
    assert list(tasks) == ["抓好项目建设", "做强特色农业", "补齐公共服务短板", "守牢安全底线", "加强自身建设"]
    assert tasks["抓好项目建设"]["status"] == "done" and "用地指标" in tasks["抓好项目建设"]["note"]
    assert tasks["做强特色农业"]["status"] is None
    assert [h for h, t in tasks.items() if not t["mentioned"]] == ["守牢安全底线", "加强自身建设"]
    assert seen["unmentioned"] == 2
    fai = next(t for t in seen["targets"] if t["key"] == "fixed_asset_investment")
    assert (fai["planned"], fai["reported"], fai["rate"]) == (3.0, 2.7, 0.9)


def test_statuses_are_the_authors_and_only_in_draft(as_user, planned):
    _write_summary(as_user, planned)
    task = as_user("qs_author").get(f"/reports/{planned['report']}/plan-check").get_json()["tasks"][0]
    body = {"tasks": [{"section_id": task["section_id"], "status": "done"}]}
    r = as_user("qs_reviewer").put(f"/reports/{planned['report']}/plan-tasks", json=body)
    assert r.status_code == 403 and error_of(r)["reason"] == "plan_tasks_not_author"
    r = as_user("qs_author").put(f"/reports/{planned['report']}/plan-tasks",
                                 json={"tasks": [{"section_id": "nope", "status": "done"}]})
    assert r.status_code == 400 and error_of(r)["reason"] == "plan_task_unknown"
    as_user("qs_author").act(planned["report"], "submit")
    r = as_user("qs_author").put(f"/reports/{planned['report']}/plan-tasks", json=body)
    assert r.status_code == 409 and error_of(r)["reason"] == "plan_tasks_frozen"
    assert as_user("xk_author").get(f"/reports/{planned['report']}/plan-check").status_code == 404


def test_the_author_sets_statuses_on_the_page_and_the_reviewer_sees_the_flags(client, as_user, planned):
    _write_summary(as_user, planned)
    login(client, "qs_author")
    html = get_html(client, f"/reports/{planned['report']}/plan-check")
    assert 'name="s_0"' in html and "守牢安全底线" in html
    r = client.post(f"/reports/{planned['report']}/plan-check", data={
        "csrf_token": csrf_from(html), "s_0": "done", "n_0": "已完成", "s_3": "not_done", "n_3": "汛期后开展"})
    assert r.headers["Location"].endswith(f"/reports/{planned['report']}/plan-check")
    as_user("qs_author").act(planned["report"], "submit")
    client.post("/logout", data={"csrf_token": csrf_from(get_html(client, "/"))})
    login(client, "district_reviewer")
    html = get_html(client, f"/reports/{planned['report']}/plan-check")
    assert html.count("plan-task unmentioned") == 2 and "汛期后开展" in html and 'name="s_0"' not in html
    assert "90.0%" in html
    assert f"/reports/{planned['report']}/plan-check" in get_html(client, f"/reports/{planned['report']}")


def test_a_five_year_plans_targets_are_set_against_each_annual_report(app, as_user, planned):
    with app.app_context():
        five = services.create_report(get_user("qs_author"), org_unit_id=planned["qs"], kind="five_year_plan",
                                      year=2026, title="青山镇“十五五”规划",
                                      text="一、发展目标\n到2030年，固定资产投资累计达到15亿元。\n").report
        for username, action in (("qs_author", "submit"), ("qs_reviewer", "approve"), ("district_reviewer", "approve")):
            act(five.id, username, action)
    _write_summary(as_user, planned)
    check = as_user("district_reviewer").get(f"/reports/{planned['report']}/plan-check").get_json()
    assert check["five_year_plan_report_id"] == five.id
    fai = next(t for t in check["five_year_targets"] if t["key"] == "fixed_asset_investment")
    assert (fai["planned"], fai["reported"], fai["rate"]) == (15.0, 2.7, 0.18)
