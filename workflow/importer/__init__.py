"""Pasted text and .docx files → the report outline (:mod:`workflow.outline`), and back to text.

One job per module:

- :mod:`.hygiene`: the text hygiene every entry point applies (``clean_text``, ``normalise``);
- :mod:`.numbering`: heading numbers, their styles and the values of Chinese numerals;
- :mod:`.parsing`: lines → numbered headings and paragraphs (preamble, closing, web-page
  residue), and the outline back to text;
- :mod:`.ids`: section ids that stay stable across versions (three matching passes);
- :mod:`.docx_reader`: a .docx read as Word shows it (list numbers, tables, heading styles,
  the title), within bounds;
- :mod:`.validation`: outlines sent by clients, checked and normalised.

Errors are :class:`ContentError`, a :class:`workflow.errors.BadInput` with a reason and params.

Round trip: ``normalise(outline_to_text(import_text(t))) == normalise(t without the dropped
lines)``.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from workflow.outline import Outline, Section, empty_outline, iter_sections

from .docx_reader import DocxText, docx_to_text, read_docx
from .errors import ContentError
from .hygiene import clean_text, lines_of, normalise
from .ids import assign_ids
from .numbering import STYLES, chinese_numeral, chinese_numeral_value, number_value, numbering_style
from .parsing import outline_to_text, parse_lines
from .validation import validate_outline

__all__ = [
    "STYLES",
    "ContentError",
    "ImportedDocx",
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
    "import_text_with_report",
    "iter_sections",
    "normalise",
    "number_value",
    "numbering_style",
    "outline_to_text",
    "validate_outline",
]


def import_text_with_report(text: str, previous: Mapping[str, Any] | None = None) -> tuple[Outline, list[str]]:
    """Import pasted text; return ``(outline, dropped_lines)``.

    ``previous`` is an earlier outline of the same report: its section ids are carried over
    (see :mod:`.ids`). ``dropped_lines`` are the web-page residue lines left out (stripped, in
    order), so that the UI can tell the user what was not imported.
    """
    if not isinstance(text, str):
        raise ContentError("text_not_string")
    outline, dropped = parse_lines(lines_of(text))
    assign_ids(outline["sections"], previous)
    return outline, dropped


def import_text(text: str, previous: Mapping[str, Any] | None = None) -> Outline:
    """Import pasted plain text (from Word/WPS or a web page) into an outline."""
    return import_text_with_report(text, previous)[0]


@dataclass
class ImportedDocx:
    """A .docx imported: the outline, the residue lines dropped, and the Title-style title."""

    outline: Outline
    dropped: list[str]
    title: str | None


def import_docx_document(data: bytes, previous: Mapping[str, Any] | None = None) -> ImportedDocx:
    """Import a .docx: its lines through the text parser, with the heading levels of Word's
    heading styles and outline levels as hints (so headings without numbers are headings)."""
    document = read_docx(data)
    lines, levels = _docx_lines(document)
    outline, dropped = parse_lines(lines, levels)
    assign_ids(outline["sections"], previous)
    return ImportedDocx(outline, dropped, _one_line(document.title))


def _docx_lines(document: DocxText) -> tuple[list[str], dict[int, int]]:
    """The cleaned lines of a document and ``{line index: heading level}``."""
    lines: list[str] = []
    levels: dict[int, int] = {}
    for block in document.blocks:
        block_lines = lines_of(block.text)
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
