"""Publishing in the background: an approval becomes one signed, archived PDF, made by a
real RQ worker on a real Redis, whatever double clicks, retries and killed workers happen."""
from __future__ import annotations

import datetime as dt
import hashlib
import re
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from rq.job import JobStatus
from rq.registry import FailedJobRegistry
from sqlalchemy import select, update

from notify.dispatch import events_queue
from pdf import archive, jobs
from pdf.cli import ensure_dev_keys
from pdf.queue import get_queue, get_redis
from run import descendants
from tests.conftest import csrf_from
from tests.helpers import PASSWORD, advance, gen_report
from tests.jobs_support import (  # noqa: F401
    jobs_app,
    kill_group,
    redis_url,
    run_worker,
    serving_tsa,
    wait_for,
    worker_process,
)
from workflow.db import db
from workflow.models import ArchiveCounter, OrgUnit, Publication, Report

pytestmark = pytest.mark.jobs

ARCHIVE_NO = re.compile(r"^示范区〔(\d{4})〕(\d+)号$")


def publish_report(app, *, keys: bool = True, title: str = "青山镇2027年度工作计划") -> tuple[int, int]:
    """A report of 青山镇 walked through to published; returns (report id, publication id)."""
    with app.app_context():
        if keys:
            ensure_dev_keys(app)
        report = gen_report("qs", title=title)
        advance(report.id, "published")
        pub = db.session.scalar(select(Publication).where(Publication.report_id == report.id))
        return report.id, pub.id


def publication(app, pub_id: int) -> Publication:
    with app.app_context():
        pub = db.session.get(Publication, pub_id)
        db.session.expunge(pub)
        return pub


def archived_files(app) -> list[Path]:
    """The archived files but the publications' recorded approval forms (``pdf.approval_form``):
    the reports' signed PDFs, and any file no publication names."""
    with app.app_context():
        forms = set(db.session.scalars(select(Publication.approval_sha256)
                                       .where(Publication.approval_sha256.is_not(None))))
    return sorted(p for p in Path(app.config["ARCHIVE_DIR"]).glob("??/*.pdf") if p.stem not in forms)


def login(client, username: str) -> None:
    page = client.get("/login")
    response = client.post("/login", data={"username": username, "password": PASSWORD,
                                           "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert response.headers.get("Location") and "/login" not in response.headers["Location"], \
        response.get_data(as_text=True)[:500]


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def job_of(app, report_id: int, version: int):
    return get_queue(app).fetch_job(jobs.job_id_for(report_id, version))


# ---------------------------------------------------------------- the happy path


def test_an_approval_becomes_a_signed_archived_pdf(jobs_app, world):
    app = jobs_app
    report_id, pub_id = publish_report(app)
    assert publication(app, pub_id).status == "queued"
    # The approval queued the delivery of its events; the worker hands the publication to the
    # signed-PDF job (the publication subscriber), so that job is not queued yet.
    assert events_queue(app).count == 1 and get_queue(app).count == 0

    client = app.test_client()
    login(client, "district_reviewer")
    before = client.get(f"/reports/{report_id}/pdf/status").get_json()
    assert before == {"status": "queued", "progress": 0, "stage": None, "url": None, "archive_no": None,
                      "doc_number": None, "error": None, "heartbeat_at": None, "retry_at": None}

    assert run_worker(app)

    pub = publication(app, pub_id)
    assert (pub.status, pub.progress, pub.stage, pub.attempts, pub.error) == ("ready", 100, "done", 1, None)
    year = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).year
    assert pub.archive_no == f"示范区〔{year}〕1号"
    assert (pub.archive_year, pub.archive_seq) == (year, 1)
    assert pub.signer == "示范区人民政府"  # the district's certificate: its issuing name
    path = archive.path_for(app.config["ARCHIVE_DIR"], pub.file_sha256)
    data = path.read_bytes()
    assert hashlib.sha256(data).hexdigest() == pub.file_sha256 and len(data) == pub.file_size
    assert archived_files(app) == [path]
    assert len(list(Path(app.config["ARCHIVE_DIR"]).glob("??/*.pdf"))) == 2 and pub.approval_sha256  # its 审批单
    assert not list((Path(app.config["ARCHIVE_DIR"]) / ".pending").glob("*"))

    status = client.get(f"/reports/{report_id}/pdf/status").get_json()
    assert status["status"] == "ready" and status["progress"] == 100
    assert status["url"] == f"/reports/{report_id}/pdf" and status["archive_no"] == pub.archive_no
    assert pub.doc_number and status["doc_number"] == pub.doc_number
    download = client.get(f"/reports/{report_id}/pdf?download=1")
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert download.data == data
    disposition = download.headers["Content-Disposition"]
    assert "attachment" in disposition and "%E7%A4%BA%E8%8C%83%E5%8C%BA" in disposition  # 示范区 in filename*

    if shutil.which("pdfsig") is None:
        pytest.skip("poppler's pdfsig is not installed: signature not checked by a second implementation")
    out = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True).stdout
    assert "Signature is Valid" in out, out


def test_the_pdf_and_its_status_answer_404_outside_the_scope(jobs_app, world):
    app = jobs_app
    report_id, _ = publish_report(app)
    run_worker(app)
    for username in ("other_reviewer", "lh_author", "xk_author"):
        client = app.test_client()
        login(client, username)
        assert client.get(f"/reports/{report_id}/pdf").status_code == 404, username
        assert client.get(f"/reports/{report_id}/pdf/status").status_code == 404, username
    anonymous = app.test_client()
    assert anonymous.get(f"/reports/{report_id}/pdf/status").status_code == 401
    assert anonymous.get(f"/reports/{report_id}/pdf").headers["Location"].startswith("/login")


def test_the_report_page_shows_progress_then_the_download_link(jobs_app, world):
    app = jobs_app
    report_id, pub_id = publish_report(app)
    client = app.test_client()
    login(client, "qs_author")
    page = client.get(f"/reports/{report_id}").get_data(as_text=True)
    assert 'id="pdf-box"' in page and f"/reports/{report_id}/pdf/status" in page and "<progress" in page
    assert "pdf-progress.js" in page
    run_worker(app)
    page = client.get(f"/reports/{report_id}").get_data(as_text=True)
    assert 'data-status="ready"' in page and f'href="/reports/{report_id}/pdf"' in page
    pub = publication(app, pub_id)
    # The town's 发文字号 beside the district's archive number, each with its label.
    assert pub.doc_number and pub.archive_no
    box = page[page.index('id="pdf-box"'):]
    assert f"发文字号 {pub.doc_number}</span>" in box and f"档案编号 {pub.archive_no}</span>" in box
    with client.session_transaction() as session:
        session["locale"] = "en"
    box = client.get(f"/reports/{report_id}").get_data(as_text=True)
    box = box[box.index('id="pdf-box"'):]
    assert f"Archive number {pub.archive_no}</span>" in box and f"Document number {pub.doc_number}</span>" in box


# ---------------------------------------------------------------- one job, one file, one number


def test_double_enqueue_and_reruns_make_one_job_one_file_one_number(jobs_app, world):
    app = jobs_app
    report_id, pub_id = publish_report(app)
    with app.app_context():
        job_ids = {jobs.enqueue_publication(pub_id) for _ in range(3)}
    assert job_ids == {jobs.job_id_for(report_id, 1)}
    assert get_queue(app).count == 1

    run_worker(app)
    first = publication(app, pub_id)
    assert first.status == "ready"
    with app.app_context():
        assert jobs.enqueue_publication(pub_id) is None  # ready: nothing to do
        assert jobs.publish(pub_id)["sha256"] == first.file_sha256  # a stray rerun changes nothing
    again = publication(app, pub_id)
    assert (again.file_sha256, again.archive_no, again.attempts) == (first.file_sha256, first.archive_no, 1)
    assert len(archived_files(app)) == 1
    with app.app_context():
        assert db.session.scalar(select(ArchiveCounter.last_seq)) == 1


def test_concurrent_enqueues_make_one_job(jobs_app, world):
    app = jobs_app
    _, pub_id = publish_report(app)
    get_redis(app).flushdb()  # forget the approval's job: race eight fresh enqueues
    barrier = threading.Barrier(8)

    def enqueue():
        with app.app_context():
            barrier.wait()
            jobs.enqueue_publication(pub_id)

    threads = [threading.Thread(target=enqueue) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert get_queue(app).count == 1


def test_archive_numbers_have_no_gap_and_no_duplicate_under_concurrency(app, world):
    """Twenty publications over two years, each numbered from two threads at once."""
    with app.app_context():
        pub_ids = []
        for i in range(20):
            pub_ids.append(publish_report(app, keys=False, title=f"报告{i}")[1])
        # Half approved at 2025-12-31 20:00 UTC: already 2026 in Beijing.
        db.session.execute(update(Publication).where(Publication.id.in_(pub_ids[::2]))
                           .values(created_at=dt.datetime(2025, 12, 31, 20, 0)))
        db.session.execute(update(Publication).where(Publication.id.in_(pub_ids[1::2]))
                           .values(created_at=dt.datetime(2027, 3, 1, 8, 0)))
        db.session.commit()
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(pub_ids) * 2)

    def allocate(pid: int):
        try:
            with app.app_context():
                barrier.wait()
                archive.allocate_archive_no(pid)
        except BaseException as exc:  # collected: a thread's exception would vanish
            errors.append(exc)

    threads = [threading.Thread(target=allocate, args=(pid,)) for pid in pub_ids for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    with app.app_context():
        rows = db.session.execute(select(Publication.archive_year, Publication.archive_seq, Publication.archive_no)
                                  .where(Publication.id.in_(pub_ids))).all()
        counters = dict(db.session.execute(select(ArchiveCounter.year, ArchiveCounter.last_seq)).all())
    by_year: dict[int, list[int]] = {}
    for year, seq, number in rows:
        assert number == f"示范区〔{year}〕{seq}号"
        by_year.setdefault(year, []).append(seq)
    assert {y: sorted(s) for y, s in by_year.items()} == {2026: list(range(1, 11)), 2027: list(range(1, 11))}
    assert counters == {2026: 10, 2027: 10}


# ---------------------------------------------------------------- killed workers


@pytest.mark.parametrize("recovery", ["sweeper", "rq_abandoned_job_retry"])
def test_a_worker_killed_mid_job_ends_with_exactly_one_archived_pdf(jobs_app, world, recovery):
    app = jobs_app
    report_id, pub_id = publish_report(app)
    # The approval's events are delivered here first, so that the publication subscriber queues
    # the PDF job with this test's retry settings (the worker below has the defaults).
    run_worker(app, max_jobs=1)
    assert get_queue(app).count == 1
    proc = worker_process(app, CHENGBAO_TEST_RENDER_DELAY="60")
    try:
        wait_for(lambda: publication(app, pub_id).stage == "rendering", timeout=60)
        below = descendants(proc.pid)  # the work horse (in a session of its own) and the scheduler
        assert below
    finally:
        kill_group(proc)
    # SIGKILL is delivered asynchronously: give the kernel a moment to end them.
    try:
        wait_for(lambda: not [pid for pid in below if _alive(pid)], timeout=10, interval=0.05)
    except AssertionError:
        raise AssertionError(f"a work horse survived the kill: {[p for p in below if _alive(p)]}") from None
    killed = publication(app, pub_id)
    assert (killed.status, killed.stage, killed.attempts) == ("running", "rendering", 1)
    assert killed.archive_no  # allocated before rendering: printed on the PDF and signed
    assert job_of(app, report_id, 1).get_status() == JobStatus.STARTED

    if recovery == "sweeper":
        with app.app_context():
            assert jobs.sweep().requeued == []  # a fresh row: the worker may still be alive
            # Time passes beyond the job timeout: the row's silence means its worker died.
            db.session.execute(update(Publication).where(Publication.id == pub_id)
                               .values(updated_at=dt.datetime(2000, 1, 1)))
            db.session.commit()
            assert jobs.sweep().requeued == [pub_id]
    else:
        # RQ's own cleanup, once the dead execution's heartbeat has expired: it calls the
        # failure callback (AbandonedJobError) and retries the job since retries remain.
        with app.app_context():
            get_queue(app).started_job_registry.cleanup(timestamp=dt.datetime.now().timestamp() + 3600)
        requeued = publication(app, pub_id)
        assert requeued.status == "queued" and "AbandonedJobError" in requeued.error

    run_worker(app)
    pub = publication(app, pub_id)
    assert (pub.status, pub.archive_no, pub.attempts) == ("ready", killed.archive_no, 2)
    assert archived_files(app) == [archive.path_for(app.config["ARCHIVE_DIR"], pub.file_sha256)]
    assert get_queue(app).count == 0


def test_a_file_left_by_a_run_killed_while_archiving_is_removed(jobs_app, world):
    """A run that died between writing its file and recording it left a marker: the next
    run removes that orphan, so the row references the only archived file."""
    app = jobs_app
    _, pub_id = publish_report(app)
    orphan = b"%PDF-1.7 a signed file whose run died before it was recorded"
    sha, orphan_path = archive.store(app.config["ARCHIVE_DIR"], orphan)
    pending = Path(app.config["ARCHIVE_DIR"]) / ".pending"
    pending.mkdir(parents=True)
    (pending / f"{pub_id}-{sha}").touch()
    run_worker(app)
    pub = publication(app, pub_id)
    assert pub.status == "ready" and pub.file_sha256 != sha
    assert not orphan_path.exists()
    assert archived_files(app) == [archive.path_for(app.config["ARCHIVE_DIR"], pub.file_sha256)]
    assert not any(pending.iterdir())


# ---------------------------------------------------------------- failures


def test_a_missing_signing_key_fails_loudly_and_an_admin_retries_it(jobs_app, world):
    app = jobs_app
    report_id, pub_id = publish_report(app)
    with app.app_context():
        district_id = db.session.scalar(select(OrgUnit.id).where(OrgUnit.name == "示范区"))
    key = jobs.signing_key_path(app.config, district_id)
    key.unlink()

    run_worker(app)
    pub = publication(app, pub_id)
    # One attempt: retrying cannot bring a key, so the district learns at once, not minutes later.
    assert pub.status == "failed" and pub.stage == "failed" and pub.attempts == 1
    assert "SigningKeyMissing" in pub.error and f"district-{district_id}.p12" in pub.error
    assert pub.archive_no is None and not archived_files(app)  # no number spent on it
    job = job_of(app, report_id, 1)
    assert job.get_status() == JobStatus.FAILED
    assert job.id in FailedJobRegistry(queue=get_queue(app))

    reviewer = app.test_client()
    login(reviewer, "district_reviewer")
    status = reviewer.get(f"/reports/{report_id}/pdf/status").get_json()
    # The reviewer is told why; the details (which file to install where) are the admin's.
    assert status["status"] == "failed" and status["error"] == "区里的签名密钥尚未安装，需由区管理员安装后重试。"
    page = reviewer.get(f"/reports/{report_id}").get_data(as_text=True)
    assert f"/reports/{report_id}/pdf/retry" not in page  # the retry button is the admin's
    token = csrf_from(page)
    assert reviewer.post(f"/reports/{report_id}/pdf/retry", data={"csrf_token": token}).status_code == 403

    admin = app.test_client()
    login(admin, "admin")
    assert admin.post(f"/reports/{report_id}/pdf/retry").status_code == 400  # no CSRF token
    assert publication(app, pub_id).status == "failed"

    assert app.test_cli_runner().invoke(args=["dev-keys"]).exit_code == 0
    assert key.is_file()
    page = admin.get(f"/reports/{report_id}").get_data(as_text=True)
    assert f"district-{district_id}.p12" in page  # the admin sees which file was missing
    assert f'action="/reports/{report_id}/pdf/retry"' in page
    response = admin.post(f"/reports/{report_id}/pdf/retry", data={"csrf_token": csrf_from(page)})
    assert response.status_code == 303 and response.headers["Location"] == f"/reports/{report_id}"
    assert publication(app, pub_id).status == "queued"
    again = admin.post(f"/reports/{report_id}/pdf/retry", data={"csrf_token": csrf_from(page)})
    assert again.status_code == 303 and get_queue(app).count == 1  # a second click: no second job

    run_worker(app)
    pub = publication(app, pub_id)
    assert pub.status == "ready" and pub.error is None and pub.attempts == 2  # the failed one, the admin's
    assert pub.archive_no and len(archived_files(app)) == 1


def test_content_changed_after_approval_is_refused(jobs_app, world):
    """The approval is bound to a content hash: different content is never printed."""
    app = jobs_app
    _, pub_id = publish_report(app)
    with app.app_context():
        pub = db.session.get(Publication, pub_id)
        version = pub.report_version
        version.outline = {**version.outline, "preamble": ["被篡改的内容。"]}
        db.session.commit()
    run_worker(app)
    pub = publication(app, pub_id)
    assert pub.status == "failed" and "ContentMismatch" in pub.error and not archived_files(app)
    assert pub.attempts == 1  # permanent: no retries


def test_without_redis_the_approval_stands_and_the_sweeper_hands_it_over(app, world, redis_url, monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    app.config["REDIS_URL"] = None
    report_id, pub_id = publish_report(app)
    with app.app_context():
        assert db.session.get(Report, report_id).state == "published"
        assert jobs.sweep().unavailable
    assert publication(app, pub_id).status == "queued"

    app.config.update(REDIS_URL=redis_url, PDF_RETRY_INTERVALS=[0, 0, 0])
    get_redis(app).flushdb()
    with app.app_context():
        assert jobs.sweep().requeued == [pub_id]
        assert jobs.sweep().requeued == []  # queued now: not twice
    with serving_tsa(app):
        run_worker(app)
    assert publication(app, pub_id).status == "ready"
    get_redis(app).flushdb()


# ---------------------------------------------------------------- commands and the launcher


def test_dev_keys_is_idempotent_and_sweep_prints_its_result(jobs_app, world):
    app = jobs_app
    runner = app.test_cli_runner()
    first = runner.invoke(args=["dev-keys"])
    assert first.exit_code == 0 and "2 key(s) created" in first.output  # 示范区 and 东湖区
    keys = sorted(p.name for p in Path(app.config["KEYS_DIR"]).glob("district-*.p12"))
    again = runner.invoke(args=["dev-keys"])
    assert again.exit_code == 0 and "0 key(s) created" in again.output
    assert sorted(p.name for p in Path(app.config["KEYS_DIR"]).glob("district-*.p12")) == keys
    _, pub_id = publish_report(app)
    get_redis(app).flushdb()  # the job is lost
    swept = runner.invoke(args=["sweep"])
    assert swept.exit_code == 0 and f'"requeued": [{pub_id}]' in swept.output


def test_make_run_starts_everything_and_ctrl_c_stops_it_all(tmp_path):
    """run.py: embedded Redis, migrated and seeded database, worker and web server; an
    approval there becomes a PDF; SIGINT stops every child and the redis-server."""
    import json
    import os
    import signal
    import socket
    import sys
    import tempfile
    import time
    import urllib.request

    from tests.jobs_support import ROOT

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    instance = tempfile.mkdtemp(prefix="cbrun-")
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL", "ARCHIVE_DIR", "KEYS_DIR")}
    env.update(CHENGBAO_INSTANCE=instance, PORT=str(port), PYTHONUNBUFFERED="1")
    log_path = tmp_path / "run.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "run.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
    base = f"http://127.0.0.1:{port}"

    def call(method, path, body=None, token=None):
        request = urllib.request.Request(base + path, method=method,
                                         data=json.dumps(body).encode() if body is not None else None,
                                         headers={"Content-Type": "application/json",
                                                  **({"Authorization": f"Bearer {token}"} if token else {})})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def up():
        try:
            return urllib.request.urlopen(base + "/verify", timeout=2).status == 200
        except OSError:
            return False

    try:
        wait_for(up, timeout=90, interval=0.5)
        output = log_path.read_text()
        redis_pid = int(re.search(r"embedded Redis started \(pid (\d+)", output).group(1))
        assert Path(f"/proc/{redis_pid}").exists()
        tokens = {u: call("POST", "/api/v1/tokens", {"username": u, "password": "chengbao-demo"})["token"]
                  for u in ("qs_author", "qs_reviewer", "district_reviewer")}
        report = next(r for r in call("GET", "/api/v1/reports?state=draft", token=tokens["qs_author"])["items"]
                      if r["title"].startswith("青山镇") and r["kind"] == "annual_plan")
        for user, action in (("qs_author", "submit"), ("qs_reviewer", "approve"), ("district_reviewer", "approve")):
            version = call("GET", f"/api/v1/reports/{report['id']}", token=tokens[user])["version"]
            call("POST", f"/api/v1/reports/{report['id']}/actions", {"action": action, "version": version},
                 token=tokens[user])
        pdf = wait_for(lambda: (lambda p: p if p["status"] in ("ready", "failed") else None)(
            call("GET", f"/api/v1/reports/{report['id']}", token=tokens["qs_author"])["pdf"]), timeout=60)
        assert pdf["status"] == "ready" and ARCHIVE_NO.match(pdf["archive_no"])
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            assert proc.wait(60) == 0
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
    time.sleep(0.5)
    output = log_path.read_text()
    assert "no redis-server left" in output, output[-3000:]
    for pid in [int(p) for p in re.findall(r"started \(pid (\d+)", output)]:  # Redis, worker, web server
        assert not Path(f"/proc/{pid}").exists() or Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z", pid
    leftovers = subprocess.run(["pgrep", "-f", instance], capture_output=True, text=True).stdout.split()
    assert leftovers == [], f"processes left running: {leftovers}"
    shutil.rmtree(instance, ignore_errors=True)
