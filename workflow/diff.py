"""What changed between two versions of a report, section by section, character by character.

:func:`diff_outlines` returns one entry per section, in the document order of the new version
(a removed section is placed where it was: right after the nearest section before it that
still exists), with the preamble first and the closing last as pseudo-sections whose
``section_id`` is ``"preamble"`` / ``"closing"``::

    {"section_id", "level", "number", "old_number", "heading",
     "status": "same" | "changed" | "added" | "removed",
     "heading_ops": [op], "ops": [op]}      op = {"op": "equal"|"insert"|"delete", "text"}

``ops`` cover the section's own paragraphs joined by ``"\\n"`` (children are entries of their
own); ``heading_ops`` cover the heading. Joining the ``equal`` and ``delete`` texts gives the
old text, joining ``equal`` and ``insert`` the new one. ``old_number`` is the old number when
the section was renumbered (which counts as a change), else None.

Sections are matched by id, then by number + heading, then by heading. Chinese has no spaces,
so the comparison is per character (diff-match-patch: lines first, then characters within the
changed lines, with a time bound and a semantic clean-up); equal runs of one or two characters between two
changes are folded into the change, which reads better than a confetti of tiny edits.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from diff_match_patch import diff_match_patch

from workflow.importer import iter_sections

__all__ = ["diff_outlines", "diff_stats", "text_ops"]

_TINY_EQUAL = 2
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


def _entry(section_id: str, old: Mapping[str, Any] | None, new: Mapping[str, Any] | None,
           old_text: str, new_text: str) -> dict:
    old_heading = old.get("heading", "") if old else ""
    new_heading = new.get("heading", "") if new else ""
    old_number = old.get("number", "").strip() if old else ""
    new_number = new.get("number", "").strip() if new else ""
    if old is None:
        status = "added"
    elif new is None:
        status = "removed"
    elif old_heading == new_heading and old_text == new_text and old_number == new_number:
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
    }


def _pseudo(name: str, old: list[str], new: list[str]) -> dict | None:
    """The preamble or closing as a pseudo-section (None when both versions have none)."""
    if not old and not new:
        return None
    holder_old = {"level": 0, "paragraphs": old} if old else None
    holder_new = {"level": 0, "paragraphs": new} if new else None
    return _entry(name, holder_old, holder_new, "\n".join(old), "\n".join(new))


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
                       _body(old_sections[j]), "")
                for j in removed_after.get(anchor_index, [])]

    entries: list[dict] = []
    preamble = _pseudo("preamble", list(old.get("preamble", [])), list(new.get("preamble", [])))
    if preamble:
        entries.append(preamble)
    entries += removed_entries(-1)
    for i, section in enumerate(new_sections):
        matched = match.get(i)
        old_section = old_sections[matched] if matched is not None else None
        entries.append(_entry(section.get("id", ""), old_section, section,
                              _body(old_section), _body(section)))
        if matched is not None:
            entries += removed_entries(matched)
    closing = _pseudo("closing", list(old.get("closing", [])), list(new.get("closing", [])))
    if closing:
        entries.append(closing)
    return entries


def diff_stats(entries: list[dict]) -> dict:
    """Counts of changed/added/removed entries and of inserted/deleted characters."""
    stats = {"changed": 0, "added": 0, "removed": 0, "chars_inserted": 0, "chars_deleted": 0}
    for entry in entries:
        if entry["status"] in ("changed", "added", "removed"):
            stats[entry["status"]] += 1
        for op in entry["heading_ops"] + entry["ops"]:
            if op["op"] == "insert":
                stats["chars_inserted"] += len(op["text"])
            elif op["op"] == "delete":
                stats["chars_deleted"] += len(op["text"])
    return stats
