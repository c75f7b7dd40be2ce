"""The signed PDF box on a phone (390 px, Chinese) says what the job is really doing: running
with its last heartbeat, stopped and handed over again, waiting to retry at a time."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update

from pdf import jobs, publications
from pdf.publications import StoredError
from pdf.queue import get_queue, get_redis
from tests.browser_support import browser, login, require_chromium, serve, shot  # noqa: F401  (fixture)
from tests.jobs_support import jobs_app, redis_url, run_worker  # noqa: F401  (fixtures)
from tests.test_jobs import publish_report
from workflow.db import db
from workflow.models import Publication, PublicationStage, utcnow

require_chromium()
pytestmark = pytest.mark.browser


@pytest.fixture
def server(jobs_app, world):
    with serve(jobs_app) as base:
        yield base


def test_the_pdf_box_tells_running_stalled_and_retrying_apart_on_a_phone(jobs_app, server, browser):
    app = jobs_app
    report_id, pub_id = publish_report(app)
    get_redis(app).flushdb()  # no worker here: the row is moved by hand, as a job would move it
    with app.app_context():
        publications.mark_running(pub_id)
        publications.set_stage(pub_id, PublicationStage.RENDERING)
    phone = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True)
    login(phone, server, "qs_author")
    phone.goto(f"{server}/reports/{report_id}")
    heartbeat = phone.locator(".pdf-heartbeat")
    assert heartbeat.is_visible() and "最近一次心跳" in heartbeat.inner_text()
    assert phone.locator(".pdf-stage").inner_text() == "正在排版…"
    shot(phone, "pdf-running-phone")

    with app.app_context():  # the worker died: no heartbeat for 20 s
        db.session.execute(update(Publication).where(Publication.id == pub_id)
                           .values(updated_at=utcnow() - dt.timedelta(seconds=20)))
        db.session.commit()
    stalled = phone.locator(".pdf-stalled")
    stalled.wait_for(state="visible", timeout=10_000)  # the page polls every second
    assert "上次生成已中断" in stalled.inner_text() and not heartbeat.is_visible()
    assert phone.locator("progress").get_attribute("value") == "0"
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    shot(phone, "pdf-stalled-phone")

    at = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=2)
    get_queue(app).enqueue_at(at, jobs.publish, pub_id, job_id=jobs.job_id_for(report_id, 1))
    with app.app_context():
        publications.record_failure(pub_id, StoredError("AbandonedJobError", "job.worker_died"), retrying=True)
    retrying = phone.locator(".pdf-retrying")
    retrying.wait_for(state="visible", timeout=10_000)
    phone.wait_for_function("document.querySelector('.pdf-retrying').textContent.includes('将于')", timeout=10_000)
    assert "自动重试" in retrying.inner_text() and not stalled.is_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    shot(phone, "pdf-retrying-phone")


def test_the_ready_box_fills_in_the_doc_number_and_archive_number_it_polled(jobs_app, server, browser):
    """Open while queued; when the job is done, the page's poll fills in the town's 发文字号
    beside the district's archive number, each with its label, within 390 px."""
    app = jobs_app
    report_id, pub_id = publish_report(app)
    phone = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True)
    login(phone, server, "qs_author")
    phone.goto(f"{server}/reports/{report_id}")
    assert not phone.locator(".pdf-ready").is_visible()
    run_worker(app)
    phone.locator(".pdf-ready").wait_for(state="visible", timeout=20_000)
    with app.app_context():
        pub = db.session.get_one(Publication, pub_id)
        doc_number, archive_no = pub.doc_number, pub.archive_no
    assert doc_number and archive_no
    assert phone.locator(".pdf-doc-number").inner_text() == f"发文字号 {doc_number}"
    assert phone.locator(".pdf-archive-no").inner_text() == f"档案编号 {archive_no}"
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    shot(phone, "pdf-ready-phone")
    desk = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    login(desk, server, "qs_author")
    desk.goto(f"{server}/reports/{report_id}")
    assert desk.locator(".pdf-doc-number").inner_text() == f"发文字号 {doc_number}"
    shot(desk, "pdf-ready-desktop")
