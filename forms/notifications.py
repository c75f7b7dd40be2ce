"""Notifications: my settings, an admin's group channels, a user's e-mail address."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from forms.notification_labels import CHANNELS as CHANNEL_LABELS
from workflow.notifications import CHANNEL_KINDS, EMAIL_RE


class SettingsForm(FlaskForm):
    email = StringField(_l("E-mail address"), validators=[
        Optional(), Length(max=254), Regexp(EMAIL_RE, message=_l("Not an e-mail address."))])
    email_notifications = BooleanField(_l("Also send my notifications by e-mail"))
    submit = SubmitField(_l("Save settings"))


class UserEmailForm(FlaskForm):
    email = StringField(_l("E-mail address"), validators=[
        Optional(), Length(max=254), Regexp(EMAIL_RE, message=_l("Not an e-mail address."))])
    submit = SubmitField(_l("Save e-mail address"))


class ChannelForm(FlaskForm):
    org_unit_id = SelectField(_l("Unit"), coerce=int, validators=[DataRequired()])
    kind = SelectField(_l("Kind"), validators=[DataRequired()])
    url = StringField(_l("Robot or webhook URL"), validators=[
        DataRequired(message=_l("Enter the URL.")), Length(max=1000),
        Regexp(r"^https?://\S+$", message=_l("An http:// or https:// address."))])
    secret = PasswordField(_l("Signing secret (DingTalk: the robot's 加签 secret; optional)"),
                           validators=[Optional(), Length(max=200)])
    submit = SubmitField(_l("Add channel"))

    def __init__(self, *args, units=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.org_unit_id.choices = [(u.id, "\u3000" * max(u.depth - 1, 0) + u.name) for u in units]
        self.kind.choices = [(k, CHANNEL_LABELS[k]) for k in CHANNEL_KINDS]


class ButtonForm(FlaskForm):
    """Only the CSRF token: a button that changes something."""
