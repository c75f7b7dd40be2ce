"""Reporting cycles through the browser UI (real login, real CSRF tokens) and the JSON API:
opening a cycle, a town starting from it, the matrix page, 催办, the exports read back with
openpyxl and csv, scope, and returned reports at the top of the author's work."""
from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from tests.conftest import csrf_from
from tests.cycles_support import EXTRA_TOWNS, add_six_towns, add_town, bring_to, open_plan_cycle, today_local
from tests.helpers import (
    CLEAN_TEXT,
    PASSWORD,
    Api,
    act,
    ensure_translations_compiled,
    error_of,
    gen_report,
    get_html,
    login,
)
from tests.querycount import count_queries
from workflow.cycle_models import Cycle, Reminder
from workflow.db import db
from workflow.models import Report

ensure_translations_compiled()

API = "/api/v1"
CYCLE_KEYS = {"id", "title", "kind", "year", "due_date", "state", "org_unit", "expected", "instructions"}
ROW_KEYS = {"org_unit", "status", "report_id", "submitted_at", "published_at", "on_time", "overdue", "days_in_step",
            "last_reminded_at"}
EVERY_STATUS = {"qs": "published", "xk": "returned", "sq": "district_review", "dl": "town_review", "nt": "draft",
                "lw": "not_started"}


@pytest.fixture
def six(app, world):
    with app.app_context():
        add_six_towns(world)
    return world


def as_user(app, username: str):
    client = app.test_client()
    login(client, username)
    return client


def cycle_with_every_status(app, world) -> int:
    with app.app_context():
        cycle = open_plan_cycle()
        for town, status in EVERY_STATUS.items():
            bring_to(cycle.id, town, world, status)
        return cycle.id


def matrix_rows(html: str) -> dict[str, str]:
    """The matrix page's rows by town name → the row's HTML."""
    rows = {}
    for chunk in html.split("<tr class=\"status-")[1:]:
        chunk = chunk.split("</tr>")[0]
        name = re.search(r'class="town"><span>(?:<a [^>]*>)?([^<]+)', chunk)
        rows[name.group(1).strip()] = chunk
    return rows


# ---------------------------------------------------------------- the browser UI


def test_the_district_reviewer_opens_a_cycle_with_the_form(app, six):
    client = as_user(app, "district_reviewer")
    page = get_html(client, "/cycles/new")
    assert "发布报送任务" in page and all(name in page for name in ["青山镇", *EXTRA_TOWNS.values()])
    assert "临湖镇" not in page  # another district's town is never offered
    due = (today_local() + dt.timedelta(days=7)).isoformat()
    form = {"org_unit_id": six["district"], "kind": "annual_plan", "year": "2027", "title": "2027年度工作计划",
            "due_date": due, "instructions": "请各镇于截止日期前报送。", "template": "一、主要目标\n二、重点任务",
            "towns": [six["qs"], six["xk"], six["sq"]]}
    refused = client.post("/cycles/new", data=form)  # no CSRF token: nothing happens
    assert refused.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count(Cycle.id))) == 0
    response = client.post("/cycles/new", data=form | {"csrf_token": csrf_from(page)})
    assert response.status_code == 303
    with app.app_context():
        cycle = db.session.scalar(select(Cycle))
    assert response.headers["Location"] == f"/cycles/{cycle.id}"
    html = get_html(client, response.headers["Location"])
    assert "报送任务已发布" in html and "2027年度工作计划" in html and f"截止 {due}" in html and "剩 7 天" in html
    assert set(matrix_rows(html)) == {"青山镇", "溪口镇", "石桥镇"}
    assert all("未开始" in row for row in matrix_rows(html).values())
    assert "一键催办未报单位" in html and "导出 Excel" in html


def test_a_town_author_starts_the_report_from_the_to_do_list(app, six):
    with app.app_context():
        cycle_id = open_plan_cycle(template="一、主要目标\n二、重点任务").id
    client = as_user(app, "qs_author")
    todo = get_html(client, "/")
    assert "上级要求报送" in todo and "2027年度工作计划" in todo and "剩 7 天" in todo
    start_url = f"/cycles/{cycle_id}/start?town={six['qs']}"
    assert start_url.replace("?", "?").replace("&", "&amp;") in todo or start_url in todo
    page = get_html(client, start_url)
    assert "青山镇2027年度工作计划" in page and "一、主要目标" in page  # the title and the template, filled in
    response = client.post(f"/cycles/{cycle_id}/start", data={
        "org_unit_id": six["qs"], "title": "青山镇2027年度工作计划", "text": CLEAN_TEXT, "csrf_token": csrf_from(page)})
    assert response.status_code == 303
    with app.app_context():
        report = db.session.scalar(select(Report).where(Report.cycle_id == cycle_id))
        assert (report.org_unit_id, report.kind, report.year) == (six["qs"], "annual_plan", 2027)
    assert response.headers["Location"] == f"/reports/{report.id}"
    shown = get_html(client, f"/reports/{report.id}")
    assert "报送任务" in shown and f'href="/cycles/{cycle_id}"' in shown and "剩 7 天" in shown
    assert "上级要求报送" not in get_html(client, "/")  # started: it is an ordinary draft on the to-do now
    again = client.get(start_url)  # a second report of the town in this cycle is not offered
    assert again.headers["Location"] == f"/cycles/{cycle_id}"


def test_the_matrix_page_shows_every_status_counts_and_overdue_rows(app, six):
    cycle_id = cycle_with_every_status(app, six)
    with app.app_context():  # the due date has passed (the cycle's date, moved back)
        cycle = db.session.get(Cycle, cycle_id)
        cycle.due_date = today_local() - dt.timedelta(days=2)
        db.session.commit()
    client = as_user(app, "district_reviewer")
    html = get_html(client, f"/cycles/{cycle_id}")
    rows = matrix_rows(html)
    assert {name: re.search(r'mstatus-(\w+)', row).group(1) for name, row in rows.items()} == {
        "青山镇": "published", "溪口镇": "returned", "石桥镇": "district_review", "东岭乡": "town_review",
        "南塘镇": "draft", "柳湾街道": "not_started"}
    assert {name for name, row in rows.items() if row.startswith(tuple(f"{s} overdue" for s in EVERY_STATUS.values()))
            } == {"溪口镇", "南塘镇", "柳湾街道"}
    assert "已逾期 2 天" in html and ">50.0%<" in html  # three of six submitted
    button = ">催办</button>"
    assert "退回待改" in rows["溪口镇"] and button in rows["溪口镇"] and button not in rows["青山镇"]
    with app.app_context():
        xk_report = db.session.scalar(select(Report.id).where(Report.org_unit_id == six["xk"]))
    assert f'href="/reports/{xk_report}"' in rows["溪口镇"]
    only_late = matrix_rows(get_html(client, f"/cycles/{cycle_id}?status=overdue"))
    assert set(only_late) == {"溪口镇", "南塘镇", "柳湾街道"}
    by_days = get_html(client, f"/cycles/{cycle_id}?sort=-days_in_step")
    assert by_days.count("<tr class=\"status-") == 6
    assert client.get(f"/cycles/{cycle_id}?status=nonsense").status_code == 200  # a bad filter shows every town


def test_reminding_from_the_matrix_reaches_only_the_towns_not_submitted(app, six):
    cycle_id = cycle_with_every_status(app, six)
    client = as_user(app, "district_reviewer")
    page = get_html(client, f"/cycles/{cycle_id}")
    response = client.post(f"/cycles/{cycle_id}/reminders",
                           data={"message": "请尽快报送", "csrf_token": csrf_from(page)})
    assert response.headers["Location"] == f"/cycles/{cycle_id}"
    html = get_html(client, f"/cycles/{cycle_id}")
    assert "已催办 3 个单位：溪口镇、南塘镇、柳湾街道" in html
    with app.app_context():
        assert {r.org_unit_id for r in db.session.scalars(select(Reminder))} == {six["xk"], six["nt"], six["lw"]}
    rows = matrix_rows(html)
    assert "—" not in rows["溪口镇"].split('data-label="最近催办"')[1][:80]
    # The same button again within the hour: nothing is sent, and the page says when it can be.
    client.post(f"/cycles/{cycle_id}/reminders", data={"csrf_token": csrf_from(html)})
    assert "所选单位在一小时内均已催办过" in get_html(client, f"/cycles/{cycle_id}")
    # Reminding one town by its row's button, without a token: refused.
    assert client.post(f"/cycles/{cycle_id}/reminders", data={"org_unit_id": six["nt"]}).status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count(Reminder.id))) == 3


def test_a_town_author_sees_only_the_own_row_and_no_controls(app, six):
    cycle_id = cycle_with_every_status(app, six)
    client = as_user(app, "xk_author")
    html = get_html(client, f"/cycles/{cycle_id}")
    assert set(matrix_rows(html)) == {"溪口镇"}
    assert "一键催办" not in html and "导出 Excel" not in html and "关闭任务" not in html
    assert client.post(f"/cycles/{cycle_id}/reminders", data={"csrf_token": csrf_from(html)}).status_code == 303
    with app.app_context():
        assert db.session.scalar(select(func.count(Reminder.id))) == 0
    other = as_user(app, "other_reviewer")
    assert other.get(f"/cycles/{cycle_id}").status_code == 404
    assert other.get(f"/cycles/{cycle_id}/matrix.xlsx").status_code == 404
    assert "2027年度工作计划" not in get_html(other, "/cycles")


def test_the_exports_carry_the_figures_of_the_matrix(app, six):
    cycle_id = cycle_with_every_status(app, six)
    client = as_user(app, "district_reviewer")
    response = client.get(f"/cycles/{cycle_id}/matrix.xlsx")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    assert f'filename="cycle-{cycle_id}-matrix.xlsx"' in response.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.data))
    towns, totals = book.worksheets
    header, *lines = [[c.value for c in row] for row in towns.iter_rows()]
    assert header[:3] == ["单位", "状态", "状态代码"]
    assert {line[0]: line[2] for line in lines} == {
        "青山镇": "published", "溪口镇": "returned", "石桥镇": "district_review", "东岭乡": "town_review",
        "南塘镇": "draft", "柳湾街道": "not_started"}
    assert {line[0]: line[1] for line in lines}["溪口镇"] == "退回待改"
    assert isinstance(lines[0][4], dt.datetime)  # the first submission, as a date-time cell
    figures = {row[0].value: row[1].value for row in totals.iter_rows()}
    assert figures["应报"] == 6 and figures["已报（实报）"] == 3 and figures["报送率"] == 0.5
    assert figures["及时率"] == 0.5 and figures["未开始"] == 1 and figures["退回待改"] == 1

    api = Api(app.test_client(), "district_reviewer")
    data = api.get(f"/cycles/{cycle_id}/matrix").get_json()
    assert figures["报送率"] == data["reporting_rate"] and figures["及时率"] == data["on_time_rate"]
    assert {r["org_unit"]["name"]: r["status"] for r in data["rows"]} == {line[0]: line[2] for line in lines}
    api_book = load_workbook(io.BytesIO(api.get(f"/cycles/{cycle_id}/matrix.xlsx").data))
    assert [[c.value for c in r] for r in api_book.worksheets[0].iter_rows()][1:] == lines

    text = client.get(f"/cycles/{cycle_id}/matrix.csv").data.decode("utf-8")
    assert text.startswith("\ufeff")
    table = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert table[0] == header and len(table) == 7
    assert {row[0]: row[2] for row in table[1:]} == {line[0]: line[2] for line in lines}
    assert api.get(f"/cycles/{cycle_id}/matrix.csv").data == client.get(f"/cycles/{cycle_id}/matrix.csv").data


def test_closing_and_reopening_from_the_cycle_page(app, six):
    with app.app_context():
        cycle_id = open_plan_cycle().id
    client = as_user(app, "district_reviewer")
    page = get_html(client, f"/cycles/{cycle_id}")
    client.post(f"/cycles/{cycle_id}/close", data={"csrf_token": csrf_from(page)})
    html = get_html(client, f"/cycles/{cycle_id}")
    assert "任务已关闭" in html and "重新开启任务" in html and "一键催办" not in html
    assert "上级要求报送" not in get_html(as_user(app, "qs_author"), "/")
    client.post(f"/cycles/{cycle_id}/reopen", data={"csrf_token": csrf_from(html)})
    assert "任务已重新开启" in get_html(client, f"/cycles/{cycle_id}")
    log = get_html(client, f"/cycles/{cycle_id}")
    assert "发布了任务" in log and "关闭了任务" in log and "重新开启了任务" in log


def test_the_expected_towns_are_edited_on_their_page(app, six):
    with app.app_context():
        cycle_id = open_plan_cycle().id
    client = as_user(app, "district_reviewer")
    page = get_html(client, f"/cycles/{cycle_id}/towns")
    response = client.post(f"/cycles/{cycle_id}/towns", data={"towns": [six["qs"], six["xk"]],
                                                               "csrf_token": csrf_from(page)})
    assert response.headers["Location"] == f"/cycles/{cycle_id}"
    assert set(matrix_rows(get_html(client, f"/cycles/{cycle_id}"))) == {"青山镇", "溪口镇"}
    assert as_user(app, "qs_author").get(f"/cycles/{cycle_id}/towns").headers["Location"] == f"/cycles/{cycle_id}"


def test_a_town_can_be_left_out_of_a_cycle_in_the_browser(app, six):
    """A browser refuses a form while a checkbox marked ``required`` is unticked: the town
    checklists must leave "at least one" to the server, or no town could ever be left out."""
    with app.app_context():
        cycle_id = open_plan_cycle().id
    client = as_user(app, "district_reviewer")
    for url in ("/cycles/new", f"/cycles/{cycle_id}/towns"):
        boxes = re.findall(r'<input[^>]*type="checkbox"[^>]*name="towns"[^>]*>'
                           r'|<input[^>]*name="towns"[^>]*type="checkbox"[^>]*>', get_html(client, url))
        assert len(boxes) == 6 and not any("required" in box for box in boxes), url
    page = get_html(client, f"/cycles/{cycle_id}/towns")
    refused = client.post(f"/cycles/{cycle_id}/towns", data={"csrf_token": csrf_from(page)})  # none ticked
    assert refused.status_code == 400 and "请至少选择一个单位" in refused.get_data(as_text=True)


def test_the_year_view_and_the_list(app, six):
    with app.app_context():
        plan = open_plan_cycle()
        bring_to(plan.id, "qs", six, "town_review")
        open_plan_cycle(title="2027年工作总结", days=30, org_unit_ids=[six["qs"]])
    client = as_user(app, "district_reviewer")
    listing = get_html(client, "/cycles")
    assert "2027年度工作计划" in listing and "2027年工作总结" in listing and "已报 1 / 应报 6" in listing
    view = get_html(client, "/cycles/year?year=2027")
    assert "2027 年度视图" in view and view.count("<tr>") == 7  # the header and six towns
    assert "镇审核中" in view and "无需报送" in view


def test_the_pages_speak_english_too(app, six):
    cycle_id = cycle_with_every_status(app, six)
    client = as_user(app, "district_reviewer")
    html = get_html(client, "/")
    client.post("/locale", data={"locale": "en", "csrf_token": csrf_from(html)})
    page = get_html(client, f"/cycles/{cycle_id}")
    assert "Returned for changes" in page and "Reporting rate" in page and "Remind every town not yet submitted" in page
    assert "退回待改" not in page


def test_a_returned_report_is_the_first_thing_its_author_sees(app, six):
    with app.app_context():
        older = gen_report("qs", title="较早的草稿")
        returned = gen_report("qs", title="被退回的计划")
        act(returned.id, "qs_author", "submit")
        act(returned.id, "qs_reviewer", "return", "第二部分缺少资金来源")
        older_id, returned_id = older.id, returned.id
        open_plan_cycle()  # a cycle the town has not started: a task on the to-do, below the returned report
    district = as_user(app, "qs_reviewer")
    html = get_html(district, f"/reports/{returned_id}")
    district.post(f"/reports/{returned_id}/comments", data={"body": "投资数额请核实", "csrf_token": csrf_from(html)})
    client = as_user(app, "qs_author")
    todo = get_html(client, "/")
    assert todo.index("被退回的计划") < todo.index("较早的草稿")
    assert todo.index("被退回的计划") < todo.index("上级要求报送") < todo.index("开始填报")
    first_card = todo.split('<li class="card row-card">')[1]
    assert "被退回的计划" in first_card and "已退回" in first_card
    page = get_html(client, f"/reports/{returned_id}")
    top = page.index('class="card returned-card"')
    assert top < page.index('class="document"') and top < page.index('class="card actions-card"')
    card = page[top:page.index("</section>", top)]
    assert "第二部分缺少资金来源" in card and "已退回" in card
    assert "投资数额请核实" not in card  # a note, not a review comment: the reviewer commented after returning
    assert "已退回" not in get_html(client, f"/reports/{older_id}").split('class="document"')[0]


# ---------------------------------------------------------------- the API


def test_the_cycle_api_from_opening_to_reminding(app, client, six):
    reviewer = Api(client, "district_reviewer")
    due = (today_local() + dt.timedelta(days=7)).isoformat()
    r = reviewer.post("/cycles", json={"org_unit_id": six["district"], "kind": "annual_plan", "year": 2027,
                                       "title": "2027年度工作计划", "due_date": due, "instructions": "请按时报送",
                                       "template": "一、主要目标\n二、重点任务"})
    assert r.status_code == 201, r.get_json()
    cycle = r.get_json()
    assert set(cycle) >= CYCLE_KEYS and cycle["due_date"] == due and cycle["expected"] == 6
    assert cycle["state"] == "open" and cycle["org_unit"]["name"] == "示范区"
    assert r.headers["Location"].endswith(f"/api/v1/cycles/{cycle['id']}")
    assert [c["id"] for c in reviewer.get("/cycles?state=open").get_json()["items"]] == [cycle["id"]]
    assert reviewer.get("/cycles?state=closed").get_json()["total"] == 0

    author = Api(client, "qs_author")
    created = author.post("/reports", json={"org_unit_id": six["qs"], "cycle_id": cycle["id"],
                                            "title": "青山镇2027年度工作计划"})
    assert created.status_code == 201, created.get_json()
    report = created.get_json()
    assert report["cycle_id"] == cycle["id"] and (report["kind"], report["year"]) == ("annual_plan", 2027)
    assert [s["heading"] for s in report["outline"]["sections"]] == ["主要目标", "重点任务"]
    again = author.post("/reports", json={"org_unit_id": six["qs"], "cycle_id": cycle["id"], "title": "再来一份",
                                          "text": CLEAN_TEXT})
    assert again.status_code == 409 and error_of(again)["code"] == "conflict"
    assert author.get(f"/reports/{report['id']}").get_json()["cycle_id"] == cycle["id"]
    assert author.act(report["id"], "submit")["state"] == "town_review"

    matrix = reviewer.get(f"/cycles/{cycle['id']}/matrix").get_json()
    assert {"cycle", "expected", "counts", "reporting_rate", "on_time_rate", "rows"} <= set(matrix)
    assert all(set(row) >= ROW_KEYS for row in matrix["rows"])
    assert matrix["expected"] == 6 and matrix["counts"]["town_review"] == 1 and matrix["counts"]["not_started"] == 5
    assert matrix["reporting_rate"] == round(1 / 6, 4) and matrix["on_time_rate"] == round(1 / 6, 4)
    qs_row = next(row for row in matrix["rows"] if row["org_unit"]["id"] == six["qs"])
    assert qs_row["status"] == "town_review" and qs_row["on_time"] is True and qs_row["report_id"] == report["id"]
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", qs_row["submitted_at"])

    reminded = reviewer.post(f"/cycles/{cycle['id']}/reminders", json={"message": "请于周五前报送"})
    assert reminded.status_code == 201
    body = reminded.get_json()
    assert six["qs"] not in body["reminded"] and len(body["reminded"]) == 5
    assert body["skipped"] == [{"org_unit_id": six["qs"], "reason": "submitted"}]
    too_soon = reviewer.post(f"/cycles/{cycle['id']}/reminders")  # no body: every town not submitted
    assert too_soon.status_code == 429
    err = error_of(too_soon)
    assert err["code"] == "too_many" and err["next_at"].endswith("Z")
    assert 3500 <= int(too_soon.headers["Retry-After"]) <= 3601
    one = reviewer.post(f"/cycles/{cycle['id']}/reminders", json={"org_unit_ids": [six["qs"]]})
    assert one.status_code == 201 and one.get_json() == {"reminded": [], "skipped": [
        {"org_unit_id": six["qs"], "reason": "submitted"}]}
    row = next(r for r in reviewer.get(f"/cycles/{cycle['id']}/matrix").get_json()["rows"]
               if r["org_unit"]["id"] == six["xk"])
    assert row["last_reminded_at"] is not None

    closed = reviewer.post(f"/cycles/{cycle['id']}/close")
    assert closed.status_code == 200 and closed.get_json()["state"] == "closed"
    assert reviewer.post(f"/cycles/{cycle['id']}/close").status_code == 409
    assert reviewer.post(f"/cycles/{cycle['id']}/reopen").get_json()["state"] == "open"
    towns = reviewer.put(f"/cycles/{cycle['id']}/towns", json={"org_unit_ids": [six["qs"], six["xk"]]})
    assert towns.status_code == 200 and towns.get_json()["expected"] == 2
    assert sorted(towns.get_json()["org_unit_ids"]) == sorted([six["qs"], six["xk"]])


def test_the_cycle_api_keeps_to_the_callers_scope(app, client, six):
    cycle_id = cycle_with_every_status(app, six)
    other = Api(client, "other_reviewer")
    for path in (f"/cycles/{cycle_id}", f"/cycles/{cycle_id}/matrix", f"/cycles/{cycle_id}/matrix.xlsx"):
        assert other.get(path).status_code == 404, path
    assert other.post(f"/cycles/{cycle_id}/reminders").status_code == 404
    assert other.get("/cycles").get_json()["total"] == 0
    town = Api(client, "xk_author")
    rows = town.get(f"/cycles/{cycle_id}/matrix").get_json()["rows"]
    assert [r["org_unit"]["name"] for r in rows] == ["溪口镇"]
    assert town.post(f"/cycles/{cycle_id}/reminders").status_code == 403
    assert town.get(f"/cycles/{cycle_id}").get_json()["expected"] == 1


@pytest.mark.parametrize("body, status", [
    ({"org_unit_id": "1", "kind": "annual_plan", "year": 2027, "title": "x", "due_date": "2099-01-01"}, 400),
    ({"org_unit_id": 1, "kind": "annual_plan", "year": 2027, "title": "x", "due_date": "01/01/2099"}, 400),
    ({"org_unit_id": 1, "kind": "annual_plan", "year": 2027, "title": "x", "due_date": "2099-01-01",
      "org_unit_ids": "all"}, 400),
    ({"org_unit_id": 1, "kind": "annual_plan", "year": 2027, "title": "x", "due_date": "2099-01-01", "extra": 1}, 400),
    ({"org_unit_id": 1, "kind": "annual_plan", "year": 2027, "title": "x", "due_date": "2000-01-01"}, 422),
    ({"org_unit_id": 2, "kind": "annual_plan", "year": 2027, "title": "x", "due_date": "2099-01-01"}, 422),
    ({"org_unit_id": 4, "kind": "annual_plan", "year": 2027, "title": "x", "due_date": "2099-01-01"}, 404),
    ({"org_unit_id": 1, "kind": "annual_plan", "year": 2027, "title": "x", "due_date": "2099-01-01",
      "template": 5}, 400),
])
def test_bad_cycle_bodies_are_refused_with_the_right_status(app, client, six, body, status):
    r = Api(client, "district_reviewer").post("/cycles", json=body)
    assert r.status_code == status, r.get_json()
    error_of(r)
    with app.app_context():
        assert db.session.scalar(select(func.count(Cycle.id))) == 0


# ---------------------------------------------------------------- cost


def _queries(app, client, path: str) -> int:
    with app.app_context():
        engine = db.engine
    with count_queries(engine) as statements:  # no app context around the request
        response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return len(statements)


def test_the_matrix_page_and_json_cost_the_same_for_3_towns_as_for_30(app, world):
    def district(n: int) -> tuple[int, str]:
        from tests.helpers import get_user
        from workflow import admin, cycles

        with app.app_context():
            unit = admin.add_org_unit(None, name=f"区{n}", kind="district")
            key = f"d{n}"
            world.ids[key] = unit.id
            user = admin.create_user(None, username=f"{key}_reviewer", display_name="r", password=PASSWORD)
            admin.grant_position(None, user_id=user.id, org_unit_id=unit.id, role="district_reviewer")
            for i in range(n):
                add_town(world, f"{key}t{i}", f"区{n}第{i}镇", parent=key)
            cycle = open_plan_cycle(username=f"{key}_reviewer", district=unit.id)
            statuses = ["not_started", "draft", "returned", "town_review", "district_review", "published"]
            for i in range(n):
                bring_to(cycle.id, f"{key}t{i}", world, statuses[i % 6], district_reviewer=f"{key}_reviewer")
            cycles.remind(get_user(f"{key}_reviewer"), cycle.id)
            return cycle.id, f"{key}_reviewer"

    costs = []
    for n in (3, 30):
        cycle_id, username = district(n)
        page_client = as_user(app, username)
        api = Api(app.test_client(), username)
        json_client = api.client
        json_client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {api.token}"
        costs.append((_queries(app, page_client, f"/cycles/{cycle_id}"),
                      _queries(app, json_client, f"{API}/cycles/{cycle_id}/matrix"),
                      _queries(app, page_client, "/cycles/year?year=2027")))
    assert costs[0] == costs[1] and max(costs[0]) <= 8, costs


@pytest.mark.parametrize("mapping, codes", [
    ("MATRIX_STATUSES", "STATUSES"),
    ("CYCLE_STATES", "CYCLE_STATES"),
    ("REMINDER_KINDS", "REMINDER_KINDS"),
])
def test_every_cycle_code_has_a_label(mapping, codes):
    from forms import labels
    from workflow import cycle_models, cycles

    source = getattr(cycles, codes, None) or getattr(cycle_models, codes)
    assert set(source) <= set(getattr(labels, mapping))
