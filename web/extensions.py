"""Flask extensions of the web layer (the database handle lives in ``workflow.db``)."""
from flask import session
from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_wtf import CSRFProtect

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
