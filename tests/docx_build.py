"""Building .docx files from raw WordprocessingML, as Word, WPS and LibreOffice write them.

The tests say exactly which XML a document holds (tracked changes, content controls, text
boxes, fields, numbering definitions) instead of relying on a library's idea of it::

    docx = build_docx(p(r("一、总体要求"), style="1") + p(r("正文。")), styles=STYLES)
"""
from __future__ import annotations

import io
import zipfile
from xml.sax.saxutils import escape

NAMESPACES = (
    'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
    'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
    'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
    'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
    'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" '
    'xmlns:v="urn:schemas-microsoft-com:vml" '
    'xmlns:m="http://schemas.openxmlformats.org/officeDocument/2006/math" '
    'mc:Ignorable="wps"'
)
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    '<Override PartName="/word/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/>'
    '<Override PartName="/word/numbering.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.numbering+xml"/>'
    '</Types>'
)
_PACKAGE_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="word/document.xml"/>'
    '</Relationships>'
)


def build_docx(body: str, *, numbering: str = "", styles: str = "", compress: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A .docx whose body is ``body`` (block XML), with ``w:numbering`` and ``w:styles``
    holding ``numbering`` and ``styles`` (definitions XML) when given."""
    rels = ['<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">']
    parts = {
        "[Content_Types].xml": _CONTENT_TYPES,
        "_rels/.rels": _PACKAGE_RELS,
        "word/document.xml": f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                             f'<w:document {NAMESPACES}><w:body>{body}<w:sectPr/></w:body></w:document>',
    }
    if styles:
        parts["word/styles.xml"] = f'<w:styles {NAMESPACES}>{styles}</w:styles>'
        rels.append(f'<Relationship Id="rId1" Type="{_REL}/styles" Target="styles.xml"/>')
    if numbering:
        parts["word/numbering.xml"] = f'<w:numbering {NAMESPACES}>{numbering}</w:numbering>'
        rels.append(f'<Relationship Id="rId2" Type="{_REL}/numbering" Target="numbering.xml"/>')
    parts["word/_rels/document.xml.rels"] = "".join(rels) + "</Relationships>"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compress) as archive:
        for name, xml in parts.items():
            archive.writestr(name, xml)
    return buffer.getvalue()


def r(text: str, *, props: str = "") -> str:
    """A run of text (``props``: the run properties' XML, e.g. ``<w:vanish/>``)."""
    rpr = f"<w:rPr>{props}</w:rPr>" if props else ""
    return f'<w:r>{rpr}<w:t xml:space="preserve">{escape(text)}</w:t></w:r>'


def p(*content: str, style: str | None = None, num: tuple[int, int] | None = None, props: str = "") -> str:
    """A paragraph of runs (or other inline XML), with a style, list numbering and properties."""
    ppr = ""
    if style:
        ppr += f'<w:pStyle w:val="{style}"/>'
    if num:
        ppr += f'<w:numPr><w:ilvl w:val="{num[1]}"/><w:numId w:val="{num[0]}"/></w:numPr>'
    ppr += props
    return f"<w:p>{f'<w:pPr>{ppr}</w:pPr>' if ppr else ''}{''.join(content)}</w:p>"


def level(ilvl: int, fmt: str, text: str, *, start: int = 1, extra: str = "") -> str:
    """One ``w:lvl`` of an abstract list."""
    return (f'<w:lvl w:ilvl="{ilvl}"><w:start w:val="{start}"/><w:numFmt w:val="{fmt}"/>'
            f'<w:lvlText w:val="{text}"/>{extra}</w:lvl>')


def abstract(abstract_id: int, *levels: str) -> str:
    return f'<w:abstractNum w:abstractNumId="{abstract_id}">{"".join(levels)}</w:abstractNum>'


def num(num_id: int, abstract_id: int, *, restart: dict[int, int] | None = None) -> str:
    """A ``w:num`` of an abstract list, with ``w:startOverride`` per level in ``restart``."""
    overrides = "".join(f'<w:lvlOverride w:ilvl="{ilvl}"><w:startOverride w:val="{start}"/></w:lvlOverride>'
                        for ilvl, start in (restart or {}).items())
    return f'<w:num w:numId="{num_id}"><w:abstractNumId w:val="{abstract_id}"/>{overrides}</w:num>'


def style(style_id: str, name: str, *, based_on: str | None = None, props: str = "",
          kind: str = "paragraph", default: bool = False) -> str:
    """A style definition (``props``: its paragraph properties' XML)."""
    is_default = ' w:default="1"' if default else ""
    base = f'<w:basedOn w:val="{based_on}"/>' if based_on else ""
    ppr = f"<w:pPr>{props}</w:pPr>" if props else ""
    return (f'<w:style w:type="{kind}" w:styleId="{style_id}"{is_default}>'
            f'<w:name w:val="{name}"/>{base}{ppr}</w:style>')


def table(rows: list[list[str]], *, cell_props: dict[tuple[int, int], str] | None = None) -> str:
    """A table; ``cell_props[(row, col)]`` is the XML of that cell's ``w:tcPr`` (spans, merges)."""
    props = cell_props or {}
    out = ["<w:tbl><w:tblPr/><w:tblGrid/>"]
    for i, row in enumerate(rows):
        out.append("<w:tr>")
        for j, text in enumerate(row):
            tcpr = f"<w:tcPr>{props[(i, j)]}</w:tcPr>" if (i, j) in props else ""
            out.append(f"<w:tc>{tcpr}{p(r(text)) if text else '<w:p/>'}</w:tc>")
        out.append("</w:tr>")
    out.append("</w:tbl>")
    return "".join(out)
