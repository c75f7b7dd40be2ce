"""The town's 上行文, sealed twice: the first page as GB/T 9704-2012 places a report to a
higher authority (the town's 发文机关标志, the 发文字号 left and the 签发人 right on one line, the
主送机关 under the title), the district's approval as its own mark, a 发文字号 counter per town
and year without gaps, the town's then the district's PAdES signature (checked by poppler's
``pdfsig``, pyHanko and the app), and the issuing names admins set.

Geometry is measured on the PDF with ``pdftotext -bbox`` (poppler: a word's box is its em
box, y from the top of the page)."""
from __future__ import annotations

import asyncio
import datetime as dt
import re
import shutil
import subprocess
import threading
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import pytest
from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from sqlalchemy import select

from pdf import archive
from pdf import layout as L
from pdf.cli import ensure_dev_keys
from pdf.jobs import DISTRICT_FIELD, TOWN_FIELD, town_key_path
from pdf.render import ApprovalMark, RenderInput, render_report
from pdf.signing import CA_CERT_FILE
from pdf.verify import verify_pdf
from tests.conftest import csrf_from
from tests.helpers import API, Api, advance, browser_as, gen_report, get_user
from tests.jobs_support import jobs_app, redis_url, run_worker  # noqa: F401
from tests.test_signed_archive import (  # noqa: F401  (pki: the module's served CA, TSA and district key)
    annotation_added,
    bytes_after_eof,
    flip_byte,
    info_only,
    no_op,
    page_stream_replaced,
    pdfsig_says,
    pki,
    signature_stripped,
)
from workflow import admin
from workflow.db import db
from workflow.models import AdminAudit, DocNumberCounter, OrgUnit, Publication

ISSUER_MARK = "青山镇人民政府文件"


@dataclass
class Word:
    page: int
    x_min: float
    y_min: float
    x_max: float
    y_max: float
    text: str

    @property
    def centre_y(self) -> float:
        return (self.y_min + self.y_max) / 2


def words(pdf: Path) -> list[Word]:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    xhtml = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True,
                           check=True, timeout=60).stdout
    root = ET.fromstring(xhtml[: xhtml.rindex("</html>") + len("</html>")])
    ns = {"x": "http://www.w3.org/1999/xhtml"}
    found = []
    for number, page in enumerate(root.iterfind(".//x:page", ns)):
        for w in page.iterfind(".//x:word", ns):
            a = w.attrib
            found.append(Word(number, float(a["xMin"]), float(a["yMin"]), float(a["xMax"]), float(a["yMax"]),
                              w.text or ""))
    return found


def one(found: list[Word], text: str, page: int | None = None, size: float | None = None) -> Word:
    """The one word ``text`` (on ``page``; set at ``size``: the em box's height)."""
    hits = [w for w in found if w.text == text and (page is None or w.page == page)
            and (size is None or abs(w.y_max - w.y_min - size) < 0.1)]
    assert len(hits) == 1, (text, [w.text for w in found if page is None or w.page == page])
    return hits[0]


def band_of(word: Word) -> float:
    """The grid line (0-based) a 3号 word's em box is centred in, as a float."""
    return (word.centre_y - L.MARGIN_TOP) / L.LINE_PITCH - 0.5


def upward_input(**overrides) -> RenderInput:
    values = dict(
        title="青山镇2026年度工作总结",
        outline={"preamble": ["今年以来，青山镇坚持稳中求进工作总基调，全镇经济社会发展总体平稳。"
                              "现将有关情况报告如下。"],
                 "sections": [{"number": "一、", "heading": "主要工作", "paragraphs": ["完成固定资产投资3.2亿元。"]}],
                 "closing": ["特此报告。"]},
        issuer="青山镇人民政府", town="青山镇", date=dt.date(2026, 12, 1), doc_number="青政〔2026〕3号",
        archive_no="示范区〔2026〕7号", verify_url="http://127.0.0.1:5000/verify?no=7", report_id=3,
        signer="李青山", addressee="示范区人民政府",
        approval=ApprovalMark("示范区人民政府", "同意。", dt.date(2026, 12, 3)))
    values.update(overrides)
    return RenderInput(**values)


@pytest.fixture(scope="module")
def upward_pdf(tmp_path_factory) -> tuple[Path, object]:
    rendered = render_report(upward_input())
    path = tmp_path_factory.mktemp("upward") / "upward.pdf"
    path.write_bytes(rendered.data)
    return path, rendered


# ---------------------------------------------------------------- the first page


def test_the_header_is_the_towns_with_the_number_left_and_the_signer_right(upward_pdf):
    found = words(upward_pdf[0])
    mark = one(found, ISSUER_MARK, page=0)
    # 发文机关标志: centred, its top edge 35 mm under the type area's top (§7.2.3).
    assert abs((mark.x_min + mark.x_max) / 2 - (L.TYPE_LEFT + L.TYPE_WIDTH / 2)) < 0.5
    assert abs(mark.y_min - (L.MARGIN_TOP + L.ISSUER_MARK_OFFSET)) < 1.0
    number = one(found, "青政〔2026〕3号", page=0)
    signer = one(found, "签发人：李青山", page=0)
    # 上行文 (§7.2.4, §7.2.5): the number one character in from the left, the signer one in
    # from the right, on one line (the same em box), two blank grid lines under the mark.
    assert abs(number.x_min - (L.TYPE_LEFT + L.CHAR_PITCH)) < 0.5
    assert abs(signer.x_max - (L.TYPE_RIGHT - L.CHAR_PITCH)) < 0.5
    assert abs(number.y_min - signer.y_min) < 0.1 and abs(number.y_max - signer.y_max) < 0.1
    assert abs(band_of(number) - round(band_of(number))) < 0.02  # on the grid
    assert 2 * L.LINE_PITCH <= number.y_min - mark.y_max < 3 * L.LINE_PITCH
    # Nothing else on that line: the number is not centred any more.
    assert [w.text for w in found if w.page == 0 and abs(w.centre_y - number.centre_y) < 2] == \
        ["青政〔2026〕3号", "签发人：李青山"]


def test_the_addressee_stands_flush_left_a_blank_line_under_the_title(upward_pdf):
    found = words(upward_pdf[0])
    title = one(found, "青山镇2026年度工作总结", page=0)
    addressee = one(found, "示范区人民政府：", page=0)
    first_body = next(w for w in found if w.page == 0 and w.text.startswith("今年以来"))
    # §7.3.2: 标题下空一行, 居左顶格, ending in a full-width colon; the body on the next line.
    assert abs(addressee.x_min - L.TYPE_LEFT) < 0.5
    assert abs(band_of(addressee) - round(band_of(addressee))) < 0.02
    title_band = round((title.centre_y - L.MARGIN_TOP) / L.LINE_PITCH - 0.5)
    assert round(band_of(addressee)) == title_band + 2
    assert abs(first_body.centre_y - addressee.centre_y - L.LINE_PITCH) < 0.5
    assert abs(first_body.x_min - (L.TYPE_LEFT + 2 * L.CHAR_PITCH)) < 0.5
    # The old 下行文 parts are gone: no town line under the title.
    assert not [w for w in found if w.page == 0 and w.text == "青山镇"]


def test_the_red_rule_is_4_mm_under_the_number_line():
    from pdf.fonts import FontConfig, load_fonts
    from pdf.typeset import compose

    composed = compose(upward_input(), load_fonts(FontConfig.default()))
    number = composed.doc_number
    assert number is not None and composed.signer
    em_bottom = number.y - (1 - L.EM_ASCENT) * L.BODY_SIZE
    assert abs(em_bottom - composed.red_rule_y - 4 * L.MM) < 0.01
    assert all(abs(p.y - number.y) < 1e-6 for p in composed.signer)
    # "签发人：" in the body face, the name in 楷体 (§7.2.5).
    assert [p.line.style.role for p in composed.signer] == ["body", "kaiti"]


def test_the_last_page_carries_the_towns_signature_the_districts_mark_and_the_archive_number(upward_pdf):
    path, rendered = upward_pdf
    found = words(path)
    last = max(w.page for w in found)
    town_name = one(found, "青山镇人民政府", page=last, size=L.BODY_SIZE)  # (the 版记 has it at 4号)
    town_date = one(found, "2026年12月1日", page=last, size=L.BODY_SIZE)
    district_name = one(found, "示范区人民政府", page=last, size=L.BODY_SIZE)
    district_date = one(found, "2026年12月3日", page=last, size=L.BODY_SIZE)
    opinion = one(found, "审核意见：同意。", page=last)
    # The district's mark: on the left, level with the town's 署名 and 成文日期, its opinion above.
    assert abs(district_name.centre_y - town_name.centre_y) < 0.1
    assert abs(district_date.centre_y - town_date.centre_y) < 0.1
    assert district_name.x_max < town_name.x_min and opinion.x_min > L.TYPE_LEFT
    assert opinion.centre_y < district_name.centre_y
    # 成文日期 右空四字 (§7.3.5.1).
    assert abs(town_date.x_max - (L.TYPE_RIGHT - L.DATE_RIGHT_INSET_CHARS * L.CHAR_PITCH)) < 0.5
    # 版记: the approving district and its archive number.
    assert one(found, "审核机关：示范区人民政府", page=last)
    assert one(found, "归档编号：示范区〔2026〕7号", page=last)
    # Two seals on the last page, apart, each over its own name and date.
    town_box, district_box = rendered.seal_box, rendered.approval_seal_box
    assert town_box[0] == district_box[0] == rendered.pages - 1
    assert district_box[1] + district_box[3] < town_box[1]
    for box, name in ((town_box, town_name), (district_box, district_name)):
        centre = box[1] + box[3] / 2
        assert name.x_min < centre < name.x_max


def test_a_long_opinion_is_cut_to_two_lines_in_the_mark(tmp_path):
    opinion = "同意。请进一步细化重点项目的投资计划，明确责任单位和完成时限，按季度报送进展情况。" * 2
    path = tmp_path / "long.pdf"
    path.write_bytes(render_report(upward_input(
        approval=ApprovalMark("示范区人民政府", opinion, dt.date(2026, 12, 3)))).data)
    found = words(path)
    last = max(w.page for w in found)
    name = one(found, "示范区人民政府", page=last, size=L.BODY_SIZE)
    inside = [w for w in found if w.page == last and w.x_max < name.x_max + 60
              and name.centre_y - 1.5 * L.LINE_PITCH < w.centre_y < name.centre_y - 1]
    assert len(inside) == 2 and inside[0].text.startswith("审核意见：") and inside[1].text.endswith("……")


def _intersects(word: Word, box: tuple[float, float, float, float]) -> bool:
    """``box`` as (x, y from the top, width, height)."""
    x, y, w, h = box
    return word.x_min < x + w and x < word.x_max and word.y_min < y + h and y < word.y_max


@pytest.mark.parametrize("outline, opinion", [
    ({"preamble": ["今年以来，青山镇坚持稳中求进工作总基调。现将有关情况报告如下。"], "sections": [], "closing": []},
     "同意。"),
    (None, "同意。"),
    (None, "同意。请进一步细化重点项目的投资计划，明确责任单位和完成时限，按季度报送进展情况。"),
], ids=["one-paragraph", "two-pages", "two-line-opinion"])
def test_the_districts_seal_covers_its_name_and_date_not_its_opinion(tmp_path, outline, opinion):
    overrides: dict = {"approval": ApprovalMark("示范区人民政府", opinion, dt.date(2026, 12, 3))}
    if outline is not None:
        overrides["outline"] = outline
    rendered = render_report(upward_input(**overrides))
    path = tmp_path / "mark.pdf"
    path.write_bytes(rendered.data)
    found = words(path)
    assert rendered.approval_seal_box is not None
    page, x, y, w, h = rendered.approval_seal_box
    seal = (x, L.PAGE_HEIGHT - y - h, w, h)  # as pdftotext measures: from the top
    name = one(found, "示范区人民政府", page=page, size=L.BODY_SIZE)
    date = one(found, "2026年12月3日", page=page, size=L.BODY_SIZE)
    opinion_lines = [wd for wd in found if wd.page == page and wd.x_max < name.x_max + 60
                     and name.y_min - 1.5 * L.LINE_PITCH < wd.y_max <= name.y_min]
    assert opinion_lines and opinion_lines[0].text.startswith("审核意见：")
    assert not [wd.text for wd in opinion_lines if _intersects(wd, seal)]
    # The name and the date are under the seal (the town's seal covers its own the same way).
    for covered in (name, date):
        assert seal[0] < covered.x_min and covered.x_max < seal[0] + seal[2]
        assert seal[1] < covered.y_min and covered.y_max < seal[1] + seal[3]
    # Still on the paper, and clear of the page number under it.
    assert seal[1] + seal[3] < L.PAGE_HEIGHT
    assert not [wd.text for wd in found if wd.page == page and wd.text.startswith("—") and _intersects(wd, seal)]


# ---------------------------------------------------------------- the 发文字号 counter


def _published(town: str, title: str) -> int:
    report = gen_report(town, title=title)
    advance(report.id, "published", town=town)
    return db.session.scalar(select(Publication.id).where(Publication.report_id == report.id))


def test_doc_numbers_have_no_gap_per_town_and_year_under_concurrency(app, world):
    """Sixteen publications of two towns over two years, each numbered from two threads at once."""
    with app.app_context():
        admin.set_issuing_names(None, world["xk"], issuing_name=None, doc_prefix="溪口政")
        plan = [(town, year) for town in ("qs", "xk") for year in (2026, 2027) for _ in range(4)]
        pubs = [(_published(town, f"报告{i}"), world[town], year) for i, (town, year) in enumerate(plan)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(pubs) * 2)

    def allocate(pid: int, town_id: int, year: int) -> None:
        try:
            with app.app_context():
                barrier.wait()
                archive.allocate_doc_number(pid, town_id=town_id, year=year)
        except BaseException as exc:  # collected: a thread's exception would vanish
            errors.append(exc)

    threads = [threading.Thread(target=allocate, args=p) for p in pubs for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    with app.app_context():
        rows = db.session.execute(select(Publication.id, Publication.doc_year, Publication.doc_seq,
                                         Publication.doc_number)).all()
        counters = {(c.org_unit_id, c.year): c.last_seq for c in db.session.scalars(select(DocNumberCounter))}
        # Stable: a retry gets the number already given.
        again = {pid: archive.allocate_doc_number(pid, town_id=town_id, year=year) for pid, town_id, year in pubs}
    town_of = {pid: town_id for pid, town_id, _ in pubs}
    prefix = {world["qs"]: "青政", world["xk"]: "溪口政"}
    seqs: dict[tuple[int, int], list[int]] = {}
    for pid, year, seq, number in rows:
        assert number == f"{prefix[town_of[pid]]}〔{year}〕{seq}号" == again[pid]
        seqs.setdefault((town_of[pid], year), []).append(seq)
    assert {k: sorted(v) for k, v in seqs.items()} == {
        (world[t], y): [1, 2, 3, 4] for t in ("qs", "xk") for y in (2026, 2027)}
    assert counters == {(world[t], y): 4 for t in ("qs", "xk") for y in (2026, 2027)}


# ---------------------------------------------------------------- issuing names


def test_admins_set_issuing_names_in_the_api_and_the_page(app, world, client):
    api = Api(client, "admin")
    r = api.get(f"/org-units/{world['qs']}")
    assert r.status_code == 200
    assert r.get_json() == {"id": world["qs"], "name": "青山镇", "kind": "town", "issuing_name": None,
                                 "doc_prefix": None, "printed_issuing_name": "青山镇人民政府",
                                 "printed_doc_prefix": "青政"}
    r = api.put(f"/org-units/{world['qs']}/issuing-names", json={"issuing_name": "青山镇人民政府办公室",
                                                                   "doc_prefix": "青山政"})
    assert r.status_code == 200 and r.get_json()["printed_doc_prefix"] == "青山政"
    # Not an admin, or another district's admin: refused; out of sight: 404.
    assert Api(client, "qs_reviewer").put(f"/org-units/{world['qs']}/issuing-names",
                                           json={"issuing_name": "x", "doc_prefix": "x"}).status_code == 403
    assert Api(client, "qs_reviewer").get(f"/org-units/{world['lh']}").status_code == 404
    assert api.put(f"/org-units/{world['qs']}/issuing-names", json={"issuing_name": "x"}).status_code == 400
    with app.app_context():
        record = db.session.scalars(select(AdminAudit).where(AdminAudit.action == "unit_issuing_names_set")).all()
        assert [(r.org_unit_id, r.detail["after"]) for r in record] == [
            (world["qs"], {"issuing_name": "青山镇人民政府办公室", "doc_prefix": "青山政"})]
    # The page: empty restores the defaults.
    browser = browser_as(app, "admin")
    page = browser.get(f"/admin/units/{world['qs']}")
    assert page.status_code == 200 and "青山镇人民政府办公室" in page.get_data(as_text=True)
    done = browser.post(f"/admin/units/{world['qs']}", data={
        "issuing_name": "", "doc_prefix": "", "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert done.status_code == 303
    with app.app_context():
        unit = db.session.get(OrgUnit, world["qs"])
        assert (unit.issuing_name, unit.doc_prefix) == (None, None)
        assert (unit.issuing_name_or_default, unit.doc_prefix_or_default) == ("青山镇人民政府", "青政")
    assert browser_as(app, "qs_author").get(f"/admin/units/{world['qs']}").status_code == 403


# ---------------------------------------------------------------- two signatures


def _pdfsig(path: Path) -> dict[str, tuple[str, str]]:
    """``{field name: (signer common name, signature validation)}`` as poppler reports them."""
    if shutil.which("pdfsig") is None:
        pytest.skip("pdfsig (poppler-utils) is not installed")
    done = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, timeout=60)
    found = {}
    for block in re.split(r"Signature #\d+:", done.stdout)[1:]:
        field = re.search(r"Signature Field Name: (.*)", block)
        name = re.search(r"Signer Certificate Common Name: (.*)", block)
        valid = re.search(r"Signature Validation: (.*)", block)
        if field and name and valid:
            found[field.group(1).strip()] = (name.group(1).strip(), valid.group(1).strip().rstrip("."))
    return found


def test_a_published_report_is_the_towns_signed_by_the_town_then_the_district(jobs_app, world, tmp_path):
    app = jobs_app
    with app.app_context():
        ensure_dev_keys(app)  # the district's key; the town's is issued on demand
        admin.set_issuing_names(None, world["qs"], issuing_name=None, doc_prefix="青山政")
        assert not town_key_path(app.config, world["qs"]).exists()
        report = gen_report("qs")
        advance(report.id, "district_review")
        district_reviewer = get_user("district_reviewer")
        from workflow import services

        services.perform(district_reviewer, report.id, "approve", version=db.session.get(type(report), report.id)
                         .version, comment="同意上报。")
        report_id = report.id
    run_worker(app)
    with app.app_context():
        pub = db.session.scalar(select(Publication).where(Publication.report_id == report_id))
        assert pub.status == "ready", pub.error
        data = archive.read(app.config["ARCHIVE_DIR"], pub.file_sha256)
        year = pub.doc_year
        assert pub.doc_number == f"青山政〔{year}〕1号" and pub.doc_seq == 1
        assert town_key_path(app.config, world["qs"]).is_file()
    assert Api(app.test_client(), "qs_author").report(report_id)["pdf"]["doc_number"] == f"青山政〔{year}〕1号"
    path = tmp_path / "published.pdf"
    path.write_bytes(data)

    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    flat = re.sub(r"\s+", "", text)
    for expected in ("青山镇人民政府文件", f"青山政〔{year}〕1号", "签发人：qs_reviewer", "示范区人民政府：",
                     "审核意见：同意上报。", f"归档编号：{pub.archive_no}"):
        assert expected in flat, expected

    # poppler: both signatures valid, in order, over the whole revision each signed.
    seen = _pdfsig(path)
    assert seen[TOWN_FIELD] == ("青山镇人民政府", "Signature is Valid")
    assert seen[DISTRICT_FIELD] == ("示范区人民政府", "Signature is Valid")

    # pyHanko: both intact, valid and trusted; after the town's only the district's signing
    # (form filling) and long-term validation data, after the district's only the latter.
    ca = Path(app.config["KEYS_DIR"]) / "ca" / CA_CERT_FILE
    root = asn1_x509.Certificate.load(pem.unarmor(ca.read_bytes())[2])
    reader = PdfFileReader(BytesIO(data))
    signatures = reader.embedded_regular_signatures
    assert [s.field_name for s in signatures] == [TOWN_FIELD, DISTRICT_FIELD]
    levels = []
    for embedded in signatures:
        status = asyncio.run(async_validate_pdf_signature(
            embedded, ValidationContext(trust_roots=[root], allow_fetching=False)))
        assert status.bottom_line and status.docmdp_ok, status.pretty_print_details()
        assert status.timestamp_validity is not None and status.timestamp_validity.valid
        levels.append(status.modification_level)
    assert levels == [ModificationLevel.FORM_FILLING, ModificationLevel.LTA_UPDATES]
    assert signatures[0].docmdp_level is not None and signatures[0].docmdp_level.value == 2
    # One document timestamp, after both signatures, over their DSS updates (B-LTA for both).
    stamps = reader.embedded_timestamp_signatures
    assert len(stamps) == 1 and "/DSS" in reader.root
    assert stamps[0].signed_revision > max(s.signed_revision for s in signatures)

    # The app: valid, both signers listed, the town first.
    result = verify_pdf(data, [ca])
    assert result.status == "valid" and result.archive_no == pub.archive_no
    assert [(s.name, s.org, s.timestamped) for s in result.signers] == [
        ("qs_reviewer", "青山镇人民政府", True), ("district_reviewer", "示范区人民政府", True)]
    assert result.signers[0].signed_at < result.signers[1].signed_at

    # The API and the page list both signers with their times.
    client = app.test_client()
    answer = client.post(f"{API}/verify", data={"file": (BytesIO(data), "r.pdf")},
                         content_type="multipart/form-data").get_json()
    assert answer["verdict"] == "valid_in_archive"
    assert [(s["name"], s["org"], s["timestamped"]) for s in answer["signers"]] == [
        ("qs_reviewer", "青山镇人民政府", True), ("district_reviewer", "示范区人民政府", True)]
    assert all(s["signed_at"] for s in answer["signers"])
    page = client.get("/verify")
    html = client.post("/verify", data={"file": (BytesIO(data), "r.pdf"),
                                        "csrf_token": csrf_from(page.get_data(as_text=True))},
                       content_type="multipart/form-data").get_data(as_text=True)
    listed = re.search(r'<ol class="signers">(.*?)</ol>', html, re.S)
    assert listed is not None, html[-3000:]
    items = re.findall(r"<li>(.*?)</li>", listed.group(1), re.S)
    assert len(items) == 2
    assert "qs_reviewer" in items[0] and "青山镇人民政府" in items[0]
    assert "district_reviewer" in items[1] and "示范区人民政府" in items[1]
    assert all(re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", item) for item in items)


# ---------------------------------------------------------------- forgeries of the pair


@pytest.fixture(scope="module")
def sealed_twice(pki) -> bytes:
    """A 上行文 signed as the publishing job signs it: the district's field made with the
    town's certifying signature (P=2), before it, and the town's DSS, then the district's
    approval with its DSS and the document timestamp that closes both (B-LTA)."""
    from pyhanko.sign.fields import MDPPerm

    from pdf import ltv, signing

    town_p12 = signing.issue_district_certificate(ltv.ca_directory(pki.config), "青山镇人民政府",
                                                  pki.keys / "town-2.p12", None, crl_url=ltv.crl_url(pki.config))
    rendered = render_report(upward_input())
    assert rendered.approval_seal_box is not None
    lta = dict(timestamper=ltv.timestamper(pki.config), validation_context=ltv.embedding_context(pki.config))
    town = signing.sign_pdf(rendered.data, signing.load_signer(town_p12, None), seal_box=rendered.seal_box,
                            field_name=TOWN_FIELD, certify=True, docmdp_permissions=MDPPerm.FILL_FORMS,
                            reason="签发", signer_name="李青山", document_timestamp=False,
                            other_fields=((DISTRICT_FIELD, rendered.approval_seal_box),), **lta)
    return signing.sign_pdf(town, signing.load_signer(pki.p12, None), seal_box=rendered.approval_seal_box,
                            field_name=DISTRICT_FIELD, certify=False, reason="批准发布", signer_name="王审核", **lta)


def third_signature(data: bytes, pki) -> bytes:
    """A further approval signed with a key of our own CA (the town's), in a new field."""
    from pdf import ltv, signing

    town_p12 = pki.keys / "town-2.p12"
    return signing.sign_pdf(data, signing.load_signer(town_p12, None), seal_box=(0, 100, 100, 50, 50),
                            field_name="Forged", certify=False, reason="伪造", signer_name="某人",
                            timestamper=ltv.timestamper(pki.config),
                            validation_context=ltv.embedding_context(pki.config))


FORGERIES = {
    "original": (lambda data, pki: data, "valid"),
    "one byte flipped": (lambda data, pki: flip_byte(data), "modified (digest_mismatch)"),
    "Info-only update": (lambda data, pki: info_only(data), "modified (info_changed)"),
    "no-op update": (lambda data, pki: no_op(data), "modified (empty_update)"),
    "bytes after %%EOF": (lambda data, pki: bytes_after_eof(data), "modified (bytes_after_end)"),
    "annotation added": (lambda data, pki: annotation_added(data), "modified (content_changed)"),
    "page stream replaced": (lambda data, pki: page_stream_replaced(data), "modified (content_changed)"),
    "signatures stripped": (lambda data, pki: signature_stripped(data), "modified (signature_removed)"),
    "a third signature": (third_signature, "modified (content_changed)"),
}


@pytest.mark.parametrize("case", list(FORGERIES))
def test_the_pair_of_signatures_is_all_that_is_accepted(pki, sealed_twice, tmp_path, case):
    forge, expected = FORGERIES[case]
    data = forge(sealed_twice, pki)
    result = verify_pdf(data, [pki.ca_cert])
    said = result.status if result.detail == result.status else f"{result.status} ({result.detail})"
    assert said == expected
    if case == "original":
        assert [(s.name, s.org) for s in result.signers] == [("李青山", "青山镇人民政府"), ("王审核", "示范区")]
        path = tmp_path / "pair.pdf"
        path.write_bytes(data)
        assert pdfsig_says(path) == "Signature is Valid"
        assert _pdfsig(path)[DISTRICT_FIELD][1] == "Signature is Valid"


def test_the_pair_renewed_verifies_ten_years_ahead(pki, sealed_twice):
    from pdf import ltv

    renewed = ltv.renew(sealed_twice, pki.config)
    assert renewed.startswith(sealed_twice)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=3653)
    for data in (sealed_twice, renewed):
        result = verify_pdf(data, [pki.ca_cert], at=later)
        assert (result.status, len(result.signers)) == ("valid", 2), result


@pytest.mark.parametrize("made", ["in an update of its own", "with the town's signature"])
def test_the_districts_field_made_beforehand_is_signed_the_slow_way_too(pki, monkeypatch, made):
    """A signature too big for its fixed room is made again sized by pyHanko's dry run: the
    district's field, made before the town signed (in an update of its own, or in the town's
    signature's, as the job makes it), is filled in then too (not added twice)."""
    from pyhanko.sign.fields import MDPPerm

    from pdf import ltv, signing

    monkeypatch.setattr(signing, "signature_bytes_reserved", lambda signer, timestamped: 1024)
    town_p12 = signing.issue_district_certificate(ltv.ca_directory(pki.config), "青山镇人民政府",
                                                  pki.keys / "town-2.p12", None, crl_url=ltv.crl_url(pki.config))
    rendered = render_report(upward_input())
    assert rendered.approval_seal_box is not None
    if made == "in an update of its own":
        prepared, other_fields = signing.add_signature_field(rendered.data, DISTRICT_FIELD,
                                                             rendered.approval_seal_box), ()
    else:
        prepared, other_fields = rendered.data, ((DISTRICT_FIELD, rendered.approval_seal_box),)
    town = signing.sign_pdf(prepared, signing.load_signer(town_p12, None), seal_box=rendered.seal_box,
                            field_name=TOWN_FIELD, certify=True, docmdp_permissions=MDPPerm.FILL_FORMS,
                            reason="签发", signer_name="李青山", other_fields=other_fields)
    data = signing.sign_pdf(town, signing.load_signer(pki.p12, None), seal_box=rendered.approval_seal_box,
                            field_name=DISTRICT_FIELD, certify=False, reason="批准发布", signer_name="王审核")
    signatures = PdfFileReader(BytesIO(data)).embedded_regular_signatures
    assert [s.field_name for s in signatures] == [TOWN_FIELD, DISTRICT_FIELD]
    assert all(len(s.sig_object["/Contents"]) * 2 > 1024 for s in signatures)
    result = verify_pdf(data, [pki.ca_cert])
    assert result.status == "valid" and len(result.signers) == 2
