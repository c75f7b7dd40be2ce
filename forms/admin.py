"""Administration: org units, users and positions."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from forms import labels
from workflow.table import ORG_KINDS, ROLES


class UnitForm(FlaskForm):
    parent_id = SelectField(_l("Parent unit"), coerce=int, validators=[DataRequired()])
    name = StringField(_l("Name"), validators=[DataRequired(message=_l("Enter a name.")), Length(max=100)])
    kind = SelectField(_l("Kind"), validators=[DataRequired()])
    division_code = StringField(_l("Statistical division code (12 digits)"),
                                validators=[Optional(), Regexp(r"^\d{12}$", message=_l("12 digits."))])
    submit = SubmitField(_l("Add unit"))

    def __init__(self, *args, units=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.parent_id.choices = [(u.id, "\u3000" * max(u.depth - 1, 0) + u.name) for u in units]
        self.kind.choices = [(k, labels.ORG_KINDS.get(k, k)) for k in ORG_KINDS]


class UserForm(FlaskForm):
    username = StringField(_l("Username"), validators=[
        DataRequired(message=_l("Enter a username.")),
        Regexp(r"^[A-Za-z0-9_.-]{2,64}$", message=_l("2–64 letters, digits, dots, dashes or underscores."))])
    display_name = StringField(_l("Display name"), validators=[DataRequired(message=_l("Enter a name.")),
                                                                Length(max=100)])
    password = PasswordField(_l("Initial password"), validators=[
        DataRequired(message=_l("Enter a password.")), Length(max=200)])
    submit = SubmitField(_l("Create user"))


class GrantForm(FlaskForm):
    org_unit_id = SelectField(_l("Unit"), coerce=int, validators=[DataRequired()])
    role = SelectField(_l("Role"), validators=[DataRequired()])
    submit = SubmitField(_l("Grant position"))

    def __init__(self, *args, units=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.org_unit_id.choices = [(u.id, "\u3000" * max(u.depth - 1, 0) + u.name) for u in units]
        self.role.choices = [(r, labels.ROLES.get(r, r)) for r in ROLES]


class RevokeForm(FlaskForm):
    submit = SubmitField(_l("Revoke"))


class PasswordResetForm(FlaskForm):
    """An admin sets a user's password (the rules are the domain's: ``workflow.passwords``)."""

    new_password = PasswordField(_l("New password"), validators=[
        DataRequired(message=_l("Enter a new password.")), Length(max=200)])
    submit = SubmitField(_l("Set password"))


class AccountActionForm(FlaskForm):
    """Deactivate, reactivate, lift a lockout: a button and its CSRF token."""
