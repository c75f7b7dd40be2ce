"""Stories about turning pasted text and .docx files into report outlines (workflow.importer).

The three real reports in ../shared/seeds are the main witnesses: an annual plan (一、/(一)),
a work report (一、 with run-in "1.…。" headings and 一是/—— lead-ins) and a five-year plan
pasted from a web page (residue lines, "1." at the top level).
"""
from __future__ import annotations

import io
import re
from pathlib import Path

import docx
import pytest
from docx.oxml.ns import qn

from workflow.importer import (
    ContentError,
    clean_text,
    docx_to_text,
    import_docx,
    import_text,
    import_text_with_report,
    normalise,
    number_value,
    numbering_style,
    outline_to_text,
    validate_outline,
)

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
SEED_NAMES = ["annual-plan-2026.txt", "work-report-2024.txt", "five-year-plan-14th.txt"]


def seed(name: str) -> str:
    return (SEEDS / name).read_text(encoding="utf-8")


def all_sections(sections):
    for section in sections:
        yield section
        yield from all_sections(section["children"])


def headings(sections) -> list[str]:
    return [s["number"] + s["heading"] for s in sections]


def docx_bytes(lines: list[str], style: str | None = None) -> bytes:
    document = docx.Document()
    for line in lines:
        document.add_paragraph(line, style=style)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


# --- the seeds ---------------------------------------------------------------------------


def test_annual_plan_has_six_parts_of_three_subsections_each():
    outline = import_text(seed("annual-plan-2026.txt"))

    assert outline["preamble"] == ["根据区委、区政府工作安排,现向区委、区政府报告我镇2026年度工作计划。"]
    assert outline["closing"] == []
    top = outline["sections"]
    assert [s["number"] for s in top] == ["一、", "二、", "三、", "四、", "五、", "六、"]
    assert top[0]["heading"] == "深化基层党建引领,构建治理现代化新格局"
    assert all(s["level"] == 1 and s["paragraphs"] == [] for s in top)
    for part in top:
        assert [c["number"] for c in part["children"]] == ["(一)", "(二)", "(三)"]
        assert all(c["level"] == 2 and len(c["paragraphs"]) == 1 and not c["children"]
                   for c in part["children"])
    assert headings(top[5]["children"])[1] == "(二)健全“一老一小”服务"
    assert top[0]["children"][1]["paragraphs"][0].startswith("严格落实“三会一课”")


def test_work_report_keeps_lead_ins_in_paragraphs_and_splits_run_in_headings():
    outline = import_text(seed("work-report-2024.txt"))

    assert outline["preamble"] == [] and outline["closing"] == []
    review, tasks, style = outline["sections"]
    assert headings(outline["sections"]) == [
        "一、今年以来工作回顾", "二、当前政府工作的主要目标和任务", "三、聚焦政府作风转变"]
    # 一、 has no numbered subsections: the —— lead-ins with 一是/二是 are paragraphs.
    assert review["children"] == []
    assert len(review["paragraphs"]) == 6
    assert sum(p.startswith("——今年以来") for p in review["paragraphs"]) == 4
    assert "一是招商引资成效显著" in review["paragraphs"][1]
    # 二、 has three paragraphs, then four run-in "1." headings at level 2.
    assert tasks["paragraphs"][2] == "为实现上述目标,我们将重点做好以下工作:"
    first = tasks["children"][0]
    assert (first["number"], first["heading"], first["level"], first.get("run_in")) == (
        "1.", "聚拓展镇域经济新空间。", 2, True)
    assert first["paragraphs"][0].startswith("一是做强项目支撑。发挥“以商招商”")
    assert [c["number"] for c in tasks["children"]] == ["1.", "2.", "3.", "4."]
    assert headings(style["children"]) == ["1.突出政治建设。", "2.主动担当作为。", "3.坚持清正廉洁。"]
    # The final exhortation is not a sign-off: it stays in the last section.
    assert style["children"][2]["paragraphs"][-1].startswith("在县委、县政府和镇党委的坚强领导下")
    assert not any(s["heading"].startswith(("一是", "二是", "——"))
                   for s in all_sections(outline["sections"]))


def test_five_year_plan_drops_web_residue_and_reports_it():
    outline, dropped = import_text_with_report(seed("five-year-plan-14th.txt"))

    assert dropped == [
        "镇“十四五”工作谋划报告",
        "时间:2022-02-02 09:50:02",
        "导语:镇“十四五”工作谋划报告一文来源于网友上传,不代表本站观点,若需要原创文章可咨询客服老师,欢迎参考。",
        "镇“十四五”工作谋划报告",
    ]
    assert len(outline["preamble"]) == 1
    assert outline["preamble"][0].startswith("到2025年,力争实现国民生产总值达3亿元")
    # The first heading style is "1.", so "1." sections are the top level.
    top = outline["sections"]
    assert [(s["number"], s["level"]) for s in top] == [
        ("1.", 1), ("2.", 1), ("3.", 1), ("4.", 1), ("5.", 1)]
    assert top[0]["heading"] == "巩固农业的基础地位,建设特色农业大镇"
    assert [p[:2] for p in top[0]["paragraphs"]] == ["一是", "二是", "三是", "四是"]
    assert len(top[1]["paragraphs"]) == 6
    assert top[2]["paragraphs"] == [seed("five-year-plan-14th.txt").split("\n")[36]]
    text = outline_to_text(outline)
    assert "时间:" not in text and "导语" not in text and "工作谋划报告" not in text
    assert import_text(seed("five-year-plan-14th.txt")) == outline


@pytest.mark.parametrize("name", SEED_NAMES)
def test_rendering_a_seed_back_gives_its_text_minus_the_dropped_residue(name):
    text = seed(name)
    outline, dropped = import_text_with_report(text)
    kept = "\n".join(line for line in text.split("\n") if line.strip() not in dropped)

    assert normalise(outline_to_text(outline)) == normalise(kept)


@pytest.mark.parametrize("name", SEED_NAMES)
def test_importing_the_same_text_twice_gives_the_same_unique_ids(name):
    first = import_text(seed(name))
    second = import_text(seed(name))
    again_with_previous = import_text(seed(name), previous=first)

    ids = [s["id"] for s in all_sections(first["sections"])]
    assert all(re.fullmatch(r"s[0-9a-f]{8}", i) for i in ids)
    assert len(set(ids)) == len(ids)
    assert second == first
    assert again_with_previous == first


# --- ids across versions -------------------------------------------------------------------


def test_an_edited_heading_keeps_its_id_and_a_new_section_gets_a_new_one():
    before = import_text(seed("annual-plan-2026.txt"))
    old_ids = {s["number"] + s["heading"]: s["id"] for s in all_sections(before["sections"])}
    edited = (seed("annual-plan-2026.txt")
              .replace("(一)建强骨干队伍体系", "(一)建强基层骨干队伍")
              .replace("(一)精准谋划项目储备\n", "(一)新增数字乡村专项\n试点建设。\n(二)精准谋划项目储备\n")
              .replace("(二)加快重点项目建设", "(三)加快重点项目建设")
              .replace("(三)完善农村配套设施", "(四)完善农村配套设施"))

    after = import_text(edited, previous=before)
    new_ids = {s["number"] + s["heading"]: s["id"] for s in all_sections(after["sections"])}

    assert new_ids["(一)建强基层骨干队伍"] == old_ids["(一)建强骨干队伍体系"]
    # Renumbered after the insertion, still the same sections.
    assert new_ids["(二)精准谋划项目储备"] == old_ids["(一)精准谋划项目储备"]
    assert new_ids["(四)完善农村配套设施"] == old_ids["(三)完善农村配套设施"]
    assert new_ids["(一)新增数字乡村专项"] not in old_ids.values()
    assert len(set(new_ids.values())) == len(new_ids)


def test_a_moved_and_lightly_edited_section_keeps_its_id():
    before = import_text("一、甲\n（一）推进农村人居环境整治\n内容\n二、乙\n（一）其他工作\n内容")
    after = import_text("一、甲\n二、乙\n（一）其他工作\n内容\n（二）推进农村人居环境综合整治\n内容",
                        previous=before)

    moved = after["sections"][1]["children"][1]
    assert moved["id"] == before["sections"][0]["children"][0]["id"]
    assert after["sections"][1]["children"][0]["id"] == before["sections"][1]["children"][0]["id"]


def test_a_removed_section_does_not_lend_its_id_to_a_different_new_one():
    before = import_text("一、甲项工作\n内容\n二、乙项工作\n内容")
    after = import_text("一、甲项工作\n内容\n二、完全不同的丙项\n内容", previous=before)

    assert after["sections"][0]["id"] == before["sections"][0]["id"]
    assert after["sections"][1]["id"] not in {s["id"] for s in before["sections"]}


# --- headings and hierarchy ------------------------------------------------------------------


def test_all_numbering_styles_nest_in_the_usual_order():
    outline = import_text("一、总体要求\n（一）指导思想\n1.坚持党建引领\n（1）强化学习\n正文。\n"
                          "（2）严格管理\n2、推进改革\n二、主要任务")

    one, two = outline["sections"]
    assert [s["level"] for s in all_sections([one])] == [1, 2, 3, 4, 4, 3]
    assert one["children"][0]["number"] == "（一）"
    item = one["children"][0]["children"][0]
    assert [c["number"] for c in item["children"]] == ["（1）", "（2）"]
    assert item["children"][0]["paragraphs"] == ["正文。"]
    assert one["children"][0]["children"][1]["number"] == "2、"
    assert two["level"] == 1 and two["children"] == []


def test_a_style_seen_earlier_does_not_jump_above_its_usual_parent():
    # 1. first appears under 一、, but under 二、 it is used below (一): it nests there.
    outline = import_text("一、甲\n1.子项\n二、乙\n（一）分项\n1.细项\n2.细项\n（二）分项")

    second = outline["sections"][1]
    assert headings(second["children"]) == ["（一）分项", "（二）分项"]
    assert headings(second["children"][0]["children"]) == ["1.细项", "2.细项"]


def test_a_stray_lower_style_is_closed_by_a_higher_one_seen_before_it():
    outline = import_text("一、甲\n（一）分项\n（1）小项\n二、乙\n（1）先写的小项\n（一）分项")

    second = outline["sections"][1]
    assert headings(second["children"]) == ["（1）先写的小项", "（一）分项"]


@pytest.mark.parametrize("line", [
    "2025年全镇完成投资3亿元。",
    "1.5亿元用于道路建设。",
    "3、4月份开展春耕。",
    "一是加快科技兴农步伐。",
    "——今年以来，我们凝心聚力。",
    "一、二级公路改造全面完成。",
    "一、二、三产业融合发展。",
    "十四五”期间，脱贫攻坚工作基本结束。",
    "0.8亿元的缺口已补足。",
])
def test_ordinary_sentences_are_not_headings(line):
    outline = import_text("一、工作\n" + line)

    assert outline["sections"][0]["paragraphs"] == [line]
    assert outline["sections"][0]["children"] == []


@pytest.mark.parametrize("line, number, heading, style", [
    ("1.巩固农业的基础地位", "1.", "巩固农业的基础地位", "arabic"),
    ("1、巩固农业", "1、", "巩固农业", "arabic"),
    ("１．巩固农业", "１．", "巩固农业", "arabic"),
    ("(一)创新党员教育管理", "(一)", "创新党员教育管理", "paren_cn"),
    ("（十二）创新管理", "（十二）", "创新管理", "paren_cn"),
    ("(3)强化学习", "(3)", "强化学习", "paren_arabic"),
    ("（3）强化学习", "（3）", "强化学习", "paren_arabic"),
    ("十一、其他事项", "十一、", "其他事项", "cn"),
    ("2. 有空格的标题", "2. ", "有空格的标题", "arabic"),
])
def test_heading_forms_are_recognised(line, number, heading, style):
    section = import_text(line)["sections"][0]

    assert (section["number"], section["heading"]) == (number, heading)
    assert numbering_style(section["number"]) == style
    assert normalise(outline_to_text(import_text(line))) == line


def test_a_run_in_heading_splits_at_the_first_full_stop_outside_quotes():
    text = "1.坚持“稳字当头。”原则：全年完成目标。其余内容"
    section = import_text(text)["sections"][0]

    assert section["heading"] == "坚持“稳字当头。”原则："
    assert section["paragraphs"] == ["全年完成目标。其余内容"]
    assert outline_to_text(import_text(text)) == text


def test_numbers_have_values_and_styles():
    assert [number_value(n) for n in ["一、", "（十）", "(二十三)", "12.", "（７）", "x"]] == [
        1, 10, 23, 12, 7, None]
    assert numbering_style("（一）") == numbering_style("(一)") == "paren_cn"
    assert numbering_style("1．") == "arabic"
    assert numbering_style("第一章") == "chapter"
    assert numbering_style("第一章节") == ""


# --- preamble and closing ----------------------------------------------------------------------


def test_a_sign_off_with_issuer_and_date_is_the_closing():
    text = "一、工作\n完成任务。\n青山镇人民政府\n2026年1月5日\n"
    outline = import_text(text)

    assert outline["closing"] == ["青山镇人民政府", "2026年1月5日"]
    assert outline["sections"][0]["paragraphs"] == ["完成任务。"]
    assert normalise(outline_to_text(outline)) == normalise(text)


def test_a_text_without_headings_is_all_preamble():
    outline = import_text("今年以来，我镇完成各项任务。\n\n下一步继续努力。")

    assert outline == {"preamble": ["今年以来，我镇完成各项任务。", "下一步继续努力。"],
                       "sections": [], "closing": []}
    assert import_text("") == {"preamble": [], "sections": [], "closing": []}


def test_residue_lines_are_only_recognised_at_the_top():
    text = "一、工作\n来源：本镇统计站数据显示，全年增长5%。"
    outline, dropped = import_text_with_report(text)

    assert dropped == []
    assert outline["sections"][0]["paragraphs"] == ["来源：本镇统计站数据显示，全年增长5%。"]


def test_other_residue_forms_are_dropped():
    text = ("某镇2026年工作计划\n发布时间：2026-01-05\n信息来源：镇政府办\n作者：张三\n"
            "浏览次数：123\n某镇2026年工作计划\n根据安排，报告如下。\n一、工作\n内容")
    outline, dropped = import_text_with_report(text)

    assert outline["preamble"] == ["根据安排，报告如下。"]
    assert dropped == ["某镇2026年工作计划", "发布时间：2026-01-05", "信息来源：镇政府办",
                       "作者：张三", "浏览次数：123", "某镇2026年工作计划"]


# --- text hygiene ------------------------------------------------------------------------------


def test_control_and_invisible_characters_are_stripped_and_line_ends_unified():
    text = "\ufeff一、总\x00体\u200b要求\r\n正文\t第一段\x07。\r第二段\u2028第三段"
    outline = import_text(text)

    section = outline["sections"][0]
    assert section["heading"] == "总体要求"
    assert section["paragraphs"] == ["正文 第一段。", "第二段", "第三段"]
    assert clean_text("a\x0bb\x1fc\ud800") == "a\nbc"


def test_normalise_keeps_inner_spaces_of_latin_text():
    assert normalise("  Microsoft Word 文档  \n\n\u3000\u3000缩进段落\r\n") == \
        "Microsoft Word 文档\n缩进段落"


def test_text_that_is_not_a_string_is_a_content_error():
    with pytest.raises(ContentError):
        import_text(b"bytes")  # type: ignore[arg-type]


# --- .docx -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["annual-plan-2026.txt", "work-report-2024.txt"])
def test_a_docx_gives_the_same_outline_as_its_text(name):
    text = seed(name)

    assert import_docx(docx_bytes(text.split("\n"))) == import_text(text)


def test_word_automatic_chinese_numbering_becomes_headings():
    document = docx.Document()
    numbering = document.part.numbering_part.element
    # Make Word's "List Number" list count 一、二、 as Chinese documents do.
    style_num_id = document.styles["List Number"].element.pPr.numPr.numId.val
    num = next(n for n in numbering.findall(qn("w:num"))
               if n.get(qn("w:numId")) == str(style_num_id))
    abstract_id = num.find(qn("w:abstractNumId")).get(qn("w:val"))
    abstract = next(a for a in numbering.findall(qn("w:abstractNum"))
                    if a.get(qn("w:abstractNumId")) == abstract_id)
    level = abstract.find(qn("w:lvl"))
    level.find(qn("w:numFmt")).set(qn("w:val"), "chineseCounting")
    level.find(qn("w:lvlText")).set(qn("w:val"), "%1、")
    document.add_paragraph("报告如下。")
    document.add_paragraph("总体要求", style="List Number")
    document.add_paragraph("正文。")
    document.add_paragraph("主要任务", style="List Number")
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "表格左"
    table.cell(0, 1).text = "表格右"
    buffer = io.BytesIO()
    document.save(buffer)

    # A table is one line per row, cells joined by a TAB, with an empty line before and after.
    assert docx_to_text(buffer.getvalue()) == "报告如下。\n一、总体要求\n正文。\n二、主要任务\n\n表格左\t表格右\n"
    outline = import_docx(buffer.getvalue())
    assert headings(outline["sections"]) == ["一、总体要求", "二、主要任务"]


@pytest.mark.parametrize("data", [b"", b"garbage \x00\xff", b"PK\x03\x04not really a zip",
                                  docx_bytes(["x"])[:200]])
def test_bytes_that_are_not_a_docx_are_a_content_error(data):
    with pytest.raises(ContentError, match=r"\.docx"):
        import_docx(data)


# --- outlines sent by clients --------------------------------------------------------------------


def test_validate_outline_fills_ids_and_levels_and_cleans_text():
    outline = validate_outline({
        "sections": [{"number": "一、", "heading": " 总体要求\x00 ", "paragraphs": ["甲\n乙", "  "],
                      "children": [{"number": "(一)", "heading": "分项", "paragraphs": [],
                                    "id": "keep-me"}]}],
    })

    top = outline["sections"][0]
    assert outline["preamble"] == [] and outline["closing"] == []
    assert top["heading"] == "总体要求" and top["paragraphs"] == ["甲", "乙"]
    assert top["level"] == 1 and top["children"][0]["level"] == 2
    assert re.fullmatch(r"s[0-9a-f]{8}", top["id"])
    assert top["children"][0]["id"] == "keep-me"
    assert validate_outline(outline) == outline


def test_validate_outline_accepts_what_the_importer_produces():
    outline = import_text(seed("work-report-2024.txt"))

    assert validate_outline(outline) == outline


@pytest.mark.parametrize("outline, path", [
    ([], "outline"),
    ({"preamble": []}, "sections"),
    ({"sections": [], "title": "x"}, "title"),
    ({"sections": {}}, "sections"),
    ({"sections": [], "preamble": ["ok", 3]}, "preamble[1]"),
    ({"sections": ["一、"]}, "sections[0]"),
    ({"sections": [{"number": "一、", "heading": "甲", "paragraphs": [1]}]},
     "sections[0].paragraphs[0]"),
    ({"sections": [{"number": "一、", "heading": "甲"}]}, "sections[0].paragraphs"),
    ({"sections": [{"number": "一、", "heading": None, "paragraphs": []}]}, "sections[0].heading"),
    ({"sections": [{"number": "第一条", "heading": "甲", "paragraphs": []}]}, "sections[0].number"),
    ({"sections": [{"number": "一、", "heading": "甲", "paragraphs": [], "level": 2}]},
     "sections[0].level"),
    ({"sections": [{"number": "一、", "heading": "甲", "paragraphs": [], "children": [
        {"number": "(一)", "heading": "乙", "paragraphs": [], "level": 1}]}]},
     "sections[0].children[0].level"),
    ({"sections": [{"number": "一、", "heading": "甲", "paragraphs": [], "id": "x" * 65}]},
     "sections[0].id"),
    ({"sections": [{"number": "一、", "heading": "甲", "paragraphs": [], "id": "a"},
                   {"number": "二、", "heading": "乙", "paragraphs": [], "id": "a"}]},
     "sections[1].id"),
    ({"sections": [{"number": "一、", "heading": "甲", "paragraphs": [], "colour": "red"}]},
     "sections[0]"),
])
def test_validate_outline_names_the_bad_path(outline, path):
    with pytest.raises(ContentError) as error:
        validate_outline(outline)

    assert path in str(error.value)
