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
    "bad_request.text_not_string": _l("The text must be a string."),
    "bad_request.docx_unreadable": _l(
        "This .docx file cannot be read: it is damaged, or not in the .docx format of Word 2007 or "
        "later (save it as .docx and try again)."),
    # Outlines sent by clients; ``path`` names the value, e.g. sections[2].paragraphs[0].
    "bad_request.outline_not_object": _l("Malformed content: %(path)s must be an object."),
    "bad_request.outline_unknown_key": _l("Malformed content: unknown field %(path)s."),
    "bad_request.outline_missing": _l("Malformed content: %(path)s is required."),
    "bad_request.outline_not_list": _l("Malformed content: %(path)s must be a list."),
    "bad_request.outline_not_string_list": _l("Malformed content: %(path)s must be a list of strings."),
    "bad_request.outline_not_string": _l("Malformed content: %(path)s must be a string."),
    "bad_request.outline_not_integer": _l("Malformed content: %(path)s must be an integer."),
    "bad_request.outline_not_boolean": _l("Malformed content: %(path)s must be true or false."),
    "bad_request.outline_too_deep": _l("Malformed content: %(path)s is nested deeper than %(limit)s levels."),
    "bad_request.outline_bad_number": _l(
        "Malformed content: %(path)s “%(number)s” is not a recognised heading number "
        "(such as 一、 (一) 1. (1))."),
    "bad_request.outline_wrong_level": _l(
        "Malformed content: %(path)s must be %(depth)s (the section's depth), not %(level)s."),
    "bad_request.outline_bad_id": _l("Malformed content: %(path)s must be 1 to %(limit)s characters long."),
    "bad_request.outline_duplicate_id": _l(
        "Malformed content: %(path)s “%(id)s” is the id of another section too."),

    # --- pdf: publication, archive, verification
    # (entries added by the PDF layer)

    # --- cycles, reminders, notifications, channels
    # (entries added by the cycles feature)
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
