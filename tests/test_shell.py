"""The installable web app's shell: the favicon, the manifest and its icons, the service worker
(it caches the static shell only, never a report page or an API answer) and the offline page."""
from __future__ import annotations

import io
import json
import re

from PIL import Image

from tests.helpers import gen_report, login
from web import CONTENT_SECURITY_POLICY


def _shell_of(sw_source: str) -> list[str]:
    return json.loads(re.search(r"const SHELL = (\[.*?\]);", sw_source).group(1))


def test_the_favicon_is_served_instead_of_a_404(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response.mimetype == "image/vnd.microsoft.icon"
    icon = Image.open(io.BytesIO(response.data))
    assert icon.format == "ICO" and {(16, 16), (32, 32), (48, 48)} <= set(icon.ico.sizes())


def test_the_manifest_names_the_app_and_its_icons_are_drawn_at_192_and_512(client):
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200 and response.mimetype == "application/manifest+json"
    manifest = response.get_json(force=True)
    assert manifest["name"] == "呈报" and manifest["display"] == "standalone"
    assert manifest["start_url"] == "/" and manifest["scope"] == "/" and manifest["theme_color"] == "#b22222"
    sizes = {}
    for icon in manifest["icons"]:
        served = client.get(icon["src"])
        assert served.status_code == 200, icon
        if icon["type"] == "image/png":
            sizes[icon["sizes"]] = Image.open(io.BytesIO(served.data)).size
        else:
            assert served.data.startswith(b"<svg") and b"<script" not in served.data
    assert sizes == {"192x192": (192, 192), "512x512": (512, 512)}


def test_every_page_links_the_manifest_the_icons_and_the_theme_colour(client, world):
    for html in (client.get("/login").get_data(as_text=True), client.get("/verify").get_data(as_text=True)):
        assert '<link rel="manifest" href="/manifest.webmanifest">' in html
        assert '<link rel="icon" href="/favicon.ico"' in html and 'name="theme-color" content="#b22222"' in html
        assert '<meta name="service-worker" content="/sw.js">' in html


def test_the_policy_lets_this_site_serve_the_worker_and_the_manifest(client):
    assert "worker-src 'self'" in CONTENT_SECURITY_POLICY and "manifest-src 'self'" in CONTENT_SECURITY_POLICY
    assert client.get("/login").headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


def test_the_service_worker_caches_the_static_shell_and_never_a_report_or_the_api(app, client, world):
    response = client.get("/sw.js")
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    source = response.get_data(as_text=True)
    shell = _shell_of(source)
    assert "/static/app.css" in shell and "/static/app.js" in shell and "/favicon.ico" in shell
    assert "/offline?lang=zh" in shell and "/offline?lang=en" in shell
    for url in shell:
        assert not url.startswith(("/reports", "/api/", "/cycles", "/notifications", "/admin", "/archive")), url
        assert url.startswith(("/static/", "/offline", "/favicon.ico", "/manifest.webmanifest")), url
        assert client.get(url).status_code == 200, url
    # The worker writes to its cache in two places only: the shell at install, its language key.
    assert source.count("cache.addAll(") == 1 and "cache.addAll(SHELL)" in source
    assert [line.strip() for line in source.splitlines() if "cache.put(" in line] == [
        "event.waitUntil(caches.open(CACHE).then((cache) => cache.put(LANG_KEY, new Response(lang))));"]
    # Navigations go to the network (the offline page only when it fails); other requests are not handled.
    assert "event.respondWith(fetch(request).catch(() => offlinePage()));" in source


def test_the_worker_changes_when_the_shell_changes(app, client):
    before = client.get("/sw.js").get_data(as_text=True)
    version = re.search(r'const CACHE = "chengbao-shell-([0-9a-f]+)"', before).group(1)
    from pathlib import Path

    css = Path(app.static_folder) / "app.css"
    original = css.read_bytes()
    try:
        css.write_bytes(original + b"\n/* changed */\n")
        after = client.get("/sw.js").get_data(as_text=True)
    finally:
        css.write_bytes(original)
    assert version not in after


def test_the_offline_page_shows_nobody_s_data_in_either_language(app, client, world):
    with app.app_context():
        gen_report("qs")
    login(client, "district_reviewer")
    zh = client.get("/offline?lang=zh").get_data(as_text=True)
    en = client.get("/offline?lang=en").get_data(as_text=True)
    assert '<html lang="zh-CN">' in zh and "没有网络" in zh
    assert '<html lang="en">' in en and "No network" in en
    for html in (zh, en):
        assert "district_reviewer" not in html and "青山镇" not in html and "csrf" not in html
