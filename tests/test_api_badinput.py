"""Bad input through the API: whatever a client sends, the answer is a JSON error with a
4xx status (never a 500, never an HTML page, never a reset connection), and nothing changes."""
from __future__ import annotations

import http.client
import io
import json
import threading

import pytest

from tests.helpers import API, CLEAN_TEXT, PLACEHOLDER_TEXT, Api, create, error_of

NESTED = "[" * 100_000 + "]" * 100_000
GOOD = {"org_unit_id": None, "kind": "annual_plan", "year": 2027, "title": "青山镇计划", "text": CLEAN_TEXT}

# Raw bodies for POST /reports (bytes as sent; None: the good body with org_unit_id filled in).
RAW_BODIES = [
    b"", b" ", b"{", b"}", b"[]", b"null", b"true", b"1", b'"a string"', b'{"a":', b"\xff\xfe\x00",
    b"{'single': 'quotes'}", b'{"year": NaN}', b'{"year": Infinity}', b'{"year": 1e400}',
    b'{"year": ' + b"9" * 5000 + b"}", NESTED.encode(), b'{"title": "' + b"\x01\x02" + b'"}',
    b'{"a": ' + b"[" * 80 + b"]" * 80 + b"}",
]

# Field-level nastiness for POST /reports: (field, value) replacing one field of a good body.
FIELD_VALUES = [
    ("org_unit_id", v) for v in ("2", "abc", None, True, 1.5, -1, 0, 10**30, [], {}, "\x00")
] + [
    ("kind", v) for v in ("unknown", "", None, 1, ["annual_plan"], "annual_plan\x00", "ANNUAL_PLAN")
] + [
    ("year", v) for v in ("2027", None, True, 2027.0, -2027, 0, 1999, 2101, 10**30, [2027], "二〇二七")
] + [
    ("title", v) for v in (None, "", "   ", "\x00\x01\x02", 1, [], {}, "题" * 10_000, "\ud800")
] + [
    ("text", v) for v in (None, "", "  \n\t ", 1, [], {"sections": []}, "\x00" * 50, "正" * 700_000)
] + [
    ("outline", v) for v in (None, "一、总体", [], {}, {"sections": "x"}, {"sections": [1]},
                             {"sections": [{"number": "?", "heading": "h", "paragraphs": []}]},
                             {"sections": [{"number": "一、", "heading": 1, "paragraphs": []}]},
                             {"sections": [{"number": "一、", "heading": "h", "paragraphs": [None]}]},
                             {"sections": [{"number": "一、", "heading": "h", "paragraphs": [], "id": ""}]},
                             {"sections": [{"number": "一、", "heading": "h", "paragraphs": [], "level": 7}]},
                             {"sections": [], "extra": 1},
                             {"sections": [{"number": "一、", "heading": "h", "paragraphs": [], "children": [
                                 {"number": "（一）", "heading": "h", "paragraphs": [], "children": [
                                     {"number": "1.", "heading": "h", "paragraphs": [], "children": [
                                         {"number": "（1）", "heading": "h", "paragraphs": [],
                                          "children": "no"}]}]}]}]})
] + [
    ("unknown_field", 1), ("__proto__", {}),
]


def _good(world) -> dict:
    return GOOD | {"org_unit_id": world["qs"]}


def _assert_clean_error(r, *statuses):
    assert r.status_code < 500, r.data[:300]
    assert r.is_json, r.data[:300]
    if r.status_code >= 400:
        error_of(r)
    if statuses:
        assert r.status_code in statuses, (r.status_code, r.get_json())


@pytest.mark.parametrize("raw", RAW_BODIES, ids=range(len(RAW_BODIES)))
def test_malformed_bodies_answer_400(client, world, raw):
    api = Api(client, "qs_author")
    r = api.post("/reports", data=raw, content_type="application/json")
    _assert_clean_error(r, 400)
    assert api.get("/reports").get_json()["total"] == 0


@pytest.mark.parametrize("field,value", FIELD_VALUES, ids=[f"{f}-{i}" for i, (f, _) in enumerate(FIELD_VALUES)])
def test_wrong_fields_never_answer_500(client, world, field, value):
    api = Api(client, "qs_author")
    body = _good(world)
    if field == "outline":
        body.pop("text")
    body[field] = value
    r = api.post("/reports", json=body)
    _assert_clean_error(r)
    if r.status_code == 201:  # accepted only after cleaning: nothing unprintable is stored
        stored = r.get_json()
        assert "\x00" not in json.dumps(stored) and "\ud800" not in stored["title"]
        assert stored["title"].strip() and stored["kind"] in ("annual_plan",)
    else:
        assert r.status_code in (400, 404, 413, 422)
        assert api.get("/reports").get_json()["total"] == 0


def test_the_required_fields_are_required(client, world):
    api = Api(client, "qs_author")
    for missing in ("org_unit_id", "kind", "year", "title", "text"):
        body = {k: v for k, v in _good(world).items() if k != missing}
        r = api.post("/reports", json=body)
        assert r.status_code == 400, missing
        if missing == "text":  # neither text nor outline
            assert error_of(r)["reason"] == "text_or_outline"
        else:
            assert missing in error_of(r)["fields"]
    both = _good(world) | {"outline": {"sections": []}}
    r = api.post("/reports", json=both)
    assert r.status_code == 400 and error_of(r)["reason"] == "text_and_outline"
    r = api.post("/reports", json=_good(world) | {"kind": "memo"})
    assert r.status_code == 400 and "kind" in error_of(r)["fields"]
    r = api.post("/reports", json=_good(world) | {"coment": "typo"})
    assert r.status_code == 400 and "coment" in error_of(r)["fields"]


def test_control_characters_are_stripped_and_markup_is_kept_verbatim(client, world):
    api = Api(client, "qs_author")
    title = '<script>alert("x")</script>青山\x00镇\x07计划 &amp; <b>'
    text = "一、总体要求\n<img src=/etc/passwd> 坚持\x00稳中求进\x1b，完成投资3亿元 & more。"
    r = api.post("/reports", json=_good(world) | {"title": title, "text": text})
    assert r.status_code == 201
    report = r.get_json()
    assert report["title"] == '<script>alert("x")</script>青山镇计划 &amp; <b>'
    assert report["outline"]["sections"][0]["paragraphs"] == [
        "<img src=/etc/passwd> 坚持稳中求进，完成投资3亿元 & more。"]
    assert api.report(report["id"])["title"] == report["title"]
    r = api.post("/reports", data=b'{"org_unit_id": %d, "kind": "other", "year": 2027, "title": "\\ud800A\\udfff", '
                                  b'"text": "\\u0000\\u4e00\\u3001\\u603b\\u4f53\\n\\u5185\\u5bb9"}' % world["qs"],
                 content_type="application/json")
    assert r.status_code == 201 and r.get_json()["title"] == "A"
    comment = api.post(f"/reports/{report['id']}/comments", json={"body": "<i>注意</i>\x00\x08"})
    assert comment.status_code == 201 and comment.get_json()["body"] == "<i>注意</i>"


def test_a_huge_body_answers_413_json(client, world):
    api = Api(client, "qs_author")
    big = b'{"title": "' + b"x" * (20 * 1024 * 1024) + b'"}'
    r = api.post("/reports", data=big, content_type="application/json")
    _assert_clean_error(r, 413)
    assert error_of(r)["code"] == "too_large"
    r = api.put("/reports/1", data=big, content_type="application/json")
    assert r.status_code in (404, 413) and r.is_json
    r = api.post("/verify", data={"file": (io.BytesIO(b"%PDF" + b"0" * (20 * 1024 * 1024)), "big.pdf")},
                 content_type="multipart/form-data")
    _assert_clean_error(r, 413)
    r = client.post(f"{API}/tokens", data=big, content_type="application/json")
    _assert_clean_error(r, 413)


def test_a_huge_body_is_answered_not_reset_on_a_real_socket(app, world):
    """Over a real socket, with a server that closes without draining (wsgiref, like
    gunicorn's sync worker): the client, still sending, reads the 413 (or the 401)."""
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args):
            pass

    server = make_server("127.0.0.1", 0, app, handler_class=Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        def post(path, body, headers):
            conn = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=60)
            conn.request("POST", API + path, body=body, headers={"Content-Type": "application/json"} | headers)
            response = conn.getresponse()
            return response.status, json.loads(response.read())

        status, body = post("/tokens", json.dumps({"username": "qs_author", "password": "test-password-1"}), {})
        token = body["token"]
        big = b'{"title": "' + b"x" * (20 * 1024 * 1024) + b'"}'
        status, body = post("/reports", big, {"Authorization": f"Bearer {token}"})
        assert (status, body["error"]["code"]) == (413, "too_large")
        status, body = post("/reports", big, {})
        assert (status, body["error"]["code"]) == (401, "unauthorized")
    finally:
        server.shutdown()
        server.server_close()


def test_text_over_the_domain_limits_answers_413(client, world):
    api = Api(client, "qs_author")
    r = api.post("/reports", json=_good(world) | {"text": "一、总体\n" + "正" * 400_000})
    _assert_clean_error(r, 413)
    report = create(api, world)
    r = api.put(f"/reports/{report['id']}", json={"version": report["version"], "title": "标" * 201})
    _assert_clean_error(r, 413)
    r = api.post(f"/reports/{report['id']}/comments", json={"body": "评" * 6000})
    _assert_clean_error(r, 413)
    assert api.report(report["id"])["version"] == report["version"]


VERSION_VALUES = ["1", None, True, 1.0, -1, 0, 10**30, [], {}, "abc"]


@pytest.mark.parametrize("version", VERSION_VALUES, ids=[repr(v)[:12] for v in VERSION_VALUES])
def test_a_version_must_be_a_positive_integer(client, world, version):
    api = Api(client, "qs_author")
    report = create(api, world)
    for method, path, body in (("put", f"/reports/{report['id']}", {"title": "新标题"}),
                               ("post", f"/reports/{report['id']}/actions", {"action": "submit"})):
        r = getattr(api, method)(path, json=body | {"version": version})
        _assert_clean_error(r, 400)
    after = api.report(report["id"])
    assert (after["version"], after["state"], after["title"]) == (1, "draft", report["title"])


ACTION_BODIES = [
    {"action": "publish", "version": 1}, {"action": None, "version": 1}, {"action": 1, "version": 1},
    {"action": ["submit"], "version": 1}, {"action": "SUBMIT", "version": 1}, {"version": 1}, {"action": "submit"},
    {"action": "submit", "version": 1, "comment": 5}, {"action": "submit", "version": 1, "comment": ["x"]},
    {"action": "submit", "version": 1, "extra": True},
]


@pytest.mark.parametrize("body", ACTION_BODIES, ids=range(len(ACTION_BODIES)))
def test_malformed_actions_answer_400(client, world, body):
    api = Api(client, "qs_author")
    report = create(api, world)
    r = api.post(f"/reports/{report['id']}/actions", json=body)
    _assert_clean_error(r, 400)
    assert api.report(report["id"])["state"] == "draft"


def test_a_return_without_a_reason_answers_422(client, world, as_user):
    report = create(as_user("qs_author"), world)
    submitted = as_user("qs_author").act(report["id"], "submit")
    for comment in (None, "", "   \n\t", "\x00\x01"):
        body = {"action": "return", "version": submitted["version"]}
        if comment is not None:
            body["comment"] = comment
        r = as_user("qs_reviewer").post(f"/reports/{report['id']}/actions", json=body)
        _assert_clean_error(r, 422)
        assert error_of(r)["code"] == "invalid"
    after = as_user("qs_reviewer").report(report["id"])
    assert (after["state"], after["version"], len(after["history"])) == ("town_review", submitted["version"], 2)


def test_a_submit_with_placeholders_answers_422_with_the_problems(client, world):
    api = Api(client, "qs_author")
    report = create(api, world, text=PLACEHOLDER_TEXT)
    r = api.post(f"/reports/{report['id']}/actions", json={"action": "submit", "version": report["version"]})
    _assert_clean_error(r, 422)
    problems = error_of(r)["problems"]
    assert problems and {p["code"] for p in problems} == {"placeholder"}
    assert any("x万元" in p["excerpt"] for p in problems)


COMMENT_BODIES = [
    {}, {"body": None}, {"body": ""}, {"body": "  "}, {"body": 1}, {"body": ["x"]}, {"body": "\x00"},
    {"body": "ok", "section_id": 1}, {"body": "ok", "section_id": "nope"}, {"body": "ok", "section_id": "s" * 100},
    {"body": "ok", "section_id": ["x"]}, {"body": "ok", "extra": 1},
]


@pytest.mark.parametrize("body", COMMENT_BODIES, ids=range(len(COMMENT_BODIES)))
def test_malformed_comments_never_answer_500(client, world, body):
    api = Api(client, "qs_author")
    report = create(api, world)
    r = api.post(f"/reports/{report['id']}/comments", json=body)
    _assert_clean_error(r, 400, 422)
    assert api.report(report["id"])["comments"] == []


ANSWER_BODIES = [{}, {"status": "maybe", "answer": "x"}, {"status": None, "answer": "x"},
                 {"status": "adopted"}, {"status": "adopted", "answer": None}, {"status": "adopted", "answer": ""},
                 {"status": "adopted", "answer": 3}, {"status": ["adopted"], "answer": "x"}]


@pytest.mark.parametrize("body", ANSWER_BODIES, ids=range(len(ANSWER_BODIES)))
def test_malformed_answers_never_answer_500(client, world, as_user, body):
    report = create(as_user("qs_author"), world)
    as_user("qs_author").act(report["id"], "submit")
    comment = as_user("qs_reviewer").post(f"/reports/{report['id']}/comments", json={"body": "请核实"}).get_json()
    as_user("qs_reviewer").act(report["id"], "return", "见批注")
    r = as_user("qs_author").post(f"/reports/{report['id']}/comments/{comment['id']}/answer", json=body)
    _assert_clean_error(r, 400)
    assert as_user("qs_author").report(report["id"])["comments"][0]["status"] == "open"


QUERIES = ["page=abc", "page=-1", "page=0", "page=1.5", f"page={10**30}", "page=100001", "year=abc", "year=-5",
           f"year={10**30}", "state=bogus", "state=DRAFT", "kind=memo", "org_unit_id=abc", "org_unit_id=-5",
           f"org_unit_id={10**30}", "per_page=0", "per_page=1000", "per_page=x", "q=" + "%00" * 10,
           "q=" + "x" * 500, "state=%00", "page=%00", "year=2027%00"]


@pytest.mark.parametrize("query", QUERIES)
def test_bad_query_strings_answer_400(client, world, query):
    r = Api(client, "qs_author").get(f"/reports?{query}")
    _assert_clean_error(r, 400, 200)
    if r.status_code == 200:
        assert r.get_json()["items"] == []


PATHS = ["/reports/abc", "/reports/-1", "/reports/0", f"/reports/{10**30}", "/reports/1.5", "/reports/%00",
         f"/reports/{2**63}/versions", "/reports/1/diff?from=abc", "/reports/1/diff?from=-1&to=0",
         "/reports/1/comments/abc/answer", "/nowhere"]


@pytest.mark.parametrize("path", PATHS)
def test_bad_paths_answer_404_or_400_in_json(client, world, path):
    api = Api(client, "qs_author")
    create(api, world)
    r = api.get(path) if "answer" not in path else api.post(path, json={"status": "adopted", "answer": "x"})
    _assert_clean_error(r, 400, 404)


def test_wrong_methods_answer_405_in_json(client, world):
    api = Api(client, "qs_author")
    for method, path in (("delete", "/reports"), ("patch", "/me"), ("get", "/tokens"), ("put", "/verify")):
        r = getattr(client, method)(API + path, headers=api.headers())
        _assert_clean_error(r, 405)
        assert error_of(r)["code"] == "method_not_allowed"


TOKEN_BODIES = [b"", b"[]", b"null", b'{"username": 1, "password": 2}', b'{"username": null, "password": null}',
                b'{"username": "qs_author"}', b'{"username": "qs_author\\u0000", "password": "x"}',
                b'{"username": "' + b"u" * 300 + b'", "password": "x"}', b'{"username": "a", "password": "' +
                b"p" * 5000 + b'"}', b'{"username": "a", "password": "b", "remember": true}']


@pytest.mark.parametrize("raw", TOKEN_BODIES, ids=range(len(TOKEN_BODIES)))
def test_bad_token_requests_answer_400_or_401(client, world, raw):
    r = client.post(f"{API}/tokens", data=raw, content_type="application/json")
    _assert_clean_error(r, 400, 401)


def test_a_huge_streamed_body_answers_413_not_a_truncated_parse(client, world):
    """A chunked body has no Content-Length to refuse up front; Werkzeug stops reading it
    at the limit, and the API says 413 rather than parse what it got."""
    api = Api(client, "qs_author")
    chunked = {"Transfer-Encoding": "chunked"}
    big = b'{"title": "' + b"x" * (20 * 1024 * 1024) + b'"}'
    r = client.post(f"{API}/reports", input_stream=io.BytesIO(big), content_type="application/json",
                    headers=api.headers() | chunked, environ_overrides={"wsgi.input_terminated": True})
    _assert_clean_error(r, 413)
    boundary = b"--XX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\r\n"
    upload = boundary + b"%PDF" + b"0" * (20 * 1024 * 1024) + b"\r\n--XX--\r\n"
    r = client.post(f"{API}/verify", input_stream=io.BytesIO(upload), content_type="multipart/form-data; boundary=XX",
                    headers=api.headers() | chunked, environ_overrides={"wsgi.input_terminated": True})
    _assert_clean_error(r, 413)
    small = json.dumps(_good(world)).encode()
    r = client.post(f"{API}/reports", input_stream=io.BytesIO(small), content_type="application/json",
                    headers=api.headers() | chunked, environ_overrides={"wsgi.input_terminated": True})
    assert r.status_code == 201
