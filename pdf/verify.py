"""Check an uploaded PDF: is it a published report, signed by a district key issued by
our CA, and unaltered since?

Statuses (``VerifyResult.status``):

* ``valid`` — every signature is intact, made by a certificate that chains to one of the
  trust roots (PAdES long-term validation: a signature timestamped while its certificate
  was valid stays valid after the certificate expires), and nothing but long-term
  validation data (a DSS, document timestamps) was added after it;
* ``modified`` — the signed bytes no longer match their digest, the signature value is
  wrong, a signature was removed, or the file was changed after signing: any
  incremental update other than a DSS or a document timestamp, any byte after the last
  ``%%EOF`` (:mod:`pdf.revisions`), or an object change pyHanko's difference analysis
  finds;
* ``untrusted`` — intact, but the signer's certificate does not chain to our roots;
* ``unsigned`` — a readable PDF without a signature;
* ``malformed`` — not a PDF pyHanko can read (never an exception).

Why (``VerifyResult.detail``, with ``params``) is a reason, not a sentence: its key
``verify.<detail>`` names the explanation in ``web/messages.py``, rendered in the
reader's language by the page and the API.

The archive number and report id come from the document information dictionary of the
*signed revision* (``/ChengbaoArchiveNo``, ``/ChengbaoReportId``, written by
``pdf.render``), so they are covered by the signature; they are reported only when the
file is unaltered (``valid`` or ``untrusted``). ``signed_prefixes`` are the SHA-256 of
the file cut after each signature's revision: an archived original is one of them when
the upload is that original renewed with later document timestamps.
"""
from __future__ import annotations

import dataclasses
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
from pyhanko.sign.ades.report import AdESPassed
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import async_validate_pdf_signature, async_validate_pdf_timestamp
from pyhanko.sign.validation.ades import ades_lta_validation, simulate_future_ades_lta_validation
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.policy_decl import (
    PdfSignatureValidationSpec,
    RevinfoOnlineFetchingRule,
    RevocationInfoGatheringSpec,
    SignatureValidationSpec,
)
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.context import CertValidationPolicySpec
from pyhanko_certvalidator.policy_decl import CertRevTrustPolicy, RevocationCheckingPolicy, RevocationCheckingRule
from pyhanko_certvalidator.registry import SimpleTrustManager

from .render import INFO_ARCHIVE_NO, INFO_REPORT_ID
from .revisions import (
    BYTES_AFTER_END,
    CATALOG_CHANGED,
    CATALOG_REPLACED,
    EMPTY_UPDATE,
    INFO_CHANGED,
    OBJECTS_ADDED,
    Change,
    revision_ends,
    unexplained_changes,
)
from .signing import CA_CERT_FILE, run_coroutine

# The reasons a file is ``modified`` that pdf.revisions finds, named here with the others.
__all__ = ["BYTES_AFTER_END", "CATALOG_CHANGED", "CATALOG_REPLACED", "EMPTY_UPDATE", "INFO_CHANGED", "OBJECTS_ADDED",
           "Signer", "Status", "VerifyResult", "trust_roots", "verify_pdf"]

log = logging.getLogger(__name__)

Status = Literal["valid", "modified", "untrusted", "unsigned", "malformed"]

# Why, beyond the status: ``valid``, ``untrusted``, ``unsigned`` and ``malformed`` explain
# themselves; a document is ``modified`` for one of these reasons or a
# :class:`pdf.revisions.Change` kind.
DIGEST_MISMATCH = "digest_mismatch"  # the signed bytes no longer match their digest
SIGNATURE_INVALID = "signature_invalid"  # the signature value does not match content or certificate
MODIFIED_AFTER_SIGNING = "modified_after_signing"  # the signature does not cover its whole revision
UNPROCESSABLE = "unprocessable"  # the signature container cannot be processed (params: error)
SIGNATURE_REMOVED = "signature_removed"  # an earlier revision was signed, the file no longer is
TIMESTAMP_INVALID = "timestamp_invalid"  # a timestamp no longer matches what it covers (params: revision)

_ACCEPTED_LEVELS = (ModificationLevel.NONE, ModificationLevel.LTA_UPDATES)
FORM_CHANGED = "form_changed"  # pyHanko: form fields filled in after signing
ANNOTATIONS_ADDED = "annotations_added"  # pyHanko: annotations added or changed after signing
CONTENT_CHANGED = "content_changed"  # pyHanko: any other object change (page content, structure)
_CHANGE_KINDS = {ModificationLevel.FORM_FILLING: FORM_CHANGED, ModificationLevel.ANNOTATIONS: ANNOTATIONS_ADDED,
                 ModificationLevel.OTHER: CONTENT_CHANGED}
_ROOT_SUFFIXES = (".pem", ".crt", ".cer", ".der")


@dataclass(frozen=True)
class Signer:
    """One signature of the file, in order: who (the signature's /Name, else the
    certificate's common name), for which organisation (the certificate's O, else its CN),
    when (the signature timestamp's time, else the signer's claim) and whether a TSA vouches
    for that time."""

    name: str | None
    org: str | None
    signed_at: dt.datetime | None
    timestamped: bool
    certificate: str | None  # the certificate's common name


@dataclass(frozen=True)
class VerifyResult:
    valid: bool
    status: Status
    sha256: str  # of the bytes as uploaded
    signer: str | None  # the signing certificate's common name
    signed_at: dt.datetime | None  # the signature timestamp's time, else the signer's claim
    reason: str | None  # the signature's /Reason
    archive_no: str | None
    report_id: int | None
    detail: str  # why: the status itself, or one of the modified reasons above
    params: dict[str, Any] = field(default_factory=dict)
    timestamped: bool = False  # the signing time comes from a trusted time-stamp authority
    signed_prefixes: tuple[str, ...] = ()  # SHA-256 of the file as it was after each signed revision and later
    signers: tuple[Signer, ...] = ()  # every signature, first first (a town's 上行文: the town, the district)

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
    """Archive number and report id from the Info dictionary of ``revision`` (the signed
    one: whatever a later update wrote there is not what was signed)."""
    try:
        resolver = reader.get_historical_resolver(revision)
        trailer = resolver.trailer_view
        if "/Info" not in trailer:
            return None, None
        ref = trailer.raw_get("/Info")
        info = resolver(ref.reference) if hasattr(ref, "reference") else ref
        archive_no = _text(info.get("/" + INFO_ARCHIVE_NO))
        raw_id = _text(info.get("/" + INFO_REPORT_ID))
        return archive_no, int(raw_id) if raw_id and raw_id.isdigit() else None
    except Exception:  # a missing or odd Info dictionary is not a verdict
        return None, None


def verify_pdf(data: bytes, trust_roots: Sequence[Path | bytes], *, at: dt.datetime | None = None) -> VerifyResult:
    """Verify the signature(s) of ``data`` against ``trust_roots`` (CA certificates as
    paths or PEM/DER bytes). Never raises on bad input: see the module doc for statuses.

    ``at``: judge as of that (future) moment instead of now, by pyHanko's simulation of a
    PAdES long-term validation then, given that the file's document timestamps are renewed
    in time (what ``flask archive-renew`` does)."""
    sha256 = hashlib.sha256(data).hexdigest()
    try:
        reader = PdfFileReader(BytesIO(data), strict=False)
        signatures = reader.embedded_regular_signatures
        timestamps = reader.embedded_timestamp_signatures
    except Exception as exc:
        log.info("verify: unreadable PDF (%s)", exc)
        return _result("malformed", sha256)
    if not signatures:
        if _was_signed(reader):
            return _result("modified", sha256, SIGNATURE_REMOVED)
        return _result("unsigned", sha256)
    roots = _certificates(trust_roots)
    prefixes = tuple(hashlib.sha256(data[:end]).hexdigest()
                     for end in revision_ends(reader, data, signatures[0].signed_revision))
    # The last signature speaks for the final document; earlier ones must hold too. A
    # signature may be followed by later signatures' revisions (the district's approval of
    # a town's 上行文), each of which is verified in turn.
    worst: VerifyResult | None = None
    signers: list[Signer] = []
    for index in range(len(signatures) - 1, -1, -1):
        embedded = signatures[index]
        later = {s.signed_revision for s in signatures[index + 1:]}
        result = _verify_one(reader, data, embedded, timestamps, roots, sha256, at, later)
        signers.insert(0, _signer_of(embedded, result))
        if worst is None or _RANK[result.status] > _RANK[worst.status]:
            worst = result
    assert worst is not None
    return dataclasses.replace(worst, signed_prefixes=prefixes, signers=tuple(signers))


def _signer_of(embedded: EmbeddedPdfSignature, result: VerifyResult) -> Signer:
    name = org = None
    try:
        name = _text(embedded.sig_object.get("/Name"))
        subject = embedded.signer_cert.subject.native
        org = _text(subject.get("organization_name")) or _text(subject.get("common_name"))
    except Exception:
        pass
    return Signer(name=name or result.signer, org=org, signed_at=result.signed_at, timestamped=result.timestamped,
                  certificate=result.signer)


_RANK = {"valid": 0, "untrusted": 1, "modified": 2, "malformed": 3}


def _was_signed(reader: PdfFileReader) -> bool:
    """True when an earlier revision of the file carries a signature field with a value."""
    for revision in range(reader.xrefs.total_revisions - 1):
        try:
            resolver = reader.get_historical_resolver(revision)
            root = resolver(resolver.trailer_view.raw_get("/Root").reference)
            fields = [f.get_object() for f in root["/AcroForm"]["/Fields"]] if "/AcroForm" in root else []
            if any(f.get("/FT") == "/Sig" and "/V" in f for f in fields):
                return True
        except Exception:
            continue
    return False


def _verify_one(reader: PdfFileReader, data: bytes, embedded: EmbeddedPdfSignature,
                timestamps: list[EmbeddedPdfSignature], roots: list[x509.Certificate], sha256: str,
                at: dt.datetime | None, later_signatures: set[int] | frozenset[int] = frozenset()) -> VerifyResult:
    """``later_signatures``: the revisions signed by the file's later regular signatures
    (verified by the caller): after a signature they are the one change beyond long-term
    validation data that is accepted, as form filling (pyHanko's difference analysis
    judges their objects: signing a field made beforehand, nothing else)."""
    found: dict[str, Any] = {}
    try:
        found["reason"] = _text(embedded.sig_object.get("/Reason"))
        found["signed_at"] = embedded.self_reported_timestamp
        found["signer"] = embedded.signer_cert.subject.native.get("common_name")
    except Exception:
        pass
    try:
        status = run_coroutine(async_validate_pdf_signature(embedded, _context(roots, at)))
    except Exception as exc:
        # The signature container itself cannot be processed (garbled CMS, bytes cut
        # off): whatever this is, it is not the document we signed.
        log.info("verify: signature not processable (%s)", exc)
        return _result("modified", sha256, UNPROCESSABLE, {"error": type(exc).__name__}, **found)
    if status.signer_reported_dt is not None:
        found["signed_at"] = status.signer_reported_dt
    stamp = status.timestamp_validity
    if stamp is not None and stamp.intact and stamp.valid:
        found["signed_at"], found["timestamped"] = stamp.timestamp, bool(stamp.trusted)
    if not status.intact:
        return _result("modified", sha256, DIGEST_MISMATCH, **found)
    if not status.valid:
        return _result("modified", sha256, SIGNATURE_INVALID, **found)
    if stamp is not None and not (stamp.intact and stamp.valid):
        # The signature timestamp sits in the signature's unsigned attributes, outside
        # the signed bytes: a broken one was altered after signing.
        return _result("modified", sha256, TIMESTAMP_INVALID, {"revision": embedded.signed_revision + 1}, **found)
    changed = _what_changed(reader, data, embedded, timestamps, roots, status, later_signatures)
    if changed is not None:
        return _result("modified", sha256, changed.kind, changed.params, **found)
    found["archive_no"], found["report_id"] = _signed_info(reader, embedded.signed_revision)
    timestamped = status.timestamp_validity is not None or any(
        ts.signed_revision > embedded.signed_revision for ts in timestamps)
    # While the signer's certificate is valid, the basic validation decides (a B-B
    # signature from before timestamps, later renewed, included); once it has expired,
    # only the PAdES long-term validation of a timestamped signature can.
    if not (status.trusted or (timestamped and _trusted(embedded, roots, at))):
        return _result("untrusted", sha256, **found)
    return _result("valid", sha256, **found)


def _what_changed(reader: PdfFileReader, data: bytes, embedded: EmbeddedPdfSignature,
                  timestamps: list[EmbeddedPdfSignature], roots: list[x509.Certificate], status: Any,
                  later_signatures: set[int] | frozenset[int] = frozenset()) -> Change | None:
    """The first change after the signature that is neither long-term validation data nor
    (``later_signatures``) a later signature's own revision."""
    if status.coverage == SignatureCoverageLevel.ENTIRE_FILE:
        tail = unexplained_changes(reader, data, embedded.signed_revision, set())
        return tail[0] if tail else None
    if status.coverage != SignatureCoverageLevel.ENTIRE_REVISION:
        return Change(MODIFIED_AFTER_SIGNING)
    signed_later = {revision for revision in later_signatures if revision > embedded.signed_revision}
    accepted = _ACCEPTED_LEVELS + ((ModificationLevel.FORM_FILLING,) if signed_later else ())
    if status.modification_level not in accepted or status.docmdp_ok is False:
        return Change(_CHANGE_KINDS.get(status.modification_level, CONTENT_CHANGED))
    later = [ts for ts in timestamps if ts.signed_revision > embedded.signed_revision]
    for ts in later:
        if not _timestamp_intact(ts, roots):
            return Change(TIMESTAMP_INVALID, {"revision": ts.signed_revision + 1})
    changes = unexplained_changes(reader, data, embedded.signed_revision,
                                  {ts.signed_revision for ts in later} | signed_later)
    return changes[0] if changes else None


def _timestamp_intact(timestamp: EmbeddedPdfSignature, roots: list[x509.Certificate]) -> bool:
    """A document timestamp still matches the bytes it covers (whoever its TSA is: its
    revision then counts as long-term validation data, judged by pyHanko's diff analysis)."""
    try:
        status = run_coroutine(async_validate_pdf_timestamp(
            timestamp, ValidationContext(trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail")))
    except Exception:
        return False
    return bool(status.intact and status.valid)


def _context(roots: list[x509.Certificate], at: dt.datetime | None) -> ValidationContext:
    """Integrity and difference analysis: no fetching (an uploaded file must not make this
    server reach out to the URLs it names), revocation checked with what the file holds."""
    return ValidationContext(trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail",
                             moment=at)


def _trusted(embedded: EmbeddedPdfSignature, roots: list[x509.Certificate], at: dt.datetime | None) -> bool:
    """PAdES long-term validation (ETSI EN 319 102-1 § 5.6.3) against ``roots``: the
    signature timestamp proves the signature existed while its certificate was valid,
    the DSS holds the revocation data of that time, the document timestamps prove the DSS
    existed; revocation data is required where the file has it and a certificate names a
    CRL, and never fetched. ``at``: pyHanko's simulation of that validation at a later
    moment, with the timestamp chain maintained until then."""
    if not roots:
        return False
    spec = PdfSignatureValidationSpec(SignatureValidationSpec(
        cert_validation_policy=CertValidationPolicySpec(
            trust_manager=SimpleTrustManager.build(trust_roots=roots),
            revinfo_policy=CertRevTrustPolicy(RevocationCheckingPolicy(
                ee_certificate_rule=RevocationCheckingRule.CHECK_IF_DECLARED_SOFT,
                intermediate_ca_cert_rule=RevocationCheckingRule.CHECK_IF_DECLARED_SOFT)),
        ),
        revinfo_gathering_policy=RevocationInfoGatheringSpec(
            online_fetching_rule=RevinfoOnlineFetchingRule.LOCAL_ONLY),
    ))
    try:
        if at is None:
            result = run_coroutine(ades_lta_validation(embedded, spec))
        else:
            result = run_coroutine(simulate_future_ades_lta_validation(embedded, spec, at))
    except Exception as exc:
        log.info("verify: long-term validation failed to run (%s)", exc)
        return False
    return result.ades_subindic == AdESPassed.OK
