"""The installable web app's shell: the manifest, the icons, the favicon, the offline page and
the service worker (served from the site root so that its scope is the whole site).

The service worker caches only this shell (CSS, scripts, icons, the offline page). Report
pages and API answers always come from the network: a reviewer must never approve what a
stale copy showed. Offline, a page navigation gets the offline page instead.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Blueprint, Response, current_app, render_template, request, send_from_directory, url_for
from flask_babel import force_locale
from flask_babel import gettext as _

bp = Blueprint("shell", __name__)

THEME_COLOR = "#b22222"  # the brand red of static/app.css (--brand)
BACKGROUND_COLOR = "#f5f6f8"  # --bg
# The files of the shell under static/, cached by the service worker at install.
STATIC_SHELL = ("app.css", "app.js", "pdf-progress.js", "icons/icon.svg", "icons/icon-192.png", "icons/icon-512.png")
# The offline page in each language of the UI (the worker picks the one of the last page shown).
OFFLINE_LANGS = {"zh": "zh_Hans_CN", "en": "en"}


def shell_urls() -> list[str]:
    """Every URL the service worker caches: nothing that depends on who is logged in."""
    return ([url_for("static", filename=name) for name in STATIC_SHELL]
            + [url_for("shell.favicon"), url_for("shell.manifest")]
            + [url_for("shell.offline", lang=lang) for lang in OFFLINE_LANGS])


def shell_version() -> str:
    """A digest of the shell's files and of this module's worker: a deploy that changes any of
    them changes ``/sw.js``, so browsers install the new worker and drop the old cache."""
    digest = hashlib.sha256()
    static = Path(current_app.static_folder or "static")
    for name in STATIC_SHELL + ("icons/favicon.ico",):
        digest.update(name.encode() + b"\0" + (static / name).read_bytes())
    for template in ("shell/sw.js", "shell/offline.html"):
        digest.update(Path(current_app.root_path, "templates", template).read_bytes())
    return digest.hexdigest()[:16]


@bp.get("/favicon.ico")
def favicon():
    return send_from_directory(Path(current_app.static_folder or "static") / "icons", "favicon.ico",
                               mimetype="image/vnd.microsoft.icon", max_age=7 * 24 * 3600)


@bp.get("/manifest.webmanifest")
def manifest():
    icon = lambda name, size, kind: {"src": url_for("static", filename=f"icons/{name}"),  # noqa: E731
                                     "sizes": size, "type": kind, "purpose": "any"}
    about = _("Towns submit their plans and reports here; the town and the district review and approve them.")
    body = {
        "name": "呈报",
        "short_name": "呈报",
        "description": about,
        "lang": "zh-CN",
        "dir": "ltr",
        "id": "/",
        "start_url": url_for("reports.inbox"),
        "scope": "/",
        "display": "standalone",
        "theme_color": THEME_COLOR,
        "background_color": BACKGROUND_COLOR,
        "icons": [icon("icon-192.png", "192x192", "image/png"), icon("icon-512.png", "512x512", "image/png"),
                  icon("icon.svg", "any", "image/svg+xml")],
    }
    response = current_app.json.response(body)
    response.mimetype = "application/manifest+json"
    return response


@bp.get("/sw.js")
def service_worker():
    body = render_template("shell/sw.js", version=shell_version(), shell=shell_urls(),
                           offline={lang: url_for("shell.offline", lang=lang) for lang in OFFLINE_LANGS})
    response = Response(body, mimetype="text/javascript")
    # Browsers re-check the worker at most daily anyway; no-cache makes a deploy visible at once.
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/offline")
def offline():
    """The page a navigation gets when the network is down (cached by the service worker; it
    shows nothing of any user, so one copy serves everybody)."""
    lang = request.args.get("lang", "zh")
    with force_locale(OFFLINE_LANGS.get(lang, OFFLINE_LANGS["zh"])):
        html = render_template("shell/offline.html", lang="en" if lang == "en" else "zh-CN")
    return html
