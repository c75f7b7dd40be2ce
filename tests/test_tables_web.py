"""Tables in the product: the report page and the editor show them, the API takes and gives them
(and documents them), reviewers see their changes cell by cell, search finds their cells, their
figures are indicators, and markup typed into a cell stays text."""
from __future__ import annotations

import re

from tests.conftest import csrf_from
from tests.helpers import as_user, browser_as, create, ensure_translations_compiled, gen_report, get_html, get_user  # noqa: F401  (as_user: a fixture)
from workflow import services
from workflow.db import db
from workflow.diff import diff_outlines, diff_stats
from workflow.importer import import_text
from workflow.indicators import extract_indicators

ensure_translations_compiled()

WITH_TABLE = """为做好本年度工作，现将计划报告如下。
一、主要目标
全年主要指标如下。
表1 2027年主要指标
指标\t2026年\t2027年目标
地区生产总值（亿元）\t12.5\t13.4
新建茶园\t800亩\t1000亩
高山云雾茶基地\t1个\t2个
以上指标均已分解落实。
二、办好民生实事
完成中心小学运动场改造，新增养老床位40张。
"""

MARKUP = """名称\t备注
<script>alert(1)</script>\t<b>粗</b> &amp; <img src=/etc/passwd>
一、说明
表中文字照原样显示。
"""


def _table_html(page: str) -> str:
    match = re.search(r'<table class="doc-table">.*?</table>', page, re.S)
    assert match, "no table on the page"
    return match.group(0)


def test_the_report_page_shows_the_table_where_it_stands(app, world):
    with app.app_context():
        rid = gen_report(text=WITH_TABLE).id
    page = get_html(browser_as(app, "qs_author"), f"/reports/{rid}")

    table = _table_html(page)
    assert re.findall(r"<th scope=\"col\">([^<]*)</th>", table) == ["指标", "2026年", "2027年目标"]
    assert "<td>地区生产总值（亿元）</td><td>12.5</td><td>13.4</td>" in re.sub(r">\s+<", "><", table)
    assert "<figcaption>表1 2027年主要指标</figcaption>" in page
    # Between the paragraph before it and the one after it; inside a region that scrolls sideways.
    assert page.index("全年主要指标如下。") < page.index("doc-table") < page.index("以上指标均已分解落实。")
    assert re.search(r'<div class="table-wrap" tabindex="0" role="region" aria-label="表1 2027年主要指标">', page)
    # A frozen version's page shows it the same way.
    version_page = get_html(browser_as(app, "qs_author"), f"/reports/{rid}/versions/1")
    assert _table_html(version_page) == table


def test_markup_in_a_cell_is_shown_as_text(app, world):
    with app.app_context():
        report = gen_report(text=MARKUP)
        rid = report.id
        assert report.current.outline["preamble_tables"][0]["rows"][0] == ["名称", "备注"]
    page = get_html(browser_as(app, "qs_author"), f"/reports/{rid}")

    table = _table_html(page)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in table
    assert "&lt;b&gt;粗&lt;/b&gt; &amp;amp; &lt;img src=/etc/passwd&gt;" in table
    assert "<script>alert" not in page and "<b>粗" not in page
    assert page.index("doc-table") < page.index("表中文字照原样显示。")  # in the preamble, before 一、


def test_the_editor_gives_the_table_back_as_tab_separated_lines_and_saving_keeps_it(app, world):
    with app.app_context():
        report = gen_report(text=WITH_TABLE)
        rid, table_id = report.id, report.current.outline["sections"][0]["tables"][0]["id"]
    author = browser_as(app, "qs_author")
    page = get_html(author, f"/reports/{rid}/edit")

    assert "指标\t2026年\t2027年目标\n地区生产总值（亿元）\t12.5\t13.4" in page
    assert "表格可以直接从 Word、WPS 或 Excel 粘贴" in page
    version = re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)
    edited = WITH_TABLE.replace("12.5\t13.4", "12.5\t13.8")
    response = author.post(f"/reports/{rid}/edit", data={
        "csrf_token": csrf_from(page), "version": version, "title": "青山镇2027年度工作计划", "text": edited})
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    with app.app_context():
        db.session.expire_all()
        table = services.get_report(get_user("qs_author"), rid).current.outline["sections"][0]["tables"][0]
    assert table["id"] == table_id
    assert table["rows"][1] == ["地区生产总值（亿元）", "12.5", "13.8"]


def test_a_one_cell_change_shows_only_that_cell_changed():
    old = import_text(WITH_TABLE)
    new = import_text(WITH_TABLE.replace("800亩\t1000亩", "800亩\t1200亩"), previous=old)

    entries = diff_outlines(old, new)
    changed = [e for e in entries if e["status"] != "same"]
    assert [e["section_id"] for e in changed] == [old["sections"][0]["id"]]
    [table] = changed[0]["tables"]
    assert table["status"] == "changed"
    assert [row["status"] for row in table["rows"]] == ["same", "same", "changed", "same"]
    cells = table["rows"][2]["cells"]
    assert [c["status"] for c in cells] == ["same", "same", "changed"]
    assert cells[2]["ops"] == [{"op": "equal", "text": "1"}, {"op": "delete", "text": "0"},
                               {"op": "insert", "text": "2"}, {"op": "equal", "text": "00亩"}]
    assert changed[0]["ops"] == [{"op": "equal", "text": "全年主要指标如下。\n以上指标均已分解落实。"}]
    stats = diff_stats(entries)
    assert (stats["changed"], stats["chars_inserted"], stats["chars_deleted"]) == (1, 1, 1)


def test_added_and_removed_rows_are_shown_as_such():
    old = import_text(WITH_TABLE)
    new = import_text(WITH_TABLE.replace("高山云雾茶基地\t1个\t2个\n", "")
                      .replace("新建茶园\t800亩\t1000亩\n", "新建茶园\t800亩\t1000亩\n新增民宿\t5家\t8家\n"),
                      previous=old)

    [table] = next(e for e in diff_outlines(old, new) if e["tables"])["tables"]
    statuses = [(row["status"], [c["ops"][0]["text"] for c in row["cells"]]) for row in table["rows"]]
    assert ("added", ["新增民宿", "5家", "8家"]) in statuses
    assert ("removed", ["高山云雾茶基地", "1个", "2个"]) in statuses
    assert [s for s, _ in statuses].count("same") == 3
    added = next(row for row in table["rows"] if row["status"] == "added")
    assert {op["op"] for cell in added["cells"] for op in cell["ops"]} == {"insert"}


def test_the_diff_page_and_the_api_show_the_changed_cell(app, world, as_user):
    author = as_user("qs_author")
    rid = create(author, world, text=WITH_TABLE)["id"]
    author.act(rid, "submit")
    as_user("qs_reviewer").act(rid, "return", "请核实生产总值目标。")
    report = author.report(rid)
    r = author.put(f"/reports/{rid}", json={"version": report["version"],
                                            "text": WITH_TABLE.replace("12.5\t13.4", "12.5\t13.8")})
    assert r.status_code == 200, r.get_json()

    diff = author.get(f"/reports/{rid}/diff").get_json()
    [entry] = [e for e in diff["changes"] if e["status"] == "changed"]
    row = entry["tables"][0]["rows"][1]
    assert row["status"] == "changed"
    assert [c["status"] for c in row["cells"]] == ["same", "same", "changed"]
    page = get_html(browser_as(app, "qs_author"), f"/reports/{rid}/diff")
    assert re.search(r'<td class="cell-changed"><span>13\.</span><del>4</del><ins>8</ins>\s*</td>', page)
    assert '<tr class="row-same">' in page


def test_the_api_takes_and_gives_tables_and_documents_them(app, world, as_user):
    author = as_user("qs_author")
    report = create(author, world, text=WITH_TABLE)
    table = report["outline"]["sections"][0]["tables"][0]
    assert table["rows"][0] == ["指标", "2026年", "2027年目标"] and table["at"] == 1
    assert table["caption"] == "表1 2027年主要指标" and table["header_rows"] == 1

    outline = report["outline"]
    outline["sections"][1]["tables"] = [{"rows": [["项目", "数量"], ["养老院", "3家"]], "at": 0}]
    r = author.put(f"/reports/{report['id']}", json={"version": report["version"], "outline": outline})
    assert r.status_code == 200, r.get_json()
    again, version = r.get_json()["outline"], r.get_json()["version"]
    assert again["sections"][0]["tables"][0]["id"] == table["id"]
    added = again["sections"][1]["tables"][0]
    assert added["id"].startswith("t-") and added["header_rows"] == 1
    assert any(i.get("table_id") == added["id"] and i["value"] == "3" for i in r.get_json()["indicators"])

    # Too many rows: a clear 413 with the path of the table.
    outline["sections"][1]["tables"] = [{"rows": [["a"]] * 201}]
    r = author.put(f"/reports/{report['id']}", json={"version": version, "outline": outline})
    assert r.status_code == 413
    error = r.get_json()["error"]
    assert (error["reason"], error["params"]["table"]) == ("table_too_many_rows", "sections[1].tables[0]")
    assert error["message"] == "表格 sections[1].tables[0] 超过 200 行。"

    spec = author.client.get("/api/v1/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    assert set(schemas["Table"]["properties"]) == {"id", "at", "rows", "header_rows", "caption"}
    assert schemas["Section"]["properties"]["tables"]["items"]["$ref"].endswith("/Table")
    assert "preamble_tables" in schemas["Outline"]["properties"]
    assert "tables" in schemas["DiffEntry"]["properties"]


def test_a_cells_text_is_found_by_search(app, world):
    with app.app_context():
        gen_report(text=WITH_TABLE)
        gen_report("xk", title="溪口镇2027年度工作计划", text="一、目标\n新建茶园500亩。")
        db.session.expire_all()
        page = services.list_reports(get_user("district_reviewer"), q="高山云雾茶基地")
        assert [r.title for r in page.items] == ["青山镇2027年度工作计划"]
        assert "高山云雾茶基地" in page.snippets[page.items[0].id].text


def test_indicators_come_from_table_cells_with_the_header_as_context():
    outline = import_text(WITH_TABLE)
    table_id = outline["sections"][0]["tables"][0]["id"]

    found = [(i["value"], i["unit"], i["context"]) for i in extract_indicators(outline)
             if i.get("table_id") == table_id]
    assert found == [
        ("12.5", "亿元", "地区生产总值（亿元） 2026年：12.5"),
        ("13.4", "亿元", "地区生产总值（亿元） 2027年目标：13.4"),
        ("800", "亩", "新建茶园 2026年：800亩"),
        ("1000", "亩", "新建茶园 2027年目标：1000亩"),
        ("1", "个", "高山云雾茶基地 2026年：1个"),
        ("2", "个", "高山云雾茶基地 2027年目标：2个"),
    ]
    assert {i["section_id"] for i in extract_indicators(outline) if i.get("table_id")} == {outline["sections"][0]["id"]}


def test_a_placeholder_in_a_cell_is_a_problem_and_a_section_with_only_a_table_is_not_empty():
    from workflow.checks import find_problems

    outline = import_text("一、目标\n指标\t目标\n投资\tx万元\n二、空的")
    problems = find_problems(outline)
    assert [(p["code"], p["section_id"]) for p in problems] == [
        ("placeholder", outline["sections"][0]["id"]), ("empty_section", outline["sections"][1]["id"])]
