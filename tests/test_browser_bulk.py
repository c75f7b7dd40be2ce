"""In a real browser at phone width: the district reviewer searches "高标准农田", finds the three
plans that mention it, selects the clean reports in district review with one tap, approves
them at once, and sees which one failed and why. Screenshots go to test-artifacts/."""
from __future__ import annotations

import pytest

from tests.browser_support import browser, require_chromium, serve, shot  # noqa: F401  (fixture)
from tests.helpers import PASSWORD, act, advance, gen_report, get_user
from workflow import services
from workflow.db import db
from workflow.models import Report

require_chromium()
pytestmark = pytest.mark.browser

PLAN = """现将计划报告如下。
一、发展现代农业
新建高标准农田{n}亩，改造灌溉渠道12公里。
二、办好民生实事
完成中心小学运动场改造。
"""
OTHER = """现将计划报告如下。
一、发展特色产业
新建茶园800亩，培育家庭农场15家。
"""


@pytest.fixture
def server(app, world):
    with serve(app) as base:
        yield base


def test_the_district_reviewer_searches_selects_the_clean_ones_and_approves_them_at_once(app, server, browser):
    with app.app_context():
        plans = [advance(gen_report(town, title=f"{name}2027年度工作计划", text=PLAN.format(n=n)).id,
                         "district_review", town=town).id
                 for town, name, n in (("qs", "青山镇", 3000), ("xk", "溪口镇", 1200), ("qs", "青山镇补充", 800))]
        other = advance(gen_report("xk", title="溪口镇2027年度茶叶计划", text=OTHER).id, "district_review",
                        town="xk").id
        services.add_comment(get_user("district_reviewer"), plans[1], body="灌溉渠道的长度请核实")
        gen_report("lh", title="临湖镇2027年度工作计划", text=PLAN.format(n=9))  # another district's

    page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                            has_touch=True)
    page.goto(f"{server}/login")
    page.fill("input[name=username]", "district_reviewer")
    page.fill("input[name=password]", PASSWORD)
    page.locator("form:has(input[name=password]) button[type=submit]").click()
    page.wait_for_load_state()

    # Search: the three plans that mention it, the match marked in each snippet.
    page.goto(f"{server}/reports")
    page.fill("input[name=q]", "高标准农田")
    page.locator("form.filters button[type=submit]").click()
    page.wait_for_load_state()
    marks = page.locator("p.snippet mark")
    assert marks.count() == 3 and set(marks.all_inner_texts()) == {"高标准农田"}
    assert "临湖镇" not in page.locator("table.list").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "bulk-search-390")

    # The reports in district review: select the clean ones with one tap.
    page.goto(f"{server}/reports?state=district_review")
    boxes = page.locator('input[name="items"]')
    assert boxes.count() == 4
    page.locator("[data-select-clean]").click()
    checked = {int(b.get_attribute("value").split(":")[0]) for b in boxes.all() if b.is_checked()}
    assert checked == {plans[0], plans[2], other}  # not the one with an open comment
    assert page.locator(".bulk-bar [data-bulk-count]").inner_text() == "已选 3 份"
    # Tap targets: the checkbox's label and the approve button are at least 44 px.
    for target in (page.locator("label.bulk-pick").first, page.locator(".bulk-bar button[type=submit]")):
        box = target.bounding_box()
        assert box["width"] >= 44 and box["height"] >= 44, box
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.locator(".bulk-comment summary").click()  # the common opinion is one tap away
    page.fill("#bulk-comment", "同意发布")
    shot(page, "bulk-selected-390")

    # Meanwhile one of them changes: returned, corrected and sent up again.
    with app.app_context():
        act(plans[2], "district_reviewer", "return", "请补充")
        report = db.session.get(Report, plans[2])
        services.update_draft(get_user("qs_author"), plans[2], version=report.version, text=PLAN.format(n=900))
        act(plans[2], "qs_author", "submit")
        act(plans[2], "qs_reviewer", "approve")

    page.locator(".bulk-bar button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator(".bulk-result.ok").count() == 2
    failed = page.locator(".bulk-result.failed")
    assert failed.count() == 1 and "青山镇补充" in failed.inner_text() and "报告已被他人修改" in failed.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "bulk-result-390")
    with app.app_context():
        db.session.expire_all()
        assert [db.session.get(Report, rid).state for rid in (plans[0], plans[1], plans[2], other)] == [
            "published", "district_review", "district_review", "published"]

    # The desktop list with a search, for the record.
    desk = browser.new_page(viewport={"width": 1366, "height": 900})
    desk.context.add_cookies(page.context.cookies())
    desk.goto(f"{server}/reports?q=高标准农田")
    assert desk.locator("p.snippet mark").count() == 3
    shot(desk, "bulk-search-1366")
