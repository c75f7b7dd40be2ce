"""Bulk approval from the report list and my to-do: the chosen reports and a common opinion."""
from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectMultipleField, SubmitField, TextAreaField
from wtforms.validators import Length, Optional

from workflow.content import MAX_COMMENT_CHARS

# The pages a bulk approval is sent from (endpoints); its result page leads back there.
BACK_PAGES = ("reports.index", "reports.inbox")
_ITEM = re.compile(r"([0-9]{1,15}):([0-9]{1,15})")


class BulkApproveForm(FlaskForm):
    # One checkbox per report, its value "id:version" (the version the reviewer saw).
    items = SelectMultipleField(validate_choice=False)
    comment = TextAreaField(_l("Common opinion (optional)"),
                            validators=[Optional(), Length(max=MAX_COMMENT_CHARS)])
    back = HiddenField()
    submit = SubmitField(_l("Approve selected"))

    def chosen(self) -> list[tuple[int, int]] | None:
        """The (report id, version) pairs chosen, or None when a value is not of that form."""
        pairs = []
        for value in self.items.data or []:
            found = _ITEM.fullmatch(str(value))
            if found is None:
                return None
            pairs.append((int(found[1]), int(found[2])))
        return pairs
