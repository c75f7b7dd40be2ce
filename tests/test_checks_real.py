"""Problems that real documents show (issue 9, workflow.checks): no headings recognised, the
placeholders towns really leave (a lone XX, star runs, ooo, ○○镇) without false alarms on
dimensions, and half-width punctuation between Chinese characters."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_checks import said  # noqa: F401  (the fixture)
from workflow.checks import HALFWIDTH_PUNCTUATION, NO_HEADINGS, find_placeholders, find_problems
from workflow.importer import import_text

CORPUS = Path(__file__).resolve().parent / "corpus"


def test_a_report_without_recognised_headings_gets_a_hint(said):
    outline = import_text((CORPUS / "plain-headings.txt").read_text(encoding="utf-8"))
    [problem] = find_problems(outline)

    assert (problem["code"], problem["severity"], problem["section_id"]) == (NO_HEADINGS, "warning", None)
    assert problem["excerpt"] == "青山镇2025年工作总结"
    assert "请给标题编号" in said(problem) and "Word的标题样式" in said(problem)
    assert "heading styles" in said(problem, "en")


def test_an_empty_report_has_no_heading_warning():
    assert find_problems({"preamble": [], "sections": [], "closing": []}) == []


@pytest.mark.parametrize("text, shown", [
    ("XX", "XX"), ("xx", "xx"), ("XXX", "XXX"), ("  XX  ", "XX"),
    ("完成投资*亿元。", "*亿元"), ("对接**乡。", "**乡"), ("***", "***"), ("由＊＊负责。", "＊＊"),
    ("签约ooo项目。", "ooo项目"), ("OOO", "OOO"), ("由○○镇牵头。", "○○镇"), ("〇〇村的项目。", "〇〇村"),
    ("××同志负责。", "××"),
])
def test_placeholders_towns_really_leave(text, shown):
    assert [hit[2] for hit in find_placeholders(text)] == [shown]


@pytest.mark.parametrize("text", [
    "长×宽×高为3×3×2米。", "按2×10^4元标准补助。", "3×3米的蓄水池。", "二○○八年建成。", "二〇〇八年建成。",
    "Xbox", "张XX同志", "x = 3", "a×b的面积。", "直径×深为1×2米。",
])
def test_no_placeholder_alarm_for_dimensions_years_and_latin(text):
    hits = [hit[2] for hit in find_placeholders(text)]

    assert hits == ([] if text != "张XX同志" else ["XX"])


def test_the_placeholder_corpus_file_reports_each_placeholder_once():
    outline = import_text((CORPUS / "placeholders.txt").read_text(encoding="utf-8"))
    shown = [p["params"]["text"] for p in find_problems(outline) if p["code"] == "placeholder"]

    assert shown == ["XX镇", "*亿元", "**%", "XX", "**乡", "***村", "ooo项目", "○○镇", "××", "OOO"]


def test_half_width_punctuation_between_chinese_is_one_warning_with_count_and_examples(said):
    outline = import_text("一、工作\n完成任务,成效明显;群众满意(满意度95%)。\n2025年,继续努力!\n"
                          "数值1,000和时间9:30不算。")
    [problem] = [p for p in find_problems(outline) if p["code"] == HALFWIDTH_PUNCTUATION]

    assert problem["severity"] == "warning"
    assert problem["section_id"] == outline["sections"][0]["id"]
    assert problem["excerpt"] == "完成任务,成效明显;群众满意("
    assert problem["params"] == {"count": 6, "examples": ["完成任务,成效明显", "成效明显;群众满意", "群众满意(满意度9"]}
    assert said(problem).startswith("中文之间有6处半角标点，如“完成任务,成效明显”")


def test_full_width_text_has_no_half_width_warning():
    outline = import_text("一、工作\n完成任务，成效明显；群众满意（满意度95%）。")

    assert find_problems(outline) == []


def test_numbering_slips_in_the_new_styles_name_the_missing_numbers():
    outline = import_text("第一章 总则\n正文。\n第三章 附则\n正文。\n一、甲\n①一项\n③三项")
    problems = [(p["reason"], p["params"].get("missing")) for p in find_problems(outline)
                if p["code"] == "numbering"]

    assert problems == [("gap", ["第二章"]), ("gap", ["②"])]


def test_one_sentence_list_items_are_not_empty_sections():
    for name in ("plan-chapters", "plan-parts", "closing-annex", "dates-circle", "pdf-broken"):
        outline = import_text((CORPUS / f"{name}.txt").read_text(encoding="utf-8"))

        assert find_problems(outline) == [], name
    assert [p["code"] for p in find_problems(import_text("一、工作\n①"))] == ["empty_section"]


def test_chapters_are_numbered_through_the_whole_plan_and_sections_per_chapter():
    outline = import_text((CORPUS / "plan-volumes.txt").read_text(encoding="utf-8"))
    assert find_problems(outline) == []

    slipped = import_text("第一篇 甲\n第一章 子\n第一节 丑\n正文。\n第二篇 乙\n第一章 寅\n第一节 卯\n正文。")
    [problem] = find_problems(slipped)
    assert (problem["reason"], problem["params"]["number"]) == ("duplicate", "第一章")


def test_every_placeholder_of_the_second_placeholder_file_is_found():
    outline = import_text((CORPUS / "placeholders-2.txt").read_text(encoding="utf-8"))
    shown = [p["params"]["text"] for p in find_problems(outline) if p["code"] == "placeholder"]

    assert shown == ["**镇", "**家", "*家", "XX次", "xx", "XX%", "xx", "ooo", "OOO人次", "XX", "××村"]
