"""Signing in and out, the language switch; registers the UI's template helpers."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user

from forms.auth import LocaleForm, LoginForm, LogoutForm
from web import templating
from web.extensions import login_manager
from web.templating import say
from workflow.credentials import check_credentials

bp = Blueprint("auth", __name__)


@bp.record_once
def _setup(state) -> None:
    templating.init_app(state.app)
    login_manager.login_message = _l("Please log in first.")
    login_manager.localize_callback = str  # the message is lazy: translate it per request


def safe_next(target: str | None) -> str | None:
    """``target`` when it is a path on this site, else None (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")) or url_for("reports.inbox"))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        user = check_credentials(form.username.data, form.password.data)
        if user is not None:
            login_user(user)
            say(_l("Welcome, %(name)s.", name=user.display_name))
            return redirect(safe_next(form.next.data) or url_for("reports.inbox"))
        # One message for a wrong name and a wrong password: do not tell which accounts exist.
        say(_l("Wrong username or password."), "error")
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    form = LogoutForm()
    if form.validate_on_submit():
        logout_user()
        say(_l("You have logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.post("/locale")
def set_locale():
    form = LocaleForm()
    if form.validate_on_submit() and form.locale.data in current_app.config["LANGUAGES"]:
        session["locale"] = form.locale.data
    back = request.referrer or ""
    parts = urlsplit(back)
    same_site = parts.netloc in ("", request.host)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return redirect(safe_next(path) if same_site and safe_next(path) else url_for("reports.inbox"))
