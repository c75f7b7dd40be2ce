"""The PDF layer's seams: who imports whom, one rule per fact for both front doors, the
job's errors kept for reviewers without server paths, a plain ``rq worker`` that finds
the app by itself, and the missing-glyph check that does not load the fonts."""
from __future__ import annotations

import ast
import hashlib
import subprocess
import sys

import pytest
from sqlalchemy import select, update

from pdf.fonts import FontConfig, FontsMissing, load_fonts
from pdf.publications import StoredError, without_paths
from tests.helpers import PASSWORD, advance, gen_report, get_user, login
from tests.jobs_support import ROOT, jobs_app, redis_url, wait_for, worker_env  # noqa: F401
from workflow.db import db
from workflow.models import OrgUnit, Publication, PublicationStatus
from workflow.publishing import district_of, may_retry_publication, signing_units

API = "/api/v1"


def _imports(package: str) -> dict[str, set[str]]:
    """The top-level packages each module of ``package`` imports (relative imports resolved)."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).glob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                names.add(package if node.level else (node.module or "").split(".")[0])
        found[f"{package}/{path.name}"] = names
    return found


def test_the_pdf_layer_imports_neither_the_app_nor_the_web_and_the_domain_no_pdf():
    for module, names in _imports("pdf").items():
        assert not names & {"app", "web", "forms", "run"}, (module, names & {"app", "web", "forms", "run"})
    # The approval reaches pdf/ through the outbox's subscriber: the domain knows no pdf/.
    for module, names in _imports("workflow").items():
        assert not names & {"pdf", "web", "app", "notify"}, (module, names & {"pdf", "web", "app", "notify"})


def test_the_missing_glyph_check_reads_the_body_fonts_map_without_loading_the_fonts():
    """A web process checks content against the body face's character map alone (no
    ReportLab, no 20 MB font parsed), with the same answer as the renderer's loaded face."""
    probe = (
        "import hashlib, sys\n"
        "from app import create_app\n"
        "from workflow.content import glyph_checker\n"
        "create_app({'TESTING': True, 'SQLALCHEMY_DATABASE_URI': 'sqlite://'})\n"
        "text = ''.join(map(chr, [*range(0x20, 0xD800), *range(0xE000, 0x30000)]))\n"
        "missing = sorted(map(ord, glyph_checker()(text)))\n"
        "print(hashlib.sha256(repr(missing).encode()).hexdigest(), 'reportlab' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    digest, reportlab_loaded = done.stdout.split()
    assert reportlab_loaded == "False"
    try:
        cmap = load_fonts()["body"].cmap
    except FontsMissing as exc:
        pytest.skip(f"PDF fonts not installed: {exc}")
    from pdf.fonts import clean_text

    expected = sorted(c for c in [*range(0x20, 0xD800), *range(0xE000, 0x30000)]
                      if c not in cmap and not chr(c).isspace() and clean_text(chr(c)))
    assert digest == hashlib.sha256(repr(expected).encode()).hexdigest()


def test_a_failed_attempt_is_kept_as_a_message_key_without_server_paths(app):
    from web.archive.routes import error_text

    font = FontsMissing("font_file_missing", "kaiti", FontConfig.default().kaiti)
    stored = StoredError.from_column(StoredError.of(FontsMissing, font).to_column())
    assert stored is not None and stored.key == "invalid.font_file_missing"
    assert stored.params["path"] == "ukai.ttc" and "/usr/share" not in stored.to_column()

    crash = OSError("[Errno 13] Permission denied: '/srv/chengbao/instance/keys/district-3.p12'")
    column = StoredError.of(OSError, crash).to_column()
    assert "/srv" not in column and "district-3.p12" in column
    assert without_paths("see /var/lib/x/y.log and http://127.0.0.1:5000/verify") == \
        "see y.log and http://127.0.0.1:5000/verify"

    assert (StoredError.from_column(column).reason, stored.reason) == ("internal", "fonts")
    with app.test_request_context("/"):
        # A reviewer is told why in one sentence; an administrator gets the details too.
        assert error_text(StoredError.from_column(column)) == "因内部错误未能完成；详情见服务器日志。"
        assert error_text(StoredError.from_column(column), detailed=True) == \
            "因内部错误未能完成；详情见服务器日志。 任务失败：[Errno 13] Permission denied: 'district-3.p12'"
        assert error_text(stored) == "服务器上缺少生成PDF所需的字体。"
        assert error_text(stored, detailed=True).startswith(
            "服务器上缺少生成PDF所需的字体。 PDF 字体（kaiti）缺失：ukai.ttc")


def _published_report(app) -> tuple[int, int]:
    with app.app_context():
        report = gen_report("qs")
        advance(report.id, "published")
        pub = db.session.scalar(select(Publication).where(Publication.report_id == report.id))
        return report.id, pub.id


def _token(client, username: str) -> dict[str, str]:
    token = client.post(f"{API}/tokens", json={"username": username, "password": PASSWORD}).get_json()["token"]
    return {"Authorization": f"Bearer {token}"}


def test_the_page_and_the_api_call_a_pdf_ready_only_when_its_file_is_named(app, world):
    """One rule for both front doors: a row that says ready without naming its file is not ready."""
    report_id, pub_id = _published_report(app)
    with app.app_context():
        db.session.execute(update(Publication).where(Publication.id == pub_id)
                           .values(status=PublicationStatus.READY, progress=90, file_sha256=None))
        db.session.commit()
    browser = app.test_client()
    login(browser, "qs_author")
    status = browser.get(f"/reports/{report_id}/pdf/status").get_json()
    assert (status["status"], status["url"], status["progress"]) == ("ready", None, 90)
    assert browser.get(f"/reports/{report_id}/pdf").status_code == 409

    api = app.test_client()
    headers = _token(api, "qs_author")
    pdf = api.get(f"{API}/reports/{report_id}", headers=headers).get_json()["pdf"]
    assert (pdf["status"], pdf["url"], pdf["progress"]) == ("ready", None, 90)
    answer = api.get(f"{API}/reports/{report_id}/pdf", headers=headers)
    assert answer.status_code == 409 and answer.get_json()["error"]["code"] == "conflict"


def test_the_verdict_on_an_uploaded_file_explains_itself_in_chinese_by_default(app, world):
    import io

    api = app.test_client()
    answer = api.post(f"{API}/verify", data={"file": (io.BytesIO(b"not a pdf"), "x.pdf")},
                      content_type="multipart/form-data", headers=_token(api, "nobody")).get_json()
    assert answer["status"] == "malformed" and answer["message"] == "无法读取该文件：不是有效的 PDF 文件或文件已损坏。"


def test_the_domain_decides_who_signs_and_who_may_retry(ctx, world):
    signers = {u.name for u in signing_units()}
    assert signers == {"示范区", "东湖区"}
    for unit in db.session.scalars(select(OrgUnit)):
        assert district_of(unit).name in signers
    report = gen_report("qs")
    assert may_retry_publication(get_user("admin"), report)
    assert not may_retry_publication(get_user("district_reviewer"), report)
    assert not may_retry_publication(get_user("qs_author"), report)


@pytest.mark.jobs
def test_a_plain_rq_worker_finds_the_app_the_way_the_flask_command_does(jobs_app, world):
    """``rq worker`` started without the Flask entry point: the jobs build the app from
    ``app.py`` in the working directory, as ``flask`` would; the approval's event is
    dispatched and the PDF published."""
    from notify.dispatch import QUEUE_NAME as EVENTS_QUEUE
    from pdf.cli import ensure_dev_keys
    from pdf.queue import QUEUE_NAME

    app = jobs_app
    with app.app_context():
        ensure_dev_keys(app)
    _, pub_id = _published_report(app)
    env = worker_env(app)
    env.pop("FLASK_APP", None)
    done = subprocess.run([sys.executable, "-m", "rq.cli", "worker", "--burst", "-u", app.config["REDIS_URL"],
                           EVENTS_QUEUE, QUEUE_NAME], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr

    def ready():
        with app.app_context():
            return db.session.get(Publication, pub_id).status == PublicationStatus.READY

    wait_for(ready, timeout=30)
