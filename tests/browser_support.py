"""Plumbing shared by the browser tests: finding chromium, launching it, serving the app on a
real socket, logging in and saving screenshots.

Each browser test module calls `require_chromium()` at import: without chromium the module is
skipped, unless CHENGBAO_REQUIRE_BROWSER=1 (as in CI), where a missing browser is an error."""
from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.helpers import PASSWORD

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def require_chromium() -> None:
    """Skip the calling module without chromium or Playwright; with CHENGBAO_REQUIRE_BROWSER=1,
    a missing chromium is an error instead."""
    if not CHROMIUM:
        if os.environ.get("CHENGBAO_REQUIRE_BROWSER") == "1":
            raise RuntimeError("chromium is required here (CHENGBAO_REQUIRE_BROWSER=1) but is not installed")
        pytest.skip("chromium is not installed (apt-get install chromium)", allow_module_level=True)
    pytest.importorskip("playwright.sync_api")


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@contextmanager
def serve(app) -> Iterator[str]:
    """The app on a real socket (127.0.0.1, a free port, threaded); yields its base URL."""
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.server_port}"
    finally:
        srv.shutdown()


def login(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form:has(input[name=password]) button[type=submit]").click()
    page.wait_for_load_state()
    assert "/login" not in page.url, page.content()[:500]


def logout(page) -> None:
    page.locator("form[action$='/logout'] button").first.click()
    page.wait_for_load_state()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
