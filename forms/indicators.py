"""Key indicators: the author's confirmation, the district's catalogue, plan task statuses."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DecimalField, HiddenField, SelectField, StringField, SubmitField, TextAreaField
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


TASK_STATUS_LABELS = {
    "done": _l("Done"),
    "ongoing": _l("In progress"),
    "not_done": _l("Not done"),
    "adjusted": _l("Adjusted"),
}


class PlanTasksForm(FlaskForm):
    """One status and one note per plan task (fields ``s_<n>`` and ``n_<n>``, n the task's index)."""

    submit = SubmitField(_l("Save the task statuses"))


def plan_tasks_form(count: int, **kwargs) -> PlanTasksForm:
    class Form(PlanTasksForm):
        pass

    choices = [("", _l("— not said —")), *TASK_STATUS_LABELS.items()]
    for i in range(count):
        setattr(Form, f"s_{i}", SelectField(_l("Status"), choices=choices, validators=[Optional()]))
        setattr(Form, f"n_{i}", StringField(_l("Note"), validators=[Length(max=1000)]))
    return Form(**kwargs)
