"""The importer on real shapes of documents (issue 9): a corpus of texts written for these tests
under tests/corpus/, each with its exact expected outline beside it (ids left out: they are
covered by test_importer_ids.py), the lines dropped and the paste repairs reported.

Shapes (``SHAPES``): five-year plans with 第X篇/第X章/第X节/一．/1)/① and 第X部分 with ⑴ ㈠ ⒈
(plan-*), lines broken by a PDF copy with page numbers, "一," headings and "1.标题.正文"
(pdf-broken*), plain unnumbered headings (plain-headings*), stars and XX placeholders
(placeholders*), sign-offs dated 二O二五年/二○二四年 (dates-circle, closing-annex), annexes before
and after the sign-off (closing-annex*).
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from workflow.importer import import_text, import_text_with_repairs, normalise, outline_to_text

CORPUS = Path(__file__).resolve().parent / "corpus"
NAMES = sorted(path.stem for path in CORPUS.glob("*.txt"))
# Files whose text comes back exactly (no repair, annexes not moved after the sign-off).
VERBATIM = {"dates-circle", "placeholders", "placeholders-2", "plain-headings", "plain-headings-2",
            "plan-chapters", "plan-parts", "plan-volumes"}
# The shapes of real documents, and the corpus files of each.
SHAPES = {
    "five-year plan (第X篇/第X章/第X节/第X部分, 一．, ①⑴㈠⒈ 1))": ["plan-chapters", "plan-parts", "plan-volumes"],
    "PDF-broken lines, page numbers, 一, headings": ["pdf-broken", "pdf-broken-2"],
    "unnumbered plain headings": ["plain-headings", "plain-headings-2"],
    "stars and XX placeholders": ["placeholders", "placeholders-2"],
    "○ dates": ["dates-circle", "closing-annex"],
    "附件 (annexes)": ["closing-annex", "closing-annex-2"],
}


def without_ids(value):
    if isinstance(value, dict):
        return {key: without_ids(item) for key, item in value.items() if key != "id"}
    if isinstance(value, list):
        return [without_ids(item) for item in value]
    return value


def text_of(name: str) -> str:
    return (CORPUS / f"{name}.txt").read_text(encoding="utf-8")


def test_the_corpus_has_every_shape():
    assert set(NAMES) == VERBATIM | {"closing-annex", "closing-annex-2", "pdf-broken", "pdf-broken-2"}
    assert set(NAMES) == {name for names in SHAPES.values() for name in names}


@pytest.mark.parametrize("name", NAMES)
def test_each_corpus_file_imports_exactly_as_expected(name):
    expected = json.loads((CORPUS / f"{name}.json").read_text(encoding="utf-8"))
    imported = import_text_with_repairs(text_of(name))

    assert without_ids(imported.outline) == expected["outline"]
    assert imported.dropped == expected["dropped"]
    assert imported.repairs == expected["repairs"]


@pytest.mark.parametrize("name", NAMES)
def test_the_outline_of_each_corpus_file_survives_text_and_back(name):
    outline = import_text(text_of(name))

    assert import_text(outline_to_text(outline)) == outline
    if name in VERBATIM:
        assert normalise(outline_to_text(outline)) == normalise(text_of(name))


def test_a_five_year_plan_gets_chapters_sections_and_items():
    outline = import_text(text_of("plan-chapters"))

    chapters = outline["sections"]
    assert [c["number"] for c in chapters] == ["第一章 ", "第二章 ", "第三章 "]
    assert [s["number"] for s in chapters[0]["children"]] == ["第一节 ", "第二节 "]
    targets = chapters[1]["children"][1]["children"]
    assert [(t["number"], t["level"]) for t in targets] == [("一．", 3), ("二．", 3)]
    assert [c["number"] for c in targets[0]["children"]] == ["1)", "2)"]
    assert [c["number"] for c in targets[1]["children"]] == ["①", "②"]
    # "一、二季度…" is a sentence about the first two quarters, not a heading.
    improved = chapters[0]["children"][0]["children"][1]
    assert improved["paragraphs"][-1] == "一、二季度全镇完成投资2亿元。"
    # "（一）、" is the (一) style with a stray 、.
    assert [c["number"] for c in chapters[0]["children"][1]["children"]] == ["（一）、", "（二）、"]


def test_a_pdf_copy_is_rejoined_and_the_repairs_are_reported():
    imported = import_text_with_repairs(text_of("pdf-broken"))

    assert imported.dropped == ["- 1 -", "— 2 —"]
    assert imported.repairs == {"joined_lines": 9, "loose_numbers": 2, "page_marks": 2}
    first, second, third = imported.outline["sections"]
    assert (first["number"], second["number"], third["number"]) == ("一,", "二，", "三、")
    item = first["children"][0]
    assert (item["number"], item["heading"], item["run_in"]) == ("1.", "项目建设提速增效.", True)
    assert item["paragraphs"] == ["全年计划实施重点项目12个，上半年已开工9个，完成投资2.3亿元，"
                                  "占年度计划的56%，其中青石路改造工程已完成路基施工，"
                                  "农贸市场提质改造项目进入主体施工阶段。"]


def test_annexes_after_the_sign_off_are_kept_apart_from_the_last_section():
    outline = import_text(text_of("closing-annex"))

    assert outline["sections"][-1]["paragraphs"] == ["继续推进人居环境整治。"]
    assert outline["closing"] == ["青山镇人民政府", "二○二四年十二月一日"]
    assert outline["annex"][:3] == ["附件：1. 2024年度重点项目清单", "2. 2024年度资金使用情况表", "附件1"]
    assert outline["annex"][-1] == "全年使用衔接资金520万元。"


@pytest.mark.parametrize("line", ["二○二四年十二月一日", "二O二四年十二月一日", "二Ｏ二四年十二月一日",
                                  "二零二四年十二月一日", "二〇二四年十二月一日", "2024年12月1日"])
def test_sign_off_dates_in_every_spelling_of_zero_close_the_report(line):
    outline = import_text(f"一、工作\n完成任务。\n青山镇人民政府\n{line}")

    assert outline["closing"] == ["青山镇人民政府", line]


def test_a_body_line_starting_with_annex_is_text_not_an_annex():
    outline = import_text("一、工作\n附件：详见下表，共三项。\n二、打算\n继续努力。")

    assert "annex" not in outline
    assert outline["sections"][0]["paragraphs"] == ["附件：详见下表，共三项。"]


@pytest.mark.parametrize("line", ["- 1 -", "— 2 —", "－3－", "第 3 页", "共 5 页", "第3页 共5页", "12", "3/5"])
def test_page_numbers_and_footers_are_dropped_and_reported(line):
    imported = import_text_with_repairs(f"一、工作\n完成任务。\n{line}\n继续推进。")

    assert imported.dropped == [line] and imported.repairs == {"page_marks": 1}
    assert imported.outline["sections"][0]["paragraphs"] == ["完成任务。", "继续推进。"]


@pytest.mark.parametrize("line", [
    "一、二季度全镇完成投资2亿元。",
    "一，二月份完成春耕。",
    "1.全镇上下齐心协力，克服疫情和旱情的双重影响，全年完成地区生产总值28.6亿元，同比增长6.2%，增速居全县第一。",
])
def test_numbered_sentences_are_paragraphs(line):
    outline = import_text("一、工作\n" + line)

    assert outline["sections"][0]["paragraphs"] == [line]


@pytest.mark.parametrize("line, heading", [
    ("二、二季度工作安排", True), ("三、三项措施", True), ("二、一个目标", True),
    ("二、三季度完成投资3亿元。", False), ("一、二期工程全面完工。", False), ("一、三、五", False),
])
def test_a_numeral_pair_is_a_sentence_only_when_the_second_follows_the_first(line, heading):
    outline = import_text("一、工作\n" + line)

    assert (len(outline["sections"]) == 2) is heading


def test_text_typed_one_paragraph_per_line_is_never_joined():
    text = "\n".join(["一、工作", "经济发展", "全年完成固定资产投资3.2亿元", "社会事业", "新建村级卫生室2所"])

    assert import_text_with_repairs(text).repairs == {}


SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"


@pytest.mark.parametrize("name", ["annual-plan-2026.txt", "work-report-2024.txt", "five-year-plan-14th.txt"])
def test_the_seeds_need_no_repair(name):
    imported = import_text_with_repairs((SEEDS / name).read_text(encoding="utf-8"))

    assert imported.repairs == {}
    assert "annex" not in imported.outline
    assert len(imported.dropped) == (4 if name.startswith("five") else 0)  # its web residue only


def test_an_outline_with_annexes_and_new_numbers_validates_and_diffs():
    from workflow.diff import diff_outlines
    from workflow.importer import validate_outline

    outline = import_text(text_of("closing-annex"))
    assert validate_outline(outline) == outline
    plan = import_text(text_of("plan-chapters"))
    assert validate_outline(plan)["sections"][0]["number"] == "第一章"  # numbers are trimmed
    changed = {**outline, "annex": [*outline["annex"][:-1], "全年使用衔接资金530万元。"]}
    [entry] = [e for e in diff_outlines(outline, changed) if e["status"] != "same"]
    assert entry["section_id"] == "annex"
    emptied = validate_outline({**outline, "annex": []})
    assert "annex" not in emptied


def test_repair_keeps_the_origin_of_each_line_for_per_line_hints():
    from workflow.importer.parsing import is_heading_alone, starts_block
    from workflow.importer.repair import repair_lines

    lines = text_of("pdf-broken").strip().split("\n")
    repaired = repair_lines(lines, starts_block, is_heading_alone)

    assert len(repaired.origins) == len(repaired.lines)
    assert all(repaired.lines[i].startswith(lines[origin]) for i, origin in enumerate(repaired.origins))
    assert repaired.page_marks == ["- 1 -", "— 2 —"]


def test_a_long_heading_without_a_full_stop_is_still_a_heading():
    heading = ("（一）坚持以新时代中国特色社会主义思想为指导，全面贯彻党的二十大和二十届二中、三中全会精神，"
               "推动全镇经济社会高质量发展")
    outline = import_text("一、总体要求\n" + heading + "\n正文。")

    assert outline["sections"][0]["children"][0]["heading"] == heading[3:]
