"""A real browser (Debian's chromium, driven by Playwright) takes a report from paste to
publication, in Chinese, at desktop and phone width, and saves screenshots.

Runs wherever chromium is installed; CI installs it and sets CHENGBAO_REQUIRE_BROWSER=1
so that a missing browser fails instead of skipping."""
from __future__ import annotations

import pytest

from tests.browser_support import browser, login, logout, require_chromium, serve, shot  # noqa: F401  (fixture)
from tests.helpers import CLEAN_TEXT
from tests.jobs_support import jobs_app, redis_url, run_worker  # noqa: F401  (fixtures)

require_chromium()
pytestmark = pytest.mark.browser


@pytest.fixture
def server(jobs_app, world):
    """The app on a real socket, with a real Redis and the district's development signing key."""
    result = jobs_app.test_cli_runner().invoke(args=["dev-keys"])
    assert result.exit_code == 0, result.output
    with serve(jobs_app) as base:
        yield base


def _act(page, action: str, reason: str | None = None) -> None:
    form = page.locator(f"form:has(input[name=action][value={action}])").first
    if reason is not None:  # the reason form opens from its summary button, as a person would click it
        page.locator(f"details:has(input[name=action][value={action}]) > summary").first.click()
        form.locator("textarea[name=comment]").fill(reason)
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()


def _state_badge(page) -> str:
    classes = page.locator("span.badge[class*='state-']").first.get_attribute("class")
    return next(c[len("state-"):] for c in classes.split() if c.startswith("state-"))


def test_a_report_goes_from_paste_to_published_in_the_browser(server, browser, jobs_app):
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page.on("dialog", lambda dialog: dialog.accept())

    login(page, server, "qs_author")
    assert "我的待办" in page.content()
    page.goto(f"{server}/reports/new")
    page.fill("input[name=title]", "青山镇2027年度工作计划<script>alert(1)</script>")
    page.fill("input[name=year]", "2027")
    page.fill("textarea[name=text]", CLEAN_TEXT)
    shot(page, "01-new-report")
    page.locator("form:has(textarea[name=text]) button[type=submit]").click()
    page.wait_for_load_state()
    assert "/reports/" in page.url
    report_url = page.url
    assert "发展特色产业" in page.content()
    assert page.locator("h1").first.inner_text().endswith("<script>alert(1)</script>")  # shown, not run
    assert _state_badge(page) == "draft"
    shot(page, "02-draft")
    _act(page, "submit")
    assert _state_badge(page) == "town_review"
    logout(page)

    login(page, server, "qs_reviewer")
    page.goto(report_url)
    _act(page, "approve")
    assert _state_badge(page) == "district_review"
    logout(page)

    phone = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True)
    phone.on("dialog", lambda dialog: dialog.accept())
    login(phone, server, "district_reviewer")
    phone.goto(report_url)
    shot(phone, "03-district-review-phone")
    _act(phone, "return", reason="民生部分请补充资金来源")
    assert _state_badge(phone) == "draft"
    assert "民生部分请补充资金来源" in phone.content()
    logout(phone)

    login(page, server, "qs_author")
    page.goto(report_url)
    _act(page, "submit")
    logout(page)
    login(page, server, "qs_reviewer")
    page.goto(report_url)
    _act(page, "approve")
    logout(page)

    login(phone, server, "district_reviewer")
    phone.goto(report_url)
    _act(phone, "approve")
    assert _state_badge(phone) == "published"
    assert phone.locator(".pdf-progress progress").is_visible()  # queued: a progress bar
    shot(phone, "04-publishing-phone")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling on a phone

    run_worker(jobs_app)  # a real RQ worker renders, signs and archives; the page polls meanwhile
    link = phone.locator(f"a[href^='{report_url.removeprefix(server)}/pdf']").first
    link.wait_for(timeout=15_000)  # the progress bar turned into the download link without a reload
    shot(phone, "05-published-phone")
    pdf = phone.request.get(server + link.get_attribute("href"))
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")
