"""Tables in text: runs of tab-separated lines ↔ the table blocks of an outline.

In text (what Word, WPS and Excel put on the clipboard when a table is copied), a table is a
run of two or more consecutive lines with a TAB, the first of them with a tab after its text
begins (a tab only at the start of a line is indentation, not a column); each line is a row,
split at every tab into cells (stripped; a leading tab is an empty first cell), and shorter
rows are padded with ``""``; a blank line ends a run (two tables pasted one under the other
stay two). The first row is the header (``header_rows = 1``). A line just
before the run that reads like a table caption (``表1 2026年主要指标``, ``续表2``) becomes the
table's ``caption``. A single line with a tab is a paragraph, the tab turned into a space.
:func:`table_lines` writes a table back the same way, so ``outline_to_text`` round-trips.

Parsing goes in two steps around the line parser (:mod:`.parsing`): :func:`take_tables`
replaces each run by one marker line, which the parser keeps as a paragraph like any other;
:func:`place_tables` then lifts every marker out of the paragraphs into the ``tables`` of its
section (``preamble_tables`` in the preamble), ``at`` being the number of paragraphs before it.
The marker holds a NUL, which the hygiene removes from any input, and ends with 。, so that it
reads as a sentence: never a heading, a sign-off or web-page residue.

Bounds (:func:`check_table_bounds`, for pasted text, .docx and client outlines alike): at most
``MAX_ROWS`` rows, ``MAX_COLUMNS`` columns, ``MAX_CELL_CHARS`` characters per cell and
``MAX_TABLES`` tables per report.

Ids: ``"t-"`` + 6 hex digits (:func:`assign_table_ids`). A table keeps the id of the table of
the previous version that stood in the same place (the same section id, or the preamble, and
the same rank among its tables); fresh ids are derived from that place, so importing the
same text twice gives the same ids. Such a table also keeps its ``header_rows`` while the header
is unchanged (:func:`keep_header_rows`): text cannot say it.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping
from typing import Any

from workflow.errors import TooLarge
from workflow.outline import Outline, Table, iter_sections

__all__ = [
    "MAX_CELL_CHARS",
    "MAX_COLUMNS",
    "MAX_ROWS",
    "MAX_TABLES",
    "assign_table_ids",
    "check_table_bounds",
    "keep_header_rows",
    "make_table",
    "place_tables",
    "table_lines",
    "take_tables",
    "with_tables",
]

MAX_ROWS = 200
MAX_COLUMNS = 30
MAX_CELL_CHARS = 2_000
MAX_TABLES = 100

_MARKER = "\x00{}\x00。"
_MARKER_RE = re.compile(r"\x00(\d+)\x00。")
_CAPTION_RE = re.compile(r"(?:续)?表\s*[0-9０-９一二三四五六七八九十]+(?:[-－.．][0-9０-９]+)?(?:\s|[:：、．.]|$)")
_CAPTION_MAX_CHARS = 60


# ---------------------------------------------------------------- text → tables


def _starts_table(line: str) -> bool:
    """Does the line have a tab after its text begins (a row, not an indented paragraph)?"""
    return "\t" in line.lstrip()


def _run_end(lines: list[str], start: int) -> int:
    """The end of the run of table rows starting at ``start`` (``start``: none there)."""
    if not _starts_table(lines[start]):
        return start
    end = start + 1
    while end < len(lines) and "\t" in lines[end]:
        end += 1
    return end


def _as_paragraph(line: str) -> str:
    """A line's text with tabs (and line breaks) turned into spaces, stripped."""
    return line.replace("\t", " ").replace("\n", " ").strip()


def _is_caption(line: str) -> bool:
    return (len(line) <= _CAPTION_MAX_CHARS and not line.endswith(("。", "；", ";"))
            and bool(_CAPTION_RE.match(line)))


def make_table(rows: list[list[str]], caption: str = "") -> Table:
    """A table (id not yet assigned) from rows of cells: cells cleaned, rows padded."""
    cleaned = [[_as_paragraph(cell) for cell in row] for row in rows]
    width = max((len(row) for row in cleaned), default=0)
    table: Table = {"id": "", "at": 0, "rows": [row + [""] * (width - len(row)) for row in cleaned],
                    "header_rows": 1 if cleaned else 0}
    if caption:
        table["caption"] = caption
    return table


def take_tables(lines: list[str], levels: Mapping[int, int] | None = None
                ) -> tuple[list[str], list[Table], dict[int, int]]:
    """Replace each run of table rows in ``lines`` by a marker line; return the lines, the
    tables in order, and ``levels`` (line index → heading level, as a .docx gives them) moved
    to the indexes of the returned lines. Lines with a tab that are not part of a run become
    plain paragraphs."""
    out: list[str] = []
    tables: list[Table] = []
    moved: dict[int, int] = {}
    levels = levels or {}
    i = 0
    while i < len(lines):
        if not lines[i]:  # the blank line between two tables (see hygiene.lines_of)
            i += 1
            continue
        j = _run_end(lines, i)
        if j - i >= 2:
            caption = out.pop() if out and _is_caption(out[-1]) else ""
            if caption:
                moved = {k: v for k, v in moved.items() if k != len(out)}
            tables.append(make_table([line.split("\t") for line in lines[i:j]], caption))
            out.append(_MARKER.format(len(tables) - 1))
            i = j
            continue
        text = _as_paragraph(lines[i]) if "\t" in lines[i] else lines[i]
        if text:
            if i in levels:
                moved[len(out)] = levels[i]
            out.append(text)
        i += 1
    check_table_bounds(tables, [str(n + 1) for n in range(len(tables))])
    return out, tables, moved


def _lift(paragraphs: list[str], tables: list[Table], placed: set[int]) -> tuple[list[str], list[Table]]:
    """Paragraphs without the markers, and the tables the markers stood for, positioned."""
    kept: list[str] = []
    found: list[Table] = []
    for paragraph in paragraphs:
        if "\x00" not in paragraph:
            kept.append(paragraph)
            continue
        # A marker may have been joined to its neighbours (paste repair): split it out.
        pieces = _MARKER_RE.split(paragraph)
        for k, piece in enumerate(pieces):
            if k % 2:
                index = int(piece)
                if index < len(tables) and index not in placed:
                    placed.add(index)
                    found.append(_placed(tables[index], len(kept)))
            elif piece.strip():
                kept.append(piece.strip())
    return kept, found


def place_tables(outline: Outline, tables: list[Table]) -> None:
    """Lift the markers :func:`take_tables` left out of ``outline``'s paragraphs (in place)."""
    if not tables:
        return
    placed: set[int] = set()
    outline["preamble"], found = _lift(outline["preamble"], tables, placed)
    if found:
        outline["preamble_tables"] = found
    sections = [section for section, _ in iter_sections(outline["sections"])]
    for section in sections:
        section["paragraphs"], found = _lift(section["paragraphs"], tables, placed)
        if found:
            section["tables"] = found
    outline["closing"], in_closing = _lift(outline["closing"], tables, placed)
    if "annex" in outline:
        outline["annex"], in_annex = _lift(outline["annex"], tables, placed)
        in_closing += in_annex
    # A marker the parser put in the closing (or lost): the table follows the last section's
    # paragraphs (or the preamble's), never silently dropped.
    stray = in_closing + [tables[n] for n in range(len(tables)) if n not in placed]
    if stray and sections:
        last = sections[-1]
        last["tables"] = last.get("tables", []) + [_placed(t, len(last["paragraphs"])) for t in stray]
    elif stray:
        outline["preamble_tables"] = (outline.get("preamble_tables", [])
                                      + [_placed(t, len(outline["preamble"])) for t in stray])


def _placed(table: Table, at: int) -> Table:
    """A copy of ``table`` standing before paragraph ``at``."""
    copy = table.copy()
    copy["at"] = at
    return copy


# ---------------------------------------------------------------- tables → text


def table_lines(table: Table) -> list[str]:
    """The table as text: its caption line, then one tab-joined line per row."""
    lines = [table["caption"]] if table.get("caption") else []
    lines.extend("\t".join(row) for row in table.get("rows", []))
    return lines


def with_tables(paragraphs: list[str], tables: list[Table] | None) -> list[str]:
    """Paragraph lines with the tables' lines inserted where they stand (a blank line between
    two tables that follow each other, so that they stay two)."""
    if not tables:
        return list(paragraphs)
    out: list[str] = []
    pending = sorted(tables, key=lambda t: t.get("at", 0))
    after_table = False
    for index, paragraph in enumerate([*paragraphs, None]):
        while pending and (paragraph is None or pending[0].get("at", 0) <= index):
            out.extend([""] * after_table + table_lines(pending.pop(0)))
            after_table = True
        if paragraph is not None:
            out.append(paragraph)
            after_table = False
    return out


# ---------------------------------------------------------------- bounds and ids


def check_table_bounds(tables: list[Table], places: list[str]) -> None:
    """Raise :class:`TooLarge` when a table (named by ``places[i]``) exceeds the bounds."""
    if len(tables) > MAX_TABLES:
        raise TooLarge("too_many_tables", limit=MAX_TABLES)
    for table, place in zip(tables, places, strict=True):
        rows = table["rows"]
        if len(rows) > MAX_ROWS:
            raise TooLarge("table_too_many_rows", table=place, limit=MAX_ROWS)
        if rows and len(rows[0]) > MAX_COLUMNS:
            raise TooLarge("table_too_many_columns", table=place, limit=MAX_COLUMNS)
        for cell in (cell for row in rows for cell in row):
            if len(cell) > MAX_CELL_CHARS:
                raise TooLarge("table_cell_too_long", table=place, limit=MAX_CELL_CHARS)


def _holders(outline: Any) -> Iterator[tuple[str, list[Any]]]:
    """``(place, tables)`` of the preamble and of every section (place: ``""`` or the section
    id), for an outline that may come from storage (read defensively)."""
    if not isinstance(outline, dict):
        return
    tables = outline.get("preamble_tables")
    yield "", tables if isinstance(tables, list) else []
    stack = list(reversed(outline.get("sections") or [])) if isinstance(outline.get("sections"), list) else []
    while stack:
        section = stack.pop()
        if not isinstance(section, dict):
            continue
        tables = section.get("tables")
        yield str(section.get("id", "")), tables if isinstance(tables, list) else []
        children = section.get("children")
        if isinstance(children, list):
            stack.extend(reversed(children))


def _fresh_table_id(place: str, rank: int, taken: set[str]) -> str:
    counter = 0
    while True:
        digest = hashlib.sha1(f"{place}\x1f{rank}\x1f{counter}".encode()).hexdigest()
        candidate = "t-" + digest[:6]
        if candidate not in taken:
            return candidate
        counter += 1


def assign_table_ids(outline: Outline, previous: Any = None, keep_existing: bool = False) -> None:
    """Give every table an id, in place (section ids must be assigned already).

    ``keep_existing`` keeps ids already present (client outlines) and fills only the gaps.
    """
    old: dict[tuple[str, int], str] = {}
    for place, tables in _holders(previous):
        for rank, table in enumerate(tables):
            if isinstance(table, dict) and isinstance(table.get("id"), str) and table["id"]:
                old[(place, rank)] = table["id"]
    current = list(_holders(outline))
    kept = {t["id"] for _, tables in current for t in tables if keep_existing and t.get("id")}
    used = set(kept)
    taken = set(old.values()) | kept
    for place, tables in current:
        for rank, table in enumerate(tables):
            if table.get("id") in kept:
                continue
            reused = old.get((place, rank))
            table["id"] = reused if reused and reused not in used else _fresh_table_id(place, rank, taken)
            used.add(table["id"])
            taken.add(table["id"])


def keep_header_rows(outline: Outline, previous: Any) -> None:
    """Text does not say how many header rows a table has (a pasted table gets one): a table
    that kept its id keeps the previous version's ``header_rows`` while those rows are
    unchanged, so that saving through the text editor does not lose it."""
    before = {t["id"]: t for _, tables in _holders(previous) for t in tables
              if isinstance(t, dict) and isinstance(t.get("id"), str)}
    for _, tables in _holders(outline):
        for table in tables:
            old = before.get(table["id"])
            count = old.get("header_rows") if old else None
            if isinstance(count, int) and 0 <= count <= len(table["rows"]) \
                    and old is not None and old.get("rows", [])[:count] == table["rows"][:count]:
                table["header_rows"] = count
