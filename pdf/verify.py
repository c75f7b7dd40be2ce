"""Check an uploaded PDF: is it a published report, signed by a district key issued by
our CA, and unaltered since?

Statuses (``VerifyResult.status``):

* ``valid`` — the signature is intact, made by a certificate that chains to one of the
  trust roots, and nothing but long-term-validation data was added after it;
* ``tampered`` — the signed bytes no longer match their digest, the signature value is
  wrong, or the file was changed after signing (pyHanko's difference analysis against
  the certification signature's "no changes" policy);
* ``untrusted`` — intact, but the signer's certificate does not chain to our roots;
* ``unsigned`` — a readable PDF without a signature;
* ``malformed`` — not a PDF pyHanko can read (never an exception).

Why (``VerifyResult.detail``, with ``params``) is a reason, not a sentence: its key
``verify.<detail>`` names the explanation in ``web/messages.py``, rendered in the
reader's language by the page and the API.

The archive number and report id come from the document information dictionary of the
*signed revision* (``/ChengbaoArchiveNo``, ``/ChengbaoReportId``, written by
``pdf.render``), so they are covered by the signature; they are reported only when the
signature is intact (``valid`` or ``untrusted``).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any, ClassVar, Literal

from asn1crypto import pem, x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from .render import INFO_ARCHIVE_NO, INFO_REPORT_ID
from .signing import CA_CERT_FILE, run_coroutine

__all__ = ["Status", "VerifyResult", "trust_roots", "verify_pdf"]

log = logging.getLogger(__name__)

Status = Literal["valid", "tampered", "untrusted", "unsigned", "malformed"]

# Why, beyond the status: ``valid``, ``untrusted``, ``unsigned`` and ``malformed`` explain
# themselves; a document is ``tampered`` for one of these reasons.
DIGEST_MISMATCH = "digest_mismatch"  # the signed bytes no longer match their digest
SIGNATURE_INVALID = "signature_invalid"  # the signature value does not match content or certificate
MODIFIED_AFTER_SIGNING = "modified_after_signing"  # a revision other than LTV data was appended
UNPROCESSABLE = "unprocessable"  # the signature container cannot be processed (params: error)

_ACCEPTED_LEVELS = (ModificationLevel.NONE, ModificationLevel.LTA_UPDATES)
_ROOT_SUFFIXES = (".pem", ".crt", ".cer", ".der")


@dataclass(frozen=True)
class VerifyResult:
    valid: bool
    status: Status
    sha256: str  # of the bytes as uploaded
    signer: str | None  # the signing certificate's common name
    signed_at: dt.datetime | None
    reason: str | None  # the signature's /Reason
    archive_no: str | None
    report_id: int | None
    detail: str  # why: the status itself, or one of the tampered reasons above
    params: dict[str, Any] = field(default_factory=dict)

    code: ClassVar[str] = "verify"

    @property
    def key(self) -> str:
        """``verify.<detail>``: the explanation's entry in ``web/messages.py``."""
        return f"{self.code}.{self.detail}"

    @property
    def message(self) -> str:
        """The explanation, as its message key (the page and the API render it)."""
        return self.key


def trust_roots(keys_dir: Path | str) -> list[Path]:
    """The CA certificates to trust, found under the keys directory: the development CA
    (``ca.cert.pem`` or ``ca/ca.cert.pem``, as :func:`pdf.signing.create_dev_ca` writes
    it) and any certificate files an admin put in ``trust/`` (production CAs)."""
    base = Path(keys_dir)
    found = [p for p in (base / CA_CERT_FILE, base / "ca" / CA_CERT_FILE) if p.is_file()]
    trust_dir = base / "trust"
    if trust_dir.is_dir():
        found.extend(sorted(p for p in trust_dir.iterdir()
                            if p.is_file() and p.suffix.lower() in _ROOT_SUFFIXES))
    return found


def _certificates(roots: Sequence[Path | bytes]) -> list[x509.Certificate]:
    """Parse the trust roots; an unreadable one is logged and skipped (it can only make
    documents look untrusted, never trusted)."""
    certs = []
    for root in roots:
        try:
            data = root if isinstance(root, bytes) else Path(root).read_bytes()
            if pem.detect(data):
                found = [x509.Certificate.load(der) for _, _, der in pem.unarmor(data, multiple=True)]
            else:
                found = [x509.Certificate.load(data)]
            for cert in found:
                _ = cert.native  # parse now: asn1crypto is lazy, a broken root must fail here
            certs.extend(found)
        except Exception as exc:
            log.warning("verify: trust root %s unusable: %s",
                        root if not isinstance(root, bytes) else "<bytes>", exc)
    return certs


def _result(status: Status, sha256: str, detail: str | None = None, params: dict[str, Any] | None = None,
            **found: Any) -> VerifyResult:
    values: dict[str, Any] = dict(signer=None, signed_at=None, reason=None, archive_no=None, report_id=None)
    values.update(found)
    return VerifyResult(valid=status == "valid", status=status, sha256=sha256, detail=detail or status,
                        params=params or {}, **values)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _signed_info(reader: PdfFileReader, revision: int) -> tuple[str | None, int | None]:
    """Archive number and report id from the Info dictionary of ``revision``."""
    try:
        info = reader.get_historical_resolver(revision).trailer_view.get("/Info")
        if info is None:
            return None, None
        info = info.get_object()
        archive_no = _text(info.get("/" + INFO_ARCHIVE_NO))
        raw_id = _text(info.get("/" + INFO_REPORT_ID))
        return archive_no, int(raw_id) if raw_id and raw_id.isdigit() else None
    except Exception:  # a missing or odd Info dictionary is not a verdict
        return None, None


def verify_pdf(data: bytes, trust_roots: Sequence[Path | bytes]) -> VerifyResult:
    """Verify the signature(s) of ``data`` against ``trust_roots`` (CA certificates as
    paths or PEM/DER bytes). Never raises on bad input: see the module doc for statuses."""
    sha256 = hashlib.sha256(data).hexdigest()
    try:
        reader = PdfFileReader(BytesIO(data), strict=False)
        signatures = reader.embedded_regular_signatures
    except Exception as exc:
        log.info("verify: unreadable PDF (%s)", exc)
        return _result("malformed", sha256)
    if not signatures:
        return _result("unsigned", sha256)
    roots = _certificates(trust_roots)
    # The last signature speaks for the final document; earlier ones must hold too.
    worst: VerifyResult | None = None
    for embedded in reversed(signatures):
        result = _verify_one(reader, embedded, roots, sha256)
        if worst is None or _RANK[result.status] > _RANK[worst.status]:
            worst = result
    assert worst is not None
    return worst


_RANK = {"valid": 0, "untrusted": 1, "tampered": 2, "malformed": 3}


def _verify_one(reader: PdfFileReader, embedded: EmbeddedPdfSignature, roots: list[x509.Certificate],
                sha256: str) -> VerifyResult:
    found: dict[str, Any] = {}
    try:
        found["reason"] = _text(embedded.sig_object.get("/Reason"))
        found["signed_at"] = embedded.self_reported_timestamp
        found["signer"] = embedded.signer_cert.subject.native.get("common_name")
    except Exception:
        pass
    try:
        context = ValidationContext(trust_roots=roots, allow_fetching=False,
                                    revocation_mode="soft-fail")
        status = run_coroutine(async_validate_pdf_signature(embedded, context))
    except Exception as exc:
        # The signature container itself cannot be processed (garbled CMS, bytes cut
        # off): whatever this is, it is not the document we signed.
        log.info("verify: signature not processable (%s)", exc)
        return _result("tampered", sha256, UNPROCESSABLE, {"error": type(exc).__name__}, **found)
    if status.signer_reported_dt is not None:
        found["signed_at"] = status.signer_reported_dt
    if not status.intact:
        return _result("tampered", sha256, DIGEST_MISMATCH, **found)
    if not status.valid:
        return _result("tampered", sha256, SIGNATURE_INVALID, **found)
    covered = status.coverage == SignatureCoverageLevel.ENTIRE_FILE or (
        status.coverage == SignatureCoverageLevel.ENTIRE_REVISION
        and status.modification_level in _ACCEPTED_LEVELS and status.docmdp_ok is not False)
    if not covered:
        return _result("tampered", sha256, MODIFIED_AFTER_SIGNING, **found)
    found["archive_no"], found["report_id"] = _signed_info(reader, embedded.signed_revision)
    if not status.trusted:
        return _result("untrusted", sha256, **found)
    return _result("valid", sha256, **found)
