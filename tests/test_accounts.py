"""Accounts: throttled logins and lockouts on both front doors, sessions that end (logout,
password change, admin reset, deactivation), the password rules, the admin's scope over all
of it, and what the pages and the API say (in Chinese and English)."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.helpers import API, PASSWORD, Api, error_of, get_html, html_of, login, post_form
from workflow.db import db
from workflow.models import LoginEvent, User
from workflow.notifications import AdminAudit

NEW_PASSWORD = "a-new-passphrase-9"
WRONG = "not-the-password"


def _session_cookie(client) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None, "no session cookie"
    return cookie.value


def _client_with_cookie(app, value: str):
    other = app.test_client()
    other.set_cookie("session", value)
    return other


def _logged_in(client) -> bool:
    """The home page answers (200) rather than sending the client to the login page."""
    r = client.get("/")
    return r.status_code == 200 and "/login" not in r.headers.get("Location", "")


def _events(app, username: str) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(LoginEvent.outcome).where(LoginEvent.username == username)
                                       .order_by(LoginEvent.id)))


def _user(app, username: str) -> User:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        db.session.expunge(user)
        return user


def _no_throttle(app) -> None:
    """Limits high enough that only the lockout answers (the lockout tests)."""
    app.config.update(LOGIN_LIMIT_PER_ACCOUNT="1000 per minute", LOGIN_LIMIT_PER_ADDRESS="1000 per minute")


# ---------------------------------------------------------------- throttling


def _account_limit(app) -> None:
    """A per-name limit below the lockout (the default sits above it), so the throttle answers first."""
    app.config.update(LOGIN_LIMIT_PER_ACCOUNT="10 per minute")


def test_with_the_default_limits_twenty_wrong_passwords_meet_the_lockout_not_the_throttle(app, client, world):
    answers = [login(client, "qs_author", WRONG) for _ in range(20)]
    assert [r.status_code for r in answers] == [200] * 19 + [429]
    assert "锁定" in html_of(answers[-1])  # the twentieth says it is locked, and until when
    r = login(client, "qs_author", PASSWORD)
    assert r.status_code == 429 and "锁定" in html_of(r) and 14 * 60 <= int(r.headers["Retry-After"]) <= 15 * 60
    assert "lockout" in _events(app, "qs_author")


def test_the_eleventh_wrong_password_for_a_name_answers_429_on_the_page_with_when_to_retry(app, client, world):
    _account_limit(app)
    answers = [login(client, "qs_author", WRONG).status_code for _ in range(11)]
    assert answers == [200] * 10 + [429]
    r = login(client, "qs_author", PASSWORD)  # even the right password waits
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    page = html_of(r)
    assert "登录失败次数过多" in page and "秒后" in page
    assert not _logged_in(client)
    # Throttled attempts are not recorded (nor checked): ten failures, nothing else.
    assert _events(app, "qs_author") == ["failure"] * 10


def test_the_api_throttles_the_same_name_with_retry_after_and_retry_at(app, client, world):
    _account_limit(app)
    for _ in range(10):
        r = client.post(f"{API}/tokens", json={"username": "qs_author", "password": WRONG})
        assert r.status_code == 401
    r = client.post(f"{API}/tokens", json={"username": "qs_author", "password": PASSWORD},
                    headers={"Accept-Language": "en"})
    assert r.status_code == 429
    error = error_of(r)
    assert error["code"] == "too_many" and error["reason"] == "login_attempts"
    assert 0 < error["params"]["retry_after"] <= 61 and error["params"]["retry_at"].endswith("Z")
    assert int(r.headers["Retry-After"]) == error["params"]["retry_after"]
    assert "Too many failed logins" in error["message"]


def test_the_web_and_the_api_count_together_and_another_name_is_not_throttled(app, client, world):
    _account_limit(app)
    for _ in range(5):
        login(client, "qs_author", WRONG)
    for _ in range(5):
        client.post(f"{API}/tokens", json={"username": "qs_author", "password": WRONG})
    assert client.post(f"{API}/tokens", json={"username": "qs_author", "password": PASSWORD}).status_code == 429
    assert client.post(f"{API}/tokens", json={"username": "xk_author", "password": PASSWORD}).status_code == 201


def test_one_address_trying_many_names_is_throttled_per_address(app, client, world):
    app.config.update(LOGIN_LIMIT_PER_ADDRESS="6 per minute")
    names = [f"guess{i}" for i in range(6)]
    for name in names:
        assert client.post(f"{API}/tokens", json={"username": name, "password": WRONG}).status_code == 401
    r = client.post(f"{API}/tokens", json={"username": "xk_author", "password": PASSWORD})
    assert r.status_code == 429 and error_of(r)["reason"] == "login_attempts"
    # Another address is not concerned.
    other = client.post(f"{API}/tokens", json={"username": "xk_author", "password": PASSWORD},
                        environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert other.status_code == 201


def test_successful_logins_are_never_throttled(app, client, world):
    app.config.update(LOGIN_LIMIT_PER_ACCOUNT="3 per minute", LOGIN_LIMIT_PER_ADDRESS="3 per minute")
    for _ in range(8):
        assert client.post(f"{API}/tokens", json={"username": "qs_author", "password": PASSWORD}).status_code == 201


# ---------------------------------------------------------------- lockout


def test_twenty_failures_lock_the_name_and_the_page_says_for_how_long(app, client, world):
    _no_throttle(app)
    for _ in range(19):
        assert login(client, "qs_author", WRONG).status_code == 200
    r = login(client, "qs_author", WRONG)  # the twentieth
    assert r.status_code == 429 and "已锁定 15 分钟" in html_of(r)
    r = login(client, "qs_author", PASSWORD)  # the right password does not open it
    assert r.status_code == 429 and "已锁定" in html_of(r) and not _logged_in(client)
    r = client.post(f"{API}/tokens", json={"username": "qs_author", "password": PASSWORD},
                    headers={"Accept-Language": "en"})
    error = error_of(r)
    assert r.status_code == 429 and error["reason"] == "account_locked" and error["params"]["minutes"] == 15
    assert 14 * 60 < int(r.headers["Retry-After"]) <= 15 * 60 + 1
    assert "locked for 15 minutes" in error["message"]
    assert _events(app, "qs_author") == ["failure"] * 20 + ["lockout", "refused", "refused"]


def test_an_unknown_name_locks_like_a_real_one(app, client, world):
    """The lockout tells nothing about which names exist."""
    _no_throttle(app)
    app.config.update(LOGIN_LOCKOUT_FAILURES=3)
    for name in ("qs_author", "no_such_user"):
        codes = [client.post(f"{API}/tokens", json={"username": name, "password": WRONG}).status_code
                 for _ in range(4)]
        assert codes == [401, 401, 429, 429], name


def test_the_lockout_settings_are_read_from_the_environment(monkeypatch):
    from config import Config

    monkeypatch.setenv("LOGIN_LOCKOUT_FAILURES", "5")
    monkeypatch.setenv("LOGIN_LOCKOUT_MINUTES", "30")
    settings = Config()
    assert (settings.LOGIN_LOCKOUT_FAILURES, settings.LOGIN_LOCKOUT_MINUTES) == (5, 30)


def test_an_admin_lifts_a_lockout_on_the_user_page_and_sees_the_record(app, client, world):
    _no_throttle(app)
    app.config.update(LOGIN_LOCKOUT_FAILURES=3)
    victim = app.test_client()
    for _ in range(3):
        login(victim, "qs_author", WRONG)
    assert login(victim, "qs_author", PASSWORD).status_code == 429

    login(client, "admin")
    page = get_html(client, f"/admin/users/{world['qs_author']}")
    assert "锁定至" in page and "解除锁定" in page
    assert page.count("用户名或密码错误") == 3 and "失败次数过多，已锁定" in page and "已拒绝：账户锁定中" in page
    r = post_form(client, f"/admin/users/{world['qs_author']}/unlock", {}, page=f"/admin/users/{world['qs_author']}")
    assert r.headers["Location"].endswith(f"/admin/users/{world['qs_author']}")
    assert "管理员解除锁定" in get_html(client, f"/admin/users/{world['qs_author']}")

    assert login(victim, "qs_author", PASSWORD).headers["Location"].endswith("/")
    assert _logged_in(victim)
    with app.app_context():
        audit = db.session.scalar(select(AdminAudit).where(AdminAudit.action == "user_unlocked"))
        assert audit.actor_id == world["admin"] and audit.target == f"user:{world['qs_author']}"


def test_an_admin_lifts_a_lockout_through_the_api(app, client, world):
    _no_throttle(app)
    app.config.update(LOGIN_LOCKOUT_FAILURES=3)
    admin = Api(client, "admin")
    for _ in range(3):
        client.post(f"{API}/tokens", json={"username": "qs_author", "password": WRONG})
    account = admin.get(f"/users/{world['qs_author']}").get_json()
    assert account["locked_until"] and account["active"] is True
    r = admin.delete(f"/users/{world['qs_author']}/lockout")
    assert r.status_code == 200 and r.get_json()["locked_until"] is None
    Api(client, "qs_author")  # logs in
    outcomes = [e["outcome"] for e in admin.get(f"/users/{world['qs_author']}/login-events").get_json()["items"]]
    assert outcomes[:3] == ["token", "unlock", "lockout"]


# ---------------------------------------------------------------- the same work for every name


@pytest.fixture
def hash_checks(monkeypatch):
    """Count the password-hash checks (the real function still runs)."""
    import workflow.credentials
    import workflow.models

    calls: list[str] = []
    real = workflow.credentials.check_password_hash

    def counting(pwhash: str, password: str) -> bool:
        calls.append(password)
        return real(pwhash, password)

    monkeypatch.setattr(workflow.credentials, "check_password_hash", counting)
    monkeypatch.setattr(workflow.models, "check_password_hash", counting)
    return calls


@pytest.mark.parametrize("username", ["qs_author", "no_such_user", "qs_author "])
def test_every_login_checks_exactly_one_password_hash_on_both_front_doors(app, client, world, hash_checks, username):
    login(client, username, WRONG)
    client.post(f"{API}/tokens", json={"username": username, "password": WRONG})
    assert hash_checks == [WRONG, WRONG]


def test_a_locked_name_and_a_disabled_account_still_check_one_hash(app, client, world, hash_checks):
    _no_throttle(app)
    app.config.update(LOGIN_LOCKOUT_FAILURES=2)
    for _ in range(2):
        client.post(f"{API}/tokens", json={"username": "xk_author", "password": WRONG})
    hash_checks.clear()
    assert client.post(f"{API}/tokens", json={"username": "xk_author", "password": PASSWORD}).status_code == 429
    assert hash_checks == [PASSWORD]

    with app.app_context():
        db.session.get(User, world["qs_author"]).active = False
        db.session.commit()
    hash_checks.clear()
    assert client.post(f"{API}/tokens", json={"username": "qs_author", "password": PASSWORD}).status_code == 401
    assert hash_checks == [PASSWORD]


# ---------------------------------------------------------------- sessions that end


def test_a_cookie_replayed_after_logout_no_longer_works(app, client, world):
    login(client, "qs_author")
    stolen = _session_cookie(client)
    assert _logged_in(_client_with_cookie(app, stolen))
    post_form(client, "/logout", {})
    assert not _logged_in(client)
    replay = _client_with_cookie(app, stolen)
    r = replay.get("/")
    assert "/login" in r.headers["Location"]


def test_a_password_change_logs_out_the_other_browser_and_token_and_keeps_this_one(app, world):
    here, there = app.test_client(), app.test_client()
    login(here, "qs_author")
    login(there, "qs_author")
    api = Api(app.test_client(), "qs_author")
    page = get_html(here, "/password")
    assert "修改密码" in page and "至少 10 个字符" in page
    r = post_form(here, "/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD,
                                       "confirm": NEW_PASSWORD}, page="/password")
    assert r.headers["Location"].endswith("/")
    assert _logged_in(here)
    assert not _logged_in(there)
    assert api.get("/me").status_code == 401
    assert login(app.test_client(), "qs_author", PASSWORD).status_code == 200  # the old password: refused
    assert _logged_in(_client_with_cookie(app, _session_cookie(here)))
    fresh = app.test_client()
    login(fresh, "qs_author", NEW_PASSWORD)
    assert _logged_in(fresh)


def test_the_password_page_refuses_a_wrong_current_password_and_a_mismatch(app, client, world):
    login(client, "qs_author")
    r = post_form(client, "/password", {"current_password": WRONG, "new_password": NEW_PASSWORD,
                                         "confirm": NEW_PASSWORD}, page="/password")
    assert r.status_code == 400 and "当前密码不正确" in html_of(r)
    r = post_form(client, "/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD,
                                         "confirm": NEW_PASSWORD + "x"}, page="/password")
    assert r.status_code == 400 and "两次输入的新密码不一致" in html_of(r)
    assert login(app.test_client(), "qs_author", PASSWORD).headers["Location"].endswith("/")


def test_the_api_password_change_keeps_its_token_and_ends_the_others(app, world):
    browser = app.test_client()
    login(browser, "qs_author")
    other = Api(app.test_client(), "qs_author")
    me = Api(app.test_client(), "qs_author")
    r = me.post("/me/password", json={"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert r.status_code == 204
    assert me.get("/me").status_code == 200
    assert other.get("/me").status_code == 401
    assert not _logged_in(browser)
    Api(app.test_client(), "qs_author", NEW_PASSWORD)


@pytest.mark.parametrize("new,reason", [
    ("short-pw", "password_too_short"),
    ("my-qs_author-pass", "password_contains_username"),
    ("MY-QS_AUTHOR-PASS", "password_contains_username"),
    ("1234567890", "password_too_common"),
    ("Qwertyuiop", "password_too_common"),
    (PASSWORD, "password_unchanged"),
])
def test_a_new_password_follows_each_rule(app, client, world, new, reason):
    me = Api(client, "qs_author")
    r = me.post("/me/password", json={"current_password": PASSWORD, "new_password": new},
                headers={"Accept-Language": "en"})
    assert r.status_code == 400 and error_of(r)["reason"] == reason
    assert error_of(r)["message"]
    r = me.post("/me/password", json={"current_password": PASSWORD, "new_password": new})
    assert any("\u4e00" <= ch <= "\u9fff" for ch in error_of(r)["message"]), error_of(r)["message"]


def test_the_common_password_list_is_shipped_with_its_licence():
    from workflow import passwords

    common = passwords.common_passwords()
    assert len(common) >= 9000 and "password" in common and "1234567890" in common
    licence = passwords.COMMON_PASSWORDS.with_name("common-passwords.LICENSE.txt").read_text()
    assert "MIT License" in licence and "zxcvbn" in licence


def test_a_new_user_gets_the_same_rules(app, client, world):
    login(client, "admin")
    r = post_form(client, "/admin/users", {"username": "newbie", "display_name": "新人",
                                           "password": "newbie-2027-x"}, page="/admin/users")
    assert r.status_code == 400 and "密码不能包含用户名" in html_of(r)


# ---------------------------------------------------------------- admin reset and deactivation


def test_an_admin_reset_ends_every_session_and_token_of_the_user(app, client, world):
    browser = app.test_client()
    login(browser, "qs_author")
    token = Api(app.test_client(), "qs_author")
    login(client, "admin")
    page = f"/admin/users/{world['qs_author']}"
    r = post_form(client, f"{page}/password", {"new_password": NEW_PASSWORD}, page=page)
    assert r.headers["Location"].endswith(page)
    assert not _logged_in(browser) and token.get("/me").status_code == 401
    Api(app.test_client(), "qs_author", NEW_PASSWORD)
    with app.app_context():
        audit = db.session.scalar(select(AdminAudit).where(AdminAudit.action == "password_reset"))
        assert audit.actor_id == world["admin"] and audit.org_unit_id == world["qs"]
        assert NEW_PASSWORD not in str(audit.detail)


def test_a_reset_password_follows_the_rules_on_the_page(app, client, world):
    login(client, "admin")
    page = f"/admin/users/{world['qs_author']}"
    r = post_form(client, f"{page}/password", {"new_password": "password"}, page=page)
    assert r.status_code == 400 and "密码至少 10 位" in html_of(r)


def test_a_deactivated_user_is_logged_out_everywhere_and_cannot_log_in(app, client, world):
    browser = app.test_client()
    login(browser, "qs_author")
    token = Api(app.test_client(), "qs_author")
    admin = Api(client, "admin")
    r = admin.put(f"/users/{world['qs_author']}/active", json={"active": False})
    assert r.status_code == 200 and r.get_json()["active"] is False
    assert not _logged_in(browser) and token.get("/me").status_code == 401
    r = login(app.test_client(), "qs_author")
    assert r.status_code == 200 and "用户名或密码错误" in html_of(r)
    r = app.test_client().post(f"{API}/tokens", json={"username": "qs_author", "password": PASSWORD})
    assert r.status_code == 401

    assert admin.put(f"/users/{world['qs_author']}/active", json={"active": True}).get_json()["active"] is True
    Api(app.test_client(), "qs_author")
    with app.app_context():
        # The world's positions were granted from the command line (no actor): not this admin's record.
        actions = list(db.session.scalars(select(AdminAudit.action).where(AdminAudit.actor_id.is_not(None))
                                          .order_by(AdminAudit.id)))
    assert actions == ["user_deactivated", "user_reactivated"]


def test_deactivation_on_the_admin_page(app, client, world):
    browser = app.test_client()
    login(browser, "xk_author")
    login(client, "admin")
    page = f"/admin/users/{world['xk_author']}"
    assert "停用" in get_html(client, page)
    post_form(client, f"{page}/deactivate", {}, page=page)
    html = get_html(client, page)
    assert "已停用" in html and "恢复启用" in html
    assert not _logged_in(browser)
    post_form(client, f"{page}/reactivate", {}, page=page)
    assert "已停用" not in get_html(client, page)


@pytest.mark.parametrize("actor", ["other_reviewer", "qs_reviewer", "lh_author"])
def test_only_an_admin_of_the_users_units_resets_or_deactivates(app, client, world, actor):
    api = Api(client, actor)
    target = world["qs_author"]
    assert api.post(f"/users/{target}/password", json={"new_password": NEW_PASSWORD}).status_code == 404
    assert api.put(f"/users/{target}/active", json={"active": False}).status_code == 404
    assert api.delete(f"/users/{target}/lockout").status_code == 404
    assert api.get(f"/users/{target}/login-events").status_code == 404
    Api(app.test_client(), "qs_author")  # untouched


def test_an_admin_of_another_district_cannot_touch_the_user(app, client, world):
    from workflow import admin as admin_service

    with app.app_context():
        other_admin = admin_service.create_user(None, username="dh_admin", display_name="东湖", password=NEW_PASSWORD)
        admin_service.grant_position(None, user_id=other_admin.id, org_unit_id=world["other_district"], role="admin")
    api = Api(client, "dh_admin", NEW_PASSWORD)
    assert api.post(f"/users/{world['qs_author']}/password", json={"new_password": NEW_PASSWORD}).status_code == 404
    assert api.put(f"/users/{world['qs_author']}/active", json={"active": False}).status_code == 404
    assert api.put(f"/users/{world['lh_author']}/active", json={"active": False}).status_code == 200


def test_an_admin_does_not_reset_or_deactivate_themself(app, client, world):
    admin = Api(client, "admin")
    r = admin.put(f"/users/{world['admin']}/active", json={"active": False})
    assert r.status_code == 403 and error_of(r)["reason"] == "own_account"
    r = admin.post(f"/users/{world['admin']}/password", json={"new_password": NEW_PASSWORD})
    assert r.status_code == 403
    assert admin.get("/me").status_code == 200


# ---------------------------------------------------------------- pages, API document, settings


def test_every_page_links_the_password_page(app, client, world):
    login(client, "qs_author")
    assert 'href="/password"' in get_html(client, "/")


def test_the_account_endpoints_are_in_the_openapi_document(client):
    doc = client.get(f"{API}/openapi.json").get_json()
    assert "post" in doc["paths"][f"{API}/me/password"]
    assert "429" in doc["paths"][f"{API}/tokens"]["post"]["responses"]
    for path, method in [("/users/{user_id}/password", "post"), ("/users/{user_id}/active", "put"),
                         ("/users/{user_id}/lockout", "delete"), ("/users/{user_id}/login-events", "get")]:
        assert method in doc["paths"][API + path], path
    assert "PasswordChangeRequest" in doc["components"]["schemas"]


def test_the_grant_error_names_the_role_and_unit_kind_in_the_readers_words(app, client, world):
    login(client, "admin")
    page = f"/admin/users/{world['nobody']}"
    r = post_form(client, f"{page}/positions", {"org_unit_id": world["district"], "role": "author"}, page=page,
                  follow_redirects=True)
    flashes = re.findall(r'<div class="flash flash-error">(.*?)</div>', html_of(r))
    assert flashes == ["角色“填报人”不能设在示范区（区）。"]
    post_form(client, "/locale", {"locale": "en"})
    r = post_form(client, f"{page}/positions", {"org_unit_id": world["district"], "role": "author"}, page=page,
                  follow_redirects=True)
    assert re.findall(r'<div class="flash flash-error">(.*?)</div>', html_of(r)) == [
        "Role Author cannot be held at 示范区 (a District)."]


def test_a_stale_action_names_the_action_and_state_in_chinese(app, ctx, world):
    from flask_babel import force_locale

    from web.messages import render
    from workflow.errors import Conflict

    with app.test_request_context("/"), force_locale("zh_Hans_CN"):
        text = render(Conflict("action_not_possible", action="approve", state="draft"))
    assert "approve" not in text and "draft" not in text and "草稿" in text


def test_production_settings_come_from_the_environment(monkeypatch, tmp_path):
    from app import create_app
    from config import Config

    monkeypatch.setenv("SESSION_COOKIE_SECURE", "1")
    monkeypatch.setenv("HSTS_SECONDS", "31536000")
    monkeypatch.setenv("PREFERRED_URL_SCHEME", "https")
    settings = Config()
    assert settings.SESSION_COOKIE_SECURE is True and settings.PREFERRED_URL_SCHEME == "https"
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "INSTANCE_DIR": str(tmp_path),
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.sqlite3'}"})
    r = app.test_client().get("/login")
    assert r.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert "; Secure" in r.headers["Set-Cookie"]


def test_no_hsts_by_default(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers


def test_behind_a_proxy_the_forwarded_address_is_the_one_throttled(monkeypatch, app, world):
    from app import create_app

    config = {k: app.config[k] for k in ("TESTING", "SECRET_KEY", "INSTANCE_DIR", "SQLALCHEMY_DATABASE_URI",
                                         "LOGIN_THROTTLE_PREFIX")}
    proxied = create_app({**config, "FORWARDED_PROXIES": 1, "LOGIN_LIMIT_PER_ADDRESS": "2 per minute"})
    client = proxied.test_client()

    def attempt(address: str) -> int:
        return client.post(f"{API}/tokens", json={"username": "qs_author", "password": WRONG},
                           headers={"X-Forwarded-For": address}).status_code

    assert [attempt("203.0.113.7") for _ in range(3)] == [401, 401, 429]
    assert attempt("198.51.100.9") == 401
