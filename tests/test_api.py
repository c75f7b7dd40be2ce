"""The JSON API (CONTRACT.md, "HTTP API"), endpoint by endpoint and as whole stories:
tokens, the shapes of every answer, the workflow through HTTP cell by cell of the
table, versions and diffs, the PDF download and the OpenAPI document."""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path

import pytest

from tests.helpers import API, CLEAN_TEXT, PASSWORD, PLACEHOLDER_TEXT, Api, advance, create, error_of, gen_report, login
from workflow.db import db
from workflow.models import ApiToken, OrgUnit, Publication, User
from workflow.table import ACTIONS, ROLES, STATES, transition_for

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
REPORT_KEYS = {"id", "title", "kind", "year", "state", "version", "org_unit", "outline", "problems", "comments",
               "history", "allowed_actions", "pdf"}
SUMMARY_KEYS = {"id", "title", "kind", "year", "state", "version", "org_unit", "updated_at"}
HISTORY_KEYS = {"action", "from", "to", "actor", "at", "version", "comment"}
COMMENT_KEYS = {"id", "body", "section_id", "author", "created_at", "version", "status", "answer", "answered_by",
                "answered_at"}
PDF_KEYS = {"status", "progress", "url", "sha256", "archive_no"}
# Who holds each role in 青山镇's scope (world fixture); the matrix iterates ROLES from the table.
USER_FOR_ROLE = {"author": "qs_author", "town_reviewer": "qs_reviewer", "district_reviewer": "district_reviewer",
                 "admin": "admin"}


def assert_report_shape(report: dict) -> None:
    assert set(report) >= REPORT_KEYS
    assert isinstance(report["id"], int) and isinstance(report["version"], int) and isinstance(report["year"], int)
    assert report["kind"] in ("annual_plan", "annual_report", "five_year_plan", "other")
    assert report["state"] in STATES
    assert set(report["org_unit"]) == {"id", "name", "kind"}
    outline = report["outline"]
    assert set(outline) >= {"preamble", "sections", "closing"}
    assert all(isinstance(p, str) for p in outline["preamble"] + outline["closing"])
    stack = list(outline["sections"])
    while stack:
        section = stack.pop()
        assert {"id", "level", "number", "heading", "paragraphs", "children"} <= set(section)
        assert isinstance(section["id"], str) and isinstance(section["level"], int)
        assert all(isinstance(p, str) for p in section["paragraphs"])
        stack.extend(section["children"])
    for problem in report["problems"]:
        assert {"code", "severity", "message", "section_id", "excerpt"} <= set(problem)
        assert problem["severity"] in ("error", "warning")
    for event in report["history"]:
        assert set(event) >= HISTORY_KEYS
        assert ISO_UTC.match(event["at"]) and isinstance(event["version"], int) and isinstance(event["actor"], str)
    for comment in report["comments"]:
        assert set(comment) >= COMMENT_KEYS
    assert isinstance(report["allowed_actions"], list) and set(report["allowed_actions"]) <= set(ACTIONS)
    assert report["pdf"] is None or set(report["pdf"]) >= PDF_KEYS


# ---------------------------------------------------------------- tokens


def test_a_token_is_issued_for_good_credentials_and_only_its_hash_is_stored(app, client, world):
    before = dt.datetime.now(dt.UTC)
    r = client.post(f"{API}/tokens", json={"username": "qs_author", "password": PASSWORD})
    assert r.status_code == 201
    body = r.get_json()
    assert set(body) == {"token", "expires_at"} and len(body["token"]) >= 40
    expires = dt.datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00"))
    hours = app.config["API_TOKEN_HOURS"]
    assert before + dt.timedelta(hours=hours, seconds=-5) <= expires <= before + dt.timedelta(hours=hours, seconds=5)
    assert r.headers["Cache-Control"] == "no-store"
    with app.app_context():
        rows = db.session.scalars(db.select(ApiToken)).all()
        assert [row.token_sha256 for row in rows] == [hashlib.sha256(body["token"].encode()).hexdigest()]
        assert body["token"] not in repr([vars(row) for row in rows])
    me = client.get(f"{API}/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200 and me.get_json()["username"] == "qs_author"


def test_bad_credentials_answer_401_with_one_message(app, client, world):
    answers = [client.post(f"{API}/tokens", json=body) for body in (
        {"username": "qs_author", "password": "wrong-password"},
        {"username": "no_such_user", "password": PASSWORD},
        {"username": "", "password": ""},
    )]
    assert [a.status_code for a in answers] == [401, 401, 401]
    assert len({error_of(a)["message"] for a in answers}) == 1
    assert {error_of(a)["code"] for a in answers} == {"unauthorized"}
    with app.app_context():
        db.session.get(User, world["qs_author"]).active = False
        db.session.commit()
    refused = client.post(f"{API}/tokens", json={"username": "qs_author", "password": PASSWORD})
    assert refused.status_code == 401 and error_of(refused)["message"] == error_of(answers[0])["message"]


def test_the_login_page_and_the_api_accept_the_same_credentials(app, client, world):
    for username, password, accepted in [(" qs_author ", PASSWORD, True), ("qs_author", "wrong-password", False),
                                         ("no_such_user", PASSWORD, False)]:
        token = client.post(f"{API}/tokens", json={"username": username, "password": password})
        page = login(app.test_client(), username, password)
        assert (token.status_code == 201) is accepted, username
        assert (page.headers.get("Location") == "/") is accepted, username


def test_a_disabled_account_loses_its_tokens_at_once(app, client, world):
    api = Api(client, "qs_author")
    with app.app_context():
        db.session.get(User, world["qs_author"]).active = False
        db.session.commit()
    assert api.get("/me").status_code == 401


def test_expired_and_revoked_tokens_answer_401(app, client, world):
    old, current = Api(client, "qs_author"), Api(client, "qs_author")
    with app.app_context():
        token = db.session.scalar(db.select(ApiToken).where(ApiToken.token_sha256 == ApiToken.digest(old.token)))
        token.expires_at = dt.datetime(2000, 1, 1)
        db.session.commit()
    r = old.get("/me")
    assert r.status_code == 401 and error_of(r)["code"] == "unauthorized"
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    assert current.delete("/tokens/current").status_code == 204
    assert current.get("/me").status_code == 401
    assert Api(client, "qs_author").get("/me").status_code == 200  # a new login works


# ---------------------------------------------------------------- the caller and the tree


def test_me_lists_the_positions(as_user, world):
    body = as_user("qs_author").get("/me").get_json()
    assert {k: body[k] for k in ("username", "display_name")} == {"username": "qs_author", "display_name": "qs_author"}
    assert body["positions"] == [{"org_unit": {"id": world["qs"], "name": "青山镇", "kind": "town"}, "role": "author"}]
    reviewer = as_user("district_reviewer").get("/me").get_json()
    assert reviewer["positions"] == [{"org_unit": {"id": world["district"], "name": "示范区", "kind": "district"},
                                      "role": "district_reviewer"}]
    assert as_user("nobody").get("/me").get_json()["positions"] == []


def test_org_units_are_the_callers_subtree_nested(app, as_user, world):
    with app.app_context():
        # Stored directly: the admin service puts nothing under a town, but the tree answers
        # however deep the stored units go.
        village = OrgUnit(name="青山村", kind="town", parent_id=world["qs"], division_code="110101001001")
        db.session.add(village)
        db.session.flush()
        village.path = f"{db.session.get(OrgUnit, world['qs']).path}{village.id}/"
        db.session.commit()
    tree = as_user("district_reviewer").get("/org-units").get_json()
    assert [(n["id"], n["name"], n["kind"]) for n in tree["items"]] == [(world["district"], "示范区", "district")]
    district = tree["items"][0]
    assert {"id", "name", "kind", "division_code", "children"} <= set(district)
    assert [c["name"] for c in district["children"]] == ["青山镇", "溪口镇"]
    village = district["children"][0]["children"]
    assert [(v["name"], v["division_code"], v["children"]) for v in village] == [("青山村", "110101001001", [])]
    town = as_user("qs_author").get("/org-units").get_json()
    assert [n["name"] for n in town["items"]] == ["青山镇"] and town["items"][0]["children"][0]["name"] == "青山村"
    assert as_user("other_reviewer").get("/org-units").get_json()["items"][0]["name"] == "东湖区"
    assert as_user("nobody").get("/org-units").get_json() == {"items": []}


# ---------------------------------------------------------------- reports


def test_creating_a_report_imports_the_text_into_the_outline(as_user, world):
    api = as_user("qs_author")
    r = api.post("/reports", json={"org_unit_id": world["qs"], "kind": "annual_plan", "year": 2027,
                                   "title": "青山镇2027年度工作计划", "text": CLEAN_TEXT})
    assert r.status_code == 201
    report = r.get_json()
    assert_report_shape(report)
    assert r.headers["Location"].endswith(f"{API}/reports/{report['id']}")
    assert (report["title"], report["kind"], report["year"], report["state"], report["version"]) == (
        "青山镇2027年度工作计划", "annual_plan", 2027, "draft", 1)
    assert report["org_unit"] == {"id": world["qs"], "name": "青山镇", "kind": "town"}
    outline = report["outline"]
    assert outline["preamble"] == ["为做好本年度工作，现将计划报告如下。"]
    assert [(s["number"], s["heading"], s["level"]) for s in outline["sections"]] == [
        ("一、", "发展特色产业", 1), ("二、", "办好民生实事", 1)]
    assert [(c["number"], c["heading"], c["paragraphs"]) for c in outline["sections"][0]["children"]] == [
        ("（一）", "抓好茶叶产业", ["新建茶园800亩，培育家庭农场15家。"]),
        ("（二）", "发展乡村旅游", ["建成民宿集聚区1个，接待游客12万人次。"])]
    assert report["problems"] == [] and report["comments"] == [] and report["pdf"] is None
    assert report["allowed_actions"] == ["submit"]
    assert [(e["action"], e["from"], e["to"], e["actor"], e["version"], e["comment"]) for e in report["history"]] == [
        ("create", None, "draft", "qs_author", 1, None)]
    assert report["content_version"] == 1 and len(report["content_sha256"]) == 64
    assert report["history"][0]["content_sha256"] == report["content_sha256"]
    assert api.report(report["id"]) | {"dropped_lines": report.get("dropped_lines")} == report


def test_a_report_can_be_created_from_an_outline(as_user, world):
    outline = {"preamble": ["前言。"], "closing": [], "sections": [
        {"number": "一、", "heading": "总体要求", "paragraphs": ["坚持稳中求进。"], "children": []}]}
    r = as_user("qs_author").post("/reports", json={"org_unit_id": world["qs"], "kind": "other", "year": 2026,
                                                    "title": "专项报告", "outline": outline})
    assert r.status_code == 201
    sections = r.get_json()["outline"]["sections"]
    assert [(s["number"], s["heading"], s["paragraphs"], s["level"]) for s in sections] == [
        ("一、", "总体要求", ["坚持稳中求进。"], 1)]
    assert sections[0]["id"]


def test_the_reader_sees_problems_and_indicators(as_user, world):
    report = create(as_user("qs_author"), world, text=PLACEHOLDER_TEXT)
    assert {p["code"] for p in report["problems"]} == {"placeholder"}
    assert all(p["severity"] == "error" for p in report["problems"])
    assert "submit" not in report["allowed_actions"]
    clean = create(as_user("qs_author"), world)
    indicators = clean["indicators"]
    assert ("800", "亩", 800.0) in {(i["value"], i["unit"], i["number"]) for i in indicators}
    assert all(set(i) >= {"section_id", "section_number", "value", "number", "unit", "context"} for i in indicators)


def test_listing_reports_filters_and_pages(as_user, world):
    author = as_user("qs_author")
    plan = create(author, world, year=2027)
    report = create(author, world, kind="annual_report", year=2026, title="青山镇2026年工作总结")
    xk = create(as_user("xk_author"), world, town="xk", title="溪口镇计划")
    author.act(plan["id"], "submit")
    body = author.get("/reports").get_json()
    assert set(body) >= {"items", "total", "page", "per_page"}
    assert body["total"] == 2 and body["page"] == 1 and {i["id"] for i in body["items"]} == {plan["id"], report["id"]}
    item = next(i for i in body["items"] if i["id"] == plan["id"])
    assert set(item) >= SUMMARY_KEYS and "outline" not in item
    assert (item["title"], item["kind"], item["year"], item["state"], item["version"]) == (
        "青山镇2027年度工作计划", "annual_plan", 2027, "town_review", 2)
    assert item["org_unit"] == {"id": world["qs"], "name": "青山镇", "kind": "town"}
    assert ISO_UTC.match(item["updated_at"])
    assert body["items"][0]["id"] == plan["id"]  # newest activity first

    district = as_user("district_reviewer")
    ids = lambda query: [i["id"] for i in district.get("/reports" + query).get_json()["items"]]
    assert set(ids("")) == {plan["id"], report["id"], xk["id"]}
    assert ids("?state=town_review") == [plan["id"]]
    assert ids("?year=2026") == [report["id"]]
    assert ids("?kind=annual_report") == [report["id"]]
    assert set(ids(f"?org_unit_id={world['xk']}")) == {xk["id"]}
    assert ids("?state=&year=&kind=&org_unit_id=&page=") != []  # empty parameters mean no filter
    first = district.get("/reports?per_page=2&page=1").get_json()
    second = district.get("/reports?per_page=2&page=2").get_json()
    assert (first["total"], first["per_page"], len(first["items"]), len(second["items"])) == (3, 2, 2, 1)
    assert {i["id"] for i in first["items"] + second["items"]} == {plan["id"], report["id"], xk["id"]}
    assert district.get("/reports?page=9").get_json()["items"] == []


def test_editing_a_draft_gives_a_new_version(as_user, world):
    api = as_user("qs_author")
    report = create(api, world)
    first_id = report["outline"]["sections"][0]["id"]
    r = api.put(f"/reports/{report['id']}", json={"version": report["version"], "title": "青山镇2027年工作计划（修订）",
                                                  "text": CLEAN_TEXT.replace("40张", "60张")})
    assert r.status_code == 200
    edited = r.get_json()
    assert_report_shape(edited)
    assert edited["version"] == report["version"] + 1 and edited["title"] == "青山镇2027年工作计划（修订）"
    assert "新增养老床位60张。" in str(edited["outline"]) and edited["outline"]["sections"][0]["id"] == first_id
    assert edited["content_sha256"] != report["content_sha256"] and edited["content_version"] == 1
    outline = edited["outline"]
    outline["sections"][1]["paragraphs"] = ["完成中心小学运动场改造。"]
    r = api.put(f"/reports/{report['id']}", json={"version": edited["version"], "outline": outline})
    assert r.status_code == 200 and r.get_json()["outline"]["sections"][1]["paragraphs"] == ["完成中心小学运动场改造。"]
    r = api.put(f"/reports/{report['id']}", json={"version": edited["version"], "title": "过期的修改"})
    assert r.status_code == 409 and error_of(r)["code"] == "conflict"
    assert api.report(report["id"])["outline"]["sections"][1]["paragraphs"] == ["完成中心小学运动场改造。"]


def test_only_a_draft_is_edited_and_only_by_an_author(as_user, world):
    report = create(as_user("qs_author"), world)
    r = as_user("qs_reviewer").put(f"/reports/{report['id']}", json={"version": report["version"], "title": "x"})
    assert r.status_code == 403 and error_of(r)["code"] == "forbidden"
    submitted = as_user("qs_author").act(report["id"], "submit")
    r = as_user("qs_author").put(f"/reports/{report['id']}", json={"version": submitted["version"], "title": "x"})
    assert r.status_code == 409


# ---------------------------------------------------------------- the whole story


def test_the_whole_workflow_through_the_api(app, as_user, world):
    author, town, district = as_user("qs_author"), as_user("qs_reviewer"), as_user("district_reviewer")
    report = create(author, world)
    rid = report["id"]
    assert author.act(rid, "submit")["state"] == "town_review"
    assert town.report(rid)["allowed_actions"] == ["approve", "return"]
    assert town.act(rid, "approve")["state"] == "district_review"

    section = district.report(rid)["outline"]["sections"][1]["id"]
    r = district.post(f"/reports/{rid}/comments", json={"body": "民生部分缺少资金来源", "section_id": section})
    assert r.status_code == 201
    comment = r.get_json()
    assert set(comment) >= COMMENT_KEYS
    assert (comment["body"], comment["section_id"], comment["author"], comment["version"], comment["status"],
            comment["answer"], comment["answered_by"], comment["answered_at"]) == (
        "民生部分缺少资金来源", section, "district_reviewer", 1, "open", None, None, None)
    assert ISO_UTC.match(comment["created_at"])
    assert district.act(rid, "return", expect=422)  # no reason: refused
    returned = district.act(rid, "return", "请补充民生部分的资金来源")
    assert returned["state"] == "draft" and returned["content_version"] == 2
    assert returned["history"][-1] | {"at": None} == {
        "action": "return", "from": "district_review", "to": "draft", "actor": "district_reviewer", "at": None,
        "version": 1, "comment": "请补充民生部分的资金来源", "content_sha256": report["content_sha256"]}

    blocked = author.post(f"/reports/{rid}/actions", json={"action": "submit", "version": returned["version"]})
    assert blocked.status_code == 422  # the review comment is not answered yet
    r = author.post(f"/reports/{rid}/comments/{comment['id']}/answer",
                    json={"status": "explained", "answer": "资金来自区级专项"})
    assert r.status_code == 200
    answered = r.get_json()
    assert (answered["status"], answered["answer"], answered["answered_by"]) == (
        "explained", "资金来自区级专项", "qs_author")
    assert ISO_UTC.match(answered["answered_at"])
    edited = author.put(f"/reports/{rid}", json={"version": returned["version"],
                                                 "text": CLEAN_TEXT.replace("40张", "60张")}).get_json()
    assert edited["content_version"] == 2

    assert author.act(rid, "submit")["state"] == "town_review"
    assert town.act(rid, "approve")["state"] == "district_review"
    published = district.act(rid, "approve")
    assert published["state"] == "published" and published["allowed_actions"] == []
    assert set(published["pdf"]) >= PDF_KEYS
    assert published["pdf"]["status"] in ("queued", "running", "ready")
    if published["pdf"]["status"] == "queued":
        assert published["pdf"]["url"] is None and published["pdf"]["progress"] == 0
    assert [(e["action"], e["from"], e["to"], e["actor"], e["version"]) for e in published["history"]] == [
        ("create", None, "draft", "qs_author", 1),
        ("submit", "draft", "town_review", "qs_author", 1),
        ("approve", "town_review", "district_review", "qs_reviewer", 1),
        ("return", "district_review", "draft", "district_reviewer", 1),
        ("submit", "draft", "town_review", "qs_author", 2),
        ("approve", "town_review", "district_review", "qs_reviewer", 2),
        ("approve", "district_review", "published", "district_reviewer", 2),
    ]
    assert published["history"][-1]["content_sha256"] == edited["content_sha256"]
    with app.app_context():
        pub = db.session.scalar(db.select(Publication).where(Publication.report_id == rid))
        assert pub.content_sha256 == edited["content_sha256"]
    # Published is immutable, forever.
    for action in ACTIONS:
        district.act(rid, action, "x", expect=409)
    r = district.post(f"/reports/{rid}/comments", json={"body": "迟到的意见"})
    assert r.status_code == 409


def test_withdraw_returns_the_report_to_its_author(as_user, world):
    report = create(as_user("qs_author"), world)
    submitted = as_user("qs_author").act(report["id"], "submit")
    assert "withdraw" in submitted["allowed_actions"]
    assert "withdraw" not in as_user("qs_author2").report(report["id"])["allowed_actions"]
    as_user("qs_author2").act(report["id"], "withdraw", expect=403)
    assert as_user("qs_author").act(report["id"], "withdraw")["state"] == "draft"


def test_submitting_with_placeholders_lists_the_problems(as_user, world):
    report = create(as_user("qs_author"), world, text=PLACEHOLDER_TEXT)
    r = as_user("qs_author").post(f"/reports/{report['id']}/actions",
                                  json={"action": "submit", "version": report["version"]})
    assert r.status_code == 422
    error = error_of(r)
    assert error["code"] == "invalid" and {p["code"] for p in error["problems"]} == {"placeholder"}
    assert all({"code", "severity", "message", "section_id", "excerpt"} <= set(p) for p in error["problems"])
    after = as_user("qs_author").report(report["id"])
    assert (after["state"], after["version"], len(after["history"])) == ("draft", report["version"], 1)


def _setup(app, state: str) -> int:
    with app.app_context():
        report = gen_report("qs")
        advance(report.id, state)
        return report.id


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("role", ROLES)
def test_every_cell_of_the_table_through_the_api(app, as_user, world, state, role):
    """For each action from this state, as a holder of this role: allowed by the table →
    200 with the new state and one more history entry; else 403/409/422 and nothing changes."""
    api = as_user(USER_FOR_ROLE[role])
    for action in ACTIONS:
        rid = _setup(app, state)
        before = api.report(rid)
        t = transition_for(state, action)
        allowed = t is not None and t.role == role
        assert (action in before["allowed_actions"]) == allowed, (state, action, role)
        r = api.post(f"/reports/{rid}/actions",
                     json={"action": action, "version": before["version"], "comment": "理由：数据需核实"})
        after = api.report(rid)
        if allowed:
            assert r.status_code == 200, (state, action, role, r.get_json())
            assert r.get_json()["state"] == after["state"] == t.target
            assert after["version"] == before["version"] + 1
            assert len(after["history"]) == len(before["history"]) + 1
            assert after["history"][-1] | {"at": None} == {
                "action": action, "from": state, "to": t.target, "actor": api.username, "at": None,
                "version": before["content_version"], "comment": "理由：数据需核实",
                "content_sha256": before["content_sha256"]}
        else:
            assert r.status_code == (409 if t is None else 403), (state, action, role, r.get_json())
            assert (after["state"], after["version"], len(after["history"])) == (
                before["state"], before["version"], len(before["history"]))


def test_a_stale_version_answers_409_and_changes_nothing(as_user, world):
    api = as_user("qs_author")
    report = create(api, world)
    api.put(f"/reports/{report['id']}", json={"version": report["version"], "title": "改过一次"})
    r = api.post(f"/reports/{report['id']}/actions", json={"action": "submit", "version": report["version"]})
    assert r.status_code == 409 and error_of(r)["code"] == "conflict"
    assert api.report(report["id"])["state"] == "draft"


# ---------------------------------------------------------------- versions and differences


def test_versions_and_the_diff_between_them(as_user, world):
    author = as_user("qs_author")
    report = create(author, world)
    rid = report["id"]
    author.act(rid, "submit")
    as_user("qs_reviewer").act(rid, "return", "数据需核实")
    draft = author.report(rid)
    author.put(f"/reports/{rid}", json={"version": draft["version"], "text": CLEAN_TEXT.replace("40张", "60张")})
    versions = author.get(f"/reports/{rid}/versions").get_json()["items"]
    assert [(v["number"], v["submitted_by"], v["current"]) for v in versions] == [
        (1, "qs_author", False), (2, None, True)]
    assert versions[0]["sha256"] == report["content_sha256"] and ISO_UTC.match(versions[0]["frozen_at"])
    assert versions[1]["frozen_at"] is None
    r = author.get(f"/reports/{rid}/diff?from=1&to=2")
    assert r.status_code == 200
    diff = r.get_json()
    assert (diff["from"], diff["to"]) == (1, 2)
    changed = [e for e in diff["changes"] if e["status"] != "same"]
    assert [e["heading"] for e in changed] == ["办好民生实事"]
    assert {"op": "insert", "text": "6"} in changed[0]["ops"] and {"op": "delete", "text": "4"} in changed[0]["ops"]
    assert diff["stats"]["changed"] == 1
    assert author.get(f"/reports/{rid}/diff").get_json()["from"] == 1  # default: the previous version
    assert author.get(f"/reports/{rid}/diff?from=1&to=7").status_code == 404
    assert author.get(f"/reports/{rid}/diff?from=x").status_code == 400


# ---------------------------------------------------------------- the PDF


def test_the_pdf_is_served_once_ready(app, as_user, world):
    api = as_user("district_reviewer")
    draft_id = _setup(app, "district_review")
    r = api.get(f"/reports/{draft_id}/pdf")
    assert r.status_code == 404 and error_of(r)["code"] == "not_found"
    published = api.act(draft_id, "approve")
    r = api.get(f"/reports/{draft_id}/pdf")
    if published["pdf"]["status"] != "ready":
        assert r.status_code == 409 and error_of(r)["code"] == "conflict"
    data = b"%PDF-1.7\n% a stand-in for the signed file\n%%EOF\n"
    sha = hashlib.sha256(data).hexdigest()
    path = Path(app.config["ARCHIVE_DIR"]) / sha[:2] / f"{sha}.pdf"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    with app.app_context():
        pub = db.session.scalar(db.select(Publication).where(Publication.report_id == draft_id))
        pub.status, pub.progress, pub.file_sha256, pub.archive_no = "ready", 100, sha, "示范区〔2027〕1号"
        db.session.commit()
    report = api.report(draft_id)
    assert {k: report["pdf"][k] for k in PDF_KEYS} == {
        "status": "ready", "progress": 100, "sha256": sha, "archive_no": "示范区〔2027〕1号",
        "url": f"http://localhost{API}/reports/{draft_id}/pdf"}
    r = api.get(f"/reports/{draft_id}/pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf" and r.data == data
    assert as_user("xk_reviewer").get(f"/reports/{draft_id}/pdf").status_code == 404


def test_verify_needs_no_token_and_answers_with_one_verdict(app, world):
    """Like the page, the API verifies for anyone: no token, no session, one headline."""
    import io

    client = app.test_client()
    r = client.post(f"{API}/verify", data={"file": (io.BytesIO(b"%PDF-1.7 x"), "a.pdf")},
                    content_type="multipart/form-data")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert (body["valid"], body["verdict"], body["status"], body["in_archive"]) == (False, "malformed", "malformed",
                                                                                     False)
    assert body["sha256"] == hashlib.sha256(b"%PDF-1.7 x").hexdigest() and body["message"]
    assert "Set-Cookie" not in r.headers
    assert client.post(f"{API}/verify", data={}, content_type="multipart/form-data").status_code == 400
    assert client.post(f"{API}/verify", json={"file": "x"}).status_code == 400


def test_verify_answers_for_a_real_signed_pdf(app, as_user, world):
    """A PDF signed with a district certificate of the dev CA in KEYS_DIR: valid, with its
    archive number and report id; one changed byte: not valid; garbage: not a PDF."""
    import io

    pytest.importorskip("pdf.verify")
    from pdf.fonts import FontsMissing
    from pdf.render import RenderInput, render_report
    from pdf.signing import issue_district_certificate, load_signer, sign_pdf

    keys = Path(app.config["KEYS_DIR"])
    p12 = issue_district_certificate(keys / "ca", "示范区人民政府", keys / "district-test.p12", b"secret")
    try:
        rendered = render_report(RenderInput(
            title="青山镇2027年度工作计划",
            outline={"preamble": ["为做好本年度工作，现将计划报告如下。"], "sections": [], "closing": []},
            issuer="示范区人民政府", town="青山镇", date=dt.date(2027, 1, 5), archive_no="示范区〔2027〕档0001号",
            report_id=41))
    except FontsMissing as exc:
        pytest.skip(f"PDF fonts not installed: {exc}")
    signed = sign_pdf(rendered.data, load_signer(p12, b"secret"), seal_box=rendered.seal_box, reason="审定发布",
                      signer_name="示范区人民政府")
    api = as_user("nobody")  # any account may check a PDF

    def verify(data: bytes) -> dict:
        r = api.post("/verify", data={"file": (io.BytesIO(data), "report.pdf")}, content_type="multipart/form-data")
        assert r.status_code == 200, r.get_json()
        return r.get_json()

    good = verify(signed)
    assert (good["valid"], good["status"], good["sha256"], good["archive_no"], good["report_id"], good["signer"]) == (
        True, "valid", hashlib.sha256(signed).hexdigest(), "示范区〔2027〕档0001号", 41, "示范区人民政府")
    assert good["reason"] == "审定发布" and ISO_UTC.match(good["signed_at"])
    start = signed.index(b"stream", signed.index(b"/Contents")) + 40
    tampered = bytearray(signed)
    tampered[start] ^= 0x01
    bad = verify(bytes(tampered))
    assert (bad["valid"], bad["status"], bad["verdict"], bad["archive_no"], bad["report_id"]) == (
        False, "modified", "modified", None, None)
    assert verify(b"not a pdf at all")["valid"] is False
    assert verify(rendered.data)["status"] == "unsigned"


# ---------------------------------------------------------------- OpenAPI


def test_the_openapi_document_lists_every_endpoint(app, client):
    r = client.get(f"{API}/openapi.json")
    assert r.status_code == 200
    doc = r.get_json()
    assert doc["openapi"].startswith("3.") and doc["info"]["title"] and doc["info"]["version"]
    assert doc["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "description": "a token from POST /api/v1/tokens"}
    assert doc["security"] == [{"bearerAuth": []}]

    rules = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
            rules |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    documented = {(path, method) for path, item in doc["paths"].items() for method in item
                  if method in {"get", "put", "post", "delete", "patch"}}
    assert documented == rules
    for path, method in documented:
        operation = doc["paths"][path][method]
        assert operation["responses"] and operation.get("summary"), (path, method)
        for name in re.findall(r"{(\w+)}", path):
            assert any(p["name"] == name and p["in"] == "path" for p in doc["paths"][path].get("parameters", []))
    assert doc["paths"]["/api/v1/tokens"]["post"]["security"] == []
    body = doc["paths"]["/api/v1/reports"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/CreateReport"}
    assert {"org_unit_id", "kind", "year", "title", "text"} <= set(doc["components"]["schemas"]["CreateReport"]
                                                                   ["properties"])
    assert set(doc["components"]["schemas"]["Report"]["properties"]) >= REPORT_KEYS
    assert {p["name"] for p in doc["paths"]["/api/v1/reports"]["get"]["parameters"]} >= {
        "state", "year", "kind", "org_unit_id", "page"}

    def refs(node):
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "$ref":
                    yield v
                else:
                    yield from refs(v)
        elif isinstance(node, list):
            for v in node:
                yield from refs(v)

    for ref in set(refs(doc)):  # every reference resolves
        kind, name = ref.split("/")[2:]
        assert name in doc["components"][kind], ref


# ---------------------------------------------------------------- cost


def _queries(app, api: Api, path: str) -> int:
    """SQL statements issued by one request (no app context kept around the request), as a
    worker's first list of its scope (its count, then its page: ``listing._wide_lists``)."""
    from sqlalchemy import event

    from workflow import listing

    listing._wide_lists.clear()

    with app.app_context():
        engine = db.engine
    statements: list[str] = []

    def before(conn, cursor, statement, *args):
        if not statement.lstrip().upper().startswith(("PRAGMA", "SAVEPOINT", "RELEASE")):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        assert api.get(path).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return len(statements)


def test_lists_and_reports_cost_the_same_whatever_their_size(app, as_user, world):
    api = as_user("district_reviewer")
    with app.app_context():
        first = gen_report("qs")
        advance(first.id, "district_review")
        rid = first.id
    assert api.post(f"/reports/{rid}/comments", json={"body": "意见"}).status_code == 201
    few = (_queries(app, api, "/reports"), _queries(app, api, f"/reports/{rid}"))
    with app.app_context():
        for i in range(12):
            advance(gen_report("xk" if i % 2 else "qs", title=f"报告{i}").id, "town_review",
                    town="xk" if i % 2 else "qs")
    for i in range(6):
        assert as_user("qs_author" if i % 2 else "admin").post(
            f"/reports/{rid}/comments", json={"body": f"意见{i}"}).status_code == 201
    many = (_queries(app, api, "/reports"), _queries(app, api, f"/reports/{rid}"))
    assert few == many
    assert many[0] <= 6 and many[1] <= 12
