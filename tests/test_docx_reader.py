""".docx files read the way Word shows them (workflow.importer.docx_reader), built from raw
WordprocessingML by the tests (tests/docx_build.py): list numbering as Word computes it,
tracked changes accepted, content controls, text boxes, fields, tables, heading styles, the
title, and the bounds that keep a hostile file from holding a worker."""
from __future__ import annotations

import random
import zipfile

import pytest

from tests.docx_build import abstract, build_docx, level, num, p, r, style, table
from workflow.importer import ContentError, docx_to_text, import_docx, import_docx_document
from workflow.importer.docx_reader import read_docx

STYLES = (
    style("a", "Normal", default=True)
    + style("1", "heading 1", based_on="a", props='<w:outlineLvl w:val="0"/>')
    + style("2", "heading 2", based_on="a", props='<w:outlineLvl w:val="1"/>')
    + style("Heading3", "Heading 3", based_on="a")
    + style("a3", "Title", based_on="a")
    + style("MyChapter", "我的章标题", based_on="1")
    + style("TOCHeading", "TOC Heading", based_on="1")
)


def text_of(body: str, **parts: str) -> str:
    return docx_to_text(build_docx(body, **parts))


def outline_shape(sections: list[dict]) -> list:
    """``[(number + heading, paragraphs, children…)]``: the outline without ids and levels."""
    return [(s["number"] + s["heading"], s["paragraphs"], outline_shape(s["children"])) for s in sections]


# --- list numbering -----------------------------------------------------------------------------

FORMATS = [
    ("decimal", "%1.", 1, ["1.", "2.", "3."]),
    ("decimalZero", "%1.", 9, ["09.", "10.", "11."]),
    ("chineseCounting", "%1、", 9, ["九、", "十、", "十一、"]),
    ("chineseCountingThousand", "%1、", 19, ["十九、", "二十、", "二十一、"]),
    ("chineseCounting", "%1、", 99, ["九十九、", "一百、", "一百零一、"]),
    ("japaneseCounting", "第%1条", 1, ["第一条 ", "第二条 ", "第三条 "]),
    ("ideographTraditional", "%1、", 9, ["壬、", "癸、", "甲、"]),
    ("ideographDigital", "%1、", 9, ["九、", "一〇、", "一一、"]),
    ("chineseLegalSimplified", "%1、", 1, ["壹、", "贰、", "叁、"]),
    ("upperRoman", "%1.", 3, ["III.", "IV.", "V."]),
    ("lowerRoman", "(%1)", 8, ["(viii)", "(ix)", "(x)"]),
    ("upperLetter", "%1.", 25, ["Y.", "Z.", "AA."]),
    ("lowerLetter", "%1)", 1, ["a)", "b)", "c)"]),
    ("decimalEnclosedCircle", "%1", 19, ["⑲", "⑳", "21 "]),
    ("decimalEnclosedParen", "%1", 1, ["⑴", "⑵", "⑶"]),
    ("decimalEnclosedFullstop", "%1", 1, ["⒈", "⒉", "⒊"]),
    ("ideographEnclosedCircle", "%1", 1, ["㈠", "㈡", "㈢"]),
    ("bullet", "●", 1, ["", "", ""]),
]


@pytest.mark.parametrize("fmt, template, start, labels", FORMATS, ids=[f[0] for f in FORMATS])
def test_each_number_format_is_rendered_as_word_shows_it(fmt, template, start, labels):
    # Word's tab after the number is a space where a word or plain number would run into the text.
    numbering = abstract(1, level(0, fmt, template, start=start)) + num(7, 1)
    body = "".join(p(r(f"第{i}项"), num=(7, 0)) for i in range(3))

    assert text_of(body, numbering=numbering).split("\n") == [f"{label}第{i}项" for i, label in enumerate(labels)]


@pytest.mark.parametrize("suffix, expected", [("", "第一章 总则"), ('<w:suff w:val="space"/>', "第一章 总则"),
                                              ('<w:suff w:val="nothing"/>', "第一章总则")])
def test_the_separator_after_a_number_follows_its_suffix(suffix, expected):
    numbering = abstract(1, level(0, "chineseCounting", "第%1章", extra=suffix)) + num(1, 1)

    assert text_of(p(r("总则"), num=(1, 0)), numbering=numbering) == expected


TWO_LEVELS = (abstract(1, level(0, "chineseCounting", "%1、"), level(1, "chineseCounting", "（%2）"))
              + num(1, 1) + num(2, 1) + num(3, 1, restart={0: 1}))


def test_a_list_continues_across_num_ids_and_restarts_where_word_restarts_it():
    body = (p(r("甲"), num=(1, 0)) + p(r("甲一"), num=(1, 1)) + p(r("甲二"), num=(1, 1))
            + p(r("正文。")) + p(r("乙"), num=(1, 0)) + p(r("乙一"), num=(1, 1))
            + p(r("丙"), num=(2, 0))  # another num of the same list: "continue numbering"
            + p(r("重新开始"), num=(3, 0)) + p(r("再下一项"), num=(3, 0)))  # "restart numbering"

    assert text_of(body, numbering=TWO_LEVELS).split("\n") == [
        "一、甲", "（一）甲一", "（二）甲二", "正文。", "二、乙", "（一）乙一", "三、丙",
        "一、重新开始", "二、再下一项"]


def test_empty_and_deleted_numbered_paragraphs_count_as_word_counts_them():
    deleted = p('<w:del><w:r><w:delText>删掉的一项</w:delText></w:r></w:del>', num=(1, 0),
                props='<w:rPr><w:del w:id="1" w:author="x"/></w:rPr>')
    body = p(num=(1, 0)) + p(r("第二项"), num=(1, 0)) + deleted + p(r("第三项"), num=(1, 0))

    # Word shows the number of an empty item (and counts it); an item deleted with its mark is gone.
    assert text_of(body, numbering=TWO_LEVELS).split("\n") == ["二、第二项", "三、第三项"]


def test_restart_rules_legal_numbering_and_overridden_levels():
    numbering = (
        abstract(1, level(0, "chineseCounting", "第%1章"),
                 level(1, "chineseCounting", "第%2节", extra='<w:lvlRestart w:val="0"/>'),
                 level(2, "decimal", "%1.%2.%3", extra="<w:isLgl/>"))
        + '<w:num w:numId="4"><w:abstractNumId w:val="1"/><w:lvlOverride w:ilvl="1">'
          '<w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="upperLetter"/><w:lvlText w:val="%2."/></w:lvl>'
          '</w:lvlOverride></w:num>'
        + num(5, 1))
    body = (p(r("总则"), num=(5, 0)) + p(r("目标"), num=(5, 1)) + p(r("细则"), num=(5, 2))
            + p(r("任务"), num=(5, 0)) + p(r("项目"), num=(5, 1)) + p(r("措施"), num=(5, 2))
            + p(r("附录"), num=(4, 1)))

    # Sections never restart (lvlRestart 0) and the legal level shows every number in digits.
    assert text_of(body, numbering=numbering).split("\n") == [
        "第一章 总则", "第一节 目标", "1.1.1 细则", "第二章 任务", "第二节 项目", "2.2.1 措施", "C.附录"]


def test_numbering_comes_from_styles_through_based_on_and_a_level_linked_to_a_style():
    numbering = (abstract(1, level(0, "chineseCounting", "%1、", extra='<w:pStyle w:val="ListHead"/>'),
                          level(1, "decimal", "%2.", extra='<w:pStyle w:val="ListSub"/>'))
                 + num(9, 1))
    styles = (style("ListHead", "List Head", props='<w:numPr><w:numId w:val="9"/></w:numPr>')
              + style("ListSub", "List Sub", props='<w:numPr><w:numId w:val="9"/></w:numPr>')
              + style("ListHeadRed", "List Head Red", based_on="ListHead"))
    body = (p(r("总体要求"), style="ListHead") + p(r("小项"), style="ListSub")
            + p(r("主要任务"), style="ListHeadRed")
            + p(r("不编号"), style="ListHead", props='<w:numPr><w:numId w:val="0"/></w:numPr>')
            + p(r("保障措施"), style="ListHead"))

    assert text_of(body, numbering=numbering, styles=styles).split("\n") == [
        "一、总体要求", "1.小项", "二、主要任务", "不编号", "三、保障措施"]


def test_a_list_defined_by_a_list_style_is_followed_to_its_definition():
    definition = abstract(1, level(0, "upperRoman", "%1."))
    numbering = (definition.replace("<w:lvl ", '<w:styleLink w:val="MyList"/><w:lvl ', 1)
                 + '<w:abstractNum w:abstractNumId="2"><w:numStyleLink w:val="MyList"/></w:abstractNum>'
                 + num(3, 1) + num(4, 2))
    styles = style("MyList", "My List", kind="numbering", props='<w:numPr><w:numId w:val="3"/></w:numPr>')
    body = p(r("Goals"), num=(4, 0)) + p(r("Tasks"), num=(4, 0))

    assert text_of(body, numbering=numbering, styles=styles).split("\n") == ["I.Goals", "II.Tasks"]


# --- what Word shows ----------------------------------------------------------------------------


def test_tracked_changes_read_as_accepted():
    body = (
        p(r("全年完成投资"), '<w:ins w:id="1" w:author="张"><w:r><w:t>2.5</w:t></w:r></w:ins>',
          '<w:del w:id="2" w:author="张"><w:r><w:delText>2</w:delText></w:r></w:del>', r("亿元。"))
        + p('<w:moveFrom w:id="3" w:author="张"><w:r><w:t>移走的句子。</w:t></w:r></w:moveFrom>', r("留下的句子。"))
        + p(r("前半句，"), props='<w:rPr><w:del w:id="4" w:author="张"/></w:rPr>')  # a deleted paragraph mark
        + p(r("后半句。"))
        + p('<w:moveTo w:id="5" w:author="张"><w:r><w:t>移走的句子。</w:t></w:r></w:moveTo>')
        + p('<w:del w:id="6" w:author="张"><w:r><w:delText>整段删除。</w:delText></w:r></w:del>',
            props='<w:rPr><w:del w:id="7" w:author="张"/></w:rPr>')
        + p(r("最后一段。"))
    )

    assert text_of(body).split("\n") == [
        "全年完成投资2.5亿元。", "留下的句子。", "前半句，后半句。", "移走的句子。", "最后一段。"]


def test_content_controls_are_kept_and_a_table_of_contents_is_not():
    toc = ('<w:sdt><w:sdtPr><w:docPartObj><w:docPartGallery w:val="Table of Contents"/></w:docPartObj></w:sdtPr>'
           f'<w:sdtContent>{p(r("目录"))}{p(r("一、总体要求 1"))}</w:sdtContent></w:sdt>')
    block = ('<w:sdt><w:sdtPr><w:alias w:val="正文"/></w:sdtPr>'
             f'<w:sdtContent>{p(r("块级控件里的段落。"))}</w:sdtContent></w:sdt>')
    inline = p(r("填报单位："), '<w:sdt><w:sdtPr/><w:sdtContent><w:r><w:t>青山镇</w:t></w:r></w:sdtContent></w:sdt>',
               r("。"))
    prompt = p(r("联系人："), '<w:sdt><w:sdtPr><w:showingPlcHdr/></w:sdtPr><w:sdtContent><w:r>'
                             '<w:t>单击或点击此处输入文字。</w:t></w:r></w:sdtContent></w:sdt>')

    assert text_of(toc + block + inline + prompt).split("\n") == [
        "块级控件里的段落。", "填报单位：青山镇。", "联系人："]


def _text_box(text: str) -> str:
    box = f"<w:txbxContent>{p(r(text))}</w:txbxContent>"
    return ('<w:r><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing><wp:anchor><a:graphic><a:graphicData>'
            f'<wps:wsp><wps:txbx>{box}</wps:txbx></wps:wsp></a:graphicData></a:graphic></wp:anchor></w:drawing>'
            f'</mc:Choice><mc:Fallback><w:pict><v:shape><v:textbox>{box}</v:textbox></v:shape></w:pict>'
            '</mc:Fallback></mc:AlternateContent></w:r>')


def test_text_boxes_come_once_after_their_paragraph():
    vml_only = ('<w:r><w:pict><v:shape><v:textbox>'
                f'<w:txbxContent>{p(r("旧式文本框。"))}</w:txbxContent></v:textbox></v:shape></w:pict></w:r>')
    body = (p(r("正文第一段。"), _text_box("文本框里的说明。")) + p(r("正文第二段。"))
            + p(vml_only) + p(r("正文第三段。")))

    assert text_of(body).split("\n") == [
        "正文第一段。", "文本框里的说明。", "正文第二段。", "旧式文本框。", "正文第三段。"]


def test_fields_show_their_result_not_their_code_and_hidden_text_comments_footnotes_are_left_out():
    def field(code: str, result: str) -> str:
        return (f'<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> {code} </w:instrText></w:r>'
                f'<w:r><w:fldChar w:fldCharType="separate"/></w:r>{r(result)}'
                '<w:r><w:fldChar w:fldCharType="end"/></w:r>')

    body = (p(r("截至"), field('DATE \\@ "yyyy年M月d日"', "2026年1月5日"), r("，完成"),
              '<w:fldSimple w:instr=" REF 指标 "><w:r><w:t>98%</w:t></w:r></w:fldSimple>', r("。"))
            + p(field("TOC \\o 1-3", "一、总体要求\t1"))
            + p(r("可见"), r("隐藏", props="<w:vanish/>"), '<w:commentRangeStart w:id="1"/>', r("文字"),
                '<w:commentRangeEnd w:id="1"/><w:r><w:commentReference w:id="1"/></w:r>',
                '<w:r><w:footnoteReference w:id="2"/></w:r>', r("。")))

    assert text_of(body).split("\n") == ["截至2026年1月5日，完成98%。", "可见文字。"]

    # A damaged field (begun, never separated) hides nothing beyond its paragraph.
    broken = p(r("前文"), '<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText>PAGE</w:instrText></w:r>')
    assert text_of(broken + p(r("后文。"))).split("\n") == ["前文", "后文。"]


# --- tables ---------------------------------------------------------------------------------------

TEN_BY_FIVE = [["指标", "单位", "2025年", "2026年目标", "增长"]] + [
    [f"指标{i}", "亿元", f"{i}.0", f"{i}.5", f"{i}%"] for i in range(1, 10)]


def test_a_ten_by_five_table_keeps_every_cell_every_time():
    data = build_docx(p(r("主要指标如下。")) + table(TEN_BY_FIVE) + p(r("表后正文。")))
    expected = "\n".join(["主要指标如下。", ""] + ["\t".join(row) for row in TEN_BY_FIVE] + ["", "表后正文。"])

    assert {docx_to_text(data) for _ in range(5)} == {expected}


def test_merged_cells_give_their_text_once():
    rows = [["项目", "", "投资", "进度"], ["道路", "一期", "3亿元", "60%"], ["", "二期", "2亿元", ""]]
    props = {(0, 0): '<w:gridSpan w:val="2"/>', (1, 0): '<w:vMerge w:val="restart"/>', (2, 0): "<w:vMerge/>",
             (1, 3): '<w:vMerge w:val="restart"/>', (2, 3): "<w:vMerge/>"}
    cells = [[c for j, c in enumerate(row) if not (i == 0 and j == 1)] for i, row in enumerate(rows)]
    tbl = table(cells, cell_props={(0, 0): props[(0, 0)], (1, 0): props[(1, 0)], (2, 0): props[(2, 0)],
                                   (1, 3): props[(1, 3)], (2, 3): props[(2, 3)]})

    assert text_of(tbl) == "\n项目\t\t投资\t进度\n道路\t一期\t3亿元\t60%\n\t二期\t2亿元\t\n"


def test_a_cells_paragraphs_and_nested_tables_stay_on_its_row():
    nested = table([["子表甲", "子表乙"]])
    cell_xml = f"<w:tc>{p(r('第一段'))}{p(r('第二段'))}{nested}</w:tc>"
    tbl = f"<w:tbl><w:tr>{cell_xml}<w:tc>{p(r('右'))}</w:tc></w:tr><w:tr><w:tc>{p(r('甲'))}</w:tc>" \
          f"<w:tc>{p(r('乙'))}</w:tc></w:tr><w:tr><w:trPr><w:del w:id=\"1\" w:author=\"x\"/></w:trPr>" \
          f"<w:tc>{p(r('删除的行'))}</w:tc><w:tc><w:p/></w:tc></w:tr></w:tbl>"

    assert text_of(tbl) == "\n第一段 第二段 子表甲 子表乙\t右\n甲\t乙\n"


# --- headings and the title -------------------------------------------------------------------


def test_heading_styles_and_outline_levels_are_headings_without_numbers():
    body = (p(r("青山镇2026年"), style="a3") + p(r("工作计划"), style="a3")
            + p(r("为做好全年工作，制定本计划。")) + p(r("目录"), style="TOCHeading")
            + p(r("总体要求"), style="1") + p(r("坚持稳中求进。"))
            + p(r("发展目标"), style="2") + p(r("地区生产总值增长6%。"))
            + p(r("具体指标"), style="Heading3") + p(r("详见下表。"))
            + p(r("重点任务"), style="MyChapter")
            + p(r("产业发展"), props='<w:outlineLvl w:val="1"/>') + p(r("发展茶叶。"))
            + p(r("保障措施"), style="1") + p(r("加强领导。")))
    imported = import_docx_document(build_docx(body, styles=STYLES))

    assert imported.title == "青山镇2026年工作计划"
    assert imported.outline["preamble"] == ["为做好全年工作，制定本计划。", "目录"]
    assert outline_shape(imported.outline["sections"]) == [
        ("总体要求", ["坚持稳中求进。"], [
            ("发展目标", ["地区生产总值增长6%。"], [("具体指标", ["详见下表。"], [])])]),
        ("重点任务", [], [("产业发展", ["发展茶叶。"], [])]),
        ("保障措施", ["加强领导。"], []),
    ]
    assert [s["level"] for s in imported.outline["sections"]] == [1, 1, 1]


def test_word_numbered_headings_in_heading_styles_keep_their_numbers_and_levels():
    numbering = (abstract(1, level(0, "chineseCounting", "%1、"), level(1, "chineseCounting", "（%2）"))
                 + num(1, 1))
    body = (p(r("前言"), style="1") + p(r("说明。"))
            + p(r("总体要求"), style="1", num=(1, 0)) + p(r("目标"), style="2", num=(1, 1)) + p(r("正文。"))
            + p(r("主要任务"), style="1", num=(1, 0)) + p(r("任务一。")))
    outline = import_docx(build_docx(body, numbering=numbering, styles=STYLES))

    assert outline_shape(outline["sections"]) == [
        ("前言", ["说明。"], []),
        ("一、总体要求", [], [("（一）目标", ["正文。"], [])]),
        ("二、主要任务", ["任务一。"], []),
    ]


def test_a_document_without_a_title_style_has_no_title_and_its_first_line_stays():
    assert read_docx(build_docx(p(r("青山镇工作计划")) + p(r("一、总体要求")), styles=STYLES)).title is None
    assert docx_to_text(build_docx(p(r("青山镇工作计划")), styles=STYLES)) == "青山镇工作计划"


# --- bounds and other formats ------------------------------------------------------------------


def test_three_million_empty_paragraphs_are_refused_at_once():
    bomb = build_docx("<w:p/>" * 3_000_000)

    assert len(bomb) < 64 * 1024
    with pytest.raises(ContentError) as error:
        import_docx(bomb)
    assert error.value.reason == "docx_too_complex"


def test_too_many_elements_are_refused_while_parsing():
    rng = random.Random(9)
    # Random attributes: not compressible enough to trip the ratio check, so the counter stops it.
    body = "".join(f'<w:p w:rsidR="{rng.getrandbits(32):08X}"/>' for _ in range(450_000))
    data = build_docx(body)
    with zipfile.ZipFile(__import__("io").BytesIO(data)) as archive:
        info = archive.getinfo("word/document.xml")
    assert info.file_size < 100 * info.compress_size

    with pytest.raises(ContentError) as error:
        import_docx(data)
    assert error.value.reason == "docx_too_complex"


def test_a_huge_compression_ratio_is_refused_before_parsing():
    data = build_docx(p(r("正文。" + " " * 20_000_000)))

    with pytest.raises(ContentError) as error:
        import_docx(data)
    assert error.value.reason == "docx_too_complex"


@pytest.mark.parametrize("data, extension", [
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, ".doc/.wps/.et"),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", ".pdf"),
    (b"{\\rtf1\\ansi text}", ".rtf"),
])
def test_other_formats_are_named(data, extension):
    with pytest.raises(ContentError) as error:
        import_docx(data)
    assert (error.value.reason, error.value.params) == ("docx_other_format", {"format": extension})


def test_a_zip_without_a_document_part_is_unreadable():
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
    with pytest.raises(ContentError) as error:
        import_docx(buffer.getvalue())
    assert error.value.reason == "docx_unreadable"
