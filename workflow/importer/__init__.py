"""Pasted text and .docx files → the report outline (:mod:`workflow.outline`), and back to text.

One job per module:

- :mod:`.hygiene`: the text hygiene every entry point applies (``clean_text``, ``normalise``);
- :mod:`.numbering`: heading numbers, their styles and the values of Chinese numerals;
- :mod:`.repair`: page numbers dropped and lines broken by a PDF copy rejoined;
- :mod:`.parsing`: lines → numbered headings and paragraphs (preamble, closing, web-page
  residue), and the outline back to text;
- :mod:`.ids`: section ids that stay stable across versions (three matching passes);
- :mod:`.tables`: tab-separated lines as tables (and back), their bounds and ids;
- :mod:`.docx_reader`: a .docx read as Word shows it (list numbers, tables, heading styles,
  the title), within bounds;
- :mod:`.validation`: outlines sent by clients, checked and normalised.

Errors are :class:`ContentError`, a :class:`workflow.errors.BadInput` with a reason and params.

Round trip: ``normalise(outline_to_text(import_text(t))) == normalise(t without the dropped
lines)`` — when nothing needed repair.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from workflow.outline import Outline, Section, empty_outline, iter_sections

from .errors import ContentError
from .hygiene import clean_text, lines_of, normalise
from .ids import assign_ids
from .numbering import ENCLOSED, STYLES, chinese_numeral, chinese_numeral_value, number_value, numbering_style
from .parsing import is_heading_alone, loose_numbers, outline_to_text, parse_lines, starts_block
from .repair import repair_lines
from .tables import MAX_CELL_CHARS, MAX_COLUMNS, MAX_ROWS, MAX_TABLES, assign_table_ids, keep_header_rows
from .validation import validate_outline

if TYPE_CHECKING:  # the .docx reader (lxml, ≈3 MB of a process) is imported when a .docx comes in
    from .docx_reader import DocxText

__all__ = [
    "ENCLOSED",
    "MAX_CELL_CHARS",
    "MAX_COLUMNS",
    "MAX_ROWS",
    "MAX_TABLES",
    "STYLES",
    "ContentError",
    "Imported",
    "Outline",
    "Section",
    "chinese_numeral",
    "chinese_numeral_value",
    "clean_text",
    "docx_to_text",
    "empty_outline",
    "import_docx",
    "import_docx_document",
    "import_docx_with_report",
    "import_text",
    "import_text_with_repairs",
    "import_text_with_report",
    "iter_sections",
    "normalise",
    "number_value",
    "numbering_style",
    "outline_to_text",
    "validate_outline",
]


@dataclass
class Imported:
    """What an import gives: the outline, the lines left out (web-page residue, then page
    numbers and footers) and what paste repair did (``joined_lines``: lines broken
    mid-sentence rejoined; ``loose_numbers``: headings numbered ``一,`` ``一，`` ``一.`` read as
    ``一、``; ``page_marks``: how many of the dropped lines, the last ones, are page numbers and
    footers), so that the UI can tell the user. Zero counts are left out."""

    outline: Outline
    dropped: list[str]
    repairs: dict[str, int] = field(default_factory=dict)
    title: str | None = None  # a .docx's paragraphs in Word's Title style


def import_text_with_repairs(text: str, previous: Mapping[str, Any] | None = None) -> Imported:
    """Import pasted text, repairing what a PDF copy breaks (see :mod:`.repair`).

    ``previous`` is an earlier outline of the same report: its section ids are carried over
    (see :mod:`.ids`).
    """
    if not isinstance(text, str):
        raise ContentError("text_not_string")
    return _import_lines(lines_of(text, keep_tabs=True), previous)


def import_text_with_report(text: str, previous: Mapping[str, Any] | None = None) -> tuple[Outline, list[str]]:
    """Import pasted text; return ``(outline, dropped_lines)``.

    ``dropped_lines`` are the web-page residue lines, page numbers and footers left out
    (stripped), so that the UI can tell the user what was not imported.
    """
    imported = import_text_with_repairs(text, previous)
    return imported.outline, imported.dropped


def import_text(text: str, previous: Mapping[str, Any] | None = None) -> Outline:
    """Import pasted plain text (from Word/WPS or a web page) into an outline."""
    return import_text_with_report(text, previous)[0]


def _import_lines(lines: list[str], previous: Mapping[str, Any] | None,
                  levels: Mapping[int, int] | None = None) -> Imported:
    """Repair, parse and number the ids of cleaned lines; ``levels`` are heading-level hints by
    line index (a .docx's heading styles), carried through the repair's joins."""
    repaired = repair_lines(lines, starts_block, is_heading_alone)
    hints = {i: levels[origin] for i, origin in enumerate(repaired.origins) if origin in levels} if levels else None
    outline, dropped = parse_lines(repaired.lines, hints)
    assign_ids(outline["sections"], previous)
    assign_table_ids(outline, previous)
    keep_header_rows(outline, previous)
    repairs = {"joined_lines": repaired.joined,
               "loose_numbers": loose_numbers(outline["sections"]),
               "page_marks": len(repaired.page_marks)}
    return Imported(outline, dropped + repaired.page_marks,
                    {key: n for key, n in repairs.items() if n})


def docx_to_text(data: bytes) -> str:
    """The text of a .docx, one paragraph per line, tables as TAB-separated rows."""
    from .docx_reader import docx_to_text as read_text

    return read_text(data)


def import_docx_document(data: bytes, previous: Mapping[str, Any] | None = None) -> Imported:
    """Import a .docx: its lines through the text parser, with the heading levels of Word's
    heading styles and outline levels as hints (so headings without numbers are headings),
    and the title Word's Title style gives (``Imported.title``)."""
    from .docx_reader import read_docx

    document = read_docx(data)
    lines, levels = _docx_lines(document)
    imported = _import_lines(lines, previous, levels)
    imported.title = _one_line(document.title)
    return imported


def _docx_lines(document: DocxText) -> tuple[list[str], dict[int, int]]:
    """The cleaned lines of a document and ``{line index: heading level}``."""
    lines: list[str] = []
    levels: dict[int, int] = {}
    for block in document.blocks:
        block_lines = lines_of(block.text, keep_tabs=True)
        if not block.text and lines and "\t" in lines[-1]:
            lines.append("")  # the end of a table: the next one is another (see .tables)
        if block.heading and block_lines:
            levels[len(lines)] = block.heading
        lines.extend(block_lines)
    return lines, levels


def _one_line(text: str | None) -> str | None:
    return " ".join(clean_text(text).split()) or None if text else None


def import_docx_with_report(data: bytes, previous: Mapping[str, Any] | None = None) -> tuple[Outline, list[str]]:
    """Import a .docx; return ``(outline, dropped_lines)`` like :func:`import_text_with_report`."""
    imported = import_docx_document(data, previous)
    return imported.outline, imported.dropped


def import_docx(data: bytes, previous: Mapping[str, Any] | None = None) -> Outline:
    """Import a .docx file's bytes; raises :class:`ContentError` when they are not a .docx."""
    return import_docx_with_report(data, previous)[0]
