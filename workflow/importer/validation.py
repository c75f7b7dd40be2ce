"""Outline validation: an outline sent by a client (the API's ``outline``) checked and normalised.

Every error is a :class:`ContentError` whose ``path`` parameter names the offending value the
way a client wrote it, e.g. ``sections[2].paragraphs[0]``.
"""
from __future__ import annotations

from collections.abc import Iterator

from workflow.errors import TooLarge
from workflow.outline import Outline, Section, Table

from .errors import ContentError
from .hygiene import clean_text, lines_of
from .ids import assign_ids
from .numbering import numbering_style
from .tables import MAX_COLUMNS, MAX_ROWS, assign_table_ids, check_table_bounds, make_table

__all__ = ["validate_outline"]

_MAX_DEPTH = 12
_MAX_ID = 64
_SECTION_KEYS = {"id", "level", "number", "heading", "paragraphs", "children", "run_in", "tables"}
_OUTLINE_KEYS = {"preamble", "sections", "closing", "annex", "preamble_tables"}
_TABLE_KEYS = {"id", "at", "rows", "header_rows", "caption"}


def validate_outline(obj: object) -> Outline:
    """Check an outline sent by a client and return a normalised copy.

    Rules: ``sections`` is required, ``preamble`` and ``closing`` default to ``[]``, ``annex``
    is optional (kept only when not empty); no other keys. A section needs ``number`` (empty
    or a recognised numbering such as ``"一、"``),
    ``heading`` (str) and ``paragraphs`` (list of str); ``children`` defaults to ``[]``;
    ``level``, when given, must be an int equal to the section's depth (it is filled in
    otherwise); ``id``, when given, must be a non-empty string of at most 64 characters,
    unique in the outline (missing ids are filled in); ``run_in`` must be a bool. Text goes
    through the hygiene of :func:`clean_text`; a line break inside a paragraph splits it and
    blank paragraphs are dropped. Raises :class:`ContentError` naming the bad path, e.g.
    ``ContentError("outline_not_string", path="sections[2].paragraphs[0]")``.

    Tables (``preamble_tables``, a section's ``tables``; see :mod:`workflow.outline`): ``rows``
    is required, a non-empty list of lists of strings (cells: tabs and line breaks become
    spaces, short rows are padded); ``at`` defaults to after the last paragraph, must not be
    negative, and past the last paragraph means after it (paragraphs counted after blank ones
    are dropped); ``header_rows`` defaults
    to 1 and must be 0…len(rows); ``caption`` is an optional string; ``id`` as for sections
    (unique among tables). Tables are sorted by ``at``. The bounds of :mod:`.tables` answer
    :class:`~workflow.errors.TooLarge`.
    """
    if not isinstance(obj, dict):
        raise ContentError("outline_not_object", path="outline")
    _check_keys(obj, "", _OUTLINE_KEYS, required=("sections",))
    result: Outline = {
        "preamble": _clean_paragraphs(obj.get("preamble", []), "preamble"),
        "sections": _validate_sections(obj["sections"], "sections", 1),
        "closing": _clean_paragraphs(obj.get("closing", []), "closing"),
    }
    tables = _validate_tables(obj.get("preamble_tables", []), "preamble_tables", len(result["preamble"]))
    if tables:
        result["preamble_tables"] = tables
    annex = _clean_paragraphs(obj.get("annex", []), "annex")
    if annex:
        result["annex"] = annex
    _check_unique_ids(result["sections"])
    _check_tables(result)
    assign_ids(result["sections"], keep_existing=True)
    assign_table_ids(result, keep_existing=True)
    return result


def _check_keys(value: dict[object, object], path: str, known: set[str],
                required: tuple[str, ...]) -> None:
    """No unknown keys, every required one. ``path`` is the object's path (``""`` at the top)."""
    prefix = f"{path}." if path else ""
    unknown = sorted(set(value) - known, key=str)
    if unknown:
        raise ContentError("outline_unknown_key", path=f"{prefix}{unknown[0]}")
    for key in required:
        if key not in value:
            raise ContentError("outline_missing", path=f"{prefix}{key}")


def _check_unique_ids(sections: list[Section]) -> None:
    seen: set[str] = set()
    for section, section_path in _iter_with_paths(sections, "sections"):
        if section["id"] in seen:
            raise ContentError("outline_duplicate_id", path=f"{section_path}.id", id=section["id"])
        if section["id"]:
            seen.add(section["id"])


def _iter_with_paths(sections: list[Section], path: str) -> Iterator[tuple[Section, str]]:
    for index, section in enumerate(sections):
        section_path = f"{path}[{index}]"
        yield section, section_path
        yield from _iter_with_paths(section["children"], f"{section_path}.children")


def _clean_line(value: str) -> str:
    return " ".join(clean_text(value).split("\n")).strip()


def _clean_paragraphs(value: object, path: str) -> list[str]:
    """A list of strings; line breaks inside a string split it into paragraphs."""
    if not isinstance(value, list):
        raise ContentError("outline_not_string_list", path=path)
    result: list[str] = []
    for index, item in enumerate(value):
        if not isinstance(item, str):
            raise ContentError("outline_not_string", path=f"{path}[{index}]")
        result.extend(lines_of(item))
    return result


def _validate_sections(value: object, path: str, depth: int) -> list[Section]:
    if not isinstance(value, list):
        raise ContentError("outline_not_list", path=path)
    if depth > _MAX_DEPTH:
        raise ContentError("outline_too_deep", path=path, limit=_MAX_DEPTH)
    return [_validate_section(item, f"{path}[{i}]", depth) for i, item in enumerate(value)]


def _validate_section(value: object, path: str, depth: int) -> Section:
    if not isinstance(value, dict):
        raise ContentError("outline_not_object", path=path)
    _check_keys(value, path, _SECTION_KEYS, required=("number", "heading", "paragraphs"))
    for key in ("number", "heading"):
        if not isinstance(value[key], str):
            raise ContentError("outline_not_string", path=f"{path}.{key}")
    number = _valid_number(value["number"], path)
    _check_level(value.get("level", depth), path, depth)
    section_id = _valid_id(value.get("id"), path)
    run_in = value.get("run_in", False)
    if not isinstance(run_in, bool):
        raise ContentError("outline_not_boolean", path=f"{path}.run_in")
    paragraphs = _clean_paragraphs(value["paragraphs"], f"{path}.paragraphs")
    section: Section = {
        "id": section_id,
        "level": depth,
        "number": number,
        "heading": _clean_line(value["heading"]),
        "paragraphs": paragraphs,
        "children": _validate_sections(value.get("children", []), f"{path}.children",
                                       depth + 1),
    }
    if run_in and paragraphs:
        section["run_in"] = True
    tables = _validate_tables(value.get("tables", []), f"{path}.tables", len(paragraphs))
    if tables:
        section["tables"] = tables
    return section


def _validate_tables(value: object, path: str, paragraph_count: int) -> list[Table]:
    if not isinstance(value, list):
        raise ContentError("outline_not_list", path=path)
    tables = [_validate_table(item, f"{path}[{i}]", paragraph_count) for i, item in enumerate(value)]
    return sorted(tables, key=lambda table: table["at"])


def _validate_table(value: object, path: str, paragraph_count: int) -> Table:
    if not isinstance(value, dict):
        raise ContentError("outline_not_object", path=path)
    _check_keys(value, path, _TABLE_KEYS, required=("rows",))
    rows = value["rows"]
    if not isinstance(rows, list) or not rows:
        raise ContentError("outline_table_no_rows", path=f"{path}.rows")
    if len(rows) > MAX_ROWS:  # before reading every cell of a huge table
        raise TooLarge("table_too_many_rows", table=path, limit=MAX_ROWS)
    for index, row in enumerate(rows):
        if not isinstance(row, list):
            raise ContentError("outline_not_string_list", path=f"{path}.rows[{index}]")
        if len(row) > MAX_COLUMNS:
            raise TooLarge("table_too_many_columns", table=path, limit=MAX_COLUMNS)
        for column, cell in enumerate(row):
            if not isinstance(cell, str):
                raise ContentError("outline_not_string", path=f"{path}.rows[{index}][{column}]")
    caption = value.get("caption", "")
    if not isinstance(caption, str):
        raise ContentError("outline_not_string", path=f"{path}.caption")
    table = make_table([[clean_text(cell) for cell in row] for row in rows], _clean_line(caption))
    # Past the last paragraph means after it: an old client that removed paragraphs and passed
    # the tables through unread still sends a valid outline.
    at = value.get("at", paragraph_count)
    at = min(at, paragraph_count) if isinstance(at, int) and not isinstance(at, bool) else at
    table["at"] = _bounded_int(at, f"{path}.at", paragraph_count)
    table["header_rows"] = _bounded_int(value.get("header_rows", 1), f"{path}.header_rows", len(rows))
    table["id"] = _valid_id(value.get("id"), path)
    return table


def _bounded_int(value: object, path: str, limit: int) -> int:
    """An integer from 0 to ``limit``."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise ContentError("outline_not_integer", path=path)
    if not 0 <= value <= limit:
        raise ContentError("outline_out_of_range", path=path, limit=limit)
    return value


def _check_tables(outline: Outline) -> None:
    """Table ids unique, and the bounds of :mod:`.tables` over the whole outline."""
    found: list[tuple[Table, str]] = [(t, f"preamble_tables[{i}]")
                                      for i, t in enumerate(outline.get("preamble_tables", []))]
    for section, section_path in _iter_with_paths(outline["sections"], "sections"):
        found += [(t, f"{section_path}.tables[{i}]") for i, t in enumerate(section.get("tables", []))]
    seen: set[str] = set()
    for table, path in found:
        if table["id"] in seen:
            raise ContentError("outline_duplicate_table_id", path=f"{path}.id", id=table["id"])
        if table["id"]:
            seen.add(table["id"])
    check_table_bounds([t for t, _ in found], [path for _, path in found])


def _valid_number(value: str, path: str) -> str:
    """The number, cleaned: empty or a recognised heading number."""
    number = _clean_line(value)
    if number and not numbering_style(number):
        raise ContentError("outline_bad_number", path=f"{path}.number", number=number)
    return number


def _check_level(level: object, path: str, depth: int) -> None:
    """A level, when given, is the section's depth."""
    if not isinstance(level, int) or isinstance(level, bool):
        raise ContentError("outline_not_integer", path=f"{path}.level")
    if level != depth:
        raise ContentError("outline_wrong_level", path=f"{path}.level", depth=depth, level=level)


def _valid_id(value: object, path: str) -> str:
    """The id, cleaned (``""`` when none was given: it is filled in later)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ContentError("outline_not_string", path=f"{path}.id")
    section_id = clean_text(value).strip()
    if not section_id or len(section_id) > _MAX_ID:
        raise ContentError("outline_bad_id", path=f"{path}.id", limit=_MAX_ID)
    return section_id
