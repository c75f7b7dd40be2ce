"""Problems in report content: unfilled placeholders, numbering slips, empty sections, and
characters the PDF fonts cannot draw.

A problem is ``{"code", "reason", "severity", "params", "section_id", "excerpt"}``: the
``code`` (CONTRACT.md) names the kind of problem, the ``reason`` which message of that code
applies and ``params`` the values it names (``{"text": "x个"}``). The domain writes no
sentence: the edge (``web/messages.py``) renders ``code.reason`` with the params in the
reader's language and adds the contract's ``message``.
``SEVERITY`` is the one place that says which codes block a submit (``"error"``).
``section_id`` is None for the title, the preamble and the closing. The excerpt is a plain
substring of the text (about 20 characters around the hit), so a UI can find and highlight it.

Placeholder rule
    Drafts leave runs of ``x``/``X``/``×`` (also full-width ``ｘ``/``Ｘ``) where a figure or a
    name is still to come: ``x个``, ``x余亩``, ``xx.x亿元``, ``x.xx万元``, ``xx%``, ``xx镇``,
    ``x月底``, ``20xx年``, ``××``, ``XX``; plus ``__`` (two or more underscores) and ``某某``.
    A Latin-ish token (a maximal run of ASCII/full-width letters, digits, ``.`` and ``×``) is a
    placeholder when its shape is one of ``X+``, ``<digits>X+`` (20xx), ``X+.X+`` (xx.x),
    ``<digits>.X+`` (1.x), where X is x/X/×, and when it stands in Chinese text: the character
    right before or right after it is a non-ASCII, non-space character (a CJK character or
    punctuation) or ``%``. A token made only of ``×`` needs no Chinese context, unless it is a
    multiplication sign between numbers (``3×5米``, ``3 × 5``). Hence not flagged: Latin words
    and codes (``x86``, ``Excel``, ``box``, ``XML``, ``MAX``, ``Xbox``, ``5G``, ``GDP``,
    ``PM2.5``, ``WPS``), sizes (``4x4``), Latin-style writing with spaces (``x = 3``), and a
    lone ``x``/``X`` followed by ``轴``, ``坐标``, ``光`` or ``射线`` (x轴, X光, X射线 are real
    words). A lone ``x`` glued to Chinese text ("设x为…") is flagged: in a government report it
    is far more likely a blank than algebra.

Numbering rule
    Among the siblings of each parent (and at the top level), per numbering style, numbers
    must run 1, 2, 3… (volumes, parts and chapters — 第X篇 第X部分 第X章 — run through the
    whole document instead): a repeated number, a gap (including a list that starts above 1) and a
    number smaller than one before it are each reported once, on the section concerned.
    Inside a section, ``一是/二是/三是`` lead-ins are checked too: those that open paragraphs
    form one sequence across the section; those inside a paragraph form a nested list of
    their own when they start at 一是 (so "二是加快科技兴农步伐。一是…二是…" is fine), else they
    continue the section's sequence. A sequence may restart at 一是; otherwise a repeat, a
    gap or a step back is reported.

More placeholder shapes
    A line that is only ``XX``/``xx``/``XXX`` (a paragraph still to write); runs of stars
    (``*亿元``, ``**乡``, a line ``***``) next to Chinese text or alone on a line; ``ooo``/``OOO``
    next to Chinese text or alone; runs of circles ``○○``/``〇〇`` (``○○镇``) unless next to a
    Chinese numeral (``二○○八年`` is a year). Not flagged: dimensions ``长×宽×高`` (a single ×
    next to 长 宽 高 深 厚 径 or a letter), ``3×3``, ``2×10^4``.

No headings
    ``no_headings`` (warning) when the outline has text but no section: the importer found no
    numbered heading, so the report would be one block; the author is told to number the
    headings or use Word's heading styles.

Half-width punctuation
    ``halfwidth_punctuation`` (warning): ASCII ``, ; : ? !`` after a Chinese character (or
    Chinese punctuation) and before another or the end of the text, and ``( )`` next to one,
    where the full-width form is meant (``1,000``, ``9:30``, ``x = f(y)`` are left alone). One problem for the whole
    content, with the count and the first excerpts; nothing is changed here (the editor offers
    to convert them, see ``HALFWIDTH_PAIRS``).

Empty sections
    A section with no paragraphs and no children, unless its heading is itself a complete
    sentence (at least 8 characters, ending with 。！？；), like a one-sentence item; a list
    item numbered ① ⑴ ⒈ ㈠ or 1) needs only to end like a sentence.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from workflow.importer import (
    ENCLOSED,
    chinese_numeral,
    chinese_numeral_value,
    iter_sections,
    number_value,
    numbering_style,
)
from workflow.outline import Section, table_cells

__all__ = [
    "BLOCKING_CODES",
    "EMPTY_SECTION",
    "HALFWIDTH_PAIRS",
    "HALFWIDTH_PUNCTUATION",
    "MISSING_GLYPH",
    "NO_HEADINGS",
    "NUMBERING",
    "PLACEHOLDER",
    "SEVERITY",
    "blocking_problems",
    "find_halfwidth",
    "find_placeholders",
    "find_problems",
]

PLACEHOLDER = "placeholder"
NUMBERING = "numbering"
EMPTY_SECTION = "empty_section"
MISSING_GLYPH = "missing_glyph"
NO_HEADINGS = "no_headings"
HALFWIDTH_PUNCTUATION = "halfwidth_punctuation"

SEVERITY: dict[str, str] = {
    PLACEHOLDER: "error",
    NUMBERING: "warning",
    EMPTY_SECTION: "warning",
    MISSING_GLYPH: "error",
    NO_HEADINGS: "warning",
    HALFWIDTH_PUNCTUATION: "warning",
}
# Errors block a submit; warnings do not (DESIGN.md, "Content").
BLOCKING_CODES = frozenset(code for code, severity in SEVERITY.items() if severity == "error")

_EXCERPT_RADIUS = 10

# ---------------------------------------------------------------------------------------
# Placeholders
# ---------------------------------------------------------------------------------------

_TOKEN_RE = re.compile(r"[A-Za-z0-9Ａ-Ｚａ-ｚ０-９×.．]+")
_PLACEHOLDER_SHAPES = (
    re.compile(r"[x×]+"),
    re.compile(r"[0-9]{1,4}[x×]+"),
    re.compile(r"[x×]+\.[x×]+"),
    re.compile(r"[0-9]+\.[x×]+"),
)
_OTHER_PLACEHOLDER_RE = re.compile(r"_{2,}|＿{2,}|某某+")
_LONE_X_RE = re.compile(r"\s*(?:[xX]{2,3}|[ｘＸ]{2,3})\s*")
_STARS_RE = re.compile(r"[*＊]+")
_OOO_RE = re.compile(r"[oO]{3,}")
_CIRCLES_RE = re.compile(r"[○〇]{2,}")
_CN_DIGIT_CHARS = frozenset("一二三四五六七八九十〇○零")
# A single × next to these is a multiplication of dimensions: 长×宽×高, 直径×深.
_DIMENSION_CHARS = frozenset("长宽高深厚径")
_REAL_WORDS_AFTER_X = ("轴", "坐标", "光", "射线")
# What to show after a placeholder in the message, so "x万元" reads as the author wrote it.
_UNIT_AFTER_RE = re.compile(
    r"(?:余|多)?(?:万平方米|平方米|亿元|万元|万亩|万人|人次|公里|千米|万吨|万头|月底|月份|年度|项目"
    r"|[元亩人个户座吨头家所条项间套台万亿月日年号批起件位次村镇乡%％‰])"
)


def _neighbour(text: str, index: int, step: int) -> str:
    """The nearest non-space character from ``index`` going ``step`` (-1 or 1), or ""."""
    while 0 <= index < len(text):
        if not text[index].isspace():
            return text[index]
        index += step
    return ""


def _is_placeholder_token(text: str, start: int, end: int) -> bool:
    token = unicodedata.normalize("NFKC", text[start:end]).lower().replace("．", ".")
    if not any(shape.fullmatch(token) for shape in _PLACEHOLDER_SHAPES):
        return False
    if set(token) == {"×"}:
        # A multiplication sign between two numbers (3 × 5) or dimensions (长×宽).
        before, after = _neighbour(text, start - 1, -1), _neighbour(text, end, 1)
        if token == "×" and ({before, after} & _DIMENSION_CHARS
                             or (before.isascii() and before.isalpha())):
            return False
        return not (before.isdigit() and after.isdigit())
    if token == "x" and text.startswith(_REAL_WORDS_AFTER_X, end):
        return False
    # Chinese text right next to it; "公式 x = 3" (spaces around) is Latin-style writing.
    before = text[start - 1] if start else ""
    after = text[end] if end < len(text) else ""
    return any((ord(ch) > 127 and not ch.isspace()) or ch == "%" for ch in (before, after) if ch)


def find_placeholders(text: str) -> list[tuple[int, int, str]]:
    """``(start, end, shown)`` for every placeholder in ``text``; ``shown`` is the
    placeholder with the unit that follows it (``"x万元"``), for messages."""
    hits: list[tuple[int, int, str]] = []
    for match in _TOKEN_RE.finditer(text):
        start, end = match.span()
        # A sentence-final full stop is not part of the token ("共xx.").
        while end > start and text[end - 1] in ".．":
            end -= 1
        if end > start and _is_placeholder_token(text, start, end):
            unit = _UNIT_AFTER_RE.match(text, end)
            shown = text[start:unit.end() if unit else end]
            hits.append((start, end, shown))
    for match in _OTHER_PLACEHOLDER_RE.finditer(text):
        hits.append((match.start(), match.end(), match.group(0)))
    hits.extend(_marks_in_chinese(text))
    if _LONE_X_RE.fullmatch(text) and not hits:
        start = len(text) - len(text.lstrip())
        hits.append((start, len(text.rstrip()), text.strip()))
    return sorted(hits)


def _in_chinese(text: str, start: int, end: int) -> bool:
    """Is ``text[start:end]`` next to Chinese text (or ``%``), or alone on its line?"""
    before = text[start - 1] if start else ""
    after = text[end] if end < len(text) else ""
    if not text[:start].strip() and not text[end:].strip():
        return True
    return any((ord(ch) > 127 and not ch.isspace()) or ch == "%" for ch in (before, after) if ch)


def _marks_in_chinese(text: str) -> Iterator[tuple[int, int, str]]:
    """Stars, ooo and circles standing for a figure or a name (see the module docstring)."""
    for pattern in (_STARS_RE, _OOO_RE):
        for match in pattern.finditer(text):
            start, end = match.span()
            if _in_chinese(text, start, end):
                unit = _UNIT_AFTER_RE.match(text, end)
                yield start, end, text[start:unit.end() if unit else end]
    for match in _CIRCLES_RE.finditer(text):
        start, end = match.span()
        before = text[start - 1] if start else ""
        after = text[end] if end < len(text) else ""
        if before not in _CN_DIGIT_CHARS and after not in _CN_DIGIT_CHARS:
            unit = _UNIT_AFTER_RE.match(text, end)
            yield start, end, text[start:unit.end() if unit else end]


# ---------------------------------------------------------------------------------------
# Half-width punctuation
# ---------------------------------------------------------------------------------------

# ASCII punctuation and the full-width form meant between Chinese characters.
HALFWIDTH_PAIRS = {",": "，", ";": "；", ":": "：", "?": "？", "!": "！", "(": "（", ")": "）"}
_CHINESE_CHAR = "\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff01-\uff5e“”‘’"
_HALFWIDTH_RE = re.compile(rf"(?<=[{_CHINESE_CHAR}])[,;:?!](?=[{_CHINESE_CHAR}]|$)"
                           rf"|(?<=[{_CHINESE_CHAR}])[()]|[()](?=[{_CHINESE_CHAR}])")
_HALFWIDTH_EXAMPLES = 3


def find_halfwidth(text: str) -> list[int]:
    """Offsets of ASCII ``, ; : ? ! ( )`` in Chinese text (see the module docstring).
    static/editor.js applies the same rule when the author converts them."""
    return [match.start() for match in _HALFWIDTH_RE.finditer(text)]


# ---------------------------------------------------------------------------------------
# Numbering
# ---------------------------------------------------------------------------------------


_NUMERAL_RE = re.compile(r"[一二三四五六七八九十百〇零]+|[0-9０-９]+")


def _number_like(template: str, value: int) -> str:
    """``template`` with its numeral replaced by ``value`` (``"（三）"``, 2 → ``"（二）"``)."""
    template = template.strip()
    enclosed = next((chars for chars in ENCLOSED.values() if template in chars), None)
    if enclosed is not None:  # ① ⑴ ⒈ ㈠: the enclosed form of the value, when there is one
        return enclosed[value - 1] if 0 < value <= len(enclosed) else str(value)
    match = _NUMERAL_RE.search(template)
    if not match:
        return str(value)
    numeral = chinese_numeral(value) if not match.group(0)[0].isdigit() else str(value)
    return template[:match.start()] + numeral + template[match.end():]


# Chapters and volumes of a plan are numbered through the whole document (第二篇 goes on with
# 第三章), not per parent: they form one list in document order.
_DOCUMENT_WIDE_STYLES = frozenset({"pian", "part", "chapter"})


def _sibling_numbering(siblings: list[Section], styles: Callable[[str], bool] = lambda style: True
                       ) -> Iterator[tuple[Section, str, dict]]:
    """(section, reason, params) for numbering slips among one parent's children (of the
    numbering styles that ``styles`` accepts)."""
    by_style: dict[str, list[tuple[Section, int]]] = {}
    for section in siblings:
        value = number_value(section.get("number", ""))
        style = numbering_style(section.get("number", ""))
        if value is not None and styles(style):
            by_style.setdefault(style, []).append((section, value))
    for items in by_style.values():
        present = {value for _, value in items}
        seen: set[int] = set()
        highest: tuple[int, str] = (0, "")
        for section, value in items:
            number = section["number"].strip()
            if value in seen:
                yield section, "duplicate", {"number": number}
            elif value < highest[0]:
                yield section, "out_of_order", {"number": number, "previous": highest[1]}
            elif value > highest[0] + 1:
                missing = [v for v in range(highest[0] + 1, value) if v not in present]
                if missing:
                    gap = {"number": number, "missing": [_number_like(number, v) for v in missing[:3]],
                           "more": len(missing) > 3}
                    if highest[0] == 0:
                        yield section, "starts_late", gap
                    else:
                        yield section, "gap", {"previous": highest[1]} | gap
            seen.add(value)
            if value > highest[0]:
                highest = (value, number)


_LEAD_IN_RE = re.compile(r"(?:^|(?<=[。；;：:！!？?，,—\s]))([一二三四五六七八九十]{1,3})是(?![否非])")


def _lead_in_problems(paragraphs: list[str]) -> Iterator[tuple[int, int, str, dict]]:
    """(paragraph index, offset, reason, params) for slips in 一是/二是 sequences."""
    def check(sequence: list[tuple[int, int, int, str]]) -> Iterator[tuple[int, int, str, dict]]:
        previous: tuple[int, str] | None = None
        for p_index, offset, value, text in sequence:
            if previous is not None and value != 1:
                prev_value, prev_text = previous
                if value == prev_value:
                    yield p_index, offset, "lead_in_duplicate", {"text": text}
                elif value < prev_value:
                    yield p_index, offset, "lead_in_out_of_order", {"text": text, "previous": prev_text}
                elif value > prev_value + 1:
                    wanted = chinese_numeral(prev_value + 1) + "是"
                    yield p_index, offset, "lead_in_gap", {"text": text, "previous": prev_text, "missing": [wanted]}
            previous = (value, text)

    # Lead-ins opening paragraphs form the section's sequence. Lead-ins inside a paragraph
    # form a nested list of their own when they start at 一是 ("二是…。一是…二是…"), else they
    # continue the section's sequence ("一是…。二是…" in one paragraph).
    section_stream: list[tuple[int, int, int, str]] = []
    for p_index, paragraph in enumerate(paragraphs):
        inner: list[tuple[int, int, int, str]] = []
        for match in _LEAD_IN_RE.finditer(paragraph):
            value = chinese_numeral_value(match.group(1))
            if value is None:
                continue
            item = (p_index, match.start(), value, match.group(0))
            (section_stream if match.start() == 0 else inner).append(item)
        if inner and inner[0][2] == 1:
            yield from check(inner)
        else:
            section_stream.extend(inner)
    yield from check(section_stream)


# ---------------------------------------------------------------------------------------
# The whole outline
# ---------------------------------------------------------------------------------------


def _excerpt(text: str, start: int, end: int) -> str:
    return text[max(0, start - _EXCERPT_RADIUS):end + _EXCERPT_RADIUS]


def _problem(code: str, reason: str, params: dict, section_id: str | None, excerpt: str) -> dict:
    return {"code": code, "reason": reason, "severity": SEVERITY[code], "params": params,
            "section_id": section_id, "excerpt": excerpt}


def find_problems(outline: Mapping[str, Any],
                  missing_glyphs: Callable[[str], set[str]] | None = None,
                  *, title: str | None = None) -> list[dict]:
    """All problems of an outline (and optionally its report ``title``), in document order.

    ``missing_glyphs(text)`` returns the characters of ``text`` the PDF fonts cannot draw; it is
    supplied by the PDF layer, and glyph checks are skipped when it is None.
    """
    # Each problem gets a sort key (block, field, offset) so the list reads in document order
    # even though numbering problems are found per list of siblings.
    found: list[tuple[tuple[int, int, int], dict]] = []
    block_of: dict[int, int] = {}
    sections = [section for section, _ in iter_sections(outline.get("sections", []))]
    for index, section in enumerate(sections):
        block_of[id(section)] = index + 2  # 0: title, 1: preamble, then sections, then closing

    def scan_texts(block: int, section_id: str | None, texts: list[tuple[int, str]]) -> None:
        glyphs_seen: set[str] = set()
        for field, text in texts:
            for start, end, shown in find_placeholders(text):
                found.append(((block, field, start), _problem(
                    PLACEHOLDER, "unfilled", {"text": shown}, section_id, _excerpt(text, start, end))))
            if missing_glyphs is None or not text:
                continue
            missing = set(missing_glyphs(text)) - glyphs_seen
            for ch in sorted(missing, key=text.find):
                glyphs_seen.add(ch)
                offset = text.find(ch)
                found.append(((block, field, max(offset, 0)), _problem(
                    MISSING_GLYPH, "not_in_font", {"char": ch, "codepoint": f"U+{ord(ch):04X}"},
                    section_id, _excerpt(text, offset, offset + len(ch)) if offset >= 0 else ch)))

    if title:
        scan_texts(0, None, [(0, title)])
    scan_texts(1, None, list(enumerate(outline.get("preamble", []) + _cells(outline.get("preamble_tables")))))

    def numbering_list(siblings: list[Section], document_wide: bool = False) -> None:
        def wanted(style: str) -> bool:
            return (style in _DOCUMENT_WIDE_STYLES) == document_wide

        for section, reason, params in _sibling_numbering(siblings, wanted):
            label = section["number"].strip() + section.get("heading", "")
            found.append(((block_of[id(section)], -1, 0), _problem(
                NUMBERING, reason, params, section.get("id"), label[:2 * _EXCERPT_RADIUS])))

    numbering_list(sections, document_wide=True)
    numbering_list(outline.get("sections", []))
    for section in sections:
        block = block_of[id(section)]
        section_id = section.get("id")
        heading = section.get("heading", "")
        paragraphs = section.get("paragraphs", [])
        children = section.get("children", [])
        # Field 0 is the heading, field k+1 the k-th paragraph, then the cells of its tables.
        scan_texts(block, section_id, [(0, heading)] + [(i + 1, p) for i, p in
                                                         enumerate(paragraphs + _cells(section.get("tables")))])
        for p_index, offset, reason, params in _lead_in_problems(paragraphs):
            found.append(((block, p_index + 1, offset), _problem(
                NUMBERING, reason, params, section_id,
                _excerpt(paragraphs[p_index], offset, offset + 3))))
        if not paragraphs and not children and not section.get("tables") \
                and not _is_sentence(heading, section.get("number", "")):
            label = section.get("number", "").strip() + heading  # "": the edge says "untitled"
            found.append(((block, 0, len(heading)), _problem(
                EMPTY_SECTION, "no_content", {"label": label}, section_id,
                label[:2 * _EXCERPT_RADIUS])))
        numbering_list(children)
    closing = list(outline.get("closing", [])) + list(outline.get("annex", []))
    scan_texts(len(sections) + 2, None, list(enumerate(closing)))
    found.extend(_halfwidth_problem(outline, sections, title))
    if not sections and any(line.strip() for line in outline.get("preamble", [])):
        first = next(line for line in outline["preamble"] if line.strip())
        found.append(((1, -1, 0), _problem(NO_HEADINGS, "none_found", {}, None,
                                           first.strip()[:2 * _EXCERPT_RADIUS])))

    found.sort(key=lambda item: item[0])
    return [problem for _, problem in found]


def _cells(tables: list | None) -> list[str]:
    """The text of tables (captions and cells), checked like paragraphs."""
    return [cell for table in tables or [] for cell in table_cells(table)]


def _texts_in_order(outline: Mapping[str, Any], sections: list[Section], title: str | None
                    ) -> Iterator[tuple[tuple[int, int], str | None, str]]:
    """(block, field), section id and text of every text of the content, in document order."""
    if title:
        yield (0, 0), None, title
    for index, text in enumerate(outline.get("preamble", [])):
        yield (1, index), None, text
    for block, section in enumerate(sections, start=2):
        for index, text in enumerate([section.get("heading", ""), *section.get("paragraphs", [])]):
            yield (block, index), section.get("id"), text
    closing = list(outline.get("closing", [])) + list(outline.get("annex", []))
    for index, text in enumerate(closing):
        yield (len(sections) + 2, index), None, text


def _halfwidth_problem(outline: Mapping[str, Any], sections: list[Section], title: str | None
                       ) -> list[tuple[tuple[int, int, int], dict]]:
    """One ``halfwidth_punctuation`` problem at the first hit, with the count and examples."""
    count = 0
    first: tuple[tuple[int, int, int], str | None, str] | None = None
    examples: list[str] = []
    for (block, field), section_id, text in _texts_in_order(outline, sections, title):
        for offset in find_halfwidth(text):
            count += 1
            excerpt = _excerpt(text, offset, offset + 1)
            if first is None:
                first = ((block, field, offset), section_id, excerpt)
            if len(examples) < _HALFWIDTH_EXAMPLES:
                examples.append(text[max(0, offset - 4):offset + 5])
    if first is None:
        return []
    key, section_id, excerpt = first
    return [(key, _problem(HALFWIDTH_PUNCTUATION, "between_chinese",
                           {"count": count, "examples": examples}, section_id, excerpt))]


# List items (①, ⑴, ⒈, ㈠, 1)) are usually one short sentence each, ended by 。 or ；.
_ITEM_STYLES = frozenset({"circled", "enclosed_paren", "enclosed_dot", "enclosed_cn", "half_paren"})


def _is_sentence(heading: str, number: str = "") -> bool:
    stripped = heading.strip()
    if numbering_style(number) in _ITEM_STYLES:
        return len(stripped) >= 2 and stripped.endswith(("。", "！", "？", "!", "?", "；", ";"))
    return len(stripped) >= 8 and stripped.endswith(("。", "！", "？", "!", "?", "；", ";"))


def blocking_problems(problems: list[dict]) -> list[dict]:
    """The problems that block a submit (severity ``error``)."""
    return [problem for problem in problems if problem["code"] in BLOCKING_CODES]
