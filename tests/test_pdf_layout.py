"""Layout that never embarrasses (issue 8, item 5): Latin words, numbers and URLs break only
at allowed points and are never letter-spaced; titles break between words into the GB/T 9704
trapezoid or diamond; keep-with-next, widow and orphan control at every page break; the
signature block never on a page without text (a one-paragraph report keeps text and
signature on page 1); annexes after the signature block, each on a page of its own.

Checked on real PDFs with poppler (``pdftotext``, ``-bbox``), and, for the pagination rules
over many generated outlines, on the typesetter's composition (every page break)."""
from __future__ import annotations

import datetime
import itertools
import random
import re
from pathlib import Path

import pytest

from pdf import layout as L
from pdf import linebreak as LB
from pdf.fonts import FontConfig, load_fonts
from pdf.render import RenderInput, render_report
from pdf.typeset import compose
from tests.pdf_helpers import TextLine, paragraph_input, poppler, squash, text_lines

URL = "https://www.example.gov.cn/path/to/a/very/long/document?id=12345"
WORDS = ["GDP", "5G", "7.5%", "1,234,567", "internationalization", "interoperability", "counterrevolutionaries"]


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("layout")


@pytest.fixture(scope="module")
def fonts():
    return load_fonts(FontConfig.default())


def latin_paragraphs() -> list[str]:
    """The same mixed sentence shifted one to three characters at a time, so that every
    word and every piece of the URL comes to the end of a line somewhere."""
    sentence = ("全镇GDP增长7.5%，5G基站新建12个，投资1,234,567元，详见" + URL
                + "。参照 internationalization 与 interoperability 的要求，counterrevolutionaries 一词不拆。")
    return ["字" * k + sentence + "后续文字" * 4 for k in range(0, 28, 2)]


@pytest.fixture(scope="module")
def latin_pdf(out_dir) -> Path:
    return write(out_dir / "latin.pdf", render_report(paragraph_input(*latin_paragraphs())).data)


def body_lines(path: Path, paragraphs: list[str]) -> list[TextLine]:
    """The lines of ``paragraphs`` as poppler reads them, in order; poppler's pieces of one
    line (it splits a line at a wide space) joined again."""
    joined = squash("".join(paragraphs))
    merged: dict[tuple[int, float], list[TextLine]] = {}
    for line in text_lines(path):
        merged.setdefault((line.page, round(line.y_min, 1)), []).append(line)
    lines = []
    for (page, y), pieces in merged.items():
        pieces.sort(key=lambda piece: piece.x_min)
        text = "".join(piece.text for piece in pieces)
        if len(squash(text)) > 3 and squash(text) in joined:
            lines.append(TextLine(page, pieces[0].x_min, y, pieces[-1].x_max, pieces[0].y_max, text))
    return lines


def test_pdftotext_reads_latin_words_numbers_and_urls_without_stray_spaces(latin_pdf):
    text = poppler("pdftotext", latin_pdf, "-")
    assert not re.findall(r"[A-Za-z0-9%.,/?=&:-] [A-Za-z0-9%.,/?=&:-]", text)
    flat = squash(text)
    for paragraph in latin_paragraphs():
        assert squash(paragraph) in flat
    lines = [line.text for line in body_lines(latin_pdf, latin_paragraphs())]
    for word in WORDS:  # every word whole on one line, every time it occurs
        assert sum(line.count(word) for line in lines) == len(latin_paragraphs()), word


def test_a_line_breaks_inside_a_url_only_after_an_allowed_character(latin_pdf):
    lines = body_lines(latin_pdf, latin_paragraphs())
    breaks_in_url = 0
    for this, nxt in itertools.pairwise(lines):
        tail = re.search(r"[!-~]*$", this.text).group()
        head = re.match(r"[!-~]*", nxt.text).group()
        if tail and head and tail + head in URL:
            assert tail[-1] in LB.URL_BREAK_AFTER and not (tail[-1] == "/" and head[0] == "/"), (tail, head)
            breaks_in_url += 1
        else:
            assert not any(tail + head in word for word in WORDS if tail and head), (tail, head)
    assert breaks_in_url >= 5


def test_latin_words_are_not_letter_spaced_and_full_lines_reach_the_right_edge(latin_pdf, fonts):
    words = poppler("pdftotext", "-bbox", latin_pdf, "-")
    body = fonts["body"]
    checked = 0
    for word in ("internationalization", "interoperability", "counterrevolutionaries"):
        natural = sum(body.advance(ch, L.BODY_SIZE) + L.BODY_CHAR_SPACE for ch in word)
        for x_min, x_max in re.findall(rf'xMin="([\d.]+)"[^>]*xMax="([\d.]+)"[^>]*>{word}</word>', words):
            assert abs((float(x_max) - float(x_min)) - natural) < 1.0, word
            checked += 1
    assert checked >= len(latin_paragraphs())
    lines = body_lines(latin_pdf, latin_paragraphs())
    for line in lines:
        if not line.text.endswith("后续文字"):  # every line but a paragraph's last is full
            assert abs(line.x_max - L.TYPE_RIGHT) < 1.5, line.text


def test_justification_never_widens_a_gap_inside_a_word(fonts):
    glyphs = [(ch, fonts["body"], fonts["body"].advance(ch, 16)) for ch in "参照GDP与5G和www.gov.cn/a要求"]
    gaps = LB.justify_gaps(glyphs, sum(g[2] for g in glyphs) + 12.0, 16)
    text = "".join(g[0] for g in glyphs)
    for i, gap in enumerate(gaps[:-1]):
        if LB.is_latin(text[i]) and LB.is_latin(text[i + 1]):
            assert gap == 0, text[i:i + 2]
        else:
            assert gap > 0, text[i:i + 2]
    assert abs(sum(gaps) - 12.0) < 1e-6


def test_halfwidth_punctuation_prints_as_typed(out_dir):
    # The editor offers the conversion (workflow.checks' halfwidth_punctuation); the
    # renderer never changes signed content on its own.
    path = write(out_dir / "halfwidth.pdf", render_report(paragraph_input("完成任务,成效明显;群众满意。")).data)
    assert "完成任务,成效明显;群众满意。" in squash(poppler("pdftotext", path, "-"))


# ---- titles -----------------------------------------------------------------------------------

TITLES = [
    "关于青山镇2026年第四季度乡村振兴工作情况的报告",
    "关于青山镇2026年度深化农村综合改革和推进城乡融合发展重点工作安排的报告",
    "关于青山镇2026年第四季度深化农村综合改革推进城乡融合发展和全面实施乡村振兴战略重点工作安排情况的报告",
]


@pytest.mark.parametrize("title", TITLES)
def test_titles_break_between_words_into_a_trapezoid_or_diamond(out_dir, title):
    path = write(out_dir / "title.pdf", render_report(paragraph_input("正文。", title=title)).data)
    lines = [line for line in text_lines(path)
             if line.page == 0 and len(line.text) > 1 and line.text in title and line.text != "青山镇"]
    assert "".join(line.text for line in lines) == title
    assert len(lines) == (3 if len(title) > 2 * L.TITLE_MAX_CHARS else 2)
    words = LB.title_words(title)
    ends = {sum(len(w) for w in words[:n]) for n in range(1, len(words))}
    cut = 0
    for line in lines[:-1]:
        cut += len(line.text)
        assert cut in ends, (line.text, words)
    assert "第四季度" in "|".join(line.text for line in lines) or "第四季度" not in title
    widths = [line.x_max - line.x_min for line in lines]
    step = L.TITLE_SIZE / 2  # a visible step: not a rectangle
    if len(widths) == 2:
        assert widths[0] + step <= widths[1]  # 上短下长
    else:
        trapezoid = widths[0] + step <= widths[1] and widths[1] + step <= widths[2]
        diamond = widths[0] + step <= widths[1] and widths[2] + step <= widths[1]
        assert trapezoid or diamond, widths
    for line in lines:
        assert abs((line.x_min + line.x_max) / 2 - (L.TYPE_LEFT + L.TYPE_WIDTH / 2)) < 2


def test_the_segmenter_is_loaded_once_per_process(out_dir):
    render_report(paragraph_input("正文。", title=TITLES[0]))
    tokenizer = LB._tokenizer
    assert tokenizer is not None
    render_report(paragraph_input("正文。", title=TITLES[1]))
    assert LB._tokenizer is tokenizer


# ---- pagination ---------------------------------------------------------------------------------

def generated_outline(seed: int) -> dict:
    """Sections and subsections with headings of one or two lines and paragraphs of one to
    nine lines, in a different mix per seed."""
    rng = random.Random(seed)
    sections = []
    for n in "一二三四五六":
        children = [{"number": f"（{m}）", "level": 2,
                     "heading": "具体做法" * rng.choice([1, 1, 1, 8]),
                     "paragraphs": ["扎实推进各项工作，" * rng.randint(2, 25) for _ in range(rng.randint(1, 3))]}
                    for m in "一二三"[:rng.randint(0, 3)]]
        sections.append({"number": f"{n}、", "level": 1, "heading": "工作情况",
                         "paragraphs": ["围绕年度目标任务，" * rng.randint(2, 28) for _ in range(rng.randint(0, 3))],
                         "children": children})
    return {"preamble": ["现将有关情况报告如下。" * rng.randint(1, 6)], "sections": sections,
            "closing": ["特此报告。"]}


def report(outline: dict, **overrides) -> RenderInput:
    values = dict(title="关于青山镇2026年第四季度乡村振兴工作情况的报告", outline=outline, issuer="示范区人民政府",
                  town="青山镇", date=datetime.date(2026, 1, 5), doc_number="示范区〔2026〕3号",
                  verify_url="http://127.0.0.1:5000/verify?a=0003")
    values.update(overrides)
    return RenderInput(**values)


def page_body(page) -> list:
    return [placed.line for placed in page if placed.line.body]


def test_no_heading_orphan_or_widow_at_any_page_break(fonts):
    breaks = moved = 0
    for seed in range(40):
        composed = compose(report(generated_outline(seed)), fonts)
        pages = [page_body(page) for page in composed.pages]
        for this, nxt in itertools.pairwise(pages):
            if not this or not nxt:
                continue
            last, first = this[-1], nxt[0]
            assert not last.keep_with_next, (seed, "heading at the foot of a page")
            assert not (last.para_first and not last.para_last), (seed, "orphan")
            assert not (first.para_last and not first.para_first), (seed, "widow")
            breaks += 1
        moved += sum(1 for page in composed.pages[1:-1] if len(page_body(page)) < L.LINES_PER_PAGE)
        assert composed.signature_page < len(composed.pages)
        assert page_body(composed.pages[composed.signature_page]), (seed, "signature without text")
    assert breaks > 100 and moved > 10  # the rules had work to do


def test_a_heading_never_ends_a_page_of_a_long_report(out_dir):
    outline = generated_outline(7)
    result = render_report(report(outline))
    assert result.pages >= 4
    path = write(out_dir / "long.pdf", result.data)
    headings = {s["number"] + s["heading"] for s in outline["sections"]}
    headings |= {c["number"] + c["heading"][:10] for s in outline["sections"] for c in s["children"]}
    for page in range(result.pages - 1):
        lines = [line for line in text_lines(path) if line.page == page and not re.fullmatch(r"—\d+—", line.text)]
        assert not any(lines[-1].text.startswith(h) for h in headings), lines[-1].text


@pytest.mark.parametrize("repeat", [1, 2, 3, 4, 5, 6, 8, 12])
def test_a_one_paragraph_report_has_text_on_every_page_with_the_signature(fonts, repeat):
    doc = report({"preamble": ["今年以来，我镇全面推进乡村振兴各项工作，GDP增长7.5%，取得了明显成效。" * repeat]})
    composed = compose(doc, fonts)
    signature = composed.signature_page
    assert page_body(composed.pages[0])
    assert page_body(composed.pages[signature])
    if repeat <= 2:  # up to four lines: text and signature block together on page 1
        assert signature == 0
    for page in composed.pages[:signature + 1]:
        assert page_body(page)


def test_a_short_report_prints_its_text_and_signature_on_page_1(out_dir, fonts):
    text = ("今年以来，我镇坚持以习近平新时代中国特色社会主义思想为指导，全面推进乡村振兴各项工作，"
            "全镇GDP增长7.5%，取得了明显成效。特此报告。")
    result = render_report(report({"preamble": [text]}))
    path = write(out_dir / "short.pdf", result.data)
    assert result.seal_box[0] == 0
    page1 = [line.text for line in text_lines(path) if line.page == 0]
    assert squash(text) in squash("".join(page1)) and "2026年1月5日" in page1 and "示范区人民政府" in page1
    # The seal stays clear of the page number (its box) and within a line of the type area's foot.
    composed = compose(report({"preamble": [text]}), fonts)
    number = composed.page_numbers[0]
    left = number.x
    right = number.x + sum(number.font.advance(ch, L.PAGE_NUMBER_SIZE) for ch in number.text)
    top = number.y + L.EM_ASCENT * L.PAGE_NUMBER_SIZE
    seal = composed.seal
    nearest_x = min(max(seal.cx, left), right)
    nearest_y = min(max(seal.cy, number.y), top)
    assert (seal.cx - nearest_x) ** 2 + (seal.cy - nearest_y) ** 2 > L.SEAL_RADIUS ** 2
    assert seal.cy - L.SEAL_RADIUS > L.TYPE_BOTTOM - L.LINE_PITCH


# ---- annexes ----------------------------------------------------------------------------------------

ANNEX = ["附件：1. 2024年度重点项目清单", "2. 2024年度资金使用情况表",
         "附件1", "2024年度重点项目清单", "青石路改造，投资300万元。",
         "附件2", "2024年度资金使用情况表", "全年使用衔接资金520万元。"]


def test_annexes_follow_the_signature_block_each_on_a_page_of_its_own(out_dir, fonts):
    outline = {"preamble": ["现将有关情况报告如下。"], "sections": [], "closing": ["特此报告。"], "annex": ANNEX}
    result = render_report(report(outline))
    path = write(out_dir / "annex.pdf", result.data)
    lines = text_lines(path)
    seal_page = result.seal_box[0]

    def find(text: str):
        [found] = [line for line in lines if line.text == text]
        return found

    note, second, date = find("附件：1.2024年度重点项目清单"), find("2.2024年度资金使用情况表"), find("2026年1月5日")
    assert note.page == second.page == date.page == seal_page and note.y_min < second.y_min < date.y_min
    assert abs(second.x_min - (note.x_min + 3 * L.CHAR_PITCH)) < 1.0  # aligned with the first name
    for label, title, page in (("附件1", "2024年度重点项目清单", seal_page + 1),
                               ("附件2", "2024年度资金使用情况表", seal_page + 2)):
        head, heading = find(label), find(title)
        assert head.page == heading.page == page
        assert abs(head.x_min - L.TYPE_LEFT) < 1.0 and abs(head.y_min - (L.MARGIN_TOP + (L.LINE_PITCH - 16) / 2)) < 3
        assert abs((heading.x_min + heading.x_max) / 2 - (L.TYPE_LEFT + L.TYPE_WIDTH / 2)) < 2
        assert 2 * L.LINE_PITCH < heading.y_min - L.MARGIN_TOP < 3 * L.LINE_PITCH
    assert find("报送单位：青山镇").page == result.pages - 1 == seal_page + 2
    composed = compose(report(outline), fonts)
    labels = [placed.line for page in composed.pages for placed in page
              if "".join(g[0] for g in placed.line.glyphs) == "附件1"]
    assert [line.style.role for line in labels] == ["heiti"]


def test_a_note_without_annex_text_stays_before_the_signature(fonts):
    outline = {"preamble": ["现将有关情况报告如下。"], "annex": ["附件：1.项目清单", "2.投资估算表"]}
    composed = compose(report(outline), fonts)
    texts = ["".join(g[0] for g in placed.line.glyphs) for placed in composed.pages[composed.signature_page]]
    assert "附件：1.项目清单" in texts and "2.投资估算表" in texts
    assert composed.signature_page == len(composed.pages) - 1 or not any(
        page_body(page) for page in composed.pages[composed.signature_page + 1:])


# ---- fonts ----------------------------------------------------------------------------------------

def test_the_converted_noto_title_face_is_the_default_when_present_else_emboldened_uming(monkeypatch, tmp_path):
    from pdf import fonts as F

    monkeypatch.setattr(F, "NOTO_TITLE", tmp_path / "absent.ttf")
    fallback = FontConfig.default().title
    assert fallback.path.endswith("uming.ttc") and fallback.embolden > 0
    made = tmp_path / "NotoSerifCJKsc-Bold.ttf"
    made.write_bytes(Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc").read_bytes()[:4])
    monkeypatch.setattr(F, "NOTO_TITLE", made)
    title = FontConfig.default().title
    assert (title.path, title.embolden) == (str(made), 0.0)
    assert FontConfig.default().body.path.endswith("uming.ttc")  # no free 仿宋: the body face stays
