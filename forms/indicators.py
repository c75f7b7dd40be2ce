"""Key indicators: the author's confirmation, the district's catalogue, plan task statuses."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DecimalField, HiddenField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from workflow.key_indicators import MAX_REASON_CHARS, Entry


class KeyIndicatorsForm(FlaskForm):
    """One number and one reason per catalogue entry (fields ``v_<key>`` and ``r_<key>``)."""

    version = HiddenField(validators=[InputRequired()])
    submit = SubmitField(_l("Confirm the key indicators"))

    def pairs(self, entries: list[Entry]):
        return [(e, self[f"v_{e.key}"], self[f"r_{e.key}"]) for e in entries]


def key_indicators_form(entries: list[Entry], **kwargs) -> KeyIndicatorsForm:
    class Form(KeyIndicatorsForm):
        pass

    for e in entries:
        setattr(Form, f"v_{e.key}", DecimalField(e.name, places=None, validators=[Optional()]))
        setattr(Form, f"r_{e.key}", StringField(_l("Reason if blank"), validators=[Length(max=MAX_REASON_CHARS)]))
    return Form(**kwargs)


class CatalogueForm(FlaskForm):
    """The catalogue as lines: ``key | name | unit | synonym、synonym``."""

    lines = TextAreaField(_l("Indicators, one per line"), validators=[InputRequired(), Length(max=20_000)])
    submit = SubmitField(_l("Save the catalogue"))
