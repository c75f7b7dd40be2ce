"""Template helpers of the browser UI: labels, local dates, navigation links, messages.

Registered on the application by ``web.auth.routes`` (``init_app``), once.
"""
from __future__ import annotations

import datetime as dt

from flask import Flask, current_app, flash, url_for
from flask_babel import format_timedelta, get_locale
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.routing import BuildError

from forms import labels
from web import messages
from workflow.dates import to_local
from workflow.errors import Conflict, DomainError
from workflow.models import utcnow
from workflow.table import ADMIN, AUTHOR, CommentStatus


def nav_url(endpoint: str, **values) -> str | None:
    """The URL of ``endpoint``, or None when that page is not part of this installation."""
    if endpoint not in current_app.view_functions:
        return None
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


def local_time(value: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored (naive UTC) time in the local time zone (``workflow.dates``)."""
    if value is None:
        return ""
    return to_local(value).strftime(fmt)


def age(value: dt.datetime | None) -> str:
    """How long ago, in words, in the user's language ("3 days ago")."""
    if value is None:
        return ""
    delta = utcnow() - (value.replace(tzinfo=None) if value.tzinfo else value)
    return format_timedelta(-max(delta, dt.timedelta(0)), granularity="minute", add_direction=True)


def user_roles(user) -> set[str]:
    return {p.role for p in getattr(user, "positions", [])} if user and user.is_authenticated else set()


def positions_of(user) -> list[tuple[str, str]]:
    """(role label, unit name) for the header."""
    if not user or not user.is_authenticated:
        return []
    return [(labels.label(labels.ROLES, p.role), p.org_unit.name)
            for p in sorted(user.positions, key=lambda p: (p.org_unit.path, p.role))]


def init_app(app: Flask) -> None:
    @app.context_processor
    def ui_helpers():
        roles = user_roles(current_user)
        locale = get_locale()
        return {
            "nav_url": nav_url,
            "labels": labels,
            "label": labels.label,
            "error_message": messages.render,
            "CommentStatus": CommentStatus,
            "is_author": AUTHOR in roles,
            "is_admin": ADMIN in roles,
            "my_positions": positions_of(current_user),
            "current_language": "en" if locale is not None and locale.language == "en" else "zh_Hans_CN",
            "languages": app.config.get("LANGUAGES", {"zh_Hans_CN": "中文", "en": "English"}),
            "problem_text": problem_text,
        }

    app.add_template_filter(local_time, "local_time")
    app.add_template_filter(age, "age")
    app.add_template_filter(lambda code: labels.label(labels.STATES, code), "state_label")
    app.add_template_filter(lambda code: labels.label(labels.KINDS, code), "kind_label")
    app.add_template_filter(lambda code: labels.label(labels.ROLES, code), "role_label")
    app.add_template_filter(lambda code: labels.label(labels.ACTIONS, code), "action_label")
    app.add_template_filter(lambda code: labels.label(labels.EVENTS, code), "event_label")
    app.add_template_filter(lambda code: labels.label(labels.PROBLEMS, code), "problem_label")
    app.add_template_filter(lambda code: labels.label(labels.ORG_KINDS, code), "org_kind_label")
    app.add_template_filter(lambda code: labels.label(labels.COMMENT_STATUSES, code), "comment_status_label")
    app.add_template_filter(lambda code: labels.label(labels.SEVERITIES, code), "severity_label")
    app.add_template_filter(lambda code: labels.label(labels.DIFF_STATUSES, code), "diff_status_label")


# ---------------------------------------------------------------- flash messages

def say(message, category: str = "success") -> None:
    """Flash a (possibly lazy) message; the session stores plain strings only."""
    flash(str(message), category)


def say_error(exc: DomainError) -> None:
    """Flash a domain error in the user's words and language."""
    if isinstance(exc, Conflict) and isinstance(exc.details, dict) and "current_version" in exc.details:
        # A stale version: the page the user acted on is out of date (or the button was pressed twice).
        say(_("Someone else has handled or changed this report meanwhile; please reload it."), "error")
        return
    say(messages.render(exc), "error")
    problems = (exc.details or {}).get("problems") if isinstance(exc.details, dict) else None
    for problem in (problems or [])[:10]:
        say(problem_text(problem), "error")


def problem_text(problem: dict) -> str:
    """One line for a content problem, in the user's language ("Unfilled placeholder “x个”")."""
    return messages.render_problem(problem)
