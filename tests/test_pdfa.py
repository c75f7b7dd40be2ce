"""PDF/A-2b of the published PDF, rendered and after PAdES B-LTA signing (signature with
timestamp, DSS, document timestamp from the app's development TSA over HTTP): the XMP
packet (read with lxml from pyHanko's reader) and its agreement with /Info, the sRGB
output intent, one colour model (every colour operator of every content stream, the
signature's appearance streams included), no transparency, embedded fonts (``pdffonts``),
no JavaScript or encryption, an /ID — and the whole file judged by ``page`` (a PDF/A
validator from PyPI that passes veraPDF's test corpus)."""
from __future__ import annotations

import datetime as dt
import re
from io import BytesIO

import page
import pytest
from lxml import etree
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader

from app import create_app
from pdf import layout as L
from pdf import ltv, pdfa, signing
from pdf.render import RenderInput, render_report
from pdf.revisions import revision_ends
from pdf.verify import verify_pdf
from tests.browser_support import serve
from tests.pdf_helpers import poppler
from workflow.importer import import_text

NS = {"x": "adobe:ns:meta/", "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
      "pdfaid": "http://www.aiim.org/pdfa/ns/id/", "dc": "http://purl.org/dc/elements/1.1/",
      "xmp": "http://ns.adobe.com/xap/1.0/", "pdf": "http://ns.adobe.com/pdf/1.3/"}
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
TEXT = ("为做好本年度工作，现将计划报告如下。\n一、重点项目\n2026年重点项目如下——详见下表。\n表1 重点项目\n"
        "序号\t项目名称\t总投资（万元）\n1\t道路改造\t1,200\n2\t污水管网\t860\n"
        "二、保障措施\n加强调度，确保按期完成<目标>&任务。\n以上报告，请审定。")


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, bytes]:
    """The rendered PDF and the same file signed PAdES B-LTA through the app's own TSA."""
    tmp = tmp_path_factory.mktemp("pdfa")
    app = create_app({"TESTING": True, "SECRET_KEY": "t", "INSTANCE_DIR": str(tmp), "KEYS_DIR": str(tmp / "keys"),
                      "ARCHIVE_DIR": str(tmp / "archive"), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'db'}"})
    rendered = render_report(RenderInput(
        title="青山镇2026年度工作计划", outline=import_text(TEXT), issuer="示范区人民政府", town="青山镇",
        date=dt.date(2026, 1, 5), doc_number="示范区〔2026〕3号", archive_no="示范区〔2026〕档0003号",
        verify_url="http://127.0.0.1:5000/verify?a=3", report_id=12))
    with serve(app) as base:
        app.config.update(PUBLIC_BASE_URL=base, TSA_URL=f"{base}/tsa")
        ca_dir = ltv.ca_directory(app.config)
        signing.create_dev_ca(ca_dir)
        ltv.ensure_dev_tsa(app.config)
        p12 = signing.issue_district_certificate(ca_dir, "示范区人民政府", tmp / "keys" / "district-1.p12", None,
                                                 crl_url=ltv.crl_url(app.config))
        signed = signing.sign_pdf(rendered.data, signing.load_signer(p12, None), seal_box=rendered.seal_box,
                                  reason="批准发布", signer_name="示范区人民政府",
                                  timestamper=ltv.timestamper(app.config),
                                  validation_context=ltv.embedding_context(app.config))
        renewed = signing.add_document_timestamp(signed, ltv.timestamper(app.config),
                                                 ltv.embedding_context(app.config))
    return {"rendered": rendered.data, "signed": signed, "renewed": renewed,
            "ca_cert": (ca_dir / signing.CA_CERT_FILE).read_bytes()}


def _reader(data: bytes) -> PdfFileReader:
    return PdfFileReader(BytesIO(data))


def _xmp(reader: PdfFileReader) -> etree._Element:
    stream = reader.root["/Metadata"]
    assert stream["/Type"] == "/Metadata" and stream["/Subtype"] == "/XML"
    assert "/Filter" not in stream, "the XMP packet stays readable without decoding"
    return etree.fromstring(stream.data)


def _one(root: etree._Element, path: str) -> str:
    found = root.xpath(path, namespaces=NS)
    assert len(found) == 1, (path, found)
    return found[0].text or ""


def _instant(value: str) -> dt.datetime:
    """A PDF date or an XMP date as an aware datetime."""
    pdf = re.fullmatch(r"D:(\d{14})([+-])(\d\d)'(\d\d)'?", value)
    if pdf:
        stamp, sign, hours, minutes = pdf.groups()
        offset = dt.timedelta(hours=int(hours), minutes=int(minutes)) * (1 if sign == "+" else -1)
        return dt.datetime.strptime(stamp, "%Y%m%d%H%M%S").replace(tzinfo=dt.timezone(offset))
    return dt.datetime.fromisoformat(value)


CASES = ["rendered", "signed", "renewed"]


@pytest.mark.parametrize("case", CASES)
def test_xmp_says_pdfa_2b_and_repeats_the_document_information(files, case):
    reader = _reader(files[case])
    root = _xmp(reader)
    description = "/x:xmpmeta/rdf:RDF/rdf:Description"
    assert _one(root, f"{description}/pdfaid:part") == "2"
    assert _one(root, f"{description}/pdfaid:conformance") == "B"
    info = reader.trailer["/Info"]
    assert _one(root, f"{description}/dc:title/rdf:Alt/rdf:li[@xml:lang='x-default']") == str(info["/Title"]) \
        == "青山镇2026年度工作计划"
    assert _one(root, f"{description}/dc:creator/rdf:Seq/rdf:li") == str(info["/Author"]) == "示范区人民政府"
    assert _one(root, f"{description}/dc:description/rdf:Alt/rdf:li") == str(info["/Subject"])
    assert _one(root, f"{description}/pdf:Keywords") == str(info["/Keywords"])
    assert _one(root, f"{description}/pdf:Producer") == str(info["/Producer"])
    assert _one(root, f"{description}/xmp:CreatorTool") == str(info["/Creator"])
    assert _instant(_one(root, f"{description}/xmp:CreateDate")) == _instant(str(info["/CreationDate"]))
    assert _instant(_one(root, f"{description}/xmp:ModifyDate")) == _instant(str(info["/ModDate"]))
    # Chengbao's own keys stay in /Info (no XMP property without an extension schema).
    assert str(info["/ChengbaoArchiveNo"]) == "示范区〔2026〕档0003号" and str(info["/ChengbaoReportId"]) == "12"
    assert not root.xpath("//*[contains(local-name(), 'Chengbao')]")


def test_signing_and_renewal_leave_info_and_xmp_as_rendered(files):
    """pyHanko's updates (signature, DSS, document timestamps) do not touch the metadata,
    so it cannot drift from its XMP form, and the app still calls the file valid."""
    rendered, renewed = _reader(files["rendered"]), _reader(files["renewed"])
    assert renewed.xrefs.total_revisions >= 5  # render, signature, DSS, timestamp, … renewal
    assert renewed.root["/Metadata"].data == rendered.root["/Metadata"].data
    assert dict(renewed.trailer["/Info"]) == dict(rendered.trailer["/Info"])
    for data in (files["signed"], files["renewed"]):
        result = verify_pdf(data, [files["ca_cert"]])
        assert result.status == "valid", result.detail


@pytest.mark.parametrize("case", CASES)
def test_the_output_intent_is_srgb_with_the_shipped_profile(files, case):
    intents = _reader(files[case]).root["/OutputIntents"]
    assert len(intents) == 1
    intent = intents[0]
    assert intent["/Type"] == "/OutputIntent" and intent["/S"] == "/GTS_PDFA1"
    assert str(intent["/OutputConditionIdentifier"]) == pdfa.OUTPUT_CONDITION
    profile = intent["/DestOutputProfile"]
    icc = profile.data
    assert icc == pdfa.ICC_PROFILE.read_bytes() and len(icc) == int.from_bytes(icc[:4], "big")
    assert icc[12:16] == b"mntr" and icc[16:20] == b"RGB " and profile["/N"] == 3
    assert pdfa.ICC_PROFILE.with_name("sRGB.icc.LICENSE").is_file()


# ---- the content streams ----------------------------------------------------------------------

_TOKEN = re.compile(rb"""
    (?P<space>\s+) | (?P<comment>%[^\r\n]*) | (?P<dict><<|>>) | (?P<hex><[0-9A-Fa-f\s]*>)
  | (?P<string>\() | (?P<name>/[^\s/\[\]()<>{}%]*) | (?P<number>[+-]?(?:\d+\.?\d*|\.\d+))
  | (?P<array>[\[\]]) | (?P<word>[^\s/\[\]()<>{}%]+)""", re.X)


def _operators(content: bytes) -> list[tuple[str, list[bytes]]]:
    """(operator, operands) for each operator of a content stream; strings are skipped
    with their nesting and escapes, so text never reads as an operator."""
    ops: list[tuple[str, list[bytes]]] = []
    operands: list[bytes] = []
    i = 0
    while i < len(content):
        m = _TOKEN.match(content, i)
        assert m, content[i:i + 40]
        kind, text = m.lastgroup, m.group()
        i = m.end()
        if kind == "string":
            depth = 1
            while depth:
                ch = content[i:i + 1]
                i += 2 if ch == b"\\" else 1
                depth += {b"(": 1, b")": -1}.get(ch, 0)
            operands.append(b"(string)")
        elif kind in ("name", "number", "hex"):
            operands.append(text)
        elif kind == "word":
            if text in (b"true", b"false", b"null"):
                operands.append(text)
            else:
                ops.append((text.decode(), operands))
                operands = []
    return ops


def _pages(node):
    node = node.get_object()
    if node["/Type"] == "/Pages":
        for kid in node["/Kids"]:
            yield from _pages(kid)
    else:
        yield node


def _streams(reader: PdfFileReader):
    """(where, content, resources) for every page content stream, every form XObject they
    use and every annotation appearance stream (the signature widgets), recursively."""
    seen: set = set()

    def forms(resources, where):
        xobjects = resources.get("/XObject", generic.DictionaryObject()) if resources else {}
        for name in xobjects:
            ref = xobjects.raw_get(name)
            obj = xobjects[name]
            if getattr(ref, "reference", None) in seen or obj.get("/Subtype") != "/Form":
                continue
            seen.add(getattr(ref, "reference", None))
            yield f"{where} {name}", obj.data, obj.get("/Resources")
            yield from forms(obj.get("/Resources"), f"{where} {name}")

    for number, pg in enumerate(_pages(reader.root["/Pages"]), start=1):
        contents = pg["/Contents"]
        parts = contents if isinstance(contents, generic.ArrayObject) else [contents]
        data = b"\n".join(part.data for part in parts)
        resources = pg.get("/Resources")
        yield f"page {number}", data, resources
        yield from forms(resources, f"page {number}")
        for annot in pg.get("/Annots", []):
            appearance = annot.get_object().get("/AP", generic.DictionaryObject())
            for key in ("/N", "/R", "/D"):
                if key in appearance:
                    stream = appearance[key]
                    yield f"page {number} annotation {key}", stream.data, stream.get("/Resources")
                    yield from forms(stream.get("/Resources"), f"page {number} annotation")


@pytest.mark.parametrize("case", CASES)
def test_every_colour_is_rgb_or_gray_and_the_red_is_the_layout_red(files, case):
    reader = _reader(files[case])
    fills: set[tuple[float, ...]] = set()
    annotations = 0
    for where, data, _ in _streams(reader):
        annotations += "annotation" in where
        for op, args in _operators(data):
            assert op not in ("k", "K"), f"DeviceCMYK colour in {where}"
            if op in ("cs", "CS"):
                assert args[-1] in (b"/DeviceRGB", b"/DeviceGray"), f"{where}: {op} {args}"
            if op in ("sc", "scn", "SC", "SCN"):
                assert len(args) in (1, 3), f"{where}: {op} {args}"
            if op in ("rg", "RG"):
                fills.add(tuple(round(float(a), 3) for a in args))
    red = tuple(round(v, 3) for v in (L.RED.red, L.RED.green, L.RED.blue))
    assert red in fills and (0.0, 0.0, 0.0) in fills
    assert annotations >= (case != "rendered")  # the signature widget's (empty) appearance was read too
    assert "/DefaultCMYK" not in files[case].decode("latin-1")


@pytest.mark.parametrize("case", CASES)
def test_nothing_is_transparent(files, case):
    reader = _reader(files[case])
    for where, _data, resources in _streams(reader):
        states = resources.get("/ExtGState", {}) if resources else {}
        for name in states:
            state = states[name]
            for key in ("/CA", "/ca"):
                assert float(state.get(key, 1)) == 1, f"{where} {name} {key}"
            assert state.get("/BM", "/Normal") in ("/Normal", "/Compatible"), f"{where} {name}"
            assert state.get("/SMask", "/None") == "/None", f"{where} {name}"
        for name in (resources.get("/XObject", {}) if resources else {}):
            xobject = resources["/XObject"][name]
            assert "/SMask" not in xobject and "/Group" not in xobject, f"{where} {name}"
    for pg in _pages(reader.root["/Pages"]):
        assert "/Group" not in pg, "a page transparency group"


@pytest.mark.parametrize("case", CASES)
def test_fonts_are_embedded_and_nothing_forbidden_is_there(files, case, tmp_path):
    path = tmp_path / f"{case}.pdf"
    path.write_bytes(files[case])
    rows = [line for line in poppler("pdffonts", path).splitlines()[2:] if line.strip()]
    assert rows and all(re.search(r"\s+yes\s+(yes|no)\s+yes\s+\d+\s+\d+\s*$", row) for row in rows), rows
    reader = _reader(files[case])
    assert not reader.encrypted and "/Encrypt" not in reader.trailer
    document_id = reader.trailer["/ID"]
    assert len(document_id) == 2 and all(len(part) == 16 for part in document_id)
    assert "/JavaScript" not in files[case].decode("latin-1") and "/OpenAction" not in reader.root
    assert "/AA" not in reader.root and "/Names" not in reader.root


def test_the_rendered_file_passes_a_pdfa_2b_validator(files):
    report = page.validate_pdf_bytes(files["rendered"], profile="2b")
    assert report.is_compliant, [(f.rule_id, f.message) for f in report.failures]


@pytest.mark.parametrize("case", ["signed", "renewed"])
def test_the_signed_file_passes_the_validator_save_for_its_earlier_signatures_byte_ranges(files, case):
    """``page`` wants every signature's /ByteRange to reach the end of the file; PDF/A-2
    (6.4.3) and veraPDF measure it to the end of the signature's own revision (veraPDF's
    SignatureParser stops at the next %%EOF), which is what lets PAdES add the DSS and
    document timestamps after a signature. That rule alone may fail here, and only where
    this test finds each /ByteRange ending exactly at its revision's end."""
    data = files[case]
    report = page.validate_pdf_bytes(data, profile="2b")
    failures = {f.rule_id for f in report.failures}
    assert failures <= {"PDFA2B-SIGNATURE-BYTERANGE-001"}, [(f.rule_id, f.message) for f in report.failures]
    reader = _reader(data)
    ends = set(revision_ends(reader, data))
    signatures = reader.embedded_signatures
    assert len(signatures) == {"signed": 2, "renewed": 3}[case]  # the signature, then document timestamps
    for signature in signatures:
        start, first, second, length = (int(v) for v in signature.sig_object["/ByteRange"])
        gap = data[start + first:second]
        assert start == 0 and re.fullmatch(rb"<[0-9a-fA-F]*>", gap), "the gap is exactly /Contents"
        assert second + length in ends, "the range ends with the signature's revision"


def test_pdf_and_xmp_dates_are_one_instant():
    moment = dt.datetime(2026, 1, 5, 9, 30, 15, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert pdfa.pdf_date(moment) == "D:20260105093015+08'00'"
    assert _instant(pdfa.pdf_date(moment)) == _instant(pdfa.xmp_date(moment)) == moment
    with pytest.raises(ValueError):
        pdfa.DocumentMetadata(title="t", author="a", subject="s", keywords="k", creator="c", producer="p",
                              created=dt.datetime(2026, 1, 5))


def test_xmp_escapes_what_users_type():
    meta = pdfa.DocumentMetadata(title="<b>报告</b> & \"附件\"", author="示范区", subject="s", keywords="k",
                                 creator="c", producer="p", created=dt.datetime(2026, 1, 5, tzinfo=dt.UTC))
    root = etree.fromstring(pdfa.xmp_packet(meta))
    assert root.xpath("//dc:title/rdf:Alt/rdf:li/text()", namespaces=NS) == ["<b>报告</b> & \"附件\""]
    assert root.xpath("//dc:title/rdf:Alt/rdf:li/@xml:lang", namespaces=NS) == ["x-default"]
