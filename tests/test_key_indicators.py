"""Key indicators: unit conversion and synonyms on texts written for these tests, the author's
confirmation through the API and the report page, and values frozen once published."""
from __future__ import annotations

import pytest

from tests.conftest import csrf_from
from tests.helpers import create, ensure_translations_compiled, error_of, get_html, login
from workflow import key_indicators as ki
from workflow.importer import import_text
from workflow.models import Report

ensure_translations_compiled()

SUMMARY = """2026年，全镇经济运行平稳。
一、主要指标
（一）经济发展
全年实现GDP 12.5亿元，同比增长6.5%；完成一般公共预算收入0.32亿元，固投达到8000万元。
（二）民生
农民人均可支配收入2.1万元，森林覆盖率达到68.2%，提高1.5个百分点。新增规上企业三家，到位资金1.2亿元。
"""


def test_money_converts_between_yuan_wan_and_yi():
    assert ki.convert(3.0, "亿元", "万元") == 30000.0
    assert ki.convert(8000.0, "万元", "亿元") == 0.8
    assert ki.convert(2.1, "万元", "元") == 21000.0
    assert ki.convert(68.2, "%", "%") == 68.2


def test_percentage_points_and_other_families_do_not_convert():
    assert ki.convert(1.5, "个百分点", "%") is None
    assert ki.convert(3.0, "亩", "亿元") is None
    assert ki.convert(3.0, "家", "个") is None


def test_synonyms_and_units_find_each_key_indicator():
    found = ki.extracted(list(ki.DEFAULT_CATALOGUE), import_text(SUMMARY))
    values = {k: v["value"] for k, v in found.items()}
    assert values["gdp"] == 12.5                      # "GDP" is a synonym
    assert values["budget_revenue"] == 3200.0         # 0.32亿元 in 万元
    assert values["fixed_asset_investment"] == 0.8    # 固投 8000万元 in 亿元
    assert values["rural_income"] == 21000.0          # 农民人均可支配收入 2.1万元 in 元
    assert values["forest_cover"] == 68.2             # the %, not the 1.5个百分点 after it
    assert values["new_enterprises"] == 3.0
    assert values["investment_attracted"] == 1.2
    assert "new_jobs" not in values


def test_the_nearest_name_wins_when_two_figures_share_a_sentence():
    outline = import_text("一、经济\n地区生产总值5亿元，一般公共预算收入3000万元。\n")
    found = ki.extracted(list(ki.DEFAULT_CATALOGUE), outline)
    assert found["gdp"]["value"] == 5.0 and found["budget_revenue"]["value"] == 3000.0


def _summary(as_user, world) -> dict:
    return create(as_user("qs_author"), world, text=SUMMARY, title="青山镇2026年工作总结", kind="annual_report",
                  year=2026)


def test_the_report_carries_extracted_key_indicators_until_the_author_confirms(as_user, world):
    report = _summary(as_user, world)
    by_key = {i["key"]: i for i in report["key_indicators"]}
    assert by_key["gdp"].items() >= {"value": 12.5, "unit": "亿元", "source": "extracted"}.items()
    assert by_key["new_jobs"]["value"] is None and by_key["new_jobs"]["source"] is None

    api = as_user("qs_author")
    r = api.put(f"/reports/{report['id']}/key-indicators", json={
        "version": report["version"], "values": {"gdp": 12.6, "new_jobs": None},
        "reasons": {"new_jobs": "统计局尚未反馈"}})
    assert r.status_code == 200, r.get_json()
    by_key = {i["key"]: i for i in r.get_json()["key_indicators"]}
    assert by_key["gdp"]["value"] == 12.6 and by_key["gdp"]["source"] == "confirmed"
    assert by_key["new_jobs"].items() >= {"value": None, "source": "confirmed", "reason": "统计局尚未反馈"}.items()
    assert by_key["budget_revenue"]["source"] == "extracted"
    assert r.get_json()["version"] == report["version"] + 1


@pytest.mark.parametrize("values,reasons,status,reason", [
    ({"new_jobs": None}, None, 422, "indicator_blank_without_reason"),
    ({"nope": 1}, None, 400, "unknown_indicator"),
    ({"gdp": "many"}, None, 400, "indicator_value_not_a_number"),
])
def test_bad_confirmations_are_refused(as_user, world, values, reasons, status, reason):
    report = _summary(as_user, world)
    body = {"version": report["version"], "values": values} | ({"reasons": reasons} if reasons else {})
    r = as_user("qs_author").put(f"/reports/{report['id']}/key-indicators", json=body)
    assert r.status_code == status and error_of(r)["reason"] == reason


def test_confirmed_values_are_frozen_at_submit_and_published_with_the_report(as_user, world):
    report = _summary(as_user, world)
    author = as_user("qs_author")
    r = author.put(f"/reports/{report['id']}/key-indicators", json={"version": report["version"],
                                                                    "values": {"gdp": 13.0}})
    assert r.status_code == 200
    author.act(report["id"], "submit")
    as_user("qs_reviewer").act(report["id"], "approve")
    published = as_user("district_reviewer").act(report["id"], "approve")
    assert published["state"] == "published"
    r = author.put(f"/reports/{report['id']}/key-indicators", json={"version": published["version"],
                                                                    "values": {"gdp": 99.0}})
    assert r.status_code == 409 and error_of(r)["reason"] == "key_indicators_frozen"
    gdp = next(i for i in author.report(report["id"])["key_indicators"] if i["key"] == "gdp")
    assert gdp["value"] == 13.0 and gdp["source"] == "confirmed"


def test_a_returned_report_keeps_its_confirmed_values_in_the_new_draft(as_user, world):
    report = _summary(as_user, world)
    author = as_user("qs_author")
    author.put(f"/reports/{report['id']}/key-indicators", json={"version": report["version"], "values": {"gdp": 13.0}})
    author.act(report["id"], "submit")
    returned = as_user("qs_reviewer").act(report["id"], "return", "请核实")
    assert returned["state"] == "draft"
    gdp = next(i for i in returned["key_indicators"] if i["key"] == "gdp")
    assert gdp["value"] == 13.0 and gdp["source"] == "confirmed"


def test_only_the_towns_author_confirms(as_user, world):
    report = _summary(as_user, world)
    r = as_user("qs_reviewer").put(f"/reports/{report['id']}/key-indicators",
                                   json={"version": report["version"], "values": {"gdp": 1}})
    assert r.status_code == 403
    r = as_user("xk_author").put(f"/reports/{report['id']}/key-indicators",
                                 json={"version": report["version"], "values": {"gdp": 1}})
    assert r.status_code == 404


def test_the_district_edits_its_catalogue_and_towns_see_it(as_user, world):
    default = as_user("qs_author").get("/indicator-catalogue?kind=annual_report").get_json()
    assert default["default"] is True and default["items"][0]["key"] == "gdp"
    items = [{"key": "gdp", "name": "地区生产总值", "unit": "万元", "synonyms": ["GDP"]},
             {"key": "tea", "name": "茶叶产值", "unit": "亿元", "synonyms": []}]
    r = as_user("district_reviewer").put("/indicator-catalogue", json={"kind": "annual_report", "items": items})
    assert r.status_code == 200 and r.get_json()["default"] is False
    seen = as_user("qs_author").get("/indicator-catalogue?kind=annual_report").get_json()
    assert [i["key"] for i in seen["items"]] == ["gdp", "tea"]
    report = _summary(as_user, world)
    gdp = next(i for i in report["key_indicators"] if i["key"] == "gdp")
    assert gdp["value"] == 125000.0 and gdp["unit"] == "万元"
    r = as_user("qs_author").put("/indicator-catalogue", json={"kind": "annual_report", "items": items})
    assert r.status_code == 403


def test_the_author_confirms_on_the_report_page(client, as_user, world):
    report = _summary(as_user, world)
    login(client, "qs_author")
    html = get_html(client, f"/reports/{report['id']}")
    assert 'id="key-indicators"' in html and 'name="v_gdp"' in html
    data = {"csrf_token": csrf_from(html), "version": str(report["version"]), "v_gdp": "12.7",
            "v_new_jobs": "", "r_new_jobs": "尚未统计"}
    for i in report["key_indicators"]:
        if i["key"] not in ("gdp", "new_jobs"):
            data[f"v_{i['key']}"] = "" if i["value"] is None else str(i["value"])
    r = client.post(f"/reports/{report['id']}/key-indicators", data=data)
    assert r.headers["Location"].endswith(f"/reports/{report['id']}#key-indicators")
    by_key = {i["key"]: i for i in as_user("qs_author").report(report["id"])["key_indicators"]}
    assert by_key["gdp"]["value"] == 12.7 and by_key["gdp"]["source"] == "confirmed"
    assert by_key["new_jobs"]["reason"] == "尚未统计"


def test_a_change_in_percentage_points_is_not_a_percentage():
    outline = import_text("一、生态\n森林覆盖率提高1.5个百分点。\n")
    assert "forest_cover" not in ki.extracted(list(ki.DEFAULT_CATALOGUE), outline)


def test_the_district_reviewer_edits_the_catalogue_on_its_page(client, as_user, world):
    login(client, "district_reviewer")
    html = get_html(client, "/indicator-catalogue?kind=annual_report")
    assert "gdp | 地区生产总值 | 亿元 | GDP" in html
    r = client.post("/indicator-catalogue?kind=annual_report", data={
        "csrf_token": csrf_from(html), "lines": "gdp | 地区生产总值 | 亿元 | GDP、生产总值\ntea | 茶叶产值 | 万元 |\n"})
    assert "/indicator-catalogue" in r.headers["Location"]
    items = as_user("qs_author").get("/indicator-catalogue?kind=annual_report").get_json()["items"]
    assert items == [{"key": "gdp", "name": "地区生产总值", "unit": "亿元", "synonyms": ["GDP", "生产总值"]},
                     {"key": "tea", "name": "茶叶产值", "unit": "万元", "synonyms": []}]


def test_a_town_author_sees_the_catalogue_but_no_form(client, world):
    login(client, "qs_author")
    html = get_html(client, "/indicator-catalogue")
    assert "地区生产总值" in html and 'name="lines"' not in html


def test_the_demo_rolls_up_last_years_work_reports(app):
    from workflow import plan_check, rollup
    from workflow.cycle_models import Cycle
    from workflow.db import db
    from workflow.models import User

    with app.app_context():
        db.drop_all()
        db.create_all()
    assert "demo data created" in app.test_cli_runner().invoke(args=["seed-demo"]).output
    with app.app_context():
        reviewer = db.session.scalar(db.select(User).where(User.username == "district_reviewer"))
        cycle = db.session.scalar(db.select(Cycle).where(Cycle.kind == "annual_report"))
        r = rollup.rollup(reviewer, cycle.id)
        assert r.reported == 2 and r.totals["gdp"].sum == 30.9  # 18.6 + 12.3
        qs = next(row for row in r.rows if row.org_unit_name == "青山镇")
        check = plan_check.check(db.session.get(Report, qs.report_id))
        assert [t.heading for t in check.tasks if not t.mentioned] == ["加强自身建设"]
        assert next(t for t in check.targets if t.key == "fixed_asset_investment").rate == round(2.2 / 2.4, 4)
