"""The approval form (审批单) of a published report, made by the real publishing job on a
real Redis with the development TSA over HTTP: its content (pdftotext), its signature
(pdfsig, pyHanko, the app's verification page and API), its downloads (page and API),
made once whatever the retries; the report's signing time taken from its timestamp
token; and ``flask archive-renew`` audited as a system action."""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
from pathlib import Path

import page as page_validation
import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from sqlalchemy import select, update

from pdf import approval_form, archive, jobs, ltv
from pdf.approval_form import FormInput, FormStep, render_approval_form
from pdf.cli import ensure_dev_keys
from pdf.verify import verify_pdf
from tests.helpers import Api, act, gen_report
from tests.jobs_support import jobs_app, redis_url, run_worker  # noqa: F401
from tests.pdf_helpers import poppler, squash
from tests.test_jobs import login
from workflow.audit import verify_all
from workflow.db import db
from workflow.models import AdminAudit, Publication

pytestmark = pytest.mark.jobs

RETURN_REASON = "第三部分缺少量化指标，请补充<b>2026</b>年度目标值&nbsp;。"
TOWN_OPINION = "同意上报。"
DISTRICT_OPINION = "同意发布，请抓好落实。"


def publish_with_history(app) -> tuple[int, int]:
    """A report of 青山镇 returned once by the town's reviewer, then approved by the town and
    the district with opinions; the worker run. Returns (report id, publication id)."""
    with app.app_context():
        ensure_dev_keys(app)
        report = gen_report("qs", title="青山镇2027年度工作计划")
        act(report.id, "qs_author", "submit")
        act(report.id, "qs_reviewer", "return", RETURN_REASON)
        act(report.id, "qs_author", "submit")
        act(report.id, "qs_reviewer", "approve", TOWN_OPINION)
        act(report.id, "district_reviewer", "approve", DISTRICT_OPINION)
        pub_id = db.session.scalar(select(Publication.id).where(Publication.report_id == report.id))
        rid = report.id
    assert run_worker(app)
    return rid, pub_id


def row(app, pub_id: int) -> Publication:
    with app.app_context():
        pub = db.session.get(Publication, pub_id)
        db.session.expunge(pub)
        return pub


def test_publishing_makes_a_signed_approval_form_with_every_step(jobs_app, world, tmp_path):
    app = jobs_app
    rid, pub_id = publish_with_history(app)
    pub = row(app, pub_id)
    assert pub.status == "ready" and pub.approval_sha256 and pub.approval_sha256 != pub.file_sha256
    path = archive.path_for(app.config["ARCHIVE_DIR"], pub.approval_sha256)
    form = path.read_bytes()
    assert hashlib.sha256(form).hexdigest() == pub.approval_sha256

    text = poppler("pdftotext", "-raw", path, "-")  # in drawing order: cell by cell
    flat = squash(text)
    for expected in ("呈报审批单", "青山镇2027年度工作计划", "青山镇", "示范区", pub.archive_no,
                     pub.content_sha256, pub.file_sha256, f"报告{rid}·第", "审批流程",
                     "起草", "提交审核", "镇审核退回修改", "镇审核通过", "区审核批准发布",
                     "qs_author", "qs_reviewer", "district_reviewer", "填报人", "镇审核人", "区审核人",
                     squash(RETURN_REASON), TOWN_OPINION, DISTRICT_OPINION, "北京时间，时间戳服务时间"):
        assert squash(expected) in flat, expected
    assert "<b>2026</b>" in text and "&nbsp;" in text  # user text printed as typed, never markup
    # Six steps, in order, numbered; each with its local time.
    assert [line.split()[0] for line in text.splitlines()
            if line.strip()[:1].isdigit() and any(w in line for w in ("起草", "提交", "镇审核", "区审核"))] == [
        "1", "2", "3", "4", "5", "6"]
    with app.app_context():
        from workflow.models import AuditEvent

        times = [e.created_at for e in db.session.scalars(select(AuditEvent).where(AuditEvent.report_id == rid))]
    first = times[0].replace(tzinfo=dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=8)))
    assert first.strftime("%H:%M:%S") in text

    # Signed by the district like the report: pdfsig, pyHanko (B-LTA, timestamp), the app.
    assert "Signature is Valid" in poppler("pdfsig", path)
    reader = PdfFileReader(io.BytesIO(form))
    assert len(reader.embedded_regular_signatures) == 1 and reader.embedded_timestamp_signatures
    signature = reader.embedded_regular_signatures[0]
    assert signature.signer_cert.subject.native["common_name"] == "示范区人民政府"  # its issuing name
    assert "/DSS" in reader.root
    with app.app_context():
        from pdf.service import trust_roots

        assert verify_pdf(form, trust_roots()).status == "valid"
    assert int(poppler("pdfinfo", path).split("Pages:")[1].split()[0]) == 1

    # The report's signing time is the TSA's, from its signature's timestamp token.
    report_pdf = archive.read(app.config["ARCHIVE_DIR"], pub.file_sha256)
    token_time = ltv.signature_time(report_pdf)
    assert token_time is not None and pub.signed_at == token_time
    assert (token_time + dt.timedelta(hours=8)).strftime("%Y-%m-%d %H:%M:%S") in text  # printed in Beijing time
    with app.app_context():
        result = verify_pdf(report_pdf, trust_roots())
    assert result.timestamped and result.signed_at.astimezone(dt.UTC).replace(tzinfo=None) == token_time

    # Downloads beside the PDF: the report page, the archive page, the API.
    client = app.test_client()
    login(client, "district_reviewer")
    page = client.get(f"/reports/{rid}").get_data(as_text=True)
    assert f'href="/reports/{rid}/approval-form"' in page
    assert f'href="/reports/{rid}/approval-form"' in client.get("/archive").get_data(as_text=True)
    download = client.get(f"/reports/{rid}/approval-form?download=1")
    assert download.status_code == 200 and download.mimetype == "application/pdf" and download.data == form
    assert "attachment" in download.headers["Content-Disposition"]
    api = Api(app.test_client(), "qs_author")
    answer = api.get(f"/reports/{rid}/approval-form")
    assert answer.status_code == 200 and answer.mimetype == "application/pdf" and answer.data == form
    assert Api(app.test_client(), "xk_author").get(f"/reports/{rid}/approval-form").status_code == 404
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    documented = [p for p in spec["paths"] if p.endswith("/reports/{report_id}/approval-form")]
    assert len(documented) == 1 and "application/pdf" in json.dumps(spec["paths"][documented[0]])

    # The verification page and API recognise it as the approval form of its archive number.
    anonymous = app.test_client()
    html = anonymous.get("/verify").get_data(as_text=True)
    from tests.conftest import csrf_from

    checked = anonymous.post("/verify", data={"file": (io.BytesIO(form), "form.pdf"), "csrf_token": csrf_from(html)},
                             content_type="multipart/form-data").get_data(as_text=True)
    assert 'data-status="valid_in_archive"' in checked and pub.archive_no in checked
    assert f"这是档案编号 {pub.archive_no} 的真实审批单" in checked  # the form, not the report
    verdict = anonymous.post("/api/v1/verify", data={"file": (io.BytesIO(form), "f.pdf")},
                             content_type="multipart/form-data").get_json()
    assert (verdict["verdict"], verdict["document"], verdict["archive_no"], verdict["report_id"]) == (
        "valid_in_archive", "approval_form", pub.archive_no, rid)
    report_verdict = anonymous.post("/api/v1/verify", data={"file": (io.BytesIO(report_pdf), "r.pdf")},
                                    content_type="multipart/form-data").get_json()
    assert report_verdict["document"] == "report"
    forged = form.replace(b"/ChengbaoApprovalFormOf", b"/ChengbaoApprovalFormXX", 1)
    assert forged != form
    with app.app_context():
        assert verify_pdf(forged, trust_roots()).status == "modified"
    (tmp_path / "form.pdf").write_bytes(form)
    poppler("pdftoppm", "-r", "40", "-png", "-f", "1", "-l", "1", tmp_path / "form.pdf", tmp_path / "form")
    assert list(tmp_path.glob("form*.png"))


def test_a_retried_job_makes_no_second_form(jobs_app, world):
    """The job run again (a retry, the sweeper) and a concurrent ensure return the stored
    form: one form file per publication, whatever runs."""
    app = jobs_app
    _, pub_id = publish_with_history(app)
    first = row(app, pub_id).approval_sha256
    files = sorted(Path(app.config["ARCHIVE_DIR"]).glob("??/*.pdf"))
    assert len(files) == 2
    jobs.set_worker_app(app)
    assert jobs.publish(pub_id)["sha256"] == row(app, pub_id).file_sha256
    with app.app_context():
        assert approval_form.ensure_approval_form(pub_id, jobs.form_signing(app.config)) == first
    assert row(app, pub_id).approval_sha256 == first
    assert sorted(Path(app.config["ARCHIVE_DIR"]).glob("??/*.pdf")) == files
    # A second form made by a run that lost the race is discarded, never recorded.
    with app.app_context():
        other = b"%PDF-1.7 another run's form"
        lost = archive.archive_approval_form(app.config["ARCHIVE_DIR"], pub_id, other)
        assert not lost.won and lost.sha256 == first
        assert not archive.path_for(app.config["ARCHIVE_DIR"], hashlib.sha256(other).hexdigest()).exists()
        # Orphan recovery (the sweeper, the next run) keeps the recorded form and removes a
        # form file a killed run left unrecorded.
        orphan_sha, orphan = archive.store(app.config["ARCHIVE_DIR"], other)
        pending = Path(app.config["ARCHIVE_DIR"]) / archive.PENDING_DIR
        pending.mkdir(exist_ok=True)
        (pending / f"{pub_id}-{first}").touch()
        (pending / f"{pub_id}-{orphan_sha}").touch()
        assert archive.recover_orphans(app.config["ARCHIVE_DIR"]) == 1
        assert not orphan.exists() and archive.path_for(app.config["ARCHIVE_DIR"], first).is_file()


def test_a_publication_without_a_form_gets_one_on_first_download(jobs_app, world):
    """Published before forms existed (or the job ran out of retries making it): the first
    download answers 409 and queues the form's job; once it has run, the form downloads."""
    app = jobs_app
    rid, pub_id = publish_with_history(app)
    old = row(app, pub_id).approval_sha256
    with app.app_context():
        archive.path_for(app.config["ARCHIVE_DIR"], old).chmod(0o600)
        archive.path_for(app.config["ARCHIVE_DIR"], old).unlink()
        db.session.execute(update(Publication).where(Publication.id == pub_id).values(approval_sha256=None))
        db.session.commit()
    api = Api(app.test_client(), "district_reviewer")
    waiting = api.get(f"/reports/{rid}/approval-form")
    assert waiting.status_code == 409 and waiting.get_json()["error"]["reason"] == "approval_form_not_ready"
    assert api.get(f"/reports/{rid}/approval-form").status_code == 409  # one job, however many clicks
    assert run_worker(app)
    made = row(app, pub_id).approval_sha256
    assert made and made != old
    answer = api.get(f"/reports/{rid}/approval-form")
    assert answer.status_code == 200 and hashlib.sha256(answer.data).hexdigest() == made


def test_a_long_history_runs_onto_more_pages_with_its_header_repeated(tmp_path):
    """An opinion longer than a page is split across pages; the steps' header row repeats on
    every page; the footer numbers the pages; the seal (signature field) is on the last page."""
    steps = [FormStep(i, "镇审核退回修改", f"审核人{i}", "镇审核人", "请补充量化指标。" * (400 if i == 3 else 3),
                      dt.datetime(2026, 11, 3, 9, i % 60, 5)) for i in range(1, 31)]
    form = FormInput(title="青山镇2027年度工作计划", town="青山镇", district="示范区", report_id=7, version=9,
                     archive_no="示范区〔2026〕7号", signed_at=dt.datetime(2026, 11, 5, 14, 3, 21),
                     content_sha256="a" * 64, file_sha256="b" * 64, approved_on=dt.date(2026, 11, 5), steps=steps,
                     verify_url="https://example.org/verify?no=%E7%A4%BA", audit_head="c" * 64)
    rendered = render_approval_form(form)
    path = tmp_path / "long.pdf"
    path.write_bytes(rendered.data)
    pages = int(poppler("pdfinfo", path).split("Pages:")[1].split()[0])
    assert pages == rendered.pages >= 4 and rendered.seal_box[0] == pages - 1
    for page in range(1, pages + 1):
        text = poppler("pdftotext", "-f", str(page), "-l", str(page), "-layout", path, "-")
        assert f"第 {page} 页" in text and f"共 {pages} 页" in text
        if page < pages:
            assert "意见或理由" in text
    flat = squash(poppler("pdftotext", "-raw", path, "-"))
    assert flat.count("指") == 400 + 29 * 3  # nothing lost where the long opinion splits across pages
    assert "审核人30" in flat and "https://example.org/verify?no=示" in flat
    # An archival document like the report: PDF/A-2b by the same validator as tests/test_pdfa.py.
    report = page_validation.validate_pdf_bytes(rendered.data, profile="2b")
    assert report.is_compliant, [(f.rule_id, f.message) for f in report.failures]


def test_archive_renew_audits_every_renewal_failure_and_run(jobs_app, world):
    app = jobs_app
    _, pub_id = publish_with_history(app)
    pub = row(app, pub_id)
    runner = app.test_cli_runner()

    def audits() -> list[tuple[str, str, dict]]:
        with app.app_context():
            return [(a.action, a.target, a.detail) for a in
                    db.session.scalars(select(AdminAudit).where(AdminAudit.action.like("archive_renew%"))
                                       .order_by(AdminAudit.seq))]

    quiet = runner.invoke(args=["archive-renew"])
    assert quiet.exit_code == 0, quiet.output
    assert audits() == [("archive_renew_run", "archive", {
        "by": "archive-renew", "all": False, "before_days": 365, "checked": 1, "renewed": 0, "failed": 0})]

    done = runner.invoke(args=["archive-renew", "--all"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output) == {"checked": 1, "renewed": [pub.archive_no], "failed": [],
                                       "approval_forms_renewed": [pub.archive_no], "approval_forms_failed": []}
    rows = audits()[1:]
    assert [(a, t, d["document"], d["sha256"]) for a, t, d in rows[:2]] == [
        ("archive_renewed", f"publication:{pub_id}", "report", pub.file_sha256),
        ("archive_renewed", f"publication:{pub_id}", "approval_form", pub.approval_sha256)]
    assert rows[0][2]["file"] == f"{pub.file_sha256}.r1.pdf" and rows[0][2]["archive_no"] == pub.archive_no
    assert rows[0][2]["expires"]  # the TSA certificate's expiry that made it due (or not)
    assert rows[2][0] == "archive_renew_run" and rows[2][2]["renewed"] == 2
    # The renewed form still verifies and is still recognised as the form.
    renewed_form = archive.read_current(app.config["ARCHIVE_DIR"], pub.approval_sha256)
    assert len(renewed_form) > (archive.path_for(app.config["ARCHIVE_DIR"], pub.approval_sha256).stat().st_size)
    verdict = app.test_client().post("/api/v1/verify", data={"file": (io.BytesIO(renewed_form), "f.pdf")},
                                     content_type="multipart/form-data").get_json()
    assert (verdict["verdict"], verdict["document"]) == ("valid_in_archive", "approval_form")

    # A TSA that does not answer: both files fail, each failure audited, exit status 1.
    app.config["TSA_URL"] = "http://127.0.0.1:9/tsa"
    failed = runner.invoke(args=["archive-renew", "--all"])
    assert failed.exit_code == 1
    rows = audits()[4:]
    assert [(a, d.get("document")) for a, _, d in rows] == [
        ("archive_renew_failed", "report"), ("archive_renew_failed", "approval_form"), ("archive_renew_run", None)]
    assert rows[0][2]["error"] and "/" not in rows[0][2]["error"].split(":", 1)[0]
    assert rows[2][2]["failed"] == 2
    with app.app_context():
        assert verify_all().problems == []


def test_a_signature_without_timestamp_has_no_token_time(tmp_path):
    """B-B (no TSA): no timestamp token, so the publishing job falls back on its clock."""
    from pdf import signing
    from pdf.render import RenderInput, render_report

    ca = tmp_path / "ca"
    p12 = signing.issue_district_certificate(ca, "示范区", tmp_path / "district.p12", None)
    rendered = render_report(RenderInput(title="标题", outline={"preamble": ["正文。"], "sections": []},
                                         issuer="示范区", town="青山镇", date=dt.date(2026, 11, 5)))
    plain = signing.sign_pdf(rendered.data, signing.load_signer(p12, None), seal_box=rendered.seal_box,
                             reason="test", signer_name="示范区")
    assert ltv.signature_time(plain) is None
    assert ltv.signature_time(rendered.data) is None  # unsigned
