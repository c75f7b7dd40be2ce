"""Outbox delivery figures, printed as JSON (``make bench``): one real ``flask worker``
(idle and registered before timing) delivers one cycle event to 1,000 towns:

- to 1,000 JSON webhooks (one per town) on a local HTTP receiver: webhook deliveries/s;
- as in-app notifications to 1,000 town authors: in-app deliveries/s.

Timed from the commit of the event (whose after-commit hook queues the dispatch job) to the
last delivery marked sent. SQLite and the embedded Redis in a temporary directory.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOWNS = 1000


class _Receiver(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    count = 0
    lock = threading.Lock()

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with _Receiver.lock:
            _Receiver.count += 1
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


def main() -> dict:
    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    tmp = Path(tempfile.mkdtemp(prefix="cbout-"))
    from pdf.queue import EmbeddedRedis

    redis_server = EmbeddedRedis(tmp / "redis", persist=False).start()
    env = dict(os.environ, CHENGBAO_INSTANCE=str(tmp), DATABASE_URL=f"sqlite:///{tmp / 'bench.sqlite3'}",
               REDIS_URL=redis_server.url, SECRET_KEY="bench", PYTHONUNBUFFERED="1",
               NOTIFY_ALLOW_INTERNAL_URLS="1")  # the receiver listens on loopback
    saved = dict(os.environ)
    os.environ.update(env)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    result: dict = {"towns": TOWNS, "workers": 1}
    try:
        from sqlalchemy import func, insert, select

        from app import create_app
        from bench.bench_pdf import Workers
        from pdf.queue import get_redis
        from workflow import events
        from workflow.db import db
        from workflow.models import OrgUnit, Position, User
        from workflow.notifications import Channel
        from workflow.outbox import Delivery

        app = create_app()
        with app.app_context():
            db.create_all()
            district = OrgUnit(name="示范区", kind="district", path="")
            db.session.add(district)
            db.session.flush()
            district.path = f"/{district.id}/"
            first = district.id + 1
            db.session.execute(insert(OrgUnit), [
                {"id": first + i, "parent_id": district.id, "name": f"镇{i}", "kind": "town",
                 "path": f"/{district.id}/{first + i}/"} for i in range(TOWNS)])
            db.session.commit()
            town_ids = [first + i for i in range(TOWNS)]
            url = f"http://127.0.0.1:{server.server_address[1]}/hook"
            db.session.execute(insert(Channel), [{"org_unit_id": t, "kind": "webhook", "url": url} for t in town_ids])
            db.session.commit()

            connection = get_redis(app)
            workers = Workers(1, env)
            try:
                workers.wait_registered(connection)

                def run(kind: str) -> dict:
                    sent_query = select(func.count(Delivery.id)).where(Delivery.status == "sent")
                    done_before = db.session.scalar(sent_query) or 0
                    start = time.perf_counter()
                    events.emit(events.CYCLE_OPENED, cycle_id=1, org_unit_id=district.id, org_unit_ids=town_ids,
                                title="2027年度工作计划", due_date="2027-01-15")
                    db.session.commit()
                    expected = TOWNS
                    deadline = time.monotonic() + 600
                    while time.monotonic() < deadline:
                        sent = db.session.scalar(sent_query) or 0
                        db.session.commit()
                        if sent - done_before >= expected:
                            break
                        time.sleep(0.02)
                    else:
                        raise TimeoutError(f"{kind}: deliveries did not finish")
                    seconds = time.perf_counter() - start
                    failed = db.session.scalar(select(func.count(Delivery.id)).where(Delivery.status != "sent"))
                    return {"deliveries": expected, "seconds": round(seconds, 2),
                            "deliveries_per_s": round(expected / seconds, 1), "not_sent": failed}

                result["webhook"] = run("webhook")
                result["webhook"]["received"] = _Receiver.count
                # In-app: channels off, one author per town.
                db.session.execute(Channel.__table__.update().values(deleted_at=func.now()))
                db.session.execute(insert(User), [{"id": 1000 + i, "username": f"author{i}",
                                                   "display_name": f"填报人{i}", "password_hash": "x"}
                                                  for i in range(TOWNS)])
                db.session.execute(insert(Position), [{"user_id": 1000 + i, "org_unit_id": t, "role": "author"}
                                                      for i, t in enumerate(town_ids)])
                db.session.commit()
                result["inapp"] = run("inapp")
            finally:
                workers.stop()
            db.session.remove()
            db.engine.dispose()
    finally:
        server.shutdown()
        redis_server.stop()
        os.environ.clear()
        os.environ.update(saved)
        shutil.rmtree(tmp, ignore_errors=True)
    return result


if __name__ == "__main__":
    print(json.dumps(main(), ensure_ascii=False, indent=2))
