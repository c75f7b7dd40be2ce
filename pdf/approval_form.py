"""The approval form (审批单) of a published report: a printable A4 page (or more) that
records how the report came to be published — its title, town, district and archive
number, every step of its history up to the district's approval (who, in which role,
did what, with what opinion, when), the approved content's SHA-256 and the signed PDF's
— signed with the district's certificate like the report itself (PAdES B-LTA).

It is made by the publishing job once the report's PDF is archived
(:func:`ensure_approval_form`, called by ``pdf.jobs.publish``), or by a job of its own
for a publication that has none (published before forms existed, or whose job ran out of
retries while making it): the download enqueues that job (``pdf.approval_jobs``). The
signing key, the verification address and the time zone come from the caller
(:class:`FormSigning`): this module imports nothing of ``pdf.jobs``.
Made once: the form's SHA-256 is written onto the publication under its row lock only
while it has none (``pdf.archive.archive_approval_form``), so a retried or concurrent
run never gives a second, different form; the losing run's file is discarded.

Drawn like the report: user text (titles, names, opinions) is cleaned by
:func:`pdf.fonts.clean_text`, measured glyph by glyph by ``pdf.typeset.Typesetter`` and
drawn by ``pdf.draw.draw_line``; it never reaches ReportLab's ``Paragraph`` markup.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from workflow.audit import report_head
from workflow.db import db
from workflow.errors import Conflict, NotFound
from workflow.models import AuditEvent, OrgUnit, Publication, Report, ReportVersion
from workflow.table import AUTHOR, PUBLISHED, transition_for

from . import archive, ltv, publications
from . import layout as L
from .fonts import FontConfig, LoadedFont, clean_text, load_fonts
from .typeset import Line, QrCode, Seal, Style, Typesetter, chinese_date

log = logging.getLogger(__name__)

__all__ = ["FormInput", "FormSigning", "FormStep", "ensure_approval_form", "render_approval_form"]

# ---- the form's own page geometry (A4, the report's type width and left margin) ------------
MARGIN_TOP = 20 * L.MM
MARGIN_BOTTOM = 22 * L.MM
LEFT, RIGHT, WIDTH = L.TYPE_LEFT, L.TYPE_RIGHT, L.TYPE_WIDTH
TOP = L.PAGE_HEIGHT - MARGIN_TOP
BOTTOM = MARGIN_BOTTOM
FOOTER_BASELINE = 15 * L.MM
TITLE_SIZE = L.TITLE_SIZE  # 2号
TEXT_SIZE = 12.0  # 小四: the tables
HASH_SIZE = 9.5  # the SHA-256 digests, each on one line
SMALL_SIZE = L.SMALL_SIZE  # the note by the QR code, the page footer
HEADING_SIZE = 14.0  # 4号: 审批流程
LEADING = 1.45  # in em, inside a cell
PAD_X, PAD_Y = 4.0, 3.0
RULE_WIDTH = 0.5
INFO_LABEL_WIDTH = 30 * L.MM
INFO_PAIR_VALUE_WIDTH = (L.TYPE_WIDTH - 2 * INFO_LABEL_WIDTH) / 2
# 序号 · 环节 · 办理人（角色） · 意见 · 时间: 156 mm.
STEP_COLUMNS_MM = (12, 28, 30, 56, 30)
GAP = 4 * L.MM  # between blocks
SIGNATURE_BLOCK = L.SEAL_DIAMETER + 6 * L.MM  # the conclusion, QR code and note; the seal

# ---- the printed words (the document's own language) ---------------------------------------
FORM_TITLE = "呈报审批单"
SUBTITLE = "归档编号：{}"
INFO_LABELS = ("报告标题", "报送单位", "审批机关", "报告编号", "归档编号", "签署时间", "内容 SHA-256",
               "文件 SHA-256")
REPORT_NUMBER = "报告 {id} · 第 {version} 版"
SIGNED_AT = "{time}（{zone}，{source}）"
BEIJING = "北京时间"
FROM_TSA, FROM_CLOCK = "时间戳服务时间", "服务器时间"
STEPS_HEADING = "审批流程"
STEP_HEADER = ("序号", "环节", "办理人", "意见或理由", "时间")
NO_OPINION = "—"
CONCLUSION = "审批结论：同意发布，归档编号 {}。"
NOTE = "本审批单依据系统审计记录生成，并由审批机关的数字证书签名。扫描二维码或访问以下地址核验："
AUDIT_CHAIN = "审计链 {}"
FOOTER = "{archive_no} 审批单　第 {page} 页　共 {pages} 页"
ROLE_LABELS = {AUTHOR: "填报人", "town_reviewer": "镇审核人", "district_reviewer": "区审核人", "admin": "管理员"}
INFO_FORM_OF = "ChengbaoApprovalFormOf"  # Info key: the archive number the form belongs to
CREATOR = "Chengbao (呈报)"


def action_label(action: str, from_state: str | None, to_state: str) -> str:
    """What a step of the history was, in the form's words."""
    if action == "create":
        return "起草"
    if action == "submit":
        return "提交审核"
    if action == "withdraw":
        return "撤回"
    if action == "approve":
        return "区审核批准发布" if to_state == PUBLISHED else "镇审核通过"
    if action == "return":
        return "区审核退回修改" if from_state == "district_review" else "镇审核退回修改"
    return clean_text(action)


def role_of(action: str, from_state: str | None) -> str:
    """The role a step was taken in: the one its transition demands (creating: the author)."""
    if action == "create" or from_state is None:
        return AUTHOR
    t = transition_for(from_state, action)
    return t.role if t is not None else ""


# ---------------------------------------------------------------- what the form says


@dataclass(frozen=True)
class FormStep:
    number: int
    action: str  # printed label
    actor: str
    role: str  # printed label
    opinion: str
    at: dt.datetime  # local time


@dataclass(frozen=True)
class FormInput:
    """Everything printed on the form. All strings are untrusted user text."""

    title: str
    town: str
    district: str
    report_id: int
    version: int
    archive_no: str
    signed_at: dt.datetime | None  # local time of the report's signature
    content_sha256: str
    file_sha256: str
    approved_on: dt.date  # the district's approval, local date
    steps: list[FormStep]
    verify_url: str | None = None
    audit_head: str | None = None
    fonts: Any = None  # a pdf.fonts.FontConfig
    timezone: str = "Asia/Shanghai"  # of the times printed
    signed_at_from_tsa: bool = True  # the report's signing time is its timestamp token's (else B-B: the clock)


@dataclass(frozen=True)
class FormSigning:
    """What the form takes from the publishing side (``pdf.jobs.form_signing``): the
    district's signer, the verification address of an archive number, the time zone."""

    load_signer: Callable[[OrgUnit], Any]
    verify_url: Callable[[str], str]
    timezone: str


def _local(when: dt.datetime, timezone: str) -> dt.datetime:
    return when.replace(tzinfo=dt.UTC).astimezone(ZoneInfo(timezone)).replace(tzinfo=None)


def form_input(pub: Publication, config: Any, signing: FormSigning) -> FormInput:
    """The form's content for a ready publication: the history up to and including the
    district's approval of the published version (the same on every run)."""
    timezone = signing.timezone
    report = db.session.get_one(Report, pub.report_id)
    version = db.session.get_one(ReportVersion, pub.report_version_id)
    district = db.session.get_one(OrgUnit, pub.district_id)
    events = list(db.session.scalars(select(AuditEvent).where(AuditEvent.report_id == report.id)
                                     .order_by(AuditEvent.seq)))
    last = next((e.seq for e in events if e.action == "approve" and e.to_state == PUBLISHED
                 and e.version_number == version.number), None)
    steps = [FormStep(number=i, action=action_label(e.action, e.from_state, e.to_state),
                      actor=e.actor.display_name or e.actor.username,
                      role=ROLE_LABELS.get(role_of(e.action, e.from_state), ""),
                      opinion=e.comment or "", at=_local(e.created_at, timezone))
             for i, e in enumerate((e for e in events if last is None or e.seq <= last), start=1)]
    assert pub.archive_no and pub.file_sha256  # a ready publication has both
    return FormInput(
        title=version.title, town=report.org_unit.name, district=district.name, report_id=report.id,
        version=version.number, archive_no=pub.archive_no,
        signed_at=_local(pub.signed_at, timezone) if pub.signed_at else None,
        content_sha256=pub.content_sha256, file_sha256=pub.file_sha256,
        approved_on=_local(pub.created_at, timezone).date(), steps=steps,
        verify_url=signing.verify_url(pub.archive_no), audit_head=report_head(report.id),
        fonts=FontConfig.from_settings(config), timezone=timezone,
        signed_at_from_tsa=ltv.signature_time(archive.read(config["ARCHIVE_DIR"], pub.file_sha256)) is not None)


# ---------------------------------------------------------------- layout


@dataclass
class _Page:
    lines: list[tuple[Line, float]] = field(default_factory=list)
    rules: list[tuple[float, float, float, float]] = field(default_factory=list)
    qr: QrCode | None = None
    seal: Seal | None = None


@dataclass(frozen=True)
class RenderedForm:
    data: bytes
    pages: int
    seal_box: tuple[int, float, float, float, float]  # (page index, x, y, width, height)


class _Layout:
    """Top-down placement of blocks on pages, a new page when the next one does not fit."""

    def __init__(self, fonts: dict[str, LoadedFont]) -> None:
        self.ts = Typesetter(fonts)
        self.fonts = fonts
        self.pages: list[_Page] = [_Page()]
        self.y = TOP
        self.repeat_header: list[tuple[list[list[Line]], list[float]]] = []

    @property
    def page(self) -> _Page:
        return self.pages[-1]

    def new_page(self) -> None:
        self.pages.append(_Page())
        self.y = TOP
        for cells, widths in self.repeat_header:
            self._row(cells, widths)

    def wrap(self, text: str, style: Style, measure: float, *, keep_words: bool = True,
             justify: bool = False) -> list[Line]:
        """``text`` broken into lines of ``measure`` (``justify``: all but the last spread to it)."""
        text = clean_text(text)
        if not text:
            return []
        glyphs = self.ts.glyphs(text, style)
        broken = self.ts.break_lines(glyphs, text, measure, measure, keep_words=keep_words)
        return [Line(g, style, 0.0, measure, justify=justify and i < len(broken) - 1) for i, g in enumerate(broken)]

    def centred(self, text: str, style: Style, embolden: float = 0.0) -> None:
        for line in self.wrap(text, style, WIDTH):
            line.x = LEFT + (WIDTH - line.natural_width()) / 2
            line.embolden = embolden
            self._put(line, style.size * 1.5)

    def right(self, text: str, style: Style) -> None:
        for line in self.wrap(text, style, WIDTH):
            line.x = RIGHT - line.natural_width()
            self._put(line, style.size * 1.5)

    def left(self, text: str, style: Style, *, keep_words: bool = True) -> None:
        for line in self.wrap(text, style, WIDTH, keep_words=keep_words):
            line.x = LEFT
            self._put(line, style.size * 1.5)

    def _put(self, line: Line, height: float) -> None:
        if self.y - height < BOTTOM:
            self.new_page()
        size = line.style.size
        self.page.lines.append((line, self.y - (height - size) / 2 - L.EM_ASCENT * size))
        self.y -= height

    def space(self, height: float) -> None:
        self.y -= height

    def cell(self, texts: list[tuple[str, Style, bool]], width: float, *, justify: bool = False) -> list[Line]:
        """A cell's lines: each (text, style, keep_words) wrapped to the cell's inner width."""
        lines: list[Line] = []
        for text, style, keep_words in texts:
            lines.extend(self.wrap(text, style, width - 2 * PAD_X, keep_words=keep_words, justify=justify))
        return lines

    def table_row(self, cells: list[list[Line]], widths: list[float]) -> None:
        """A row of cells, split across pages when taller than what is left of a fresh page."""
        while True:
            height = self._row_height(cells)
            if self.y - height >= BOTTOM:
                self._row(cells, widths)
                return
            fresh = self.y >= TOP - self._header_height() - 0.01
            if not fresh:
                self.new_page()
                continue
            room = int((self.y - BOTTOM - 2 * PAD_Y) // self._leading(cells))
            if room < 1:  # pragma: no cover - a page always holds a line
                room = 1
            self._row([c[:room] for c in cells], widths)
            cells = [c[room:] for c in cells]
            self.new_page()

    def _header_height(self) -> float:
        return sum(self._row_height(cells) for cells, _ in self.repeat_header)

    @staticmethod
    def _leading(cells: list[list[Line]]) -> float:
        sizes = [line.style.size for c in cells for line in c] or [TEXT_SIZE]
        return max(sizes) * LEADING

    def _row_height(self, cells: list[list[Line]]) -> float:
        leading = self._leading(cells)
        return max(1, max(len(c) for c in cells)) * leading + 2 * PAD_Y

    def _row(self, cells: list[list[Line]], widths: list[float]) -> None:
        leading = self._leading(cells)
        height = self._row_height(cells)
        top, x = self.y, LEFT
        for lines, width in zip(cells, widths, strict=True):
            for i, line in enumerate(lines):
                size = line.style.size
                line.x = x + PAD_X
                self.page.lines.append((line, top - PAD_Y - i * leading - (leading - size) / 2 - L.EM_ASCENT * size))
            x += width
        bottom = top - height
        rules = self.page.rules
        rules.append((LEFT, top, RIGHT, top))
        rules.append((LEFT, bottom, RIGHT, bottom))
        x = LEFT
        for width in widths:
            rules.append((x, top, x, bottom))
            x += width
        rules.append((RIGHT, top, RIGHT, bottom))
        self.y = bottom


def _time_text(when: dt.datetime | None) -> str:
    return when.strftime("%Y-%m-%d %H:%M:%S") if when is not None else "—"


def compose(form: FormInput, fonts: dict[str, LoadedFont], title_embolden: float = 0.0
            ) -> tuple[list[_Page], tuple[int, float, float, float, float]]:
    """The form set on pages; the seal's box (page index, x, y, width, height)."""
    body = Style("body", TEXT_SIZE, 0.0)
    heiti = Style("heiti", TEXT_SIZE, 0.0)
    hashes = Style("body", HASH_SIZE, 0.0)
    small = Style("body", SMALL_SIZE, 0.0)
    lay = _Layout(fonts)

    lay.centred(FORM_TITLE, Style("title", TITLE_SIZE, 0.0), embolden=title_embolden)
    lay.right(SUBTITLE.format(form.archive_no), body)
    lay.space(GAP / 2)

    label_w, pair_w = INFO_LABEL_WIDTH, INFO_PAIR_VALUE_WIDTH
    full = [label_w, WIDTH - label_w]
    pair = [label_w, pair_w, label_w, pair_w]
    values = dict(zip(INFO_LABELS, [
        form.title, form.town, form.district, REPORT_NUMBER.format(id=form.report_id, version=form.version),
        form.archive_no,
        SIGNED_AT.format(time=_time_text(form.signed_at), zone=BEIJING if form.timezone == "Asia/Shanghai"
                         else clean_text(form.timezone), source=FROM_TSA if form.signed_at_from_tsa else FROM_CLOCK)
        if form.signed_at else "—",
        form.content_sha256, form.file_sha256,
    ], strict=True))

    def label(text: str, width: float) -> list[Line]:
        return lay.cell([(text, heiti, True)], width)

    def value(text: str, width: float, style: Style = body) -> list[Line]:
        return lay.cell([(text, style, style is body)], width, justify=style is body)

    title, town, district, number, archive_no, signed, content, file = INFO_LABELS
    lay.table_row([label(title, label_w), value(values[title], full[1])], full)
    for left_key, right_key in ((town, district), (number, archive_no)):
        lay.table_row([label(left_key, label_w), value(values[left_key], pair_w),
                       label(right_key, label_w), value(values[right_key], pair_w)], pair)
    lay.table_row([label(signed, label_w), value(values[signed], full[1])], full)
    for key in (content, file):
        lay.table_row([label(key, label_w), value(values[key], full[1], hashes)], full)

    lay.space(GAP)
    lay.left(STEPS_HEADING, Style("heiti", HEADING_SIZE, 0.0))
    widths = [mm * L.MM for mm in STEP_COLUMNS_MM]
    header = [lay.cell([(text, heiti, True)], w) for text, w in zip(STEP_HEADER, widths, strict=True)]
    lay.table_row(header, widths)
    lay.repeat_header = [(header, widths)]
    for step in form.steps:
        lay.table_row([
            lay.cell([(str(step.number), body, True)], widths[0]),
            lay.cell([(step.action, body, True)], widths[1]),
            lay.cell([(step.actor, body, True), (step.role, body, True)], widths[2]),
            lay.cell([(step.opinion or NO_OPINION, body, True)], widths[3], justify=True),
            lay.cell([(step.at.strftime("%Y-%m-%d"), body, True), (step.at.strftime("%H:%M:%S"), body, True)],
                     widths[4]),
        ], widths)
    lay.repeat_header = []

    lay.space(GAP)
    # The signature block: the conclusion, the QR code and the verification note on the
    # left; the district's name and the approval date on the right, the seal over them.
    if lay.y - SIGNATURE_BLOCK < BOTTOM:
        lay.new_page()
    block_top = lay.y
    lay.left(CONCLUSION.format(form.archive_no), body)
    lay.y = block_top
    date_line = lay.wrap(chinese_date(form.approved_on), Style("body", L.BODY_SIZE, 0.0), WIDTH)[0]
    name_line = lay.wrap(form.district, Style("body", L.BODY_SIZE, 0.0), WIDTH)[0]
    block_right = RIGHT - 2 * L.BODY_SIZE
    centre = block_right - max(date_line.natural_width(), name_line.natural_width()) / 2
    seal_cy = block_top - L.SEAL_RADIUS - 2 * L.MM
    for line, y in ((name_line, seal_cy - 2), (date_line, seal_cy - 2 - 1.6 * L.BODY_SIZE)):
        line.x = centre - line.natural_width() / 2
        lay.page.lines.append((line, y))
    seal = Seal(clean_text(form.district), fonts["title"], centre, seal_cy)
    lay.page.seal = seal
    if form.verify_url:
        qr_top = block_top - TEXT_SIZE * 1.5 - 2 * L.MM
        lay.page.qr = QrCode(clean_text(form.verify_url), LEFT, qr_top - L.QR_SIZE, L.QR_SIZE)
        text_x = LEFT + L.QR_SIZE + L.QR_TEXT_GAP
        measure = centre - L.SEAL_RADIUS - text_x
        y = qr_top - SMALL_SIZE
        # The QR code carries the encoded address; the paper shows it decoded, as the report does.
        note = lay.wrap(NOTE, small, measure) + lay.wrap(unquote(form.verify_url), small, measure, keep_words=False)
        if form.audit_head:
            note += lay.wrap(AUDIT_CHAIN.format(clean_text(form.audit_head)[:16]), small, measure)
        for line in note:
            line.x = text_x
            lay.page.lines.append((line, y))
            y -= SMALL_SIZE * 1.35
    seal_box = (len(lay.pages) - 1, seal.cx - L.SEAL_RADIUS, seal.cy - L.SEAL_RADIUS, L.SEAL_DIAMETER,
                L.SEAL_DIAMETER)

    count = len(lay.pages)
    for index, page in enumerate(lay.pages, start=1):
        line = lay.wrap(FOOTER.format(archive_no=form.archive_no, page=index, pages=count), small, WIDTH)[0]
        line.x = LEFT + (WIDTH - line.natural_width()) / 2
        page.lines.append((line, FOOTER_BASELINE))
    return lay.pages, seal_box


def render_approval_form(form: FormInput) -> RenderedForm:
    """The form as PDF bytes (unsigned), its page count and the seal's box."""
    from .draw import DocumentInfo, _binary_streams, _draw_qr, _draw_seal, _render_lock, draw_line, new_canvas

    config = form.fonts or FontConfig.default()
    fonts = load_fonts(config)
    pages, seal_box = compose(form, fonts, title_embolden=config.title.embolden)
    info = DocumentInfo(
        title=clean_text(f"{FORM_TITLE} · {form.archive_no}"), author=clean_text(form.district),
        subject=clean_text(f"{form.town} · {form.title}"), creator=CREATOR,
        keywords="; ".join(["呈报", "审批单", clean_text(form.archive_no)]),
        extra={INFO_FORM_OF: clean_text(form.archive_no)})
    buffer = BytesIO()
    with _render_lock, _binary_streams():
        c = new_canvas(buffer, info, fonts["body"].name, TEXT_SIZE)
        for page in pages:
            if page.seal is not None:
                # Opaque ink under the text it covers (PDF/A: no transparency), as on the report.
                _draw_seal(c, page.seal)
            c.saveState()
            c.setStrokeColorRGB(*L.BLACK)
            c.setLineWidth(RULE_WIDTH)
            c.setLineCap(2)
            for x1, y1, x2, y2 in page.rules:
                c.line(x1, y1, x2, y2)
            c.restoreState()
            c.setFillColorRGB(*L.BLACK)
            for line, y in page.lines:
                c.saveState()
                draw_line(c, line, y)
                c.restoreState()
            if page.qr is not None:
                _draw_qr(c, page.qr)
            c.showPage()
        c.save()
    return RenderedForm(buffer.getvalue(), len(pages), seal_box)


# ---------------------------------------------------------------- made once, archived


def _sign(form: FormInput, rendered: RenderedForm, pub: Publication, config: Any, signing: FormSigning) -> bytes:
    from .signing import sign_pdf

    district = db.session.get_one(OrgUnit, pub.district_id)
    signer = signing.load_signer(district)
    return sign_pdf(
        rendered.data, signer, seal_box=rendered.seal_box,
        reason=f"审批单 {form.archive_no} report {form.report_id} version {form.version} "
               f"pdf sha256 {form.file_sha256}",
        location=district.name, contact=form.verify_url, signer_name=district.name,
        timestamper=ltv.timestamper(config), validation_context=ltv.embedding_context(config),
    )


def ensure_approval_form(publication_id: int, signing: FormSigning) -> str:
    """The SHA-256 of the publication's signed approval form, made, signed and archived
    on the first call (later calls, retries and a concurrent run return the stored one).
    ``Conflict("pdf_not_ready")`` before the report's PDF is archived;
    ``NotFound("archive_file")`` when the recorded form's file has gone (never re-made:
    the archive keeps one form per publication)."""
    config = current_app.config
    archive_dir = config["ARCHIVE_DIR"]
    db.session.commit()
    pub = db.session.get(Publication, publication_id, populate_existing=True)
    if pub is None:
        raise NotFound("publication_id", publication_id=publication_id)
    if not publications.is_ready(pub):
        raise Conflict("pdf_not_ready", details={"status": pub.status, "progress": pub.progress})
    if pub.approval_sha256:
        if not archive.path_for(archive_dir, pub.approval_sha256).is_file():
            log.error("publication %s: approval form %s is missing", pub.id, pub.approval_sha256)
            raise NotFound("archive_file")
        return pub.approval_sha256
    form = form_input(pub, config, signing)
    signed = _sign(form, render_approval_form(form), pub, config, signing)
    stored = archive.archive_approval_form(archive_dir, publication_id, signed)
    if not stored.won:
        log.info("publication %s: approval form made by a concurrent run; this run's is discarded", publication_id)
    return stored.sha256
