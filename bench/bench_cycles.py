"""Reporting cycles at scale, printed as JSON (``make bench``):

- the completeness matrix of a district of 40 towns and of a city of 1,500 towns (45,000
  reports: 30 cycles × 1,500 towns, 135,000 audit events), as JSON (``GET
  /api/v1/cycles/{id}/matrix`` with a token) and as the page (``GET /cycles/{id}`` with a
  session): median and p95 in ms, and the SQL statements one request issues;
- opening a cycle for the city's 1,500 towns (the towns recorded and the ``cycle_opened``
  event written in one transaction): median and p95 ms, events written.

SQLite in a temporary directory (``create_all``, bulk inserts). BENCH_DATABASE_URL points it
at PostgreSQL instead (its tables are dropped: use a scratch database).
"""
from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import event, insert, text

ROOT = Path(__file__).resolve().parents[1]
DISTRICTS, TOWNS_PER_DISTRICT, CYCLES = 50, 30, 30  # 1,500 towns, 45,000 reports
SMALL_TOWNS = 40
STATES = ["draft", "town_review", "district_review", "published"]


def _timed(fn, repeat: int) -> dict:
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, max(0, round(0.95 * len(times)) - 1))]
    return {"median_ms": round(statistics.median(times), 1), "p95_ms": round(p95, 1), "runs": repeat}


def _load(db, Models, city_user_id: int, small_user_id: int) -> dict:
    """Bulk-insert the org tree, 30 cycles of the city (the last one open, towns in every
    status), their reports and audit events, and the small district with its open cycle."""
    OrgUnit, Cycle, CycleTown, Reminder, Report, ReportVersion, AuditEvent = Models
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    units, cycles, cycle_towns, reports, versions, events, reminders = [], [], [], [], [], [], []
    city_id = 1
    units.append({"id": city_id, "parent_id": None, "name": "某市", "kind": "city", "path": "/1/"})
    uid = 2
    towns: list[int] = []
    for d in range(DISTRICTS):
        did = uid
        units.append({"id": did, "parent_id": city_id, "name": f"区{d}", "kind": "district", "path": f"/1/{did}/"})
        uid += 1
        for t in range(TOWNS_PER_DISTRICT):
            units.append({"id": uid, "parent_id": did, "name": f"区{d}第{t}镇", "kind": "town",
                          "path": f"/1/{did}/{uid}/"})
            towns.append(uid)
            uid += 1
    small_id = uid
    units.append({"id": small_id, "parent_id": None, "name": "示范区", "kind": "district", "path": f"/{small_id}/"})
    uid += 1
    small_towns = []
    for t in range(SMALL_TOWNS):
        units.append({"id": uid, "parent_id": small_id, "name": f"示范区第{t}镇", "kind": "town",
                      "path": f"/{small_id}/{uid}/"})
        small_towns.append(uid)
        uid += 1

    rid = 1

    def add_cycle(cid, district, year, state, due, town_ids, creator, open_now):
        nonlocal rid
        cycles.append({"id": cid, "district_id": district, "kind": "annual_plan", "year": year,
                       "title": f"{year}年度工作计划", "instructions": "", "due_date": due, "state": state,
                       "created_by_id": creator, "created_at": now - dt.timedelta(days=20),
                       "updated_at": now, "template": None})
        for i, town in enumerate(town_ids):
            cycle_towns.append({"cycle_id": cid, "org_unit_id": town, "added_at": now - dt.timedelta(days=20)})
            if open_now and i % 6 == 0:
                continue  # not started
            target = STATES[i % 4] if open_now else "published"
            reports.append({"id": rid, "org_unit_id": town, "kind": "annual_plan", "year": year,
                            "title": f"{year}年度工作计划", "state": target, "version": 3, "content_number": 1,
                            "created_by_id": creator, "cycle_id": cid, "created_at": now, "updated_at": now})
            versions.append({"report_id": rid, "number": 1, "title": "t", "created_by_id": creator,
                             "outline": {"preamble": [], "sections": [], "closing": []},
                             "content_sha256": "0" * 64, "problems": []})
            steps = [("create", None, "draft")]
            if target != "draft":
                steps.append(("submit", "draft", "town_review"))
            if target in ("district_review", "published"):
                steps.append(("approve", "town_review", "district_review"))
            if target == "published":
                steps.append(("approve", "district_review", "published"))
            if open_now and target == "draft" and i % 8 == 1:
                steps += [("submit", "draft", "town_review"), ("return", "town_review", "draft")]
            for seq, (action, source, target_state) in enumerate(steps, start=1):
                events.append({"report_id": rid, "seq": seq, "actor_id": creator, "action": action,
                               "from_state": source, "to_state": target_state, "version_number": 1,
                               "content_sha256": "0" * 64, "prev_hash": "0" * 64, "hash": "0" * 64,
                               "global_seq": len(events) + 1, "global_prev_hash": "0" * 64, "global_hash": "0" * 64,
                               "created_at": now - dt.timedelta(days=10 - seq)})
            if open_now and i % 5 == 0:
                reminders.append({"cycle_id": cid, "org_unit_id": town, "kind": "manual", "escalate": False,
                                  "by_id": creator, "sent_at": now - dt.timedelta(hours=3)})
            rid += 1

    today = now.date()
    for c in range(CYCLES):
        year = today.year - CYCLES + 2 + c
        open_now = c == CYCLES - 1
        add_cycle(c + 1, city_id, year, "open" if open_now else "closed",
                  today + dt.timedelta(days=7) if open_now else dt.date(year - 1, 12, 20), towns, city_user_id,
                  open_now)
    add_cycle(CYCLES + 1, small_id, today.year + 1, "open", today + dt.timedelta(days=7), small_towns,
              small_user_id, True)
    for table, rows in ((OrgUnit, units), (Cycle, cycles), (CycleTown, cycle_towns), (Report, reports),
                        (ReportVersion, versions), (AuditEvent, events), (Reminder, reminders)):
        for i in range(0, len(rows), 5000):
            db.session.execute(insert(table), rows[i:i + 5000])
    db.session.commit()
    return {"city_id": city_id, "small_id": small_id, "city_cycle": CYCLES, "small_cycle": CYCLES + 1,
            "org_units": len(units), "reports": len(reports), "audit_events": len(events),
            "city_towns": len(towns)}


def main() -> dict:
    sys.path.insert(0, str(ROOT))
    import workflow.models
    from app import create_app
    from workflow import cycles
    from workflow.cycle_models import Cycle, CycleTown, Reminder
    from workflow.db import db
    from workflow.events import OutboxEvent
    from workflow.models import ApiToken, AuditEvent, OrgUnit, Position, Report, ReportVersion, User

    workflow.models.PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
    tmp = Path(tempfile.mkdtemp(prefix="chengbao-bench-cycles-"))
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tmp / 'bench.sqlite3'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_DIR": str(tmp), "SECRET_KEY": "bench",
                      "WTF_CSRF_ENABLED": False})
    figures: dict = {"backend": url.split(":", 1)[0]}
    with app.app_context():
        db.drop_all()
        db.create_all()
        start = time.perf_counter()
        city_admin = User(username="city_admin", display_name="市管理员", password_hash="x")
        small_reviewer = User(username="small_reviewer", display_name="区审核员", password_hash="x")
        db.session.add_all([city_admin, small_reviewer])
        db.session.flush()
        ids = _load(db, (OrgUnit, Cycle, CycleTown, Reminder, Report, ReportVersion, AuditEvent),
                    city_admin.id, small_reviewer.id)
        db.session.add_all([Position(user_id=city_admin.id, org_unit_id=ids["city_id"], role="admin"),
                            Position(user_id=small_reviewer.id, org_unit_id=ids["small_id"], role="district_reviewer")])
        db.session.commit()
        if url.startswith("sqlite"):
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        figures["load_seconds"] = round(time.perf_counter() - start, 2)
        figures.update({k: ids[k] for k in ("org_units", "reports", "audit_events", "city_towns")})
        tokens: dict[str, tuple[int, str]] = {}
        for user in (city_admin, small_reviewer):
            token = f"bench-token-{user.id}"
            db.session.add(ApiToken(user_id=user.id, token_sha256=ApiToken.digest(token),
                                    expires_at=dt.datetime(2100, 1, 1)))
            tokens[user.username] = (user.id, token)
        db.session.commit()
        engine = db.engine

    def client_for(username: str):
        user_id, token = tokens[username]
        page = app.test_client()
        with page.session_transaction() as session:
            session["_user_id"] = f"{user_id}:0"  # User.get_id: id and session generation
            session["_fresh"] = True
        api = app.test_client()
        api.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        return page, api

    def statements(client, path: str) -> int:
        seen: list[str] = []

        def before(conn, cursor, statement, *args):
            if not statement.lstrip().upper().startswith(("PRAGMA", "SAVEPOINT", "RELEASE")):
                seen.append(statement)

        event.listen(engine, "before_cursor_execute", before)
        try:
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
        finally:
            event.remove(engine, "before_cursor_execute", before)
        return len(seen)

    def get(client, path: str):
        def run():
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
        return run

    for label, username, cycle_id, repeat in (("district_40_towns", "small_reviewer", ids["small_cycle"], 21),
                                              ("city_1500_towns", "city_admin", ids["city_cycle"], 11)):
        page, api = client_for(username)
        json_path, page_path = f"/api/v1/cycles/{cycle_id}/matrix", f"/cycles/{cycle_id}"
        rows = len(api.get(json_path).get_json()["rows"])
        figures[label] = {
            "rows": rows,
            "matrix_json": _timed(get(api, json_path), repeat) | {"queries": statements(api, json_path)},
            "matrix_page": _timed(get(page, page_path), repeat) | {"queries": statements(page, page_path)},
        }

    with app.app_context():
        opener = db.session.get(User, tokens["city_admin"][0])
        before = db.session.query(OutboxEvent).count()
        towns_before = db.session.query(CycleTown).count()
        due = dt.date.today() + dt.timedelta(days=30)

        def open_one():
            cycles.open_cycle(opener, org_unit_id=ids["city_id"], kind="annual_report", year=2030, title="全市工作总结",
                              due_date=due)

        timing = _timed(open_one, 5)
        opened = 6  # the warm-up and the five timed runs
        figures["open_cycle_1500_towns"] = timing | {
            "towns_recorded_per_cycle": (db.session.query(CycleTown).count() - towns_before) // opened,
            "events_written_per_cycle": (db.session.query(OutboxEvent).count() - before) // opened,
        }
        db.session.remove()
        if not url.startswith("sqlite"):
            db.drop_all()
        db.engine.dispose()
    return figures


if __name__ == "__main__":
    print(json.dumps(main(), ensure_ascii=False, indent=2))
