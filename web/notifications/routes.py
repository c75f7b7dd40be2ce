"""Notifications in the browser: the bell on every page, the list, mark read; my settings
(e-mail address and channel); and for admins the group channels of their units and the
state of every delivery, with a retry for failed ones.

Views are thin: ``workflow.notifications`` checks scope (an out-of-scope id answers 404)
and audits the admins' changes.
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from forms import notification_labels as labels
from forms.notifications import ButtonForm, ChannelForm, SettingsForm, UserEmailForm
from web.auth.routes import safe_next
from web.messages import render as render_error
from web.templating import say
from web.views import require_login, see_other
from workflow import admin, notifications
from workflow.errors import DomainError, NotFound
from workflow.outbox import STATUSES
from workflow.scope import is_admin_for
from workflow.table import ADMIN

bp = Blueprint("notifications", __name__)


bp.before_request(require_login)


@bp.app_context_processor
def bell():
    """``unread_notifications()`` for the bell of the base layout (one COUNT when called)."""
    def unread_notifications() -> int:
        if not current_user.is_authenticated:
            return 0
        return notifications.unread_count(current_user)

    return {"unread_notifications": unread_notifications, "notification_labels": labels}



def _say_error(exc: DomainError) -> None:
    say(render_error(exc), "error")


def _require_admin() -> None:
    if not any(p.role == ADMIN for p in current_user.positions):
        abort(403)


# ---------------------------------------------------------------- the user's notifications


@bp.get("/notifications")
def index():
    unread_only = request.args.get("unread") in ("1", "true")
    items = notifications.notifications_of(current_user, unread=unread_only, limit=100)
    return render_template("notifications/index.html", items=items, unread_only=unread_only,
                           unread=notifications.unread_count(current_user), form=ButtonForm())


@bp.post("/notifications/<int:notification_id>/read")
def read(notification_id: int):
    """Mark one read; with ``open``, go on to what it is about."""
    form = ButtonForm()
    if not form.validate_on_submit():
        abort(400)
    notification = notifications.mark_read(current_user, notification_id)
    if request.form.get("open"):
        return redirect(safe_next(notification.url) or url_for(".index"), code=303)
    return redirect(safe_next(request.form.get("next")) or url_for(".index"), code=303)


@bp.post("/notifications/read-all")
def read_all():
    form = ButtonForm()
    if not form.validate_on_submit():
        abort(400)
    count = notifications.mark_all_read(current_user)
    if count:
        say(_("Marked %(num)d notifications read.", num=count))
    return see_other(".index")


@bp.route("/settings", methods=["GET", "POST"])
def settings():
    form = SettingsForm(obj=current_user if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            notifications.update_settings(current_user, email=form.email.data or None,
                                          email_notifications=bool(form.email_notifications.data))
        except DomainError as exc:
            _say_error(exc)
        else:
            say(_("Settings saved."))
            return see_other(".settings")
    email_enabled = bool(current_app.config.get("SMTP_HOST"))
    return render_template("notifications/settings.html", form=form, email_enabled=email_enabled)


# ---------------------------------------------------------------- admins: channels


def _admin_units() -> list:
    return [u for u in admin.visible_units(current_user) if is_admin_for(current_user, u)]


@bp.get("/admin/channels")
def channels():
    _require_admin()
    return render_template("notifications/channels.html", channels=notifications.admin_channels(current_user),
                           form=ChannelForm(units=_admin_units()), delete_form=ButtonForm(),
                           audit=notifications.recent_audit(current_user))


@bp.post("/admin/channels")
def add_channel():
    _require_admin()
    form = ChannelForm(units=_admin_units())
    if form.validate_on_submit():
        try:
            notifications.add_channel(current_user, form.org_unit_id.data, kind=form.kind.data, url=form.url.data,
                                      secret=form.secret.data or None,
                                      allow_internal=current_app.config["NOTIFY_ALLOW_INTERNAL_URLS"])
        except NotFound:
            abort(404)
        except DomainError as exc:
            _say_error(exc)
        else:
            say(_("Channel added."))
            return see_other(".channels")
    else:
        from web.reports.routes import say_form_errors

        say_form_errors(form)
    return render_template("notifications/channels.html", channels=notifications.admin_channels(current_user),
                           form=form, delete_form=ButtonForm(), audit=notifications.recent_audit(current_user)), 400


@bp.post("/admin/units/<int:unit_id>/channels/<int:channel_id>/delete")
def delete_channel(unit_id: int, channel_id: int):
    _require_admin()
    if not ButtonForm().validate_on_submit():
        abort(400)
    notifications.delete_channel(current_user, unit_id, channel_id)  # NotFound → 404
    say(_("Channel removed."))
    return see_other(".channels")


# ---------------------------------------------------------------- admins: deliveries


@bp.get("/admin/deliveries")
def deliveries():
    _require_admin()
    status = request.args.get("status") or None
    if status not in STATUSES:
        status = None
    rows = notifications.deliveries_for(current_user, status=status, limit=200)
    return render_template("notifications/deliveries.html", rows=rows, status=status, statuses=STATUSES,
                           form=ButtonForm())


@bp.post("/admin/deliveries/<int:delivery_id>/retry")
def retry_delivery(delivery_id: int):
    _require_admin()
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        notifications.retry_delivery(current_user, delivery_id)
    except NotFound:
        raise
    except DomainError as exc:
        _say_error(exc)
    else:
        from notify.dispatch import request_dispatch

        request_dispatch()
        say(_("The delivery will be tried again."))
    return see_other(".deliveries", status=request.args.get("status") or None)


# ---------------------------------------------------------------- admins: a user's e-mail


@bp.post("/admin/users/<int:user_id>/email")
def user_email(user_id: int):
    _require_admin()
    form = UserEmailForm()
    if form.validate_on_submit():
        try:
            notifications.set_user_email(current_user, user_id, form.email.data or None,
                                         scope=admin.users_in_scope(current_user))
        except NotFound:
            abort(404)
        except DomainError as exc:
            _say_error(exc)
        else:
            say(_("E-mail address saved."))
    else:
        from web.reports.routes import say_form_errors

        say_form_errors(form)
    return redirect(url_for("admin.user", user_id=user_id), code=303)
