"""Small hardening edges: a 405 names the allowed methods, the OpenAPI states its one-of
rules, the org-unit form keeps the hierarchy well-formed, and a failed publication tells
a reviewer why without showing a server path."""
from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from tests.helpers import API, Api, ensure_translations_compiled, error_of, get_html, login, post_form
from tests.jobs_support import jobs_app, redis_url, run_worker  # noqa: F401
from tests.test_jobs import publish_report
from workflow import admin
from workflow.db import db
from workflow.errors import Conflict, Invalid
from workflow.models import OrgUnit, Publication, User
from workflow.table import child_kinds

ensure_translations_compiled()


# ---------------------------------------------------------------- 405 names what is allowed


def _allowed(response) -> set[str]:
    return {m.strip() for m in response.headers.get("Allow", "").split(",") if m.strip()}


def test_a_page_answers_405_with_allow(client, world):
    login(client, "qs_author")
    response = client.get("/logout")
    assert response.status_code == 405
    assert "POST" in _allowed(response) and "GET" not in _allowed(response)
    assert response.mimetype == "text/html"


def test_the_api_answers_405_with_allow(client, world):
    api = Api(client, "qs_author")
    response = client.delete(API + "/reports", headers=api.headers())
    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"
    assert {"GET", "POST"} <= _allowed(response) and "DELETE" not in _allowed(response)


# ---------------------------------------------------------------- a failed publication


def test_a_failed_publication_tells_a_reviewer_why_without_server_paths(jobs_app, world, tmp_path):
    """An error whose text names a server path (the archive directory cannot be made): the
    reviewer's page, the progress JSON and the API say why in a sentence; the admin also
    gets the error itself, its paths cut to file names."""
    app = jobs_app
    blocker = tmp_path / "srv-chengbao-not-a-directory"
    blocker.write_text("")
    app.config["ARCHIVE_DIR"] = str(blocker / "archive")
    report_id, pub_id = publish_report(app)
    run_worker(app)
    with app.app_context():
        pub = db.session.get(Publication, pub_id)
        assert pub.status == "failed" and json.loads(pub.error)["reason"] == "internal"
        assert str(tmp_path) not in pub.error

    reviewer = app.test_client()
    login(reviewer, "district_reviewer")
    page = reviewer.get(f"/reports/{report_id}").get_data(as_text=True)
    status = reviewer.get(f"/reports/{report_id}/pdf/status").get_json()
    api = Api(app.test_client(), "district_reviewer").get(f"/reports/{report_id}").get_json()["pdf"]
    internal = "因内部错误未能完成；详情见服务器日志。"
    assert status["error"] == internal and internal in page
    assert api["status"] == "failed" and api["error"] == {"reason": "internal", "message": internal}
    for text in (page, json.dumps(status, ensure_ascii=False), json.dumps(api, ensure_ascii=False)):
        assert str(tmp_path) not in text and "/tmp" not in text
        assert "NotADirectoryError" not in text and "Errno" not in text

    admin = app.test_client()
    login(admin, "admin")
    detailed = admin.get(f"/reports/{report_id}/pdf/status").get_json()["error"]
    assert detailed.startswith(internal) and "Errno" in detailed and str(tmp_path) not in detailed


# ---------------------------------------------------------------- the org-unit form


def _units_named(app, name: str) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(OrgUnit.id)).where(OrgUnit.name == name))


def test_the_unit_form_offers_the_kind_below_the_parent_and_refuses_a_wrong_one(app, client, world):
    login(client, "admin")
    html = get_html(client, "/admin/")
    # 示范区 is the only parent offered (a town takes no unit); its usual child is a 镇, not a 省.
    parents = re.search(r'<select[^>]*name="parent_id".*?</select>', html, re.S).group(0)
    assert "示范区" in parents and "青山镇" not in parents
    kinds = re.search(r'<select[^>]*name="kind".*?</select>', html, re.S).group(0)
    selected = [value for attrs, value in re.findall(r'<option([^>]*)value="([a-z]+)"', kinds) if "selected" in attrs]
    assert selected == ["town"]
    assert 'data-child-kinds="{&#34;' in html and "unit-kind.js" in html

    post_form(client, "/admin/units", {"parent_id": str(world["district"]), "name": "北山省", "kind": "province"},
              page="/admin/")
    assert "示范区下不能设这一类单位。" in get_html(client, "/admin/")
    # A town as the parent is not even a choice of the form.
    post_form(client, "/admin/units", {"parent_id": str(world["qs"]), "name": "青山村", "kind": "town"},
              page="/admin/")
    assert _units_named(app, "北山省") == 0 and _units_named(app, "青山村") == 0


def test_the_unit_form_refuses_a_name_twice_under_one_parent(app, client, world):
    login(client, "admin")
    post_form(client, "/admin/units", {"parent_id": str(world["district"]), "name": " 青山镇 ", "kind": "town"},
              page="/admin/")
    assert "示范区下已有名为青山镇的单位。" in get_html(client, "/admin/")
    assert _units_named(app, "青山镇") == 1
    # The same name under another parent is another unit.
    with app.app_context():
        admin.add_org_unit(None, name="青山镇", kind="town", parent_id=world["other_district"])
    assert _units_named(app, "青山镇") == 2


def test_the_service_and_the_database_refuse_what_the_form_refuses(ctx, world):
    actor = db.session.get(User, world["admin"])
    with pytest.raises(Invalid) as wrong:
        admin.add_org_unit(actor, name="青山村", kind="town", parent_id=world["qs"])
    assert wrong.value.reason == "org_kind_under_parent" and wrong.value.params == {"parent": "青山镇"}
    with pytest.raises(Invalid):
        admin.add_org_unit(None, name="东湖市", kind="city", parent_id=world["other_district"])
    with pytest.raises(Conflict) as twice:
        admin.add_org_unit(actor, name="溪口镇", kind="township", parent_id=world["district"])
    assert twice.value.reason == "org_unit_name_taken"
    with pytest.raises(Conflict):  # roots too, which the unique index cannot see (NULL parent)
        admin.add_org_unit(None, name="示范区", kind="district")
    # Below the service: the unique index on (parent_id, name).
    db.session.add(OrgUnit(name="溪口镇", kind="town", parent_id=world["district"], path=""))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
    assert [c for c in child_kinds("district")] == ["town", "township", "subdistrict"]
    assert child_kinds("city")[0] == "district" and child_kinds("town") == ()


# ---------------------------------------------------------------- the OpenAPI's one-of rules


def test_the_openapi_states_that_exactly_one_of_text_and_outline_is_given(client, world):
    spec = client.get(API + "/openapi.json").get_json()
    create, update = spec["components"]["schemas"]["CreateReport"], spec["components"]["schemas"]["UpdateReport"]
    assert {"required": ["text"]} in create["oneOf"] and {"required": ["outline"]} in create["oneOf"]
    assert {"required": ["kind", "year"]} in create["anyOf"]
    assert update["not"] == {"required": ["text", "outline"]}

    api = Api(client, "qs_author")
    body = {"org_unit_id": world["qs"], "kind": "annual_plan", "year": 2027, "title": "青山镇计划"}
    both = api.post("/reports", json=body | {"text": "一、总体\n内容。", "outline": {"sections": []}})
    neither = api.post("/reports", json=body, headers={"Accept-Language": "en"})
    assert (both.status_code, error_of(both)["reason"]) == (400, "text_and_outline")
    assert error_of(both)["message"] == "内容请以文本或大纲其中一种形式提交，不能同时提交。"
    assert (neither.status_code, error_of(neither)["reason"]) == (400, "text_or_outline")
    assert error_of(neither)["message"] == "Give the content: either text or an outline."
    report = api.post("/reports", json=body | {"text": "一、总体\n内容。"}).get_json()
    edit = api.put(f"/reports/{report['id']}", json={"version": report["version"], "text": "x",
                                                      "outline": {"sections": []}})
    assert (edit.status_code, error_of(edit)["reason"]) == (400, "text_and_outline")


# ---------------------------------------------------------------- what the API fuzzing found


def test_what_the_api_fuzzing_found_is_answered_as_documented(client, world):
    admin_api, author = Api(client, "admin"), Api(client, "qs_author")
    # A malformed host in a channel address was a 500 (urlsplit's ValueError): now a 400.
    for url in ("http://[abc", "https://a]b/hook"):
        r = admin_api.post(f"/org-units/{world['district']}/channels", json={"kind": "webhook", "url": url})
        assert (r.status_code, error_of(r)["reason"]) == (400, "channel_url"), url
    # Booleans are JSON booleans: 0 and 1 were taken for false and true.
    for value in (0, 1, "true"):
        r = author.put("/me/settings", json={"email_notifications": value})
        assert r.status_code == 400 and "email_notifications" in error_of(r)["fields"], value
    assert author.put("/me/settings", json={"email": " li@example.cn ", "email_notifications": True}).get_json() == \
        {"email": "li@example.cn", "email_notifications": True}
    # An empty query value is no filter (allowEmptyValue); a blank one is a value like any other.
    assert author.get("/reports?state=").status_code == 200
    assert author.get("/reports?state=%20").status_code == 400
    # A title with nothing visible is refused, and over 200 characters is too large, as sent.
    report = author.post("/reports", json={"org_unit_id": world["qs"], "kind": "annual_plan", "year": 2027,
                                           "title": "青山镇计划", "text": "一、总体\n内容。"}).get_json()
    blank = author.put(f"/reports/{report['id']}", json={"version": report["version"], "title": "\u3000\x01 "})
    long = author.put(f"/reports/{report['id']}", json={"version": report["version"], "title": " " * 201})
    assert blank.status_code == 400 and long.status_code == 413
