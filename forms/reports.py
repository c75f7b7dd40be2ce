"""Reports: the list filters, a new report, editing a draft, actions and comments."""
from __future__ import annotations

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField
from wtforms import HiddenField, IntegerField, RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, StopValidation

from forms import labels
from workflow.content import MAX_COMMENT_CHARS, MAX_TEXT_CHARS, MAX_TITLE_CHARS
from workflow.dates import YEAR_MAX, YEAR_MIN
from workflow.table import KINDS, STATES, CommentStatus

DOCX_ONLY = FileAllowed(["docx"], message=_l("Choose a Word .docx file."))
# Files clerks often have instead of a .docx: named in the message, with how to convert them.
OTHER_FORMATS = frozenset({"doc", "wps", "et", "pdf", "rtf", "odt", "wpt", "dot", "docm", "dotx"})


def other_format(form, field) -> None:
    """A .doc/.wps/.pdf… upload: say which format it is and how to save it as .docx."""
    name = getattr(field.data, "filename", "") or ""
    extension = name.rpartition(".")[2].lower() if "." in name else ""
    if extension in OTHER_FORMATS:
        raise StopValidation(gettext(
            "This is a %(format)s file, not a .docx. Open it in Word or WPS, use “Save As” to save it as "
            ".docx, and upload that file.", format="." + extension))


def _kind_choices():
    return [(k, labels.KINDS.get(k, k)) for k in KINDS]


class ReportFilterForm(FlaskForm):
    """The filters of the report list (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    state = SelectField(_l("State"), validators=[Optional()], validate_choice=False)
    kind = SelectField(_l("Kind"), validators=[Optional()], validate_choice=False)
    year = IntegerField(_l("Year"), validators=[Optional(), NumberRange(YEAR_MIN, YEAR_MAX)])
    # The town: typed by name (any part of it); with JavaScript a picker fills in the unit's id.
    town = StringField(_l("Town"), validators=[Optional(), Length(max=100)])
    org_unit_id = IntegerField(validators=[Optional(), NumberRange(1, 2**62)])
    q = StringField(_l("Search titles and text"), validators=[Optional(), Length(max=100)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        every = ("", _l("All"))
        self.state.choices = [every] + [(s, labels.STATES.get(s, s)) for s in STATES]
        self.kind.choices = [every] + _kind_choices()


class ReportContentForm(FlaskForm):
    """The content of a report: pasted text or a .docx (one of the two)."""

    # Optional with a .docx: its paragraphs in Word's Title style are the title then.
    title = StringField(_l("Title"), validators=[Optional(), Length(max=MAX_TITLE_CHARS)])
    text = TextAreaField(_l("Text"), validators=[Optional(), Length(max=MAX_TEXT_CHARS)])
    docx = FileField(_l("Or upload a Word file (.docx)"), validators=[Optional(), other_format, DOCX_ONLY])

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if ok and not self.has_docx() and not (self.text.data or "").strip():
            self.text.errors = list(self.text.errors) + [_l("Paste the text of the report or choose a .docx file.")]
            ok = False
        if ok and not self.has_docx() and not (self.title.data or "").strip():
            self.title.errors = list(self.title.errors) + [_l("Enter a title.")]
            ok = False
        return ok

    def has_docx(self) -> bool:
        data = self.docx.data
        return bool(data and getattr(data, "filename", ""))


class NewReportForm(ReportContentForm):
    org_unit_id = SelectField(_l("Town"), coerce=int, validators=[InputRequired(message=_l("Choose a town."))])
    kind = SelectField(_l("Kind"), validators=[DataRequired()])
    year = IntegerField(_l("Year"), validators=[InputRequired(message=_l("Enter a year.")),
                                                NumberRange(YEAR_MIN, YEAR_MAX,
                                                            message=_l("A year between %(min)s and %(max)s."))])
    submit = SubmitField(_l("Create report"))

    def __init__(self, *args, towns=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.org_unit_id.choices = [(u.id, u.name) for u in towns]
        self.kind.choices = _kind_choices()


class EditReportForm(ReportContentForm):
    title = StringField(_l("Title"), validators=[DataRequired(message=_l("Enter a title.")),
                                                  Length(max=MAX_TITLE_CHARS)])
    version = HiddenField(validators=[DataRequired()])
    submit = SubmitField(_l("Save draft"))


class ActionForm(FlaskForm):
    action = HiddenField(validators=[DataRequired()])
    version = HiddenField(validators=[DataRequired()])
    comment = TextAreaField(_l("Reason for returning"), validators=[Optional(), Length(max=MAX_COMMENT_CHARS)])


class CommentForm(FlaskForm):
    body = TextAreaField(_l("Comment"), validators=[DataRequired(message=_l("Write the comment first.")),
                                                    Length(max=MAX_COMMENT_CHARS)])
    section_id = HiddenField()
    submit = SubmitField(_l("Add comment"))


class AnswerForm(FlaskForm):
    status = RadioField(_l("Answer"), choices=[(CommentStatus.ADOPTED.value, _l("Adopted")),
                                               (CommentStatus.EXPLAINED.value, _l("Explained"))],
                        default=CommentStatus.ADOPTED.value,
                        validators=[InputRequired(message=_l("Choose adopted or explained."))])
    answer = TextAreaField(_l("What was done, or why not"),
                           validators=[DataRequired(message=_l("Write the answer first.")),
                                       Length(max=MAX_COMMENT_CHARS)])
    submit = SubmitField(_l("Send answer"))
