"""The web layer: one blueprint package per area, each with its ``routes.py``."""
from __future__ import annotations

import importlib

from flask import Flask, current_app

# (package, url prefix), in registration order.
BLUEPRINTS = [
    ("web.auth", None),
    ("web.reports", None),
    ("web.review", None),
    ("web.admin", "/admin"),
    ("web.archive", None),
    ("web.notifications", None),
    ("web.cycles", None),
    ("web.rollup", None),
    ("web.shell", None),
    ("web.api", "/api/v1"),
]


def register_blueprints(app: Flask) -> None:
    for package, prefix in BLUEPRINTS:
        module = importlib.import_module(package + ".routes")
        app.register_blueprint(module.bp, url_prefix=prefix)
    from web.errors import register_error_handlers

    register_error_handlers(app)
    app.after_request(security_headers)


# Pages load only this site's own scripts, styles and images, and may not be framed (an
# approve button inside someone else's frame is a clickjacking target). Inline style
# attributes stay allowed for the org tree's indentation variable. The service worker and the
# manifest of the installable app come from this site too (``web/shell``).
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                           "img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; "
                           "frame-ancestors 'none'; worker-src 'self'; manifest-src 'self'")


def security_headers(response):
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Frame-Options", "DENY")
    hsts = current_app.config.get("HSTS_SECONDS") or 0
    if hsts > 0:  # production behind TLS only: browsers then refuse plain HTTP for that long
        response.headers.setdefault("Strict-Transport-Security", f"max-age={hsts}; includeSubDomains")
    return response
