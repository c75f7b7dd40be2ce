"""Text hygiene, applied at every entry point of the importer.

CRLF and CR become LF; vertical tab, form feed and U+2028/U+2029 become LF (Word line and page
breaks); a tab becomes a space (unless the caller keeps tabs: pasted tables are tab-separated,
see :mod:`.tables`); NUL and the other C0/C1 control characters, lone surrogates,
zero-width characters (U+200B–U+200F, U+2060), soft hyphens and the BOM are removed.
"""
from __future__ import annotations

import re

__all__ = ["clean_text", "lines_of", "normalise"]

_LINE_BREAKS_RE = re.compile(r"\r\n?|[\x0b\x0c\x85\u2028\u2029]")
# C0 except \n (\t is converted first), DEL, C1, lone surrogates, non-characters.
_CONTROL_RE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_CONTROL_BUT_TAB_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
# Whitespace at either end of a line, tabs excepted (a leading tab is an empty first cell).
_EDGE_SPACE_RE = re.compile(r"^[^\S\t]+|[^\S\t]+$")
_INVISIBLE: dict[int, None] = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u200e\u200f\u2060\ufeff\u00ad"))


def clean_text(text: str, *, keep_tabs: bool = False) -> str:
    """Return ``text`` with line breaks unified to LF and invisible/control characters removed.

    See the module docstring for the exact list. ``keep_tabs`` keeps tab characters.
    """
    text = _LINE_BREAKS_RE.sub("\n", text)
    if keep_tabs:
        return _CONTROL_BUT_TAB_RE.sub("", text).translate(_INVISIBLE)
    text = text.replace("\t", " ")
    text = _CONTROL_RE.sub("", text)
    return text.translate(_INVISIBLE)


def normalise(text: str) -> str:
    """Normalise text for round-trip comparison: hygiene, strip every line, drop blank lines.

    ``str.strip`` removes ASCII and Unicode whitespace, including the ideographic space U+3000
    used for indents. Inner whitespace is left alone, so ``"Microsoft Word 文档"`` stays as it is.
    """
    lines = (line.strip() for line in clean_text(text).split("\n"))
    return "\n".join(line for line in lines if line)


def lines_of(text: str, *, keep_tabs: bool = False) -> list[str]:
    """The non-blank, stripped lines of ``text`` after hygiene.

    ``keep_tabs``: tabs survive, and a line keeps its leading and trailing tabs (empty cells of
    a pasted table row); a line of nothing but whitespace is still blank, and dropped, except
    that one ``""`` stays between two lines with tabs (it separates two tables, see
    :mod:`.tables`, which drops it).
    """
    if keep_tabs:
        lines = [_EDGE_SPACE_RE.sub("", line) for line in clean_text(text, keep_tabs=True).split("\n")]
        kept: list[str] = []
        blank = False
        for line in lines:
            if not line.strip():
                blank = True
                continue
            if blank and kept and "\t" in kept[-1] and "\t" in line:
                kept.append("")
            kept.append(line)
            blank = False
        return kept
    normalised = normalise(text)
    return normalised.split("\n") if normalised else []
