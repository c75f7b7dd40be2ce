"""`make bench`: every benchmark, one JSON document on stdout, ending with ``targets``: each
figure the performance issue set a target for, beside its target and whether it is met.

``BENCH_FIRST_START=0`` leaves out ``make run`` on a fresh clone (it installs the requirements
from the package index: it needs the network)."""
import json
import os
from typing import Any

from bench import (
    bench_cycles,
    bench_diff,
    bench_http,
    bench_import,
    bench_lists,
    bench_memory,
    bench_outbox,
    bench_pdf,
    bench_recovery,
    bench_rollup,
    bench_search,
    first_start,
)

# (what, where in the results, "<=" or ">=", target)
TARGETS: list[tuple[str, tuple[str, ...], str, float]] = [
    ("5-page publish job through the real queue ÷ the same job in-process (same run)",
     ("pdf", "queue_ratio", "ratio"), ">=", 0.9),
    ("5-page render + both signatures, timestamps and DSS in-process, CPU ms (this process and its TSA)",
     ("pdf", "render_sign_5p_cpu_ms"), "<=", 80),
    ("province admin report list page, 50 clients, req/s",
     ("http", "this_code", "province_admin_list", "requests_per_s"), ">=", 150),
    ("province admin report list page, 50 clients, p99 ms",
     ("http", "this_code", "province_admin_list", "p99_ms"), "<=", 300),
    ("district reviewer API list ÷ no-database page (same run, 50 clients)",
     ("http", "this_code", "api_list_over_floor"), ">=", 0.6),
    ("district reviewer API list, 50 clients, p99 ms",
     ("http", "this_code", "district_reviewer_api_list", "p99_ms"), "<=", 250),
    ("web worker RSS after saving a 200k-character report, MB",
     ("memory", "web_worker_rss_mb"), "<=", 100),
    ("diff of five 500-character paragraphs, one edit each: characters shown inserted",
     ("diff", "five_paragraphs", "chars_shown_inserted"), "<=", 5),
    ("the same with 5,000-character paragraphs (any size)",
     ("diff", "five_paragraphs_x10", "chars_shown_inserted"), "<=", 5),
    ("make run on a fresh clone to the first page, s",
     ("first_start", "first_page_s"), "<=", 40),
]


def targets(results: dict) -> list[dict]:
    rows = []
    for what, path, sense, target in TARGETS:
        value: Any = results
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        met = None if not isinstance(value, (int, float)) else (value <= target if sense == "<=" else value >= target)
        rows.append({"measure": what, "value": value, "target": f"{sense} {target:g}", "met": met})
    return rows


if __name__ == "__main__":
    results = {"pdf": bench_pdf.main(), "lists": bench_lists.main(), "cycles": bench_cycles.main(),
               "outbox": bench_outbox.main(), "search": bench_search.main(), "import": bench_import.main(),
               "recovery": bench_recovery.main(), "http": bench_http.main(), "rollup": bench_rollup.main(),
               "memory": bench_memory.main(), "diff": bench_diff.main()}
    if os.environ.get("BENCH_FIRST_START", "1") != "0":
        results["first_start"] = first_start.main()
    results["targets"] = targets(results)
    print(json.dumps(results, ensure_ascii=False, indent=2))
