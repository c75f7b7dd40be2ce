"""WordprocessingML names and the small helpers every reader module uses."""
from __future__ import annotations

from functools import cache

from lxml import etree

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
M = "http://schemas.openxmlformats.org/officeDocument/2006/math"


@cache
def w(tag: str) -> str:
    """The qualified name of a WordprocessingML element or attribute: ``w("p")``."""
    return f"{{{W}}}{tag}"


def val(node: etree._Element | None, tag: str | None = None, default: str | None = None) -> str | None:
    """The ``w:val`` of ``node`` (or of its child ``tag``); ``default`` when absent."""
    if node is not None and tag is not None:
        node = node.find(w(tag))
    if node is None:
        return default
    return node.get(w("val"), default)


def int_val(node: etree._Element | None, tag: str, default: int) -> int:
    """An integer ``w:val`` of a child, ``default`` when absent or not a number."""
    try:
        return int(val(node, tag) or default)
    except ValueError:
        return default


def is_on(node: etree._Element | None, tag: str) -> bool:
    """A toggle property (``<w:vanish/>``, ``<w:isLgl w:val="0"/>``) that is present and on."""
    child = node.find(w(tag)) if node is not None else None
    return child is not None and child.get(w("val"), "true") not in ("0", "false", "off")
