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
    """The language chosen with the header's switch, else Simplified Chinese.

    The browser's Accept-Language is deliberately not consulted: town offices often run
    English-language Windows or WPS builds, and the users read Chinese."""
    from flask import current_app

    chosen = session.get("locale")
    return chosen if chosen in current_app.config["LANGUAGES"] else current_app.config["BABEL_DEFAULT_LOCALE"]
