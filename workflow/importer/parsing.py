"""Text parsing: cleaned lines → an outline of numbered headings and their paragraphs (and back).

Recognising headings
    A line is a heading when it starts with a heading number (see ``numbering.STYLES``): the
    divisions of long plans ``第一篇`` ``第一部分`` ``第一章`` ``第一节``; ``一、`` (also ``一．``
    ``一.`` and, typed in haste, ``一,`` ``一，``); ``(一)``/``（一）`` (also ``（一）、``); ``㈠``;
    ``1.``/``1、``/``1．``; ``⒈``; ``(1)``/``（1）``; ``⑴``; ``1)``; ``①``. Brackets may be half- or
    full-width. ``1.5亿元…`` and ``2025年…`` are not headings (a digit after the separator, or
    no separator), nor ``一、二季度…``/``一、二级公路`` (the next numeral then a time or quantity
    word: "the first and second…"; ``二、二季度工作`` is a heading) or ``一、二、三产业``,
    nor ``一是``/``二是`` and ``——`` lead-ins, which stay inside paragraphs. A heading is short:
    when the heading text (before any run-in text) is longer than ``MAX_HEADING_CHARS`` (or
    ``MAX_BARE_HEADING_CHARS`` for a line not ending like a sentence), the line is a numbered
    sentence, a paragraph.

    The hierarchy is relative: a heading whose style is already open on the stack becomes a
    sibling of that heading; otherwise it nests under the most recent open heading, except
    that open headings of a style that is lower than the new one both in the usual order
    (篇 > 部分 > 章 > 节 > 一、 > (一) > ㈠ > 1. > ⒈ > (1) > ⑴ > 1) > ①) and in the order the
    styles first appeared in the document are closed first. So a document that starts with
    ``1.`` has ``1.`` sections at level 1; in a document that used ``一、 (一) (1)`` before,
    ``二、 (1) (一)`` makes ``(一)`` a sibling of the stray ``(1)``, not its child; and ``1.``
    items seen under ``一、`` still nest under a later ``(一)``.

    Heading text: up to the first ``。！？；：`` (half- or full-width, outside quotes and
    brackets; also a half-width ``.`` between Chinese characters, "1.项目建设提速增效.全年…")
    when more text follows on the line; that rest is the first paragraph (the
    section is then ``run_in``, see :mod:`workflow.outline`).

Preamble, closing, web residue
    Lines before the first heading are the preamble. Web-page residue pasted with the report
    ("时间:2022-02-02 09:50:02", "发布时间：…", "来源：…", "导语:…", "作者：…", "浏览次数…", the
    page title and its repetition) is dropped from the first lines of the text and returned
    separately. The closing is only the clearly closing lines at the very end: a date line
    (``2026年1月5日``, ``二〇二六年一月五日``, ``2026-01-05``, or a draft's ``20xx年x月x日``) and
    issuing-body lines (``青山镇人民政府``, ``中共青山镇委员会``); anything else after the last
    heading belongs to the last section. The closing's date may write the zero of the year
    ○, O or Ｏ (二○二四年). Annexes (附件) — a list "附件：1. …" before the sign-off and the
    annexes' bodies after it — are the outline's ``annex`` (see ``_split_annex``); they are
    written back after the closing.

Round trip
    ``normalise(outline_to_text(outline)) == normalise(text without the dropped lines)`` for
    the outline parsed from ``text`` (unless an annex list stood before the sign-off: it is
    written after it), and ``parse(outline_to_text(outline)) == outline`` always. Nothing inside a
    line is touched (Latin text keeps its inner spaces).
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, replace

from workflow.outline import Outline, Section

from .numbering import CANONICAL_RANK, CN_NUMERALS, DIGITS, ENCLOSED, chinese_numeral_value
from .tables import place_tables, take_tables, with_tables

__all__ = ["is_heading_alone", "loose_numbers", "outline_to_text", "parse_lines", "starts_block"]


# ---------------------------------------------------------------------------------------
# Headings
# ---------------------------------------------------------------------------------------

# Heading prefixes at the start of a line, with the guards that keep ordinary sentences out:
# "1.5亿元" (digit after the separator), "一、二、三产业" (an enumeration of numerals); and
# see _is_a_sentence_start.
_NOT_AFTER_CN = rf"(?![{CN_NUMERALS}]+[、,，.．])"
# "一、二季度" is "the first and second quarters" when the second numeral follows the first
# (一、二, 二、三); "二、二季度工作" and "三、三项措施" are headings.
_PAIR_AFTER_CN_RE = re.compile(rf"([{CN_NUMERALS}]+)(?:[级类等档产批期]|季度|月|年)")
_ENCLOSED_RES = tuple((style, re.compile(rf"([{chars}])\s*")) for style, chars in ENCLOSED.items())
_HEADING_RES = (
    ("division", re.compile(rf"第\s*(?:[{CN_NUMERALS}]{{1,4}}|[{DIGITS}]{{1,2}})\s*(篇|部分|章|节)"
                            rf"(?![{CN_NUMERALS}{DIGITS}])\s*")),
    ("paren_cn", re.compile(rf"[(（]([{CN_NUMERALS}]{{1,4}})[)）]、?\s*")),
    ("paren_arabic", re.compile(rf"[(（]([{DIGITS}]{{1,2}})[)）]\s*")),
    ("cn", re.compile(rf"([{CN_NUMERALS}]{{1,4}})[、．.,，]{_NOT_AFTER_CN}\s*")),
    ("arabic", re.compile(rf"([{DIGITS}]{{1,2}})[.．、](?![{DIGITS}])\s*")),
    ("half_paren", re.compile(rf"([{DIGITS}]{{1,2}})[)）](?![{DIGITS}])\s*")),
    *_ENCLOSED_RES,
)
_DIVISION_STYLES = {"篇": "pian", "部分": "part", "章": "chapter", "节": "jie"}
# A heading is a short line, or a short lead sentence followed by text on the same line; a
# longer numbered sentence is a paragraph that happens to start with a numeral. A line with no
# sentence punctuation at its end may be longer (official headings run to 60 characters).
MAX_HEADING_CHARS = 50
MAX_BARE_HEADING_CHARS = 80
_SENTENCE_FINAL = ("。", "！", "？", "!", "?", "；", ";", ".")


@dataclass
class _Heading:
    style: str
    number: str
    heading: str
    run_in: str | None  # the first paragraph when it shares the heading's line


def _match_heading(line: str) -> _Heading | None:
    """Recognise a numbered heading at the start of a (stripped) line."""
    for style, pattern in _HEADING_RES:
        match = pattern.match(line)
        if not match:
            continue
        if style == "division":
            style = _DIVISION_STYLES[match.group(1)]
        elif _is_a_sentence_start(style, match.group(1), line[match.end():]):
            return None
        heading, rest = _split_run_in(line[match.end():])
        bare = rest is None and not heading.endswith(_SENTENCE_FINAL)
        if len(heading) > (MAX_BARE_HEADING_CHARS if bare else MAX_HEADING_CHARS):
            return None
        return _Heading(style, match.group(0), heading, rest)
    return None


def _is_a_sentence_start(style: str, numeral: str, rest: str) -> bool:
    """A number that opens a sentence, not a heading: 0. or 0), or 一、二季度."""
    if style in ("arabic", "half_paren"):
        return int(unicodedata.normalize("NFKC", numeral)) == 0
    return style == "cn" and _is_numeral_pair(numeral, rest)


def _is_numeral_pair(numeral: str, rest: str) -> bool:
    """Does ``rest`` open with the next numeral and a time or quantity word (一、|二季度)?"""
    pair = _PAIR_AFTER_CN_RE.match(rest)
    if pair is None:
        return False
    first, second = chinese_numeral_value(numeral), chinese_numeral_value(pair.group(1))
    return first is not None and second == first + 1


_RUN_IN_SEPARATORS = frozenset("。！？!?；;：:")
_OPENERS = frozenset("“‘（(《「『【[〔")
_CLOSERS = frozenset("”’）)》」』】]〕")


def _split_run_in(text: str) -> tuple[str, str | None]:
    """Split ``heading。rest`` at the first sentence separator outside quotes and brackets.

    The heading keeps the separator (and any closing quote or space right after it), so
    ``heading + rest`` is the original text. No split when nothing follows the separator.
    """
    depth = 0
    in_ascii_quote = False
    for i, ch in enumerate(text):
        if ch == '"':
            in_ascii_quote = not in_ascii_quote
        elif ch in _OPENERS:
            depth += 1
        elif ch in _CLOSERS:
            depth = max(0, depth - 1)
        elif (ch in _RUN_IN_SEPARATORS or _is_cjk_full_stop(text, i)) \
                and depth == 0 and not in_ascii_quote:
            if _is_clock_colon(text, i):
                continue
            end = _end_of_separator(text, i + 1)
            if end < len(text):
                return text[:end], text[end:]
            return text, None
    return text, None


def _is_clock_colon(text: str, i: int) -> bool:
    """Is ``text[i]`` the colon of a clock time such as 9:30?"""
    return (text[i] == ":" and 0 < i < len(text) - 1 and text[i - 1].isdigit()
            and text[i + 1].isdigit())


def _is_cjk_full_stop(text: str, i: int) -> bool:
    """Is ``text[i]`` a half-width ``.`` used as a full stop between Chinese characters
    (``项目建设提速增效.全年…``)? ``1.5`` and ``PM2.5`` are not."""
    return (text[i] == "." and 0 < i < len(text) - 1 and _is_cjk(text[i - 1])
            and _is_cjk(text[i + 1]))


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


def _end_of_separator(text: str, end: int) -> int:
    """Past the further separators, closing quotes and spaces that follow a separator."""
    while end < len(text) and (text[end] in _RUN_IN_SEPARATORS
                               or text[end] in _CLOSERS or text[end].isspace()):
        end += 1
    return end


# ---------------------------------------------------------------------------------------
# Web residue, preamble and closing
# ---------------------------------------------------------------------------------------

_RESIDUE_RES = tuple(re.compile(p) for p in (
    r"^(?:发布|更新|发表|上传)?(?:时间|日期)\s*[:：]\s*[0-9０-９]",
    r"^(?:信息|文章|稿件|新闻)?来源\s*[:：]",
    r"^(?:导语|摘要)\s*[:：]",
    r"^(?:作者|撰稿|供稿|撰稿人)\s*[:：]",
    r"^(?:责任)?编辑\s*[:：]",
    r"浏览(?:次数|量)|阅读(?:次数|量)\s*[:：]|点击(?:数|量|次数|率)\s*[:：]",
    r"^【?\s*字[体号]\s*[:：]",
    r"^(?:当前位置\s*[:：]|首页\s*[>›»])",
    r"^(?:分享到|打印本页|关闭窗口|【打印】|【关闭】)",
))
# Residue is looked for only in the first lines of the text: deep in a report "来源：" is text.
_RESIDUE_WINDOW = 12


def _is_residue(line: str) -> bool:
    return any(pattern.search(line) for pattern in _RESIDUE_RES)


def _is_title_like(line: str) -> bool:
    """A short line that is not a sentence: a page title, a breadcrumb."""
    return len(line) <= 60 and not re.search(r"[。！？!?；;]|[:：]$", line)


def _split_residue(head: list[str]) -> tuple[list[str], list[str]]:
    """Split the lines before the first heading into (kept, dropped residue).

    Dropped: residue lines (see ``_RESIDUE_RES``) among the first lines, title-like lines
    before the last of them (the page title), and repetitions of a title-like line.
    """
    window = head[:_RESIDUE_WINDOW]
    markers = [i for i, line in enumerate(window) if _is_residue(line)]
    last_marker = markers[-1] if markers else -1
    kept: list[str] = []
    dropped: list[str] = []
    seen: set[str] = set()
    for i, line in enumerate(head):
        repeated_title = line in seen and _is_title_like(line)
        if (i <= last_marker and (_is_residue(line) or _is_title_like(line))) or repeated_title:
            dropped.append(line)
        else:
            kept.append(line)
        seen.add(line)
    return kept, dropped


# Dates may still hold placeholders in a draft ("20xx年x月x日"): still a sign-off line.
_DATE_RES = tuple(re.compile(p) for p in (
    r"[0-9０-９xXｘＸ×]{4}\s*年\s*[0-9０-９xXｘＸ×]{1,2}\s*月\s*[0-9０-９xXｘＸ×]{1,2}\s*日",
    # The zero of a year is written 〇, or in haste ○ (a circle), O/Ｏ (a letter) or 零.
    r"[〇○OＯ零一二三四五六七八九]{4}\s*年\s*[一二三四五六七八九十]{1,2}\s*月\s*[一二三四五六七八九十]{1,3}\s*日",
    r"[0-9]{4}[-/.][0-9]{1,2}[-/.][0-9]{1,2}",
))
_ISSUER_RE = re.compile(
    r"(?:人民政府|人民政府办公室|政府办公室|委员会|党委|党工委|办公室|办事处|领导小组|指挥部"
    r"|人民代表大会主席团|政府)$"
)
# The closing is at most this many sign-off lines.
_MAX_CLOSING_LINES = 4


def _is_closing_line(line: str) -> bool:
    """A date line or an issuing body's name: the sign-off of an official document."""
    core = line.strip("()（） ")
    if any(pattern.fullmatch(core) for pattern in _DATE_RES):
        return True
    return (len(line) <= 30 and not re.search(r"[，,。；;：:！!？?、“”\"]", line)
            and bool(_ISSUER_RE.search(line)))


def _closing_start(lines: list[str], last_heading: int) -> int:
    """Where the closing begins: sign-off lines at the very end, after the last heading."""
    end = len(lines)
    while (end - 1 > last_heading and len(lines) - end < _MAX_CLOSING_LINES
           and _is_closing_line(lines[end - 1])):
        end -= 1
    return end


# Annexes (附件): a list of them after the body ("附件：1. …", "2. …"), usually just before the
# sign-off, and their bodies after the sign-off, each opened by a line "附件1" or "附件".
_ANNEX_LIST_RE = re.compile(r"附\s*件\s*[:：]")
_ANNEX_MARK_RE = re.compile(rf"附\s*件\s*(?:[{DIGITS}]{{1,2}}|[一二三四五六七八九十]{{1,3}})?\s*[:：]?")
_ANNEX_ITEM_RE = re.compile(rf"[{DIGITS}]{{1,2}}\s*[.．、]\s*\S")


def _split_annex(lines: list[str]) -> tuple[list[str], list[str], list[str]]:
    """Split ``lines`` into (body, sign-off lines that follow an annex list, annex).

    The annex starts at a line "附件1"/"附件" right after a sign-off line, or at a list
    "附件：1. …" (with its "2. …" lines) that only sign-off lines or annex bodies follow — a
    "附件：" inside the body is text.
    """
    for i in range(1, len(lines)):
        if _ANNEX_MARK_RE.fullmatch(lines[i]) and _is_closing_line(lines[i - 1]):
            return lines[:i], [], lines[i:]
        if _ANNEX_LIST_RE.match(lines[i]):
            end = i + 1
            while (end < len(lines) and _ANNEX_ITEM_RE.match(lines[end])
                   and not _ANNEX_MARK_RE.fullmatch(lines[end])):
                end += 1
            sign = end
            while (sign < len(lines) and sign - end < _MAX_CLOSING_LINES
                   and _is_closing_line(lines[sign])):
                sign += 1
            if sign == len(lines) or _ANNEX_MARK_RE.fullmatch(lines[sign]):
                return lines[:i], lines[end:sign], lines[i:end] + lines[sign:]
    return lines, [], []


def starts_block(line: str) -> bool:
    """Does ``line`` open a heading, a sign-off line or an annex (for paste repair)?"""
    return (_match_heading(line) is not None or _is_closing_line(line)
            or bool(_ANNEX_LIST_RE.match(line) or _ANNEX_MARK_RE.fullmatch(line)))


def is_heading_alone(line: str) -> bool:
    """Is ``line`` a heading with no text after it on the line (for paste repair)?"""
    heading = _match_heading(line)
    return heading is not None and heading.run_in is None


_LOOSE_NUMBER_RE = re.compile(r".*[,，.]\s*")


def loose_numbers(sections: list[Section]) -> int:
    """How many heading numbers use a comma or a half-width full stop (``一,`` ``一，``
    ``一.``) where ``一、`` is meant: read as headings, told to the author."""
    return sum(1 for section in sections if _LOOSE_NUMBER_RE.fullmatch(section["number"])
               and section["number"][0] in CN_NUMERALS) + sum(
        loose_numbers(section["children"]) for section in sections)


# ---------------------------------------------------------------------------------------
# The tree of sections
# ---------------------------------------------------------------------------------------


def _new_section(heading: _Heading, level: int) -> Section:
    section: Section = {
        "id": "",
        "level": level,
        "number": heading.number,
        "heading": heading.heading,
        "paragraphs": [],
        "children": [],
    }
    if heading.run_in is not None:
        section["run_in"] = True
        section["paragraphs"].append(heading.run_in)
    return section


# Headings a .docx marks by style or outline level (Word's 标题 1 / Heading 1 …), numbered or
# not: "level1" … "level9", above the numbered styles and ordered among themselves.
_RANK = {**CANONICAL_RANK, **{f"level{n}": n - 10 for n in range(1, 10)}}


def _with_level(heading: _Heading | None, line: str, level: int | None) -> _Heading | None:
    """A line its document marks as a heading of ``level`` (see ``parse_lines``): a heading
    of style ``level<n>``, keeping its number if it has one."""
    if not level:
        return heading
    if heading is None:
        return _Heading(f"level{level}", "", line, None)
    return replace(heading, style=f"level{level}")


def _is_lower_style(open_style: str, new_style: str, first_seen: dict[str, int]) -> bool:
    """Is ``open_style`` below ``new_style`` in the usual order *and* in appearance order?
    (Word's heading levels are absolute: between two of them only the level counts.)"""
    absolute = open_style.startswith("level") and new_style.startswith("level")
    return (_RANK[open_style] > _RANK[new_style]
            and (absolute or first_seen[open_style] > first_seen[new_style]))


class _Tree:
    """The sections being built, with the stack of open headings (see the module docstring)."""

    def __init__(self) -> None:
        self.sections: list[Section] = []
        self._open: list[tuple[str, Section]] = []
        self._first_seen: dict[str, int] = {}

    def add_paragraph(self, line: str) -> None:
        self._open[-1][1]["paragraphs"].append(line)

    def add_heading(self, heading: _Heading) -> None:
        self._first_seen.setdefault(heading.style, len(self._first_seen))
        self._close_for(heading.style)
        section = _new_section(heading, len(self._open) + 1)
        siblings = self._open[-1][1]["children"] if self._open else self.sections
        siblings.append(section)
        self._open.append((heading.style, section))

    def _close_for(self, style: str) -> None:
        """Close the open headings a new heading of ``style`` does not nest under."""
        same = next((i for i in range(len(self._open) - 1, -1, -1)
                     if self._open[i][0] == style), None)
        if same is not None:
            del self._open[same:]
            return
        while self._open and _is_lower_style(self._open[-1][0], style, self._first_seen):
            self._open.pop()


def parse_lines(lines: list[str], levels: Mapping[int, int] | None = None) -> tuple[Outline, list[str]]:
    """Build the outline (ids not yet assigned) from cleaned lines; return it and the drops.

    ``levels`` maps line indexes to heading levels (1–9) a .docx gives by style (Word's
    标题 1 / Heading 1, outline levels): such a line is a heading, numbered or not, and its
    level, not its numbering style, places it in the tree.

    Runs of tab-separated lines are tables (:mod:`.tables`): each stands as one marker line
    while the lines are parsed (``levels`` move with the lines), then moves into its
    section's ``tables``.
    """
    lines, tables, moved = take_tables(lines, levels)
    outline, dropped = _parse_lines(lines, moved)
    place_tables(outline, tables)
    return outline, dropped


def _parse_lines(lines: list[str], levels: Mapping[int, int]) -> tuple[Outline, list[str]]:
    """:func:`parse_lines` on lines without tables. (The annex split keeps a prefix of the
    lines, so the indexes of ``levels`` still hold.)"""
    lines, closing, annex = _split_annex(lines)
    headings = [_with_level(_match_heading(line), line, levels.get(i)) for i, line in enumerate(lines)]
    at = [i for i, heading in enumerate(headings) if heading]
    end = len(lines) if closing else _closing_start(lines, at[-1] if at else -1)
    first = min(at[0] if at else end, end)
    preamble, dropped = _split_residue(lines[:first])

    tree = _Tree()
    for line, heading in zip(lines[first:end], headings[first:end], strict=True):
        if heading is None:
            tree.add_paragraph(line)
        else:
            tree.add_heading(heading)
    outline: Outline = {"preamble": preamble, "sections": tree.sections,
                        "closing": closing or lines[end:]}
    if annex:
        outline["annex"] = annex
    return outline, dropped


def outline_to_text(outline: Outline) -> str:
    """Render an outline as plain text: one line per paragraph, headings on their own line
    (or sharing it with the first paragraph for run-in headings), tables as tab-separated
    lines where they stand."""
    lines: list[str] = with_tables(list(outline.get("preamble", [])), outline.get("preamble_tables"))

    def walk(sections: list[Section]) -> None:
        for section in sections:
            paragraphs = list(section.get("paragraphs", []))
            tables = section.get("tables")
            head = section.get("number", "") + section.get("heading", "")
            if section.get("run_in") and paragraphs:
                head += paragraphs.pop(0)
                # The first paragraph shares the heading's line: tables count from the second.
                tables = [{**t, "at": max(0, t["at"] - 1)} for t in tables or []]
            lines.append(head)
            lines.extend(with_tables(paragraphs, tables))
            walk(section.get("children", []))

    walk(outline.get("sections", []))
    lines.extend(outline.get("closing", []))
    lines.extend(outline.get("annex", []))
    return "\n".join(lines)
