"""The installable app in a real browser (chromium): the service worker installs, caches the
static shell and nothing else, and when the network is down a report page is never shown from
a cache: the offline page answers instead, and the API fails rather than answering stale."""
from __future__ import annotations

import pytest

from tests.browser_support import ARTIFACTS, browser, login, require_chromium, serve  # noqa: F401  (fixture)
from tests.helpers import act, gen_report

require_chromium()
pytestmark = pytest.mark.browser

CACHED_URLS = """async () => {
    const urls = [];
    for (const name of await caches.keys()) {
        const cache = await caches.open(name);
        for (const request of await cache.keys()) {
            const url = new URL(request.url);
            urls.push(url.pathname + url.search);
        }
    }
    return urls.sort();
}"""


@pytest.fixture
def served(app, world):
    with app.app_context():
        rid = gen_report("qs").id
        act(rid, "qs_author", "submit")
    with serve(app) as base:
        yield base, rid


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_offline_a_report_page_is_never_shown_from_a_cache(served, browser, lang):
    base, rid = served
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    if lang == "en":
        page.goto(f"{base}/login")
        page.locator("form.lang button[value=en]").click()
        page.wait_for_load_state()
    login(page, base, "qs_reviewer")
    page.goto(f"{base}/reports/{rid}")
    assert page.evaluate("navigator.serviceWorker.ready.then(r => r.scope)") == f"{base}/"
    page.reload()  # now controlled by the worker
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    cdp = context.new_cdp_session(page)
    assert cdp.send("Page.getAppManifest")["errors"] == []
    # Chrome would offer "Install" (a test's browser context is incognito, where it never does).
    errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    assert [e["errorId"] for e in errors if e["errorId"] != "in-incognito"] == []
    assert page.evaluate("fetch('/api/v1/openapi.json').then(r => r.status)") == 200
    page.goto(f"{base}/reports/{rid}")
    page.wait_for_function("caches.keys().then(k => k.length > 0)")
    cached = page.evaluate(CACHED_URLS)
    assert "/static/app.css" in cached and f"/offline?lang={'en' if lang == 'en' else 'zh'}" in cached
    assert not [url for url in cached if url.startswith(("/reports", "/api/", "/login", "/cycles"))], cached
    assert all(url.startswith(("/static/", "/offline", "/favicon.ico", "/manifest.webmanifest", "/__chengbao-lang"))
               for url in cached), cached

    context.set_offline(True)
    page.goto(f"{base}/reports/{rid}")
    heading = page.locator("h1").inner_text()
    assert heading == ("No network" if lang == "en" else "没有网络")
    assert "青山镇2027年度工作计划" not in page.content()  # the report is not shown from any copy
    assert page.evaluate("fetch('/api/v1/openapi.json').then(() => 'answered', () => 'failed')") == "failed"
    ARTIFACTS.joinpath("review").mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "review" / f"offline-{lang}-390.png"))

    context.set_offline(False)
    page.goto(f"{base}/reports/{rid}")
    assert page.locator("h1.report-title").inner_text() == "青山镇2027年度工作计划"
    context.close()
