"""The PDF features, one service each, for both front doors (the browser pages in
``web/archive`` and the API in ``web/api``): the signed file, its status, an
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

from workflow import services
from workflow.errors import Conflict, Forbidden, NotFound
from workflow.models import Publication, Report, User
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
    path = archive.path_for(current_app.config["ARCHIVE_DIR"], pub.file_sha256 or "")
    if not path.is_file():
        log.error("publication %s: archive file %s is missing", pub.id, path)
        raise NotFound("archive_file")
    return PdfFile(path, f"{pub.archive_no or f'report-{report.id}'}.pdf", pub)


# ---------------------------------------------------------------- the status


def status_of_report(report: Report) -> PdfStatus | None:
    """The status of a report the caller has already read (it is in the actor's scope)."""
    pub = services.publication_of(report) if report.state == PUBLISHED else None
    return publications.status_of(pub) if pub is not None else None


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


def verify_upload(data: bytes) -> VerifyResult:
    """The verdict on an uploaded PDF against this site's trust roots (never raises on
    bad input; see ``pdf.verify``)."""
    from .verify import verify_pdf

    return verify_pdf(data, trust_roots=trust_roots())
