"""Signing in and out, one's own password, the language switch; registers the UI's template helpers."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, make_response, redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user

from forms.auth import LocaleForm, LoginForm, LogoutForm, PasswordChangeForm
from web import templating
from web.extensions import login_manager
from web.messages import render
from web.templating import say, say_error
from web.throttle import guarded_login, retry_after_header
from web.views import see_other
from workflow import accounts
from workflow.errors import DomainError, TooMany
from workflow.passwords import MIN_LENGTH

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
        try:
            user = guarded_login(form.username.data, form.password.data, channel="web")
        except TooMany as exc:  # throttled, or the name is locked: the page says until when
            say(render(exc), "error")
            response = make_response(render_template("auth/login.html", form=form), 429)
            return retry_after_header(response, exc)
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
        accounts.log_out(current_user)  # the cookie, replayed, no longer opens a session
        logout_user()
        say(_l("You have logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    """The user's own password change: every other session and token ends, this one stays."""
    form = PasswordChangeForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            accounts.change_password(user, current=form.current_password.data, new=form.new_password.data)
        except DomainError as exc:
            say_error(exc)
            return render_template("auth/password.html", form=form, min_length=MIN_LENGTH), 400
        login_user(user, fresh=True)  # this session takes the new generation
        say(_l("Password changed. Every other session and API token of yours has ended."))
        return see_other("reports.inbox")
    status = 400 if form.errors else 200
    return render_template("auth/password.html", form=form, min_length=MIN_LENGTH), status


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
