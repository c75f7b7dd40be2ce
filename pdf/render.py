"""Render a report outline as an official document PDF (GB/T 9704-2012 layout).

Two steps: ``pdf.typeset`` sets the text into lines and pages on the standard's grid
(every number from ``pdf.layout``), ``pdf.draw`` puts the result on canvas pages. This
module joins them and fills in the document information.

What a page looks like (first page top to last page bottom):

* 版头: the red 发文机关标志 (``issuer`` + 文件), the 发文字号 (``doc_number``), a red rule;
  a town's report to the district is a 上行文 (``addressee`` given): the 发文字号 one
  character in from the left and the 签发人 (``signer``) one in from the right on its line;
* the title (2号, centred, wrapped into balanced lines) and the reporting town (楷体), or
  for a 上行文 the 主送机关 (``addressee`` + "：") flush left a blank line under the title;
* the body: preamble, sections (一、 in 黑体, (一) in 楷体, 1./(1) in the body face),
  closing; paragraphs indented two characters and justified to the grid;
* tables among the paragraphs: thin black rules, the body face at 4号 (小四 when wide), the
  header rows in 黑体 repeated on every page the table runs onto, a caption centred above;
* the 附件说明 (``附件：1. …``), when the outline has annexes;
* the signature block: the issuer's name and the date (``2026年1月5日``) four characters
  in from the right, a red seal drawn as vector art over them — always on a page with text;
  for a 上行文, the district's approval (``approval``: 审核意见, name, date in a thin box) on
  the left, level with it, under the district's seal;
* the annexes, each on pages of its own ("附件N" in 黑体 top left, its title centred);
* at the bottom of the last page: a QR code for ``verify_url`` and the 版记 with the
  reporting town, the archive number, the issuer and the date (the page after the
  signature block's when they do not fit under it);
* page numbers ``— 1 —`` under the type area, odd pages right, even pages left.

Line breaking, justification and title breaks: ``pdf.linebreak``; pagination (keep-with-next,
widows and orphans, the signature block's room): ``pdf.typeset``.

``render_report`` returns the PDF bytes, the page count and the seal's box, over which
``pdf.signing.sign_pdf`` places the (transparent) signature field.
"""
from __future__ import annotations

from dataclasses import dataclass

from .draw import DocumentInfo, draw_document
from .fonts import FontConfig, clean_text, load_fonts
from .typeset import ApprovalMark, RenderInput, chinese_date, compose

__all__ = [
    "INFO_ARCHIVE_NO",
    "INFO_REPORT_ID",
    "ApprovalMark",
    "RenderInput",
    "RenderedPdf",
    "chinese_date",
    "render_report",
]

# Custom document-information keys (PDF Info dictionary) carrying the machine-readable
# identity of a published report. ``pdf.verify`` reads them from the signed revision.
INFO_ARCHIVE_NO = "ChengbaoArchiveNo"
INFO_REPORT_ID = "ChengbaoReportId"
CREATOR = "Chengbao (呈报)"


@dataclass(frozen=True)
class RenderedPdf:
    data: bytes
    pages: int
    # (page index, x, y, width, height) in points: where the seal is drawn, for the
    # signature field.
    seal_box: tuple[int, float, float, float, float]
    # 上行文: where the district's seal over its approval mark is drawn (its signature's field).
    approval_seal_box: tuple[int, float, float, float, float] | None = None


def render_report(doc: RenderInput) -> RenderedPdf:
    """Render ``doc`` as a GB/T 9704-style PDF with the seal drawn on the signature block's page.

    Raises :class:`pdf.fonts.FontsMissing` when a configured font file is absent."""
    config = doc.fonts or FontConfig.default()
    fonts = load_fonts(config)
    composed = compose(doc, fonts, title_embolden=config.title.embolden)
    data = draw_document(composed, document_info(doc), initial_font=fonts["body"].name)
    return RenderedPdf(data=data, pages=len(composed.pages), seal_box=composed.seal_box,
                       approval_seal_box=composed.approval_seal_box)


def document_info(doc: RenderInput) -> DocumentInfo:
    """Title, author (the issuer), subject, keywords, and the report's archive number
    and id under Chengbao's own keys (covered by the signature: ``pdf.verify`` reads them)."""
    keywords = ["呈报", clean_text(doc.town)]
    extra: dict[str, str] = {}
    if doc.archive_no:
        keywords.append(clean_text(doc.archive_no))
        extra[INFO_ARCHIVE_NO] = clean_text(doc.archive_no)
    if doc.report_id is not None:
        keywords.append(f"报告 #{int(doc.report_id)}")
        extra[INFO_REPORT_ID] = str(int(doc.report_id))
    return DocumentInfo(
        title=clean_text(doc.title), author=clean_text(doc.issuer), subject=clean_text(f"{doc.town} · {doc.title}"),
        creator=CREATOR, keywords="; ".join(k for k in keywords if k), extra=extra)
