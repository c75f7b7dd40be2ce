"""The bell and the notification list in a real browser (chromium), at phone and desktop
width: the unread count on every page, opening a notification lands on its report and
lowers the count. Screenshots go to test-artifacts/."""
from __future__ import annotations

import pytest

from tests.browser_support import browser, login, require_chromium, serve, shot  # noqa: F401  (fixture)
from tests.helpers import act, gen_report, get_user
from tests.test_notifications import deliver
from workflow import services

require_chromium()
pytestmark = pytest.mark.browser


@pytest.fixture
def served(app, world):
    with app.app_context():
        first = gen_report("qs").id
        act(first, "qs_author", "submit")
        act(first, "qs_reviewer", "return", "第二部分“发展乡村旅游”缺少2026年完成情况，请补充后重新提交。")
        second = gen_report("qs", title="青山镇2026年工作总结", kind="annual_report", year=2026).id
        act(second, "qs_author2", "submit")
        services.add_comment(get_user("qs_reviewer"), second, body="请补充民生实事的资金来源。")
        deliver()
    with serve(app) as base:
        yield base, first


@pytest.mark.parametrize("width", [390, 1280])
def test_the_bell_and_the_list_at_phone_and_desktop_width(served, browser, width):
    base, returned_id = served
    page = browser.new_page(viewport={"width": width, "height": 844 if width == 390 else 900})
    login(page, base, "qs_author")
    bell = page.locator("a.bell")
    assert bell.is_visible() and page.locator(".bell-count").inner_text() == "2"
    box = bell.bounding_box()
    assert box["width"] >= 44 and box["height"] >= 44 and box["x"] + box["width"] <= width
    bell.click()
    page.wait_for_load_state()
    assert page.url.endswith("/notifications")
    cards = page.locator("li.notification.unread")
    assert cards.count() == 2
    assert page.get_by_text("《青山镇2027年度工作计划》被退回").is_visible()
    assert page.get_by_text("第二部分“发展乡村旅游”缺少2026年完成情况", exact=False).is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    shot(page, f"notifications-{width}")

    page.get_by_text("《青山镇2027年度工作计划》被退回").click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/reports/{returned_id}")
    assert page.locator(".bell-count").inner_text() == "1"
    page.goto(f"{base}/notifications")
    page.get_by_role("button", name="全部标为已读").click()
    page.wait_for_load_state()
    assert page.locator(".bell-count").count() == 0 and page.locator("li.notification.unread").count() == 0
    shot(page, f"notifications-read-{width}")
    page.close()
