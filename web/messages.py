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
    # notifications
    "not_found.notification": _l("Notification not found."),
    "not_found.channel": _l("Channel not found."),
    "not_found.delivery": _l("Delivery not found."),
    "not_found.channel_unit": _l("Org unit not found."),
    "not_found.email_user": _l("User not found."),
    "forbidden.channel_admin": _l("Only an administrator of this unit may manage its channels and deliveries."),
    "bad_request.email": _l("Not an e-mail address."),
    "bad_request.email_notifications": _l("email_notifications must be true or false."),
    "bad_request.channel_kind": _l("The channel kind must be wecom, dingtalk or webhook."),
    "bad_request.channel_url": _l("The channel URL must be an http:// or https:// address."),
    "bad_request.channel_secret": _l("The secret is at most 200 characters, without spaces."),
    "bad_request.channel_events": _l("Unknown event kind in events."),
    "bad_request.delivery_status": _l("Unknown delivery status."),
    "conflict.delivery_not_failed": _l("Only a failed delivery can be retried."),
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
