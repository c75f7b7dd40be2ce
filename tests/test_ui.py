"""The browser UI, as the town clerks, reviewers and admins use it: real login form, real
CSRF tokens, real database. Pages are Chinese by default."""
from __future__ import annotations

import re

import pytest

from tests.conftest import csrf_from
from tests.helpers import (
    CLEAN_TEXT,
    PLACEHOLDER_TEXT,
    advance,
    ensure_translations_compiled,
    gen_report,
    get_html,
    html_of,
    login,
    post_form,
)
from workflow.db import db
from workflow.models import Report

ensure_translations_compiled()


def report_state(app, report_id: int) -> tuple[str, int]:
    with app.app_context():
        report = db.session.get(Report, report_id)
        return report.state, report.version


def new_report(app, town="qs", **kwargs) -> int:
    with app.app_context():
        return gen_report(town, **kwargs).id


def doc_rows(html: str) -> dict[str, str]:
    """The report page's section rows by section id ("sec-…"), each with its notes column."""
    rows = {}
    for chunk in html.split('<div class="doc-row')[1:]:
        match = re.search(r'id="(sec-[^"]+)"', chunk)
        if match:
            rows[match.group(1)] = chunk
    return rows


# ---------------------------------------------------------------- signing in


@pytest.mark.parametrize("path", ["/", "/reports", "/reports/new", "/reports/1", "/reports/1/edit",
                                  "/reports/1/versions", "/reports/1/diff", "/admin/", "/admin/users"])
def test_anonymous_visitors_are_sent_to_the_login_page(client, world, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=" + path.replace("/", "%2F")


def test_login_with_wrong_password_or_unknown_user_says_the_same_thing(client, world):
    for username, password in [("qs_author", "wrong-password"), ("no_such_user", "whatever-1")]:
        response = login(client, username, password)
        assert response.status_code == 200
        assert "用户名或密码错误" in html_of(response)
    assert client.get("/").headers["Location"].startswith("/login")


def test_login_follows_next_only_to_a_path_on_this_site(client, world):
    page = client.get("/login?next=/reports")
    token = csrf_from(html_of(page))
    response = client.post("/login", data={"username": "qs_author", "password": "test-password-1",
                                           "next": "/reports", "csrf_token": token})
    assert response.headers["Location"] == "/reports"
    post_form(client, "/logout", {})
    for evil in ["https://evil.example/", "//evil.example/x", "/\\evil.example"]:
        token = csrf_from(html_of(client.get("/login")))
        response = client.post("/login", data={"username": "qs_author", "password": "test-password-1",
                                               "next": evil, "csrf_token": token})
        assert response.headers["Location"] == "/", evil
        post_form(client, "/logout", {})


def test_logout_is_a_post_and_ends_the_session(client, world):
    login(client, "qs_author")
    assert client.get("/").status_code == 200
    assert client.get("/logout").status_code == 405
    response = post_form(client, "/logout", {})
    assert response.headers["Location"] == "/login"
    assert client.get("/").headers["Location"] == "/login?next=%2F"


def test_the_header_shows_the_user_positions_and_a_csrf_meta_tag(client, world):
    login(client, "qs_author")
    html = get_html(client, "/")
    assert '<meta name="csrf-token" content="' in html
    assert "青山镇·填报人" in html
    assert "我的待办" in html and "报告列表" in html and "新建报告" in html
    login_reviewer = html_of(client.get("/"))
    assert "退出" in login_reviewer


# ---------------------------------------------------------------- my to-do


def test_an_author_with_nothing_to_do_gets_a_helpful_empty_inbox(client, world):
    login(client, "qs_author")
    html = get_html(client, "/")
    assert "暂无待办事项" in html
    assert 'href="/reports/new"' in html


def test_a_reviewer_sees_what_waits_for_them(app, client, world):
    rid = new_report(app, title="待审的计划")
    with app.app_context():
        advance(rid, "town_review")
    login(client, "qs_reviewer")
    html = get_html(client, "/")
    assert "待审的计划" in html and "镇审核" in html and "青山镇" in html
    assert 'href="/reports/new"' not in html  # not an author


# ---------------------------------------------------------------- a new report


def test_an_author_creates_a_report_by_pasting_text_and_sees_its_outline(app, client, world):
    login(client, "qs_author")
    page = get_html(client, "/reports/new")
    assert "青山镇" in page and "溪口镇" not in page  # only the towns where the user is an author
    town_id = re.search(r'<option[^>]*value="(\d+)"[^>]*>青山镇</option>', page).group(1)
    response = client.post("/reports/new", data={
        "csrf_token": csrf_from(page), "org_unit_id": town_id, "kind": "annual_plan", "year": "2027",
        "title": "青山镇2027年度工作计划", "text": "发布时间：2026-01-05\n来源：青山镇人民政府\n" + CLEAN_TEXT,
    })
    assert response.status_code == 303
    location = response.headers["Location"]
    assert re.fullmatch(r"/reports/\d+", location)
    html = get_html(client, location)
    assert "已导入 4 个章节" in html
    assert "来源：青山镇人民政府" in html  # the dropped web-page line is listed in the flash
    assert "一、" in html and "发展特色产业" in html and "（一）" in html and "抓好茶叶产业" in html
    assert "新建茶园800亩" in html
    assert "未发现内容问题" in html or "问题" not in html.split('class="document"')[0]
    with app.app_context():
        report = db.session.get(Report, int(location.rsplit("/", 1)[1]))
        assert report.state == "draft" and report.title == "青山镇2027年度工作计划"
        assert "来源" not in str(report.current.outline)


def _docx_bytes(lines: list[str]) -> bytes:
    import io

    import docx

    document = docx.Document()
    for line in lines:
        document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_an_author_creates_a_report_from_a_docx_file(app, client, world):
    import io

    login(client, "qs_author")
    page = get_html(client, "/reports/new")
    town_id = re.search(r'value="(\d+)"[^>]*>青山镇<', page).group(1)
    data = {"csrf_token": csrf_from(page), "org_unit_id": town_id, "kind": "annual_report", "year": "2026",
            "title": "上传的总结", "text": "",
            "docx": (io.BytesIO(_docx_bytes(CLEAN_TEXT.strip().split("\n"))), "总结.docx")}
    response = client.post("/reports/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 303
    html = get_html(client, response.headers["Location"])
    assert "已导入 4 个章节" in html and "发展乡村旅游" in html
    # A file that is not a .docx is refused with a message, and the form comes back.
    page = get_html(client, "/reports/new")
    data = {"csrf_token": csrf_from(page), "org_unit_id": town_id, "kind": "annual_report", "year": "2026",
            "title": "坏文件", "docx": (io.BytesIO(b"PK\x03\x04 not really a zip"), "坏.docx")}
    response = client.post("/reports/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "无法读取该 .docx 文件" in html_of(response) and 'value="坏文件"' in html_of(response)


def test_a_new_report_without_text_is_refused_and_keeps_what_was_typed(client, world):
    login(client, "qs_author")
    page = get_html(client, "/reports/new")
    town_id = re.search(r'value="(\d+)"[^>]*>青山镇<', page).group(1)
    response = client.post("/reports/new", data={
        "csrf_token": csrf_from(page), "org_unit_id": town_id, "kind": "annual_plan", "year": "2027",
        "title": "只有标题", "text": "   "})
    assert response.status_code == 400
    html = html_of(response)
    assert "请粘贴报告正文" in html and 'value="只有标题"' in html


def test_a_reviewer_cannot_open_the_new_report_page(client, world):
    login(client, "qs_reviewer")
    response = client.get("/reports/new")
    assert response.headers["Location"] == "/"
    assert "只有镇（乡、街道）的填报人可以新建报告" in get_html(client, "/")


def test_placeholders_disable_submit_and_show_beside_their_section(app, client, world):
    rid = new_report(app, text=PLACEHOLDER_TEXT, title="有占位符的计划")
    login(client, "qs_author")
    html = get_html(client, f"/reports/{rid}")
    # The summary at the top, and a disabled submit button with the reason.
    assert "2 处须修改的问题阻止提交" in html
    submit = re.search(r'<button type="button" class="btn" disabled[^>]*>提交</button>\s*'
                       r'<p class="reason"[^>]*>([^<]*)</p>', html)
    assert submit, "the submit button should be shown disabled"
    assert submit.group(1).strip() == "有 2 处问题须先修改才能提交"  # the Chinese half of the message
    assert 'name="action" value="submit"' not in html
    # Each placeholder problem sits in the row of its section.
    with app.app_context():
        report = db.session.get(Report, rid)
        section_id = report.current.outline["sections"][0]["id"]
    row = doc_rows(html)[f"sec-{section_id}"]
    assert row.count('class="problem sev-error"') == 2
    assert "占位符“x万元”未填写" in row and "占位符“x个”未填写" in row and "须修改" in row
    # Submitting anyway (a forged POST) is refused with the problems, and nothing changes.
    response = post_form(client, f"/reports/{rid}/actions", {"action": "submit", "version": "1"},
                         page=f"/reports/{rid}")
    assert response.headers["Location"] == f"/reports/{rid}"
    assert "有 2 处问题须先修改才能提交" in get_html(client, f"/reports/{rid}")
    assert report_state(app, rid) == ("draft", 1)


def test_the_action_buttons_are_exactly_the_allowed_actions(app, client, world):
    rid = new_report(app)
    login(client, "qs_author")
    html = get_html(client, f"/reports/{rid}")
    assert re.findall(r'name="action" value="(\w+)"', html) == ["submit"]
    post_form(client, f"/reports/{rid}/actions", {"action": "submit", "version": "1"}, page=f"/reports/{rid}")
    html = get_html(client, f"/reports/{rid}")
    assert "已提交镇审核" in html
    assert re.findall(r'name="action" value="(\w+)"', html) == ["withdraw"]
    post_form(client, "/logout", {})
    login(client, "qs_reviewer")
    html = get_html(client, f"/reports/{rid}")
    assert re.findall(r'name="action" value="(\w+)"', html) == ["approve", "return"]
    post_form(client, "/logout", {})
    login(client, "xk_reviewer")
    assert client.get(f"/reports/{rid}").status_code == 404


def test_a_double_click_makes_one_transition(app, client, world):
    rid = new_report(app)
    login(client, "qs_author")
    page = get_html(client, f"/reports/{rid}")
    token = csrf_from(page)
    for _ in range(2):
        client.post(f"/reports/{rid}/actions", data={"csrf_token": token, "action": "submit", "version": "1"})
    html = get_html(client, f"/reports/{rid}")
    assert "已提交镇审核" in html and "该报告已被他人处理，请刷新后重试" in html
    assert report_state(app, rid) == ("town_review", 2)
    assert html.count("<strong>提交</strong>") == 1  # one submit in the history


# ---------------------------------------------------------------- editing


def test_an_author_edits_the_draft_and_sees_its_problems_beside_the_editor(app, client, world):
    rid = new_report(app)
    login(client, "qs_author")
    page = get_html(client, f"/reports/{rid}/edit")
    assert "新建茶园800亩" in page  # the outline rendered back to text
    version = re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)
    response = client.post(f"/reports/{rid}/edit", data={
        "csrf_token": csrf_from(page), "version": version, "title": "新的标题",
        "text": CLEAN_TEXT.replace("800亩", "x亩")})
    assert response.headers["Location"] == f"/reports/{rid}/edit"
    html = get_html(client, f"/reports/{rid}/edit")
    assert "草稿已保存" in html and "1 处须修改的问题阻止提交" in html
    assert "占位符“x亩”未填写" in html
    with app.app_context():
        report = db.session.get(Report, rid)
        assert report.title == "新的标题" and report.version == 2


def test_a_stale_edit_shows_the_conflict_and_keeps_the_clerks_text(app, client, world):
    rid = new_report(app)
    login(client, "qs_author")
    page = get_html(client, f"/reports/{rid}/edit")
    other = app.test_client()
    login(other, "qs_author2")
    other_page = get_html(other, f"/reports/{rid}/edit")
    other.post(f"/reports/{rid}/edit", data={"csrf_token": csrf_from(other_page), "version": "1",
                                             "title": "同事先保存的标题", "text": CLEAN_TEXT})
    assert report_state(app, rid) == ("draft", 2)
    mine = CLEAN_TEXT + "三、我刚写的一节\n这段文字不能丢。\n"
    response = client.post(f"/reports/{rid}/edit", data={"csrf_token": csrf_from(page), "version": "1",
                                                          "title": "我的标题", "text": mine})
    assert response.status_code == 409
    html = html_of(response)
    assert "该报告已被他人处理，请刷新后重试" in html
    assert "这段文字不能丢。" in html and 'value="我的标题"' in html
    assert 'name="version" type="hidden" value="2"' in html  # saving again is a deliberate overwrite
    with app.app_context():
        assert db.session.get(Report, rid).title == "同事先保存的标题"


def test_only_a_draft_is_edited(app, client, world):
    rid = new_report(app)
    with app.app_context():
        advance(rid, "town_review")
    login(client, "qs_author")
    response = client.get(f"/reports/{rid}/edit")
    assert response.headers["Location"] == f"/reports/{rid}"
    assert "只有草稿可以修改" in get_html(client, f"/reports/{rid}")


# ---------------------------------------------------------------- scope and CSRF


def test_another_towns_author_gets_404_everywhere(app, client, world):
    rid = new_report(app)
    login(client, "xk_author")
    for path in [f"/reports/{rid}", f"/reports/{rid}/edit", f"/reports/{rid}/versions", f"/reports/{rid}/diff",
                 f"/reports/{rid}/versions/1"]:
        assert client.get(path).status_code == 404, path
    token = csrf_from(get_html(client, "/"))
    for path, data in [(f"/reports/{rid}/actions", {"action": "submit", "version": "1"}),
                       (f"/reports/{rid}/edit", {"version": "1", "title": "x", "text": CLEAN_TEXT}),
                       (f"/reports/{rid}/comments", {"body": "看不见的批注"}),
                       (f"/reports/{rid}/comments/1/answer", {"status": "adopted", "answer": "x"})]:
        response = client.post(path, data={**data, "csrf_token": token})
        assert response.status_code == 404, path
        assert "报告不存在" in html_of(response) or "页面不存在" in html_of(response)
    assert report_state(app, rid) == ("draft", 1)
    post_form(client, "/logout", {})
    login(client, "lh_author")  # another district altogether
    assert client.get(f"/reports/{rid}").status_code == 404


def test_a_post_without_csrf_token_is_refused_and_changes_nothing(app, client, world):
    rid = new_report(app)
    login(client, "qs_author")
    response = client.post(f"/reports/{rid}/actions", data={"action": "submit", "version": "1"})
    assert response.status_code == 400
    response = client.post(f"/reports/{rid}/actions", data={"action": "submit", "version": "1",
                                                            "csrf_token": "forged"})
    assert response.status_code == 400
    assert report_state(app, rid) == ("draft", 1)
    assert client.post("/logout").status_code == 400
    assert client.get("/").status_code == 200  # still logged in


# ---------------------------------------------------------------- escaping


XSS_TITLE = "<script>alert(1)</script>计划"
XSS_LINE = '<img src=x onerror=alert(2)>'


def test_markup_in_title_text_and_comments_is_escaped_on_every_page(app, client, world):
    text = CLEAN_TEXT.replace("新建茶园800亩", "新建茶园800亩" + XSS_LINE)
    rid = new_report(app, title=XSS_TITLE, text=text)
    login(client, "qs_author")
    post_form(client, f"/reports/{rid}/comments", {"body": '<b onmouseover="x()">批注</b>'}, page=f"/reports/{rid}")
    page = get_html(client, f"/reports/{rid}/edit")
    client.post(f"/reports/{rid}/edit", data={"csrf_token": csrf_from(page), "version": "1", "title": XSS_TITLE,
                                              "text": text.replace("15家", "16家" + XSS_LINE)})
    pages = ["/", "/reports", f"/reports/{rid}", f"/reports/{rid}/edit", f"/reports/{rid}/versions",
             f"/reports/{rid}/versions/1", f"/reports/{rid}/diff?from=1&to=1&all=1"]
    htmls = {path: get_html(client, path) for path in pages}
    with app.app_context():
        advance(rid, "town_review")
        report = db.session.get(Report, rid)
        report_id = report.id
    # A reviewer's return and a resubmission make a second version to compare.
    login_as_reviewer = app.test_client()
    login(login_as_reviewer, "qs_reviewer")
    post_form(login_as_reviewer, f"/reports/{rid}/actions",
              {"action": "return", "version": "3", "comment": "<i>退回</i>" + XSS_LINE}, page=f"/reports/{rid}")
    page = get_html(client, f"/reports/{report_id}/edit")
    client.post(f"/reports/{rid}/edit", data={"csrf_token": csrf_from(page), "version": "4", "title": XSS_TITLE,
                                              "text": text.replace("12万人次", "13万人次" + XSS_LINE)})
    for path in [f"/reports/{rid}", f"/reports/{rid}/diff?from=1&to=2", f"/reports/{rid}/diff?from=1&to=2&all=1"]:
        htmls[path + "#later"] = get_html(client, path)
    assert "<ins>" in htmls[f"/reports/{rid}/diff?from=1&to=2#later"]
    for path, html in htmls.items():
        assert "<script>alert" not in html, path
        assert "<img src=x" not in html, path
        assert "<b onmouseover" not in html, path
        assert "<i>退回" not in html, path
    assert "&lt;script&gt;alert(1)&lt;/script&gt;计划" in get_html(client, f"/reports/{rid}")
    assert "&lt;img src=x onerror=alert(2)&gt;" in get_html(client, f"/reports/{rid}")
    assert "&lt;b onmouseover=" in get_html(client, f"/reports/{rid}")
    assert "&lt;i&gt;退回&lt;/i&gt;" in get_html(client, f"/reports/{rid}")


# ---------------------------------------------------------------- the list


def test_the_list_filters_and_pages(app, client, world):
    with app.app_context():
        for i in range(23):
            gen_report("qs", title=f"青山报告{i:02d}", year=2026 if i % 2 else 2027)
        gen_report("xk", title="溪口五年规划", kind="five_year_plan", year=2026)
        advance(gen_report("xk", title="溪口已提交").id, "town_review", town="xk")
    login(client, "district_reviewer")
    html = get_html(client, "/reports")
    assert "共 25 份报告" in html
    assert html.count('<tr>') - 1 == 20  # header row + 20
    page2 = get_html(client, "/reports?page=2")  # the page number of old links still works
    assert page2.count('<tr>') - 1 == 5 and "第 2 页" in page2
    assert "溪口五年规划" in get_html(client, "/reports?kind=five_year_plan")
    only = get_html(client, "/reports?kind=five_year_plan")
    assert "共 1 份报告" in only and "青山报告" not in only
    assert "共 13 份报告" in get_html(client, "/reports?year=2027")
    submitted = get_html(client, "/reports?state=town_review")
    assert "共 1 份报告" in submitted and "溪口已提交" in submitted
    with app.app_context():
        from workflow.models import OrgUnit

        xk = db.session.scalar(db.select(OrgUnit).where(OrgUnit.name == "溪口镇")).id
    assert "共 2 份报告" in get_html(client, f"/reports?org_unit_id={xk}")
    assert "共 12 份报告" in get_html(client, "/reports?year=2026")
    # Filters stay in the page links.
    drafts = get_html(client, "/reports?state=draft")
    assert "共 24 份报告" in drafts
    next_link = re.search(r'href="([^"]*)" rel="next"', drafts).group(1).replace("&amp;", "&")
    assert "state=draft" in next_link and "cursor=" in next_link
    last = get_html(client, next_link)
    assert last.count("<tr>") - 1 == 4 and 'rel="next"' not in last and 'rel="first"' in last
    # Bad filter values are shown as errors, not a 500.
    assert client.get("/reports?year=abc&state=nonsense&page=zz").status_code == 200


def test_an_author_lists_only_the_reports_of_the_own_town(app, client, world):
    with app.app_context():
        gen_report("qs", title="青山的报告")
        gen_report("xk", title="溪口的报告")
    login(client, "qs_author")
    html = get_html(client, "/reports")
    assert "青山的报告" in html and "溪口的报告" not in html


# ---------------------------------------------------------------- language


def test_the_language_switch_gives_english_and_back(client, world):
    login(client, "qs_author")
    assert "我的待办" in get_html(client, "/")
    response = post_form(client, "/locale", {"locale": "en"}, headers={"Referer": "http://localhost/reports"})
    assert response.headers["Location"] == "/reports"
    html = get_html(client, "/")
    assert "My to-do" in html and "我的待办" not in html and 'lang="en"' in html
    post_form(client, "/locale", {"locale": "zh_Hans_CN"})
    assert "我的待办" in get_html(client, "/")


def test_anonymous_visitors_can_switch_language_on_the_login_page(client, world):
    post_form(client, "/locale", {"locale": "en"}, page="/login")
    assert "Log in to Chengbao" in get_html(client, "/login")


# ---------------------------------------------------------------- administration


@pytest.mark.parametrize("username", ["qs_author", "qs_reviewer", "district_reviewer", "nobody"])
def test_admin_pages_are_refused_to_non_admins(client, world, username):
    login(client, username)
    for path in ["/admin/", "/admin/users", f"/admin/users/{world['qs_author']}"]:
        response = client.get(path)
        assert response.status_code == 403, path
        assert "无权访问此页面" in html_of(response)
    response = post_form(client, "/admin/users", {"username": "sneaky", "display_name": "x",
                                                  "password": "long-enough-1"})
    assert response.status_code == 403


def test_an_admin_adds_a_unit_creates_a_user_and_grants_a_position(app, client, world):
    login(client, "admin")
    html = get_html(client, "/admin/")
    assert "青山镇" in html and "东湖区" not in html  # only the admin's own tree
    post_form(client, "/admin/units", {"parent_id": str(world["district"]), "name": "新河街道",
                                       "kind": "subdistrict", "division_code": "330100102000"}, page="/admin/")
    html = get_html(client, "/admin/")
    assert "已新增单位：新河街道" in html and "330100102000" in html
    response = post_form(client, "/admin/users", {"username": "xh_author", "display_name": "新河填报人",
                                                  "password": "long-enough-1"}, page="/admin/users")
    location = response.headers["Location"]
    assert re.fullmatch(r"/admin/users/\d+", location)
    user_page = get_html(client, location)
    assert "请为其授予岗位" in user_page
    with app.app_context():
        from workflow.models import OrgUnit

        xh = db.session.scalar(db.select(OrgUnit).where(OrgUnit.name == "新河街道")).id
    post_form(client, location + "/positions", {"org_unit_id": str(xh), "role": "author"}, page=location)
    user_page = get_html(client, location)
    assert "已授予岗位" in user_page and "新河街道 · 填报人" in user_page
    # A role at the wrong kind of unit is refused with the service's reason.
    post_form(client, location + "/positions", {"org_unit_id": str(world["district"]), "role": "author"},
              page=location)
    assert "不能设在" in get_html(client, location)
    position_id = re.search(r'/positions/(\d+)/revoke', user_page).group(1)
    post_form(client, f"{location}/positions/{position_id}/revoke", {}, page=location)
    assert "已撤销岗位" in get_html(client, location)
    # A user of another district is not even visible.
    assert client.get(f"/admin/users/{world['lh_author']}").status_code == 404


# ---------------------------------------------------------------- pages stay fast


def _queries_for(app, client, path: str) -> int:
    """As a worker's first list of its scope (its count, then its page: ``listing._wide_lists``)."""
    from sqlalchemy import event

    from workflow import listing

    listing._wide_lists.clear()

    with app.app_context():
        engine = db.engine
    statements: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(("PRAGMA", "SAVEPOINT", "RELEASE")):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return len(statements)


def test_the_list_and_the_inbox_cost_the_same_queries_for_2_rows_as_for_20(app, client, world):
    with app.app_context():
        for i in range(2):
            advance(gen_report("qs", title=f"报告{i}").id, "district_review")
    login(client, "district_reviewer")
    few = {path: _queries_for(app, client, path) for path in ["/reports", "/"]}
    with app.app_context():
        for i in range(18):
            town = "xk" if i % 2 else "qs"
            advance(gen_report(town, title=f"报告{i + 2}").id, "district_review", town=town)
    many = {path: _queries_for(app, client, path) for path in ["/reports", "/"]}
    assert few == many
    assert many["/reports"] <= 8 and many["/"] <= 6


def test_the_report_page_costs_the_same_queries_whatever_the_comments_and_history(app, client, world):
    rid = new_report(app)
    login(client, "qs_author")
    reviewer = app.test_client()
    login(reviewer, "qs_reviewer")
    post_form(client, f"/reports/{rid}/comments", {"body": "备注"}, page=f"/reports/{rid}")
    post_form(reviewer, f"/reports/{rid}/comments", {"body": "意见"}, page=f"/reports/{rid}")
    few = _queries_for(app, client, f"/reports/{rid}")
    for i in range(5):
        post_form(client, f"/reports/{rid}/comments", {"body": f"备注{i}"}, page=f"/reports/{rid}")
        post_form(reviewer, f"/reports/{rid}/comments", {"body": f"意见{i}"}, page=f"/reports/{rid}")
    with app.app_context():
        advance(rid, "town_review")
    post_form(reviewer, f"/reports/{rid}/actions", {"action": "return", "version": "2", "comment": "退回"},
              page=f"/reports/{rid}")
    assert report_state(app, rid)[0] == "draft"
    assert _queries_for(app, client, f"/reports/{rid}") == few


def test_pages_cannot_be_framed_and_load_only_their_own_assets(app, client, world):
    login(client, "qs_author")
    for url in ("/", "/login", "/reports", "/verify"):
        response = client.get(url)
        assert response.headers["X-Frame-Options"] == "DENY"
        policy = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy
        assert response.headers["X-Content-Type-Options"] == "nosniff"
