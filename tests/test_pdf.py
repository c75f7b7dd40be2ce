"""The published PDF: layout to GB/T 9704-2012, embedded fonts, safe text, the seal,
the PAdES signature and its verification — checked with poppler's own tools
(pdffonts, pdftotext, pdfinfo, pdfsig) on real renders of the seed reports."""
from __future__ import annotations

import datetime
import itertools
import re
from io import BytesIO
from pathlib import Path

import pytest

from pdf import layout as L
from pdf.fonts import FontConfig, FontsMissing, load_fonts, missing_glyphs
from pdf.render import RenderInput, render_report
from pdf.signing import create_dev_ca, issue_district_certificate, load_signer, sign_pdf
from pdf.verify import trust_roots, verify_pdf
from tests.pdf_helpers import SEEDS, paragraph_input, poppler, seed_input, squash, text_lines

SEED_NAMES = sorted(p.name for p in SEEDS.glob("*.txt"))
NO_START = "，。、；：？！”’）》」』】,.;:?!)"
NO_END = "“‘（《「『【("


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# ---- fixtures -------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def out_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("pdf")


@pytest.fixture(scope="session")
def seed_pdfs(out_dir) -> dict[str, tuple]:
    """Each seed rendered once: name → (RenderedPdf, path)."""
    rendered = {}
    for name in SEED_NAMES:
        result = render_report(seed_input(name))
        rendered[name] = (result, write(out_dir / name.replace(".txt", ".pdf"), result.data))
    return rendered


@pytest.fixture(scope="session")
def keys(tmp_path_factory) -> dict[str, Path]:
    """Our dev CA with a district certificate, and a foreign CA with its own."""
    base = tmp_path_factory.mktemp("keys")
    ours = issue_district_certificate(base / "ca", "示范区人民政府", base / "district-1.p12", b"secret")
    foreign = issue_district_certificate(base / "other-ca", "示范区人民政府", base / "foreign.p12", None)
    return {"dir": base, "ca_cert": base / "ca" / "ca.cert.pem", "ours": ours, "foreign": foreign}


def _sign(rendered, p12: Path, passphrase: bytes | None) -> bytes:
    return sign_pdf(rendered.data, load_signer(p12, passphrase), seal_box=rendered.seal_box,
                    reason="示范区〔2026〕档0003号 · 报告 #12 审定发布", location="示范区",
                    contact="http://127.0.0.1:5000/verify", signer_name="示范区人民政府")


@pytest.fixture(scope="session")
def signed(seed_pdfs, keys, out_dir) -> tuple[bytes, Path]:
    rendered, _ = seed_pdfs["work-report-2024.txt"]
    data = _sign(rendered, keys["ours"], b"secret")
    return data, write(out_dir / "signed.pdf", data)


def flip_byte_in_content(data: bytes) -> bytes:
    """One byte changed inside a page content stream (well inside the signed range)."""
    start = data.index(b"stream", data.index(b"/Contents")) + 40
    changed = bytearray(data)
    changed[start] ^= 0x01
    return bytes(changed)


# ---- fonts ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", SEED_NAMES)
def test_every_font_is_an_embedded_subset_with_a_unicode_map(seed_pdfs, name):
    output = poppler("pdffonts", seed_pdfs[name][1])
    rows = output.splitlines()[2:]
    assert rows, output
    for row in rows:
        emb, sub, uni = row.split()[-5:-2]
        assert (emb, sub, uni) == ("yes", "yes", "yes"), row
    assert "STSong" not in output and "Helvetica" not in output


def test_headings_take_their_face_from_their_numbering(out_dir):
    def faces(number: str) -> str:
        outline = {"preamble": [], "closing": [], "sections": [
            {"id": "s1", "level": 1, "number": number, "heading": "加强基层治理",
             "paragraphs": ["正文段落。"], "children": []}]}
        data = render_report(paragraph_input(outline=outline, title="标题")).data
        return poppler("pdffonts", write(out_dir / "faces.pdf", data))

    assert "WenQuanYiMicroHei" in faces("一、")  # 黑体
    assert "UKai" in faces("(一)") and "UKai" in faces("（二）")  # 楷体
    for number in ("1.", "2、", "(1)", "（3）"):
        listing = faces(number)
        assert "WenQuanYi" not in listing
        assert listing.count("UKai") == 1  # only the town line under the title


def test_missing_glyphs_finds_rare_and_emoji_characters_only():
    assert missing_glyphs("𠮷先生报告😀") == {"𠮷", "😀"}
    assert missing_glyphs("U+2A6A5 𪚥") == {"𪚥"}
    common = (SEEDS / "work-report-2024.txt").read_text(encoding="utf-8")
    assert missing_glyphs(common + " \n\t\u3000‰℃〔〕") == set()


def test_a_missing_font_file_names_the_package_to_install():
    config = FontConfig.from_mapping({"kaiti": "/nonexistent/ukai.ttc"})
    with pytest.raises(FontsMissing) as caught:
        load_fonts(config)
    assert "/nonexistent/ukai.ttc" in str(caught.value)
    assert "apt-get install" in str(caught.value)


# ---- text -------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", SEED_NAMES)
def test_every_sentence_of_a_seed_can_be_extracted(seed_pdfs, name):
    extracted = squash(poppler("pdftotext", seed_pdfs[name][1], "-"))
    text = (SEEDS / name).read_text(encoding="utf-8")
    sentences = [s for line in text.splitlines() for s in re.split(r"[。！？]", line) if s.strip()]
    assert len(sentences) > 20
    missing = [s for s in sentences if squash(s) not in extracted]
    assert not missing, missing[:3]
    # The town's report to the district (上行文): the town's header, the district addressed.
    assert "青山镇2026年度工作计划" in extracted and "青山镇人民政府文件" in extracted
    assert "示范区人民政府：" in extracted and "签发人：李青山" in extracted and "青政〔2026〕3号" in extracted


def test_markup_and_control_characters_print_literally(out_dir):
    hostile = ['<img src="/etc/passwd">', "<b>未闭合", "&amp;", "&nbsp;", "<font name=x>", "]]>", "</para>"]
    doc = paragraph_input(*hostile, "正文\x00含\x07控制\u202e字符\ufeff。",
                          title='<img src="/etc/passwd"> 标题 <b>', issuer="示范区<b>人民政府",
                          town="青山镇&amp;", doc_number="<font name=x>〔2026〕1号")
    path = write(out_dir / "markup.pdf", render_report(doc).data)
    extracted = poppler("pdftotext", path, "-")
    flat = squash(extracted)
    for fragment in hostile + ['<img src="/etc/passwd"> 标题 <b>', "示范区<b>人民政府文件", "青山镇&amp;"]:
        assert squash(fragment) in flat, fragment
    assert "正文含控制字符。" in flat
    assert not re.search(r"[\x00-\x08\x0b\x0e-\x1f\u202e\ufeff]", extracted)  # \f: pdftotext page breaks


# ---- geometry ---------------------------------------------------------------------------------

def test_pages_are_a4_with_the_type_area_where_the_standard_puts_it(seed_pdfs):
    path = seed_pdfs["work-report-2024.txt"][1]
    info = poppler("pdfinfo", path)
    width, height = map(float, re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", info).groups())
    assert abs(width - 595.28) < 1 and abs(height - 841.89) < 1
    body = [line for line in text_lines(path) if line.page == 1 and not re.fullmatch(r"—\d+—", line.text)]
    first = min(body, key=lambda line: line.y_min)
    # The em box is centred in the first 28.95 pt grid line under the 37 mm top margin.
    expected_top = L.MARGIN_TOP + (L.LINE_PITCH - L.BODY_SIZE) / 2
    assert abs(first.y_min - expected_top) < 1.0
    assert abs(first.y_min - 37 * L.MM) < 3 * L.MM
    left = min(line.x_min for line in body)
    assert abs(left - 28 * L.MM) < 1.0
    indented = [line for line in body if abs(line.x_min - left - 2 * L.CHAR_PITCH) < 1.0]
    assert indented, "paragraph first lines are indented two characters"
    # Justified lines end at the right edge of the 156 mm type area.
    full = [line for line in body if abs(line.x_max - L.TYPE_RIGHT) < 1.0]
    assert len(full) > len(body) / 2
    # 22 lines a page, 28.95 pt apart.
    tops = sorted({round(line.y_min, 1) for line in body})
    assert len(tops) == L.LINES_PER_PAGE
    assert all(abs((b - a) - L.LINE_PITCH) < 0.1 for a, b in itertools.pairwise(tops))


def test_a_full_line_holds_exactly_28_characters(out_dir):
    text = "".join("国务院办公厅关于印发党政机关公文处理工作条例的通知"[i % 24] for i in range(26 + 28 * 3))
    path = write(out_dir / "grid.pdf", render_report(paragraph_input(text)).data)
    lines = [line for line in text_lines(path) if line.text and set(line.text) <= set(text)]
    assert [len(line.text) for line in lines] == [26, 28, 28, 28]
    for line in lines[1:]:
        assert abs(line.x_min - L.TYPE_LEFT) < 0.5
        assert abs(line.x_max - L.TYPE_RIGHT) < 1.0


@pytest.mark.parametrize("mark", list(NO_START))
def test_closing_punctuation_never_starts_a_line(out_dir, mark):
    # 26 characters fill the indented first line: the mark would open line 2.
    paragraphs = ["字" * 26 + mark + "后续文字" * 12, "字" * 25 + "一" + mark + mark + "后续文字" * 12]
    path = write(out_dir / "kinsoku.pdf", render_report(paragraph_input(*paragraphs)).data)
    lines = [line for line in text_lines(path) if "字" in line.text or "后续" in line.text]
    assert len(lines) >= 4
    for line in lines:
        assert line.text[0] not in NO_START, line.text
    assert squash(paragraphs[0]) in squash(poppler("pdftotext", path, "-"))


@pytest.mark.parametrize("mark", list(NO_END))
def test_opening_punctuation_never_ends_a_line(out_dir, mark):
    paragraphs = ["字" * 25 + mark + "引文" + "后续文字" * 12]
    path = write(out_dir / "kinsoku-open.pdf", render_report(paragraph_input(*paragraphs)).data)
    lines = [line for line in text_lines(path) if "字" in line.text or "后续" in line.text]
    for line in lines:
        assert line.text[-1] not in NO_END, line.text


def test_numbers_and_latin_words_are_not_broken(out_dir):
    text = "字" * 24 + "增长12.5%以上，GDP达到3000亿元。" + "后续文字" * 10
    path = write(out_dir / "words.pdf", render_report(paragraph_input(text)).data)
    flat = [line.text for line in text_lines(path) if "字" in line.text or "后续" in line.text]
    assert any(line.startswith("12.5%") for line in flat), flat


def test_page_numbers_sit_under_the_type_area_odd_right_even_left(seed_pdfs):
    result, path = seed_pdfs["work-report-2024.txt"]
    numbers = [line for line in text_lines(path) if re.fullmatch(r"—\d+—", line.text)]
    assert [int(line.text.strip("—")) for line in numbers] == list(range(1, result.pages + 1))
    for line in numbers:
        n = int(line.text.strip("—"))
        # 一字线上距版心下边缘 7 mm: the dashes sit about 0.38 em above the baseline,
        # which poppler puts 0.12 em above the bottom of the line box.
        dash = line.y_max - (0.12 + 0.38) * L.PAGE_NUMBER_SIZE
        assert abs(dash - (L.MARGIN_TOP + L.TYPE_HEIGHT + 7 * L.MM)) < 1 * L.MM
        if n % 2:
            assert abs(line.x_max - (L.TYPE_RIGHT - L.PAGE_NUMBER_INSET)) < 1.5
        else:
            assert abs(line.x_min - (L.TYPE_LEFT + L.PAGE_NUMBER_INSET)) < 1.5


def test_a_long_title_wraps_into_centred_lines(out_dir):
    title = "关于青山镇2026年度深化农村综合改革和推进城乡融合发展重点工作安排的报告"
    path = write(out_dir / "title.pdf", render_report(paragraph_input("正文。", title=title)).data)
    lines = [line for line in text_lines(path) if line.page == 0 and len(line.text) > 5 and line.text in title]
    assert "".join(line.text for line in lines) == title and len(lines) == 2
    for line in lines:
        centre = (line.x_min + line.x_max) / 2
        assert abs(centre - (L.TYPE_LEFT + L.TYPE_WIDTH / 2)) < 2
    assert abs(len(lines[0].text) - len(lines[1].text)) <= 4  # balanced, not full + stub


def test_the_seal_covers_the_issuer_and_the_date_on_the_last_page(seed_pdfs):
    for name, (result, path) in seed_pdfs.items():
        page, x, y, w, h = result.seal_box
        assert page == result.pages - 1 and w == h == pytest.approx(L.SEAL_DIAMETER)
        lines = [line for line in text_lines(path) if line.page == page]
        date = next(line for line in lines if line.text == "2026年1月5日")
        # The town's 署名 (the district's name, level with it, is in its approval mark).
        issuer = next(line for line in lines if line.text == "青山镇人民政府" and line.y_max < date.y_min + 1)
        top = L.PAGE_HEIGHT - (y + h)  # the seal box measured from the top, like poppler
        for line in (issuer, date):
            assert x < line.x_min and line.x_max < x + w, name
            assert top < line.y_min and line.y_max < top + h, name
        # 成文日期右空四字; the centre of the seal lies a little above the two lines.
        assert abs(date.x_max - (L.TYPE_RIGHT - 4 * L.CHAR_PITCH)) < 1.0
        assert top + h / 2 < (issuer.y_max + date.y_min) / 2
        assert any(line.text.startswith("归档编号") for line in lines)


def test_archive_number_and_report_id_are_in_the_document_information(seed_pdfs):
    info = poppler("pdfinfo", "-custom", seed_pdfs["annual-plan-2026.txt"][1])
    assert re.search(r"ChengbaoArchiveNo:\s*示范区〔2026〕档0003号", info)
    assert re.search(r"ChengbaoReportId:\s*12\b", info)
    assert re.search(r"Author:\s*青山镇人民政府", info)  # the issuer: the town


def test_an_empty_outline_still_renders_title_and_signature(out_dir):
    doc = RenderInput(title="空报告", outline={}, issuer="溪口镇人民政府", town="溪口镇",
                      date=datetime.date(2026, 12, 31), addressee="示范区人民政府")
    result = render_report(doc)
    path = write(out_dir / "empty.pdf", result.data)
    text = squash(poppler("pdftotext", path, "-"))
    assert "空报告" in text and "2026年12月31日" in text and "溪口镇人民政府文件" in text and "示范区人民政府：" in text
    # The seal is on the page of the signature block: page 1, under the title (the 版记
    # that no longer fits under it closes the document on page 2).
    date_pages = {line.page for line in text_lines(path) if line.text == "2026年12月31日"}
    assert result.seal_box[0] in date_pages and result.seal_box[0] == 0


# ---- signing and verification -------------------------------------------------------------

def test_pdfsig_finds_a_valid_pades_signature_from_an_untrusted_dev_ca(signed):
    output = poppler("pdfsig", signed[1])
    assert "Signature Type: ETSI.CAdES.detached" in output
    assert "Signature Validation: Signature is Valid." in output
    assert "Total document signed" in output
    assert "Signer Certificate Common Name: 示范区人民政府" in output
    # poppler's NSS store does not hold the development CA, so the chain is untrusted.
    assert "Certificate Validation: Certificate issuer isn't Trusted." in output


def test_pdfsig_reports_a_digest_mismatch_after_one_byte_changes(signed, out_dir):
    path = write(out_dir / "tampered.pdf", flip_byte_in_content(signed[0]))
    output = poppler("pdfsig", path)
    assert "Signature Validation: Digest Mismatch." in output


def test_signature_field_lies_over_the_seal_with_an_empty_appearance(signed, seed_pdfs):
    from pyhanko.pdf_utils.reader import PdfFileReader

    rendered, _ = seed_pdfs["work-report-2024.txt"]
    page, x, y, w, h = rendered.seal_box
    reader = PdfFileReader(BytesIO(signed[0]))
    (sig,) = reader.embedded_signatures
    widget = sig.sig_field
    rect = [float(v) for v in widget["/Rect"]]
    assert rect == pytest.approx([x, y, x + w, y + h], abs=0.01)
    assert widget["/P"].get_object() == reader.root["/Pages"]["/Kids"][page].get_object()
    appearance = widget["/AP"]["/N"].get_object()
    assert appearance.data.strip() == b""
    # The signing added one revision and left the rendered bytes untouched.
    assert signed[0].startswith(rendered.data)


def test_verify_accepts_the_original(signed, keys):
    result = verify_pdf(signed[0], trust_roots=[keys["ca_cert"]])
    assert result.status == "valid" and result.valid
    assert result.signer == "示范区人民政府"
    assert result.archive_no == "示范区〔2026〕档0003号" and result.report_id == 12
    assert "报告 #12" in result.reason
    assert result.signed_at is not None and result.signed_at.tzinfo is not None
    import hashlib
    assert result.sha256 == hashlib.sha256(signed[0]).hexdigest()
    # Trust roots as PEM bytes work the same, and trust_roots() finds the dev CA.
    assert verify_pdf(signed[0], [keys["ca_cert"].read_bytes()]).status == "valid"
    assert trust_roots(keys["dir"]) == [keys["ca_cert"]]


def test_verify_detects_a_changed_byte(signed, keys):
    result = verify_pdf(flip_byte_in_content(signed[0]), trust_roots=[keys["ca_cert"]])
    assert result.status == "modified" and not result.valid
    assert result.archive_no is None and result.report_id is None


def test_verify_detects_a_change_appended_after_signing(signed, keys):
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(BytesIO(signed[0]))
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    page["/Rotate"] = generic.NumberObject(90)
    writer.update_container(page)
    out = BytesIO()
    writer.write(out)
    assert verify_pdf(out.getvalue(), trust_roots=[keys["ca_cert"]]).status == "modified"


def test_verify_calls_a_foreign_signature_untrusted(seed_pdfs, keys):
    rendered, _ = seed_pdfs["annual-plan-2026.txt"]
    data = _sign(rendered, keys["foreign"], None)
    result = verify_pdf(data, trust_roots=[keys["ca_cert"]])
    assert result.status == "untrusted" and not result.valid
    assert result.signer == "示范区人民政府"


def test_verify_tells_unsigned_and_garbage_apart(seed_pdfs, signed, keys):
    roots = [keys["ca_cert"]]
    assert verify_pdf(seed_pdfs["annual-plan-2026.txt"][0].data, roots).status == "unsigned"
    for garbage in (b"", b"garbage", b"%PDF-1.7\n" + bytes(range(256)) * 4, signed[0][:5000],
                    b"\x00" * 1000):
        result = verify_pdf(garbage, roots)
        assert result.status == "malformed" and not result.valid
        assert result.message


def test_dev_ca_and_district_certificates_are_created_once(keys):
    ca_dir = keys["dir"] / "ca"
    before = (ca_dir / "ca.cert.pem").read_bytes()
    p12_before = keys["ours"].read_bytes()
    assert create_dev_ca(ca_dir).cert_path.read_bytes() == before
    again = issue_district_certificate(ca_dir, "示范区人民政府", keys["ours"], b"secret")
    assert again == keys["ours"] and again.read_bytes() == p12_before
    assert load_signer(keys["ours"], b"secret") is load_signer(keys["ours"], b"secret")
    with pytest.raises(ValueError):
        load_signer(keys["ours"], b"wrong")


def test_a_run_in_heading_shares_its_first_line_with_the_paragraph(out_dir):
    outline = {"preamble": [], "closing": [], "sections": [
        {"id": "s1", "level": 1, "number": "1.", "heading": "突出政治建设。", "run_in": True,
         "paragraphs": ["深入学习，严格执行政治纪律。", "第二段。"], "children": []}]}
    path = write(out_dir / "run-in.pdf", render_report(paragraph_input(outline=outline)).data)
    texts = [line.text for line in text_lines(path)]
    assert "1.突出政治建设。深入学习，严格执行政治纪律。" in texts
    assert "第二段。" in texts


def test_odd_outlines_render_without_crashing(out_dir):
    deep = node = {"id": "0", "level": 1, "number": "一、", "heading": "深", "paragraphs": ["段"], "children": []}
    for i in range(2000):  # deeper than Python's recursion limit
        child = {"id": str(i), "level": 2, "number": "(1)", "heading": "层", "paragraphs": [], "children": []}
        node["children"].append(child)
        node = child
    outline = {"preamble": [1, None, "前言", {"x": 1}], "sections": [deep, "junk", None, {}],
               "closing": "结语"}
    result = render_report(paragraph_input(outline=outline))
    text = squash(poppler("pdftotext", write(out_dir / "odd.pdf", result.data), "-"))
    assert "前言" in text and "结语" in text and "None" not in text


def test_signing_and_verifying_work_inside_a_running_event_loop(seed_pdfs, keys):
    """pyHanko's sync wrappers call asyncio.run; our calls must not depend on the caller's thread
    (speed is measured by `make bench`, not asserted here)."""
    import asyncio

    from pdf.verify import verify_pdf

    rendered, _ = seed_pdfs["work-report-2024.txt"]

    async def inside_a_loop():
        return verify_pdf(_sign(rendered, keys["ours"], b"secret"), [keys["ca_cert"]])

    assert asyncio.run(inside_a_loop()).status == "valid"


def test_the_printed_verification_address_is_readable(out_dir):
    """The QR code carries the percent-encoded URL; the printed line is what a person can type."""
    from urllib.parse import quote

    doc = seed_input("annual-plan-2026.txt")
    doc.verify_url = "http://127.0.0.1:5000/verify?no=" + quote("示范区〔2026〕3号")
    path = write(out_dir / "readable-url.pdf", render_report(doc).data)
    text = poppler("pdftotext", str(path), "-")
    assert "verify?no=示范区〔2026〕3号" in "".join(text.split()) and "%E7" not in text
