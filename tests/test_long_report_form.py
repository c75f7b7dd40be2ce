"""The report editor's form takes as much text as the domain allows (MAX_TEXT_CHARS), in hanzi,
sent as the browser sends that form (multipart/form-data): Flask's default limit on a form
field (500 kB) refused anything past ~166,000 hanzi with a 413."""
from __future__ import annotations

import re

from tests.conftest import csrf_from
from tests.helpers import ensure_translations_compiled, get_html, login
from workflow.content import MAX_TEXT_CHARS
from workflow.db import db
from workflow.models import Report

ensure_translations_compiled()


def _long_text(chars: int) -> str:
    body = "围绕茶叶精深加工和山地旅游两条主线，全年计划实施重点项目，完成固定资产投资。" * 40
    lines, n = [], 0
    while sum(map(len, lines)) + len(lines) < chars:
        lines += [f"{n + 1}、第{n + 1}部分", body]
        n += 1
    return "\n".join(lines)[:chars].rstrip("、部分第0123456789\n")


def test_the_editor_saves_the_longest_report_in_hanzi(app, client, world):
    login(client, "qs_author")
    page = get_html(client, "/reports/new")
    assert 'enctype="multipart/form-data"' in page
    town = re.search(r'value="(\d+)"[^>]*>青山镇<', page).group(1)
    text = _long_text(MAX_TEXT_CHARS - 1000)
    assert len(text.encode()) > 3 * 290_000  # far past Flask's default 500 kB
    answer = client.post("/reports/new", content_type="multipart/form-data", data={
        "csrf_token": csrf_from(page), "org_unit_id": town, "kind": "annual_plan", "year": "2027",
        "title": "青山镇年度工作计划（长文）", "text": text.replace("\n", "\r\n")})
    assert answer.status_code == 303, answer.status_code
    report_id = int(answer.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        report = db.session.get(Report, report_id)
        stored = len(str(report.current.outline))
    assert stored > 250_000
