"""A web worker gives the memory a large request needed back to the system.

Saving or showing a 200,000-character report briefly needs tens of megabytes (the form, the
outline, its checks and indicators, the page). Python frees them, but glibc's allocator keeps
the freed pages of its heap, so a gunicorn worker's resident memory stays near the request's
peak for the rest of its life. After a request that left the worker more than
``TRIM_AFTER_GROWTH_KB`` larger than after the last trim, ``malloc_trim(0)`` hands the free
pages back (a few milliseconds, on those requests only). Elsewhere than glibc: nothing.

Before trimming, a full garbage collection frees what the request left in reference cycles
(a page's template context holds the whole outline; about 2 MB more given back, for some
70 ms on those requests only), and ``release`` lets go of what holds on to such a request's data outside
Python: on SQLite, the pooled connections (each keeps its page cache, and each of its cached
statements a copy of the last values bound to it: a whole report's outline, its searchable
text), which the next request opens again (about a millisecond).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os
from collections.abc import Callable

from flask import Flask

TRIM_AFTER_GROWTH_KB = 4 * 1024
_PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def resident_kb() -> int:
    """This process's resident memory (``/proc/self/statm``), 0 where there is none."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE_KB
    except (OSError, ValueError, IndexError):
        return 0


def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):  # not glibc
        return None


class Trimmer:
    """Trims when the resident memory grew by ``threshold_kb`` since the last trim."""

    def __init__(self, trim: Callable[[int], int], rss: Callable[[], int] = resident_kb,
                 threshold_kb: int = TRIM_AFTER_GROWTH_KB, release: Callable[[], None] | None = None,
                 collect: Callable[[], object] = gc.collect) -> None:
        self.trim, self.rss, self.threshold_kb, self.release = trim, rss, threshold_kb, release
        self.collect = collect
        self.baseline = rss()
        self.trims = 0

    def after_request(self) -> None:
        if self.rss() - self.baseline > self.threshold_kb:
            self.collect()
            if self.release is not None:
                self.release()
            self.trim(0)
            self.trims += 1
            self.baseline = self.rss()


def release_sqlite_connections() -> None:
    """Close the pooled connections of an SQLite database (in the app context); elsewhere
    nothing: a server database keeps a request's data in its own process."""
    from workflow.db import db

    url = db.engine.url
    # An in-memory database is its one connection: closing it would drop the database.
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        db.engine.dispose()


def init_app(app: Flask, trim: Callable[[int], int] | None = None) -> None:
    trim = trim or _malloc_trim()
    if trim is None or not resident_kb():
        return
    trimmer = Trimmer(trim, release=release_sqlite_connections)
    app.extensions["chengbao_memory_trimmer"] = trimmer

    served = []

    @app.teardown_request
    def request_served(exc: BaseException | None) -> None:
        served.append(True)

    def give_memory_back(exc: BaseException | None) -> None:
        if served:  # the app context of a request (not a command's, nor a test's)
            served.clear()
            trimmer.after_request()

    # Last of the app context's teardowns (Flask runs them in reverse order): after
    # Flask-SQLAlchemy has removed the session, when every connection is back in the pool.
    app.teardown_appcontext_funcs.insert(0, give_memory_back)
