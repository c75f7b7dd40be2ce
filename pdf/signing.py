"""Signing keys and the PAdES signature of a published report.

Development: :func:`create_dev_ca` makes a local CA (PEM files) and
:func:`issue_district_certificate` a PKCS#12 per district, signed by it. Production: the
admin installs the district's PKCS#12 from a real CA instead; nothing else changes.

:func:`sign_pdf` adds a PAdES B-B signature (``ETSI.CAdES.detached``, SHA-256) as an
incremental update. By default it is a *certification* signature that allows no further
changes (DocMDP P=1): any later revision other than long-term-validation data makes
:func:`pdf.verify.verify_pdf` answer "modified". A town's report is signed twice
(``pdf.jobs``): the town's certification allows signing only (P=2) and makes the district's
empty field in its own update, before it (``other_fields``; :func:`add_signature_field` makes
one in an update of its own), then the district's approval signature fills that field, and
one document timestamp closes both (PAdES B-LTA). Each widget sits
exactly over a seal drawn by the renderer and has an empty appearance: the red seal on the
page *is* the visible signature.
"""
from __future__ import annotations

import asyncio
import atexit
import datetime as dt
import fcntl
import os
import ssl
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

import aiohttp
import certifi
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign.fields import (
    MDPPerm,
    SigFieldSpec,
    SigSeedSubFilter,
    append_signature_field,
    enumerate_sig_fields,
)
from pyhanko.sign.general import SigningError
from pyhanko.sign.signers import PdfSignatureMetadata, PdfSigner, SimpleSigner
from pyhanko.sign.timestamps import DummyTimeStamper, HTTPTimeStamper, TimeStamper
from pyhanko.sign.timestamps.common_utils import TimestampRequestError
from pyhanko.stamp import NoOpStampStyle
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.fetchers.aiohttp_fetchers.util import LazySession
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from . import speedups
from .pdfa import keep_metadata_on_update

# The signature, the DSS and the document timestamps leave /Info and the XMP packet as
# rendered (PDF/A-2b: the two must agree; see pdf.pdfa).
keep_metadata_on_update()
# Signatures' /Contents read at once, the signing-certificate attribute made once per
# certificate (see pdf.speedups).
speedups.install()

__all__ = ["CA", "CA_CERT_FILE", "CA_KEY_FILE", "SIGNATURE_FIELD", "add_document_timestamp", "create_dev_ca",
           "current_crl", "issue_district_certificate", "issue_tsa_certificate", "issued_by_dev_ca_without",
           "load_signer", "sign_pdf"]

CA_CERT_FILE = "ca.cert.pem"
CA_KEY_FILE = "ca.key.pem"
CA_CRL_FILE = "ca.crl.der"
TSA_P12_FILE = "tsa.p12"
SIGNATURE_FIELD = "ChengbaoSeal"
# Long enough that an archived report's chain of document timestamps can be verified
# decades on: the signer's certificate expires after five years, the TSA's after twelve
# (renewed timestamps carry the proof beyond both), the root after thirty.
CA_VALIDITY = dt.timedelta(days=30 * 365)
DISTRICT_VALIDITY = dt.timedelta(days=1825)
TSA_VALIDITY = dt.timedelta(days=12 * 365)
# The CRL is re-issued when less than this is left of its validity.
CRL_VALIDITY = dt.timedelta(days=7)
CRL_REFRESH = dt.timedelta(days=1)
DEFAULT_CA_NAME = "Chengbao 开发用根证书 (Development CA)"


@dataclass(frozen=True)
class CA:
    """A certificate authority on disk: ``ca.cert.pem`` and ``ca.key.pem`` in ``directory``."""

    directory: Path
    cert_path: Path
    key_path: Path
    certificate: x509.Certificate
    private_key: rsa.RSAPrivateKey


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """An exclusive lock on ``directory`` across processes (two workers starting at once
    must not both create a CA or a key)."""
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".chengbao-keys.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write_atomic(path: Path, data: bytes, private: bool) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        if private:
            os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _load_ca(directory: Path) -> CA:
    cert_path, key_path = directory / CA_CERT_FILE, directory / CA_KEY_FILE
    certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
    private_key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    if not isinstance(private_key, rsa.RSAPrivateKey):
        raise ValueError(f"{key_path}: expected an RSA key")
    return CA(directory, cert_path, key_path, certificate, private_key)


def create_dev_ca(directory: Path, common_name: str = DEFAULT_CA_NAME) -> CA:
    """A local development CA in ``directory`` (RSA 2048, ten years), created once and
    reused afterwards: calling it again returns the existing CA unchanged."""
    directory = Path(directory)
    with _locked(directory):
        if (directory / CA_CERT_FILE).is_file() and (directory / CA_KEY_FILE).is_file():
            return _load_ca(directory)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Chengbao 呈报"),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
        ])
        now = _now()
        ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
        cert = (
            x509.CertificateBuilder()
            .subject_name(name).issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + CA_VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=False, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                encipher_only=False, decipher_only=False), critical=True)
            .add_extension(ski, critical=False)
            .sign(key, hashes.SHA256())
        )
        _write_atomic(directory / CA_KEY_FILE, key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()), private=True)
        _write_atomic(directory / CA_CERT_FILE, cert.public_bytes(serialization.Encoding.PEM),
                      private=False)
        return _load_ca(directory)


def _common_name(cert: x509.Certificate) -> str | None:
    values = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(values[0].value) if values else None


def _crl_url_of(cert: x509.Certificate) -> str | None:
    """The first URL of the certificate's CRL distribution points (None without one)."""
    try:
        points = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    except x509.ExtensionNotFound:
        return None
    for point in points:
        for name in point.full_name or ():
            if isinstance(name, x509.UniformResourceIdentifier):
                return name.value
    return None


def issued_by_dev_ca_without(ca_dir: Path, p12: Path, passphrase: bytes | None, crl_url: str) -> bool:
    """True when ``p12`` holds a certificate that the development CA in ``ca_dir`` issued
    without ``crl_url`` as its CRL distribution point (keys made before CRLs existed, or
    for another address): those are re-issued. Keys from any other CA are never touched."""
    ca = create_dev_ca(Path(ca_dir))
    try:
        _, cert, _ = pkcs12.load_key_and_certificates(Path(p12).read_bytes(), passphrase)
    except ValueError:
        return False
    return (cert is not None and cert.issuer == ca.certificate.subject and _verifies(ca, cert)
            and _crl_url_of(cert) != crl_url)


def _reusable(ca: CA, p12: Path, passphrase: bytes | None, name: str, crl_url: str | None) -> bool:
    """True when ``p12`` holds a certificate for ``name`` issued by ``ca`` that names
    ``crl_url`` as its CRL distribution point (when one is asked for)."""
    try:
        _, cert, _ = pkcs12.load_key_and_certificates(p12.read_bytes(), passphrase)
    except ValueError:
        return False
    return (cert is not None and cert.issuer == ca.certificate.subject and _common_name(cert) == name
            and _verifies(ca, cert) and (crl_url is None or _crl_url_of(cert) == crl_url))


def _leaf_certificate(ca: CA, key: rsa.RSAPrivateKey, subject: x509.Name, validity: dt.timedelta,
                      crl_url: str | None) -> x509.CertificateBuilder:
    """An end-entity certificate issued by ``ca``, valid for ``validity`` (never beyond the
    CA), naming ``crl_url`` as where its revocation status is published."""
    now = _now()
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(min(now + validity, ca.certificate.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.private_key.public_key()),
                       critical=False)
    )
    if crl_url:
        builder = builder.add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
            full_name=[x509.UniformResourceIdentifier(crl_url)], relative_name=None, reasons=None,
            crl_issuer=None)]), critical=False)
    return builder


def _key_usage(*, digital_signature: bool, content_commitment: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature, content_commitment=content_commitment, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
        encipher_only=False, decipher_only=False)


def _replace_aside(path: Path) -> None:
    """Move a key file that is no longer right aside (never deleted): ``<name>.replaced-<time>``."""
    if path.is_file():
        stamp = _now().strftime("%Y%m%dT%H%M%SZ")
        path.replace(path.with_name(f"{path.name}.replaced-{stamp}"))


def _save_p12(path: Path, name: str, key: rsa.RSAPrivateKey, cert: x509.Certificate, ca: CA,
              passphrase: bytes | None) -> Path:
    encryption = (serialization.BestAvailableEncryption(passphrase) if passphrase
                  else serialization.NoEncryption())
    data = pkcs12.serialize_key_and_certificates(name.encode("utf-8"), key, cert, [ca.certificate], encryption)
    _write_atomic(path, data, private=True)
    return path


def issue_district_certificate(ca_dir: Path, district_name: str, out_p12: Path,
                               passphrase: bytes | None, crl_url: str | None = None) -> Path:
    """A signing key and certificate for ``district_name`` (CN and O), issued by the CA in
    ``ca_dir`` (created if absent), saved as PKCS#12 at ``out_p12`` with the CA
    certificate included; ``crl_url`` becomes its CRL distribution point. Idempotent: an
    existing file issued by this CA for this name (and this CRL URL, when one is given) is
    kept as it is. Any other is moved aside (never deleted) to ``<name>.replaced-<time>``
    and a new one is issued: that is how keys made before CRLs existed get one."""
    ca = create_dev_ca(Path(ca_dir))
    out_p12 = Path(out_p12)
    with _locked(out_p12.parent):
        if out_p12.is_file() and _reusable(ca, out_p12, passphrase, district_name, crl_url):
            return out_p12
        _replace_aside(out_p12)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        subject = x509.Name([
            x509.NameAttribute(NameOID.COMMON_NAME, district_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, district_name),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "电子印章 (Chengbao)"),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
        ])
        cert = (
            _leaf_certificate(ca, key, subject, DISTRICT_VALIDITY, crl_url)
            # digitalSignature + nonRepudiation (contentCommitment): what signature
            # validators (pyHanko, Acrobat, NSS) expect of a document-signing key. No
            # extended key usage: NSS would then demand emailProtection for pdfsig.
            .add_extension(_key_usage(digital_signature=True, content_commitment=True), critical=True)
            .sign(ca.private_key, hashes.SHA256())
        )
        return _save_p12(out_p12, district_name, key, cert, ca, passphrase)


TSA_NAME = "Chengbao 开发用时间戳服务 (Development TSA)"


def issue_tsa_certificate(ca_dir: Path, crl_url: str | None = None) -> Path:
    """The development time-stamp authority's key and certificate (extended key usage
    timeStamping, critical, as RFC 3161 demands), issued by the CA in ``ca_dir`` and kept
    beside it as ``tsa.p12`` (no passphrase: like the CA key, a development secret).
    Idempotent like :func:`issue_district_certificate`."""
    ca = create_dev_ca(Path(ca_dir))
    target = Path(ca_dir) / TSA_P12_FILE
    with _locked(target.parent):
        if target.is_file() and _reusable(ca, target, None, TSA_NAME, crl_url):
            return target
        _replace_aside(target)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        subject = x509.Name([
            x509.NameAttribute(NameOID.COMMON_NAME, TSA_NAME),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Chengbao 呈报"),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
        ])
        cert = (
            _leaf_certificate(ca, key, subject, TSA_VALIDITY, crl_url)
            .add_extension(_key_usage(digital_signature=True, content_commitment=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
            .sign(ca.private_key, hashes.SHA256())
        )
        return _save_p12(target, TSA_NAME, key, cert, ca, None)


def current_crl(ca_dir: Path) -> bytes:
    """The CA's certificate revocation list (DER), signed by the CA: the stored one while
    it has more than ``CRL_REFRESH`` left, else a fresh one valid for ``CRL_VALIDITY``. It
    lists no certificate: a development CA revokes nothing, but verifiers (pyHanko, and
    any PAdES validator years from now) need signed proof of that, embedded in each PDF."""
    path = Path(ca_dir) / CA_CRL_FILE
    cached = _crl_cache.get(str(path))
    if cached is not None and cached[0] == _crl_files_key(path) and cached[2] - _now() > CRL_REFRESH:
        return cached[1]
    ca = create_dev_ca(Path(ca_dir))
    with _locked(path.parent):
        if path.is_file():
            crl = x509.load_der_x509_crl(path.read_bytes())
            next_update = crl.next_update_utc
            if (crl.is_signature_valid(ca.private_key.public_key()) and next_update is not None
                    and next_update - _now() > CRL_REFRESH):
                data = path.read_bytes()
                _crl_cache[str(path)] = (_crl_files_key(path), data, next_update)
                return data
        now = _now()
        number = int(now.timestamp())
        crl = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(ca.certificate.subject)
            .last_update(now - dt.timedelta(minutes=5))
            .next_update(now + CRL_VALIDITY)
            .add_extension(x509.CRLNumber(number), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.private_key.public_key()),
                           critical=False)
            .sign(ca.private_key, hashes.SHA256())
        )
        data = crl.public_bytes(serialization.Encoding.DER)
        _write_atomic(path, data, private=False)
        _crl_cache[str(path)] = (_crl_files_key(path), data, now + CRL_VALIDITY)
        return data


# The CRL as last read and checked in this process: (the files' versions, DER, next update).
# Checking it means loading the CA's private key (an RSA consistency check: tens of ms),
# which every signature's validation data would otherwise pay.
_crl_cache: dict[str, tuple[tuple[int, ...], bytes, dt.datetime]] = {}


def _crl_files_key(path: Path) -> tuple[int, ...]:
    """The versions (mtime, size, inode) of the CRL and the CA's files beside it: a CRL
    re-issued by another process, or a CA replaced, is read and checked again."""
    key: list[int] = []
    for each in (path, path.parent / CA_CERT_FILE, path.parent / CA_KEY_FILE):
        try:
            stat = each.stat()
        except OSError:
            key.extend((-1, -1, -1))
        else:
            key.extend((stat.st_mtime_ns, stat.st_size, stat.st_ino))
    return tuple(key)


def _verifies(ca: CA, cert: x509.Certificate) -> bool:
    algorithm = cert.signature_hash_algorithm
    if algorithm is None:  # not an RSA signature our CA made
        return False
    try:
        ca.private_key.public_key().verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), algorithm)
        return True
    except Exception:
        return False


class _Signer(SimpleSigner):
    """pyHanko's ``SimpleSigner`` re-parses the private key from DER on every signature
    (RSA key loading includes a costly consistency check); this keeps the parsed key."""

    _pyca_key: rsa.RSAPrivateKey | None = None

    def signer_info(self, digest_algorithm: str, signed_attrs: Any, signature: bytes) -> Any:
        """pyHanko's, given an unparsed copy of the signed attributes (their DER, as just
        signed): placing the parsed ones in the SignerInfo deep-copies them, and asn1crypto
        then encodes them all over again."""
        from asn1crypto import cms

        return super().signer_info(digest_algorithm, cms.CMSAttributes.load(signed_attrs.dump()), signature)

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        hash_cls = _HASHES.get(digest_algorithm)
        if self._pyca_key is not None and hash_cls is not None:
            try:
                algo = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
            except ValueError:
                algo = None
            if algo == "rsassa_pkcs1v15":
                return self._pyca_key.sign(data, padding.PKCS1v15(), hash_cls())
        return super().sign_raw(data, digest_algorithm)


_HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}


_signers: dict[tuple[str, int, int, bytes | None], _Signer] = {}
_signers_lock = threading.Lock()


def load_signer(p12_path: Path, passphrase: bytes | None) -> SimpleSigner:
    """The signer in a PKCS#12 file, cached per file version (path, mtime, size) and
    passphrase. Raises ``ValueError`` when the file cannot be opened with ``passphrase``."""
    path = Path(p12_path).resolve()
    stat = path.stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size, passphrase)
    signer = _signers.get(key)
    if signer is not None:
        return signer
    data = path.read_bytes()
    try:
        private_key, _, _ = pkcs12.load_key_and_certificates(data, passphrase)
    except Exception as exc:
        raise ValueError(f"cannot open the signing key {path}: wrong passphrase or not a "
                         "PKCS#12 file") from exc
    base = SimpleSigner.load_pkcs12_data(data, other_certs=[], passphrase=passphrase)
    signer = _Signer(signing_cert=base.signing_cert, signing_key=base.signing_key,
                     cert_registry=base.cert_registry)
    if isinstance(private_key, rsa.RSAPrivateKey):
        signer._pyca_key = private_key
    with _signers_lock:
        for stale in [k for k in _signers if k[0] == key[0]]:
            del _signers[stale]
        _signers[key] = signer
    return signer


def sign_pdf(data: bytes, signer: SimpleSigner, *, seal_box: tuple[int, float, float, float, float],
             reason: str, location: str | None = None, contact: str | None = None,
             signer_name: str, field_name: str = SIGNATURE_FIELD, certify: bool = True,
             timestamper: TimeStamper | None = None,
             validation_context: ValidationContext | None = None,
             docmdp_permissions: MDPPerm = MDPPerm.NO_CHANGES, document_timestamp: bool = True,
             other_fields: tuple[tuple[str, tuple[int, float, float, float, float]], ...] = ()) -> bytes:
    """``data`` with a PAdES certification signature appended (incremental update).

    With ``timestamper`` and ``validation_context`` it is PAdES B-LTA: the signature
    carries an RFC 3161 signature timestamp, the certificates and CRLs that validate it
    go into the document security store (DSS), and a document timestamp closes the file
    (the revisions :func:`pdf.verify.verify_pdf` accepts after a signature). With
    neither it is B-B (tests that need no TSA). ``document_timestamp=False`` stops after
    the DSS (B-LT): for a signature that a later one's document timestamp closes (a
    town's, before the district's approval).

    ``seal_box`` is ``RenderedPdf.seal_box`` — (page index, x, y, width, height) in
    points; the signature widget covers it with an empty appearance so the drawn seal
    shows. ``reason``, ``location``, ``contact`` and ``signer_name`` go into the
    signature dictionary (/Reason, /Location, /ContactInfo, /Name). A second seal (an
    approval signature over a first, certifying one) takes its own ``field_name`` and
    ``certify=False``; the certifying signature then allows it with
    ``docmdp_permissions=MDPPerm.FILL_FORMS`` (DocMDP P=2: signing is form filling).
    ``other_fields`` (name, box) are empty signature fields made in the same update, before
    this signature: the next signer's, which filling in is then form filling (as with
    :func:`add_signature_field`, without an update and a parse of the file of its own)."""
    writer = IncrementalPdfFileWriter(BytesIO(data))
    lta = timestamper is not None and validation_context is not None
    meta = PdfSignatureMetadata(
        field_name=field_name,
        md_algorithm="sha256",
        subfilter=SigSeedSubFilter.PADES,
        reason=reason,
        location=location,
        contact_info=contact,
        name=signer_name,
        certify=certify,
        docmdp_permissions=docmdp_permissions,
        embed_validation_info=lta,
        use_pades_lta=lta and document_timestamp,
        validation_context=validation_context if lta else None,
        timestamp_field_name=f"{field_name}Timestamp" if lta and document_timestamp else None,
    )
    for other_name, other_box in other_fields:
        _add_field_unless_present(writer, other_name, other_box)
    _add_field_unless_present(writer, field_name, seal_box)
    pdf_signer = PdfSigner(meta, signer=signer, stamp_style=NoOpStampStyle(), timestamper=timestamper)
    out = BytesIO()
    reserved = signature_bytes_reserved(signer, timestamped=timestamper is not None)
    try:
        _run_signing(pdf_signer.async_sign_pdf(writer, output=out, bytes_reserved=reserved))
    except SigningError as exc:
        if "larger than expected" not in str(exc):
            raise
        # A signature bigger than the fixed allowance (a long certificate chain, a TSA's
        # large token): sign again the slow way, sized by pyHanko's dry run.
        writer = IncrementalPdfFileWriter(BytesIO(data))
        for other_name, other_box in other_fields:
            _add_field_unless_present(writer, other_name, other_box)
        _add_field_unless_present(writer, field_name, seal_box)
        out = BytesIO()
        _run_signing(pdf_signer.async_sign_pdf(writer, output=out))
    return out.getvalue()


def _add_field_unless_present(writer: IncrementalPdfFileWriter, field_name: str,
                              box: tuple[int, float, float, float, float]) -> None:
    """The signature field, added in the signature's own incremental update: that path gives
    the widget an explicit empty appearance stream, which the no-op stamp style keeps. A
    field made beforehand (:func:`add_signature_field`) is signed as it is."""
    if any(name == field_name for name, _, _ in enumerate_sig_fields(writer)):
        return
    page, x, y, width, height = box
    append_signature_field(writer, SigFieldSpec(  # pyHanko takes a float box (its annotation says int)
        sig_field_name=field_name, on_page=page, box=(x, y, x + width, y + height)))  # type: ignore[arg-type]


def add_signature_field(data: bytes, field_name: str, box: tuple[int, float, float, float, float]) -> bytes:
    """``data`` with an empty signature field ``field_name`` over ``box`` (page index, x, y,
    width, height), added by an incremental update, with the same empty appearance
    :func:`sign_pdf` gives its own. A second signer's field made before a certifying
    signature: filling it in later is form filling, which that signature may allow
    (DocMDP P=2), where creating a new visible field after it would not be."""
    page, x, y, width, height = box
    writer = IncrementalPdfFileWriter(BytesIO(data))
    append_signature_field(writer, SigFieldSpec(  # pyHanko takes a float box (its annotation says int)
        sig_field_name=field_name, on_page=page, box=(x, y, x + width, y + height)))  # type: ignore[arg-type]
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


# The room reserved in /Contents for the signature's CMS (hex: two characters a byte). A
# fixed, generous size instead of pyHanko's estimate, which signs a dummy first (a second
# RSA signature and, with a TSA, its dummy token): one signing pass instead of two. The
# unused room is zero padding inside the signature value, as pyHanko's own margin is.
SIGNATURE_OVERHEAD = 4096  # bytes: signed attributes, algorithm identifiers, the signature value
TIMESTAMP_ALLOWANCE = 8192  # bytes: an RFC 3161 token with its TSA's certificate chain


def signature_bytes_reserved(signer: SimpleSigner, *, timestamped: bool) -> int:
    """The bytes :func:`sign_pdf` reserves for a signature by ``signer``: its certificates
    as DER, plus ``SIGNATURE_OVERHEAD``, plus ``TIMESTAMP_ALLOWANCE`` when it carries a
    signature timestamp; doubled for the hex encoding, in whole KiB. A signature that does
    not fit is made again with pyHanko's estimate (a dry run), never truncated."""
    certs = [signer.signing_cert, *signer.cert_registry]
    size = sum(len(cert.dump()) for cert in certs if cert is not None) + SIGNATURE_OVERHEAD
    if timestamped:
        size += TIMESTAMP_ALLOWANCE
    return -(-2 * size // 1024) * 1024


def add_document_timestamp(data: bytes, timestamper: TimeStamper, validation_context: ValidationContext) -> bytes:
    """``data`` with the validation data of its last timestamp added to the DSS and a
    fresh document timestamp over everything (incremental updates): what keeps an
    archived B-LTA file verifiable when its last timestamp's certificate nears expiry."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.signers import PdfTimeStamper

    out = BytesIO()
    reader = PdfFileReader(BytesIO(data))
    stamper = PdfTimeStamper(timestamper, field_name=f"Timestamp{len(reader.embedded_signatures) + 1}")
    _run_signing(stamper.async_update_archival_timestamp_chain(reader, validation_context, in_place=False,
                                                               output=out))
    return out.getvalue()


_tls_context: ssl.SSLContext | None = None


def _tls() -> ssl.SSLContext:
    """One TLS context per process: loading the CA bundle costs ≈70 ms, and pyHanko's
    default would load it again for each of a signature's three timestamp requests."""
    global _tls_context
    if _tls_context is None:
        _tls_context = ssl.create_default_context(cafile=certifi.where())
    return _tls_context


class _Session(LazySession):
    def get_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=_tls()))
        return self._session


class TsaClient(HTTPTimeStamper):
    """pyHanko's RFC 3161 HTTP client, one per TSA and process (see :func:`http_timestamper`):
    its HTTP session keeps the connection to the TSA alive from one request to the next,
    and pyHanko's dummy token (what sizes a document timestamp) is fetched once."""

    def __init__(self, url: str, timeout: float) -> None:
        self.session = _Session()
        self.pid = os.getpid()
        self.created = time.monotonic()
        super().__init__(url, timeout=int(timeout), session=self.session)

    async def async_request_tsa_response(self, req: Any) -> Any:
        try:
            return await super().async_request_tsa_response(req)
        except TimestampRequestError as exc:
            if not isinstance(exc.__cause__, (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError)):
                raise
        # A kept-alive connection the TSA had closed meanwhile: once more, on a new one
        # (a timestamp request is safe to repeat).
        return await super().async_request_tsa_response(req)


# A TSA client is renewed after this long (a TSA that changed its certificate gives a
# dummy token of the new size), and in a forked child: a session never crosses a fork.
TSA_CLIENT_TTL = 600.0  # seconds
_tsa_clients: dict[tuple[str, float], TsaClient] = {}
_tsa_clients_lock = threading.Lock()


def http_timestamper(url: str, timeout: float = 10) -> TsaClient:
    """The RFC 3161 client that asks the TSA at ``url`` (``TSA_URL``) over HTTP: one per
    URL and process, renewed every ``TSA_CLIENT_TTL``. A work horse forked from a worker
    whose :func:`pdf.jobs.warm_up` fetched the dummy token inherits the token, not the
    connection."""
    key = (url, float(timeout))
    with _tsa_clients_lock:
        client = _tsa_clients.get(key)
        if client is not None and client.pid == os.getpid() and time.monotonic() - client.created < TSA_CLIENT_TTL:
            return client
        fresh = TsaClient(url, timeout)
        if client is not None and time.monotonic() - client.created < TSA_CLIENT_TTL:
            fresh._dummy_response_cache.update(client._dummy_response_cache)  # inherited across a fork
        elif client is not None and client.pid == os.getpid():
            _close_later(client)
        _tsa_clients[key] = fresh
        return fresh


def _close_later(client: TsaClient) -> None:
    loop = _loop_of_this_process()
    if loop is not None:
        asyncio.run_coroutine_threadsafe(client.session.close(), loop)


def warm_timestamper(url: str, timeout: float = 10) -> bool:
    """Fetch the TSA's dummy token now, in a worker's parent before it forks work horses,
    then close the connection and stop the signing loop: a fork copies no thread or open
    socket of ours, only the token. False when the TSA does not answer (the first
    signature fetches it then)."""
    client = http_timestamper(url, timeout)
    try:
        _run_signing(client.async_dummy_response("sha256"))
        return True
    except Exception:
        return False
    finally:
        _stop_signing_loop()


class _DevTsa(DummyTimeStamper):
    """pyHanko's ``DummyTimeStamper`` with its constant parts made once. pyHanko's parses its
    RSA key from DER for every token it signs (with the key's consistency check: ≈10–30 ms);
    and it re-encodes the TSA's and the CA's certificates for every token (the
    signing-certificate attribute, the SignedData's certificate set, the signer's
    issuer and serial, the TSTInfo's TSA name): asn1crypto walks every parsed field of a
    certificate before it re-uses its DER, ≈7 ms a token. Here those parts are encoded once
    and each token gets fresh, unparsed copies, whose DER asn1crypto takes as it is. The
    token is the same as pyHanko's, field for field."""

    def __init__(self, *args: Any, pyca_key: rsa.RSAPrivateKey, **kwargs: Any) -> None:
        from asn1crypto import cms
        from pyhanko.sign import general

        super().__init__(*args, **kwargs)
        self._pyca_key = pyca_key
        self._tsa_name_der = asn1_x509.GeneralName(name="directory_name", value=self.tsa_cert.subject).dump()
        self._signing_cert_der = general.simple_cms_attribute(
            "signing_certificate", general.as_signing_certificate(self.tsa_cert)).dump()
        self._sid_der = cms.SignerIdentifier({"issuer_and_serial_number": cms.IssuerAndSerialNumber({
            "issuer": self.tsa_cert.issuer, "serial_number": self.tsa_cert.serial_number})}).dump()
        certs = {*self.certs_to_embed, self.tsa_cert}  # as pyHanko embeds them
        self._cert_ders = [cert.dump() for cert in certs]

    def _build_tst_info(self, message_imprint: Any, dt: dt.datetime, req: Any) -> Any:
        from asn1crypto import tsp
        from pyhanko.sign.timestamps.common_utils import get_nonce

        tst_info_args = {
            "version": "v1",
            "policy": tsp.ObjectIdentifier("1.3.6.1.4.1.4146.2.2"),  # pyHanko's
            "message_imprint": message_imprint,
            "serial_number": get_nonce(),
            "gen_time": dt,
            "tsa": asn1_x509.GeneralName.load(self._tsa_name_der),
        }
        if req["nonce"].native is not None:
            tst_info_args["nonce"] = req["nonce"]
        return tsp.TSTInfo(tst_info_args)

    def _sign_tst_info(self, tst_info_data: bytes, md_algorithm: str, dt: dt.datetime) -> Any:
        from asn1crypto import cms, core
        from pyhanko.sign import general

        digest = hashes.Hash(get_pyca_cryptography_hash(md_algorithm))
        digest.update(tst_info_data)
        signed_attrs = cms.CMSAttributes([
            general.simple_cms_attribute("content_type", "tst_info"),
            general.simple_cms_attribute("signing_time", cms.Time({"utc_time": core.UTCTime(dt)})),
            cms.CMSAttribute.load(self._signing_cert_der),
            general.simple_cms_attribute("message_digest", digest.finalize()),
        ])
        signature = self._pyca_key.sign(signed_attrs.dump(), padding.PKCS1v15(),
                                        get_pyca_cryptography_hash(md_algorithm.upper()))
        return signature, signed_attrs

    def _build_signed_data(self, tst_info_data: bytes, md_algorithm: str, signature: bytes,
                           signed_attrs: Any) -> dict:
        from asn1crypto import algos, cms

        digest_algorithm = algos.DigestAlgorithm({"algorithm": md_algorithm})
        signer_info = cms.SignerInfo({
            "version": "v1",
            "sid": cms.SignerIdentifier.load(self._sid_der),
            "digest_algorithm": digest_algorithm,
            "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": "rsassa_pkcs1v15"}),
            "signed_attrs": signed_attrs,
            "signature": signature,
        })
        return {
            "version": "v3",
            "digest_algorithms": cms.DigestAlgorithms((digest_algorithm,)),
            "encap_content_info": cms.EncapsulatedContentInfo({
                "content_type": cms.ContentType("tst_info"),
                "content": cms.ParsableOctetString(tst_info_data),
            }),
            "certificates": [asn1_x509.Certificate.load(der) for der in self._cert_ders],
            "signer_infos": [signer_info],
        }


def tsa_timestamper(ca_dir: Path) -> DummyTimeStamper:
    """The development TSA itself (key and certificate from ``tsa.p12``, CA certificate
    embedded in every token), answering the requests that ``/tsa`` receives."""
    ca = create_dev_ca(Path(ca_dir))
    key, cert, _ = pkcs12.load_key_and_certificates((Path(ca_dir) / TSA_P12_FILE).read_bytes(), None)
    if key is None or cert is None:
        raise ValueError(f"{ca_dir / TSA_P12_FILE}: no key or certificate")
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(f"{ca_dir / TSA_P12_FILE}: not an RSA key")
    der = serialization.Encoding.DER
    return _DevTsa(
        pyca_key=key,
        tsa_cert=asn1_x509.Certificate.load(cert.public_bytes(der)),
        tsa_key=asn1_keys.PrivateKeyInfo.load(key.private_bytes(
            der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())),
        certs_to_embed=SimpleCertificateStore.from_certs(
            [asn1_x509.Certificate.load(ca.certificate.public_bytes(der))]),
    )


def validation_context(trust_roots: list[asn1_x509.Certificate], crls: list[bytes]) -> ValidationContext:
    """What a signature's validation data (certificates, CRLs) is gathered with when it is
    embedded: the trust roots, the CRLs at hand (our CA's), and fetching from the CRL
    distribution points of other CAs (a production CA's)."""
    return ValidationContext(trust_roots=trust_roots, crls=crls, allow_fetching=True,
                             revocation_mode="hard-fail")


def run_coroutine(coro):
    """Run one of pyHanko's coroutines to completion from synchronous code.

    pyHanko's synchronous wrappers call ``asyncio.run``, which refuses to run in a thread
    that already has an event loop (a test driving a browser, an async host). There the
    coroutine runs on a short-lived thread of its own instead."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


# One event loop per process, on a daemon thread, for signing: the TSA clients' HTTP
# sessions belong to it and outlive a single signature (asyncio.run would close the loop,
# and with it the connection, after each one). A forked child makes its own.
_loop: asyncio.AbstractEventLoop | None = None
_loop_pid = 0
_loop_lock = threading.Lock()
_loop_thread: threading.Thread | None = None


def _loop_of_this_process() -> asyncio.AbstractEventLoop | None:
    return _loop if _loop is not None and _loop_pid == os.getpid() else None


def _signing_loop() -> asyncio.AbstractEventLoop:
    global _loop, _loop_pid, _loop_thread
    with _loop_lock:
        loop = _loop_of_this_process()
        if loop is None:
            loop = asyncio.new_event_loop()
            _loop_thread = threading.Thread(target=loop.run_forever, name="chengbao-signing-loop", daemon=True)
            _loop_thread.start()
            _loop, _loop_pid = loop, os.getpid()
        return loop


def _run_signing(coro: Any) -> Any:
    """Run a signing coroutine on this process's signing loop and wait for its result."""
    return asyncio.run_coroutine_threadsafe(coro, _signing_loop()).result()


@atexit.register
def _stop_signing_loop() -> None:
    """Close this process's TSA sessions and stop its signing loop; the clients stay, with
    their dummy tokens, and open a new session (on a new loop) when next used."""
    global _loop
    with _loop_lock:
        loop = _loop_of_this_process()
        if loop is None:
            return
        with _tsa_clients_lock:
            for key, client in list(_tsa_clients.items()):
                if client.pid != os.getpid():
                    continue
                try:
                    asyncio.run_coroutine_threadsafe(client.session.close(), loop).result(2)
                except Exception:
                    pass
                fresh = TsaClient(client.url, client.timeout)
                fresh.created = client.created
                fresh._dummy_response_cache.update(client._dummy_response_cache)
                _tsa_clients[key] = fresh
        loop.call_soon_threadsafe(loop.stop)
        if _loop_thread is not None:
            _loop_thread.join(2)
        if not loop.is_running():
            loop.close()
        _loop = None
