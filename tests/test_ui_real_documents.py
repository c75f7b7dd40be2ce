"""Real documents through the pages and the API (issue 9): the editor's live check (CSRF,
scope), the full-width conversion offered when half-width punctuation is found, what paste
repair did told to the author, annexes on the report page, and ``POST /api/v1/checks``."""
from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import csrf_from
from tests.helpers import CLEAN_TEXT, ensure_translations_compiled, gen_report, get_html, login
from workflow.db import db
from workflow.models import Report

ensure_translations_compiled()
CORPUS = Path(__file__).resolve().parent / "corpus"


def corpus(name: str) -> str:
    return (CORPUS / f"{name}.txt").read_text(encoding="utf-8")


def new_report(app, town="qs", **kwargs) -> int:
    with app.app_context():
        return gen_report(town, **kwargs).id


def test_the_editor_rechecks_unsaved_text_on_the_server(app, client, world):
    rid = new_report(app)
    login(client, "qs_author")
    page = get_html(client, f"/reports/{rid}/edit")
    assert f'data-check-url="/reports/{rid}/check"' in page and "editor.js" in page
    headers = {"X-CSRFToken": csrf_from(page)}

    typed = CLEAN_TEXT.replace("800亩", "x亩")
    answer = client.post(f"/reports/{rid}/check", json={"title": "新的标题", "text": typed}, headers=headers)
    assert answer.status_code == 200
    body = answer.get_json()
    assert "占位符“x亩”未填写" in body["html"] and "须修改" in body["html"]
    assert body["halfwidth"] == 0
    # Nothing was saved.
    with app.app_context():
        report = db.session.get(Report, rid)
        assert report.version == 1 and report.title != "新的标题"

    halfwidth = client.post(f"/reports/{rid}/check", json={"text": "一、工作\n完成任务,成效明显;群众满意。"},
                            headers=headers).get_json()
    assert halfwidth["halfwidth"] == 2 and "中文之间有2处半角标点" in halfwidth["html"]
    plain = client.post(f"/reports/{rid}/check", json={"text": corpus("plain-headings")}, headers=headers).get_json()
    assert "未识别到任何章节标题" in plain["html"]
    blank = client.post(f"/reports/{rid}/check", json={"text": "  "}, headers=headers).get_json()
    assert "未发现内容问题" in blank["html"]


def test_the_live_check_needs_the_csrf_token_and_a_report_in_scope(app, client, world):
    rid = new_report(app)
    other = new_report(app, town="lh")
    login(client, "qs_author")
    page = get_html(client, f"/reports/{rid}/edit")

    assert client.post(f"/reports/{rid}/check", json={"text": CLEAN_TEXT}).status_code == 400
    assert client.post(f"/reports/{other}/check", json={"text": CLEAN_TEXT},
                       headers={"X-CSRFToken": csrf_from(page)}).status_code == 404
    escaped = client.post(f"/reports/{rid}/check", json={"text": "<b>x镇</b>"},
                          headers={"X-CSRFToken": csrf_from(page)}).get_json()["html"]
    assert "<b>" not in escaped and "&lt;b&gt;" in escaped


def test_the_full_width_button_shows_when_the_saved_draft_has_half_width_punctuation(app, client, world):
    clean = new_report(app)
    commas = new_report(app, text="一、工作\n完成任务,成效明显。")
    login(client, "qs_author")

    assert re.search(r'id="halfwidth-tools" hidden', get_html(client, f"/reports/{clean}/edit"))
    page = get_html(client, f"/reports/{commas}/edit")
    assert 'id="halfwidth-tools">' in page and "转换为全角" in page


def test_saving_text_copied_from_a_pdf_says_what_was_repaired(app, client, world):
    rid = new_report(app)
    login(client, "qs_author")
    page = get_html(client, f"/reports/{rid}/edit")
    version = re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)
    client.post(f"/reports/{rid}/edit", data={"csrf_token": csrf_from(page), "version": version,
                                              "title": "上半年工作报告", "text": corpus("pdf-broken")})
    html = get_html(client, f"/reports/{rid}/edit")

    assert "有9行在句子中间断开" in html
    assert "有2个用逗号或句点编号的标题" in html
    assert "已略去2行页码或页脚" in html
    assert "从网页复制带入" not in html  # page numbers are not called web-page residue


def test_the_report_page_shows_the_annexes_after_the_sign_off(app, client, world):
    rid = new_report(app, text=corpus("closing-annex"))
    login(client, "qs_author")
    html = get_html(client, f"/reports/{rid}")

    closing, annex = html.index('id="sec-closing"'), html.index('id="sec-annex"')
    assert closing < annex
    assert "二○二四年十二月一日" in html[closing:annex]
    assert "附件：1. 2024年度重点项目清单" in html[annex:] and "全年使用衔接资金520万元。" in html[annex:]


def test_the_api_checks_text_without_saving_and_reports_repairs_on_create(as_user, world):
    api = as_user("qs_author")
    r = api.post("/checks", json={"text": "一、工作\n完成任务,成效明显。\nXX", "title": "xx镇计划"})
    assert r.status_code == 200
    body = r.get_json()
    assert body["sections"] == 1
    assert [(p["code"], p["severity"]) for p in body["problems"]] == [
        ("placeholder", "error"), ("halfwidth_punctuation", "warning"), ("placeholder", "error")]
    assert body["problems"][1]["params"] == {"count": 1, "examples": ["完成任务,成效明显"]}
    assert all(p["message"] for p in body["problems"])
    assert api.post("/checks", json={"title": "x"}).status_code == 400
    assert api.post("/checks", json={"text": "x", "report_id": 999999}).status_code == 404

    created = api.post("/reports", json={"org_unit_id": world["qs"], "kind": "annual_report", "year": 2025,
                                         "title": "上半年工作报告", "text": corpus("pdf-broken")}).get_json()
    assert created["repairs"] == {"joined_lines": 9, "loose_numbers": 2, "page_marks": 2}
    assert created["dropped_lines"] == ["- 1 -", "— 2 —"]
    annexed = api.post("/reports", json={"org_unit_id": world["qs"], "kind": "other", "year": 2024,
                                         "title": "乡村振兴报告", "text": corpus("closing-annex")}).get_json()
    assert annexed["outline"]["annex"][0] == "附件：1. 2024年度重点项目清单"
    assert "repairs" not in annexed


def test_the_openapi_document_has_the_checks_endpoint(client):
    spec = client.get("/api/v1/openapi.json").get_json()

    assert "post" in spec["paths"]["/api/v1/checks"]
    assert "annex" in spec["components"]["schemas"]["Outline"]["properties"]
    assert {"low", "high", "approx"} <= set(spec["components"]["schemas"]["Indicator"]["properties"])
