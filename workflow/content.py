"""Content helpers shared by the services: limits, text hygiene, hashing, problems."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any

from .errors import BadInput, TooLarge
from .importer import (
    Imported,
    import_docx_document,
    import_text_with_repairs,
    normalise,
    outline_to_text,
    validate_outline,
)
from .importer import clean_text as hygiene
from .outline import Outline, Section

MAX_TITLE_CHARS = 200
# A character that is neither blank (``str.isspace``) nor removed by the importer's hygiene:
# a required line (a title) needs at least one. Explicit ranges, not ``\s``, so that the
# API's OpenAPI ``pattern`` built from it means the same in every regex engine.
VISIBLE_CHAR = r"[^\x00-\x20\x7f-\xa0\xad\u1680\u2000-\u200f\u2028\u2029\u202f\u205f\u2060\u3000\ufeff\ufffe\uffff]"
MAX_TEXT_CHARS = 300_000  # the longest seed is ~14k characters; a whole-year report fits many times over
MAX_COMMENT_CHARS = 5_000
MAX_SECTIONS = 2_000


def clean_line(value: Any, *, field: str, max_chars: int, required: bool = True) -> str:
    """A one-line piece of user text (a title, a name): control characters removed, trimmed, bounded."""
    if not isinstance(value, str):
        raise BadInput("not_a_string", field=field)
    value = hygiene(value).replace("\n", " ").strip()
    if required and not value:
        raise BadInput("required", field=field)
    if len(value) > max_chars:
        raise TooLarge("too_many_characters", field=field, limit=max_chars)
    return value


def clean_text(value: Any, *, field: str, max_chars: int, required: bool = True,
               keep_tabs: bool = False) -> str:
    """A multi-line piece of user text: line breaks kept, other control characters removed
    (``keep_tabs``: tabs kept too, for pasted tables)."""
    if not isinstance(value, str):
        raise BadInput("not_a_string", field=field)
    if len(value) > max_chars * 2:  # cheap early refusal before any regex work on huge input
        raise TooLarge("too_many_characters", field=field, limit=max_chars)
    value = hygiene(value, keep_tabs=keep_tabs)
    # A leading tab is the empty first cell of a pasted table: only the line breaks go.
    value = value.strip("\n") if keep_tabs and value.strip() else value.strip()
    if required and not value:
        raise BadInput("required", field=field)
    if len(value) > max_chars:
        raise TooLarge("too_many_characters", field=field, limit=max_chars)
    return value


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def content_sha256(title: str, outline: Mapping[str, Any]) -> str:
    """The hash an approval is bound to: title and outline, canonically serialised."""
    return hashlib.sha256(canonical_json({"title": title, "outline": outline}).encode()).hexdigest()


def count_sections(sections: list[Section]) -> int:
    return sum(1 + count_sections(s.get("children", [])) for s in sections)


GlyphCoverage = Callable[[str], set[str]]
_glyph_coverage: GlyphCoverage | None = None


def set_glyph_coverage(check: GlyphCoverage | None) -> None:
    """Install the PDF fonts' coverage check: ``check(text)`` returns the characters of
    ``text`` that the PDF cannot draw. The application wires it at start-up (the domain
    does not know the fonts); None switches the ``missing_glyph`` check off."""
    global _glyph_coverage
    _glyph_coverage = check


def glyph_checker() -> GlyphCoverage | None:
    """The installed coverage check, or None when there is none (fonts not installed here:
    ``missing_glyph`` cannot be computed; the PDF job would fail loudly instead)."""
    return _glyph_coverage


def problems_for(title: str, outline: Mapping[str, Any]) -> list[dict]:
    """All problems of a version's content, title included (section_id None)."""
    from .checks import find_problems

    return find_problems(outline, missing_glyphs=glyph_checker(), title=title)


def blocking(problems: list[dict]) -> list[dict]:
    return [p for p in problems if p.get("severity") == "error"]


def outline_from(*, text: Any = None, outline: Any = None, docx: bytes | None = None,
                  previous: Mapping[str, Any] | None = None) -> tuple[Outline, list[str]]:
    """Turn what the user gave (pasted text, a .docx, or an outline) into a validated outline,
    with the lines the importer dropped (web-page residue, page numbers) for the user to see."""
    imported = imported_from(text=text, outline=outline, docx=docx, previous=previous)
    return imported.outline, imported.dropped


def is_unchanged_text(text: Any, outline: Mapping[str, Any]) -> bool:
    """Is ``text`` the outline's own text (as the edit page shows it), untouched? Saving it
    then keeps the outline as it is: the structure a .docx gave by heading styles, which the
    text does not carry, is not lost by a save that changed only the title."""
    return isinstance(text, str) and normalise(text) == normalise(outline_to_text(outline))  # type: ignore[arg-type]


def imported_from(*, text: Any = None, outline: Any = None, docx: bytes | None = None,
                  previous: Mapping[str, Any] | None = None) -> Imported:
    """Like :func:`outline_from`, with what paste repair did (``Imported.repairs``) and the
    title a .docx gives in Word's Title style (``Imported.title``, else None)."""
    given = [x is not None for x in (text, outline, docx)]
    if sum(given) != 1:
        raise BadInput("content_source")
    # The importer's refusals are BadInput errors with reasons of their own: they pass through.
    if text is not None:
        cleaned = clean_text(text, field="text", max_chars=MAX_TEXT_CHARS, keep_tabs=True)
        imported = import_text_with_repairs(cleaned, previous=previous)
    elif docx is not None:
        imported = import_docx_document(docx, previous=previous)
    else:
        if not isinstance(outline, dict):
            raise BadInput("outline_not_object", path="outline")
        imported = Imported(validate_outline(outline), [])
    result = imported.outline
    if count_sections(result.get("sections", [])) > MAX_SECTIONS:
        raise TooLarge("too_many_sections", limit=MAX_SECTIONS)
    if len(str(result)) > MAX_TEXT_CHARS * 2:
        raise TooLarge("content_too_long")
    if not result.get("sections") and not result.get("preamble"):
        raise BadInput("content_empty")
    return imported
