"""The verification page in a real browser at phone width: a published PDF is valid and
in the archive, a copy whose archive number was rewritten after signing is modified (and
the forged number is nowhere on the page), and the CA certificate and CRL download."""
from __future__ import annotations

from io import BytesIO

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from tests.browser_support import browser, require_chromium, shot  # noqa: F401
from tests.jobs_support import jobs_app, redis_url  # noqa: F401
from tests.test_archive import archived_bytes, published

require_chromium()
pytestmark = [pytest.mark.browser, pytest.mark.jobs]

FORGED = "示范区〔2027〕999号"


def _forged(data: bytes) -> bytes:
    writer = IncrementalPdfFileWriter(BytesIO(data))
    info = writer.trailer.raw_get("/Info").get_object()
    info["/ChengbaoArchiveNo"] = generic.TextStringObject(FORGED)
    writer.update_container(info)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def _upload(page, base: str, path) -> str:
    page.goto(f"{base}/verify")
    page.set_input_files("input[type=file]", str(path))
    page.locator("form[enctype] button[type=submit]").click()
    page.wait_for_load_state()
    return page.locator("#verify-result").get_attribute("data-status")


def test_a_phone_user_checks_an_original_and_a_forgery(jobs_app, world, browser, tmp_path):
    app = jobs_app
    _, pub = published(app, ("qs", "青山镇2027年度工作计划", "annual_plan", 2027))["青山镇2027年度工作计划"]
    original = archived_bytes(app, pub)
    (tmp_path / "original.pdf").write_bytes(original)
    (tmp_path / "forged.pdf").write_bytes(_forged(original))
    base = app.config["PUBLIC_BASE_URL"]  # jobs_app serves the app there
    page = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")

    assert _upload(page, base, tmp_path / "original.pdf") == "valid_in_archive"
    assert "已在本系统归档" in page.inner_text("#verify-result") and pub.archive_no in page.content()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "verify-original-phone")

    assert _upload(page, base, tmp_path / "forged.pdf") == "modified"
    text = page.inner_text("#verify-result")
    assert "签章后被改动" in text and "文档信息" in text and FORGED not in page.content()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "verify-forged-phone")

    for link, kind in (("/ca/cert", "application/pkix-cert"), ("/ca/crl", "application/pkix-crl")):
        assert page.locator(f"a[href='{link}']").count() == 1
        assert page.request.get(f"{base}{link}").headers["content-type"] == kind
