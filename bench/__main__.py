"""`make bench`: every benchmark, one JSON document on stdout."""
import json

from bench import (
    bench_cycles,
    bench_http,
    bench_import,
    bench_lists,
    bench_memory,
    bench_outbox,
    bench_pdf,
    bench_recovery,
    bench_rollup,
    bench_search,
)

if __name__ == "__main__":
    print(json.dumps({"pdf": bench_pdf.main(), "lists": bench_lists.main(), "cycles": bench_cycles.main(),
                      "outbox": bench_outbox.main(), "search": bench_search.main(), "import": bench_import.main(),
                      "recovery": bench_recovery.main(), "http": bench_http.main(), "rollup": bench_rollup.main(),
                      "memory": bench_memory.main()},
                     ensure_ascii=False, indent=2))
