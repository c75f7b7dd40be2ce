"""Racing actors: exactly one wins, on SQLite and on PostgreSQL (whichever DATABASE_URL picks)."""
from __future__ import annotations

import threading

from tests.helpers import advance, gen_report, get_user
from workflow import services
from workflow.db import db
from workflow.errors import Conflict
from workflow.models import AuditEvent, Publication, Report


def _race(app, report_id: int, attempts: list[tuple[str, str, str | None]]):
    with app.app_context():
        version = db.session.get(Report, report_id).version
    barrier = threading.Barrier(len(attempts))
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(username: str, action: str, comment: str | None) -> None:
        with app.app_context():
            user = get_user(username)
            barrier.wait()
            try:
                services.perform(user, report_id, action, version=version, comment=comment)
                result = "ok"
            except Conflict:
                result = "conflict"
            except Exception as exc:  # anything else is a bug: report it
                result = f"error: {exc!r}"
            with lock:
                outcomes.append(result)

    threads = [threading.Thread(target=run, args=a) for a in attempts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def test_eight_clicks_on_approve_make_one_approval(app, world):
    with app.app_context():
        report_id = advance(gen_report("qs").id, "town_review").id
        events_before = db.session.scalar(db.select(db.func.count(AuditEvent.id)))
    outcomes = _race(app, report_id, [("qs_reviewer", "approve", None)] * 8)
    assert sorted(outcomes) == ["conflict"] * 7 + ["ok"]
    with app.app_context():
        assert db.session.get(Report, report_id).state == "district_review"
        assert db.session.scalar(db.select(db.func.count(AuditEvent.id))) == events_before + 1


def test_approve_and_return_at_the_same_moment_one_wins(app, world):
    with app.app_context():
        report_id = advance(gen_report("qs").id, "district_review").id
    attempts = [("district_reviewer", "approve", None), ("district_reviewer", "return", "数据有误")] * 3
    outcomes = _race(app, report_id, attempts)
    assert sorted(outcomes) == ["conflict"] * 5 + ["ok"]
    with app.app_context():
        report = db.session.get(Report, report_id)
        history = services.history(report)
        assert history[-1].to_state == report.state
        assert len(history) == 4
        publications = db.session.scalar(db.select(db.func.count(Publication.id)))
        assert publications == (1 if report.state == "published" else 0)
