"""Paste repair: the damage that copying from a PDF or a printed page does to text, undone
before the lines are parsed.

Page marks
    Page numbers and footers ("- 1 -", "— 2 —", "－3－", "第 3 页", "共 5 页", "第3页 共5页",
    "3/5", a lone "12") are dropped wherever they stand, and returned so that the user is told
    (like the web-page residue of :mod:`.parsing`).

Broken lines
    Text copied from a PDF keeps the PDF's line breaks: every full line of a paragraph ends
    mid-sentence. Such text is recognised by its shape: at least ``_MIN_BROKEN`` lines (and a
    quarter of the long ones) have the same display width (a CJK character counts 2, ASCII 1)
    and end without sentence punctuation. A line of (about) that width, not ending with
    sentence punctuation and not a heading on its own, is then joined with the next line
    unless that one starts a heading, a sign-off or an annex. Text typed or copied from Word
    has one line per paragraph of varied widths, so it is never touched; neither is a line
    holding a tab (a table row).
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Repaired", "repair_lines"]

_PAGE_MARK_RES = tuple(re.compile(p) for p in (
    r"[-－—–―~～]+\s*[0-9０-９]{1,4}\s*[-－—–―~～]+",
    r"第\s*[0-9０-９]{1,4}\s*页(?:\s*[,，/]?\s*共\s*[0-9０-９]{1,4}\s*页)?",
    r"共\s*[0-9０-９]{1,4}\s*页",
    r"[0-9０-９]{1,4}\s*/\s*[0-9０-９]{1,4}",
    r"[0-9０-９]{1,3}",
))
_SENTENCE_END = "。！？!?；;：:…）)”’》】」』"
# How many same-width unpunctuated lines make a text "broken", and how close to that width a
# line must be to count as full.
_MIN_BROKEN = 3
_WIDTH_SLACK = 4


@dataclass
class Repaired:
    """The lines after repair, the page marks dropped and how many lines were joined;
    ``origins[i]`` is the index (in the lines given) of the first line ``lines[i]`` was made
    of, so that anything known per input line (a hint from a .docx) can follow."""

    lines: list[str]
    page_marks: list[str]
    joined: int
    origins: list[int]


def is_page_mark(line: str) -> bool:
    """A page number or footer line (see the module docstring)."""
    return any(p.fullmatch(line.strip()) for p in _PAGE_MARK_RES)


def _width(line: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)


def _open_ended(line: str) -> bool:
    return not line.endswith(tuple(_SENTENCE_END)) and "\t" not in line


def _full_width(lines: list[str]) -> int | None:
    """The width of a full PDF line when the text looks broken, else None."""
    widths = Counter(_width(line) for line in lines if _open_ended(line) and _width(line) >= 30)
    if not widths:
        return None
    width = widths.most_common(1)[0][0]
    near = sum(n for w, n in widths.items() if abs(w - width) <= _WIDTH_SLACK)
    long_lines = sum(1 for line in lines if _width(line) >= 30)
    if near < _MIN_BROKEN or near * 4 < long_lines:
        return None
    return width


def repair_lines(lines: list[str], starts_block: Callable[[str], bool],
                 is_heading_alone: Callable[[str], bool]) -> Repaired:
    """Drop page marks and rejoin lines broken mid-sentence (see the module docstring).

    ``starts_block(line)``: does the line open a heading, a sign-off or an annex (never joined
    onto the line before)? ``is_heading_alone(line)``: is it a heading without text after it
    (never continued by the next line)?
    """
    page_marks = [line for line in lines if is_page_mark(line)]
    kept = [(index, line) for index, line in enumerate(lines) if not is_page_mark(line)]
    full = _full_width([line for _, line in kept])
    if full is None:
        return Repaired([line for _, line in kept], page_marks, 0, [index for index, _ in kept])
    paragraphs: list[list[str]] = []  # the pieces of each paragraph, joined once at the end
    origins: list[int] = []
    joined = 0
    continues = False
    for index, line in kept:
        if continues and not starts_block(line) and "\t" not in line:
            paragraphs[-1].append(line)
            joined += 1
        else:
            paragraphs.append([line])
            origins.append(index)
        continues = (_open_ended(line) and _width(line) >= full - _WIDTH_SLACK
                     and not (len(paragraphs[-1]) == 1 and is_heading_alone(line)))
    return Repaired(["".join(pieces) for pieces in paragraphs], page_marks, joined, origins)
