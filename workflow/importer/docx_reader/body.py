"""The body of ``word/document.xml`` as Word shows it, walked element by element.

What Word displays is what is read, in reading order:

- tracked changes as if accepted: ``w:ins`` and ``w:moveTo`` kept, ``w:del`` and ``w:moveFrom``
  gone (a deleted paragraph mark joins the paragraph to the next one), deleted table rows gone;
- content controls (``w:sdt``, around blocks, rows, cells or runs) kept, except a table of
  contents, which would repeat every heading, and a control still showing its prompt;
- text boxes (``w:txbxContent`` in a drawing or a VML shape) after the paragraph they are
  anchored in, once: ``mc:AlternateContent`` holds the same box twice (the drawing and a VML
  fallback) and only its first choice is read;
- fields show their result (between the ``separate`` and ``end`` field characters, and the
  runs of ``w:fldSimple``), never their code; hidden text (``w:vanish``), comments, footnote
  and endnote references are left out;
- list numbers rendered by :class:`.numbering.ListNumbers`; tabs in a paragraph become spaces;
- a table becomes one line per row, cells joined by a TAB (the format of
  ``notes: tables in the outline``: a merged cell gives its text once and "" for the cells it
  spans or covers below), with an empty line before and after.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from lxml import etree

from .archive import Budget
from .numbering import ListNumbers
from .styles import Styles, outline_level
from .xml import MC, M, is_on, val, w

__all__ = ["Block", "BodyReader"]


@dataclass
class Block:
    """One line of the text (or several, for a paragraph with line breaks), and, for a
    paragraph in a heading style or with an outline level, that level (1–9)."""

    text: str
    heading: int | None = None


@dataclass
class _Field:
    code: list[str] = field(default_factory=list)
    showing_result: bool = False
    hidden: bool = False


_P, _TBL, _SDT, _R, _T = w("p"), w("tbl"), w("sdt"), w("r"), w("t")
_PPR, _RPR, _SDT_CONTENT = w("pPr"), w("rPr"), w("sdtContent")
_FLD_CHAR, _INSTR_TEXT, _TXBX = w("fldChar"), w("instrText"), w("txbxContent")
# Run content that may hold text boxes (drawings, VML shapes, embedded objects).
_SHAPES = frozenset({w("drawing"), w("pict"), w("object"), f"{{{MC}}}AlternateContent"})
_REMOVED = frozenset({w("del"), w("moveFrom")})
# Containers whose children are read as if they stood in their place.
_INLINE_WRAPPERS = frozenset({w("hyperlink"), w("ins"), w("moveTo"), w("smartTag"), w("customXml"),
                              w("dir"), w("bdo"), w("fldSimple")})
_BLOCK_WRAPPERS = frozenset({w("customXml"), w("ins"), w("moveTo")})
_MATH = frozenset({f"{{{M}}}oMath", f"{{{M}}}oMathPara"})
_ALTERNATE = f"{{{MC}}}AlternateContent"
_BREAKS = {w("br"): "\n", w("cr"): "\n", w("tab"): "\t", w("ptab"): "\t", w("noBreakHyphen"): "-"}


def _chosen(alternate: etree._Element) -> etree._Element | None:
    """The branch of ``mc:AlternateContent`` Word shows: the first choice, else the fallback."""
    for child in alternate:
        if child.tag in (f"{{{MC}}}Choice", f"{{{MC}}}Fallback"):
            return child
    return None


def _content(sdt: etree._Element) -> etree._Element | None:
    """The content of a content control; None for a table of contents, and for a control
    still showing its prompt ("单击或点击此处输入文字。"), which is empty."""
    props = sdt.find(w("sdtPr"))
    if props is not None:
        gallery = props.find(f"{w('docPartObj')}/{w('docPartGallery')}")
        if gallery is not None and "contents" in (gallery.get(w("val")) or "").lower():
            return None
        if is_on(props, "showingPlcHdr"):
            return None
    return sdt.find(_SDT_CONTENT)


class BodyReader:
    """Reads blocks of a body (or a cell, or a text box), keeping list and field state."""

    def __init__(self, styles: Styles, numbers: ListNumbers, budget: Budget) -> None:
        self._styles = styles
        self._numbers = numbers
        self._budget = budget
        self._fields: list[_Field] = []
        self._joined = ""  # text of paragraphs whose mark was deleted, joining the next one
        self.title: list[str] = []
        self._title_over = False

    # ---------------------------------------------------------------- blocks

    def blocks(self, container: etree._Element, *, top: bool = False) -> Iterator[Block]:
        for child in container:
            tag = child.tag
            if tag == _P:
                yield from self._paragraph(child, top=top)
            elif tag == _TBL:
                yield from self._table(child)
            elif tag == _SDT:
                content = _content(child)
                if content is not None:
                    yield from self.blocks(content, top=top)
            elif tag in _BLOCK_WRAPPERS:
                yield from self.blocks(child, top=top)
            elif tag == _ALTERNATE:
                branch = _chosen(child)
                if branch is not None:
                    yield from self.blocks(branch, top=top)

    def _paragraph(self, p: etree._Element, *, top: bool) -> Iterator[Block]:
        self._budget.spend(0)
        ppr = p.find(_PPR)
        style = val(ppr, "pStyle") or self._styles.default
        pieces: list[str] = []
        boxes: list[etree._Element] = []
        self._inline(p, pieces, boxes)
        self._close_broken_fields()
        text = self._joined + "".join(pieces)
        mark = ppr.find(_RPR) if ppr is not None else None
        if mark is not None and any(mark.find(tag) is not None for tag in _REMOVED):
            self._joined = text  # Word joins this paragraph to the next one
        else:
            self._joined = ""
            yield from self._paragraph_line(ppr, style, text, top=top)
        for box in boxes:
            yield from self.blocks(box)

    def _paragraph_line(self, ppr: etree._Element | None, style: str | None, text: str, *,
                        top: bool) -> Iterator[Block]:
        numbered = self._num_pr(ppr, style)
        blank = not text.strip()
        label = self._numbers.label(*numbered, count_only=blank) if numbered else ""
        if blank:
            return
        heading = self._heading_level(ppr, style)
        if top and not self._title_over and self._styles.is_title(style):
            self.title.append(text.replace("\t", " ").replace("\n", " ").strip())
            return
        if top and (self.title or heading):
            self._title_over = True
        text = (label + text).replace("\t", " ")
        yield Block(text.replace("\n", " ") if heading else text, heading)

    def _heading_level(self, ppr: etree._Element | None, style: str | None) -> int | None:
        if ppr is not None and ppr.find(w("outlineLvl")) is not None:
            return outline_level(ppr)
        return self._styles.heading_level(style)

    def _num_pr(self, ppr: etree._Element | None, style: str | None) -> tuple[str, int] | None:
        """``(numId, ilvl)``: the paragraph's own, else inherited from its style chain."""
        num_id: str | None = None
        ilvl: str | None = None
        for props in [ppr, *self._styles.chain(style)]:
            num_pr = props.find(w("numPr")) if props is not None else None
            if num_pr is None:
                continue
            num_id = num_id if num_id is not None else val(num_pr, "numId")
            ilvl = ilvl if ilvl is not None else val(num_pr, "ilvl")
            if num_id is not None and ilvl is not None:
                break
        if num_id is None or num_id == "0":
            return None
        if ilvl is not None and ilvl.isdigit():
            return num_id, int(ilvl)
        return num_id, self._numbers.level_of_style(num_id, style)

    # ---------------------------------------------------------------- runs

    def _inline(self, node: etree._Element, pieces: list[str], boxes: list[etree._Element]) -> None:
        for child in node:
            tag = child.tag
            if tag == _R:
                self._run(child, pieces, boxes)
            elif tag in _INLINE_WRAPPERS:
                self._inline(child, pieces, boxes)
            elif tag == _SDT:
                content = _content(child)
                if content is not None:
                    self._inline(content, pieces, boxes)
            elif tag == _ALTERNATE:
                branch = _chosen(child)
                if branch is not None:
                    self._inline(branch, pieces, boxes)
            elif tag in _MATH and self._showing():
                pieces.append("".join(t.text or "" for t in child.iter(f"{{{M}}}t")))

    def _run(self, r: etree._Element, pieces: list[str], boxes: list[etree._Element]) -> None:
        hidden = is_on(r.find(_RPR), "vanish")
        for child in r:
            tag = child.tag
            if tag == _FLD_CHAR:
                self._field_char(child.get(w("fldCharType")))
            elif tag == _INSTR_TEXT:
                if self._fields:
                    self._fields[-1].code.append(child.text or "")
            elif not self._showing() or hidden:
                continue
            elif tag == _T:
                pieces.append(child.text or "")
            elif tag in _BREAKS:
                if child.get(w("type")) not in ("page", "column"):
                    pieces.append(_BREAKS[tag])
            elif tag in _SHAPES:
                boxes.extend(_text_boxes(child))

    def _field_char(self, kind: str | None) -> None:
        if kind == "begin":
            self._fields.append(_Field())
        elif kind == "separate" and self._fields:
            current = self._fields[-1]
            current.showing_result = True
            current.hidden = "".join(current.code).strip().upper().startswith("TOC")
        elif kind == "end" and self._fields:
            self._fields.pop()

    def _close_broken_fields(self) -> None:
        """A field code does not run past its paragraph (a result may: a table of contents):
        a field left without its ``separate`` is damaged and must not hide the rest."""
        while self._fields and not self._fields[-1].showing_result:
            self._fields.pop()

    def _showing(self) -> bool:
        """Outside field codes (and outside a table of contents' result)."""
        return all(f.showing_result and not f.hidden for f in self._fields)

    # ---------------------------------------------------------------- tables

    def _table(self, tbl: etree._Element) -> Iterator[Block]:
        rows = [row for row in (self._row(tr) for tr in _rows(tbl)) if any(cell.strip() for cell in row)]
        if not rows:
            return
        width = max(len(row) for row in rows)
        yield Block("")
        for row in rows:
            yield Block("\t".join(row + [""] * (width - len(row))))
        yield Block("")

    def _row(self, tr: etree._Element) -> list[str]:
        trpr = tr.find(w("trPr"))
        if trpr is not None and any(trpr.find(tag) is not None for tag in _REMOVED):
            return []
        cells: list[str] = [""] * _int(val(trpr, "gridBefore"), 0)
        for tc in _cells(tr):
            tcpr = tc.find(w("tcPr"))
            span = max(1, _int(val(tcpr, "gridSpan"), 1))
            covered = tcpr is not None and any(
                merge is not None and merge.get(w("val"), "continue") == "continue"
                for merge in (tcpr.find(w("vMerge")), tcpr.find(w("hMerge"))))
            text = "" if covered else self._cell_text(tc)
            cells.extend([text] + [""] * (span - 1))
        return cells + [""] * _int(val(trpr, "gridAfter"), 0)

    def _cell_text(self, tc: etree._Element) -> str:
        """A cell's paragraphs (and nested tables) joined by spaces, on one line."""
        parts = (" ".join(block.text.replace("\t", " ").split()) for block in self.blocks(tc))
        return " ".join(part for part in parts if part)


def _rows(tbl: etree._Element) -> Iterator[etree._Element]:
    yield from _through_wrappers(tbl, w("tr"))


def _cells(tr: etree._Element) -> Iterator[etree._Element]:
    yield from _through_wrappers(tr, w("tc"))


def _through_wrappers(node: etree._Element, tag: str) -> Iterator[etree._Element]:
    """Children ``tag`` of ``node``, also inside content controls and custom XML."""
    for child in node:
        if child.tag == tag:
            yield child
        elif child.tag == w("sdt"):
            content = _content(child)
            if content is not None:
                yield from _through_wrappers(content, tag)
        elif child.tag in _BLOCK_WRAPPERS:
            yield from _through_wrappers(child, tag)


def _text_boxes(node: etree._Element) -> Iterator[etree._Element]:
    """The outermost ``w:txbxContent`` in ``node``, one branch of each alternate content."""
    if node.tag == _TXBX:
        yield node
        return
    inside = _chosen(node) if node.tag == _ALTERNATE else node
    for child in inside if inside is not None else ():
        if isinstance(child.tag, str):
            yield from _text_boxes(child)


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default
