"""Quantitative statements in a report ("固定资产投资达3亿元", "建成农贸市场3个").

An indicator is a number (or a range) followed by a unit::

    {"section_id", "section_number", "value", "number", "unit", "context",
     "low", "high", "approx"}

* ``value`` is the number as written (``"11,000"``, ``"0.8"``, ``"三"``, ``"5000余"``,
  ``"3-5"``, ``"近300"``: an "about" word — 余/多 after the number, 近/约 before it — is kept in
  it);
* ``number`` its float value (``11000.0``), or None if it cannot be read; for a range
  (``3-5亿元``, ``3～5亿元``, ``3至5亿元``) the upper end;
* ``low`` and ``high`` the range's ends (both equal to ``number`` for a single figure);
* ``approx`` true for an approximation (``百余个`` → 100, ``5000多人``, ``近300户``, ``约5万元``);
* ``unit`` one of ``UNITS``; the longest unit wins (``万平方米`` over ``平方米``, ``人次`` over
  ``人``, ``个百分点`` over ``个``);
* ``context`` the words around it (up to 15 characters either side), cut at sentence ends.

Numbers are Arabic (decimals, thousands separators ``11,000``, full-width digits) or Chinese
numerals (``三个``, ``一百五十万元``). Not indicators: placeholders (``x万元``, ``1x亩``), years
and dates (``2025年``: 年/月/日 are not units), digits glued to Latin letters (``PM2.5``,
``5G``), a bare ``一`` (``一个项目一个项目抓`` is not a count), a bare 百/千 (``千家万户``)
unless an "about" word goes with it (``百余个``, ``近千亩``), ordinals (``第三个``), and Chinese numerals inside
quotation marks, which are slogans (``“三个示范”``, ``“两项提升”``).
Preamble, closing and annex indicators have ``section_id``/``section_number`` None.

The scan is linear in the length of the text: the quotation depth is followed along the text
once (:class:`QuoteTracker`), never recounted from the start for each figure.

Tables: every body cell (below the header rows) is read like a paragraph, and a bare number
takes its unit from the row label (the first cell that is not a bare number: not the 序号) or
the column header in brackets (``地区生产总值（亿元）``,
``(万元)``, ``单位：亩``) or from the caption's ``单位：…``; the ``context`` is then the row label,
the column header and the cell (``地区生产总值（亿元） 2026年目标：13.4``), and ``table_id``
names the table.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

from workflow.importer import chinese_numeral_value, iter_sections
from workflow.outline import Table

__all__ = ["UNITS", "IndicatorsOf", "QuoteTracker", "extract_indicators", "iter_indicators"]

UNITS: tuple[str, ...] = (
    "亿元", "万元", "元", "万亩", "亩", "%", "‰", "万人次", "万人", "人", "人次", "个", "户", "座",
    "公里", "千米", "平方米", "万平方米", "吨", "万吨", "头", "万头", "家", "所", "条", "项",
    "间", "套", "台",
    # ---- added with the real documents
    "个百分点", "名", "次", "场", "处", "辆", "万斤", "公顷", "平方公里", "立方米", "兆瓦", "千瓦",
    "公斤", "张", "天",
)
_UNIT_ALTERNATION = "|".join(re.escape(u) for u in sorted(UNITS, key=len, reverse=True))
_CONTEXT_RADIUS = 15

_ARABIC = (r"[0-9０-９]{1,3}(?:,[0-9０-９]{3})+(?:[.．][0-9０-９]+)?"
           r"|[0-9０-９]+(?:[.．][0-9０-９]+)?")
_CHINESE = r"[零〇一二三四五六七八九十百千两]+"
_INDICATOR_RE = re.compile(
    # 约/近 before a number is "about", but not in 节约 签约 制约 …, 最近 附近.
    r"(?P<value>(?P<before>(?<![节签制预合履集特违相邀])约|(?<![最附])近)?"
    rf"(?:(?P<low>{_ARABIC}|{_CHINESE})\s*(?:[-－~～—–]|至|到)\s*)?"
    rf"(?:(?P<arabic>{_ARABIC})|(?P<chinese>{_CHINESE}))"
    r")(?P<about>[余多])?\s*(?P<unit>" + _UNIT_ALTERNATION + r"|％)"
)
_PLACEHOLDER_CHARS = set("xX×ｘＸ")
_SENTENCE_END = "。！？!?；;\n"


def _context(text: str, start: int, end: int) -> str:
    left = max(0, start - _CONTEXT_RADIUS)
    right = min(len(text), end + _CONTEXT_RADIUS)
    for i in range(start - 1, left - 1, -1):
        if text[i] in _SENTENCE_END:
            left = i + 1
            break
    for i in range(end, right):
        if text[i] in _SENTENCE_END:
            right = i
            break
    return text[left:right].strip()


class QuoteTracker:
    """Is a position inside “…” (or 「…」)? Positions must be asked in increasing order: the
    depth is carried along the text, so a whole text costs one pass (``steps``)."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._position = 0
        self._depth = 0
        self.steps = 0

    def inside(self, index: int) -> bool:
        for ch in self._text[self._position:index]:
            if ch in "“「":
                self._depth += 1
            elif ch in "”」" and self._depth:
                self._depth -= 1
        self.steps += max(0, index - self._position)
        self._position = max(self._position, index)
        return self._depth > 0


def _value_of(numeral: str | None) -> float | None:
    """The float value of an Arabic or Chinese numeral as written (None if unreadable)."""
    if numeral is None:
        return None
    if numeral[0] in "零〇一二三四五六七八九十百千两":
        number = chinese_numeral_value(numeral)
        return float(number) if number is not None else None
    try:
        return float(unicodedata.normalize("NFKC", numeral).replace(",", ""))
    except ValueError:
        return None


def _is_not_a_figure(text: str, match: re.Match[str], quotes: QuoteTracker) -> bool:
    """Glued to a placeholder, a Latin code or a longer number; an idiom, an ordinal, a slogan."""
    start = match.start("value")
    before = text[start - 1] if start else ""
    if before and (before in _PLACEHOLDER_CHARS or (before.isascii() and before.isalnum())
                   or before in ".．"):
        return True
    chinese = match.group("chinese")
    if chinese is None:
        return False
    # 一个 is mostly "a"; 千家万户 and 百人 are idioms (百余个 is a figure); 第三个 is an ordinal.
    approx = match.group("about") or match.group("before")
    bare_hundreds = set(chinese) <= set("十百千") and chinese != "十" and not approx
    return (chinese == "一" or bare_hundreds or before == "第" or quotes.inside(start))


def _indicators_in(text: str, section_id: str | None, section_number: str | None
                   ) -> list[dict]:
    found: list[dict] = []
    quotes = QuoteTracker(text)
    for match in _INDICATOR_RE.finditer(text):
        if _is_not_a_figure(text, match, quotes):
            continue
        high = _value_of(match.group("arabic") or match.group("chinese"))
        low = _value_of(match.group("low")) if match.group("low") else high
        found.append({
            "section_id": section_id,
            "section_number": section_number,
            "value": match.group("value") + (match.group("about") or ""),
            "number": high,
            "unit": unicodedata.normalize("NFKC", match.group("unit")),
            "context": _context(text, match.start(), match.end()),
            "low": low,
            "high": high,
            "approx": bool(match.group("before") or match.group("about")),
        })
    return found


_BARE_NUMBER_RE = re.compile(r"[0-9０-９]{1,3}(?:,[0-9０-９]{3})+(?:[.．][0-9０-９]+)?"
                             r"|[0-9０-９]+(?:[.．][0-9０-９]+)?")
_HEADER_UNIT_RE = re.compile(r"(?:[(（]\s*(?:单位\s*[:：]\s*)?|单位\s*[:：]\s*)(" + _UNIT_ALTERNATION + r"|％)")


def _header_unit(*texts: str) -> str | None:
    """The unit a row label, column header or caption names: ``（亿元）``, ``单位：万元``."""
    for text in texts:
        match = _HEADER_UNIT_RE.search(text)
        if match:
            return unicodedata.normalize("NFKC", match.group(1))
    return None


def _table_indicators(table: Table, section_id: str | None, section_number: str | None) -> list[dict]:
    """Indicators in a table's body cells, with the row label and column header as context."""
    rows = table.get("rows") or []
    header_rows = table.get("header_rows", 1)
    header = rows[header_rows - 1] if 0 < header_rows <= len(rows) else []
    found: list[dict] = []
    for row in rows[header_rows:]:
        for j, cell in enumerate(row):
            # The row's label: its first cell before this one that is not a bare number (序号).
            label = next((c for c in row[:j] if c.strip() and not _BARE_NUMBER_RE.fullmatch(c.strip())), "")
            column = header[j] if j < len(header) else ""
            context = f"{label} {column}：{cell}".strip()
            in_cell = _indicators_in(cell, section_id, section_number)
            unit = None if in_cell else _header_unit(label, column, table.get("caption", ""))
            if unit and _BARE_NUMBER_RE.fullmatch(cell.strip()):
                # Read as if the unit followed the number in the cell: the same shape as any other.
                in_cell = _indicators_in(cell.strip() + unit, section_id, section_number)
            found.extend({**indicator, "context": context, "table_id": table.get("id")}
                         for indicator in in_cell)
    return found


def iter_indicators(outline: dict) -> Iterator[dict]:
    """The quantitative statements of an outline, in document order (a section's tables after
    its paragraphs), one paragraph's at a time."""
    for text in outline.get("preamble", []):
        yield from _indicators_in(text, None, None)
    for table in outline.get("preamble_tables") or []:
        yield from _table_indicators(table, None, None)
    for section, _ in iter_sections(outline.get("sections", [])):
        number = section.get("number", "").strip() or None
        for text in [section.get("heading", "")] + list(section.get("paragraphs", [])):
            yield from _indicators_in(text, section.get("id"), number)
        for table in section.get("tables") or []:
            yield from _table_indicators(table, section.get("id"), number)
    for text in [*outline.get("closing", []), *outline.get("annex", [])]:
        yield from _indicators_in(text, None, None)


def extract_indicators(outline: dict) -> list[dict]:
    """The quantitative statements of an outline (``iter_indicators``), as a list."""
    return list(iter_indicators(outline))


class IndicatorsOf:
    """An outline's indicators for a page that lists them once: true when there is one, and
    found again as the page goes through them, so that a long report's thousands (a dict and
    a few strings each: megabytes) are never all alive together."""

    def __init__(self, outline: dict) -> None:
        self.outline = outline

    def __bool__(self) -> bool:
        return next(iter_indicators(self.outline), None) is not None

    def __iter__(self) -> Iterator[dict]:
        return iter_indicators(self.outline)
