"""Small things a new user trips over: the new report's year agrees with its example title,
the public verification page speaks a citizen's words."""
from __future__ import annotations

import datetime as dt
import re

from tests.helpers import login
from workflow.dates import default_report_year, local_now


def test_a_new_report_proposes_next_year_from_october_on():
    assert default_report_year(dt.date(2026, 9, 30)) == 2026
    assert default_report_year(dt.date(2026, 10, 1)) == 2027
    assert default_report_year(dt.date(2026, 12, 1)) == 2027
    assert default_report_year(dt.date(2027, 1, 5)) == 2027


def test_the_year_field_and_the_example_title_name_the_same_year(client, world):
    login(client, "qs_author")
    html = client.get("/reports/new").get_data(as_text=True)
    year = default_report_year(local_now().date())
    assert re.search(r'<input[^>]*id="year"[^>]*value="%d"' % year, html)
    assert f'placeholder="例如：青山镇{year}年度工作计划"' in html


def test_the_verification_page_speaks_without_jargon(client):
    for lang in ("zh_Hans_CN", "en"):
        with client.session_transaction() as session:
            session["locale"] = lang
        html = client.get("/verify").get_data(as_text=True)
        assert "poppler" not in html and "pdfsig" not in html and "PEM" not in html
    assert "Adobe Acrobat Reader" in html
