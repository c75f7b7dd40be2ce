"""Tables in the published PDF, GB/T 9704 style: thin black rules, the body face at 4号 (小四 when
wide), the header rows in 黑体 and repeated on every page the table runs onto, column widths
from the content, cells that wrap — checked on real renders with poppler's pdftotext."""
from __future__ import annotations

import datetime
import itertools
import re
from pathlib import Path

import pytest

from pdf import layout as L
from pdf.fonts import load_fonts
from pdf.render import RenderInput, render_report
from pdf.typeset import compose
from tests.pdf_helpers import poppler, squash
from workflow.importer import import_text

HEADER = "序号\t项目名称\t建设内容\t总投资（万元）\t2026年计划投资（万元）\t责任单位"


def _project_table(rows: int) -> str:
    lines = [HEADER]
    for i in range(1, rows + 1):
        extra = "，同步实施雨污分流改造" if i % 7 == 0 else ""
        lines.append(f"{i}\t道路{i}\t新建沥青路面{i}公里，配套排水、路灯和绿化设施{extra}"
                     f"\t{i * 120:,}\t{i * 45}\t镇建设办")
    return "\n".join(lines)


def _input(text: str) -> RenderInput:
    return RenderInput(title="青山镇2026年度工作计划", outline=import_text(text), issuer="示范区人民政府",
                       town="青山镇", date=datetime.date(2026, 1, 5), doc_number="示范区〔2026〕3号",
                       archive_no="示范区〔2026〕档0003号", verify_url="http://127.0.0.1:5000/verify?a=3")


SIXTY = ("为做好本年度工作，现将计划报告如下。\n一、重点项目\n2026年重点项目如下。\n表1 2026年重点项目计划表\n"
         + _project_table(60) + "\n以上项目按月调度。\n二、主要指标\n表2 主要指标\n指标\t2025年\t2026年目标\n"
         "地区生产总值（亿元）\t12.5\t13.4\n<b>粗</b>&amp;\t<img src=\"/etc/passwd\">\t&nbsp;</para>\n以上。")


@pytest.fixture(scope="module")
def sixty(tmp_path_factory) -> tuple[Path, int]:
    rendered = render_report(_input(SIXTY))
    path = tmp_path_factory.mktemp("pdf-tables") / "sixty.pdf"
    path.write_bytes(rendered.data)
    return path, rendered.pages


def _page_text(path: Path, page: int) -> str:
    return squash(poppler("pdftotext", "-f", str(page), "-l", str(page), path, "-"))


def test_a_60_row_table_spans_pages_with_the_header_repeated(sixty):
    path, pages = sixty
    texts = [_page_text(path, n) for n in range(1, pages + 1)]
    row = re.compile(r"道路(\d+)新建沥青路面\1公里")  # the name cell and the first line of the next

    with_rows = [n for n, text in enumerate(texts) if row.search(text)]
    assert len(with_rows) >= 4, "sixty rows of two or three lines take several pages"
    assert with_rows == list(range(with_rows[0], with_rows[-1] + 1))
    for n in with_rows:
        # pdftotext reads the wrapped header cells column by column: the unwrapped ones suffice.
        assert texts[n].count("序号项目名称建设内容") == 1, f"page {n + 1} has rows but no header"
        assert "责任单位" in texts[n]
    for n in with_rows[1:]:
        assert texts[n].startswith("序号项目名称建设内容"), f"page {n + 1} does not start with the header"
    # Every row once, in order, none lost or doubled at a page break.
    whole = "".join(texts)
    assert [int(m) for m in row.findall(whole)] == list(range(1, 61))
    assert whole.index("以上项目按月调度。") > whole.index("道路60新建沥青路面60公里")
    assert "同步实施雨污分流改造" in whole


def test_markup_in_cells_prints_literally(sixty):
    path, _ = sixty
    text = squash(poppler("pdftotext", path, "-"))

    assert squash('<b>粗</b>&amp;<img src="/etc/passwd">&nbsp;</para>') in text


def test_the_header_is_in_heiti_the_body_smaller_when_wide_and_columns_fit_the_type_area():
    doc = _input(SIXTY)
    composed = compose(doc, load_fonts())
    placed = [p for page in composed.pages for p in page]

    def style_of(text: str):
        return next(p.line.style for p in placed if "".join(g[0] for g in p.line.glyphs) == text)

    assert (style_of("序号").role, style_of("序号").size) == ("heiti", L.TABLE_SIZE_WIDE)  # six columns
    assert (style_of("镇建设办").role, style_of("镇建设办").size) == ("body", L.TABLE_SIZE_WIDE)
    assert (style_of("指标").role, style_of("12.5").size) == ("heiti", L.TABLE_SIZE)  # three columns: 4号
    # Rules: thin, inside the type area, the table as wide as the type area.
    rules = [r for page in composed.rules for r in page]
    assert rules
    assert min(min(r[0], r[2]) for r in rules) == pytest.approx(L.TYPE_LEFT)
    assert max(max(r[0], r[2]) for r in rules) == pytest.approx(L.TYPE_RIGHT)
    assert min(min(r[1], r[3]) for r in rules) >= L.TYPE_BOTTOM - 0.5
    # The widest content gets the widest column: 建设内容 over 序号.
    first_page_rules = next(page for page in composed.rules if page)
    xs = sorted({round(r[0], 2) for r in first_page_rules if r[0] == r[2]})
    widths = [b - a for a, b in itertools.pairwise(xs)]
    assert widths[2] > 3 * widths[0]


def test_a_cell_longer_than_a_page_is_cut_across_pages_and_nothing_is_lost(tmp_path):
    long_cell = "".join(f"第{i}句内容。" for i in range(1, 221))
    rendered = render_report(_input(f"一、说明\n甲\t乙\n长\t{long_cell}\n短\t尾"))
    path = tmp_path / "long.pdf"
    path.write_bytes(rendered.data)

    whole = squash(poppler("pdftotext", path, "-"))
    assert rendered.pages >= 3
    assert squash(long_cell) in whole.replace("甲乙", "")
    assert whole.index("短尾") > whole.index("第220句内容。")


@pytest.mark.parametrize("header_rows", [0, 2])
def test_every_header_row_and_only_those_repeat_on_each_page(header_rows):
    rows = [["指标", "目标", "备注"], ["", "2026年", "2027年"]]
    rows += [[f"第{i}项", f"{i}亿元", "按季度调度"] for i in range(80)]
    outline = {"preamble": [], "closing": [], "sections": [{
        "id": "s1", "level": 1, "number": "一、", "heading": "目标", "paragraphs": [], "children": [],
        "tables": [{"id": "t-1", "at": 0, "rows": rows, "header_rows": header_rows}]}]}
    doc = RenderInput(title="测试", outline=outline, issuer="示范区人民政府", town="青山镇",
                      date=datetime.date(2026, 1, 5))
    composed = compose(doc, load_fonts())

    def texts(page):
        return [("".join(g[0] for g in p.line.glyphs), p.line.style.role) for p in page]

    pages = [texts(page) for page in composed.pages if any(t.startswith("第") for t, _ in texts(page))]
    assert len(pages) >= 3
    for page in pages[1:]:
        headers = [t for t, role in page if role == "heiti"]
        assert headers == ["指标", "目标", "备注", "2026年", "2027年"][:3 * (header_rows > 0) + 2 * (header_rows > 1)]
    found = [t for page in pages for t, _ in page if t.startswith("第") and t.endswith("项")]
    assert found == [f"第{i}项" for i in range(80)]


def test_the_annex_is_printed_after_the_body(tmp_path):
    text = ("一、总体情况\n全年完成各项任务。\n\n青山镇人民政府\n2026年1月5日\n"
            "附件：1. 重点项目清单\n附件1\n重点项目清单\n（一）道路改造工程。")
    outline = import_text(text)
    assert outline.get("annex"), outline  # the importer keeps it apart from the last section
    rendered = render_report(RenderInput(title="青山镇2026年度工作计划", outline=outline, issuer="示范区人民政府",
                                         town="青山镇", date=datetime.date(2026, 1, 5), doc_number="示范区〔2026〕3号",
                                         archive_no="示范区〔2026〕档0003号", verify_url="http://127.0.0.1:5000/verify?a=3"))
    path = tmp_path / "annex.pdf"
    path.write_bytes(rendered.data)
    text_out = squash(poppler("pdftotext", path, "-"))
    assert "附件：1.重点项目清单" in text_out or "附件：1. 重点项目清单" in text_out, text_out
    assert text_out.index("全年完成各项任务") < text_out.index("道路改造工程")
