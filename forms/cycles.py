"""Reporting cycles: opening one, its expected towns, reminders, and starting a town's report."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from forms import labels
from forms.reports import ReportContentForm, _kind_choices
from workflow.content import MAX_TEXT_CHARS, MAX_TITLE_CHARS
from workflow.cycles import FILTERS, MAX_INSTRUCTIONS_CHARS, MAX_MESSAGE_CHARS, SORTS
from workflow.dates import YEAR_MAX, YEAR_MIN


class TownChecklist(SelectMultipleField):
    """The expected towns, as a list of checkboxes (every one checked by default)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class AtLeastOneTown(InputRequired):
    """At least one box ticked, checked on the server only: the ``required`` flag of
    InputRequired would be rendered on every checkbox, and a browser then refuses the form
    until every town is ticked (no town could be left out)."""

    def __init__(self, message=None):
        super().__init__(message)
        self.field_flags = {}


class OpenCycleForm(FlaskForm):
    org_unit_id = SelectField(_l("District"), coerce=int, validators=[InputRequired(message=_l("Choose a district."))])
    kind = SelectField(_l("Kind"), validators=[DataRequired()])
    year = IntegerField(_l("Year"), validators=[
        InputRequired(message=_l("Enter a year.")),
        NumberRange(YEAR_MIN, YEAR_MAX, message=_l("A year between %(min)s and %(max)s."))])
    title = StringField(_l("Title"), validators=[DataRequired(message=_l("Enter a title.")),
                                                  Length(max=MAX_TITLE_CHARS)])
    due_date = DateField(_l("Due date"), validators=[InputRequired(message=_l("Enter the due date."))])
    instructions = TextAreaField(_l("Instructions to the towns (the notice)"),
                                 validators=[Optional(), Length(max=MAX_INSTRUCTIONS_CHARS)])
    towns = TownChecklist(_l("Towns expected to report"), coerce=int,
                          validators=[AtLeastOneTown(message=_l("Choose at least one town."))])
    template = TextAreaField(_l("Outline template (optional)"), validators=[Optional(), Length(max=MAX_TEXT_CHARS)])
    submit = SubmitField(_l("Open the cycle"))

    def __init__(self, *args, districts=(), towns=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.org_unit_id.choices = [(d.id, d.name) for d in districts]
        self.kind.choices = _kind_choices()
        many = len(districts) > 1
        by_id = {d.id: d.name for d in districts}
        self.towns.choices = [(t.id, f"{by_id.get(t.parent_id, '')}·{t.name}" if many else t.name) for t in towns]


class TownsForm(FlaskForm):
    towns = TownChecklist(_l("Towns expected to report"), coerce=int,
                          validators=[AtLeastOneTown(message=_l("Choose at least one town."))])
    submit = SubmitField(_l("Save the towns"))

    def __init__(self, *args, towns=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.towns.choices = [(t.id, t.name) for t in towns]


class RemindForm(FlaskForm):
    """催办: one town (``org_unit_id``) or, without it, every town that has not submitted."""

    org_unit_id = HiddenField()
    message = TextAreaField(_l("Message (optional)"), validators=[Optional(), Length(max=MAX_MESSAGE_CHARS)])
    submit = SubmitField(_l("Remind"))


class CycleStateForm(FlaskForm):
    """Close or reopen (the button says which)."""

    submit = SubmitField(_l("Confirm"))


class StartReportForm(ReportContentForm):
    """A town's report started from a cycle: kind and year come from the cycle."""

    org_unit_id = SelectField(_l("Town"), coerce=int, validators=[InputRequired(message=_l("Choose a town."))])
    submit = SubmitField(_l("Create the draft"))

    def __init__(self, *args, towns=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.org_unit_id.choices = [(t.id, t.name) for t in towns]


class MatrixFilterForm(FlaskForm):
    """The matrix's filter and sort (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    status = SelectField(_l("Show"), validators=[Optional()], validate_choice=True)
    sort = SelectField(_l("Sort by"), validators=[Optional()], validate_choice=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.status.choices = [("", _l("Every town")), ("not_submitted", _l("Not submitted")),
                               ("overdue", _l("Past due"))] + [
            (s, labels.MATRIX_STATUSES.get(s, s)) for s in FILTERS if s not in ("not_submitted", "overdue")]
        names = {"town": _l("Unit"), "status": _l("Status"), "submitted_at": _l("Submitted"),
                 "published_at": _l("Published"), "days_in_step": _l("Days in this step"),
                 "last_reminded_at": _l("Last reminder")}
        self.sort.choices = [("", names["town"])] + [(s, names[s]) for s in SORTS if s != "town"] + [
            ("-days_in_step", _l("Longest in this step first"))]


class YearForm(FlaskForm):
    class Meta:
        csrf = False

    year = IntegerField(_l("Year"), validators=[Optional(), NumberRange(2000, 2100)])
    district = SelectField(_l("District"), validators=[Optional()], validate_choice=False)
