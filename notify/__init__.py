"""Events and notifications, wired into the application: the outbox's subscribers, the
after-commit hook that queues their delivery, and the sweeper.

``workflow/`` writes events (``workflow.events.emit``) and keeps the delivery rows
(``workflow.outbox``); this package connects them to the job queue (``pdf.queue``), the
publication job (``pdf.jobs``) and the outside channels (``notify.senders``).
"""
from __future__ import annotations

import logging

from flask import Flask, current_app, has_app_context
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from workflow import outbox
from workflow.events import OutboxEvent

EXTENSION = "chengbao_outbox"
SWEEPERS = "chengbao_sweepers"
# Queues the worker (``flask worker``) takes jobs from before the PDF queue, as functions of
# (app, connection).
WORKER_QUEUES = "chengbao_worker_queues"
_SESSION_FLAG = "chengbao_outbox_events"


def init_app(app: Flask) -> None:
    from . import dispatch, subscribers

    outbox.register(subscribers.Notifications())
    outbox.register(subscribers.Publication())
    app.extensions[EXTENSION] = True
    sweepers = app.extensions.setdefault(SWEEPERS, [])
    if dispatch.sweep not in sweepers:
        sweepers.append(dispatch.sweep)
    queues = app.extensions.setdefault(WORKER_QUEUES, [])
    if dispatch.events_queue not in queues:
        queues.append(dispatch.events_queue)
    _install_session_hooks()


def _install_session_hooks() -> None:
    if sa_event.contains(Session, "after_flush", _after_flush):
        return
    sa_event.listen(Session, "after_flush", _after_flush)
    sa_event.listen(Session, "after_commit", _after_commit)
    sa_event.listen(Session, "after_soft_rollback", _after_rollback)


def _after_flush(session: Session, flush_context) -> None:
    if any(isinstance(obj, OutboxEvent) for obj in session.new):
        session.info[_SESSION_FLAG] = True


def _after_commit(session: Session) -> None:
    """Events were committed: queue their delivery (never fails the request)."""
    if not session.info.pop(_SESSION_FLAG, False):
        return
    if not has_app_context() or not current_app.extensions.get(EXTENSION):
        return
    if not current_app.config.get("NOTIFY_DISPATCH_AFTER_COMMIT", True):
        return
    from .dispatch import request_dispatch

    try:
        request_dispatch(current_app._get_current_object())  # type: ignore[attr-defined]
    except Exception:  # the change is committed; the sweeper delivers its events later
        logging.getLogger(__name__).exception("outbox: could not queue the dispatch")


def _after_rollback(session: Session, previous_transaction) -> None:
    session.info.pop(_SESSION_FLAG, None)
