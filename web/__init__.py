"""The web layer: one blueprint package per area, each with its ``routes.py``."""
from __future__ import annotations

import importlib

from flask import Flask

# (package, url prefix), in registration order.
BLUEPRINTS = [
    ("web.auth", None),
    ("web.reports", None),
    ("web.review", None),
    ("web.admin", "/admin"),
    ("web.archive", None),
    ("web.api", "/api/v1"),
]


def register_blueprints(app: Flask) -> None:
    for package, prefix in BLUEPRINTS:
        module = importlib.import_module(package + ".routes")
        app.register_blueprint(module.bp, url_prefix=prefix)
    from web.errors import register_error_handlers

    register_error_handlers(app)
