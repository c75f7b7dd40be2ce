"""The character diff, as a report page's changes since a version show it (``make bench``).

- ``five_paragraphs``: five 500-character paragraphs with one character replaced in each:
  the characters the diff shows inserted and deleted (5 and 5: the five replaced), and its
  time; ``five_paragraphs_x10``: the same with 5,000-character paragraphs (any size: still 5);
- ``unrelated_60k``: two unrelated 60,000-character texts — past diff-match-patch's time bound
  (``workflow.diff.DIFF_TIMEOUT_S``) the diff is coarser, still exact: its time stays bounded.

Medians of 5 runs (3 for the unrelated texts), wall time in ms (CPU-bound, single-threaded).
The indicator scan on long text is ``bench_import``'s.
"""
from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASE = "各镇要加强基层党建，推进乡村振兴，落实安全生产责任制度。"  # 28 characters


def _median_ms(fn, repeat: int = 5):
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 2), result


def _edited(chars: int) -> dict:
    from workflow.diff import text_ops

    paragraphs = [(BASE * (chars // len(BASE) + 1))[:chars] for _ in range(5)]
    step = chars // 6
    edited = [p[:step * (i + 1)] + "改" + p[step * (i + 1) + 1:] for i, p in enumerate(paragraphs)]
    ms, ops = _median_ms(lambda: text_ops("\n".join(paragraphs), "\n".join(edited)))
    shown = {kind: sum(len(op["text"]) for op in ops if op["op"] == kind) for kind in ("insert", "delete")}
    return {"paragraph_chars": chars, "chars_shown_inserted": shown["insert"], "chars_shown_deleted": shown["delete"],
            "ms": ms}


def main() -> dict:
    sys.path.insert(0, str(ROOT))
    from workflow.diff import text_ops

    old = "".join(chr(0x4E00 + (i * 7919) % 2000) for i in range(60_000))
    new = "".join(chr(0x4E00 + (i * 104729) % 2000) for i in range(60_000))
    unrelated_ms, _ = _median_ms(lambda: text_ops(old, new), repeat=3)
    return {"five_paragraphs": _edited(500), "five_paragraphs_x10": _edited(5000),
            "unrelated_60k": {"ms": unrelated_ms}}


if __name__ == "__main__":
    print(json.dumps(main(), ensure_ascii=False, indent=2))
