"""Every word a Chinese user sees is Chinese: the catalog translates every message the code
and the templates use, and every code of the workflow has a label."""
from __future__ import annotations

import ast
import importlib
import re
import typing
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po
from flask import session

from forms import labels
from tests.helpers import PLACEHOLDER_TEXT, Api, ensure_translations_compiled, gen_report, login, post_form
from web import messages
from web.errors import HTTP_CODES
from workflow import checks, table
from workflow.errors import BadInput, Conflict, DomainError, NotFound

ensure_translations_compiled()

ROOT = Path(__file__).resolve().parents[1]
CATALOG = ROOT / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    CommandLineInterface().run(["pybabel", "-q", "extract", "-F", str(ROOT / "babel.cfg"), "-k", "_l",
                                "-k", "lazy_gettext", "-o", str(pot), str(ROOT)])
    with pot.open("rb") as f:
        return read_po(f)


@pytest.fixture(scope="module")
def catalog():
    with CATALOG.open("rb") as f:
        return read_po(f, locale="zh_Hans_CN")


def test_the_catalog_lives_where_babel_looks_for_it():
    assert CATALOG.exists()
    assert not (ROOT / "translations" / "zh_CN").exists(), "Babel ignores a catalog under zh_CN"


def test_every_message_is_translated_into_chinese(extracted, catalog):
    assert len([m for m in extracted if m.id]) > 100  # the extraction did find the UI
    missing, fuzzy = [], []
    for message in extracted:
        if not message.id:
            continue
        translated = catalog.get(message.id)
        strings = [] if translated is None else (
            [translated.string] if isinstance(translated.string, str) else list(translated.string))
        if not strings or not all(s.strip() for s in strings):
            missing.append(message.id)
        elif translated.fuzzy:
            fuzzy.append(message.id)
    assert not missing, f"untranslated: {missing}"
    assert not fuzzy, f"fuzzy: {fuzzy}"


def test_translations_keep_their_placeholders(catalog):
    problems = [(message.id, [str(e) for e in errors]) for message, errors in catalog.check()]
    assert not problems


@pytest.mark.parametrize("mapping, codes", [
    (labels.STATES, table.STATES),
    (labels.ACTIONS, table.ACTIONS),
    (labels.EVENTS, table.ACTIONS + ("create",)),
    (labels.ROLES, table.ROLES),
    (labels.KINDS, table.KINDS),
    (labels.ORG_KINDS, table.ORG_KINDS),
    (labels.PROBLEMS, tuple(checks.SEVERITY)),
    (labels.SEVERITIES, tuple(set(checks.SEVERITY.values()))),
    (labels.COMMENT_STATUSES, tuple(table.CommentStatus)),
])
def test_every_workflow_code_has_a_label(mapping, codes):
    assert set(codes) <= set(mapping), set(codes) - set(mapping)


def test_pages_are_chinese_by_default_and_english_on_request(app, client, world):
    login(client, "qs_author")
    html = client.get("/").get_data(as_text=True)
    assert 'lang="zh-CN"' in html and "我的待办" in html and "My to-do" not in html
    # An English-language browser still gets Chinese: offices run English Windows/WPS builds.
    english = app.test_client()
    html = english.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(as_text=True)
    assert "Log in to Chengbao" not in html and 'lang="zh-CN"' in html
    response = post_form(english, "/locale", {"locale": "en"}, page="/login", headers={"Referer": "/login"})
    assert response.headers["Location"].endswith("/login")
    html = english.get("/login").get_data(as_text=True)
    assert "Log in to Chengbao" in html


def test_domain_errors_are_shown_in_the_users_language(app):
    error = Conflict("acted_meanwhile")
    with app.test_request_context("/"):
        assert messages.render(error) == "报告已被他人处理，请刷新后重试"
    with app.test_request_context("/"):
        session["locale"] = "en"
        assert messages.render(error) == "Someone else acted on this report first; reload and try again."
    # Params fill the sentence; a list reads as a list, an error inside an error is rendered too.
    line_error = BadInput("csv_line", line=3, error={"code": "bad_request", "reason": "unknown_org_kind",
                                                     "params": {"kind": "village"}})
    with app.test_request_context("/"):
        assert messages.render(BadInput("csv_missing_columns", columns=["kind", "name"])) == "CSV 缺少列：kind、name"
        assert messages.render(line_error) == "第 3 行：未知单位类型：village"
    with app.test_request_context("/"):
        session["locale"] = "en"
        assert messages.render(line_error) == "Line 3: Unknown kind of unit: village."
        # A reason added later without a sentence of its own still says something of its category.
        assert messages.render(NotFound("something_new")) == "Not found."


# ---------------------------------------------------------------- every reason has a sentence

SCANNED = ("workflow", "pdf", "web", "notify")


def _python_files(*folders: str):
    for folder in folders:
        yield from sorted((ROOT / folder).rglob("*.py"))


def _error_classes() -> dict[str, type[DomainError]]:
    """Every DomainError subclass the scanned packages define, by name."""
    for path in _python_files(*SCANNED):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        importlib.import_module(module.removesuffix(".__init__"))
    found: dict[str, type[DomainError]] = {}
    stack = [DomainError]
    while stack:
        cls = stack.pop()
        found[cls.__name__] = cls
        stack.extend(cls.__subclasses__())
    return found


def _called_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def _literal(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def raised_keys() -> list[tuple[str, str]]:
    """(``code.reason``, where) for every ``SomeError("reason", …)`` in workflow/, pdf/ and web/,
    and every ``error_response(status, "code", "reason", …)`` / ``error_body("code", "reason", …)``."""
    classes = _error_classes()
    keys = []
    for path in _python_files(*SCANNED):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        # A subclass that names its reason itself: ``super().__init__("reason", …)``.
        supers = {id(call): cls.name for cls in ast.walk(tree) if isinstance(cls, ast.ClassDef)
                  and cls.name in classes for call in ast.walk(cls) if isinstance(call, ast.Call)
                  and _called_name(call) == "__init__" and isinstance(call.func, ast.Attribute)
                  and isinstance(call.func.value, ast.Call) and _called_name(call.func.value) == "super"}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name, where = _called_name(node), f"{path.relative_to(ROOT)}:{node.lineno}"
            if id(node) in supers and _literal(node.args[0]) is not None:
                keys.append((f"{classes[supers[id(node)]].code}.{_literal(node.args[0])}", where))
            elif name in classes and name != "DomainError" and _literal(node.args[0]) is not None:
                keys.append((f"{classes[name].code}.{_literal(node.args[0])}", where))
            elif name == "error_response" and len(node.args) >= 3 and _literal(node.args[1]) and _literal(node.args[2]):
                keys.append((f"{_literal(node.args[1])}.{_literal(node.args[2])}", where))
            elif name == "error_body" and len(node.args) >= 2 and _literal(node.args[0]) and _literal(node.args[1]):
                keys.append((f"{_literal(node.args[0])}.{_literal(node.args[1])}", where))
    return keys


def test_every_reason_raised_has_a_sentence():
    keys = raised_keys()
    assert len(keys) > 80  # the scan does find the raise sites
    missing = [(key, where) for key, where in keys if key not in messages.MESSAGES]
    assert not missing, missing


def stored_keys() -> set[str]:
    """The keys the PDF layer gives its verdicts and stored job failures (not exceptions):
    ``verify.<status or detail>`` (pdf/verify.py), ``job.<reason>`` (pdf/publications.py)
    and what a reviewer is told of a failure, ``publication_failed.<reason>``."""
    from pdf import verify
    from pdf.publications import FAILURE_REASONS

    details = {v for k, v in vars(verify).items() if k.isupper() and isinstance(v, str) and v.islower()}
    keys = {f"verify.{name}" for name in set(typing.get_args(verify.Status)) | details}
    keys |= {f"publication_failed.{reason}" for reason in FAILURE_REASONS}
    for path in _python_files("pdf"):
        keys.update(re.findall(r'"(job\.[a-z_]+)"', path.read_text(encoding="utf-8")))
    return keys


def test_every_sentence_is_used_or_a_category_fallback():
    used = {key for key, _ in raised_keys()} | {f"{code}.http" for code in set(HTTP_CODES.values()) | {"error"}}
    used |= stored_keys()
    assert set(messages.MESSAGES) - used <= {"not_found.http"}, set(messages.MESSAGES) - used


def test_every_problem_reason_has_a_sentence_in_both_languages(app):
    from workflow import checks

    source = (ROOT / "workflow" / "checks.py").read_text(encoding="utf-8")
    codes = set(checks.SEVERITY)
    assert {key.split(".")[0] for key in messages.PROBLEMS} == codes
    for key, template in messages.PROBLEMS.items():
        assert f'"{key.split(".")[1]}"' in source, f"{key} is never produced"
        with app.test_request_context("/"):
            chinese = str(template)
        with app.test_request_context("/"):
            session["locale"] = "en"
            english = str(template)
        assert chinese.strip() and english.strip() and chinese != english, key


# ---------------------------------------------------------------- no "中文 / English" literal left

# A literal with Chinese, then " /" (or "）/"), then English: one half for each language.
BILINGUAL = re.compile(r"[\u3400-\u9fff][^\n]*?(?:\s/|）/)\s*[A-Za-z{]")


def bilingual_literals(paths, root: Path = ROOT) -> list[tuple[str, int, str]]:
    """(file, line, text) for every string literal (f-strings included, docstrings not) that
    pairs a Chinese sentence with its English translation."""
    found = []
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings, parts = set(), set()
        for node in ast.walk(tree):
            body = getattr(node, "body", None)
            if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                    and isinstance(body[0].value, ast.Constant):
                docstrings.add(id(body[0].value))
            if isinstance(node, ast.JoinedStr):
                parts.update(id(v) for v in node.values)
        for node in ast.walk(tree):
            if id(node) in docstrings or id(node) in parts:
                continue
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value
            elif isinstance(node, ast.JoinedStr):
                text = "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
            else:
                continue
            if BILINGUAL.search(text):
                found.append((str(path.relative_to(root)), node.lineno, text))
    return found


def test_the_scan_finds_a_bilingual_literal(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text('raise NotFound(f"报告不存在 / report {rid} not found")\n'
                      'raise BadInput(f"{name} 必须是整数 / {name} must be an integer")\n'
                      'LABEL = "区/县"\n', encoding="utf-8")
    assert [line for _, line, _ in bilingual_literals([sample], root=tmp_path)] == [1, 2]


def test_no_chinese_english_pair_is_left_in_the_code():
    paths = list(_python_files("workflow", "web", "forms", "pdf", "notify"))
    paths.append(ROOT / "app.py")
    assert len(paths) > 30
    assert bilingual_literals(paths) == []


# ---------------------------------------------------------------- the edges: API, pages, CLI


def test_the_api_answers_in_the_language_of_accept_language(client, world):
    api = Api(client, "qs_author")
    chinese = api.get("/reports/999999")
    assert chinese.status_code == 404
    assert chinese.get_json() == {"error": {"code": "not_found", "reason": "report", "message": "报告不存在",
                                            "params": {}}}
    english = api.get("/reports/999999", headers={"Accept-Language": "en-US,en;q=0.9,zh;q=0.5"})
    assert english.get_json()["error"]["message"] == "Report not found."
    prefers_chinese = api.get("/reports/999999", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"})
    assert prefers_chinese.get_json()["error"]["message"] == "报告不存在"
    # Params travel with the reason, for programs; the message names them for people.
    bad = api.get("/reports?year=abc", headers={"Accept-Language": "en"})
    assert bad.status_code == 400
    assert {k: bad.get_json()["error"][k] for k in ("code", "reason", "params")} == {
        "code": "bad_request", "reason": "invalid_fields", "params": {"names": ["year"]}}
    assert bad.get_json()["error"]["message"] == "Invalid input: year."
    # HTTP errors too, and a missing token.
    nowhere = client.get("/api/v1/nowhere", headers={"Accept-Language": "en"}).get_json()["error"]
    assert (nowhere["code"], nowhere["message"]) == ("not_found", "Not found.")
    assert client.get("/api/v1/nowhere").get_json()["error"]["message"] == "未找到。"
    refused = client.get("/api/v1/me", headers={"Accept-Language": "en"}).get_json()["error"]
    assert (refused["code"], refused["reason"], refused["message"]) == (
        "unauthorized", "token", "A valid bearer token is required.")


def test_the_api_names_each_problem_in_the_readers_language(client, world):
    api = Api(client, "qs_author")
    created = api.post("/reports", json={"org_unit_id": world["qs"], "kind": "annual_plan", "year": 2027,
                                         "title": "计划", "text": PLACEHOLDER_TEXT}).get_json()
    report = api.get(f"/reports/{created['id']}", headers={"Accept-Language": "en"}).get_json()
    assert [(p["code"], p["reason"], p["params"], p["message"]) for p in report["problems"]] == [
        ("placeholder", "unfilled", {"text": "x万元"}, "Unfilled placeholder “x万元”"),
        ("placeholder", "unfilled", {"text": "x个"}, "Unfilled placeholder “x个”")]
    assert [p["message"] for p in api.report(created["id"])["problems"]] == ["占位符“x万元”未填写", "占位符“x个”未填写"]
    refused = api.post(f"/reports/{created['id']}/actions", json={"action": "submit", "version": created["version"]},
                       headers={"Accept-Language": "en"})
    error = refused.get_json()["error"]
    assert refused.status_code == 422 and (error["reason"], error["params"]) == ("blocking_problems", {"count": 2})
    assert error["message"] == "2 problem(s) block submission."
    assert [p["message"] for p in error["problems"]] == ["Unfilled placeholder “x万元”", "Unfilled placeholder “x个”"]


def test_a_page_in_english_names_the_problems_and_the_refusals(app, client, world):
    with app.app_context():
        rid = gen_report(text=PLACEHOLDER_TEXT).id
    login(client, "qs_author")
    post_form(client, "/locale", {"locale": "en"})
    html = client.get(f"/reports/{rid}").get_data(as_text=True)
    assert "Unfilled placeholder “x万元”" in html and "Unfilled placeholder “x个”" in html
    assert "2 problem(s) block submission." in html  # why the submit button is disabled
    assert "占位符" not in html and "须先修改" not in html
    missing = client.get("/reports/999999")
    assert missing.status_code == 404 and "Report not found." in missing.get_data(as_text=True)


def test_http_error_pages_speak_the_users_language(client, world):
    login(client, "qs_author")
    page = client.get("/no-such-page")
    assert page.status_code == 404 and "未找到。" in page.get_data(as_text=True)
    post_form(client, "/locale", {"locale": "en"})
    assert "Not found." in client.get("/no-such-page").get_data(as_text=True)


def test_the_commands_speak_english(app, world):
    result = app.test_cli_runner().invoke(args=["create-user", "qs_author", "--password", "long-enough-pw"])
    assert result.exit_code != 0 and "Username qs_author is taken." in result.output


def test_the_faster_babel_context_answers_as_flask_babel_did(app):
    """``web.extensions._babel_context`` stands in for Flask-Babel's ``_get_current_context``:
    None outside an application context, one namespace per context on ``g``; the locale chosen
    per request, ``force_locale`` inside it, and a new request starting afresh."""
    import flask_babel
    from flask import g

    from web import extensions

    assert flask_babel._get_current_context is extensions._babel_context
    assert flask_babel._get_current_context() is None
    assert flask_babel.gettext("Reports") == "Reports"  # no request: the source text
    with app.test_request_context("/"):
        session["locale"] = "en"
        assert flask_babel.gettext("Reports") == "Reports"
        assert flask_babel._get_current_context() is g._flask_babel
        with flask_babel.force_locale("zh_Hans_CN"):
            assert flask_babel.gettext("Reports") == "报告列表"
        assert flask_babel.gettext("Reports") == "Reports"
    with app.test_request_context("/"):
        assert flask_babel.gettext("Reports") == "报告列表"  # Chinese by default, nothing carried over
