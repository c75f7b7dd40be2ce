"""Tables are content: tab-separated lines pasted from Word, WPS or Excel become table blocks of
the outline (workflow/importer/tables.py), client outlines with tables are checked against the
bounds, ids stay stable from one version to the next, and the text round trip keeps them."""
from __future__ import annotations

import pytest

from tests.helpers import ensure_translations_compiled
from web.messages import render
from workflow.errors import BadInput, TooLarge
from workflow.importer import (
    MAX_CELL_CHARS,
    MAX_COLUMNS,
    MAX_ROWS,
    MAX_TABLES,
    import_text,
    normalise,
    outline_to_text,
    validate_outline,
)

ensure_translations_compiled()

PASTED = """青山镇2026年工作计划
一、主要目标
全年主要指标如下。
表1 2026年主要指标
指标\t2025年\t2026年目标
地区生产总值（亿元）\t12.5\t13.4
固定资产投资\t3亿元\t3.5亿元
\t合计\t
以上指标均已分解落实。
二、重点工作
\t（一）缩进的标题前只有一个制表符
一行\t只有一个制表符的不是表格。
青山镇人民政府
2026年1月5日
"""


def test_a_pasted_table_becomes_a_table_block_where_it_stood():
    outline = import_text(PASTED)

    first = outline["sections"][0]
    assert first["paragraphs"] == ["全年主要指标如下。", "以上指标均已分解落实。"]
    [table] = first["tables"]
    assert table["at"] == 1
    assert table["caption"] == "表1 2026年主要指标"
    assert table["header_rows"] == 1
    assert table["rows"] == [
        ["指标", "2025年", "2026年目标"],
        ["地区生产总值（亿元）", "12.5", "13.4"],
        ["固定资产投资", "3亿元", "3.5亿元"],
        ["", "合计", ""],
    ]
    assert table["id"].startswith("t-") and len(table["id"]) == 8
    # A tab at the start of a line is an indent; one line with a tab is a paragraph.
    second = outline["sections"][1]
    assert "tables" not in second
    assert [c["heading"] for c in second["children"]] == ["缩进的标题前只有一个制表符"]
    assert second["children"][0]["paragraphs"] == ["一行 只有一个制表符的不是表格。"]
    assert outline["closing"] == ["青山镇人民政府", "2026年1月5日"]


def test_paste_outline_text_round_trip_keeps_the_table():
    outline = import_text(PASTED)
    text = outline_to_text(outline)

    assert "指标\t2025年\t2026年目标\n地区生产总值（亿元）\t12.5\t13.4" in text
    assert "\t合计\t\n" in text
    assert normalise(text) == normalise(PASTED.replace("一行\t只有", "一行 只有"))
    assert import_text(text, previous=outline) == outline


def test_short_rows_are_padded_and_tables_stand_in_the_preamble_too():
    outline = import_text("甲\t乙\t丙\n1\t2\n一、标题\n正文。")

    [table] = outline["preamble_tables"]
    assert table["rows"] == [["甲", "乙", "丙"], ["1", "2", ""]]
    assert (table["at"], outline["preamble"]) == (0, [])
    assert outline_to_text(outline).startswith("甲\t乙\t丙\n1\t2\t\n一、标题")


def test_a_table_after_a_run_in_heading_comes_back_after_the_heading_line():
    outline = import_text("一、总体要求。今年要做好三件事。\n甲\t乙\n1\t2\n其余文字。")

    section = outline["sections"][0]
    assert section["run_in"] and section["paragraphs"] == ["今年要做好三件事。", "其余文字。"]
    assert section["tables"][0]["at"] == 1
    assert outline_to_text(outline) == "一、总体要求。今年要做好三件事。\n甲\t乙\n1\t2\n其余文字。"


def test_table_ids_are_stable_across_versions_when_the_table_stays_in_its_section():
    first = import_text(PASTED)
    edited = PASTED.replace("12.5\t13.4", "12.5\t13.8").replace("全年主要指标如下。", "全年指标如下：")
    second = import_text(edited, previous=first)

    assert second["sections"][0]["tables"][0]["id"] == first["sections"][0]["tables"][0]["id"]
    # The same text imported twice gives the same ids; a table in another section another one.
    assert import_text(PASTED) == first
    moved = import_text("一、甲\n正文。\n二、乙\na\tb\n1\t2")
    stayed = import_text("一、甲\na\tb\n1\t2\n二、乙\n正文。")
    assert moved["sections"][1]["tables"][0]["id"] != stayed["sections"][0]["tables"][0]["id"]


def test_a_client_outline_with_tables_is_checked_and_normalised():
    outline = validate_outline({"sections": [{
        "number": "一、", "heading": "目标", "paragraphs": ["甲。", "乙。"],
        "tables": [
            {"rows": [["a\tb", "c\nd"], ["1"]], "caption": "表2 目标"},
            {"id": "mine", "at": 0, "rows": [["x"]], "header_rows": 0},
        ]}]})

    first, second = outline["sections"][0]["tables"]
    # Sorted by "at"; cells cleaned, short rows padded, defaults filled in, ids too.
    assert second == {"id": second["id"], "at": 2, "rows": [["a b", "c d"], ["1", ""]], "header_rows": 1,
                      "caption": "表2 目标"}
    assert second["id"].startswith("t-")
    assert first == {"id": "mine", "at": 0, "rows": [["x"]], "header_rows": 0}
    # Old clients that send no tables get no "tables" key back.
    plain = validate_outline({"sections": [{"number": "一、", "heading": "目标", "paragraphs": []}]})
    assert "tables" not in plain["sections"][0] and "preamble_tables" not in plain


def _section(**table):
    return {"sections": [{"number": "一、", "heading": "甲", "paragraphs": ["一段。"], "tables": [table]}]}


@pytest.mark.parametrize("outline, reason, params", [
    (_section(rows=[]), "outline_table_no_rows", {"path": "sections[0].tables[0].rows"}),
    (_section(rows="a\tb"), "outline_table_no_rows", {"path": "sections[0].tables[0].rows"}),
    (_section(rows=["a"]), "outline_not_string_list", {"path": "sections[0].tables[0].rows[0]"}),
    (_section(rows=[["a", 3]]), "outline_not_string", {"path": "sections[0].tables[0].rows[0][1]"}),
    (_section(rows=[["a"]], at=-1), "outline_out_of_range", {"path": "sections[0].tables[0].at", "limit": 1}),
    (_section(rows=[["a"]], header_rows=2), "outline_out_of_range",
     {"path": "sections[0].tables[0].header_rows", "limit": 1}),
    (_section(rows=[["a"]], at="1"), "outline_not_integer", {"path": "sections[0].tables[0].at"}),
    (_section(rows=[["a"]], caption=5), "outline_not_string", {"path": "sections[0].tables[0].caption"}),
    (_section(rows=[["a"]], colour="red"), "outline_unknown_key", {"path": "sections[0].tables[0].colour"}),
    ({"sections": [], "preamble_tables": [{"id": "x", "rows": [["a"]]}, {"id": "x", "rows": [["b"]]}]},
     "outline_duplicate_table_id", {"path": "preamble_tables[1].id", "id": "x"}),
])
def test_malformed_tables_are_refused_naming_the_value(outline, reason, params):
    with pytest.raises(BadInput) as error:
        validate_outline(outline)

    assert (error.value.reason, error.value.params) == (reason, params)


@pytest.mark.parametrize("table, reason", [
    ({"rows": [["a"]] * (MAX_ROWS + 1)}, "table_too_many_rows"),
    ({"rows": [["a"] * (MAX_COLUMNS + 1)]}, "table_too_many_columns"),
    ({"rows": [["字" * (MAX_CELL_CHARS + 1)]]}, "table_cell_too_long"),
])
def test_tables_beyond_the_bounds_are_too_large(table, reason):
    with pytest.raises(TooLarge) as error:
        validate_outline(_section(**table))

    assert error.value.reason == reason
    assert error.value.params["table"] == "sections[0].tables[0]"
    # At the bounds exactly, they pass.
    validate_outline(_section(rows=[["字" * MAX_CELL_CHARS] * MAX_COLUMNS] * MAX_ROWS))


def test_too_many_tables_or_rows_in_pasted_text_are_refused():
    many = "\n\n".join(f"表{n} 名称\n甲\t乙\n1\t2" for n in range(MAX_TABLES + 1))
    with pytest.raises(TooLarge) as error:
        import_text(many)
    assert error.value.reason == "too_many_tables"

    long_table = "\n".join(["甲\t乙"] * (MAX_ROWS + 1))
    with pytest.raises(TooLarge) as error:
        import_text("一、标题\n" + long_table)
    assert (error.value.reason, error.value.params) == ("table_too_many_rows", {"table": "1", "limit": MAX_ROWS})


def test_the_bounds_are_worded_in_both_languages(app):
    with pytest.raises(TooLarge) as error:
        import_text("\n".join(["甲\t乙"] * (MAX_ROWS + 1)))

    with app.test_request_context("/"):
        assert render(error.value) == f"表格 1 超过 {MAX_ROWS} 行。"
    with app.test_request_context("/"):
        from flask import session

        session["locale"] = "en"
        assert render(error.value) == f"Table 1 has more than {MAX_ROWS} rows."


def test_two_tables_one_under_the_other_stay_two_and_round_trip():
    text = "一、目标\n甲\t乙\n1\t2\n\n丙\t丁\n3\t4\n\n\n说明。\n单独\t一行"
    outline = import_text(text)

    first, second = outline["sections"][0]["tables"]
    assert (first["rows"], second["rows"]) == ([["甲", "乙"], ["1", "2"]], [["丙", "丁"], ["3", "4"]])
    assert (first["at"], second["at"]) == (0, 0)
    assert outline["sections"][0]["paragraphs"] == ["说明。", "单独 一行"]
    assert outline_to_text(outline) == "一、目标\n甲\t乙\n1\t2\n\n丙\t丁\n3\t4\n说明。\n单独 一行"
    assert import_text(outline_to_text(outline), previous=outline) == outline


def test_a_table_marker_joined_to_its_neighbours_or_left_in_the_closing_still_places_the_table():
    """The line parser may rejoin lines (paste repair) or move lines into the closing: the
    table then still lands where its marker is, or after the last section, never lost."""
    from workflow.importer.tables import place_tables, take_tables

    lines, tables, _ = take_tables(["甲\tb", "1\t2", "中间。", "丙\td", "3\t4"])
    assert lines == ["\x000\x00。", "中间。", "\x001\x00。"] and len(tables) == 2
    outline = {"preamble": [], "closing": [lines[2]],
               "sections": [{"id": "s1", "level": 1, "number": "一、", "heading": "甲", "children": [],
                             "paragraphs": ["如下" + lines[0] + "中间。"]}]}
    place_tables(outline, tables)

    section = outline["sections"][0]
    assert section["paragraphs"] == ["如下", "中间。"]
    assert [(t["at"], t["rows"][0]) for t in section["tables"]] == [(1, ["甲", "b"]), (2, ["丙", "d"])]
    assert outline["closing"] == []


def test_the_text_editor_keeps_a_tables_header_rows_while_the_header_is_unchanged():
    outline = validate_outline({"sections": [{"number": "一、", "heading": "目标", "paragraphs": [], "tables": [
        {"rows": [["指标", "目标", ""], ["", "2026年", "2027年"], ["投资", "3亿元", "4亿元"]], "header_rows": 2}]}]})
    text = outline_to_text(outline)

    again = import_text(text.replace("4亿元", "5亿元"), previous=outline)
    assert again["sections"][0]["tables"][0]["header_rows"] == 2
    renamed = import_text(text.replace("2026年", "2025年"), previous=outline)
    assert renamed["sections"][0]["tables"][0]["header_rows"] == 1
    assert import_text(text)["sections"][0]["tables"][0]["header_rows"] == 1


def test_a_table_at_the_very_start_keeps_its_empty_first_cell(app):
    from workflow.content import outline_from

    outline, _ = outline_from(text="\t2025年\t2026年\n投资\t3亿元\t4亿元\n一、标题\n正文。")
    assert outline["preamble_tables"][0]["rows"] == [["", "2025年", "2026年"], ["投资", "3亿元", "4亿元"]]


def test_heading_levels_given_by_line_follow_the_lines_when_tables_are_taken_out():
    """A .docx marks headings by line index (Word's heading styles): taking a table's rows out
    of the lines moves those indexes with the lines."""
    from workflow.importer.tables import take_tables

    lines = ["总则", "表1 指标", "甲\t乙", "1\t2", "3\t4", "第二部分", "正文。", "a\tb", "c\td", "附则"]
    out, tables, levels = take_tables(lines, {0: 1, 5: 1, 9: 2})

    assert [out[i] for i in sorted(levels)] == ["总则", "第二部分", "附则"]
    assert [levels[i] for i in sorted(levels)] == [1, 1, 2]
    assert tables[0]["caption"] == "表1 指标" and len(out) == 6


def test_a_docx_table_becomes_a_table_and_the_heading_styles_after_it_still_count():
    """Word tables (tab-separated rows from the .docx reader) are tables; two tables with an
    empty paragraph between them stay two; the headings Word marks by style after a table keep
    their level. Needs the .docx reader that reads tables and heading styles (tests.docx_build)."""
    docx_build = pytest.importorskip("tests.docx_build")
    from workflow.importer import import_docx

    p, r, table = docx_build.p, docx_build.r, docx_build.table
    styles = docx_build.style("1", "heading 1", props='<w:outlineLvl w:val="0"/>')
    data = docx_build.build_docx(
        p(r("总体情况"), style="1") + p(r("主要指标如下。")) + p(r("表1 主要指标"))
        + table([["指标", "2025年", "2026年"], ["投资（亿元）", "3", "4"]]) + p(r(""))
        + table([["甲", "乙"], ["1", "2"]]) + p(r("表后正文。"))
        + p(r("下一部分"), style="1") + p(r("正文。")), styles=styles)

    outline = import_docx(data)
    first, second = outline["sections"]
    assert first["paragraphs"] == ["主要指标如下。", "表后正文。"]
    assert [(t["at"], t.get("caption"), t["rows"]) for t in first["tables"]] == [
        (1, "表1 主要指标", [["指标", "2025年", "2026年"], ["投资（亿元）", "3", "4"]]),
        (1, None, [["甲", "乙"], ["1", "2"]])]
    assert (second["heading"], second["level"], second["paragraphs"]) == ("下一部分", 1, ["正文。"])
    assert import_docx(data) == outline  # the same every time


def test_a_table_past_the_last_paragraph_stands_after_it():
    """An old client that deletes paragraphs and sends the tables back unread stays valid."""
    outline = validate_outline(_section(rows=[["a"]], at=5))

    assert outline["sections"][0]["tables"][0]["at"] == 1
