"""The roll-up (汇总) at scale, printed as JSON (``make bench``): a city of 1,500 towns whose
annual work reports are all published in this year's cycle and last year's (3,000 reports, each
with a real outline of figures; every other one with confirmed key indicators), rolled up as
JSON (``GET /api/v1/cycles/{id}/rollup``), as the page (``GET /cycles/{id}/rollup``, ECharts
data included) and as .xlsx: median and p95 in ms, and the SQL statements of one request.

SQLite in a temporary directory (``create_all``, bulk inserts). BENCH_DATABASE_URL points it
at PostgreSQL instead (its tables are dropped: use a scratch database).
"""
from __future__ import annotations

import datetime as dt
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import event, insert, text

from bench.bench_cycles import _timed

ROOT = Path(__file__).resolve().parents[1]
TOWNS = 1500
SUMMARY = ("{year}年，全镇经济运行稳中有进。\n一、主要指标\n全年实现地区生产总值{gdp}亿元，一般公共预算收入{rev}万元，"
           "完成固定资产投资{fai}亿元。\n二、民生\n农村居民人均可支配收入{inc}元，森林覆盖率达到{forest}%，"
           "新增规上企业{ent}家，城镇新增就业{jobs}人。\n")


def _load(db, Models, user_id: int) -> dict:
    from workflow.importer import import_text

    OrgUnit, Cycle, CycleTown, Report, ReportVersion, KeyIndicatorValue = Models
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    units = [{"id": 1, "parent_id": None, "name": "某市", "kind": "district", "path": "/1/"}]
    towns = list(range(2, TOWNS + 2))
    units += [{"id": t, "parent_id": 1, "name": f"第{t:04d}镇", "kind": "town", "path": f"/1/{t}/"} for t in towns]
    year = now.year
    cycles = [{"id": c, "district_id": 1, "kind": "annual_report", "year": y, "title": f"{y}年工作总结",
               "instructions": "", "due_date": dt.date(y + 1, 1, 15), "state": "closed", "created_by_id": user_id,
               "created_at": now, "updated_at": now, "template": None} for c, y in ((1, year - 1), (2, year))]
    cycle_towns, reports, versions, confirmed = [], [], [], []
    rid = 1
    for cid, y in ((1, year - 1), (2, year)):
        for t in towns:
            cycle_towns.append({"cycle_id": cid, "org_unit_id": t, "added_at": now})
            outline = import_text(SUMMARY.format(year=y, gdp=5 + t % 17, rev=1000 + t, fai=1 + t % 5, inc=20000 + t,
                                                 forest=40 + t % 30, ent=t % 4, jobs=100 + t % 90))
            reports.append({"id": rid, "org_unit_id": t, "kind": "annual_report", "year": y, "title": f"{y}年工作总结",
                            "state": "published", "version": 4, "content_number": 1, "created_by_id": user_id,
                            "cycle_id": cid, "created_at": now, "updated_at": now})
            versions.append({"report_id": rid, "number": 1, "title": "t", "created_by_id": user_id, "outline": outline,
                             "content_sha256": "0" * 64, "problems": [], "frozen_at": now})
            if t % 2:
                confirmed.append({"report_id": rid, "version_number": 1, "key": "gdp", "value": 5.5 + t % 17,
                                  "unit": "亿元", "confirmed_by_id": user_id, "confirmed_at": now})
            rid += 1
    for table, rows in ((OrgUnit, units), (Cycle, cycles), (CycleTown, cycle_towns), (Report, reports),
                        (ReportVersion, versions), (KeyIndicatorValue, confirmed)):
        for i in range(0, len(rows), 5000):
            db.session.execute(insert(table), rows[i:i + 5000])
    db.session.commit()
    return {"reports": len(reports), "confirmed_values": len(confirmed)}


def main() -> dict:
    sys.path.insert(0, str(ROOT))
    import workflow.models
    from app import create_app
    from workflow.cycle_models import Cycle, CycleTown
    from workflow.db import db
    from workflow.indicator_models import KeyIndicatorValue
    from workflow.models import ApiToken, OrgUnit, Position, Report, ReportVersion, User

    workflow.models.PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
    tmp = Path(tempfile.mkdtemp(prefix="chengbao-bench-rollup-"))
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tmp / 'bench.sqlite3'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_DIR": str(tmp), "SECRET_KEY": "bench"})
    figures: dict = {"backend": url.split(":", 1)[0], "towns": TOWNS}
    with app.app_context():
        db.drop_all()
        db.create_all()
        start = time.perf_counter()
        reviewer = User(username="city_reviewer", display_name="区审核员", password_hash="x")
        db.session.add(reviewer)
        db.session.flush()
        figures |= _load(db, (OrgUnit, Cycle, CycleTown, Report, ReportVersion, KeyIndicatorValue), reviewer.id)
        db.session.add(Position(user_id=reviewer.id, org_unit_id=1, role="district_reviewer"))
        token = "bench-token-rollup"
        db.session.add(ApiToken(user_id=reviewer.id, token_sha256=ApiToken.digest(token),
                                expires_at=dt.datetime(2100, 1, 1)))
        db.session.commit()
        if url.startswith("sqlite"):
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        figures["load_seconds"] = round(time.perf_counter() - start, 2)
        user_id, engine = reviewer.id, db.engine

    page = app.test_client()
    with page.session_transaction() as session:
        session["_user_id"] = f"{user_id}:0"
        session["_fresh"] = True
    api = app.test_client()
    api.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"

    def statements(client, path: str) -> int:
        seen: list[str] = []

        def before(conn, cursor, statement, *args):
            if not statement.lstrip().upper().startswith(("PRAGMA", "SAVEPOINT", "RELEASE")):
                seen.append(statement)

        event.listen(engine, "before_cursor_execute", before)
        try:
            assert client.get(path).status_code == 200, path
        finally:
            event.remove(engine, "before_cursor_execute", before)
        return len(seen)

    def get(client, path: str):
        def run():
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
        return run

    body = api.get("/api/v1/cycles/2/rollup").get_json()
    figures["rows"] = len(body["rows"])
    figures["gdp_sum"] = body["totals"]["gdp"]["sum"]
    for label, client, path in (("rollup_json", api, "/api/v1/cycles/2/rollup"),
                                ("rollup_page", page, "/cycles/2/rollup"),
                                ("rollup_xlsx", api, "/api/v1/cycles/2/rollup.xlsx")):
        figures[label] = _timed(get(client, path), 5) | {"queries": statements(client, path)}
    with app.app_context():
        db.session.remove()
        if not url.startswith("sqlite"):
            db.drop_all()
        db.engine.dispose()
    return figures


if __name__ == "__main__":
    print(json.dumps(main(), ensure_ascii=False, indent=2))
