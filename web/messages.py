"""Every sentence the domain's errors become, keyed by ``code.reason`` (see ``workflow/errors.py``).

Messages are English msgids in the gettext catalog (``translations/``), translated to Chinese
there; ``%(name)s`` placeholders take the error's params. ``render`` is the one place a
``DomainError`` becomes text: the HTML pages, the API and the CLI all call it.
``tests/test_i18n.py`` checks that every reason raised in the code has an entry here.
"""
from __future__ import annotations

from typing import Any

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from workflow.errors import DomainError

MESSAGES: dict[str, LazyString] = {
    # --- workflow: reports, versions, actions
    # (entries added by the errors conversion)

    # --- workflow: content import (the importer)
    # (entries added by the importer split)

    # --- pdf: publication, archive, verification
    # (entries added by the PDF layer)

    # --- cycles, reminders, notifications, channels
    # (entries added by the cycles feature)
    # cycles
    "bad_request.cycle_bad_number": _l("%(field)s must be a whole number."),
    "bad_request.cycle_unknown_kind": _l("Unknown report kind: %(kind)s."),
    "bad_request.cycle_unknown_state": _l("Unknown cycle state: %(state)s."),
    "bad_request.cycle_page_out_of_range": _l("The page number is out of range."),
    "bad_request.cycle_year_out_of_range": _l("The year must be between %(min)s and %(max)s."),
    "bad_request.cycle_bad_due_date": _l("The due date must be a date written YYYY-MM-DD."),
    "bad_request.cycle_bad_template": _l("The template must be pasted text or an outline."),
    "bad_request.cycle_bad_towns": _l("The towns must be a list of org unit ids."),
    "bad_request.cycle_unknown_status": _l("Unknown status: %(status)s."),
    "bad_request.cycle_unknown_sort": _l("Unknown sort order: %(sort)s."),
    "not_found.cycle": _l("This reporting cycle does not exist, or it is not one of yours."),
    "not_found.cycle_unit": _l("This unit does not exist, or it is not one of yours."),
    "forbidden.cycle_manage": _l("Only the district's reviewers and administrators run its reporting cycles."),
    "conflict.cycle_report_exists": _l("This town already has a report in this cycle; open that one instead."),
    "conflict.cycle_closed": _l("The reporting cycle is closed."),
    "conflict.cycle_open": _l("The reporting cycle is open already."),
    "conflict.cycle_town_has_report": _l("%(town)s already has a report in this cycle and stays expected."),
    "invalid.cycle_not_a_district": _l("Reporting cycles are opened by a district, county or city."),
    "invalid.cycle_due_in_past": _l("The due date has passed already."),
    "invalid.cycle_towns_outside": _l("Only towns of the district can be expected (not: %(ids)s)."),
    "invalid.cycle_no_towns": _l("Choose at least one town."),
    "invalid.cycle_town_not_expected": _l("This cycle does not expect a report from this town."),
    "invalid.cycle_mismatch": _l("The cycle asks for %(kind)s reports of %(year)s."),
    "too_many.reminder_too_soon": _l("Every town asked for was reminded within the hour; the next reminder is "
                                     "possible from %(next_at)s."),
}

# A category's message, for a reason with no entry of its own (one added later).
FALLBACK: dict[str, LazyString] = {
    "bad_request": _l("The request is malformed."),
    "forbidden": _l("You may not do this."),
    "not_found": _l("Not found."),
    "conflict": _l("This conflicts with the current state; reload and try again."),
    "too_large": _l("Too large."),
    "invalid": _l("The request cannot be carried out as it stands."),
    "too_many": _l("Too many requests; try again later."),
}


def render(exc: DomainError) -> str:
    """The error as a sentence in the current request's language."""
    template = MESSAGES.get(exc.key) or FALLBACK.get(exc.code) or FALLBACK["bad_request"]
    params: dict[str, Any] = {k: ("" if v is None else v) for k, v in exc.params.items()}
    text = str(template)
    try:
        return text % params if params and "%(" in text else text
    except (KeyError, ValueError, TypeError):
        return text
