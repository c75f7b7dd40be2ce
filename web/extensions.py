"""Flask extensions of the web layer (the database handle lives in ``workflow.db``)."""
from flask import request, session
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
    """The language chosen in the session, else the browser's (Chinese first)."""
    from flask import current_app

    languages = current_app.config["LANGUAGES"]
    chosen = session.get("locale")
    if chosen in languages:
        return chosen
    best = request.accept_languages.best_match(["zh", "en"]) if request else None
    return "en" if best == "en" else "zh_Hans_CN"
