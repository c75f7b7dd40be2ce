"""Long-term validation of the archive (PAdES B-LTA), from the app's configuration: which
time-stamp authority to ask, where the CA's CRL is published, what goes into a PDF's
document security store, and the renewal of archived files' document timestamps.

- ``TSA_URL``: the RFC 3161 time-stamp authority. Unset: the app's own development TSA at
  ``PUBLIC_BASE_URL/tsa`` (a certificate issued by the development CA), reached over HTTP
  exactly as a production TSA would be.
- The development CA's CRL is served at ``PUBLIC_BASE_URL/ca/crl`` and named in every
  certificate it issues (the CRL distribution point); the CA certificate at ``/ca/cert``.
- :func:`renew` adds a document timestamp to an archived PDF whose last timestamp's TSA
  certificate nears expiry (``flask archive-renew``): the renewed file is stored beside
  the original, whose SHA-256 stays the archive's key (:mod:`pdf.archive`).
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

from asn1crypto import pem
from asn1crypto import x509 as asn1_x509

# pyHanko (≈1 s to import) comes with .signing, imported by the functions that sign:
# the web processes import this module for its paths and settings.

log = logging.getLogger(__name__)

CRL_PATH = "/ca/crl"
CA_CERT_PATH = "/ca/cert"
TSA_PATH = "/tsa"
RENEW_BEFORE_DAYS = 365


CA_DIR_NAME = "ca"


def ca_directory(config: Any) -> Path:
    """Where the development CA lives: ``KEYS_DIR/ca``."""
    return Path(config["KEYS_DIR"]) / CA_DIR_NAME


def base_url(config: Any) -> str:
    return (config.get("PUBLIC_BASE_URL") or "").rstrip("/")


def crl_url(config: Any) -> str:
    """The CRL distribution point the development CA writes into its certificates."""
    return base_url(config) + CRL_PATH


def tsa_url(config: Any) -> str:
    """``TSA_URL``, else the app's own development TSA."""
    return (config.get("TSA_URL") or "").strip() or base_url(config) + TSA_PATH


def timestamper(config: Any) -> Any:
    from . import signing

    return signing.http_timestamper(tsa_url(config), timeout=float(config.get("TSA_TIMEOUT", 10)))


_trust_cache: dict[str, tuple[tuple[tuple[str, int, int], ...], list[asn1_x509.Certificate]]] = {}


def _trust_certificates(config: Any) -> list[asn1_x509.Certificate]:
    """The trust roots' certificates, parsed once per process while their files stay the same."""
    from .verify import trust_roots

    paths = trust_roots(config["KEYS_DIR"])
    versions = tuple((str(path), path.stat().st_mtime_ns, path.stat().st_size) for path in paths)
    cached = _trust_cache.get(str(config["KEYS_DIR"]))
    if cached is not None and cached[0] == versions:
        return list(cached[1])
    certs: list[asn1_x509.Certificate] = []
    for path in paths:
        data = path.read_bytes()
        ders = [der for _, _, der in pem.unarmor(data, multiple=True)] if pem.detect(data) else [data]
        certs.extend(asn1_x509.Certificate.load(der) for der in ders)
    _trust_cache[str(config["KEYS_DIR"])] = (versions, certs)
    return list(certs)


def embedding_context(config: Any) -> Any:
    """The validation context whose certificates and CRLs go into a PDF's DSS: this
    site's trust roots, and the development CA's current CRL when there is one (other
    CAs' CRLs are fetched from their distribution points)."""
    from . import signing

    ca_dir = ca_directory(config)
    crls = [signing.current_crl(ca_dir)] if (ca_dir / signing.CA_KEY_FILE).is_file() else []
    return signing.validation_context(_trust_certificates(config), crls)


def ensure_dev_tsa(config: Any) -> Path:
    """The development TSA's certificate (issued, or re-issued with the current CRL URL)."""
    from . import signing

    return signing.issue_tsa_certificate(ca_directory(config), crl_url=crl_url(config))


_tsa_cache: dict[tuple[str, int], Any] = {}


def dev_tsa_reply(config: Any, request_der: bytes) -> bytes | None:
    """The development TSA's DER reply to ``request_der``; None when this site has no
    development TSA (no ``tsa.p12`` beside the development CA), ``b""`` for a request it
    cannot answer."""
    from asn1crypto import tsp

    from . import signing

    ca_dir = ca_directory(config)
    p12 = ca_dir / signing.TSA_P12_FILE
    if not p12.is_file():
        return None
    key = (str(p12), p12.stat().st_mtime_ns)
    stamper = _tsa_cache.get(key)
    if stamper is None:
        _tsa_cache.clear()
        stamper = _tsa_cache[key] = signing.tsa_timestamper(ca_dir)
    try:
        query = tsp.TimeStampReq.load(request_der)
        _ = query.native  # parse now: asn1crypto is lazy
        return stamper.request_tsa_response(query).dump()
    except Exception as exc:  # not a request this TSA can answer (garbage, an unknown digest)
        log.info("development TSA: request refused (%s)", exc)
        return b""


def signature_time(data: bytes) -> dt.datetime | None:
    """When the last signature of ``data`` was made, as its RFC 3161 signature timestamp
    says (the TSA's ``genTime``, naive UTC, as the database stores times); None for a
    signature without a timestamp (B-B: the caller falls back on its clock)."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation.generic_cms import extract_tst_data_iter

    signatures = PdfFileReader(BytesIO(data), strict=False).embedded_regular_signatures
    if not signatures:
        return None
    for signed_data in extract_tst_data_iter(signatures[-1].signer_info, signed=False):
        gen_time = signed_data["encap_content_info"]["content"].parsed["gen_time"].native
        return gen_time.astimezone(dt.UTC).replace(tzinfo=None)
    return None


# ---------------------------------------------------------------- renewal


@dataclass(frozen=True)
class RenewalNeed:
    """Whether an archived file needs a fresh document timestamp, and why."""

    due: bool
    expires: dt.datetime | None  # the last timestamp's TSA certificate's expiry (None: no timestamp)


def renewal_need(data: bytes, *, before: dt.timedelta, now: dt.datetime | None = None) -> RenewalNeed:
    """Due when the file's last timestamp (document timestamp, else signature timestamp)
    was made by a TSA certificate that expires within ``before`` — or when it has none
    (a B-B signature from before timestamps: the first document timestamp carries it)."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation.generic_cms import extract_tst_data_iter

    now = now or dt.datetime.now(dt.UTC)
    reader = PdfFileReader(BytesIO(data), strict=False)
    stamps = reader.embedded_timestamp_signatures
    cert = stamps[-1].signer_cert if stamps else None
    if cert is None:
        for embedded in reversed(reader.embedded_regular_signatures):
            for signed_data in extract_tst_data_iter(embedded.signer_info, signed=False):
                cert = _tsa_certificate(signed_data)
    if cert is None:
        return RenewalNeed(True, None)
    expires = cert["tbs_certificate"]["validity"]["not_after"].native
    return RenewalNeed(expires - now <= before, expires)


def _tsa_certificate(signed_data: Any) -> Any:
    """The signer certificate of a timestamp token's CMS SignedData."""
    sid = signed_data["signer_infos"][0]["sid"].chosen
    for choice in signed_data["certificates"]:
        cert = choice.chosen
        if (cert.issuer == sid["issuer"] and cert.serial_number == sid["serial_number"].native):
            return cert
    return None


def renew(data: bytes, config: Any) -> bytes:
    """``data`` with the validation data of its last timestamp and a fresh document
    timestamp appended (incremental updates; the original bytes stay a prefix)."""
    from . import signing

    return signing.add_document_timestamp(data, timestamper(config), embedding_context(config))
