"""Words for the notification codes: event kinds, channels and delivery states."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from workflow import events

EVENTS = {
    events.REPORT_SUBMITTED: _l("Report submitted"),
    events.REPORT_APPROVED: _l("Passed the town's review"),
    events.REPORT_RETURNED: _l("Report returned"),
    events.REPORT_PUBLISHED: _l("Report published"),
    events.COMMENT_ADDED: _l("New comment"),
    events.CYCLE_OPENED: _l("New reporting task"),
    events.CYCLE_DUE_SOON: _l("Deadline near"),
    events.CYCLE_OVERDUE: _l("Overdue"),
    events.REMINDER: _l("Reminder"),
}

CHANNELS = {
    "inapp": _l("In-app"),
    "email": _l("E-mail"),
    "wecom": _l("WeCom group robot"),
    "dingtalk": _l("DingTalk group robot"),
    "webhook": _l("JSON webhook"),
    "publication": _l("Signed-PDF job"),
}

DELIVERY_STATUSES = {
    "pending": _l("Waiting"),
    "sending": _l("Sending"),
    "sent": _l("Sent"),
    "failed": _l("Sending failed"),  # not "Failed": the PDF's word for it says "generation failed"
}

# The admins' own actions on the channels page ("Recent changes").
ADMIN_ACTIONS = {
    "channel_added": _l("added a channel"),
    "channel_deleted": _l("removed a channel"),
    "delivery_retried": _l("retried a delivery"),
    "user_email_set": _l("set an e-mail address"),
    # ---- accounts
    "password_reset": _l("set a user's password"),
    "user_deactivated": _l("deactivated a user"),
    "user_reactivated": _l("reactivated a user"),
    "user_unlocked": _l("lifted a login lockout"),
    # ---- auditchain
    "position_granted": _l("granted a position"),
    "position_revoked": _l("revoked a position"),
    "grant_refused": _l("was refused a grant"),
    "revoke_refused": _l("was refused a revocation"),
    "approve_refused": _l("was refused an approval of their own work"),
}
