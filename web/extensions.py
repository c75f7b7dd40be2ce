"""Flask extensions of the web layer (the database handle lives in ``workflow.db``)."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import click
import flask_babel
from flask import Flask, session
from flask.globals import _cv_app
from flask_babel import Babel
from flask_login import LoginManager
from flask_wtf import CSRFProtect
from flask_wtf import i18n as flask_wtf_i18n

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message_category = "info"
csrf = CSRFProtect()
babel = Babel()


def init_migrate(app: Flask, db: Any, directory: str) -> None:
    """Flask-Migrate for ``app`` (``flask db …``, ``flask_migrate.upgrade``), loaded on first use.

    Flask-Migrate imports Alembic, Mako and Pygments (≈12 MB of every process's memory) and only
    the launcher, the ``flask db`` commands and the tests migrate: a web worker or an RQ worker
    never does. ``app.extensions["migrate"]`` and the ``db`` command group stand in until then."""
    app.extensions["migrate"] = _LazyMigrateConfig(app, db, directory)
    app.cli.add_command(_LazyMigrateCommands(), name="db")


class _LazyMigrateConfig:
    """Stands in for Flask-Migrate's ``app.extensions["migrate"]``: the first attribute read
    wires the real one (``Migrate(app, db)``, which replaces this object) and answers from it."""

    def __init__(self, app: Flask, db: Any, directory: str) -> None:
        self._wiring = (app, db, directory)

    def __getattr__(self, name: str) -> Any:
        from flask_migrate import Migrate

        app, db, directory = self._wiring
        if app.extensions.get("migrate") is self:
            Migrate(app, db, directory=directory, render_as_batch=True)
        return getattr(app.extensions["migrate"], name)


class _LazyMigrateCommands(click.Group):
    """``flask db``: Flask-Migrate's command group, imported when the command is run."""

    def __init__(self) -> None:
        super().__init__(name="db", help="Perform database migrations (Flask-Migrate).")

    @staticmethod
    def _real() -> click.Group:
        from flask_migrate.cli import db

        return db

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        return self._real().make_context(info_name, args, parent=parent, **extra)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return self._real().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self._real().get_command(ctx, cmd_name)


def select_locale() -> str:
    """The language of the answer.

    Pages: the language chosen with the header's switch, else Simplified Chinese. The
    browser's Accept-Language is deliberately not consulted there: town offices often run
    English-language Windows or WPS builds, and the users read Chinese.
    The API (``/api/``): the request's Accept-Language, Chinese unless it prefers English.
    """
    from flask import current_app, has_request_context, request

    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    if not has_request_context():
        return default
    if request.path.startswith("/api/"):
        return "en" if request.accept_languages.best_match(["zh", "en"], default="zh") == "en" else default
    chosen = session.get("locale")
    return chosen if chosen in current_app.config["LANGUAGES"] else default


# Flask-WTF parses WTForms' own message catalogue (its validators' sentences) from disk on every
# request that builds a form (``flask_wtf.i18n._get_translations`` keeps it on the request only):
# 3% of the report list's time. One catalogue per locale per process does the same.
_wtforms_catalogues: dict[str, object] = {}


def _wtforms_translations():
    from babel import support
    from flask import current_app, request
    from flask_babel import get_locale
    from wtforms.i18n import messages_path

    if not request or "babel" not in current_app.extensions:
        return None
    locale = str(get_locale())
    found = _wtforms_catalogues.get(locale)
    if found is None:
        found = _wtforms_catalogues[locale] = support.Translations.load(messages_path(), [locale], domain="wtforms")
    return found


flask_wtf_i18n._get_translations = _wtforms_translations


# Flask-Babel finds its per-request state (locale, domain, translations) through
# ``_get_current_context``, which reads ``flask.g`` through its proxy three times: 4.4 µs, taken
# three times by every gettext (18 µs each; a list page translates about 70 strings). The same
# lookup on the application context itself costs a tenth of that. Same answers: None outside an
# application context, else the namespace kept on ``g`` (``force_locale`` and ``refresh`` use it).
# Checked by tests/test_i18n.py against flask-babel==4.0.0 (requirements.txt).
def _babel_context() -> SimpleNamespace | None:
    app_context = _cv_app.get(None)
    if app_context is None:
        return None
    found = app_context.g.__dict__.get("_flask_babel")
    if found is None:
        found = app_context.g._flask_babel = SimpleNamespace()
    return found


flask_babel._get_current_context = _babel_context
