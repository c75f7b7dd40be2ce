"""Stories about the problems a report's content shows before it may be submitted
(workflow.checks): unfilled placeholders, numbering slips, empty sections, glyphs the PDF
fonts lack."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from workflow.checks import (
    BLOCKING_CODES,
    EMPTY_SECTION,
    MISSING_GLYPH,
    NUMBERING,
    PLACEHOLDER,
    SEVERITY,
    blocking_problems,
    find_placeholders,
    find_problems,
)
from workflow.importer import import_text, validate_outline

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"


def seed_outline(name: str) -> dict:
    return import_text((SEEDS / name).read_text(encoding="utf-8"))


def codes(problems: list[dict]) -> Counter:
    return Counter(p["code"] for p in problems)


def section_ids(outline: dict) -> dict[str, str]:
    """number+heading → id, for every section."""
    result = {}

    def walk(sections):
        for s in sections:
            result[s["number"] + s["heading"]] = s["id"]
            walk(s["children"])
    walk(outline["sections"])
    return result


def test_severity_is_the_single_source_of_which_codes_block():
    assert SEVERITY == {PLACEHOLDER: "error", NUMBERING: "warning",
                        EMPTY_SECTION: "warning", MISSING_GLYPH: "error"}
    assert BLOCKING_CODES == {PLACEHOLDER, MISSING_GLYPH}


# --- the seeds -----------------------------------------------------------------------------


def test_the_annual_plan_is_clean():
    assert find_problems(seed_outline("annual-plan-2026.txt")) == []


def test_the_five_year_plan_is_clean_including_its_nested_lead_ins():
    # "二是加快科技兴农步伐。一是…二是…三是…" is a list inside item 二是, not a slip.
    assert find_problems(seed_outline("five-year-plan-14th.txt")) == []


def test_the_work_report_has_an_unfilled_placeholder_for_every_x():
    outline = seed_outline("work-report-2024.txt")
    ids = section_ids(outline)
    problems = find_problems(outline)

    assert codes(problems) == {PLACEHOLDER: 56}
    assert all(p["severity"] == "error" for p in problems)
    messages = Counter(p["message"] for p in problems)
    assert messages["占位符“x万元”未填写"] == 6
    assert messages["占位符“x个”未填写"] == 6
    assert messages["占位符“x月底”未填写"] == 1
    assert messages["占位符“x%”未填写"] == 3
    assert messages["占位符“x余亩”未填写"] == 1
    assert messages["占位符“x镇”未填写"] == 1
    first = problems[0]
    assert first["section_id"] == ids["一、今年以来工作回顾"]
    assert first["excerpt"] == "数字服务中心等新项目x个,签约新项目x个。"
    # Document order: 一、 first, then 二、's own paragraphs, then its "1." subsection.
    order = [p["section_id"] for p in problems]
    assert order.index(ids["二、当前政府工作的主要目标和任务"]) < order.index(
        ids["1.聚拓展镇域经济新空间。"])
    assert problems[-1]["section_id"] == ids["3.坚持清正廉洁。"]
    assert problems[-1]["message"] == "占位符“x镇”未填写"
    assert blocking_problems(problems) == problems


# --- placeholders --------------------------------------------------------------------------


@pytest.mark.parametrize("text, shown", [
    ("签约新项目x个。", "x个"),
    ("完成高标准农田建设x余亩。", "x余亩"),
    ("实现地区生产总值xx.x亿元。", "xx.x亿元"),
    ("发放补贴x.xx万元。", "x.xx万元"),
    ("同比增长xx%。", "xx%"),
    ("与xx镇开展合作。", "xx镇"),
    ("x村大力发展菌菇种植。", "x村"),
    ("x项目已开工。", "x项目"),
    ("预计x月底开工。", "x月底"),
    ("到20xx年基本建成。", "20xx年"),
    ("到20XX年基本建成。", "20XX年"),
    ("由××同志负责。", "××"),
    ("由××  同志负责。", "××"),
    ("完成xx 万元。", "xx"),
    ("XX街道办事处。", "XX"),
    ("ＸＸ镇人民政府。", "ＸＸ镇"),
    ("投资ｘ万元。", "ｘ万元"),
    ("负责人：______。", "______"),
    ("由某某负责。", "某某"),
    ("利用x便利的交通区位。", "x"),
])
def test_each_placeholder_form_is_found(text, shown):
    problems = find_problems(import_text("一、工作\n" + text))

    assert [p["code"] for p in problems] == [PLACEHOLDER]
    assert problems[0]["message"] == f"占位符“{shown}”未填写"
    assert shown.rstrip("个余亩亿元万%镇村项目月底年") in problems[0]["excerpt"]


@pytest.mark.parametrize("text", [
    "升级x86服务器。", "使用Excel表格统计。", "配发工具box一套。", "导出XML文件。",
    "取MAX值。", "铺设3×5米地砖。", "铺设3 × 5 米地砖。", "建成5G基站。", "GDP增长6%。",
    "推广AI应用。", "PM2.5浓度下降。", "iPhone和WPS均可填报。", "Xbox与Linux不在此列。",
    "沿x轴方向布置。", "配置X光机一台。", "采购4x4越野车。", "运行Windows x64系统。",
    "公式 x = 3 仅作示例。", "——今年以来，统一是关键。",
])
def test_latin_words_codes_and_multiplication_are_not_placeholders(text):
    assert find_problems(import_text("一、工作\n" + text)) == []


def test_every_occurrence_is_one_problem():
    hits = find_placeholders("完成x件，已办结x件，接待x批x人次。")

    assert [shown for _, _, shown in hits] == ["x件", "x件", "x批", "x人次"]


def test_placeholders_in_title_preamble_heading_and_closing_are_found():
    outline = import_text("x镇2026年工作计划报告如下。\n一、xx项目建设\n内容。\n青山镇人民政府\n20xx年x月x日")
    problems = find_problems(outline, title="xx镇20xx年工作计划")

    assert outline["closing"] == ["青山镇人民政府", "20xx年x月x日"]
    assert [(p["message"], p["section_id"]) for p in problems] == [
        ("占位符“xx镇”未填写", None), ("占位符“20xx年”未填写", None),
        ("占位符“x镇”未填写", None),
        ("占位符“xx项目”未填写", outline["sections"][0]["id"]),
        ("占位符“20xx年”未填写", None), ("占位符“x月”未填写", None), ("占位符“x日”未填写", None),
    ]
    assert problems[-1]["excerpt"] == "20xx年x月x日"


# --- numbering -----------------------------------------------------------------------------


def numbering_messages(text: str) -> list[tuple[str, str]]:
    outline = import_text(text)
    ids = {v: k for k, v in section_ids(outline).items()}
    return [(ids.get(p["section_id"], p["section_id"]), p["message"])
            for p in find_problems(outline) if p["code"] == NUMBERING]


def test_a_duplicated_number_is_a_warning_on_the_second_one():
    text = "一、工作\n(一)甲\n内容\n(二)乙\n内容\n(三)丙\n内容\n(四)丁\n内容\n(四)戊\n内容\n(五)己\n内容"
    problems = find_problems(import_text(text))

    assert [(p["severity"], p["message"], p["excerpt"]) for p in problems] == [
        ("warning", "编号“(四)”重复", "(四)戊")]


def test_a_skipped_top_level_number_is_reported():
    assert numbering_messages("一、甲\n内容\n三、丙\n内容") == [
        ("三、丙", "编号“一、”之后跳到“三、”，缺少“二、”")]


def test_a_list_that_does_not_start_at_one_is_reported():
    assert numbering_messages("一、甲\n（二）乙\n内容\n（三）丙\n内容") == [
        ("（二）乙", "编号从“（二）”开始，缺少“（一）”")]


def test_numbers_out_of_order_are_reported_once():
    assert numbering_messages("1.甲\n(2)乙\n内容\n(1)丙\n内容\n(3)丁\n内容") == [
        ("(1)丙", "编号“(1)”排在“(2)”之后，顺序颠倒")]


def test_chinese_numerals_above_ten_compare_properly():
    text = "\n".join(f"{n}、第{n}部分\n内容" for n in
                     ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十三"])
    assert numbering_messages(text) == [
        ("十三、第十三部分", "编号“十一、”之后跳到“十三、”，缺少“十二、”")]


def test_numbering_restarts_under_each_parent_and_at_each_level():
    text = "一、甲\n1.子\n内容\n2.子\n内容\n二、乙\n1.子\n内容\n3.子\n内容"
    assert numbering_messages(text) == [("3.子", "编号“1.”之后跳到“3.”，缺少“2.”")]


def test_lead_in_slips_inside_a_section_are_warnings():
    text = "一、工作\n一是加强学习。\n二是严格管理。\n二是强化监督。\n（一）分项\n一是甲。三是乙。"
    messages = numbering_messages(text)

    assert messages == [("一、工作", "分项“二是”重复"),
                        ("（一）分项", "分项“一是”之后跳到“三是”，缺少“二是”")]


# --- empty sections --------------------------------------------------------------------------


def test_a_heading_without_content_is_an_empty_section():
    outline = import_text("一、总体要求\n二、主要任务\n（一）分项\n内容。\n三、保障措施")
    problems = find_problems(outline)

    assert [(p["code"], p["severity"], p["message"]) for p in problems] == [
        (EMPTY_SECTION, "warning", "“一、总体要求”下没有内容"),
        (EMPTY_SECTION, "warning", "“三、保障措施”下没有内容"),
    ]
    assert problems[0]["section_id"] == outline["sections"][0]["id"]


def test_a_one_sentence_item_or_a_run_in_heading_is_not_empty():
    outline = import_text("一、任务\n（1）全年完成固定资产投资3亿元。\n（2）突出政治建设。深入学习。")

    assert find_problems(outline) == []


# --- glyphs ------------------------------------------------------------------------------------


def test_characters_the_pdf_fonts_lack_are_errors_once_per_section():
    outline = validate_outline({
        "preamble": ["序言𠀀。"],
        "sections": [{"number": "一、", "heading": "𠀀字标题", "paragraphs": ["再见𠀀与㐂和𠀀。"]},
                     {"number": "二、", "heading": "正常", "paragraphs": ["㐂。"]}],
    })
    problems = find_problems(outline, missing_glyphs=lambda text: {c for c in text if c in "𠀀㐂"},
                             title="标题㐂")
    first, second = outline["sections"]

    assert [(p["message"], p["section_id"]) for p in problems] == [
        ("字符“㐂”(U+3402) 无法在 PDF 字体中显示", None),
        ("字符“𠀀”(U+20000) 无法在 PDF 字体中显示", None),
        ("字符“𠀀”(U+20000) 无法在 PDF 字体中显示", first["id"]),
        ("字符“㐂”(U+3402) 无法在 PDF 字体中显示", first["id"]),
        ("字符“㐂”(U+3402) 无法在 PDF 字体中显示", second["id"]),
    ]
    assert all(p["code"] == MISSING_GLYPH and p["severity"] == "error" for p in problems)
    assert problems[3]["excerpt"] == "再见𠀀与㐂和𠀀。"


def test_without_a_glyph_callable_no_glyph_check_runs():
    outline = import_text("一、𠀀\n内容")

    assert find_problems(outline) == []
