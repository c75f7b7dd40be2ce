"""Typesetting: a report's text set into lines and pages on the GB/T 9704-2012 grid.

The page is set by a small typesetter of our own rather than by ReportLab's platypus:
the standard's fixed grid (22 lines × 28 characters), Chinese line-breaking rules
(禁则: closing punctuation never starts a line, opening punctuation never ends one) and
justification to the grid are simpler and much faster to get exactly right that way.
User text never reaches ReportLab's ``Paragraph`` markup parser at all (so
``<img src=…>`` cannot embed a local file and ``<b>`` or ``&nbsp;`` print literally): it
is measured glyph by glyph here, after :func:`pdf.fonts.clean_text` has dropped control
and format characters, and drawn glyph by glyph by ``pdf.draw``.

:func:`compose` turns a :class:`RenderInput` into a :class:`Composition`: every line with
its font, position and baseline, page by page, plus the positions of the rules, the QR
code, the seal and the page numbers. Nothing here touches a canvas, and every number
comes from ``pdf.layout``.

Tables (an outline's ``tables``, see ``workflow.outline``) leave the grid while they last: a
table starts at the top of a grid line, its rows take the height their cells need, and the
text after it resumes on the next whole grid line. Rows never split across pages unless one
is taller than a page; the header rows repeat at the top of every page the table runs onto.

Where lines break (禁则, whole Latin words and numbers, URLs at their separators, titles at
word boundaries) and how a line is justified is ``pdf.linebreak``'s. Pagination is here:
:func:`_paginate` with :func:`_carry_count` (keep-with-next, widows, orphans),
:func:`_place_signature` (the signature block on a page with text) and
:func:`_place_annexes_and_footer` (附件 after the signature block, the 版记 on the last page).
"""
from __future__ import annotations

import datetime
import math
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from . import layout as L
from . import linebreak as LB
from .fonts import LoadedFont, clean_text

__all__ = ["ApprovalMark", "Composition", "Line", "Placed", "RenderInput", "Rule", "Style", "TableBlock",
           "chinese_date", "compose"]


@dataclass(frozen=True)
class ApprovalMark:
    """The district's approval of a town's 上行文, printed as a mark of its own."""

    issuer: str  # the district's issuing name, e.g. "示范区人民政府" (also on its seal)
    opinion: str  # 审核意见, e.g. "同意。"
    date: datetime.date  # the district's approval date


@dataclass
class RenderInput:
    """Everything printed in a published report. All strings are untrusted user text."""

    title: str
    outline: dict
    issuer: str  # 发文机关: the town's issuing name (上行文), e.g. "青山镇人民政府"
    town: str  # the reporting town, e.g. "青山镇"
    date: datetime.date  # 成文日期 (the issuer's approval date)
    doc_number: str | None = None  # 发文字号, e.g. "青政〔2026〕3号"
    archive_no: str | None = None  # printed in the 版记 and stored in the Info dict
    verify_url: str | None = None  # the QR code's target
    fonts: Any = None  # a pdf.fonts.FontConfig; None: the default faces
    report_id: int | None = None  # stored in the Info dict for verification
    audit_head: str | None = None  # the hash of the report's audit chain at publication (its first 16 hex printed)
    # 上行文 (a town's report to the district): with ``addressee`` the 发文字号 goes left with
    # the 签发人 right on its line, the 主送机关 under the title, and ``approval`` is the
    # district's mark beside the signature block.
    signer: str | None = None  # 签发人: the town reviewer who approved
    addressee: str | None = None  # 主送机关: the district's issuing name ("：" is added)
    approval: ApprovalMark | None = None


def chinese_date(date: datetime.date) -> str:
    """``2026年1月5日``: Arabic numerals, no zero padding (GB/T 9704-2012 §7.3.5)."""
    return f"{date.year}年{date.month}月{date.day}日"


# Printed words of the 版记 and the verification note (the document's own language).
IMPRINT_TOWN = "报送单位：{}"
IMPRINT_ARCHIVE_NO = "归档编号：{}"
IMPRINT_ISSUED = "{}印发"
SIGNER_LABEL = "签发人："  # 上行文: before the 签发人's name, on the 发文字号's line
ADDRESSEE = "{}："  # 主送机关, flush left under the title
APPROVAL_OPINION = "审核意见：{}"  # the district's approval mark
IMPRINT_APPROVER = "审核机关：{}"  # 版记 of a 上行文: the approving district (its archive number beside it)
QR_NOTE = "扫描二维码或访问以下地址，核验本文件的电子签名与内容是否完整："
AUDIT_CHAIN = "审计链 {}"  # under the address: the report's audit chain head, to compare with verify-audit


# ---- styles -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Style:
    role: str  # font role: body / heiti / kaiti / title
    size: float
    char_space: float  # added to every glyph's advance (Tc)


_BODY = Style("body", L.BODY_SIZE, L.BODY_CHAR_SPACE)
_HEITI = Style("heiti", L.BODY_SIZE, L.BODY_CHAR_SPACE)
_KAITI = Style("kaiti", L.BODY_SIZE, L.BODY_CHAR_SPACE)
_TITLE = Style("title", L.TITLE_SIZE, L.TITLE_CHAR_SPACE)
_IMPRINT = Style("body", L.PAGE_NUMBER_SIZE, 0.0)
_SMALL = Style("body", L.SMALL_SIZE, 0.0)

_CN_DIGITS = "一二三四五六七八九十百零〇"


def _heading_style(number: str, level: int) -> Style:
    """The face a heading is set in, from how it is numbered (GB/T 9704-2012 §7.3.3:
    一、 黑体, (一) 楷体, 1. and (1) 仿宋); by depth when the numbering is unusual."""
    n = number.strip()
    if n.endswith("、") and n[:-1] and all(c in _CN_DIGITS for c in n[:-1]):
        return _HEITI
    if len(n) > 2 and n[0] in "(（" and n[-1] in ")）":
        inner = n[1:-1]
        if inner and all(c in _CN_DIGITS for c in inner):
            return _KAITI
        if inner.isdigit():
            return _BODY
    if n.rstrip(".．、") and n.rstrip(".．、").isdigit():
        return _BODY
    return {1: _HEITI, 2: _KAITI}.get(level, _BODY)


# ---- line breaking (see pdf.linebreak) ------------------------------------------------------

Glyph = LB.Glyph


@dataclass
class Line:
    glyphs: list[Glyph]
    style: Style
    x: float  # left edge, PDF x
    width: float  # the measure the line is set in
    justify: bool  # spread to ``width`` (every paragraph line but the last)
    keep_with_next: bool = False
    embolden: float = 0.0
    red: bool = False
    body: bool = False  # part of the report's text (not the title or town line)
    # Where the line stands in its paragraph (widow and orphan control, see _carry_count).
    para_first: bool = True
    para_last: bool = True
    annex_note: bool = False  # a line of the 附件说明 (moves with the signature block)

    def natural_width(self) -> float:
        return sum(g[2] for g in self.glyphs)

    def gaps(self) -> list[float]:
        """The extra space after each glyph (justification; see ``pdf.linebreak``)."""
        if not self.justify:
            return [0.0] * len(self.glyphs)
        return LB.justify_gaps(self.glyphs, self.width, self.style.size)

    def positions(self) -> list[float]:
        """The x of each glyph's origin as drawn."""
        return LB.positions(self.x, self.glyphs, self.gaps())


class Typesetter:
    """Turns styled text into lines on the grid. One per render (holds the fonts)."""

    def __init__(self, fonts: dict[str, LoadedFont]):
        self.fonts = fonts
        self.body = fonts["body"]

    def glyphs(self, text: str, style: Style) -> list[Glyph]:
        font = self.fonts[style.role]
        body = self.body
        size, cs = style.size, style.char_space
        out: list[Glyph] = []
        for ch in text:
            # A heading face lacking a character borrows the body face's; the body face's
            # coverage is what missing_glyphs() checks before submission.
            f = font if ord(ch) in font.cmap or font is body else body
            out.append((ch, f, f.widths.get(ord(ch), f.default_width) * size / 1000.0 + cs))
        return out

    @staticmethod
    def units(glyphs: list[Glyph], text: str, keep_words: bool = True) -> list[list[Glyph]]:
        """Break units: see :func:`pdf.linebreak.units`."""
        return LB.units(glyphs, text, keep_words)

    def break_lines(self, glyphs: list[Glyph], text: str, first: float, rest: float,
                    keep_words: bool = True) -> list[list[Glyph]]:
        """Greedy line filling: see :func:`pdf.linebreak.break_lines`."""
        return LB.break_lines(glyphs, text, first, rest, keep_words)

    def paragraph(self, spans: list[tuple[str, Style]], keep_with_next: bool = False
                  ) -> list[Line]:
        """A justified paragraph with a two-character first-line indent. ``spans`` lets a
        run-in heading share its first line with the paragraph text."""
        text = ""
        glyphs: list[Glyph] = []
        for span_text, style in spans:
            t = clean_text(span_text)
            if not t:
                continue
            if text and text[-1].isascii() and text[-1].isalnum() and t[0].isascii():
                t = " " + t
            glyphs.extend(self.glyphs(t, style))
            text += t
        if not glyphs:
            return []
        indent = L.PARAGRAPH_INDENT_CHARS * L.CHAR_PITCH
        broken = LB.break_paragraph(glyphs, text, L.TYPE_WIDTH - indent, L.TYPE_WIDTH, L.BODY_SIZE)
        style = spans[0][1]
        lines = []
        for i, line_glyphs in enumerate(broken):
            x = L.TYPE_LEFT + (indent if i == 0 else 0.0)
            lines.append(Line(line_glyphs, style, x, L.TYPE_RIGHT - x,
                               justify=i < len(broken) - 1, body=True,
                               para_first=i == 0, para_last=i == len(broken) - 1,
                               keep_with_next=keep_with_next))
        return lines

    def centred(self, text: str, style: Style, max_width: float, balanced: bool = False,
                embolden: float = 0.0, red: bool = False) -> list[Line]:
        """Centred lines (title, town); ``balanced`` breaks a long text at word boundaries
        into GB/T 9704's trapezoid (上短下长) or diamond shape (:func:`pdf.linebreak.title_breaks`),
        else (four lines or more) into lines of similar length, not full lines and a stub."""
        text = clean_text(text)
        if not text:
            return []
        glyphs = self.glyphs(text, style)
        total = sum(g[2] for g in glyphs)
        measure = max_width
        broken: list[list[Glyph]] | None = None
        if balanced and total > max_width:
            count = math.ceil(total / max_width)
            broken = LB.title_breaks(glyphs, text, max_width, style.size)
            if broken is None:
                measure = min(max_width, total / count + style.size * L.TITLE_BALANCE_STEP_EM)
                while len(self.break_lines(glyphs, text, measure, measure)) > count and measure < max_width:
                    measure = min(max_width, measure + style.size * L.TITLE_BALANCE_STEP_EM)
        if broken is None:
            broken = self.break_lines(glyphs, text, measure, measure)
        lines = []
        for line_glyphs in broken:
            visual = sum(g[2] for g in line_glyphs) - style.char_space
            x = L.TYPE_LEFT + (L.TYPE_WIDTH - visual) / 2
            lines.append(Line(line_glyphs, style, x, visual, justify=False,
                               embolden=embolden, red=red))
        return lines

    def table(self, rows: list[list[str]], header_rows: int) -> TableBlock:
        """A table set for the page (see :func:`_table`)."""
        return _table(self, rows, header_rows)

    def single(self, text: str, style: Style) -> Line:
        """One unbroken line (signature block, 版记), positioned by the caller."""
        glyphs = self.glyphs(clean_text(text), style)
        return Line(glyphs, style, 0.0, sum(g[2] for g in glyphs), justify=False)


def _rstrip(glyphs: list[Glyph]) -> list[Glyph]:
    end = len(glyphs)
    while end and glyphs[end - 1][0] == " ":
        end -= 1
    return glyphs[:end]


def _visual_width(line: Line) -> float:
    return line.natural_width() - line.style.char_space

# ---- the outline, on the grid ---------------------------------------------------------------

@dataclass
class _Page:
    rows: list[tuple[int, Line]] = field(default_factory=list)  # (grid line, line)
    placed: list[Placed] = field(default_factory=list)  # table text, at absolute baselines
    rules: list[Rule] = field(default_factory=list)  # table rules
    table_end: int = -1  # the first grid line after the last table on the page (-1: none)


def _texts(value: Any) -> list[str]:
    """Paragraph texts from an outline field, tolerating a bare string or stray values."""
    if isinstance(value, str):
        return [value]
    if not isinstance(value, (list, tuple)):
        return []
    return [v if isinstance(v, str) else str(v) for v in value
            if isinstance(v, (str, int, float)) and not isinstance(v, bool)]


def _section_lines(ts: Typesetter, root: dict, out: list[Flow]) -> None:
    """The lines of a section and its descendants, depth first. Iterative: an outline is
    user data, and a deeply nested one must not exhaust the interpreter's stack."""
    stack: list[tuple[dict, int]] = [(root, 1)]
    while stack:
        section, depth = stack.pop()
        number = str(section.get("number") or "")
        heading = str(section.get("heading") or "")
        level = section.get("level")
        style = _heading_style(number, level if isinstance(level, int) else depth)
        paragraphs = _texts(section.get("paragraphs"))
        tables = _tables_of(section.get("tables"))
        head = number + heading
        if section.get("run_in") and paragraphs and clean_text(head):
            out.extend(ts.paragraph([(head, style), (paragraphs[0], _BODY)]))
            paragraphs = paragraphs[1:]
            tables = [(max(0, at - 1), table) for at, table in tables]
        elif clean_text(head):
            out.extend(ts.paragraph([(head, style)], keep_with_next=True))
        _paragraphs_and_tables(ts, paragraphs, tables, out)
        children = [c for c in (section.get("children") or []) if isinstance(c, dict)]
        stack.extend((child, depth + 1) for child in reversed(children))


def _body_lines(ts: Typesetter, outline: dict) -> list[Flow]:
    lines: list[Flow] = []
    outline = outline if isinstance(outline, dict) else {}
    _paragraphs_and_tables(ts, _texts(outline.get("preamble")), _tables_of(outline.get("preamble_tables")),
                           lines)
    for section in outline.get("sections") or []:
        if isinstance(section, dict):
            _section_lines(ts, section, lines)
    for text in _texts(outline.get("closing")):
        lines.extend(ts.paragraph([(text, _BODY)]))
    note, _ = _split_annex(_texts(outline.get("annex")))
    if note:  # 附件说明: under the text after a blank grid line, before the signature block
        lines.append(None)
        lines.extend(_annex_note(ts, note))
    return lines


# ---- annexes (附件) ---------------------------------------------------------------------------

_ANNEX_NOTE = re.compile(r"^附件\s*[：:]")
_ANNEX_ITEM = re.compile(r"^\d+\s*[.．、]")
_ANNEX_LABEL = re.compile(r"^附件\s*[0-9０-９一二三四五六七八九十]*\s*$")
ANNEX_LABEL = "附件"


def _split_annex(items: list[str]) -> tuple[list[str], list[list[str]]]:
    """An outline's ``annex`` (as the importer keeps it: ``附件：1. 名称``, ``2. 名称`` …, then
    each annex as ``附件1``, its title and its text) split into the 附件说明 (the list printed
    before the signature block) and the annexes themselves (each: label, title, paragraphs).
    Text after the list without a ``附件N`` label is one annex labelled ``附件``."""
    items = [clean_text(t) for t in items if clean_text(t)]
    note: list[str] = []
    i = 0
    if items and _ANNEX_NOTE.match(items[0]):
        note.append(items[0])
        i = 1
        while i < len(items) and _ANNEX_ITEM.match(items[i]):
            note.append(items[i])
            i += 1
    annexes: list[list[str]] = []
    for text in items[i:]:
        if _ANNEX_LABEL.match(text) or not annexes:
            annexes.append([text] if _ANNEX_LABEL.match(text) else [ANNEX_LABEL, text])
        else:
            annexes[-1].append(text)
    return note, annexes


def _annex_note(ts: Typesetter, note: list[str]) -> list[Line]:
    """附件说明: 左空二字 "附件：" and the first name; every further name aligned with the
    first name's first character (GB/T 9704-2012 §7.3.4), long names wrapping there too.
    The list is kept together like one paragraph."""
    label = _ANNEX_NOTE.match(note[0])
    head = note[0][:label.end()] if label else ""
    indent = L.PARAGRAPH_INDENT_CHARS * L.CHAR_PITCH
    hang = indent + sum(g[2] for g in ts.glyphs(head, _BODY))
    lines: list[Line] = []
    for n, text in enumerate(note):
        glyphs = ts.glyphs(text, _BODY)
        first = indent if n == 0 else hang
        broken = ts.break_lines(glyphs, text, L.TYPE_WIDTH - first, L.TYPE_WIDTH - hang)
        for k, line_glyphs in enumerate(broken):
            x = L.TYPE_LEFT + (first if k == 0 else hang)
            lines.append(Line(line_glyphs, _BODY, x, L.TYPE_RIGHT - x, justify=k < len(broken) - 1, body=True,
                              para_first=False, para_last=False, annex_note=True))
    lines[0].para_first = True
    lines[-1].para_last = True
    for line in lines[:-1]:
        line.keep_with_next = len(lines) <= 4  # a short list never splits
    return lines


def _annexes(ts: Typesetter, outline: Any, embolden: float = 0.0) -> list[list[Flow]]:
    """Each annex as a flow of grid lines for pages of its own: "附件N" in 黑体 at the top
    left (the first grid line), the title centred on the third, a blank line, the text."""
    if not isinstance(outline, dict):
        return []
    _, annexes = _split_annex(_texts(outline.get("annex")))
    out = []
    for label, *rest in annexes:
        flows: list[Flow] = []
        head = ts.single(label, _HEITI)
        head.x, head.body = L.TYPE_LEFT, True
        flows.extend([head, None])
        if rest:
            title, *paragraphs = rest
            flows.extend(ts.centred(title, _TITLE, L.TITLE_MAX_CHARS * L.TITLE_SIZE, balanced=True,
                                    embolden=embolden))
            flows.append(None)
            for text in paragraphs:
                flows.extend(ts.paragraph([(text, _BODY)]))
        out.append(flows)
    return out


def _paginate(rows: list[Flow], first_band: int) -> list[_Page]:
    """Place rows (None = a blank grid line) on the 22-line grid; tables row by row. At
    each page break the last lines of the full page move to the next one when a heading
    would stand alone at its foot (keep-with-next), a paragraph's first line would (orphan)
    or a paragraph's last line would open the next page alone (widow): see :func:`_carry_count`."""
    pages = [_Page()]
    band = first_band
    for row in rows:
        if isinstance(row, TableBlock):
            band = _place_table(row, pages, band)
            continue
        if row is None:
            if 0 < band < L.LINES_PER_PAGE:  # a blank line never opens a page
                band += 1
            continue
        if band >= L.LINES_PER_PAGE:
            pages.append(_carry(pages[-1], _carry_count(pages[-1], row)))
            band = pages[-1].rows[-1][0] + 1 if pages[-1].rows else 0
        pages[-1].rows.append((band, row))
        band += 1
    return pages


def _carry(page: _Page, count: int) -> _Page:
    """A new page holding ``page``'s last ``count`` lines from its first grid line, the blank
    lines between them kept."""
    if not count:
        return _Page()
    moved = page.rows[len(page.rows) - count:]
    del page.rows[len(page.rows) - count:]
    top = moved[0][0]
    return _Page([(band - top, line) for band, line in moved])


def _carry_count(page: _Page, following: Line | None, at_least: int = 0) -> int:
    """How many of ``page``'s last lines move to the next page, whose first line would be
    ``following`` (None: a page of its own, e.g. for the signature block): at least
    ``at_least``, and more while a heading would stay last on the page, a paragraph's first
    line would stay alone at its foot or a paragraph's last line would go alone to the next
    page. Only body lines after the page's last table move, and never all of the page's body
    text: when the rules would ask that, ``at_least`` is lowered until some stays (0 at worst)."""
    for need in range(at_least, -1, -1):
        count = _carry_rules(page, following, need)
        if count == 0 or any(line.body for _, line in page.rows[:len(page.rows) - count]) or page.table_end >= 0:
            return count
    return 0


def _carry_rules(page: _Page, following: Line | None, at_least: int) -> int:
    rows = page.rows
    movable = 0
    for k in range(1, len(rows) + 1):
        band, line = rows[-k]
        if band < page.table_end or not line.body:
            break
        movable = k
    count = 0
    nxt = following
    while count < movable:
        line = rows[-1 - count][1]
        orphan = not line.para_last and line.para_first
        widow = nxt is not None and not line.para_last and nxt.para_last and not nxt.para_first
        note = line.annex_note and following is None
        if not (count < at_least or line.keep_with_next or orphan or widow or note):
            break
        if note:  # the 附件说明 moves with the signature block, and the text above it too
            at_least += 1
        count += 1
        nxt = line
    return count

# ---- tables ---------------------------------------------------------------------------------

Rule = tuple[float, float, float, float]  # a thin black rule from (x1, y1) to (x2, y2)


@dataclass
class TableRow:
    """One row: each cell's lines (x already set), the row's height and whether it is a header."""

    cells: list[list[Line]]
    height: float
    header: bool


@dataclass
class TableBlock:
    """A table ready to be placed: column edges (x), header rows (repeated on every page it
    runs onto) and body rows; ``leading`` is the line pitch inside a cell."""

    edges: list[float]
    header: list[TableRow]
    body: list[TableRow]
    leading: float


Flow = Line | TableBlock | None  # a grid line, a table, or a blank grid line


def _tables_of(value: Any) -> list[tuple[int, dict]]:
    """``(at, table)`` of an outline's tables, sorted, tolerating stray values."""
    if not isinstance(value, list):
        return []
    found = [(t.get("at"), t) for t in value if isinstance(t, dict) and isinstance(t.get("rows"), list)]
    return sorted(((at if isinstance(at, int) else 0, t) for at, t in found), key=lambda item: item[0])


def _paragraphs_and_tables(ts: Typesetter, paragraphs: list[str], tables: list[tuple[int, dict]],
                           out: list[Flow]) -> None:
    """Paragraphs with each table before the paragraph it stands before."""
    pending = list(tables)
    for index, text in enumerate(paragraphs):
        while pending and pending[0][0] <= index:
            _table_flow(ts, pending.pop(0)[1], out)
        out.extend(ts.paragraph([(text, _BODY)]))
    for _, table in pending:
        _table_flow(ts, table, out)


def _table_flow(ts: Typesetter, table: dict, out: list[Flow]) -> None:
    """A table's caption (centred, 黑体, kept with the table) and the table itself."""
    rows = [[clean_text(c) if isinstance(c, str) else "" for c in row] for row in table["rows"]
            if isinstance(row, list)]
    width = max((len(row) for row in rows), default=0)
    if not width:
        return
    rows = [row + [""] * (width - len(row)) for row in rows]
    caption = table.get("caption")
    if isinstance(caption, str) and clean_text(caption):
        lines = ts.centred(caption, _HEITI, L.TYPE_WIDTH)
        for line in lines:
            line.body = True
        lines[-1].keep_with_next = True
        out.extend(lines)
    header_rows = table.get("header_rows", 1)
    header_rows = header_rows if isinstance(header_rows, int) and 0 <= header_rows <= len(rows) else 1
    out.append(ts.table(rows, header_rows))


def _water_fill(wanted: list[float], floor: list[float], total: float) -> list[float]:
    """Narrow columns get what they want, wide ones share the rest equally, none below its
    floor: the water level, found by bisection (needs ``sum(floor) <= total``)."""
    low, high = 0.0, max(wanted)
    for _ in range(50):
        level = (low + high) / 2
        if sum(min(w, max(f, level)) for w, f in zip(wanted, floor, strict=True)) > total:
            high = level
        else:
            low = level
    return [min(w, max(f, low)) for w, f in zip(wanted, floor, strict=True)]


def _column_widths(full: list[float], body: list[float], minimum: list[float], total: float) -> list[float]:
    """Column widths from the content: ``full`` the widest cell of each column on one line,
    ``body`` the same with header cells allowed three lines, ``minimum`` the widest piece
    that cannot break. What fits is spread to the full measure; else the header cells wrap
    first, then the long body cells, then (nothing fitting) every cell breaks inside words."""
    body = [max(b, m) for b, m in zip(body, minimum, strict=True)]
    full = [max(f, b) for f, b in zip(full, body, strict=True)]
    if sum(full) <= total:
        return [w * total / sum(full) for w in full]
    if sum(body) <= total:
        return _water_fill(full, body, total)
    if sum(minimum) <= total:
        return _water_fill(body, minimum, total)
    return [m * total / sum(minimum) for m in minimum]


def _table_style(role: str, size: float) -> Style:
    return Style(role, size, 0.0)


def _measure_columns(ts: Typesetter, rows: list[list[str]], header_rows: int, size: float
                     ) -> tuple[list[float], list[float], list[float]]:
    """Each column's widths, padding included: its widest cell on one line, the same with the
    header cells on three lines, and its widest unbreakable piece (at least two characters)."""
    columns = len(rows[0])
    full = [0.0] * columns
    body = [0.0] * columns
    minimum = [L.TABLE_MIN_COLUMN_EM * size] * columns
    for r, row in enumerate(rows):
        style = _table_style("heiti" if r < header_rows else "body", size)
        for j, text in enumerate(row):
            glyphs = ts.glyphs(text, style)
            width = sum(g[2] for g in glyphs)
            full[j] = max(full[j], width)
            body[j] = max(body[j], width / 3 if r < header_rows else width)
            for unit in ts.units(glyphs, text):
                minimum[j] = max(minimum[j], sum(g[2] for g in unit))
    pad = 2 * L.TABLE_PAD_X
    return [w + pad for w in full], [w + pad for w in body], [w + pad for w in minimum]


def _table(ts: Typesetter, rows: list[list[str]], header_rows: int) -> TableBlock:
    """Set a table: the size (4号, or 小四 when wide), column widths from the content, every
    cell's text broken into lines; header cells centred in 黑体, a body cell centred when it
    fits on one line, else set flush left."""
    size = L.TABLE_SIZE
    full, body, minimum = _measure_columns(ts, rows, header_rows, size)
    if len(rows[0]) >= L.TABLE_WIDE_COLUMNS or sum(minimum) > L.TYPE_WIDTH:
        size = L.TABLE_SIZE_WIDE
        full, body, minimum = _measure_columns(ts, rows, header_rows, size)
    widths = _column_widths(full, body, minimum, L.TYPE_WIDTH)
    edges = [L.TYPE_LEFT]
    for w in widths:
        edges.append(edges[-1] + w)
    leading = L.TABLE_LEADING_EM * size
    built: list[TableRow] = []
    for r, row in enumerate(rows):
        header = r < header_rows
        style = _table_style("heiti" if header else "body", size)
        cells = []
        for j, text in enumerate(row):
            measure = widths[j] - 2 * L.TABLE_PAD_X
            broken = ts.break_lines(ts.glyphs(text, style), text, measure, measure) if text else []
            lines = []
            for glyphs in broken:
                natural_width = sum(g[2] for g in glyphs)
                centre = header or len(broken) == 1
                x = edges[j] + L.TABLE_PAD_X + ((measure - natural_width) / 2 if centre else 0.0)
                lines.append(Line(glyphs, style, x, natural_width, justify=False, body=True))
            cells.append(lines)
        height = 2 * L.TABLE_PAD_Y + max(1, max(len(c) for c in cells)) * leading
        built.append(TableRow(cells, height, header))
    return TableBlock(edges, built[:header_rows], built[header_rows:], leading)


def _split_row(row: TableRow, room: float, leading: float) -> tuple[TableRow, TableRow] | None:
    """A row too tall for any page, cut after the lines that fit in ``room`` (None: not one)."""
    fit = int((room - 2 * L.TABLE_PAD_Y) // leading)
    if fit < 1:
        return None
    first = [cell[:fit] for cell in row.cells]
    rest = [cell[fit:] for cell in row.cells]
    height = 2 * L.TABLE_PAD_Y + max(1, max(len(c) for c in rest)) * leading
    return TableRow(first, 2 * L.TABLE_PAD_Y + fit * leading, row.header), TableRow(rest, height, row.header)


class _TablePlacer:
    """Places a table's rows down the pages: the header rows at the top of each page the table
    runs onto, rules drawn per page."""

    def __init__(self, table: TableBlock, pages: list[_Page]):
        self.table = table
        self.pages = pages
        self.top = 0.0  # where the current page's part of the table starts (PDF y)
        self.y = 0.0  # the bottom of the last row placed
        self.row_edges: list[float] = []
        self.body_on_page = 0

    def start(self, band: int) -> None:
        self.top = self.y = L.band_top(band)
        self.row_edges = [self.y]
        self.body_on_page = 0
        for row in self.table.header:
            self.put(row)

    def fits(self, row: TableRow) -> bool:
        return self.y - row.height >= L.TYPE_BOTTOM - L.LINE_FIT_TOLERANCE

    def put(self, row: TableRow) -> None:
        """Place a row under the last one, each cell's lines centred vertically."""
        leading = self.table.leading
        for cell in row.cells:
            top = self.y - (row.height - len(cell) * leading) / 2
            for k, line in enumerate(cell):
                size = line.style.size
                baseline = top - k * leading - (leading - size) / 2 - L.EM_ASCENT * size
                self.pages[-1].placed.append(Placed(line, baseline))
        self.y -= row.height
        self.row_edges.append(self.y)
        if not row.header:
            self.body_on_page += 1

    def finish_page(self) -> None:
        """The rules of the part of the table on the current page."""
        rules = self.pages[-1].rules
        left, right = self.table.edges[0], self.table.edges[-1]
        rules.extend((left, y, right, y) for y in self.row_edges)
        rules.extend((x, self.top, x, self.y) for x in self.table.edges)

    def new_page(self) -> None:
        self.finish_page()
        self.pages.append(_Page())
        self.start(0)


def _place_table(table: TableBlock, pages: list[_Page], band: int) -> int:
    """Place ``table`` from grid line ``band``; return the grid line the text goes on after it."""
    if band >= L.LINES_PER_PAGE:
        pages.append(_Page())
        band = 0
    if sum(r.height for r in table.header) > L.TYPE_HEIGHT / 2:
        # A header that would fill half of every page is set once, like the body rows.
        table = TableBlock(table.edges, [], [TableRow(r.cells, r.height, False) for r in table.header]
                           + table.body, table.leading)
    placer = _TablePlacer(table, pages)
    first = table.body[0] if table.body else None
    needed = sum(r.height for r in table.header) + (first.height if first else 0.0)
    if band > 0 and L.band_top(band) - needed < L.TYPE_BOTTOM and needed <= L.TYPE_HEIGHT:
        # Not even the header and one row here: the table starts on a new page, with the
        # caption or heading that stands right before it.
        page = pages[-1]
        carried: list[Line] = []
        while page.rows and page.rows[-1][0] == band - 1 - len(carried) and page.rows[-1][1].keep_with_next:
            carried.insert(0, page.rows.pop()[1])
        pages.append(_Page([(b, line) for b, line in enumerate(carried)]))
        band = len(carried)
    placer.start(band)
    queue = list(table.body)
    while queue:
        row = queue.pop(0)
        if placer.fits(row):
            placer.put(row)
            continue
        if placer.body_on_page == 0:  # taller than the room a page has: cut it
            parts = _split_row(row, placer.y - L.TYPE_BOTTOM, table.leading)
            if parts is None:  # not one line's room under the header: overflow, but go on
                placer.put(row)
                continue
            placer.put(parts[0])
            queue.insert(0, parts[1])
        else:
            queue.insert(0, row)
        placer.new_page()
    placer.finish_page()
    end = math.ceil((L.TYPE_TOP - placer.y) / L.LINE_PITCH - L.TABLE_GRID_SNAP)
    pages[-1].table_end = end
    return end

# ---- the composed document -----------------------------------------------------------------

@dataclass(frozen=True)
class Placed:
    """A line at its baseline (PDF y); the line carries its own x."""

    line: Line
    y: float


@dataclass(frozen=True)
class PageNumber:
    text: str  # — 1 —
    font: LoadedFont
    x: float
    y: float


@dataclass(frozen=True)
class QrCode:
    url: str  # encoded, as the QR code carries it
    x: float
    y: float
    size: float


@dataclass(frozen=True)
class Seal:
    name: str  # the issuer, along the upper arc
    font: LoadedFont
    cx: float
    cy: float


@dataclass
class Composition:
    """Everything ``pdf.draw`` puts on the pages, positioned."""

    pages: list[list[Placed]]  # the body lines of each page (title and town included)
    issuer_mark: Placed | None  # page 1: the red 发文机关标志
    doc_number: Placed | None  # page 1: the 发文字号
    red_rule_y: float  # page 1: the red rule under the 发文字号
    signature: list[Placed]  # last page: the issuer's name and the date
    imprint_rules: list[tuple[float, float]]  # last page: (y, line width) of the 版记's rules
    imprint: list[Placed]  # last page: the 版记's text
    qr: QrCode | None  # last page
    qr_note: list[Placed]  # last page: the note and the address next to the QR code
    seal: Seal  # last page
    page_numbers: list[PageNumber]  # one per page
    seal_box: tuple[int, float, float, float, float]  # (page index, x, y, width, height)
    rules: list[list[Rule]] = field(default_factory=list)  # per page: the tables' rules
    signer: list[Placed] = field(default_factory=list)  # page 1 (上行文): "签发人：" and the name
    approval_rules: list[Rule] = field(default_factory=list)  # last page: the approval mark's box
    approval: list[Placed] = field(default_factory=list)  # last page: the approval mark's text
    approval_seal: Seal | None = None  # last page: the district's seal over its mark
    approval_seal_box: tuple[int, float, float, float, float] | None = None  # as seal_box
    # The page of the signature block and the seal (the annexes follow it); the QR code and
    # the 版记 are always on the last page.
    signature_page: int = -1


@dataclass(frozen=True)
class _Header:
    issuer_mark: Placed | None
    doc_number: Placed | None
    red_rule_y: float
    title_band: int  # the grid line the title starts on


def compose(doc: RenderInput, fonts: dict[str, LoadedFont], title_embolden: float = 0.0) -> Composition:
    """Set ``doc`` with ``fonts`` (the four faces of ``pdf.fonts.load_fonts``)."""
    ts = Typesetter(fonts)
    issuer = clean_text(doc.issuer)
    date_text = chinese_date(doc.date)
    header = _header(ts, issuer, doc.doc_number, title_embolden)
    upward = doc.addressee is not None
    signer: list[Placed] = []
    if upward:
        header, signer = _upward_header(ts, header, doc.doc_number, doc.signer)

    # The flow of grid lines: title, town, a blank line, body (上行文: title, a blank line, 主送机关, body).
    rows: list[Flow] = []
    rows.extend(ts.centred(doc.title, _TITLE, L.TITLE_MAX_CHARS * L.TITLE_SIZE, balanced=True,
                           embolden=title_embolden))
    if upward:
        rows.extend(_addressee_rows(ts, doc.addressee or ""))
    else:
        rows.extend(ts.centred(doc.town, _KAITI, L.TYPE_WIDTH))
        rows.append(None)
    rows.extend(_body_lines(ts, doc.outline))
    pages = _paginate(rows, header.title_band)
    with_mark = doc.approval is not None
    signature_page, last_band = _place_signature(pages, with_mark)
    _place_annexes_and_footer(pages, _annexes(ts, doc.outline, title_embolden), footer_with_signature=(
        last_band <= (L.APPROVAL_SIGNATURE_LAST_BODY_BAND if with_mark else L.SIGNATURE_LAST_BODY_BAND)))

    # The signature block: the date four characters in from the right, the name centred
    # over it, the seal over both.
    name_band = last_band + L.SIGNATURE_NAME_OFFSET
    date_band = last_band + L.SIGNATURE_DATE_OFFSET
    date_line = ts.single(date_text, _BODY)
    date_right = L.TYPE_RIGHT - L.DATE_RIGHT_INSET_CHARS * L.CHAR_PITCH
    date_line.x = date_right - _visual_width(date_line)
    date_centre = date_right - _visual_width(date_line) / 2
    name_line = ts.single(issuer, _BODY)
    name_width = _visual_width(name_line)
    name_line.x = min(date_centre - name_width / 2, L.TYPE_RIGHT - name_width)
    seal = Seal(issuer, fonts["title"], date_centre, L.band_top(date_band) + L.SEAL_CENTRE_ABOVE_TEXT)

    approval = _approval_mark(ts, doc.approval, last_band, fonts["title"]) if doc.approval else None
    imprint_rules, imprint = _imprint(ts, doc, issuer, date_text)
    qr, qr_note = _qr(ts, doc.verify_url, doc.audit_head)
    return Composition(
        signer=signer,
        approval_rules=approval.rules if approval else [],
        approval=approval.placed if approval else [],
        approval_seal=approval.seal if approval else None,
        approval_seal_box=(signature_page, approval.seal.cx - L.SEAL_RADIUS, approval.seal.cy - L.SEAL_RADIUS,
                           L.SEAL_DIAMETER, L.SEAL_DIAMETER) if approval else None,
        pages=[[Placed(line, L.baseline(band, line.style.size)) for band, line in page.rows] + page.placed
               for page in pages],
        rules=[page.rules for page in pages],
        issuer_mark=header.issuer_mark, doc_number=header.doc_number, red_rule_y=header.red_rule_y,
        signature=[Placed(name_line, L.baseline(name_band)), Placed(date_line, L.baseline(date_band))],
        imprint_rules=imprint_rules, imprint=imprint, qr=qr, qr_note=qr_note, seal=seal,
        page_numbers=[_page_number(fonts["body"], n) for n in range(1, len(pages) + 1)],
        seal_box=(signature_page, seal.cx - L.SEAL_RADIUS, seal.cy - L.SEAL_RADIUS,
                  L.SEAL_DIAMETER, L.SEAL_DIAMETER),
        signature_page=signature_page,
    )


def _header(ts: Typesetter, issuer: str, doc_number: str | None, embolden: float) -> _Header:
    """版头 (absolute positions on page 1): the issuer's mark, as large as fits; the
    document number two lines under it; the red rule; where the title starts."""
    mark_glyphs = ts.glyphs(f"{issuer}文件" if issuer else "", _TITLE)
    mark_em = sum(g[2] for g in mark_glyphs) / L.TITLE_SIZE or 1.0
    mark_size = min(L.ISSUER_MARK_MAX_SIZE, L.TYPE_WIDTH * L.ISSUER_MARK_WIDTH_FRACTION / mark_em)
    mark_top = L.TYPE_TOP - L.ISSUER_MARK_OFFSET
    mark_bottom_band = math.ceil((L.TYPE_TOP - (mark_top - mark_size)) / L.LINE_PITCH - L.GRID_SNAP_TOLERANCE)
    number_band = mark_bottom_band + L.DOC_NUMBER_GAP_LINES
    number_bottom = L.baseline(number_band) - (1 - L.EM_ASCENT) * L.BODY_SIZE
    rule_y = number_bottom - L.RED_RULE_GAP
    rule_band = int((L.TYPE_TOP - rule_y) // L.LINE_PITCH)

    issuer_mark = number = None
    if mark_glyphs:
        scale = mark_size / L.TITLE_SIZE
        mark = Line([(ch, f, adv * scale) for ch, f, adv in mark_glyphs], Style("title", mark_size, 0.0), 0.0,
                    0.0, justify=False, embolden=embolden, red=True)
        mark.x = L.TYPE_LEFT + (L.TYPE_WIDTH - mark.natural_width()) / 2
        issuer_mark = Placed(mark, mark_top - L.EM_ASCENT * mark_size)
    if doc_number and clean_text(doc_number):
        number = Placed(ts.centred(doc_number, _BODY, L.TYPE_WIDTH)[0], L.baseline(number_band))
    return _Header(issuer_mark, number, rule_y, rule_band + 1 + L.TITLE_GAP_LINES)


# ---- the 上行文's parts: 签发人, 主送机关, the district's approval mark ----------------------------

def _upward_header(ts: Typesetter, header: _Header, doc_number: str | None, signer: str | None
                   ) -> tuple[_Header, list[Placed]]:
    """上行文 (GB/T 9704-2012 §7.2.4, §7.2.5): the 发文字号 moves from the centre to one
    character in from the left, and the 签发人 ("签发人：" in the body face, the name in 楷体)
    ends one character in from the right, on the same line."""
    number = header.doc_number
    if number is not None:
        number.line.x = L.TYPE_LEFT + L.UPWARD_DOC_NUMBER_INSET_CHARS * L.CHAR_PITCH
    placed: list[Placed] = []
    name = clean_text(signer or "")
    if name:
        y = number.y if number is not None else L.baseline(
            int((L.TYPE_TOP - header.red_rule_y) // L.LINE_PITCH) - 1)
        label = ts.single(SIGNER_LABEL, _BODY)
        person = ts.single(name, _KAITI)
        person.x = L.TYPE_RIGHT - L.UPWARD_SIGNER_INSET_CHARS * L.CHAR_PITCH - _visual_width(person)
        label.x = person.x - label.natural_width()
        placed = [Placed(label, y), Placed(person, y)]
    return header, placed


def _addressee_rows(ts: Typesetter, addressee: str) -> list[Flow]:
    """主送机关 (§7.3.2): a blank line under the title, then the name and a full-width colon,
    flush left (a long name wraps, the next lines flush left too)."""
    text = clean_text(addressee)
    if not text:
        return [None]
    text = ADDRESSEE.format(text)
    rows: list[Flow] = [None] * L.ADDRESSEE_GAP_LINES
    for glyphs in ts.break_lines(ts.glyphs(text, _BODY), text, L.TYPE_WIDTH, L.TYPE_WIDTH):
        rows.append(Line(glyphs, _BODY, L.TYPE_LEFT, L.TYPE_WIDTH, justify=False, keep_with_next=True))
    return rows


@dataclass(frozen=True)
class _Approval:
    rules: list[Rule]
    placed: list[Placed]
    seal: Seal


def _approval_mark(ts: Typesetter, mark: ApprovalMark, last_band: int, seal_font: LoadedFont) -> _Approval:
    """The district's approval, beside the town's signature block on the left: a thin box
    with 审核意见 on the grid line above the 署名's, the district's name and date on the 署名's and
    the 成文日期's lines (centred in the box), and the district's seal over those two, hanging
    below the box, not over the opinion."""
    name_band = last_band + L.SIGNATURE_NAME_OFFSET
    date_band = last_band + L.SIGNATURE_DATE_OFFSET
    left = L.TYPE_LEFT
    right = L.TYPE_LEFT + L.APPROVAL_BOX_CHARS * L.CHAR_PITCH
    pad = L.APPROVAL_BOX_PAD_CHARS * L.CHAR_PITCH
    measure = right - left - 2 * pad
    text = APPROVAL_OPINION.format(clean_text(mark.opinion))
    opinion_band = name_band - 1
    style = _BODY
    broken = ts.break_lines(ts.glyphs(text, style), text, measure, measure)
    if len(broken) > 1:  # two lines of 4号 in the one grid line
        style = Style("body", L.APPROVAL_OPINION_SMALL_SIZE, 0.0)
        broken = ts.break_lines(ts.glyphs(text, style), text, measure, measure)
    if len(broken) > L.APPROVAL_OPINION_MAX_LINES:
        broken = broken[:L.APPROVAL_OPINION_MAX_LINES]
        last = broken[-1]
        ellipsis = ts.glyphs("……", style)
        while last and sum(g[2] for g in last) + sum(g[2] for g in ellipsis) > measure + L.LINE_FIT_TOLERANCE:
            last = last[:-1]
        broken[-1] = last + ellipsis
    if len(broken) == 1:
        baselines = [L.baseline(opinion_band)]
    else:
        leading, size = L.APPROVAL_OPINION_SMALL_LEADING, style.size
        top = L.band_top(opinion_band) - (L.LINE_PITCH - len(broken) * leading) / 2
        baselines = [top - k * leading - (leading - size) / 2 - L.EM_ASCENT * size for k in range(len(broken))]
    placed = [Placed(Line(glyphs, style, left + pad, measure, justify=False), y)
              for glyphs, y in zip(broken, baselines, strict=True)]
    first_band = opinion_band
    centre = (left + right) / 2
    for band, words in ((name_band, clean_text(mark.issuer)), (date_band, chinese_date(mark.date))):
        line = ts.single(words, _BODY)
        line.x = centre - _visual_width(line) / 2
        placed.append(Placed(line, L.baseline(band)))
    top, bottom = L.band_top(first_band) + L.APPROVAL_BOX_TOP_PAD, L.band_top(date_band + 1)
    rules = [(left, top, right, top), (left, bottom, right, bottom), (left, top, left, bottom),
             (right, top, right, bottom)]
    # Over the name and the date, clear of the opinion (the town's seal reaches a line higher).
    seal_top = L.band_top(last_band + L.APPROVAL_SEAL_TOP_BAND_OFFSET)
    seal = Seal(clean_text(mark.issuer), seal_font, centre, seal_top - L.SEAL_RADIUS)
    return _Approval(rules, placed, seal)


def _last_band(page: _Page) -> int:
    """The grid line of the page's last body line or table row (-1: none)."""
    return max(page.rows[-1][0] if page.rows else -1, page.table_end - 1)


def _place_signature(pages: list[_Page], with_mark: bool = False) -> tuple[int, int]:
    """Make room for the signature block after the last body line; return its page and the
    grid line of the last body line on that page (-1: none).

    The block (署名 three lines under the text, the date under it, the seal over both) fits
    when the text ends by ``SIGNATURE_LAST_BODY_BAND`` (then the QR code and the 版记 fit
    under it too) or, with the 版记 on a page of its own, by ``SIGNATURE_ALONE_LAST_BODY_BAND``.
    When the text ends later, or the block would otherwise leave the 版记 alone although the
    page has text enough to give, the last lines of the text (at least
    ``SIGNATURE_CARRY_LINES``, more for widow and orphan control) move with it to a new
    page. A signature never stands on a page without text, unless the report has no text.
    ``with_mark``: the district's approval mark is beside the block, its seal lower than the
    town's, so both limits are a grid line higher (``APPROVAL_SIGNATURE_*``)."""
    last = pages[-1]
    last_band = _last_band(last)
    with_footer = L.APPROVAL_SIGNATURE_LAST_BODY_BAND if with_mark else L.SIGNATURE_LAST_BODY_BAND
    alone = L.SIGNATURE_ALONE_LAST_BODY_BAND
    if with_mark:  # an even page (odd index) has its number on the left, under the district's seal
        alone = (L.APPROVAL_SIGNATURE_ALONE_LAST_BODY_BAND_EVEN if len(pages) % 2 == 0
                 else L.APPROVAL_SIGNATURE_ALONE_LAST_BODY_BAND)
    if last_band <= with_footer:
        return len(pages) - 1, last_band
    count = _carry_count(last, None, at_least=L.SIGNATURE_CARRY_LINES)
    moved = last.rows[len(last.rows) - count:]
    text_above = [line for _, line in last.rows[:len(last.rows) - count] if line.body]
    if count and all(line.annex_note for _, line in moved) and len(text_above) >= 2:
        # Widow and orphan control would leave the 附件说明 alone with the signature block:
        # one line of text goes with them, a short paragraph's last line at the top of the page.
        count += 1
    body_left = sum(1 for _, line in last.rows[:len(last.rows) - count] if line.body)
    if last_band <= alone and (count == 0 or body_left < L.SIGNATURE_CARRY_LINES):
        return len(pages) - 1, last_band  # e.g. a one-paragraph report: all on page 1
    if count == 0:  # nothing may move (the text ends with a table): the block on a page of its own
        pages.append(_Page())
        return len(pages) - 1, -1
    pages.append(_carry(last, count))
    return len(pages) - 1, pages[-1].rows[-1][0]


def _place_annexes_and_footer(pages: list[_Page], annexes: list[list[Flow]], footer_with_signature: bool) -> None:
    """The annexes after the signature block, each from the top of a new page (GB/T 9704
    §8: 附件应当另面编排, 在版记之前), and room for the QR code and the 版记 at the foot of
    the last page: when the last page's text reaches into it, its last lines move to a new
    page (a page of its own for the footer when no text may move)."""
    if not annexes:
        if not footer_with_signature:
            pages.append(_Page())
        return
    for flow in annexes:
        pages.extend(_paginate(flow, 0))
    last = pages[-1]
    if _last_band(last) <= L.FOOTER_LAST_BODY_BAND:
        return
    pages.append(_carry(last, _carry_count(last, None, at_least=L.SIGNATURE_CARRY_LINES)))


def _imprint(ts: Typesetter, doc: RenderInput, issuer: str, date_text: str
             ) -> tuple[list[tuple[float, float]], list[Placed]]:
    """版记 at the foot of the type area: three rules and two rows of text, left and right."""
    bottom, row_h, inset = L.TYPE_BOTTOM, L.IMPRINT_ROW_HEIGHT, L.IMPRINT_SIDE_INSET
    rules = [(bottom, L.IMPRINT_THICK_RULE), (bottom + row_h, L.IMPRINT_THIN_RULE),
             (bottom + 2 * row_h, L.IMPRINT_THICK_RULE)]
    town = clean_text(doc.town)
    archive = clean_text(doc.archive_no or "")
    first = IMPRINT_TOWN.format(town) if town else ""
    if doc.approval is not None and clean_text(doc.approval.issuer):
        first = IMPRINT_APPROVER.format(clean_text(doc.approval.issuer))
    rows = [(first, IMPRINT_ARCHIVE_NO.format(archive) if archive else "",
             bottom + row_h),
            (issuer, IMPRINT_ISSUED.format(date_text), bottom)]
    placed = []
    for left, right, row_bottom in rows:
        y = row_bottom + (row_h - L.PAGE_NUMBER_SIZE) / 2 + (1 - L.EM_ASCENT) * L.PAGE_NUMBER_SIZE
        if left:
            line = ts.single(left, _IMPRINT)
            line.x = L.TYPE_LEFT + inset
            placed.append(Placed(line, y))
        if right:
            line = ts.single(right, _IMPRINT)
            line.x = L.TYPE_RIGHT - inset - _visual_width(line)
            placed.append(Placed(line, y))
    return rules, placed


def _qr(ts: Typesetter, verify_url: str | None, audit_head: str | None = None) -> tuple[QrCode | None, list[Placed]]:
    """The QR code above the 版记, and next to it the note, the address and the audit chain's head."""
    url = clean_text(verify_url or "")
    if not url:
        return None, []
    qr = QrCode(url, L.TYPE_LEFT, L.TYPE_BOTTOM + 2 * L.IMPRINT_ROW_HEIGHT + L.QR_GAP_ABOVE_IMPRINT, L.QR_SIZE)
    text_x = L.TYPE_LEFT + L.QR_SIZE + L.QR_TEXT_GAP
    measure = L.TYPE_RIGHT - text_x
    note = ts.break_lines(ts.glyphs(QR_NOTE, _SMALL), QR_NOTE, measure, measure)
    # The QR code carries the encoded URL; people reading the paper get it decoded
    # (示范区〔2026〕3号, not %E7%A4%BA…), which browsers accept as typed.
    shown = unquote(url)
    address = ts.break_lines(ts.glyphs(shown, _SMALL), shown, measure, measure,
                             keep_words=False)[:L.QR_ADDRESS_MAX_LINES]
    head = clean_text(audit_head or "")[:16]
    chain = [ts.glyphs(AUDIT_CHAIN.format(head), _SMALL)] if head else []
    placed = []
    y = qr.y + L.QR_SIZE - L.SMALL_SIZE
    for glyphs in note + address + chain:
        placed.append(Placed(Line(glyphs, _SMALL, text_x, measure, justify=False), y))
        y -= L.SMALL_LEADING
    return qr, placed


def _page_number(font: LoadedFont, number: int) -> PageNumber:
    """``— 1 —`` under the type area: odd pages right, even pages left, one character in."""
    text = L.PAGE_NUMBER_FORMAT.format(number)
    width = sum(font.advance(ch, L.PAGE_NUMBER_SIZE) for ch in text)
    if number % 2:
        x = L.TYPE_RIGHT - L.PAGE_NUMBER_INSET - width
    else:
        x = L.TYPE_LEFT + L.PAGE_NUMBER_INSET
    return PageNumber(text, font, x, L.PAGE_NUMBER_BASELINE)
