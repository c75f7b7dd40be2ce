"""The importer and the indicator scan on long text (``python -m bench.bench_import``): one
paragraph of 10,000 and of 100,000 characters full of figures and quoted slogans, and a
PDF-broken report of as many lines; median ms of each and the 100k/10k ratio (about 10 when
the work is linear; the quote scan used to make it about 100).
"""
from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

SENTENCE = "“三个示范”建成示范村两个，完成投资3-5亿元，培育合作社百余个，增长8.5个百分点。"


def _median_ms(fn, repeat: int = 7) -> float:
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 2)


def main() -> dict:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from workflow.importer import import_text
    from workflow.indicators import extract_indicators

    result: dict[str, dict] = {}
    for size in (10_000, 100_000):
        paragraph = (SENTENCE * (size // len(SENTENCE) + 1))[:size]
        outline = import_text("一、工作\n" + paragraph)
        broken = "一、工作\n" + "\n".join(paragraph[i:i + 30] for i in range(0, size, 30))
        result[f"{size // 1000}k"] = {
            "indicators_ms": _median_ms(lambda o=outline: extract_indicators(o)),
            "import_pdf_broken_ms": _median_ms(lambda b=broken: import_text(b)),
        }
    result["ratio_100k_10k"] = {key: round(result["100k"][key] / max(result["10k"][key], 0.01), 1)
                                for key in result["10k"]}
    return result


if __name__ == "__main__":
    print(json.dumps(main(), ensure_ascii=False, indent=2))
