"""The signed archive against forgery and time: a PAdES B-LTA signature (signature
timestamp from the development TSA over HTTP, CRLs in the DSS, document timestamp) and
ten ways of changing the file after signing, each judged by poppler's ``pdfsig``,
pyHanko and the app (``pdf.verify``), and validation ten years ahead.

The forgeries are made here, the way a forger would: pyHanko's incremental writer
(an update that rewrites /Info, an annotation, a new page content stream, a removed
signature), bytes appended by hand, ``qpdf`` re-saving the file, and a certificate
authority of our own with the same names as ours.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import re
import shutil
import subprocess
import urllib.request
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import pytest
from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESPassed
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko.sign.validation.ades import ades_lta_validation, simulate_future_ades_lta_validation
from pyhanko.sign.validation.policy_decl import (
    PdfSignatureValidationSpec,
    RevinfoOnlineFetchingRule,
    RevocationInfoGatheringSpec,
    SignatureValidationSpec,
)
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.context import CertValidationPolicySpec, ValidationTimingInfo
from pyhanko_certvalidator.policy_decl import CertRevTrustPolicy, RevocationCheckingPolicy, RevocationCheckingRule
from pyhanko_certvalidator.registry import SimpleTrustManager

from app import create_app
from pdf import ltv, signing
from pdf.render import RenderInput, render_report
from pdf.revisions import unexplained_changes
from pdf.verify import verify_pdf
from tests.browser_support import serve

FORGED_NO = "示范区〔2026〕999号"
TEN_YEARS = dt.timedelta(days=3653)


@dataclass
class Pki:
    base: str  # the app serving /tsa and /ca/crl
    config: dict
    ca_cert: Path
    p12: Path
    keys: Path


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """The app (its development CA, TSA and CRL) on a real socket, and a district key
    whose certificate names the app's CRL URL."""
    tmp = tmp_path_factory.mktemp("pki")
    app = create_app({"TESTING": True, "SECRET_KEY": "t", "INSTANCE_DIR": str(tmp), "KEYS_DIR": str(tmp / "keys"),
                      "ARCHIVE_DIR": str(tmp / "archive"), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'db'}"})
    with serve(app) as base:
        app.config.update(PUBLIC_BASE_URL=base, TSA_URL=f"{base}/tsa")
        ca_dir = ltv.ca_directory(app.config)
        signing.create_dev_ca(ca_dir)
        ltv.ensure_dev_tsa(app.config)
        p12 = signing.issue_district_certificate(ca_dir, "示范区", tmp / "keys" / "district-1.p12", None,
                                                 crl_url=ltv.crl_url(app.config))
        yield Pki(base, dict(app.config), ca_dir / signing.CA_CERT_FILE, p12, tmp / "keys")


def _render(**overrides):
    values = dict(title="青山镇2026年度工作计划", outline={"preamble": ["为做好本年度工作，现将计划报告如下。"],
                                                         "sections": [], "closing": []},
                  issuer="示范区", town="青山镇", date=dt.date(2026, 1, 5), archive_no="示范区〔2026〕3号",
                  doc_number="示范区〔2026〕3号", report_id=12)
    values.update(overrides)
    return render_report(RenderInput(**values))


def _sign_lta(config: dict, p12: Path, rendered) -> bytes:
    return signing.sign_pdf(rendered.data, signing.load_signer(p12, None), seal_box=rendered.seal_box,
                            reason="批准发布", signer_name="示范区", timestamper=ltv.timestamper(config),
                            validation_context=ltv.embedding_context(config))


@pytest.fixture(scope="module")
def original(pki) -> bytes:
    return _sign_lta(pki.config, pki.p12, _render())


# ---------------------------------------------------------------- the forgeries


def _write(writer: IncrementalPdfFileWriter) -> bytes:
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def flip_byte(data: bytes) -> bytes:
    """One byte changed inside the first page's content stream (signed)."""
    contents = re.search(rb"/Contents (\d+) 0 R", data)
    assert contents is not None
    start = re.search(rb"\n" + contents.group(1) + rb" 0 obj\b", data)
    assert start is not None
    position = data.index(b"stream\n", start.end()) + len(b"stream\n") + 40
    return data[:position] + bytes([data[position] ^ 0x01]) + data[position + 1:]


def info_only(data: bytes) -> bytes:
    writer = IncrementalPdfFileWriter(BytesIO(data))
    ref = writer.trailer.raw_get("/Info")
    info = ref.get_object()
    info["/ChengbaoArchiveNo"] = generic.TextStringObject(FORGED_NO)
    writer.update_container(info)
    return _write(writer)


def no_op(data: bytes) -> bytes:
    """An update with an empty cross-reference section: nothing but a new trailer."""
    reader = PdfFileReader(BytesIO(data))
    trailer = reader.trailer_view
    prev = reader.last_startxref
    ids = " ".join(f"<{part.hex()}>" for part in reader.document_id)
    root, info = trailer.raw_get("/Root").reference, trailer.raw_get("/Info").reference
    section = (f"xref\n0 0\ntrailer\n<< /Size {trailer['/Size']} /Root {root.idnum} {root.generation} R "
               f"/Info {info.idnum} {info.generation} R /Prev {prev} /ID [{ids}] >>\n").encode()
    start = len(data)
    return data + section + f"startxref\n{start}\n%%EOF\n".encode()


def bytes_after_eof(data: bytes) -> bytes:
    return data + b"\n% not covered by any signature\n"


def annotation_added(data: bytes) -> bytes:
    writer = IncrementalPdfFileWriter(BytesIO(data))
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    note = writer.add_object(generic.DictionaryObject({
        generic.NameObject("/Type"): generic.NameObject("/Annot"),
        generic.NameObject("/Subtype"): generic.NameObject("/Text"),
        generic.NameObject("/Rect"): generic.ArrayObject([generic.NumberObject(n) for n in (100, 100, 120, 120)]),
        generic.NameObject("/Contents"): generic.TextStringObject("已作废"),
    }))
    annots = page["/Annots"]
    annots.append(note)
    writer.update_container(annots if isinstance(page.raw_get("/Annots"), generic.IndirectObject) else page)
    return _write(writer)


def page_stream_replaced(data: bytes) -> bytes:
    writer = IncrementalPdfFileWriter(BytesIO(data))
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    page["/Contents"] = writer.add_object(generic.StreamObject(stream_data=b"0 0 1 rg 100 100 200 200 re f\n"))
    writer.update_container(page)
    return _write(writer)


def resaved_by_qpdf(data: bytes, tmp: Path) -> bytes:
    if shutil.which("qpdf") is None:
        pytest.skip("qpdf (Debian package qpdf) is not installed")
    source, target = tmp / "in.pdf", tmp / "qpdf.pdf"
    source.write_bytes(data)
    done = subprocess.run(["qpdf", str(source), str(target)], capture_output=True, text=True, timeout=60)
    assert done.returncode in (0, 3), done.stderr  # 3: warnings
    return target.read_bytes()


def signature_stripped(data: bytes) -> bytes:
    """The signature field, its widget and the certification entry removed by an update."""
    writer = IncrementalPdfFileWriter(BytesIO(data))
    root = writer.root
    form = root["/AcroForm"]
    form["/Fields"] = generic.ArrayObject()
    del root["/Perms"]
    writer.update_root()
    if isinstance(root.raw_get("/AcroForm"), generic.IndirectObject):
        writer.update_container(form)
    for kid in root["/Pages"]["/Kids"]:
        page = kid.get_object()
        if "/Annots" in page:
            page["/Annots"] = generic.ArrayObject()
            writer.update_container(page)
    return _write(writer)


def foreign_ca(tmp: Path, config: dict) -> bytes:
    """Signed like ours (B-LTA, the same TSA) by a CA with our CA's very names."""
    ca_dir = tmp / "foreign-ca"
    signing.create_dev_ca(ca_dir)  # the default name: the same as ours
    p12 = signing.issue_district_certificate(ca_dir, "示范区", tmp / "foreign.p12", None)
    foreign_root = asn1_x509.Certificate.load(pem.unarmor((ca_dir / signing.CA_CERT_FILE).read_bytes())[2])
    rendered = _render()
    ours = ltv.ca_directory(config)
    our_root = asn1_x509.Certificate.load(pem.unarmor((ours / signing.CA_CERT_FILE).read_bytes())[2])
    # Our TSA stamps it: its certificate chains to our root, the signer's to theirs.
    context = signing.validation_context([foreign_root, our_root],
                                         [signing.current_crl(ca_dir), signing.current_crl(ours)])
    return signing.sign_pdf(rendered.data, signing.load_signer(p12, None), seal_box=rendered.seal_box,
                            reason="批准发布", signer_name="示范区", timestamper=ltv.timestamper(config),
                            validation_context=context)


# ---------------------------------------------------------------- the three verifiers


def pdfsig_says(path: Path) -> str:
    """poppler's verdict on the first signature, and whether it reports the whole file signed."""
    if shutil.which("pdfsig") is None:
        pytest.skip("pdfsig (Debian package poppler-utils) is not installed")
    done = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, timeout=60)
    output = done.stdout + done.stderr
    first = re.search(r"Signature #1:(.*?)(?=Signature #2:|\Z)", output, re.S)
    if first is None:
        return "no signature" if "does not contain any signatures" in output else "unreadable"
    validation = re.search(r"Signature Validation: (.*)", first.group(1))
    return validation.group(1).strip().rstrip(".") if validation else "unknown"


def _roots(pki: Pki) -> list:
    return [asn1_x509.Certificate.load(pem.unarmor(pki.ca_cert.read_bytes())[2])]


def _spec(roots: list) -> PdfSignatureValidationSpec:
    return PdfSignatureValidationSpec(SignatureValidationSpec(
        cert_validation_policy=CertValidationPolicySpec(
            trust_manager=SimpleTrustManager.build(trust_roots=roots),
            revinfo_policy=CertRevTrustPolicy(RevocationCheckingPolicy(
                ee_certificate_rule=RevocationCheckingRule.CRL_OR_OCSP_REQUIRED,
                intermediate_ca_cert_rule=RevocationCheckingRule.CRL_OR_OCSP_REQUIRED))),
        revinfo_gathering_policy=RevocationInfoGatheringSpec(online_fetching_rule=RevinfoOnlineFetchingRule.LOCAL_ONLY),
    ))


def pyhanko_says(data: bytes, roots: list) -> str:
    """pyHanko's own verdict on the first signature: ``intact/valid/trusted``, its
    modification level, and its PAdES long-term validation (revocation data required)."""
    try:
        reader = PdfFileReader(BytesIO(data), strict=False)
        signatures = reader.embedded_regular_signatures
    except Exception as exc:
        return f"unreadable ({type(exc).__name__})"
    if not signatures:
        return "no signature"
    embedded = signatures[0]
    try:
        status = asyncio.run(async_validate_pdf_signature(
            embedded, ValidationContext(trust_roots=roots, allow_fetching=False)))
    except Exception as exc:
        return f"error ({type(exc).__name__})"
    if not status.intact:
        return "digest mismatch"
    level = status.modification_level.name if status.modification_level is not None else "?"
    lta = asyncio.run(ades_lta_validation(embedded, _spec(roots))).ades_subindic
    return f"{'VALID' if status.bottom_line else 'INVALID'} ({level}), LTA {lta.name if lta else '?'}"


def _app_says(data: bytes, pki: Pki) -> str:
    result = verify_pdf(data, [pki.ca_cert])
    return result.status if result.detail == result.status else f"{result.status} ({result.detail})"


CASES = {
    "original": lambda data, tmp, config: data,
    "one byte flipped": lambda data, tmp, config: flip_byte(data),
    "Info-only update": lambda data, tmp, config: info_only(data),
    "no-op update": lambda data, tmp, config: no_op(data),
    "bytes after %%EOF": lambda data, tmp, config: bytes_after_eof(data),
    "annotation added": lambda data, tmp, config: annotation_added(data),
    "page stream replaced": lambda data, tmp, config: page_stream_replaced(data),
    "re-saved by qpdf": lambda data, tmp, config: resaved_by_qpdf(data, tmp),
    "signature stripped": lambda data, tmp, config: signature_stripped(data),
    "foreign CA, same names": lambda data, tmp, config: foreign_ca(tmp, config),
}

# What each verifier answers. pdfsig checks the signed byte ranges only (it cannot tell an
# update after signing from the DSS and timestamp revisions a B-LTA file must have, and
# it does not know our CA); pyHanko's modification levels let an /Info rewrite, an empty
# update and appended bytes pass as "LTA updates", and its AdES long-term validation does
# not weigh modifications at all; the app names each change.
EXPECTED = {
    "original": ("Signature is Valid", "VALID (LTA_UPDATES), LTA OK", "valid"),
    "one byte flipped": ("Digest Mismatch", "digest mismatch", "modified (digest_mismatch)"),
    "Info-only update": ("Signature is Valid", "VALID (LTA_UPDATES), LTA OK", "modified (info_changed)"),
    "no-op update": ("Signature is Valid", "VALID (LTA_UPDATES), LTA OK", "modified (empty_update)"),
    "bytes after %%EOF": ("Signature is Valid", "VALID (LTA_UPDATES), LTA OK", "modified (bytes_after_end)"),
    "annotation added": ("Signature is Valid", "INVALID (OTHER), LTA OK", "modified (content_changed)"),
    "page stream replaced": ("Signature is Valid", "INVALID (OTHER), LTA OK", "modified (content_changed)"),
    "re-saved by qpdf": ("Digest Mismatch", "digest mismatch", "modified (digest_mismatch)"),
    "signature stripped": ("no signature", "no signature", "modified (signature_removed)"),
    "foreign CA, same names": ("Signature is Valid", "INVALID (LTA_UPDATES), LTA CERTIFICATE_CHAIN_GENERAL_FAILURE",
                               "untrusted"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_pdfsig_pyhanko_and_the_app_on_each_change(pki, original, tmp_path, case):
    data = CASES[case](original, tmp_path, pki.config)
    path = tmp_path / "case.pdf"
    path.write_bytes(data)
    answers = (pdfsig_says(path), pyhanko_says(data, _roots(pki)), _app_says(data, pki))
    print(f"| {case} | {answers[0]} | {answers[1]} | {answers[2]} |", flush=True)
    assert answers == EXPECTED[case]


def test_a_page_rewritten_under_cover_of_the_dss_is_caught(pki, original):
    """An update that looks like long-term validation data: the page's content stream is
    replaced in place and listed among the DSS's certificates."""
    writer = IncrementalPdfFileWriter(BytesIO(original))
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    contents = page.raw_get("/Contents")
    ref = contents if isinstance(contents, generic.IndirectObject) else contents[0]
    writer.mark_update(ref)
    writer.objects[(ref.generation, ref.idnum)] = generic.StreamObject(stream_data=b"0 0 1 rg 0 0 100 100 re f\n")
    dss = writer.root["/DSS"]
    dss["/Certs"].append(ref)
    writer.update_container(dss["/Certs"] if isinstance(dss.raw_get("/Certs"), generic.IndirectObject) else dss)
    forged = _write(writer)
    assert verify_pdf(forged, [pki.ca_cert]).status == "modified"  # pyHanko's diff analysis sees it first
    reader = PdfFileReader(BytesIO(forged))
    signed = reader.embedded_regular_signatures[0].signed_revision
    stamps = {ts.signed_revision for ts in reader.embedded_timestamp_signatures}
    assert [c.kind for c in unexplained_changes(reader, forged, signed, stamps)] == ["objects_added"]
    assert unexplained_changes(PdfFileReader(BytesIO(original)), original, signed, stamps) == []


def test_an_altered_signature_timestamp_is_caught(pki, original):
    """The signature timestamp lives in the signature's unsigned attributes, inside the
    /Contents hole the signed byte range leaves out: altering it breaks no digest."""
    from asn1crypto import cms

    start = original.index(b"/Contents <") + len(b"/Contents <")
    end = original.index(b">", start)
    raw = bytes.fromhex(original[start:end].decode())
    info = cms.ContentInfo.load(raw.rstrip(b"\0"))
    token = info["content"]["signer_infos"][0]["unsigned_attrs"][0]["values"][0]
    tst_signer = token["content"]["signer_infos"][0]
    signature = bytearray(tst_signer["signature"].native)
    signature[10] ^= 0x01
    tst_signer["signature"] = bytes(signature)
    altered = info.dump(force=True)
    assert len(altered) == len(raw.rstrip(b"\0"))
    hex_contents = altered.hex().ljust(end - start, "0").encode()
    forged = original[:start] + hex_contents + original[end:]
    result = verify_pdf(forged, [pki.ca_cert])
    # Named at the signature's own revision (the document timestamp after it breaks too).
    assert (result.status, result.detail, result.params) == ("modified", "timestamp_invalid", {"revision": 2})


def test_the_forged_archive_number_is_never_shown(pki, original):
    forged = info_only(original)
    assert FORGED_NO.encode("utf-16-be") in forged or FORGED_NO.encode() in forged or b"/ChengbaoArchiveNo" in forged
    result = verify_pdf(forged, [pki.ca_cert])
    assert result.status == "modified" and result.archive_no is None
    assert verify_pdf(original, [pki.ca_cert]).archive_no == "示范区〔2026〕3号"


# ---------------------------------------------------------------- B-LTA


def test_the_signature_is_timestamped_and_its_validation_data_embedded(pki, original):
    reader = PdfFileReader(BytesIO(original))
    (signature,) = reader.embedded_regular_signatures
    status = asyncio.run(async_validate_pdf_signature(signature, ValidationContext(trust_roots=_roots(pki))))
    assert status.timestamp_validity is not None and status.timestamp_validity.intact
    assert status.timestamp_validity.signing_cert.subject.native["common_name"] == signing.TSA_NAME
    assert len(reader.embedded_timestamp_signatures) == 1  # the document timestamp
    dss = reader.root["/DSS"]
    assert len(dss["/CRLs"]) >= 1 and len(dss["/Certs"]) >= 2
    result = verify_pdf(original, [pki.ca_cert])
    assert result.timestamped and result.signed_at is not None


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


def test_certificates_name_the_crl_the_app_serves(pki, original):
    _, cert, _ = pkcs12.load_key_and_certificates(pki.p12.read_bytes(), None)
    points = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert points[0].full_name[0].value == f"{pki.base}/ca/crl"
    crl = x509.load_der_x509_crl(_get(f"{pki.base}/ca/crl"))
    ca = x509.load_der_x509_certificate(_get(f"{pki.base}/ca/cert"))
    assert crl.is_signature_valid(ca.public_key()) and crl.next_update_utc > dt.datetime.now(dt.UTC)
    tsa = signing.tsa_timestamper(pki.keys / "ca").tsa_cert
    usage = tsa["tbs_certificate"]["extensions"]
    eku = next(e for e in usage if e["extn_id"].native == "extended_key_usage")
    assert eku["critical"].native and eku["extn_value"].native == ["time_stamping"]


def test_ten_years_ahead_an_original_holds_and_a_forgery_does_not(pki, original):
    later = dt.datetime.now(dt.UTC) + TEN_YEARS
    roots = _roots(pki)
    # The signer's certificate (five years) has expired by then; the timestamps carry it.
    _, cert, _ = pkcs12.load_key_and_certificates(pki.p12.read_bytes(), None)
    assert cert.not_valid_after_utc < later
    embedded = PdfFileReader(BytesIO(original)).embedded_regular_signatures[0]
    simulated = asyncio.run(simulate_future_ades_lta_validation(embedded, _spec(roots), later))
    assert simulated.ades_subindic == AdESPassed.OK
    assert verify_pdf(original, [pki.ca_cert], at=later).status == "valid"
    assert verify_pdf(info_only(original), [pki.ca_cert], at=later).status == "modified"
    assert verify_pdf(flip_byte(original), [pki.ca_cert], at=later).status == "modified"
    flipped = PdfFileReader(BytesIO(flip_byte(original))).embedded_regular_signatures[0]
    assert asyncio.run(simulate_future_ades_lta_validation(flipped, _spec(roots), later)).ades_subindic \
        != AdESPassed.OK


def test_a_renewed_file_verifies_ten_years_ahead_without_simulation(pki, original):
    renewed = ltv.renew(original, pki.config)
    assert renewed.startswith(original)
    assert len(PdfFileReader(BytesIO(renewed)).embedded_timestamp_signatures) == 2
    assert verify_pdf(renewed, [pki.ca_cert]).status == "valid"
    later = dt.datetime.now(dt.UTC) + TEN_YEARS
    embedded = PdfFileReader(BytesIO(renewed)).embedded_regular_signatures[0]
    timing = ValidationTimingInfo(validation_time=later, best_signature_time=later, point_in_time_validation=True)
    result = asyncio.run(ades_lta_validation(embedded, _spec(_roots(pki)), timing_info=timing))
    assert result.ades_subindic == AdESPassed.OK
    assert verify_pdf(info_only(renewed), [pki.ca_cert]).status == "modified"


def test_a_file_signed_before_timestamps_is_renewed_and_still_verifies(pki):
    """Archived B-B files (signed before timestamps existed) are due for renewal at once;
    the document timestamp added to them keeps them valid."""
    rendered = _render(archive_no="示范区〔2025〕1号")
    plain = signing.sign_pdf(rendered.data, signing.load_signer(pki.p12, None), seal_box=rendered.seal_box,
                             reason="批准发布", signer_name="示范区")
    assert ltv.renewal_need(plain, before=dt.timedelta(days=365)).due
    renewed = ltv.renew(plain, pki.config)
    assert not ltv.renewal_need(renewed, before=dt.timedelta(days=365)).due
    result = verify_pdf(renewed, [pki.ca_cert])
    assert (result.status, result.archive_no) == ("valid", "示范区〔2025〕1号")
