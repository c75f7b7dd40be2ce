"""Every page-layout number of the published PDF, in one place (GB/T 9704-2012).

All lengths are PDF points (1/72 inch) unless a name says otherwise; ``MM`` converts.
The typesetter (``pdf.typeset``), the drawing (``pdf.draw``) and the tests import these
names; nothing else should hard-code a size, a position or a colour.

The 28-character grid
---------------------
GB/T 9704-2012 asks for a 156 mm wide type area holding exactly 28 characters of 3号
(16 pt) text, i.e. a character pitch of 156 mm / 28 = 5.571 mm = 15.793 pt, which is
narrower than the 16 pt (5.644 mm) em of the font. Word processors solve this with a
"document grid" that condenses the spacing; we do the same explicitly: glyphs are drawn
at 16 pt and every character advance is shortened by ``BODY_CHAR_SPACE`` (−0.207 pt, the
PDF ``Tc`` operator). The sidebearings of CJK glyphs absorb the 0.2 pt, so nothing
touches, and 28 full-width characters measure exactly 156 mm. Justified lines add
a positive amount on top of that, spread over the gaps between the characters.

Vertical grid: 22 lines at a pitch of 28.95 pt starting at the top margin. Text sits in
its line "band" with the 1 em ideographic box centred vertically, as WPS and Word do
with a document grid.
"""
from __future__ import annotations

from reportlab.lib.colors import Color
from reportlab.lib.pagesizes import A4

MM = 72 / 25.4

# ---- page and type area ---------------------------------------------------------------
PAGE_WIDTH, PAGE_HEIGHT = A4  # 595.28 × 841.89 pt
MARGIN_TOP = 37 * MM  # 天头: paper top edge to type-area top edge
MARGIN_LEFT = 28 * MM  # 订口: paper left edge to type-area left edge
TYPE_WIDTH = 156 * MM  # 版心宽
TYPE_HEIGHT = 225 * MM  # 版心高
TYPE_LEFT = MARGIN_LEFT
TYPE_RIGHT = MARGIN_LEFT + TYPE_WIDTH
TYPE_TOP = PAGE_HEIGHT - MARGIN_TOP  # in PDF coordinates (origin bottom left)
TYPE_BOTTOM = TYPE_TOP - TYPE_HEIGHT

# ---- the grid ---------------------------------------------------------------------------
LINES_PER_PAGE = 22
CHARS_PER_LINE = 28
LINE_PITCH = 28.95  # 22 × 28.95 = 636.9 pt ≤ 637.8 pt (225 mm)
CHAR_PITCH = TYPE_WIDTH / CHARS_PER_LINE  # 15.793 pt = 5.571 mm

# ---- type sizes (字号) ---------------------------------------------------------------------
BODY_SIZE = 16.0  # 3号: body, headings, 发文字号, signature block
TITLE_SIZE = 22.0  # 2号: the title
PAGE_NUMBER_SIZE = 14.0  # 4号: page numbers and 版记
SMALL_SIZE = 9.0  # the verification note next to the QR code (not regulated)

BODY_CHAR_SPACE = CHAR_PITCH - BODY_SIZE  # −0.207 pt: see "The 28-character grid"
TITLE_CHAR_SPACE = 0.0
# Justification may widen gaps by at most this much (in em) before a line is set
# ragged instead; only an over-long unbreakable Latin run can make that happen.
MAX_JUSTIFY_EXTRA_EM = 0.6
# A line is full when its text is wider than the measure by more than this (rounding).
LINE_FIT_TOLERANCE = 0.01

PARAGRAPH_INDENT_CHARS = 2  # 每个自然段左空二字

# Ideographic em box: top at 0.88 em above the baseline, bottom 0.12 em below
# (the AR PL fonts' ascent/descent exactly; close enough for others).
EM_ASCENT = 0.88


def band_top(band: int) -> float:
    """Top edge (PDF y) of grid line ``band`` (0-based) of the type area."""
    return TYPE_TOP - band * LINE_PITCH


def baseline(band: int, size: float = BODY_SIZE) -> float:
    """Baseline (PDF y) of text of ``size`` set in grid line ``band``: em box centred."""
    return band_top(band) - (LINE_PITCH - size) / 2 - EM_ASCENT * size


# ---- tables (表格) ---------------------------------------------------------------------------
# Thin black rules around every cell; text in the body face at 4号, or 小四 for a wide table;
# the header rows in 黑体, repeated at the top of every page the table runs onto. A table
# starts at the top of a grid line, and the text after it on the next whole grid line.
TABLE_SIZE = 14.0  # 4号
TABLE_SIZE_WIDE = 12.0  # 小四: from TABLE_WIDE_COLUMNS columns, or when 4号 does not fit
TABLE_WIDE_COLUMNS = 6
TABLE_LEADING_EM = 1.45  # line pitch inside a cell
TABLE_PAD_X = 4.0  # cell padding, left and right
TABLE_PAD_Y = 3.0  # cell padding, top and bottom
TABLE_MIN_COLUMN_EM = 2.0  # a column holds at least two characters
TABLE_RULE_WIDTH = 0.5  # 细线
# A grid line the text after a table would start on, unless the table reaches less than this
# far (fraction of a line) into it.
TABLE_GRID_SNAP = 0.1


# ---- 版头 (header of page 1) ---------------------------------------------------------------
# 发文机关标志: red, title face, centred; its top edge 35 mm below the type-area top
# (GB/T 9704-2012 §7.2.1 for 下行文/平行文). Size: as large as fits, capped.
ISSUER_MARK_OFFSET = 35 * MM
ISSUER_MARK_MAX_SIZE = 52.0
ISSUER_MARK_WIDTH_FRACTION = 0.94  # of the type width at most
# 发文字号: two blank lines under the mark, centred, 3号 body face.
DOC_NUMBER_GAP_LINES = 2
# 上行文 (§7.2.4, §7.2.5): the 发文字号 居左空一字, on the line of the 签发人, who is 居右空一字
# ("签发人：" in 3号仿宋, the name in 3号楷体).
UPWARD_DOC_NUMBER_INSET_CHARS = 1
UPWARD_SIGNER_INSET_CHARS = 1
# 主送机关 (§7.3.2): 标题下空一行, 居左顶格, ending in a full-width colon.
ADDRESSEE_GAP_LINES = 1
# 红色分隔线: 4 mm under the 发文字号, as wide as the type area.
RED_RULE_GAP = 4 * MM
RED_RULE_WIDTH = 0.35 * MM * 2  # a visibly solid rule (the standard leaves it open)
# The title starts after two blank grid lines under the red rule.
TITLE_GAP_LINES = 2
TITLE_MAX_CHARS = 20  # 22 pt in 156 mm; long titles wrap into balanced centred lines
# A title of three lines or more is balanced by widening a narrow measure in these steps (em).
TITLE_BALANCE_STEP_EM = 0.5
# A title of two or three lines is a trapezoid (each line this much shorter than the next)
# or a diamond (the middle line this much longer), broken at word boundaries.
TITLE_SHAPE_STEP_EM = 1.0
# The grid line under the mark: the one its bottom edge reaches, unless by less than this
# fraction of a line (rounding).
GRID_SNAP_TOLERANCE = 0.05

# ---- page numbers (页码) -------------------------------------------------------------------
PAGE_NUMBER_FORMAT = "— {} —"  # 一字线 on both sides
PAGE_NUMBER_GAP = 7 * MM  # 一字线上距版心下边缘 7 mm
PAGE_NUMBER_INSET = PAGE_NUMBER_SIZE  # 单页码居右空一字, 双页码居左空一字
# The dashes of CJK fonts sit about 0.38 em above the baseline, so the baseline is that
# much lower than the dash line.
PAGE_NUMBER_BASELINE = TYPE_BOTTOM - PAGE_NUMBER_GAP - 0.38 * PAGE_NUMBER_SIZE

# ---- signature block (发文机关署名, 成文日期, 印章) -------------------------------------------------
DATE_RIGHT_INSET_CHARS = 4  # 成文日期右空四字
# Grid lines after the last body line: the 署名 goes on the 3rd, the date on the 4th, so
# the seal (centred a little above the boundary between them) has its top within one
# line of the body text, as §7.3.5.1 requires.
SIGNATURE_NAME_OFFSET = 3
SIGNATURE_DATE_OFFSET = 4
SEAL_DIAMETER = 42 * MM  # 国家机关公章直径 4.2 cm
SEAL_RADIUS = SEAL_DIAMETER / 2
SEAL_CENTRE_ABOVE_TEXT = 6.0  # 署名和日期居印章中心偏下
SEAL_RING_WIDTH = 1.2 * MM
SEAL_STAR_RADIUS = 7 * MM
SEAL_TEXT_SIZE = 8.2 * MM  # cap height-ish of the arc text
SEAL_TEXT_RADIUS = SEAL_RADIUS - SEAL_RING_WIDTH - 1.0 * MM  # outer edge of the arc text
SEAL_TEXT_MIN_SPAN_DEG = 100.0
SEAL_TEXT_MAX_SPAN_DEG = 250.0
SEAL_TEXT_DEG_PER_CHAR = 32.0
SEAL_TEXT_STROKE = 1.1  # pt: emboldens the light Ming face into seal-like lettering
# The arc's glyphs: drawn at SEAL_TEXT_SIZE / SEAL_TEXT_EM_HEIGHT (a CJK glyph fills about
# that much of its em), their tops SEAL_TEXT_TOP_EM above the baseline, condensed to
# SEAL_TEXT_CONDENSE of their width; a long name shrinks until each glyph takes at most
# SEAL_TEXT_FILL of its share of the arc.
SEAL_TEXT_EM_HEIGHT = 0.92
SEAL_TEXT_TOP_EM = 0.86
SEAL_TEXT_CONDENSE = 0.78
SEAL_TEXT_FILL = 0.92

# ---- the district's approval mark (上行文) ----------------------------------------------------
# A thin-ruled box on the left of the signature block, level with it: 审核意见 (the district
# reviewer's opinion, else 同意。) on the lines above the town's 署名, then the district's
# name and the approval date on the 署名's and 成文日期's lines, centred in the box, the
# district's seal over them as the town's is over its own.
APPROVAL_BOX_CHARS = 13  # the box's width, in grid characters (the town's seal stays clear of it)
APPROVAL_BOX_PAD_CHARS = 0.5  # inner margin left and right
# The opinion takes the one grid line above the 署名's: at 3号 when it fits, else in two lines
# of 4号 (a longer one ends with ……; the full text is in the audit trail and the 审批单).
APPROVAL_OPINION_MAX_LINES = 2
APPROVAL_OPINION_SMALL_SIZE = 14.0  # 4号
APPROVAL_OPINION_SMALL_LEADING = 14.4
APPROVAL_RULE_WIDTH = 0.5
APPROVAL_BOX_TOP_PAD = 4.0  # the box's top rule this far above the opinion's grid line (into the blank line)
# The district's seal covers its name and date, not its opinion: its top on the top edge of
# the 署名's grid line (its centre a little under the date's line), so it hangs below the
# box, SEAL_RADIUS - LINE_PITCH - SEAL_CENTRE_ABOVE_TEXT (about 37 pt) lower than the town's.
# With a mark, the signature block therefore ends one grid line higher on its page (see
# APPROVAL_SIGNATURE_LAST_BODY_BAND below): the seal stays clear of the QR code and the page number.
APPROVAL_SEAL_TOP_BAND_OFFSET = SIGNATURE_NAME_OFFSET  # the seal's top: the 署名's grid line's top edge

# ---- last-page footer: QR code and 版记 -----------------------------------------------------
# 版记 sits at the bottom of the type area of the last page: a thick rule, the
# 报送单位 / 归档编号 row, a thin rule, the 印发机关 / 印发日期 row, a thick rule.
IMPRINT_ROW_HEIGHT = 0.9 * LINE_PITCH
IMPRINT_THICK_RULE = 0.35 * MM
IMPRINT_THIN_RULE = 0.25 * MM
IMPRINT_SIDE_INSET = PAGE_NUMBER_SIZE  # 左右各空一字
QR_SIZE = 20 * MM
QR_QUIET_MODULES = 1
QR_GAP_ABOVE_IMPRINT = 3 * MM
QR_TEXT_GAP = 3 * MM
QR_ADDRESS_MAX_LINES = 3  # the verification address next to the QR code
SMALL_LEADING = SMALL_SIZE * 1.35  # the note and the address next to the QR code
# The last grid line the body may use on a page that carries the signature block AND the
# QR code and 版记 under it; beyond it the seal would run into them. Then either the
# footer goes to the next page (SIGNATURE_ALONE_LAST_BODY_BAND) or the last body lines,
# SIGNATURE_CARRY_LINES at least, move to a new page with the signature (never a
# signature page without body text): see pdf.typeset._place_signature.
SIGNATURE_LAST_BODY_BAND = 12
SIGNATURE_CARRY_LINES = 2
# Without the QR code and the 版记 under it (they go to the next page), the signature block
# fits after a last body line this low: the date on the last grid line, the seal's lower
# edge less than a line under the type area (clear of the page number, which sits a
# character in from the edge while the seal is centred on the date four characters in).
# A short report keeps its text and signature on page 1 this way.
SIGNATURE_ALONE_LAST_BODY_BAND = LINES_PER_PAGE - 1 - SIGNATURE_DATE_OFFSET
# The same limits when the district's approval mark (and its lower seal) is beside the block:
# a line higher, so the seal clears the QR code; without the footer, on an even page (page
# number on the left, under the district's seal) two lines higher, so it clears the number.
APPROVAL_SIGNATURE_LAST_BODY_BAND = SIGNATURE_LAST_BODY_BAND - 1
APPROVAL_SIGNATURE_ALONE_LAST_BODY_BAND = SIGNATURE_ALONE_LAST_BODY_BAND - 1
APPROVAL_SIGNATURE_ALONE_LAST_BODY_BAND_EVEN = SIGNATURE_ALONE_LAST_BODY_BAND - 2
# The last grid line text may use on the page that carries the QR code and the 版记 but no
# signature (the last page of the annexes).
FOOTER_LAST_BODY_BAND = 16

# ---- colour -------------------------------------------------------------------------------
# Every colour is DeviceRGB, in the sRGB of the PDF/A output intent (``pdf.pdfa``).
# 红色: C0 M80 Y80 K0 as printed on coated paper — L*a*b* 54.0/55.3/42.4 interpolated from
# the FOGRA39 characterisation data (Debian's icc-profiles-free), which is sRGB 221/80/59.
RED = Color(221 / 255, 80 / 255, 59 / 255)
BLACK = (0, 0, 0)  # RGB: text, the 版记's rules, the QR code's modules
WHITE = (1, 1, 1)  # RGB: under the QR code
