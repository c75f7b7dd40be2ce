"""The archive and the verification page: upload a PDF, retry a failed publication."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SubmitField


class VerifyForm(FlaskForm):
    file = FileField(_l("Signed PDF"), validators=[FileRequired(message=_l("Choose a PDF file."))])
    submit = SubmitField(_l("Verify"))


class RetryForm(FlaskForm):
    """Only the CSRF token: an admin re-queues a failed publication."""

    submit = SubmitField(_l("Retry"))
