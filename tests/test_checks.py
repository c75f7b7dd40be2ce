"""Stories about the problems a report's content shows before it may be submitted
(workflow.checks): unfilled placeholders, numbering slips, empty sections, glyphs the PDF
fonts lack. The domain gives each problem a code, a reason and params; the sentences read
here are what the edge (web/messages.py) makes of them for a Chinese or an English reader."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tests.helpers import ensure_translations_compiled
from workflow.checks import (
    BLOCKING_CODES,
    EMPTY_SECTION,
    HALFWIDTH_PUNCTUATION,
    MISSING_GLYPH,
    NO_HEADINGS,
    NUMBERING,
    PLACEHOLDER,
    SEVERITY,
    blocking_problems,
    find_placeholders,
    find_problems,
)
from workflow.importer import import_text, validate_outline

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
ensure_translations_compiled()


@pytest.fixture(scope="module")
def said(tmp_path_factory):
    """``said(problem)``: the problem's sentence as a reader sees it (Chinese, or ``"en"``)."""
    from flask import session

    from app import create_app
    from web.messages import render_problem

    tmp = tmp_path_factory.mktemp("checks")
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "INSTANCE_DIR": str(tmp),
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'unused.sqlite3'}"})

    def render(problem: dict, language: str = "zh_Hans_CN") -> str:
        with app.test_request_context("/"):
            session["locale"] = language
            return render_problem(problem)
    return render


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
                        EMPTY_SECTION: "warning", MISSING_GLYPH: "error",
                        NO_HEADINGS: "warning", HALFWIDTH_PUNCTUATION: "warning"}
    assert {PLACEHOLDER, MISSING_GLYPH} == BLOCKING_CODES


# --- the seeds -----------------------------------------------------------------------------


def without_halfwidth(problems: list[dict]) -> list[dict]:
    return [p for p in problems if p["code"] != HALFWIDTH_PUNCTUATION]


def test_the_annual_plan_is_clean_but_for_its_ascii_commas():
    problems = find_problems(seed_outline("annual-plan-2026.txt"))

    assert without_halfwidth(problems) == []
    [halfwidth] = problems
    assert (halfwidth["severity"], halfwidth["section_id"], halfwidth["excerpt"]) == (
        "warning", None, "区委、区政府工作安排,现向区委、区政府报告")
    assert halfwidth["params"] == {"count": 133, "examples": ["工作安排,现向区委", "党建引领,构建治理",
                                                               "责任链条,升级镇村"]}


def test_the_five_year_plan_is_clean_including_its_nested_lead_ins():
    # "二是加快科技兴农步伐。一是…二是…三是…" is a list inside item 二是, not a slip.
    assert without_halfwidth(find_problems(seed_outline("five-year-plan-14th.txt"))) == []


def test_the_work_report_has_an_unfilled_placeholder_for_every_x(said):
    outline = seed_outline("work-report-2024.txt")
    ids = section_ids(outline)
    problems = without_halfwidth(find_problems(outline))

    assert codes(problems) == {PLACEHOLDER: 56}
    assert all(p["severity"] == "error" for p in problems)
    messages = Counter(said(p) for p in problems)
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
    assert said(problems[-1]) == "占位符“x镇”未填写"
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
def test_each_placeholder_form_is_found(said, text, shown):
    problems = find_problems(import_text("一、工作\n" + text))

    assert [p["code"] for p in problems] == [PLACEHOLDER]
    assert (problems[0]["reason"], problems[0]["params"]) == ("unfilled", {"text": shown})
    assert said(problems[0]) == f"占位符“{shown}”未填写"
    assert said(problems[0], "en") == f"Unfilled placeholder “{shown}”"
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


def test_placeholders_in_title_preamble_heading_and_closing_are_found(said):
    outline = import_text("x镇2026年工作计划报告如下。\n一、xx项目建设\n内容。\n青山镇人民政府\n20xx年x月x日")
    problems = find_problems(outline, title="xx镇20xx年工作计划")

    assert outline["closing"] == ["青山镇人民政府", "20xx年x月x日"]
    assert [(said(p), p["section_id"]) for p in problems] == [
        ("占位符“xx镇”未填写", None), ("占位符“20xx年”未填写", None),
        ("占位符“x镇”未填写", None),
        ("占位符“xx项目”未填写", outline["sections"][0]["id"]),
        ("占位符“20xx年”未填写", None), ("占位符“x月”未填写", None), ("占位符“x日”未填写", None),
    ]
    assert problems[-1]["excerpt"] == "20xx年x月x日"


# --- numbering -----------------------------------------------------------------------------


@pytest.fixture
def numbering_messages(said):
    """``numbering_messages(text)``: (section, sentence) for each numbering problem of ``text``."""
    def messages(text: str, language: str = "zh_Hans_CN") -> list[tuple[str, str]]:
        outline = import_text(text)
        ids = {v: k for k, v in section_ids(outline).items()}
        return [(ids.get(p["section_id"], p["section_id"]), said(p, language))
                for p in find_problems(outline) if p["code"] == NUMBERING]
    return messages


def test_a_duplicated_number_is_a_warning_on_the_second_one(said):
    text = "一、工作\n(一)甲\n内容\n(二)乙\n内容\n(三)丙\n内容\n(四)丁\n内容\n(四)戊\n内容\n(五)己\n内容"
    problems = find_problems(import_text(text))

    assert [(p["severity"], said(p), p["excerpt"]) for p in problems] == [
        ("warning", "编号“(四)”重复", "(四)戊")]
    assert (problems[0]["reason"], problems[0]["params"]) == ("duplicate", {"number": "(四)"})


def test_a_skipped_top_level_number_is_reported(numbering_messages):
    assert numbering_messages("一、甲\n内容\n三、丙\n内容") == [
        ("三、丙", "编号“一、”之后跳到“三、”，缺少“二、”")]
    assert numbering_messages("一、甲\n内容\n三、丙\n内容", "en") == [
        ("三、丙", "Numbering jumps from “一、” to “三、”; missing “二、”")]


def test_a_list_that_does_not_start_at_one_is_reported(numbering_messages):
    assert numbering_messages("一、甲\n（二）乙\n内容\n（三）丙\n内容") == [
        ("（二）乙", "编号从“（二）”开始，缺少“（一）”")]


def test_a_long_gap_names_three_missing_numbers_and_says_there_are_more(numbering_messages):
    text = "一、甲\n内容\n六、己\n内容"
    assert numbering_messages(text) == [("六、己", "编号“一、”之后跳到“六、”，缺少“二、”、“三、”、“四、”等")]
    assert numbering_messages(text, "en") == [
        ("六、己", "Numbering jumps from “一、” to “六、”; missing “二、”, “三、”, “四、” etc.")]


def test_numbers_out_of_order_are_reported_once(numbering_messages):
    assert numbering_messages("1.甲\n(2)乙\n内容\n(1)丙\n内容\n(3)丁\n内容") == [
        ("(1)丙", "编号“(1)”排在“(2)”之后，顺序颠倒")]


def test_chinese_numerals_above_ten_compare_properly(numbering_messages):
    text = "\n".join(f"{n}、第{n}部分\n内容" for n in
                     ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十三"])
    assert numbering_messages(text) == [
        ("十三、第十三部分", "编号“十一、”之后跳到“十三、”，缺少“十二、”")]


def test_numbering_restarts_under_each_parent_and_at_each_level(numbering_messages):
    text = "一、甲\n1.子\n内容\n2.子\n内容\n二、乙\n1.子\n内容\n3.子\n内容"
    assert numbering_messages(text) == [("3.子", "编号“1.”之后跳到“3.”，缺少“2.”")]


def test_lead_in_slips_inside_a_section_are_warnings(numbering_messages):
    text = "一、工作\n一是加强学习。\n二是严格管理。\n二是强化监督。\n（一）分项\n一是甲。三是乙。"
    messages = numbering_messages(text)

    assert messages == [("一、工作", "分项“二是”重复"),
                        ("（一）分项", "分项“一是”之后跳到“三是”，缺少“二是”")]


# --- empty sections --------------------------------------------------------------------------


def test_a_heading_without_content_is_an_empty_section(said):
    outline = import_text("一、总体要求\n二、主要任务\n（一）分项\n内容。\n三、保障措施")
    problems = find_problems(outline)

    assert [(p["code"], p["severity"], said(p)) for p in problems] == [
        (EMPTY_SECTION, "warning", "“一、总体要求”下没有内容"),
        (EMPTY_SECTION, "warning", "“三、保障措施”下没有内容"),
    ]
    assert problems[0]["section_id"] == outline["sections"][0]["id"]


def test_a_one_sentence_item_or_a_run_in_heading_is_not_empty():
    outline = import_text("一、任务\n（1）全年完成固定资产投资3亿元。\n（2）突出政治建设。深入学习。")

    assert find_problems(outline) == []


# --- glyphs ------------------------------------------------------------------------------------


def test_characters_the_pdf_fonts_lack_are_errors_once_per_section(said):
    outline = validate_outline({
        "preamble": ["序言𠀀。"],
        "sections": [{"number": "一、", "heading": "𠀀字标题", "paragraphs": ["再见𠀀与㐂和𠀀。"]},
                     {"number": "二、", "heading": "正常", "paragraphs": ["㐂。"]}],
    })
    problems = find_problems(outline, missing_glyphs=lambda text: {c for c in text if c in "𠀀㐂"},
                             title="标题㐂")
    first, second = outline["sections"]

    assert [(said(p), p["section_id"]) for p in problems] == [
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


# --- the sentences -------------------------------------------------------------------------


def test_the_domain_writes_no_sentence_and_every_problem_has_one_in_both_languages(said):
    outline = import_text("一、甲\n（二）乙\n二、乙\n二是。四是。\n四、丁\n内容x个")
    problems = find_problems(outline, missing_glyphs=lambda text: {c for c in text if c == "丁"})

    assert {p["code"] for p in problems} == {PLACEHOLDER, NUMBERING, EMPTY_SECTION, MISSING_GLYPH}
    assert all("message" not in p and set(p) == {"code", "reason", "severity", "params", "section_id", "excerpt"}
               for p in problems)
    for p in problems:
        zh, en = said(p), said(p, "en")
        assert zh and en and zh != en and "%(" not in zh + en, p


def test_an_untitled_empty_section_is_named_as_such(said):
    problems = find_problems({"preamble": [], "closing": [],
                              "sections": [{"id": "s1", "level": 1, "number": "", "heading": "",
                                            "paragraphs": [], "children": []}]})

    assert [(p["code"], p["params"], p["excerpt"]) for p in problems] == [(EMPTY_SECTION, {"label": ""}, "")]
    assert said(problems[0]) == "“（无标题）”下没有内容"
    assert said(problems[0], "en") == "Nothing under “(untitled)”"


def test_problems_stored_before_they_had_reasons_still_read(said):
    # A row saved by the earlier checker: a Chinese message, no reason or params.
    old = {"code": PLACEHOLDER, "severity": "error", "message": "占位符“x个”未填写", "section_id": None,
           "excerpt": "新签约项目x个。"}

    assert said(old) == "占位符“x个”未填写"
    assert said(old, "en") == "Unfilled placeholder: “新签约项目x个。”"
