"""Scope through the API: nobody reads, lists or acts on a report outside their subtree,
and an out-of-scope id answers exactly like a missing one; no token, no answer."""
from __future__ import annotations

import io

import pytest

from tests.helpers import API, Api, act, advance, create, error_of, gen_report, get_user
from workflow import services

# (method, path, JSON body); {rid} is 青山镇's report, {cid} a comment on it.
REPORT_ENDPOINTS = [
    ("get", "/reports/{rid}", None),
    ("put", "/reports/{rid}", {"version": 1, "title": "改标题"}),
    ("post", "/reports/{rid}/actions", {"action": "submit", "version": 1}),
    ("post", "/reports/{rid}/comments", {"body": "意见"}),
    ("post", "/reports/{rid}/comments/{cid}/answer", {"status": "adopted", "answer": "已采纳"}),
    ("get", "/reports/{rid}/versions", None),
    ("get", "/reports/{rid}/diff", None),
    ("get", "/reports/{rid}/pdf", None),
]
OTHER_ENDPOINTS = [
    ("get", "/me", None),
    ("get", "/org-units", None),
    ("get", "/reports", None),
    ("post", "/reports", {"org_unit_id": 1, "kind": "other", "year": 2027, "title": "t", "text": "一、总体\n内容。"}),
    ("delete", "/tokens/current", None),
]
# POST /verify is public (CONTRACT.md: it needs no token, like the verification page).
OUTSIDERS = ["xk_author", "xk_reviewer", "lh_author", "other_reviewer", "nobody"]


@pytest.fixture
def published(app, world):
    """A published 青山镇 report with a comment on it: every endpoint has something to show."""
    with app.app_context():
        report = gen_report("qs")
        advance(report.id, "district_review")
        comment = services.add_comment(get_user("qs_author"), report.id, body="备注")
        act(report.id, "district_reviewer", "approve")
        return {"rid": report.id, "cid": comment.id}


def _call(client, method, path, body, headers=None):
    kwargs = {"headers": headers or {}}
    if body is not None:
        kwargs["json"] = body
    return getattr(client, method)(API + path, **kwargs)


def test_verify_answers_without_a_token_and_ignores_a_bad_one(client):
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        r = client.post(f"{API}/verify", headers=headers, content_type="multipart/form-data",
                        data={"file": (io.BytesIO(b"%PDF-1.7"), "x.pdf")})
        assert r.status_code == 200 and r.get_json()["valid"] is False, r.get_json()


@pytest.mark.parametrize("method,path,body", REPORT_ENDPOINTS + OTHER_ENDPOINTS)
def test_no_token_no_answer(client, published, method, path, body):
    path = path.format(**published)
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic cXNfYXV0aG9yOng="},
                    {"Authorization": "Bearer"}, {"Authorization": "Bearer " + "x" * 5000}):
        r = _call(client, method, path, body, headers)
        assert r.status_code == 401, (headers, r.get_json())
        assert error_of(r)["code"] == "unauthorized"


@pytest.mark.parametrize("method,path,body", REPORT_ENDPOINTS + OTHER_ENDPOINTS)
def test_a_browser_session_is_not_an_api_credential(client, world, published, method, path, body):
    """The session cookie of a logged-in browser does not authenticate the API (which is why
    the API needs no CSRF token): without a bearer token the answer is 401, not a CSRF error."""
    with client.session_transaction() as session:
        session["_user_id"] = f"{world['qs_author']}:0"  # User.get_id: id and session generation
        session["_fresh"] = True
    r = _call(client, method, path.format(**published), body)
    assert r.status_code == 401 and error_of(r)["code"] == "unauthorized"


@pytest.mark.parametrize("method,path,body", REPORT_ENDPOINTS)
@pytest.mark.parametrize("username", OUTSIDERS)
def test_an_out_of_scope_report_answers_like_a_missing_one(client, published, username, method, path, body):
    api = Api(client, username)
    out_of_scope = _call(client, method, path.format(**published), body, api.headers())
    missing = _call(client, method, path.format(rid=999_999, cid=published["cid"]), body, api.headers())
    assert out_of_scope.status_code == missing.status_code == 404
    assert out_of_scope.get_json() == missing.get_json()


def test_the_owner_sees_what_outsiders_do_not(client, published):
    api = Api(client, "qs_author")
    for method, path, _ in REPORT_ENDPOINTS:
        if method == "get" and not path.endswith("/pdf"):
            r = api.get(path.format(**published))
            assert r.status_code == 200, path
    assert api.get(f"/reports/{published['rid']}/pdf").status_code == 409  # published; the PDF job has not run


def test_lists_never_include_other_towns_reports(as_user, world):
    qs = create(as_user("qs_author"), world, town="qs")
    xk = create(as_user("xk_author"), world, town="xk", title="溪口镇计划")
    lh = create(as_user("lh_author"), world, town="lh", title="临湖镇计划")
    listed = {u: {i["id"] for i in as_user(u).get("/reports").get_json()["items"]} for u in
              ("qs_author", "qs_reviewer", "xk_author", "district_reviewer", "admin", "lh_author", "other_reviewer",
               "nobody")}
    assert listed == {
        "qs_author": {qs["id"]}, "qs_reviewer": {qs["id"]}, "xk_author": {xk["id"]},
        "district_reviewer": {qs["id"], xk["id"]}, "admin": {qs["id"], xk["id"]},
        "lh_author": {lh["id"]}, "other_reviewer": {lh["id"]}, "nobody": set(),
    }
    # Asking for another town's unit, or another district's, gives nothing rather than leaking.
    assert as_user("qs_author").get(f"/reports?org_unit_id={world['xk']}").get_json()["items"] == []
    body = as_user("district_reviewer").get(f"/reports?org_unit_id={world['lh']}").get_json()
    assert (body["items"], body["total"]) == ([], 0)


def test_org_units_show_only_the_callers_subtree(as_user, world):
    def names(tree):
        out, stack = set(), list(tree["items"])
        while stack:
            node = stack.pop()
            out.add(node["name"])
            stack.extend(node["children"])
        return out

    assert names(as_user("qs_author").get("/org-units").get_json()) == {"青山镇"}
    assert names(as_user("xk_reviewer").get("/org-units").get_json()) == {"溪口镇"}
    assert names(as_user("district_reviewer").get("/org-units").get_json()) == {"示范区", "青山镇", "溪口镇"}
    assert names(as_user("other_reviewer").get("/org-units").get_json()) == {"东湖区", "临湖镇"}
    assert names(as_user("nobody").get("/org-units").get_json()) == set()


def test_creating_a_report_outside_ones_town(as_user, world):
    body = {"kind": "annual_plan", "year": 2027, "title": "计划", "text": "一、总体\n内容。"}
    assert as_user("xk_author").post("/reports", json=body | {"org_unit_id": world["qs"]}).status_code == 404
    assert as_user("lh_author").post("/reports", json=body | {"org_unit_id": world["qs"]}).status_code == 404
    missing = as_user("xk_author").post("/reports", json=body | {"org_unit_id": 999_999})
    outside = as_user("xk_author").post("/reports", json=body | {"org_unit_id": world["qs"]})
    assert missing.get_json() == outside.get_json()
    # In scope but not an author: a role question, 403.
    for username in ("qs_reviewer", "district_reviewer", "admin"):
        r = as_user(username).post("/reports", json=body | {"org_unit_id": world["qs"]})
        assert r.status_code == 403 and error_of(r)["code"] == "forbidden", username
    # Reports belong to towns, not districts.
    assert as_user("admin").post("/reports", json=body | {"org_unit_id": world["district"]}).status_code in (403, 422)


def test_roles_in_scope_answer_403_not_404(app, as_user, world):
    report = create(as_user("qs_author"), world)
    rid = report["id"]
    r = as_user("qs_reviewer").put(f"/reports/{rid}", json={"version": report["version"], "title": "x"})
    assert r.status_code == 403
    r = as_user("district_reviewer").post(f"/reports/{rid}/actions", json={"action": "submit", "version": 1})
    assert r.status_code == 403
    after = as_user("qs_author").report(rid)
    assert (after["version"], after["title"], after["state"]) == (1, report["title"], "draft")
    # A reviewer's comment needs the town's answer; a reviewer cannot answer it themselves.
    as_user("qs_author").act(rid, "submit")
    comment = as_user("qs_reviewer").post(f"/reports/{rid}/comments", json={"body": "请核实"}).get_json()
    assert comment["status"] == "open"
    as_user("qs_reviewer").act(rid, "return", "见批注")
    r = as_user("qs_reviewer").post(f"/reports/{rid}/comments/{comment['id']}/answer",
                                    json={"status": "adopted", "answer": "好"})
    assert r.status_code == 403
    r = as_user("xk_author").post(f"/reports/{rid}/comments/{comment['id']}/answer",
                                  json={"status": "adopted", "answer": "好"})
    assert r.status_code == 404
    ok = as_user("qs_author").post(f"/reports/{rid}/comments/{comment['id']}/answer",
                                   json={"status": "adopted", "answer": "已补充"})
    assert ok.status_code == 200
    twice = as_user("qs_author").post(f"/reports/{rid}/comments/{comment['id']}/answer",
                                      json={"status": "adopted", "answer": "again"})
    assert twice.status_code == 409
    other = create(as_user("qs_author"), world, title="另一份")
    wrong_report = as_user("qs_author").post(f"/reports/{other['id']}/comments/{comment['id']}/answer",
                                             json={"status": "adopted", "answer": "x"})
    assert wrong_report.status_code == 404
