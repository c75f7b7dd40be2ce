"""What a reviewer last saw: the report page records the version each reviewer opened, and
the next visit says what changed since (sections and characters, with a link into the diff).
A report the district just returned shows no "changes since the last return" before anyone
edits it."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from tests.helpers import act, gen_report, get_user, login
from workflow import seen, services
from workflow.db import db
from workflow.models import Report
from workflow.seen import ReportView

EDITED = """为做好本年度工作，现将计划报告如下。
一、发展特色产业
（一）抓好茶叶产业
新建茶园1000亩，培育家庭农场15家。
二、办好民生实事
完成中心小学运动场改造，新增养老床位40张。
三、加强基层治理
推进网格化管理全覆盖。
"""


def _edit(report_id: int, text: str, username: str = "qs_author") -> None:
    report = db.session.get(Report, report_id)
    services.update_draft(get_user(username), report_id, version=report.version, title=report.current.title, text=text)


def _report(report_id: int) -> Report:
    db.session.expire_all()
    return db.session.get(Report, report_id)


def test_the_district_reviewer_sees_what_changed_since_the_version_they_last_opened(ctx, world):
    rid = gen_report("qs").id
    act(rid, "qs_author", "submit")
    act(rid, "qs_reviewer", "approve")
    reviewer = get_user("district_reviewer")
    assert seen.changes_since_seen(reviewer, _report(rid)).first_visit
    seen.mark_seen(reviewer, _report(rid))  # opens version 1
    assert seen.changes_since_seen(reviewer, _report(rid)).unchanged

    act(rid, "district_reviewer", "return", "请补充基层治理部分。")
    # Returned: version 2 is the very same text, so nothing changed yet.
    since = seen.changes_since_seen(reviewer, _report(rid))
    assert (since.seen_number, since.current_number, since.unchanged) == (1, 2, True)

    _edit(rid, EDITED)  # 茶叶 changed, 乡村旅游 removed, 基层治理 added
    act(rid, "qs_author", "submit")
    act(rid, "qs_reviewer", "approve")
    since = seen.changes_since_seen(reviewer, _report(rid))
    assert (since.seen_number, since.current_number) == (1, 2) and since.diffable
    assert (since.changed, since.added, since.removed) == (1, 1, 1)
    assert since.chars_inserted > 0 and since.chars_deleted > 0 and not since.title_changed

    seen.mark_seen(reviewer, _report(rid))
    seen.mark_seen(reviewer, _report(rid))  # opening it twice keeps one row
    assert db.session.scalar(select(func.count()).select_from(ReportView)) == 1
    assert seen.changes_since_seen(reviewer, _report(rid)).unchanged


def test_an_edited_draft_is_noticed_even_under_the_same_version_number(ctx, world):
    rid = gen_report("qs").id
    reviewer = get_user("qs_reviewer")
    seen.mark_seen(reviewer, _report(rid))
    _edit(rid, EDITED)
    since = seen.changes_since_seen(reviewer, _report(rid))
    assert since.draft_edited and not since.unchanged and not since.diffable


def test_only_reviewers_get_the_summary(ctx, world):
    report = gen_report("qs")
    assert seen.is_reviewer(get_user("qs_reviewer"), report) and seen.is_reviewer(get_user("district_reviewer"), report)
    assert not seen.is_reviewer(get_user("qs_author"), report) and not seen.is_reviewer(get_user("admin"), report)


def test_the_report_page_records_the_visit_and_links_into_the_diff(app, client, world):
    with app.app_context():
        rid = gen_report("qs").id
        act(rid, "qs_author", "submit")
        act(rid, "qs_reviewer", "approve")
    login(client, "district_reviewer")
    first = client.get(f"/reports/{rid}").get_data(as_text=True)
    assert "您是第一次打开这份报告。" in first
    with app.app_context():
        act(rid, "district_reviewer", "return", "请补充基层治理部分。")
        _edit(rid, EDITED)
        act(rid, "qs_author", "submit")
        act(rid, "qs_reviewer", "approve")
    page = client.get(f"/reports/{rid}").get_data(as_text=True)
    summary = page.split('class="seen-changes"', 1)[1].split("</li>", 1)[0]
    assert "自上次退回以来的修改" in summary and "修改 1 节" in summary and "新增 1 节" in summary
    link = re.search(r'href="(/reports/%d/diff\?[^"]+)"' % rid, summary).group(1).replace("&amp;", "&")
    assert "from=1" in link and "to=2" in link and client.get(link).status_code == 200
    again = client.get(f"/reports/{rid}").get_data(as_text=True)
    assert "自您上次查看" in again and "以来没有修改" in again
    # The author gets no "since you last looked" (the changes are theirs).
    author = app.test_client()
    login(author, "qs_author")
    assert 'class="seen-changes"' not in author.get(f"/reports/{rid}").get_data(as_text=True)


def test_a_report_just_returned_shows_no_changes_since_the_return_until_it_is_edited(app, client, world):
    with app.app_context():
        rid = gen_report("qs").id
        act(rid, "qs_author", "submit")
        act(rid, "qs_reviewer", "approve")
        act(rid, "district_reviewer", "return", "请补充基层治理部分。")
    login(client, "qs_author")
    page = client.get(f"/reports/{rid}").get_data(as_text=True)
    assert "returned-card" in page  # the return and its reason are shown
    assert "自上次退回以来的修改" not in page
    with app.app_context():
        _edit(rid, EDITED)
    assert "自上次退回以来的修改" in client.get(f"/reports/{rid}").get_data(as_text=True)
