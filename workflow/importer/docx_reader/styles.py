"""Paragraph styles (``word/styles.xml``): what a paragraph inherits through ``w:basedOn``.

Three things matter to the importer: the list numbering a style carries (``w:numPr``), the
outline level (``w:outlineLvl``, which Word's built-in headings have) and whether the style is
a heading or the document's title. Built-in styles are known by their name, which Word keeps
in English whatever the language of the user interface (``heading 1``, ``Title``), while the
style id is localised (``1``, ``a3``) — so both are looked at.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from .xml import int_val, val, w

__all__ = ["Styles"]

_HEADING_RE = re.compile(r"(?:heading|标题)\s*([1-9])", re.IGNORECASE)
_TITLE_NAMES = frozenset({"title", "标题"})
_MAX_DEPTH = 32  # basedOn chains are short; a cycle must not loop


@dataclass
class _Style:
    based_on: str | None
    name: str
    ppr: etree._Element | None


_NO_STYLE = _Style(None, "", None)


class Styles:
    """The paragraph styles of a document, with lookups that follow ``w:basedOn``."""

    def __init__(self, root: etree._Element | None) -> None:
        self._styles: dict[str, _Style] = {}
        self.default: str | None = None
        if root is None:
            return
        for node in root.iterchildren(w("style")):
            style_id = node.get(w("styleId"))
            if not style_id:
                continue
            self._styles[style_id] = _Style(val(node, "basedOn"), (val(node, "name") or "").strip(),
                                            node.find(w("pPr")))
            if node.get(w("type")) == "paragraph" and node.get(w("default")) in ("1", "true", "on"):
                self.default = style_id

    def chain(self, style_id: str | None) -> list[etree._Element]:
        """The ``w:pPr`` of the style and of the styles it is based on, nearest first."""
        found: list[etree._Element] = []
        seen: set[str] = set()
        while style_id and style_id in self._styles and style_id not in seen and len(seen) < _MAX_DEPTH:
            seen.add(style_id)
            style = self._styles[style_id]
            if style.ppr is not None:
                found.append(style.ppr)
            style_id = style.based_on
        return found

    def num_pr(self, style_id: str | None) -> etree._Element | None:
        """The ``w:numPr`` of a (numbering) style itself, for ``w:numStyleLink``."""
        style = self._styles.get(style_id or "")
        return style.ppr.find(w("numPr")) if style is not None and style.ppr is not None else None

    def heading_level(self, style_id: str | None) -> int | None:
        """1–9 for a heading style (by name or id, or an outline level), through basedOn.
        Not for the heading of a table of contents ("TOC Heading", based on heading 1)."""
        if self._styles.get(style_id or "", _NO_STYLE).name.lower().startswith("toc"):
            return None
        seen: set[str] = set()
        while style_id and style_id in self._styles and style_id not in seen and len(seen) < _MAX_DEPTH:
            seen.add(style_id)
            style = self._styles[style_id]
            for label in (style.name, style_id):
                match = _HEADING_RE.fullmatch(label)
                if match:
                    return int(match.group(1))
            if style.ppr is not None and style.ppr.find(w("outlineLvl")) is not None:
                return outline_level(style.ppr)
            style_id = style.based_on
        return None

    def is_title(self, style_id: str | None) -> bool:
        """The document title style (Title / 标题), by name or id."""
        style = self._styles.get(style_id or "")
        return style is not None and (style.name.lower() in _TITLE_NAMES or (style_id or "").lower() in _TITLE_NAMES)


def outline_level(ppr: etree._Element) -> int | None:
    """1–9 from ``w:outlineLvl`` (0–8); None for body text (9) or none."""
    level = int_val(ppr, "outlineLvl", 9)
    return level + 1 if 0 <= level <= 8 else None
