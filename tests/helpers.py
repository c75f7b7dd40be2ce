"""Story-like helpers: build the world, create reports and move them through the workflow."""
from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from workflow import admin, services
from workflow.db import db
from workflow.models import Report, User

PASSWORD = "test-password-1"

CLEAN_TEXT = """为做好本年度工作，现将计划报告如下。
一、发展特色产业
（一）抓好茶叶产业
新建茶园800亩，培育家庭农场15家。
（二）发展乡村旅游
建成民宿集聚区1个，接待游客12万人次。
二、办好民生实事
完成中心小学运动场改造，新增养老床位40张。
"""

PLACEHOLDER_TEXT = """现将计划报告如下。
一、经济发展
完成固定资产投资x万元，新签约项目x个。
"""


@dataclass
class World:
    ids: dict[str, int] = field(default_factory=dict)

    def __getitem__(self, key: str) -> int:
        return self.ids[key]


def build_world() -> World:
    w = World()

    def unit(key, name, kind, parent=None):
        u = admin.add_org_unit(None, name=name, kind=kind, parent_id=w.ids.get(parent))
        w.ids[key] = u.id

    def user(key, unit_key, *roles):
        u = admin.create_user(None, username=key, display_name=key, password=PASSWORD)
        for role in roles:
            admin.grant_position(None, user_id=u.id, org_unit_id=w.ids[unit_key], role=role)
        w.ids[key] = u.id

    unit("district", "示范区", "district")
    unit("qs", "青山镇", "town", "district")
    unit("xk", "溪口镇", "town", "district")
    unit("other_district", "东湖区", "district")
    unit("lh", "临湖镇", "town", "other_district")
    user("admin", "district", "admin")
    user("district_reviewer", "district", "district_reviewer")
    user("qs_author", "qs", "author")
    user("qs_author2", "qs", "author")
    user("qs_reviewer", "qs", "town_reviewer")
    user("xk_author", "xk", "author")
    user("xk_reviewer", "xk", "town_reviewer")
    user("lh_author", "lh", "author")
    user("other_reviewer", "other_district", "district_reviewer")
    user("nobody", "qs")  # an account with no position
    return w


def get_user(username: str) -> User:
    return db.session.scalar(db.select(User).where(User.username == username))


def gen_report(town: str = "qs", *, author: str | None = None, text: str = CLEAN_TEXT,
               title: str = "青山镇2027年度工作计划", kind: str = "annual_plan", year: int = 2027,
               world: World | None = None) -> Report:
    """A draft created by the town's author (needs an app context)."""
    from workflow.models import OrgUnit

    name = {"qs": "青山镇", "xk": "溪口镇", "lh": "临湖镇"}[town]
    unit = db.session.scalar(db.select(OrgUnit).where(OrgUnit.name == name))
    actor = get_user(author or f"{town}_author")
    return services.create_report(actor, org_unit_id=unit.id, kind=kind, year=year, title=title, text=text).report


def act(report_id: int, username: str, action: str, comment: str | None = None) -> Report:
    """Take an action as ``username`` on the version currently stored (needs an app context)."""
    db.session.expire_all()
    report = db.session.get(Report, report_id)
    return services.perform(get_user(username), report_id, action, version=report.version, comment=comment)


def advance(report_id: int, to_state: str, town: str = "qs") -> Report:
    """Walk a fresh draft to ``to_state`` along the happy path."""
    path = {"draft": [], "town_review": [(f"{town}_author", "submit")],
            "district_review": [(f"{town}_author", "submit"), (f"{town}_reviewer", "approve")],
            "published": [(f"{town}_author", "submit"), (f"{town}_reviewer", "approve"),
                          ("district_reviewer", "approve")]}[to_state]
    report = db.session.get(Report, report_id)
    for username, action in path:
        report = act(report_id, username, action)
    return report


# ---------------------------------------------------------------- browser-side helpers (HTTP tests)


def login(client, username: str, password: str = PASSWORD):
    """Log in through the real login form (CSRF token included); returns the response."""
    from tests.conftest import csrf_from

    page = client.get("/login")
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": csrf_from(page.get_data(as_text=True))})


def post_form(client, url: str, data: dict, *, page: str | None = None, **kwargs):
    """POST ``data`` to ``url`` with the CSRF token taken from ``page`` (default: the home page)."""
    from tests.conftest import csrf_from

    html = client.get(page or "/").get_data(as_text=True)
    return client.post(url, data={**data, "csrf_token": csrf_from(html)}, **kwargs)


def ensure_translations_compiled() -> None:
    """Compile the catalogs when a .mo is missing or older than its .po (``make test`` does it
    too; this keeps a bare ``pytest`` run showing Chinese pages)."""
    from pathlib import Path

    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    root = Path(__file__).resolve().parents[1] / "translations"
    for po in root.glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            with po.open("rb") as f:
                catalog = read_po(f)
            with mo.open("wb") as f:
                write_mo(f, catalog)


def html_of(response) -> str:
    return response.get_data(as_text=True)


def get_html(client, url: str) -> str:
    """The page's HTML, asserting it answered 200."""
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return html_of(response)


def browser_as(app, username: str):
    """A test client of its own, logged in as ``username`` through the login form."""
    client = app.test_client()
    login(client, username)
    return client


# ---------------------------------------------------------------- API helpers (HTTP tests)

API = "/api/v1"


class Api:
    """One user's view of the API: a token got through POST /tokens, then bearer requests."""

    def __init__(self, client, username: str, password: str = PASSWORD) -> None:
        r = client.post(f"{API}/tokens", json={"username": username, "password": password})
        assert r.status_code == 201, (username, r.get_json())
        self.client, self.username, self.token = client, username, r.get_json()["token"]

    def headers(self, extra: dict | None = None) -> dict:
        return {"Authorization": f"Bearer {self.token}", **(extra or {})}

    def get(self, path: str, headers: dict | None = None, **kw):
        return self.client.get(API + path, headers=self.headers(headers), **kw)

    def post(self, path: str, headers: dict | None = None, **kw):
        return self.client.post(API + path, headers=self.headers(headers), **kw)

    def put(self, path: str, headers: dict | None = None, **kw):
        return self.client.put(API + path, headers=self.headers(headers), **kw)

    def delete(self, path: str, headers: dict | None = None, **kw):
        return self.client.delete(API + path, headers=self.headers(headers), **kw)

    def report(self, report_id: int) -> dict:
        r = self.get(f"/reports/{report_id}")
        assert r.status_code == 200, r.get_json()
        return r.get_json()

    def act(self, report_id: int, action: str, comment: str | None = None, *, expect: int = 200) -> dict:
        version = self.report(report_id)["version"]
        body = {"action": action, "version": version}
        if comment is not None:
            body["comment"] = comment
        r = self.post(f"/reports/{report_id}/actions", json=body)
        assert r.status_code == expect, (self.username, action, r.get_json())
        return r.get_json()


@pytest.fixture
def as_user(client, world):
    """``as_user("qs_author")``: an Api for that account of the world."""
    cache: dict[str, Api] = {}

    def get(username: str) -> Api:
        if username not in cache:
            cache[username] = Api(client, username)
        return cache[username]

    return get


def create(api: Api, world, *, town: str = "qs", text: str = CLEAN_TEXT, title: str = "青山镇2027年度工作计划",
           kind: str = "annual_plan", year: int = 2027) -> dict:
    r = api.post("/reports", json={"org_unit_id": world[town], "kind": kind, "year": year, "title": title,
                                   "text": text})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def error_of(response) -> dict:
    """The API's error object, checked for its shape: code, reason, message and params."""
    body = response.get_json()
    assert set(body) == {"error"} and {"code", "reason", "message", "params"} <= set(body["error"]), body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["params"], dict)
    return body["error"]
