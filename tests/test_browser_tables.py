"""A table pasted into the new-report form, seen in a real browser at desktop and phone width:
a ruled table between its paragraphs; on a 390 px phone the table scrolls sideways inside its
own frame while the page itself does not. Screenshots go to test-artifacts/."""
from __future__ import annotations

import pytest

from tests.browser_support import browser, login, require_chromium, serve, shot  # noqa: F401  (fixture)

require_chromium()
pytestmark = pytest.mark.browser

TEXT = """为做好本年度工作，现将计划报告如下。
一、重点项目
2027年重点项目如下。
表1 2027年重点项目计划表
序号\t项目名称\t建设内容\t总投资（万元）\t2027年计划投资（万元）\t责任单位
1\t青山镇中心路提升工程\t新建沥青路面3公里，配套排水、路灯和绿化设施\t3,600\t1,200\t镇建设办
2\t高山云雾茶基地\t新建茶园800亩，配套生产便道和灌溉设施\t2,400\t800\t镇农业服务中心
3\t<b>未闭合的标记\t照原样显示\t—\t—\t—
以上项目按月调度。
二、办好民生实事
完成中心小学运动场改造，新增养老床位40张。
"""


def test_a_pasted_table_reads_at_desktop_and_phone_width(app, world, browser):
    with serve(app) as base:
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        login(page, base, "qs_author")
        page.goto(f"{base}/reports/new")
        assert "表格可以直接从 Word、WPS 或 Excel 粘贴" in page.content()
        page.fill("input[name=title]", "青山镇2027年度工作计划")
        page.fill("input[name=year]", "2027")
        page.fill("textarea[name=text]", TEXT)
        page.locator("form:has(textarea[name=text]) button[type=submit]").click()
        page.wait_for_load_state()
        report_url = page.url
        assert "已导入 1 个表格。" in page.content()

        table = page.locator("table.doc-table")
        assert table.count() == 1
        assert table.locator("thead th").all_inner_texts()[:3] == ["序号", "项目名称", "建设内容"]
        assert table.locator("tbody tr").count() == 3
        assert table.locator("tbody tr").nth(2).locator("td").nth(1).inner_text() == "<b>未闭合的标记"
        shot(page, "tables-1280")

        phone = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True,
                                 device_scale_factor=2)
        login(phone, base, "qs_author")
        phone.goto(report_url)
        widths = phone.evaluate("""() => {
            const wrap = document.querySelector('.doc-table-fig .table-wrap');
            return {page: document.documentElement.scrollWidth, wrap: wrap.clientWidth,
                    table: wrap.scrollWidth};
        }""")
        assert widths["page"] <= 390, widths  # the page does not scroll sideways
        assert widths["table"] > widths["wrap"], widths  # the table does, in its frame
        phone.locator(".doc-table-fig .table-wrap").evaluate("el => el.scrollLeft = el.scrollWidth")
        shot(phone, "tables-390")


def test_the_changes_of_a_table_read_cell_by_cell_in_the_browser(app, world, browser):
    from tests.helpers import act, gen_report, get_user
    from workflow import services

    with app.app_context():
        rid = gen_report(text=TEXT).id
        act(rid, "qs_author", "submit")
        act(rid, "qs_reviewer", "return", comment="请核实投资额。")
        report = services.get_report(get_user("qs_author"), rid)
        edited = TEXT.replace("3,600\t1,200", "3,600\t1,500").replace("3\t<b>未闭合的标记\t照原样显示\t—\t—\t—\n", "")
        services.update_draft(get_user("qs_author"), rid, version=report.version, title=report.current.title,
                              text=edited + "表2 新增\n甲\t乙\n1\t2\n")
    with serve(app) as base:
        for width in (1280, 390):
            page = browser.new_page(viewport={"width": width, "height": 900}, locale="zh-CN")
            login(page, base, "qs_reviewer")
            page.goto(f"{base}/reports/{rid}/diff")
            changed = page.locator("table.diff-table td.cell-changed")
            assert changed.count() == 1
            assert changed.first.locator("del").inner_text() == "2" and changed.first.locator("ins").inner_text() == "5"
            assert page.locator("table.diff-table tr.row-removed").count() == 1
            assert page.locator("table.diff-table tr.row-added").count() == 2  # the new table's rows
            shot(page, f"tables-diff-{width}")
