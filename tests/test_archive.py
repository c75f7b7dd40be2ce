"""The archive page (find and download published reports, in scope, without per-row
queries) and the public verification page (valid / tampered / untrusted / unsigned /
malformed), with PDFs made by the real job on a real Redis."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from sqlalchemy import event, select

from pdf import archive, signing
from pdf.render import RenderInput, render_report
from tests.conftest import csrf_from
from tests.helpers import advance, gen_report
from tests.jobs_support import jobs_app, redis_url, run_worker  # noqa: F401
from tests.test_jobs import login
from workflow.db import db
from workflow.models import Publication

pytestmark = pytest.mark.jobs


def published(app, *specs: tuple[str, str, str, int]) -> dict[str, tuple[int, Publication]]:
    """Publish reports given as (town, title, kind, year) and run the worker once."""
    from pdf.cli import ensure_dev_keys

    ids = {}
    with app.app_context():
        ensure_dev_keys(app)
        for town, title, kind, year in specs:
            report = gen_report(town, title=title, kind=kind, year=year)
            advance(report.id, "published", town=town)
            ids[title] = report.id
    run_worker(app)
    with app.app_context():
        pubs = {p.report_id: p for p in db.session.scalars(select(Publication))}
        for p in pubs.values():
            db.session.expunge(p)
    return {title: (rid, pubs[rid]) for title, rid in ids.items()}


def archived_bytes(app, pub: Publication) -> bytes:
    return archive.read(app.config["ARCHIVE_DIR"], pub.file_sha256)


# ---------------------------------------------------------------- the archive page


def test_the_archive_finds_published_reports_by_year_kind_and_town(jobs_app, world):
    app = jobs_app
    reports = published(app, ("qs", "青山镇2027年度工作计划", "annual_plan", 2027),
                        ("qs", "青山镇2026年工作总结", "annual_report", 2026),
                        ("xk", "溪口镇2026年工作总结", "annual_report", 2026))
    with app.app_context():
        gen_report("qs", title="青山镇未发布的草稿")
    client = app.test_client()
    login(client, "district_reviewer")

    page = client.get("/archive").get_data(as_text=True)
    for title, (rid, pub) in reports.items():
        assert title in page and pub.archive_no in page and pub.file_sha256[:12] in page
        assert f'href="/reports/{rid}/pdf?download=1"' in page
    assert "未发布的草稿" not in page

    def titles(query: str) -> set[str]:
        html = client.get("/archive?" + query).get_data(as_text=True)
        return {t for t in reports if t in html}

    assert titles("year=2026") == {"青山镇2026年工作总结", "溪口镇2026年工作总结"}
    assert titles("kind=annual_plan") == {"青山镇2027年度工作计划"}
    assert titles(f"town={world['xk']}") == {"溪口镇2026年工作总结"}
    assert titles("year=2026&town=" + str(world["qs"])) == {"青山镇2026年工作总结"}
    number = reports["溪口镇2026年工作总结"][1].archive_no
    assert titles("q=" + number) == {"溪口镇2026年工作总结"}
    assert client.get("/archive?kind=bogus").status_code == 400
    assert client.get("/archive?year=abc").status_code == 400

    rid, pub = reports["青山镇2027年度工作计划"]
    download = client.get(f"/reports/{rid}/pdf?download=1")
    assert download.status_code == 200 and download.data == archived_bytes(app, pub)


def test_the_archive_shows_only_what_the_user_may_see(jobs_app, world):
    app = jobs_app
    published(app, ("qs", "青山镇2027年度工作计划", "annual_plan", 2027),
              ("xk", "溪口镇2026年工作总结", "annual_report", 2026))
    seen = {}
    for username in ("qs_author", "xk_reviewer", "other_reviewer", "nobody"):
        client = app.test_client()
        login(client, username)
        html = client.get("/archive").get_data(as_text=True)
        seen[username] = {t for t in ("青山镇2027年度工作计划", "溪口镇2026年工作总结") if t in html}
    assert seen == {"qs_author": {"青山镇2027年度工作计划"}, "xk_reviewer": {"溪口镇2026年工作总结"},
                    "other_reviewer": set(), "nobody": set()}
    assert app.test_client().get("/archive").headers["Location"].startswith("/login")


def _queries_for(app, client, path: str) -> int:
    with app.app_context():
        engine = db.engine
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        if not statement.lstrip().upper().startswith(("PRAGMA", "SAVEPOINT", "RELEASE")):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(statements)


def test_the_archive_page_costs_the_same_queries_for_two_rows_as_for_eight(jobs_app, world):
    app = jobs_app
    published(app, *[("qs", f"报告{i}", "annual_plan", 2026) for i in range(2)])
    client = app.test_client()
    login(client, "district_reviewer")
    _queries_for(app, client, "/archive")  # warm the login's own lookups
    few = _queries_for(app, client, "/archive")
    published(app, *[("xk", f"报告{i}", "annual_report", 2026) for i in range(2, 8)])
    many = _queries_for(app, client, "/archive")
    assert few == many, (few, many)


# ---------------------------------------------------------------- the verification page


def _verify(client, data: bytes, name: str = "report.pdf"):
    from io import BytesIO

    token = csrf_from(client.get("/verify").get_data(as_text=True))
    return client.post("/verify", data={"csrf_token": token, "file": (BytesIO(data), name)},
                       content_type="multipart/form-data")


def _status(response) -> str:
    match = re.search(r'data-status="([a-z_]+)"', response.get_data(as_text=True))
    assert match, response.get_data(as_text=True)[:2000]
    return match.group(1)


def _foreign_pdf(tmp_path: Path) -> bytes:
    """A PDF signed just like ours, but by a CA this site does not trust."""
    ca_dir = tmp_path / "foreign-ca"
    signing.create_dev_ca(ca_dir, common_name="Some Other CA")
    p12 = signing.issue_district_certificate(ca_dir, "示范区", tmp_path / "foreign.p12", None)
    rendered = render_report(RenderInput(
        title="伪造的报告", outline={"preamble": ["这是一份伪造的报告。"], "sections": [], "closing": []},
        issuer="示范区", town="青山镇", date=dt.date(2026, 1, 5), doc_number="示范区〔2026〕1号",
        archive_no="示范区〔2026〕1号"))
    return signing.sign_pdf(rendered.data, signing.load_signer(p12, None), seal_box=rendered.seal_box,
                            reason="forged", signer_name="示范区")


def test_anyone_can_verify_a_published_pdf_and_spot_changes(jobs_app, world, tmp_path):
    app = jobs_app
    rid, pub = published(app, ("qs", "青山镇2027年度工作计划", "annual_plan", 2027))["青山镇2027年度工作计划"]
    original = archived_bytes(app, pub)
    client = app.test_client()  # nobody logged in: the page is public

    response = _verify(client, original)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and _status(response) == "valid_in_archive"
    assert "示范区" in html and pub.archive_no in html and pub.file_sha256 in html
    assert f'href="/reports/{rid}"' in html  # a link: the report page itself needs a login

    position = original.index(b"stream", 2000) + 40  # inside a signed content stream
    changed = original[:position] + bytes([original[position] ^ 0x01]) + original[position + 1:]
    assert _status(_verify(client, changed)) == "modified"
    assert f'href="/reports/{rid}"' not in _verify(client, changed).get_data(as_text=True)

    assert _status(_verify(client, _foreign_pdf(tmp_path))) == "untrusted"
    unsigned = render_report(RenderInput(title="未签名", outline={"preamble": ["正文。"], "sections": [],
                                                                  "closing": []},
                                         issuer="示范区", town="青山镇", date=dt.date(2026, 1, 5))).data
    assert _status(_verify(client, unsigned)) == "unsigned"
    assert _status(_verify(client, b"this is not a PDF at all")) == "malformed"


def test_the_verify_form_needs_its_csrf_token_and_bounds_the_upload(jobs_app, world):
    from io import BytesIO

    app = jobs_app
    client = app.test_client()
    response = client.post("/verify", data={"file": (BytesIO(b"%PDF-1.7"), "x.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 400 and 'data-status="' not in response.get_data(as_text=True)
    app.config["MAX_CONTENT_LENGTH"] = 4096
    assert _verify(client, b"%PDF-1.7" + b"0" * 10_000).status_code == 413


def test_the_ca_certificate_and_archive_numbers_can_be_looked_up(jobs_app, world):
    app = jobs_app
    _, pub = published(app, ("qs", "青山镇2027年度工作计划", "annual_plan", 2027))["青山镇2027年度工作计划"]
    client = app.test_client()
    page = client.get("/verify").get_data(as_text=True)
    assert 'href="/verify/ca.pem"' in page
    pem = client.get("/verify/ca.pem")
    assert pem.status_code == 200 and pem.data.startswith(b"-----BEGIN CERTIFICATE-----")
    with app.app_context():
        ca = Path(app.config["KEYS_DIR"]) / "ca" / signing.CA_CERT_FILE
    assert pem.data.strip() == ca.read_bytes().strip()

    found = client.get("/verify", query_string={"no": pub.archive_no}).get_data(as_text=True)
    assert pub.archive_no in found and pub.file_sha256 in found
    missing = client.get("/verify", query_string={"no": "示范区〔1999〕9号"}).get_data(as_text=True)
    assert "示范区〔1999〕9号" in missing and pub.file_sha256 not in missing


# ---------------------------------------------------------------- long-term validation


def test_archive_renew_adds_a_document_timestamp_beside_the_original(jobs_app, world):
    """``flask archive-renew --all`` stores a renewed file beside the original (whose hash
    stays the key); downloads serve it, the page and the API find it in the archive;
    without --all nothing is due (the TSA certificate has years left) until the horizon
    reaches its expiry."""
    import io
    import json

    app = jobs_app
    rid, pub = published(app, ("qs", "青山镇2027年度工作计划", "annual_plan", 2027))["青山镇2027年度工作计划"]
    original = archived_bytes(app, pub)
    runner = app.test_cli_runner()

    quiet = runner.invoke(args=["archive-renew"])
    assert quiet.exit_code == 0, quiet.output
    assert json.loads(quiet.output) == {"checked": 1, "renewed": [], "failed": [], "approval_forms_renewed": [],
                                        "approval_forms_failed": []}

    done = runner.invoke(args=["archive-renew", "--all"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output) == {"checked": 1, "renewed": [pub.archive_no], "failed": [],
                                       "approval_forms_renewed": [pub.archive_no], "approval_forms_failed": []}
    with app.app_context():
        renewed_path = archive.current_path(app.config["ARCHIVE_DIR"], pub.file_sha256)
        assert renewed_path.name == f"{pub.file_sha256}.r1.pdf"
        assert archive.read(app.config["ARCHIVE_DIR"], pub.file_sha256) == original  # the key is untouched
    renewed = renewed_path.read_bytes()
    assert renewed.startswith(original) and len(renewed) > len(original)

    client = app.test_client()
    login(client, "district_reviewer")
    assert client.get(f"/reports/{rid}/pdf").data == renewed
    anonymous = app.test_client()
    response = _verify(anonymous, renewed)
    assert _status(response) == "valid_in_archive" and pub.archive_no in response.get_data(as_text=True)
    answer = anonymous.post("/api/v1/verify", data={"file": (io.BytesIO(renewed), "r.pdf")},
                            content_type="multipart/form-data").get_json()
    assert (answer["verdict"], answer["in_archive"], answer["archive_no"], answer["report_id"]) == (
        "valid_in_archive", True, pub.archive_no, rid)

    again = runner.invoke(args=["archive-renew", "--before-days", "36500"])  # every TSA certificate expires by then
    assert json.loads(again.output)["renewed"] == [pub.archive_no]
    with app.app_context():
        assert archive.current_path(app.config["ARCHIVE_DIR"], pub.file_sha256).name.endswith(".r2.pdf")


def test_keys_made_before_crls_are_reissued_and_their_pdfs_still_verify(jobs_app, world, tmp_path):
    """An instance upgraded from B-B signing: its district key (no CRL distribution point)
    is re-issued at start with one, the old file moved aside; a PDF signed with the old
    key still verifies as valid; the CA certificate and CRL download from the page."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import pkcs12

    from pdf.cli import ensure_dev_keys
    from pdf.jobs import signing_key_path

    app = jobs_app
    with app.app_context():
        keys = Path(app.config["KEYS_DIR"])
        old = signing.issue_district_certificate(keys / "ca", "示范区", signing_key_path(app.config, world["district"]),
                                                 None)
        rendered = render_report(RenderInput(
            title="旧的报告", outline={"preamble": ["正文。"], "sections": [], "closing": []}, issuer="示范区",
            town="青山镇", date=dt.date(2025, 1, 5), archive_no="示范区〔2025〕1号"))
        old_pdf = signing.sign_pdf(rendered.data, signing.load_signer(old, None), seal_box=rendered.seal_box,
                                   reason="old", signer_name="示范区")
        # Re-issued with the CRL, and to the district's issuing name (the name on its seal).
        assert "示范区人民政府 (district-1.p12)" in ensure_dev_keys(app)
        _, cert, _ = pkcs12.load_key_and_certificates(old.read_bytes(), None)
        point = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value[0]
        assert point.full_name[0].value == app.config["PUBLIC_BASE_URL"] + "/ca/crl"
        assert list(keys.glob("district-1.p12.replaced-*"))
        assert ensure_dev_keys(app) == []  # once

    client = app.test_client()
    response = _verify(client, old_pdf)
    assert _status(response) == "valid_not_ours"  # valid, but never published here
    page = client.get("/verify").get_data(as_text=True)
    assert 'href="/ca/cert"' in page and 'href="/ca/crl"' in page
    crl = client.get("/ca/crl")
    assert crl.status_code == 200 and crl.mimetype == "application/pkix-crl"
    ca = x509.load_der_x509_certificate(client.get("/ca/cert").data)
    assert x509.load_der_x509_crl(crl.data).is_signature_valid(ca.public_key())
    assert client.post("/tsa", data=b"not a request", content_type="application/timestamp-query").status_code == 400
