"""Signing keys and the PAdES signature of a published report.

Development: :func:`create_dev_ca` makes a local CA (PEM files) and
:func:`issue_district_certificate` a PKCS#12 per district, signed by it. Production: the
admin installs the district's PKCS#12 from a real CA instead; nothing else changes.

:func:`sign_pdf` adds a PAdES B-B signature (``ETSI.CAdES.detached``, SHA-256) as an
incremental update. The signature is a *certification* signature that allows no further
changes (DocMDP P=1): a published report is final, so any later revision other than
long-term-validation data makes :func:`pdf.verify.verify_pdf` answer "tampered". Its
widget sits exactly over the seal drawn by the renderer and has an empty appearance:
the red seal on the page *is* the visible signature.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import fcntl
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

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
)
from pyhanko.sign.signers import PdfSignatureMetadata, PdfSigner, SimpleSigner
from pyhanko.stamp import NoOpStampStyle

__all__ = ["CA", "CA_CERT_FILE", "CA_KEY_FILE", "SIGNATURE_FIELD", "create_dev_ca",
           "issue_district_certificate", "load_signer", "sign_pdf"]

CA_CERT_FILE = "ca.cert.pem"
CA_KEY_FILE = "ca.key.pem"
SIGNATURE_FIELD = "ChengbaoSeal"
CA_VALIDITY = dt.timedelta(days=3650)
DISTRICT_VALIDITY = dt.timedelta(days=1825)
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


def issue_district_certificate(ca_dir: Path, district_name: str, out_p12: Path,
                               passphrase: bytes | None) -> Path:
    """A signing key and certificate for ``district_name`` (CN and O), issued by the CA in
    ``ca_dir`` (created if absent), saved as PKCS#12 at ``out_p12`` with the CA
    certificate included. Idempotent: an existing file issued by this CA for this name is
    kept as it is. One issued by another CA or for another name is moved aside (never
    deleted) to ``<name>.replaced-<time>`` and a new one is issued."""
    ca = create_dev_ca(Path(ca_dir))
    out_p12 = Path(out_p12)
    with _locked(out_p12.parent):
        if out_p12.is_file():
            try:
                _, cert, _ = pkcs12.load_key_and_certificates(out_p12.read_bytes(), passphrase)
            except ValueError:
                cert = None
            if (cert is not None and cert.issuer == ca.certificate.subject
                    and _common_name(cert) == district_name and _verifies(ca, cert)):
                return out_p12
            stamp = _now().strftime("%Y%m%dT%H%M%SZ")
            out_p12.replace(out_p12.with_name(f"{out_p12.name}.replaced-{stamp}"))
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        now = _now()
        subject = x509.Name([
            x509.NameAttribute(NameOID.COMMON_NAME, district_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, district_name),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "电子印章 (Chengbao)"),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
        ])
        not_after = min(now + DISTRICT_VALIDITY, ca.certificate.not_valid_after_utc)
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject).issuer_name(ca.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            # digitalSignature + nonRepudiation (contentCommitment): what signature
            # validators (pyHanko, Acrobat, NSS) expect of a document-signing key. No
            # extended key usage: NSS would then demand emailProtection for pdfsig.
            .add_extension(x509.KeyUsage(
                digital_signature=True, content_commitment=True, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=False,
                crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca.private_key.public_key()), critical=False)
            .sign(ca.private_key, hashes.SHA256())
        )
        encryption = (serialization.BestAvailableEncryption(passphrase) if passphrase
                      else serialization.NoEncryption())
        data = pkcs12.serialize_key_and_certificates(
            district_name.encode("utf-8"), key, cert, [ca.certificate], encryption)
        _write_atomic(out_p12, data, private=True)
        return out_p12


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
             signer_name: str) -> bytes:
    """``data`` with a PAdES B-B certification signature appended (incremental update).

    ``seal_box`` is ``RenderedPdf.seal_box`` — (page index, x, y, width, height) in
    points; the signature widget covers it with an empty appearance so the drawn seal
    shows. ``reason``, ``location``, ``contact`` and ``signer_name`` go into the
    signature dictionary (/Reason, /Location, /ContactInfo, /Name)."""
    page, x, y, width, height = seal_box
    writer = IncrementalPdfFileWriter(BytesIO(data))
    meta = PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD,
        md_algorithm="sha256",
        subfilter=SigSeedSubFilter.PADES,
        reason=reason,
        location=location,
        contact_info=contact,
        name=signer_name,
        certify=True,
        docmdp_permissions=MDPPerm.NO_CHANGES,
    )
    # The field is added first, in the same incremental update: that path gives the
    # widget an explicit empty appearance stream, which the no-op stamp style keeps.
    append_signature_field(writer, SigFieldSpec(  # pyHanko takes a float box (its annotation says int)
        sig_field_name=SIGNATURE_FIELD, on_page=page, box=(x, y, x + width, y + height)))  # type: ignore[arg-type]
    pdf_signer = PdfSigner(meta, signer=signer, stamp_style=NoOpStampStyle())
    out = BytesIO()
    run_coroutine(pdf_signer.async_sign_pdf(writer, output=out))
    return out.getvalue()


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
