"""Kill -9 in the middle of a publication, and measure how long until the PDF is ready.

:class:`Stack` is what ``make run`` runs for the jobs, supervised the way ``run.py`` does
it: the embedded Redis with its append-only file, one ``flask worker`` (with RQ's
scheduler) and one ``flask sweep --every``; whatever dies is started again at once.
:func:`kill_mid_publication` waits until the first attempt is rendering (made slow by
``CHENGBAO_TEST_RENDER_DELAY``), kills one part with SIGKILL and watches the status the
front doors show until the row is ready. Used by ``tests/test_job_faults.py`` and by the
recovery section of ``make bench``.
"""
from __future__ import annotations

import datetime as dt
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from pdf.queue import EmbeddedRedis
from run import Child, descendants, kill_tree
from workflow.db import db
from workflow.models import Publication

KILL_TARGETS = ("worker", "horse", "redis")
HEARTBEAT_SECONDS = 1.0
STALE_AFTER = 5.0
SWEEP_EVERY = 1.0
FIRST_ATTEMPT_DELAY = 10  # seconds: the first attempt renders this long (then, if alive, finishes)


def _env(app: Any, redis_url: str) -> dict[str, str]:
    return dict(os.environ, **{
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "CHENGBAO_INSTANCE": app.config["INSTANCE_DIR"],
        "ARCHIVE_DIR": app.config["ARCHIVE_DIR"],
        "KEYS_DIR": app.config["KEYS_DIR"],
        "REDIS_URL": redis_url,
        "SECRET_KEY": app.config["SECRET_KEY"],
        "PYTHONUNBUFFERED": "1",
        "NOTIFY_ALLOW_INTERNAL_URLS": "1",
        "PDF_HEARTBEAT_SECONDS": str(HEARTBEAT_SECONDS),
        "PDF_STALE_AFTER": str(STALE_AFTER),
        "CHENGBAO_TEST_RENDER_DELAY": str(FIRST_ATTEMPT_DELAY),
        # The signature's timestamp: the app's development TSA, served by the caller
        # (tests.jobs_support.serving_tsa), as a production TSA would be.
        "PUBLIC_BASE_URL": app.config.get("PUBLIC_BASE_URL") or "",
        "TSA_URL": app.config.get("TSA_URL") or "",
    })


class Stack:
    """Redis (append-only file), a worker and a sweeper, restarted when they die."""

    def __init__(self, app: Any, directory: Path) -> None:
        self.app = app
        self.redis = EmbeddedRedis(directory, persist=True)
        self.worker: Child | None = None
        self.sweeper: Child | None = None

    def start(self) -> Stack:
        self.redis.start()
        self.app.config.update(REDIS_URL=self.redis.url, PDF_HEARTBEAT_SECONDS=HEARTBEAT_SECONDS,
                               PDF_STALE_AFTER=STALE_AFTER)
        env = _env(self.app, self.redis.url)
        flask = [sys.executable, "-m", "flask", "--app", "app"]
        self.worker = Child("worker", flask + ["worker"], env).start()
        self.sweeper = Child("sweeper", flask + ["sweep", "--every", str(SWEEP_EVERY)], env).start()
        return self

    def supervise(self) -> None:
        """What run.py's loop does: Redis first (the others need it), then the processes."""
        if not self.redis.alive():
            self.redis.start()
        for child in (self.worker, self.sweeper):
            if child is not None and not child.alive():
                child.stop()
                child.start()

    def horse_pid(self) -> int | None:
        """The worker's work horse: the descendant RQ put in a process group of its own."""
        assert self.worker is not None and self.worker.process is not None
        for pid in descendants(self.worker.process.pid):
            try:
                pgrp = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[2])
            except (OSError, ValueError, IndexError):
                continue
            if pgrp == pid:
                return pid
        return None

    def kill(self, target: str) -> None:
        """SIGKILL the worker (with its work horse and scheduler, as a crash would), the
        work horse alone, or the Redis server."""
        if target == "worker":
            assert self.worker is not None and self.worker.process is not None
            kill_tree(self.worker.process.pid)
        elif target == "horse":
            pid = self.horse_pid()
            assert pid, "no work horse to kill"
            os.kill(pid, signal.SIGKILL)
        elif target == "redis":
            assert self.redis.process is not None
            self.redis.process.kill()
        else:
            raise ValueError(target)

    def stop(self) -> None:
        for child in (self.sweeper, self.worker):
            if child is not None:
                child.stop()
        self.redis.stop()


@dataclass
class Recovery:
    """One kill: ``seconds`` from the SIGKILL to the row ready, the attempts it took, and
    every status answer seen meanwhile."""

    target: str
    seconds: float
    attempts: int
    killed_at: float = 0.0  # wall clock of the kill
    # The seconds the killed attempt still had to render: an attempt that survives the kill
    # (Redis's) finishes after them, so they are part of ``seconds`` but not of the recovery.
    render_left: float = 0.0
    statuses: list[tuple[float, dict]] = field(default_factory=list)  # (seconds after the kill, status)

    def false_running(self, stale_after: float = STALE_AFTER, margin: float = 1.5) -> list[tuple[float, dict]]:
        """The answers that said "running" for a dead attempt: after the heartbeat window
        following the kill, with a heartbeat from before the kill."""
        wrong = []
        for after, status in self.statuses:
            if status.get("status") != "running":
                continue
            beat = dt.datetime.fromisoformat(status["heartbeat_at"].replace("Z", "+00:00")).timestamp()
            beat_after_kill = beat - (self.killed_at - margin)
            if beat_after_kill < 0 and after > stale_after + margin:
                wrong.append((after, status))
        return wrong


def _row(app: Any, publication_id: int) -> Publication:
    with app.app_context():
        pub = db.session.get_one(Publication, publication_id)
        db.session.expunge(pub)
        return pub


def kill_mid_publication(app: Any, stack: Stack, publication_id: int, target: str,
                         status: Callable[[], dict], *, bound: float = 60.0) -> Recovery:
    """Wait for the first attempt to be rendering, SIGKILL ``target``, then supervise and
    poll ``status`` (what a front door answers) until the row is ready; ``bound`` seconds
    is a liveness bound, not a speed target. Returns the seconds from the kill to ready."""
    deadline = time.monotonic() + 120
    while _row(app, publication_id).stage != "rendering" or (target == "horse" and not stack.horse_pid()):
        stack.supervise()
        if time.monotonic() > deadline:
            raise AssertionError("the first attempt never reached the rendering stage")
        time.sleep(0.1)
    rendering_since = time.monotonic()
    time.sleep(2 * HEARTBEAT_SECONDS)  # a beat or two: the attempt is seen alive first
    stack.kill(target)
    killed, killed_at = time.monotonic(), time.time()
    recovery = Recovery(target, 0.0, 0, killed_at=killed_at,
                        render_left=round(FIRST_ATTEMPT_DELAY - (killed - rendering_since), 1))
    while True:
        stack.supervise()
        now = time.monotonic()
        try:
            recovery.statuses.append((now - killed, status()))
        except Exception as exc:  # an answer that failed is recorded as such
            recovery.statuses.append((now - killed, {"status": None, "error": repr(exc)}))
        pub = _row(app, publication_id)
        if pub.status == "ready":
            recovery.seconds = round(time.monotonic() - killed, 1)
            recovery.attempts = pub.attempts
            return recovery
        if pub.status == "failed" or now - killed > bound:
            raise AssertionError(f"not ready {now - killed:.0f} s after killing the {target}: {pub.status} "
                                 f"{pub.stage} {pub.error}")
        time.sleep(0.2)


def publications_of_version(app: Any, publication_id: int) -> int:
    """How many publication rows the version of this one has (one, always)."""
    with app.app_context():
        version_id = db.session.get_one(Publication, publication_id).report_version_id
        return db.session.scalar(select(func.count()).where(Publication.report_version_id == version_id)) or 0
