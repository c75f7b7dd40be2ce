"""Flask extensions of the web layer (the database handle lives in ``workflow.db``)."""
from flask import session
from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_wtf import CSRFProtect
from flask_wtf import i18n as flask_wtf_i18n

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message_category = "info"
csrf = CSRFProtect()
migrate = Migrate()
babel = Babel()


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
