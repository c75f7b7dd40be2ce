"""The archive (find and download published reports), the public verification page, and
the signed PDF of one report: download (and its signed approval form's), progress (JSON,
polled by the report page) and an admin's retry of a failed publication.

Scope applies everywhere except ``/verify``: anyone holding a PDF may check it there,
and the development CA's certificate and CRL (``/ca/cert``, ``/ca/crl``) and time-stamp
authority (``/tsa``), which verifiers and the signing worker reach over HTTP.
"""
from __future__ import annotations

import datetime as dt
import logging

from flask import Blueprint, abort, current_app, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from forms.archive import RetryForm, VerifyForm
from pdf import service as pdf_service
from pdf.publications import PdfStatus, StoredError
from pdf.service import PdfFile
from web import messages
from web.errors import error_body
from web.extensions import csrf
from web.templating import local_time, say
from workflow import services
from workflow.errors import Conflict, NotFound
from workflow.models import Publication
from workflow.publishing import may_retry_publication
from workflow.table import KINDS, PUBLISHED

log = logging.getLogger(__name__)

bp = Blueprint("archive", __name__)

TSA_REQUEST_LIMIT = 16 * 1024  # a timestamp request is a few hundred bytes


# ---------------------------------------------------------------- template helpers


@bp.app_template_global()
def publication_for(report) -> Publication | None:
    """The report's publication (None before it is published), for ``reports/_pdf.html``."""
    if report is None or getattr(report, "state", None) != PUBLISHED:
        return None
    return services.publication_of(report)


@bp.app_template_global()
def can_retry_publication(report) -> bool:
    """True when the retry button is the user's (``workflow.publishing`` decides)."""
    return report is not None and may_retry_publication(current_user, report)


@bp.app_template_global()
def publication_status(publication) -> dict:
    """The status for ``reports/_pdf.html``: :func:`status_json` with the times in local time
    (and the error's details for an administrator who can act on them)."""
    status = pdf_service.status_of_publication(publication) if publication is not None else None
    detailed = (status is not None and status.error is not None
                and may_retry_publication(current_user, publication.report))
    return status_json(status, detailed=detailed) | {
        "heartbeat_local": local_time(status.heartbeat_at, "%H:%M:%S") if status else "",
        "retry_local": local_time(status.retry_at, "%H:%M:%S") if status else "",
    }


def status_json(status: PdfStatus | None, *, detailed: bool = False) -> dict:
    """``{"status","progress","stage","url","archive_no","doc_number","error","heartbeat_at","retry_at"}``:
    what the report page polls (times as ISO 8601 UTC). ``detailed``: the error's details,
    for an administrator who can act on them."""
    if status is None:
        return {"status": None, "progress": 0, "stage": None, "url": None, "archive_no": None, "doc_number": None,
                "error": None, "heartbeat_at": None, "retry_at": None}
    return {
        "status": status.status,
        "progress": status.progress,
        "stage": status.stage,
        "url": url_for("archive.report_pdf", report_id=status.report_id) if status.ready else None,
        "archive_no": status.archive_no,
        "doc_number": status.doc_number,
        "error": error_text(status.error, detailed=detailed),
        "heartbeat_at": iso_utc(status.heartbeat_at),
        "retry_at": iso_utc(status.retry_at),
    }


def iso_utc(when: dt.datetime | None) -> str | None:
    """A naive UTC time as ISO 8601 with its ``Z`` (the browser shows it in local time)."""
    return when.replace(microsecond=0).isoformat() + "Z" if when is not None else None


def error_text(error: StoredError | None, *, detailed: bool = False) -> str | None:
    """A failed attempt in the reader's language: why, in one sentence of its reason code;
    with ``detailed``, the error's own sentence (file names, never server paths) too."""
    if error is None:
        return None
    text = messages.render_key("publication_failed", error.reason)
    if not detailed:
        return text
    detail = messages.render(error) if error.key else str(error.params.get("error", ""))
    return f"{text} {detail}" if detail else text


@bp.app_context_processor
def archive_forms() -> dict:
    return {"retry_form": RetryForm}


# ---------------------------------------------------------------- archive list


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "").strip()
    if not value:
        return None
    try:
        number = int(value)
    except ValueError:
        abort(400, _("%(name)s must be a number.", name=name))
    if not 0 < number < 2**62:
        abort(400, _("%(name)s is out of range.", name=name))
    return number


@bp.get("/archive")
@login_required
def index():
    """Published reports in the user's scope, by year, kind and town; newest archive number first.

    Five queries whatever the page size: the unit filter, the count, the page (reports
    joined to their publication and town), the years and the towns offered as filters."""
    year, town_id, page = _int_arg("year"), _int_arg("town"), _int_arg("page") or 1
    kind = request.args.get("kind") or None
    if kind is not None and kind not in KINDS:
        abort(400, _("Unknown kind."))
    q = (request.args.get("q") or "").strip()[:100]
    per_page = int(current_app.config.get("PAGE_SIZE", 20))

    found = services.search_archive(current_user, year=year, kind=kind, town_id=town_id, q=q,
                                    page=page, per_page=per_page)
    rows, total, page, pages, years, towns = (found.rows, found.total, found.page, found.pages,
                                              found.years, found.towns)
    filters = {"year": year, "kind": kind, "town": town_id, "q": q}
    return render_template("archive/index.html", rows=rows, total=total, page=page, pages=pages,
                           years=years, towns=towns, kinds=KINDS,
                           filters=filters, filter_args={k: v for k, v in filters.items() if v})


# ---------------------------------------------------------------- one report's PDF


@bp.get("/reports/<int:report_id>/pdf")
@login_required
def report_pdf(report_id: int):
    """The signed PDF, inline (``?download=1``: as an attachment), named by its archive number."""
    return _send_pdf(pdf_service.pdf_file(current_user, report_id))


@bp.get("/reports/<int:report_id>/approval-form")
@login_required
def approval_form(report_id: int):
    """The signed approval form (审批单), inline (``?download=1``: as an attachment)."""
    return _send_pdf(pdf_service.approval_form_file(current_user, report_id))


def _send_pdf(file: PdfFile):
    """An archived PDF to its reader: inline, or as an attachment with ``?download=1``;
    never kept by a shared cache."""
    response = send_file(file.path, mimetype="application/pdf", as_attachment=request.args.get("download") == "1",
                         download_name=file.download_name, max_age=0)
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/reports/<int:report_id>/pdf/status")
def pdf_status(report_id: int):
    """``{"status","progress","stage","url","archive_no","error"}`` for the progress bar."""
    if not current_user.is_authenticated:
        return jsonify(error_body("unauthorized", "login")), 401
    try:
        report = services.get_report(current_user, report_id)
    except NotFound as exc:
        return jsonify(error_body(exc.code, exc.reason, exc.params)), 404
    status = pdf_service.status_of_report(report)
    detailed = status is not None and status.error is not None and may_retry_publication(current_user, report)
    response = jsonify(status_json(status, detailed=detailed))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/reports/<int:report_id>/pdf/retry")
@login_required
def retry(report_id: int):
    """An admin in scope re-queues a failed publication (CSRF-protected form)."""
    form = RetryForm()
    if not form.validate_on_submit():
        say(_("The form has expired; reload the page and try again."), "error")
    else:
        try:
            pdf_service.retry(current_user, report_id)  # out of scope: 404; not an admin: 403
        except Conflict as exc:
            say(messages.render(exc), "error")
        else:
            say(_("The signed PDF is being prepared again."))
    return redirect(_report_url(report_id), code=303)


def _report_url(report_id: int) -> str:
    if "reports.show" in current_app.view_functions:
        return url_for("reports.show", report_id=report_id)
    return url_for("archive.index")


# ---------------------------------------------------------------- verification (public)


@bp.route("/verify", methods=["GET", "POST"])
def verify():
    """Upload a PDF: one headline (``pdf.service.VERDICTS``: valid and in the archive,
    valid but not ours, modified, unsigned, untrusted, malformed) and the facts behind it.
    No login needed."""
    form = VerifyForm()
    verdict = None
    looked_up = request.args.get("no", "").strip()[:64] or None
    if request.method == "POST":
        if form.validate_on_submit():
            data = form.file.data.read(int(current_app.config.get("MAX_CONTENT_LENGTH") or 5 * 2**20) + 1)
            verdict = pdf_service.verdict_on(data)
        else:
            say(_("Choose a PDF file."), "error")
    lookup = pdf_service.archive_entry(archive_no=looked_up) if looked_up and verdict is None else None
    report_link = None
    if verdict is not None and verdict.headline == "valid_in_archive" and verdict.entry is not None:
        report_link = _linkable_report(verdict.entry.report_id)
    result = verdict.result if verdict is not None else None
    status = 200 if request.method == "GET" or verdict is not None else 400
    return render_template("archive/verify.html", form=form, verdict=verdict, result=result,
                           entry=verdict.entry if verdict else None, lookup=lookup, looked_up=looked_up,
                           document=verdict.document if verdict else None,
                           report_link=report_link,
                           details=messages.render(result) if result is not None else None,
                           has_ca=bool(pdf_service.trust_roots()), has_crl=pdf_service.has_dev_ca()), status


def _linkable_report(report_id) -> str | None:
    """The report page's URL: shown to everyone as a link (the page itself checks scope)."""
    try:
        rid = int(report_id)
    except (TypeError, ValueError):
        return None
    return _report_url(rid)


@bp.get("/verify/ca.pem")
def ca_cert():
    """The CA certificate(s) that issue the districts' signing certificates, to import as trusted."""
    data = pdf_service.trusted_certificates_pem()
    if not data:
        abort(404)
    response = current_app.response_class(data, mimetype="application/x-pem-file")
    response.headers["Content-Disposition"] = "attachment; filename=chengbao-ca.pem"
    return response


# ---------------------------------------------------------------- the development CA and TSA (public)


@bp.get("/ca/cert")
def dev_ca_certificate():
    """The development CA's certificate (DER), where its certificates' issuers are fetched."""
    data = pdf_service.dev_ca_certificate_der()
    if data is None:
        abort(404)
    response = current_app.response_class(data, mimetype="application/pkix-cert")
    response.headers["Content-Disposition"] = "attachment; filename=chengbao-ca.cer"
    return response


@bp.get("/ca/crl")
def dev_ca_crl():
    """The development CA's CRL (DER, signed by the CA, re-issued when it nears its next
    update): the CRL distribution point named in every certificate the CA issues."""
    data = pdf_service.dev_ca_crl()
    if data is None:
        abort(404)
    response = current_app.response_class(data, mimetype="application/pkix-crl")
    response.headers["Content-Disposition"] = "attachment; filename=chengbao-ca.crl"
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.post("/tsa")
@csrf.exempt
def dev_tsa():
    """The development RFC 3161 time-stamp authority (``application/timestamp-query`` in,
    ``application/timestamp-reply`` out); 404 on a site without the development CA."""
    if request.content_length is not None and request.content_length > TSA_REQUEST_LIMIT:
        abort(413)
    reply = pdf_service.dev_timestamp(request.get_data(cache=False)[:TSA_REQUEST_LIMIT + 1])
    if reply is None:
        abort(404)
    if reply == b"":
        abort(400)
    return current_app.response_class(reply, mimetype="application/timestamp-reply")
