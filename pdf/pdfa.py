"""PDF/A-2b for the published PDF (ISO 19005-2, level B: the look of every page is preserved).

What makes the rendered file PDF/A-2b, and where it is done:

* **XMP metadata** in the catalog (:func:`xmp_packet`): ``pdfaid:part`` 2 and
  ``pdfaid:conformance`` B, and the document information dictionary's entries again in
  their XMP form with the same values, as the standard requires (Title ↔ ``dc:title``,
  Author ↔ ``dc:creator``, Subject ↔ ``dc:description``, Keywords ↔ ``pdf:Keywords``,
  Creator ↔ ``xmp:CreatorTool``, Producer ↔ ``pdf:Producer``, CreationDate ↔
  ``xmp:CreateDate``, ModDate ↔ ``xmp:ModifyDate``). Chengbao's own Info keys
  (``ChengbaoArchiveNo``, ``ChengbaoReportId``) have no XMP counterpart and need none:
  PDF/A only ties the standard entries to XMP (and any property *in* the XMP would need
  an extension schema, so they stay in /Info only, where ``pdf.verify`` reads them).
* **An output intent** (``GTS_PDFA1``) whose destination profile is the sRGB profile
  shipped in ``pdf/data/sRGB.icc`` (from Debian's icc-profiles-free, zlib licence: see
  ``sRGB.icc.LICENSE``), so every colour is DeviceRGB (``pdf.layout``'s red, black and
  white) — no DeviceCMYK anywhere.
* **No transparency**: the seal is opaque ink drawn *under* the signature block's text
  (``pdf.draw``), which prints exactly what a multiply blend over black text printed.
* **Stream syntax**: ReportLab writes ``endstream`` straight after the data; PDF/A wants an
  end-of-line marker before it that ``/Length`` does not count. :func:`_format_stream`
  (installed on import) writes one, and never an empty ``/Filter`` (the XMP stream stays
  unfiltered so that archive tools can read it).
* **Signing keeps the metadata**: pyHanko refreshes ``/ModDate`` and ``/Producer`` in
  /Info and rewrites the XMP packet on every incremental update it writes (the signature,
  the DSS, each document timestamp), each from its own clock reading and with its own
  producer string, which breaks the Info ↔ XMP equality PDF/A asks for and would add an
  object that ``pdf.revisions`` does not expect after a signature.
  :func:`keep_metadata_on_update` (called by ``pdf.signing``) makes those updates leave
  both as rendered: the metadata of a published report is the one that was signed.

Fonts are embedded TrueType subsets with a ToUnicode map (``pdf.fonts``); there is no
JavaScript, no encryption, and the trailer carries an /ID.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.pdfbase import pdfdoc
from reportlab.pdfbase.pdfdoc import PDFArray, PDFDictionary, PDFName, PDFStream, PDFString

__all__ = ["CONFORMANCE", "ICC_PROFILE", "OUTPUT_CONDITION", "PART", "DocumentMetadata", "add_to_catalog",
           "icc_profile", "keep_metadata_on_update", "pdf_date", "xmp_date", "xmp_packet"]

PART = 2
CONFORMANCE = "B"
ICC_PROFILE = Path(__file__).resolve().parent / "data" / "sRGB.icc"
OUTPUT_CONDITION = "sRGB IEC61966-2.1"
ICC_REGISTRY = "http://www.color.org"

_NS = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "pdfaid": "http://www.aiim.org/pdfa/ns/id/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "pdf": "http://ns.adobe.com/pdf/1.3/",
}


@dataclass(frozen=True)
class DocumentMetadata:
    """The values the document information dictionary and the XMP packet share;
    ``created`` (timezone-aware, whole seconds) is both the creation and the modification date."""

    title: str
    author: str
    subject: str
    keywords: str
    creator: str
    producer: str
    created: dt.datetime

    def __post_init__(self) -> None:
        if self.created.tzinfo is None or self.created.microsecond:
            raise ValueError("created must be timezone-aware, in whole seconds")


@lru_cache(maxsize=1)
def icc_profile() -> bytes:
    """The sRGB ICC profile of the output intent (``pdf/data/sRGB.icc``)."""
    return ICC_PROFILE.read_bytes()


def pdf_date(moment: dt.datetime) -> str:
    """A PDF date string (``D:YYYYMMDDHHmmSS+HH'mm'``) for an aware datetime."""
    offset = moment.utcoffset() or dt.timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    return moment.strftime("D:%Y%m%d%H%M%S") + f"{sign}{hours:02d}'{mins:02d}'"


def xmp_date(moment: dt.datetime) -> str:
    """The same instant as an XMP date (ISO 8601 with its offset)."""
    return moment.replace(microsecond=0).isoformat()


def xmp_packet(meta: DocumentMetadata) -> bytes:
    """The XMP packet (UTF-8) that identifies the file as PDF/A-2b and repeats the
    document information dictionary's entries with the same values."""
    date = xmp_date(meta.created)

    def text(name: str, value: str) -> str:
        return f"   <{name}>{escape(value)}</{name}>\n"

    def alt(name: str, value: str) -> str:
        return (f"   <{name}><rdf:Alt><rdf:li xml:lang=\"x-default\">{escape(value)}</rdf:li>"
                f"</rdf:Alt></{name}>\n")

    namespaces = " ".join(f'xmlns:{prefix}="{uri}"' for prefix, uri in _NS.items() if prefix not in ("x", "rdf"))
    body = (
        text("pdfaid:part", str(PART))
        + text("pdfaid:conformance", CONFORMANCE)
        + text("dc:format", "application/pdf")
        + alt("dc:title", meta.title)
        + f"   <dc:creator><rdf:Seq><rdf:li>{escape(meta.author)}</rdf:li></rdf:Seq></dc:creator>\n"
        + alt("dc:description", meta.subject)
        + text("pdf:Keywords", meta.keywords)
        + text("pdf:Producer", meta.producer)
        + text("xmp:CreatorTool", meta.creator)
        + text("xmp:CreateDate", date)
        + text("xmp:ModifyDate", date)
        + text("xmp:MetadataDate", date)
    )
    packet = (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        f'<x:xmpmeta xmlns:x="{_NS["x"]}">\n'
        f' <rdf:RDF xmlns:rdf="{_NS["rdf"]}">\n'
        f'  <rdf:Description rdf:about="" {namespaces}>\n'
        f"{body}"
        "  </rdf:Description>\n"
        " </rdf:RDF>\n"
        "</x:xmpmeta>\n"
        '<?xpacket end="w"?>'
    )
    return packet.encode("utf-8")


def add_to_catalog(document: Any, meta: DocumentMetadata) -> None:
    """Put the XMP packet and the sRGB output intent into the catalog of a ReportLab
    ``PDFDocument`` (``canvas._doc``) before it is saved."""
    catalog = document.Catalog
    xmp = PDFStream(PDFDictionary({"Type": PDFName("Metadata"), "Subtype": PDFName("XML")}),
                    content=xmp_packet(meta), filters=[])
    catalog.Metadata = xmp  # a catalog entry ReportLab knows, written as a reference
    profile = PDFStream(PDFDictionary({"N": 3}), content=icc_profile(), filters=[pdfdoc.PDFZCompress])
    intent = PDFDictionary({
        "Type": PDFName("OutputIntent"),
        "S": PDFName("GTS_PDFA1"),
        "OutputConditionIdentifier": PDFString(OUTPUT_CONDITION),
        "RegistryName": PDFString(ICC_REGISTRY),
        "Info": PDFString(OUTPUT_CONDITION),
        "DestOutputProfile": document.Reference(profile),
    })
    catalog.OutputIntents = PDFArray([intent])
    # ReportLab writes only the catalog keys it lists; this catalog lists one more.
    if "OutputIntents" not in catalog.__NoDefault__:
        catalog.__NoDefault__ = [*catalog.__NoDefault__, "OutputIntents"]


# ---- ReportLab: an end-of-line marker before "endstream" ------------------------------------

def _format_stream(self: PDFStream, document: Any) -> bytes:
    """``PDFStream.format`` with the stream syntax PDF/A asks for: ``stream`` EOL data EOL
    ``endstream``, ``/Length`` the data alone; no ``/Filter`` entry for an empty filter list."""
    dictionary = PDFDictionary(self.dictionary.dict.copy())
    content = self.content
    if content is None:
        raise ValueError("stream content not set")
    filters = self.filters if self.filters is not None else document.defaultStreamFilters
    if filters and "Filter" not in dictionary.dict:
        for f in reversed(list(filters)):
            content = f.encode(content)
        dictionary["Filter"] = PDFArray([PDFName(f.pdfname) for f in filters])
    content = document.encrypt.encode(content)
    data = pdfdoc.format(content, document)
    dictionary["Length"] = len(data)
    return pdfdoc.format(dictionary, document) + b"\nstream\n" + data + b"\nendstream\n"


_format_stream.chengbao_pdfa = True  # type: ignore[attr-defined]
if not getattr(PDFStream.format, "chengbao_pdfa", False):
    PDFStream.format = _format_stream  # type: ignore[method-assign]


# ---- pyHanko: incremental updates keep the signed metadata ------------------------------------

def keep_metadata_on_update() -> None:
    """Make pyHanko's writers leave /Info and the XMP packet alone (see the module doc).
    Idempotent; called when ``pdf.signing`` is imported."""
    from pyhanko.pdf_utils.writer import BasePdfFileWriter

    if getattr(BasePdfFileWriter._update_meta, "chengbao_pdfa", False):
        return

    def _update_meta(self: Any) -> None:
        return None

    _update_meta.chengbao_pdfa = True  # type: ignore[attr-defined]
    BasePdfFileWriter._update_meta = _update_meta  # type: ignore[method-assign]
