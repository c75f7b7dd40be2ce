"""What changed between two versions of a report, section by section, character by character.

:func:`diff_outlines` returns one entry per section, in the document order of the new version
(a removed section is placed where it was: right after the nearest section before it that
still exists), with the preamble first and the closing last as pseudo-sections whose
``section_id`` is ``"preamble"`` / ``"closing"``::

    {"section_id", "level", "number", "old_number", "heading",
     "status": "same" | "changed" | "added" | "removed",
     "heading_ops": [op], "ops": [op], "tables": [table]}
    op = {"op": "equal"|"insert"|"delete", "text"}
    table = {"table_id", "status", "header_rows", "caption_ops": [op], "rows": [row]}
    row = {"status", "cells": [{"status", "ops": [op]}]}

``ops`` cover the section's own paragraphs joined by ``"\\n"`` (children are entries of their
own); ``heading_ops`` cover the heading. Joining the ``equal`` and ``delete`` texts gives the
old text, joining ``equal`` and ``insert`` the new one. ``old_number`` is the old number when
the section was renumbered (which counts as a change), else None.

Tables are diffed cell by cell (``tables``, one entry per table of either version: matched by
id, then by rank; removed ones last): rows are aligned as whole rows (``SequenceMatcher`` over
the rows), an unchanged row is ``same``, a row only in the new (old) version ``added``
(``removed``) with every cell inserted (deleted), and a replaced row ``changed`` when it is
still the same row (paired in order with the old one: the same row label, or mostly the same
text), each of its cells ``same`` or ``changed`` with the character diff of that cell. A
changed table makes its section ``changed``.

Sections are matched by id, then by number + heading, then by heading. Chinese has no spaces,
so the comparison is per character (diff-match-patch: lines first, then characters within the
changed lines, with a time bound and a semantic clean-up); equal runs of one or two characters between two
changes are folded into the change, which reads better than a confetti of tiny edits.
"""
from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Any

from diff_match_patch import diff_match_patch

from workflow.importer import iter_sections

__all__ = ["diff_outlines", "diff_stats", "text_ops"]

_TINY_EQUAL = 2
# A replaced row at least this similar to the old one is shown as changed, cell by cell;
# below, as a removed row and an added one.
_SAME_ROW_SIMILARITY = 0.5
# diff-match-patch stops refining after this many seconds and returns a coarser (still exact)
# diff: the time of any comparison is bounded, whatever the size of the two texts.
DIFF_TIMEOUT_S = 0.5
_OPS = {diff_match_patch.DIFF_EQUAL: "equal", diff_match_patch.DIFF_DELETE: "delete",
        diff_match_patch.DIFF_INSERT: "insert"}



def _char_ops(a: str, b: str) -> list[tuple[str, str]]:
    """The character-level core: diff-match-patch (line pass first, then characters within the
    changed lines), cleaned up semantically so a change reads as words, not scattered letters."""
    matcher = diff_match_patch()
    matcher.Diff_Timeout = DIFF_TIMEOUT_S
    diffs = matcher.diff_main(a, b, True)
    matcher.diff_cleanupSemantic(diffs)
    return [(_OPS[op], text) for op, text in diffs]


def _tidy(raw: list[tuple[str, str]]) -> list[dict]:
    """Drop empty ops, fold tiny equal runs between changes, group each change as one
    delete followed by one insert."""
    raw = [(op, text) for op, text in raw if text]
    folded: list[tuple[str, str]] = []
    for index, (op, text) in enumerate(raw):
        if (op == "equal" and len(text) <= _TINY_EQUAL and 0 < index < len(raw) - 1
                and raw[index - 1][0] != "equal" and raw[index + 1][0] != "equal"):
            folded += [("delete", text), ("insert", text)]
        else:
            folded.append((op, text))
    result: list[dict] = []
    deleted: list[str] = []
    inserted: list[str] = []

    def flush() -> None:
        if deleted:
            result.append({"op": "delete", "text": "".join(deleted)})
        if inserted:
            result.append({"op": "insert", "text": "".join(inserted)})
        deleted.clear()
        inserted.clear()

    for op, text in folded:
        if op == "equal":
            flush()
            if result and result[-1]["op"] == "equal":
                result[-1]["text"] += text
            else:
                result.append({"op": "equal", "text": text})
        else:
            (deleted if op == "delete" else inserted).append(text)
    flush()
    return result


def text_ops(old: str, new: str) -> list[dict]:
    """Character-level edit operations turning ``old`` into ``new``."""
    if old == new:
        return [{"op": "equal", "text": old}] if old else []
    return _tidy(_char_ops(old, new))


def _body(section: Mapping[str, Any] | None) -> str:
    return "\n".join(section.get("paragraphs", [])) if section else ""


def _cell_ops(old: str, new: str) -> list[dict]:
    return text_ops(old, new) if old != new else ([{"op": "equal", "text": new}] if new else [])


def _row(status: str, old: list[str], new: list[str]) -> dict:
    """One row of a table diff: every cell with its status and its character diff."""
    width = max(len(old), len(new))
    old = old + [""] * (width - len(old))
    new = new + [""] * (width - len(new))
    cells = [{"status": "same" if a == b else status, "ops": _cell_ops(a, b)}
             for a, b in zip(old, new, strict=True)]
    return {"status": status, "cells": cells}


def _same_row(old: list[str], new: list[str]) -> bool:
    """Is ``new`` an edit of ``old`` (the same row label, or mostly the same text)?"""
    if old and new and old[0] and old[0] == new[0]:
        return True
    matcher = difflib.SequenceMatcher(None, "\t".join(old), "\t".join(new), autojunk=False)
    return matcher.ratio() >= _SAME_ROW_SIMILARITY


def _rows_diff(old_rows: list[list[str]], new_rows: list[list[str]]) -> list[dict]:
    """Rows aligned as wholes; replaced rows paired in order and diffed cell by cell."""
    rows: list[dict] = []
    matcher = difflib.SequenceMatcher(None, [tuple(r) for r in old_rows], [tuple(r) for r in new_rows],
                                      autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        old_block, new_block = old_rows[i1:i2], new_rows[j1:j2]
        if tag == "equal":
            rows += [_row("same", r, r) for r in new_block]
            continue
        paired = min(len(old_block), len(new_block)) if tag == "replace" else 0
        for a, b in zip(old_block[:paired], new_block[:paired], strict=True):
            rows += [_row("changed", a, b)] if _same_row(a, b) else [_row("removed", a, []), _row("added", [], b)]
        rows += [_row("removed", a, []) for a in old_block[paired:]]
        rows += [_row("added", [], b) for b in new_block[paired:]]
    return rows


def _table_entry(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> dict:
    old_rows = list(old.get("rows", [])) if old else []
    new_rows = list(new.get("rows", [])) if new else []
    old_caption = old.get("caption", "") if old else ""
    new_caption = new.get("caption", "") if new else ""
    shown = new if new is not None else old
    rows = _rows_diff(old_rows, new_rows)
    if old is None:
        status = "added"
    elif new is None:
        status = "removed"
    elif old_rows == new_rows and old_caption == new_caption \
            and old.get("header_rows") == new.get("header_rows"):
        status = "same"
    else:
        status = "changed"
    return {"table_id": (shown or {}).get("id", ""), "status": status,
            "header_rows": (shown or {}).get("header_rows", 1),
            "caption_ops": _cell_ops(old_caption, new_caption), "rows": rows}


def _tables_diff(old: list[Mapping[str, Any]], new: list[Mapping[str, Any]]) -> list[dict]:
    """Tables matched by id, then by rank among the unmatched; removed ones last."""
    match: dict[int, int] = {}
    old_ids = {t.get("id"): j for j, t in enumerate(old) if t.get("id")}
    for i, table in enumerate(new):
        j = old_ids.get(table.get("id"))
        if j is not None:
            match[i] = j
    free = [j for j in range(len(old)) if j not in match.values()]
    for i in range(len(new)):
        if i not in match and free:
            match[i] = free.pop(0)
    entries = [_table_entry(old[match[i]] if i in match else None, table) for i, table in enumerate(new)]
    entries += [_table_entry(old[j], None) for j in range(len(old)) if j not in match.values()]
    return entries


def _entry(section_id: str, old: Mapping[str, Any] | None, new: Mapping[str, Any] | None,
           old_text: str, new_text: str, tables: list[dict] | None = None) -> dict:
    old_heading = old.get("heading", "") if old else ""
    new_heading = new.get("heading", "") if new else ""
    old_number = old.get("number", "").strip() if old else ""
    new_number = new.get("number", "").strip() if new else ""
    if old is None:
        status = "added"
    elif new is None:
        status = "removed"
    elif old_heading == new_heading and old_text == new_text and old_number == new_number \
            and all(t["status"] == "same" for t in tables or []):
        status = "same"
    else:
        status = "changed"
    shown = new if new is not None else old
    return {
        "section_id": section_id,
        "level": shown.get("level", 0) if shown else 0,
        "number": new_number if new is not None else old_number,
        "old_number": old_number if old is not None and new is not None
        and old_number != new_number else None,
        "heading": new_heading if new is not None else old_heading,
        "status": status,
        "heading_ops": text_ops(old_heading, new_heading),
        "ops": text_ops(old_text, new_text),
        "tables": tables or [],
    }


def _tables(holder: Mapping[str, Any] | None, key: str = "tables") -> list[Mapping[str, Any]]:
    tables = holder.get(key) if holder else None
    return [t for t in tables if isinstance(t, dict)] if isinstance(tables, list) else []


def _pseudo(name: str, old: list[str], new: list[str], old_tables: Sequence[Mapping[str, Any]] = (),
            new_tables: Sequence[Mapping[str, Any]] = ()) -> dict | None:
    """The preamble, closing or annex as a pseudo-section (None when both versions have none)."""
    if not old and not new and not old_tables and not new_tables:
        return None
    holder_old = {"level": 0, "paragraphs": old} if old or old_tables else None
    holder_new = {"level": 0, "paragraphs": new} if new or new_tables else None
    return _entry(name, holder_old, holder_new, "\n".join(old), "\n".join(new),
                  _tables_diff(list(old_tables), list(new_tables)))


def diff_outlines(old: dict, new: dict) -> list[dict]:
    """Section-by-section, character-level differences from ``old`` to ``new``."""
    old_sections = [s for s, _ in iter_sections(old.get("sections", []))]
    new_sections = [s for s, _ in iter_sections(new.get("sections", []))]
    match: dict[int, int] = {}  # new index → old index
    used: set[int] = set()

    def match_by(key) -> None:
        index_of: dict = {}
        for j, section in enumerate(old_sections):
            k = key(section)
            if j not in used and k:
                index_of.setdefault(k, []).append(j)
        for i, section in enumerate(new_sections):
            k = key(section)
            if i in match or not k:
                continue
            candidates = [j for j in index_of.get(k, []) if j not in used]
            if candidates:
                match[i] = candidates[0]
                used.add(candidates[0])

    match_by(lambda s: s.get("id") or None)
    match_by(lambda s: (s.get("number", "").strip(), s.get("heading", "").strip())
             if s.get("heading", "").strip() else None)
    match_by(lambda s: s.get("heading", "").strip() or None)

    # Removed sections follow the nearest earlier old section that survived (-1: the start).
    removed_after: dict[int, list[int]] = {}
    anchor = -1
    for j in range(len(old_sections)):
        if j in used:
            anchor = j
        else:
            removed_after.setdefault(anchor, []).append(j)

    def removed_entries(anchor_index: int) -> list[dict]:
        return [_entry(old_sections[j].get("id", ""), old_sections[j], None,
                       _body(old_sections[j]), "", _tables_diff(_tables(old_sections[j]), []))
                for j in removed_after.get(anchor_index, [])]

    entries: list[dict] = []
    preamble = _pseudo("preamble", list(old.get("preamble", [])), list(new.get("preamble", [])),
                       _tables(old, "preamble_tables"), _tables(new, "preamble_tables"))
    if preamble:
        entries.append(preamble)
    entries += removed_entries(-1)
    for i, section in enumerate(new_sections):
        matched = match.get(i)
        old_section = old_sections[matched] if matched is not None else None
        entries.append(_entry(section.get("id", ""), old_section, section,
                              _body(old_section), _body(section),
                              _tables_diff(_tables(old_section), _tables(section))))
        if matched is not None:
            entries += removed_entries(matched)
    for name in ("closing", "annex"):
        pseudo = _pseudo(name, list(old.get(name, [])), list(new.get(name, [])))
        if pseudo:
            entries.append(pseudo)
    return entries


def diff_stats(entries: list[dict]) -> dict:
    """Counts of changed/added/removed entries and of inserted/deleted characters."""
    stats = {"changed": 0, "added": 0, "removed": 0, "chars_inserted": 0, "chars_deleted": 0}
    for entry in entries:
        if entry["status"] in ("changed", "added", "removed"):
            stats[entry["status"]] += 1
        for op in entry["heading_ops"] + entry["ops"] + _table_ops(entry.get("tables", [])):
            if op["op"] == "insert":
                stats["chars_inserted"] += len(op["text"])
            elif op["op"] == "delete":
                stats["chars_deleted"] += len(op["text"])
    return stats


def _table_ops(tables: list[dict]) -> list[dict]:
    """Every edit operation of the tables' captions and cells."""
    return [op for table in tables
            for op in table["caption_ops"] + [op for row in table["rows"] for cell in row["cells"]
                                              for op in cell["ops"]]]
