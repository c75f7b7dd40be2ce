"""The draft editor in a real browser (issue 9): problems re-checked on the server as the
author types, a click on a problem selecting its text in the box, and 转换为全角 converting
half-width punctuation in the box — shown to the author, saved only when they save."""
from __future__ import annotations

import pytest

from tests.browser_support import browser, login, require_chromium, serve, shot  # noqa: F401  (fixture)
from tests.helpers import gen_report
from workflow.db import db
from workflow.models import Report

require_chromium()
pytestmark = pytest.mark.browser

TEXT = "一、发展特色产业\n新建茶园800亩,培育家庭农场15家。\n二、办好民生实事\n建成民宿集聚区1个。"


@pytest.fixture
def served(app, world):
    with app.app_context():
        rid = gen_report("qs", text=TEXT).id
    with serve(app) as base:
        yield base, rid


@pytest.mark.parametrize("width", [1280, 390])
def test_the_editor_checks_as_the_author_types_and_converts_to_full_width(served, browser, app, width):
    base, rid = served
    page = browser.new_page(viewport={"width": width, "height": 900}, locale="zh-CN")
    login(page, base, "qs_author")
    page.goto(f"{base}/reports/{rid}/edit")
    assert page.locator("#halfwidth-tools").is_visible()
    box = page.locator("textarea[name=text]")

    # Typing a placeholder: after the pause the panel lists it, without a save.
    box.press("Control+End")
    box.type("\n三、其他\n完成投资x万元。")
    page.wait_for_selector("#live-problems li.problem.sev-error", timeout=10_000)
    assert "占位符“x万元”未填写" in page.locator("#live-problems").inner_text()
    assert page.locator("#side-head").inner_text() == "当前文本中的问题（尚未保存）"
    shot(page, f"editor-live-{width}")

    # A click on the problem selects its excerpt in the box.
    page.locator("#live-problems li.problem.sev-error button.jump-to").first.click()
    selected = page.evaluate("() => { const t = document.getElementById('text');"
                             " return t.value.slice(t.selectionStart, t.selectionEnd); }")
    assert "x万元" in selected

    # 转换为全角: the box changes, the author is told, the warning goes after the re-check.
    page.locator("#to-fullwidth").click()
    assert "新建茶园800亩，培育家庭农场15家。" in box.input_value()
    assert "已将1处标点转换为全角" in page.locator("#fullwidth-done").inner_text()
    page.wait_for_selector("#halfwidth-tools", state="hidden", timeout=10_000)
    with app.app_context():
        assert "," in db.session.get(Report, rid).current.outline["sections"][0]["paragraphs"][0]  # not saved
