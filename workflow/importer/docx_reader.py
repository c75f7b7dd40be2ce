"""Reading .docx files (python-docx): the text of the body and tables, with Word's list numbers.

python-docx is imported when a .docx is read, so that importing text does not load it.
"""
from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, ClassVar

from .errors import ContentError
from .numbering import chinese_numeral

if TYPE_CHECKING:
    from docx.document import Document
    from docx.table import _Cell
    from docx.text.paragraph import Paragraph

__all__ = ["docx_to_text"]


def docx_to_text(data: bytes) -> str:
    """The text of a .docx: body paragraphs and table cells in order, one per line.

    Word's automatic list numbers (which are not part of the paragraph text) are rendered
    from the numbering definitions, so a list numbered 一、二、 by Word imports like typed text.
    Raises :class:`ContentError` (``docx_unreadable``) when ``data`` is not a readable .docx.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ContentError("docx_unreadable")
    try:
        import docx

        document = docx.Document(io.BytesIO(bytes(data)))
        numbering = _DocxNumbering(document)
        lines = [numbering.label(paragraph) + paragraph.text
                 for paragraph in _docx_paragraphs(document)]
    except Exception as exc:  # python-docx raises many kinds (zip, XML, key errors)
        raise ContentError("docx_unreadable") from exc
    return "\n".join(lines)


def _docx_paragraphs(container: Document | _Cell) -> Iterator[Paragraph]:
    """Paragraphs in reading order, descending into tables (merged cells only once)."""
    from docx.table import Table

    for block in container.iter_inner_content():
        if isinstance(block, Table):
            seen: set[int] = set()
            for row in block.rows:
                for cell in row.cells:
                    if id(cell._tc) in seen:
                        continue
                    seen.add(id(cell._tc))
                    yield from _docx_paragraphs(cell)
        else:
            yield block


def _full_width(n: int) -> str:
    return str(n).translate(str.maketrans("0123456789", "０１２３４５６７８９"))


# A list level: (numFmt, lvlText, start), e.g. ("chineseCounting", "%1、", 1).
_Level = tuple[str, str, int]


class _DocxNumbering:
    """Renders Word automatic list labels (``%1、`` with chineseCounting → ``一、``)."""

    _FORMATS: ClassVar[dict[str, Callable[[int], str]]] = {
        "decimal": str,
        "decimalZero": lambda n: f"{n:02d}",
        "decimalFullWidth": _full_width,
        "decimalEnclosedParen": lambda n: f"({n})",
        "decimalEnclosedFullstop": lambda n: f"{n}.",
        "chineseCounting": chinese_numeral,
        "chineseCountingThousand": chinese_numeral,
        "ideographTraditional": chinese_numeral,
        "japaneseCounting": chinese_numeral,
        "taiwaneseCounting": chinese_numeral,
    }

    def __init__(self, document: Document) -> None:
        from docx.oxml.ns import qn

        self._qn = qn
        self._levels: dict[str, dict[int, _Level]] = {}
        self._counters: dict[str, dict[int, int]] = {}
        try:
            root = document.part.numbering_part.element
        except (KeyError, NotImplementedError, AttributeError):
            return
        abstract = {node.get(qn("w:abstractNumId")): self._abstract_levels(node)
                    for node in root.findall(qn("w:abstractNum"))}
        for node in root.findall(qn("w:num")):
            ref = node.find(qn("w:abstractNumId"))
            if ref is not None:
                self._levels[node.get(qn("w:numId"))] = abstract.get(ref.get(qn("w:val")), {})

    def _abstract_levels(self, node: Any) -> dict[int, _Level]:
        qn = self._qn
        return {
            int(lvl.get(qn("w:ilvl"), "0")): (
                self._val(lvl, "w:numFmt", "decimal"),
                self._val(lvl, "w:lvlText", ""),
                int(self._val(lvl, "w:start", "1") or 1),
            )
            for lvl in node.findall(qn("w:lvl"))
        }

    def _val(self, node: Any, tag: str, default: str) -> str:
        child = node.find(self._qn(tag))
        return child.get(self._qn("w:val"), default) if child is not None else default

    def _num_pr(self, paragraph: Paragraph) -> tuple[str, int] | None:
        """(numId, ilvl) from the paragraph, else from its style chain."""
        qn = self._qn
        candidates: list[Any] = [paragraph._p.pPr]
        style = paragraph.style
        while style is not None:
            candidates.append(style.element.pPr)
            style = style.base_style
        for ppr in candidates:
            num_pr = ppr.find(qn("w:numPr")) if ppr is not None else None
            if num_pr is None:
                continue
            num_id = self._val(num_pr, "w:numId", "0")
            ilvl = int(self._val(num_pr, "w:ilvl", "0") or 0)
            return (num_id, ilvl) if num_id != "0" else None
        return None

    def label(self, paragraph: Paragraph) -> str:
        """The automatic label of ``paragraph`` (``""`` when it has none); advances counters."""
        num_pr = self._num_pr(paragraph) if self._levels else None
        if num_pr is None or num_pr[1] not in self._levels.get(num_pr[0], {}):
            return ""
        num_id, ilvl = num_pr
        levels = self._levels[num_id]
        counters = self._counters.setdefault(num_id, {})
        counters[ilvl] = counters.get(ilvl, levels[ilvl][2] - 1) + 1
        for deeper in [lvl for lvl in counters if lvl > ilvl]:
            del counters[deeper]  # a new item restarts its sub-lists

        fmt, text, _ = levels[ilvl]
        # An empty numbered paragraph still counts in Word, but has no line of its own here.
        if fmt in ("bullet", "none") or not paragraph.text.strip():
            return ""
        return re.sub(r"%([1-9])", lambda match: self._render(match, levels, counters), text)

    def _render(self, match: re.Match[str], levels: dict[int, _Level],
                counters: dict[int, int]) -> str:
        """One ``%n`` of a label: the current value of level n in that level's format."""
        lvl = int(match.group(1)) - 1
        fmt, _, start = levels.get(lvl, ("decimal", "", 1))
        if fmt in ("bullet", "none"):
            return ""
        return self._FORMATS.get(fmt, str)(counters.get(lvl, start))
