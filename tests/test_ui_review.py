"""The review story in the browser: a town's report goes up, is returned by the district with a
reason and a comment, is answered and corrected by the town, and the district reviewer sees
exactly what changed since the return before approving."""
from __future__ import annotations

import re

from tests.conftest import csrf_from
from tests.helpers import CLEAN_TEXT, browser_as, ensure_translations_compiled, get_html, post_form
from workflow.db import db
from workflow.models import Comment, Report

ensure_translations_compiled()


def state_of(app, report_id: int) -> tuple[str, int, int]:
    with app.app_context():
        db.session.expire_all()
        report = db.session.get(Report, report_id)
        return report.state, report.version, report.content_number


def act(client, report_id: int, action: str, comment: str | None = None):
    """Press an action button as the page offers it (with the version the page shows)."""
    page = get_html(client, f"/reports/{report_id}")
    version = re.search(r'name="action" value="%s">\s*<input type="hidden" name="version" value="(\d+)"' % action,
                        page)
    assert version, f"no {action} button on the page"
    data = {"action": action, "version": version.group(1), "csrf_token": csrf_from(page)}
    if comment is not None:
        data["comment"] = comment
    return client.post(f"/reports/{report_id}/actions", data=data)


def _new_report_through_the_form(client) -> int:
    """A 青山镇 draft made with the new-report form, as the author would; returns its id."""
    page = get_html(client, "/reports/new")
    town_id = re.search(r'value="(\d+)"[^>]*>青山镇<', page).group(1)
    response = client.post("/reports/new", data={
        "csrf_token": csrf_from(page), "org_unit_id": town_id, "kind": "annual_plan", "year": "2027",
        "title": "计划", "text": CLEAN_TEXT})
    return int(response.headers["Location"].rsplit("/", 1)[1])


def test_a_report_goes_up_is_returned_answered_corrected_and_approved(app, world):
    author, town = browser_as(app, "qs_author"), browser_as(app, "qs_reviewer")
    district = browser_as(app, "district_reviewer")

    # The town's author creates the report by pasting it, and submits it.
    page = get_html(author, "/reports/new")
    town_id = re.search(r'value="(\d+)"[^>]*>青山镇<', page).group(1)
    response = author.post("/reports/new", data={
        "csrf_token": csrf_from(page), "org_unit_id": town_id, "kind": "annual_plan", "year": "2027",
        "title": "青山镇2027年度工作计划", "text": CLEAN_TEXT})
    rid = int(response.headers["Location"].rsplit("/", 1)[1])
    assert act(author, rid, "submit").headers["Location"] == f"/reports/{rid}"
    assert state_of(app, rid)[0] == "town_review"

    # The town head approves on the way up.
    assert "青山镇2027年度工作计划" in get_html(town, "/")
    act(town, rid, "approve")
    assert "已审核通过，报告已报送区审核" in get_html(town, f"/reports/{rid}")
    assert state_of(app, rid)[0] == "district_review"

    # The district reviewer tries to return it without a reason: refused, nothing changes.
    before = state_of(app, rid)
    response = act(district, rid, "return", comment="   ")
    assert response.headers["Location"] == f"/reports/{rid}"
    page = get_html(district, f"/reports/{rid}")
    assert "退回必须填写理由" in page
    assert state_of(app, rid) == before
    assert re.search(r'<textarea id="reason-return" name="comment"[^>]*required', page)

    # A comment on section (一), then the return with a reason.
    with app.app_context():
        report = db.session.get(Report, rid)
        first = report.current.outline["sections"][0]
        sub_id = first["children"][0]["id"]
    post_form(district, f"/reports/{rid}/comments", {"section_id": sub_id, "body": "茶园面积请与农业部门数据核对。"},
              page=f"/reports/{rid}")
    act(district, rid, "return", comment="请核实茶园面积后重新报送。")
    page = get_html(district, f"/reports/{rid}")
    assert "已退回，并附退回理由" in page
    assert state_of(app, rid)[0] == "draft"

    # The author finds it back in the to-do list, with the open comment beside its section.
    assert "青山镇2027年度工作计划" in get_html(author, "/")
    page = get_html(author, f"/reports/{rid}")
    assert "请核实茶园面积后重新报送。" in page  # the reason, in the history
    row = page.split(f'id="sec-{sub_id}"', 1)[1].split('<div class="doc-row', 1)[0]
    assert "茶园面积请与农业部门数据核对。" in row and "待答复" in row
    assert 'name="answer"' in row
    assert "有 1 条审核意见待答复" in page
    assert "自上次退回以来的修改" not in page  # nothing has changed yet: no "changes" to show

    # Submitting again is refused while the comment is open.
    assert re.search(r'disabled[^>]*>提交</button>\s*<p class="reason"[^>]*>还有 1 条审核意见未答复', page)
    post_form(author, f"/reports/{rid}/actions", {"action": "submit", "version": str(state_of(app, rid)[1])},
              page=f"/reports/{rid}")
    assert "还有 1 条审核意见未答复" in get_html(author, f"/reports/{rid}")
    assert state_of(app, rid)[0] == "draft"

    # The author corrects the text and answers the comment.
    page = get_html(author, f"/reports/{rid}/edit")
    version = re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)
    author.post(f"/reports/{rid}/edit", data={"csrf_token": csrf_from(page), "version": version,
                                              "title": "青山镇2027年度工作计划",
                                              "text": CLEAN_TEXT.replace("新建茶园800亩", "新建茶园650亩")})
    with app.app_context():
        comment_id = db.session.scalar(db.select(Comment.id).where(Comment.report_id == rid))
    post_form(author, f"/reports/{rid}/comments/{comment_id}/answer",
              {"status": "adopted", "answer": "已与农业部门核对，改为650亩。"}, page=f"/reports/{rid}")
    page = get_html(author, f"/reports/{rid}")
    assert "答复已保存" in page and "已与农业部门核对，改为650亩。" in page
    assert "采纳" in page and "答复于第 2 版" in page
    # The author can also see what changed since the return.
    assert "自上次退回以来的修改" in page

    # Up again: submit, the town approves, and the district sees the changes since the return.
    act(author, rid, "submit")
    act(town, rid, "approve")
    page = get_html(district, f"/reports/{rid}")
    assert "自上次退回以来的修改" in page
    link = re.search(r'href="(/reports/%d/diff\?[^"]+)"' % rid, page).group(1).replace("&amp;", "&")
    assert "from=1" in link and "to=2" in link
    diff = get_html(district, link)
    assert "自上次退回以来的修改" in diff and "第 1 版 → 第 2 版" in diff
    assert "<del>80</del><ins>65</ins>" in diff
    assert "修改 1 节" in diff
    assert "发展乡村旅游" not in diff  # unchanged sections are hidden by default
    # The default diff of a resubmitted report is the one since the return.
    assert "自上次退回以来的修改" in get_html(district, f"/reports/{rid}/diff")
    versions = get_html(district, f"/reports/{rid}/versions")
    assert "第 1 版" in versions and "第 2 版" in versions and "被退回" in versions

    # Approved and published.
    act(district, rid, "approve")
    page = get_html(district, f"/reports/{rid}")
    assert "已审核通过并发布" in page
    assert state_of(app, rid)[0] == "published"
    assert 'name="action"' not in page and "已发布：报告不能再修改" in page


def test_a_comment_without_text_is_refused(app, world):
    author = browser_as(app, "qs_author")
    rid = _new_report_through_the_form(author)
    post_form(author, f"/reports/{rid}/comments", {"body": "  "}, page=f"/reports/{rid}")
    assert "请先填写批注内容" in get_html(author, f"/reports/{rid}")
    post_form(author, f"/reports/{rid}/comments", {"body": "自己的备注"}, page=f"/reports/{rid}")
    page = get_html(author, f"/reports/{rid}")
    assert "批注已添加" in page and "自己的备注" in page and "待答复" not in page


def test_a_diff_of_unknown_versions_is_a_404_not_a_500(app, world):
    author = browser_as(app, "qs_author")
    rid = _new_report_through_the_form(author)
    assert author.get(f"/reports/{rid}/diff?from=7&to=1").status_code == 404
    assert author.get(f"/reports/{rid}/diff?from=abc").status_code == 400
    assert author.get(f"/reports/{rid}/versions/9").status_code == 404
    assert "两个版本内容相同" in get_html(author, f"/reports/{rid}/diff")
