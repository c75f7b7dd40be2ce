"""Word's automatic list numbers (``word/numbering.xml``), computed as Word shows them.

A paragraph is numbered by ``(numId, ilvl)`` (in its own properties or inherited from its
style). ``numId`` names a ``w:num``, which points at an ``w:abstractNum`` holding the nine
levels (format, label template such as ``%1、``, start, restart rule) and may override levels
or their start. As in Word:

- counters belong to the abstract list, so every ``w:num`` of one abstract list continues the
  same count ("continue numbering"), except that a ``w:num`` with a ``w:startOverride``
  restarts the overridden levels where it is first used ("restart numbering");
- using a level restarts the deeper levels, unless their ``w:lvlRestart`` says otherwise;
- ``w:isLgl`` renders every number of the label in Arabic digits.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from lxml import etree

from ..numbering import chinese_numeral
from .styles import Styles
from .xml import int_val, is_on, val, w

__all__ = ["ListNumbers", "format_number"]


def _full_width(n: int) -> str:
    return str(n).translate(str.maketrans("0123456789", "０１２３４５６７８９"))


def _roman(n: int) -> str:
    numerals = ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
                (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"))
    out = []
    for value, letters in numerals:
        count, n = divmod(n, value)
        out.append(letters * count)
    return "".join(out)


def _letter(n: int) -> str:
    """A, B, … Z, AA, BB, … as Word counts letters."""
    return chr(ord("A") + (n - 1) % 26) * ((n - 1) // 26 + 1)


def _enclosed(first: int, last: int) -> Callable[[int], str]:
    """①…⑳-like characters for 1…(last-first+1), plain digits beyond."""
    return lambda n: chr(first + n - 1) if 1 <= n <= last - first + 1 else str(n)


def _counting(n: int) -> str:
    """Chinese counting as Word writes it: 十一, 二十, 一百零一, 一千零一十 (digits from 10,000)."""
    if not 0 < n < 10_000:
        return str(n)
    if n < 100:
        return chinese_numeral(n)
    out, gap = "", False
    for digit, unit in zip(f"{n:04d}", ("千", "百", "十", ""), strict=True):
        if digit == "0":
            gap = bool(out)
            continue
        out += ("零" if gap else "") + "〇一二三四五六七八九"[int(digit)] + unit
        gap = False
    return out


_LEGAL = str.maketrans("一二三四五六七八九十百千", "壹贰叁肆伍陆柒捌玖拾佰仟")
_TRADITIONAL = "甲乙丙丁戊己庚辛壬癸"
_ZODIAC = "子丑寅卯辰巳午未申酉戌亥"
_IDEOGRAPH_DIGITS = str.maketrans("0123456789", "〇一二三四五六七八九")

_FORMATS: dict[str, Callable[[int], str]] = {
    "decimal": str,
    "decimalZero": lambda n: f"{n:02d}",
    "decimalFullWidth": _full_width,
    "decimalFullWidth2": _full_width,
    "decimalHalfWidth": str,
    "decimalEnclosedCircle": _enclosed(0x2460, 0x2473),  # ① … ⑳
    "decimalEnclosedCircleChinese": _enclosed(0x2460, 0x2473),
    "decimalEnclosedParen": _enclosed(0x2474, 0x2487),  # ⑴ … ⒇
    "decimalEnclosedFullstop": _enclosed(0x2488, 0x249B),  # ⒈ … ⒛
    "ideographEnclosedCircle": _enclosed(0x3220, 0x3229),  # ㈠ … ㈩
    "upperRoman": _roman,
    "lowerRoman": lambda n: _roman(n).lower(),
    "upperLetter": _letter,
    "lowerLetter": lambda n: _letter(n).lower(),
    "chineseCounting": _counting,
    "chineseCountingThousand": _counting,
    "japaneseCounting": _counting,
    "taiwaneseCounting": _counting,
    "taiwaneseCountingThousand": _counting,
    "ideographDigital": lambda n: str(n).translate(_IDEOGRAPH_DIGITS),
    "japaneseDigitalTenThousand": lambda n: str(n).translate(_IDEOGRAPH_DIGITS),
    "taiwaneseDigital": lambda n: str(n).translate(_IDEOGRAPH_DIGITS),
    "chineseLegalSimplified": lambda n: _counting(n).translate(_LEGAL),
    "ideographTraditional": lambda n: _TRADITIONAL[(n - 1) % 10] if n > 0 else str(n),
    "ideographZodiac": lambda n: _ZODIAC[(n - 1) % 12] if n > 0 else str(n),
}


def format_number(fmt: str, n: int) -> str:
    """``n`` in a ``w:numFmt`` (unknown formats in Arabic digits, as a reader would accept)."""
    if fmt in ("none", "bullet"):
        return ""
    return _FORMATS.get(fmt, str)(n)


@dataclass(frozen=True)
class _Level:
    fmt: str = "decimal"
    text: str = ""
    start: int = 1
    restart: int | None = None  # w:lvlRestart: 0 never; n: after level n (1-based) is used
    legal: bool = False
    style: str | None = None  # w:pStyle: the paragraph style this level belongs to
    separated: bool = True  # w:suff tab (the default) or space, not nothing


def _level(node: etree._Element, base: _Level | None = None) -> _Level:
    base = base or _Level()
    restart = val(node, "lvlRestart")
    return _Level(
        fmt=val(node, "numFmt", base.fmt) or "decimal",
        text=val(node, "lvlText", base.text) or "",
        start=int_val(node, "start", base.start),
        restart=int(restart) if restart and restart.isdigit() else base.restart,
        legal=is_on(node, "isLgl") or base.legal,
        style=val(node, "pStyle", base.style),
        separated=(val(node, "suff") or ("tab" if base.separated else "nothing")) != "nothing",
    )


@dataclass
class _Num:
    abstract: str
    levels: dict[int, _Level]
    overrides: dict[int, int]  # ilvl → startOverride
    used: bool = False


class ListNumbers:
    """The numbering definitions of a document and the counters as its paragraphs go by."""

    def __init__(self, root: etree._Element | None, styles: Styles) -> None:
        self._nums: dict[str, _Num] = {}
        self._counters: dict[str, dict[int, int]] = {}
        if root is None:
            return
        abstracts = {node.get(w("abstractNumId")): node for node in root.iterchildren(w("abstractNum"))}
        for node in root.iterchildren(w("num")):
            num_id = node.get(w("numId"))
            abstract_id = self._resolve_link(val(node, "abstractNumId"), abstracts, root, styles)
            if num_id is None or abstract_id is None or abstract_id not in abstracts:
                continue
            levels = {_ilvl(lvl): _level(lvl)
                      for lvl in abstracts[abstract_id].iterchildren(w("lvl"))}
            overrides: dict[int, int] = {}
            for override in node.iterchildren(w("lvlOverride")):
                ilvl = _ilvl(override)
                replacement = override.find(w("lvl"))
                if replacement is not None:
                    levels[ilvl] = _level(replacement, levels.get(ilvl))
                start = override.find(w("startOverride"))
                if start is not None:
                    overrides[ilvl] = int_val(override, "startOverride", 1)
                    levels[ilvl] = replace(levels.get(ilvl, _Level()), start=overrides[ilvl])
            self._nums[num_id] = _Num(abstract_id, levels, overrides)

    @staticmethod
    def _resolve_link(abstract_id: str | None, abstracts: dict, root: etree._Element,
                      styles: Styles) -> str | None:
        """Follow ``w:numStyleLink`` (a list defined by a numbering style) to its definition."""
        node = abstracts.get(abstract_id)
        link = val(node, "numStyleLink") if node is not None else None
        num_pr = styles.num_pr(link) if link else None
        if num_pr is None:
            return abstract_id
        target = val(num_pr, "numId")
        for num in root.iterchildren(w("num")):
            if num.get(w("numId")) == target:
                return val(num, "abstractNumId")
        return abstract_id

    def level_of_style(self, num_id: str, style_id: str | None) -> int:
        """The level a style is linked to in a list (``w:pStyle`` in ``w:lvl``), else 0."""
        num = self._nums.get(num_id)
        if num is not None and style_id:
            for ilvl, level in num.levels.items():
                if level.style == style_id:
                    return ilvl
        return 0

    def label(self, num_id: str, ilvl: int, *, count_only: bool = False) -> str:
        """Advance the counter of ``(num_id, ilvl)`` and return the label (``""`` for bullets)."""
        num = self._nums.get(num_id)
        if num is None or ilvl not in num.levels:
            return ""
        counters = self._counters.setdefault(num.abstract, {})
        if not num.used:
            num.used = True
            for overridden in num.overrides:
                for deeper in [lvl for lvl in counters if lvl >= overridden]:
                    del counters[deeper]
        counters[ilvl] = counters.get(ilvl, num.levels[ilvl].start - 1) + 1
        for deeper in [lvl for lvl in counters if lvl > ilvl]:
            restart = num.levels.get(deeper, _Level()).restart
            if restart is None or ilvl < restart:
                del counters[deeper]
        if count_only:
            return ""
        level = num.levels[ilvl]
        if level.fmt == "bullet":
            return ""
        label = re.sub(r"%([1-9])", lambda match: self._render(num, counters, int(match.group(1)) - 1, level.legal),
                       level.text)
        return label + " " if level.separated and _needs_space(label) else label

    @staticmethod
    def _render(num: _Num, counters: dict[int, int], lvl: int, legal: bool) -> str:
        """One ``%n`` of a label: the current value of level n, in its format (Arabic if legal)."""
        level = num.levels.get(lvl, _Level())
        value = counters.get(lvl, level.start)
        if legal and level.fmt not in ("none", "bullet"):
            return str(value)
        return format_number(level.fmt, value)


def _needs_space(label: str) -> bool:
    """Does the tab or space Word puts after ``label`` matter to a reader of the text?

    After punctuation (``一、`` ``1.`` ``（一）``) or an enclosed numeral (``①`` ``⑴``) it does
    not, and the label is written as typists write it, ``一、总体要求``; after a word or a
    plain number (``第一章`` ``1.1`` ``A``) it keeps the label apart: ``第一章 总则``.
    """
    last = label[-1:] if label else ""
    return (last.isascii() and last.isalnum()) or "\u4e00" <= last <= "\u9fff"


def _ilvl(node: etree._Element) -> int:
    try:
        return int(node.get(w("ilvl"), "0"))
    except ValueError:
        return 0
