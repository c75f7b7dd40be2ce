"""A Word file uploaded as a new user would: through the page and through the API (multipart),
with auto-numbered headings, a table of targets and tracked changes — the same outline every
time and in both places; a title from Word's Title style; zip bombs and other formats refused
with a clear 4xx."""
from __future__ import annotations

import io
import re

from tests.conftest import csrf_from
from tests.docx_build import abstract, build_docx, level, num, p, r, style, table
from tests.helpers import API, PASSWORD, ensure_translations_compiled, error_of, get_html, html_of, login
from workflow.db import db
from workflow.models import Report

ensure_translations_compiled()

NUMBERING = (abstract(1, level(0, "chineseCounting", "%1、"), level(1, "chineseCounting", "（%2）"))
             + num(1, 1))
STYLES = (style("a", "Normal", default=True) + style("1", "heading 1", based_on="a", props='<w:outlineLvl w:val="0"/>')
          + style("a3", "Title", based_on="a"))
TARGETS = [["指标", "单位", "2026年目标"], ["地区生产总值", "亿元", "12.5"], ["新建茶园", "亩", "800"]]
WORD_FILE = build_docx(
    p(r("青山镇2027年度工作计划"), style="a3")
    + p(r("为做好本年度工作，现将计划报告如下。"))
    + p(r("发展特色产业"), style="1", num=(1, 0))
    + p(r("抓好茶叶产业"), num=(1, 1))
    + p(r("新建茶园"), '<w:ins w:id="1" w:author="张"><w:r><w:t>800</w:t></w:r></w:ins>',
        '<w:del w:id="2" w:author="张"><w:r><w:delText>500</w:delText></w:r></w:del>', r("亩。"))
    + p(r("主要指标如下。"))
    + table(TARGETS)
    + p(r("办好民生实事"), style="1", num=(1, 0))
    + p(r("新建村道12公里。")),
    numbering=NUMBERING, styles=STYLES)


def shape(outline: dict) -> list:
    """The outline's sections as ``(number, heading, paragraphs, children)``."""
    def walk(sections):
        return [(s["number"], s["heading"], s["paragraphs"], walk(s["children"])) for s in sections]
    return [outline["preamble"], walk(outline["sections"]), outline["closing"]]


EXPECTED = [
    ["为做好本年度工作，现将计划报告如下。"],
    [("一、", "发展特色产业", [], [
        ("（一）", "抓好茶叶产业", ["新建茶园800亩。", "主要指标如下。"], [])]),
     ("二、", "办好民生实事", ["新建村道12公里。"], [])],
    [],
]


def _new_report_page(client) -> tuple[str, str]:
    page = get_html(client, "/reports/new")
    return csrf_from(page), re.search(r'value="(\d+)"[^>]*>青山镇<', page).group(1)


def _upload_page(client, data: bytes, *, title: str = "", name: str = "计划.docx"):
    csrf, town_id = _new_report_page(client)
    form = {"csrf_token": csrf, "org_unit_id": town_id, "kind": "annual_plan", "year": "2027", "title": title,
            "text": "", "docx": (io.BytesIO(data), name)}
    return client.post("/reports/new", data=form, content_type="multipart/form-data")


def _outline_of(app, report_id: int) -> tuple[str, dict]:
    with app.app_context():
        report = db.session.get(Report, report_id)
        return report.title, report.current.outline


def _api_headers(client) -> dict:
    token = client.post(f"{API}/tokens", json={"username": "qs_author", "password": PASSWORD})
    assert token.status_code == 201, token.get_json()
    return {"Authorization": f"Bearer {token.get_json()['token']}"}


def _upload_api(client, headers: dict, world, data: bytes, **fields):
    form = {"org_unit_id": str(world["qs"]), "kind": "annual_plan", "year": "2027", **fields,
            "file": (io.BytesIO(data), "计划.docx")}
    return client.post(f"{API}/reports", data=form, headers=headers, content_type="multipart/form-data")


def test_the_same_word_file_gives_the_same_outline_three_times_through_the_page_and_the_api(app, client, world):
    login(client, "qs_author")
    page_outlines = []
    for _ in range(3):
        response = _upload_page(client, WORD_FILE)
        assert response.status_code == 303, html_of(response)
        title, outline = _outline_of(app, int(response.headers["Location"].rsplit("/", 1)[1]))
        assert title == "青山镇2027年度工作计划"  # no title typed: Word's Title style
        page_outlines.append(outline)
    html = get_html(client, response.headers["Location"])
    assert "新建茶园800亩。" in html and "500亩" not in html and "800500" not in html

    headers = _api_headers(client)
    api_outlines = []
    for _ in range(3):
        response = _upload_api(client, headers, world, WORD_FILE)
        assert response.status_code == 201, response.get_json()
        assert response.get_json()["title"] == "青山镇2027年度工作计划"
        api_outlines.append(response.get_json()["outline"])

    assert all(outline == page_outlines[0] for outline in page_outlines + api_outlines)
    assert shape(page_outlines[0])[0] == EXPECTED[0] and shape(page_outlines[0])[2] == EXPECTED[2]
    # The table of targets is a table block where Word shows it: after "主要指标如下。".
    section = page_outlines[0]["sections"][0]["children"][0]
    assert (section["number"], section["heading"]) == ("（一）", "抓好茶叶产业")
    assert section["paragraphs"] == ["新建茶园800亩。", "主要指标如下。"]
    [targets] = section["tables"]
    assert (targets["rows"], targets["header_rows"], targets["at"]) == (TARGETS, 1, 2)
    shown = re.search(r'<table class="doc-table">(.*?)</table>', html, re.S).group(1)
    assert re.findall(r"<t[hd][^>]*>\s*([^<]*?)\s*</t[hd]>", shown) == [c for row in TARGETS for c in row]
    headings = [s["number"] + s["heading"] for s in page_outlines[0]["sections"]]
    assert headings == ["一、发展特色产业", "二、办好民生实事"]


def test_the_api_takes_a_typed_title_and_replaces_a_drafts_content_with_a_file(app, client, world):
    headers = _api_headers(client)
    created = _upload_api(client, headers, world, build_docx(p(r("一、旧的内容")) + p(r("正文。"))), title="我的标题")
    assert created.status_code == 201, created.get_json()
    report = created.get_json()
    assert report["title"] == "我的标题"

    response = client.put(f"{API}/reports/{report['id']}", headers=headers, content_type="multipart/form-data",
                          data={"version": str(report["version"]), "file": (io.BytesIO(WORD_FILE), "新.docx")})
    assert response.status_code == 200, response.get_json()
    updated = response.get_json()
    assert updated["title"] == "我的标题"  # a PUT without a title keeps it
    assert [s["heading"] for s in updated["outline"]["sections"]] == ["发展特色产业", "办好民生实事"]

    # A stale version is refused as with JSON; no file names the missing field.
    stale = client.put(f"{API}/reports/{report['id']}", headers=headers, content_type="multipart/form-data",
                       data={"version": str(report["version"]), "file": (io.BytesIO(WORD_FILE), "新.docx")})
    assert stale.status_code == 409
    for data in ({"version": str(updated["version"])}, {"version": str(updated["version"]), "file": "正文"}):
        missing = client.put(f"{API}/reports/{report['id']}", headers=headers, content_type="multipart/form-data",
                             data=data)
        assert missing.status_code == 400 and error_of(missing)["params"] == {"names": ["file"]}
    empty = client.put(f"{API}/reports/{report['id']}", headers=headers, content_type="multipart/form-data",
                       data={"version": str(updated["version"]), "file": (io.BytesIO(b""), "空.docx")})
    assert empty.status_code == 400 and error_of(empty)["reason"] == "empty_file"


def test_a_file_without_a_title_style_needs_a_typed_title(app, client, world):
    headers = _api_headers(client)
    response = _upload_api(client, headers, world, build_docx(p(r("一、总体要求"))))
    assert response.status_code == 400 and error_of(response)["reason"] == "docx_no_title"

    login(client, "qs_author")
    response = _upload_page(client, build_docx(p(r("一、总体要求"))))
    assert response.status_code == 400 and "没有使用Word“标题”样式的段落" in html_of(response)


ZIP_BOMBS = {
    "three million empty paragraphs": build_docx("<w:p/>" * 3_000_000),
    "a huge compression ratio": build_docx(p(r("正文。" + " " * 20_000_000))),
}


def test_zip_bombs_answer_4xx_through_the_page_and_the_api(app, client, world):
    headers = _api_headers(client)
    login(client, "qs_author")
    for name, bomb in ZIP_BOMBS.items():
        assert len(bomb) < 100 * 1024, name
        response = _upload_api(client, headers, world, bomb, title="炸弹")
        assert response.status_code == 400, name
        error = error_of(response)
        assert (error["reason"], error["params"]) == ("docx_too_complex", {"limit": 400_000})
        assert "过大或过于复杂" in error["message"]

        response = _upload_page(client, bomb, title="炸弹")
        assert response.status_code == 400, name
        assert "过大或过于复杂" in html_of(response) and 'value="炸弹"' in html_of(response)


def test_old_word_wps_and_pdf_files_are_named_with_how_to_convert_them(app, client, world):
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600
    login(client, "qs_author")
    for name in ("报告.doc", "报告.wps", "报告.pdf"):
        response = _upload_page(client, ole, title="旧格式", name=name)
        assert response.status_code == 400
        assert f"这是 .{name.rsplit('.', 1)[1]} 文件" in html_of(response) and "另存为" in html_of(response)

    # Through the API (or a renamed file), the first bytes tell the format.
    response = _upload_api(client, _api_headers(client), world, ole, title="旧格式")
    assert response.status_code == 400
    assert error_of(response)["reason"] == "docx_other_format"
    assert error_of(response)["params"] == {"format": ".doc/.wps/.et"}


def test_the_openapi_document_offers_json_and_multipart_for_reports(client):
    doc = client.get(f"{API}/openapi.json").get_json()
    for path, method, schema in ((f"{API}/reports", "post", "CreateReportUploadSchema"),
                                 (f"{API}/reports/{{report_id}}", "put", "UpdateReportUploadSchema")):
        content = doc["paths"][path][method]["requestBody"]["content"]
        assert set(content) == {"application/json", "multipart/form-data"}
        ref = content["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[1]
        assert ref == schema.removesuffix("Schema")
        properties = doc["components"]["schemas"][ref]["properties"]
        assert properties["file"]["format"] == "binary" and "file" in doc["components"]["schemas"][ref]["required"]


def test_saving_the_unchanged_text_keeps_the_headings_a_word_file_gave_by_style(app, client, world):
    from workflow.importer import outline_to_text

    headers = _api_headers(client)
    data = build_docx(p(r("总体要求"), style="1") + p(r("坚持稳中求进。")) + p(r("保障措施"), style="1")
                      + p(r("加强领导。")), styles=STYLES)
    report = _upload_api(client, headers, world, data, title="无编号标题").get_json()
    assert [s["heading"] for s in report["outline"]["sections"]] == ["总体要求", "保障措施"]

    # The edit page shows the outline as text; a save that changed only the title keeps it.
    response = client.put(f"{API}/reports/{report['id']}", headers=headers,
                          json={"version": report["version"], "title": "新标题",
                                "text": outline_to_text(report["outline"]) + "\n"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["title"] == "新标题"
    assert response.get_json()["outline"] == report["outline"]
