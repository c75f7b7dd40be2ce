"""The PDF features, one service each, for both front doors (the browser pages in
``web/archive`` and the API in ``web/api``): the signed file and its approval form, its status, an
administrator's retry, and the verification of an uploaded PDF with the trust roots.

Scope is checked here, through ``workflow.services.get_report``: a report outside the
actor's scope answers like a missing one. The front doors only shape the answer (a page,
JSON, a file response).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from asn1crypto import pem
from flask import current_app
from sqlalchemy import Row, or_, select

from workflow import services
from workflow.db import db
from workflow.errors import Conflict, Forbidden, NotFound
from workflow.models import OrgUnit, Publication, Report, User
from workflow.publishing import may_retry_publication
from workflow.table import PUBLISHED

from . import archive, jobs, publications
from .publications import PdfStatus

if TYPE_CHECKING:  # verification loads pyHanko: imported when a PDF is checked
    from .verify import VerifyResult

log = logging.getLogger(__name__)


def _published(actor: User, report_id: object) -> tuple[Report, Publication]:
    report = services.get_report(actor, report_id)  # NotFound outside the actor's scope
    pub = services.publication_of(report) if report.state == PUBLISHED else None
    if pub is None:
        raise NotFound("publication")
    return report, pub


# ---------------------------------------------------------------- the signed file


@dataclass(frozen=True)
class PdfFile:
    """The archived, signed PDF of a report: where it is and what to call it."""

    path: Path
    download_name: str  # the archive number (示范区〔2026〕3号.pdf)
    publication: Publication


def pdf_file(actor: User, report_id: object) -> PdfFile:
    """The signed PDF of a published report. ``NotFound("publication")`` before the
    report is published, ``Conflict("pdf_not_ready")`` (details: status and progress)
    while it is being made, ``NotFound("archive_file")`` when the file has gone (logged)."""
    report, pub = _published(actor, report_id)
    if not publications.is_ready(pub):
        raise Conflict("pdf_not_ready", details={"status": pub.status, "progress": pub.progress})
    if not archive.path_for(current_app.config["ARCHIVE_DIR"], pub.file_sha256 or "").is_file():
        log.error("publication %s: archive file %s is missing", pub.id, pub.file_sha256)
        raise NotFound("archive_file")
    # The newest renewal (fresh document timestamps), which begins with the original's bytes.
    path = archive.current_path(current_app.config["ARCHIVE_DIR"], pub.file_sha256 or "")
    return PdfFile(path, f"{pub.archive_no or f'report-{report.id}'}.pdf", pub)


def approval_form_file(actor: User, report_id: object) -> PdfFile:
    """The signed approval form (审批单) of a published report, beside its PDF.
    ``Conflict("pdf_not_ready")`` while the PDF is being made; ``Conflict("approval_form_not_ready")``
    while the form is (a publication without one, older than forms, gets its job queued
    here); ``NotFound("archive_file")`` when the file has gone (logged)."""
    report, pub = _published(actor, report_id)
    if not publications.is_ready(pub):
        raise Conflict("pdf_not_ready", details={"status": pub.status, "progress": pub.progress})
    if not pub.approval_sha256:
        from .approval_jobs import enqueue_approval_form

        enqueue_approval_form(pub.id)
        raise Conflict("approval_form_not_ready")
    archive_dir = current_app.config["ARCHIVE_DIR"]
    if not archive.path_for(archive_dir, pub.approval_sha256).is_file():
        log.error("publication %s: approval form %s is missing", pub.id, pub.approval_sha256)
        raise NotFound("archive_file")
    return PdfFile(archive.current_path(archive_dir, pub.approval_sha256),
                   f"{pub.archive_no or f'report-{report.id}'}-审批单.pdf", pub)


# ---------------------------------------------------------------- the status


def status_of_report(report: Report) -> PdfStatus | None:
    """The status of a report the caller has already read (it is in the actor's scope)."""
    pub = services.publication_of(report) if report.state == PUBLISHED else None
    return status_of_publication(pub) if pub is not None else None


def status_of_publication(pub: Publication) -> PdfStatus:
    """The status the front doors show: "running" only while the attempt beats (``jobs.pdf_status``)."""
    return jobs.pdf_status(pub)


# ---------------------------------------------------------------- retry


def retry(actor: User, report_id: object) -> str | None:
    """An administrator starts a failed publication again. ``Forbidden("retry_publication")``
    for anyone else, ``Conflict("publication_not_failed")`` unless it failed (a second
    click). Returns the job id (None without Redis: the sweeper hands it over)."""
    report, pub = _published(actor, report_id)
    if not may_retry_publication(actor, report):
        raise Forbidden("retry_publication")
    job_id = jobs.retry_publication(pub.id)
    log.info("publication %s retried by %s", pub.id, actor.username)
    return job_id


# ---------------------------------------------------------------- verification


def trust_roots() -> list[Path]:
    """The CA certificates this site trusts (``pdf.verify.trust_roots`` of ``KEYS_DIR``)."""
    from .verify import trust_roots as roots_in

    return roots_in(current_app.config["KEYS_DIR"])


def trusted_certificates_pem() -> bytes:
    """The trust roots as one PEM bundle (empty when there are none), to import as trusted."""
    chunks = []
    for path in trust_roots():
        data = path.read_bytes()
        chunks.append(data if pem.detect(data) else pem.armor("CERTIFICATE", data))
    return b"".join(c if c.endswith(b"\n") else c + b"\n" for c in chunks)


def _dev_ca_dir() -> Path:
    from .ltv import ca_directory

    return ca_directory(current_app.config)


def has_dev_ca() -> bool:
    """True when this site runs the development CA (its key is in ``KEYS_DIR/ca``)."""
    from .signing import CA_KEY_FILE

    return (_dev_ca_dir() / CA_KEY_FILE).is_file()


def dev_ca_certificate_der() -> bytes | None:
    """The development CA's certificate (DER); None without one."""
    from cryptography.hazmat.primitives.serialization import Encoding

    from .signing import create_dev_ca

    return create_dev_ca(_dev_ca_dir()).certificate.public_bytes(Encoding.DER) if has_dev_ca() else None


def dev_ca_crl() -> bytes | None:
    """The development CA's current CRL (DER); None without a development CA."""
    from .signing import current_crl

    return current_crl(_dev_ca_dir()) if has_dev_ca() else None


def dev_timestamp(request_der: bytes) -> bytes | None:
    """The development TSA's reply (DER ``TimeStampResp``) to an RFC 3161 request; None
    when this site has no development TSA, ``b""`` for a request it cannot answer."""
    from .ltv import dev_tsa_reply

    return dev_tsa_reply(current_app.config, request_der)


def verify_upload(data: bytes) -> VerifyResult:
    """The verdict on an uploaded PDF against this site's trust roots (never raises on
    bad input; see ``pdf.verify``)."""
    from .verify import verify_pdf

    return verify_pdf(data, trust_roots=trust_roots())


VERDICTS = ("valid_in_archive", "valid_not_ours", "modified", "unsigned", "untrusted", "malformed")


DOCUMENTS = ("report", "approval_form")


@dataclass(frozen=True)
class Verdict:
    """The one headline on an uploaded PDF (``VERDICTS``), the verification behind it, and
    the archive's record of the file when it is one of ours (``entry``: report id, archive
    number, SHA-256, signing time, district; public facts only) with which of the
    publication's documents it is (``document``: ``DOCUMENTS``, the report's PDF or its
    approval form)."""

    headline: str
    result: VerifyResult
    entry: Row | None
    document: str | None = None


def verdict_on(data: bytes) -> Verdict:
    """Verify ``data`` and place it: valid and archived here (the upload is an archived
    file, or one renewed with later document timestamps), valid but not in this archive,
    or the verification's own status (modified, unsigned, untrusted, malformed)."""
    result = verify_upload(data)
    if result.status != "valid":
        return Verdict(result.status, result, None)
    sha256s = (result.sha256, *result.signed_prefixes)
    entry = archive_entry(sha256s=sha256s)
    if entry is None:
        return Verdict("valid_not_ours", result, None)
    document = "approval_form" if entry.approval_sha256 in sha256s else "report"
    return Verdict("valid_in_archive", result, entry, document)


def archive_entry(*, sha256s: tuple[str, ...] = (), archive_no: str | None = None) -> Row | None:
    """What the archive knows about a file (the report's PDF or its approval form, by any
    of ``sha256s``) or an archive number."""
    if not sha256s and not archive_no:
        return None
    stmt = (select(Publication.report_id, Publication.archive_no, Publication.file_sha256, Publication.signed_at,
                   Publication.status, Publication.approval_sha256, OrgUnit.name.label("district"))
            .join(OrgUnit, OrgUnit.id == Publication.district_id))
    stmt = (stmt.where(or_(Publication.file_sha256.in_(sha256s), Publication.approval_sha256.in_(sha256s)))
            if sha256s else stmt.where(Publication.archive_no == archive_no))
    return db.session.execute(stmt.limit(1)).one_or_none()
