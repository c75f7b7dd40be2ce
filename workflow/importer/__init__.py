"""Pasted text and .docx files → the report outline (:mod:`workflow.outline`), and back to text.

One job per module:

- :mod:`.hygiene`: the text hygiene every entry point applies (``clean_text``, ``normalise``);
- :mod:`.numbering`: heading numbers, their styles and the values of Chinese numerals;
- :mod:`.parsing`: lines → numbered headings and paragraphs (preamble, closing, web-page
  residue), and the outline back to text;
- :mod:`.ids`: section ids that stay stable across versions (three matching passes);
- :mod:`.tables`: tab-separated lines as tables (and back), their bounds and ids;
- :mod:`.docx_reader`: the text of a .docx, Word's automatic list numbers included;
- :mod:`.validation`: outlines sent by clients, checked and normalised.

Errors are :class:`ContentError`, a :class:`workflow.errors.BadInput` with a reason and params.

Round trip: ``normalise(outline_to_text(import_text(t))) == normalise(t without the dropped
lines)``.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workflow.outline import Outline, Section, empty_outline, iter_sections

from .docx_reader import docx_to_text
from .errors import ContentError
from .hygiene import clean_text, lines_of, normalise
from .ids import assign_ids
from .numbering import STYLES, chinese_numeral, chinese_numeral_value, number_value, numbering_style
from .parsing import outline_to_text, parse_lines
from .tables import MAX_CELL_CHARS, MAX_COLUMNS, MAX_ROWS, MAX_TABLES, assign_table_ids, keep_header_rows
from .validation import validate_outline

__all__ = [
    "MAX_CELL_CHARS",
    "MAX_COLUMNS",
    "MAX_ROWS",
    "MAX_TABLES",
    "STYLES",
    "ContentError",
    "Outline",
    "Section",
    "chinese_numeral",
    "chinese_numeral_value",
    "clean_text",
    "docx_to_text",
    "empty_outline",
    "import_docx",
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
    outline, dropped = parse_lines(lines_of(text, keep_tabs=True))
    assign_ids(outline["sections"], previous)
    assign_table_ids(outline, previous)
    keep_header_rows(outline, previous)
    return outline, dropped


def import_text(text: str, previous: Mapping[str, Any] | None = None) -> Outline:
    """Import pasted plain text (from Word/WPS or a web page) into an outline."""
    return import_text_with_report(text, previous)[0]


def import_docx_with_report(data: bytes, previous: Mapping[str, Any] | None = None) -> tuple[Outline, list[str]]:
    """Import a .docx; return ``(outline, dropped_lines)`` like :func:`import_text_with_report`."""
    return import_text_with_report(docx_to_text(data), previous)


def import_docx(data: bytes, previous: Mapping[str, Any] | None = None) -> Outline:
    """Import a .docx file's bytes; raises :class:`ContentError` when they are not a .docx."""
    return import_docx_with_report(data, previous)[0]
