"""Reading .docx files the way Word shows them: text, tables, list numbers, headings, title.

The XML parts are read directly (lxml), not through python-docx's document model, which
skips tracked insertions, content controls, text boxes and field results. One job per module:

- :mod:`.archive`: the zip opened with bounds (zip bombs, other formats);
- :mod:`.styles`: paragraph styles, their numbering, heading levels and the title style;
- :mod:`.numbering`: Word's list numbers (``numbering.xml``);
- :mod:`.body`: the body walked in reading order.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import ContentError
from .archive import MAX_ELEMENTS, Budget, open_package
from .body import Block, BodyReader
from .numbering import ListNumbers, format_number
from .styles import Styles
from .xml import w

__all__ = ["Block", "DocxText", "docx_to_text", "format_number", "read_docx"]


@dataclass
class DocxText:
    """A document's lines (as :class:`Block`\\ s, with heading levels) and its title."""

    blocks: list[Block]
    title: str | None

    @property
    def text(self) -> str:
        return "\n".join(block.text for block in self.blocks)


def read_docx(data: bytes) -> DocxText:
    """Read a .docx's body, with its Title-style paragraphs as the title (not as lines).

    Raises :class:`ContentError`: ``docx_unreadable`` (not a readable .docx),
    ``docx_other_format`` (a .doc/.wps/.et, PDF or RTF file, with ``format``) or
    ``docx_too_complex`` (over the bounds of :mod:`.archive`).
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ContentError("docx_unreadable")
    budget = Budget()
    package = open_package(bytes(data), budget)
    document = package.xml(package.main_part())
    body = document.find(w("body")) if document is not None else None
    if body is None:
        raise ContentError("docx_unreadable")
    styles = Styles(package.xml(package.related("styles")))
    reader = BodyReader(styles, ListNumbers(package.xml(package.related("numbering")), styles), budget)
    try:
        blocks = list(reader.blocks(body, top=True))
    except RecursionError as exc:
        raise ContentError("docx_too_complex", limit=MAX_ELEMENTS) from exc
    return DocxText(blocks, "".join(reader.title) or None)


def docx_to_text(data: bytes) -> str:
    """The text of a .docx, one paragraph per line, tables as TAB-separated rows."""
    return read_docx(data).text
