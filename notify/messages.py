"""What a notification says: its title, body and deep link, rendered in Chinese (the users'
language) through the gettext catalog when the delivery is made."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from werkzeug.routing import BuildError

from workflow import events as ev
from workflow import notifications
from workflow.db import db
from workflow.events import OutboxEvent
from workflow.models import Report, User

# The language of notifications: the users read Chinese (as the UI's default).
LOCALE = "zh_Hans_CN"
# Where a cycle's page is, by endpoint, in the order tried (the cycles feature names it).
CYCLE_ENDPOINTS = ("cycles.show", "cycles.matrix", "cycles.detail")


@dataclass(frozen=True)
class Message:
    title: str
    body: str
    url: str  # a path on this site

    def absolute_url(self) -> str:
        base = (current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
        return base + self.url

    def as_json(self, event: OutboxEvent) -> dict[str, Any]:
        """The notification JSON (CONTRACT.md) of a group channel: ``id`` is the event's."""
        return {"id": event.id, "event": event.kind, "title": self.title, "body": self.body,
                "url": self.absolute_url(), "report_id": event.report_id, "cycle_id": event.cycle_id,
                "created_at": event.created_at.isoformat(timespec="seconds") + "Z", "read_at": None}


def _path(endpoint: str, **values: Any) -> str | None:
    if endpoint not in current_app.view_functions:
        return None
    try:
        return current_app.url_map.bind("").build(endpoint, values)
    except BuildError:
        return None


def link_for(event: OutboxEvent) -> str:
    if event.report_id:
        anchor = "#comments" if event.kind == ev.COMMENT_ADDED else ""
        return (_path("reports.show", report_id=event.report_id) or f"/reports/{event.report_id}") + anchor
    if event.cycle_id:
        for endpoint in CYCLE_ENDPOINTS:
            found = _path(endpoint, cycle_id=event.cycle_id)
            if found:
                return found
        return f"/cycles/{event.cycle_id}"
    return _path("notifications.index") or "/notifications"


def render(event: OutboxEvent) -> Message:
    """The event's notification in Chinese."""
    with force_locale(LOCALE):
        title, body = _texts(event)
    return Message(title=title, body=body, url=link_for(event))


def _texts(event: OutboxEvent) -> tuple[str, str]:
    """The notification's title and body: a report's event or a cycle's."""
    return _report_texts(event) if event.report_id else _cycle_texts(event)


def _report_texts(event: OutboxEvent) -> tuple[str, str]:
    p = event.payload or {}
    actor = db.session.get(User, event.actor_id) if event.actor_id else None
    name = actor.display_name if actor is not None else ""
    report = db.session.get(Report, event.report_id) if event.report_id else None
    title = p.get("title") or (report.title if report is not None else "")
    town = report.org_unit.name if report is not None else ""
    if event.kind == ev.REPORT_SUBMITTED:
        return (_("%(town)s submitted “%(title)s” for review", town=town, title=title),
                _("Submitted by %(name)s. It waits for your review.", name=name))
    if event.kind == ev.REPORT_APPROVED:
        return (_("%(town)s: “%(title)s” passed the town's review", town=town, title=title),
                _("Approved by %(name)s. It waits for the district's review.", name=name))
    if event.kind == ev.REPORT_RETURNED:
        return (_("“%(title)s” was returned", title=title),
                _("Returned by %(name)s. Reason: %(reason)s", name=name, reason=p.get("reason") or ""))
    if event.kind == ev.REPORT_PUBLISHED:
        return (_("“%(title)s” was approved and published", title=title),
                _("Approved by %(name)s. The signed PDF is being prepared.", name=name))
    if event.kind == ev.COMMENT_ADDED:
        return (_("New comment on “%(title)s”", title=title),
                _("%(name)s: %(excerpt)s", name=name, excerpt=notifications.comment_excerpt(event)))
    return _cycle_texts(event)


def _cycle_texts(event: OutboxEvent) -> tuple[str, str]:
    p = event.payload or {}
    cycle_title = p.get("title") or _("Reporting task %(id)s", id=event.cycle_id or "")
    due = p.get("due_date") or ""
    message = p.get("message") or ""
    if event.kind == ev.CYCLE_OPENED:
        title_s = _("New reporting task: %(title)s", title=cycle_title)
        lead = _("Due on %(date)s.", date=due) if due else ""
    elif event.kind == ev.CYCLE_DUE_SOON:
        title_s = _("“%(title)s” is due on %(date)s", title=cycle_title, date=due)
        lead = _("Your town has not submitted yet.")
    elif event.kind == ev.CYCLE_OVERDUE:
        title_s = _("“%(title)s” is overdue (it was due on %(date)s)", title=cycle_title, date=due)
        lead = _("Your town has not submitted yet.")
    else:
        title_s = _("Reminder: please submit “%(title)s”", title=cycle_title)
        lead = _("Due on %(date)s.", date=due) if due else ""
    return title_s, " ".join(x for x in (lead, message) if x)
