"""Pages under HTTP load at a province's scale, with a real load generator.

Seeds a bench database with bulk inserts (a province of 100 districts × 15 towns × 30 reports:
45,000 reports, 135,000 audit events; in the reviewer's district an author and a town reviewer
of each town with API tokens, and a reporting cycle of the district), starts ``gunicorn -w 4``
on it and drives it with ``wrk`` (Debian package ``wrk``; ``bench/wrk_report.lua`` prints the
percentiles), 50 clients, for each of:

- ``province_admin_list``: the report list page of an admin at the province (HTML, session);
- ``district_reviewer_api_list``: ``GET /api/v1/reports`` of a district reviewer (bearer token);
- ``district_reviewer_todo``: the district reviewer's to-do page (``/``);
- ``district_reviewer_report_page``: a report of the district in district review, as its reviewer sees it;
- ``district_cycle_matrix``: the cycle's completeness matrix page of the district (``/cycles/<id>``);
- ``mixed_writes``: 30 users writing at once through the API (saves, comments, approvals; see
  ``mixed_writes``), Python client threads;
- ``no_database_floor``: ``/manifest.webmanifest`` — what the same server answers without a
  query, measured first and last (``no_database_floor_again``).

Each row: requests/s, p50/p95/p99 in ms, non-2xx answers; ``over_floor``: each row's
requests/s over the mean of the two floors (the figure to compare on a shared machine);
``memory_rss_mb``: the master's and each worker's resident memory after the run. ``explain``
holds the plan of every query the lists run (the report list and its town picker, the to-do
lists, the cycle matrix; SQLite: EXPLAIN QUERY PLAN; PostgreSQL: EXPLAIN ANALYZE).

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
        loaded.update(seed_workload(db, loaded))
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        loaded["load_seconds"] = round(time.perf_counter() - start, 1)
        loaded["explain"] = explain_lists(db, loaded)
        db.session.remove()
        db.engine.dispose()
    return loaded


def seed_workload(db, loaded: dict) -> dict:
    """What the other rows need: in the reviewer's district, an author and a town reviewer of
    each town with an API token each (the mixed writes), and a reporting cycle of the district
    (its matrix) answered by one report of each town; the report page shown (one of the
    district's reports in district review)."""
    import datetime as dt

    from sqlalchemy import update

    from workflow import cycles
    from workflow.models import ApiToken, OrgUnit, Position, Report, User, utcnow

    district = loaded["district_id"]
    towns = db.session.scalars(db.select(OrgUnit.id).where(OrgUnit.parent_id == district).order_by(OrgUnit.id)).all()
    now = utcnow()
    for n, town in enumerate(towns):
        for role in ("author", "town_reviewer"):
            user = User(username=f"{role}_{n}", display_name=f"{role}_{n}", password_hash="x")
            db.session.add(user)
            db.session.flush()
            db.session.add_all([Position(user_id=user.id, org_unit_id=town, role=role),
                                ApiToken(user_id=user.id, token_sha256=ApiToken.digest(f"bench-token-{role}-{n}"),
                                         created_at=now, expires_at=now + dt.timedelta(days=2))])
    admin = db.session.scalar(db.select(User).where(User.username == "province_admin"))
    cycle = cycles.open_cycle(admin, org_unit_id=district, kind="annual_plan", year=2027, title="2027年度工作计划",
                              due_date=(now + dt.timedelta(days=30)).date())
    for town in towns:  # one report of each town answers the cycle (towns in every status)
        first = db.session.scalar(db.select(Report.id).where(Report.org_unit_id == town).order_by(Report.id).limit(1))
        db.session.execute(update(Report).where(Report.id == first).values(cycle_id=cycle.id))
    page = db.session.scalar(db.select(Report.id).where(Report.org_unit_id.in_(towns),
                                                        Report.state == "district_review").order_by(Report.id).limit(1))
    db.session.commit()
    return {"cycle_id": cycle.id, "report_page_id": page, "writer_towns": len(towns)}


def explain_lists(db, loaded: dict) -> dict:
    """The plan of every statement the measured lists run: the report list (first page, a
    cursor page, filtered; the page's ORM objects and the API's rows), the town picker, the
    to-do lists of a district reviewer and a town author, the cycle's matrix."""
    from sqlalchemy import event

    from workflow import cycles, listing, services
    from workflow.models import User
    from workflow.table import TOWN_KINDS

    def lists(user) -> None:
        first = listing.list_reports(user)
        listing.list_reports(user, cursor=first.next_cursor)
        listing.list_reports(user, state="district_review", year=2024)
        listing.list_reports(user, summary=True)
        listing.find_units(user, q="镇1", kinds=("town",))
        listing.sees_many_towns(user, TOWN_KINDS)
        services.inbox(user)

    plans: dict = {}
    for username, run in (("province_admin", lists), ("district_reviewer", lists),
                          ("author_0", lambda user: services.inbox(user)),
                          ("district_reviewer (cycle matrix)", lambda user: cycles.matrix(user, loaded["cycle_id"]))):
        user = db.session.scalar(db.select(User).where(User.username == username.split(" ")[0]))
        _ = [p.org_unit.path for p in user.positions]
        captured: list = []

        def capture(conn, cursor, statement, parameters, context, executemany, captured=captured):
            captured.append((statement, parameters))

        event.listen(db.engine, "before_cursor_execute", capture)
        try:
            run(user)
        finally:
            event.remove(db.engine, "before_cursor_execute", capture)
        plans[username] = [_plan(db, statement, parameters) for statement, parameters in captured
                           if statement.lstrip().upper().startswith("SELECT")]
        db.session.rollback()
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


def measure(code_dir: Path, db_url: str, instance: Path, clients: int, seconds: int, seeded: dict) -> dict:
    """Every row against one server, the floor first and last (the machine's load drifts:
    each row is also given as a share of the floor's mean, the figure to compare)."""
    server, base = start_server(code_dir, db_url, instance)
    try:
        admin = "Cookie: " + session_cookie(base, "province_admin")
        reviewer = "Cookie: " + session_cookie(base, "district_reviewer")
        token = api_token(base, "district_reviewer")
        floor = (base + "/manifest.webmanifest", None)
        targets = {
            "province_admin_list": (base + "/reports", admin),
            "district_reviewer_api_list": (base + "/api/v1/reports", "Authorization: Bearer " + token),
            "district_reviewer_todo": (base + "/", reviewer),
            "district_reviewer_report_page": (base + f"/reports/{seeded['report_page_id']}", reviewer),
            "district_cycle_matrix": (base + f"/cycles/{seeded['cycle_id']}", reviewer),
        }
        for target, header in [*targets.values(), floor]:  # warm every worker's caches
            load(target, header, 8, 2)
        time.sleep(2)  # the slow pages' last warm-up requests drain
        first_floor = load(*floor, clients, seconds)
        rows = {name: load(target, header, clients, seconds) for name, (target, header) in targets.items()}
        rows["mixed_writes"] = mixed_writes(base, db_url, seconds)
        last_floor = load(*floor, clients, seconds)
        rows["no_database_floor"] = first_floor
        rows["no_database_floor_again"] = last_floor
        mean_floor = (first_floor["requests_per_s"] + last_floor["requests_per_s"]) / 2
        rows["over_floor"] = {name: round(row["requests_per_s"] / mean_floor, 3) for name, row in rows.items()
                              if name not in ("no_database_floor", "no_database_floor_again")}
        rows["api_list_over_floor"] = rows["over_floor"]["district_reviewer_api_list"]
        rows["memory_rss_mb"] = rss_mb(server.pid)
        return rows
    finally:
        server.terminate()
        server.wait(timeout=30)


def rss_mb(pid: int) -> dict:
    """Resident memory of the gunicorn master and of each worker, in MB (Linux /proc)."""
    def rss(p: int) -> float:
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
        return 0.0

    try:
        children = [int(c) for t in Path(f"/proc/{pid}/task").iterdir()
                    for c in (t / "children").read_text().split()]
        return {"master": rss(pid), "workers": sorted(rss(c) for c in children)}
    except OSError:
        return {}


# ---------------------------------------------------------------- the mixed writes

WRITE_TEXT = "一、总体情况\n今年全镇完成各项工作任务，第{n}次修改。\n二、主要措施\n（一）加强组织领导。"


def mixed_writes(base: str, db_url: str, seconds: int) -> dict:
    """Many users writing at once through the API, each on its own reports: in the reviewer's
    district, each town's author saves its drafts (``PUT``, with the version it last saw) and
    each town's reviewer comments on the reports in town review and approves one in three
    (until none is left). One thread per user (30), for ``seconds``; requests/s and
    percentiles over every write, the answers that were not 2xx, and each kind's count. The
    latency includes this Python client's own time (it shares the machine's two cores)."""
    import http.client
    import threading

    from sqlalchemy import create_engine
    from sqlalchemy import text as sql

    engine = create_engine(db_url)
    with engine.connect() as connection:  # the current state (another run may have written)
        rows = connection.execute(sql(
            "SELECT u.username, r.id, r.version, r.state FROM position p JOIN \"user\" u ON u.id = p.user_id "
            "JOIN report r ON r.org_unit_id = p.org_unit_id WHERE (u.username LIKE 'author\\_%' ESCAPE '\\' "
            "AND r.state = 'draft') OR (u.username LIKE 'town\\_reviewer\\_%' ESCAPE '\\' AND r.state = 'town_review') "
            "ORDER BY r.id")).all()
    engine.dispose()
    work: dict[str, dict[int, int]] = {}
    for username, rid, version, _state in rows:
        work.setdefault(username, {})[rid] = version
    host, port = base.removeprefix("http://").split(":")
    latencies: list[float] = []
    counts: dict[str, int] = {}
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def call(method: str, path: str, token: str, body: dict) -> tuple[int, dict]:
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        try:
            connection.request(method, path, json.dumps(body).encode(),
                               {"Authorization": "Bearer " + token, "Content-Type": "application/json"})
            answer = connection.getresponse()
            data = answer.read()
            return answer.status, (json.loads(data) if data[:1] == b"{" else {})
        finally:
            connection.close()

    def user(username: str, reports: dict[int, int]) -> None:
        role, _, n = username.rpartition("_")
        token = f"bench-token-{role}-{n}"
        step = 0
        while time.monotonic() < stop and reports:
            rid = list(reports)[step % len(reports)]
            if role == "author":
                kind, method, path = "save", "PUT", f"/api/v1/reports/{rid}"
                body: dict = {"version": reports[rid], "text": WRITE_TEXT.format(n=step)}
            elif step % 3 == 2:
                kind, method, path = "approve", "POST", f"/api/v1/reports/{rid}/actions"
                body = {"action": "approve", "version": reports[rid]}
            else:
                kind, method, path = "comment", "POST", f"/api/v1/reports/{rid}/comments"
                body = {"body": f"请补充第{step}项数据的来源。"}
            start = time.perf_counter()
            status, answer = call(method, path, token, body)
            elapsed = (time.perf_counter() - start) * 1000
            if kind == "save" and status == 200:
                reports[rid] = answer["version"]
            elif kind == "approve" and status == 200:
                del reports[rid]  # in district review now: not this reviewer's any more
            with lock:
                latencies.append(elapsed)
                key = f"{kind}_{status}"
                counts[key] = counts.get(key, 0) + 1
            step += 1

    threads = [threading.Thread(target=user, args=(name, reports)) for name, reports in sorted(work.items())]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    duration = time.perf_counter() - started
    latencies.sort()

    def pct(q: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(q * len(latencies)))], 1) if latencies else 0.0

    return {"requests": len(latencies), "requests_per_s": round(len(latencies) / duration, 1), "p50_ms": pct(0.5),
            "p95_ms": pct(0.95), "p99_ms": pct(0.99), "max_ms": round(latencies[-1], 1) if latencies else 0.0,
            "non_2xx": sum(n for key, n in counts.items() if not key.endswith(("_200", "_201"))),
            "users": len(threads), "by_kind_and_status": dict(sorted(counts.items()))}


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
    figures["this_code"] = measure(ROOT, db_url, tmp, clients, seconds, seeded)
    baseline = os.environ.get("BENCH_BASELINE_DIR")
    if baseline:
        figures["baseline"] = {"code": baseline, **measure(Path(baseline), db_url, tmp, clients, seconds, seeded)}
    figures["explain"] = seeded["explain"]
    return figures


if __name__ == "__main__":
    print(json.dumps(main(), ensure_ascii=False, indent=2))
