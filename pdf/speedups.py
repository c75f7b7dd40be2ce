"""pyHanko's hot spots when it signs, made cheap (installed by :mod:`pdf.signing`), and
ReportLab's deflate (installed by :mod:`pdf.draw`).

**Hex strings.** pyHanko reads a PDF hex string (``<…>``) one byte at a time, through a
generator and a whitespace-skipping helper per digit. A signature's ``/Contents`` is such
a string of tens of thousands of digits (the room reserved for the CMS), and signing a
town's 上行文 reads them again and again: the certifying signature's before the district
signs (DocMDP), each signature's and document timestamp's for the DSS and the timestamp
checks. That reading was the largest single cost of signing (≈20 % of its CPU).

:func:`read_hex_string` finds the closing ``>`` in chunks and decodes the digits at
once. It gives the same result as pyHanko's for every hex string (whitespace anywhere, an
odd number of digits padded with ``0``); for anything else between the brackets (a
comment, a stray character, no ``>`` before the end) it hands over to pyHanko's own
reader, which reports the error as before.

**Names.** pyHanko reads a name (``/Type``) one byte at a time too, then decodes it one
byte at a time; a signing pass reads hundreds. :func:`read_name` finds its end with a
regular expression and takes a name without ``#`` escapes as it is; anything else
(escapes, bytes a name may not hold, a name running to the end of the data) is decoded
by pyHanko's own code.

**The signing-certificate attribute.** Every signature's signed attributes carry
``signing-certificate-v2`` (the signer certificate's hash, issuer and serial). pyHanko
builds it anew each time, and asn1crypto re-encodes the issuer's name through a deep copy
(≈1.7 ms a signature, and its copy makes the whole attribute set re-encode again when the
SignerInfo is assembled). :func:`signing_certificate_v2` makes it once per certificate
(it depends on nothing else) and hands out unparsed copies of its DER.

**Deflate.** ReportLab compresses every stream with zlib at its default level; the font
subsets of a 5-page report (≈540 KB of CJK glyphs) took ≈30 % of the render's CPU.
:func:`install_deflate` gives ReportLab zlib-ng's ``compress`` instead (the package
``zlib-ng``: the same deflate format at the same level, the same size within 0.1 %,
half the time). Without the package ReportLab keeps the standard library's zlib.
"""
from __future__ import annotations

import binascii
import os
import re
from typing import Any

_WHITESPACE = b" \n\r\t\f\x00"  # pyHanko's PDF_WHITESPACE
_HEX_DIGITS = b"0123456789abcdefABCDEF"
_CHUNK = 16384


def read_hex_string(stream: Any) -> Any:
    """The hex string at the stream's position (``<`` first), as pyHanko's reader returns
    it: a ``TextStringObject`` or ``ByteStringObject``; the stream is left after ``>``."""
    from pyhanko.pdf_utils import generic

    fallback = _original
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


# Where a name ends: PDF whitespace or a delimiter.
_NAME_END = re.compile(rb"[\x00\t\n\x0c\r ()<>\[\]{}/%]")
# A name pyHanko would take byte for byte: printable ASCII, no "#" escape.
_PLAIN_NAME = re.compile(rb"[!\"$-~]*")
_NAME_LOOKAHEAD = 256


def read_name(stream: Any) -> Any:
    """The name at the stream's position (``/`` first), as pyHanko's
    ``NameObject.read_from_stream`` returns it; the stream is left at the delimiter after it."""
    from pyhanko.pdf_utils import generic

    start = stream.tell()
    head = stream.read(1 + _NAME_LOOKAHEAD)
    end = _NAME_END.search(head, 1) if head[:1] == b"/" else None
    if end is None:  # not a name, or a long one, or one that runs to the end: pyHanko's way
        stream.seek(start, os.SEEK_SET)
        return _original_read_name(stream)
    body = head[1:end.start()]
    stream.seek(start + end.start(), os.SEEK_SET)
    if _PLAIN_NAME.fullmatch(body):
        return generic.NameObject("/" + body.decode("ascii"))
    return generic._decode_name(body)


_original: Any = None
_original_read_name: Any = None
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
    """Make pyHanko use :func:`read_hex_string`, :func:`read_name` and
    :func:`signing_certificate_v2`. Idempotent."""
    global _original, _original_read_name, _as_signing_certificate_v2
    from pyhanko.pdf_utils import generic
    from pyhanko.sign import attributes

    if getattr(generic.read_hex_string_from_stream, "chengbao_fast", False):
        return
    _original = generic.read_hex_string_from_stream
    _original_read_name = generic.NameObject.read_from_stream
    _as_signing_certificate_v2 = attributes.as_signing_certificate_v2

    def fast(stream: Any) -> Any:
        return read_hex_string(stream)

    fast.chengbao_fast = True  # type: ignore[attr-defined]
    generic.read_hex_string_from_stream = fast
    generic.NameObject.read_from_stream = staticmethod(read_name)  # type: ignore[method-assign]
    attributes.as_signing_certificate_v2 = signing_certificate_v2  # what its signing-certificate provider calls


def install_deflate() -> bool:
    """Make ReportLab's streams compress with zlib-ng (see the module doc); False when the
    ``zlib-ng`` package is not installed (then nothing changes). Idempotent."""
    import importlib

    try:
        zlib_ng = importlib.import_module("zlib_ng.zlib_ng")  # optional: not needed for type checks
    except ImportError:
        return False
    from reportlab.pdfbase import pdfdoc

    setattr(pdfdoc, "zlib", zlib_ng)  # its compress and decompress: what pdfdoc calls, same signatures  # noqa: B010
    return True
