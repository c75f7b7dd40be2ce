"""Accounts in a real browser (chromium): twenty wrong passwords lock the name and the login
page says for how long; the password page at phone and desktop width, in Chinese and English,
and a change there logs the other browser out. Screenshots go to test-artifacts/."""
from __future__ import annotations

import pytest

from tests.browser_support import browser, login, logout, require_chromium, serve, shot  # noqa: F401  (fixture)
from tests.helpers import PASSWORD

require_chromium()
pytestmark = pytest.mark.browser

NEW_PASSWORD = "a-new-passphrase-9"


@pytest.fixture
def served(app, world):
    with serve(app) as base:
        yield base


def _try(page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.locator("form:has(input[name=password]) button[type=submit]").click()
    page.wait_for_load_state()


def test_twenty_wrong_passwords_lock_the_name_and_the_page_says_for_how_long(app, served, browser):
    # The per-name throttle (10 a minute by default) would answer first: this is the lockout's story.
    app.config.update(LOGIN_LIMIT_PER_ACCOUNT="100 per minute", LOGIN_LIMIT_PER_ADDRESS="100 per minute")
    page = browser.new_page(viewport={"width": 390, "height": 844})
    for attempt in range(1, 20):
        _try(page, served, "qs_author", f"wrong-{attempt}")
        assert page.locator(".flash-error").inner_text() == "用户名或密码错误。"
    _try(page, served, "qs_author", "wrong-20")
    message = page.locator(".flash-error").inner_text()
    assert "登录失败次数过多：该用户名已锁定 15 分钟" in message and "管理员可提前解除锁定" in message
    shot(page, "login-locked-390")
    _try(page, served, "qs_author", PASSWORD)
    assert "/login" in page.url and "已锁定" in page.locator(".flash-error").inner_text()
    page.close()


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("width", [390, 1280])
def test_the_password_page_at_phone_and_desktop_width(served, browser, width, language):
    page = browser.new_page(viewport={"width": width, "height": 844 if width == 390 else 900})
    login(page, served, "qs_author")
    if language == "en":
        page.get_by_role("button", name="English").click()
        page.wait_for_load_state()
    page.locator("a.who-link").click()
    page.wait_for_load_state()
    assert page.url.endswith("/password")
    heading = "Change password" if language == "en" else "修改密码"
    assert page.locator("h1").inner_text() == heading
    for name in ("current_password", "new_password", "confirm"):
        box = page.locator(f"input[name={name}]").bounding_box()
        assert box["height"] >= 40 and box["x"] + box["width"] <= width
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    # A rule broken: the page says which, in the reader's language.
    page.fill("input[name=current_password]", PASSWORD)
    page.fill("input[name=new_password]", "qs_author-2027")
    page.fill("input[name=confirm]", "qs_author-2027")
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    expected = "The password must not contain the username." if language == "en" else "密码不能包含用户名。"
    assert page.locator(".flash-error").inner_text() == expected
    shot(page, f"password-change-{language}-{width}")
    page.close()


def test_a_password_change_logs_the_other_browser_out(served, browser):
    elsewhere = browser.new_context().new_page()
    login(elsewhere, served, "qs_author")
    here = browser.new_context().new_page()
    login(here, served, "qs_author")
    here.goto(f"{served}/password")
    here.fill("input[name=current_password]", PASSWORD)
    here.fill("input[name=new_password]", NEW_PASSWORD)
    here.fill("input[name=confirm]", NEW_PASSWORD)
    here.locator("main form button[type=submit]").click()
    here.wait_for_load_state()
    assert "/login" not in here.url and "密码已修改" in here.locator(".flash").first.inner_text()
    elsewhere.goto(f"{served}/reports")
    assert "/login" in elsewhere.url
    here.goto(f"{served}/reports")
    assert "/login" not in here.url
    logout(here)
    assert "/login" in here.url


@pytest.mark.parametrize("width", [390, 1280])
def test_the_admin_sees_the_lockout_and_the_record_and_lifts_it(app, served, browser, width):
    app.config.update(LOGIN_LOCKOUT_FAILURES=3)
    page = browser.new_page(viewport={"width": width, "height": 844 if width == 390 else 900})
    for attempt in range(3):
        _try(page, served, "qs_author", f"wrong-{attempt}")
    login(page, served, "admin")
    page.goto(f"{served}/admin/users")
    page.get_by_role("link", name="qs_author").first.click()
    page.wait_for_load_state()
    assert page.locator(".account .badge.sev-error").inner_text().startswith("锁定至")
    assert page.locator("table.login-events tbody tr").count() == 4
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    shot(page, f"admin-user-locked-{width}")
    page.get_by_role("button", name="解除锁定").click()
    page.wait_for_load_state()
    assert "已解除 qs_author 的登录锁定" in page.locator(".flash").first.inner_text()
    assert page.locator(".account .badge.sev-error").count() == 0
    page.close()
