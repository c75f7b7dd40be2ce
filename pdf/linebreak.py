"""Line breaking and justification: where a line may end, how a full line is spread to the
measure, and where a title breaks (GB/T 9704-2012: 回行时要做到词意完整, 排列对称).

Everything here works on *glyphs* — ``(character, font, advance)`` triples, the advance
already including the style's character spacing — and the text they spell, one character
per glyph. Nothing here touches a canvas or a page; ``pdf.typeset`` builds lines and pages
from these functions, and ``pdf.draw`` draws a line at the positions :func:`positions` gives.

Break opportunities (:func:`units` groups glyphs into the smallest pieces a line may break
between):

* between two Chinese characters, except before closing punctuation (行首禁则), after opening
  punctuation (行尾禁则) and inside a 破折号 or 省略号;
* a Latin word or a number (``GDP``, ``5G``, ``12.5%``, ``1,234,567``) never breaks, except
  at its spaces (a word longer than a whole line is the one exception, cut where the line ends);
* a URL breaks only after ``/ . - ? & = #`` (never inside ``//``), so a long address fills
  its lines instead of leaving one half empty.

Justification (:func:`justify_gaps`) spreads a line's missing width over the gaps between
Chinese characters, at the boundaries between Chinese and Latin text and at spaces — never
between the letters of a word or the characters of a URL, so ``pdftotext`` reads ``GDP``,
not ``G D P``.
"""
from __future__ import annotations

import bisect
import logging
import math
import re
import threading
from collections.abc import Iterable
from functools import lru_cache
from itertools import combinations, pairwise
from typing import TYPE_CHECKING, Any

from . import layout as L

if TYPE_CHECKING:
    from .fonts import LoadedFont

__all__ = ["Glyph", "break_lines", "break_paragraph", "gap_weight", "justify_gaps", "positions", "title_breaks",
           "title_words", "units"]

# A glyph: (character, font, advance in pt including the style's character spacing).
Glyph = tuple[str, "LoadedFont", float]

# 行首禁则: never at the start of a line (closing punctuation, 点号, and the like).
NO_START = frozenset(
    "，。、；：？！”’）》」』】〕〗〙〛〉｝］｠｡､・·…‥々〆ゝゞ～％‰℃°"
    ",.;:?!)]}%")
# 行尾禁则: never at the end of a line (opening punctuation).
NO_END = frozenset("“‘（《「『【〔〖〘〚〈｛［｟([{")
# Never split inside a run of these (—— 破折号, …… 省略号).
INSEPARABLE = frozenset("—…‥─")
_ASCII_INNER = frozenset(",.:;!?'’")  # inside a number or word: 3.5, 1,000

# A web address: a scheme or "www.", then the characters an address is made of. Trailing
# sentence punctuation is not part of it.
_URL = re.compile(r"(?:https?://|ftp://|www\.)[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+", re.ASCII)
_URL_TRAILING = ".,;:!?)]'"
# A URL may break after these (never between the two slashes of "//").
URL_BREAK_AFTER = frozenset("/.-?&=#")


def is_latin(ch: str) -> bool:
    """A character of a Latin word, a number or a URL (ASCII, or a Latin letter with a
    diacritic); spaces are not."""
    return ch != " " and (ch.isascii() or (ord(ch) < 0x2000 and ch.isalnum()))


def url_spans(text: str) -> list[tuple[int, int]]:
    """``[start, end)`` of every web address in ``text``."""
    spans = []
    for match in _URL.finditer(text):
        start, end = match.span()
        while end > start and text[end - 1] in _URL_TRAILING:
            end -= 1
        if end - start > 4:
            spans.append((start, end))
    return spans


def _is_word_char(text: str, i: int) -> bool:
    """True if ``text[i]`` belongs to a Latin/number word that must not be broken."""
    ch = text[i]
    if ch.isspace() or ord(ch) >= 0x2E80 or ch in NO_END or ch in INSEPARABLE or ch in "“”‘":
        return False
    if ch in _ASCII_INNER or ch in NO_START:
        # "3.5", "1,000", "x.y" stay whole; a comma ending a clause does not
        return (0 < i < len(text) - 1 and ord(text[i - 1]) < 0x2E80 and text[i - 1].isalnum()
                and ord(text[i + 1]) < 0x2E80 and text[i + 1].isalnum())
    return True


def _no_break_between(before: str, ch: str, in_word: bool) -> bool:
    """True when a line must not break between ``before`` and ``ch`` (``in_word``: both
    belong to one Latin word or number)."""
    return before != " " and (
        in_word
        or ch in NO_START
        or before in NO_END
        or (ch in INSEPARABLE and before == ch))


def units(glyphs: list[Glyph], text: str, keep_words: bool = True) -> list[list[Glyph]]:
    """Group glyphs into the smallest pieces a line may break between (``text`` is the
    glyphs' text; ``keep_words=False`` allows breaks inside Latin words, for the printed
    verification address). A space is a unit of its own."""
    in_url = [0] * len(text)  # 1 + the index of the URL a character belongs to (0: none)
    if keep_words:
        for n, (start, end) in enumerate(url_spans(text), 1):
            in_url[start:end] = [n] * (end - start)
    out: list[list[Glyph]] = []
    prev_word = False
    for i, g in enumerate(glyphs):
        ch = g[0]
        if ch == " ":
            out.append([g])
            prev_word = False
            continue
        if in_url[i] and i > 0 and in_url[i - 1] == in_url[i]:
            before = text[i - 1]
            if before in URL_BREAK_AFTER and not (before == "/" and ch == "/") and ch not in NO_START:
                out.append([g])
            else:
                out[-1].append(g)
            prev_word = True
            continue
        word = keep_words and _is_word_char(text, i)
        if out and _no_break_between(out[-1][-1][0], ch, word and prev_word):
            out[-1].append(g)
        else:
            out.append([g])
        prev_word = word
    return out


def _rstrip(glyphs: list[Glyph]) -> list[Glyph]:
    end = len(glyphs)
    while end and glyphs[end - 1][0] == " ":
        end -= 1
    return glyphs[:end]


def break_lines(glyphs: list[Glyph], text: str, first: float, rest: float,
                keep_words: bool = True) -> list[list[Glyph]]:
    """Greedy line filling over break units: ``first`` is the measure of the first line,
    ``rest`` of the others. A unit that does not fit moves to the next line whole — taking
    along the character before a closing mark (推出); a unit longer than a whole line is cut
    where the line ends."""
    lines: list[list[Glyph]] = []
    cur: list[Glyph] = []
    width = 0.0
    measure = first
    eps = L.LINE_FIT_TOLERANCE
    for unit in units(glyphs, text, keep_words):
        if unit[0][0] == " ":
            if cur:
                cur.extend(unit)
                width += unit[0][2]
            continue
        w = sum(g[2] for g in unit)
        if width + w <= measure + eps:
            cur.extend(unit)
            width += w
            continue
        if cur:
            lines.append(_rstrip(cur))
            cur, width, measure = [], 0.0, rest
        if w <= measure + eps:
            cur, width = list(unit), w
            continue
        for g in unit:  # longer than a whole line: break inside it
            if width + g[2] > measure + eps and cur:
                lines.append(cur)
                cur, width, measure = [], 0.0, rest
            cur.append(g)
            width += g[2]
    if cur:
        lines.append(_rstrip(cur))
    return [line for line in lines if line]


# ---- justification ---------------------------------------------------------------------------

BOUNDARY_WEIGHT = 3.0
# Full-width punctuation next to a Latin word takes no 中西文间距.
_CJK_PUNCTUATION = frozenset(ch for ch in NO_START | NO_END if not ch.isascii())


def stretchable(before: str, after: str) -> bool:
    """May justification widen the gap between ``before`` and ``after``? Not inside a Latin
    word, a number or a URL, and not between the halves of a 破折号 or 省略号."""
    if is_latin(before) and is_latin(after):
        return False
    return not (before == after and before in INSEPARABLE)


def gap_weight(before: str, after: str) -> float:
    """How much of a line's extra space the gap between ``before`` and ``after`` takes: none
    inside a word, a number or a URL; ``BOUNDARY_WEIGHT`` at a space or where Chinese meets
    Latin (中西文间距); 1 between two Chinese characters."""
    latin_before, latin_after = is_latin(before), is_latin(after)  # stretchable(), each class once
    if (latin_before and latin_after) or (before == after and before in INSEPARABLE):
        return 0.0
    if before == " " or after == " ":
        return BOUNDARY_WEIGHT
    if latin_before != latin_after and before not in _CJK_PUNCTUATION and after not in _CJK_PUNCTUATION:
        return BOUNDARY_WEIGHT
    return 1.0


def justify_gaps(glyphs: list[Glyph], width: float, size: float) -> list[float]:
    """The extra space after each glyph that makes the line ``width`` wide, spread over the
    gaps by :func:`gap_weight` (nothing after the last glyph). All zeros when the line is
    already full or would need more than ``MAX_JUSTIFY_EXTRA_EM`` per unit of weight (then
    it is set ragged: an over-long word, not a letter-spaced one)."""
    n = len(glyphs)
    gaps = [0.0] * n
    if n < 2:
        return gaps
    extra = width - sum(g[2] for g in glyphs)
    weights = [gap_weight(glyphs[i][0], glyphs[i + 1][0]) for i in range(n - 1)] + [0.0]
    total = sum(weights)
    if extra <= 0 or not total:
        return gaps
    per = extra / total
    if per > L.MAX_JUSTIFY_EXTRA_EM * size:
        return gaps
    return [w * per for w in weights]


UNDERFULL_COST = 5.0


def _first_fitting(width_before: list[float], end: int, measure: float) -> int:
    """The first glyph index a line ending at glyph ``end`` may start from and fit
    ``measure`` (spaces at its start not trimmed: a lower bound)."""
    return bisect.bisect_left(width_before, width_before[end] - measure - 2 * L.LINE_FIT_TOLERANCE, 0, end)


def break_paragraph(glyphs: list[Glyph], text: str, first: float, rest: float, size: float) -> list[list[Glyph]]:
    """A paragraph's lines, chosen for the whole paragraph at once (after Knuth and Plass):
    every line but the last is justified, and the breaks minimise the sum over the lines of
    how far each must be spread (the cube of the extra per unit of gap weight), a line that
    cannot be spread within ``MAX_JUSTIFY_EXTRA_EM`` costing most. For Chinese text that
    fills every line this is the greedy result (each line full); where a Latin word or a URL
    does not fit at the end of a line, the breaks before it move so that no line is left
    with a few wide gaps or ragged. A unit wider than a line breaks inside (as greedily)."""
    if not any(is_latin(ch) for ch in text):
        # Chinese only: every line is filled as far as 禁则 allow — what the search finds.
        return break_lines(glyphs, text, first, rest)
    pieces: list[list[Glyph]] = []
    for unit in units(glyphs, text):
        if sum(g[2] for g in unit) > min(first, rest) + L.LINE_FIT_TOLERANCE:
            pieces.extend([g] for g in unit)
        else:
            pieces.append(unit)
    flat = [g for piece in pieces for g in piece]
    if not flat:
        return []
    starts = []  # glyph index where each piece starts
    pos = 0
    for piece in pieces:
        starts.append(pos)
        pos += len(piece)
    starts.append(pos)
    width_before = [0.0]
    for g in flat:
        width_before.append(width_before[-1] + g[2])
    weight_before = [0.0]  # weight of the gaps between glyphs 0..k (gap_weight, each glyph's class once)
    chars = [g[0] for g in flat]
    latin = [is_latin(ch) for ch in chars]
    total_weight = 0.0
    for k in range(len(flat) - 1):
        before, after = chars[k], chars[k + 1]
        if (latin[k] and latin[k + 1]) or (before == after and before in INSEPARABLE):
            weight = 0.0
        elif (before == " " or after == " "
              or (latin[k] != latin[k + 1] and before not in _CJK_PUNCTUATION and after not in _CJK_PUNCTUATION)):
            weight = BOUNDARY_WEIGHT  # a space, or where Chinese meets Latin
        else:
            weight = 1.0
        total_weight += weight
        weight_before.append(total_weight)
    # Each piece's first glyph that is not a space, and the end of the glyphs before each
    # piece once trailing spaces are dropped: a line from piece i to piece j is glyphs
    # lead[i]:trail[j] (nothing when lead[i] >= trail[j]).
    count = len(flat)
    next_ink = [count] * (count + 1)
    for k in range(count - 1, -1, -1):
        next_ink[k] = next_ink[k + 1] if chars[k] == " " else k
    lead = [next_ink[start] for start in starts]
    trail = []
    last_end = 0
    k = 0
    for start in starts:
        while k < start:
            if chars[k] != " ":
                last_end = k + 1
            k += 1
        trail.append(last_end)
    cap = L.MAX_JUSTIFY_EXTRA_EM * size
    eps = L.LINE_FIT_TOLERANCE
    n = len(pieces)
    inf = math.inf
    best_cost = [0.0] + [inf] * n
    best_from = [-1] * (n + 1)
    widest = max(first, rest)
    for j in range(1, n + 1):
        # The longest line ending before piece j that fits starts at piece lo; shorter ones
        # are tried until they are too loose to justify (once one candidate was found).
        lo = bisect.bisect_left(starts, _first_fitting(width_before, starts[j], widest), 0, j)
        lo = max(0, lo - 1)
        found = False
        b = trail[j]
        last = j == n
        for i in range(lo, j):
            before_cost = best_cost[i]
            if before_cost == inf:
                continue
            a = lead[i]
            if a >= b:
                continue
            measure = first if i == 0 else rest
            natural = width_before[b] - width_before[a]
            if natural > measure + eps:
                if j - i > 1:
                    continue  # narrower lines start further on
                cost = 1e6  # one piece wider than the line (cannot happen after the split above)
            elif last:
                cost = 0.0  # the last line is not justified
            else:
                extra = measure - natural
                weight = weight_before[b - 1] - weight_before[a]
                if extra <= eps:
                    cost = 0.0
                elif weight <= 0:
                    cost = 1e4 + extra  # cannot be spread: ragged
                else:
                    # A line off the 28-character grid costs something however little it is
                    # spread, so that Chinese lines stay full unless that leaves a worse one.
                    per = extra / weight
                    cost = 1e4 + extra if per > cap else UNDERFULL_COST + 100.0 * (per / cap) ** 3
            total = before_cost + cost + 1.0  # + 1 per line: no more lines than needed
            if total < best_cost[j]:
                best_cost[j], best_from[j] = total, i
            if cost >= 1e4 and found and not last:
                break  # shorter lines are looser still
            found = found or cost < 1e4
    lines = []
    j = n
    while j > 0:
        i = best_from[j]
        lines.append(_strip([g for piece in pieces[i:j] for g in piece]))
        j = i
    return [line for line in reversed(lines) if line]


def positions(x: float, glyphs: list[Glyph], gaps: list[float]) -> list[float]:
    """The x of each glyph's origin, from the line's left edge ``x``."""
    out = []
    for g, gap in zip(glyphs, gaps, strict=True):
        out.append(x)
        x += g[2] + gap
    return out


# ---- titles ------------------------------------------------------------------------------------

# Breaks a title prefers regardless of the segmentation: after a function word or a
# separator, before an opening bracket or quote.
_BREAK_AFTER = frozenset("的于和与及、，：；暨")
_BREAK_BEFORE = frozenset("（(《“")
COST_INSIDE_WORD = 10.0  # a break inside a word: only when nothing else fits
COST_SINGLE = 3.0  # between two one-character "words" (a name the dictionary lacks)
COST_WORD = 1.0  # between words
COST_REVERSED = 2.0  # per em a line is longer than the one under it (上短下长)
COST_UNEVEN = 0.25  # per em between the longest and the shortest line

_jieba_lock = threading.Lock()
_tokenizer: Any = None


def _segmenter() -> Any:
    """jieba's tokenizer, created and its dictionary loaded once per process, on first use
    (about a second; later renders pay nothing)."""
    global _tokenizer
    if _tokenizer is None:
        with _jieba_lock:
            if _tokenizer is None:
                import jieba  # type: ignore[import-untyped]

                jieba.setLogLevel(logging.WARNING)
                tokenizer = jieba.Tokenizer()
                tokenizer.initialize()
                _tokenizer = tokenizer
    return _tokenizer


def warm_up() -> None:
    """Load the segmenter now (a worker's parent process, so that every forked job has it)."""
    _segmenter()


@lru_cache(maxsize=256)
def title_words(text: str) -> tuple[str, ...]:
    """``text`` segmented into words by jieba (dictionary only, no guessing)."""
    return tuple(_segmenter().lcut(text, HMM=False))


def _break_costs(text: str) -> dict[int, float]:
    """How bad it is to end a title line before ``text[k]``, for every ``k`` a word
    boundary or a character boundary allows."""
    words = title_words(text)
    ends: dict[int, tuple[int, int]] = {}  # boundary → (length of the word before, after)
    pos = 0
    lengths = [len(w) for w in words]
    for n, length in enumerate(lengths[:-1]):
        pos += length
        ends[pos] = (length, lengths[n + 1])
    costs = {}
    for k in range(1, len(text)):
        if text[k - 1] in _BREAK_AFTER or text[k] in _BREAK_BEFORE:
            costs[k] = 0.0
        elif k in ends:
            before, after = ends[k]
            costs[k] = COST_SINGLE if before == 1 and after == 1 else COST_WORD
        else:
            costs[k] = COST_INSIDE_WORD
    return costs


def _shape_cost(widths: list[float], size: float) -> float:
    """GB/T 9704's shapes for a title of several lines: a trapezoid (each line at least
    ``TITLE_SHAPE_STEP_EM`` shorter than the one under it, 上短下长) or, for three lines, a
    diamond (the middle line that much longer than the others) — not a rectangle."""
    em = [w / size for w in widths]
    step = L.TITLE_SHAPE_STEP_EM
    trapezoid = sum(max(0.0, a - b + step) for a, b in pairwise(em))
    shape = trapezoid
    if len(em) == 3:
        shape = min(shape, max(0.0, em[0] - em[1] + step) + max(0.0, em[2] - em[1] + step))
    return COST_REVERSED * shape + COST_UNEVEN * (max(em) - min(em))


def title_breaks(glyphs: list[Glyph], text: str, max_width: float, size: float,
                 max_lines: int = 3) -> list[list[Glyph]] | None:
    """A title of more than one line broken at word boundaries into the GB/T 9704 shape,
    every line within ``max_width``; None when it needs more than ``max_lines`` lines
    (the caller balances it otherwise) or fits on one."""
    total = sum(g[2] for g in glyphs)
    if total <= max_width + L.LINE_FIT_TOLERANCE or not text:
        return None
    # Where a line may end at all: between break units (禁则, Latin words and numbers whole).
    allowed = []
    index = 0
    for unit in units(glyphs, text)[:-1]:
        index += len(unit)
        allowed.append(index)
    costs = _break_costs(text)
    prefix = [0.0]
    for g in glyphs:
        prefix.append(prefix[-1] + g[2])

    def width(a: int, b: int) -> float:  # glyphs a..b without the spaces at either end
        while a < b and text[a] == " ":
            a += 1
        while b > a and text[b - 1] == " ":
            b -= 1
        return prefix[b] - prefix[a]

    for count in range(2, max_lines + 1):
        best: tuple[float, tuple[int, ...]] | None = None
        for cuts in combinations(allowed, count - 1):
            bounds = (0, *cuts, len(text))
            widths = [width(a, b) for a, b in pairwise(bounds)]
            if max(widths) > max_width + L.LINE_FIT_TOLERANCE or min(widths) <= 0:
                continue
            cost = _shape_cost(widths, size) + sum(costs.get(k, COST_INSIDE_WORD) for k in cuts)
            if best is None or cost < best[0]:
                best = (cost, cuts)
        if best is not None:
            bounds = (0, *best[1], len(text))
            return [_strip(glyphs[a:b]) for a, b in pairwise(bounds)]
    return None


def _strip(glyphs: list[Glyph]) -> list[Glyph]:
    start = 0
    while start < len(glyphs) and glyphs[start][0] == " ":
        start += 1
    return _rstrip(glyphs[start:])


def text_of(glyphs: Iterable[Glyph]) -> str:
    return "".join(g[0] for g in glyphs)
