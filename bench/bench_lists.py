"""List queries at a province's scale: 1,500 towns under 100 districts, 8 reports a town
(12,000 reports, 36,000 audit events), then time the list, filtered list and to-do queries of
a district reviewer and a town author. Prints JSON. SQLite by default; BENCH_DATABASE_URL for
PostgreSQL (its tables are dropped: use a scratch database)."""
from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert, text


def _median_ms(fn, repeat: int = 7) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 2)


EMPTY_OUTLINE: dict = {"preamble": [], "sections": [], "closing": []}


def load_province(db, outline_for=None, *, reports_per: int = 8, root: bool = False) -> dict:
    """The province: 100 districts × 15 towns × ``reports_per`` reports (8: 12,000), 3 audit
    events each, a district reviewer (of the eighth district) and a town author; with ``root``
    the districts sit under a province unit (id 1). ``outline_for(report_id)`` gives each
    report's content (default: empty). Bulk inserts in the current app context; returns the
    counts and the ids of the two users, the reviewer's district and the province (or None)."""
    from workflow.models import AuditEvent, OrgUnit, Position, Report, ReportVersion, User

    districts, towns_per = 100, 15
    user = User(username="bench", display_name="bench", password_hash="x")
    db.session.add(user)
    db.session.flush()
    units, reports, versions, events, uid, rid = [], [], [], [], 1, 1
    top = ""
    if root:
        units.append({"id": 1, "parent_id": None, "name": "省", "kind": "province", "path": "/1/"})
        top, uid = "/1", 2
    states = ["draft", "town_review", "district_review", "published"]
    start = dt.datetime(2026, 1, 1)
    district_ids = []
    for d in range(districts):
        did = uid
        district_ids.append(did)
        units.append({"id": did, "parent_id": 1 if root else None, "name": f"区{d}", "kind": "district",
                      "path": f"{top}/{did}/"})
        uid += 1
        for t in range(towns_per):
            path = f"{top}/{did}/{uid}/"
            units.append({"id": uid, "parent_id": did, "name": f"镇{d}-{t}", "kind": "town", "path": path})
            for k in range(reports_per):
                title = f"镇{d}-{t} {2020 + k % 10}年度工作计划"
                # Every town has reports in each of the four states (``(rid + k) % 4`` gave
                # town review and published only: a town's first id is always odd).
                # Activity spread over the year, interleaved across the province (as in life).
                stamp = start + dt.timedelta(minutes=(rid * 7919) % 500_000)
                reports.append({"id": rid, "org_unit_id": uid, "org_path": path, "kind": "annual_plan",
                                "year": 2020 + k % 10, "title": title, "state": states[rid % 4],
                                "version": 3, "content_number": 1, "created_by_id": user.id,
                                "created_at": stamp, "updated_at": stamp})
                versions.append({"report_id": rid, "number": 1, "title": title,
                                 "outline": outline_for(rid) if outline_for else EMPTY_OUTLINE,
                                 "content_sha256": "0" * 64, "problems": [], "created_by_id": user.id})
                for seq in (1, 2, 3):
                    events.append({"report_id": rid, "seq": seq, "actor_id": user.id, "action": "x", "from_state": None,
                                   "to_state": "draft", "version_number": 1, "content_sha256": "0" * 64,
                                   "prev_hash": "0" * 64, "hash": "0" * 64, "global_seq": len(events) + 1,
                                   "global_prev_hash": "0" * 64, "global_hash": "0" * 64})
                rid += 1
            uid += 1
    for table, rows in ((OrgUnit, units), (Report, reports), (ReportVersion, versions), (AuditEvent, events)):
        for i in range(0, len(rows), 5000):
            db.session.execute(insert(table), rows[i:i + 5000])
    district = district_ids[7]
    db.session.add_all([Position(user_id=user.id, org_unit_id=district, role="district_reviewer")])
    author = User(username="author", display_name="a", password_hash="x")
    db.session.add(author)
    db.session.flush()
    db.session.add(Position(user_id=author.id, org_unit_id=district_ids[0] + 1, role="author"))
    db.session.commit()
    return {"org_units": len(units), "reports": len(reports), "audit_events": len(events),
            "reviewer_id": user.id, "author_id": author.id, "district_id": district,
            "province_id": 1 if root else None}


def main() -> dict:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from app import create_app
    from workflow import services
    from workflow.db import db
    from workflow.models import User

    tmp = Path(tempfile.mkdtemp(prefix="chengbao-bench-"))
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tmp / 'bench.sqlite3'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_DIR": str(tmp), "SECRET_KEY": "bench"})
    with app.app_context():
        db.drop_all()
        db.create_all()
        start = time.perf_counter()
        loaded = load_province(db)
        if url.startswith("sqlite"):
            db.session.execute(text("ANALYZE"))
        load_s = time.perf_counter() - start
        reviewer = db.session.get(User, loaded["reviewer_id"])
        town_author = db.session.get(User, loaded["author_id"])
        figures = {
            "backend": url.split(":", 1)[0],
            "org_units": loaded["org_units"], "reports": loaded["reports"], "audit_events": loaded["audit_events"],
            "load_seconds": round(load_s, 2),
            "district_list_page1_ms": _median_ms(lambda: services.list_reports(reviewer)),
            "district_list_page5_filtered_ms": _median_ms(
                lambda: services.list_reports(reviewer, state="district_review", year=2024, page=1)),
            "district_inbox_ms": _median_ms(lambda: services.inbox(reviewer)),
            "author_list_ms": _median_ms(lambda: services.list_reports(town_author)),
            "author_inbox_ms": _median_ms(lambda: services.inbox(town_author)),
        }
        db.session.remove()
        if not url.startswith("sqlite"):
            db.drop_all()
        db.engine.dispose()
    return figures


if __name__ == "__main__":
    print(json.dumps(main(), ensure_ascii=False, indent=2))
