"""Stories about comparing two versions of a report (workflow.diff) and about the figures a
report commits to (workflow.indicators)."""
from __future__ import annotations

from pathlib import Path

import pytest

from workflow.diff import diff_outlines, diff_stats, text_ops
from workflow.importer import import_text
from workflow.indicators import UNITS, extract_indicators

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"


def seed(name: str) -> str:
    return (SEEDS / name).read_text(encoding="utf-8")


def rebuild(ops: list[dict]) -> tuple[str, str]:
    """(old, new) text that a list of ops describes."""
    old = "".join(op["text"] for op in ops if op["op"] in ("equal", "delete"))
    new = "".join(op["text"] for op in ops if op["op"] in ("equal", "insert"))
    return old, new


# --- diff ------------------------------------------------------------------------------------


def test_an_unchanged_report_diffs_as_all_same():
    outline = import_text(seed("annual-plan-2026.txt"))
    entries = diff_outlines(outline, outline)

    assert {e["status"] for e in entries} == {"same"}
    assert entries[0]["section_id"] == "preamble"
    assert len(entries) == 1 + 24
    assert diff_stats(entries) == {"changed": 0, "added": 0, "removed": 0,
                                   "chars_inserted": 0, "chars_deleted": 0}


def test_a_revised_plan_shows_changed_added_and_removed_sections_in_place():
    old_text = seed("annual-plan-2026.txt")
    old = import_text(old_text)
    new_text = (old_text
                .replace("(一)建强骨干队伍体系", "(一)建强基层骨干队伍体系")
                .replace("升级镇村两级党建责任清单", "升级镇村两级党建工作责任清单")
                .replace("(三)完善农村配套设施\n", "(三)完善农村配套设施\n新增：实施数字乡村工程。\n")
                .replace("(三)强化党建融合赋能\n" + old_text.split("\n")[7] + "\n", "")
                + "\n七、加强政府自身建设\n(一)转变工作作风\n深入调查研究。")
    new = import_text(new_text, previous=old)
    entries = diff_outlines(old, new)
    by_heading = {e["heading"]: e for e in entries}

    edited = by_heading["建强基层骨干队伍体系"]
    assert edited["status"] == "changed"
    assert edited["heading_ops"] == [{"op": "equal", "text": "建强"},
                                     {"op": "insert", "text": "基层"},
                                     {"op": "equal", "text": "骨干队伍体系"}]
    assert {"op": "insert", "text": "工作"} in edited["ops"]
    assert rebuild(edited["ops"])[1] == new["sections"][0]["children"][0]["paragraphs"][0]

    removed = by_heading["强化党建融合赋能"]
    assert removed["status"] == "removed"
    assert [op["op"] for op in removed["ops"]] == ["delete"]
    order = [e["heading"] for e in entries]
    # Removed (三) sits where it was: after (二) of 一、 and before 二、.
    assert order.index("创新党员教育管理") < order.index("强化党建融合赋能") < order.index(
        "深化农村综合改革,释放乡村发展新活力")

    appended = by_heading["完善农村配套设施"]
    assert appended["status"] == "changed"
    assert appended["ops"][0] == {"op": "insert", "text": "新增：实施数字乡村工程。\n"}
    assert [op["op"] for op in appended["ops"]] == ["insert", "equal"]

    assert by_heading["加强政府自身建设"]["status"] == "added"
    assert by_heading["转变工作作风"]["ops"] == [{"op": "insert", "text": "深入调查研究。"}]
    assert order[-2:] == ["加强政府自身建设", "转变工作作风"]

    stats = diff_stats(entries)
    assert (stats["changed"], stats["added"], stats["removed"]) == (2, 2, 1)
    assert stats["chars_inserted"] == len("基层工作新增：实施数字乡村工程。\n"
                                          "加强政府自身建设转变工作作风深入调查研究。")
    assert stats["chars_deleted"] == len("强化党建融合赋能") + len(old_text.split("\n")[7])


def test_a_renumbered_section_is_changed_and_shows_its_old_number():
    old = import_text("一、甲\n内容\n二、乙\n内容")
    new = import_text("一、新增\n内容\n二、甲\n内容\n三、乙\n内容", previous=old)
    entries = diff_outlines(old, new)

    assert [(e["number"], e["old_number"], e["status"]) for e in entries] == [
        ("一、", None, "added"), ("二、", "一、", "changed"), ("三、", "二、", "changed")]


def test_sections_without_ids_in_common_are_matched_by_number_and_heading():
    old = import_text("一、甲\n旧内容")
    new = import_text("一、甲\n新内容")
    new["sections"][0]["id"] = "sffffffff"

    [entry] = diff_outlines(old, new)
    assert entry["status"] == "changed" and entry["section_id"] == "sffffffff"
    assert entry["ops"] == [{"op": "delete", "text": "旧"}, {"op": "insert", "text": "新"},
                            {"op": "equal", "text": "内容"}]


def test_preamble_and_closing_are_pseudo_sections():
    old = import_text("报告如下。\n一、甲\n内容\n青山镇人民政府\n2026年1月5日")
    new = import_text("现报告如下。\n一、甲\n内容\n青山镇人民政府\n2026年1月6日", previous=old)
    entries = diff_outlines(old, new)

    assert [(e["section_id"], e["status"]) for e in entries] == [
        ("preamble", "changed"), (old["sections"][0]["id"], "same"), ("closing", "changed")]
    assert entries[0]["ops"] == [{"op": "insert", "text": "现"}, {"op": "equal", "text": "报告如下。"}]


def test_tiny_equal_runs_between_changes_are_folded_into_one_change():
    # "收入" and "千" alone would be confetti between four edits: one change reads better.
    assert text_ops("完成财税收入五千万元", "实现税费收入六千亿元") == [
        {"op": "delete", "text": "完成财税收入五千万"},
        {"op": "insert", "text": "实现税费收入六千亿"},
        {"op": "equal", "text": "元"},
    ]
    # Longer equal runs stay visible.
    assert text_ops("完成财税收入五千万元", "实现税收收入五千万元") == [
        {"op": "delete", "text": "完成财税"},
        {"op": "insert", "text": "实现税收"},
        {"op": "equal", "text": "收入五千万元"},
    ]


@pytest.mark.parametrize("old, new", [
    ("", "新增"), ("删除", ""), ("甲\n乙\n丙", "甲\n丙\n丁"), ("一二三四五", "一三五七"),
    ("同一段落。", "同一段落。\n新段落。"),
])
def test_ops_always_rebuild_both_texts(old, new):
    assert rebuild(text_ops(old, new)) == (old, new)


# --- indicators ----------------------------------------------------------------------------------


def test_five_long_paragraphs_with_one_edit_each_show_five_changed_characters():
    """Each paragraph is 500 characters with one character replaced: the diff shows the five
    replaced characters, not the paragraphs as a whole delete + insert."""
    base = "各镇要加强基层党建，推进乡村振兴，落实安全生产责任制度。"  # 28 characters
    paragraphs = [(base * 20)[:500] for _ in range(5)]
    edited = [p[:90 * (i + 1)] + "改" + p[90 * (i + 1) + 1:] for i, p in enumerate(paragraphs)]
    ops = text_ops("\n".join(paragraphs), "\n".join(edited))
    inserted = "".join(op["text"] for op in ops if op["op"] == "insert")
    deleted = "".join(op["text"] for op in ops if op["op"] == "delete")

    assert inserted == "改" * 5
    assert len(deleted) == 5
    assert rebuild(ops) == ("\n".join(paragraphs), "\n".join(edited))


def test_a_large_rewrite_still_diffs_to_exact_ops():
    """Two unrelated 60,000-character texts: past the time bound the diff is coarser, never wrong."""
    old = "".join(chr(0x4E00 + (i * 7919) % 2000) for i in range(60_000))
    new = "".join(chr(0x4E00 + (i * 104729) % 2000) for i in range(60_000))
    assert rebuild(text_ops(old, new)) == (old, new)


def test_the_five_year_plan_targets_are_extracted_with_units():
    outline = import_text(seed("five-year-plan-14th.txt"))
    indicators = extract_indicators(outline)
    first_section = outline["sections"][0]["id"]

    assert [(i["value"], i["unit"]) for i in indicators[:4]] == [
        ("3", "亿元"), ("0.8", "亿元"), ("1.1", "亿元"), ("0.3", "亿元")]
    assert {"value": "3", "number": 3.0, "unit": "‰"}.items() <= indicators[10].items()
    assert indicators[8]["number"] == 11000.0 and indicators[8]["unit"] == "元"
    assert indicators[0]["section_id"] is None  # the preamble
    pigs = next(i for i in indicators if i["unit"] == "万头")
    assert (pigs["section_id"], pigs["section_number"], pigs["number"]) == (
        first_section, "1.", 5.0)
    assert pigs["context"] == ",优质蔬菜8000亩,生猪出栏5万头"
    assert len(indicators) == 17
    assert not any(i["value"].startswith("2025") for i in indicators)


def test_placeholders_years_codes_and_slogans_are_not_indicators():
    outline = import_text("一、甲\n完成x万元，投资xx.x亿元，到2025年，PM2.5下降，建成5G基站3座，"
                          "打造“三个示范”，一个项目一个项目抓，第三个，千家万户。")

    assert [(i["value"], i["unit"]) for i in extract_indicators(outline)] == [("3", "座")]


@pytest.mark.parametrize("text, value, number, unit", [
    ("建成三个示范村", "三", 3.0, "个"),
    ("新增一百五十万元", "一百五十", 150.0, "万元"),
    ("收入11,000元", "11,000", 11000.0, "元"),
    ("增长12.5％", "12.5", 12.5, "%"),
    ("完成5000余亩", "5000余", 5000.0, "亩"),
    ("改造2.3万平方米", "2.3", 2.3, "万平方米"),
    ("接待30人次", "30", 30.0, "人次"),
    ("修路１２公里", "１２", 12.0, "公里"),
])
def test_numbers_with_units_longest_unit_first(text, value, number, unit):
    [indicator] = extract_indicators(import_text(text))

    assert (indicator["value"], indicator["number"], indicator["unit"]) == (value, number, unit)
    assert indicator["context"] == text
    assert unit in UNITS


def test_ten_thousand_person_visits_are_one_unit():
    from workflow.importer import import_text
    from workflow.indicators import extract_indicators

    found = extract_indicators(import_text("一、旅游\n接待游客12万人次，建成民宿1个。"))
    assert [(i["value"], i["unit"]) for i in found] == [("12", "万人次"), ("1", "个")]
