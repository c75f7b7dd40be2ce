"""Every sentence the domain's errors become, keyed by ``code.reason`` (see ``workflow/errors.py``).

Messages are English msgids in the gettext catalog (``translations/``), translated to Chinese
there; ``%(name)s`` placeholders take the error's params. ``render`` is the one place a
``DomainError`` becomes text: the HTML pages, the API and the CLI all call it.
``tests/test_i18n.py`` checks that every reason raised in the code has an entry here.
"""
from __future__ import annotations

from typing import Any

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from workflow.errors import DomainError

MESSAGES: dict[str, LazyString] = {
    # --- workflow: reports, versions, actions
    # (entries added by the errors conversion)

    # --- workflow: content import (the importer)
    # (entries added by the importer split)

    # --- pdf: publication, archive, verification
    # The signed PDF of a report (pdf/service.py) and its retry.
    "not_found.publication": _l("This report has not been published."),
    "conflict.pdf_not_ready": _l("The signed PDF is not ready yet."),
    "not_found.archive_file": _l("The archived file is missing; please tell the administrator."),
    "forbidden.retry_publication": _l("Only an administrator of the district can try again."),
    "conflict.publication_not_failed": _l("Only a failed publication can be retried."),
    # A failed attempt of the publishing job, as stored on the row (pdf/jobs.py, pdf/fonts.py).
    "not_found.publication_id": _l("Publication %(publication_id)s does not exist."),
    "not_found.publication_vanished": _l("Publication %(publication_id)s was deleted while its PDF was "
                                         "being archived."),
    "invalid.signing_key_missing": _l("%(district)s (id %(district_id)s) has no signing key: an administrator "
                                      "must install the district's PKCS#12 file as %(file)s in the keys "
                                      "directory (development: flask dev-keys)."),
    "conflict.content_mismatch": _l("Version %(version)s of report %(report_id)s does not match the approved "
                                    "content (hash %(approved)s…): it is not printed."),
    "invalid.font_file_missing": _l("The PDF font for the %(role)s role is missing: %(path)s (face %(subfont)s). "
                                    "Install it (%(install)s) or point the font configuration (PDF_FONTS) at "
                                    "another file."),
    "invalid.font_unreadable": _l("The PDF font for the %(role)s role cannot be read: %(path)s (face "
                                  "%(subfont)s): %(error)s. Install it (%(install)s) or point the font "
                                  "configuration (PDF_FONTS) at another file."),
    "invalid.font_no_unicode_map": _l("The PDF font for the %(role)s role has no Unicode character map: "
                                      "%(path)s (face %(subfont)s). Point the font configuration (PDF_FONTS) "
                                      "at another file."),
    "job.worker_died": _l("The worker making the PDF stopped unexpectedly."),
    "job.failed": _l("The job failed: %(error)s"),
    # The verdict on an uploaded PDF (pdf/verify.py): verify.<detail>.
    "verify.valid": _l("The signature is valid: the file is unchanged since it was signed, and the signing "
                       "certificate is trusted."),
    "verify.untrusted": _l("The signature is intact, but the signing certificate was not issued by an "
                           "authority this system trusts: the issuing body cannot be confirmed."),
    "verify.unsigned": _l("The file carries no electronic signature and cannot be verified."),
    "verify.malformed": _l("The file cannot be read: it is not a valid PDF, or it is damaged."),
    "verify.digest_mismatch": _l("The file was changed: the signed content no longer matches its digest."),
    "verify.signature_invalid": _l("The signature value is invalid: it matches neither the file's content nor "
                                   "the certificate."),
    "verify.modified_after_signing": _l("The file was changed after it was signed: this is not the original "
                                        "published document."),
    "verify.unprocessable": _l("The file was changed: its signature cannot be processed (%(error)s); this is "
                               "not the original published document."),

    # --- cycles, reminders, notifications, channels
    # (entries added by the cycles feature)
}

# A category's message, for a reason with no entry of its own (one added later).
FALLBACK: dict[str, LazyString] = {
    "bad_request": _l("The request is malformed."),
    "forbidden": _l("You may not do this."),
    "not_found": _l("Not found."),
    "conflict": _l("This conflicts with the current state; reload and try again."),
    "too_large": _l("Too large."),
    "invalid": _l("The request cannot be carried out as it stands."),
    "too_many": _l("Too many requests; try again later."),
}


def render(exc: DomainError) -> str:
    """The error as a sentence in the current request's language."""
    template = MESSAGES.get(exc.key) or FALLBACK.get(exc.code) or FALLBACK["bad_request"]
    params: dict[str, Any] = {k: ("" if v is None else v) for k, v in exc.params.items()}
    text = str(template)
    try:
        return text % params if params and "%(" in text else text
    except (KeyError, ValueError, TypeError):
        return text
