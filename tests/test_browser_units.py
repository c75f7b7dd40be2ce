"""The "add a unit" form in a real browser: choosing a parent picks the kind one level below
it and greys out the kinds that cannot sit under it (static/unit-kind.js)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.browser_support import browser, login, require_chromium, serve  # noqa: F401  (fixture)
from workflow import admin
from workflow.db import db
from workflow.models import OrgUnit

require_chromium()


@pytest.fixture
def server(app, world):
    with app.app_context():
        city = admin.add_org_unit(None, name="北山市", kind="city")
        admin.grant_position(None, user_id=world["admin"], org_unit_id=city.id, role="admin")
    with serve(app) as base:
        yield base


def test_choosing_a_parent_picks_the_kind_below_it(app, server, browser, world):
    page = browser.new_page(viewport={"width": 390, "height": 844})
    login(page, server, "admin")
    page.goto(f"{server}/admin/")
    parent, kind = page.locator("select[name=parent_id]"), page.locator("select[name=kind]")

    def disabled() -> list[str]:
        return kind.evaluate("s => Array.from(s.options).filter(o => o.disabled).map(o => o.value)")

    parent.select_option(label="北山市")
    assert kind.input_value() == "district" and disabled() == ["province", "city"]
    parent.select_option(value=str(world["district"]))
    assert kind.input_value() == "town" and disabled() == ["province", "city", "district", "county"]
    parent.select_option(label="北山市")
    page.fill("input[name=name]", "北山新区")
    page.locator("form.unit-form button[type=submit]").click()
    page.wait_for_load_state()
    assert "北山新区" in page.locator("ul.tree").inner_text()
    with app.app_context():
        assert db.session.scalar(select(OrgUnit.kind).where(OrgUnit.name == "北山新区")) == "district"
