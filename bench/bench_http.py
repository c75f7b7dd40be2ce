"""List pages under HTTP load at a province's scale, with a real load generator.

Seeds a bench database with bulk inserts (a province of 100 districts × 15 towns × 30 reports:
45,000 reports, 135,000 audit events), starts ``gunicorn -w 4`` on it and drives it with
``wrk`` (Debian package ``wrk``; ``bench/wrk_report.lua`` prints the percentiles) for each of:

- ``province_admin_list``: the report list page of an admin at the province (HTML, session);
- ``district_reviewer_api_list``: ``GET /api/v1/reports`` of a district reviewer (bearer token);
- ``no_database_floor``: ``/manifest.webmanifest`` — what the same server answers without a query.

Each row: requests/s, p50/p95/p99 in ms, non-2xx answers. ``explain`` holds the plan of every
query the two lists run (SQLite: EXPLAIN QUERY PLAN; PostgreSQL: EXPLAIN ANALYZE).

Settings (environment): ``BENCH_DATABASE_URL`` (default: an SQLite file in a temporary
directory; a PostgreSQL database's tables are dropped and re-created: use a scratch database),
``BENCH_CLIENTS`` (50), ``BENCH_SECONDS`` (10), ``BENCH_BASELINE_DIR`` (another checkout, e.g.
``git archive main | tar -x -C /tmp/base``: the same load against its code and the same
database, reported as ``baseline``). Without ``wrk`` the section says so and measures nothing.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LUA = Path(__file__).with_name("wrk_report.lua")
PASSWORD = "bench-password-1"
REPORTS_PER_TOWN = 30


def seed(url: str, instance: Path) -> dict:
    """The province in a fresh schema, the two users with real passwords, statistics."""
    from sqlalchemy import text

    from app import create_app
    from bench.bench_lists import load_province
    from workflow import models
    from workflow.db import db
    from workflow.models import Position, User

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_DIR": str(instance), "SECRET_KEY": "bench"})
    with app.app_context():
        db.drop_all()
        db.create_all()
        start = time.perf_counter()
        loaded = load_province(db, reports_per=REPORTS_PER_TOWN, root=True)
        models.PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"  # two logins; the hash is not what is measured
        for name, unit, role in (("province_admin", loaded["province_id"], "admin"),
                                 ("district_reviewer", loaded["district_id"], "district_reviewer")):
            user = User(username=name, display_name=name, password_hash="")
            user.set_password(PASSWORD)
            db.session.add(user)
            db.session.flush()
            db.session.add(Position(user_id=user.id, org_unit_id=unit, role=role))
        db.session.commit()
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        loaded["load_seconds"] = round(time.perf_counter() - start, 1)
        loaded["explain"] = explain_lists(db)
        db.session.remove()
        db.engine.dispose()
    return loaded


def explain_lists(db) -> dict:
    """The plan of every statement the two measured lists run (first page and a cursor page)."""
    from sqlalchemy import event

    from workflow import listing
    from workflow.models import User

    plans: dict = {}
    for username in ("province_admin", "district_reviewer"):
        user = db.session.scalar(db.select(User).where(User.username == username))
        _ = [p.org_unit.path for p in user.positions]
        captured: list = []

        def capture(conn, cursor, statement, parameters, context, executemany, captured=captured):
            captured.append((statement, parameters))

        event.listen(db.engine, "before_cursor_execute", capture)
        try:
            first = listing.list_reports(user)
            listing.list_reports(user, cursor=first.next_cursor)
            listing.find_units(user, q="镇1", kinds=("town",))
        finally:
            event.remove(db.engine, "before_cursor_execute", capture)
        plans[username] = [_plan(db, statement, parameters) for statement, parameters in captured
                           if statement.lstrip().upper().startswith("SELECT")]
    return plans


def _plan(db, statement: str, parameters) -> dict:
    """One statement's plan, as lines."""
    connection = db.session.connection().connection.driver_connection
    cursor = connection.cursor()
    if db.engine.dialect.name == "sqlite":
        cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
        lines = [row[-1] for row in cursor.fetchall()]
    else:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
        lines = [row[0] for row in cursor.fetchall()]
    return {"sql": " ".join(statement.split())[:400], "plan": lines}


# ---------------------------------------------------------------- the server and the load


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(code_dir: Path, url: str, instance: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench", "CHENGBAO_INSTANCE": str(instance),
           "PYTHONPATH": str(code_dir)}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "4", "-b", f"127.0.0.1:{port}", "--log-level", "warning",
         "app:create_app()"], cwd=code_dir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(base + "/manifest.webmanifest", timeout=2).read()
            return server, base
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("gunicorn did not come up: " + (server.stderr.read().decode()[-2000:] if server.stderr else ""))


def session_cookie(base: str, username: str) -> str:
    """Log in through the form (CSRF token included); the session cookie as a header value."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    html = opener.open(base + "/login").read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    data = urllib.parse.urlencode({"username": username, "password": PASSWORD, "csrf_token": token}).encode()
    opener.open(base + "/login", data=data).read()
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def api_token(base: str, username: str) -> str:
    request = urllib.request.Request(base + "/api/v1/tokens", method="POST",
                                     data=json.dumps({"username": username, "password": PASSWORD}).encode(),
                                     headers={"Content-Type": "application/json"})
    return json.loads(urllib.request.urlopen(request).read())["token"]


def load(url: str, header: str | None, clients: int, seconds: int) -> dict:
    """wrk against one URL: requests/s, p50/p95/p99 (ms), non-2xx answers."""
    command = ["wrk", "-t", "2", "-c", str(clients), "-d", f"{seconds}s", "--timeout", "10s", "-s", str(LUA)]
    if header:
        command += ["-H", header]
    out = subprocess.run(command + [url], capture_output=True, text=True, check=True).stdout
    return json.loads(out[out.index("{"):])


def measure(code_dir: Path, db_url: str, instance: Path, clients: int, seconds: int) -> dict:
    server, base = start_server(code_dir, db_url, instance)
    try:
        cookie = session_cookie(base, "province_admin")
        token = api_token(base, "district_reviewer")
        targets = {
            "province_admin_list": (base + "/reports", "Cookie: " + cookie),
            "district_reviewer_api_list": (base + "/api/v1/reports", "Authorization: Bearer " + token),
            "no_database_floor": (base + "/manifest.webmanifest", None),
        }
        for target, header in targets.values():  # warm every worker's caches
            load(target, header, 8, 2)
        rows = {name: load(target, header, clients, seconds) for name, (target, header) in targets.items()}
        floor = rows["no_database_floor"]["requests_per_s"]
        rows["api_list_over_floor"] = round(rows["district_reviewer_api_list"]["requests_per_s"] / floor, 2)
        return rows
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> dict:
    sys.path.insert(0, str(ROOT))
    if shutil.which("wrk") is None:
        return {"skipped": "wrk is not installed (Debian: apt-get install wrk)"}
    tmp = Path(tempfile.mkdtemp(prefix="chengbao-bench-http-"))
    db_url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tmp / 'bench.sqlite3'}"
    clients, seconds = int(os.environ.get("BENCH_CLIENTS", 50)), int(os.environ.get("BENCH_SECONDS", 10))
    seeded = seed(db_url, tmp)
    figures: dict = {"backend": db_url.split(":", 1)[0], "clients": clients, "seconds": seconds,
                     "gunicorn_workers": 4, "org_units": seeded["org_units"], "reports": seeded["reports"],
                     "audit_events": seeded["audit_events"], "load_seconds": seeded["load_seconds"]}
    figures["this_code"] = measure(ROOT, db_url, tmp, clients, seconds)
    baseline = os.environ.get("BENCH_BASELINE_DIR")
    if baseline:
        figures["baseline"] = {"code": baseline, **measure(Path(baseline), db_url, tmp, clients, seconds)}
    figures["explain"] = seeded["explain"]
    return figures


if __name__ == "__main__":
    print(json.dumps(main(), ensure_ascii=False, indent=2))
