"""A real browser (chromium via Playwright) opens the roll-up of a cycle: the ECharts bar chart
is drawn from the vendored script under the page's CSP (no console errors), switching the
indicator redraws it, and the line across years is there. Screenshots at 1366 px and 390 px go
to test-artifacts/."""
from __future__ import annotations

import pytest

from tests.browser_support import browser, login, require_chromium, serve, shot  # noqa: F401  (fixture)
from tests.test_plan_check import planned  # noqa: F401  (fixture)
from tests.test_rollup import seeded  # noqa: F401  (fixture)

require_chromium()
pytestmark = pytest.mark.browser


def test_the_district_looks_at_the_rollup_chart(app, browser, seeded):
    with serve(app) as base:
        page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        login(page, base, "district_reviewer")
        page.goto(f"{base}/cycles/{seeded['cycle']}")
        page.locator("a.btn", has_text="主要指标汇总").click()
        page.wait_for_load_state()
        page.wait_for_selector("#bar-chart canvas")
        assert page.locator("#line-chart canvas").count() == 1
        assert "145.5" in page.locator("#rollup-table tfoot").inner_text()
        shot(page, "rollup-01-gdp-1366")
        page.locator("#indicator-chips a", has_text="一般公共预算收入").click()
        assert "indicator=budget_revenue" in page.url
        page.locator("#years-summary").click()
        assert "一般公共预算收入" in page.locator("#years-summary").inner_text()
        assert page.locator("#years-foot td.num").last.inner_text() == "9,100.3"  # 3200 + 2800 + 0.3 + 3100
        shot(page, "rollup-02-revenue-1366")
        assert problems == []

        phone = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN", device_scale_factor=2)
        login(phone, base, "district_reviewer")
        phone.goto(f"{base}/cycles/{seeded['cycle']}/rollup")
        phone.wait_for_selector("#bar-chart canvas")
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, width
        shot(phone, "rollup-03-phone-390")


def test_the_reviewer_reads_the_plan_check_on_a_phone(app, browser, as_user, planned):
    from tests.test_plan_check import _write_summary

    _write_summary(as_user, planned)
    as_user("qs_author").act(planned["report"], "submit")
    with serve(app) as base:
        phone = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN", device_scale_factor=2)
        login(phone, base, "district_reviewer")
        phone.goto(f"{base}/reports/{planned['report']}/plan-check")
        assert phone.locator(".plan-task.unmentioned").count() == 2
        assert "90.0%" in phone.locator("#targets-head + .table-wrap").inner_text()
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, width
        shot(phone, "rollup-04-plan-check-390")


def test_the_author_confirms_key_indicators_on_a_phone(app, browser, as_user, world):
    from tests.helpers import create
    from tests.test_key_indicators import SUMMARY

    report = create(as_user("qs_author"), world, text=SUMMARY, title="青山镇2026年工作总结", kind="annual_report",
                    year=2026)
    with serve(app) as base:
        phone = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN", device_scale_factor=2)
        login(phone, base, "qs_author")
        phone.goto(f"{base}/reports/{report['id']}#key-indicators")
        assert phone.locator("input[name=v_gdp]").input_value() == "12.5"
        assert phone.locator("input[name=v_budget_revenue]").input_value() == "3200"  # 0.32亿元, not 3.2E+3
        phone.fill("input[name=v_gdp]", "12.6")
        phone.fill("input[name=r_new_jobs]", "统计部门尚未反馈")
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, width
        phone.locator("#key-indicators").screenshot(path=str(_artifact("rollup-05-key-indicators-390")))
        phone.locator("form.key-form button[type=submit]").click()
        phone.wait_for_load_state()
        assert "主要指标已确认" in phone.content()
        assert phone.locator("input[name=v_gdp]").input_value() == "12.6"


def _artifact(name: str):
    from tests.browser_support import ARTIFACTS

    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / f"{name}.png"


def test_axe_finds_nothing_serious_on_the_rollup_and_plan_check_pages(app, browser, as_user, seeded, planned):
    from tests.test_browser_a11y import BLOCKING_IMPACTS, axe_violations
    from tests.test_plan_check import _write_summary

    _write_summary(as_user, planned)
    with serve(app) as base:
        for width, height in ((1366, 900), (390, 844)):
            # bypass_csp: the page's policy (script-src 'self') would refuse the injected axe script.
            context = browser.new_context(viewport={"width": width, "height": height}, bypass_csp=True,
                                          locale="zh-CN")
            page = context.new_page()
            login(page, base, "district_reviewer")
            for path in (f"/cycles/{seeded['cycle']}/rollup", f"/reports/{planned['report']}/plan-check",
                         "/indicator-catalogue"):
                page.goto(base + path)
                page.wait_for_load_state()
                serious = [v for v in axe_violations(page) if v["impact"] in BLOCKING_IMPACTS]
                assert serious == [], (path, width, serious)
            context.close()
