"""Recovery figures, printed as JSON (``make bench``): seconds from a SIGKILL in the middle
of a publication to its signed PDF being ready, for each of

- ``worker``: the worker with its work horse and RQ's scheduler (a crash);
- ``horse``: the work horse alone (its worker lives and schedules the retry);
- ``redis``: the Redis server (restarted from its append-only file; the attempt itself
  lives on and finishes: ``render_left_s`` of its ``seconds`` were still to render).

The stack is ``tests/fault_support.Stack`` (the embedded Redis, ``flask worker``, ``flask
sweep --every 1``, restarted when they die, as ``make run``'s launcher does), with a 1 s
heartbeat and 5 s before a silent attempt counts as dead. ``false_running`` counts the
status answers that said "running" for a dead attempt (always 0). Everything runs in a
temporary instance directory (SQLite migrated with Alembic).
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """The supervised processes' logs (they inherit file descriptor 1) go to stderr: stdout
    carries the JSON document only."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def main() -> dict:
    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    tmp = Path(tempfile.mkdtemp(prefix="cbrec-"))
    os.environ.update(CHENGBAO_INSTANCE=str(tmp), DATABASE_URL=f"sqlite:///{tmp / 'bench.sqlite3'}",
                      SECRET_KEY="bench", ARCHIVE_DIR=str(tmp / "archive"), KEYS_DIR=str(tmp / "keys"))
    os.environ.pop("REDIS_URL", None)
    from flask_migrate import upgrade

    from app import create_app
    from bench.bench_pdf import _publications, _world
    from pdf import jobs
    from tests.fault_support import HEARTBEAT_SECONDS, KILL_TARGETS, STALE_AFTER, Stack, kill_mid_publication
    from workflow.db import db
    from workflow.importer import import_text
    from workflow.models import Publication

    app = create_app()
    result: dict = {"heartbeat_s": HEARTBEAT_SECONDS, "stale_after_s": STALE_AFTER}
    stack = None
    from contextlib import ExitStack

    from tests.jobs_support import serving_tsa

    served = ExitStack()
    try:
        with _stdout_to_stderr():
            with app.app_context():
                upgrade()
                district, town, user = _world(app)
                outline = import_text((ROOT.parent / "shared" / "seeds" / "annual-plan-2026.txt")
                                      .read_text(encoding="utf-8"))
                db.session.remove()
            served.enter_context(serving_tsa(app))  # the signatures' timestamps: the app's own TSA
            stack = Stack(app, tmp / "redis").start()

            def status_of(pub_id: int) -> dict:
                with app.app_context():
                    status = jobs.pdf_status(db.session.get_one(Publication, pub_id))
                    beat = status.heartbeat_at
                    return {"status": status.status, "heartbeat_at": beat.isoformat() + "Z" if beat else None}

            for target in KILL_TARGETS:
                with app.app_context():  # one publication at a time: the sweeper hands over any queued row
                    pub_id = _publications(db.session.merge(district), db.session.merge(town),
                                           db.session.merge(user), outline, f"青山镇年度工作计划 {target}", 1)[0]
                    jobs.enqueue_publication(pub_id)
                recovery = kill_mid_publication(app, stack, pub_id, target, lambda pub_id=pub_id: status_of(pub_id))
                result[target] = {"seconds": recovery.seconds, "attempts": recovery.attempts,
                                  "false_running": len(recovery.false_running())}
                if target == "redis":
                    result[target]["render_left_s"] = recovery.render_left
    finally:
        if stack is not None:
            with _stdout_to_stderr():
                stack.stop()
        served.close()
        shutil.rmtree(tmp, ignore_errors=True)
    return result


if __name__ == "__main__":
    print(json.dumps(main(), ensure_ascii=False, indent=2))
