"""Render a report outline as an official document PDF (GB/T 9704-2012 layout).

The page is set by a small typesetter of our own rather than by ReportLab's platypus:
the standard's fixed grid (22 lines × 28 characters), Chinese line-breaking rules
(禁则: closing punctuation never starts a line, opening punctuation never ends one) and
justification to the grid are simpler and much faster to get exactly right that way.
A side effect that matters for safety: user text never reaches ReportLab's ``Paragraph``
markup parser at all (so ``<img src=…>`` cannot embed a local file and ``<b>`` or
``&nbsp;`` print literally); it is drawn glyph by glyph after :func:`clean_text` has
dropped control and format characters.

What a page looks like (first page top to last page bottom):

* 版头: the red 发文机关标志 (``issuer`` + 文件), the 发文字号 (``doc_number``), a red rule;
* the title (2号, centred, wrapped into balanced lines) and the reporting town (楷体);
* the body: preamble, sections (一、 in 黑体, (一) in 楷体, 1./(1) in the body face),
  closing; paragraphs indented two characters and justified to the grid;
* the signature block: the issuer's name and the date (``2026年1月5日``) four characters
  in from the right, a red seal drawn as vector art over them;
* at the bottom of the last page: a QR code for ``verify_url`` and the 版记 with the
  reporting town, the archive number, the issuer and the date;
* page numbers ``— 1 —`` under the type area, odd pages right, even pages left.

``render_report`` returns the PDF bytes, the page count and the seal's box, over which
``pdf.signing.sign_pdf`` places the (transparent) signature field.
"""
from __future__ import annotations

import datetime
import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any
from urllib.parse import unquote

import qrcode
from qrcode.constants import ERROR_CORRECT_M
from reportlab import rl_config
from reportlab.pdfbase.pdfdoc import PDFDate, PDFDictionary, PDFInfo, PDFName, PDFString
from reportlab.pdfgen.canvas import FILL_NON_ZERO, Canvas

from . import layout as L
from .fonts import FontConfig, LoadedFont, clean_text, glyph_path, load_fonts

__all__ = ["RenderInput", "RenderedPdf", "chinese_date", "render_report", "INFO_ARCHIVE_NO",
           "INFO_REPORT_ID"]

# Custom document-information keys (PDF Info dictionary) carrying the machine-readable
# identity of a published report. ``pdf.verify`` reads them from the signed revision.
INFO_ARCHIVE_NO = "ChengbaoArchiveNo"
INFO_REPORT_ID = "ChengbaoReportId"


@dataclass
class RenderInput:
    """Everything printed in a published report. All strings are untrusted user text."""

    title: str
    outline: dict
    issuer: str  # the approving district, e.g. "示范区人民政府"
    town: str  # the reporting town, e.g. "青山镇"
    date: datetime.date  # 成文日期 (the approval date)
    doc_number: str | None = None  # 发文字号, e.g. "示范区〔2026〕3号"
    archive_no: str | None = None  # printed in the 版记 and stored in the Info dict
    verify_url: str | None = None  # the QR code's target
    fonts: FontConfig | None = None
    report_id: int | None = None  # stored in the Info dict for verification


@dataclass(frozen=True)
class RenderedPdf:
    data: bytes
    pages: int
    # (page index, x, y, width, height) in points: where the seal is drawn, for the
    # signature field.
    seal_box: tuple[int, float, float, float, float]


def chinese_date(date: datetime.date) -> str:
    """``2026年1月5日``: Arabic numerals, no zero padding (GB/T 9704-2012 §7.3.5)."""
    return f"{date.year}年{date.month}月{date.day}日"


# ---- styles -------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Style:
    role: str  # font role: body / heiti / kaiti / title
    size: float
    char_space: float  # added to every glyph's advance (Tc)


_BODY = _Style("body", L.BODY_SIZE, L.BODY_CHAR_SPACE)
_HEITI = _Style("heiti", L.BODY_SIZE, L.BODY_CHAR_SPACE)
_KAITI = _Style("kaiti", L.BODY_SIZE, L.BODY_CHAR_SPACE)
_TITLE = _Style("title", L.TITLE_SIZE, L.TITLE_CHAR_SPACE)
_IMPRINT = _Style("body", L.PAGE_NUMBER_SIZE, 0.0)
_SMALL = _Style("body", L.SMALL_SIZE, 0.0)

_CN_DIGITS = "一二三四五六七八九十百零〇"


def _heading_style(number: str, level: int) -> _Style:
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


# ---- line breaking ---------------------------------------------------------------------------

# 行首禁则: never at the start of a line (closing punctuation, 点号, and the like).
_NO_START = frozenset(
    "，。、；：？！”’）》」』】〕〗〙〛〉｝］｠｡､・·…‥々〆ゝゞ～％‰℃°"
    ",.;:?!)]}%")
# 行尾禁则: never at the end of a line (opening punctuation).
_NO_END = frozenset("“‘（《「『【〔〖〘〚〈｛［｟([{")
# Never split inside a run of these (—— 破折号, …… 省略号).
_INSEPARABLE = frozenset("—…‥─")
_ASCII_INNER = frozenset(",.:;!?'’")  # inside a number or word: 3.5, 1,000


def _is_word_char(text: str, i: int) -> bool:
    """True if ``text[i]`` belongs to a Latin/number word that must not be broken."""
    ch = text[i]
    if ch.isspace() or ord(ch) >= 0x2E80 or ch in _NO_END or ch in _INSEPARABLE or ch in "“”‘":
        return False
    if ch in _ASCII_INNER or ch in _NO_START:
        # "3.5", "1,000", "x.y" stay whole; a comma ending a clause does not
        return (0 < i < len(text) - 1 and ord(text[i - 1]) < 0x2E80 and text[i - 1].isalnum()
                and ord(text[i + 1]) < 0x2E80 and text[i + 1].isalnum())
    return True


# A glyph: (character, font, advance in pt including the style's character spacing).
_Glyph = tuple[str, LoadedFont, float]


@dataclass
class _Line:
    glyphs: list[_Glyph]
    style: _Style
    x: float  # left edge, PDF x
    width: float  # the measure the line is set in
    justify: bool  # spread to ``width`` (every paragraph line but the last)
    keep_with_next: bool = False
    embolden: float = 0.0
    red: bool = False
    body: bool = False  # part of the report's text (not the title or town line)

    def natural_width(self) -> float:
        return sum(g[2] for g in self.glyphs)


class _Typesetter:
    """Turns styled text into lines on the grid. One per render (holds the fonts)."""

    def __init__(self, fonts: dict[str, LoadedFont]):
        self.fonts = fonts
        self.body = fonts["body"]

    def glyphs(self, text: str, style: _Style) -> list[_Glyph]:
        font = self.fonts[style.role]
        body = self.body
        size, cs = style.size, style.char_space
        out: list[_Glyph] = []
        for ch in text:
            # A heading face lacking a character borrows the body face's; the body face's
            # coverage is what missing_glyphs() checks before submission.
            f = font if ord(ch) in font.cmap or font is body else body
            out.append((ch, f, f.widths.get(ord(ch), f.default_width) * size / 1000.0 + cs))
        return out

    @staticmethod
    def units(glyphs: list[_Glyph], text: str, keep_words: bool = True) -> list[list[_Glyph]]:
        """Group glyphs into the smallest pieces a line may break between (``text`` is
        the glyphs' text; ``keep_words=False`` allows breaks inside Latin words, for URLs)."""
        units: list[list[_Glyph]] = []
        prev_word = False
        for i, g in enumerate(glyphs):
            ch = g[0]
            if ch == " ":
                units.append([g])
                prev_word = False
                continue
            word = keep_words and _is_word_char(text, i)
            last = units[-1] if units else None
            last_ch = last[-1][0] if last else ""
            joins = last is not None and last_ch != " " and (
                (word and prev_word)
                or ch in _NO_START
                or last_ch in _NO_END
                or (ch in _INSEPARABLE and last_ch == ch))
            if joins:
                last.append(g)
            else:
                units.append([g])
            prev_word = word
        return units

    def break_lines(self, glyphs: list[_Glyph], text: str, first: float, rest: float,
                    keep_words: bool = True) -> list[list[_Glyph]]:
        """Greedy line filling over break units: ``first`` is the measure of the first
        line, ``rest`` of the others. A unit that does not fit moves to the next line
        whole — taking along the character before a closing mark (推出)."""
        lines: list[list[_Glyph]] = []
        cur: list[_Glyph] = []
        width = 0.0
        measure = first
        eps = 0.01
        for unit in self.units(glyphs, text, keep_words):
            if unit[0][0] == " ":
                if cur:
                    cur.extend(unit)
                    width += unit[0][2]
                continue
            w = sum(g[2] for g in unit)
            if width + w <= measure + eps:
                cur.extend(unit)
                width += w
                continue
            if cur:
                lines.append(_rstrip(cur))
                cur, width, measure = [], 0.0, rest
            if w <= measure + eps:
                cur, width = list(unit), w
                continue
            for g in unit:  # longer than a whole line: break inside it
                if width + g[2] > measure + eps and cur:
                    lines.append(cur)
                    cur, width, measure = [], 0.0, rest
                cur.append(g)
                width += g[2]
        if cur:
            lines.append(_rstrip(cur))
        return [line for line in lines if line]

    def paragraph(self, spans: list[tuple[str, _Style]], keep_with_next: bool = False
                  ) -> list[_Line]:
        """A justified paragraph with a two-character first-line indent. ``spans`` lets a
        run-in heading share its first line with the paragraph text."""
        text = ""
        glyphs: list[_Glyph] = []
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
        broken = self.break_lines(glyphs, text, L.TYPE_WIDTH - indent, L.TYPE_WIDTH)
        style = spans[0][1]
        lines = []
        for i, line_glyphs in enumerate(broken):
            x = L.TYPE_LEFT + (indent if i == 0 else 0.0)
            lines.append(_Line(line_glyphs, style, x, L.TYPE_RIGHT - x,
                               justify=i < len(broken) - 1, body=True))
        if keep_with_next:
            lines[-1].keep_with_next = True
        return lines

    def centred(self, text: str, style: _Style, max_width: float, balanced: bool = False,
                embolden: float = 0.0, red: bool = False) -> list[_Line]:
        """Centred lines (title, town); ``balanced`` spreads a long text over lines of
        similar length instead of one full line and a short remainder."""
        text = clean_text(text)
        if not text:
            return []
        glyphs = self.glyphs(text, style)
        total = sum(g[2] for g in glyphs)
        measure = max_width
        broken: list[list[_Glyph]] | None = None
        if balanced and total > max_width:
            count = math.ceil(total / max_width)
            if count == 2:
                broken = _two_line_title(glyphs, text, max_width, style.size)
            if broken is None:
                measure = min(max_width, total / count + style.size * 0.5)
                while len(self.break_lines(glyphs, text, measure, measure)) > count and measure < max_width:
                    measure = min(max_width, measure + style.size * 0.5)
        if broken is None:
            broken = self.break_lines(glyphs, text, measure, measure)
        lines = []
        for line_glyphs in broken:
            visual = sum(g[2] for g in line_glyphs) - style.char_space
            x = L.TYPE_LEFT + (L.TYPE_WIDTH - visual) / 2
            lines.append(_Line(line_glyphs, style, x, visual, justify=False,
                               embolden=embolden, red=red))
        return lines

    def single(self, text: str, style: _Style) -> _Line:
        """One unbroken line (signature block, 版记), positioned by the caller."""
        glyphs = self.glyphs(clean_text(text), style)
        return _Line(glyphs, style, 0.0, sum(g[2] for g in glyphs), justify=False)


# Title line breaks (GB/T 9704: 回行时要做到词意完整). Without a dictionary-based
# segmenter, these cover the words that make up most report titles; a break inside one
# of them costs most, a break after a function word or before a bracket costs nothing.
_TITLE_WORDS = frozenset(
    "关于 工作 报告 计划 规划 总结 安排 方案 意见 通知 情况 要点 建设 发展 改革 重点 年度 "
    "政府 人民 实施 推进 深化 加强 全面 乡村 振兴 经济 社会 治理 项目 管理 服务 农村 城乡 "
    "融合 综合 高质量 十四五 十五五 五年 谋划 目标 任务 街道 审定 送审稿 征求 稿".split())
_BREAK_AFTER = frozenset("的于和与及、，：；暨")
_BREAK_BEFORE = frozenset("（(《“")


def _title_break_cost(text: str, k: int) -> float:
    """How bad it is to end a title line before ``text[k]``."""
    if text[k - 1] in _BREAK_AFTER or text[k] in _BREAK_BEFORE or text.startswith("关于", k):
        return 0.0
    for size in (2, 3):
        for start in range(k - size + 1, k):
            if start >= 0 and text[start:start + size] in _TITLE_WORDS:
                return 10.0  # inside a word
    if text[max(0, k - 2):k] in _TITLE_WORDS or text[k:k + 2] in _TITLE_WORDS:
        return 1.0  # between words
    return 3.0


def _two_line_title(glyphs: list[_Glyph], text: str, max_width: float, size: float
                    ) -> list[list[_Glyph]] | None:
    """The best place to split a title into two centred lines: lengths close to each
    other (a 梯形 or 菱形 shape) and words kept whole."""
    units = _Typesetter.units(glyphs, text)
    best: tuple[float, int] | None = None
    total = sum(g[2] for g in glyphs)
    width = 0.0
    index = 0
    for unit in units[:-1]:
        index += len(unit)
        width += sum(g[2] for g in unit)
        rest = total - width
        if width > max_width or rest > max_width or text[index - 1] == " ":
            continue
        cost = abs(width - rest) / size + _title_break_cost(text, index)
        if best is None or cost < best[0]:
            best = (cost, index)
    if best is None:
        return None
    k = best[1]
    second = glyphs[k:]
    while second and second[0][0] == " ":
        second = second[1:]
    return [_rstrip(glyphs[:k]), _rstrip(second)]


def _rstrip(glyphs: list[_Glyph]) -> list[_Glyph]:
    end = len(glyphs)
    while end and glyphs[end - 1][0] == " ":
        end -= 1
    return glyphs[:end]


def _visual_width(line: _Line) -> float:
    return line.natural_width() - line.style.char_space


# ---- drawing ----------------------------------------------------------------------------------

def _draw_line(c: Canvas, line: _Line, y: float) -> None:
    glyphs = line.glyphs
    if not glyphs:
        return
    cs = line.style.char_space
    if line.justify and len(glyphs) > 1:
        extra = line.width - line.natural_width()
        per_gap = extra / (len(glyphs) - 1)
        if 0 < per_gap <= L.MAX_JUSTIFY_EXTRA_EM * line.style.size:
            cs += per_gap
    t = c.beginText(line.x, y)
    t.setCharSpace(cs)
    if line.red:
        t.setFillColor(L.RED)
        t.setStrokeColor(L.RED)
    if line.embolden:
        # Fill and stroke: a synthetic bold for a light face standing in for 小标宋.
        c.setLineWidth(line.embolden * line.style.size)
        c.setLineJoin(1)
        t.setTextRenderMode(2)
    size = line.style.size
    run: list[str] = []
    run_font = glyphs[0][1]
    for ch, font, _ in glyphs:
        if font is not run_font:
            t.setFont(run_font.name, size)
            t.textOut("".join(run))
            run, run_font = [], font
        run.append(ch)
    t.setFont(run_font.name, size)
    t.textOut("".join(run))
    c.drawText(t)
    if "——" in "".join(g[0] for g in glyphs):
        _join_dashes(c, line, y, cs)


def _join_dashes(c: Canvas, line: _Line, y: float, cs: float) -> None:
    """Bridge the gaps between the glyphs of a 破折号 "——": many fonts (AR PL among them)
    draw each "—" with sidebearings, so two of them print as "— —". A rule at the dash's
    own height and thickness joins them; the text itself stays two U+2014 characters."""
    size = line.style.size
    origins = []
    x = line.x
    for _, _, advance in line.glyphs:
        origins.append(x)
        x += advance - line.style.char_space + cs  # as drawn: the line's own Tc
    glyphs = line.glyphs
    i = 0
    while i < len(glyphs):
        if glyphs[i][0] != "—":
            i += 1
            continue
        j = i
        while j + 1 < len(glyphs) and glyphs[j + 1][0] == "—":
            j += 1
        if j > i:
            ops = glyph_path(glyphs[i][1], "—")
            if ops:
                xs = [op[k] for op in ops for k in range(1, len(op), 2)]
                ys = [op[k] for op in ops for k in range(2, len(op), 2)]
                left = origins[i] + min(xs) * size
                right = origins[j] + max(xs) * size
                c.rect(left, y + min(ys) * size, right - left, (max(ys) - min(ys)) * size,
                       stroke=0, fill=1)
        i = j + 1


def _draw_page_number(c: Canvas, fonts: dict[str, LoadedFont], number: int) -> None:
    text = f"— {number} —"
    body = fonts["body"]
    width = sum(body.advance(ch, L.PAGE_NUMBER_SIZE) for ch in text)
    if number % 2:  # odd pages: right, one character in
        x = L.TYPE_RIGHT - L.PAGE_NUMBER_INSET - width
    else:
        x = L.TYPE_LEFT + L.PAGE_NUMBER_INSET
    c.setFont(body.name, L.PAGE_NUMBER_SIZE)
    c.drawString(x, L.PAGE_NUMBER_BASELINE, text)


def _draw_glyph_outline(c: Canvas, ops: tuple, x: float, y: float, size: float,
                        angle_deg: float, x_scale: float, stroke: float) -> None:
    """Draw a glyph outline (em units) at (x, y), rotated and horizontally condensed."""
    if not ops:
        return
    c.saveState()
    c.translate(x, y)
    c.rotate(angle_deg)
    c.scale(size * x_scale, size)
    p = c.beginPath()
    cx = cy = 0.0
    for op in ops:
        kind = op[0]
        if kind == "M":
            cx, cy = op[1], op[2]
            p.moveTo(cx, cy)
        elif kind == "L":
            cx, cy = op[1], op[2]
            p.lineTo(cx, cy)
        elif kind == "Q":  # quadratic → cubic
            qx, qy, ex, ey = op[1], op[2], op[3], op[4]
            p.curveTo(cx + 2 / 3 * (qx - cx), cy + 2 / 3 * (qy - cy),
                      ex + 2 / 3 * (qx - ex), ey + 2 / 3 * (qy - ey), ex, ey)
            cx, cy = ex, ey
        else:
            p.close()
    if stroke:
        c.setLineWidth(stroke / size)  # undo the scale so the stroke is in points
        c.setLineJoin(1)
    c.drawPath(p, stroke=1 if stroke else 0, fill=1, fillMode=FILL_NON_ZERO)
    c.restoreState()


def _draw_seal(c: Canvas, fonts: dict[str, LoadedFont], name: str, cx: float, cy: float) -> None:
    """A round official seal (公章): red ring, five-pointed star, the issuer's name along
    the upper arc. Drawn as paths with a multiply blend, so the black text under it shows
    through as it does through stamp ink."""
    r = L.SEAL_RADIUS
    c.saveState()
    c.setFillColor(L.RED)
    c.setStrokeColor(L.RED)
    c.setFillAlpha(L.SEAL_OPACITY)
    c.setStrokeAlpha(L.SEAL_OPACITY)
    c.setBlendMode("Multiply")
    c.setLineWidth(L.SEAL_RING_WIDTH)
    c.circle(cx, cy, r - L.SEAL_RING_WIDTH / 2, stroke=1, fill=0)
    # The star: ten points alternating between the outer and inner radius.
    outer = L.SEAL_STAR_RADIUS
    inner = outer * math.sin(math.radians(18)) / math.sin(math.radians(54))
    p = c.beginPath()
    for k in range(10):
        rad = outer if k % 2 == 0 else inner
        a = math.radians(90 + 36 * k)
        px, py = cx + rad * math.cos(a), cy + rad * math.sin(a)
        if k == 0:
            p.moveTo(px, py)
        else:
            p.lineTo(px, py)
    p.close()
    c.drawPath(p, stroke=0, fill=1)
    # The name along the arc, left to right, each character upright to the centre.
    chars = [ch for ch in clean_text(name) if not ch.isspace()]
    font = fonts["title"]
    n = len(chars)
    if n:
        span = min(L.SEAL_TEXT_MAX_SPAN_DEG, max(L.SEAL_TEXT_MIN_SPAN_DEG, n * L.SEAL_TEXT_DEG_PER_CHAR))
        step = span / (n - 1) if n > 1 else 0.0
        size = L.SEAL_TEXT_SIZE / 0.92
        baseline_r = L.SEAL_TEXT_RADIUS - 0.86 * size
        x_scale = 0.78
        # Long names: shrink so neighbours do not touch along the baseline circle.
        if n > 1:
            room = baseline_r * math.radians(step) * 0.92
            if size * x_scale > room:
                size = room / x_scale
                baseline_r = L.SEAL_TEXT_RADIUS - 0.86 * size
        for k, ch in enumerate(chars):
            angle = 90 + span / 2 - k * step if n > 1 else 90.0
            a = math.radians(angle)
            width = font.advance(ch, size) * x_scale
            # Start the glyph half its width "left" (clockwise-back) of its position.
            tx, ty = math.cos(a - math.pi / 2), math.sin(a - math.pi / 2)
            gx = cx + baseline_r * math.cos(a) - tx * width / 2
            gy = cy + baseline_r * math.sin(a) - ty * width / 2
            _draw_glyph_outline(c, glyph_path(font, ch), gx, gy, size, angle - 90, x_scale,
                                stroke=L.SEAL_TEXT_STROKE)
    c.restoreState()


def _draw_qr(c: Canvas, url: str, x: float, y: float, size: float) -> None:
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=0)
    qr.add_data(url)
    qr.make(fit=True)
    matrix = qr.get_matrix()
    count = len(matrix) + 2 * L.QR_QUIET_MODULES
    module = size / count
    c.saveState()
    c.setFillColorRGB(1, 1, 1)
    c.rect(x, y, size, size, stroke=0, fill=1)
    c.setFillColorRGB(0, 0, 0)
    p = c.beginPath()
    for row, cells in enumerate(matrix):
        top = y + size - (row + L.QR_QUIET_MODULES) * module
        col = 0
        while col < len(cells):
            if cells[col]:
                start = col
                while col < len(cells) and cells[col]:
                    col += 1
                p.rect(x + (start + L.QR_QUIET_MODULES) * module, top - module,
                       (col - start) * module, module)
            col += 1
    c.drawPath(p, stroke=0, fill=1)
    c.restoreState()


class _Info(PDFInfo):
    """ReportLab's document information plus Chengbao's own keys (ReportLab has no API
    for custom Info entries; this mirrors ``PDFInfo.format`` and adds ``extra``)."""

    def __init__(self, base: PDFInfo, extra: dict[str, str]):
        super().__init__()
        self.__dict__.update(base.__dict__)
        self.extra = extra

    def format(self, document: Any) -> bytes:
        entries = {
            "Title": PDFString(self.title),
            "Author": PDFString(self.author),
            "Subject": PDFString(self.subject),
            "Keywords": PDFString(self.keywords),
            "Creator": PDFString(self.creator),
            "Producer": PDFString(self.producer),
            "Trapped": PDFName(self.trapped),
        }
        entries["ModDate"] = entries["CreationDate"] = PDFDate(
            ts=document._timeStamp, dateFormatter=self._dateFormatter)
        for key, value in self.extra.items():
            entries[key] = PDFString(value)
        return PDFDictionary(entries).format(document)


# ---- the document ---------------------------------------------------------------------------

@dataclass
class _Page:
    rows: list[tuple[int, _Line]] = field(default_factory=list)  # (grid line, line)


def _texts(value: Any) -> list[str]:
    """Paragraph texts from an outline field, tolerating a bare string or stray values."""
    if isinstance(value, str):
        return [value]
    if not isinstance(value, (list, tuple)):
        return []
    return [v if isinstance(v, str) else str(v) for v in value
            if isinstance(v, (str, int, float)) and not isinstance(v, bool)]


def _section_lines(ts: _Typesetter, root: dict, out: list[_Line | None]) -> None:
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
        head = number + heading
        if section.get("run_in") and paragraphs and clean_text(head):
            out.extend(ts.paragraph([(head, style), (paragraphs[0], _BODY)]))
            paragraphs = paragraphs[1:]
        elif clean_text(head):
            out.extend(ts.paragraph([(head, style)], keep_with_next=True))
        for text in paragraphs:
            out.extend(ts.paragraph([(text, _BODY)]))
        children = [c for c in (section.get("children") or []) if isinstance(c, dict)]
        stack.extend((child, depth + 1) for child in reversed(children))


def _body_lines(ts: _Typesetter, outline: dict) -> list[_Line | None]:
    lines: list[_Line | None] = []
    outline = outline if isinstance(outline, dict) else {}
    for text in _texts(outline.get("preamble")):
        lines.extend(ts.paragraph([(text, _BODY)]))
    for section in outline.get("sections") or []:
        if isinstance(section, dict):
            _section_lines(ts, section, lines)
    for text in _texts(outline.get("closing")):
        lines.extend(ts.paragraph([(text, _BODY)]))
    return lines


def _paginate(rows: list[_Line | None], first_band: int) -> list[_Page]:
    """Place rows (None = a blank grid line) on the 22-line grid."""
    pages = [_Page()]
    band = first_band
    for i, row in enumerate(rows):
        if band >= L.LINES_PER_PAGE or (
                row is not None and row.keep_with_next and band == L.LINES_PER_PAGE - 1
                and i + 1 < len(rows)):
            pages.append(_Page())
            band = 0
        if row is None:
            if band > 0:  # a blank line never opens a page
                band += 1
            continue
        pages[-1].rows.append((band, row))
        band += 1
    return pages


_render_lock = threading.Lock()


@contextmanager
def _binary_streams() -> Iterator[None]:
    saved = rl_config.useA85
    rl_config.useA85 = 0
    try:
        yield
    finally:
        rl_config.useA85 = saved


def render_report(doc: RenderInput) -> RenderedPdf:
    """Render ``doc`` as a GB/T 9704-style PDF with the seal drawn on the last page.

    Raises :class:`pdf.fonts.FontsMissing` when a configured font file is absent."""
    fonts = load_fonts(doc.fonts)
    config = doc.fonts or FontConfig.default()
    title_embolden = config.title.embolden
    ts = _Typesetter(fonts)
    issuer = clean_text(doc.issuer)
    date_text = chinese_date(doc.date)

    # -- 版头: issuer mark, document number, red rule (absolute positions on page 1)
    mark_text = f"{issuer}文件" if issuer else ""
    mark_glyphs = ts.glyphs(mark_text, _TITLE)
    mark_em = sum(g[2] for g in mark_glyphs) / L.TITLE_SIZE or 1.0
    mark_size = min(L.ISSUER_MARK_MAX_SIZE, L.TYPE_WIDTH * L.ISSUER_MARK_WIDTH_FRACTION / mark_em)
    mark_top = L.TYPE_TOP - L.ISSUER_MARK_OFFSET
    mark_baseline = mark_top - L.EM_ASCENT * mark_size
    mark_bottom_band = math.ceil((L.TYPE_TOP - (mark_top - mark_size)) / L.LINE_PITCH - 0.05)
    number_band = mark_bottom_band + L.DOC_NUMBER_GAP_LINES
    number_bottom = L.baseline(number_band) - (1 - L.EM_ASCENT) * L.BODY_SIZE
    rule_y = number_bottom - L.RED_RULE_GAP
    rule_band = int((L.TYPE_TOP - rule_y) // L.LINE_PITCH)
    title_band = rule_band + 1 + L.TITLE_GAP_LINES

    # -- the flow of grid lines: title, town, a blank line, body
    rows: list[_Line | None] = []
    rows.extend(ts.centred(doc.title, _TITLE, L.TITLE_MAX_CHARS * L.TITLE_SIZE, balanced=True,
                           embolden=title_embolden))
    rows.extend(ts.centred(doc.town, _KAITI, L.TYPE_WIDTH))
    rows.append(None)
    rows.extend(_body_lines(ts, doc.outline))
    pages = _paginate(rows, title_band)

    # -- the signature block needs room above the QR code and 版记; if the last page has
    # none, the last body lines move with it to a new page (a signature never stands on
    # a page without text, unless the report has no text at all).
    last = pages[-1]
    last_band = last.rows[-1][0] if last.rows else -1
    if last_band > L.SIGNATURE_LAST_BODY_BAND:
        count = 0
        while count < min(L.SIGNATURE_CARRY_LINES, len(last.rows)) and last.rows[-1 - count][1].body:
            count += 1
        carried = last.rows[len(last.rows) - count:]
        del last.rows[len(last.rows) - count:]
        pages.append(_Page([(band, line) for band, (_, line) in enumerate(carried)]))
        last_band = len(carried) - 1
    name_band = last_band + L.SIGNATURE_NAME_OFFSET
    date_band = last_band + L.SIGNATURE_DATE_OFFSET

    date_line = ts.single(date_text, _BODY)
    date_right = L.TYPE_RIGHT - L.DATE_RIGHT_INSET_CHARS * L.CHAR_PITCH
    date_line.x = date_right - _visual_width(date_line)
    date_centre = date_right - _visual_width(date_line) / 2
    name_line = ts.single(issuer, _BODY)
    name_width = _visual_width(name_line)
    name_line.x = min(date_centre - name_width / 2, L.TYPE_RIGHT - name_width)
    seal_cx = date_centre
    seal_cy = L.band_top(date_band) + L.SEAL_CENTRE_ABOVE_TEXT
    seal_box = (len(pages) - 1, seal_cx - L.SEAL_RADIUS, seal_cy - L.SEAL_RADIUS,
                L.SEAL_DIAMETER, L.SEAL_DIAMETER)

    buffer = BytesIO()
    # ReportLab keeps per-document subset state on the shared fonts: one render at a time
    # per process. ASCII85 on top of Flate only inflates the file by 25 % and costs a
    # fifth of the render time, so it is switched off for our documents.
    with _render_lock, _binary_streams():
        # An embedded initial font: the default (Helvetica) would be listed, unembedded.
        c = Canvas(buffer, pagesize=(L.PAGE_WIDTH, L.PAGE_HEIGHT), pageCompression=1,
                   initialFontName=fonts["body"].name, initialFontSize=L.BODY_SIZE)
        c.setTitle(clean_text(doc.title))
        c.setAuthor(issuer)
        c.setSubject(clean_text(f"{doc.town} · {doc.title}"))
        c.setCreator("Chengbao (呈报)")
        keywords = ["呈报", clean_text(doc.town)]
        extra: dict[str, str] = {}
        if doc.archive_no:
            keywords.append(clean_text(doc.archive_no))
            extra[INFO_ARCHIVE_NO] = clean_text(doc.archive_no)
        if doc.report_id is not None:
            keywords.append(f"报告 #{int(doc.report_id)}")
            extra[INFO_REPORT_ID] = str(int(doc.report_id))
        c.setKeywords("; ".join(k for k in keywords if k))
        c._doc.info = _Info(c._doc.info, extra)

        for index, page in enumerate(pages):
            if index == 0:
                _draw_header(c, ts, mark_glyphs, mark_size, mark_baseline, doc.doc_number,
                             number_band, rule_y, title_embolden)
            c.setFillColorRGB(0, 0, 0)
            for band, line in page.rows:
                c.saveState()
                _draw_line(c, line, L.baseline(band, line.style.size))
                c.restoreState()
            if index == len(pages) - 1:
                _draw_line(c, name_line, L.baseline(name_band))
                _draw_line(c, date_line, L.baseline(date_band))
                _draw_footer(c, ts, doc, issuer, date_text)
                _draw_seal(c, fonts, issuer, seal_cx, seal_cy)
            _draw_page_number(c, fonts, index + 1)
            c.showPage()
        c.save()
    return RenderedPdf(data=buffer.getvalue(), pages=len(pages), seal_box=seal_box)


def _draw_header(c: Canvas, ts: _Typesetter, mark_glyphs: list[_Glyph], mark_size: float,
                 mark_baseline: float, doc_number: str | None, number_band: int,
                 rule_y: float, embolden: float) -> None:
    if mark_glyphs:
        scale = mark_size / L.TITLE_SIZE
        glyphs = [(ch, f, adv * scale) for ch, f, adv in mark_glyphs]
        mark = _Line(glyphs, _Style("title", mark_size, 0.0), 0.0, 0.0, justify=False,
                     embolden=embolden, red=True)
        mark.x = L.TYPE_LEFT + (L.TYPE_WIDTH - mark.natural_width()) / 2
        c.saveState()
        _draw_line(c, mark, mark_baseline)
        c.restoreState()
    if doc_number and clean_text(doc_number):
        for line in ts.centred(doc_number, _BODY, L.TYPE_WIDTH)[:1]:
            _draw_line(c, line, L.baseline(number_band))
    c.saveState()
    c.setStrokeColor(L.RED)
    c.setLineWidth(L.RED_RULE_WIDTH)
    c.line(L.TYPE_LEFT, rule_y, L.TYPE_RIGHT, rule_y)
    c.restoreState()


def _draw_footer(c: Canvas, ts: _Typesetter, doc: RenderInput, issuer: str, date_text: str) -> None:
    """版记 at the foot of the type area, and the QR code with its note above it."""
    inset = L.IMPRINT_SIDE_INSET
    row_h = L.IMPRINT_ROW_HEIGHT
    bottom = L.TYPE_BOTTOM
    rules = [(bottom, L.IMPRINT_THICK_RULE), (bottom + row_h, L.IMPRINT_THIN_RULE),
             (bottom + 2 * row_h, L.IMPRINT_THICK_RULE)]
    c.saveState()
    c.setStrokeColorRGB(0, 0, 0)
    for y, width in rules:
        c.setLineWidth(width)
        c.line(L.TYPE_LEFT, y, L.TYPE_RIGHT, y)
    c.restoreState()

    def row(left: str, right: str, row_bottom: float) -> None:
        y = row_bottom + (row_h - L.PAGE_NUMBER_SIZE) / 2 + (1 - L.EM_ASCENT) * L.PAGE_NUMBER_SIZE
        if left:
            line = ts.single(left, _IMPRINT)
            line.x = L.TYPE_LEFT + inset
            _draw_line(c, line, y)
        if right:
            line = ts.single(right, _IMPRINT)
            line.x = L.TYPE_RIGHT - inset - _visual_width(line)
            _draw_line(c, line, y)

    town = clean_text(doc.town)
    archive = clean_text(doc.archive_no or "")
    row(f"报送单位：{town}" if town else "", f"归档编号：{archive}" if archive else "",
        bottom + row_h)
    row(issuer, f"{date_text}印发", bottom)

    url = clean_text(doc.verify_url or "")
    if not url:
        return
    qr_y = bottom + 2 * row_h + L.QR_GAP_ABOVE_IMPRINT
    _draw_qr(c, url, L.TYPE_LEFT, qr_y, L.QR_SIZE)
    text_x = L.TYPE_LEFT + L.QR_SIZE + L.QR_TEXT_GAP
    measure = L.TYPE_RIGHT - text_x
    note_text = "扫描二维码或访问以下地址，核验本文件的电子签名与内容是否完整："
    note = ts.break_lines(ts.glyphs(note_text, _SMALL), note_text, measure, measure)
    # The QR code carries the encoded URL; people reading the paper get it decoded
    # (示范区〔2026〕3号, not %E7%A4%BA…), which browsers accept as typed.
    shown = unquote(url)
    url_lines = ts.break_lines(ts.glyphs(shown, _SMALL), shown, measure, measure, keep_words=False)[:3]
    y = qr_y + L.QR_SIZE - L.SMALL_SIZE
    for glyphs in note + url_lines:
        _draw_line(c, _Line(glyphs, _SMALL, text_x, measure, justify=False), y)
        y -= L.SMALL_SIZE * 1.35
