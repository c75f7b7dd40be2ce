"""Drawing: a composed document (``pdf.typeset.Composition``) put on ReportLab canvas pages.

Everything here is a canvas operation at a position the typesetter chose: lines of
glyphs (justified with the ``Tc`` operator, the 破折号 joined), the tables' thin rules, the
red rule and the 版记's rules, the QR code, the seal (drawn as vector art: a ring, a star and the issuer's
name along the arc, from the glyph outlines, so that it is artwork, not text), the page
numbers, and the document information dictionary with Chengbao's own keys — with the
PDF/A-2b parts of ``pdf.pdfa`` (XMP metadata repeating it, the sRGB output intent): every
colour is DeviceRGB, and nothing is transparent.
"""
from __future__ import annotations

import datetime as dt
import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from io import BytesIO
from typing import Any

import qrcode
from qrcode.constants import ERROR_CORRECT_M
from reportlab import rl_config
from reportlab.pdfbase.pdfdoc import PDFDictionary, PDFInfo, PDFName, PDFString
from reportlab.pdfgen.canvas import FILL_NON_ZERO, Canvas  # type: ignore[attr-defined]  # (not in the stubs)

from . import layout as L
from . import pdfa, speedups
from .fonts import clean_text, glyph_path
from .linebreak import positions
from .typeset import Composition, Line, QrCode, Rule, Seal

__all__ = ["DocumentInfo", "draw_document", "draw_line"]

speedups.install_deflate()  # the streams' deflate at zlib-ng's speed, where it is installed


@dataclass(frozen=True)
class DocumentInfo:
    """The PDF's document information dictionary: the standard entries and ``extra`` ones."""

    title: str
    author: str
    subject: str
    creator: str
    keywords: str
    extra: dict[str, str]


_render_lock = threading.Lock()


@contextmanager
def _binary_streams() -> Iterator[None]:
    saved = rl_config.useA85
    rl_config.useA85 = 0
    try:
        yield
    finally:
        rl_config.useA85 = saved


def new_canvas(buffer: BytesIO, info: DocumentInfo, initial_font: str, initial_size: float) -> Canvas:
    """A canvas for one of our PDF/A-2b documents: A4, the document information (with
    Chengbao's own keys) and the XMP and output intent of ``pdf.pdfa``. Call it inside
    ``_render_lock`` and ``_binary_streams()``."""
    c = Canvas(buffer, pagesize=(L.PAGE_WIDTH, L.PAGE_HEIGHT), pageCompression=1,
               initialFontName=initial_font, initialFontSize=initial_size)  # type: ignore[arg-type]  # stubs: float
    c.setTitle(info.title)
    c.setAuthor(info.author)
    c.setSubject(info.subject)
    c.setCreator(info.creator)
    c.setKeywords(info.keywords)
    # One instant for /CreationDate, /ModDate and their XMP forms (PDF/A: equal values).
    created = dt.datetime.now(dt.UTC).replace(microsecond=0)
    base_info = c._doc.info  # type: ignore[attr-defined]
    c._doc.info = _Info(base_info, info.extra, created)  # type: ignore[attr-defined]  # no API for custom entries
    pdfa.add_to_catalog(c._doc, pdfa.DocumentMetadata(  # type: ignore[attr-defined]
        title=info.title, author=info.author, subject=info.subject, keywords=info.keywords,
        creator=info.creator, producer=base_info.producer, created=created))
    return c


def draw_document(doc: Composition, info: DocumentInfo, initial_font: str) -> bytes:
    """The PDF of ``doc``: page 1 carries the header, the signature block's page the block
    and the seal, the last page the 版记 and the QR code; every page its number. ``initial_font``
    is the name of a registered (embedded) face: ReportLab's default, Helvetica, would be
    listed in the file unembedded."""
    buffer = BytesIO()
    # ReportLab keeps per-document subset state on the shared fonts: one render at a time
    # per process. ASCII85 on top of Flate only inflates the file by 25 % and costs a
    # fifth of the render time, so it is switched off for our documents.
    with _render_lock, _binary_streams():
        c = new_canvas(buffer, info, initial_font, L.BODY_SIZE)

        last = len(doc.pages) - 1
        for index, rows in enumerate(doc.pages):
            if index == 0:
                _draw_header(c, doc)
            if index == doc.signature_page % len(doc.pages):
                # Under everything else: the text it covers prints over the opaque ink,
                # as black over red does with a multiply blend (PDF/A: no transparency).
                _draw_seal(c, doc.seal)
                if doc.approval_seal is not None:  # 上行文: the district's seal over its mark
                    _draw_seal(c, doc.approval_seal)
            c.setFillColorRGB(*L.BLACK)
            for placed in rows:
                c.saveState()
                draw_line(c, placed.line, placed.y)
                c.restoreState()
            if index < len(doc.rules):
                _draw_rules(c, doc.rules[index])
            if index == doc.signature_page % len(doc.pages):
                for placed in doc.signature:
                    draw_line(c, placed.line, placed.y)
                _draw_approval(c, doc)
            if index == last:
                _draw_footer(c, doc)
            number = doc.page_numbers[index]
            c.setFont(number.font.name, L.PAGE_NUMBER_SIZE)
            c.drawString(number.x, number.y, number.text)
            c.showPage()
        c.save()
    return buffer.getvalue()


def _draw_rules(c: Canvas, rules: list[Rule]) -> None:
    """The thin black rules of the tables on a page."""
    if not rules:
        return
    c.saveState()
    c.setStrokeColorRGB(*L.BLACK)
    c.setLineWidth(L.TABLE_RULE_WIDTH)
    c.setLineCap(2)  # projecting: the rules meet at the corners without gaps
    p = c.beginPath()
    for x1, y1, x2, y2 in rules:
        p.moveTo(x1, y1)
        p.lineTo(x2, y2)
    c.drawPath(p, stroke=1, fill=0)
    c.restoreState()


def _draw_header(c: Canvas, doc: Composition) -> None:
    """版头: the red issuer's mark, the document number, the red rule."""
    if doc.issuer_mark is not None:
        c.saveState()
        draw_line(c, doc.issuer_mark.line, doc.issuer_mark.y)
        c.restoreState()
    if doc.doc_number is not None:
        draw_line(c, doc.doc_number.line, doc.doc_number.y)
    for placed in doc.signer:  # 上行文: 签发人 on the 发文字号's line
        draw_line(c, placed.line, placed.y)
    c.saveState()
    c.setStrokeColor(L.RED)
    c.setLineWidth(L.RED_RULE_WIDTH)
    c.line(L.TYPE_LEFT, doc.red_rule_y, L.TYPE_RIGHT, doc.red_rule_y)
    c.restoreState()


def _draw_approval(c: Canvas, doc: Composition) -> None:
    """上行文: the district's approval mark (a thin box, its opinion, name and date), over
    the district's seal (drawn first, like the town's)."""
    if not doc.approval:
        return
    c.saveState()
    c.setStrokeColorRGB(*L.BLACK)
    c.setLineWidth(L.APPROVAL_RULE_WIDTH)
    p = c.beginPath()
    for x1, y1, x2, y2 in doc.approval_rules:
        p.moveTo(x1, y1)
        p.lineTo(x2, y2)
    c.drawPath(p, stroke=1, fill=0)
    c.restoreState()
    c.setFillColorRGB(*L.BLACK)
    for placed in doc.approval:
        draw_line(c, placed.line, placed.y)


def _draw_footer(c: Canvas, doc: Composition) -> None:
    """版记 at the foot of the type area, and the QR code with its note above it."""
    c.saveState()
    c.setStrokeColorRGB(*L.BLACK)
    for y, width in doc.imprint_rules:
        c.setLineWidth(width)
        c.line(L.TYPE_LEFT, y, L.TYPE_RIGHT, y)
    c.restoreState()
    for placed in doc.imprint:
        draw_line(c, placed.line, placed.y)
    if doc.qr is None:
        return
    _draw_qr(c, doc.qr)
    for placed in doc.qr_note:
        draw_line(c, placed.line, placed.y)


def draw_line(c: Canvas, line: Line, y: float) -> None:
    """A line of glyphs at baseline ``y``. Each run of glyphs in one font with the same
    justification gap after each is drawn from its own origin with that gap in ``Tc``: a
    Latin word or a URL is one run with no gap inside (never letter-spaced), the Chinese
    text around it takes the line's extra space (see ``pdf.linebreak.justify_gaps``)."""
    glyphs = line.glyphs
    if not glyphs:
        return
    cs = line.style.char_space
    gaps = line.gaps()
    xs = positions(line.x, glyphs, gaps)
    t = c.beginText(line.x, y)
    if line.red:
        t.setFillColor(L.RED)
        t.setStrokeColor(L.RED)
    if line.embolden:
        # Fill and stroke: a synthetic bold for a light face standing in for 小标宋.
        c.setLineWidth(line.embolden * line.style.size)
        c.setLineJoin(1)
        t.setTextRenderMode(2)
    size = line.style.size
    start = 0
    n = len(glyphs)
    while start < n:
        font = glyphs[start][1]
        gap = gaps[start]
        end = start + 1
        # A run: one font, and the same gap between each of its glyphs and the next.
        while end < n and glyphs[end][1] is font and gaps[end - 1] == gap:
            end += 1
        t.setTextOrigin(xs[start], y)
        t.setFont(font.name, size)
        t.setCharSpace(cs + gap)
        t.textOut("".join(g[0] for g in glyphs[start:end]))
        start = end
    c.drawText(t)
    if "——" in "".join(g[0] for g in glyphs):
        _join_dashes(c, line, y, xs)


def _join_dashes(c: Canvas, line: Line, y: float, origins: list[float]) -> None:
    """Bridge the gaps between the glyphs of a 破折号 "——": many fonts (AR PL among them)
    draw each "—" with sidebearings, so two of them print as "— —". A rule at the dash's
    own height and thickness joins them; the text itself stays two U+2014 characters."""
    size = line.style.size
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


def _draw_seal(c: Canvas, seal: Seal) -> None:
    """A round official seal (公章): red ring, five-pointed star, the issuer's name along
    the upper arc. Opaque paths in the DeviceRGB red, drawn before the text they cover
    (the 署名 and the date), so that text shows through as it does through stamp ink."""
    r = L.SEAL_RADIUS
    cx, cy = seal.cx, seal.cy
    c.saveState()
    c.setFillColor(L.RED)
    c.setStrokeColor(L.RED)
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
    chars = [ch for ch in clean_text(seal.name) if not ch.isspace()]
    font = seal.font
    n = len(chars)
    if n:
        span = min(L.SEAL_TEXT_MAX_SPAN_DEG, max(L.SEAL_TEXT_MIN_SPAN_DEG, n * L.SEAL_TEXT_DEG_PER_CHAR))
        step = span / (n - 1) if n > 1 else 0.0
        size = L.SEAL_TEXT_SIZE / L.SEAL_TEXT_EM_HEIGHT
        baseline_r = L.SEAL_TEXT_RADIUS - L.SEAL_TEXT_TOP_EM * size
        x_scale = L.SEAL_TEXT_CONDENSE
        # Long names: shrink so neighbours do not touch along the baseline circle.
        if n > 1:
            room = baseline_r * math.radians(step) * L.SEAL_TEXT_FILL
            if size * x_scale > room:
                size = room / x_scale
                baseline_r = L.SEAL_TEXT_RADIUS - L.SEAL_TEXT_TOP_EM * size
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


# One mask for every code instead of qrcode trying all eight and keeping the one with the
# lowest penalty (nine encodings instead of one: ≈20 ms a page). Any mask is valid; 4 is
# the one that choice picked most often for verification URLs.
QR_MASK_PATTERN = 4


def _draw_qr(c: Canvas, code: QrCode) -> None:
    x, y, size = code.x, code.y, code.size
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=0, mask_pattern=QR_MASK_PATTERN)
    qr.add_data(code.url)
    qr.make(fit=True)
    matrix = qr.get_matrix()
    count = len(matrix) + 2 * L.QR_QUIET_MODULES
    module = size / count
    c.saveState()
    c.setFillColorRGB(*L.WHITE)
    c.rect(x, y, size, size, stroke=0, fill=1)
    c.setFillColorRGB(*L.BLACK)
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

    def __init__(self, base: PDFInfo, extra: dict[str, str], created: dt.datetime):
        super().__init__()
        self.__dict__.update(base.__dict__)
        self.extra = extra
        self.created = created

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
        entries["ModDate"] = entries["CreationDate"] = PDFString(pdfa.pdf_date(self.created))
        for key, value in self.extra.items():
            entries[key] = PDFString(value)
        return PDFDictionary(entries).format(document)


# ---- the document ---------------------------------------------------------------------------
