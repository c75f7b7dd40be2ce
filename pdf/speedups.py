"""Two of pyHanko's hot spots when it signs, made cheap (installed by :mod:`pdf.signing`).

**Hex strings.** pyHanko reads a PDF hex string (``<…>``) one byte at a time, through a
generator and a whitespace-skipping helper per digit. A signature's ``/Contents`` is such a string of tens
of thousands of digits (the room reserved for the CMS), and signing a town's 上行文 reads
them again and again: the certifying signature's before the district signs (DocMDP), each
signature's and document timestamp's for the DSS and the timestamp checks. That reading
was the largest single cost of signing (≈20 % of its CPU).

:func:`read_hex_string` finds the closing ``>`` in chunks and decodes the digits at
once. It gives the same result as pyHanko's for every hex string (whitespace anywhere, an
odd number of digits padded with ``0``); for anything else between the brackets (a
comment, a stray character, no ``>`` before the end) it hands over to pyHanko's own
reader, which reports the error as before.

**The signing-certificate attribute.** Every signature's signed attributes carry
``signing-certificate-v2`` (the signer certificate's hash, issuer and serial). pyHanko
builds it anew each time, and asn1crypto re-encodes the issuer's name through a deep copy
(≈1.7 ms a signature, and its copy makes the whole attribute set re-encode again when the
SignerInfo is assembled). :func:`signing_certificate_v2` makes it once per certificate
(it depends on nothing else) and hands out unparsed copies of its DER.
"""
from __future__ import annotations

import binascii
import os
from typing import Any

_WHITESPACE = b" \n\r\t\f\x00"  # pyHanko's PDF_WHITESPACE
_HEX_DIGITS = b"0123456789abcdefABCDEF"
_CHUNK = 16384


def read_hex_string(stream: Any, _pyhanko_reader: Any = None) -> Any:
    """The hex string at the stream's position (``<`` first), as pyHanko's reader returns
    it: a ``TextStringObject`` or ``ByteStringObject``; the stream is left after ``>``."""
    from pyhanko.pdf_utils import generic

    fallback = _pyhanko_reader or _original
    start = stream.tell()
    stream.read(1)  # "<"
    chunks, read = [], 0
    while True:
        chunk = stream.read(_CHUNK)
        if not chunk:  # no closing bracket: pyHanko's error
            stream.seek(start, os.SEEK_SET)
            return fallback(stream)
        end = chunk.find(b">")
        if end >= 0:
            chunks.append(chunk[:end])
            read += end
            break
        chunks.append(chunk)
        read += len(chunk)
    digits = b"".join(chunks).translate(None, _WHITESPACE)
    if digits.translate(None, _HEX_DIGITS):  # a comment or a stray character: pyHanko's way
        stream.seek(start, os.SEEK_SET)
        return fallback(stream)
    stream.seek(start + 1 + read + 1, os.SEEK_SET)
    if len(digits) % 2:
        digits += b"0"
    return generic.pdf_string(binascii.unhexlify(digits))


_original: Any = None
_signing_certificates: dict[tuple[bytes, str], bytes] = {}
_SIGNING_CERTIFICATES_KEPT = 256  # a site's signers (districts, towns), and then some


def signing_certificate_v2(cert: Any, hash_algo: str = "sha256") -> Any:
    """pyHanko's ``as_signing_certificate_v2(cert, hash_algo)``, made once per certificate."""
    from asn1crypto import tsp

    key = (cert.dump(), hash_algo)
    der = _signing_certificates.get(key)
    if der is None:
        der = _as_signing_certificate_v2(cert, hash_algo).dump()
        if len(_signing_certificates) >= _SIGNING_CERTIFICATES_KEPT:
            _signing_certificates.clear()
        _signing_certificates[key] = der
    return tsp.SigningCertificateV2.load(der)


_as_signing_certificate_v2: Any = None


def install() -> None:
    """Make pyHanko use :func:`read_hex_string` and :func:`signing_certificate_v2`. Idempotent."""
    global _original, _as_signing_certificate_v2
    from pyhanko.pdf_utils import generic
    from pyhanko.sign import attributes

    if getattr(generic.read_hex_string_from_stream, "chengbao_fast", False):
        return
    _original = generic.read_hex_string_from_stream
    _as_signing_certificate_v2 = attributes.as_signing_certificate_v2

    def fast(stream: Any) -> Any:
        return read_hex_string(stream)

    fast.chengbao_fast = True  # type: ignore[attr-defined]
    generic.read_hex_string_from_stream = fast
    attributes.as_signing_certificate_v2 = signing_certificate_v2  # what its signing-certificate provider calls
