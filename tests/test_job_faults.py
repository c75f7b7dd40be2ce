"""Kill -9 of the worker, of its work horse and of Redis in the middle of a publication:
each ends with exactly one signed PDF for the approved version within a liveness bound,
and the status endpoint never says "running" for an attempt that is dead. Runs on SQLite,
and on PostgreSQL when DATABASE_URL is set."""
from __future__ import annotations

import datetime as dt
import os
import subprocess

import pytest
from redis import Redis
from rq.scheduler import RQScheduler
from sqlalchemy import update

from pdf import archive, jobs, publications
from pdf.publications import StoredError
from pdf.queue import EmbeddedRedis, get_queue, get_redis, release_dead_scheduler_locks
from run import descendants
from tests.fault_support import KILL_TARGETS, Stack, kill_mid_publication, publications_of_version
from tests.helpers import PASSWORD
from tests.jobs_support import jobs_app, redis_url, run_worker, serving_tsa, wait_for  # noqa: F401
from tests.test_jobs import archived_files, login, publication, publish_report
from workflow.db import db
from workflow.models import Publication, PublicationStage, utcnow

pytestmark = pytest.mark.jobs

BOUND = 60.0  # seconds: liveness, not speed


def scheduler_pid(app) -> int | None:
    """The pid of the scheduler holding the publication queue's scheduler lock."""
    connection = get_redis(app)
    holder = connection.get(RQScheduler.get_locking_key(get_queue(app, connection).name))
    if holder is None:
        return None
    try:
        return RQScheduler.fetch(holder.decode(), connection).pid
    except Exception:  # its hash is not written yet
        return None


@pytest.mark.parametrize("target", KILL_TARGETS)
def test_a_kill_mid_publication_ends_with_one_pdf_and_a_truthful_status(app, world, tmp_path_factory, target):
    report_id, pub_id = publish_report(app)
    reviewer = app.test_client()
    login(reviewer, "district_reviewer")
    with serving_tsa(app):
        # A short directory: unix socket paths are limited to about 100 bytes.
        stack = Stack(app, tmp_path_factory.mktemp("r")).start()
        try:
            recovery = kill_mid_publication(
                app, stack, pub_id, target, lambda: reviewer.get(f"/reports/{report_id}/pdf/status").get_json(),
                bound=BOUND)
            if target == "worker":  # the restarted worker's scheduler holds the role, not the dead one's lock
                wait_for(lambda: scheduler_pid(app) in descendants(stack.worker.process.pid), timeout=30)
        finally:
            stack.stop()
    print(f"recovery after kill -9 of the {target}: {recovery.seconds} s")

    pub = publication(app, pub_id)
    assert pub.status == "ready" and pub.archive_no
    assert archived_files(app) == [archive.path_for(app.config["ARCHIVE_DIR"], pub.file_sha256)]
    assert publications_of_version(app, pub_id) == 1
    answers = [s for _, s in recovery.statuses]
    assert all(a.get("status") in ("queued", "running", "ready") for a in answers), answers
    assert not recovery.false_running(), recovery.false_running()
    if target != "redis":  # the killed attempt was dead: recognised as such and run again
        # (Whether a poll lands in the moment between "stale" and the sweeper's hand-over, and
        # so sees "queued", is timing: that moment can be shorter than one poll. What must hold
        # is checked above: no answer says "running" for the dead attempt after its window.)
        assert pub.attempts >= 2
    if target == "horse":  # its worker lives: the retry is scheduled at once, and the page says when
        assert any(a.get("retry_at") for a in answers), answers


def test_the_embedded_redis_keeps_its_data_across_a_kill(tmp_path_factory):
    """The append-only file: what was written a second before a SIGKILL is there after the restart."""
    server = EmbeddedRedis(tmp_path_factory.mktemp("r"), persist=True).start()
    try:
        Redis.from_url(server.url).set("chengbao:probe", "kept")
        wait_for(lambda: b"chengbao:probe" in (server.directory / "queue.aof").read_bytes(), timeout=10)
        server.process.kill()
        server.process.wait(10)
        server.start()
        assert Redis.from_url(server.url).get("chengbao:probe") == b"kept"
        assert oct(server.directory.stat().st_mode & 0o777) == "0o700"
        assert oct((server.directory / "queue.aof").stat().st_mode & 0o777) == "0o600"
    finally:
        server.stop()


def test_a_retry_overdue_in_the_scheduled_registry_is_enqueued_by_the_sweeper(jobs_app, world):
    """No scheduler runs (its worker was killed, another holds its lock): the sweeper does its work."""
    app = jobs_app
    report_id, pub_id = publish_report(app)
    get_redis(app).flushdb()
    queue = get_queue(app)
    job_id = jobs.job_id_for(report_id, 1)
    queue.enqueue_at(dt.datetime.now(dt.UTC) - dt.timedelta(seconds=30), jobs.publish, pub_id, job_id=job_id)
    soon = queue.enqueue_at(dt.datetime.now(dt.UTC) + dt.timedelta(hours=1), jobs.publish, pub_id + 1000)
    assert job_id in queue.scheduled_job_registry and queue.count == 0
    with app.app_context():
        result = jobs.sweep()
    assert result.overdue == [job_id] and result.requeued == []
    assert queue.job_ids == [job_id] and soon.id in queue.scheduled_job_registry
    with app.app_context():
        assert jobs.sweep().overdue == []  # once
    soon.delete()
    run_worker(app)
    assert publication(app, pub_id).status == "ready" and len(archived_files(app)) == 1


def test_a_dead_schedulers_lock_is_released_and_a_live_ones_kept(jobs_app):
    connection = get_redis(jobs_app)
    queue = get_queue(jobs_app, connection)
    gone = subprocess.Popen(["true"])
    gone.wait()
    for pid, expected in ((gone.pid, [queue.name]), (os.getpid(), [])):
        scheduler = RQScheduler([queue], connection=connection)
        assert scheduler.acquire_locks() == {queue.name}
        scheduler.register_birth()
        connection.hset(scheduler.key, "pid", str(pid))  # as if a process of this host held it
        assert release_dead_scheduler_locks([queue]) == expected
        assert (connection.get(RQScheduler.get_locking_key(queue.name)) is None) == bool(expected)
        scheduler.release_locks()
    # Silent for longer than a scheduler ever is (another host's, say): dead too.
    scheduler = RQScheduler([queue], connection=connection)
    scheduler.acquire_locks()
    scheduler.register_birth()
    connection.hset(scheduler.key, mapping={"hostname": "elsewhere", "last_heartbeat": "2020-01-01T00:00:00.000000Z"})
    assert release_dead_scheduler_locks([queue]) == [queue.name]


def test_the_status_says_running_only_while_the_attempt_beats(jobs_app, world):
    app = jobs_app
    report_id, pub_id = publish_report(app)
    client = app.test_client()
    login(client, "qs_author")
    with app.app_context():
        publications.mark_running(pub_id)
        publications.set_stage(pub_id, PublicationStage.RENDERING)
    alive = client.get(f"/reports/{report_id}/pdf/status").get_json()
    assert (alive["status"], alive["progress"], alive["stage"]) == ("running", 10, "rendering")
    assert alive["heartbeat_at"].endswith("Z") and alive["retry_at"] is None
    token = app.test_client().post("/api/v1/tokens", json={"username": "qs_author", "password": PASSWORD}).get_json()
    api = app.test_client().get(f"/api/v1/reports/{report_id}",
                                headers={"Authorization": f"Bearer {token['token']}"}).get_json()["pdf"]
    assert api["status"] == "running" and api["heartbeat_at"] == alive["heartbeat_at"]

    with app.app_context():  # the process died 20 s ago: no beat since
        db.session.execute(update(Publication).where(Publication.id == pub_id)
                           .values(updated_at=utcnow() - dt.timedelta(seconds=20)))
        db.session.commit()
    dead = client.get(f"/reports/{report_id}/pdf/status").get_json()
    assert (dead["status"], dead["progress"], dead["stage"]) == ("queued", 0, "stalled")
    page = client.get(f"/reports/{report_id}").get_data(as_text=True)
    assert 'data-status="queued"' in page and "上次生成已中断" in page and "10%" not in page

    with app.app_context():  # a beat: alive again
        publications.beat(pub_id)
    assert client.get(f"/reports/{report_id}/pdf/status").get_json()["status"] == "running"

    # The attempt failed and RQ scheduled the retry: the page says when.
    get_redis(app).flushdb()
    at = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(minutes=2)
    get_queue(app).enqueue_at(at, jobs.publish, pub_id, job_id=jobs.job_id_for(report_id, 1))
    # The work horse was killed under a live worker: the row still beats-fresh "running", but the
    # queue already holds the retry, so that attempt is over.
    horse_killed = client.get(f"/reports/{report_id}/pdf/status").get_json()
    assert (horse_killed["status"], horse_killed["stage"]) == ("queued", "stalled") and horse_killed["retry_at"]
    with app.app_context():
        publications.record_failure(pub_id, StoredError("AbandonedJobError", "job.worker_died"), retrying=True)
    waiting = client.get(f"/reports/{report_id}/pdf/status").get_json()
    assert (waiting["status"], waiting["stage"], waiting["retry_at"]) == (
        "queued", "retrying", at.replace(tzinfo=None).isoformat() + "Z")
    page = client.get(f"/reports/{report_id}").get_data(as_text=True)
    assert "将于" in page and "自动重试" in page
    with client.session_transaction() as session:
        session["locale"] = "en"
    page = client.get(f"/reports/{report_id}").get_data(as_text=True)
    assert "it will be retried automatically at" in page
