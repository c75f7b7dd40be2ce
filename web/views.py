"""What the blueprints' views share: a login wall for a whole blueprint, and the redirect
after a POST."""
from __future__ import annotations

from flask import redirect, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from web.extensions import login_manager


def require_login() -> Response | None:
    """A ``before_request`` hook: every view of the blueprint needs a logged-in user."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


def me():
    """The logged-in user itself rather than Flask-Login's ``current_user`` proxy: a service
    reads the user's positions many times for one page, and every read through the proxy looks
    the user up again (a to-do list of 50 reports went through it about 400 times)."""
    return current_user._get_current_object()


def see_other(endpoint: str, **values) -> Response:
    """303 See Other: after a form's POST, the browser GETs the page it is sent to."""
    return redirect(url_for(endpoint, **values), code=303)
