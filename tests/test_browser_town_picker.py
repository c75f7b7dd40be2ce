"""The town picker of the report list in a real browser (chromium): typing part of a name
offers the matching towns of one's scope; picking one filters the list by that town."""
from __future__ import annotations

import pytest

from tests.browser_support import browser, login, require_chromium, serve  # noqa: F401  (fixture)
from tests.helpers import gen_report

require_chromium()
pytestmark = pytest.mark.browser


def test_typing_offers_the_towns_in_scope_and_picking_one_filters_by_it(app, world, browser):
    with app.app_context():
        gen_report("qs", title="青山的报告")
        gen_report("xk", title="溪口的报告")
    with serve(app) as base:
        page = browser.new_page()
        login(page, base, "district_reviewer")
        page.goto(base + "/reports")
        town = page.locator("input[data-picker]")
        town.fill("溪")
        options = page.locator("#town-picks option")
        options.first.wait_for(state="attached")
        offered = [options.nth(i).get_attribute("value") for i in range(options.count())]
        assert offered == ["溪口镇"]  # 临湖镇 is outside the reviewer's district
        town.fill("溪口镇")
        town.press("Enter")
        page.wait_for_url("**org_unit_id=*")
        body = page.inner_text("main")
        assert "溪口的报告" in body and "青山的报告" not in body
        page.close()
