"""Heading numbers: the numbering styles and the values of (Chinese and enclosed) numerals."""
from __future__ import annotations

import re
import unicodedata

__all__ = [
    "CANONICAL_RANK",
    "CN_NUMERALS",
    "DIGITS",
    "ENCLOSED",
    "STYLES",
    "chinese_numeral",
    "chinese_numeral_value",
    "number_value",
    "numbering_style",
]

STYLES = ("pian", "part", "chapter", "jie", "cn", "paren_cn", "enclosed_cn", "arabic",
          "enclosed_dot", "paren_arabic", "enclosed_paren", "half_paren", "circled")
# The usual official order: the divisions of long plans (第X篇 > 第X部分 > 第X章 > 第X节), then
# GB/T 9704 practice 一、 > (一) > 1. > (1), then the enclosed forms (㈠ after (一), ⒈ after 1.,
# ⑴ after (1)), 1) and ①.
CANONICAL_RANK = {style: rank for rank, style in enumerate(STYLES)}

# Character classes (for regular expressions) of the numerals headings are numbered with.
CN_NUMERALS = "一二三四五六七八九十百〇零"
DIGITS = "0-9０-９"
# Enclosed numbers, each a run of consecutive code points starting at 1.
ENCLOSED = {
    "circled": "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳",
    "enclosed_paren": "⑴⑵⑶⑷⑸⑹⑺⑻⑼⑽⑾⑿⒀⒁⒂⒃⒄⒅⒆⒇",
    "enclosed_dot": "⒈⒉⒊⒋⒌⒍⒎⒏⒐⒑⒒⒓⒔⒕⒖⒗⒘⒙⒚⒛",
    "enclosed_cn": "㈠㈡㈢㈣㈤㈥㈦㈧㈨㈩",
}
_DIVISIONS = {"pian": "篇", "part": "部分", "chapter": "章", "jie": "节"}

# The number as written (without the space an author may put after it); group 1 the numeral.
_STYLE_RES = {
    **{style: re.compile(rf"第\s*([{CN_NUMERALS}]{{1,4}}|[{DIGITS}]{{1,2}})\s*{word}")
       for style, word in _DIVISIONS.items()},
    # 一、 一． 一. and, pasted or typed in haste, 一, 一，; （一）、 is (一) with a stray 、.
    "cn": re.compile(rf"([{CN_NUMERALS}]{{1,4}})[、．.,，]"),
    "paren_cn": re.compile(rf"[(（]([{CN_NUMERALS}]{{1,4}})[)）]、?"),
    "arabic": re.compile(rf"([{DIGITS}]{{1,2}})[.．、]"),
    "paren_arabic": re.compile(rf"[(（]([{DIGITS}]{{1,2}})[)）]"),
    "half_paren": re.compile(rf"([{DIGITS}]{{1,2}})[)）]"),
    **{style: re.compile(f"([{chars}])") for style, chars in ENCLOSED.items()},
}

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4,
              "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_CN_NUMERAL_CHARS = frozenset(_CN_DIGITS) | frozenset(_CN_UNITS) | {"万"}


def chinese_numeral_value(numeral: str) -> int | None:
    """Value of a Chinese numeral: ``"三"`` → 3, ``"十一"`` → 11, ``"二十三"`` → 23,
    ``"一百五十"`` → 150, ``"两千"`` → 2000, ``"三万"`` → 30000, ``"二〇二六"`` → 2026.

    ``None`` when ``numeral`` holds anything else.
    """
    if not numeral or not set(numeral) <= _CN_NUMERAL_CHARS:
        return None
    if len(numeral) > 1 and set(numeral) <= _CN_DIGITS.keys():
        # Digit by digit, as in years: 二〇二六.
        return int("".join(str(_CN_DIGITS[ch]) for ch in numeral))
    return _counted_value(numeral)


def _counted_value(numeral: str) -> int:
    """The value of a numeral written with units: 二十三, 一百五十, 三万."""
    total, section, digit = 0, 0, 0
    for ch in numeral:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        elif ch in _CN_UNITS:
            # A bare 十 means 一十.
            section += (digit or 1) * _CN_UNITS[ch]
            digit = 0
        else:  # 万
            total += (section + digit) * 10000
            section, digit = 0, 0
    return total + section + digit


def chinese_numeral(n: int) -> str:
    """1 → 一, 10 → 十, 23 → 二十三 (for list labels and messages, 1–99; else Arabic)."""
    digits = "零一二三四五六七八九"
    if 0 < n < 10:
        return digits[n]
    if 10 <= n < 100:
        tens, ones = divmod(n, 10)
        return ("" if tens == 1 else digits[tens]) + "十" + (digits[ones] if ones else "")
    return str(n)


def numbering_style(number: str) -> str:
    """The numbering style of a heading number as written.

    Returns one of ``STYLES``: ``"pian"`` (第一篇), ``"part"`` (第一部分), ``"chapter"``
    (第一章), ``"jie"`` (第一节), ``"cn"`` (一、 一． 一. 一，), ``"paren_cn"`` ((一), （一）,
    （一）、), ``"enclosed_cn"`` (㈠), ``"arabic"`` (1. 1、 1．), ``"enclosed_dot"`` (⒈),
    ``"paren_arabic"`` ((1), （1）), ``"enclosed_paren"`` (⑴), ``"half_paren"`` (1)) or
    ``"circled"`` (①); ``""`` for an empty or unrecognised number (a section that a client sent
    without a number), which renderers treat as body text.
    """
    stripped = (number or "").strip()
    for style, pattern in _STYLE_RES.items():
        if pattern.fullmatch(stripped):
            return style
    return ""


def number_value(number: str) -> int | None:
    """The integer a heading number stands for (``"（十二）"`` → 12, ``"3、"`` → 3), or None."""
    stripped = (number or "").strip()
    for style, pattern in _STYLE_RES.items():
        match = pattern.fullmatch(stripped)
        if match:
            numeral = match.group(1)
            if style in ENCLOSED:
                return ENCLOSED[style].index(numeral) + 1
            if numeral[0] in CN_NUMERALS:
                return chinese_numeral_value(numeral)
            return int(unicodedata.normalize("NFKC", numeral))
    return None
