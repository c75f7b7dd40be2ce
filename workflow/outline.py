"""The shape of a report's content: an outline of numbered sections (see CONTRACT.md).

::

    {"preamble": [str], "sections": [section], "closing": [str], "annex"?: [str]}
    section = {"id": str, "level": int, "number": str, "heading": str,
               "paragraphs": [str], "children": [section], "run_in"?: true,
               "tables"?: [table]}
    table = {"id": str, "at": int, "rows": [[str]], "header_rows": int, "caption"?: str}

* ``level`` is the depth in the tree (1 = top level), whatever numbering style is used.
* ``number`` is the heading number exactly as written, including any space the author put
  after it (``"一、"``, ``"(一)"``, ``"（一）"``, ``"1."``, ``"1、"``, ``"1．"``, ``"(1)"``,
  ``"（1）"``, ``"1. "``); ``""`` for a section a client sent without a number.
* ``run_in`` (optional, only ever ``true``) marks a heading that shared its line with the
  first paragraph, as in ``1.聚拓展镇域经济新空间。一是做强项目支撑…``: the heading keeps its
  closing punctuation and ``paragraphs[0]`` is the rest of the line, so the line is exactly
  ``number + heading + paragraphs[0]``.
* ``tables`` (optional; absent or ``[]``: none) are the section's tables, sorted by ``at``: a
  table stands before ``paragraphs[at]`` (``at == len(paragraphs)``: after the last one).
  Every row has the same number of cells (plain one-line text); the first ``header_rows``
  rows are the header. The outline's ``preamble_tables`` place tables in the preamble the
  same way. ``paragraphs`` stays a list of strings, so a client that ignores ``tables``
  still reads every paragraph.

``annex`` (optional, absent when empty) holds the annexes (附件) as lines: the list
``附件：1. …`` that stands before the sign-off and the annexes' text after it, in that order;
the text of an outline writes them after the closing.

Outlines are stored as JSON; these types describe what the importer produces and what
:func:`workflow.importer.validate_outline` returns. An outline read back from storage is
trusted to have this shape (it was validated on the way in).
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import NotRequired, TypedDict

__all__ = ["Outline", "Section", "Table", "empty_outline", "iter_sections", "iter_tables", "table_cells"]


class Table(TypedDict):
    """A table among a section's (or the preamble's) paragraphs: rows of plain-text cells."""

    id: str
    at: int
    rows: list[list[str]]
    header_rows: int
    caption: NotRequired[str]


class Section(TypedDict):
    """One numbered section of an outline, with its sub-sections in ``children``."""

    id: str
    level: int
    number: str
    heading: str
    paragraphs: list[str]
    children: list[Section]
    run_in: NotRequired[bool]
    tables: NotRequired[list[Table]]


class Outline(TypedDict):
    """A report's content: text before the first heading, the sections, the sign-off lines,
    the annexes."""

    preamble: list[str]
    sections: list[Section]
    closing: list[str]
    preamble_tables: NotRequired[list[Table]]
    annex: NotRequired[list[str]]


def empty_outline() -> Outline:
    """An outline with nothing in it."""
    return {"preamble": [], "sections": [], "closing": []}


def iter_sections(sections: list[Section], parents: tuple[Section, ...] = ()
                  ) -> Iterator[tuple[Section, tuple[Section, ...]]]:
    """Yield ``(section, ancestors)`` for every section in document (pre-)order."""
    for section in sections:
        yield section, parents
        children = section.get("children")
        if isinstance(children, list):
            yield from iter_sections(children, (*parents, section))


def iter_tables(outline: Outline) -> Iterator[tuple[Table, Section | None]]:
    """Yield ``(table, section)`` for every table in document order (``None``: the preamble)."""
    for table in outline.get("preamble_tables") or []:
        yield table, None
    for section, _ in iter_sections(outline.get("sections", [])):
        for table in section.get("tables") or []:
            yield table, section


def table_cells(table: Table) -> list[str]:
    """The table's caption (if any) and its cells, row by row: its text for checks."""
    cells = [table["caption"]] if table.get("caption") else []
    for row in table.get("rows", []):
        cells.extend(row)
    return cells
