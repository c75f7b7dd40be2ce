"""Administration (admins only): the org tree, users, their positions and accounts.

The scope of each change is checked by ``workflow.admin`` (an admin acts inside their own
subtree); this layer only refuses non-admins outright and shows what the services allow.
"""
from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_babel import gettext as _
from flask_login import current_user

from forms.admin import (
    AccountActionForm,
    GrantForm,
    IssuingNamesForm,
    PasswordResetForm,
    RevokeForm,
    UnitForm,
    UserForm,
)
from web.extensions import login_manager
from web.reports.routes import say_form_errors
from web.templating import say, say_error
from web.throttle import client_address, lockout_policy, throttle
from web.views import see_other
from workflow import accounts, admin, credentials
from workflow.errors import DomainError, NotFound
from workflow.models import User

bp = Blueprint("admin", __name__)


@bp.before_request
def require_admin():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not admin.is_admin(current_user):
        abort(403)
    return None


def _admin_units() -> list:
    """The units where the current user may add units or grant positions."""
    return admin.manageable_units(current_user)



@bp.get("/")
def index():
    units = admin.visible_units(current_user)
    managed = _admin_units()
    form = UnitForm(units=managed)
    return render_template("admin/index.html", units=units, form=form, manageable={u.id for u in managed})


@bp.post("/units")
def add_unit():
    form = UnitForm(units=_admin_units())
    if form.validate_on_submit():
        try:
            unit = admin.add_org_unit(current_user, name=form.name.data, kind=form.kind.data,
                                      parent_id=form.parent_id.data, division_code=form.division_code.data or None)
        except DomainError as exc:
            say_error(exc)
        else:
            say(_("Unit %(name)s added.", name=unit.name))
    else:
        say_form_errors(form)
    return see_other("admin.index")


@bp.get("/units/<int:unit_id>")
def unit(unit_id: int):
    """A unit's issuing name and 发文字号 prefix, as its published reports print them."""
    target = _managed_unit(unit_id)
    form = IssuingNamesForm(data={"issuing_name": target.issuing_name or "", "doc_prefix": target.doc_prefix or ""})
    return render_template("admin/unit.html", unit=target, form=form)


@bp.post("/units/<int:unit_id>")
def update_unit(unit_id: int):
    target = _managed_unit(unit_id)
    form = IssuingNamesForm()
    if form.validate_on_submit():
        try:
            admin.set_issuing_names(current_user, target.id, issuing_name=form.issuing_name.data,
                                    doc_prefix=form.doc_prefix.data)
        except DomainError as exc:
            say_error(exc)
            return render_template("admin/unit.html", unit=target, form=form), 400
        say(_("Saved: %(name)s prints as %(issuing)s.", name=target.name, issuing=target.issuing_name_or_default))
        return see_other("admin.unit", unit_id=target.id)
    say_form_errors(form)
    return render_template("admin/unit.html", unit=target, form=form), 400


def _managed_unit(unit_id: int):
    """A unit the current admin manages; any other answers 404, like a missing one."""
    found = next((u for u in _admin_units() if u.id == unit_id), None)
    if found is None:
        raise NotFound("org_unit")
    return found


@bp.get("/users")
def users():
    return render_template("admin/users.html", users=admin.users_in_scope(current_user), form=UserForm())


@bp.post("/users")
def create_user():
    form = UserForm()
    if form.validate_on_submit():
        try:
            user = admin.create_user(current_user, username=form.username.data, display_name=form.display_name.data,
                                     password=form.password.data)
        except DomainError as exc:
            say_error(exc)
        else:
            say(_("User %(name)s created. Now grant a position.", name=user.username))
            return see_other("admin.user", user_id=user.id)
    else:
        say_form_errors(form)
    return render_template("admin/users.html", users=admin.users_in_scope(current_user), form=form), 400


def _user_in_scope(user_id: int) -> User:
    return admin.user_in_scope(current_user, user_id)  # out of scope: 404, like a missing user


@bp.get("/users/<int:user_id>")
def user(user_id: int):
    target = _user_in_scope(user_id)
    return _user_page(target)


def _user_page(target: User, *, reset_form: PasswordResetForm | None = None, status: int = 200):
    units = _admin_units()
    unit_ids = {u.id for u in units}
    return render_template("admin/user.html", target=target, grant_form=GrantForm(units=units),
                           revoke_form=RevokeForm(), manageable=unit_ids,
                           reset_form=reset_form or PasswordResetForm(), action_form=AccountActionForm(),
                           locked_until=credentials.locked_until(target.username, lockout_policy()),
                           login_events=credentials.recent_events(target),
                           record=admin.record_of(current_user, target)), status


@bp.post("/users/<int:user_id>/password")
def reset_password(user_id: int):
    """Set the user's password: every session and token of theirs ends."""
    target = _user_in_scope(user_id)
    form = PasswordResetForm()
    if form.validate_on_submit():
        try:
            accounts.reset_password(current_user, target.id, new=form.new_password.data)
        except DomainError as exc:
            say_error(exc)
            return _user_page(target, reset_form=form, status=400)
        say(_("Password set. Every session and API token of %(name)s has ended.", name=target.username))
    else:
        say_form_errors(form)
    return see_other("admin.user", user_id=target.id)


@bp.post("/users/<int:user_id>/deactivate")
def deactivate(user_id: int):
    return _set_active(user_id, False)


@bp.post("/users/<int:user_id>/reactivate")
def reactivate(user_id: int):
    return _set_active(user_id, True)


def _set_active(user_id: int, active: bool):
    target = _user_in_scope(user_id)
    if AccountActionForm().validate_on_submit():
        try:
            accounts.set_active(current_user, target.id, active=active)
        except DomainError as exc:
            say_error(exc)
        else:
            say(_("%(name)s can log in again.", name=target.username) if active else
                _("%(name)s is deactivated: every session and API token has ended.", name=target.username))
    return see_other("admin.user", user_id=target.id)


@bp.post("/users/<int:user_id>/unlock")
def unlock(user_id: int):
    """Lift the lockout after too many failed logins."""
    target = _user_in_scope(user_id)
    if AccountActionForm().validate_on_submit():
        accounts.unlock(current_user, target.id, address=client_address())
        throttle().forget(target.username)
        say(_("The lockout of %(name)s is lifted.", name=target.username))
    return see_other("admin.user", user_id=target.id)


@bp.post("/users/<int:user_id>/positions")
def grant(user_id: int):
    target = _user_in_scope(user_id)
    form = GrantForm(units=_admin_units())
    if form.validate_on_submit():
        try:
            admin.grant_position(current_user, user_id=target.id, org_unit_id=form.org_unit_id.data,
                                 role=form.role.data)
        except DomainError as exc:
            say_error(exc)
        else:
            say(_("Position granted."))
    else:
        say_form_errors(form)
    return see_other("admin.user", user_id=target.id)


@bp.post("/users/<int:user_id>/positions/<int:position_id>/revoke")
def revoke(user_id: int, position_id: int):
    target = _user_in_scope(user_id)
    form = RevokeForm()
    if form.validate_on_submit():
        try:
            admin.revoke_position(current_user, position_id, user_id=target.id)
        except NotFound:
            raise  # another user's position, or out of scope: 404, like a missing one
        except DomainError as exc:
            say_error(exc)
        else:
            say(_("Position revoked."))
    return see_other("admin.user", user_id=target.id)
