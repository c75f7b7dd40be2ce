"""Pasted text and .docx files → the report outline, and the outline back to text.

The outline (JSON-compatible, see CONTRACT.md)::

    {"preamble": [str], "sections": [section], "closing": [str]}
    section = {"id": str, "level": int, "number": str, "heading": str,
               "paragraphs": [str], "children": [section], "run_in"?: true}

* ``level`` is the depth in the tree (1 = top level), whatever numbering style is used.
* ``number`` is the heading number exactly as written, including any space the author put
  after it (``"一、"``, ``"(一)"``, ``"（一）"``, ``"1."``, ``"1、"``, ``"1．"``, ``"(1)"``,
  ``"（1）"``, ``"1. "``). :func:`numbering_style` derives the style from it.
* ``run_in`` (optional, only ever ``true``) marks a heading that shared its line with the
  first paragraph, as in ``1.聚拓展镇域经济新空间。一是做强项目支撑…``: the heading keeps its
  closing punctuation (``"聚拓展镇域经济新空间。"``) and ``paragraphs[0]`` is the rest of the
  line, so the line is exactly ``number + heading + paragraphs[0]``. Renderers that want the
  official "run-in heading" look print them on one line.

Recognising headings
    A line is a heading when it starts with one of the four numbering styles: ``一、`` (cn),
    ``(一)``/``（一）`` (paren_cn), ``1.``/``1、``/``1．`` (arabic) and ``(1)``/``（1）``
    (paren_arabic); brackets may be half- or full-width. ``1.5亿元…`` and ``2025年…`` are
    not headings (a digit after the separator, or no separator), nor are ``一是``/``二是``
    and ``——`` lead-ins, which stay inside paragraphs.

    The hierarchy is relative: a heading whose style is already open on the stack becomes a
    sibling of that heading; otherwise it nests under the most recent open heading, except
    that open headings of a style that is lower than the new one both in the usual order
    (一、 > (一) > 1. > (1)) and in the order the styles first appeared in the document are
    closed first. So a document that starts with ``1.`` has ``1.`` sections at level 1; in a
    document that used ``一、 (一) (1)`` before, ``二、 (1) (一)`` makes ``(一)`` a sibling of the
    stray ``(1)``, not its child; and ``1.`` items seen under ``一、`` still nest under a later
    ``(一)``.

    Heading text: up to the first ``。！？；：`` (half- or full-width, outside quotes and
    brackets) when more text follows on the line; that rest is the first paragraph.

Preamble, closing, web residue
    Lines before the first heading are the preamble. Web-page residue pasted with the report
    ("时间:2022-02-02 09:50:02", "发布时间：…", "来源：…", "导语:…", "作者：…", "浏览次数…", the
    page title and its repetition) is dropped from the first lines of the text and reported by
    :func:`import_text_with_report`. The closing is only the clearly closing lines at the very
    end: a date line (``2026年1月5日``, ``二〇二六年一月五日``, ``2026-01-05``, or a draft's
    ``20xx年x月x日``) and issuing-body
    lines (``青山镇人民政府``, ``中共青山镇委员会``); anything else after the last heading
    belongs to the last section.

Section ids
    Fresh ids are ``"s"`` + 8 hex digits of a SHA-1 over the section's number path and heading
    (plus a counter on collision): importing the same text twice gives the same ids. With
    ``previous`` (an earlier outline of the same report), ids are carried over: first to
    sections whose heading is unchanged (wherever they moved), then to the section at the same
    number path whose heading was edited, then to any section whose heading is very similar.

Round trip
    ``normalise(outline_to_text(import_text(t))) == normalise(t without the dropped lines)``.
    :func:`normalise` applies the text hygiene below, strips each line (``str.strip``: ASCII
    and Unicode whitespace, including the ideographic space U+3000 used for indents) and drops
    blank lines. Nothing inside a line is touched (Latin text keeps its inner spaces).

Text hygiene (every entry point)
    CRLF and CR become LF; vertical tab, form feed and U+2028/U+2029 become LF (Word line and
    page breaks); a tab becomes a space; NUL and the other C0/C1 control characters, lone
    surrogates, zero-width characters (U+200B–U+200F, U+2060), soft hyphens and the BOM are
    removed.
"""
from __future__ import annotations

import difflib
import hashlib
import io
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Iterator

__all__ = [
    "ContentError",
    "clean_text",
    "normalise",
    "numbering_style",
    "number_value",
    "chinese_numeral_value",
    "chinese_numeral",
    "import_text",
    "import_text_with_report",
    "import_docx",
    "import_docx_with_report",
    "docx_to_text",
    "outline_to_text",
    "validate_outline",
    "iter_sections",
    "empty_outline",
    "STYLES",
]


class ContentError(ValueError):
    """Content that cannot be turned into an outline (unreadable .docx, malformed outline).

    The message is bilingual (Chinese first) and, for outlines, names the offending path.
    """


# ---------------------------------------------------------------------------------------
# Text hygiene
# ---------------------------------------------------------------------------------------

_LINE_BREAKS_RE = re.compile(r"\r\n?|[\x0b\x0c\x85\u2028\u2029]")
# C0 except \n (\t is converted first), DEL, C1, lone surrogates, non-characters.
_CONTROL_RE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u200e\u200f\u2060\ufeff\u00ad"))


def clean_text(text: str) -> str:
    """Return ``text`` with line breaks unified to LF and invisible/control characters removed.

    See the module docstring ("Text hygiene") for the exact list.
    """
    text = _LINE_BREAKS_RE.sub("\n", text)
    text = text.replace("\t", " ")
    text = _CONTROL_RE.sub("", text)
    return text.translate(_INVISIBLE)


def normalise(text: str) -> str:
    """Normalise text for round-trip comparison: hygiene, strip every line, drop blank lines.

    Inner whitespace is left alone, so ``"Microsoft Word 文档"`` stays as it is.
    """
    lines = (line.strip() for line in clean_text(text).split("\n"))
    return "\n".join(line for line in lines if line)


def _lines(text: str) -> list[str]:
    """The non-blank, stripped lines of ``text`` after hygiene."""
    normalised = normalise(text)
    return normalised.split("\n") if normalised else []


# ---------------------------------------------------------------------------------------
# Numbers and numbering styles
# ---------------------------------------------------------------------------------------

STYLES = ("cn", "paren_cn", "arabic", "paren_arabic")
# The usual official order (GB/T 9704 practice): 一、 > (一) > 1. > (1).
_CANONICAL_RANK = {style: rank for rank, style in enumerate(STYLES)}

_CN = "一二三四五六七八九十百〇零"
_DIGIT = "0-9０-９"
_STYLE_RES = {
    "cn": re.compile(rf"([{_CN}]{{1,4}})、"),
    "paren_cn": re.compile(rf"[(（]([{_CN}]{{1,4}})[)）]"),
    "arabic": re.compile(rf"([{_DIGIT}]{{1,2}})[.．、]"),
    "paren_arabic": re.compile(rf"[(（]([{_DIGIT}]{{1,2}})[)）]"),
}
# Heading prefixes at the start of a line, with the guards that keep ordinary sentences out:
# "1.5亿元" (digit after the separator), "一、二级公路" (一、二级 is "first and second class"),
# "一、二、三产业" (an enumeration of numerals).
_HEADING_RES = (
    ("paren_cn", re.compile(rf"[(（]([{_CN}]{{1,4}})[)）]\s*")),
    ("paren_arabic", re.compile(rf"[(（]([{_DIGIT}]{{1,2}})[)）]\s*")),
    ("cn", re.compile(rf"([{_CN}]{{1,4}})、(?![{_CN}]+[、级类等档])\s*")),
    ("arabic", re.compile(rf"([{_DIGIT}]{{1,2}})[.．、](?![{_DIGIT}])\s*")),
)

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4,
              "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}


def chinese_numeral_value(numeral: str) -> int | None:
    """Value of a Chinese numeral: ``"三"`` → 3, ``"十一"`` → 11, ``"二十三"`` → 23,
    ``"一百五十"`` → 150, ``"两千"`` → 2000, ``"三万"`` → 30000, ``"二〇二六"`` → 2026.

    ``None`` when ``numeral`` holds anything else.
    """
    if not numeral or any(ch not in _CN_DIGITS and ch not in _CN_UNITS and ch != "万"
                          for ch in numeral):
        return None
    if len(numeral) > 1 and all(ch in _CN_DIGITS for ch in numeral):
        # Digit by digit, as in years: 二〇二六.
        return int("".join(str(_CN_DIGITS[ch]) for ch in numeral))
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


def numbering_style(number: str) -> str:
    """The numbering style of a heading number as written.

    Returns ``"cn"`` (一、), ``"paren_cn"`` ((一), （一）), ``"arabic"`` (1. 1、 1．) or
    ``"paren_arabic"`` ((1), （1）); ``""`` for an empty or unrecognised number (a section that
    a client sent without a number), which renderers treat as body text.
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
            if style in ("cn", "paren_cn"):
                return chinese_numeral_value(numeral)
            return int(unicodedata.normalize("NFKC", numeral))
    return None


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
        if style == "arabic" and int(unicodedata.normalize("NFKC", match.group(1))) == 0:
            return None
        heading, rest = _split_run_in(line[match.end():])
        return _Heading(style, match.group(0), heading, rest)
    return None


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
        elif ch in _RUN_IN_SEPARATORS and depth == 0 and not in_ascii_quote:
            if ch == ":" and 0 < i < len(text) - 1 and text[i - 1].isdigit() \
                    and text[i + 1].isdigit():
                continue  # a clock time such as 9:30
            end = i + 1
            while end < len(text) and (text[end] in _RUN_IN_SEPARATORS
                                       or text[end] in _CLOSERS or text[end].isspace()):
                end += 1
            if end < len(text):
                return text[:end], text[end:]
            return text, None
    return text, None


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
        if i <= last_marker and (_is_residue(line) or _is_title_like(line)) or repeated_title:
            dropped.append(line)
        else:
            kept.append(line)
        seen.add(line)
    return kept, dropped


# Dates may still hold placeholders in a draft ("20xx年x月x日"): still a sign-off line.
_DATE_RES = tuple(re.compile(p) for p in (
    r"[0-9０-９xXｘＸ×]{4}\s*年\s*[0-9０-９xXｘＸ×]{1,2}\s*月\s*[0-9０-９xXｘＸ×]{1,2}\s*日",
    r"[〇零一二三四五六七八九]{4}年[一二三四五六七八九十]{1,2}月[一二三四五六七八九十]{1,3}日",
    r"[0-9]{4}[-/.][0-9]{1,2}[-/.][0-9]{1,2}",
))
_ISSUER_RE = re.compile(
    r"(?:人民政府|人民政府办公室|政府办公室|委员会|党委|党工委|办公室|办事处|领导小组|指挥部"
    r"|人民代表大会主席团|政府)$"
)


def _is_closing_line(line: str) -> bool:
    """A date line or an issuing body's name: the sign-off of an official document."""
    core = line.strip("()（） ")
    if any(pattern.fullmatch(core) for pattern in _DATE_RES):
        return True
    return (len(line) <= 30 and not re.search(r"[，,。；;：:！!？?、“”\"]", line)
            and bool(_ISSUER_RE.search(line)))


# ---------------------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------------------


def empty_outline() -> dict:
    """An outline with nothing in it."""
    return {"preamble": [], "sections": [], "closing": []}


def _new_section(heading: _Heading, level: int) -> dict:
    section: dict[str, Any] = {
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


def _parse_lines(lines: list[str]) -> tuple[dict, list[str]]:
    """Build the outline (ids not yet assigned) from cleaned lines; return it and the drops."""
    headings = [_match_heading(line) for line in lines]
    last_heading = max((i for i, h in enumerate(headings) if h), default=-1)
    # The closing: at most four sign-off lines at the very end, after the last heading.
    end = len(lines)
    while end - 1 > last_heading and len(lines) - end < 4 and _is_closing_line(lines[end - 1]):
        end -= 1
    closing = lines[end:]
    first = min(next((i for i, h in enumerate(headings) if h), end), end)
    preamble, dropped = _split_residue(lines[:first])

    outline = {"preamble": preamble, "sections": [], "closing": closing}
    stack: list[tuple[str, dict]] = []
    first_seen: dict[str, int] = {}
    for line, heading in zip(lines[first:end], headings[first:end]):
        if heading is None:
            stack[-1][1]["paragraphs"].append(line)
            continue
        first_seen.setdefault(heading.style, len(first_seen))
        open_index = next((i for i in range(len(stack) - 1, -1, -1)
                           if stack[i][0] == heading.style), None)
        if open_index is not None:
            del stack[open_index:]
        else:
            while stack and _is_lower_style(stack[-1][0], heading.style, first_seen):
                stack.pop()
        section = _new_section(heading, len(stack) + 1)
        siblings = stack[-1][1]["children"] if stack else outline["sections"]
        siblings.append(section)
        stack.append((heading.style, section))
    return outline, dropped


def _is_lower_style(open_style: str, new_style: str, first_seen: dict[str, int]) -> bool:
    """Is ``open_style`` below ``new_style`` in the usual order *and* in appearance order?"""
    return (_CANONICAL_RANK[open_style] > _CANONICAL_RANK[new_style]
            and first_seen[open_style] > first_seen[new_style])


# ---------------------------------------------------------------------------------------
# Section ids
# ---------------------------------------------------------------------------------------

_TRAILING_PUNCT = "。！？!?；;：:，, "


def iter_sections(sections: list[dict], parents: tuple[dict, ...] = ()
                  ) -> Iterator[tuple[dict, tuple[dict, ...]]]:
    """Yield ``(section, ancestors)`` for every section in document (pre-)order."""
    for section in sections:
        yield section, parents
        children = section.get("children")
        if isinstance(children, list):
            yield from iter_sections(children, parents + (section,))


def _path_key(section: dict, parents: tuple[dict, ...]) -> tuple:
    """The number path of a section: ``(("cn", 2), ("paren_cn", 1))`` for 二、(一)."""
    def key(s: dict) -> tuple:
        number = s.get("number") if isinstance(s.get("number"), str) else ""
        value = number_value(number)
        return (numbering_style(number), value if value is not None else number.strip())
    return tuple(key(s) for s in parents + (section,))


def _match_text(section: dict) -> str:
    """What identifies a section for matching: its heading, else its first paragraph."""
    heading = section.get("heading") if isinstance(section.get("heading"), str) else ""
    heading = heading.strip().rstrip(_TRAILING_PUNCT)
    if heading:
        return heading
    paragraphs = section.get("paragraphs")
    if isinstance(paragraphs, list) and paragraphs and isinstance(paragraphs[0], str):
        return paragraphs[0].strip()[:40]
    return ""


_MAX_FUZZY_PAIRS = 40_000


def _similarity(a: str, b: str) -> float:
    if not a and not b:
        return 1.0
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    if matcher.real_quick_ratio() < 0.4 or matcher.quick_ratio() < 0.4:
        return 0.0
    return matcher.ratio()


def _fresh_id(path: tuple, heading: str, taken: set[str]) -> str:
    counter = 0
    while True:
        digest = hashlib.sha1(f"{path!r}\x1f{heading}\x1f{counter}".encode("utf-8")).hexdigest()
        candidate = "s" + digest[:8]
        if candidate not in taken:
            return candidate
        counter += 1


def _assign_ids(sections: list[dict], previous: Any = None, keep_existing: bool = False) -> None:
    """Give every section an id, in place: reused from ``previous`` when it matches, else fresh.

    ``keep_existing`` keeps ids already present (client outlines) and fills only the gaps.
    """
    new = [(s, _path_key(s, p), _match_text(s)) for s, p in iter_sections(sections)]
    old: list[tuple[str, tuple, str]] = []
    if isinstance(previous, dict) and isinstance(previous.get("sections"), list):
        for s, p in iter_sections(previous["sections"]):
            if isinstance(s, dict) and isinstance(s.get("id"), str) and s["id"]:
                old.append((s["id"], _path_key(s, p), _match_text(s)))

    taken: set[str] = {old_id for old_id, _, _ in old}
    assigned: dict[int, str] = {}
    if keep_existing:
        for index, (section, _, _) in enumerate(new):
            if isinstance(section.get("id"), str) and section["id"]:
                assigned[index] = section["id"]
                taken.add(section["id"])
    used_old: set[int] = set()

    def claim(index: int, old_index: int) -> None:
        assigned[index] = old[old_index][0]
        used_old.add(old_index)

    # Pass 1: the same heading, preferably at the same path (survives renumbering and moves).
    for index, (_, path, text) in enumerate(new):
        if index in assigned or not text:
            continue
        candidates = [j for j, (_, old_path, old_text) in enumerate(old)
                      if j not in used_old and old_text == text]
        if candidates:
            same_path = [j for j in candidates if old[j][1] == path]
            claim(index, (same_path or candidates)[0])
    # Pass 2: the same number path with an edited heading.
    for index, (_, path, text) in enumerate(new):
        if index in assigned:
            continue
        for j, (_, old_path, old_text) in enumerate(old):
            if j not in used_old and old_path == path and _similarity(text, old_text) >= 0.4:
                claim(index, j)
                break
    # Pass 3: moved and edited, but still clearly the same heading. Quadratic, so bounded:
    # beyond the bound (a wholesale rewrite) unmatched sections simply get fresh ids.
    pending = [i for i, (_, _, text) in enumerate(new) if i not in assigned and len(text) >= 4]
    free = [j for j in range(len(old)) if j not in used_old]
    if len(pending) * len(free) <= _MAX_FUZZY_PAIRS:
        for index in pending:
            text = new[index][2]
            matcher = difflib.SequenceMatcher(None, autojunk=False)
            matcher.set_seq2(text)  # the expensive side is indexed once per new heading
            best, best_j = 0.0, -1
            for j in free:
                old_text = old[j][2]
                if j in used_old or 2 * min(len(text), len(old_text)) < 0.75 * (
                        len(text) + len(old_text)):
                    continue
                matcher.set_seq1(old_text)
                if matcher.quick_ratio() >= 0.75:
                    ratio = matcher.ratio()
                    if ratio > best:
                        best, best_j = ratio, j
            if best >= 0.75:
                claim(index, best_j)

    for index, (section, path, _) in enumerate(new):
        if index not in assigned:
            assigned[index] = _fresh_id(path, section.get("heading", ""), taken)
        taken.add(assigned[index])
        section["id"] = assigned[index]


# ---------------------------------------------------------------------------------------
# Public entry points
# ---------------------------------------------------------------------------------------


def import_text_with_report(text: str, previous: dict | None = None) -> tuple[dict, list[str]]:
    """Import pasted text; return ``(outline, dropped_lines)``.

    ``dropped_lines`` are the web-page residue lines left out (stripped, in order), so that
    the UI can tell the user what was not imported.
    """
    if not isinstance(text, str):
        raise ContentError("正文必须是文本 / text must be a string")
    outline, dropped = _parse_lines(_lines(text))
    _assign_ids(outline["sections"], previous)
    return outline, dropped


def import_text(text: str, previous: dict | None = None) -> dict:
    """Import pasted plain text (from Word/WPS or a web page) into an outline."""
    return import_text_with_report(text, previous)[0]


_DOCX_ERROR = ("无法读取该 .docx 文件（文件已损坏，或不是 Word 2007 及以后的 .docx 格式，"
               "请另存为 .docx 后重试） / not a valid .docx file")


def docx_to_text(data: bytes) -> str:
    """The text of a .docx: body paragraphs and table cells in order, one per line.

    Word's automatic list numbers (which are not part of the paragraph text) are rendered
    from the numbering definitions, so a list numbered 一、二、 by Word imports like typed text.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ContentError(_DOCX_ERROR)
    try:
        import docx  # python-docx; imported here so the text importer does not need it

        document = docx.Document(io.BytesIO(bytes(data)))
        numbering = _DocxNumbering(document)
        lines = [numbering.label(paragraph) + paragraph.text
                 for paragraph in _docx_paragraphs(document)]
    except ContentError:
        raise
    except Exception as exc:  # python-docx raises many kinds (zip, XML, key errors)
        raise ContentError(_DOCX_ERROR) from exc
    return "\n".join(lines)


def import_docx_with_report(data: bytes, previous: dict | None = None
                            ) -> tuple[dict, list[str]]:
    """Import a .docx; return ``(outline, dropped_lines)`` like :func:`import_text_with_report`."""
    return import_text_with_report(docx_to_text(data), previous)


def import_docx(data: bytes, previous: dict | None = None) -> dict:
    """Import a .docx file's bytes; raises :class:`ContentError` when they are not a .docx."""
    return import_docx_with_report(data, previous)[0]


def _docx_paragraphs(container: Any) -> Iterator[Any]:
    """Paragraphs in reading order, descending into tables (merged cells only once)."""
    from docx.table import Table

    for block in container.iter_inner_content():
        if isinstance(block, Table):
            seen: set[int] = set()
            for row in block.rows:
                for cell in row.cells:
                    if id(cell._tc) in seen:
                        continue
                    seen.add(id(cell._tc))
                    yield from _docx_paragraphs(cell)
        else:
            yield block


class _DocxNumbering:
    """Renders Word automatic list labels (``%1、`` with chineseCounting → ``一、``)."""

    _FORMATS = {
        "decimal": str,
        "decimalZero": lambda n: f"{n:02d}",
        "decimalFullWidth": lambda n: str(n).translate(str.maketrans("0123456789",
                                                                     "０１２３４５６７８９")),
        "decimalEnclosedParen": lambda n: f"({n})",
        "decimalEnclosedFullstop": lambda n: f"{n}.",
        "chineseCounting": lambda n: chinese_numeral(n),
        "chineseCountingThousand": lambda n: chinese_numeral(n),
        "ideographTraditional": lambda n: chinese_numeral(n),
        "japaneseCounting": lambda n: chinese_numeral(n),
        "taiwaneseCounting": lambda n: chinese_numeral(n),
    }

    def __init__(self, document: Any) -> None:
        from docx.oxml.ns import qn

        self._qn = qn
        self._levels: dict[str, dict[int, tuple[str, str, int]]] = {}
        self._counters: dict[str, dict[int, int]] = {}
        try:
            root = document.part.numbering_part.element
        except (KeyError, NotImplementedError, AttributeError):
            return
        abstract: dict[str, dict[int, tuple[str, str, int]]] = {}
        for node in root.findall(qn("w:abstractNum")):
            levels: dict[int, tuple[str, str, int]] = {}
            for lvl in node.findall(qn("w:lvl")):
                levels[int(lvl.get(qn("w:ilvl"), "0"))] = (
                    self._val(lvl, "w:numFmt", "decimal"),
                    self._val(lvl, "w:lvlText", ""),
                    int(self._val(lvl, "w:start", "1") or 1),
                )
            abstract[node.get(qn("w:abstractNumId"))] = levels
        for node in root.findall(qn("w:num")):
            ref = node.find(qn("w:abstractNumId"))
            if ref is not None:
                self._levels[node.get(qn("w:numId"))] = abstract.get(ref.get(qn("w:val")), {})

    def _val(self, node: Any, tag: str, default: str) -> str:
        child = node.find(self._qn(tag))
        return child.get(self._qn("w:val"), default) if child is not None else default

    def _num_pr(self, paragraph: Any) -> tuple[str, int] | None:
        """(numId, ilvl) from the paragraph, else from its style chain."""
        qn = self._qn
        candidates = [paragraph._p.pPr]
        style = paragraph.style
        while style is not None:
            candidates.append(style.element.pPr)
            style = style.base_style
        for ppr in candidates:
            num_pr = ppr.find(qn("w:numPr")) if ppr is not None else None
            if num_pr is None:
                continue
            num_id = self._val(num_pr, "w:numId", "0")
            ilvl = int(self._val(num_pr, "w:ilvl", "0") or 0)
            return (num_id, ilvl) if num_id != "0" else None
        return None

    def label(self, paragraph: Any) -> str:
        """The automatic label of ``paragraph`` (``""`` when it has none); advances counters."""
        if not self._levels:
            return ""
        num_pr = self._num_pr(paragraph)
        if num_pr is None or num_pr[0] not in self._levels:
            return ""
        num_id, ilvl = num_pr
        levels = self._levels[num_id]
        if ilvl not in levels:
            return ""
        counters = self._counters.setdefault(num_id, {})
        counters[ilvl] = counters.get(ilvl, levels[ilvl][2] - 1) + 1
        for deeper in [lvl for lvl in counters if lvl > ilvl]:
            del counters[deeper]  # a new item restarts its sub-lists

        def render(match: re.Match) -> str:
            lvl = int(match.group(1)) - 1
            fmt, _, start = levels.get(lvl, ("decimal", "", 1))
            value = counters.get(lvl, start)
            if fmt == "bullet" or fmt == "none":
                return ""
            return self._FORMATS.get(fmt, str)(value)

        fmt, text, _ = levels[ilvl]
        # An empty numbered paragraph still counts in Word, but has no line of its own here.
        if fmt in ("bullet", "none") or not paragraph.text.strip():
            return ""
        return re.sub(r"%([1-9])", render, text)


def chinese_numeral(n: int) -> str:
    """1 → 一, 10 → 十, 23 → 二十三 (for list labels and messages, 1–99; else Arabic)."""
    digits = "零一二三四五六七八九"
    if 0 < n < 10:
        return digits[n]
    if 10 <= n < 100:
        tens, ones = divmod(n, 10)
        return ("" if tens == 1 else digits[tens]) + "十" + (digits[ones] if ones else "")
    return str(n)


def outline_to_text(outline: dict) -> str:
    """Render an outline as plain text: one line per paragraph, headings on their own line
    (or sharing it with the first paragraph for run-in headings)."""
    lines: list[str] = list(outline.get("preamble", []))

    def walk(sections: list[dict]) -> None:
        for section in sections:
            paragraphs = list(section.get("paragraphs", []))
            head = section.get("number", "") + section.get("heading", "")
            if section.get("run_in") and paragraphs:
                head += paragraphs.pop(0)
            lines.append(head)
            lines.extend(paragraphs)
            walk(section.get("children", []))

    walk(outline.get("sections", []))
    lines.extend(outline.get("closing", []))
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------
# Validation of client outlines
# ---------------------------------------------------------------------------------------

_MAX_DEPTH = 12
_MAX_ID = 64
_SECTION_KEYS = {"id", "level", "number", "heading", "paragraphs", "children", "run_in"}
_OUTLINE_KEYS = {"preamble", "sections", "closing"}


def _clean_line(value: str) -> str:
    return " ".join(clean_text(value).split("\n")).strip()


def _clean_paragraphs(value: Any, path: str) -> list[str]:
    """A list of strings; line breaks inside a string split it into paragraphs."""
    if not isinstance(value, list):
        raise ContentError(f"内容格式错误：{path} 必须是字符串列表 / {path} must be a list of strings")
    result: list[str] = []
    for index, item in enumerate(value):
        if not isinstance(item, str):
            raise ContentError(f"内容格式错误：{path}[{index}] 必须是字符串 / "
                               f"{path}[{index}] must be a string")
        result.extend(_lines(item))
    return result


def validate_outline(obj: Any) -> dict:
    """Check an outline sent by a client and return a normalised copy.

    Rules: ``sections`` is required, ``preamble`` and ``closing`` default to ``[]``; no other
    keys. A section needs ``number`` (empty or a recognised numbering such as ``"一、"``),
    ``heading`` (str) and ``paragraphs`` (list of str); ``children`` defaults to ``[]``;
    ``level``, when given, must be an int equal to the section's depth (it is filled in
    otherwise); ``id``, when given, must be a non-empty string of at most 64 characters,
    unique in the outline (missing ids are filled in); ``run_in`` must be a bool. Text goes
    through the hygiene of :func:`clean_text`; a line break inside a paragraph splits it and
    blank paragraphs are dropped. Raises :class:`ContentError` naming the bad path, e.g.
    ``sections[2].paragraphs[0] must be a string``.
    """
    if not isinstance(obj, dict):
        raise ContentError("内容格式错误：outline 必须是对象 / outline must be an object")
    unknown = sorted(set(obj) - _OUTLINE_KEYS, key=str)
    if unknown:
        raise ContentError(f"内容格式错误：未知字段 {unknown[0]} / unknown key {unknown[0]!r}")
    if "sections" not in obj:
        raise ContentError("内容格式错误：缺少 sections / sections is required")
    result = {
        "preamble": _clean_paragraphs(obj.get("preamble", []), "preamble"),
        "sections": _validate_sections(obj["sections"], "sections", 1),
        "closing": _clean_paragraphs(obj.get("closing", []), "closing"),
    }
    seen: set[str] = set()
    for section, section_path in _iter_with_paths(result["sections"], "sections"):
        if section["id"] in seen:
            raise ContentError(f"内容格式错误：{section_path}.id “{section['id']}” 与其他章节重复 / "
                               f"{section_path}.id {section['id']!r} is not unique")
        if section["id"]:
            seen.add(section["id"])
    _assign_ids(result["sections"], keep_existing=True)
    return result


def _iter_with_paths(sections: list[dict], path: str) -> Iterator[tuple[dict, str]]:
    for index, section in enumerate(sections):
        section_path = f"{path}[{index}]"
        yield section, section_path
        yield from _iter_with_paths(section["children"], f"{section_path}.children")


def _validate_sections(value: Any, path: str, depth: int) -> list[dict]:
    if not isinstance(value, list):
        raise ContentError(f"内容格式错误：{path} 必须是列表 / {path} must be a list")
    if depth > _MAX_DEPTH:
        raise ContentError(f"内容格式错误：{path} 层级超过 {_MAX_DEPTH} 层 / "
                           f"{path} is nested deeper than {_MAX_DEPTH} levels")
    return [_validate_section(item, f"{path}[{i}]", depth) for i, item in enumerate(value)]


def _validate_section(value: Any, path: str, depth: int) -> dict:
    def fail(zh: str, en: str) -> ContentError:
        return ContentError(f"内容格式错误：{path}{zh} / {path}{en}")

    if not isinstance(value, dict):
        raise fail(" 必须是对象", " must be an object")
    unknown = sorted(set(value) - _SECTION_KEYS, key=str)
    if unknown:
        raise fail(f" 含未知字段 {unknown[0]}", f" has an unknown key {unknown[0]!r}")
    for key in ("number", "heading", "paragraphs"):
        if key not in value:
            raise fail(f" 缺少 {key}", f".{key} is required")
    for key in ("number", "heading"):
        if not isinstance(value[key], str):
            raise fail(f".{key} 必须是字符串", f".{key} must be a string")
    number = _clean_line(value["number"])
    if number and not numbering_style(number):
        raise fail(f".number “{number}” 不是可识别的编号（如 一、 (一) 1. (1)）",
                   f".number {number!r} is not a recognised heading number")
    level = value.get("level", depth)
    if not isinstance(level, int) or isinstance(level, bool):
        raise fail(".level 必须是整数", ".level must be an integer")
    if level != depth:
        raise fail(f".level 应为 {depth}（所在层级），实为 {level}",
                   f".level must be {depth} (its depth), got {level}")
    section_id = value.get("id")
    if section_id is not None:
        if not isinstance(section_id, str):
            raise fail(".id 必须是字符串", ".id must be a string")
        section_id = clean_text(section_id).strip()
        if not section_id or len(section_id) > _MAX_ID:
            raise fail(f".id 长度须为 1–{_MAX_ID} 个字符",
                       f".id must be 1 to {_MAX_ID} characters long")
    run_in = value.get("run_in", False)
    if not isinstance(run_in, bool):
        raise fail(".run_in 必须是布尔值", ".run_in must be a boolean")
    paragraphs = _clean_paragraphs(value["paragraphs"], f"{path}.paragraphs")
    section: dict[str, Any] = {
        "id": section_id or "",
        "level": depth,
        "number": number,
        "heading": _clean_line(value["heading"]),
        "paragraphs": paragraphs,
        "children": _validate_sections(value.get("children", []), f"{path}.children",
                                       depth + 1),
    }
    if run_in and paragraphs:
        section["run_in"] = True
    return section
