"""A real browser (Debian's chromium, driven by Playwright) runs a reporting cycle: the district
reviewer opens it with the form, a town's author starts the report from the to-do list, the
reviewer sees it on the matrix and reminds the towns that have not submitted. Screenshots of
the matrix at desktop (1366 px) and phone (390 px) width go to test-artifacts/."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from tests.browser_support import browser, login, logout, require_chromium, serve, shot  # noqa: F401  (fixture)
from tests.cycles_support import add_six_towns, bring_to, open_plan_cycle, today_local
from tests.helpers import CLEAN_TEXT
from workflow.cycle_models import Cycle, Reminder
from workflow.db import db

require_chromium()
pytestmark = pytest.mark.browser


@pytest.fixture
def six(app, world):
    with app.app_context():
        add_six_towns(world)
    return world


@pytest.fixture
def server(app, six):
    with serve(app) as base:
        yield base


def _status_of(page, town: str) -> str:
    row = page.locator("table.matrix tbody tr", has_text=town).first
    classes = row.locator(".badge[class*='mstatus-']").first.get_attribute("class")
    return next(c[len("mstatus-"):] for c in classes.split() if c.startswith("mstatus-"))


def test_a_cycle_is_opened_started_by_a_town_and_reminded_in_the_browser(app, server, browser, six):
    page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page.on("dialog", lambda dialog: dialog.accept())

    login(page, server, "district_reviewer")
    page.locator("nav.nav a", has_text="报送任务").click()
    page.wait_for_load_state()
    page.locator("a.btn", has_text="发布报送任务").first.click()
    page.wait_for_load_state()
    due = (today_local() + dt.timedelta(days=7)).isoformat()
    page.fill("input[name=title]", "2027年度工作计划")
    page.fill("input[name=due_date]", due)
    page.fill("textarea[name=instructions]", "请各镇于截止日期前报送年度工作计划。")
    page.fill("textarea[name=template]", "一、主要目标\n二、重点任务\n三、保障措施")
    assert page.locator("input[name=towns]:checked").count() == 6  # every town of the district, by default
    shot(page, "cycles-00-open-form-1366")
    page.locator("form.cycle-form button[type=submit]").click()
    page.wait_for_load_state()
    assert "报送任务已发布" in page.content()
    cycle_url = page.url
    assert page.locator("table.matrix tbody tr").count() == 6
    assert all(_status_of(page, town) == "not_started" for town in ("青山镇", "柳湾街道"))
    logout(page)

    login(page, server, "qs_author")
    task = page.locator(".task-card", has_text="2027年度工作计划")
    assert "剩 7 天" in task.inner_text()
    shot(page, "cycles-00-author-todo-1366")
    task.locator("a.btn", has_text="开始填报").click()
    page.wait_for_load_state()
    assert page.input_value("input[name=title]") == "青山镇2027年度工作计划"
    assert "一、主要目标" in page.input_value("textarea[name=text]")  # the cycle's outline, filled in
    page.fill("textarea[name=text]", CLEAN_TEXT)
    page.locator("form.editor-form button[type=submit]").click()
    page.wait_for_load_state()
    assert "/reports/" in page.url and "2027年度工作计划" in page.locator(".report-cycle").inner_text()
    page.locator("form:has(input[name=action][value=submit]) button[type=submit]").click()
    page.wait_for_load_state()
    logout(page)

    login(page, server, "district_reviewer")
    page.goto(cycle_url)
    assert _status_of(page, "青山镇") == "town_review"
    page.locator("details.remind-all > summary").click()
    page.fill("#remind-message", "请于本周五前报送")
    page.locator("details.remind-all button[type=submit]").click()
    page.wait_for_load_state()
    flash = page.locator(".flash-success").first.inner_text()
    assert flash.startswith("已催办 5 个单位") and "青山镇" not in flash
    with app.app_context():
        cycle_id = db.session.scalar(select(Cycle.id))
        reminded = {r.org_unit_id for r in db.session.scalars(select(Reminder).where(Reminder.cycle_id == cycle_id))}
    assert six["qs"] not in reminded and len(reminded) == 5
    row = page.locator("table.matrix tbody tr", has_text="溪口镇").first
    assert "—" not in row.locator("td[data-label='最近催办']").inner_text()
    shot(page, "cycles-01-matrix-after-reminding-1366")


def test_the_matrix_reads_at_desktop_and_phone_width(app, server, browser, six):
    with app.app_context():
        cycle = open_plan_cycle()
        for town, status in {"qs": "published", "xk": "returned", "sq": "district_review", "dl": "town_review",
                             "nt": "draft", "lw": "not_started"}.items():
            bring_to(cycle.id, town, six, status)
        cycle_id = cycle.id
        db.session.get(Cycle, cycle_id).due_date = today_local() - dt.timedelta(days=1)  # now past due
        db.session.commit()
    desktop = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    login(desktop, server, "district_reviewer")
    desktop.goto(f"{server}/cycles/{cycle_id}")
    overdue = desktop.locator("table.matrix tbody tr.overdue")
    assert overdue.count() == 3
    color = overdue.first.locator("td").first.evaluate("e => getComputedStyle(e).backgroundColor")
    assert color == "rgb(253, 236, 234)"  # the overdue rows are red
    shot(desktop, "cycles-02-matrix-1366")
    desktop.goto(f"{server}/cycles/year?year=2027")
    shot(desktop, "cycles-03-year-view-1366")

    phone = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True)
    login(phone, server, "district_reviewer")
    phone.goto(f"{server}/cycles/{cycle_id}")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling on a phone
    button = phone.locator("table.matrix tbody tr", has_text="南塘镇").locator("button", has_text="催办")
    assert button.bounding_box()["height"] >= 36
    shot(phone, "cycles-04-matrix-390")
    logout(phone)
    login(phone, server, "xk_author")
    phone.goto(f"{server}/")
    assert phone.locator(".returned-badge").first.is_visible()
    shot(phone, "cycles-05-author-todo-390")
    phone.locator("a.row-link").first.click()
    phone.wait_for_load_state()
    assert phone.locator(".returned-card").is_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    shot(phone, "cycles-06-returned-report-390")
