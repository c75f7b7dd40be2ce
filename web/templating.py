"""Template helpers of the browser UI: labels, local dates, navigation links, messages.

Registered on the application by ``web.auth.routes`` (``init_app``), once.
"""
from __future__ import annotations

import datetime as dt

from flask import Flask, current_app, flash, url_for
from flask.signals import before_render_template, template_rendered
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

# Pieces of a page joined at a time by ``render_large``.
RENDER_BATCH = 2048


def render_large(template_name: str, **context) -> str:
    """``flask.render_template`` for pages that may be megabytes long (a 200,000-character report
    is a 3 MB page): the template's pieces are joined a batch at a time as they come, instead of
    hundreds of thousands of small strings alive together before one join. Those small strings
    fill Python's small-object arenas, and a few long-lived objects made meanwhile keep the
    arenas (about 10 MB) in the worker for good; batches need a fraction of them."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    template = app.jinja_env.get_or_select_template(template_name)
    app.update_template_context(context)
    before_render_template.send(app, _async_wrapper=app.ensure_sync, template=template, context=context)
    joined: list[str] = []
    batch: list[str] = []
    for piece in template.generate(context):
        batch.append(piece)
        if len(batch) >= RENDER_BATCH:
            joined.append("".join(batch))
            batch.clear()
    joined.append("".join(batch))
    html = "".join(joined)
    template_rendered.send(app, _async_wrapper=app.ensure_sync, template=template, context=context)
    return html


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


# "3 days ago" as Babel's ``format_timedelta(…, granularity="minute", add_direction=True)`` words
# it (CLDR's long relative patterns), for the languages the site ships: asking Babel would load
# the whole CLDR locale (about 4 MB per web worker, for the worker's life) to read these twelve.
# (past, future) per unit; a pattern is a str, or (one, other) where the language has plurals.
_AGE_UNITS = (("year", 365 * 86400), ("month", 30 * 86400), ("week", 7 * 86400), ("day", 86400),
              ("hour", 3600), ("minute", 60))
_AGE_THRESHOLD = 0.85  # Babel's default: 0.85 of a unit already counts as one
_AGE_PATTERNS: dict[str, dict[str, tuple[str | tuple[str, str], str | tuple[str, str]]]] = {
    "en": {unit: ((f"{{0}} {unit} ago", f"{{0}} {unit}s ago"), (f"in {{0}} {unit}", f"in {{0}} {unit}s"))
           for unit, _seconds in _AGE_UNITS},
    "zh_Hans_CN": {"year": ("{0}年前", "{0}年后"), "month": ("{0}个月前", "{0}个月后"),
                   "week": ("{0}周前", "{0}周后"), "day": ("{0}天前", "{0}天后"),
                   "hour": ("{0}小时前", "{0}小时后"), "minute": ("{0}分钟前", "{0}分钟后")},
}


def words_for_delta(delta: dt.timedelta, locale: str) -> str | None:
    """``delta`` in words as Babel says it at minute granularity with a direction, or None
    for a language not in ``_AGE_PATTERNS``."""
    patterns = _AGE_PATTERNS.get(locale)
    if patterns is None:
        return None
    seconds = int(delta.days * 86400 + delta.seconds)
    for unit, unit_seconds in _AGE_UNITS:
        value = abs(seconds) / unit_seconds
        if value >= _AGE_THRESHOLD or unit == "minute":
            if unit == "minute" and value > 0:
                value = max(1, value)
            count = round(value)
            pattern = patterns[unit][0 if seconds < 0 else 1]
            if isinstance(pattern, tuple):
                pattern = pattern[0] if count == 1 else pattern[1]
            return pattern.replace("{0}", str(count))
    return None  # not reached: the minute always answers


def age(value: dt.datetime | None) -> str:
    """How long ago, in words, in the user's language ("3 days ago")."""
    if value is None:
        return ""
    delta = -max(utcnow() - (value.replace(tzinfo=None) if value.tzinfo else value), dt.timedelta(0))
    words = words_for_delta(delta, str(get_locale()))
    if words is None:
        return format_timedelta(delta, granularity="minute", add_direction=True)
    return words


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
