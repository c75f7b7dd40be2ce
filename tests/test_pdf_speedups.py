"""pdf.speedups: the hex-string reader and the signing-certificate attribute give what
pyHanko's own give."""
from __future__ import annotations

from io import BytesIO

import pytest

from pdf import signing, speedups  # pdf.signing installs the speedups

HEX_CASES = [
    b"<>",
    b"<48656c6c6f>",
    b"<48656C6C6F>",
    b"<4 8 65\n6c\r\n6c\t6f\x00>",
    b"<486>",  # odd: padded with 0
    b"<FEFF0041>",  # a UTF-16 text string
    b"<" + b"ab" * 40000 + b">",  # longer than a chunk
    b"<" + b"0" * 16382 + b"\n>",  # the bracket just past the first chunk
]


def _pyhanko_read(data: bytes):
    stream = BytesIO(data + b" /Next")
    value = speedups._original(stream)
    return value, stream.tell()


def _fast_read(data: bytes):
    stream = BytesIO(data + b" /Next")
    value = speedups.read_hex_string(stream)
    return value, stream.tell()


@pytest.mark.parametrize("data", HEX_CASES, ids=range(len(HEX_CASES)))
def test_hex_strings_read_as_pyhanko_reads_them(data):
    ours, ours_end = _fast_read(data)
    theirs, theirs_end = _pyhanko_read(data)
    assert type(ours) is type(theirs) and ours == theirs
    assert ours.original_bytes == theirs.original_bytes
    assert ours_end == theirs_end == len(data)


@pytest.mark.parametrize("data", [b"<48 % a comment\n65>", b"<4g>", b"<4865"])
def test_anything_else_is_left_to_pyhankos_reader(data):
    from pyhanko.pdf_utils.misc import PdfReadError

    try:
        theirs = _pyhanko_read(data)
    except PdfReadError as exc:
        with pytest.raises(type(exc)):
            _fast_read(data)
    else:
        assert _fast_read(data) == theirs


def test_pyhankos_object_reader_uses_it():
    from pyhanko.pdf_utils import generic

    assert generic.read_hex_string_from_stream is not speedups._original
    value = generic.read_object(BytesIO(b"<48 69> "), None)
    assert value.original_bytes == b"Hi"


def test_the_signing_certificate_attribute_is_pyhankos(tmp_path):
    from asn1crypto import x509

    ca_dir = tmp_path / "ca"
    p12 = signing.issue_district_certificate(ca_dir, "示范区", tmp_path / "d.p12", None, crl_url="http://x/ca/crl")
    cert = signing.load_signer(p12, None).signing_cert
    expected = speedups._as_signing_certificate_v2(cert).dump()
    assert speedups.signing_certificate_v2(cert).dump() == expected
    assert speedups.signing_certificate_v2(x509.Certificate.load(cert.dump())).dump() == expected  # cached
    other = signing.issue_district_certificate(ca_dir, "青山镇", tmp_path / "t.p12", None, crl_url="http://x/ca/crl")
    other_cert = signing.load_signer(other, None).signing_cert
    assert speedups.signing_certificate_v2(other_cert).dump() == speedups._as_signing_certificate_v2(other_cert).dump()
    assert speedups.signing_certificate_v2(other_cert).dump() != expected


NAME_CASES = [b"/Type", b"/A", b"/", b"/Type/Catalog", b"/Name#20With#20Spaces", b"/A#2fB", b"/ChengbaoArchiveNo",
              b"/" + b"x" * 600, b"/caf\xc3\xa9", b"/lat\xe9", b"/Tab\x01"]


def _read_name_both(data: bytes, after: bytes):
    from pyhanko.pdf_utils.misc import PdfReadError

    results = []
    for reader in (speedups._original_read_name, speedups.read_name):
        stream = BytesIO(data + after)
        try:
            value = reader(stream)
        except PdfReadError as exc:
            results.append(("error", type(exc)))
        else:
            results.append((type(value), str(value), stream.tell()))
    return results


@pytest.mark.parametrize("after", [b" ", b">>", b"[", b"(x)", b"%c\n", b"\n", b""])
@pytest.mark.parametrize("data", NAME_CASES, ids=range(len(NAME_CASES)))
def test_names_read_as_pyhanko_reads_them(data, after):
    ours, theirs = _read_name_both(data, after)[::-1]
    assert ours == theirs


def test_pyhankos_dictionary_reader_uses_it():
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.pdf_utils.writer import PdfFileWriter

    assert generic.NameObject.read_from_stream is speedups.read_name
    writer = PdfFileWriter()
    ref = writer.add_object(generic.DictionaryObject({
        generic.NameObject("/Type"): generic.NameObject("/Sig"),
        generic.NameObject("/A B"): generic.NumberObject(1),
        generic.NameObject("/Filter"): generic.NameObject("/Adobe.PPKLite")}))
    writer.root["/Chengbao"] = ref
    out = BytesIO()
    writer.write(out)
    assert b"/A#20B" in out.getvalue()
    read = PdfFileReader(BytesIO(out.getvalue())).root["/Chengbao"]
    assert dict(read) == {"/Type": "/Sig", "/A B": 1, "/Filter": "/Adobe.PPKLite"}
