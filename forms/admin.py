"""Administration: org units, users and positions."""
from __future__ import annotations

import json

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from forms import labels
from workflow import admin
from workflow.table import ORG_KINDS, ROLES, child_kinds


class IssuingNamesForm(FlaskForm):
    """A unit's 发文机关全称 and 发文字号 prefix (empty: the defaults shown as placeholders)."""

    issuing_name = StringField(_l("Full issuing name (发文机关全称)"), validators=[Optional(), Length(max=100)])
    doc_prefix = StringField(_l("Document number prefix (发文字号)"), validators=[Optional(), Length(max=20)])
    submit = SubmitField(_l("Save"))


class UnitForm(FlaskForm):
    """A new unit under one the admin manages. The kind must sit below the parent's (a 镇
    under a 区/县, never under a 镇) and defaults to the level just below it; a name is
    taken once under one parent. ``workflow.admin.add_org_unit`` checks both again."""

    parent_id = SelectField(_l("Parent unit"), coerce=int, validators=[DataRequired()])
    name = StringField(_l("Name"), validators=[DataRequired(message=_l("Enter a name.")), Length(max=100)])
    kind = SelectField(_l("Kind"), validators=[DataRequired()])
    division_code = StringField(_l("Statistical division code (12 digits)"),
                                validators=[Optional(), Regexp(r"^\d{12}$", message=_l("12 digits."))])
    submit = SubmitField(_l("Add unit"))

    def __init__(self, *args, units=(), **kwargs):
        super().__init__(*args, **kwargs)
        # Only units something can be placed under (not a town) are offered as parents.
        self.parents = {u.id: u for u in units if child_kinds(u.kind)}
        self.parent_id.choices = [(u.id, "\u3000" * max(u.depth - 1, 0) + u.name) for u in self.parents.values()]
        self.kind.choices = [(k, labels.ORG_KINDS.get(k, k)) for k in ORG_KINDS]
        if self.kind.data is None and self.parents:
            parent = self.parents.get(self.parent_id.data) or next(iter(self.parents.values()))
            self.kind.data = child_kinds(parent.kind)[0]

    @property
    def child_kinds_json(self) -> str:
        """``{parent id: [kinds allowed under it, the usual one first]}``, for the page's script."""
        return json.dumps({str(i): child_kinds(u.kind) for i, u in self.parents.items()})

    def validate_kind(self, field) -> None:
        parent = self.parents.get(self.parent_id.data)
        if parent is not None and field.data not in child_kinds(parent.kind):
            raise ValidationError(_l("A unit of this kind cannot be placed under %(parent)s.", parent=parent.name))

    def validate_name(self, field) -> None:
        parent = self.parents.get(self.parent_id.data)
        if parent is not None and field.data and admin.name_taken(parent.id, field.data.strip()):
            raise ValidationError(_l("%(parent)s already has a unit named %(name)s.", parent=parent.name,
                                     name=field.data.strip()))


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
