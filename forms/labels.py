"""Words the UI shows for the domain's codes: states, actions, roles, kinds, problem codes.

The codes themselves come from ``workflow.table`` and ``workflow.checks`` (the one source of
truth); this module only names them, lazily, so each request reads them in its language.
``tests/test_i18n.py`` asserts that every code of those modules has a label here.

It sits in ``forms/`` because the forms' choices need it as much as the pages do, and the
web layer already depends on ``forms/``: so the imports run one way, web → forms → workflow.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from workflow import checks, table
from workflow.table import CommentStatus

STATES = {
    table.DRAFT: _l("Draft"),
    table.TOWN_REVIEW: _l("Town review"),
    table.DISTRICT_REVIEW: _l("District review"),
    table.PUBLISHED: _l("Published"),
}

# Workflow actions (the table), as buttons.
ACTIONS = {
    "submit": _l("Submit"),
    "withdraw": _l("Withdraw"),
    "approve": _l("Approve"),
    "return": _l("Return"),
}

# The same actions as lines of a history, plus the audit-only events.
EVENTS = {
    "create": _l("Created"),
    "submit": _l("Submitted"),
    "withdraw": _l("Withdrawn"),
    "approve": _l("Approved"),
    "return": _l("Returned"),
}

# An approval that publishes reads differently on its button.
APPROVE_AND_PUBLISH = _l("Approve and publish")

# What the actor is told after an action succeeded, by (action, target state).
ACTION_DONE = {
    ("submit", table.TOWN_REVIEW): _l("Submitted for town review."),
    ("withdraw", table.DRAFT): _l("Withdrawn; the report is a draft again."),
    ("approve", table.DISTRICT_REVIEW): _l("Approved; the report goes to the district for review."),
    ("approve", table.PUBLISHED): _l("Approved and published; the signed PDF is being prepared."),
    ("return", table.DRAFT): _l("Returned to the town with your reason."),
}

ROLES = {
    table.AUTHOR: _l("Author"),
    table.TOWN_REVIEWER: _l("Town reviewer"),
    table.DISTRICT_REVIEWER: _l("District reviewer"),
    table.ADMIN: _l("Administrator"),
}

KINDS = {
    "annual_plan": _l("Annual work plan"),
    "annual_report": _l("Annual work report"),
    "five_year_plan": _l("Five-year plan"),
    "other": _l("Other report"),
}

ORG_KINDS = {
    "province": _l("Province"),
    "city": _l("City"),
    "district": _l("District"),
    "county": _l("County"),
    "town": _l("Town"),
    "township": _l("Township"),
    "subdistrict": _l("Subdistrict"),
}

PROBLEMS = {
    checks.PLACEHOLDER: _l("Unfilled placeholder"),
    checks.NUMBERING: _l("Numbering slip"),
    checks.EMPTY_SECTION: _l("Empty section"),
    checks.MISSING_GLYPH: _l("Character missing from the PDF font"),
    # ---- textparse
    checks.NO_HEADINGS: _l("No headings recognised"),
    checks.HALFWIDTH_PUNCTUATION: _l("Half-width punctuation"),
}

SEVERITIES = {
    "error": _l("Must fix"),
    "warning": _l("Check"),
}

COMMENT_STATUSES = {
    CommentStatus.NOTE: _l("Note"),
    CommentStatus.OPEN: _l("Awaiting answer"),
    CommentStatus.ADOPTED: _l("Adopted"),
    CommentStatus.EXPLAINED: _l("Explained"),
}

DIFF_STATUSES = {
    "same": _l("Unchanged"),
    "changed": _l("Changed"),
    "added": _l("Added"),
    "removed": _l("Removed"),
}

PSEUDO_SECTIONS = {
    "preamble": _l("Preamble"),
    "closing": _l("Closing"),
    "annex": _l("Annexes"),  # ---- textparse
}


def label(mapping: dict, code: str | None) -> str:
    """The label of ``code`` in ``mapping``, or the code itself for one added later."""
    if code is None:
        return ""
    found = mapping.get(code)
    return str(found) if found is not None else code


# ---------------------------------------------------------------- reporting cycles (workflow.cycles)

# A town's row in the completeness matrix.
MATRIX_STATUSES = {
    "not_started": _l("Not started"),
    "draft": _l("Drafting"),
    "returned": _l("Returned for changes"),
    "town_review": _l("In town review"),
    "district_review": _l("In district review"),
    "published": _l("Published"),
}

CYCLE_STATES = {
    "open": _l("Open"),
    "closed": _l("Closed"),
}

REMINDER_KINDS = {
    "manual": _l("Reminded by hand"),
    "due_soon": _l("Reminded before the due date"),
    "overdue": _l("Reminded on the first day past due"),
    "escalation": _l("Escalated to the town reviewers"),
}

# The lines of a cycle's record (workflow.cycles, CycleAuditEvent.action).
CYCLE_ACTIONS = {
    "open": _l("Opened the cycle"),
    "close": _l("Closed the cycle"),
    "reopen": _l("Reopened the cycle"),
    "set_towns": _l("Changed the expected towns"),
    "remind": _l("Sent reminders"),
    "auto_remind": _l("Automatic reminders"),
}

# Why a town was left out of a reminder.
SKIP_REASONS = {
    "submitted": _l("already submitted"),
    "reminded_recently": _l("reminded within the hour"),
    "not_expected": _l("not expected by this cycle"),
}

# The badge of a draft the reviewers sent back.
RETURNED_BADGE = _l("Sent back")


# ---------------------------------------------------------------- accounts (workflow.credentials)

# What came of a login attempt (LoginEvent.outcome), on the admin's user page.
LOGIN_OUTCOMES = {
    "success": _l("Logged in"),
    "token": _l("API token issued"),
    "failure": _l("Wrong username or password"),
    "refused": _l("Refused: locked"),
    "lockout": _l("Locked after too many failures"),
    "unlock": _l("Lockout lifted by an admin"),
}

# Where it happened (LoginEvent.channel).
LOGIN_CHANNELS = {
    "web": _l("Login page"),
    "api": _l("API"),
    "admin": _l("Administration"),
}
