"""Accessibility in a real browser (chromium): axe-core checks every main page at desktop
(1366 px) and phone (390 px) width, in Chinese and in English, and finds no serious or
critical violation; the reviewer's report page has 44 × 44 px tap targets on a phone; a
report goes from submit to approval with the keyboard alone (Tab, Enter, Space).

axe-core is vendored under tests/vendor/axe-core/ (MPL-2.0) and injected into each page with
Playwright's ``add_script_tag``; the app never serves it. The counts per page go to
test-artifacts/review/axe.json, the screenshots beside them."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.browser_support import ARTIFACTS, browser, login, require_chromium, serve  # noqa: F401  (fixture)
from tests.cycles_support import add_six_towns, bring_to, open_plan_cycle
from tests.helpers import act, gen_report, get_user
from tests.test_notifications import deliver
from workflow import seen, services
from workflow.db import db
from workflow.models import Report

require_chromium()
pytestmark = pytest.mark.browser
AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
OUT = ARTIFACTS / "review"
WIDTHS = {"desktop": (1366, 900), "phone": (390, 844)}
BLOCKING_IMPACTS = ("serious", "critical")
EDITED_TEXT = """为做好本年度工作，现将计划报告如下。
一、发展特色产业
（一）抓好茶叶产业
新建茶园1000亩，培育家庭农场20家，茶叶产值达到1.2亿元。
（二）发展乡村旅游
建成民宿集聚区1个，接待游客12万人次。
二、办好民生实事
完成中心小学运动场改造，新增养老床位40张，资金来源为区级财政补助。
三、加强基层治理
推进网格化管理全覆盖。
"""

# A draft pasted before the figures were filled in: more problems than the side panel shows at once.
MANY_PROBLEMS = "现将计划报告如下。\n" + "".join(
    f"{n}、{heading}\n完成投资x万元，新建项目xx个，覆盖20xx年全部村居。\n"
    for n, heading in zip("一二三四五六七八九十", ("经济发展", "项目建设", "乡村振兴", "生态环境", "社会事业",
                                                  "民生保障", "平安建设", "基层治理", "营商环境", "自身建设")))


@pytest.fixture
def site(app, world):
    """A district in mid-season: an open cycle with towns at every status, a report in district
    review that was returned once and edited since, a returned draft with open review comments
    and problems, and delivered notifications."""
    ids: dict[str, int] = {}
    with app.app_context():
        add_six_towns(world)
        cycle = open_plan_cycle()
        ids["cycle"] = cycle.id
        for town, status in (("sq", "draft"), ("dl", "town_review"), ("nt", "published")):
            bring_to(cycle.id, town, world, status)
        # 青山镇: submitted, returned by the district, edited, resubmitted, approved by the town.
        review = gen_report("qs")
        ids["review"] = review.id
        act(review.id, "qs_author", "submit")
        act(review.id, "qs_reviewer", "approve")
        seen.mark_seen(get_user("district_reviewer"), db.session.get(Report, review.id))  # read version 1
        act(review.id, "district_reviewer", "return", "请补充资金来源和基层治理部分。")
        report = db.session.get(Report, review.id)
        services.update_draft(get_user("qs_author"), review.id, version=report.version, title=report.current.title,
                              text=EDITED_TEXT)
        act(review.id, "qs_author", "submit")
        act(review.id, "qs_reviewer", "approve")
        services.add_comment(get_user("district_reviewer"), review.id, body="第一部分的产值目标请说明测算依据。")
        # 溪口镇: a draft with placeholders (problems), returned with a comment to answer.
        draft = gen_report("xk", text=MANY_PROBLEMS, title="溪口镇2027年度工作计划")
        ids["draft"] = draft.id
        services.add_comment(get_user("xk_reviewer"), draft.id, body="请把投资额写实。")
        ids["clean"] = gen_report("qs", author="qs_author2", title="青山镇2027年民生实事计划").id
        ids["qs_author"] = world["qs_author"]
        ids["qs"] = world["qs"]
        deliver()
    with serve(app) as base:
        yield base, ids


def _pages(ids: dict[str, int]) -> list[tuple[str, str | None, str]]:
    """(name, who is logged in, path) of every main page."""
    return [
        ("login", None, "/login"),
        ("verify", None, "/verify"),
        ("todo", "district_reviewer", "/"),
        ("list", "district_reviewer", "/reports"),
        ("report-review", "district_reviewer", f"/reports/{ids['review']}"),
        ("diff", "district_reviewer", f"/reports/{ids['review']}/diff"),
        ("versions", "district_reviewer", f"/reports/{ids['review']}/versions"),
        ("cycles", "district_reviewer", "/cycles"),
        ("matrix", "district_reviewer", f"/cycles/{ids['cycle']}"),
        ("notifications", "district_reviewer", "/notifications"),
        ("archive", "district_reviewer", "/archive"),
        ("report-draft", "xk_author", f"/reports/{ids['draft']}"),
        ("new-report", "xk_author", "/reports/new"),
        ("edit", "xk_author", f"/reports/{ids['draft']}/edit"),
        ("admin", "admin", "/admin/"),
        ("admin-users", "admin", "/admin/users"),
        ("admin-user", "admin", f"/admin/users/{ids['qs_author']}"),
        ("admin-unit", "admin", f"/admin/units/{ids['qs']}"),
        ("password", "xk_author", "/password"),
    ]


def _english(page, base: str) -> None:
    page.goto(f"{base}/verify")
    page.locator("form.lang button[value=en]").click()
    page.wait_for_load_state()


def axe_violations(page) -> list[dict]:
    """axe-core's violations of the page as loaded (WCAG 2.x A/AA rules and best practices)."""
    page.add_script_tag(path=str(AXE))
    return page.evaluate("""async () => {
        const result = await axe.run(document, {resultTypes: ["violations"]});
        return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map(n => ({target: n.target.join(" "), summary: n.failureSummary}))}));
    }""")


def test_axe_finds_no_serious_or_critical_violation_on_any_main_page(site, browser):
    base, ids = site
    (OUT / "pages").mkdir(parents=True, exist_ok=True)
    counts: dict[str, dict[str, int]] = {}
    serious: list[str] = []
    for lang in ("zh", "en"):
        for width_name, (width, height) in WIDTHS.items():
            # bypass_csp: the page's policy (script-src 'self') would refuse the injected axe script.
            context = browser.new_context(viewport={"width": width, "height": height}, bypass_csp=True,
                                          is_mobile=width_name == "phone", has_touch=width_name == "phone")
            page = context.new_page()
            who_now: str | None = "nobody yet"
            for name, who, path in _pages(ids):
                if who != who_now:
                    context.clear_cookies()
                    if lang == "en":
                        _english(page, base)
                    if who:
                        login(page, base, who)
                    who_now = who
                page.goto(base + path)
                assert page.url.endswith(path), (name, page.url)
                violations = axe_violations(page)
                key = f"{name} {lang} {width_name}"
                counts[key] = {impact: sum(1 for v in violations if v["impact"] == impact)
                               for impact in ("minor", "moderate", "serious", "critical")}
                for v in violations:
                    if v["impact"] in BLOCKING_IMPACTS:
                        serious.append(f"{key}: {v['id']} ({v['impact']}) {v['help']} — "
                                       + "; ".join(n["target"] for n in v["nodes"][:4]))
                page.screenshot(path=str(OUT / "pages" / f"{name}-{lang}-{width}.png"))
                if name.startswith("report-review"):
                    page.screenshot(path=str(OUT / f"report-{lang}-{width}.png"), full_page=True)
                    page.screenshot(path=str(OUT / f"report-{lang}-{width}-first-screen.png"))
                if width_name == "phone":
                    assert page.evaluate("document.documentElement.scrollWidth") <= width, key
            context.close()
    (OUT / "axe.json").write_text(json.dumps({"counts": counts, "serious": serious}, ensure_ascii=False, indent=1))
    assert serious == []


# Every visible control of the header and the page, measured; a radio or a checkbox counts with
# the label that wraps it (tapping the label ticks it); text fields need the height only.
MEASURE_TARGETS = """() => {
    const controls = "main a[href], main button, main summary, main input:not([type=hidden]), main select, "
        + "main textarea, header a[href], header button";
    const wide = ["text", "textarea", "select-one", "search", "password", "number", "file"];
    const out = [];
    const seen = new Set();
    for (const el of document.querySelectorAll(controls)) {
        const r = el.getBoundingClientRect();
        if (r.width === 0 || r.height === 0 || getComputedStyle(el).visibility === "hidden") continue;
        const tick = (el.type === "radio" || el.type === "checkbox") && el.closest("label");
        const target = tick ? el.closest("label") : el;
        if (seen.has(target)) continue;
        seen.add(target);
        const box = target.getBoundingClientRect();
        if (box.height < 44 || (!wide.includes(el.type) && box.width < 44)) {
            const text = (el.innerText || el.value || el.name || "").trim().slice(0, 20);
            const size = `${Math.round(box.width)}x${Math.round(box.height)}`;
            out.push(`${el.tagName.toLowerCase()}.${el.className} "${text}" ${size}`);
        }
    }
    return [seen.size, out];
}"""


def _too_small(page) -> list[str]:
    """Every visible control of the page smaller than 44 × 44 CSS px (text fields: 44 px high)."""
    checked, small = page.evaluate(MEASURE_TARGETS)
    assert checked >= 20, checked  # the header's and the page's controls were all measured
    return small


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_reviewers_report_page_fits_a_thumb_on_a_390_px_phone(site, browser, lang):
    base, ids = site
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    if lang == "en":
        _english(page, base)
    login(page, base, "district_reviewer")
    page.goto(f"{base}/reports/{ids['review']}")
    # Open the return form too: its textarea and button are controls of the page.
    page.locator("details.with-reason > summary").first.click()
    assert _too_small(page) == []
    # The first screen: the state, what changed since the reviewer last looked, open comments
    # and problems, and both decisions.
    fold = 844
    for selector in (".report-head .badge[class*='state-']", ".seen-changes", ".review-summary",
                     "form:has(input[name=action][value=approve]) button[type=submit]",
                     "details:has(input[name=action][value=return]) > summary"):
        box = page.locator(selector).first.bounding_box()
        assert box is not None and box["y"] + box["height"] <= fold, (selector, box)
    summary = page.locator(".seen-changes").inner_text()
    assert ("修改 2 节" if lang == "zh" else "2 sections changed") in summary, summary
    textarea = page.locator("textarea[name=comment]").first
    assert textarea.get_attribute("enterkeyhint") and textarea.bounding_box()["height"] >= 88
    # The page does not scroll sideways on a phone, and every navigation link is whole on screen
    # (in English they used to be cut: "Adminis", "Ve").
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    nav = page.locator("nav.nav")
    assert nav.evaluate("n => n.scrollWidth <= n.clientWidth")
    for link in nav.locator("a").all():
        box = link.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, (link.inner_text(), box)
    page.screenshot(path=str(OUT / f"report-thumb-{lang}.png"))
    context.close()


def _tab_to(page, selector: str, limit: int = 250) -> None:
    """Press Tab until the focused element matches ``selector``; it must show where the focus is."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
            assert outline != "none", f"{selector} has the focus but shows no outline"
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_submit_then_approve_with_the_keyboard_alone(site, browser):
    base, ids = site
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    # The draft's problems panel scrolls on its own: the keyboard reaches it and scrolls it.
    login(page, base, "xk_author")
    page.goto(f"{base}/reports/{ids['draft']}/edit")
    _tab_to(page, "aside.side")
    page.keyboard.press("PageDown")
    # Polled from here: the page's CSP forbids the eval that wait_for_function would need.
    deadline = time.monotonic() + 5
    while page.evaluate("document.querySelector('aside.side').scrollTop") == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert page.evaluate("document.querySelector('aside.side').scrollTop") > 0
    context.clear_cookies()

    login(page, base, "qs_author")
    page.goto(f"{base}/reports/{ids['clean']}")
    _tab_to(page, "form:has(input[name=action][value=submit]) button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Space")
    assert page.locator(".report-head .badge.state-town_review").count() == 1
    context.clear_cookies()

    login(page, base, "qs_reviewer")
    page.goto(f"{base}/reports/{ids['clean']}")
    _tab_to(page, "form:has(input[name=action][value=approve]) button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator(".report-head .badge.state-district_review").count() == 1
    context.close()
